//! CloudTrail records as AWS writes them (the CloudTrail record contents reference), parsed
//! once into types. Only the fields replay uses are named; every other field is ignored, so
//! records of newer event versions still parse.

use serde::Deserialize;

/// One log file: `{"Records": [...]}`. Records stay raw so one bad record spoils only itself.
#[derive(Debug, Deserialize)]
pub struct LogFile {
    #[serde(rename = "Records")]
    pub records: Vec<serde_json::Value>,
}

/// One CloudTrail event record.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Record {
    /// The event's GUID: the same event read twice (two trails, an overlapping sync) has it.
    #[serde(rename = "eventID")]
    pub event_id: Option<String>,
    /// Present when one call was delivered to several accounts (the caller's and the resource
    /// owner's): each copy has its own `eventID` and this one in common.
    #[serde(rename = "sharedEventID")]
    pub shared_event_id: Option<String>,
    pub event_time: String,
    pub event_source: String,
    pub event_name: String,
    pub aws_region: String,
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: Option<String>,
    pub user_identity: UserIdentity,
    pub error_code: Option<String>,
    /// AWS's message for the error; since 2026 an access-denied message ends with the ARN of
    /// the policy that denied (`observe` attributes denials with it).
    pub error_message: Option<String>,
    pub resources: Vec<Resource>,
    /// `AwsApiCall`, `AwsServiceEvent`, `AwsConsoleAction`, `AwsConsoleSignIn`, ...
    pub event_type: Option<String>,
    /// `Management`, `Data`, `Insight`, `NetworkActivity`.
    pub event_category: Option<String>,
    pub recipient_account_id: String,
    pub vpc_endpoint_id: Option<String>,
    pub tls_details: Option<serde_json::Value>,
}

/// `userIdentity`: who called.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserIdentity {
    /// `Root`, `IAMUser`, `AssumedRole`, `Role`, `FederatedUser`, `AWSAccount`,
    /// `AWSService`, `IdentityCenterUser`, `SAMLUser`, `WebIdentityUser`, `Directory`,
    /// `Unknown`.
    #[serde(rename = "type")]
    pub kind: String,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    pub user_name: Option<String>,
    /// The AWS service that made the call for the principal (`ec2.amazonaws.com`).
    pub invoked_by: Option<String>,
    pub session_context: Option<SessionContext>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SessionContext {
    pub session_issuer: Option<SessionIssuer>,
    pub attributes: Option<SessionAttributes>,
    pub source_identity: Option<String>,
}

/// The role (or user) the session was issued from.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SessionIssuer {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SessionAttributes {
    pub creation_date: Option<String>,
    /// `"true"` or `"false"`, a string in CloudTrail.
    pub mfa_authenticated: Option<String>,
}

/// An entry of `resources[]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Resource {
    #[serde(rename = "ARN", alias = "arn")]
    pub arn: Option<String>,
    #[serde(rename = "accountId")]
    pub account_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// Parses one raw record.
pub fn parse(v: serde_json::Value) -> Result<Record, serde_json::Error> {
    serde_json::from_value(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assumed_role_record_parses_into_its_parts() {
        let r = parse(serde_json::json!({
            "eventVersion": "1.09",
            "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/Dev/alice",
                "accountId": "111122223333", "unknownField": 1,
                "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/Dev"},
                    "attributes": {"mfaAuthenticated": "true"}}},
            "eventTime": "2026-11-01T10:00:00Z", "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject", "awsRegion": "eu-west-1", "sourceIPAddress": "203.0.113.7",
            "resources": [{"ARN": "arn:aws:s3:::b/k", "type": "AWS::S3::Object"}],
            "recipientAccountId": "111122223333"
        }))
        .unwrap();
        let issuer = r
            .user_identity
            .session_context
            .as_ref()
            .unwrap()
            .session_issuer
            .as_ref();
        assert_eq!(
            issuer.and_then(|i| i.arn.as_deref()),
            Some("arn:aws:iam::111122223333:role/Dev")
        );
        assert_eq!(r.resources[0].arn.as_deref(), Some("arn:aws:s3:::b/k"));
        assert_eq!(r.event_name, "GetObject");
    }
}
