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
