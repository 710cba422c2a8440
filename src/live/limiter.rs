//! The client-side rate limiter: one token bucket per Organizations API family, at the rates
//! AWS documents per calling account (../shared/reference/aws-rules.md §4), shared by every
//! Organizations call a process makes. A request waits for a token instead of drawing
//! TooManyRequests; together with the SDK's adaptive retry mode this makes a large run slow
//! down rather than fail. The same table drives the fake's server-side enforcement and the
//! test proxy's AWS-rate mode.
//!
//! The client ([`RateLimiter::client`]) paces a little under AWS's buckets: at
//! [`PACE_SHARE`] of each rate, with [`JITTER_ALLOWANCE`] worth of each burst held back. A
//! client that paced at exactly AWS's rate would draw the odd TooManyRequests whenever
//! network jitter lands a request at AWS just before AWS's token is ready (a request that left
//! on time but arrived earlier, relative to the first one, than its predecessors did). The
//! server side ([`RateLimiter::aws`]) is AWS's bucket exactly.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
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
    // AWS publishes no rate for the effective-policy validation reads (added in 2025):
    // assumed, as for the other per-account reads of that age, 1 per second.
    (
        &[
            "ListAccountsWithInvalidEffectivePolicy",
            "ListEffectivePolicyValidationErrors",
        ],
        1.0,
        2.0,
    ),
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
    // CloudTrail, not Organizations: 2 per second per account *and region*, so its user
    // (`cloudtrail_aws`) keeps one limiter per account and region.
    (&["LookupEvents"], 2.0, 2.0),
];

/// The client paces at this share of each of AWS's rates (3% slower than AWS allows), so the
/// slack grows with every request and jitter never accumulates into a throttle.
pub const PACE_SHARE: f64 = 0.97;

/// The client keeps back this much time's worth of each burst (rate × this, in tokens): a
/// request may reach AWS this much earlier, relative to the first request of a burst, than it
/// left, and still find AWS's token ready. Costs this much wall time once per run.
pub const JITTER_ALLOWANCE: Duration = Duration::from_millis(50);

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
#[derive(Debug)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<usize, Bucket>>,
    /// Multiplies every rate (1.0 = AWS's); tests and emulators use larger values.
    scale: f64,
    /// Share of the (scaled) rate actually used: 1.0 server side, [`PACE_SHARE`] client side.
    share: f64,
    /// Time's worth of each burst held back: zero server side, [`JITTER_ALLOWANCE`] client
    /// side.
    reserve: Duration,
    /// Tokens taken so far (every family): what the limiter believes was sent.
    taken: AtomicU64,
}

impl RateLimiter {
    /// AWS's documented buckets, exactly (the server side: the fake's and the test proxy's
    /// enforcement).
    pub fn aws() -> Self {
        Self::scaled(1.0)
    }

    /// AWS's buckets with every rate multiplied by `scale`, exactly.
    pub fn scaled(scale: f64) -> Self {
        RateLimiter {
            buckets: Mutex::new(HashMap::new()),
            scale,
            share: 1.0,
            reserve: Duration::ZERO,
            taken: AtomicU64::new(0),
        }
    }

    /// The client side: paces under AWS's buckets (rates multiplied by `scale`, 1.0 against
    /// AWS) with the margins [`PACE_SHARE`] and [`JITTER_ALLOWANCE`].
    pub fn client(scale: f64) -> Self {
        RateLimiter {
            share: PACE_SHARE,
            reserve: JITTER_ALLOWANCE,
            ..Self::scaled(scale)
        }
    }

    /// `(tokens per second, capacity)` of a family's bucket here.
    fn bucket_shape(&self, fam: usize) -> (f64, f64) {
        let (_, rate, burst) = RATES[fam];
        let rate = rate * self.scale;
        // Never below one token, or the bucket could never grant a request.
        let capacity = (burst - rate * self.reserve.as_secs_f64()).max(1.0);
        (rate * self.share, capacity)
    }

    /// Takes a token if there is one; otherwise how long until there is.
    fn take(&self, op: &str) -> Result<(), Duration> {
        let fam = family(op);
        let (rate, capacity) = self.bucket_shape(fam);
        let now = Instant::now();
        let mut m = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = m.entry(fam).or_insert(Bucket {
            tokens: capacity,
            last: now,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(capacity);
        b.last = now;
        if b.tokens >= 1.0 - 1e-9 {
            b.tokens -= 1.0;
            self.taken.fetch_add(1, Ordering::Relaxed);
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / rate))
        }
    }

    /// Tokens taken so far, every family together.
    pub fn taken(&self) -> u64 {
        self.taken.load(Ordering::Relaxed)
    }

