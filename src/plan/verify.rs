//! Offline proofs over the desired state: an account's policy path in both layers (SCPs and
//! RCPs), `[[assert]]` checks, and `explain`'s requests; the lockout proof lives in
//! `plan::lockout`. Pure: evaluates documents with `policy::eval`, never calls AWS.
//!
//! Every path carries the SCP layer and the RCP layer. RCPFullAWSAccess is on every level of
//! the RCP layer (AWS attaches it everywhere RCPs are enabled, and it cannot be detached; with
//! RCPs disabled the layer is that one allow and decides nothing), and the management account
//! has no path: neither layer applies there.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{AssertSubject, Assertion, Desired, LiveOrg, OuPath, PolicyType};
use crate::policy::eval::{
    self, Decider, Decision, EvalPolicy, Exemption, Layer, Level, Path, Request,
};
use crate::policy::{compile, doc, limits::LimitsTable};

pub use super::lockout::{lockout, lockout_in, Lockout, BREAK_GLASS_NEEDS, DEPLOYER_NEEDS};

/// A request that cannot be built as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("--region {region} and --context aws:RequestedRegion={context} disagree; give the region once")]
    ConflictingRegion { region: String, context: String },
}

fn type_name(ty: PolicyType, limits: &LimitsTable) -> Option<&'static str> {
    limits.for_type(ty).aws_managed_policy
}

/// The policies of one layer named in a target's list, parsed; AWS-managed ones from the
/// limits table.
fn desired_policies(d: &Desired, names: &BTreeSet<String>, ty: PolicyType) -> Vec<EvalPolicy> {
    let mut out: Vec<EvalPolicy> = names
        .iter()
        .filter_map(|n| match d.policies.get(n) {
            Some(p) if p.policy_type == ty => Some(
                EvalPolicy::new(n, &p.document, p.guardrails.clone()).with_origins(origins(
                    d,
                    &p.document,
                    &p.guardrails,
                )),
            ),
            Some(_) => None,
            None => {
                (type_name(ty, &d.limits) == Some(n.as_str())).then(|| EvalPolicy::allow_all(n))
            }
        })
        .collect();
    if ty == PolicyType::ResourceControlPolicy {
        with_rcp_full_access(&mut out, &d.limits);
    }
    out
}

