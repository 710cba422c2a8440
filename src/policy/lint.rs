//! Lint: every document, templated or plain, is checked before anything else. Each finding has
//! a stable code (`GR0xx`), a severity graded like AWS's own policy validation (error,
//! security, warning, suggestion) and names the statement. The rule table [`RULES`] carries
//! each rule's documentation; `docs/lint.md` is generated from it.

use serde_json::Value;

use super::eval::{parse_operator, SetQualifier};
use crate::model::PolicyType;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Security,
    Warning,
    Suggestion,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Security => "security",
            Severity::Warning => "warning",
            Severity::Suggestion => "suggestion",
        }
    }
}

/// A lint rule and its documentation.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub what: &'static str,
    pub why: &'static str,
    pub example: &'static str,
    pub instead: &'static str,
}

macro_rules! rules {
    ($($id:ident = $code:literal, $name:literal, $sev:ident, $what:literal, $why:literal, $ex:literal, $inst:literal;)*) => {
        $(pub const $id: Rule = Rule { code: $code, name: $name, severity: Severity::$sev, what: $what, why: $why, example: $ex, instead: $inst };)*
        /// Every rule, by code.
        pub const RULES: &[Rule] = &[$($id),*];
    };
}

rules! {
    TOP_LEVEL = "GR002", "top-level-element", Error,
        "Checks that the document is an object with only `Version`, `Statement` and `Id`.",
        "AWS rejects other elements with MalformedPolicyDocument.",
        r#"{"Version":"2012-10-17","Statement":[...],"Comment":"x"}"#, r#"{"Version":"2012-10-17","Statement":[...]}"#;
    VERSION = "GR003", "version", Error,
        "Checks that `Version` is `2012-10-17`.",
        "Without it (or with 2008-10-17) policy variables and newer features are not evaluated as written.",
        r#"{"Statement":[...]}"#, r#"{"Version":"2012-10-17","Statement":[...]}"#;
    STATEMENT = "GR004", "statement", Error,
        "Checks that `Statement` is a non-empty object or list of objects.",
        "A policy without statements does nothing, and AWS rejects it.",
        r#"{"Version":"2012-10-17","Statement":[]}"#, r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny",...}]}"#;
    EFFECT = "GR005", "effect", Error,
        "Checks that every statement has `Effect` `Allow` or `Deny`.",
        "AWS rejects any other value.",
        r#"{"Effect":"deny",...}"#, r#"{"Effect":"Deny",...}"#;
    ACTION_ELEMENT = "GR006", "action-element", Error,
        "Checks that a statement has exactly one of `Action` and `NotAction`.",
        "Neither is invalid; both is invalid.",
        r#"{"Effect":"Deny","Resource":"*"}"#, r#"{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}"#;
    PRINCIPAL = "GR007", "principal", Error,
        "SCPs may not name `Principal` or `NotPrincipal`; RCPs need `Principal: \"*\"` and no `NotPrincipal`.",
        "SCPs apply to every principal of the accounts below them; scope with `aws:PrincipalArn` conditions instead.",
        r#"{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::1:role/x"},...}"#, r#"{"Effect":"Deny",...,"Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/x"}}}"#;
    ACTION_SHAPE = "GR008", "action-shape", Error,
        "Checks that each action is `*` or `service:Action`: a service prefix of letters, digits, `-` and wildcards, a colon, and a non-empty action name. Case does not matter: AWS matches the prefix and the action name case-insensitively, so `EC2:TerminateInstances` is valid (GR022 suggests the conventional case).",
        "A malformed action matches nothing, so the guardrail silently does not apply.",
        r#""Action":"s3 DeleteBucket""#, r#""Action":"s3:DeleteBucket""#;
    SERVICE_PREFIX = "GR009", "service-prefix", Warning,
        "Warns when an action's service prefix is not a known AWS service (compared case-insensitively, as AWS does).",
        "A misspelt prefix (`cloudtrial:`) matches nothing.",
        r#""Action":"cloudtrial:StopLogging""#, r#""Action":"cloudtrail:StopLogging""#;
    OPERATOR = "GR010", "condition-operator", Error,
        "Checks condition operators, with `IfExists` and `ForAnyValue:`/`ForAllValues:`.",
        "AWS rejects unknown operators; `NullIfExists` does not exist.",
        r#""Condition":{"StringNotEqual":{...}}"#, r#""Condition":{"StringNotEquals":{...}}"#;
    CONDITION_KEY = "GR011", "condition-key-shape", Error,
        "Checks that condition keys look like `prefix:name`.",
        "A key without a service prefix is never present in a request.",
        r#""RequestedRegion":"eu-west-1""#, r#""aws:RequestedRegion":"eu-west-1""#;
    GLOBAL_KEY = "GR012", "global-condition-key", Warning,
        "Warns about `aws:` keys that are not global condition keys, suggesting the closest one.",
        "A misspelt key is absent from every request: a normal operator is then false and a negated one true, so the statement silently denies everything or nothing.",
        r#""aws:RequestRegion""#, r#""aws:RequestedRegion""#;
    REGION_LOCK_GLOBALS = "GR013", "region-lock-global-services", Warning,
        "Warns when a Deny conditioned on `aws:RequestedRegion` does not exempt the global services (IAM, STS, Organizations, ...).",
        "Global services answer in us-east-1: without exemptions, logins, AssumeRole, support and the deployer itself break outside us-east-1.",
        r#"{"Effect":"Deny","Action":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}}"#, "use the region-lock template, or `NotAction` with the global services";
    DENY_ALL = "GR014", "deny-everything", Security,
        "Flags a Deny of every action with no condition.",
        "It denies everything to everyone in the accounts below, including the deployer and break-glass: a lockout.",
        r#"{"Effect":"Deny","Action":"*","Resource":"*"}"#, "add the condition that scopes it, and exempt the deployer and break-glass principals";
    STATEMENT_ELEMENT = "GR015", "statement-element", Error,
        "Checks that statements use only `Sid`, `Effect`, `Action`, `NotAction`, `Resource`, `NotResource`, `Condition` (and `Principal` in RCPs).",
        "AWS rejects unknown elements.",
        r#"{"Effect":"Deny","Actions":"s3:*"}"#, r#"{"Effect":"Deny","Action":"s3:*"}"#;
    RESOURCE_ELEMENT = "GR016", "resource-element", Error,
        "Checks that a statement has at most one of `Resource` and `NotResource`, and (for RCPs) at least one.",
        "Both is invalid; an RCP without a resource element is rejected.",
        r#"{"Resource":"*","NotResource":"arn:..."}"#, r#"{"Resource":"*"}"#;
    NO_RESOURCE = "GR017", "missing-resource", Warning,
        "Warns when an SCP statement has neither `Resource` nor `NotResource`.",
        "AWS's examples always state the resource; being explicit avoids surprises when the grammar tightens.",
        r#"{"Effect":"Deny","Action":"s3:*"}"#, r#"{"Effect":"Deny","Action":"s3:*","Resource":"*"}"#;
    RCP_GRAMMAR = "GR018", "rcp-grammar", Error,
        "RCPs allow only `Deny`, no `NotAction`, and no bare `*` action.",
        "AWS rejects them: customer RCPs are deny-only and must name a service.",
        r#"{"Effect":"Allow","Principal":"*","Action":"*"}"#, r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}"#;
    SET_QUALIFIER = "GR019", "set-qualifier-on-single-valued-key", Warning,
        "Warns about `ForAnyValue:`/`ForAllValues:` on single-valued keys.",
        "`ForAllValues` is true when the key is absent, so a Deny with it may never apply, and an Allow always does.",
        r#""ForAllValues:StringEquals":{"aws:RequestedRegion":[...]}"#, r#""StringEquals":{"aws:RequestedRegion":[...]}"#;
    NO_EXEMPTION = "GR020", "deny-without-exemption", Suggestion,
        "Suggests exempting the deployer and break-glass principals from Deny statements that do not look at the principal.",
        "Without an exemption nobody can repair what the statement blocks from inside the account.",
        r#"{"Effect":"Deny","Action":"cloudtrail:StopLogging","Resource":"*"}"#, r#"...,"Condition":{"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::*:role/Deployer"]}}"#;
    SID = "GR021", "sid", Error,
        "Checks that Sids are alphanumeric and unique in the document.",
        "AWS rejects other characters and duplicate Sids.",
        r#""Sid":"deny-leave""#, r#""Sid":"DenyLeave""#;
    ACTION_CASE = "GR022", "action-case", Suggestion,
        "Suggests writing an action's service prefix in lower case, as AWS's documentation and service authorization reference do.",
        "Nothing breaks (AWS matches actions case-insensitively), but `S3:GetObject` beside `s3:PutObject` is harder to search and review, and the policy's text differs from what other tools emit.",
        r#""Action":"S3:GetObject""#, r#""Action":"s3:GetObject""#;
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    /// The statement's Sid or `#N`, when the finding is about one.
    pub statement: Option<String>,
    pub message: String,
}

