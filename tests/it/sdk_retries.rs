//! The SDK's own retries are said for every service guardrail calls, not only Organizations:
//! the IAM access report's client (and, built the same way, the member accounts' IAM clients
//! and CloudTrail's) tells the process's retry observer of each attempt after the first.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use guardrail::live::access_report::AccessReportBackend;
use guardrail::live::access_report_aws::AwsAccessReport;
use guardrail::live::on_sdk_retry;

use crate::support::rt;

/// A loopback server that answers every request with a JSON header announcing 1,000 bytes,
/// sends ten, and closes: a transient failure the SDK retries.
fn truncating_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 65_536];
            let _ = s.read(&mut buf);
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n<truncated",
            );
        }
    });
    url
}

#[test]
fn the_iam_clients_retries_are_told() {
    let heard: Arc<Mutex<Vec<(String, u32, u32)>>> = Arc::default();
    let sink = heard.clone();
    on_sdk_retry(move |r| {
        sink.lock()
            .unwrap()
            .push((r.operation.clone(), r.attempt, r.attempts))
    });
    let url = truncating_endpoint();
    let err = rt().block_on(async {
        let conf = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&url)
            .credentials_provider(Credentials::for_tests())
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(5)),
            )
            .load()
            .await;
        AwsAccessReport::new(&conf)
            .generate_organizations_access_report("o-abcdefghij/r-abcd")
            .await
            .unwrap_err()
    });
    let heard = heard.lock().unwrap().clone();
    assert_eq!(
        heard,
        vec![
            ("GenerateOrganizationsAccessReport".to_owned(), 2, 3),
            ("GenerateOrganizationsAccessReport".to_owned(), 3, 3),
        ],
        "{err}"
    );
}
