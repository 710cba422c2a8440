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
    /// For each statement (by index) of a compiled policy, the guardrails' own statements it
    /// merges (`compile::origins`); empty when unknown.
    pub origins: Vec<Vec<Origin>>,
}

/// One guardrail statement a compiled statement came from, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    pub guardrail: String,
    /// The Sid as the guardrail's template wrote it.
    pub sid: String,
    pub statement: Statement,
}

impl EvalPolicy {
    /// Parses `document` once.
    pub fn new(name: &str, document: &Value, guardrails: Vec<Option<String>>) -> EvalPolicy {
        EvalPolicy {
            name: name.to_owned(),
            policy: Policy::parse(document),
            guardrails,
            origins: Vec::new(),
        }
    }

    /// Adds, per statement, the (guardrail, Sid, statement) triples it was compiled from, so
    /// a Deny by a merged statement names the guardrail statement that matched.
    pub fn with_origins(mut self, origins: Vec<Vec<(String, String, Value)>>) -> EvalPolicy {
        self.origins = origins
            .into_iter()
            .map(|os| {
                os.into_iter()
                    .enumerate()
                    .map(|(i, (guardrail, sid, s))| Origin {
                        statement: Statement::parse(&s, i),
                        guardrail,
                        sid,
                    })
                    .collect()
            })
            .collect();
        self
    }

    /// Who decided by statement `i` on this request: its guardrail, and, for a statement
    /// that merges several guardrail statements, the guardrail(s) and Sid(s) of those that
    /// match the request.
    fn attribute(&self, i: usize, req: &Request) -> (Option<String>, Option<String>) {
        let compiled = self.guardrails.get(i).cloned().flatten();
        let origins = self.origins.get(i).map_or(&[][..], Vec::as_slice);
        if origins.len() < 2 {
            return (compiled, None);
        }
        let (mut gs, mut sids): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
        for o in origins.iter().filter(|o| o.statement.matches(req)) {
            if !gs.contains(&o.guardrail.as_str()) {
                gs.push(&o.guardrail);
            }
            if !sids.contains(&o.sid.as_str()) {
                sids.push(&o.sid);
            }
        }
        if gs.is_empty() {
            return (compiled, None);
        }
        (Some(gs.join(", ")), Some(sids.join(", ")))
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
    /// When the statement merges several guardrail statements (compiled policies merge those
    /// that differ only in `Action`): the Sid(s), as the template wrote them, of those that
    /// match the request.
    pub origin: Option<String>,
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
                    let (guardrail, origin) = p.attribute(i, req);
                    return Some(Decider {
                        layer,
                        level: level.name.clone(),
                        policy: p.name.clone(),
                        guardrail,
                        statement: s.name.clone(),
                        origin,
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
