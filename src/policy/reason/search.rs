//! The search: depth-first over the formula's disjunctions, literals collected per request
//! variable and checked against that variable's domain as they arrive.
//!
//! Each step takes every conjunct and literal on the agenda, then branches on the
//! disjunction with the fewest alternatives still open (an alternative is closed when one of
//! its literals contradicts the assignment), so a statement both sides keep cuts a branch
//! at once. Variables are independent (policy variables were pinned before), so a leaf's
//! per-variable values together make a request that satisfies the formula.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::domain::{solve_key, Found};
use super::formula::{Atom, AtomKind, Var, F};
use super::glob::{shortest, Exhausted, Lang, Nfa, Steps};
use super::values::{action_candidates, key_examples, resource_candidates};
use super::Constants;
use crate::policy::eval::{arn_like, glob, Condition, Request};

/// A variable's value in a model.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Action(String),
    Resource(Option<String>),
    Key(Option<Vec<String>>),
}

/// A satisfying assignment of the variables a leaf constrains.
#[derive(Debug, Clone)]
pub struct Model {
    pub values: BTreeMap<Var, Value>,
    /// The action's constraints: pattern lists (lower-cased) and whether the action must
    /// match one of them (for `concrete`, which picks a catalogue action inside them).
    pub actions: Vec<(Vec<String>, bool)>,
    /// Some literal in it reads an approximate atom.
    pub approx: bool,
}

type Lits = Vec<(usize, bool)>;

pub struct Search<'a> {
    atoms: &'a [Atom],
    pins: HashMap<String, (String, bool)>,
    constants: &'a Constants,
    pub steps: Steps,
    cache: HashMap<(Var, Lits), Option<Value>>,
    /// The first inexact reason a branch was cut: (construct, statement).
    pub approx: Option<(String, String)>,
    pub models: Vec<Model>,
    /// Stop after this many leaves.
    pub want: usize,
}

fn viable(f: &F, assign: &[i8]) -> (bool, bool) {
    let lit = |a: usize, v: bool| (assign[a] == 0, assign[a] == if v { 1 } else { -1 });
    match f {
        F::Lit(a, v) => {
            let (open, sat) = lit(*a, *v);
            (open || sat, sat)
        }
        F::And(xs) => {
            let mut sat = true;
            for x in xs {
                match x {
                    F::Lit(a, v) => {
                        let (open, s) = lit(*a, *v);
                        if !open && !s {
                            return (false, false);
                        }
                        sat &= s;
                    }
                    F::Or(ys) if ys.iter().all(|y| !viable(y, assign).0) => return (false, false),
                    _ => sat = false,
                }
            }
            (true, sat)
        }
        F::Or(ys) => {
            let vs: Vec<(bool, bool)> = ys.iter().map(|y| viable(y, assign)).collect();
            (vs.iter().any(|v| v.0), vs.iter().any(|v| v.1))
        }
    }
}

