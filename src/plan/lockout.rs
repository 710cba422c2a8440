//! The lockout proof: in every member account the desired state can produce, the deployer and
//! the break-glass principals keep what they need.
//!
//! The proof evaluates the requests these principals really make, not bare actions: each
//! carries its resource in the account (the member role, the boundary policies, an ordinary
//! workload role), the context AWS sends with it (`aws:PrincipalOrgID` and `aws:ResourceOrgID`
//! of the organization itself, `aws:ResourceAccount`, `aws:SecureTransport`, no VPC endpoint,
//! not via an AWS service, us-east-1 for IAM and STS) and, for `iam:PutRolePermissionsBoundary`,
//! the boundary it sets. So a data-perimeter Deny on `...IfExists` keys, or a Deny scoped to
//! other roles or policies, is no false alarm, while a Deny that does match these requests is
//! still a lockout. `sts:AssumeRole` into the member role is made from the management account,
//! which SCPs never affect: only the member account's RCPs judge it.
//!
//! The organization's id comes from the live organization when the plan has it
//! ([`lockout_in`]); offline, from the ids the policies compare `...OrgID` keys with. With
//! several candidates, a Deny under any of them is a lockout (the proof stays sound).

use std::collections::BTreeSet;

use crate::model::{Desired, OuPath};
use crate::policy::eval::{Path, Request};

use super::verify::{decide, describe_decision, desired_path, request};

/// What a request is made on, in the member account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The role guardrail assumes in each member account.
    MemberRole,
    /// Each permissions boundary policy guardrail keeps.
    Boundary,
    /// An ordinary workload role.
    WorkloadRole,
    /// A role break-glass creates to repair things.
    RepairRole,
    /// The break-glass principal's own role.
    OwnRole,
    /// A CloudTrail trail.
    Trail,
    /// An action without resource-level permissions (`*`).
    NoResource,
}

/// What the deployer needs in every member account: assume the member role, and the IAM calls
/// the permissions-boundary work makes.
pub const DEPLOYER_NEEDS: &[(&str, Target)] = &[
    ("sts:AssumeRole", Target::MemberRole),
    ("iam:GetPolicy", Target::Boundary),
    ("iam:GetPolicyVersion", Target::Boundary),
    ("iam:CreatePolicy", Target::Boundary),
    ("iam:CreatePolicyVersion", Target::Boundary),
    ("iam:DeletePolicyVersion", Target::Boundary),
    ("iam:SetDefaultPolicyVersion", Target::Boundary),
    ("iam:GetAccountAuthorizationDetails", Target::NoResource),
    ("iam:ListRoles", Target::NoResource),
    ("iam:PutRolePermissionsBoundary", Target::WorkloadRole),
];

/// What break-glass needs to repair anything.
pub const BREAK_GLASS_NEEDS: &[(&str, Target)] = &[
    ("sts:AssumeRole", Target::OwnRole),
    ("iam:CreateRole", Target::RepairRole),
    ("iam:AttachRolePolicy", Target::WorkloadRole),
    ("iam:DetachRolePolicy", Target::WorkloadRole),
    ("iam:PutRolePolicy", Target::WorkloadRole),
    ("iam:UpdateAssumeRolePolicy", Target::WorkloadRole),
    ("iam:DeleteRolePermissionsBoundary", Target::WorkloadRole),
    ("iam:CreatePolicyVersion", Target::Boundary),
    ("cloudtrail:StartLogging", Target::Trail),
    ("organizations:DescribeOrganization", Target::NoResource),
];

/// A principal that would be denied something it needs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lockout {
    pub principal: String,
    pub account: String,
    pub action: String,
    /// The resource of the request that was denied (`*` for none).
    pub resource: String,
    pub by: String,
}

