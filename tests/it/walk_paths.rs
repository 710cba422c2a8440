//! The walk's two reads of account placement: `ListAccounts` with `Paths` (the fake answers
//! them, as AWS has since 2026-03-31) and, when a page comes back without `Paths` (moto 5.2),
//! `ListAccountsForParent` per parent. Both must read the same organization, with exactly the
//! requests `walk_requests` predicts, and neither may overdraw AWS's buckets when paced.

use std::sync::Arc;

use guardrail::live::demo::{self, Shape};
use guardrail::live::fake::FakeOrg;
use guardrail::live::limiter::RateLimiter;
use guardrail::live::{
    read_organization, walk_requests, OrgBackend, ReadPath, WalkEstimate, WalkOptions,
};

use crate::support::{read, rt};

const SHAPE: Shape = Shape {
    accounts: 300,
    ous: 15,
    policies: 8,
    bare: false,
};

async fn seeded() -> FakeOrg {
    let f = FakeOrg::new("999999999999");
    demo::seed(&f, SHAPE, 8).await.unwrap();
    f.reset_stats();
    f
}

#[test]
fn both_reads_place_every_account_with_the_predicted_requests() {
    rt().block_on(async {
        let f = seeded().await;
        let truth = f.snapshot();
        let with_paths = read(&f).await;
        assert_eq!(with_paths.accounts, truth.accounts);
        assert_eq!(with_paths.ous, truth.ous);
        let st = f.stats();
        assert_eq!(st.get("ListAccountsForParent"), 0, "{st:?}");
        assert_eq!(st.get("ListAccounts"), 301_u64.div_ceil(20));
        assert_eq!(st, walk_requests(&with_paths, ReadPath::Paths));
        assert_eq!(ReadPath::taken(&st), ReadPath::Paths);

        let f = f.without_paths();
        f.reset_stats();
        let per_parent = read(&f).await;
        assert_eq!(per_parent.accounts, truth.accounts);
        assert_eq!(per_parent.ous, truth.ous);
        let st = f.stats();
        assert_eq!(
            st.get("ListAccounts"),
            1,
            "one page, answered without Paths"
        );
        assert_eq!(
            st.get("ListAccountsForParent"),
            1 + truth.ous.len() as u64,
            "a page per parent (none holds more than 20 accounts): {st:?}"
        );
        assert_eq!(st, walk_requests(&per_parent, ReadPath::PerParent));
        assert_eq!(ReadPath::taken(&st), ReadPath::PerParent);
    });
}

#[test]
fn the_paths_read_costs_less_and_is_bounded_by_another_family() {
    rt().block_on(async {
        let live = read(&seeded().await).await;
        let paths = WalkEstimate::of(&live, ReadPath::Paths);
        let per_parent = WalkEstimate::of(&live, ReadPath::PerParent);
        assert!(paths.budget < per_parent.budget);
        assert!(paths.bound < per_parent.bound);
        assert!(
            per_parent.bottleneck.0.contains(&"ListAccountsForParent"),
            "{per_parent:?}"
        );
        assert!(
            !paths.bottleneck.0.contains(&"ListAccountsForParent"),
            "{paths:?}"
        );
        assert_eq!(
            guardrail::live::request_budget(&live),
            per_parent.budget,
            "the budget covers either read"
        );
    });
}

/// Paced by the client limiter while the fake enforces AWS's buckets exactly (a
/// TooManyRequests fails the walk), in tokio's paused clock.
fn paced_walk(f: FakeOrg) -> Result<(), guardrail::live::Error> {
    let f = f.with_rates(Some(Arc::new(RateLimiter::client(1.0))), true);
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(async {
            read_organization(&f, &WalkOptions::default())
                .await
                .map(|_| ())
        })
}

#[test]
fn neither_read_overdraws_awss_buckets() {
    let f = rt().block_on(seeded());
    paced_walk(f).unwrap();
    let f = rt().block_on(seeded()).without_paths();
    paced_walk(f).unwrap();
    // The same walk unpaced does draw TooManyRequests: the enforcement is real.
    let f = rt().block_on(seeded()).with_rates(None, true);
    let err = rt()
        .block_on(read_organization(&f, &WalkOptions::default()))
        .unwrap_err();
    assert!(
        matches!(err, guardrail::live::Error::TooManyRequests(_)),
        "{err}"
    );
}

/// The benchmark's 1,000 accounts (50 OUs, 25 SCPs besides `FullAWSAccess`, which is on the
/// root, every OU and all 1,001 accounts, the management account's included): the Paths read is bounded by the policy-listing family
/// (`ListPolicies`, `ListTargetsForPolicy`, 5/s, burst 8), and asks it for exactly what
/// knowing every attachment takes there: the `ListPolicies` pages and each policy's pages of
/// targets, 53 of them for `FullAWSAccess`. BENCHMARKS.md derives from these figures why no
/// correct read gets this organization under 15 s at AWS's rates.
#[test]
fn at_1000_accounts_the_paths_read_is_bounded_by_the_policy_listings() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let shape = Shape {
            accounts: 1000,
            ous: 50,
            policies: 25,
            bare: false,
        };
        demo::seed(&f, shape, 8).await.unwrap();
        f.reset_stats();
        let live = read(&f).await;
        let st = f.stats();
        let truth = f.snapshot();
        let pages = |n: usize| n.div_ceil(20).max(1) as u64;
        let full = truth
            .policies
            .values()
            .find(|p| p.name == "FullAWSAccess")
            .unwrap();
        assert_eq!(full.targets.len(), 1 + 50 + 1001);
        let needed = pages(truth.policies.len())
            + truth
                .policies
                .values()
                .map(|p| pages(p.targets.len()))
                .sum::<u64>();
        assert_eq!(
            st.get("ListPolicies") + st.get("ListTargetsForPolicy"),
            needed
        );
        let e = WalkEstimate::of(&live, ReadPath::Paths);
        assert_eq!(e.bottleneck.0, ["ListPolicies", "ListTargetsForPolicy"]);
        assert_eq!(e.bottleneck.1, needed);
        assert_eq!(
            needed,
            2 + 53 + 30,
            "ListPolicies, FullAWSAccess, the other 25"
        );
        assert!((e.bound.as_secs_f64() - (85.0 - 8.0) / 5.0).abs() < 1e-9);
    });
}
