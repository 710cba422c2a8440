//! The value domains of one condition key: which values (absent, one, several) satisfy a set
//! of conditions asserted true or false.
//!
//! Strings go through the automata of `glob`; numbers, dates and IP addresses through
//! candidate values that cover every region the policy's thresholds cut (each threshold,
//! the nearest values either side of it, no number at all; for IP addresses each policy
//! network, the start of every address range between them and a whole address family), so
//! trying them all is a decision, not a guess. Every candidate is checked with the
//! evaluator's own [`Condition::holds`].

use ipnet::IpNet;

use super::glob::{shortest, Exhausted, Lang, Nfa, Steps};
use crate::policy::eval::{instant, Base, Condition, Operator, Request, SetQualifier};

/// The evaluator's single-value test of a condition's operator, possibly negated.
#[derive(Debug, Clone)]
pub struct Pred {
    cond: Condition,
    flip: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Str,
    Num,
    Date,
    Ip,
}

fn family(b: Base) -> Family {
    use Base::*;
    match b {
        NumericEquals
        | NumericNotEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => Family::Num,
        DateEquals
        | DateNotEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => Family::Date,
        IpAddress | NotIpAddress => Family::Ip,
        _ => Family::Str,
    }
}

fn positive(b: Base) -> Base {
    use Base::*;
    match b {
        StringNotEquals => StringEquals,
        StringNotEqualsIgnoreCase => StringEqualsIgnoreCase,
        StringNotLike => StringLike,
        ArnNotEquals => ArnEquals,
        ArnNotLike => ArnLike,
        other => other,
    }
}

impl Pred {
    /// `one(v) == want` for the condition's operator and values.
    pub fn new(c: &Condition, base: Base, want: bool) -> Pred {
        let op = Operator {
            set: None,
            base,
            if_exists: false,
        };
        Pred {
            cond: Condition {
                op: Some(op),
                key: "k".into(),
                values: c.values.clone(),
                multivalued: false,
            },
            flip: !want,
        }
    }

    fn base(&self) -> Option<Base> {
        self.cond.op.map(|o| o.base)
    }

    pub fn holds(&self, v: &str) -> bool {
        self.cond
            .holds(&Request::default().set("k", vec![v.to_owned()]))
            != self.flip
    }

    /// The language of the positive operator, and whether a value must be in it.
    fn lang(&self) -> Result<(Lang, bool), String> {
        let Some(base) = self.base() else {
            return Err("unknown operator".into());
        };
        let vals = &self.cond.values;
        let lang: Lang = match positive(base) {
            Base::StringLike => vals.iter().map(|v| Nfa::glob(v)).collect(),
            Base::ArnEquals | Base::ArnLike => vals.iter().filter_map(|v| Nfa::arn(v)).collect(),
            Base::StringEqualsIgnoreCase => vals
                .iter()
                .map(|v| Nfa::ascii_ci(v, true))
                .collect::<Option<_>>()
                .ok_or("StringEqualsIgnoreCase on non-ASCII text")?,
            Base::Bool => vals
                .iter()
                .map(|v| Nfa::ascii_ci(v, false))
                .collect::<Option<_>>()
                .ok_or("Bool on non-ASCII text")?,
            _ => vals.iter().map(|v| Nfa::literal(v)).collect(),
        };
        Ok((lang, base.is_negated() == self.flip))
    }
}

/// A value found, or none; `approx` names what made "none" less than a proof.
#[derive(Debug, Clone)]
pub struct Found<T> {
    pub value: Option<T>,
    pub approx: Option<String>,
}