impl<'a> Search<'a> {
    pub fn new(
        atoms: &'a [Atom],
        pins: &[(String, String, bool)],
        constants: &'a Constants,
        steps: Steps,
        want: usize,
    ) -> Search<'a> {
        Search {
            atoms,
            pins: pins
                .iter()
                .map(|(k, v, exact)| (k.clone(), (v.clone(), *exact)))
                .collect(),
            constants,
            steps,
            cache: HashMap::new(),
            approx: None,
            models: Vec::new(),
            want,
        }
    }

    /// Searches for models of `root`, until `want` are found or the search is done.
    pub fn run(&mut self, root: &F) -> Result<(), Exhausted> {
        let assign = vec![0i8; self.atoms.len()];
        self.dfs(assign, vec![root]).map(|_| ())
    }

    /// Returns whether to stop.
    fn dfs(&mut self, mut assign: Vec<i8>, mut stack: Vec<&F>) -> Result<bool, Exhausted> {
        self.steps.tick(1)?;
        let mut ors = Vec::new();
        let mut touched = BTreeSet::new();
        while let Some(f) = stack.pop() {
            match f {
                F::Lit(a, v) => {
                    let s = if *v { 1 } else { -1 };
                    match assign[*a] {
                        0 => {
                            assign[*a] = s;
                            touched.insert(self.atoms[*a].var.clone());
                        }
                        x if x == s => {}
                        _ => return Ok(false),
                    }
                }
                F::And(xs) => stack.extend(xs),
                F::Or(_) => ors.push(f),
            }
        }
        for var in touched {
            if self.solve(&var, &assign)?.is_none() {
                return Ok(false);
            }
        }
        let mut open: Vec<(&F, Vec<&F>)> = Vec::new();
        for or in ors {
            let F::Or(alts) = or else { continue };
            let mut live = Vec::new();
            let mut done = false;
            for alt in alts {
                let (ok, sat) = viable(alt, &assign);
                done |= sat;
                if ok {
                    live.push(alt);
                }
            }
            if done {
                continue;
            }
            if live.is_empty() {
                return Ok(false);
            }
            open.push((or, live));
        }
        // The scan above was work too: one step per disjunction looked at.
        self.steps.tick(open.len() as u64)?;
        let Some(pick) = (0..open.len()).min_by_key(|&i| open[i].1.len()) else {
            return self.leaf(&assign);
        };
        let (_, alts) = open.swap_remove(pick);
        let rest: Vec<&F> = open.iter().map(|(or, _)| *or).collect();
        for alt in alts {
            let mut agenda = rest.clone();
            agenda.push(alt);
            if self.dfs(assign.clone(), agenda)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn leaf(&mut self, assign: &[i8]) -> Result<bool, Exhausted> {
        let mut values = BTreeMap::new();
        let mut approx = false;
        let vars: BTreeSet<Var> = (0..assign.len())
            .filter(|&a| assign[a] != 0)
            .map(|a| {
                approx |= self.atoms[a].approx.is_some();
                self.atoms[a].var.clone()
            })
            .collect();
        for var in vars {
            if let Some(v) = self.solve(&var, assign)? {
                values.insert(var, v);
            }
        }
        let lits = self.lits(&Var::Action, assign);
        let actions = patterns(self.atoms, &lits)
            .into_iter()
            .map(|(p, want)| (p.to_vec(), want))
            .collect();
        self.models.push(Model {
            values,
            actions,
            approx,
        });
        Ok(self.models.len() >= self.want)
    }

    fn lits(&self, var: &Var, assign: &[i8]) -> Lits {
        (0..assign.len())
            .filter(|&a| assign[a] != 0 && self.atoms[a].var == *var)
            .map(|a| (a, assign[a] > 0))
            .collect()
    }

    /// A value of `var` meeting every literal assigned on it (cached), or `None`.
    fn solve(&mut self, var: &Var, assign: &[i8]) -> Result<Option<Value>, Exhausted> {
        let lits = self.lits(var, assign);
        let key = (var.clone(), lits);
        if let Some(v) = self.cache.get(&key) {
            return Ok(v.clone());
        }
        let found = match var {
            Var::Action => self.action(&key.1)?,
            Var::Resource => self.resource(&key.1)?,
            Var::Key(k) => self.key(k, &key.1)?,
        };
        if found.value.is_none() {
            let inexact = key.1.iter().find_map(|(a, _)| {
                let atom = &self.atoms[*a];
                atom.approx.clone().map(|c| (c, atom.at.clone()))
            });
            let at = key.1.first().map(|(a, _)| self.atoms[*a].at.clone());
            let why = inexact.or_else(|| found.approx.map(|c| (c, at.unwrap_or_default())));
            self.approx = self.approx.take().or(why);
        }
        self.cache.insert(key, found.value.clone());
        Ok(found.value)
    }

    fn action(&mut self, lits: &Lits) -> Result<Found<Value>, Exhausted> {
        let pats = patterns(self.atoms, lits);
        let holds = |a: &str| pats.iter().all(|(p, w)| p.iter().any(|p| glob(p, a)) == *w);
        let all: Vec<&String> = pats.iter().flat_map(|(p, _)| p.iter()).collect();
        for c in action_candidates(&all) {
            self.steps.tick(1)?;
            if holds(&c) {
                return Ok(value(Value::Action(c)));
            }
        }
        let langs: Vec<(Lang, bool)> = pats
            .iter()
            .map(|(p, w)| (p.iter().map(|p| Nfa::glob(p)).collect(), *w))
            .collect();
        let v = self.strings(&langs, &holds)?;
        Ok(v.map(Value::Action))
    }

    fn resource(&mut self, lits: &Lits) -> Result<Found<Value>, Exhausted> {
        let pats = patterns(self.atoms, lits);
        let holds = |r: &str| {
            pats.iter()
                .all(|(p, w)| p.iter().any(|p| arn_like(p, r)) == *w)
        };
        let all: Vec<&String> = pats.iter().flat_map(|(p, _)| p.iter()).collect();
        for c in resource_candidates(&all) {
            self.steps.tick(1)?;
            if holds(&c) {
                return Ok(value(Value::Resource(Some(c))));
            }
        }
        if lits.iter().all(|(_, want)| *want) {
            return Ok(value(Value::Resource(None)));
        }
        let langs: Vec<(Lang, bool)> = pats
            .iter()
            .map(|(p, w)| (p.iter().filter_map(|p| Nfa::arn(p)).collect(), *w))
            .collect();
        let v = self.strings(&langs, &holds)?;
        Ok(v.map(|s| Value::Resource(Some(s))))
    }

    fn strings(
        &mut self,
        langs: &[(Lang, bool)],
        holds: &dyn Fn(&str) -> bool,
    ) -> Result<Found<String>, Exhausted> {
        let cons: Vec<(&Lang, bool)> = langs.iter().map(|(l, w)| (l, *w)).collect();
        match shortest(&cons, &mut self.steps)? {
            Some(s) if !holds(&s) => Ok(Found {
                value: None,
                approx: Some(format!(
                    "internal error: automaton and evaluator disagree on {s:?}"
                )),
            }),
            value => Ok(Found {
                value,
                approx: None,
            }),
        }
    }

    fn key(&mut self, key: &str, lits: &Lits) -> Result<Found<Value>, Exhausted> {
        let atoms = self.atoms;
        let conds: Vec<(&Condition, bool)> = lits
            .iter()
            .filter_map(|(a, want)| match &atoms[*a].kind {
                AtomKind::Cond(c) => Some((c, *want)),
                _ => None,
            })
            .collect();
        let check = |v: Option<&Vec<String>>| {
            let r = match v {
                Some(v) => Request::default().set(key, v.clone()),
                None => Request::default(),
            };
            conds.iter().all(|(c, want)| c.holds(&r) == *want)
        };
        if let Some((pin, exact)) = self.pins.get(key) {
            let v = vec![pin.clone()];
            return Ok(match check(Some(&v)) {
                true => value(Value::Key(Some(v))),
                false if *exact => Found::none(),
                false => Found {
                    value: None,
                    approx: Some(format!("policy variable ${{{key}}}")),
                },
            });
        }
        let prefer = key_examples(key, self.constants);
        let f = solve_key(&conds, &prefer, &mut self.steps)?;
        Ok(match f.value {
            Some(v) if !check(v.as_ref()) => Found {
                value: None,
                approx: Some(format!(
                    "internal error: key solver and evaluator disagree on {v:?}"
                )),
            },
            Some(v) => value(Value::Key(v)),
            None => Found {
                value: None,
                approx: f.approx,
            },
        })
    }
}

/// The pattern lists a variable's literals test, each with whether a value must match one:
/// a resource must match none of a `NotResource` list it is to pass.
fn patterns<'b>(atoms: &'b [Atom], lits: &Lits) -> Vec<(&'b [String], bool)> {
    lits.iter()
        .filter_map(|(a, want)| match &atoms[*a].kind {
            AtomKind::Action(p) | AtomKind::Resource(p) => Some((p.as_slice(), *want)),
            AtomKind::NotResource(p) => Some((p.as_slice(), !*want)),
            AtomKind::Cond(_) => None,
        })
        .collect()
}

fn value(v: Value) -> Found<Value> {
    Found {
        value: Some(v),
        approx: None,
    }
}
