//! CloudTrail's event history (`LookupEvents`), behind the [`EventHistory`] trait: the SDK
//! implementation (`cloudtrail_aws`, which assumes the member role in each member account, as
//! the event history only shows the account's own events) and an in-memory fake
//! (`cloudtrail_fake`). `observe` reads the access-denied events of the last days through it.
//!
//! LookupEvents has no filter on the error code: every management event of the window is read
//! (pages of 50, AWS's maximum) and the caller keeps the denials. AWS allows 2 requests per
//! second per account and region; the SDK backend paces each account and region on its own
//! token bucket (`limiter::RATES`). The event history reaches back 90 days.

use async_trait::async_trait;
use futures::stream::{self, StreamExt};
use time::OffsetDateTime;

use super::{RequestStats, Result};

/// How far back CloudTrail's event history reaches.
pub const MAX_DAYS: u32 = crate::model::EVENT_HISTORY_DAYS;

/// Events per LookupEvents page (AWS's maximum).
pub const PAGE_SIZE: i32 = 50;

/// One account and region's event history.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope {
    pub account: String,
    pub region: String,
}

/// CloudTrail's LookupEvents.
#[async_trait]
pub trait EventHistory: Send + Sync {
    /// The CloudTrail record (each event's `CloudTrailEvent` JSON) of every management event
    /// in one account and region between `start` and `end`, every page.
    async fn lookup_events(
        &self,
        scope: &Scope,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Result<Vec<String>>;

    /// Requests made so far, by operation (one per page).
    fn stats(&self) -> RequestStats;
}

/// The events of every scope, `concurrency` scopes at a time, in scope order, each with its
/// own outcome (a member role that cannot be assumed spoils only its account). When every
/// scope failed, the first error: nothing was read, so the run itself failed.
pub async fn read_events(
    history: &dyn EventHistory,
    scopes: &[Scope],
    start: OffsetDateTime,
    end: OffsetDateTime,
    concurrency: usize,
) -> Result<Vec<(Scope, Result<Vec<String>>)>> {
    let mut out: Vec<(Scope, Result<Vec<String>>)> = stream::iter(scopes.iter().cloned())
        .map(|scope| async move {
            let events = history.lookup_events(&scope, start, end).await;
            (scope, events)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    out.sort_by(|a, b| a.0.cmp(&b.0));
    if !out.is_empty() && out.iter().all(|(_, r)| r.is_err()) {
        if let Some((_, Err(e))) = out.into_iter().next() {
            return Err(e);
        }
        return Ok(Vec::new());
    }
    Ok(out)
}
