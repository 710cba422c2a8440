//! How the SDK backend sends its requests: each takes a rate-limit token (`limiter`), a lane
//! (the semaphore bounding the requests in flight) and is counted by operation; a paginated
//! listing ([`Listing`]) spends a token only for a page the SDK paginator will really send
//! ([`Cursor`], by the paginator's own rule).

use aws_sdk_organizations as org;
use aws_sdk_organizations::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use super::{map_err, AwsBackend};
use crate::live::Result;

impl AwsBackend {
    /// Takes a lane and counts the request.
    pub(super) async fn lane(&self, op: &str) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.limiter.acquire(op).await;
        self.counter.bump(op);
        self.permit().await
    }

    /// Sends one request of `op` within a lane (counted), its error mapped. `request` is the
    /// SDK's `send()`, which does nothing until it is awaited here, with the lane held.
    pub(super) async fn send<T, E>(
        &self,
        op: &str,
        request: impl std::future::Future<Output = std::result::Result<T, SdkError<E, HttpResponse>>>,
    ) -> Result<T>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let _lane = self.lane(op).await;
        request.await.map_err(map_err)
    }

    /// The next page of a paginated listing, fetched within a lane and counted as one request
    /// of its operation; `None` when the listing is done. A rate-limit token is spent only when
    /// the paginator is about to send a request: its last `next()`, which ends the stream after
    /// a page without a `NextToken`, sends nothing and costs nothing (spending a token there
    /// made every listing cost AWS-time for one request more than it sent, twice the lower
    /// bound on walks of one-page listings).
    pub(super) async fn next_page<O, E>(&self, listing: &mut Listing<O, E>) -> Option<Result<O>>
    where
        O: Paged,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if listing.cursor.will_send() {
            self.limiter.acquire(listing.op).await;
        }
        let _lane = self.permit().await;
        // Polled even when no request is expected: should the SDK ever send one anyway, the
        // page is still read and counted (only its pacing was missed).
        let page = listing.pages.next().await?;
        self.counter.bump(listing.op);
        listing
            .cursor
            .answered(page.as_ref().ok().and_then(Paged::next_token));
        Some(page.map_err(map_err))
    }

    /// Takes a lane. The semaphore is never closed, so this is always `Some`; were it ever
    /// `None`, running without the bound would still be correct, only less polite.
    async fn permit(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.lanes.acquire().await.ok()
    }
}

/// A listing's output page: its `NextToken`.
pub(super) trait Paged {
    fn next_token(&self) -> Option<&str>;
}

macro_rules! paged {
    ($($op:ident :: $out:ident),* $(,)?) => {$(
        impl Paged for org::operation::$op::$out {
            fn next_token(&self) -> Option<&str> {
                org::operation::$op::$out::next_token(self)
            }
        }
    )*};
}

paged!(
    list_roots::ListRootsOutput,
    list_organizational_units_for_parent::ListOrganizationalUnitsForParentOutput,
    list_accounts_for_parent::ListAccountsForParentOutput,
    list_accounts::ListAccountsOutput,
    list_policies::ListPoliciesOutput,
    list_targets_for_policy::ListTargetsForPolicyOutput,
    list_accounts_with_invalid_effective_policy::ListAccountsWithInvalidEffectivePolicyOutput,
    list_effective_policy_validation_errors::ListEffectivePolicyValidationErrorsOutput,
    list_tags_for_resource::ListTagsForResourceOutput,
);

/// Whether the SDK paginator's next `next()` sends a request, by the paginator's own rule:
/// the first always does; a later one only when the last page carried a non-empty
/// `NextToken` different from the token sent for that page (the SDK stops on a repeated
/// token, and after an error).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Cursor {
    /// A page (or an error) has been answered.
    started: bool,
    /// The token the next request would carry, when there will be one.
    next: Option<String>,
}

impl Cursor {
    fn will_send(&self) -> bool {
        !self.started || self.next.is_some()
    }

    /// The last request was answered with this `NextToken` (`None` also for an error).
    fn answered(&mut self, token: Option<&str>) {
        // The request just answered carried the token `next` held.
        let sent = self.next.take();
        self.next = token
            .filter(|t| !t.is_empty() && Some(*t) != sent.as_deref())
            .map(str::to_owned);
        self.started = true;
    }
}