/// The ids the policies compare the organization keys with: the candidates for the
/// organization's own id.
fn org_id_candidates(d: &Desired) -> BTreeSet<String> {
    const KEYS: &[&str] = &[
        "aws:principalorgid",
        "aws:resourceorgid",
        "aws:sourceorgid",
        "aws:vpceorgid",
    ];
    let mut out = BTreeSet::new();
    for p in d.policies.values() {
        let Some(stmts) = p.document.get("Statement") else {
            continue;
        };
        let stmts: Vec<&serde_json::Value> = match stmts {
            serde_json::Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        for s in stmts {
            let Some(ops) = s.get("Condition").and_then(|c| c.as_object()) else {
                continue;
            };
            for keys in ops.values().filter_map(|k| k.as_object()) {
                for (k, v) in keys {
                    if !KEYS.contains(&k.to_ascii_lowercase().as_str()) {
                        continue;
                    }
                    let vals: Vec<&str> = match v {
                        serde_json::Value::Array(a) => {
                            a.iter().filter_map(|x| x.as_str()).collect()
                        }
                        other => other.as_str().into_iter().collect(),
                    };
                    out.extend(
                        vals.into_iter()
                            .filter(|v| v.starts_with("o-") && !v.contains(['*', '?', '$']))
                            .map(str::to_owned),
                    );
                }
            }
        }
    }
    out
}

/// The resource ARNs a need's requests are made on, in `account`.
fn resources(d: &Desired, target: Target, account: &str, principal: &str) -> Vec<String> {
    let iam = |rest: &str| format!("arn:aws:iam::{account}:{rest}");
    match target {
        Target::MemberRole => vec![iam(&format!("role/{}", d.member_role))],
        Target::Boundary if d.boundaries.is_empty() => vec![iam("policy/guardrail/boundary")],
        Target::Boundary => d
            .boundaries
            .values()
            .map(|b| b.arn("aws", account))
            .collect(),
        Target::WorkloadRole => vec![iam("role/workload")],
        Target::RepairRole => vec![iam("role/break-glass-repair")],
        Target::OwnRole => vec![principal
            .replace("::*:", &format!("::{account}:"))
            .replacen("arn:*:", "arn:aws:", 1)],
        Target::Trail => vec![format!(
            "arn:aws:cloudtrail:us-east-1:{account}:trail/organization-trail"
        )],
        Target::NoResource => vec!["*".to_owned()],
    }
}

/// The request as AWS would see it, with the context the deployer's calls carry.
fn real_request(
    account: &str,
    action: &str,
    principal: &str,
    resource: &str,
    org: &str,
    boundary: Option<&str>,
) -> Option<Request> {
    let mut ctx = vec![
        ("aws:PrincipalOrgID".to_owned(), org.to_owned()),
        ("aws:ResourceOrgID".to_owned(), org.to_owned()),
        ("aws:ResourceAccount".to_owned(), account.to_owned()),
        ("aws:SecureTransport".to_owned(), "true".to_owned()),
        ("aws:ViaAWSService".to_owned(), "false".to_owned()),
        ("aws:PrincipalIsAWSService".to_owned(), "false".to_owned()),
    ];
    if let Some(b) = boundary {
        ctx.push(("iam:PermissionsBoundary".to_owned(), b.to_owned()));
    }
    request(
        account,
        action,
        Some("us-east-1"),
        Some(principal),
        Some(resource),
        &ctx,
    )
    .ok()
}

/// The lockout proof with the organization's id inferred from the policies.
pub fn lockout(d: &Desired) -> Vec<Lockout> {
    lockout_in(d, None)
}

/// The lockout proof over every member account of the desired state; `org_id` is the
/// organization's own id when known (from the live organization).
pub fn lockout_in(d: &Desired, org_id: Option<&str>) -> Vec<Lockout> {
    let orgs: Vec<String> = match org_id {
        Some(o) => vec![o.to_owned()],
        None => {
            let c = org_id_candidates(d);
            if c.is_empty() {
                // No policy names an organization id, so none compares with it.
                vec!["o-0000000000".to_owned()]
            } else {
                c.into_iter().collect()
            }
        }
    };
    let mut out = Vec::new();
    for (acct, shown_account, path) in subjects(d) {
        let subject = Subject {
            d,
            acct: &acct,
            shown: &shown_account,
            orgs: &orgs,
        };
        if let Some(deployer) = &d.deployer {
            let member = format!("arn:aws:iam::{acct}:role/{}", d.member_role);
            let shown = format!("arn:aws:iam::*:role/{}", d.member_role);
            // The deployer assumes the member role from the management account (no SCPs
            // there); everything else is the member role's own calls.
            let from_management = Path {
                scp: Vec::new(),
                ..path.clone()
            };
            subject.check(
                &from_management,
                deployer,
                &shown,
                &DEPLOYER_NEEDS[..1],
                &mut out,
            );
            subject.check(&path, &member, &shown, &DEPLOYER_NEEDS[1..], &mut out);
        }
        for b in &d.break_glass {
            subject.check(&path, b, b, BREAK_GLASS_NEEDS, &mut out);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// One account the proof checks, and the organization ids to try.
struct Subject<'a> {
    d: &'a Desired,
    acct: &'a str,
    shown: &'a str,
    orgs: &'a [String],
}

impl Subject<'_> {
    /// Every request of `needs` by `principal` on its resources, under every candidate
    /// organization id; each denied one is a lockout.
    fn check(
        &self,
        path: &Path,
        principal: &str,
        shown: &str,
        needs: &[(&str, Target)],
        out: &mut Vec<Lockout>,
    ) {
        for (action, target) in needs {
            // iam:PutRolePermissionsBoundary carries the boundary it sets.
            let boundaries: Vec<Option<String>> = if *action == "iam:PutRolePermissionsBoundary" {
                resources(self.d, Target::Boundary, self.acct, principal)
                    .into_iter()
                    .map(Some)
                    .collect()
            } else {
                vec![None]
            };
            for resource in resources(self.d, *target, self.acct, principal) {
                for (org, boundary) in self
                    .orgs
                    .iter()
                    .flat_map(|o| boundaries.iter().map(move |b| (o, b)))
                {
                    let Some(req) = real_request(
                        self.acct,
                        action,
                        principal,
                        &resource,
                        org,
                        boundary.as_deref(),
                    ) else {
                        continue;
                    };
                    let dec = decide(path, &req);
                    if dec.is_denied() {
                        out.push(Lockout {
                            principal: shown.to_owned(),
                            account: self.shown.to_owned(),
                            action: (*action).to_owned(),
                            resource: resource.clone(),
                            by: describe_decision(&dec),
                        });
                    }
                }
            }
        }
    }
}

/// One account per distinct (OU, account-level policies), and a hypothetical account in every
/// OU: (account id, how to name it, its path).
fn subjects(d: &Desired) -> Vec<(String, String, Path)> {
    let mut seen: BTreeSet<(OuPath, BTreeSet<String>)> = BTreeSet::new();
    let mut out = Vec::new();
    for a in d.accounts.values() {
        let id = a.id.clone().unwrap_or_else(|| "111111111111".to_owned());
        if id == d.management_account || !seen.insert((a.ou.clone(), a.policies.clone())) {
            continue;
        }
        out.push((
            id.clone(),
            format!("account {id}"),
            desired_path(d, &a.ou, Some((&id, &a.policies))),
        ));
    }
    for p in d.ous.keys() {
        out.push((
            "111111111111".to_owned(),
            format!("a member account in ou {p}"),
            desired_path(d, p, None),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path as FsPath;

    const HEAD: &str = r#"[organization]
management_account = "123456789012"
deployer = "arn:aws:iam::123456789012:role/guardrail-deployer"
break_glass = ["arn:aws:iam::*:role/BreakGlass"]
[accounts.app]
id = "210987654321"
ou = "Workloads"
policies = ["FullAWSAccess"]
[ous.Workloads]
policies = ["FullAWSAccess"]
"#;

    /// A config whose root carries FullAWSAccess and one document of `kind`.
    fn desired(kind: &str, document: &str) -> Desired {
        let ty = if kind == "rcp" {
            "\ntype = \"rcp\""
        } else {
            ""
        };
        let root = "[root]\npolicies = [\"FullAWSAccess\", \"p\"]\n";
        let text =
            format!("{HEAD}[policies.p]\ndescription = \"x\"\ndocument = \"p.json\"{ty}\n{root}");
        let doc = document.to_owned();
        let read = move |_: &FsPath| Ok(doc.clone());
        crate::config::parse(FsPath::new("env.toml"), &text, &read)
            .unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn actions(l: &[Lockout]) -> Vec<&str> {
        let mut a: Vec<&str> = l.iter().map(|l| l.action.as_str()).collect();
        a.dedup();
        a
    }

    /// A Deny of IAM that exempts nobody is a real lockout and is still reported.
    #[test]
    fn a_deny_that_matches_the_deployers_requests_is_a_lockout() {
        let d = desired(
            "scp",
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoIam","Effect":"Deny","Action":"iam:*","Resource":"*"}]}"#,
        );
        let l = lockout(&d);
        assert!(
            actions(&l).contains(&"iam:PutRolePermissionsBoundary"),
            "{l:?}"
        );
        assert!(
            l.iter().all(|l| l.by.contains("SCP p, statement NoIam")),
            "{l:?}"
        );
    }

    /// A data perimeter on `...IfExists` keys never matches the organization's own calls.
    #[test]
    fn a_data_perimeter_on_if_exists_keys_is_no_lockout() {
        let d = desired(
            "scp",
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Perimeter","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:ResourceOrgID":"o-abcdefghij"},"BoolIfExists":{"aws:ViaAWSService":"false"}}}]}"#,
        );
        assert_eq!(lockout(&d), Vec::new());
        // Under another organization's id the same Deny would lock everyone out.
        assert!(!lockout_in(&d, Some("o-zzzzzzzzzz")).is_empty());
    }

    /// A Deny scoped to other roles' ARNs does not touch the deployer's resources.
    #[test]
    fn a_deny_scoped_to_other_roles_is_no_lockout() {
        let d = desired(
            "scp",
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"ProtectAudit","Effect":"Deny","Action":"iam:*","Resource":["arn:aws:iam::*:role/SecurityAudit","arn:aws:iam::*:policy/SecurityAuditPolicy"]}]}"#,
        );
        assert_eq!(lockout(&d), Vec::new());
    }

    /// An RCP that denies AssumeRole from outside the organization leaves the deployer in;
    /// one that denies every AssumeRole locks it out, though SCPs never judge the call.
    #[test]
    fn rcps_judge_the_deployers_assume_role() {
        let perimeter = desired(
            "rcp",
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"OrgOnly","Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-abcdefghij"}}}]}"#,
        );
        assert_eq!(lockout(&perimeter), Vec::new());
        let closed = desired(
            "rcp",
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoAssume","Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]}"#,
        );
        let l = lockout(&closed);
        assert!(
            l.iter()
                .any(|l| l.principal.contains(&closed.member_role) && l.by.contains("RCP p")),
            "{l:?}"
        );
    }
}
