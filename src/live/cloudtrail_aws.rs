//! The SDK side of [`EventHistory`]: one CloudTrail client per account and region (the
//! management account with the run's own credentials, a member account through the member
//! role, assumed with the same refreshing provider as IAM), each page paced on that account and
//! region's token bucket (LookupEvents: 2 per second per account and region). Translation only.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_config::{Region, SdkConfig};
use aws_sdk_cloudtrail as cloudtrail;
use aws_sdk_cloudtrail::primitives::DateTime;
use time::OffsetDateTime;
use tokio::sync::Mutex;

use super::cloudtrail::{EventHistory, Scope, PAGE_SIZE};
use super::iam::IamAccount;
use super::iam_aws::{map_err, member_credentials, with_time_source};
use super::limiter::RateLimiter;
use super::stats::Counter;
use super::{RequestStats, Result};

/// A scope's client and its token bucket.
type Client = (cloudtrail::Client, Arc<RateLimiter>);

/// CloudTrail's event history through the SDK.
#[derive(Debug, Clone)]
pub struct AwsEventHistory {
    base: SdkConfig,
    partition: String,
    management_account: String,
    member_role: String,
    rate_scale: f64,
    clients: Arc<Mutex<HashMap<Scope, Client>>>,
    counter: Counter,
}

impl AwsEventHistory {
    /// `base`: the management account's config; `member_role`: the role assumed in member
    /// accounts; `rate_scale` multiplies AWS's rate (1.0 against AWS).
    pub fn new(
        base: &SdkConfig,
        partition: &str,
        management_account: &str,
        member_role: &str,
        rate_scale: f64,
    ) -> Self {
        AwsEventHistory {
            base: with_time_source(base),
            partition: if partition.is_empty() {
                "aws".to_owned()
            } else {
                partition.to_owned()
            },
            management_account: management_account.to_owned(),
            member_role: member_role.to_owned(),
            rate_scale: if rate_scale > 0.0 { rate_scale } else { 1.0 },
            clients: Arc::new(Mutex::new(HashMap::new())),
            counter: Counter::default(),
        }
    }

    /// The client and token bucket of one account and region (built once; nothing is sent).
    async fn client(&self, scope: &Scope) -> Client {
        let mut clients = self.clients.lock().await;
        if let Some(c) = clients.get(scope) {
            return c.clone();
        }
        let mut conf = cloudtrail::config::Builder::from(&self.base)
            .region(Region::new(scope.region.clone()))
            .retry_classifier(super::sdk_error::DeadEndpointClassifier)
            .interceptor(super::sdk_error::RetryNotifier::for_config(&self.base));
        if scope.account != self.management_account {
            let account = IamAccount {
                id: scope.account.clone(),
                role: self.member_role.clone(),
            };
            let creds =
                member_credentials(&self.base, &self.partition, &account, &self.counter).await;
            conf = conf.credentials_provider(creds);
        }
        let entry = (
            cloudtrail::Client::from_conf(conf.build()),
            Arc::new(RateLimiter::client(self.rate_scale)),
        );
        clients.insert(scope.clone(), entry.clone());
        entry
    }
}

fn instant(t: OffsetDateTime) -> DateTime {
    DateTime::from_secs(t.unix_timestamp())
}

#[async_trait]
impl EventHistory for AwsEventHistory {
    async fn lookup_events(
        &self,
        scope: &Scope,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Result<Vec<String>> {
        let (client, limiter) = self.client(scope).await;
        let mut events = Vec::new();
        let mut token: Option<String> = None;
        loop {
            limiter.acquire("LookupEvents").await;
            self.counter.bump("cloudtrail:LookupEvents");
            let page = client
                .lookup_events()
                .start_time(instant(start))
                .end_time(instant(end))
                .max_results(PAGE_SIZE)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(map_err)?;
            events.extend(
                page.events()
                    .iter()
                    .filter_map(|e| e.cloud_trail_event().map(str::to_owned)),
            );
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(events),
            }
        }
    }

    fn stats(&self) -> RequestStats {
        self.counter.snapshot()
    }
}