type Pages<O, E> = aws_smithy_async::future::pagination_stream::PaginationStream<
    std::result::Result<O, SdkError<E, HttpResponse>>,
>;

/// One paginated listing in progress: the SDK's page stream, the operation it counts as,
/// and where it stands.
pub(super) struct Listing<O, E> {
    pages: Pages<O, E>,
    op: &'static str,
    cursor: Cursor,
}

impl<O, E> Listing<O, E> {
    pub(super) fn new(pages: Pages<O, E>, op: &'static str) -> Self {
        Listing {
            pages,
            op,
            cursor: Cursor::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::limiter::RateLimiter;
    use crate::live::OrgBackend;
    use aws_config::{BehaviorVersion, Region};
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    #[test]
    fn the_cursor_follows_the_sdk_paginators_rule() {
        let mut c = Cursor::default();
        assert!(c.will_send(), "the first next() always sends");
        c.answered(Some("t1"));
        assert!(c.will_send());
        c.answered(Some(""));
        assert!(!c.will_send(), "an empty token ends the listing");
        let mut c = Cursor::default();
        c.answered(Some("same"));
        c.answered(Some("same"));
        assert!(!c.will_send(), "a repeated token ends the listing");
        let mut c = Cursor::default();
        c.answered(None);
        assert!(!c.will_send(), "no token (or an error) ends the listing");
    }

    /// The answer of the stub Organizations endpoint to `op` asked with `token`.
    fn stub_answer(op: &str, token: Option<&str>) -> String {
        match (op, token) {
            ("ListAccountsForParent", None) => {
                r#"{"Accounts":[{"Id":"111111111111"}],"NextToken":"t1"}"#
            }
            ("ListAccountsForParent", Some("t1")) => {
                r#"{"Accounts":[{"Id":"222222222222"}],"NextToken":"t2"}"#
            }
            ("ListAccountsForParent", _) => r#"{"Accounts":[{"Id":"333333333333"}]}"#,
            ("ListOrganizationalUnitsForParent", _) => {
                r#"{"OrganizationalUnits":[{"Id":"ou-a","Name":"A"}]}"#
            }
            ("ListTargetsForPolicy", _) => r#"{"Targets":[],"NextToken":"same"}"#,
            _ => "{}",
        }
        .to_owned()
    }

    /// A loopback endpoint answering [`stub_answer`]; counts the requests it receives.
    fn stub_endpoint() -> (String, Arc<AtomicU64>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(AtomicU64::new(0));
        let count = received.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let (mut op, mut len) = (String::new(), 0);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if lower.starts_with("x-amz-target:") {
                        op = line.rsplit('.').next().unwrap().trim().to_owned();
                    } else if let Some(v) = lower.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; len];
                reader.read_exact(&mut body).unwrap();
                let input: serde_json::Value = serde_json::from_slice(&body).unwrap();
                count.fetch_add(1, Ordering::SeqCst);
                let answer = stub_answer(&op, input["NextToken"].as_str());
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        (endpoint, received)
    }

    #[tokio::test]
    async fn a_listing_spends_one_token_per_request_sent() {
        let (endpoint, received) = stub_endpoint();
        let conf = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(org::config::Credentials::new("a", "b", None, None, "test"))
            .load()
            .await;
        let limiter = Arc::new(RateLimiter::client(1000.0));
        let b = AwsBackend::with_limiter(&conf, 4, limiter.clone());

        let accounts = b.list_accounts_for_parent("r-1").await.unwrap();
        assert_eq!(accounts.len(), 3, "three pages");
        assert_eq!(received.load(Ordering::SeqCst), 3);
        assert_eq!(limiter.taken(), 3, "no token for the final, empty next()");

        b.list_organizational_units_for_parent("r-1").await.unwrap();
        b.list_targets_for_policy("p-1").await.unwrap();
        // One page of OUs; two requests for the targets (the SDK stops on the repeated token).
        assert_eq!(received.load(Ordering::SeqCst), 6);
        assert_eq!(limiter.taken(), 6);
        assert_eq!(b.stats().total(), 6);
    }
}
