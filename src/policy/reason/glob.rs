//! IAM's string patterns as finite automata, and a search for a string that lies in some
//! languages and outside others.
//!
//! A pattern is a sequence of tokens (a literal character class, `?`, `*`); the automaton's
//! states are positions in that sequence, simulated as sets (the subset construction, built
//! lazily). ARN patterns keep their wildcards inside the first five colon-separated segments,
//! exactly as the evaluator's `arn_like` does. [`shortest`] searches the product of every
//! constraint's subset automaton breadth-first over an alphabet of the characters the
//! patterns name plus one character they do not (every other character behaves like it), so
//! an empty product is a proof that no string exists.

use std::collections::{HashMap, VecDeque};

/// Counted work, shared by one whole search.
#[derive(Debug, Clone, Copy)]
pub struct Steps {
    pub used: u64,
    pub max: u64,
}

/// The budget ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted;

impl Steps {
    pub fn tick(&mut self, n: u64) -> Result<(), Exhausted> {
        self.used = self.used.saturating_add(n);
        if self.used > self.max {
            Err(Exhausted)
        } else {
            Ok(())
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Token {
    /// One character out of a small set (a literal, or its case variants).
    Lit(Vec<char>),
    /// `?`; `colon: false` inside an ARN segment, where a wildcard never matches `:`.
    Any { colon: bool },
    /// `*`, likewise.
    Star { colon: bool },
}

impl Token {
    fn accepts(&self, c: char) -> bool {
        match self {
            Token::Lit(cs) => cs.contains(&c),
            Token::Any { colon } | Token::Star { colon } => *colon || c != ':',
        }
    }
}

/// One pattern's automaton.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Nfa {
    tokens: Vec<Token>,
}

/// A union of patterns: a string is in it when any pattern matches.
pub type Lang = Vec<Nfa>;

fn wild(c: char, colon: bool) -> Token {
    match c {
        '*' => Token::Star { colon },
        '?' => Token::Any { colon },
        c => Token::Lit(vec![c]),
    }
}

impl Nfa {
    /// `StringLike` / action patterns: `*` any run, `?` one character.
    pub fn glob(p: &str) -> Nfa {
        Nfa {
            tokens: p.chars().map(|c| wild(c, true)).collect(),
        }
    }

    /// `StringEquals`: every character literal.
    pub fn literal(p: &str) -> Nfa {
        Nfa {
            tokens: p.chars().map(|c| Token::Lit(vec![c])).collect(),
        }
    }

    /// An ASCII string compared ignoring ASCII case; with `kelvin`, U+212A KELVIN SIGN also
    /// stands for `k` (Unicode lower-cases it to `k`, the one non-ASCII character that
    /// lower-cases into ASCII). `None` when the pattern is not ASCII.
    pub fn ascii_ci(p: &str, kelvin: bool) -> Option<Nfa> {
        if !p.is_ascii() {
            return None;
        }
        let class = |c: char| {
            let mut v = vec![c.to_ascii_lowercase()];
            if c.is_ascii_alphabetic() {
                v.push(c.to_ascii_uppercase());
            }
            if kelvin && c.eq_ignore_ascii_case(&'k') {
                v.push('\u{212A}');
            }
            Token::Lit(v)
        };
        Some(Nfa {
            tokens: p.chars().map(class).collect(),
        })
    }

    /// `arn_like`: `*` alone matches anything; otherwise six colon-separated parts whose first
    /// five keep their wildcards off colons. `None` for a pattern that matches nothing.
    pub fn arn(p: &str) -> Option<Nfa> {
        if p == "*" {
            return Some(Nfa::glob("*"));
        }
        let parts: Vec<&str> = p.splitn(6, ':').collect();
        if parts.len() != 6 {
            return None;
        }
        let mut tokens = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                tokens.push(Token::Lit(vec![':']));
            }
            tokens.extend(part.chars().map(|c| wild(c, i == 5)));
        }
        Some(Nfa { tokens })
    }

    fn closure(&self, set: &mut Vec<u16>) {
        let mut i = 0;
        while i < set.len() {
            let p = usize::from(set[i]);
            if matches!(self.tokens.get(p), Some(Token::Star { .. })) {
                let next = set[i] + 1;
                if !set.contains(&next) {
                    set.push(next);
                }
            }
            i += 1;
        }
        set.sort_unstable();
        set.dedup();
    }

    fn start(&self) -> Vec<u16> {
        let mut s = vec![0];
        self.closure(&mut s);
        s
    }

