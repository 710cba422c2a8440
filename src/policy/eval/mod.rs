//! The offline evaluator: is a request denied in an account, by which layer, and by what?
//!
//! Two layers decide, as in AWS (../shared/reference/aws-rules.md §2, §3): the SCPs on the
//! calling principal's path and the RCPs on the resource owner's path (one account's path
//! carries both; [`Path::across`] joins the caller's SCPs to the owner's RCPs for a
//! cross-account request). Within a layer the levels are the root, each
//! OU on the path, then the account; an explicit Deny at any level wins, otherwise the request
//! needs an Allow at *every* level (RCPFullAWSAccess gives the RCP layer's Allow wherever
//! RCPs are enabled). Across layers an explicit Deny in either wins over an implicit one.
//! Neither layer applies to the management account or to service-linked roles.
//!
//! Policies are parsed once ([`Policy::parse`]) into typed statements; see `condition` for
//! the condition operators and `pattern` for wildcards, ARNs and policy variables.

mod condition;
mod pattern;
mod request;
mod statement;

use serde_json::Value;

pub use condition::{instant, parse_operator, Base, Condition, Operator, SetQualifier, OPERATORS};
pub use pattern::{arn_like, glob, resolve_resource, substitute};
pub use request::{Principal, PrincipalType, Request};
pub use statement::{Actions, Effect, Policy, Resources, Statement};

/// A policy at one level, parsed, with where each statement came from.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalPolicy {
    pub name: String,
    pub policy: Policy,
    /// For each statement (by index), the guardrail it came from, if any.
    pub guardrails: Vec<Option<String>>,
}

impl EvalPolicy {
    /// Parses `document` once.
    pub fn new(name: &str, document: &Value, guardrails: Vec<Option<String>>) -> EvalPolicy {
        EvalPolicy {
            name: name.to_owned(),
            policy: Policy::parse(document),
            guardrails,
        }
    }

    /// AWS's `FullAWSAccess` / `RCPFullAWSAccess`: one statement allowing everything.
    pub fn allow_all(name: &str) -> EvalPolicy {
        EvalPolicy::new(
            name,
            &serde_json::json!({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}),
            vec![None],
        )
    }
}

/// One level of the path: the root, an OU, the account.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// `root`, `ou Workloads/Prod`, `account 210987654321`.
    pub name: String,
    pub policies: Vec<EvalPolicy>,
}

/// The policy layer that decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    Scp,
    Rcp,
}

impl Layer {
    pub fn name(self) -> &'static str {
        match self {
            Layer::Scp => "SCP",
            Layer::Rcp => "RCP",
        }
    }
}

/// An account's path in both layers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Path {
    pub scp: Vec<Level>,
    pub rcp: Vec<Level>,
    /// The management account: neither layer applies.
    pub management: bool,
}

impl Path {
    /// The path of a request whose caller and resource may sit in different accounts: the SCP
    /// layer of the caller's account and the RCP layer of the resource owner's. `None` is an
    /// account outside the organization, whose layer does not apply (SCPs bind only the
    /// organization's principals, RCPs only its resources); the management account's layer
    /// does not apply either. Exempt (`management`) when neither layer applies and one of the
    /// two is the management account; `None` when neither account is in the organization.
    /// For one account, `across(Some(p), Some(p))` is `p`.
    pub fn across(caller: Option<&Path>, owner: Option<&Path>) -> Option<Path> {
        if caller.is_none() && owner.is_none() {
            return None;
        }
        let (scp, rcp) = (
            caller.filter(|p| !p.management),
            owner.filter(|p| !p.management),
        );
        Some(Path {
            management: scp.is_none() && rcp.is_none(),
            scp: scp.map(|p| p.scp.clone()).unwrap_or_default(),
            rcp: rcp.map(|p| p.rcp.clone()).unwrap_or_default(),
        })
    }
}

/// The statement that decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decider {
    pub layer: Layer,
    pub level: String,
    pub policy: String,
    pub guardrail: Option<String>,
    /// The statement's Sid, or `#N` (1-based) when it has none.
    pub statement: String,
}

/// Why neither layer applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exemption {
    ManagementAccount,
    ServiceLinkedRole,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// SCPs and RCPs do not apply at all.
    NotAffected(Exemption),
    /// An explicit Deny.
    Deny(Decider),
    /// No policy of this layer at this level allows the request.
    NoAllow {
        layer: Layer,
        level: String,
    },
}

impl Decision {
    pub fn is_denied(&self) -> bool {
        matches!(self, Decision::Deny(_) | Decision::NoAllow { .. })
    }
}

/// The first explicit Deny down a layer's levels.
fn explicit_deny(layer: Layer, levels: &[Level], req: &Request) -> Option<Decider> {
    for level in levels {
        for p in &level.policies {
            for (i, s) in p.policy.statements.iter().enumerate() {
                if s.effect == Effect::Deny && s.matches(req) {
                    return Some(Decider {
                        layer,
                        level: level.name.clone(),
                        policy: p.name.clone(),
                        guardrail: p.guardrails.get(i).cloned().flatten(),
                        statement: s.name.clone(),
                    });
                }
            }
        }
    }
    None
}

/// The first level of a layer where nothing allows the request.
fn missing_allow<'a>(levels: &'a [Level], req: &Request) -> Option<&'a Level> {
    levels.iter().find(|level| {
        !level.policies.iter().any(|p| {
            p.policy
                .statements
                .iter()
                .any(|s| s.effect == Effect::Allow && s.matches(req))
        })
    })
}

/// Evaluates a request down one layer's levels (SCP semantics).
pub fn evaluate(levels: &[Level], req: &Request) -> Decision {
    evaluate_layer(Layer::Scp, levels, req)
}

fn evaluate_layer(layer: Layer, levels: &[Level], req: &Request) -> Decision {
    if let Some(d) = explicit_deny(layer, levels, req) {
        return Decision::Deny(d);
    }
    match missing_allow(levels, req) {
        Some(l) => Decision::NoAllow {
            layer,
            level: l.name.clone(),
        },
        None => Decision::Allow,
    }
}

/// Evaluates a request on an account's SCP and RCP layers together.
pub fn decide(path: &Path, req: &Request) -> Decision {
    if path.management {
        return Decision::NotAffected(Exemption::ManagementAccount);
    }
    if req.caller().is_some_and(|p| p.is_service_linked_role()) {
        return Decision::NotAffected(Exemption::ServiceLinkedRole);
    }
    // RCPs never apply to kms:RetireGrant (AWS's RCP page).
    let rcp: &[Level] = if req.action.eq_ignore_ascii_case("kms:RetireGrant") {
        &[]
    } else {
        &path.rcp
    };
    let layers = [(Layer::Scp, path.scp.as_slice()), (Layer::Rcp, rcp)];
    for (layer, levels) in layers {
        if let Some(d) = explicit_deny(layer, levels, req) {
            return Decision::Deny(d);
        }
    }
    for (layer, levels) in layers {
        if let Some(l) = missing_allow(levels, req) {
            return Decision::NoAllow {
                layer,
                level: l.name.clone(),
            };
        }
    }
    Decision::Allow
}

/// Whether a parsed statement applies to a request (effect aside); parses `s` first.
pub fn statement_matches(s: &Value, req: &Request) -> bool {
    Statement::parse(s, 0).matches(req)
}

#[cfg(test)]
mod tests;
