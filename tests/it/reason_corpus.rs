//! `policy::reason` on the public-shaped SCP and RCP corpus (`tests/fixtures/lint/`): for
//! every document, pure tightenings (one more Deny, an Allow narrowed below
//! `FullAWSAccess`) are PROVED, and removing each Deny statement gives a counterexample the
//! old policy denies by that very statement, whose action the statement names.

use crate::account_path::path;
use guardrail::policy::eval::{glob, Actions, Decision, Path, Statement};
use guardrail::policy::reason::{new_access, Budget, Constants, Verdict};
use serde_json::{json, Value};

fn corpus() -> Vec<(String, bool, Value)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint");
    let mut out = Vec::new();
    for dir in ["scp", "rcp"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        for f in files {
            let doc = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            let name = format!("{dir}/{}", f.file_name().unwrap().to_string_lossy());
            out.push((name, dir == "rcp", doc));
        }
    }
    out
}

fn constants() -> Constants {
    Constants {
        account_id: "111122223333".into(),
        org_id: Some("o-a1b2c3d4e5".into()),
        org_paths: vec!["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/".into()],
        account_shared: false,
    }
}

fn verdict(old: &Path, new: &Path) -> Verdict {
    new_access(old, new, &constants(), Budget::default())
}

#[test]
fn tightenings_of_every_corpus_document_are_proved() {
    let extra = json!({"Statement": [{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]});
    let narrow = json!({"Statement": [{"Effect": "Allow", "Action": ["s3:*", "ec2:Describe*"], "Resource": "*"}]});
    for (name, rcp, doc) in corpus() {
        let old = path(rcp, &[&doc], None);
        let more = path(rcp, &[&doc, &extra], None);
        assert_eq!(
            verdict(&old, &more),
            Verdict::Proved,
            "{name}: one more Deny"
        );
        let narrowed = path(rcp, &[&doc], Some(&narrow));
        assert_eq!(
            verdict(&old, &narrowed),
            Verdict::Proved,
            "{name}: a narrower Allow"
        );
    }
}

#[test]
fn removing_a_deny_statement_shows_a_request_it_denied() {
    let mut removed = 0;
    for (name, rcp, doc) in corpus() {
        let stmts = doc["Statement"].as_array().unwrap();
        for (i, s) in stmts.iter().enumerate() {
            if s["Effect"] != "Deny" {
                continue;
            }
            let typed = Statement::parse(s, i);
            let mut rest = doc.clone();
            rest["Statement"].as_array_mut().unwrap().remove(i);
            let (old, new) = (path(rcp, &[&doc], None), path(rcp, &[&rest], None));
            let Verdict::NewAccess(ws) = verdict(&old, &new) else {
                panic!("{name} {}: removing it is not new access", typed.name);
            };
            removed += 1;
            // Some counterexample is denied today by exactly the removed statement...
            let w = ws
                .iter()
                .find(|w| matches!(&w.old, Decision::Deny(d) if d.statement == typed.name))
                .unwrap_or_else(|| panic!("{name} {}: {ws:#?}", typed.name));
            // ...and names an action that statement covers.
            let action = w.request.action.to_ascii_lowercase();
            let named = match &typed.actions {
                Actions::Action(p) => p.iter().any(|p| glob(p, &action)),
                Actions::NotAction(p) => !p.iter().any(|p| glob(p, &action)),
                Actions::Missing => false,
            };
            assert!(named, "{name} {}: {action}", typed.name);
            assert_eq!(w.new, Decision::Allow, "{name}");
        }
    }
    assert!(removed >= 12, "{removed} Deny statements");
}
