//! The differential test's vocabulary: the requests, action and resource patterns, condition
//! operators with their keys and values, principals and context values the random cases are
//! drawn from (data only; `cases.rs` draws).

use super::cases::ACCOUNT;

/// Actions with a resource of a type the action takes.
pub(super) const REQUESTS: &[(&str, &str)] = &[
    ("s3:GetObject", "arn:aws:s3:::data-bucket/blue/q1.csv"),
    ("s3:PutObject", "arn:aws:s3:::data-bucket/red/q2.csv"),
    ("s3:ListBucket", "arn:aws:s3:::data-bucket"),
    (
        "ec2:TerminateInstances",
        "arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc",
    ),
    (
        "iam:CreateRole",
        "arn:aws:iam::111122223333:role/app/team-blue-api",
    ),
    ("iam:DeleteRole", "arn:aws:iam::111122223333:role/admin-ops"),
    (
        "sqs:SendMessage",
        "arn:aws:sqs:eu-west-1:111122223333:orders",
    ),
    // Not kms:Decrypt or sts:AssumeRole: the key policy or trust policy must also allow
    // them, which is outside SCPs and RCPs.
];

pub(super) const ACTION_PATTERNS: &[&str] = &[
    "*",
    "s3:*",
    "s3:Get*",
    "S3:GETOBJECT",
    "ec2:Terminate*",
    "iam:*Role",
    "sqs:Send?essage",
    "kms:*",
    "iam:CreateRole",
    "ec2:*Instances",
    "sts:Assume*",
    "s3:Put*",
];

/// An RCP statement's actions (RCPs name a service's actions, never `*`).
pub(super) const RCP_ACTION_PATTERNS: &[&str] = &["s3:*", "sqs:*", "kms:*", "sts:*", "s3:Get*"];

pub(super) const RESOURCE_PATTERNS: &[&str] = &[
    "*",
    "arn:aws:s3:::data-bucket/*",
    "arn:aws:s3:::data-*",
    "arn:aws:iam::*:role/app/*",
    "arn:aws:ec2:*:*:instance/*",
    "arn:aws:*:eu-west-1:*:*",
    "arn:aws:s3:::data-bucket/${aws:PrincipalTag/team}/*",
    "arn:aws:iam::111122223333:role/app/team-${aws:PrincipalTag/team}-*",
    "arn:aws:sqs:*:111122223333:*",
];

