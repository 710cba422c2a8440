//! A CloudTrail record → the request it stands for: the IAM action (through the IAM
//! catalogue and [`EVENT_SOURCES`] / [`EVENT_NAMES`], the documented exceptions), the account,
//! the region, the principal (a role session stands for its role, `sessionIssuer.arn`, never
//! the session ARN) and the context keys the record supports. Unmappable events are counted by
//! the caller, never guessed.

use core::net::IpAddr;

use crate::policy::eval::{Principal, Request};
use crate::policy::iam;

use super::record::Record;

/// eventSources whose service prefix is not the host name's first label.
pub const EVENT_SOURCES: &[(&str, &str)] = &[
    ("monitoring.amazonaws.com", "cloudwatch"),
    ("email.amazonaws.com", "ses"),
    ("sso-directory.amazonaws.com", "sso-directory"),
    ("elasticloadbalancing.amazonaws.com", "elasticloadbalancing"),
];

/// eventNames that are not the IAM action's name: (service prefix, eventName, action name).
/// The authorization AWS checks for the call (Service Authorization Reference).
pub const EVENT_NAMES: &[(&str, &str, &str)] = &[
    ("lambda", "Invoke", "InvokeFunction"),
    ("s3", "ListBuckets", "ListAllMyBuckets"),
    ("s3", "ListObjects", "ListBucket"),
    ("s3", "ListObjectsV2", "ListBucket"),
    ("s3", "ListObjectVersions", "ListBucketVersions"),
    ("s3", "HeadBucket", "ListBucket"),
    ("s3", "HeadObject", "GetObject"),
    ("s3", "CopyObject", "PutObject"),
    ("s3", "CreateMultipartUpload", "PutObject"),
    ("s3", "UploadPart", "PutObject"),
    ("s3", "UploadPartCopy", "PutObject"),
    ("s3", "CompleteMultipartUpload", "PutObject"),
    ("s3", "DeleteObjects", "DeleteObject"),
    ("s3", "GetBucketEncryption", "GetEncryptionConfiguration"),
    ("s3", "PutBucketEncryption", "PutEncryptionConfiguration"),
    ("s3", "DeleteBucketEncryption", "PutEncryptionConfiguration"),
    ("s3", "GetBucketLifecycle", "GetLifecycleConfiguration"),
    ("s3", "PutBucketLifecycle", "PutLifecycleConfiguration"),
    (
        "s3",
        "GetBucketLifecycleConfiguration",
        "GetLifecycleConfiguration",
    ),
    (
        "s3",
        "PutBucketLifecycleConfiguration",
        "PutLifecycleConfiguration",
    ),
    ("s3", "DeleteBucketLifecycle", "PutLifecycleConfiguration"),
];

/// An event mapped to a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    /// `recipientAccountId`: the account that logged the event.
    pub account: String,
    /// The calling principal's account, whose SCPs apply: the principal ARN's account, else
    /// `userIdentity.accountId`, else `recipientAccountId`.
    pub caller_account: String,
    /// The resource owner's account, whose RCPs apply: the first `resources[].accountId`,
    /// else `recipientAccountId`.
    pub resource_account: String,
    pub action: String,
    pub region: String,
    /// `aws:PrincipalArn`.
    pub principal: String,
    pub request: Request,
}

/// Why a record is not a request to evaluate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum NotMapped {
    /// Not a call made by a principal (service events, Insights, network activity).
    NotApiCall,
    /// Called by an AWS service principal: SCPs and RCPs do not apply to it.
    AwsServicePrincipal,
    /// An identity without an IAM principal ARN to evaluate (`AWSAccount`, `SAMLUser`, a
    /// role session without its issuer, ...): its type.
    NoPrincipal(String),
    /// No IAM action for this eventSource and eventName.
    Unmappable { source: String, name: String },
}

/// The IAM service prefix of an eventSource, if the catalogue knows it.
fn service_prefix(source: &str) -> Option<&'static str> {
    let prefix = EVENT_SOURCES
        .iter()
        .find(|(s, _)| s.eq_ignore_ascii_case(source))
        .map(|(_, p)| *p)
        .or_else(|| source.strip_suffix(".amazonaws.com"))?;
    iam::catalogue().service(prefix).map(|s| s.prefix)
}

/// A versioned API name (`CreateFunction20150331`, `GetFunction20150331v2`,
/// `CreateDistribution2020_05_31`) without its version.
fn unversioned(name: &str) -> &str {
    let base = match name.rfind('v') {
        Some(i) if i + 1 < name.len() && name[i + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            &name[..i]
        }
        _ => name,
    };
    let digits = base
        .bytes()
        .rev()
        .take_while(|b| b.is_ascii_digit() || *b == b'_')
        .count();
    let stem = &base[..base.len() - digits];
    let version = &base[stem.len()..];
    if version.starts_with("20") && version.bytes().filter(u8::is_ascii_digit).count() == 8 {
        stem
    } else {
        name
    }
}

/// `service:Action` for an event, with the action's catalogue spelling.
pub fn action(source: &str, name: &str) -> Option<String> {
    let prefix = service_prefix(source)?;
    let service = iam::catalogue().service(prefix)?;
    let renamed = EVENT_NAMES
        .iter()
        .find(|(p, e, _)| *p == prefix && e.eq_ignore_ascii_case(name))
        .map(|(_, _, a)| *a);
    let found = renamed
        .and_then(|a| service.action(a))
        .or_else(|| service.action(name))
        .or_else(|| service.action(unversioned(name)))?;
    Some(format!("{prefix}:{}", found.name))
}

