//! IAM's organizations access report (service last accessed data for a root, OU or account),
//! as `live` reads it and `suggest` uses it: one row per service the entity's SCPs let its
//! accounts reach, with the most recent attempt to use it, if any.

use time::OffsetDateTime;

/// One service of the report (`AccessDetail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessDetail {
    /// The service's IAM prefix (`ServiceNamespace`: `s3`, `ec2`, ...).
    pub service_namespace: String,
    /// The service's name (`ServiceName`: "Amazon S3").
    pub service_name: String,
    /// When a principal of an account below the entity last tried to use the service
    /// (`LastAuthenticatedTime`); `None` when no attempt falls in IAM's tracking period.
    pub last_authenticated: Option<OffsetDateTime>,
    /// The region of that last attempt.
    pub region: Option<String>,
    /// The entity path (`o-…/r-…/ou-…/ACCOUNT`) the last attempt came from.
    pub entity_path: Option<String>,
    /// How many principals (root users, IAM users and roles) tried to use it.
    pub total_authenticated_entities: u32,
}

/// A completed report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessReport {
    /// The entity the report is for (`o-…/r-…/ou-…`).
    pub entity_path: String,
    /// When the report job was created and completed (`JobCreationDate`,
    /// `JobCompletionDate`); the data is as of the completion.
    pub created: OffsetDateTime,
    pub completed: OffsetDateTime,
    /// Every service, in the order IAM returned them (by namespace).
    pub details: Vec<AccessDetail>,
}
