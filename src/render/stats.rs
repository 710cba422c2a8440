//! `--stats`: requests by operation against a budget, and each way of reading the
//! organization with its budget and lower bound at AWS's rates.

use std::fmt::Write as _;

use crate::live::RequestStats;

/// `--stats`: requests by operation.
pub fn stats_human(stats: &RequestStats, budget: Option<u64>) -> String {
    let mut out = String::from("requests by operation:\n");
    for (op, n) in &stats.by_operation {
        let _ = writeln!(out, "  {op:<36} {n:>6}");
    }
    let _ = write!(out, "  {:<36} {:>6}", "total", stats.total());
    if let Some(b) = budget {
        let _ = write!(out, " (budget {b})");
    }
    out.push('\n');
    out
}

/// One way of reading the organization, for `--stats`: its requests and, at AWS's rates, the
/// least time it can take (the slowest API family's requests beyond its burst over its rate).
#[derive(Debug, Clone)]
pub struct WalkCost {
    /// How the accounts were placed (`ListAccounts` with Paths, or per parent).
    pub read: String,
    /// The walk just made took this read.
    pub taken: bool,
    pub budget: u64,
    pub bound: std::time::Duration,
    /// The slowest family's operations and their request count.
    pub bottleneck: (Vec<&'static str>, u64),
}

/// `--stats`: the budget and lower bound of the read the walk took, then of the other.
pub fn walk_costs_human(costs: &[WalkCost]) -> String {
    let mut out = String::new();
    for c in costs {
        let _ = writeln!(
            out,
            "{} {}: budget {} requests, lower bound at AWS's rates {:.1} s ({}: {} requests)",
            if c.taken { "read" } else { "  other read," },
            c.read,
            c.budget,
            c.bound.as_secs_f64(),
            c.bottleneck.0.join(" + "),
            c.bottleneck.1
        );
    }
    out
}
