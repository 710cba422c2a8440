//! Automated reasoning over SCP/RCP changes: is there a request that the new policy set
//! allows and the old one denies, at one position in the organization?
//!
//! Pure: no IO. Works from the evaluator's typed form (`policy::eval`) and follows its
//! semantics exactly; every counterexample is replayed through [`crate::policy::eval::decide`].

use crate::policy::eval::{Decision, Path, Request};

/// Constants fixed for one account class: policy variables that resolve to them are decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Constants {
    pub account_id: String,
    pub org_id: Option<String>,
    /// `aws:PrincipalOrgPaths` / `aws:ResourceOrgPaths` values for the position, if known.
    pub org_paths: Vec<String>,
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
}

/// Why the procedure gave no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Unknown {
    /// A construct outside the decided fragment; `statement` is `policy/Sid`.
    Unsupported { construct: String, statement: String },
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

/// Is there a request that `new` allows and `old` denies, at one position?
pub fn new_access(old: &Path, new: &Path, constants: &Constants, budget: Budget) -> Verdict {
    let _ = (old, new, constants, budget);
    Verdict::Unknown(Unknown::Unsupported {
        construct: "not implemented yet".into(),
        statement: String::new(),
    })
}

/// The reverse question, for the "newly denied" summary: requests `old` allows and `new` denies.
pub fn newly_denied(old: &Path, new: &Path, constants: &Constants, budget: Budget) -> Verdict {
    new_access(new, old, constants, budget)
}
