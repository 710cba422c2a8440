//! The access proof of a plan: does the change allow any request, anywhere in the
//! organization, that the organization denies today? Each account class the change touches
//! (`classes`) is decided by `policy::reason` on its example account, old path (live) against
//! new path (what will really be attached after the apply); the verdicts combine into one:
//! any NEW ACCESS wins, then any UNKNOWN, else PROVED; the counterexamples shown are taken
//! from the classes with new access in turn. The reverse question (requests newly
//! denied) is summarised per class by the action patterns of the statements that deny them.
//!
//! Pure: paths from `plan::verify`, decisions from `policy::reason` and `policy::eval`. The
//! work is bounded by counted steps, never by a clock: one pool of [`TOTAL_STEPS`] for the
//! plan ([`StepPool`]), from which each class and direction gets a share and gives back what
//! it did not use, and at most [`MAX_CLASSES`] classes, so a plan's proof is the same on
//! every machine.

mod classes;

pub use classes::{same_meaning, Subject, FRESH_ACCOUNT_ID};

use crate::model::{Desired, LiveOrg};
use crate::plan::Change;
use crate::policy::eval::{self, Actions, Decision, Path, Request};
use crate::policy::reason::{self, catalogue_case, Budget, Unknown, Verdict};

/// Counterexamples shown at most, over every class.
pub const MAX_COUNTEREXAMPLES: usize = 10;
/// Search steps for one class and one direction, at most.
pub const CLASS_STEPS: u64 = 200_000;
/// Search steps for one class and one direction, at least (a smaller share is not worth
/// starting).
pub const MIN_CLASS_STEPS: u64 = 10_000;
/// Search steps for the whole plan, both directions: one pool the classes draw on in turn
/// ([`StepPool`]), so many classes each get less rather than the plan waiting longer. At the
/// worst case's cost per step (BENCHMARKS.md) the pool is a few seconds.
pub const TOTAL_STEPS: u64 = 8_000_000;
/// Classes decided at most; the others are reported as not decided.
pub const MAX_CLASSES: usize = 200;

/// The step budget of each class when `classes` are searched in both directions and each
/// spends its whole share (the first share [`StepPool`] gives).
pub fn class_steps(classes: usize) -> u64 {
    let searched = classes.clamp(1, MAX_CLASSES) as u64;
    (TOTAL_STEPS / (2 * searched)).clamp(MIN_CLASS_STEPS, CLASS_STEPS)
}

/// The plan's steps: [`TOTAL_STEPS`] shared by the searches still to run. Each search gets an
/// even share of what is left (at most [`CLASS_STEPS`], at least [`MIN_CLASS_STEPS`] while
/// the pool holds that much) and the pool is charged what it really used, so what a quick
/// class leaves goes to the classes after it. Counted, so the same on every machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepPool {
    pub left: u64,
    pub searches: u64,
}

impl StepPool {
    /// A pool for `classes` classes, each searched in both directions.
    pub fn new(classes: usize) -> StepPool {
        StepPool {
            left: TOTAL_STEPS,
            searches: 2 * classes.clamp(1, MAX_CLASSES) as u64,
        }
    }

    /// The next search's budget; `None` when the pool no longer holds [`MIN_CLASS_STEPS`].
    pub fn share(&self) -> Option<u64> {
        if self.left < MIN_CLASS_STEPS {
            return None;
        }
        let even = self.left / self.searches.max(1);
        Some(even.clamp(MIN_CLASS_STEPS, CLASS_STEPS))
    }

    /// Charges one search (searched or not) what it used.
    pub fn spend(&mut self, used: u64) {
        self.left = self.left.saturating_sub(used);
        self.searches = self.searches.saturating_sub(1);
    }
}

/// The combined answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofVerdict {
    /// No request is newly allowed in any class the change touches.
    Proved,
    /// At least one request is newly allowed.
    NewAccess,
    /// Some class could not be decided, and none has new access.
    Unknown,
}

impl ProofVerdict {
    /// The stable machine name (`proved`, `new_access`, `unknown`).
    pub fn name(self) -> &'static str {
        match self {
            ProofVerdict::Proved => "proved",
            ProofVerdict::NewAccess => "new_access",
            ProofVerdict::Unknown => "unknown",
        }
    }
}

/// A request the new policies allow and the old ones deny, replayed through the evaluator.
#[derive(Debug, Clone, PartialEq)]
pub struct Counterexample {
    /// The class's example (the request's account).
    pub subject: Subject,
    /// Real accounts in the class.
    pub accounts: usize,
    pub request: Request,
    /// The decision today: the statement (or the missing Allow) that no longer denies.
    pub old: Decision,
    pub new: Decision,
    /// Where a value could not be made concrete, and why (`policy::reason`'s notes).
    pub notes: Vec<String>,
}