/// The principal ARN AWS evaluates for an identity.
fn principal(r: &Record) -> Result<String, NotMapped> {
    let id = &r.user_identity;
    let missing = || NotMapped::NoPrincipal(id.kind.clone());
    match id.kind.as_str() {
        "AWSService" => Err(NotMapped::AwsServicePrincipal),
        "Root" | "IAMUser" | "FederatedUser" => id.arn.clone().ok_or_else(missing),
        "AssumedRole" => id
            .session_context
            .as_ref()
            .and_then(|c| c.session_issuer.as_ref())
            .and_then(|i| i.arn.clone())
            .filter(|a| a.contains(":role/"))
            .ok_or_else(missing),
        _ => Err(missing()),
    }
}

/// Maps one record; `Err` says why it is not evaluated.
pub fn map(r: &Record) -> Result<Mapped, NotMapped> {
    let api_call = matches!(
        r.event_type.as_deref(),
        None | Some("AwsApiCall") | Some("AwsConsoleAction")
    ) && matches!(
        r.event_category.as_deref(),
        None | Some("Management") | Some("Data")
    );
    if !api_call {
        return Err(NotMapped::NotApiCall);
    }
    let arn = principal(r)?;
    let action = action(&r.event_source, &r.event_name).ok_or_else(|| NotMapped::Unmappable {
        source: r.event_source.clone(),
        name: r.event_name.clone(),
    })?;
    let mut req = Request::new(&action).principal(&arn);
    if !r.aws_region.is_empty() {
        req = req.region(&r.aws_region);
    }
    req.resource = r.resources.iter().find_map(|x| x.arn.clone());
    req = context(r, req);
    let principal = Principal::parse(&arn);
    let recipient = || r.recipient_account_id.clone();
    let caller_account = Some(principal.account)
        .filter(|a| !a.is_empty())
        .or_else(|| r.user_identity.account_id.clone().filter(|a| !a.is_empty()))
        .unwrap_or_else(recipient);
    let resource_account = r
        .resources
        .iter()
        .find_map(|x| x.account_id.clone().filter(|a| !a.is_empty()))
        .unwrap_or_else(recipient);
    Ok(Mapped {
        account: recipient(),
        caller_account,
        resource_account,
        action,
        region: r.aws_region.clone(),
        principal: principal.arn,
        request: req,
    })
}

/// The context keys the record supports.
fn context(r: &Record, mut req: Request) -> Request {
    let id = &r.user_identity;
    match r.source_ip_address.as_deref() {
        Some(ip) if ip.parse::<IpAddr>().is_ok() => {
            req = req
                .set("aws:SourceIp", vec![ip.to_owned()])
                .set("aws:ViaAWSService", vec!["false".into()]);
        }
        Some(service) if service.ends_with(".amazonaws.com") => {
            req = req
                .set("aws:ViaAWSService", vec!["true".into()])
                .set("aws:CalledVia", vec![service.to_owned()]);
        }
        _ => {}
    }
    let session = id.session_context.as_ref();
    if let Some(mfa) = session
        .and_then(|c| c.attributes.as_ref())
        .and_then(|a| a.mfa_authenticated.as_deref())
    {
        req = req.set("aws:MultiFactorAuthPresent", vec![mfa.to_owned()]);
    }
    if let Some(s) = session.and_then(|c| c.source_identity.as_deref()) {
        req = req.set("aws:SourceIdentity", vec![s.to_owned()]);
    }
    if let (Some(user), "IAMUser") = (id.user_name.as_deref(), id.kind.as_str()) {
        req = req.set("aws:username", vec![user.to_owned()]);
    }
    if let Some(v) = r.vpc_endpoint_id.as_deref() {
        req = req.set("aws:SourceVpce", vec![v.to_owned()]);
    }
    if r.tls_details.is_some() {
        req = req.set("aws:SecureTransport", vec!["true".into()]);
    }
    if !r.event_time.is_empty() {
        req = req.set("aws:CurrentTime", vec![r.event_time.clone()]);
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exception_names_a_catalogue_action() {
        for (p, e, a) in EVENT_NAMES {
            let s = iam::catalogue().service(p).unwrap_or_else(|| panic!("{p}"));
            assert!(s.action(a).is_some(), "{p}:{a} for {e}");
        }
        for (src, p) in EVENT_SOURCES {
            assert!(iam::catalogue().service(p).is_some(), "{src} → {p}");
        }
    }

    #[test]
    fn actions_map_through_the_catalogue_and_the_exceptions() {
        assert_eq!(
            action("s3.amazonaws.com", "GetObject").as_deref(),
            Some("s3:GetObject")
        );
        assert_eq!(
            action("s3.amazonaws.com", "ListBuckets").as_deref(),
            Some("s3:ListAllMyBuckets")
        );
        assert_eq!(
            action("monitoring.amazonaws.com", "PutMetricData").as_deref(),
            Some("cloudwatch:PutMetricData")
        );
        assert_eq!(
            action("lambda.amazonaws.com", "CreateFunction20150331").as_deref(),
            Some("lambda:CreateFunction")
        );
        assert_eq!(
            action("lambda.amazonaws.com", "GetFunction20150331v2").as_deref(),
            Some("lambda:GetFunction")
        );
        assert_eq!(action("s3.amazonaws.com", "NoSuchCall"), None);
        assert_eq!(action("nothing.amazonaws.com", "GetObject"), None);
    }

    #[test]
    fn unversioned_keeps_names_without_a_date() {
        assert_eq!(unversioned("CreateFunction20150331"), "CreateFunction");
        assert_eq!(
            unversioned("CreateDistribution2020_05_31"),
            "CreateDistribution"
        );
        assert_eq!(unversioned("ListObjectsV2"), "ListObjectsV2");
        assert_eq!(unversioned("GetObject"), "GetObject");
    }
}
