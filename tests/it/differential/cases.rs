//! The differential test's random cases: SCP and RCP levels and a request, drawn from the
//! tables in `tables.rs` by a deterministic generator, and read back as guardrail's path and
//! request.

use serde_json::{json, Value};

use super::tables::*;
use guardrail::policy::eval::{EvalPolicy, Level, Path, Request};

pub(crate) const ACCOUNT: &str = "111122223333";

/// A small deterministic generator (xorshift), so a failure reproduces.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub(crate) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn values(r: &mut Rng, vals: &[&str]) -> Value {
    let n = 1 + r.below(vals.len());
    let v: Vec<&str> = vals.iter().take(n).copied().collect();
    if v.len() == 1 && r.chance(50) {
        json!(v[0])
    } else {
        json!(v)
    }
}

/// A random statement: an SCP's (Allow or Deny, Action or NotAction) or an RCP's (Deny,
/// `Principal: "*"`, a service's actions).
pub(crate) fn statement(r: &mut Rng, rcp: bool) -> Value {
    let mut s = serde_json::Map::new();
    s.insert(
        "Effect".into(),
        json!(if rcp || r.chance(70) { "Deny" } else { "Allow" }),
    );
    if rcp {
        s.insert("Principal".into(), json!("*"));
        let a = *r.pick(RCP_ACTION_PATTERNS);
        s.insert("Action".into(), json!(a));
    } else {
        let n = 1 + r.below(2);
        let acts: Vec<&str> = (0..n).map(|_| *r.pick(ACTION_PATTERNS)).collect();
        let key = if r.chance(20) { "NotAction" } else { "Action" };
        s.insert(key.into(), json!(acts));
    }
    let res: Vec<&str> = (0..1 + r.below(2))
        .map(|_| *r.pick(RESOURCE_PATTERNS))
        .collect();
    let key = if r.chance(15) {
        "NotResource"
    } else {
        "Resource"
    };
    s.insert(key.into(), json!(res));
    let mut cond = serde_json::Map::new();
    for _ in 0..r.below(3) {
        let (op, k, vals) = *r.pick(CONDITIONS);
        let entry = cond.entry(op.to_owned()).or_insert_with(|| json!({}));
        entry[k] = values(r, vals);
    }
    if !cond.is_empty() {
        s.insert("Condition".into(), Value::Object(cond));
    }
    Value::Object(s)
}

fn policy(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// A random case: SCP and RCP levels, and a request.
pub(crate) fn case(r: &mut Rng) -> Value {
    let allow_all = json!({"Effect": "Allow", "Action": "*", "Resource": "*"});
    let scps: Vec<Value> = (0..1 + r.below(3))
        .map(|_| {
            let mut stmts = Vec::new();
            if r.chance(85) {
                stmts.push(allow_all.clone());
            }
            for _ in 0..1 + r.below(2) {
                stmts.push(statement(r, false));
            }
            json!([policy(stmts)])
        })
        .collect();
    let rcps: Vec<Value> = (0..r.below(2))
        .map(|_| json!([policy(vec![statement(r, true)])]))
        .collect();
    let (action, resource) = *r.pick(REQUESTS);
    let principal = *r.pick(PRINCIPALS);
    let mut req = Request::new(action).principal(principal);
    if r.chance(80) {
        req = req.region(r.pick::<&str>(REGIONS));
    }
    for (k, vals) in OPTIONAL_CONTEXT {
        if r.chance(50) {
            req = req.set(k, vec![(*r.pick(vals)).to_owned()]);
        }
    }
    if r.chance(60) {
        let tags: Vec<String> = (0..r.below(4))
            .map(|_| (*r.pick(TAG_KEYS)).to_owned())
            .collect();
        if !tags.is_empty() {
            req = req.set("aws:TagKeys", tags);
        }
    }
    let context: serde_json::Map<String, Value> = req
        .context
        .iter()
        .map(|(k, v)| {
            let key = canonical_key(k);
            let val = if k == "aws:tagkeys" {
                json!(v)
            } else {
                json!(v[0])
            };
            (key, val)
        })
        .collect();
    json!({
        "scps": scps, "rcps": rcps, "principal": principal, "action": action,
        "resource": resource, "account": ACCOUNT, "context": context,
    })
}

/// The documented spelling of a key (the simulator validates keys by name).
fn canonical_key(lower: &str) -> String {
    const KEYS: &[&str] = &[
        "aws:RequestedRegion",
        "aws:SourceIp",
        "aws:CurrentTime",
        "aws:MultiFactorAuthAge",
        "aws:SecureTransport",
        "aws:MultiFactorAuthPresent",
        "aws:PrincipalOrgID",
        "aws:ResourceAccount",
        "aws:UserAgent",
        "aws:TagKeys",
        "aws:PrincipalArn",
        "aws:PrincipalAccount",
        "aws:PrincipalType",
    ];
    if let Some(tag) = lower.strip_prefix("aws:principaltag/") {
        return format!("aws:PrincipalTag/{tag}");
    }
    KEYS.iter()
        .find(|k| k.eq_ignore_ascii_case(lower))
        .map_or_else(|| lower.to_owned(), |k| (*k).to_owned())
}

/// A case's SCP and RCP levels (each RCP level also holds `RCPFullAWSAccess`).
pub(crate) fn path_of(case: &Value) -> Path {
    let layer = |key: &str| -> Vec<Level> {
        case[key]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, ps)| {
                let mut policies: Vec<EvalPolicy> = ps
                    .as_array()
                    .unwrap()
                    .iter()
                    .enumerate()
                    .map(|(j, p)| EvalPolicy::new(&format!("p{i}-{j}"), p, Vec::new()))
                    .collect();
                if key == "rcps" {
                    policies.push(EvalPolicy::allow_all("RCPFullAWSAccess"));
                }
                Level {
                    name: format!("{key}{i}"),
                    policies,
                }
            })
            .collect()
    };
    Path {
        scp: layer("scps"),
        rcp: layer("rcps"),
        management: false,
    }
}

/// A case's request.
pub(crate) fn request_of(case: &Value) -> Request {
    let mut req = Request::new(case["action"].as_str().unwrap());
    req.resource = case["resource"].as_str().map(str::to_owned);
    for (k, v) in case["context"].as_object().unwrap() {
        let values = match v {
            Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_owned()).collect(),
            other => vec![other.as_str().unwrap().to_owned()],
        };
        req = req.set(k, values);
    }
    req
}
