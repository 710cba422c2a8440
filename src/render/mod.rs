//! Output: plans in human, JSON and (later) Markdown form, request statistics, and config
//! error reports. The only module that decides layout and colour, and, with the plan file, the
//! only one that produces serialized output.
//!
//! Architecture invariant: renders what it is given; never reads config or AWS.

mod human;
mod json;

pub use human::{config_errors, plan_human, refusals_human, stats_human};
pub use json::{plan_json, PLAN_FORMAT_VERSION};

/// Output styling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub(crate) fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
}
