//! Offline proofs over the desired state: the policy path of an account, `[[assert]]` checks,
//! and the lockout proof (the deployer and break-glass principals keep what they need in every
//! account). Pure: evaluates documents with `policy::eval`, never calls AWS.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{AssertSubject, Assertion, Desired, LiveOrg, OuPath};
use crate::policy::eval::{self, Decider, Decision, EvalPolicy, Level, Request};
use crate::policy::{doc, limits::LimitsTable};

/// The AWS-managed policies' documents, for evaluation.
fn aws_managed(name: &str, limits: &LimitsTable) -> Option<EvalPolicy> {
    limits.aws_managed_type(name).map(|_| EvalPolicy {
        name: name.to_owned(),
        document: serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}),
        guardrails: vec![None],
    })
}

fn desired_policies(d: &Desired, names: &BTreeSet<String>) -> Vec<EvalPolicy> {
    names
        .iter()
        .filter_map(|n| match d.policies.get(n) {
            Some(p) if p.policy_type == crate::model::PolicyType::ServiceControlPolicy => {
                Some(EvalPolicy {
                    name: n.clone(),
                    document: p.document.clone(),
                    guardrails: p.guardrails.clone(),
                })
            }
            Some(_) => None,
            None => aws_managed(n, &d.limits)
                .filter(|_| Some(n.as_str()) == d.limits.scp.aws_managed_policy),
        })
        .collect()
}

/// The SCP levels from the root to an account in `ou` carrying `account_policies` (the
/// account level is FullAWSAccess alone for a hypothetical account).
pub fn desired_levels(
    d: &Desired,
    ou: &OuPath,
    account: Option<(&str, &BTreeSet<String>)>,
) -> Vec<Level> {
    let mut levels = vec![Level {
        name: "root".into(),
        policies: desired_policies(d, &d.root.policies),
    }];
    let mut cur = OuPath::root();
    for seg in ou.segments() {
        cur = cur.child(seg);
        let names = d
            .ous
            .get(&cur)
            .map(|o| o.policies.clone())
            .unwrap_or_default();
        levels.push(Level {
            name: format!("ou {cur}"),
            policies: desired_policies(d, &names),
        });
    }
    let full: BTreeSet<String> = d
        .limits
        .scp
        .aws_managed_policy
        .map(str::to_owned)
        .into_iter()
        .collect();
    let (name, names) = match account {
        Some((id, names)) => (format!("account {id}"), names.clone()),
        None => ("a member account".to_owned(), full),
    };
    levels.push(Level {
        name,
        policies: desired_policies(d, &names),
    });
    levels
}

/// The SCP levels of the live organization for an account id, or for a hypothetical member
/// account directly under `parent_id`.
pub fn live_levels(live: &LiveOrg, parent_id: &str, account: Option<&str>) -> Vec<Level> {
    // Policies at a level in name order, as for the desired state, so the deciding statement
    // is the same whichever ids AWS gave them.
    let policies_on = |id: &str| -> Vec<EvalPolicy> {
        let mut v: Vec<EvalPolicy> = live
            .policies_on(id)
            .filter(|p| p.policy_type == crate::model::PolicyType::ServiceControlPolicy)
            .map(|p| EvalPolicy {
                name: p.name.clone(),
                document: doc::parse(&p.content).unwrap_or(serde_json::Value::Null),
                guardrails: Vec::new(),
            })
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
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
    let mut levels = vec![Level {
        name: "root".into(),
        policies: policies_on(&live.root.id),
    }];
    for id in chain {
        let path = live
            .path_of(&id)
            .map(|p| p.to_string())
            .unwrap_or_else(|| id.clone());
        levels.push(Level {
            name: format!("ou {path}"),
            policies: policies_on(&id),
        });
    }
    match account {
        Some(a) => levels.push(Level { name: format!("account {a}"), policies: policies_on(a) }),
        None => levels.push(Level {
            name: "a member account".into(),
            policies: vec![EvalPolicy {
                name: "FullAWSAccess".into(),
                document: serde_json::json!({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}),
                guardrails: vec![None],
            }],
        }),
    }
    levels
}

/// Builds a request; `principal` defaults to an ordinary role in the account.
pub fn request(
    account: &str,
    action: &str,
    region: Option<&str>,
    principal: Option<&str>,
    resource: Option<&str>,
    context: &[(String, String)],
) -> Request {
    let mut r = Request::new(action);
    if let Some(reg) = region {
        r = r.region(reg);
    }
    let principal = principal
        .map(str::to_owned)
        .unwrap_or_else(|| format!("arn:aws:iam::{account}:role/workload"));
    r = r.principal(&principal.replace("::*:", &format!("::{account}:")));
    r.resource = resource.map(str::to_owned);
    for (k, v) in context {
        r = r.with(k, v);
    }
    r
}

/// The levels and an account id for an assertion's subject.
fn subject_levels(d: &Desired, s: &AssertSubject) -> (String, Vec<Level>) {
    match s {
        AssertSubject::Account(id) => {
            if id == &d.management_account {
                return (id.clone(), Vec::new());
            }
            match d.accounts.values().find(|a| a.id.as_deref() == Some(id)) {
                Some(a) => (
                    id.clone(),
                    desired_levels(d, &a.ou, Some((id, &a.policies))),
                ),
                None => (id.clone(), desired_levels(d, &OuPath::root(), None)),
            }
        }
        AssertSubject::Ou(p) => ("111111111111".into(), desired_levels(d, p, None)),
    }
}

/// Evaluates down levels; no levels means the management account.
pub fn decide(levels: &[Level], req: &Request) -> Decision {
    if levels.is_empty() {
        Decision::NotAffected
    } else {
        eval::evaluate(levels, req)
    }
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
        Decision::NotAffected => "allowed (the management account is not affected by SCPs)".into(),
        Decision::Deny(by) => format!("denied by {}", describe_decider(by)),
        Decision::NoAllow { level } => format!("denied: no SCP at {level} allows it"),
    }
}

