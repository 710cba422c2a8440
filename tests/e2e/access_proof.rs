//! The access proof on moto (docs/access-proof.md): a plan that only adds a Deny says PROVED;
//! a plan that drops a Deny statement says NEW ACCESS with a counterexample that `explain`
//! allows on the new config; a policy variable outside the decided fragment says UNKNOWN and
//! why; OUs and accounts the plan creates are checked. The real binary, the real SDK, an
//! imported organization.

use serde_json::Value;
use toml_edit::{value, Array, DocumentMut, Item, Table};

use super::{expect_code, text, Org};

const ENV: &str = "ap";

/// An imported organization with a few accounts spread over the demo's OUs.
fn imported() -> Org {
    let org = Org::seed(8, 6, 5);
    let out = org.guardrail(&["import", "--env", ENV]);
    expect_code(&out, 0);
    org
}

fn config(org: &Org) -> DocumentMut {
    std::fs::read_to_string(org.path(&format!("environments/{ENV}.toml")))
        .unwrap()
        .parse()
        .unwrap()
}

fn save(org: &Org, doc: &DocumentMut) {
    std::fs::write(
        org.path(&format!("environments/{ENV}.toml")),
        doc.to_string(),
    )
    .unwrap();
}

/// Adds policy `name` with `statements` (its document written beside the imported ones) and
/// lists it on OU `ou`.
fn add_policy(org: &Org, name: &str, statements: Value, ou: &str) {
    let document = serde_json::json!({"Version": "2012-10-17", "Statement": statements});
    write_document(org, name, &document);
    let mut doc = config(org);
    let mut t = Table::new();
    t["description"] = value(format!("{name} (access proof test)"));
    t["document"] = value(format!("{ENV}/{name}.json"));
    doc["policies"][name] = Item::Table(t);
    let list = &mut doc["ous"][ou]["policies"];
    if list.is_none() {
        *list = value(Array::new());
    }
    list.as_array_mut()
        .expect("an OU's policies are a list")
        .push(name);
    save(org, &doc);
}

fn write_document(org: &Org, name: &str, document: &Value) {
    std::fs::write(
        org.path(&format!("environments/{ENV}/{name}.json")),
        serde_json::to_string_pretty(document).unwrap(),
    )
    .unwrap();
}

/// Account ids the config places at or below `ou`.
fn accounts_below(org: &Org, ou: &str) -> Vec<String> {
    let doc = config(org);
    let accounts = doc["accounts"].as_table().expect("[accounts]");
    accounts
        .iter()
        .filter(|(_, a)| {
            a.get("ou")
                .and_then(Item::as_str)
                .is_some_and(|o| o == ou || o.starts_with(&format!("{ou}/")))
        })
        .filter_map(|(_, a)| a.get("id").and_then(Item::as_str).map(str::to_owned))
        .collect()
}

fn plan_json(org: &Org, extra: &[&str]) -> (std::process::Output, Value) {
    let mut args = vec!["plan", "--env", ENV, "--format", "json"];
    args.extend_from_slice(extra);
    let out = org.guardrail(&args);
    let plan = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out, plan)
}

