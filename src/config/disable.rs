//! `[organization] disable_policy_types`: the policy types the plan disables on the root.
//!
//! guardrail enables a type the config uses and otherwise leaves the root's types alone; this
//! list is the one way to say "turn this type off". Each entry is checked here, with file,
//! line and key: an unknown type, SCPs (disabling them would leave every account with no SCP
//! guardrail at all, and AWS then lets everything through: out of scope), a type the config
//! still uses (its policies or guardrails, or an AWS-managed policy of the type on a target),
//! and an entry written twice. Whether unmanaged policies of the type are attached is a live
//! question: the plan answers it (`plan::disable`).

use toml_edit::TableLike;

use super::error::ErrorKind;
use super::parse::Walker;
use crate::model::{Desired, PolicyType};

const KEY: &str = "organization.disable_policy_types";

impl Walker<'_> {
    /// Reads `disable_policy_types` into `d`. Runs after the guardrails are compiled, so a
    /// type used only through a guardrail is seen.
    pub(super) fn disabled_types(&mut self, top: &dyn TableLike, d: &mut Desired) {
        let Some(org) = top.get("organization").and_then(|i| i.as_table_like()) else {
            return;
        };
        for (name, span) in self.string_list(org, "disable_policy_types", "organization") {
            let Some(ty) = PolicyType::from_config(&name) else {
                self.err_help(
                    ErrorKind::InvalidValue,
                    span,
                    KEY,
                    format!("unknown policy type `{name}`"),
                    "use an Organizations policy type such as \"TAG_POLICY\", or \"rcp\"",
                );
                continue;
            };
            if ty == PolicyType::ServiceControlPolicy {
                self.err(
                    ErrorKind::InvalidValue,
                    span,
                    KEY,
                    "service control policies cannot be disabled by guardrail: without them \
                     no SCP guardrail applies to any account; disable them by hand if you \
                     really mean it",
                );
                continue;
            }
            if let Some(user) = user_of(d, ty) {
                self.err_help(
                    ErrorKind::InvalidValue,
                    span,
                    KEY,
                    format!("the config still uses {}: {user}", ty.api_name()),
                    format!(
                        "remove every {} policy, guardrail and attachment from the config, \
                         or drop it from disable_policy_types",
                        ty.api_name()
                    ),
                );
                continue;
            }
            if !d.disable_policy_types.insert(ty) {
                self.err(
                    ErrorKind::Duplicate,
                    span,
                    KEY,
                    format!("{} is listed twice", ty.api_name()),
                );
            }
        }
    }
}

/// Something in the config that uses `ty`, said the way the config writes it.
fn user_of(d: &Desired, ty: PolicyType) -> Option<String> {
    if let Some(p) = d.policies.values().find(|p| p.policy_type == ty) {
        return Some(format!("policy `{}`", p.name));
    }
    let listed_guardrails = std::iter::once(&d.root.guardrails)
        .chain(d.ous.values().map(|o| &o.guardrails))
        .chain(d.accounts.values().map(|a| &a.guardrails))
        .flatten();
    for g in listed_guardrails {
        if d.guardrails.get(g).is_some_and(|g| g.policy_type == ty) {
            return Some(format!("guardrail `{g}` (attached to a target)"));
        }
    }
    let listed = std::iter::once(&d.root.policies)
        .chain(d.ous.values().map(|o| &o.policies))
        .chain(d.accounts.values().map(|a| &a.policies))
        .flatten();
    for name in listed {
        if d.limits.aws_managed_type(name) == Some(ty) {
            return Some(format!("`{name}` in a target's `policies`"));
        }
    }
    None
}
