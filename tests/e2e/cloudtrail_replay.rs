//! `plan --replay` through the real binary on moto: an organization built by apply (two OUs,
//! two accounts in each), CloudTrail logs for it written by `guardrail-demo cloudtrail` (gzip,
//! organization-trail folders, every identity type), then a config that adds a region lock to
//! one OU. The plan lists as newly denied exactly the out-of-region requests of that OU's
//! accounts, computed from the generator's own facts (`--truth`), and none of the management
//! account, a service-linked role or the break-glass role; a cross-account call, delivered to
//! both accounts' folders with one `sharedEventID`, counts once; `--replay-fail-on-deny` exits
//! 3 and the Markdown comment opens with the count.

use std::collections::{BTreeMap, BTreeSet};

use assert_cmd::Command;
use serde_json::Value;

use super::{edit, expect_code, text, Org};
use crate::region_lock::{config_head, ALLOWED};

fn config(mgmt: &str) -> String {
    let mut cfg = config_head(mgmt, false);
    for (name, ou) in [
        ("locked-1", "Locked"),
        ("locked-2", "Locked"),
        ("open-1", "Open"),
        ("open-2", "Open"),
    ] {
        cfg.push_str(&format!(
            "\n[accounts.{name}]\nemail = \"{name}@example.com\"\nou = \"{ou}\"\n"
        ));
    }
    cfg
}

type Groups = BTreeMap<(String, String, String), u64>;

/// The newly denied set from the generator's facts alone (`--truth`, one JSON object a line).
fn expected(truth: &str, locked: &BTreeSet<String>) -> Groups {
    let mut out = Groups::new();
    for line in truth.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
        let caller = matches!(
            s("identity").as_str(),
            "Workload" | "SsoRole" | "IamUser" | "Root" | "FederatedUser"
        );
        if e["api_call"] == true
            && e["copy"] == false
            && e["denied_in_log"] == false
            && e["regional"] == true
            && caller
            && locked.contains(&s("account"))
            && !ALLOWED.contains(&s("region").as_str())
        {
            *out.entry((s("account"), s("action"), s("principal")))
                .or_default() += 1;
        }
    }
    out
}

#[test]
fn plan_replay_lists_exactly_the_out_of_region_requests_of_the_locked_ou() {
    let org = Org::bare();
    let mgmt = org.var("GUARDRAIL_DEMO_ACCOUNT");
    std::fs::create_dir_all(org.path("environments")).unwrap();
    let cfg = org.path("environments/r.toml");
    std::fs::write(&cfg, config(&mgmt)).unwrap();
    expect_code(
        &org.guardrail(&["apply", "--env", "r", "--auto-approve"]),
        0,
    );

    let live = org.read_live();
    let by_path = live.ou_ids_by_path();
    let in_ou = |ou: &str| -> BTreeSet<String> {
        let id = &by_path[&guardrail::model::OuPath::parse(ou).unwrap()];
        live.accounts
            .values()
            .filter(|a| a.parent_id == *id)
            .map(|a| a.id.clone())
            .collect()
    };
    let (locked, open) = (in_ou("Locked"), in_ou("Open"));
    assert_eq!((locked.len(), open.len()), (2, 2));

    let logs = org.path("logs");
    let truth = org.path("truth.jsonl");
    let members: Vec<String> = locked.iter().chain(&open).cloned().collect();
    let out = Command::cargo_bin("guardrail-demo")
        .unwrap()
        .args(["cloudtrail", "--management", &mgmt, "--accounts"])
        .arg(members.join(","))
        .args(["--files", "80", "--records-per-file", "40", "--seed", "11"])
        .arg("--out")
        .arg(&logs)
        .arg("--truth")
        .arg(&truth)
        .output()
        .unwrap();
    expect_code(&out, 0);
    let want = expected(&std::fs::read_to_string(&truth).unwrap(), &locked);

    assert!(want.len() >= 10, "a meaningful set: {want:?}");

    edit(&cfg, |s| {
        s.replace(
            "[ous.Locked]\npolicies = [\"FullAWSAccess\"]\n",
            "[ous.Locked]\npolicies = [\"FullAWSAccess\"]\nguardrails = [\"eu-only\"]\n",
        )
    });
    let logs_arg = logs.to_string_lossy().into_owned();
    let out = org.guardrail(&[
        "plan", "--env", "r", "--format", "json", "--replay", &logs_arg,
    ]);
    expect_code(&out, 0);
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let replay = &plan["replay"];
    assert!(
        replay["file_errors"].as_array().unwrap().is_empty(),
        "{replay:#}"
    );
    let truth = std::fs::read_to_string(&truth).unwrap();
    assert_eq!(replay["events_read"], truth.lines().count());
    // The owners' copies of cross-account calls (same sharedEventID) are counted once.
    let copies = truth
        .lines()
        .filter(|l| l.contains("\"copy\":true"))
        .count();
    assert!(copies > 0, "the generator wrote cross-account copies");
    assert_eq!(
        replay["not_evaluated"]["duplicate (eventID or sharedEventID seen before)"],
        copies
    );
    let mut got = Groups::new();
    for f in replay["newly_denied"].as_array().unwrap() {
        let s = |k: &str| f[k].as_str().unwrap().to_owned();
        *got.entry((s("account"), s("action"), s("principal")))
            .or_default() += f["count"].as_u64().unwrap();
        assert!(s("statement").contains("DenyOutsideAllowedRegions"), "{f}");
        assert_ne!(s("account"), mgmt);
        assert!(!s("principal").contains("aws-service-role"), "{f}");
        assert!(!s("principal").ends_with(":role/BreakGlass"), "{f}");
    }
    assert_eq!(got, want, "{}", replay["not_evaluated"]);
    let not_evaluated = &replay["not_evaluated"];
    for reason in [
        "exempt (management account)",
        "exempt (service-linked role)",
        "AWS service principal",
    ] {
        assert!(
            not_evaluated[reason].as_u64().unwrap_or(0) > 0,
            "{reason}: {not_evaluated}"
        );
    }

    // The gate and the PR comment's opening verdict.
    let out = org.guardrail(&[
        "plan",
        "--env",
        "r",
        "--format",
        "markdown",
        "--replay",
        &logs_arg,
        "--replay-fail-on-deny",
    ]);
    expect_code(&out, 3);
    let md = text(&out.stdout);
    let requests: u64 = want.values().sum();
    let principals: BTreeSet<&String> = want.keys().map(|k| &k.2).collect();
    let accounts: BTreeSet<&String> = want.keys().map(|k| &k.0).collect();
    let verdict = format!(
        "this change would have denied {requests} request(s) from {} principal(s) in {} account(s)",
        principals.len(),
        accounts.len()
    );
    let heading = md.find("### guardrail plan").unwrap();
    let at = md
        .find(&verdict)
        .unwrap_or_else(|| panic!("{verdict}\n{md}"));
    assert!(at < heading, "the verdict opens the comment:\n{md}");
    assert!(md.contains("What this change would have blocked"), "{md}");
}
