//! Synthetic CloudTrail logs: a seeded generator of log files for an organization whose
//! principals and activity it chose itself, in the record format of AWS's CloudTrail record
//! contents reference (management and data events; assumed-role, IAM user, root, federated
//! user, SAML, AWS-service and service-linked-role identities; service events and console
//! sign-ins; cross-account calls in both accounts' folders, one `sharedEventID`), laid out as
//! an organization trail delivers them
//! (`AWSLogs/o-…/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/…json.gz`).
//!
//! Each record comes with the generator's own account of it ([`Event`]): who called, which
//! action, whether that action is regional (the generator's table, [`ACTIONS`], not the IAM
//! catalogue or any policy), whether AWS refused it. Tests compute the answer they expect from
//! these facts alone ([`Event::out_of_region`]), never through the replay code path. Pure: the
//! files come out one at a time as values; `synth_write` puts them on disk.

use serde_json::Value;

/// What the generator is told about the organization.
#[derive(Debug, Clone)]
pub struct Options {
    pub seed: u64,
    /// `o-…`: the organization trail's folder.
    pub org_id: String,
    pub management: String,
    /// Member accounts.
    pub accounts: Vec<String>,
    /// Regions activity happens in (global services log `us-east-1`).
    pub regions: Vec<String>,
    /// A role in every account the guardrails exempt (break-glass).
    pub exempt_role: String,
    pub files: usize,
    pub records_per_file: usize,
    /// The first day, as Unix seconds at midnight UTC.
    pub start: i64,
    pub days: u32,
}

/// Who made a call, as the generator chose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Identity {
    /// An assumed role with a path (`role/app/Developer`).
    Workload,
    /// An IAM Identity Center permission set's role (`role/aws-reserved/sso.amazonaws.com/…`).
    SsoRole,
    IamUser,
    Root,
    FederatedUser,
    /// The exempt role ([`Options::exempt_role`]).
    Exempt,
    ServiceLinkedRole,
    /// `AWSService`: a service principal acting for itself.
    AwsService,
    /// `SAMLUser`: no IAM principal ARN.
    Saml,
}

/// An action the generator calls: eventSource, eventName, the IAM action, whether it is
/// regional (outside the global services a region lock exempts), a data event, and the
/// resource ARN pattern (`{r}` region, `{a}` account, `{n}` a name).
pub struct Action {
    pub source: &'static str,
    pub name: &'static str,
    pub iam: &'static str,
    pub regional: bool,
    pub data: bool,
    pub resource: Option<(&'static str, &'static str)>,
}

const fn act(
    source: &'static str,
    name: &'static str,
    iam: &'static str,
    regional: bool,
    data: bool,
    resource: Option<(&'static str, &'static str)>,
) -> Action {
    Action {
        source,
        name,
        iam,
        regional,
        data,
        resource,
    }
}

/// The actions, with what the generator knows about each.
pub const ACTIONS: &[Action] = &[
    act(
        "ec2.amazonaws.com",
        "RunInstances",
        "ec2:RunInstances",
        true,
        false,
        Some(("AWS::EC2::Instance", "arn:aws:ec2:{r}:{a}:instance/i-{n}")),
    ),
    act(
        "ec2.amazonaws.com",
        "DescribeInstances",
        "ec2:DescribeInstances",
        true,
        false,
        None,
    ),
    act(
        "ec2.amazonaws.com",
        "DescribeRegions",
        "ec2:DescribeRegions",
        false,
        false,
        None,
    ),
    act(
        "dynamodb.amazonaws.com",
        "GetItem",
        "dynamodb:GetItem",
        true,
        true,
        Some((
            "AWS::DynamoDB::Table",
            "arn:aws:dynamodb:{r}:{a}:table/t{n}",
        )),
    ),
    act(
        "dynamodb.amazonaws.com",
        "CreateTable",
        "dynamodb:CreateTable",
        true,
        false,
        Some((
            "AWS::DynamoDB::Table",
            "arn:aws:dynamodb:{r}:{a}:table/t{n}",
        )),
    ),
    act(
        "s3.amazonaws.com",
        "GetObject",
        "s3:GetObject",
        true,
        true,
        Some(("AWS::S3::Object", "arn:aws:s3:::bucket-{a}/k{n}")),
    ),
    act(
        "s3.amazonaws.com",
        "PutObject",
        "s3:PutObject",
        true,
        true,
        Some(("AWS::S3::Object", "arn:aws:s3:::bucket-{a}/k{n}")),
    ),
    act(
        "s3.amazonaws.com",
        "ListBuckets",
        "s3:ListAllMyBuckets",
        false,
        false,
        None,
    ),
    act(
        "lambda.amazonaws.com",
        "Invoke",
        "lambda:InvokeFunction",
        true,
        true,
        Some((
            "AWS::Lambda::Function",
            "arn:aws:lambda:{r}:{a}:function:f{n}",
        )),
    ),
    act(
        "lambda.amazonaws.com",
        "CreateFunction20150331",
        "lambda:CreateFunction",
        true,
        false,
        Some((
            "AWS::Lambda::Function",
            "arn:aws:lambda:{r}:{a}:function:f{n}",
        )),
    ),
    act(
        "sqs.amazonaws.com",
        "SendMessage",
        "sqs:SendMessage",
        true,
        true,
        Some(("AWS::SQS::Queue", "arn:aws:sqs:{r}:{a}:q{n}")),
    ),
    act(
        "monitoring.amazonaws.com",
        "PutMetricData",
        "cloudwatch:PutMetricData",
        true,
        false,
        None,
    ),
    act(
        "kms.amazonaws.com",
        "Decrypt",
        "kms:Decrypt",
        false,
        false,
        Some(("AWS::KMS::Key", "arn:aws:kms:{r}:{a}:key/k{n}")),
    ),
];

