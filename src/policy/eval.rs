//! The offline evaluator: is a request denied in an account, and by what?
//!
//! SCP semantics (../shared/reference/aws-rules.md §2): the levels are the root, each OU on
//! the path, then the account. An explicit Deny in any policy at any level wins; otherwise the
//! request needs an Allow at *every* level (an implicit deny names the level that lacks one).
//! The management account is never affected. Conditions follow IAM: a key absent from the
//! request makes a normal operator false and a negated one true, `...IfExists` is true when
//! the key is absent, `Null` tests presence, `ForAnyValue:` / `ForAllValues:` qualify
//! multi-valued keys, several values are OR (NOR for negated operators), several keys and
//! several operators are AND. Keys compare case-insensitively.
//!
//! A request without a resource matches every `Resource` pattern (the answer is then "what
//! could apply"). Policy variables (`${aws:PrincipalAccount}`, `${aws:PrincipalTag/team}`, ...)
//! in resources and condition values take the request's value (`${key, 'default'}` its
//! default); a variable the request lacks matches nothing, as in IAM.

use std::collections::BTreeMap;

use serde_json::Value;

/// One request to evaluate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    /// `service:Action`.
    pub action: String,
    /// The resource ARN, if known.
    pub resource: Option<String>,
    /// Condition keys (lower-cased) and their values: `aws:requestedregion`,
    /// `aws:principalarn`, `aws:principalaccount`, tags, `iam:permissionsboundary`...
    pub context: BTreeMap<String, Vec<String>>,
}

impl Request {
    pub fn new(action: &str) -> Request {
        Request {
            action: action.to_owned(),
            ..Request::default()
        }
    }

    pub fn with(mut self, key: &str, value: &str) -> Request {
        self.context
            .entry(key.to_ascii_lowercase())
            .or_default()
            .push(value.to_owned());
        self
    }

    pub fn region(self, region: &str) -> Request {
        self.with("aws:RequestedRegion", region)
    }

    /// Sets `aws:PrincipalArn` and, from it, `aws:PrincipalAccount` and `aws:PrincipalType`.
    pub fn principal(self, arn: &str) -> Request {
        let account = arn.split(':').nth(4).unwrap_or_default().to_owned();
        let kind = if arn.ends_with(":root") {
            "Account"
        } else {
            "AssumedRole"
        };
        let r = self
            .with("aws:PrincipalArn", arn)
            .with("aws:PrincipalType", kind);
        if account.is_empty() {
            r
        } else {
            r.with("aws:PrincipalAccount", &account)
        }
    }
}

/// A policy at one level, with where each statement came from.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalPolicy {
    pub name: String,
    pub document: Value,
    /// For each statement (by index), the guardrail it came from, if any.
    pub guardrails: Vec<Option<String>>,
}

/// One level of the path: the root, an OU, the account.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// `root`, `ou Workloads/Prod`, `account 210987654321`.
    pub name: String,
    pub policies: Vec<EvalPolicy>,
}

/// The statement that decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decider {
    pub level: String,
    pub policy: String,
    pub guardrail: Option<String>,
    /// The statement's Sid, or `#N` (1-based) when it has none.
    pub statement: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// The management account: SCPs never apply there.
    NotAffected,
    /// An explicit Deny.
    Deny(Decider),
    /// No policy at this level allows the request.
    NoAllow {
        level: String,
    },
}

impl Decision {
    pub fn is_denied(&self) -> bool {
        matches!(self, Decision::Deny(_) | Decision::NoAllow { .. })
    }
}

fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    }
}

fn statement_name(s: &Value, i: usize) -> String {
    s.get("Sid")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("#{}", i + 1))
}

/// Evaluates a request down a path of levels.
pub fn evaluate(levels: &[Level], req: &Request) -> Decision {
    for level in levels {
        for p in &level.policies {
            for (i, s) in statements(&p.document).into_iter().enumerate() {
                if effect(s) == Some("Deny") && statement_matches(s, req) {
                    return Decision::Deny(Decider {
                        level: level.name.clone(),
                        policy: p.name.clone(),
                        guardrail: p.guardrails.get(i).cloned().flatten(),
                        statement: statement_name(s, i),
                    });
                }
            }
        }
    }
    for level in levels {
        let allowed = level.policies.iter().any(|p| {
            statements(&p.document)
                .into_iter()
                .any(|s| effect(s) == Some("Allow") && statement_matches(s, req))
        });
        if !allowed {
            return Decision::NoAllow {
                level: level.name.clone(),
            };
        }
    }
    Decision::Allow
}