fn finding(rule: Rule, statement: Option<&str>, message: impl Into<String>) -> Finding {
    Finding {
        code: rule.code,
        severity: rule.severity,
        statement: statement.map(str::to_owned),
        message: message.into(),
    }
}

/// Known AWS service prefixes (IAM action catalogue, abridged to the services in common use;
/// an unknown prefix is a warning, not an error, so a new service never blocks anyone).
pub const SERVICE_PREFIXES: &[&str] = &[
    "a4b",
    "access-analyzer",
    "account",
    "acm",
    "acm-pca",
    "activate",
    "airflow",
    "amplify",
    "aoss",
    "apigateway",
    "app-integrations",
    "appconfig",
    "appflow",
    "application-autoscaling",
    "appmesh",
    "apprunner",
    "appstream",
    "appsync",
    "aps",
    "artifact",
    "athena",
    "auditmanager",
    "autoscaling",
    "aws-marketplace",
    "aws-marketplace-management",
    "aws-portal",
    "backup",
    "batch",
    "bedrock",
    "billing",
    "billingconductor",
    "budgets",
    "ce",
    "chatbot",
    "chime",
    "cleanrooms",
    "cloud9",
    "cloudformation",
    "cloudfront",
    "cloudhsm",
    "cloudsearch",
    "cloudshell",
    "cloudtrail",
    "cloudwatch",
    "codeartifact",
    "codebuild",
    "codecommit",
    "codeconnections",
    "codedeploy",
    "codeguru",
    "codepipeline",
    "codestar",
    "codestar-connections",
    "cognito-identity",
    "cognito-idp",
    "cognito-sync",
    "comprehend",
    "compute-optimizer",
    "config",
    "connect",
    "consoleapp",
    "consolidatedbilling",
    "controltower",
    "cur",
    "databrew",
    "dataexchange",
    "datapipeline",
    "datasync",
    "datazone",
    "dax",
    "detective",
    "devicefarm",
    "devops-guru",
    "directconnect",
    "dlm",
    "dms",
    "ds",
    "dynamodb",
    "ebs",
    "ec2",
    "ec2-instance-connect",
    "ec2messages",
    "ecr",
    "ecr-public",
    "ecs",
    "eks",
    "elasticache",
    "elasticbeanstalk",
    "elasticfilesystem",
    "elasticloadbalancing",
    "elasticmapreduce",
    "emr-containers",
    "emr-serverless",
    "es",
    "events",
    "firehose",
    "fis",
    "fms",
    "forecast",
    "freetier",
    "fsx",
    "gamelift",
    "glacier",
    "globalaccelerator",
    "glue",
    "grafana",
    "greengrass",
    "guardduty",
    "health",
    "iam",
    "identitystore",
    "imagebuilder",
    "importexport",
    "inspector",
    "inspector2",
    "invoicing",
    "iot",
    "iq",
    "kafka",
    "kendra",
    "kinesis",
    "kinesisanalytics",
    "kinesisvideo",
    "kms",
    "lakeformation",
    "lambda",
    "lex",
    "license-manager",
    "lightsail",
    "logs",
    "macie2",
    "mediaconvert",
    "medialive",
    "mediapackage",
    "mediastore",
    "memorydb",
    "mobileanalytics",
    "mq",
    "neptune-db",
    "network-firewall",
    "networkmanager",
    "notifications",
    "notifications-contacts",
    "oam",
    "organizations",
    "outposts",
    "payments",
    "personalize",
    "pi",
    "pipes",
    "polly",
    "pricing",
    "q",
    "qbusiness",
    "quicksight",
    "ram",
    "rds",
    "rds-data",
    "rds-db",
    "redshift",
    "redshift-data",
    "redshift-serverless",
    "rekognition",
    "resource-explorer-2",
    "resource-groups",
    "rolesanywhere",
    "route53",
    "route53-recovery-cluster",
    "route53-recovery-control-config",
    "route53-recovery-readiness",
    "route53domains",
    "route53resolver",
    "rum",
    "s3",
    "s3-object-lambda",
    "s3express",
    "sagemaker",
    "savingsplans",
    "scheduler",
    "schemas",
    "sdb",
    "secretsmanager",
    "securityhub",
    "securitylake",
    "serverlessrepo",
    "servicecatalog",
    "servicediscovery",
    "servicequotas",
    "ses",
    "shield",
    "signer",
    "signin",
    "sms",
    "sms-voice",
    "snowball",
    "sns",
    "sqs",
    "ssm",
    "ssm-contacts",
    "ssm-incidents",
    "ssmmessages",
    "sso",
    "sso-directory",
    "sso-oauth",
    "states",
    "storagegateway",
    "sts",
    "support",
    "supportapp",
    "supportplans",
    "sustainability",
    "swf",
    "synthetics",
    "tag",
    "tax",
    "textract",
    "timestream",
    "transcribe",
    "transfer",
    "translate",
    "trustedadvisor",
    "vendor-insights",
    "verifiedpermissions",
    "vpc-lattice",
    "waf",
    "waf-regional",
    "wafv2",
    "wellarchitected",
    "workdocs",
    "workmail",
    "workspaces",
    "xray",
];

