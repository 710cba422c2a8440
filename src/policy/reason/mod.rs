//! Automated reasoning over SCP/RCP changes: is there a request that the new policy set
//! allows and the old one denies, at one position in the organization?
//!
//! Pure: no IO. It works from the evaluator's typed form (`policy::eval`), never from the
//! JSON, and follows the evaluator's semantics: `formula` states the question as a Boolean
//! formula over atoms (one statement part reading one request variable), `search` walks its
//! disjunctions, `glob` and `domain` decide each variable (automata for strings, covering
//! candidates for numbers, dates and addresses), `values` makes counterexamples readable and
//! `concrete` makes them concrete (a catalogue action, a principal ARN in the account, a real
//! region, an ARN of the action's resource type). Every counterexample is replayed through
//! [`decide`] on both sides before it is reported.
//!
//! The fragment it decides, and what makes it answer UNKNOWN, is in docs/access-proof.md.

mod concrete;
mod domain;
mod formula;
mod glob;
mod search;
mod values;

use crate::policy::eval::{decide, Decision, Level, Path, Request};
use formula::{Compiler, Var, F};
use search::{Model, Search, Value};

pub use values::catalogue_case;

/// Constants fixed for one account class: policy variables that resolve to them are decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Constants {
    pub account_id: String,
    pub org_id: Option<String>,
    /// `aws:PrincipalOrgPaths` / `aws:ResourceOrgPaths` values for the position, if known.
    pub org_paths: Vec<String>,
    /// `account_id` stands for more than one account (a class of several, or an account that
    /// does not exist yet): a policy variable resolving to it is then approximate, not
    /// decided, since a policy may name the example's id literally and the others' not.
    pub account_shared: bool,
}

/// Search limits (deterministic: counted work, not wall time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub max_steps: u64,
    pub max_witnesses: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_steps: 200_000,
            max_witnesses: 10,
        }
    }
}

/// A request the new side allows and the old side denies, replayed through the evaluator.
#[derive(Debug, Clone, PartialEq)]
pub struct Witness {
    pub request: Request,
    pub old: Decision,
    pub new: Decision,
    /// Where a value could not be made concrete (the search's own value was kept), and why.
    pub notes: Vec<String>,
}

/// Why the procedure gave no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Unknown {
    /// A construct outside the decided fragment; `statement` is `policy/Sid`.
    Unsupported {
        construct: String,
        statement: String,
    },
    /// The search budget ran out.
    Budget,
}

/// The answer to "does the change grant new access?".
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Proved,
    NewAccess(Vec<Witness>),
    Unknown(Unknown),
}

fn levels(p: &Path, rcp: bool) -> Vec<&Level> {
    let rcps = if rcp { p.rcp.as_slice() } else { &[] };
    p.scp.iter().chain(rcps).collect()
}

/// "New allows and old denies", for requests with and without `kms:RetireGrant` (which
/// RCPs never see), by a caller that is not a service-linked role (exempt on both sides).
fn question(c: &mut Compiler, old: &Path, new: &Path) -> F {
    let retire = c.retire_grant();
    let slr = c.service_linked();
    let mut cases = Vec::new();
    for rcp in [true, false] {
        let allowed = if new.management {
            F::And(Vec::new())
        } else {
            c.allowed(&levels(new, rcp))
        };
        let denied = if old.management {
            F::Or(Vec::new())
        } else {
            c.denied(&levels(old, rcp))
        };
        cases.push(F::And(vec![
            F::Lit(retire, !rcp),
            F::Lit(slr, false),
            allowed,
            denied,
        ]));
    }
    F::Or(cases)
}

/// Is there a request that `new` allows and `old` denies, at one position?
pub fn new_access(old: &Path, new: &Path, constants: &Constants, budget: Budget) -> Verdict {
    new_access_with_stats(old, new, constants, budget).0
}

