//! IAM's organizations access report: the fake's rules (AWS's, as its API reference and the
//! service last accessed data pages state them; moto does not implement the report), and
//! `live::access_report::read_report`'s polling and paging against it, with a recorded pause
//! instead of sleeps.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use guardrail::live::access_report::{
    entity_path, read_report, AccessReportBackend, JobStatus, Polling, ReportError,
};
use guardrail::live::access_report_fake::FakeAccessReport;
use guardrail::live::fake::FakeOrg;
use guardrail::live::{Error, OrgBackend};
use guardrail::model::OuPath;
use time::{Date, Month, OffsetDateTime};

use crate::support::rt;

pub const MGMT: &str = "111111111111";

pub fn now() -> OffsetDateTime {
    Date::from_calendar_date(2026, Month::November, 20)
        .unwrap()
        .midnight()
        .assume_utc()
}

pub fn days_ago(n: i64) -> OffsetDateTime {
    now() - time::Duration::days(n)
}

/// Workloads/Prod (two accounts) and Sandbox (one account).
pub struct Org {
    pub fake: Arc<FakeOrg>,
    pub prod: String,
    pub prod_accounts: [String; 2],
    pub sandbox_account: String,
}

pub async fn org() -> Org {
    let fake = Arc::new(FakeOrg::new(MGMT));
    let root = fake.root_id();
    let workloads = fake
        .create_organizational_unit(&root, "Workloads")
        .await
        .unwrap();
    let prod = fake
        .create_organizational_unit(&workloads, "Prod")
        .await
        .unwrap();
    let sandbox = fake
        .create_organizational_unit(&root, "Sandbox")
        .await
        .unwrap();
    let a = fake
        .add_account("pay", "pay@example.com", &prod)
        .await
        .unwrap();
    let b = fake
        .add_account("web", "web@example.com", &prod)
        .await
        .unwrap();
    let s = fake
        .add_account("play", "play@example.com", &sandbox)
        .await
        .unwrap();
    Org {
        fake,
        prod,
        prod_accounts: [a, b],
        sandbox_account: s,
    }
}

/// A pause that records what it was asked to wait and returns at once.
pub fn recorder() -> (
    Arc<Mutex<Vec<Duration>>>,
    impl Fn(Duration) -> BoxFuture<'static, ()> + Sync,
) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    let pause = move |d: Duration| -> BoxFuture<'static, ()> {
        l.lock().unwrap().push(d);
        Box::pin(async {})
    };
    (log, pause)
}

fn code(e: &Error) -> &str {
    match e {
        Error::Service { code, .. } | Error::NotFound { code, .. } => code,
        Error::AccessDenied(_) => "AccessDenied",
        _ => "",
    }
}

async fn prod_path(o: &Org) -> String {
    let p = OuPath::parse("Workloads/Prod").unwrap();
    entity_path(o.fake.as_ref(), &p).await.unwrap().unwrap()
}

#[test]
fn entity_paths_are_resolved_level_by_level() {
    rt().block_on(async {
        let o = org().await;
        let path = prod_path(&o).await;
        let parts: Vec<&str> = path.split('/').collect();
        assert_eq!(parts.len(), 4, "{path}");
        assert!(parts[0].starts_with("o-") && parts[1] == o.fake.root_id());
        assert_eq!(parts[3], o.prod);
        let missing = OuPath::parse("Workloads/Dev").unwrap();
        assert_eq!(entity_path(o.fake.as_ref(), &missing).await.unwrap(), None);
        let root = entity_path(o.fake.as_ref(), &OuPath::root()).await.unwrap();
        assert_eq!(root.as_deref(), Some(parts[..2].join("/").as_str()));
    });
}

#[test]
fn only_the_management_account_may_generate_or_read_a_report() {
    rt().block_on(async {
        let o = org().await;
        let iam = FakeAccessReport::new(o.fake.clone(), now());
        let path = prod_path(&o).await;
        let job = iam
            .generate_organizations_access_report(&path)
            .await
            .unwrap();
        iam.call_as(&o.prod_accounts[0]);
        let e = iam
            .generate_organizations_access_report(&path)
            .await
            .unwrap_err();
        assert_eq!(code(&e), "AccessDenied", "{e}");
        let e = iam
            .get_organizations_access_report(&job, None, None)
            .await
            .unwrap_err();
        assert_eq!(code(&e), "AccessDenied", "{e}");
        iam.call_as(MGMT);
        iam.get_organizations_access_report(&job, None, None)
            .await
            .unwrap();
    });
}