/// For each statement of a compiled policy, the guardrails' own statements it came from
/// (`compile::origins`), so a Deny by a merged statement names the one that matched.
fn origins(d: &Desired, document: &serde_json::Value, guardrails: &[Option<String>]) -> Origins {
    let statements = document["Statement"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    statements
        .iter()
        .zip(guardrails)
        .map(|(s, names)| {
            let names = names.as_deref().unwrap_or_default().split(", ");
            let instances = names.filter_map(|n| {
                d.guardrails
                    .get(n)
                    .map(|g| (g.name.as_str(), g.statements.as_slice()))
            });
            compile::origins(s, instances)
        })
        .collect()
}

type Origins = Vec<Vec<(String, String, serde_json::Value)>>;

/// RCPFullAWSAccess is on every target: add it where a list does not name it.
fn with_rcp_full_access(policies: &mut Vec<EvalPolicy>, limits: &LimitsTable) {
    if let Some(full) = type_name(PolicyType::ResourceControlPolicy, limits) {
        if !policies.iter().any(|p| p.name == full) {
            policies.insert(0, EvalPolicy::allow_all(full));
        }
    }
}

/// The path (SCP and RCP levels) from the root to an account in `ou` carrying
/// `account_policies`; a hypothetical account has FullAWSAccess alone at its own level.
pub fn desired_path(d: &Desired, ou: &OuPath, account: Option<(&str, &BTreeSet<String>)>) -> Path {
    let mut named: Vec<(String, BTreeSet<String>)> = vec![("root".into(), d.root.policies.clone())];
    let mut cur = OuPath::root();
    for seg in ou.segments() {
        cur = cur.child(seg);
        let names = d
            .ous
            .get(&cur)
            .map(|o| o.policies.clone())
            .unwrap_or_default();
        named.push((format!("ou {cur}"), names));
    }
    named.push(match account {
        Some((id, names)) => (format!("account {id}"), names.clone()),
        None => (
            "a member account".to_owned(),
            type_name(PolicyType::ServiceControlPolicy, &d.limits)
                .map(str::to_owned)
                .into_iter()
                .collect(),
        ),
    });
    let layer = |ty| -> Vec<Level> {
        named
            .iter()
            .map(|(name, names)| Level {
                name: name.clone(),
                policies: desired_policies(d, names, ty),
            })
            .collect()
    };
    Path {
        scp: layer(PolicyType::ServiceControlPolicy),
        rcp: layer(PolicyType::ResourceControlPolicy),
        management: false,
    }
}

/// The path of the live organization for an account id, or for a hypothetical member
/// account directly under `parent_id`.
pub fn live_path(live: &LiveOrg, parent_id: &str, account: Option<&str>) -> Path {
    let limits = LimitsTable::default();
    // Policies at a level in name order, as for the desired state, so the deciding statement
    // is the same whichever ids AWS gave them.
    let policies_on = |id: &str, ty: PolicyType| -> Vec<EvalPolicy> {
        let mut v: Vec<EvalPolicy> = live
            .policies_on(id)
            .filter(|p| p.policy_type == ty)
            .map(|p| {
                let document = doc::parse(&p.content).unwrap_or(serde_json::Value::Null);
                EvalPolicy::new(&p.name, &document, Vec::new())
            })
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        if ty == PolicyType::ResourceControlPolicy {
            with_rcp_full_access(&mut v, &limits);
        }
        v
    };
    let mut chain = Vec::new();
    let mut cur = parent_id.to_owned();
    for _ in 0..=live.ous.len() {
        if cur == live.root.id {
            break;
        }
        let Some(ou) = live.ous.get(&cur) else { break };
        chain.push(cur.clone());
        cur = ou.parent_id.clone();
    }
    chain.reverse();
    let mut ids: Vec<(String, Option<String>)> = vec![("root".into(), Some(live.root.id.clone()))];
    for id in chain {
        let path = live
            .path_of(&id)
            .map(|p| p.to_string())
            .unwrap_or_else(|| id.clone());
        ids.push((format!("ou {path}"), Some(id)));
    }
    ids.push(match account {
        Some(a) => (format!("account {a}"), Some(a.to_owned())),
        None => ("a member account".into(), None),
    });
    let layer = |ty: PolicyType| -> Vec<Level> {
        ids.iter()
            .map(|(name, id)| Level {
                name: name.clone(),
                policies: match id {
                    Some(id) => policies_on(id, ty),
                    None if ty == PolicyType::ServiceControlPolicy => {
                        vec![EvalPolicy::allow_all("FullAWSAccess")]
                    }
                    None => {
                        let mut v = Vec::new();
                        with_rcp_full_access(&mut v, &limits);
                        v
                    }
                },
            })
            .collect()
    };
    Path {
        scp: layer(PolicyType::ServiceControlPolicy),
        rcp: layer(PolicyType::ResourceControlPolicy),
        management: false,
    }
}

/// The management account's path: neither layer applies.
pub fn management_path() -> Path {
    Path {
        management: true,
        ..Path::default()
    }
}

/// Builds a request; `principal` defaults to an ordinary role in the account. A `*` account
/// or partition in the principal becomes the account's, `aws`. `context` values replace what
/// guardrail derives (a given `aws:PrincipalType` wins); a key given several times keeps
/// every value.
pub fn request(
    account: &str,
    action: &str,
    region: Option<&str>,
    principal: Option<&str>,
    resource: Option<&str>,
    context: &[(String, String)],
) -> Result<Request, RequestError> {
    let mut given: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in context {
        given
            .entry(k.to_ascii_lowercase())
            .or_default()
            .push(v.clone());
    }
    if let (Some(reg), Some(vals)) = (region, given.get("aws:requestedregion")) {
        if let Some(other) = vals.iter().find(|v| v.as_str() != reg) {
            return Err(RequestError::ConflictingRegion {
                region: reg.to_owned(),
                context: other.clone(),
            });
        }
    }
    let mut r = Request::new(action);
    if let Some(reg) = region {
        r = r.region(reg);
    }
    let principal = principal
        .map(str::to_owned)
        .unwrap_or_else(|| format!("arn:aws:iam::{account}:role/workload"));
    let principal = principal
        .replace("::*:", &format!("::{account}:"))
        .replacen("arn:*:", "arn:aws:", 1);
    r = r.principal(&principal);
    r.resource = resource.map(str::to_owned);
    for (k, v) in given {
        r = r.set(&k, v);
    }
    Ok(r)
}

/// The account id and path for an assertion's subject.
fn subject_path(d: &Desired, s: &AssertSubject) -> (String, Path) {
    match s {
        AssertSubject::Account(id) => {
            if id == &d.management_account {
                return (id.clone(), management_path());
            }
            match d.accounts.values().find(|a| a.id.as_deref() == Some(id)) {
                Some(a) => (id.clone(), desired_path(d, &a.ou, Some((id, &a.policies)))),
                None => (id.clone(), desired_path(d, &OuPath::root(), None)),
            }
        }
        AssertSubject::Ou(p) => ("111111111111".into(), desired_path(d, p, None)),
    }
}

/// Evaluates a request on a path (both layers).
pub fn decide(path: &Path, req: &Request) -> Decision {
    eval::decide(path, req)
}

/// One assertion that does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedAssertion {
    pub location: String,
    pub description: String,
    pub expected: &'static str,
    pub got: String,
}