    /// Every bucket full again (the test proxy between benchmark runs: as after a pause).
    pub fn refill_all(&self) {
        self.buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
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
    slowest_family(stats).0
}

/// One API family's share of a run at AWS's rates: the operations of the family the run
/// called, how many requests they made, and the least time they take (requests beyond the
/// burst over the rate).
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyBound {
    pub operations: Vec<&'static str>,
    pub requests: u64,
    pub bound: Duration,
}

/// Every family `stats` calls, slowest first (ties: the family listed first in [`RATES`]).
pub fn family_bounds(stats: &super::RequestStats) -> Vec<FamilyBound> {
    let mut per_family: HashMap<usize, u64> = HashMap::new();
    for (op, n) in &stats.by_operation {
        *per_family.entry(family(op)).or_default() += n;
    }
    let mut out: Vec<(usize, FamilyBound)> = per_family
        .into_iter()
        .map(|(fam, n)| {
            let (ops, rate, burst) = RATES[fam];
            let operations = ops.iter().copied().filter(|op| stats.get(op) > 0).collect();
            let secs = ((n as f64) - burst).max(0.0) / rate;
            let bound = Duration::from_secs_f64(secs);
            (
                fam,
                FamilyBound {
                    operations,
                    requests: n,
                    bound,
                },
            )
        })
        .collect();
    out.sort_by(|a, b| b.1.bound.cmp(&a.1.bound).then(a.0.cmp(&b.0)));
    out.into_iter().map(|(_, f)| f).collect()
}

/// The family that bounds `stats` at AWS's rates: that bound, the family's operations that
/// `stats` calls, and how many requests they make.
pub fn slowest_family(stats: &super::RequestStats) -> (Duration, (Vec<&'static str>, u64)) {
    match family_bounds(stats).into_iter().next() {
        Some(f) => (f.bound, (f.operations, f.requests)),
        None => (Duration::ZERO, (Vec::new(), 0)),
    }
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
    async fn the_client_paces_under_the_bucket_with_a_margin() {
        let l = RateLimiter::client(1.0);
        let start = Instant::now();
        for _ in 0..18 {
            l.acquire("ListAccountsForParent").await;
        }
        // 8 - 5 × 0.05 = 7.75 tokens of burst, then the rest at 0.97 × 5/s: 10.25 / 4.85 s.
        let took = start.elapsed().as_secs_f64();
        assert!((2.10..2.13).contains(&took), "{took}");
        assert_eq!(l.taken(), 18);
    }

    /// Requests that reach the server up to 45 ms late, each by its own amount (so some arrive
    /// earlier, relative to the others, than they left): how many the server refuses.
    async fn refusals_under_jitter(client: RateLimiter) -> usize {
        let server = RateLimiter::aws();
        let start = Instant::now();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut arrivals = Vec::new();
        for _ in 0..60 {
            client.acquire("DescribePolicy").await;
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            arrivals.push(start.elapsed() + Duration::from_millis(seed % 46));
        }
        arrivals.sort();
        tokio::time::advance(Duration::from_secs(1)).await;
        let mut refused = 0;
        // Replay the arrivals on a fresh clock: the server's buckets are lazily started.
        let t0 = Instant::now();
        for at in arrivals {
            tokio::time::sleep_until(t0 + at).await;
            refused += usize::from(!server.try_take("DescribePolicy"));
        }
        refused
    }

    #[tokio::test(start_paused = true)]
    async fn the_margin_absorbs_jitter_that_exact_pacing_does_not() {
        assert!(refusals_under_jitter(RateLimiter::aws()).await > 0);
        assert_eq!(refusals_under_jitter(RateLimiter::client(1.0)).await, 0);
    }

    #[test]
    fn each_family_is_bounded_by_its_requests_beyond_the_burst() {
        let stats = crate::live::RequestStats {
            by_operation: [
                ("ListPolicies", 2),
                ("ListTargetsForPolicy", 83),
                ("DescribePolicy", 25),
                ("ListRoots", 1),
            ]
            .into_iter()
            .map(|(op, n)| (op.to_owned(), n))
            .collect(),
        };
        let f = family_bounds(&stats);
        assert_eq!(f.len(), 3);
        assert_eq!(f[0].operations, ["ListPolicies", "ListTargetsForPolicy"]);
        assert_eq!(f[0].requests, 85);
        assert_eq!(f[0].bound, Duration::from_secs_f64(77.0 / 5.0));
        assert_eq!(f[1].operations, ["DescribePolicy"]);
        assert_eq!(f[1].bound, Duration::from_secs_f64(23.0 / 2.0));
        assert_eq!(
            f[2].bound,
            Duration::ZERO,
            "one ListRoots is within its burst"
        );
        assert_eq!(lower_bound(&stats), f[0].bound);
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
