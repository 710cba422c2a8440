//! Realistic organizations for tests and benchmarks, built through any [`OrgBackend`] (the
//! fake, or moto in the end-to-end tests) from a seed. A test passes for the right reason only
//! if the world it runs in is as hard as the real one, so every world has what real
//! organizations have:
//!
//! - RCPs enabled (`RESOURCE_CONTROL_POLICY`: RCPFullAWSAccess everywhere, undetachable) with
//!   customer RCPs attached;
//! - tag, backup and AI opt-out policy types enabled, with policies attached (types guardrail
//!   does not manage yet: they must never break a plan or count as drift);
//! - Control Tower-style `aws-guardrails-*` SCPs on some OUs;
//! - targets at exactly their limit: an OU with 10 SCPs, an OU with 5 RCPs;
//! - unmarked policies made in the console, one policy marked by another environment, and one
//!   carrying guardrail's first-version marker;
//! - accounts not ACTIVE (SUSPENDED, PENDING_CLOSURE; where the backend can make them);
//! - mixed-case actions (`S3:GetObject`);
//! - OU and policy names that need quoting (spaces, unicode, `.`).
//!
//! Deterministic: the same seed and options build the same organization (ids aside).

use std::collections::BTreeMap;

use super::{OrgBackend, Result};
use crate::model::PolicyType;

/// What to build.
#[derive(Debug, Clone, Copy)]
pub struct WorldOptions {
    pub seed: u64,
    /// Member accounts (at least 4).
    pub accounts: usize,
    /// Extra team OUs beyond the fixed ones.
    pub team_ous: usize,
    /// The backend is an emulator that lacks some AWS features (moto: no backup policy
    /// creation, no account states): build only what it can hold.
    pub emulator: bool,
}

impl Default for WorldOptions {
    fn default() -> Self {
        WorldOptions {
            seed: 1,
            accounts: 12,
            team_ous: 3,
            emulator: false,
        }
    }
}

/// What was built, by name.
#[derive(Debug, Clone, Default)]
pub struct World {
    pub root: String,
    /// OU ids by path (`Workloads/Prod`).
    pub ous: BTreeMap<String, String>,
    /// Policy ids by name.
    pub policies: BTreeMap<String, String>,
    /// Account ids, in creation order.
    pub accounts: Vec<String>,
    /// Accounts made not ACTIVE (only on the fake), with their state.
    pub inactive: Vec<(String, crate::model::AccountState)>,
    /// The OU that holds exactly the SCP limit, and the one at the RCP limit.
    pub scp_full_ou: String,
    pub rcp_full_ou: String,
}

/// A small deterministic generator (xorshift64*), so the library needs no random crate.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

fn deny(sid: &str, actions: &[&str]) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": sid, "Effect": "Deny", "Action": actions, "Resource": "*"}]
    })
    .to_string()
}

fn rcp_deny(sid: &str, action: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": sid, "Effect": "Deny", "Principal": "*", "Action": action,
            "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
    })
    .to_string()
}

const FIXED_OUS: &[&str] = &[
    "Security",
    "Infrastructure",
    "Workloads",
    "Workloads/Prod",
    "Workloads/Dev",
    "Finance Ops",
    "Zürich.Team",
    "Limits",
    "Limits/SCP full",
    "Limits/RCP full",
];