/// Why a class got no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Undecided {
    /// The procedure's own reason (a construct outside its fragment, its step budget).
    Reason(Unknown),
    /// More classes than [`MAX_CLASSES`]: this one was not searched.
    TooManyClasses { limit: usize },
}

/// A class without an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct UndecidedClass {
    pub subject: Subject,
    pub accounts: usize,
    pub why: Undecided,
}

/// What some classes lose alike: the statements that newly deny, with their action patterns.
#[derive(Debug, Clone, PartialEq)]
pub struct DeniedPatterns {
    /// The first class's example.
    pub subject: Subject,
    /// Classes that lose exactly this, the real accounts and fresh-account OUs they stand for.
    pub classes: usize,
    pub accounts: usize,
    pub fresh_ous: usize,
    /// `(action patterns, what denies them)`, one per distinct denying statement.
    pub patterns: Vec<(Vec<String>, String)>,
    /// The search stopped early: there may be more.
    pub incomplete: Option<Undecided>,
}

/// The whole proof.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessProof {
    pub verdict: ProofVerdict,
    /// Touched classes, and the real accounts and fresh-account OUs they stand for.
    pub classes: usize,
    pub accounts: usize,
    pub fresh_ous: usize,
    /// Classes with new access (their counterexamples are capped, not this count).
    pub classes_with_new_access: usize,
    pub counterexamples: Vec<Counterexample>,
    pub undecided: Vec<UndecidedClass>,
    pub newly_denied: Vec<DeniedPatterns>,
}

/// Proves (or refutes) that `changes` grant no new access: `projected` is the desired state
/// as it will really be after the apply (`plan::projected`), `live` the organization now.
pub fn prove(changes: &[Change], projected: &Desired, live: &LiveOrg) -> AccessProof {
    let classes = classes::touched(changes, projected, live);
    let mut pool = StepPool::new(classes.len());
    let mut proof = AccessProof {
        verdict: ProofVerdict::Proved,
        classes: classes.len(),
        accounts: classes.iter().map(|c| c.accounts).sum(),
        fresh_ous: classes.iter().map(|c| c.fresh_ous).sum(),
        classes_with_new_access: 0,
        counterexamples: Vec::new(),
        undecided: Vec::new(),
        newly_denied: Vec::new(),
    };
    // Each class's counterexamples, shown in turn (`spread`).
    let mut found: Vec<Vec<Counterexample>> = Vec::new();
    for (i, class) in classes.iter().enumerate() {
        if i >= MAX_CLASSES {
            proof.undecided.push(UndecidedClass {
                subject: class.example.clone(),
                accounts: class.accounts,
                why: Undecided::TooManyClasses { limit: MAX_CLASSES },
            });
            continue;
        }
        if let Some(why) = &class.outside {
            // Not searched: the answer would not hold (`classes::Class::outside`).
            pool.spend(0);
            pool.spend(0);
            record_forward(&mut proof, class, Verdict::Unknown(why.clone()));
            if let Some(d) = denied_patterns(class, Verdict::Unknown(why.clone())) {
                merge_denied(&mut proof.newly_denied, d);
            }
            continue;
        }
        let forward = search(&mut pool, |b| {
            reason::new_access_with_stats(&class.old, &class.new, &class.constants, b)
        });
        if let Some(list) = record_forward(&mut proof, class, forward) {
            found.push(list);
        }
        let backward = search(&mut pool, |b| {
            reason::newly_denied_with_stats(&class.old, &class.new, &class.constants, b)
        });
        if let Some(d) = denied_patterns(class, backward) {
            merge_denied(&mut proof.newly_denied, d);
        }
    }
    proof.counterexamples = spread(found, MAX_COUNTEREXAMPLES);
    proof.verdict = if proof.classes_with_new_access > 0 {
        ProofVerdict::NewAccess
    } else if !proof.undecided.is_empty() {
        ProofVerdict::Unknown
    } else {
        ProofVerdict::Proved
    };
    proof
}

/// One search on the pool's next share, charged what it used; out of budget when the pool
/// is spent.
fn search(pool: &mut StepPool, run: impl FnOnce(Budget) -> (Verdict, u64)) -> Verdict {
    let Some(max_steps) = pool.share() else {
        pool.spend(0);
        return Verdict::Unknown(Unknown::Budget);
    };
    let (verdict, used) = run(Budget {
        max_steps,
        max_witnesses: MAX_COUNTEREXAMPLES,
    });
    pool.spend(used);
    verdict
}