fn effect(s: &Value) -> Option<&str> {
    s.get("Effect").and_then(Value::as_str)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Some(Value::Bool(b)) => vec![b.to_string()],
        Some(Value::Number(n)) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

/// Whether a statement applies to a request (effect aside).
pub fn statement_matches(s: &Value, req: &Request) -> bool {
    let action_ok = match (s.get("Action"), s.get("NotAction")) {
        (Some(a), _) => strings(Some(a))
            .iter()
            .any(|p| glob(&p.to_ascii_lowercase(), &req.action.to_ascii_lowercase())),
        (None, Some(na)) => !strings(Some(na))
            .iter()
            .any(|p| glob(&p.to_ascii_lowercase(), &req.action.to_ascii_lowercase())),
        (None, None) => false,
    };
    if !action_ok {
        return false;
    }
    let matches_any = |pats: &Value, r: &str| {
        strings(Some(pats))
            .iter()
            .any(|p| substitute(p, req).is_some_and(|p| glob(&p, r)))
    };
    let resource_ok = match (&req.resource, s.get("Resource"), s.get("NotResource")) {
        (None, _, _) => true,
        (Some(r), Some(pats), _) => matches_any(pats, r),
        (Some(r), None, Some(pats)) => !matches_any(pats, r),
        (Some(_), None, None) => true,
    };
    resource_ok && conditions_hold(s.get("Condition"), req)
}

/// Every operator block, and every key in it, must hold.
pub fn conditions_hold(cond: Option<&Value>, req: &Request) -> bool {
    let Some(Value::Object(ops)) = cond else {
        return true;
    };
    ops.iter().all(|(op, keys)| {
        let Value::Object(keys) = keys else {
            return false;
        };
        keys.iter().all(|(key, values)| {
            // A value whose variable the request lacks can match nothing: drop it.
            let wanted: Vec<String> = strings(Some(values))
                .iter()
                .filter_map(|v| substitute(v, req))
                .collect();
            let have = req.context.get(&key.to_ascii_lowercase());
            operator_holds(op, &wanted, have.map(Vec::as_slice))
        })
    })
}

/// The parsed form of an operator name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator<'a> {
    pub set: Option<SetQualifier>,
    pub base: &'a str,
    pub if_exists: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

/// The base operators IAM knows, with whether each is negated.
pub const OPERATORS: &[(&str, bool)] = &[
    ("StringEquals", false),
    ("StringNotEquals", true),
    ("StringEqualsIgnoreCase", false),
    ("StringNotEqualsIgnoreCase", true),
    ("StringLike", false),
    ("StringNotLike", true),
    ("NumericEquals", false),
    ("NumericNotEquals", true),
    ("NumericLessThan", false),
    ("NumericLessThanEquals", false),
    ("NumericGreaterThan", false),
    ("NumericGreaterThanEquals", false),
    ("DateEquals", false),
    ("DateNotEquals", true),
    ("DateLessThan", false),
    ("DateLessThanEquals", false),
    ("DateGreaterThan", false),
    ("DateGreaterThanEquals", false),
    ("Bool", false),
    ("BinaryEquals", false),
    ("IpAddress", false),
    ("NotIpAddress", true),
    ("ArnEquals", false),
    ("ArnLike", false),
    ("ArnNotEquals", true),
    ("ArnNotLike", true),
    ("Null", false),
];

/// Splits `ForAnyValue:StringLikeIfExists` into its parts; `None` for an unknown operator.
pub fn parse_operator(op: &str) -> Option<Operator<'_>> {
    let (set, rest) = if let Some(r) = op.strip_prefix("ForAnyValue:") {
        (Some(SetQualifier::ForAnyValue), r)
    } else if let Some(r) = op.strip_prefix("ForAllValues:") {
        (Some(SetQualifier::ForAllValues), r)
    } else {
        (None, op)
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(b) if b != "Null" => (b, true),
        Some(_) => return None,
        None => (rest, false),
    };
    OPERATORS
        .iter()
        .any(|(n, _)| *n == base)
        .then_some(Operator {
            set,
            base,
            if_exists,
        })
}