impl<T> Found<T> {
    /// Nothing found, exactly.
    pub fn none() -> Found<T> {
        Found {
            value: None,
            approx: None,
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Found<U> {
        Found {
            value: self.value.map(f),
            approx: self.approx,
        }
    }
}

fn num(s: &str) -> Option<f64> {
    s.trim().parse().ok()
}

/// The next larger double (`f64::next_up`, which needs a newer Rust than ours).
fn up(x: f64) -> f64 {
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x == 0.0 {
        return f64::from_bits(1);
    }
    let b = x.to_bits();
    f64::from_bits(if x > 0.0 { b + 1 } else { b - 1 })
}

fn down(x: f64) -> f64 {
    -up(-x)
}

fn around(points: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0];
    for &t in points.iter().filter(|t| !t.is_nan()) {
        out.extend([t, up(t), down(t)]);
    }
    out
}

fn numeric_candidates(preds: &[Pred]) -> Vec<String> {
    let ts: Vec<f64> = thresholds(preds, num);
    let mut out: Vec<String> = around(&ts).iter().map(|x| x.to_string()).collect();
    out.push("x".into());
    out
}

fn thresholds(preds: &[Pred], parse: fn(&str) -> Option<f64>) -> Vec<f64> {
    preds
        .iter()
        .flat_map(|p| p.cond.values.iter().filter_map(|v| parse(v)))
        .collect()
}

/// Dates as epoch seconds (the evaluator reads digits-and-dots as such); a threshold at or
/// before 1970 would need instants this notation cannot write.
fn date_candidates(preds: &[Pred]) -> (Vec<String>, Option<String>) {
    let ts = thresholds(preds, instant);
    let approx = ts
        .iter()
        .any(|t| *t <= 0.0 || !t.is_finite())
        .then(|| "a date at or before 1970-01-01".to_owned());
    let mut out: Vec<String> = preds.iter().flat_map(|p| p.cond.values.clone()).collect();
    out.extend(
        around(&ts)
            .iter()
            .filter(|x| **x >= 0.0 && x.is_finite())
            .map(|x| x.to_string()),
    );
    out.push("2026-01-01T00:00:00Z".into());
    out.push("x".into());
    (out, approx)
}

/// The evaluator's reading of an address or network.
fn network(s: &str) -> Option<IpNet> {
    let s = s.trim();
    s.parse::<IpNet>().ok().or_else(|| {
        let bits = if s.contains(':') { 128 } else { 32 };
        format!("{s}/{bits}").parse().ok()
    })
}

fn ip_candidates(preds: &[Pred]) -> Vec<String> {
    let mut out = vec!["192.0.2.1".to_owned(), "0.0.0.0".into(), "::".into()];
    for v in preds.iter().flat_map(|p| &p.cond.values) {
        if let Some(n) = network(v) {
            out.push(n.network().to_string());
            // `core::net`: the address types alone, no sockets (pure modules never reach the network).
            let after = match n.broadcast() {
                core::net::IpAddr::V4(a) => u32::from(a)
                    .checked_add(1)
                    .map(|x| core::net::Ipv4Addr::from(x).to_string()),
                core::net::IpAddr::V6(a) => u128::from(a)
                    .checked_add(1)
                    .map(|x| core::net::Ipv6Addr::from(x).to_string()),
            };
            out.extend(after);
        }
    }
    // A network value lies in exactly the policy networks that hold the smallest policy
    // network holding it, or in none (then a whole family stands for it).
    out.extend(preds.iter().flat_map(|p| p.cond.values.clone()));
    out.extend(["0.0.0.0/0".to_owned(), "::/0".into(), "x".into()]);
    out
}

fn instantiations(preds: &[Pred]) -> Vec<String> {
    let mut out = Vec::new();
    for v in preds.iter().flat_map(|p| &p.cond.values) {
        out.push(v.clone());
        out.push(v.replace('*', "").replace('?', "x"));
        out.push(v.replace('*', "example").replace('?', "x"));
    }
    out
}

/// A value satisfying every predicate, trying `prefer` first.
pub fn solve_value(
    preds: &[Pred],
    prefer: &[String],
    steps: &mut Steps,
) -> Result<Found<String>, Exhausted> {
    let fams: Vec<Family> = preds.iter().filter_map(Pred::base).map(family).collect();
    let mut approx = None;
    if fams.windows(2).any(|w| w[0] != w[1]) {
        approx = Some("operators of different kinds on one key".to_owned());
    }
    let mut cands: Vec<String> = prefer.to_vec();
    if fams.contains(&Family::Num) {
        cands.extend(numeric_candidates(preds));
    }
    if fams.contains(&Family::Date) {
        let (c, a) = date_candidates(preds);
        cands.extend(c);
        approx = approx.or(a);
    }
    if fams.contains(&Family::Ip) {
        cands.extend(ip_candidates(preds));
    }
    if fams.is_empty() || fams.contains(&Family::Str) {
        cands.extend(instantiations(preds));
    }
    for c in &cands {
        steps.tick(1)?;
        if preds.iter().all(|p| p.holds(c)) {
            return Ok(Found {
                value: Some(c.clone()),
                approx: None,
            });
        }
    }
    if fams.iter().all(|f| *f == Family::Str) {
        return solve_strings(preds, steps, approx);
    }
    if approx.is_none() && fams.contains(&Family::Str) {
        approx = Some("operators of different kinds on one key".into());
    }
    Ok(Found {
        value: None,
        approx,
    })
}

fn solve_strings(
    preds: &[Pred],
    steps: &mut Steps,
    approx: Option<String>,
) -> Result<Found<String>, Exhausted> {
    let mut langs = Vec::new();
    for p in preds {
        match p.lang() {
            Ok(l) => langs.push(l),
            Err(why) => {
                return Ok(Found {
                    value: None,
                    approx: Some(why),
                })
            }
        }
    }
    let cons: Vec<(&Lang, bool)> = langs.iter().map(|(l, w)| (l, *w)).collect();
    let value = shortest(&cons, steps)?;
    match value {
        Some(v) if !preds.iter().all(|p| p.holds(&v)) => Ok(Found {
            value: None,
            approx: Some(format!(
                "internal error: automaton and evaluator disagree on {v:?}"
            )),
        }),
        value => Ok(Found { value, approx }),
    }
}

/// A condition asserted true or false.
pub type Lit<'a> = (&'a Condition, bool);