/// [`new_access`], and the steps it used: the search's and those spent making its
/// counterexamples concrete (at most a little over the budget, which is checked per step).
pub fn new_access_with_stats(
    old: &Path,
    new: &Path,
    constants: &Constants,
    budget: Budget,
) -> (Verdict, u64) {
    let mut c = Compiler::new([old, new], constants);
    let root = question(&mut c, old, new);
    let steps = glob::Steps {
        used: 0,
        max: budget.max_steps,
    };
    let want = budget.max_witnesses.max(1);
    let mut s = Search::new(&c.atoms, &c.pins, constants, steps, want);
    let exhausted = s.run(&root).is_err();
    let mut concrete = concrete::Concretizer::new(old, new, constants, budget.max_steps);
    let found = confirm(old, new, &s.models, &c.pins, &mut concrete);
    let used = s.steps.used.saturating_add(concrete.work);
    let verdict = match found {
        Err(bug) => Verdict::Unknown(bug),
        Ok(w) if !w.is_empty() => Verdict::NewAccess(w),
        Ok(_) => match s
            .approx
            .clone()
            .or(approx_models(old, new, &s.models, &c.pins))
        {
            Some((construct, statement)) => Verdict::Unknown(Unknown::Unsupported {
                construct,
                statement,
            }),
            None if exhausted => Verdict::Unknown(Unknown::Budget),
            None => Verdict::Proved,
        },
    };
    (verdict, used)
}

/// The models the evaluator confirms, made concrete; an error when it refutes an exact one.
fn confirm(
    old: &Path,
    new: &Path,
    models: &[Model],
    pins: &[(String, String, bool)],
    concrete: &mut concrete::Concretizer<'_>,
) -> Result<Vec<Witness>, Unknown> {
    let mut witnesses: Vec<Witness> = Vec::new();
    for m in models {
        let request = request(m, pins);
        let (o, n) = (decide(old, &request), decide(new, &request));
        if !n.is_denied() && o.is_denied() {
            let w = Witness {
                request,
                old: o,
                new: n,
                notes: Vec::new(),
            };
            let w = concrete.witness(&m.actions, w);
            if !witnesses.iter().any(|x| x.request == w.request) {
                witnesses.push(w);
            }
        } else if !m.approx {
            return Err(Unknown::Unsupported {
                construct: format!("internal error: the evaluator does not confirm {request:?}"),
                statement: String::new(),
            });
        }
    }
    Ok(witnesses)
}

/// "A counterexample on an approximation" when some approximate model did not replay.
fn approx_models(
    old: &Path,
    new: &Path,
    models: &[Model],
    pins: &[(String, String, bool)],
) -> Option<(String, String)> {
    models
        .iter()
        .filter(|m| m.approx)
        .any(|m| {
            let r = request(m, pins);
            decide(new, &r).is_denied() || !decide(old, &r).is_denied()
        })
        .then(|| ("a counterexample on an approximation".into(), String::new()))
}

/// The request a model stands for: its values, the pinned keys, and a region when nothing
/// reads one.
fn request(m: &Model, pins: &[(String, String, bool)]) -> Request {
    let mut r = Request::default();
    for (k, v, _) in pins {
        r = r.set(k, vec![v.clone()]);
    }
    for (var, v) in &m.values {
        match (var, v) {
            (Var::Action, Value::Action(a)) => r.action = values::canonical_action(a),
            (Var::Resource, Value::Resource(res)) => r.resource = res.clone(),
            (Var::Key(k), Value::Key(Some(vals))) => r = r.set(k, vals.clone()),
            (Var::Key(k), Value::Key(None)) => {
                r.context.remove(k);
            }
            _ => {}
        }
    }
    let region = Var::Key("aws:requestedregion".into());
    if !m.values.contains_key(&region) && r.values("aws:requestedregion").is_none() {
        r = r.region("us-east-1");
    }
    r
}

/// The reverse question, for the "newly denied" summary: requests `old` allows and `new` denies.
pub fn newly_denied(old: &Path, new: &Path, constants: &Constants, budget: Budget) -> Verdict {
    new_access(new, old, constants, budget)
}

/// [`newly_denied`], and the steps it used.
pub fn newly_denied_with_stats(
    old: &Path,
    new: &Path,
    constants: &Constants,
    budget: Budget,
) -> (Verdict, u64) {
    new_access_with_stats(new, old, constants, budget)
}

#[cfg(test)]
mod tests;
