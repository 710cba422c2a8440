//! The question as a Boolean formula over atoms: "new allows, old denies" in the evaluator's
//! terms (an explicit Deny anywhere wins, otherwise an Allow is needed at every level of
//! both layers; the management account and service-linked roles are exempt; RCPs never see
//! `kms:RetireGrant`).
//!
//! An atom is one statement part that reads one request variable: the action (patterns
//! lower-cased, as the evaluator matches them), the resource (`Resource` or `NotResource`,
//! true when the request names no resource), or one condition on one key. Atoms are
//! interned by their source form, so a statement kept by both sides shares its atoms and
//! "must match" against "must not match" is a conflict at once.
//!
//! Policy variables are replaced before anything is matched: `${aws:PrincipalAccount}` and
//! `${aws:ResourceAccount}` by the account, the organization's keys by its id and path when
//! [`Constants`] know them. Those keys are then pinned to that value in every request
//! considered. Any other variable is pinned to a sample value; the atoms that read it are
//! marked approximate, so a search that leans on them cannot prove.

use std::collections::HashMap;

use super::Constants;
use crate::policy::eval::{
    resolve_resource, substitute, Actions, Base, Condition, Effect, Level, Operator, Path, Request,
    Resources, Statement,
};

/// A request variable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Var {
    Action,
    Resource,
    /// A condition key, lower-cased.
    Key(String),
}

#[derive(Debug, Clone)]
pub enum AtomKind {
    /// The lower-cased action matches one of these patterns.
    Action(Vec<String>),
    /// `Resource`: no resource, or one matching a (resolved) pattern.
    Resource(Vec<String>),
    /// `NotResource`: no resource, or one matching none of the patterns.
    NotResource(Vec<String>),
    /// A condition with its policy variables replaced.
    Cond(Condition),
}

#[derive(Debug, Clone)]
pub struct Atom {
    pub var: Var,
    pub kind: AtomKind,
    /// Why this atom's encoding is not exact.
    pub approx: Option<String>,
    /// The first statement it came from, `policy/Sid` (empty for the exemption atoms).
    pub at: String,
}

/// A formula in negation normal form over atom literals.
#[derive(Debug, Clone)]
pub enum F {
    Lit(usize, bool),
    And(Vec<F>),
    Or(Vec<F>),
}

/// The key SCPs read for the exemption of service-linked roles.
pub const PRINCIPAL_ARN: &str = "aws:principalarn";

/// Builds formulas, interning atoms.
pub struct Compiler {
    pub atoms: Vec<Atom>,
    index: HashMap<String, usize>,
    /// Pinned keys (lower-cased) and their values, with whether the pin is exact.
    pub pins: Vec<(String, String, bool)>,
    pin_request: Request,
}

fn variables(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !matches!(name, "*" | "?" | "$") {
            let key = name.split(',').next().unwrap_or(name).trim();
            out.push(key.to_ascii_lowercase());
        }
        rest = &after[end + 1..];
    }
    out
}

/// The part of a Resource pattern where IAM resolves variables.
fn resource_tail(p: &str) -> &str {
    let parts: Vec<&str> = p.splitn(6, ':').collect();
    if parts.len() == 6 {
        parts[5]
    } else {
        ""
    }
}

fn statements(path: &Path) -> impl Iterator<Item = (&str, &Statement)> {
    path.scp
        .iter()
        .chain(&path.rcp)
        .flat_map(|l| &l.policies)
        .flat_map(|p| {
            p.policy
                .statements
                .iter()
                .map(move |s| (p.name.as_str(), s))
        })
}

