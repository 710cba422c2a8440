//! The client-side rate limiter: one token bucket per Organizations API family, at the rates
//! AWS documents per calling account (../shared/reference/aws-rules.md §4), shared by every
//! Organizations call a process makes. A request waits for a token instead of drawing
//! TooManyRequests; together with the SDK's adaptive retry mode this makes a large run slow
//! down rather than fail. The same table drives the fake's server-side enforcement.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// `(operations, rate per second, burst)`. Operations not listed share the write lane.
pub const RATES: &[(&[&str], f64, f64)] = &[
    (
        &[
            "CreatePolicy",
            "DeletePolicy",
            "AttachPolicy",
            "DetachPolicy",
            "UpdatePolicy",
        ],
        2.0,
        3.0,
    ),
    (&["DescribePolicy"], 2.0, 2.0),
    (
        &[
            "ListPolicies",
            "ListPoliciesForTarget",
            "ListTargetsForPolicy",
        ],
        5.0,
        8.0,
    ),
    (&["EnablePolicyType", "DisablePolicyType"], 1.0, 1.0),
    (
        &["CreateOrganizationalUnit", "DescribeOrganization"],
        1.0,
        2.0,
    ),
    (
        &[
            "MoveAccount",
            "UpdateOrganizationalUnit",
            "DeleteOrganizationalUnit",
        ],
        2.0,
        3.0,
    ),
    (&["DescribeOrganizationalUnit"], 2.0, 2.0),
    (&["ListAccounts"], 8.0, 12.0),
    (&["ListChildren"], 6.0, 10.0),
    (
        &[
            "ListParents",
            "ListAccountsForParent",
            "ListOrganizationalUnitsForParent",
        ],
        5.0,
        8.0,
    ),
    (&["ListRoots"], 1.0, 2.0),
    (&["ListTagsForResource"], 10.0, 15.0),
    (&["TagResource", "UntagResource"], 4.0, 6.0),
    (&["DescribeAccount"], 20.0, 30.0),
    (&["CreateAccount", "DescribeCreateAccountStatus"], 0.1, 3.0),
];

/// The family (index into [`RATES`]) of an operation.
pub fn family(op: &str) -> usize {
    RATES
        .iter()
        .position(|(ops, _, _)| ops.contains(&op))
        .unwrap_or(0)
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token buckets, one per family.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<usize, Bucket>>,
    /// Multiplies every rate (1.0 = AWS's); tests and emulators use larger values.
    scale: f64,
}

impl RateLimiter {
    /// AWS's documented rates.
    pub fn aws() -> Self {
        Self::scaled(1.0)
    }

    /// Rates multiplied by `scale` (an emulator answers faster than AWS allows).
    pub fn scaled(scale: f64) -> Self {
        RateLimiter {
            buckets: Mutex::new(HashMap::new()),
            scale,
        }
    }

    fn refill(&self, fam: usize, now: Instant, b: &mut Bucket) {
        let (_, rate, burst) = RATES[fam];
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate * self.scale).min(burst);
        b.last = now;
    }

    /// Takes a token if there is one; otherwise how long until there is.
    fn take(&self, op: &str) -> Result<(), Duration> {
        let fam = family(op);
        let now = Instant::now();
        let mut m = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = m.entry(fam).or_insert(Bucket {
            tokens: RATES[fam].2,
            last: now,
        });
        self.refill(fam, now, b);
        if b.tokens >= 1.0 - 1e-9 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - b.tokens) / (RATES[fam].1 * self.scale),
            ))
        }
    }

    /// Takes a token now if there is one (server side: `false` means TooManyRequests).
    pub fn try_take(&self, op: &str) -> bool {
        self.take(op).is_ok()
    }

    /// Waits for a token (client side).
    pub async fn acquire(&self, op: &str) {
        while let Err(wait) = self.take(op) {
            tokio::time::sleep(wait).await;
        }
    }
}

/// The lower bound on the time `stats` takes at AWS's rates: for each family, its calls
/// beyond the burst divided by its rate; the slowest family.
pub fn lower_bound(stats: &super::RequestStats) -> Duration {
    let mut per_family: HashMap<usize, u64> = HashMap::new();
    for (op, n) in &stats.by_operation {
        *per_family.entry(family(op)).or_default() += n;
    }
    let secs = per_family
        .iter()
        .map(|(f, n)| {
            let (_, rate, burst) = RATES[*f];
            ((*n as f64) - burst).max(0.0) / rate
        })
        .fold(0.0, f64::max);
    Duration::from_secs_f64(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn paces_to_the_documented_rate_after_the_burst() {
        let l = RateLimiter::aws();
        let start = Instant::now();
        for _ in 0..18 {
            l.acquire("ListAccountsForParent").await;
        }
        // Burst of 8, then 10 more at 5/s: 2 seconds.
        let took = start.elapsed().as_secs_f64();
        assert!((1.9..2.2).contains(&took), "{took}");
        // Another family is not slowed down.
        let t = Instant::now();
        l.acquire("DescribeAccount").await;
        assert!(t.elapsed() < Duration::from_millis(1));
    }

    #[tokio::test(start_paused = true)]
    async fn server_side_refuses_when_empty() {
        let l = RateLimiter::aws();
        assert!((0..3).all(|_| l.try_take("AttachPolicy")));
        assert!(!l.try_take("AttachPolicy"));
        tokio::time::advance(Duration::from_millis(500)).await;
        assert!(l.try_take("AttachPolicy"));
    }
}