pub fn describe_decision(d: &Decision) -> String {
    match d {
        Decision::Allow => "allowed".into(),
        Decision::NotAffected(Exemption::ManagementAccount) => {
            "allowed (the management account is not affected by SCPs or RCPs)".into()
        }
        Decision::NotAffected(Exemption::ServiceLinkedRole) => {
            "allowed (service-linked roles are not affected by SCPs or RCPs)".into()
        }
        Decision::Deny(by) => format!("denied by {}", describe_decider(by)),
        Decision::NoAllow { layer, level } => {
            format!("denied: no {} at {level} allows it", layer.name())
        }
    }
}

pub fn describe_decider(by: &Decider) -> String {
    let g = match (&by.guardrail, &by.origin) {
        (Some(g), Some(own)) => format!("guardrail {g} (its statement {own}), "),
        (Some(g), None) => format!("guardrail {g}, "),
        (None, _) => String::new(),
    };
    let layer = match by.layer {
        Layer::Scp => "SCP",
        Layer::Rcp => "RCP",
    };
    format!(
        "{g}{layer} {}, statement {}, attached to {}",
        by.policy, by.statement, by.level
    )
}

/// Checks every `[[assert]]`.
pub fn check_assertions(d: &Desired) -> Vec<FailedAssertion> {
    let mut out = Vec::new();
    for a in &d.assertions {
        let (acct, path) = subject_path(d, &a.subject);
        let fail = |got: String| FailedAssertion {
            location: a.location.clone(),
            description: assertion_text(a),
            expected: if a.expect_deny { "deny" } else { "allow" },
            got,
        };
        let req = request(
            &acct,
            &a.action,
            a.region.as_deref(),
            a.principal.as_deref(),
            a.resource.as_deref(),
            &a.context,
        );
        match req {
            Ok(req) => {
                let got = decide(&path, &req);
                if got.is_denied() != a.expect_deny {
                    out.push(fail(describe_decision(&got)));
                }
            }
            Err(e) => out.push(fail(format!("not a valid request: {e}"))),
        }
    }
    out
}

fn assertion_text(a: &Assertion) -> String {
    let subject = match &a.subject {
        AssertSubject::Account(id) => format!("account {id}"),
        AssertSubject::Ou(p) => format!("a member account in {p}"),
    };
    let region = a
        .region
        .as_ref()
        .map(|r| format!(" in {r}"))
        .unwrap_or_default();
    let who = a
        .principal
        .as_ref()
        .map(|p| format!(" by {p}"))
        .unwrap_or_default();
    format!("{} in {subject}{region}{who}", a.action)
}

/// The path of an account named by config key or id; the management account's exempts it.
pub fn account_levels(d: &Desired, account: &str) -> Option<(String, Path)> {
    let a = d.accounts.get(account).or_else(|| {
        d.accounts
            .values()
            .find(|a| a.id.as_deref() == Some(account))
    });
    match a {
        Some(a) => {
            let id = a.id.clone().unwrap_or_else(|| "111111111111".to_owned());
            if id == d.management_account {
                return Some((id, management_path()));
            }
            Some((id.clone(), desired_path(d, &a.ou, Some((&id, &a.policies)))))
        }
        None if account == d.management_account => Some((account.to_owned(), management_path())),
        None => None,
    }
}

/// Everything `validate` reports.
#[derive(Debug, Clone, Default)]
pub struct Validation {
    pub assertions_checked: usize,
    pub failed_assertions: Vec<FailedAssertion>,
    pub lockouts: Vec<Lockout>,
}

impl Validation {
    pub fn is_clean(&self) -> bool {
        self.failed_assertions.is_empty() && self.lockouts.is_empty()
    }
}

pub fn validate(d: &Desired) -> Validation {
    Validation {
        assertions_checked: d.assertions.len(),
        failed_assertions: check_assertions(d),
        lockouts: lockout(d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// A `--context aws:PrincipalType=...` replaces guardrail's own value; a key given twice
    /// keeps both values.
    #[test]
    fn context_overrides_the_derived_principal_type() {
        let r = request(
            "210987654321",
            "s3:GetObject",
            None,
            None,
            None,
            &ctx(&[
                ("aws:PrincipalType", "User"),
                ("aws:TagKeys", "a"),
                ("aws:TagKeys", "b"),
            ]),
        );
        let r = r.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            r.values("aws:PrincipalType"),
            Some(&["User".to_owned()][..])
        );
        assert_eq!(r.values("aws:TagKeys").map(<[String]>::len), Some(2));
    }

    /// `--region` and a different `--context aws:RequestedRegion` name two regions: refused.
    #[test]
    fn region_and_a_different_requested_region_context_are_an_error() {
        let conflict = request(
            "210987654321",
            "s3:GetObject",
            Some("eu-west-1"),
            None,
            None,
            &ctx(&[("aws:RequestedRegion", "us-east-1")]),
        );
        assert!(matches!(
            conflict,
            Err(RequestError::ConflictingRegion { .. })
        ));
        let same = request(
            "210987654321",
            "s3:GetObject",
            Some("eu-west-1"),
            None,
            None,
            &ctx(&[("aws:requestedregion", "eu-west-1")]),
        );
        assert!(same.is_ok());
    }
}