/// The SCPs of every world: name, document. Mixed-case actions on purpose.
fn scps() -> Vec<(String, String)> {
    let mut v = vec![
        ("deny-leave-org".to_owned(), deny("Leave", &["organizations:LeaveOrganization"])),
        ("protect-cloudtrail".to_owned(), deny("Trail", &["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"])),
        ("deny root user".to_owned(), serde_json::json!({"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}).to_string()),
        ("s3-guard".to_owned(), deny("S3", &["S3:PutAccountPublicAccessBlock", "s3:DeleteBucket"])),
        ("ec2-guard".to_owned(), deny("Ec2", &["EC2:DeleteVpc", "ec2:DeleteFlowLogs"])),
        ("allow-list".to_owned(), serde_json::json!({"Version":"2012-10-17","Statement":[{"Sid":"Allowed","Effect":"Allow","Action":["s3:*","ec2:*","iam:*","sts:*","organizations:*","cloudtrail:*","kms:*","logs:*"],"Resource":"*"}]}).to_string()),
    ];
    let services = [
        "rds", "lambda", "dynamodb", "sqs", "sns", "kms", "ecr", "glue",
    ];
    for (i, svc) in services.iter().enumerate() {
        v.push((
            format!("limit-{i:02}"),
            deny(&format!("L{i}"), &[&format!("{svc}:Delete*")]),
        ));
    }
    v
}

/// Builds a world. The backend must hold a fresh organization (SCPs may or may not be
/// enabled yet).
pub async fn build(b: &dyn OrgBackend, opts: WorldOptions) -> Result<World> {
    let mut rng = Rng::new(opts.seed);
    let root = super::walk::the_root(b).await?;
    let mut w = World {
        root: root.id.clone(),
        ..World::default()
    };
    for ty in [
        PolicyType::ServiceControlPolicy,
        PolicyType::ResourceControlPolicy,
        PolicyType::TagPolicy,
        PolicyType::BackupPolicy,
        PolicyType::AiServicesOptOutPolicy,
    ] {
        if !root.enabled_policy_types.contains(&ty) {
            b.enable_policy_type(&root.id, ty).await?;
        }
    }
    build_ous(b, &mut w, opts, &mut rng).await?;
    build_scps(b, &mut w, &mut rng).await?;
    build_rcps(b, &mut w).await?;
    build_management_policies(b, &w, opts).await?;
    build_accounts(b, &mut w, opts, &mut rng).await?;
    Ok(w)
}

async fn build_ous(
    b: &dyn OrgBackend,
    w: &mut World,
    opts: WorldOptions,
    rng: &mut Rng,
) -> Result<()> {
    let mut paths: Vec<String> = FIXED_OUS.iter().map(|s| (*s).to_owned()).collect();
    for i in 0..opts.team_ous {
        let parent = ["Workloads/Prod", "Workloads/Dev", "Finance Ops"][rng.below(3)];
        paths.push(format!("{parent}/Team {i}"));
    }
    for p in &paths {
        let (parent, name) = match p.rsplit_once('/') {
            Some((parent, name)) => (
                w.ous.get(parent).cloned().unwrap_or_else(|| w.root.clone()),
                name,
            ),
            None => (w.root.clone(), p.as_str()),
        };
        let id = b.create_organizational_unit(&parent, name).await?;
        w.ous.insert(p.clone(), id);
    }
    w.scp_full_ou = w.ous.get("Limits/SCP full").cloned().unwrap_or_default();
    w.rcp_full_ou = w.ous.get("Limits/RCP full").cloned().unwrap_or_default();
    Ok(())
}

async fn create(
    b: &dyn OrgBackend,
    w: &mut World,
    ty: PolicyType,
    name: &str,
    desc: &str,
    doc: &str,
) -> Result<String> {
    let id = b.create_policy(ty, name, desc, doc).await?;
    w.policies.insert(name.to_owned(), id.clone());
    Ok(id)
}

async fn build_scps(b: &dyn OrgBackend, w: &mut World, rng: &mut Rng) -> Result<()> {
    use PolicyType::ServiceControlPolicy as SCP;
    for (name, doc) in scps() {
        create(
            b,
            w,
            SCP,
            &name,
            &format!("{name}, made in the console"),
            &doc,
        )
        .await?;
    }
    // Control Tower's SCPs on the OUs it registered.
    let ct = create(
        b,
        w,
        SCP,
        "aws-guardrails-AbCdEf",
        "Control Tower guardrails",
        &deny("CT", &["config:DeleteConfigRule"]),
    )
    .await?;
    // Another environment's policy, and one with the first version's bare marker.
    let foreign = create(
        b,
        w,
        SCP,
        "staging-guard",
        "staging [managed-by:guardrail o-0000000000/staging]",
        &deny("Stg", &["ec2:TerminateInstances"]),
    )
    .await?;
    let legacy = create(
        b,
        w,
        SCP,
        "legacy-guard",
        "old [managed-by:guardrail]",
        &deny("Old", &["rds:DeleteDBCluster"]),
    )
    .await?;
    attach_scps(b, w, rng, [&ct, &foreign, &legacy]).await
}

/// Attaches the world's SCPs: the root's denies, Control Tower's, the foreign and legacy
/// ones, the OU at exactly ten, and the allow-list beside FullAWSAccess.
async fn attach_scps(
    b: &dyn OrgBackend,
    w: &World,
    rng: &mut Rng,
    [ct, foreign, legacy]: [&String; 3],
) -> Result<()> {
    let p = |n: &str| w.policies.get(n).cloned().unwrap_or_default();
    let ou = |n: &str| w.ous.get(n).cloned().unwrap_or_default();
    b.attach_policy(&p("deny-leave-org"), &w.root).await?;
    b.attach_policy(&p("protect-cloudtrail"), &w.root).await?;
    b.attach_policy(ct, &ou("Security")).await?;
    b.attach_policy(ct, &ou("Workloads/Prod")).await?;
    b.attach_policy(foreign, &ou("Workloads/Dev")).await?;
    b.attach_policy(legacy, &ou("Infrastructure")).await?;
    b.attach_policy(&p("deny root user"), &ou("Workloads"))
        .await?;
    b.attach_policy(&p("s3-guard"), &ou("Workloads/Prod"))
        .await?;
    b.attach_policy(
        &p("ec2-guard"),
        &ou(if rng.chance(50) {
            "Finance Ops"
        } else {
            "Zürich.Team"
        }),
    )
    .await?;
    // Exactly ten SCPs on one OU: FullAWSAccess and nine more.
    let full = ou("Limits/SCP full");
    for n in [
        "s3-guard",
        "ec2-guard",
        "limit-00",
        "limit-01",
        "limit-02",
        "limit-03",
        "limit-04",
        "limit-05",
        "limit-06",
    ] {
        b.attach_policy(&p(n), &full).await?;
    }
    // An allow-list beside FullAWSAccess on one OU (replacing FullAWSAccess is a classic edit).
    b.attach_policy(&p("allow-list"), &ou("Finance Ops"))
        .await?;
    Ok(())
}

async fn build_rcps(b: &dyn OrgBackend, w: &mut World) -> Result<()> {
    use PolicyType::ResourceControlPolicy as RCP;
    let mut ids = Vec::new();
    for (i, action) in ["s3:*", "sqs:*", "kms:*", "secretsmanager:*", "sts:*"]
        .iter()
        .enumerate()
    {
        ids.push(
            create(
                b,
                w,
                RCP,
                &format!("rcp-tls-{i}"),
                "TLS only",
                &rcp_deny(&format!("Tls{i}"), action),
            )
            .await?,
        );
    }
    // RCPFullAWSAccess plus four: the RCP limit of five.
    for id in ids.iter().take(4) {
        b.attach_policy(id, &w.rcp_full_ou).await?;
    }
    b.attach_policy(&ids[0], &w.root).await?;
    Ok(())
}

async fn build_management_policies(
    b: &dyn OrgBackend,
    w: &World,
    opts: WorldOptions,
) -> Result<()> {
    let tag = r#"{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"}}}}"#;
    let ai = r#"{"services":{"default":{"opt_out_policy":{"@@assign":"optOut"}}}}"#;
    let backup = r#"{"plans":{"daily":{"regions":{"@@assign":["eu-west-1"]},"rules":{"daily":{"schedule_expression":{"@@assign":"cron(0 5 ? * * *)"},"target_backup_vault_name":{"@@assign":"Default"}}},"selections":{"tags":{"all":{"iam_role_arn":{"@@assign":"arn:aws:iam::$account:role/Backup"},"tag_key":{"@@assign":"backup"},"tag_value":{"@@assign":["daily"]}}}}}}}"#;
    let mut made = vec![
        b.create_policy(PolicyType::TagPolicy, "cost-center-tags", "Tags", tag)
            .await?,
        b.create_policy(
            PolicyType::AiServicesOptOutPolicy,
            "ai-opt-out",
            "AI opt-out",
            ai,
        )
        .await?,
    ];
    // moto answers 500 to CreatePolicy of a backup policy.
    if !opts.emulator {
        made.push(
            b.create_policy(PolicyType::BackupPolicy, "daily-backup", "Backups", backup)
                .await?,
        );
    }
    for id in &made {
        b.attach_policy(id, &w.root).await?;
    }
    if let Some(sec) = w.ous.get("Security") {
        b.attach_policy(&made[0], sec).await?;
    }
    Ok(())
}

async fn build_accounts(
    b: &dyn OrgBackend,
    w: &mut World,
    opts: WorldOptions,
    rng: &mut Rng,
) -> Result<()> {
    let targets: Vec<String> = w.ous.values().cloned().collect();
    for k in 0..opts.accounts.max(4) {
        let id = b
            .create_account(&format!("acct {k:03}"), &format!("acct-{k:03}@example.com"))
            .await?;
        // Two stay in the root, the rest spread over the OUs.
        if k >= 2 {
            let dest = &targets[rng.below(targets.len())];
            b.move_account(&id, &w.root, dest).await?;
        }
        w.accounts.push(id);
    }
    // One account carries its own deny, one is at its SCP limit with an account-level policy.
    if let (Some(a), Some(p)) = (w.accounts.get(2), w.policies.get("ec2-guard")) {
        b.attach_policy(p, a).await?;
    }
    Ok(())
}

/// Makes two accounts not ACTIVE (the fake only: AWS takes days, moto cannot).
pub fn suspend_some(fake: &super::fake::FakeOrg, w: &mut World) {
    use crate::model::AccountState;
    for (i, state) in [
        (3usize, AccountState::Suspended),
        (4, AccountState::PendingClosure),
    ] {
        if let Some(id) = w.accounts.get(i) {
            fake.set_account_state(id, state);
            w.inactive.push((id.clone(), state));
        }
    }
}