    fn step(&self, set: &[u16], c: char) -> Vec<u16> {
        let mut out = Vec::new();
        for &p in set {
            match self.tokens.get(usize::from(p)) {
                Some(t @ Token::Star { .. }) if t.accepts(c) => out.push(p),
                Some(t) if t.accepts(c) => out.push(p + 1),
                _ => {}
            }
        }
        self.closure(&mut out);
        out
    }

    fn accepting(&self, set: &[u16]) -> bool {
        set.iter().any(|&p| usize::from(p) == self.tokens.len())
    }

    /// From some position in `set`, every continuation is accepted.
    fn universal(&self, set: &[u16]) -> bool {
        set.iter().any(|&p| {
            self.tokens[usize::from(p)..]
                .iter()
                .all(|t| *t == Token::Star { colon: true })
        })
    }

    fn chars(&self, out: &mut Vec<char>) {
        for t in &self.tokens {
            if let Token::Lit(cs) = t {
                out.extend(cs);
            }
        }
    }
}

/// Whether `s` is in the language (the automaton's own reading; the evaluator's functions
/// are the reference, and `reason`'s tests hold the two equal).
#[cfg(test)]
pub fn member(lang: &Lang, s: &str) -> bool {
    lang.iter().any(|n| {
        let mut set = n.start();
        for c in s.chars() {
            set = n.step(&set, c);
            if set.is_empty() {
                return false;
            }
        }
        n.accepting(&set)
    })
}

/// Per constraint, per pattern, the set of positions.
type State = Vec<Vec<Vec<u16>>>;

fn status(constraints: &[(&Lang, bool)], st: &State) -> (bool, bool) {
    let mut accept = true;
    for ((lang, want), sets) in constraints.iter().zip(st) {
        let acc = lang.iter().zip(sets).any(|(n, s)| n.accepting(s));
        if *want {
            if sets.iter().all(Vec::is_empty) {
                return (false, true);
            }
        } else if lang.iter().zip(sets).any(|(n, s)| n.universal(s)) {
            return (false, true);
        }
        accept &= acc == *want;
    }
    (accept, false)
}

/// The alphabet: every character the patterns name, `:`, and one more they do not name.
fn alphabet(constraints: &[(&Lang, bool)]) -> Vec<char> {
    let mut cs = vec![':'];
    for (lang, _) in constraints {
        for n in lang.iter() {
            n.chars(&mut cs);
        }
    }
    let fresh = "xyzqjabcdefghiklmnoprstuvw0123456789-_"
        .chars()
        .find(|c| !cs.contains(c))
        .unwrap_or('\u{E000}');
    cs.push(fresh);
    cs.sort_unstable();
    cs.dedup();
    cs
}

/// The shortest string in every language wanted and in none unwanted, if one exists.
pub fn shortest(
    constraints: &[(&Lang, bool)],
    steps: &mut Steps,
) -> Result<Option<String>, Exhausted> {
    let sigma = alphabet(constraints);
    let start: State = constraints
        .iter()
        .map(|(lang, _)| lang.iter().map(Nfa::start).collect())
        .collect();
    let mut seen: HashMap<State, (usize, char)> = HashMap::new();
    let mut order: Vec<State> = vec![start.clone()];
    seen.insert(start, (usize::MAX, '\0'));
    let mut queue = VecDeque::from([0usize]);
    while let Some(i) = queue.pop_front() {
        let (accept, dead) = status(constraints, &order[i]);
        if dead {
            continue;
        }
        if accept {
            return Ok(Some(spell(&order, &seen, i)));
        }
        for &c in &sigma {
            // One step per automaton stepped, so a step costs about the same everywhere.
            steps.tick(constraints.len() as u64)?;
            let next: State = constraints
                .iter()
                .zip(&order[i])
                .map(|((lang, _), sets)| lang.iter().zip(sets).map(|(n, s)| n.step(s, c)).collect())
                .collect();
            if !seen.contains_key(&next) {
                seen.insert(next.clone(), (i, c));
                order.push(next);
                queue.push_back(order.len() - 1);
            }
        }
    }
    Ok(None)
}

fn spell(order: &[State], seen: &HashMap<State, (usize, char)>, mut i: usize) -> String {
    let mut out = Vec::new();
    while let Some(&(parent, c)) = seen.get(&order[i]) {
        if parent == usize::MAX {
            break;
        }
        out.push(c);
        i = parent;
    }
    out.iter().rev().collect()
}
