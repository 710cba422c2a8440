//! Member-account credentials through the real SDK against moto: the IAM client of each
//! member account gets its credentials from the SDK's refreshing AssumeRole provider, so once
//! the assumed session expires the next request assumes the role again instead of failing.
//! Time is the SDK's time source, a clock the test moves by hand (no timers, no waiting).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_smithy_async::time::TimeSource;
use guardrail::live::iam::{IamAccount, IamBackend};
use guardrail::live::iam_aws::AwsIam;

/// A clock that only moves when told to.
#[derive(Debug, Clone)]
struct HandClock(Arc<Mutex<SystemTime>>);

impl HandClock {
    fn set(&self, to: SystemTime) {
        *self.0.lock().unwrap() = to;
    }
}

impl TimeSource for HandClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

#[test]
fn member_credentials_are_assumed_again_once_the_session_expires() {
    let moto = crate::moto::moto();
    let start = SystemTime::now();
    let clock = HandClock(Arc::new(Mutex::new(start)));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let base = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&moto.endpoint)
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .time_source(clock.clone())
            .load()
            .await;
        let iam = AwsIam::new(&base, "aws", 2);
        let member = IamAccount {
            id: "210987654321".into(),
            role: "OrganizationAccountAccessRole".into(),
        };
        let other = IamAccount {
            id: "310987654321".into(),
            role: "OrganizationAccountAccessRole".into(),
        };
        let assumed = || iam.stats().get("sts:AssumeRole");

        iam.list_roles_with_boundaries(&member).await.unwrap();
        iam.list_roles_with_boundaries(&member).await.unwrap();
        assert_eq!(assumed(), 1, "the session is reused while it is valid");

        // moto's sessions last an hour (AWS's default); two hours later it has expired.
        clock.set(start + Duration::from_secs(2 * 3600));
        iam.list_roles_with_boundaries(&member).await.unwrap();
        assert_eq!(assumed(), 2, "an expired session is assumed again");
        // moto stamps the new session with its own (real) clock: an hour from the real now.
        // Back at that now, the new session is valid and reused.
        clock.set(start);
        iam.list_roles_with_boundaries(&member).await.unwrap();
        assert_eq!(assumed(), 2, "and the new one is reused");

        // Each account has its own session.
        iam.list_roles_with_boundaries(&other).await.unwrap();
        assert_eq!(assumed(), 3);
        let stats = iam.stats();
        assert_eq!(stats.get("iam:GetAccountAuthorizationDetails"), 5);
    });
}