/// Global condition keys (`aws:`); a trailing `/` marks a key family such as `aws:PrincipalTag/`.
pub const GLOBAL_KEYS: &[&str] = &[
    "aws:CalledVia",
    "aws:CalledViaFirst",
    "aws:CalledViaLast",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:FederatedProvider",
    "aws:MultiFactorAuthAge",
    "aws:MultiFactorAuthPresent",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList",
    "aws:PrincipalTag/",
    "aws:PrincipalType",
    "aws:Referer",
    "aws:RequestedRegion",
    "aws:RequestTag/",
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:ResourceOrgPaths",
    "aws:ResourceTag/",
    "aws:SecureTransport",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceIdentity",
    "aws:SourceIp",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:SourceVpc",
    "aws:SourceVpcArn",
    "aws:SourceVpce",
    "aws:TagKeys",
    "aws:TokenIssueTime",
    "aws:UserAgent",
    "aws:userid",
    "aws:username",
    "aws:ViaAWSService",
    "aws:VpcSourceIp",
    "aws:Ec2InstanceSourceVpc",
    "aws:Ec2InstanceSourcePrivateIPv4",
];

/// Single-valued keys on which a set qualifier is a mistake.
const SINGLE_VALUED: &[&str] = &[
    "aws:requestedregion",
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principaltype",
    "aws:sourceip",
    "aws:securetransport",
    "iam:permissionsboundary",
];