impl Compiler {
    pub fn new(sides: [&Path; 2], k: &Constants) -> Compiler {
        let mut keys: Vec<String> = Vec::new();
        for (_, s) in sides.into_iter().flat_map(statements) {
            if let Resources::Resource(p) | Resources::NotResource(p) = &s.resources {
                keys.extend(p.iter().flat_map(|p| variables(resource_tail(p))));
            }
            for c in &s.conditions {
                keys.extend(c.values.iter().flat_map(|v| variables(v)));
            }
        }
        keys.sort();
        keys.dedup();
        let mut pins = Vec::new();
        let mut pin_request = Request::default();
        for key in keys {
            // The value the key resolves to, and whether that value is the only one.
            let (known, decided) = match key.as_str() {
                "aws:principalaccount" | "aws:resourceaccount" => {
                    (Some(k.account_id.clone()), !k.account_shared)
                }
                "aws:principalorgid" | "aws:resourceorgid" => (k.org_id.clone(), true),
                "aws:principalorgpaths" | "aws:resourceorgpaths" if k.org_paths.len() == 1 => {
                    (Some(k.org_paths[0].clone()), true)
                }
                _ => (None, false),
            };
            let exact = decided && known.is_some();
            let value = known.unwrap_or_else(|| "example".to_owned());
            pin_request = pin_request.set(&key, vec![value.clone()]);
            pins.push((key, value, exact));
        }
        Compiler {
            atoms: Vec::new(),
            index: HashMap::new(),
            pins,
            pin_request,
        }
    }

    fn pin_approx(&self, names: &[String]) -> Option<String> {
        names.iter().find_map(|n| {
            self.pins
                .iter()
                .any(|(k, _, exact)| k == n && !exact)
                .then(|| format!("policy variable ${{{n}}}"))
        })
    }

    fn intern(&mut self, source: String, make: impl FnOnce(&Self) -> Atom) -> usize {
        if let Some(&i) = self.index.get(&source) {
            return i;
        }
        let atom = make(self);
        self.atoms.push(atom);
        self.index.insert(source, self.atoms.len() - 1);
        self.atoms.len() - 1
    }

    /// "The statement applies" (effect aside); `None` when it never does.
    fn matches(&mut self, policy: &str, s: &Statement) -> Option<F> {
        let at = format!("{policy}/{}", s.name);
        let mut lits = Vec::new();
        let (pats, want) = match &s.actions {
            Actions::Action(p) => (p, true),
            Actions::NotAction(p) => (p, false),
            Actions::Missing => return None,
        };
        let a = self.intern(format!("action {pats:?}"), |_| Atom {
            var: Var::Action,
            kind: AtomKind::Action(pats.clone()),
            approx: None,
            at: at.clone(),
        });
        lits.push(F::Lit(a, want));
        if let Resources::Resource(p) | Resources::NotResource(p) = &s.resources {
            let not = matches!(s.resources, Resources::NotResource(_));
            let r = self.intern(format!("resource {not} {p:?}"), |me| {
                me.resource_atom(p, not, &at)
            });
            lits.push(F::Lit(r, true));
        }
        for c in &s.conditions {
            let i = self.intern(format!("cond {c:?}"), |me| me.condition_atom(c, &at));
            lits.push(F::Lit(i, true));
        }
        Some(F::And(lits))
    }

    fn resource_atom(&self, p: &[String], not: bool, at: &str) -> Atom {
        let names: Vec<String> = p.iter().flat_map(|p| variables(resource_tail(p))).collect();
        let mut approx = self.pin_approx(&names);
        let resolved: Vec<String> = p
            .iter()
            .filter_map(|pat| {
                let r = resolve_resource(pat, &self.pin_request);
                if r.is_none() {
                    approx = Some("a malformed policy variable".into());
                }
                r
            })
            .collect();
        Atom {
            var: Var::Resource,
            kind: if not {
                AtomKind::NotResource(resolved)
            } else {
                AtomKind::Resource(resolved)
            },
            approx,
            at: at.to_owned(),
        }
    }