#[test]
fn an_entity_path_must_follow_the_organization_tree() {
    rt().block_on(async {
        let o = org().await;
        let iam = FakeAccessReport::new(o.fake.clone(), now());
        let path = prod_path(&o).await;
        let parts: Vec<&str> = path.split('/').collect();
        let (org_id, root) = (parts[0], parts[1]);
        let account = &o.prod_accounts[0];
        let bad = [
            format!("o-zzzzzzzzzz/{root}/{}", o.prod),
            format!("{org_id}/r-nope/{}", o.prod),
            // Prod is not a child of the root: the path skips Workloads.
            format!("{org_id}/{root}/{}", o.prod),
            format!("{org_id}/{root}/{}/{account}/{}", parts[2], o.prod),
            format!("{path}/{}", o.sandbox_account),
            format!("{path}/ou-f4k3-00000099"),
            org_id.to_owned(),
            String::new(),
        ];
        for p in &bad {
            let e = iam
                .generate_organizations_access_report(p)
                .await
                .unwrap_err();
            assert_eq!(code(&e), "InvalidInput", "{p}: {e}");
        }
        for good in [
            format!("{org_id}/{root}"),
            path.clone(),
            format!("{path}/{account}"),
            format!("{org_id}/{root}/{MGMT}"),
        ] {
            iam.generate_organizations_access_report(&good)
                .await
                .unwrap_or_else(|e| panic!("{good}: {e}"));
        }
    });
}

#[test]
fn a_job_runs_then_completes_and_an_unknown_job_is_no_such_entity() {
    rt().block_on(async {
        let o = org().await;
        let iam = FakeAccessReport::new(o.fake.clone(), now());
        iam.record_use(&o.prod_accounts[0], "s3", "eu-west-1", days_ago(1), 2);
        iam.complete_after(2);
        let job = iam
            .generate_organizations_access_report(&prod_path(&o).await)
            .await
            .unwrap();
        for _ in 0..2 {
            let p = iam
                .get_organizations_access_report(&job, None, None)
                .await
                .unwrap();
            assert_eq!(p.status, JobStatus::InProgress);
            assert!(p.details.is_empty() && p.completed.is_none() && p.next_marker.is_none());
        }
        let p = iam
            .get_organizations_access_report(&job, None, None)
            .await
            .unwrap();
        assert_eq!(p.status, JobStatus::Completed);
        assert_eq!(p.completed, Some(now()));
        assert_eq!(p.details.len(), 100, "IAM's default page");
        assert!(p.next_marker.is_some());
        let e = iam
            .get_organizations_access_report("no-such-job", None, None)
            .await
            .unwrap_err();
        assert_eq!(code(&e), "NoSuchEntity", "{e}");
    });
}

#[test]
fn max_items_and_markers_are_checked() {
    rt().block_on(async {
        let o = org().await;
        let iam = FakeAccessReport::new(o.fake.clone(), now());
        iam.complete_after(0);
        let job = iam
            .generate_organizations_access_report(&prod_path(&o).await)
            .await
            .unwrap();
        for bad in [0, 1001] {
            let e = iam
                .get_organizations_access_report(&job, Some(bad), None)
                .await
                .unwrap_err();
            assert_eq!(code(&e), "ValidationError", "MaxItems {bad}: {e}");
        }
        let all = iam
            .get_organizations_access_report(&job, Some(1000), None)
            .await
            .unwrap();
        assert!(all.next_marker.is_none(), "every service fits in 1,000");
        let first = iam
            .get_organizations_access_report(&job, Some(3), None)
            .await
            .unwrap();
        let next = first.next_marker.unwrap();
        let second = iam
            .get_organizations_access_report(&job, Some(3), Some(&next))
            .await
            .unwrap();
        assert_eq!(second.details[..], all.details[3..6]);
        for m in ["garbage", "other-job:3"] {
            let e = iam
                .get_organizations_access_report(&job, None, Some(m))
                .await
                .unwrap_err();
            assert_eq!(code(&e), "InvalidInput", "{m}: {e}");
        }
    });
}

