//! `validate --format sarif` through the real binary: the log is valid SARIF 2.1.0 (checked
//! against the OASIS schema vendored in `tests/fixtures/sarif/`), and each finding names its
//! rule, its level and the line it is written on, in the config or in the JSON document.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

const ORG: &str = r#"[organization]
management_account = "111111111111"
deployer = "arn:aws:iam::111111111111:role/deployer"
"#;

/// Writes `environments/t.toml` (`ORG` + `extra`) and its documents, runs
/// `validate --format sarif` there.
fn validate(extra: &str, docs: &[(&str, &str)]) -> (Output, Value) {
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("environments");
    std::fs::create_dir_all(env.join("t")).unwrap();
    for (p, text) in docs {
        std::fs::write(env.join(p), text).unwrap();
    }
    std::fs::write(env.join("t.toml"), format!("{ORG}{extra}")).unwrap();
    let out = assert_cmd::Command::cargo_bin("guardrail")
        .unwrap()
        .current_dir(dir.path())
        .args(["validate", "--env", "t", "--format", "sarif"])
        .output()
        .unwrap();
    let log: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out, log)
}

fn assert_valid_sarif(log: &Value) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sarif/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert_eq!(errors, Vec::<String>::new(), "{log:#}");
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().unwrap()
}

/// (rule, level, uri, line, column) of each result.
fn findings(log: &Value) -> Vec<(String, String, String, u64, u64)> {
    results(log)
        .iter()
        .map(|r| {
            let at = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap().to_owned(),
                r["level"].as_str().unwrap().to_owned(),
                at["artifactLocation"]["uri"].as_str().unwrap().to_owned(),
                at["region"]["startLine"].as_u64().unwrap(),
                at["region"]["startColumn"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_config_with_findings_is_valid_sarif_with_rules_levels_and_lines() {
    let no_iam = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Sid\": \"NoIam\",\n      \"Effect\": \"Deny\",\n      \"Action\": \"iam:*\",\n      \"Resource\": \"*\"\n    },\n    {\n      \"Sid\": \"Lower\",\n      \"Effect\": \"Deny\",\n      \"Action\": \"ec2:runinstances\",\n      \"Resource\": \"*\"\n    }\n  ]\n}\n";
    let extra = "\n[policies.no-iam]\ndocument = \"t/no-iam.json\"\n\n[ous.Locked]\npolicies = [\"FullAWSAccess\", \"no-iam\"]\n\n[[assert]]\nou = \"Locked\"\naction = \"s3:GetObject\"\nexpect = \"deny\"\n";
    let (out, log) = validate(extra, &[("t/no-iam.json", no_iam)]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "not clean: a lockout and a failed assertion"
    );
    assert_valid_sarif(&log);
    let found = findings(&log);

    // The member role's lockouts, one result for the principal and its cause, point at the
    // `[organization]` table, where the role's default applies (line 1, its key at column 2).
    let lockouts: Vec<&Value> = results(&log)
        .iter()
        .filter(|r| r["ruleId"] == "LOCKOUT")
        .collect();
    assert_eq!(lockouts.len(), 1, "{found:?}");
    let message = lockouts[0]["message"]["text"].as_str().unwrap();
    assert!(
        message.contains("role/OrganizationAccountAccessRole") && message.contains("NoIam"),
        "{message}"
    );
    assert!(
        found.contains(&(
            "LOCKOUT".into(),
            "error".into(),
            "environments/t.toml".into(),
            1,
            2
        )),
        "{found:?}"
    );
    // The failed assertion at its `[[assert]]` line.
    let assert_line = format!("{ORG}{extra}")
        .lines()
        .position(|l| l == "[[assert]]")
        .unwrap() as u64
        + 1;
    assert!(
        found
            .iter()
            .any(|f| f.0 == "ASSERT" && f.2 == "environments/t.toml" && f.3 == assert_line),
        "{found:?}"
    );
    // Lint notes point at their statement's `Sid` in the document: NoIam on line 5, Lower
    // (a lower-case action too) on line 11, column 7.
    let lint: Vec<_> = found.iter().filter(|f| f.0.starts_with("GR")).collect();
    assert!(lint.iter().any(|f| (f.3, f.4) == (11, 7)), "{found:?}");
    for f in &lint {
        assert_eq!(f.2, "environments/t/no-iam.json", "{f:?}");
        assert!([(5, 7), (11, 7)].contains(&(f.3, f.4)), "{f:?}");
        assert!(["note", "warning"].contains(&f.1.as_str()), "{f:?}");
    }
    // Every result's rule is described in the driver.
    let rules: Vec<&str> = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for f in &found {
        assert!(rules.contains(&f.0.as_str()), "{} has no rule entry", f.0);
    }
}

#[test]
fn config_errors_are_sarif_results_at_their_lines() {
    let extra = "colour = \"blue\"\n\n[root]\npolicies = [\"Missing\"]\n";
    let (out, log) = validate(extra, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_valid_sarif(&log);
    let found = findings(&log);
    let org_lines = ORG.lines().count() as u64;
    assert!(
        found.contains(&(
            "config::UnknownKey".into(),
            "error".into(),
            "environments/t.toml".into(),
            org_lines + 1,
            1
        )),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.0 == "config::Dangling" && f.3 == org_lines + 4 && f.4 == 13),
        "{found:?}"
    );
}

#[test]
fn a_clean_config_is_an_empty_run_and_exit_0() {
    let (out, log) = validate("", &[]);
    assert_eq!(out.status.code(), Some(0), "{log:#}");
    assert_valid_sarif(&log);
    assert_eq!(results(&log).len(), 0, "{log:#}");
    // The schema check has teeth: a level SARIF does not know is refused.
    let mut bad = log.clone();
    bad["runs"][0]["results"] =
        serde_json::json!([{"ruleId": "X", "level": "fatal", "message": {"text": "x"}}]);
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sarif/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(!jsonschema::validator_for(&schema).unwrap().is_valid(&bad));
}