    fn condition_atom(&self, c: &Condition, at: &str) -> Atom {
        let key = c.key.to_ascii_lowercase();
        let names: Vec<String> = c.values.iter().flat_map(|v| variables(v)).collect();
        let mut approx = self
            .pin_approx(&names)
            .or_else(|| self.pin_approx(std::slice::from_ref(&key)));
        let values: Vec<String> = c
            .values
            .iter()
            .filter_map(|v| substitute(v, &self.pin_request))
            .collect();
        if values.len() != c.values.len() || values.iter().any(|v| v.contains("${")) {
            approx = Some("a malformed policy variable".into());
        }
        if c.op
            .is_some_and(|o| o.set.is_none() && o.base != Base::Null)
            && c.multivalued
        {
            approx = Some(format!(
                "a single-valued operator on the multivalued key {}",
                c.key
            ));
        }
        Atom {
            var: Var::Key(key),
            kind: AtomKind::Cond(Condition {
                values,
                ..c.clone()
            }),
            approx,
            at: at.to_owned(),
        }
    }

    /// An atom on the action alone: it is `kms:RetireGrant`.
    pub fn retire_grant(&mut self) -> usize {
        let p = vec!["kms:retiregrant".to_owned()];
        self.intern("retire-grant".into(), |_| Atom {
            var: Var::Action,
            kind: AtomKind::Action(p),
            approx: None,
            at: String::new(),
        })
    }

    /// An atom on `aws:PrincipalArn` alone: the caller is a service-linked role (one value,
    /// whose resource part starts `role/aws-service-role/`, as `Principal` reads it).
    pub fn service_linked(&mut self) -> usize {
        let c = Condition {
            op: Some(Operator {
                set: None,
                base: Base::ArnLike,
                if_exists: false,
            }),
            key: PRINCIPAL_ARN.into(),
            values: vec!["*:*:*:*:*:role/aws-service-role/*".into()],
            multivalued: false,
        };
        self.intern("service-linked".into(), |_| Atom {
            var: Var::Key(PRINCIPAL_ARN.into()),
            kind: AtomKind::Cond(c),
            approx: None,
            at: String::new(),
        })
    }

    fn with_effect<'a>(
        levels: &[&'a Level],
        effect: Effect,
    ) -> impl Iterator<Item = (&'a str, &'a Statement)> {
        let levels: Vec<&'a Level> = levels.to_vec();
        levels
            .into_iter()
            .flat_map(|l| &l.policies)
            .flat_map(|p| {
                p.policy
                    .statements
                    .iter()
                    .map(move |s| (p.name.as_str(), s))
            })
            .filter(move |(_, s)| s.effect == effect)
    }

    /// The request is allowed through these levels (no Deny matches; an Allow at each).
    pub fn allowed(&mut self, levels: &[&Level]) -> F {
        let mut all = Vec::new();
        for (p, s) in Self::with_effect(levels, Effect::Deny) {
            if let Some(m) = self.matches(p, s) {
                all.push(negate(m));
            }
        }
        for l in levels {
            let level = std::slice::from_ref(l);
            let any: Vec<F> = Self::with_effect(level, Effect::Allow)
                .filter_map(|(p, s)| self.matches(p, s))
                .collect();
            all.push(F::Or(any));
        }
        F::And(all)
    }

    /// The request is denied through these levels (a Deny matches, or a level has no Allow).
    pub fn denied(&mut self, levels: &[&Level]) -> F {
        let mut any = Vec::new();
        for (p, s) in Self::with_effect(levels, Effect::Deny) {
            any.extend(self.matches(p, s));
        }
        for l in levels {
            let level = std::slice::from_ref(l);
            let none: Vec<F> = Self::with_effect(level, Effect::Allow)
                .filter_map(|(p, s)| self.matches(p, s))
                .map(negate)
                .collect();
            any.push(F::And(none));
        }
        F::Or(any)
    }
}

/// Negation normal form of "not f".
pub fn negate(f: F) -> F {
    match f {
        F::Lit(a, v) => F::Lit(a, !v),
        F::And(xs) => F::Or(xs.into_iter().map(negate).collect()),
        F::Or(xs) => F::And(xs.into_iter().map(negate).collect()),
    }
}