fn holds_with(c: &Condition, values: Option<&[String]>) -> bool {
    let r = match values {
        Some(v) => Request::default().set(&c.key, v.to_vec()),
        None => Request::default(),
    };
    c.holds(&r)
}

/// Values for one key (lower-cased) that satisfy every literal: `Some(None)` is "absent".
pub fn solve_key(
    lits: &[Lit<'_>],
    prefer: &[String],
    steps: &mut Steps,
) -> Result<Found<Option<Vec<String>>>, Exhausted> {
    let mut approx = None;
    // One value.
    if let Some(preds) = reduce(lits, false) {
        let f = solve_value(&preds.0, prefer, steps)?;
        approx = approx.or(f.approx);
        if let Some(v) = f.value {
            return Ok(found(Some(vec![v])));
        }
    }
    // Absent.
    if lits.iter().all(|(c, want)| holds_with(c, None) == *want) {
        return Ok(found(None));
    }
    // Several values: every universal test holds of each, each existential one of some.
    if let Some((all, exists)) = reduce(lits, true) {
        let mut values = Vec::new();
        let groups: Vec<Vec<Pred>> = if exists.is_empty() {
            vec![all.clone(), all.clone()]
        } else {
            exists
                .iter()
                .map(|e| all.iter().cloned().chain([e.clone()]).collect())
                .collect()
        };
        for g in &groups {
            let f = solve_value(g, prefer, steps)?;
            approx = approx.or(f.approx);
            match f.value {
                Some(v) => values.push(v),
                None => break,
            }
        }
        if values.len() == groups.len() {
            if values.len() == 1 {
                values.push(values[0].clone());
            }
            return Ok(found(Some(values)));
        }
    }
    Ok(Found {
        value: None,
        approx,
    })
}

fn found<T>(v: T) -> Found<T> {
    Found {
        value: Some(v),
        approx: None,
    }
}

/// The literals read for a present key with one value (`multi: false`) or several: the
/// predicates every value must meet and those some value must meet (`None` if a literal
/// is false whatever the values). With one value, both lists are the one value's tests.
fn reduce(lits: &[Lit<'_>], multi: bool) -> Option<(Vec<Pred>, Vec<Pred>)> {
    let (mut all, mut exists) = (Vec::new(), Vec::new());
    for (c, want) in lits {
        let Some(op) = c.op else {
            (!*want).then_some(())?;
            continue;
        };
        if op.base == Base::Null {
            let present_true = c.values.iter().any(|w| w.eq_ignore_ascii_case("false"));
            (present_true == *want).then_some(())?;
            continue;
        }
        let single_op_false = op.set.is_none() && (multi || c.multivalued);
        if single_op_false {
            (!*want).then_some(())?;
            continue;
        }
        let p = Pred::new(c, op.base, *want);
        match (multi, op.set, *want) {
            (false, _, _) => all.push(p),
            (true, Some(SetQualifier::ForAllValues), true)
            | (true, Some(SetQualifier::ForAnyValue), false) => all.push(p),
            _ => exists.push(p),
        }
    }
    Some((all, exists))
}