pub fn describe_decider(by: &Decider) -> String {
    let g = by
        .guardrail
        .as_ref()
        .map(|g| format!("guardrail {g}, "))
        .unwrap_or_default();
    format!(
        "{g}policy {}, statement {}, attached to {}",
        by.policy, by.statement, by.level
    )
}

/// Checks every `[[assert]]`.
pub fn check_assertions(d: &Desired) -> Vec<FailedAssertion> {
    let mut out = Vec::new();
    for a in &d.assertions {
        let (acct, levels) = subject_levels(d, &a.subject);
        let req = request(
            &acct,
            &a.action,
            a.region.as_deref(),
            a.principal.as_deref(),
            a.resource.as_deref(),
            &a.context,
        );
        let got = decide(&levels, &req);
        if got.is_denied() != a.expect_deny {
            out.push(FailedAssertion {
                location: a.location.clone(),
                description: assertion_text(a),
                expected: if a.expect_deny { "deny" } else { "allow" },
                got: describe_decision(&got),
            });
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

/// What the deployer needs in every member account (assume the member role, the IAM calls the
/// permissions-boundary work makes) and what break-glass needs to repair anything.
pub const DEPLOYER_NEEDS: &[&str] = &[
    "sts:AssumeRole",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:GetAccountAuthorizationDetails",
    "iam:ListRoles",
    "iam:PutRolePermissionsBoundary",
];

pub const BREAK_GLASS_NEEDS: &[&str] = &[
    "sts:AssumeRole",
    "iam:CreateRole",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:DeleteRolePermissionsBoundary",
    "iam:CreatePolicyVersion",
    "cloudtrail:StartLogging",
    "organizations:DescribeOrganization",
];

/// A principal that would be denied something it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockout {
    pub principal: String,
    pub account: String,
    pub action: String,
    pub by: String,
}

/// The lockout proof over every member account of the desired state.
pub fn lockout(d: &Desired) -> Vec<Lockout> {
    let mut principals: Vec<(String, &[&str])> = Vec::new();
    if d.deployer.is_some() {
        principals.push((
            format!("arn:*:iam::*:role/{}", d.member_role),
            DEPLOYER_NEEDS,
        ));
    }
    for b in &d.break_glass {
        principals.push((b.clone(), BREAK_GLASS_NEEDS));
    }
    if principals.is_empty() {
        return Vec::new();
    }
    // Accounts with the same OU and the same account-level policies decide alike: check one.
    let mut seen: BTreeMap<(OuPath, BTreeSet<String>), ()> = BTreeMap::new();
    let mut subjects: Vec<(String, Vec<Level>)> = Vec::new();
    for a in d.accounts.values() {
        let id = a.id.clone().unwrap_or_else(|| "111111111111".to_owned());
        if id == d.management_account
            || seen
                .insert((a.ou.clone(), a.policies.clone()), ())
                .is_some()
        {
            continue;
        }
        subjects.push((
            id.clone(),
            desired_levels(d, &a.ou, Some((&id, &a.policies))),
        ));
    }
    // Every OU, for accounts that will arrive there.
    for p in d.ous.keys() {
        subjects.push(("111111111111".to_owned(), desired_levels(d, p, None)));
    }
    let mut out = Vec::new();
    for (acct, levels) in &subjects {
        for (principal, needs) in &principals {
            for action in *needs {
                let req = request(acct, action, Some("us-east-1"), Some(principal), None, &[]);
                let dec = decide(levels, &req);
                if dec.is_denied() {
                    out.push(Lockout {
                        principal: principal.clone(),
                        account: levels
                            .last()
                            .map(|l| l.name.clone())
                            .unwrap_or_default()
                            .replace(
                                "a member account",
                                &format!(
                                    "a member account in {}",
                                    levels
                                        .get(levels.len().saturating_sub(2))
                                        .map(|l| l.name.as_str())
                                        .unwrap_or("root")
                                ),
                            ),
                        action: (*action).to_owned(),
                        by: describe_decision(&dec),
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| {
        (&a.principal, &a.account, &a.action).cmp(&(&b.principal, &b.account, &b.action))
    });
    out.dedup();
    out
}

/// The levels of an account named by config key or id; the management account has none.
pub fn account_levels(d: &Desired, account: &str) -> Option<(String, Vec<Level>)> {
    let a = d.accounts.get(account).or_else(|| {
        d.accounts
            .values()
            .find(|a| a.id.as_deref() == Some(account))
    });
    match a {
        Some(a) => {
            let id = a.id.clone().unwrap_or_else(|| "111111111111".to_owned());
            if id == d.management_account {
                return Some((id, Vec::new()));
            }
            Some((
                id.clone(),
                desired_levels(d, &a.ou, Some((&id, &a.policies))),
            ))
        }
        None if account == d.management_account => Some((account.to_owned(), Vec::new())),
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
