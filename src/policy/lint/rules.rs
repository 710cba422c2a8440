//! The rule table: each lint rule's code, severity and documentation, from which
//! `docs/lint.md` is generated; and the key lists the statement rules read (data only).

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
        "Warns when an action's service prefix is not a service of the IAM catalogue (`data/iam/catalogue.tsv`, compared case-insensitively, as AWS does).",
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
        "Warns about `aws:` keys that are not global condition keys of the IAM catalogue, suggesting the closest one.",
        "A misspelt key is absent from every request: a normal operator is then false and a negated one true, so the statement silently denies everything or nothing.",
        r#""aws:RequestRegion""#, r#""aws:RequestedRegion""#;
    REGION_LOCK_GLOBALS = "GR013", "region-lock-global-services", Warning,
        "Warns when a Deny conditioned on `aws:RequestedRegion` covers actions of the global services (IAM, STS, Organizations) without exempting them. A Deny scoped to actions of other services, or one that looks at the network origin (`aws:SourceVpc`, `aws:SourceVpce`), does not draw it.",
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
    UNKNOWN_ACTION = "GR023", "unknown-action", Warning,
        "Warns when an action (without wildcards) does not exist in its service, according to the IAM catalogue.",
        "A misspelt or invented action matches nothing, so the statement silently does not apply. A warning, not an error: a brand-new action may be newer than the catalogue.",
        r#""Action":"s3:DeleteBuckets""#, r#""Action":"s3:DeleteBucket""#;
    EMPTY_WILDCARD = "GR024", "wildcard-matches-nothing", Warning,
        "Warns when an action pattern with `*` or `?` matches no action of its service in the IAM catalogue.",
        "The pattern applies to nothing: most often a typo in the part before the wildcard.",
        r#""Action":"ec2:TerminateInstance?s""#, r#""Action":"ec2:TerminateInstances""#;
    UNSUPPORTED_KEY = "GR025", "condition-key-not-supported", Warning,
        "Warns when a service condition key is supported by none of the statement's actions (the actions' own keys and their resource types' keys, per the IAM catalogue). Global `aws:` keys are always present where AWS sets them and never draw it.",
        "A key the action's requests never carry is absent: a normal operator is then false (a Deny never applies) and a negated one true (a Deny always applies).",
        r#"{"Effect":"Deny","Action":"s3:GetObject","Condition":{"StringEquals":{"ec2:InstanceType":"t2.micro"}}}"#, r#"{"Effect":"Deny","Action":"ec2:RunInstances","Condition":{"StringNotEquals":{"ec2:InstanceType":"t3.micro"}}}"#;
    RCP_SERVICE = "GR026", "rcp-unsupported-service", Warning,
        "Warns when an RCP statement names actions of a service that RCPs do not cover (the IAM catalogue's list of RCP-supported services).",
        "RCPs apply only to the services AWS lists; a statement on any other service denies nothing.",
        r#"{"Effect":"Deny","Principal":"*","Action":"ec2:*","Resource":"*"}"#, r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}"#;
    MGMT_KEY = "GR027", "management-unknown-key", Warning,
        "Management policies (every type but SCPs and RCPs): warns about a key the type's published syntax does not have at that place (`tag_keys` for `tag_key`, an attribute of another service under `ec2_attributes`, an AI service not in AWS's list), or a key written under a setting instead of an inheritance operator. The syntax of each type is a data table (`src/policy/lint/management_syntax.rs`).",
        "A misspelt key configures nothing: the setting the author meant keeps its inherited value, silently. A warning, not an error: AWS adds attributes, and a brand-new one may be newer than the table.",
        r#"{"tags":{"costcenter":{"tag_keys":{"@@assign":"CostCenter"}}}}"#, r#"{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"}}}}"#;
    MGMT_OPERATOR = "GR028", "management-operator", Error,
        "Management policies: checks the inheritance operators. Only `@@assign`, `@@append`, `@@remove` and `@@operators_allowed_for_child_policies` exist; the three value-setting operators stand on a setting, not on an object that holds settings; `@@append` and `@@remove` apply to list settings only and take a list; `@@operators_allowed_for_child_policies` takes a list of `@@all`, `@@none`, `@@assign`, `@@append`, `@@remove`, with `@@all` and `@@none` alone.",
        "AWS rejects such a document, or (for an operator its parent forbids) reports the account's effective policy as invalid.",
        r#"{"services":{"default":{"opt_out_policy":{"@@append":"optOut"}}}}"#, r#"{"services":{"default":{"opt_out_policy":{"@@assign":"optOut"}}}}"#;
    MGMT_VALUE = "GR029", "management-value", Error,
        "Management policies: checks each setting's value against the type's syntax: one value or a list, the accepted words (case matters: `optOut`, not `optout`), whole numbers in range (`http_put_response_hop_limit` from -1 to 64), and an object where the syntax holds settings.",
        "A value the service does not accept makes the effective policy invalid, so the guardrail does not apply; AWS's own pages warn that wrong capitalization breaks these policies.",
        r#"{"ec2_attributes":{"instance_metadata_defaults":{"http_tokens":{"@@assign":"require"}}}}"#, r#"{"ec2_attributes":{"instance_metadata_defaults":{"http_tokens":{"@@assign":"required"}}}}"#;
}

/// The elements a statement may have (GR015; `Principal` and `NotPrincipal` are then checked
/// per policy type by GR007).
pub const STATEMENT_ELEMENTS: &[&str] = &[
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

/// Single-valued keys on which a set qualifier is a mistake (GR019), lower-cased.
pub const SINGLE_VALUED: &[&str] = &[
    "aws:requestedregion",
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principaltype",
    "aws:sourceip",
    "aws:securetransport",
    "iam:permissionsboundary",
];

/// Keys that name the calling principal, so a Deny on them can exempt the deployer and
/// break-glass (GR020), lower-cased; and the key families that do.
pub const PRINCIPAL_KEYS: &[&str] = &[
    "aws:principalarn",
    "aws:principaltag",
    "aws:principaltype",
    "aws:assumedroot",
];
pub const PRINCIPAL_KEY_FAMILIES: &[&str] = &["aws:principaltag/"];

/// The key that makes a Deny a region lock (GR013), lower-cased.
pub const REGION_KEY: &str = "aws:requestedregion";

/// Keys of the network origin: a region lock that looks at them exempts calls from the
/// organization's networks, so GR013 does not fire (lower-cased).
pub const NETWORK_KEYS: &[&str] = &["aws:sourcevpc", "aws:sourcevpce", "aws:sourcevpcarn"];
