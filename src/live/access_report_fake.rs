//! IAM's organizations access report, in memory, over a [`FakeOrg`], as AWS documents it
//! (moto does not implement the report): only the management account may generate or read a
//! report; SCPs must be enabled on the root; the entity path must name the organization, its
//! root, then OUs each inside the previous one, optionally ending with an account of the last;
//! a job answers `IN_PROGRESS` to a set number of polls, then `COMPLETED` (or `FAILED` when
//! told); an unknown job is `NoSuchEntity`; pages hold `MaxItems` services (1 to 1,000, 100 by
//! default) sorted by namespace, continued with an opaque `Marker`, and may hold fewer than
//! asked while `IsTruncated` (IAM says it may); access older than IAM's tracking period is not
//! reported.
//!
//! Every service of the IAM catalogue is listed (plus any namespace seeded outside it). AWS
//! lists only the services the entity's SCPs allow; the fake does not evaluate SCPs.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use time::OffsetDateTime;

use super::access_report::{AccessReportBackend, JobStatus, ReportPage};
use super::fake::FakeOrg;
use super::stats::Counter;
use super::{Error, RequestStats, Result};
use crate::model::{AccessDetail, LiveOrg, PolicyType};
use crate::policy::limits::{
    ACCESS_REPORT_DEFAULT_ITEMS, ACCESS_REPORT_MAX_ITEMS, ACCESS_REPORT_TRACKING_DAYS,
};

/// The last use of one service in one account.
#[derive(Debug, Clone)]
struct Use {
    at: OffsetDateTime,
    region: String,
    principals: u32,
}

#[derive(Debug, Clone)]
struct Job {
    created: OffsetDateTime,
    completed: Option<OffsetDateTime>,
    /// Polls still to answer `IN_PROGRESS`.
    polls_left: u32,
    /// The report computed at generation, or the failure the job ends with.
    outcome: std::result::Result<Vec<AccessDetail>, (String, String)>,
}

#[derive(Debug)]
struct State {
    now: OffsetDateTime,
    /// The account the calls come from; the management account unless set.
    caller: Option<String>,
    /// Last use by (account, service namespace).
    uses: BTreeMap<(String, String), Use>,
    jobs: BTreeMap<String, Job>,
    in_progress_polls: u32,
    fail_next: Option<(String, String)>,
    /// At most this many services per page whatever `MaxItems` asks (IAM may return fewer).
    page_cap: Option<usize>,
    seq: u64,
}

/// The report over a fake organization.
#[derive(Debug)]
pub struct FakeAccessReport {
    org: Arc<FakeOrg>,
    state: Mutex<State>,
    counter: Counter,
}

fn service(code: &str, message: impl Into<String>) -> Error {
    Error::Service {
        code: code.to_owned(),
        message: message.into(),
    }
}

