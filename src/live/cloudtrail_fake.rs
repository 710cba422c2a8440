//! An in-memory [`EventHistory`]: events per account and region, answered as LookupEvents
//! does (the window's events, newest first, in pages of [`PAGE_SIZE`], one request counted per
//! page), and nothing older than [`MAX_DAYS`] before the newest event asked about.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use time::OffsetDateTime;

use super::cloudtrail::{EventHistory, Scope, MAX_DAYS, PAGE_SIZE};
use super::stats::Counter;
use super::{Error, RequestStats, Result};

/// Events by account and region.
#[derive(Debug, Default)]
pub struct FakeEventHistory {
    events: Mutex<BTreeMap<Scope, Vec<(OffsetDateTime, String)>>>,
    /// Accounts whose member role cannot be assumed.
    refused: Mutex<Vec<String>>,
    counter: Counter,
}

impl FakeEventHistory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one event (a CloudTrail record): its account and region and time come from
    /// its `recipientAccountId`, `awsRegion` and `eventTime`. `None` when it has none of them.
    pub fn record(&self, event: &serde_json::Value) -> Option<()> {
        let account = event.get("recipientAccountId")?.as_str()?.to_owned();
        let region = event.get("awsRegion")?.as_str()?.to_owned();
        let time = crate::replay::parse_time(event.get("eventTime")?.as_str()?).ok()?;
        let mut m = self.events.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(Scope { account, region })
            .or_default()
            .push((time, event.to_string()));
        Some(())
    }

    /// Makes the account's member role refuse AssumeRole (AccessDenied on every lookup).
    pub fn refuse(&self, account: &str) {
        self.refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(account.to_owned());
    }
}

#[async_trait]
impl EventHistory for FakeEventHistory {
    async fn lookup_events(
        &self,
        scope: &Scope,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Result<Vec<String>> {
        let refused = self
            .refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&scope.account);
        if refused {
            self.counter.bump("sts:AssumeRole");
            return Err(Error::AccessDenied(format!(
                "cannot assume the member role in account {}",
                scope.account
            )));
        }
        let oldest = end - time::Duration::days(i64::from(MAX_DAYS));
        let mut found: Vec<(OffsetDateTime, String)> = self
            .events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(scope)
            .map(|v| {
                v.iter()
                    .filter(|(t, _)| *t >= start.max(oldest) && *t <= end)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        found.sort_by_key(|e| std::cmp::Reverse(e.0));
        // One request per page; an empty history still answers one (empty) page.
        let pages = found.len().div_ceil(PAGE_SIZE as usize).max(1);
        for _ in 0..pages {
            self.counter.bump("cloudtrail:LookupEvents");
        }
        Ok(found.into_iter().map(|(_, e)| e).collect())
    }

    fn stats(&self) -> RequestStats {
        self.counter.snapshot()
    }
}
