//! The fake's management-type operations beyond one attachment, as AWS does them:
//! `DisablePolicyType` (every policy of the type is detached everywhere, the type leaves the
//! root) and the validation of effective policies (`ListAccountsWithInvalidEffectivePolicy`,
//! `ListEffectivePolicyValidationErrors`).
//!
//! An effective policy is invalid, as on AWS, when a policy on the account's path uses an
//! operator its parents forbid or one the setting cannot take, or when the merged policy
//! breaks its type's syntax (guardrail's management lint, errors only). The error codes are
//! the fake's own; AWS's are not published as a list. Policies at one level merge in the
//! order of their ids (AWS: the order of attachment, which the fake does not keep).

use super::{not_found, FakeOrg, State};
use crate::live::{AccountInfo, Error, Result};
use crate::model::{EffectivePolicyError, PolicyType};
use crate::policy::effective::{effective, Attached, Level, Problem};
use crate::policy::lint::{self, LintContext, Severity};

fn check_type(s: &State, ty: PolicyType) -> Result<()> {
    if ty.is_authorization() {
        return Err(Error::InvalidInput {
            reason: "INVALID_ENUM_POLICY_TYPE".into(),
            message: format!("{} has no effective policy", ty.api_name()),
        });
    }
    if !s.root.enabled_policy_types.contains(&ty) {
        return Err(Error::PolicyTypeNotEnabled(format!(
            "{} is not enabled on the root",
            ty.api_name()
        )));
    }
    Ok(())
}

/// The levels of an account's path (root, OUs top-down, the account), each with the policies
/// of `ty` attached there.
fn levels(s: &State, account: &str, ty: PolicyType) -> Vec<Level> {
    let mut targets = vec![account.to_owned()];
    let mut cur = s.accounts.get(account).map(|a| a.parent.as_str());
    while let Some(id) = cur {
        targets.push(id.to_owned());
        cur = s.ous.get(id).map(|o| o.parent.as_str());
    }
    targets.reverse();
    targets
        .into_iter()
        .map(|t| Level {
            policies: s
                .policies
                .values()
                .filter(|p| p.info.policy_type == ty && p.targets.contains(&t))
                .filter_map(|p| {
                    let document = serde_json::from_str(&p.content).ok()?;
                    Some(Attached {
                        name: p.info.id.clone(),
                        document,
                    })
                })
                .collect(),
            target: t,
        })
        .collect()
}

fn code(p: &Problem) -> Option<&'static str> {
    Some(match p {
        Problem::NotAllowed(_) => "OPERATOR_NOT_ALLOWED_BY_PARENT",
        Problem::NotMultiValued(_) => "OPERATOR_NEEDS_A_LIST_SETTING",
        Problem::NotAList(_) | Problem::UnknownOperator(_) | Problem::BadChildControl(_) => {
            "MALFORMED_OPERATOR"
        }
        Problem::NotAnObject => "MALFORMED_POLICY",
        // The first policy attached wins; AWS does not call that invalid.
        Problem::ConflictAtLevel { .. } => return None,
    })
}

/// The validation errors of an account's effective policy, or `None` when no policy of the
/// type applies to it (AWS: EffectivePolicyNotFoundException).
fn errors(s: &State, account: &str, ty: PolicyType) -> Option<Vec<EffectivePolicyError>> {
    let levels = levels(s, account, ty);
    let all: Vec<String> = levels
        .iter()
        .flat_map(|l| l.policies.iter().map(|p| p.name.clone()))
        .collect();
    if all.is_empty() {
        return None;
    }
    let eff = effective(&levels);
    let mut out: Vec<EffectivePolicyError> = eff
        .findings
        .iter()
        .filter_map(|f| {
            Some(EffectivePolicyError {
                code: code(&f.problem)?.to_owned(),
                message: f.problem.to_string(),
                path: f.path.clone(),
                contributing_policies: vec![f.policy.clone()],
            })
        })
        .collect();
    for f in lint::lint(&eff.document, ty, &LintContext::default()) {
        if f.severity == Severity::Error {
            out.push(EffectivePolicyError {
                code: "INVALID_EFFECTIVE_POLICY".into(),
                message: f.message,
                path: String::new(),
                contributing_policies: all.clone(),
            });
        }
    }
    Some(out)
}

impl FakeOrg {
    pub(super) async fn disable_type(&self, root_id: &str, ty: PolicyType) -> Result<()> {
        self.pace("DisablePolicyType").await?;
        self.write(|| {
            let mut s = self.lock();
            if root_id != s.root.id {
                return Err(not_found("RootNotFoundException", root_id));
            }
            if !s.root.enabled_policy_types.contains(&ty) {
                return Err(Error::PolicyTypeNotEnabled(format!(
                    "{} is not enabled on the root",
                    ty.api_name()
                )));
            }
            s.root.enabled_policy_types.retain(|t| *t != ty);
            // AWS detaches every policy of the type from every root, OU and account.
            for p in s.policies.values_mut() {
                if p.info.policy_type == ty {
                    p.targets.clear();
                }
            }
            Ok(())
        })
    }

    pub(super) async fn invalid_accounts(&self, ty: PolicyType) -> Result<Vec<AccountInfo>> {
        const OP: &str = "ListAccountsWithInvalidEffectivePolicy";
        self.pace(OP).await?;
        let out: Vec<AccountInfo> = {
            let s = self.lock();
            check_type(&s, ty)?;
            s.accounts
                .iter()
                .filter(|(id, _)| errors(&s, id, ty).is_some_and(|e| !e.is_empty()))
                .map(|(_, a)| a.info.clone())
                .collect()
        };
        self.more_pages(OP, out.len()).await?;
        Ok(out)
    }

    pub(super) async fn validation_errors(
        &self,
        account_id: &str,
        ty: PolicyType,
    ) -> Result<Vec<EffectivePolicyError>> {
        const OP: &str = "ListEffectivePolicyValidationErrors";
        self.pace(OP).await?;
        let out = {
            let s = self.lock();
            check_type(&s, ty)?;
            if !s.accounts.contains_key(account_id) {
                return Err(not_found("AccountNotFoundException", account_id));
            }
            errors(&s, account_id, ty).ok_or_else(|| Error::NotFound {
                code: "EffectivePolicyNotFoundException".into(),
                message: format!("{account_id} has no effective {}", ty.api_name()),
            })?
        };
        self.more_pages(OP, out.len()).await?;
        Ok(out)
    }
}