const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
    "Principal",
    "NotPrincipal",
];

/// Services whose actions a region lock must leave alone.
const CORE_GLOBAL: &[&str] = &["iam", "sts", "organizations"];

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect(),
        other => vec![other.to_string()],
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn known_global_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    GLOBAL_KEYS.iter().any(|g| {
        let g = g.to_ascii_lowercase();
        if g.ends_with('/') {
            k.starts_with(&g) && k.len() > g.len()
        } else {
            k == g
        }
    })
}

fn closest_global_key(key: &str) -> Option<&'static str> {
    let k = key.to_ascii_lowercase();
    GLOBAL_KEYS
        .iter()
        .map(|g| (edit_distance(&k, &g.to_ascii_lowercase()), *g))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, g)| g)
}

/// Context the lint needs beyond the document.
#[derive(Debug, Clone, Default)]
pub struct LintContext {
    /// Whether the organization configured exempt principals (deployer or break-glass); the
    /// exemption suggestion is only made then.
    pub has_exempt_principals: bool,
}

/// Lints one document of a policy type.
pub fn lint(doc: &Value, ty: PolicyType, ctx: &LintContext) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(top) = doc.as_object() else {
        out.push(finding(
            TOP_LEVEL,
            None,
            "the document must be a JSON object",
        ));
        return out;
    };
    for k in top.keys() {
        if !["Version", "Statement", "Id"].contains(&k.as_str()) {
            out.push(finding(
                TOP_LEVEL,
                None,
                format!("unknown top-level element `{k}`"),
            ));
        }
    }
    match top.get("Version").and_then(Value::as_str) {
        Some("2012-10-17") => {}
        Some(v) => out.push(finding(
            VERSION,
            None,
            format!("`Version` is `{v}`; use `2012-10-17`"),
        )),
        None => out.push(finding(
            VERSION,
            None,
            "`Version` is missing; add `\"Version\": \"2012-10-17\"`",
        )),
    }
    let stmts: Vec<&Value> = match top.get("Statement") {
        Some(Value::Array(a)) if !a.is_empty() => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => {
            out.push(finding(
                STATEMENT,
                None,
                "`Statement` must be a non-empty object or list",
            ));
            return out;
        }
    };
    let mut sids = std::collections::BTreeSet::new();
    for (i, s) in stmts.iter().enumerate() {
        let name = s
            .get("Sid")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("#{}", i + 1));
        lint_statement(s, &name, ty, ctx, &mut out);
        if let Some(sid) = s.get("Sid").and_then(Value::as_str) {
            if !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
                out.push(finding(
                    SID,
                    Some(&name),
                    format!("Sid `{sid}` must be letters and digits only"),
                ));
            }
            if !sids.insert(sid.to_owned()) {
                out.push(finding(
                    SID,
                    Some(&name),
                    format!("Sid `{sid}` is used twice"),
                ));
            }
        }
    }
    out
}