/// Global services: always logged in `us-east-1`.
pub const GLOBAL: &[Action] = &[
    act(
        "iam.amazonaws.com",
        "ListRoles",
        "iam:ListRoles",
        false,
        false,
        None,
    ),
    act(
        "sts.amazonaws.com",
        "GetCallerIdentity",
        "sts:GetCallerIdentity",
        false,
        false,
        None,
    ),
    act(
        "organizations.amazonaws.com",
        "DescribeOrganization",
        "organizations:DescribeOrganization",
        false,
        false,
        None,
    ),
];

/// The generator's own account of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub account: String,
    pub identity: Identity,
    /// `aws:PrincipalArn` (the role for a role session); `None` for AWS services and SAML.
    pub principal: Option<String>,
    /// The IAM action (`ACTIONS`' third column).
    pub action: &'static str,
    pub regional: bool,
    pub region: String,
    pub time: String,
    /// AWS refused it with an access-denied error.
    pub denied_in_log: bool,
    /// A call by a principal (not a service event or a console sign-in).
    pub api_call: bool,
    /// The resource owner's copy of a cross-account call (`account` is the owner's): AWS
    /// delivers such a call to the caller's account and to the owner's, each copy with its own
    /// `eventID` and one `sharedEventID`; the caller's copy, in another file, is the call.
    pub copy: bool,
}

impl Event {
    /// Whether a region lock allowing `allowed` on `locked` accounts newly denies this event,
    /// from the generator's facts alone: an allowed call, by an IAM principal that is neither
    /// exempt nor a service-linked role, of a regional action, outside the allowed regions.
    pub fn out_of_region(&self, locked: &dyn Fn(&str) -> bool, allowed: &[String]) -> bool {
        self.api_call
            && !self.copy
            && !self.denied_in_log
            && locked(&self.account)
            && matches!(
                self.identity,
                Identity::Workload
                    | Identity::SsoRole
                    | Identity::IamUser
                    | Identity::Root
                    | Identity::FederatedUser
            )
            && self.regional
            && !allowed.contains(&self.region)
    }
}

/// One log file: where it goes below the output directory, its records, their facts.
#[derive(Debug, Clone)]
pub struct File {
    pub path: String,
    pub records: Vec<Value>,
    pub events: Vec<Event>,
}

/// splitmix64: small, seeded, the same on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// `true` with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds (proleptic Gregorian, UTC).
pub fn rfc3339(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Days since 1970-01-01 → (year, month, day) (H. Hinnant's civil-from-days).
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The generator: an iterator of files.
pub struct Generator {
    opts: Options,
    rng: Rng,
    made: usize,
    /// The resource owners' copies of the last file's cross-account calls, next.
    pending: Option<File>,
}

impl Generator {
    pub fn new(opts: Options) -> Generator {
        Generator {
            rng: Rng::new(opts.seed),
            opts,
            made: 0,
            pending: None,
        }
    }
}

impl Iterator for Generator {
    type Item = File;

    /// `files` files, each followed by the owners' copies of its cross-account calls, if any.
    fn next(&mut self) -> Option<File> {
        if let Some(f) = self.pending.take() {
            return Some(f);
        }
        if self.made >= self.opts.files {
            return None;
        }
        self.made += 1;
        let mut f = super::synth_record::file(&self.opts, &mut self.rng, self.made);
        self.pending = super::synth_record::owners_copies(&self.opts, &mut self.rng, &mut f);
        Some(f)
    }
}
