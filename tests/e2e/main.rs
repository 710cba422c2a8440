//! End-to-end: the real `guardrail` binary, through the real AWS SDK, against moto on
//! loopback. Each test creates its own organization in a fresh random account (see
//! `guardrail-demo`), so tests share one moto server without seeing each other.
//! No test here relies on an AWS rule moto does not enforce; the fake covers those.

mod moto;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use assert_cmd::Command;
use serde_json::Value;

/// One isolated organization and a working directory for it.
struct Org {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

static SEED: AtomicU64 = AtomicU64::new(1);

impl Org {
    fn seed(accounts: usize, ous: usize, policies: usize) -> Org {
        let moto = moto::moto();
        let dir = tempfile::tempdir().unwrap();
        let env_file = dir.path().join("org.env");
        let seed = SEED.fetch_add(1, Ordering::SeqCst) + u64::from(std::process::id()) * 1000;
        let out = Command::cargo_bin("guardrail-demo")
            .unwrap()
            .args(["seed", "--new-org", "--endpoint-url", &moto.endpoint])
            .args([
                "--accounts",
                &accounts.to_string(),
                "--ous",
                &ous.to_string(),
                "--policies",
                &policies.to_string(),
            ])
            .args(["--seed", &seed.to_string()])
            .arg("--env-file")
            .arg(&env_file)
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "seeding failed: {}",
            String::from_utf8_lossy(&out.stderr)
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

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn guardrail(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = Command::cargo_bin("guardrail").unwrap();
        cmd.current_dir(self.dir.path())
            .env_remove("AWS_PROFILE")
            .env("NO_COLOR", "1");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.args(args).output().unwrap()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `(total, budget)` from `--stats` output.
fn stats(stderr: &str) -> (u64, u64) {
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

fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let s = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, f(s)).unwrap();
}

#[test]
fn import_then_plan_is_empty_on_300_accounts_within_budget() {
    let org = Org::seed(300, 30, 15);
    let out = org.guardrail(&["--stats", "import", "--env", "big"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (total, budget) = stats(&text(&out.stderr));
    assert!(
        total <= budget,
        "import walk made {total} requests; budget {budget}"
    );
    let cfg = std::fs::read_to_string(org.path("environments/big.toml")).unwrap();
    assert_eq!(
        cfg.matches("[accounts.").count(),
        301,
        "300 members and the management account"
    );
    assert_eq!(
        std::fs::read_dir(org.path("environments/big"))
            .unwrap()
            .count(),
        15
    );

    let out = org.guardrail(&["--stats", "plan", "--env", "big", "--detailed-exitcode"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("No changes."),
        "{}",
        text(&out.stdout)
    );
    let (total, budget) = stats(&text(&out.stderr));
    assert!(
        total <= budget,
        "plan walk made {total} requests; budget {budget}"
    );
    // Per parent and per policy, never per account: far fewer requests than accounts.
    assert!(total < 150, "{total} requests for 300 accounts");
}

#[test]
fn edits_show_exactly_those_changes() {
    let org = Org::seed(100, 10, 8);
    let out = org.guardrail(&["import", "--env", "prod"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cfg_path = org.path("environments/prod.toml");
    let cfg = std::fs::read_to_string(&cfg_path).unwrap();

    // Move acct-0010 to Sandbox, add an OU, change one SCP's meaning and only reformat another.
    let start = cfg.find("[accounts.acct-0010]").unwrap();
    let block_end = cfg[start..]
        .find("\n\n")
        .map(|i| start + i)
        .unwrap_or(cfg.len());
    let block = &cfg[start..block_end];
    let id = block
        .lines()
        .find_map(|l| l.strip_prefix("id = "))
        .unwrap()
        .trim_matches('"')
        .to_owned();
    let new_block = block
        .lines()
        .filter(|l| !l.starts_with("ou = "))
        .map(|l| {
            if l.starts_with("id = ") {
                format!("{l}\nou = \"Sandbox\"")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    edit(&cfg_path, |s| {
        s.replace(block, &new_block)
            + "\n[ous.\"Sandbox/Experiments\"]\npolicies = [\"FullAWSAccess\", \"deny-leave-org\"]\n"
    });
    edit(
        &org.path("environments/prod/protect-cloudtrail.json"),
        |s| {
            s.replace(
                "\"cloudtrail:DeleteTrail\",",
                "\"cloudtrail:DeleteTrail\",\n        \"cloudtrail:PutEventSelectors\",",
            )
        },
    );
    edit(&org.path("environments/prod/region-lock.json"), |s| {
        let v: Value = serde_json::from_str(&s).unwrap();
        let mut stmt = v["Statement"][0].clone();
        let mut acts: Vec<Value> = stmt["NotAction"].as_array().unwrap().clone();
        acts.reverse();
        stmt["NotAction"] = Value::Array(acts);
        // Keys reordered, a one-element list instead of a string, no whitespace.
        stmt["Resource"] = serde_json::json!(["*"]);
        format!(r#"{{"Statement":{stmt},"Version":"2012-10-17"}}"#)
    });

    let out = org.guardrail(&[
        "plan",
        "--env",
        "prod",
        "--format",
        "json",
        "--detailed-exitcode",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["format_version"], "1.0");
    let got: BTreeSet<String> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| match c["action"].as_str().unwrap() {
            "move_account" => format!(
                "move_account {} {}->{}",
                c["account_id"].as_str().unwrap(),
                c["from"].as_str().unwrap(),
                c["to"].as_str().unwrap()
            ),
            "update_policy" => format!("update_policy {}", c["policy"].as_str().unwrap()),
            "create_ou" => format!("create_ou {}", c["path"].as_str().unwrap()),
            "attach" => format!(
                "attach {} {}",
                c["policy"].as_str().unwrap(),
                c["target"]["path"].as_str().unwrap_or("?")
            ),
            other => format!("unexpected {other}"),
        })
        .collect();
    let from = block
        .lines()
        .find_map(|l| l.strip_prefix("ou = "))
        .map(|s| s.trim_matches('"').to_owned())
        .unwrap_or("(root)".into());
    let want: BTreeSet<String> = [
        format!("move_account {id} {from}->Sandbox"),
        "update_policy protect-cloudtrail".to_owned(),
        "create_ou Sandbox/Experiments".to_owned(),
        "attach deny-leave-org Sandbox/Experiments".to_owned(),
    ]
    .into();
    assert_eq!(got, want);

    // The human rendering of the same plan, ids filtered.
    let out = org.guardrail(&["plan", "--env", "prod"]);
    assert_eq!(out.status.code(), Some(0));
    let human = text(&out.stdout);
    insta::with_settings!({filters => vec![
        (r"\b\d{12}\b", "[ACCOUNT]"),
        (r"\bp-[0-9a-z]{8,}\b", "[POLICY]"),
        (r"\bo-[0-9a-z]{10,}\b", "[ORG]"),
        (r"move account acct-0010 from \S+ to", "move account acct-0010 from [OU] to"),
    ]}, {
        insta::assert_snapshot!(human);
    });
}

#[test]
fn import_refuses_to_overwrite_without_force() {
    let org = Org::seed(3, 6, 5);
    assert!(org.guardrail(&["import", "--env", "x"]).status.success());
    let cfg = org.path("environments/x.toml");
    std::fs::write(&cfg, "# my edits\n").unwrap();
    let out = org.guardrail(&["import", "--env", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("pass --force"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&cfg).unwrap(),
        "# my edits\n",
        "nothing lost"
    );
    let out = org.guardrail(&["import", "--env", "x", "--force"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read_to_string(&cfg)
        .unwrap()
        .contains("[organization]"));
}

#[test]
fn config_errors_name_file_line_and_key_and_send_nothing() {
    let org = Org::seed(2, 6, 5);
    assert!(org.guardrail(&["import", "--env", "e"]).status.success());
    edit(&org.path("environments/e.toml"), |s| {
        s.replacen("[root]\npolicies", "[root]\npolices", 1)
    });
    let out = org.guardrail(&["--stats", "plan", "--env", "e", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("environments/e.toml:"), "{err}");
    assert!(err.contains("root.polices: unknown key `polices`"), "{err}");
    assert!(
        !err.contains("requests by operation"),
        "no request was sent: {err}"
    );
}

#[test]
fn plan_refuses_another_management_account() {
    let org = Org::seed(2, 6, 5);
    assert!(org.guardrail(&["import", "--env", "m"]).status.success());
    edit(&org.path("environments/m.toml"), |s| {
        let start = s.find("management_account = \"").unwrap() + 22;
        format!("{}000000000001{}", &s[..start], &s[start + 12..])
    });
    let out = org.guardrail(&["plan", "--env", "m"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("the config is for management account 000000000001"),
        "{}",
        text(&out.stderr)
    );
}
