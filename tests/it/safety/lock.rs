//! The lock through a long run (`guardrail::lock::Guarded`): renewed between writes, so a
//! second run cannot take it while the first still writes; and once lost (it expired and
//! another run took it), the first run writes nothing more.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use guardrail::apply;
use guardrail::live::fake::FakeOrg;
use guardrail::live::{Error, OrgBackend};
use guardrail::lock::{self, Guarded, LockError, LockOptions, LOCK_LOST};
use guardrail::model::PolicyType::ServiceControlPolicy as SCP;
use guardrail::plan;

use super::deny;
use crate::support::{import, read, rt};

fn no_pause(_: Duration) -> futures::future::BoxFuture<'static, ()> {
    Box::pin(async {})
}

fn options<'a>(id: &str, now: &'a (dyn Fn() -> u64 + Sync)) -> LockOptions<'a> {
    LockOptions {
        run_id: id.into(),
        env: "test".into(),
        ttl: Duration::from_secs(600),
        timeout: Duration::ZERO,
        now,
        pause: &no_pause,
    }
}

#[test]
fn a_long_apply_renews_its_lock_so_a_second_run_cannot_take_it() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        let clock = AtomicU64::new(1_000);
        let now = || clock.load(Ordering::SeqCst);
        let a = options("a", &now);
        let held = lock::acquire(&f, &root, &a).await.unwrap();
        let guarded = Guarded::new(&f, held, &a);
        // Writes every 250 s, past the lock's first expiry (1,600).
        for (i, t) in [1_250u64, 1_500, 1_750].into_iter().enumerate() {
            clock.store(t, Ordering::SeqCst);
            guarded
                .create_policy(SCP, &format!("p{i}"), "", &deny("a:B"))
                .await
                .unwrap();
        }
        assert_eq!(guarded.lost(), None);
        // At 1,800 the first run's tag says 2,350: a second run is refused.
        clock.store(1_800, Ordering::SeqCst);
        let b = lock::acquire(&f, &root, &options("b", &now)).await;
        assert!(matches!(b, Err(LockError::Held { .. })), "{b:?}");
    });
}

#[test]
fn a_run_whose_lock_was_taken_over_writes_nothing_more() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        let (live, mut desired, _) = import(&f).await;
        desired.policies.insert(
            "new".into(),
            super::desired_policy("new", SCP, &deny("a:B")),
        );
        desired.root.policies.insert("new".into());
        let p = plan::plan(&desired, &live).unwrap();
        let clock = AtomicU64::new(1_000);
        let now = || clock.load(Ordering::SeqCst);
        let a = options("a", &now);
        let held = lock::acquire(&f, &root, &a).await.unwrap();
        let a_key = held.key.clone();
        let guarded = Guarded::new(&f, held, &a);
        // The first run stalls past its expiry without a write; a second run takes the lock.
        clock.store(1_700, Ordering::SeqCst);
        let b = lock::acquire(&f, &root, &options("b", &now)).await.unwrap();
        let before = read(&f).await;
        let out = apply::execute(&p, &live, &guarded).await;
        assert!(!out.succeeded(), "{out:?}");
        assert!(
            guarded
                .lost()
                .is_some_and(|w| w.contains("another run holds")),
            "{:?}",
            guarded.lost()
        );
        let after = read(&f).await;
        assert_eq!(before.policies, after.policies, "no policy was written");
        // Every later write fails at once, naming the lost lock.
        let e = guarded
            .attach_policy("p-whatever1", &root)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, Error::Service { code, .. } if code == LOCK_LOST),
            "{e:?}"
        );
        // The second run still holds its lock, and the first run's renewed tag is gone at
        // once (before any release), so the holder never meets it.
        let tags = f.list_tags_for_resource(&root).await.unwrap();
        assert!(tags.iter().any(|(k, _)| k == &b.key), "{tags:?}");
        assert!(!tags.iter().any(|(k, _)| k == &a_key), "{tags:?}");
    });
}

/// Nothing renews the lock while one write runs, and an account creation may take up to
/// `CREATE_ACCOUNT_WAIT`: before it, the lock is renewed to last one and a half times that,
/// even when `--lock-ttl` (here 600 s, or the 60 s minimum) is shorter.
#[test]
fn the_lock_outlasts_an_account_creation_whatever_the_ttl() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        let clock = AtomicU64::new(1_000);
        let now = || clock.load(Ordering::SeqCst);
        for ttl in [60u64, 600] {
            let mut a = options("a", &now);
            a.ttl = Duration::from_secs(ttl);
            let held = lock::acquire(&f, &root, &a).await.unwrap();
            let key = held.key.clone();
            let guarded = Guarded::new(&f, held.clone(), &a);
            guarded
                .create_account(&format!("new{ttl}"), &format!("new{ttl}@example.com"))
                .await
                .unwrap();
            let tags = f.list_tags_for_resource(&root).await.unwrap();
            let expiry: u64 = tags
                .iter()
                .find(|(k, _)| *k == key)
                .and_then(|(_, v)| v.rsplit(' ').next()?.parse().ok())
                .unwrap_or_else(|| panic!("the lock tag: {tags:?}"));
            let wait = guardrail::live::CREATE_ACCOUNT_WAIT.as_secs();
            assert_eq!(expiry, 1_000 + wait * 3 / 2, "ttl {ttl}: {tags:?}");
            lock::release(&f, &held, &no_pause).await.unwrap();
        }
    });
}