fn negated(base: &str) -> bool {
    OPERATORS.iter().any(|(n, neg)| *n == base && *neg)
}

fn operator_holds(op: &str, wanted: &[String], have: Option<&[String]>) -> bool {
    let Some(o) = parse_operator(op) else {
        // An unknown operator never matches (AWS rejects the policy; lint reports it).
        return false;
    };
    if o.base == "Null" {
        let absent = have.is_none_or(<[String]>::is_empty);
        return wanted
            .iter()
            .any(|w| w.eq_ignore_ascii_case(&absent.to_string()));
    }
    let have = match have {
        Some(h) if !h.is_empty() => h,
        _ => {
            return match o.set {
                Some(SetQualifier::ForAllValues) => true,
                Some(SetQualifier::ForAnyValue) => false,
                None => o.if_exists || negated(o.base),
            };
        }
    };
    let neg = negated(o.base);
    let positive = positive_of(o.base);
    // One request value against the policy values: OR for positive operators, NOR for negated.
    let one = |v: &str| {
        let any = wanted.iter().any(|w| compare(positive, w, v));
        if neg {
            !any
        } else {
            any
        }
    };
    match o.set {
        None => one(&have[0]),
        Some(SetQualifier::ForAnyValue) => have.iter().any(|v| one(v)),
        Some(SetQualifier::ForAllValues) => have.iter().all(|v| one(v)),
    }
}

/// The positive form of a negated operator.
fn positive_of(base: &str) -> &str {
    match base {
        "StringNotEquals" => "StringEquals",
        "StringNotEqualsIgnoreCase" => "StringEqualsIgnoreCase",
        "StringNotLike" => "StringLike",
        "NumericNotEquals" => "NumericEquals",
        "DateNotEquals" => "DateEquals",
        "NotIpAddress" => "IpAddress",
        "ArnNotEquals" => "ArnEquals",
        "ArnNotLike" => "ArnLike",
        other => other,
    }
}

fn num(s: &str) -> Option<f64> {
    s.trim().parse().ok()
}

