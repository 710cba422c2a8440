//! IAM's organizations access report behind the [`AccessReportBackend`] trait
//! (`GenerateOrganizationsAccessReport`, then `GetOrganizationsAccessReport` polled until the
//! job completes and read page by page), [`read_report`], which runs that lifecycle with a
//! bounded backoff, and [`entity_path`], which turns an OU path of the config into the entity
//! path IAM wants (`o-…/r-…/ou-…/ou-…`) with one listing per level.
//!
//! The SDK implementation is `access_report_aws.rs`; the in-memory one, which enforces AWS's
//! documented rules (moto does not implement the report), is `access_report_fake.rs`.

use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use time::OffsetDateTime;

use super::{Error, OrgBackend, RequestStats, Result};
use crate::model::{AccessDetail, AccessReport, OuPath};

/// A report job's status (`JobStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    InProgress,
    Completed,
    Failed,
}

/// One `GetOrganizationsAccessReport` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPage {
    pub status: JobStatus,
    pub created: OffsetDateTime,
    /// Set once the job completed (or failed).
    pub completed: Option<OffsetDateTime>,
    /// This page's services (none while the job runs).
    pub details: Vec<AccessDetail>,
    /// The marker of the next page when `IsTruncated`.
    pub next_marker: Option<String>,
    /// `ErrorDetails` of a failed job: its code and message.
    pub error: Option<(String, String)>,
}

/// The two IAM operations of the report. Each implementation counts one request per call in
/// [`AccessReportBackend::stats`].
#[async_trait]
pub trait AccessReportBackend: Send + Sync {
    /// Starts a report job for an entity path; returns its `JobId`.
    async fn generate_organizations_access_report(&self, entity_path: &str) -> Result<String>;
    /// One page of a job's report (`max_items`: `MaxItems`, `None` for IAM's default).
    async fn get_organizations_access_report(
        &self,
        job_id: &str,
        max_items: Option<u32>,
        marker: Option<&str>,
    ) -> Result<ReportPage>;
    fn stats(&self) -> RequestStats;
}

/// How long to wait for a report job: the first pause, doubled after each poll up to `max`,
/// and at most `max_polls` polls before giving up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Polling {
    pub first: Duration,
    pub max: Duration,
    pub max_polls: u32,
}

impl Default for Polling {
    /// 1 s, 2 s, 4 s, 8 s, then every 10 s: about ten minutes over 60 polls, while IAM
    /// usually completes a report in seconds.
    fn default() -> Self {
        Polling {
            first: Duration::from_secs(1),
            max: Duration::from_secs(10),
            max_polls: 60,
        }
    }
}

impl Polling {
    /// The pause before poll `n` (0-based).
    pub fn pause_before(&self, n: u32) -> Duration {
        let doubled = self.first.saturating_mul(1u32 << n.min(16));
        doubled.min(self.max)
    }
}

/// Why no report came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Aws(#[from] Error),
    #[error("the access report job {job} failed: {code}: {message}")]
    JobFailed {
        job: String,
        code: String,
        message: String,
    },
    #[error("the access report job {job} was still running after {polls} polls ({waited:?}); run the command again later")]
    TimedOut {
        job: String,
        polls: u32,
        waited: Duration,
    },
    #[error("IAM repeated the marker {0} for the access report's next page")]
    RepeatedMarker(String),
}

/// The pause between polls: `tokio::time::sleep` in the binary; tests pass one that records.
pub type Pause<'a> = &'a (dyn Fn(Duration) -> BoxFuture<'static, ()> + Sync);

/// Generates the report for `entity_path`, polls until the job completes (pausing as
/// `polling` says) and reads every page.
pub async fn read_report(
    iam: &dyn AccessReportBackend,
    entity_path: &str,
    polling: Polling,
    pause: Pause<'_>,
) -> std::result::Result<AccessReport, ReportError> {
    let job = iam
        .generate_organizations_access_report(entity_path)
        .await?;
    let mut waited = Duration::ZERO;
    let mut polls = 0;
    let first = loop {
        if polls == polling.max_polls {
            return Err(ReportError::TimedOut { job, polls, waited });
        }
        let d = polling.pause_before(polls);
        pause(d).await;
        waited += d;
        polls += 1;
        let page = iam
            .get_organizations_access_report(&job, None, None)
            .await?;
        match page.status {
            JobStatus::InProgress => continue,
            JobStatus::Completed => break page,
            JobStatus::Failed => {
                let (code, message) = page.error.unwrap_or_default();
                return Err(ReportError::JobFailed { job, code, message });
            }
        }
    };
    let mut report = AccessReport {
        entity_path: entity_path.to_owned(),
        created: first.created,
        completed: first.completed.unwrap_or(first.created),
        details: first.details,
    };
    let mut marker = first.next_marker;
    while let Some(m) = marker {
        let page = iam
            .get_organizations_access_report(&job, None, Some(&m))
            .await?;
        if page.next_marker.as_deref() == Some(m.as_str()) {
            return Err(ReportError::RepeatedMarker(m));
        }
        report.details.extend(page.details);
        marker = page.next_marker;
    }
    Ok(report)
}

/// The entity path of an OU (`o-…/r-…/ou-…/ou-…`; the root's for the empty path), found with
/// `ListRoots` and one `ListOrganizationalUnitsForParent` per level; `None` when no OU has
/// that path.
pub async fn entity_path(org: &dyn OrgBackend, ou: &OuPath) -> Result<Option<String>> {
    let root = super::the_root(org).await?;
    let Some((_, org_id)) = root.owner() else {
        return Err(Error::Service {
            code: "UnexpectedRoot".into(),
            message: format!(
                "cannot read the organization id from the root ARN {}",
                root.arn
            ),
        });
    };
    let mut path = format!("{org_id}/{}", root.id);
    let mut parent = root.id;
    for name in ou.segments() {
        let children = org.list_organizational_units_for_parent(&parent).await?;
        let Some(child) = children.into_iter().find(|c| &c.name == name) else {
            return Ok(None);
        };
        path.push('/');
        path.push_str(&child.id);
        parent = child.id;
    }
    Ok(Some(path))
}
