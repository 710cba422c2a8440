//! The end-to-end tests' harness: an isolated organization seeded in moto ([`Org`]) with its
//! working directory, the real binary run against it (directly or through a proxy), the
//! organization read and changed out of band through the SDK, the large change the fault
//! tests apply and the replay of a proxy's journal against the model check's invariants, and
//! the small helpers on outputs and config texts.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use assert_cmd::Command;
use guardrail::live::aws::AwsBackend;
use serde_json::Value;

use crate::{invariants, moto, proxy, replay};

/// One isolated organization and a working directory for it.
pub(crate) struct Org {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

static SEED: AtomicU64 = AtomicU64::new(1);

impl Org {
    pub(crate) fn seed(accounts: usize, ous: usize, policies: usize) -> Org {
        Org::seed_with(&[
            "--accounts",
            &accounts.to_string(),
            "--ous",
            &ous.to_string(),
            "--policies",
            &policies.to_string(),
        ])
    }

    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub(crate) fn guardrail(&self, args: &[&str]) -> std::process::Output {
        self.command(args).output().unwrap()
    }

    /// The binary run in the org's directory with its environment, no colour, no profile.
    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("guardrail"));
        // moto answers far faster than AWS allows: pace at 1,000 times AWS's rates.
        cmd.current_dir(self.dir.path())
            .env_remove("AWS_PROFILE")
            .env("NO_COLOR", "1")
            .env("GUARDRAIL_RATE_SCALE", "1000");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.args(args);
        cmd
    }

    pub(crate) fn bare() -> Org {
        Org::seed_with(&["--bare"])
    }

    pub(crate) fn seed_with(extra: &[&str]) -> Org {
        let moto = moto::moto();
        let dir = tempfile::tempdir().unwrap();
        let env_file = dir.path().join("org.env");
        let seed = SEED.fetch_add(1, Ordering::SeqCst) + u64::from(std::process::id()) * 1000;
        let out = Command::cargo_bin("guardrail-demo")
            .unwrap()
            .args([
                "seed",
                "--new-org",
                "--endpoint-url",
                &moto.endpoint,
                "--seed",
                &seed.to_string(),
            ])
            .args(extra)
            .arg("--env-file")
            .arg(&env_file)
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "seeding failed: {}",
            text(&out.stderr)
        );
        let env = std::fs::read_to_string(&env_file)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Org { dir, env }
    }

    pub(crate) fn var(&self, k: &str) -> String {
        self.env
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    }

    /// Runs `f` with an SDK backend on this organization's credentials: out-of-band changes,
    /// as a person in the console would make them.
    pub(crate) fn out_of_band<T>(&self, f: impl AsyncFnOnce(&AwsBackend) -> T) -> T {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let creds = aws_sdk_organizations::config::Credentials::new(
                self.var("AWS_ACCESS_KEY_ID"),
                self.var("AWS_SECRET_ACCESS_KEY"),
                Some(self.var("AWS_SESSION_TOKEN")),
                None,
                "test",
            );
            let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new("us-east-1"))
                .endpoint_url(self.var("AWS_ENDPOINT_URL"))
                .credentials_provider(creds)
                .load()
                .await;
            f(&guardrail::live::demo::emulator_backend(&conf)).await
        })
    }

    pub(crate) fn command_via(&self, endpoint: &str, args: &[&str]) -> std::process::Command {
        let mut cmd = self.command(args);
        cmd.env("AWS_ENDPOINT_URL", endpoint);
        cmd
    }

    pub(crate) fn guardrail_via(&self, endpoint: &str, args: &[&str]) -> std::process::Output {
        self.command_via(endpoint, args).output().unwrap()
    }

    pub(crate) fn read_live(&self) -> guardrail::model::LiveOrg {
        self.out_of_band(async |b| {
            guardrail::live::read_organization(b, &Default::default())
                .await
                .unwrap()
        })
    }
}

pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Asserts the exit code, showing both streams when it differs.
pub(crate) fn expect_code(out: &std::process::Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// `(total, budget)` from `--stats` output.
pub(crate) fn stats(stderr: &str) -> (u64, u64) {
    let line = stderr
        .lines()
        .find(|l| l.trim_start().starts_with("total"))
        .expect("a stats total line");
    let nums: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    (nums[0], nums[1])
}

/// Sets the `ou` of `[accounts.KEY]` in a config text (adding the line for an account in the
/// root).
pub(crate) fn set_account_ou(cfg: &str, key: &str, ou: &str) -> String {
    let head = format!("[accounts.{key}]\n");
    let Some(start) = cfg.find(&head) else {
        return cfg.to_owned();
    };
    let end = cfg[start..]
        .find("\n\n")
        .map(|i| start + i)
        .unwrap_or(cfg.len());
    let block = &cfg[start..end];
    let new: String = block
        .lines()
        .filter(|l| !l.starts_with("ou = "))
        .map(|l| {
            if l.starts_with("id = ") {
                format!("{l}\nou = \"{ou}\"")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    format!("{}{new}{}", &cfg[..start], &cfg[end..])
}

pub(crate) fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let s = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, f(s)).unwrap();
}

/// A large change: guardrails on Workloads, new OUs whose only SCPs are replacements for
/// FullAWSAccess (attach, then detach FullAWSAccess), and ten accounts moved into them.
fn large_change(org: &Org, env: &str) {
    let path = org.path(&format!("environments/{env}.toml"));
    edit(&path, |s| {
        let mut s = s.replacen(
            "[ous.Workloads]\n",
            "[ous.Workloads]\nguardrails = [\"eu-only\", \"no-root\"]\n",
            1,
        );
        for k in 2..12 {
            s = set_account_ou(
                &s,
                &format!("acct-{k:04}"),
                if k % 2 == 0 { "Fault/A" } else { "Fault/B" },
            );
        }
        s + "\n[guardrails.eu-only]\ntemplate = \"region-lock\"\nallowed_regions = [\"eu-west-1\"]\n[guardrails.no-root]\ntemplate = \"root-user-deny\"\n\n[ous.Fault]\npolicies = [\"FullAWSAccess\"]\n[ous.\"Fault/A\"]\npolicies = [\"deny-leave-org\"]\n[ous.\"Fault/B\"]\npolicies = [\"deny-leave-org\"]\nguardrails = [\"no-root\"]\n"
    });
}

pub(crate) fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or(Value::Null)
}

/// A seeded organization, imported as `env`, with [`large_change`] made to its config; and the
/// live state before any apply.
pub(crate) fn org_with_large_change(env: &str) -> (Org, guardrail::model::LiveOrg) {
    let org = Org::seed(40, 10, 8);
    expect_code(&org.guardrail(&["import", "--env", env]), 0);
    large_change(&org, env);
    let initial = org.read_live();
    (org, initial)
}

/// Replays the journal from `initial` and checks every invariant of the model check after
/// every write: limits, shared denies (between `initial` and the organization now), no
/// unmanaged policy written.
pub(crate) fn replayed_violations(
    org: &Org,
    env: &str,
    initial: &guardrail::model::LiveOrg,
    log: &[proxy::Record],
) -> Vec<String> {
    let now = org.read_live();
    let desired = guardrail::config::load(&org.path(&format!("environments/{env}.toml")))
        .unwrap_or_else(|e| panic!("{e}"));
    let shared = invariants::shared_denies(initial, &now);
    let protected = invariants::untouchable(initial, &desired);
    let mut out = Vec::new();
    for (i, snap) in replay::snapshots(initial, log).iter().enumerate() {
        for m in invariants::check(snap, &shared, &protected) {
            out.push(format!("after write {}: {m}", i + 1));
        }
    }
    out
}