fn compare(op: &str, policy: &str, value: &str) -> bool {
    match op {
        "StringEquals" | "BinaryEquals" => policy == value,
        "StringEqualsIgnoreCase" => policy.eq_ignore_ascii_case(value),
        "StringLike" => glob(policy, value),
        "ArnEquals" | "ArnLike" => arn_like(policy, value),
        "Bool" => policy.eq_ignore_ascii_case(value),
        "IpAddress" => ip_in(policy, value),
        "NumericEquals"
        | "NumericLessThan"
        | "NumericLessThanEquals"
        | "NumericGreaterThan"
        | "NumericGreaterThanEquals" => match (num(value), num(policy)) {
            (Some(v), Some(p)) => match op {
                "NumericEquals" => v == p,
                "NumericLessThan" => v < p,
                "NumericLessThanEquals" => v <= p,
                "NumericGreaterThan" => v > p,
                _ => v >= p,
            },
            _ => false,
        },
        // Dates: epoch seconds compare numerically, ISO 8601 strings of one shape lexically.
        "DateEquals"
        | "DateLessThan"
        | "DateLessThanEquals"
        | "DateGreaterThan"
        | "DateGreaterThanEquals" => {
            let ord = match (num(value), num(policy)) {
                (Some(v), Some(p)) => v.partial_cmp(&p),
                _ => Some(value.cmp(policy)),
            };
            match (op, ord) {
                ("DateEquals", Some(o)) => o.is_eq(),
                ("DateLessThan", Some(o)) => o.is_lt(),
                ("DateLessThanEquals", Some(o)) => o.is_le(),
                ("DateGreaterThan", Some(o)) => o.is_gt(),
                ("DateGreaterThanEquals", Some(o)) => o.is_ge(),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Replaces policy variables with the request's values; `None` when one is missing.
/// `${*}`, `${?}` and `${$}` become the characters themselves; in `Like` comparisons they
/// then still act as wildcards, where IAM matches them literally (an approximation).
pub fn substitute(s: &str, req: &Request) -> Option<String> {
    if !s.contains("${") {
        return Some(s.to_owned());
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        let name = &after[..end];
        match name {
            "*" | "?" | "$" => out.push_str(name),
            _ => {
                // `${key, 'default'}`: the default when the key is absent.
                let (key, default) = match name.split_once(',') {
                    Some((k, d)) => (k.trim(), Some(d.trim().trim_matches('\''))),
                    None => (name.trim(), None),
                };
                match req
                    .context
                    .get(&key.to_ascii_lowercase())
                    .and_then(|v| v.first())
                {
                    Some(v) => out.push_str(v),
                    None => out.push_str(default?),
                }
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// `*` any run, `?` one character; whole-string match.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// ARN comparison: the six colon-separated parts match one by one (the last part may hold
/// colons), each with wildcards.
fn arn_like(policy: &str, value: &str) -> bool {
    if policy == "*" {
        return true;
    }
    let p: Vec<&str> = policy.splitn(6, ':').collect();
    let v: Vec<&str> = value.splitn(6, ':').collect();
    p.len() == v.len() && p.iter().zip(&v).all(|(a, b)| glob(a, b))
}

fn ipv4(s: &str) -> Option<u32> {
    let parts: Vec<u8> = s
        .split('.')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    (parts.len() == 4).then(|| u32::from_be_bytes([parts[0], parts[1], parts[2], parts[3]]))
}

fn ip_in(cidr: &str, ip: &str) -> bool {
    let (net, bits) = cidr.split_once('/').unwrap_or((cidr, "32"));
    match (ipv4(net), ipv4(ip), bits.parse::<u32>()) {
        (Some(n), Some(i), Ok(b)) if b <= 32 => {
            let mask = if b == 0 { 0 } else { u32::MAX << (32 - b) };
            n & mask == i & mask
        }
        _ => cidr == ip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn level(name: &str, docs: Vec<Value>) -> Level {
        Level {
            name: name.into(),
            policies: docs
                .into_iter()
                .enumerate()
                .map(|(i, d)| EvalPolicy {
                    name: format!("p{i}"),
                    guardrails: vec![Some(format!("g{i}")); 4],
                    document: d,
                })
                .collect(),
        }
    }

    fn full() -> Value {
        json!({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})
    }

    #[test]
    fn explicit_deny_anywhere_wins_and_names_the_statement() {
        let deny = json!({"Statement":[{"Sid":"NoLeave","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]});
        let levels = vec![
            level("root", vec![full()]),
            level("ou A", vec![full(), deny]),
            level("account 1", vec![full()]),
        ];
        let d = evaluate(&levels, &Request::new("organizations:leaveorganization"));
        assert_eq!(
            d,
            Decision::Deny(Decider {
                level: "ou A".into(),
                policy: "p1".into(),
                guardrail: Some("g1".into()),
                statement: "NoLeave".into()
            })
        );
        assert_eq!(
            evaluate(&levels, &Request::new("s3:GetObject")),
            Decision::Allow
        );
    }

    #[test]
    fn an_allow_is_needed_at_every_level() {
        let s3_only = json!({"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]});
        let levels = vec![
            level("root", vec![full()]),
            level("ou A", vec![s3_only]),
            level("account 1", vec![full()]),
        ];
        assert_eq!(
            evaluate(&levels, &Request::new("ec2:RunInstances")),
            Decision::NoAllow {
                level: "ou A".into()
            }
        );
        assert_eq!(
            evaluate(&levels, &Request::new("s3:PutObject")),
            Decision::Allow
        );
    }

    fn cond(op: &str, key: &str, values: Value) -> Value {
        json!({"Effect":"Deny","Action":"*","Resource":"*","Condition":{op:{key:values}}})
    }

    /// (operator, policy values, request values or None, expected match)
    #[test]
    fn operators_table() {
        let cases: Vec<(&str, Value, Option<Vec<&str>>, bool)> = vec![
            (
                "StringEquals",
                json!("eu-west-1"),
                Some(vec!["eu-west-1"]),
                true,
            ),
            (
                "StringEquals",
                json!("eu-west-1"),
                Some(vec!["EU-WEST-1"]),
                false,
            ),
            ("StringEquals", json!("eu-west-1"), None, false),
            (
                "StringNotEquals",
                json!(["eu-west-1", "eu-central-1"]),
                Some(vec!["us-east-1"]),
                true,
            ),
            (
                "StringNotEquals",
                json!(["eu-west-1", "eu-central-1"]),
                Some(vec!["eu-central-1"]),
                false,
            ),
            ("StringNotEquals", json!("eu-west-1"), None, true),
            ("StringNotEqualsIfExists", json!("eu-west-1"), None, true),
            ("StringEqualsIfExists", json!("eu-west-1"), None, true),
            (
                "StringEqualsIgnoreCase",
                json!("Prod"),
                Some(vec!["PROD"]),
                true,
            ),
            (
                "StringLike",
                json!("arn:aws:iam::*:root"),
                Some(vec!["arn:aws:iam::123456789012:root"]),
                true,
            ),
            (
                "StringLike",
                json!("arn:aws:iam::*:root"),
                Some(vec!["arn:aws:iam::123456789012:role/x"]),
                false,
            ),
            (
                "StringNotLike",
                json!("arn:aws:iam::*:policy/Boundary"),
                Some(vec!["arn:aws:iam::1:policy/Other"]),
                true,
            ),
            (
                "StringNotLike",
                json!("arn:aws:iam::*:policy/Boundary"),
                None,
                true,
            ),
            (
                "ArnNotLike",
                json!(["arn:aws:iam::*:role/Deployer"]),
                Some(vec!["arn:aws:iam::123456789012:role/Deployer"]),
                false,
            ),
            (
                "ArnNotLike",
                json!(["arn:aws:iam::*:role/Deployer"]),
                Some(vec!["arn:aws:iam::123456789012:role/App"]),
                true,
            ),
            (
                "ArnLike",
                json!("arn:aws:iam::*:role/*"),
                Some(vec!["arn:aws:iam::1:role/a/b"]),
                true,
            ),
            (
                "ArnEquals",
                json!("arn:aws:s3:::bucket"),
                Some(vec!["arn:aws:s3:::bucket"]),
                true,
            ),
            ("Bool", json!("true"), Some(vec!["TRUE"]), true),
            ("Bool", json!(false), Some(vec!["true"]), false),
            ("Null", json!("true"), None, true),
            ("Null", json!("true"), Some(vec!["x"]), false),
            ("Null", json!("false"), Some(vec!["x"]), true),
            ("NumericLessThan", json!("2"), Some(vec!["1.0"]), true),
            ("NumericLessThan", json!("2"), Some(vec!["2"]), false),
            ("NumericGreaterThanEquals", json!(3), Some(vec!["3"]), true),
            (
                "DateLessThan",
                json!("2026-01-01T00:00:00Z"),
                Some(vec!["2025-12-31T23:59:59Z"]),
                true,
            ),
            (
                "IpAddress",
                json!("10.0.0.0/8"),
                Some(vec!["10.1.2.3"]),
                true,
            ),
            (
                "NotIpAddress",
                json!("10.0.0.0/8"),
                Some(vec!["192.168.0.1"]),
                true,
            ),
            (
                "ForAnyValue:StringLike",
                json!("o-abc/*"),
                Some(vec!["o-x/r", "o-abc/r/ou"]),
                true,
            ),
            ("ForAnyValue:StringLike", json!("o-abc/*"), None, false),
            (
                "ForAllValues:StringEquals",
                json!(["a", "b"]),
                Some(vec!["a", "b"]),
                true,
            ),
            (
                "ForAllValues:StringEquals",
                json!(["a", "b"]),
                Some(vec!["a", "c"]),
                false,
            ),
            ("ForAllValues:StringEquals", json!(["a"]), None, true),
            ("NoSuchOperator", json!("x"), Some(vec!["x"]), false),
        ];
        for (op, wanted, have, expect) in cases {
            let mut req = Request::new("ec2:RunInstances");
            if let Some(h) = &have {
                for v in h {
                    req = req.with("k:key", v);
                }
            }
            let s = cond(op, "k:Key", wanted.clone());
            assert_eq!(
                statement_matches(&s, &req),
                expect,
                "{op} {wanted} {have:?}"
            );
        }
    }

    #[test]
    fn not_action_and_resources() {
        let s = json!({"Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*"});
        assert!(!statement_matches(&s, &Request::new("iam:CreateRole")));
        assert!(statement_matches(&s, &Request::new("ec2:RunInstances")));
        let r = json!({"Effect":"Deny","Action":"ec2:RunInstances","Resource":"arn:aws:ec2:*:*:instance/*"});
        let mut req = Request::new("ec2:RunInstances");
        req.resource = Some("arn:aws:ec2:eu-west-1:1:volume/v-1".into());
        assert!(!statement_matches(&r, &req));
        req.resource = Some("arn:aws:ec2:eu-west-1:1:instance/i-1".into());
        assert!(statement_matches(&r, &req));
    }

    /// AWS matches the service prefix and the action name case-insensitively, in `Action`
    /// and `NotAction`, with or without wildcards.
    #[test]
    fn actions_match_in_any_case() {
        let deny =
            json!({"Effect":"Deny","Action":["EC2:TerminateInstances","S3:Get*"],"Resource":"*"});
        for action in [
            "ec2:TerminateInstances",
            "EC2:terminateinstances",
            "s3:GetObject",
            "S3:GETOBJECT",
        ] {
            assert!(statement_matches(&deny, &Request::new(action)), "{action}");
        }
        assert!(!statement_matches(&deny, &Request::new("s3:PutObject")));
        let not = json!({"Effect":"Deny","NotAction":["IAM:*","Sts:AssumeRole"],"Resource":"*"});
        assert!(!statement_matches(&not, &Request::new("iam:CreateRole")));
        assert!(!statement_matches(&not, &Request::new("sts:assumerole")));
        assert!(statement_matches(&not, &Request::new("ec2:RunInstances")));
    }

    #[test]
    fn policy_variables_take_the_request_values() {
        let s = json!({"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::team-${aws:PrincipalTag/team}-*","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"${aws:ResourceAccount}"}}});
        let mut req = Request::new("s3:DeleteBucket")
            .principal("arn:aws:iam::111111111111:role/app")
            .with("aws:PrincipalTag/team", "blue")
            .with("aws:ResourceAccount", "222222222222");
        req.resource = Some("arn:aws:s3:::team-blue-logs".into());
        assert!(
            statement_matches(&s, &req),
            "own team's bucket, other account"
        );
        req.resource = Some("arn:aws:s3:::team-red-logs".into());
        assert!(!statement_matches(&s, &req), "another team's bucket");
        let mut untagged =
            Request::new("s3:DeleteBucket").principal("arn:aws:iam::111111111111:role/app");
        untagged.resource = Some("arn:aws:s3:::team--logs".into());
        assert!(
            !statement_matches(&s, &untagged),
            "a missing variable matches nothing"
        );
        assert_eq!(
            substitute("a${*}b${aws:x, 'd'}", &Request::new("x")),
            Some("a*bd".into())
        );
    }

    #[test]
    fn glob_cases() {
        assert!(glob("s3:Get*", "s3:GetObject"));
        assert!(glob("*", ""));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
        assert!(glob("*Deployer", "role/guardrail/Deployer"));
        assert!(!glob("s3:Get*", "s3:PutObject"));
    }

    #[test]
    fn operator_parsing() {
        assert_eq!(
            parse_operator("ForAnyValue:StringLikeIfExists").map(|o| (o.base, o.if_exists)),
            Some(("StringLike", true))
        );
        assert!(parse_operator("NullIfExists").is_none());
        assert!(parse_operator("StringEqual").is_none());
    }
}