impl FakeAccessReport {
    /// The report service of `org`, its clock at `now`; jobs complete on their second poll.
    pub fn new(org: Arc<FakeOrg>, now: OffsetDateTime) -> Self {
        FakeAccessReport {
            org,
            state: Mutex::new(State {
                now,
                caller: None,
                uses: BTreeMap::new(),
                jobs: BTreeMap::new(),
                in_progress_polls: 1,
                fail_next: None,
                page_cap: None,
                seq: 0,
            }),
            counter: Counter::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every change is a single insert or field write after its checks: a panic elsewhere
        // cannot leave the state half-changed.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records that `principals` principals of `account` used `namespace` in `region`, last
    /// at `at` (seeding; a later use replaces an earlier one).
    pub fn record_use(
        &self,
        account: &str,
        namespace: &str,
        region: &str,
        at: OffsetDateTime,
        principals: u32,
    ) {
        let u = Use {
            at,
            region: region.to_owned(),
            principals,
        };
        let mut s = self.lock();
        let slot = s
            .uses
            .entry((account.to_owned(), namespace.to_owned()))
            .or_insert_with(|| u.clone());
        if u.at >= slot.at {
            *slot = u;
        }
    }

    pub fn set_now(&self, now: OffsetDateTime) {
        self.lock().now = now;
    }

    /// Calls come from `account` from now on.
    pub fn call_as(&self, account: &str) {
        self.lock().caller = Some(account.to_owned());
    }

    /// New jobs answer `IN_PROGRESS` to this many polls before completing.
    pub fn complete_after(&self, polls: u32) {
        self.lock().in_progress_polls = polls;
    }

    /// The next job ends `FAILED` with this error.
    pub fn fail_next_job(&self, code: &str, message: &str) {
        self.lock().fail_next = Some((code.to_owned(), message.to_owned()));
    }

    /// Pages hold at most `n` services, whatever `MaxItems` asks.
    pub fn cap_pages(&self, n: usize) {
        self.lock().page_cap = Some(n.max(1));
    }

    /// Management account only, SCPs enabled (both operations).
    fn check_caller(&self, live: &LiveOrg) -> Result<()> {
        let caller = self
            .lock()
            .caller
            .clone()
            .unwrap_or_else(|| live.management_account.clone());
        if caller != live.management_account {
            return Err(Error::AccessDenied(format!(
                "account {caller} is not the management account of {}: only the management \
                 account can generate or read an organizations access report",
                live.org_id
            )));
        }
        if !live
            .root
            .enabled_policy_types
            .contains(&PolicyType::ServiceControlPolicy)
        {
            return Err(service(
                "InvalidInput",
                "service control policies must be enabled on the organization root",
            ));
        }
        Ok(())
    }

    /// The accounts an entity path covers, or why the path is not one of the organization.
    fn accounts_under(live: &LiveOrg, path: &str) -> Result<Vec<String>> {
        let bad = || {
            service(
                "InvalidInput",
                format!(
                    "{path} is not an entity path of organization {}",
                    live.org_id
                ),
            )
        };
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let [org, root, rest @ ..] = parts.as_slice() else {
            return Err(bad());
        };
        if *org != live.org_id || *root != live.root.id {
            return Err(bad());
        }
        let mut parent = live.root.id.as_str();
        for (i, id) in rest.iter().enumerate() {
            let ou_here = live.ous.get(*id).filter(|o| o.parent_id == parent);
            let account_last = i + 1 == rest.len()
                && live
                    .accounts
                    .get(*id)
                    .is_some_and(|a| a.parent_id == parent);
            match (ou_here, account_last) {
                (Some(_), _) => parent = id,
                (None, true) => return Ok(vec![(*id).to_owned()]),
                (None, false) => return Err(bad()),
            }
        }
        Ok(live
            .accounts
            .keys()
            .filter(|a| live.is_within(a, parent))
            .cloned()
            .collect())
    }

    /// The report of the accounts under an entity, as of `now`.
    fn compute(
        &self,
        live: &LiveOrg,
        accounts: &[String],
        now: OffsetDateTime,
    ) -> Vec<AccessDetail> {
        let oldest = now - time::Duration::days(ACCESS_REPORT_TRACKING_DAYS.value as i64);
        let s = self.lock();
        let mut by_ns: BTreeMap<String, AccessDetail> = crate::policy::iam::catalogue()
            .services()
            .iter()
            .map(|svc| (svc.prefix.to_owned(), blank(svc.prefix, svc.name)))
            .collect();
        for ((account, ns), u) in &s.uses {
            if !accounts.contains(account) || u.at < oldest || u.at > now {
                continue;
            }
            let d = by_ns.entry(ns.clone()).or_insert_with(|| blank(ns, ns));
            d.total_authenticated_entities += u.principals;
            if d.last_authenticated.is_none_or(|t| u.at > t) {
                d.last_authenticated = Some(u.at);
                d.region = Some(u.region.clone());
                d.entity_path = live_path(live, account);
            }
        }
        by_ns.into_values().collect()
    }
}

fn blank(namespace: &str, name: &str) -> AccessDetail {
    AccessDetail {
        service_namespace: namespace.to_owned(),
        service_name: name.to_owned(),
        last_authenticated: None,
        region: None,
        entity_path: None,
        total_authenticated_entities: 0,
    }
}

/// `o-…/r-…/ou-…/ACCOUNT` of an account.
fn live_path(live: &LiveOrg, account: &str) -> Option<String> {
    let mut ids = vec![account.to_owned()];
    let mut cur = live.accounts.get(account)?.parent_id.clone();
    while cur != live.root.id {
        let ou = live.ous.get(&cur)?;
        ids.push(cur.clone());
        cur = ou.parent_id.clone();
    }
    ids.push(live.root.id.clone());
    ids.push(live.org_id.clone());
    ids.reverse();
    Some(ids.join("/"))
}

/// `Marker`s are opaque to the caller: the job and the offset of the next page.
fn marker(job: &str, offset: usize) -> String {
    format!("{job}:{offset}")
}

fn offset_of(job: &str, m: &str) -> Option<usize> {
    m.strip_prefix(job)?.strip_prefix(':')?.parse().ok()
}

#[async_trait]
impl AccessReportBackend for FakeAccessReport {
    async fn generate_organizations_access_report(&self, entity_path: &str) -> Result<String> {
        self.counter.bump("iam:GenerateOrganizationsAccessReport");
        let live = self.org.snapshot();
        self.check_caller(&live)?;
        let accounts = Self::accounts_under(&live, entity_path)?;
        let now = self.lock().now;
        let details = self.compute(&live, &accounts, now);
        let mut s = self.lock();
        s.seq += 1;
        let id = format!("{:08x}-fake-4000-job-{:012x}", s.seq, s.seq);
        let outcome = match s.fail_next.take() {
            Some(e) => Err(e),
            None => Ok(details),
        };
        let job = Job {
            created: now,
            completed: None,
            polls_left: s.in_progress_polls,
            outcome,
        };
        s.jobs.insert(id.clone(), job);
        Ok(id)
    }

    async fn get_organizations_access_report(
        &self,
        job_id: &str,
        max_items: Option<u32>,
        marker_in: Option<&str>,
    ) -> Result<ReportPage> {
        self.counter.bump("iam:GetOrganizationsAccessReport");
        self.check_caller(&self.org.snapshot())?;
        let max = max_items.map_or(ACCESS_REPORT_DEFAULT_ITEMS.value, |m| m as usize);
        if !(1..=ACCESS_REPORT_MAX_ITEMS.value).contains(&max) {
            return Err(service(
                "ValidationError",
                format!(
                    "MaxItems must be between 1 and {}",
                    ACCESS_REPORT_MAX_ITEMS.value
                ),
            ));
        }
        let mut s = self.lock();
        let (now, cap) = (s.now, s.page_cap);
        let Some(job) = s.jobs.get_mut(job_id) else {
            return Err(Error::NotFound {
                code: "NoSuchEntity".into(),
                message: format!("no access report job {job_id}"),
            });
        };
        let mut page = ReportPage {
            status: JobStatus::InProgress,
            created: job.created,
            completed: job.completed,
            details: Vec::new(),
            next_marker: None,
            error: None,
        };
        if job.completed.is_none() {
            if job.polls_left > 0 {
                job.polls_left -= 1;
                return Ok(page);
            }
            job.completed = Some(now);
            page.completed = job.completed;
        }
        let details = match &job.outcome {
            Err(e) => {
                page.status = JobStatus::Failed;
                page.error = Some(e.clone());
                return Ok(page);
            }
            Ok(d) => d,
        };
        page.status = JobStatus::Completed;
        let start = match marker_in {
            None => 0,
            Some(m) => offset_of(job_id, m)
                .filter(|o| *o < details.len())
                .ok_or_else(|| service("InvalidInput", format!("invalid marker {m}")))?,
        };
        let end = (start + max.min(cap.unwrap_or(usize::MAX))).min(details.len());
        page.details = details[start..end].to_vec();
        page.next_marker = (end < details.len()).then(|| marker(job_id, end));
        Ok(page)
    }

    fn stats(&self) -> RequestStats {
        self.counter.snapshot()
    }
}