fn lint_statement(
    s: &Value,
    name: &str,
    ty: PolicyType,
    ctx: &LintContext,
    out: &mut Vec<Finding>,
) {
    let st = Some(name);
    let Some(m) = s.as_object() else {
        out.push(finding(STATEMENT, st, "a statement must be an object"));
        return;
    };
    for k in m.keys() {
        if !STATEMENT_ELEMENTS.contains(&k.as_str()) {
            out.push(finding(
                STATEMENT_ELEMENT,
                st,
                format!("unknown statement element `{k}`"),
            ));
        }
    }
    let effect = m.get("Effect").and_then(Value::as_str);
    if !matches!(effect, Some("Allow") | Some("Deny")) {
        out.push(finding(
            EFFECT,
            st,
            format!(
                "`Effect` must be `Allow` or `Deny`, not {}",
                m.get("Effect")
                    .map_or("missing".to_owned(), |v| v.to_string())
            ),
        ));
    }
    let (action, not_action) = (m.get("Action"), m.get("NotAction"));
    match (action, not_action) {
        (Some(_), Some(_)) => out.push(finding(
            ACTION_ELEMENT,
            st,
            "use `Action` or `NotAction`, not both",
        )),
        (None, None) => out.push(finding(
            ACTION_ELEMENT,
            st,
            "the statement has neither `Action` nor `NotAction`",
        )),
        _ => {}
    }
    let acts: Vec<String> = action.or(not_action).map(strings).unwrap_or_default();
    for a in &acts {
        if a == "*" {
            continue;
        }
        // AWS matches actions case-insensitively (`EC2:TerminateInstances` is valid), so the
        // shape check and the known-prefix lookup ignore case; only GR022 mentions it.
        match a.split_once(':') {
            Some((svc, act))
                if !svc.is_empty()
                    && !act.is_empty()
                    && svc
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*' || c == '?') =>
            {
                let lower = svc.to_ascii_lowercase();
                if !svc.contains(['*', '?']) && !SERVICE_PREFIXES.contains(&lower.as_str()) {
                    out.push(finding(
                        SERVICE_PREFIX,
                        st,
                        format!("`{svc}` in `{a}` is not a known service prefix"),
                    ));
                }
                if lower != svc {
                    out.push(finding(
                        ACTION_CASE,
                        st,
                        format!("`{a}`: AWS writes the service prefix in lower case (`{lower}:{act}`); it matches either way"),
                    ));
                }
            }
            _ => out.push(finding(
                ACTION_SHAPE,
                st,
                format!("`{a}` is not `service:Action`"),
            )),
        }
    }
    let (res, not_res) = (m.get("Resource"), m.get("NotResource"));
    if res.is_some() && not_res.is_some() {
        out.push(finding(
            RESOURCE_ELEMENT,
            st,
            "use `Resource` or `NotResource`, not both",
        ));
    }
    match ty {
        PolicyType::ServiceControlPolicy => {
            if m.contains_key("Principal") || m.contains_key("NotPrincipal") {
                out.push(finding(PRINCIPAL, st, "SCPs cannot name `Principal` or `NotPrincipal`; use an `aws:PrincipalArn` condition"));
            }
            if res.is_none() && not_res.is_none() {
                out.push(finding(
                    NO_RESOURCE,
                    st,
                    "no `Resource`; add `\"Resource\": \"*\"`",
                ));
            }
        }
        PolicyType::ResourceControlPolicy => {
            if m.get("Principal") != Some(&Value::String("*".into())) {
                out.push(finding(
                    PRINCIPAL,
                    st,
                    "an RCP statement needs `\"Principal\": \"*\"`",
                ));
            }
            if m.contains_key("NotPrincipal") {
                out.push(finding(PRINCIPAL, st, "RCPs do not support `NotPrincipal`"));
            }
            if effect == Some("Allow") {
                out.push(finding(
                    RCP_GRAMMAR,
                    st,
                    "RCPs allow only `Deny` statements",
                ));
            }
            if not_action.is_some() {
                out.push(finding(RCP_GRAMMAR, st, "RCPs do not support `NotAction`"));
            }
            if acts.iter().any(|a| a == "*") {
                out.push(finding(
                    RCP_GRAMMAR,
                    st,
                    "an RCP action must name a service (`s3:*`), not `*`",
                ));
            }
            if res.is_none() && not_res.is_none() {
                out.push(finding(
                    RESOURCE_ELEMENT,
                    st,
                    "an RCP statement needs `Resource` or `NotResource`",
                ));
            }
        }
        // The management policy types (tag, backup, ...) are not IAM policy documents and
        // guardrail never lints them; nothing type-specific to check.
        _ => {}
    }

    let mut principal_scoped = false;
    let mut region_conditioned = false;
    match m.get("Condition") {
        None => {}
        Some(Value::Object(ops)) => {
            for (op, keys) in ops {
                let parsed = parse_operator(op);
                if parsed.is_none() {
                    out.push(finding(
                        OPERATOR,
                        st,
                        format!("`{op}` is not a condition operator"),
                    ));
                }
                let Value::Object(keys) = keys else {
                    out.push(finding(
                        OPERATOR,
                        st,
                        format!("`{op}` must map condition keys to values"),
                    ));
                    continue;
                };
                for key in keys.keys() {
                    let lower = key.to_ascii_lowercase();
                    match key.split_once(':') {
                        Some((p, n)) if !p.is_empty() && !n.is_empty() => {}
                        _ => out.push(finding(
                            CONDITION_KEY,
                            st,
                            format!("condition key `{key}` is not `prefix:name`"),
                        )),
                    }
                    if lower.starts_with("aws:") && !known_global_key(key) {
                        let hint = closest_global_key(key)
                            .map(|g| format!("; did you mean `{g}`?"))
                            .unwrap_or_default();
                        out.push(finding(
                            GLOBAL_KEY,
                            st,
                            format!("`{key}` is not a global condition key{hint}"),
                        ));
                    }
                    if let Some(o) = parsed {
                        if o.set.is_some() && SINGLE_VALUED.contains(&lower.as_str()) {
                            let q = if o.set == Some(SetQualifier::ForAllValues) {
                                "ForAllValues"
                            } else {
                                "ForAnyValue"
                            };
                            out.push(finding(
                                SET_QUALIFIER,
                                st,
                                format!("`{q}:` on the single-valued key `{key}`"),
                            ));
                        }
                    }
                    if lower == "aws:principalarn"
                        || lower == "aws:principaltag"
                        || lower.starts_with("aws:principaltag/")
                        || lower == "aws:principaltype"
                    {
                        principal_scoped = true;
                    }
                    if lower == "aws:requestedregion" {
                        region_conditioned = true;
                    }
                }
            }
        }
        Some(_) => out.push(finding(OPERATOR, st, "`Condition` must be an object")),
    }

    if effect == Some("Deny") {
        if action.is_some() && acts.iter().any(|a| a == "*") && m.get("Condition").is_none() {
            out.push(finding(
                DENY_ALL,
                st,
                "denies every action to every principal, with no condition",
            ));
        }
        if region_conditioned {
            // Case-insensitive, like AWS's action matching: `IAM:*` exempts IAM too.
            let exempted = |svc: &str| {
                not_action.is_some()
                    && acts
                        .iter()
                        .any(|a| a.to_ascii_lowercase().starts_with(&format!("{svc}:")))
            };
            let missing: Vec<&str> = CORE_GLOBAL
                .iter()
                .copied()
                .filter(|s| !exempted(s))
                .collect();
            if !missing.is_empty() {
                out.push(finding(
                    REGION_LOCK_GLOBALS,
                    st,
                    format!(
                        "a region lock that does not exempt the global services {}",
                        missing
                            .iter()
                            .map(|s| format!("`{s}:*`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        if ctx.has_exempt_principals && !principal_scoped && ty == PolicyType::ServiceControlPolicy
        {
            out.push(finding(
                NO_EXEMPTION,
                st,
                "no exemption for the deployer and break-glass principals",
            ));
        }
    }
}

/// `docs/lint.md`, generated from [`RULES`].
pub fn docs_page() -> String {
    use std::fmt::Write as _;
    let mut out = String::from("# Lint rules\n\nGenerated from `src/policy/lint.rs` (do not edit by hand; `tests/it/docs.rs` checks it).\nEvery document, templated or plain, is linted before anything else; errors stop `validate`, `plan` and `apply`.\n\n| code | name | severity |\n|---|---|---|\n");
    for r in RULES {
        let _ = writeln!(out, "| {} | {} | {} |", r.code, r.name, r.severity.name());
    }
    for r in RULES {
        let _ = writeln!(out, "\n## {} {}\n\n**Severity:** {}\n\n**What it does.** {}\n\n**Why is this bad.** {}\n\n**Example.**\n\n```json\n{}\n```\n\n**Use instead.**\n\n```json\n{}\n```", r.code, r.name, r.severity.name(), r.what, r.why, r.example, r.instead);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn codes(doc: Value, ty: PolicyType, exempt: bool) -> Vec<&'static str> {
        let mut c: Vec<&str> = lint(
            &doc,
            ty,
            &LintContext {
                has_exempt_principals: exempt,
            },
        )
        .iter()
        .map(|f| f.code)
        .collect();
        c.sort();
        c.dedup();
        c
    }

    const SCP: PolicyType = PolicyType::ServiceControlPolicy;
    const RCP: PolicyType = PolicyType::ResourceControlPolicy;

    /// One case per rule that must fire, and a clean document that must not.
    #[test]
    fn rules_table() {
        let ok = json!({"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/D"}}}]});
        assert_eq!(codes(ok, SCP, true), Vec::<&str>::new());
        let cases: Vec<(Value, PolicyType, &str)> = vec![
            (
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}],"Comment":1}),
                SCP,
                "GR002",
            ),
            (
                json!({"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}),
                SCP,
                "GR003",
            ),
            (json!({"Version":"2012-10-17","Statement":[]}), SCP, "GR004"),
            (
                json!({"Version":"2012-10-17","Statement":[{"Effect":"deny","Action":"s3:*","Resource":"*"}]}),
                SCP,
                "GR005",
            ),
            (
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Resource":"*"}]}),
                SCP,
                "GR006",
            ),
            (
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}),
                SCP,
                "GR007",
            ),
            (
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3 Delete","Resource":"*"}]}),
                SCP,
                "GR008",
            ),
            (
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"cloudtrial:StopLogging","Resource":"*"}]}),
                SCP,
                "GR009",
            ),
            (
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEqual":{"aws:RequestedRegion":"x"}}}]}),
                SCP,
                "GR010",
            ),
            (
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"RequestedRegion":"x"}}}]}),
                SCP,
                "GR011",
            ),
            (
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestRegion":"x"}}}]}),
                SCP,
                "GR012",
            ),
            (
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["s3:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}}]}),
                SCP,
                "GR013",
            ),
            (
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}),
                SCP,
                "GR014",
            ),
            (
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Actions":"s3:*","Action":"s3:*","Resource":"*"}]}),
                SCP,
                "GR015",
            ),
            (
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","NotResource":"x"}]}),
                SCP,
                "GR016",
            ),
            (
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*"}]}),
                SCP,
                "GR017",
            ),
            (
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}),
                RCP,
                "GR018",
            ),
            (
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:RequestedRegion":["x"]}}}]}),
                SCP,
                "GR019",
            ),
            (
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}),
                SCP,
                "GR020",
            ),
            (
                json!({"Version":"2012-10-17","Statement":[{"Sid":"a-b","Effect":"Deny","Action":"s3:*","Resource":"*"}]}),
                SCP,
                "GR021",
            ),
            (
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"S3:GetObject","Resource":"*"}]}),
                SCP,
                "GR022",
            ),
        ];
        for (doc, ty, code) in cases {
            let got = codes(doc.clone(), ty, true);
            assert!(
                got.contains(&code),
                "{code} expected for {doc}, got {got:?}"
            );
        }
        assert_eq!(RULES.len(), 21);
    }

    /// AWS matches service prefixes and action names case-insensitively: any case is valid,
    /// known prefixes are known in any case, and the case is at most a suggestion.
    #[test]
    fn action_case_is_never_an_error() {
        for action in [
            "S3:GetObject",
            "EC2:TerminateInstances",
            "Ec2:terminateinstances",
            "IAM:*",
            "S3:Get*",
        ] {
            let d = json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":action,"Resource":"*"}]});
            let f = lint(&d, SCP, &LintContext::default());
            let not_suggestions: Vec<_> = f
                .iter()
                .filter(|f| f.severity != Severity::Suggestion)
                .collect();
            assert!(not_suggestions.is_empty(), "{action}: {not_suggestions:?}");
            assert_eq!(
                f.iter().map(|f| f.code).collect::<Vec<_>>(),
                vec!["GR022"],
                "{action}"
            );
        }
        // The conventional case draws nothing, and a misspelt prefix is still unknown in
        // upper case.
        let lower = json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:TerminateInstances","Resource":"*"}]});
        assert!(lint(&lower, SCP, &LintContext::default()).is_empty());
        let typo = json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"CLOUDTRIAL:StopLogging","Resource":"*"}]});
        assert!(codes(typo, SCP, false).contains(&"GR009"));
        // A malformed action is still an error whatever its case.
        let bad = json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"S3 GetObject","Resource":"*"}]});
        assert!(codes(bad, SCP, false).contains(&"GR008"));
    }

    #[test]
    fn region_lock_exemptions_match_any_case() {
        let d = json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["IAM:*","STS:*","Organizations:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}}]});
        assert!(!codes(d, SCP, false).contains(&"GR013"));
    }

    #[test]
    fn misspelt_key_suggests_the_right_one() {
        let d = json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestRegion":"x"}}}]});
        let f = lint(&d, SCP, &LintContext::default());
        assert!(
            f.iter()
                .any(|f| f.message.contains("did you mean `aws:RequestedRegion`?")),
            "{f:?}"
        );
    }
}
