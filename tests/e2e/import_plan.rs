//! import and plan against moto: an import of 300 accounts plans empty within its request
//! budget, config edits show exactly those changes, import keeps what exists, config errors
//! send nothing, and another management account is refused.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::{edit, expect_code, set_account_ou, stats, text, Org};

#[test]
fn import_then_plan_is_empty_on_300_accounts_within_budget() {
    let org = Org::seed(300, 30, 15);
    let out = org.guardrail(&["import", "--env", "big", "--stats"]);
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
            .filter(|e| !e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.'))
            .count(),
        15,
        "one document per policy (beside import's manifest)"
    );

    let out = org.guardrail(&["plan", "--env", "big", "--detailed-exitcode", "--stats"]);
    expect_code(&out, 0);
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
    edit(&cfg_path, |s| {
        set_account_ou(&s, "acct-0010", "Sandbox")
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
    assert_eq!(plan["format_version"], "1.2");
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
        // The proof's details are the access proof tests' (tests/e2e/access_proof.rs); the
        // verdict stays.
        (r"(?s)(\n  access proof: [A-Z ]+):.*?(\n\n  headroom)", "$1: [details]$2"),
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
    let out = org.guardrail(&["plan", "--env", "e", "--detailed-exitcode", "--stats"]);
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