#[test]
fn the_reader_polls_with_a_bounded_backoff_and_reads_every_page() {
    rt().block_on(async {
        let o = org().await;
        let iam = FakeAccessReport::new(o.fake.clone(), now());
        iam.complete_after(5);
        // Pages shorter than MaxItems while IsTruncated: the reader follows the marker.
        iam.cap_pages(37);
        let (log, pause) = recorder();
        let report = read_report(&iam, &prod_path(&o).await, Polling::default(), &pause)
            .await
            .unwrap();
        let secs: Vec<u64> = log.lock().unwrap().iter().map(|d| d.as_secs()).collect();
        assert_eq!(
            secs,
            [1, 2, 4, 8, 10, 10],
            "five IN_PROGRESS answers, then COMPLETED"
        );
        let n = guardrail::policy::iam::catalogue().services().len();
        assert_eq!(report.details.len(), n, "every service, once");
        let mut names: Vec<&str> = report
            .details
            .iter()
            .map(|d| d.service_namespace.as_str())
            .collect();
        names.dedup();
        assert_eq!(names.len(), n);
        let gets = iam.stats().get("iam:GetOrganizationsAccessReport");
        assert_eq!(
            gets as usize,
            5 + n.div_ceil(37),
            "polls, then one request per page"
        );
        assert_eq!(iam.stats().get("iam:GenerateOrganizationsAccessReport"), 1);
    });
}

#[test]
fn the_reader_gives_up_after_its_polls_and_reports_a_failed_job() {
    rt().block_on(async {
        let o = org().await;
        let iam = FakeAccessReport::new(o.fake.clone(), now());
        let path = prod_path(&o).await;
        iam.complete_after(1_000);
        let (log, pause) = recorder();
        let polling = Polling {
            max_polls: 5,
            ..Polling::default()
        };
        match read_report(&iam, &path, polling, &pause).await {
            Err(ReportError::TimedOut { polls, waited, .. }) => {
                assert_eq!(polls, 5);
                assert_eq!(waited, Duration::from_secs(1 + 2 + 4 + 8 + 10));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(log.lock().unwrap().len(), 5);

        iam.complete_after(0);
        iam.fail_next_job("ReportFailed", "the report could not be generated");
        match read_report(&iam, &path, Polling::default(), &pause).await {
            Err(ReportError::JobFailed { code, message, .. }) => {
                assert_eq!(code, "ReportFailed");
                assert_eq!(message, "the report could not be generated");
            }
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn the_report_covers_the_entitys_accounts_within_the_tracking_period() {
    rt().block_on(async {
        let o = org().await;
        let iam = FakeAccessReport::new(o.fake.clone(), now());
        let [a, b] = &o.prod_accounts;
        iam.record_use(a, "s3", "eu-west-1", days_ago(3), 2);
        iam.record_use(b, "s3", "us-east-1", days_ago(1), 3);
        iam.record_use(a, "sqs", "eu-west-1", days_ago(399), 1);
        iam.record_use(a, "sns", "eu-west-1", days_ago(401), 1);
        iam.record_use(&o.sandbox_account, "lambda", "eu-west-1", days_ago(1), 1);
        iam.complete_after(0);
        let (_, pause) = recorder();
        let path = prod_path(&o).await;
        let r = read_report(&iam, &path, Polling::default(), &pause)
            .await
            .unwrap();
        let get = |ns: &str| {
            r.details
                .iter()
                .find(|d| d.service_namespace == ns)
                .unwrap()
        };
        let s3 = get("s3");
        assert_eq!(s3.last_authenticated, Some(days_ago(1)));
        assert_eq!(s3.region.as_deref(), Some("us-east-1"));
        assert_eq!(s3.entity_path, Some(format!("{path}/{b}")));
        assert_eq!(s3.total_authenticated_entities, 5);
        assert_eq!(get("sqs").last_authenticated, Some(days_ago(399)));
        assert_eq!(get("sns").last_authenticated, None, "older than 400 days");
        assert_eq!(
            get("lambda").last_authenticated,
            None,
            "another OU's account"
        );
        assert_eq!(r.completed, now());

        let one = read_report(&iam, &format!("{path}/{a}"), Polling::default(), &pause)
            .await
            .unwrap();
        let s3 = one
            .details
            .iter()
            .find(|d| d.service_namespace == "s3")
            .unwrap();
        assert_eq!(
            (s3.last_authenticated, s3.total_authenticated_entities),
            (Some(days_ago(3)), 2)
        );
    });
}

#[test]
fn scps_must_be_enabled_on_the_root() {
    rt().block_on(async {
        let o = org().await;
        let iam = FakeAccessReport::new(o.fake.clone(), now());
        let path = prod_path(&o).await;
        let root = o.fake.root_id();
        o.fake
            .disable_policy_type(&root, guardrail::model::PolicyType::ServiceControlPolicy)
            .await
            .unwrap();
        let e = iam
            .generate_organizations_access_report(&path)
            .await
            .unwrap_err();
        assert_eq!(code(&e), "InvalidInput", "{e}");
        assert!(e.to_string().contains("service control policies"), "{e}");
    });
}
