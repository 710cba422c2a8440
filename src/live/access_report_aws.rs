//! The SDK side of [`AccessReportBackend`]: IAM in the management account, with the
//! management account's config (credentials, endpoint, adaptive retries). Translation only.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_iam as iam;
use aws_sdk_iam::primitives::DateTime;
use aws_sdk_iam::types::JobStatusType;
use time::OffsetDateTime;

use super::access_report::{AccessReportBackend, JobStatus, ReportPage};
use super::sdk_error::map_sdk_error;
use super::stats::Counter;
use super::{Error, RequestStats, Result};
use crate::model::AccessDetail;

/// IAM's organizations access report through the SDK.
#[derive(Debug, Clone)]
pub struct AwsAccessReport {
    client: iam::Client,
    counter: Counter,
}

impl AwsAccessReport {
    /// Reports requested with the management account's config.
    pub fn new(config: &SdkConfig) -> Self {
        AwsAccessReport {
            client: iam::Client::from_conf(
                iam::config::Builder::from(config)
                    .retry_classifier(super::sdk_error::DeadEndpointClassifier)
                    .interceptor(super::sdk_error::RetryNotifier::for_config(config))
                    .build(),
            ),
            counter: Counter::default(),
        }
    }
}

/// An SDK instant as a `time` instant; `None` outside `time`'s range.
fn instant(t: &DateTime) -> Option<OffsetDateTime> {
    let nanos = i128::from(t.secs()) * 1_000_000_000 + i128::from(t.subsec_nanos());
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

fn detail(d: &iam::types::AccessDetail) -> AccessDetail {
    AccessDetail {
        service_namespace: d.service_namespace().to_owned(),
        service_name: d.service_name().to_owned(),
        last_authenticated: d.last_authenticated_time().and_then(instant),
        region: d.region().map(str::to_owned),
        entity_path: d.entity_path().map(str::to_owned),
        total_authenticated_entities: d
            .total_authenticated_entities()
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
    }
}

fn status(s: &JobStatusType) -> Result<JobStatus> {
    match s {
        JobStatusType::InProgress => Ok(JobStatus::InProgress),
        JobStatusType::Completed => Ok(JobStatus::Completed),
        JobStatusType::Failed => Ok(JobStatus::Failed),
        other => Err(Error::Service {
            code: "UnknownJobStatus".into(),
            message: format!("IAM answered job status {}", other.as_str()),
        }),
    }
}

#[async_trait]
impl AccessReportBackend for AwsAccessReport {
    async fn generate_organizations_access_report(&self, entity_path: &str) -> Result<String> {
        self.counter.bump("iam:GenerateOrganizationsAccessReport");
        let out = self
            .client
            .generate_organizations_access_report()
            .entity_path(entity_path)
            .send()
            .await
            .map_err(map_sdk_error)?;
        out.job_id()
            .map(str::to_owned)
            .ok_or_else(|| Error::Service {
                code: "MissingJobId".into(),
                message: "GenerateOrganizationsAccessReport answered without a JobId".into(),
            })
    }

    async fn get_organizations_access_report(
        &self,
        job_id: &str,
        max_items: Option<u32>,
        marker: Option<&str>,
    ) -> Result<ReportPage> {
        self.counter.bump("iam:GetOrganizationsAccessReport");
        let out = self
            .client
            .get_organizations_access_report()
            .job_id(job_id)
            .set_max_items(max_items.and_then(|m| i32::try_from(m).ok()))
            .set_marker(marker.map(str::to_owned))
            .send()
            .await
            .map_err(map_sdk_error)?;
        let created = instant(out.job_creation_date()).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        Ok(ReportPage {
            status: status(out.job_status())?,
            created,
            completed: out.job_completion_date().and_then(instant),
            details: out.access_details().iter().map(detail).collect(),
            next_marker: out
                .is_truncated()
                .then(|| out.marker().map(str::to_owned))
                .flatten(),
            error: out
                .error_details()
                .map(|e| (e.code().to_owned(), e.message().to_owned())),
        })
    }

    fn stats(&self) -> RequestStats {
        self.counter.snapshot()
    }
}