#[test]
fn adding_a_deny_scp_to_an_ou_is_proved() {
    let org = imported();
    add_policy(
        &org,
        "deny-delete-bucket",
        serde_json::json!([{"Sid": "NoDelete", "Effect": "Deny",
            "Action": "s3:DeleteBucket", "Resource": "*"}]),
        "Sandbox",
    );
    let (out, plan) = plan_json(&org, &["--fail-on-new-access"]);
    expect_code(&out, 0);
    let proof = &plan["access_proof"];
    assert_eq!(proof["verdict"], "proved", "{proof:#}");
    assert!(
        proof["classes"].as_u64().unwrap() >= 1,
        "the OU's fresh account at least is checked: {proof:#}"
    );
    assert_eq!(proof["counterexamples"], serde_json::json!([]));
    // The reverse direction: s3:DeleteBucket is newly denied below Sandbox.
    // In the IAM catalogue's casing.
    let denied = proof["newly_denied"].to_string();
    assert!(denied.contains("\"s3:DeleteBucket\""), "{proof:#}");

    let out = org.guardrail(&["plan", "--env", ENV, "--format", "markdown"]);
    expect_code(&out, 0);
    let md = text(&out.stdout);
    assert!(
        md.lines()
            .next()
            .is_some_and(|l| l.contains("Access proof: PROVED")),
        "the comment opens with the verdict:\n{md}"
    );
    let out = org.guardrail(&["plan", "--env", ENV]);
    assert!(
        text(&out.stdout).contains("access proof: PROVED"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn removing_the_delete_bucket_statement_is_new_access_that_explain_allows() {
    let org = imported();
    let both = serde_json::json!([
        {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
        {"Sid": "NoStopLogging", "Effect": "Deny", "Action": "cloudtrail:StopLogging", "Resource": "*"}
    ]);
    add_policy(&org, "deny-destruction", both.clone(), "Workloads");
    let out = org.guardrail(&["apply", "--env", ENV, "--auto-approve"]);
    expect_code(&out, 0);
    let (out, plan) = plan_json(&org, &["--fail-on-new-access"]);
    expect_code(&out, 0);
    assert_eq!(plan["access_proof"]["verdict"], "proved", "{plan:#}");

    let kept = serde_json::json!({"Version": "2012-10-17", "Statement": [both[1].clone()]});
    write_document(&org, "deny-destruction", &kept);
    let (out, plan) = plan_json(&org, &["--fail-on-new-access"]);
    expect_code(&out, 3);
    let proof = &plan["access_proof"];
    assert_eq!(proof["verdict"], "new_access", "{proof:#}");
    let under = accounts_below(&org, "Workloads");
    assert!(
        !under.is_empty(),
        "the demo places accounts below Workloads"
    );
    let examples = proof["counterexamples"].as_array().unwrap();
    assert!(!examples.is_empty() && examples.len() <= 10, "{proof:#}");
    let c = examples
        .iter()
        .find(|c| {
            c["account_id"]
                .as_str()
                .is_some_and(|id| under.iter().any(|u| u == id))
        })
        .unwrap_or_else(|| panic!("no counterexample in an account below Workloads: {proof:#}"));
    assert_eq!(c["action"], "s3:DeleteBucket", "{c:#}");
    // Concrete values a reviewer can paste: a principal of the account, a bucket's ARN.
    let account = c["account_id"].as_str().unwrap();
    let principal = c["principal"].as_str().unwrap_or_default();
    assert!(
        principal.starts_with(&format!("arn:aws:iam::{account}:")) && !principal.contains('*'),
        "{c:#}"
    );
    let resource = c["resource"].as_str().unwrap_or_default();
    assert!(
        resource.starts_with("arn:aws:s3:::") && !resource.contains(['*', '/']),
        "{c:#}"
    );
    assert_eq!(c["notes"], serde_json::json!([]), "{c:#}");
    assert_eq!(c["responsible"]["policy"], "deny-destruction", "{c:#}");
    assert_eq!(c["responsible"]["statement"], "NoDelete", "{c:#}");
    let decision = explain(&org, c);
    assert_eq!(decision["decision"], "allow", "{c:#}\n{decision:#}");
    assert!(
        decision.get("reason").is_none(),
        "allowed by the policies, not exempt: {decision:#}"
    );

    // Without the flag, the same plan exits 0; the human plan names the request.
    let out = org.guardrail(&["plan", "--env", ENV]);
    expect_code(&out, 0);
    let human = text(&out.stdout);
    assert!(human.contains("access proof: NEW ACCESS"), "{human}");
    assert!(human.contains("s3:DeleteBucket"), "{human}");
}

/// The plan creates OU `Lax` (FullAWSAccess alone), moves an account out of Workloads, whose
/// Denies it leaves behind, into it, and creates an account there with the
/// Deny at its own level. The moved account has new access (a counterexample `explain`
/// allows on the new config); the created account and the new OU's fresh account are
/// checked (against a fresh account at the root today), and the created account's summary
/// says what it is denied.
#[test]
fn an_ou_and_an_account_the_plan_creates_are_checked() {
    let org = imported();
    let deny = serde_json::json!([{"Sid": "NoDelete", "Effect": "Deny",
        "Action": "s3:DeleteBucket", "Resource": "*"}]);
    add_policy(&org, "deny-destruction", deny, "Workloads");
    let out = org.guardrail(&["apply", "--env", ENV, "--auto-approve"]);
    expect_code(&out, 0);
    let (moved, before) = {
        let under = accounts_below(&org, "Workloads");
        let id = under.first().expect("accounts below Workloads").clone();
        let (_, plan) = plan_json(&org, &[]);
        (
            id,
            plan["access_proof"]["new_account_ous"]
                .as_u64()
                .unwrap_or(0),
        )
    };
    let mut doc = config(&org);
    let mut lax = Table::new();
    lax["policies"] = value(Array::from_iter(["FullAWSAccess"]));
    doc["ous"]["Lax"] = Item::Table(lax);
    let accounts = doc["accounts"].as_table_mut().expect("[accounts]");
    let key = accounts
        .iter()
        .find(|(_, a)| a.get("id").and_then(Item::as_str) == Some(moved.as_str()))
        .map(|(k, _)| k.to_owned())
        .expect("the account's entry");
    accounts[&key]["ou"] = value("Lax");
    let mut newbie = Table::new();
    newbie["email"] = value("newbie@example.com");
    newbie["ou"] = value("Lax");
    newbie["policies"] = value(Array::from_iter(["FullAWSAccess", "deny-destruction"]));
    accounts["newbie"] = Item::Table(newbie);
    save(&org, &doc);

    let (out, plan) = plan_json(&org, &["--fail-on-new-access"]);
    expect_code(&out, 3);
    let changes = plan["changes"].to_string();
    assert!(
        changes.contains("create_ou") && changes.contains("create_account"),
        "{changes}"
    );
    let proof = &plan["access_proof"];
    assert_eq!(proof["verdict"], "new_access", "{proof:#}");
    let examples = proof["counterexamples"].as_array().unwrap();
    assert!(!examples.is_empty(), "{proof:#}");
    for c in examples {
        assert_eq!(
            c["account_id"],
            moved.as_str(),
            "only the moved account: {c:#}"
        );
        let level = c["responsible"]["level"].as_str().unwrap_or_default();
        assert!(
            level.starts_with("ou Workloads"),
            "what Workloads denied (the demo's own SCPs there too): {c:#}"
        );
    }
    let decision = explain(&org, &examples[0]);
    assert_eq!(decision["decision"], "allow", "{decision:#}");
    assert!(
        proof["new_account_ous"].as_u64().unwrap() > before,
        "Lax's fresh account is checked: {proof:#}"
    );
    let created = proof["newly_denied"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["created_account_email"] == "newbie@example.com")
        .unwrap_or_else(|| panic!("the created account is checked: {proof:#}"));
    assert_eq!(created["new_account_in_ou"], "Lax", "{created:#}");
    assert!(
        created["patterns"]
            .to_string()
            .contains("\"s3:DeleteBucket\""),
        "{created:#}"
    );
}

/// Runs `explain` on the new config with the counterexample's request; its JSON answer.
fn explain(org: &Org, c: &Value) -> Value {
    let account = c["account_id"].as_str().unwrap().to_owned();
    let action = c["action"].as_str().unwrap().to_owned();
    let mut args: Vec<String> = ["explain", "--env", ENV, "--format", "json"]
        .map(str::to_owned)
        .to_vec();
    args.extend(["--account".into(), account, "--action".into(), action]);
    for (flag, key) in [
        ("--principal", "principal"),
        ("--region", "region"),
        ("--resource", "resource"),
    ] {
        if let Some(v) = c[key].as_str() {
            args.extend([flag.to_owned(), v.to_owned()]);
        }
    }
    for (k, vs) in c["context"].as_object().unwrap() {
        for v in vs.as_array().unwrap() {
            args.extend([
                "--context".to_owned(),
                format!("{k}={}", v.as_str().unwrap()),
            ]);
        }
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = org.guardrail(&refs);
    expect_code(&out, 0);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A Deny that keeps each user to their own buckets (and the shared ones) is applied; the
/// change drops the shared ones. Whether that opens anything rests on what
/// `${aws:username}` holds, which the procedure does not decide: UNKNOWN, naming the variable
/// and the statement, and `--fail-on-new-access` fails.
#[test]
fn a_policy_variable_outside_the_fragment_is_unknown_and_says_why() {
    let org = imported();
    let own = "arn:aws:s3:::${aws:username}-*";
    let statement = |not: Value| {
        serde_json::json!([{"Sid": "OnlyOwn", "Effect": "Deny",
            "Action": "s3:DeleteBucket", "NotResource": not}])
    };
    add_policy(
        &org,
        "deny-others-buckets",
        statement(serde_json::json!([own, "arn:aws:s3:::shared-*"])),
        "Sandbox",
    );
    let out = org.guardrail(&["apply", "--env", ENV, "--auto-approve"]);
    expect_code(&out, 0);
    let tightened = serde_json::json!({"Version": "2012-10-17",
        "Statement": statement(serde_json::json!([own]))});
    write_document(&org, "deny-others-buckets", &tightened);
    let (out, plan) = plan_json(&org, &["--fail-on-new-access"]);
    expect_code(&out, 3);
    let proof = &plan["access_proof"];
    assert_eq!(proof["verdict"], "unknown", "{proof:#}");
    let reason = proof["reason"].as_str().unwrap_or_default();
    assert!(
        reason.to_ascii_lowercase().contains("${aws:username}"),
        "the reason names the construct: {proof:#}"
    );
    assert!(
        reason.contains("deny-others-buckets/OnlyOwn"),
        "the reason names the statement: {proof:#}"
    );
    let out = org.guardrail(&["plan", "--env", ENV]);
    let human = text(&out.stdout);
    assert!(human.contains("access proof: UNKNOWN"), "{human}");
}
