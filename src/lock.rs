//! One apply at a time: an advisory lock on the organization, held as a tag on its root.
//!
//! Each run tags the root with its own key, `guardrail-lock:<run id>`, whose value names the
//! environment and the expiry (`<env> <unix seconds>`), then reads the root's tags back. It
//! holds the lock only when no other unexpired lock tag is there; otherwise it removes its tag,
//! waits a moment and tries again, until `--lock-timeout`. Two runs that race both see each
//! other's tag after writing their own (the write happens before the read in each), so at
//! most one of them proceeds; when both see each other, both back off with jitter.
//!
//! A run keeps its lock through [`Guarded`], the backend apply writes through: before a write,
//! once a third of `--lock-ttl` has passed since the last renewal, it writes a new expiry and
//! reads the tags back; if another run's unexpired lock is there (ours expired or was broken
//! and someone took it over), or the renewal cannot be written, the lock is lost and that
//! write and every later one fail without a request.
//!
//! What it guarantees: two guardrail applies that can read the root's tags never both write
//! in the same window, as long as ListTagsForResource reads its own writes, clocks agree
//! within the lock's lifetime, and no single write lasts longer than two thirds of
//! `--lock-ttl` (a `CreateAccount`, which waits up to `live::CREATE_ACCOUNT_WAIT` for the
//! account, renews the lock first to last one and a half times that wait). What it does not: it stops no other tool or
//! person; the IAM writes of boundary steps in member accounts are not checked (they run
//! between the Organizations writes, which are); and a run killed with SIGKILL leaves its
//! tag until it expires (or `apply --break-lock` removes every lock tag, which a person
//! should do only after checking that no apply is running).
//!
//! Architecture: like `apply`, an orchestration over the [`OrgBackend`] trait; the clock and
//! the pause between tries come in as parameters so tests drive them.

use std::time::Duration;

use crate::live::{Error, OrgBackend};

mod guard;

pub use guard::{Guarded, LOCK_LOST};

/// Races (two runs writing their tags at once) retried beyond the timeout.
const MAX_RACES: u32 = 5;

/// The tag key prefix of a lock.
pub const KEY_PREFIX: &str = "guardrail-lock:";

/// A held lock, to release when the run ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    pub root_id: String,
    pub key: String,
}

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another apply holds the organization lock ({holder}); waited {waited:?}. Retry later, raise --lock-timeout, or, if that run is dead, pass --break-lock")]
    Held { holder: String, waited: Duration },
    #[error("could not read or write the lock tag on the root: {0}")]
    Aws(#[from] Error),
}

/// How to take the lock.
pub struct LockOptions<'a> {
    pub run_id: String,
    pub env: String,
    /// How long the lock stays valid if the run dies.
    pub ttl: Duration,
    /// How long to wait for another run's lock.
    pub timeout: Duration,
    /// Seconds since the Unix epoch.
    pub now: &'a (dyn Fn() -> u64 + Sync),
    /// Waits between tries (a real sleep in the binary).
    pub pause: &'a (dyn Fn(Duration) -> futures::future::BoxFuture<'static, ()> + Sync),
}

/// Runs one lock request, retrying transient errors (throttling, a dropped connection) a few
/// times with a growing pause, as apply retries its steps.
pub async fn retrying<T, F, Fut>(
    pause: &(dyn Fn(Duration) -> futures::future::BoxFuture<'static, ()> + Sync),
    f: F,
) -> Result<T, Error>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        match f().await {
            Err(e) if e.is_transient() && attempt < 6 => {
                pause(Duration::from_millis(200 << attempt.min(5))).await;
            }
            other => return other,
        }
    }
}

/// The other runs' unexpired locks among the root's tags: `(key, value)`.
async fn others(
    b: &dyn OrgBackend,
    root_id: &str,
    own: &str,
    now: u64,
    pause: &(dyn Fn(Duration) -> futures::future::BoxFuture<'static, ()> + Sync),
) -> Result<Vec<(String, String)>, Error> {
    Ok(retrying(pause, || b.list_tags_for_resource(root_id))
        .await?
        .into_iter()
        .filter(|(k, _)| k.starts_with(KEY_PREFIX) && k != own)
        .filter(|(_, v)| expiry(v).is_some_and(|e| e > now))
        .collect())
}

fn expiry(value: &str) -> Option<u64> {
    value.rsplit(' ').next()?.parse().ok()
}

/// Takes the lock on `root_id`, waiting up to `opts.timeout`.
pub async fn acquire(
    b: &dyn OrgBackend,
    root_id: &str,
    opts: &LockOptions<'_>,
) -> Result<Lock, LockError> {
    let key = format!("{KEY_PREFIX}{}", opts.run_id);
    let start = (opts.now)();
    let mut attempt: u32 = 0;
    let mut races: u32 = 0;
    loop {
        let mut raced = false;
        let now = (opts.now)();
        let waited = Duration::from_secs(now.saturating_sub(start));
        let held = others(b, root_id, &key, now, opts.pause).await?;
        if held.is_empty() {
            let value = format!("{} {}", opts.env, now + opts.ttl.as_secs());
            retrying(opts.pause, || b.tag_resource(root_id, &key, &value)).await?;
            let after = others(b, root_id, &key, now, opts.pause).await?;
            if after.is_empty() {
                return Ok(Lock {
                    root_id: root_id.to_owned(),
                    key,
                });
            }
            // Raced with another run: both back off, and try again after different pauses
            // (a race is not a held lock: it does not count against the timeout, a few times).
            retrying(opts.pause, || b.untag_resource(root_id, &key)).await?;
            raced = true;
            races += 1;
        }
        if waited >= opts.timeout && !(raced && races <= MAX_RACES) {
            let holder = held
                .first()
                .map(|(k, v)| {
                    format!(
                        "{}, environment and expiry `{v}`",
                        k.trim_start_matches(KEY_PREFIX)
                    )
                })
                .unwrap_or_else(|| "a run that started at the same moment".into());
            return Err(LockError::Held { holder, waited });
        }
        attempt += 1;
        // The run id carries the process id, so two racing runs pause for different times.
        let jitter = u64::from(
            opts.run_id
                .bytes()
                .fold(attempt.wrapping_mul(2_654_435_761), |a, c| {
                    a.rotate_left(5) ^ u32::from(c).wrapping_mul(0x9E37_79B9)
                })
                % 1000,
        );
        (opts.pause)(Duration::from_millis(
            500 * u64::from(attempt.min(10)) + jitter,
        ))
        .await;
    }
}

/// Releases a held lock.
pub async fn release(
    b: &dyn OrgBackend,
    lock: &Lock,
    pause: &(dyn Fn(Duration) -> futures::future::BoxFuture<'static, ()> + Sync),
) -> Result<(), Error> {
    retrying(pause, || b.untag_resource(&lock.root_id, &lock.key)).await
}

/// Removes every lock tag from the root (`--break-lock`): the lock of a run that died.
/// Returns the keys removed.
pub async fn break_all(
    b: &dyn OrgBackend,
    root_id: &str,
    pause: &(dyn Fn(Duration) -> futures::future::BoxFuture<'static, ()> + Sync),
) -> Result<Vec<String>, Error> {
    let mut removed = Vec::new();
    for (k, _) in retrying(pause, || b.list_tags_for_resource(root_id)).await? {
        if k.starts_with(KEY_PREFIX) {
            retrying(pause, || b.untag_resource(root_id, &k)).await?;
            removed.push(k);
        }
    }
    Ok(removed)
}