/// Records a class's forward verdict; its counterexamples (at most [`MAX_COUNTEREXAMPLES`])
/// when it has new access.
fn record_forward(
    proof: &mut AccessProof,
    class: &classes::Class,
    verdict: Verdict,
) -> Option<Vec<Counterexample>> {
    match verdict {
        Verdict::Proved => None,
        Verdict::NewAccess(witnesses) => {
            proof.classes_with_new_access += 1;
            let list = witnesses
                .into_iter()
                .take(MAX_COUNTEREXAMPLES)
                .map(|w| {
                    // The decisions are taken again from the evaluator, so what is shown is
                    // what `explain` says.
                    let old = eval::decide(&class.old, &w.request);
                    let new = eval::decide(&class.new, &w.request);
                    Counterexample {
                        subject: class.example.clone(),
                        accounts: class.accounts,
                        request: w.request,
                        old,
                        new,
                        notes: w.notes,
                    }
                })
                .collect();
            Some(list)
        }
        Verdict::Unknown(u) => {
            proof.undecided.push(UndecidedClass {
                subject: class.example.clone(),
                accounts: class.accounts,
                why: Undecided::Reason(u),
            });
            None
        }
    }
}

/// At most `max` counterexamples, taken from the classes in turn (each class's first, then
/// each class's second, ...), so the ones shown name as many classes as they can.
fn spread(found: Vec<Vec<Counterexample>>, max: usize) -> Vec<Counterexample> {
    let mut lists: Vec<std::vec::IntoIter<Counterexample>> =
        found.into_iter().map(Vec::into_iter).collect();
    let mut out = Vec::new();
    while out.len() < max {
        let before = out.len();
        for list in &mut lists {
            if out.len() >= max {
                break;
            }
            if let Some(c) = list.next() {
                out.push(c);
            }
        }
        if out.len() == before {
            break;
        }
    }
    out
}

/// Classes that lose the same patterns are told once.
fn merge_denied(all: &mut Vec<DeniedPatterns>, d: DeniedPatterns) {
    match all
        .iter_mut()
        .find(|o| o.patterns == d.patterns && o.incomplete == d.incomplete)
    {
        Some(o) => {
            o.classes += d.classes;
            o.accounts += d.accounts;
            o.fresh_ous += d.fresh_ous;
        }
        None => all.push(d),
    }
}

/// The reverse direction for one class: `None` when nothing is newly denied.
fn denied_patterns(class: &classes::Class, verdict: Verdict) -> Option<DeniedPatterns> {
    let (witnesses, incomplete) = match verdict {
        Verdict::Proved => return None,
        Verdict::NewAccess(w) => (w, None),
        Verdict::Unknown(u) => (Vec::new(), Some(Undecided::Reason(u))),
    };
    let mut patterns: Vec<(Vec<String>, String)> = Vec::new();
    for w in &witnesses {
        let decision = eval::decide(&class.new, &w.request);
        let actions = denying_actions(&class.new, &decision)
            .unwrap_or_else(|| vec![w.request.action.clone()]);
        let by = crate::plan::verify::describe_decision(&decision);
        match patterns.iter_mut().find(|(_, b)| *b == by) {
            Some((acts, _)) => {
                for a in actions {
                    if !acts.contains(&a) {
                        acts.push(a);
                    }
                }
            }
            None => patterns.push((actions, by)),
        }
    }
    Some(DeniedPatterns {
        subject: class.example.clone(),
        classes: 1,
        accounts: class.accounts,
        fresh_ous: class.fresh_ous,
        patterns,
        incomplete,
    })
}

/// The action patterns of the Deny statement that decided, in the IAM catalogue's casing
/// (`NotAction` ones prefixed with `all but`); `None` for a missing Allow.
fn denying_actions(path: &Path, decision: &Decision) -> Option<Vec<String>> {
    let Decision::Deny(by) = decision else {
        return None;
    };
    let levels = match by.layer {
        eval::Layer::Scp => &path.scp,
        eval::Layer::Rcp => &path.rcp,
    };
    let statement = levels
        .iter()
        .filter(|l| l.name == by.level)
        .flat_map(|l| &l.policies)
        .filter(|p| p.name == by.policy)
        .flat_map(|p| &p.policy.statements)
        .find(|s| s.name == by.statement)?;
    let cased = |a: &[String]| a.iter().map(|p| catalogue_case(p)).collect::<Vec<_>>();
    match &statement.actions {
        Actions::Action(a) => Some(cased(a)),
        Actions::NotAction(a) => Some(vec![format!("all but {}", cased(a).join(", "))]),
        Actions::Missing => None,
    }
}