/// (operator, key, candidate policy values)
pub(super) const CONDITIONS: &[(&str, &str, &[&str])] = &[
    (
        "StringEquals",
        "aws:RequestedRegion",
        &["eu-west-1", "eu-central-1"],
    ),
    (
        "StringNotEquals",
        "aws:RequestedRegion",
        &["eu-west-1", "us-east-1"],
    ),
    (
        "StringNotEqualsIfExists",
        "aws:RequestedRegion",
        &["eu-west-1"],
    ),
    ("StringLike", "aws:RequestedRegion", &["eu-*", "us-?ast-1"]),
    (
        "StringNotLike",
        "aws:PrincipalTag/team",
        &["bl*", "${aws:PrincipalTag/team}"],
    ),
    (
        "StringEqualsIgnoreCase",
        "aws:PrincipalType",
        &["user", "ASSUMEDROLE"],
    ),
    ("StringEqualsIfExists", "aws:PrincipalTag/team", &["blue"]),
    (
        "StringNotEqualsIfExists",
        "aws:PrincipalOrgID",
        &["o-a1b2c3d4e5"],
    ),
    ("ForAnyValue:StringEquals", "aws:TagKeys", &["env", "owner"]),
    ("ForAnyValue:StringLike", "aws:TagKeys", &["cost-*"]),
    (
        "ForAllValues:StringEquals",
        "aws:TagKeys",
        &["env", "owner", "cost-center"],
    ),
    (
        "ForAllValues:StringLikeIfExists",
        "aws:TagKeys",
        &["e*", "o*"],
    ),
    ("ForAnyValue:StringNotEquals", "aws:TagKeys", &["env"]),
    ("StringEquals", "aws:TagKeys", &["env"]),
    (
        "IpAddress",
        "aws:SourceIp",
        &["10.0.0.0/8", "2001:db8::/32", "192.0.2.10"],
    ),
    (
        "NotIpAddress",
        "aws:SourceIp",
        &["203.0.113.0/24", "2001:db8:1::/48"],
    ),
    ("NotIpAddressIfExists", "aws:SourceIp", &["10.0.0.0/8"]),
    (
        "DateLessThan",
        "aws:CurrentTime",
        &["2026-01-01T00:00:00Z", "2026-06-01T12:00:00+02:00"],
    ),
    (
        "DateGreaterThanEquals",
        "aws:CurrentTime",
        &["2026-03-01T00:00:00Z"],
    ),
    (
        "DateNotEquals",
        "aws:CurrentTime",
        &["2026-03-01T10:00:00Z"],
    ),
    ("NumericLessThan", "aws:MultiFactorAuthAge", &["3600"]),
    (
        "NumericGreaterThanEqualsIfExists",
        "aws:MultiFactorAuthAge",
        &["600", "86400"],
    ),
    ("NumericNotEquals", "aws:MultiFactorAuthAge", &["0"]),
    ("Bool", "aws:SecureTransport", &["false"]),
    ("BoolIfExists", "aws:MultiFactorAuthPresent", &["false"]),
    (
        "ArnLike",
        "aws:PrincipalArn",
        &[
            "arn:aws:iam::*:role/admin*",
            "arn:aws:iam::111122223333:user/*",
        ],
    ),
    (
        "ArnNotLike",
        "aws:PrincipalArn",
        &["arn:aws:iam::*:role/app*"],
    ),
    (
        "ArnEquals",
        "aws:PrincipalArn",
        &["arn:aws:iam::111122223333:root"],
    ),
    (
        "ArnNotEqualsIfExists",
        "aws:SourceArn",
        &["arn:aws:sns:eu-west-1:111122223333:topic"],
    ),
    ("Null", "aws:SourceIp", &["true", "false"]),
    ("Null", "aws:TagKeys", &["false"]),
    (
        "StringEquals",
        "aws:PrincipalAccount",
        &["${aws:ResourceAccount}", "999999999999"],
    ),
    ("BinaryEquals", "aws:UserAgent", &["QmluYXJ5"]),
    // Known divergences (the simulator is wrong; see divergences.json): a CIDR of every IPv4
    // address, and a date in epoch seconds (1767225600 is 2026-01-01T00:00:00Z).
    ("NotIpAddress", "aws:SourceIp", &["0.0.0.0/0"]),
    ("DateGreaterThan", "aws:CurrentTime", &["1767225600"]),
];

pub(super) const PRINCIPALS: &[&str] = &[
    "arn:aws:iam::111122223333:user/ops/alice",
    "arn:aws:sts::111122223333:assumed-role/admin-ops/session",
    "arn:aws:sts::111122223333:assumed-role/app-runner/i-0abc",
    "arn:aws:sts::111122223333:federated-user/bob",
    "arn:aws:iam::111122223333:root",
];

/// Regions a request is sent to (when it names one).
pub(super) const REGIONS: &[&str] = &["eu-west-1", "us-east-1", "ap-south-1"];

/// Tag keys a request may carry in `aws:TagKeys`.
pub(super) const TAG_KEYS: &[&str] = &["env", "owner", "cost-center", "team"];

/// Context keys a request carries half of the time, each with its candidate values.
pub(super) const OPTIONAL_CONTEXT: &[(&str, &[&str])] = &[
    (
        "aws:SourceIp",
        &[
            "10.1.2.3",
            "192.0.2.10",
            "203.0.113.9",
            "2001:db8::5",
            "2001:db8:1::9",
            "2001:db9::1",
        ],
    ),
    (
        "aws:CurrentTime",
        &[
            "2025-12-31T23:30:00Z",
            "2026-01-01T00:30:00+01:00",
            "2026-03-01T10:00:00Z",
            "2026-06-01T09:00:00Z",
        ],
    ),
    ("aws:PrincipalTag/team", &["blue", "red"]),
    ("aws:MultiFactorAuthAge", &["0", "300", "7200"]),
    ("aws:SecureTransport", &["true", "false"]),
    ("aws:MultiFactorAuthPresent", &["true", "false"]),
    ("aws:PrincipalOrgID", &["o-a1b2c3d4e5", "o-zzzzzzzzzz"]),
    ("aws:ResourceAccount", &[ACCOUNT, "999999999999"]),
    ("aws:UserAgent", &["QmluYXJ5", "other"]),
];
