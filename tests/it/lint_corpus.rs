//! The lint corpus: realistic SCPs and RCPs written for guardrail (data perimeters on
//! `...IfExists` keys, region locks scoped to some services or exempting VPC calls, denies
//! scoped to role and policy ARNs, `aws:AssumedRoot`, newer services, mixed-case actions, RCP
//! perimeters) in `tests/fixtures/lint/`. None may draw an error, and every finding that
//! remains is in the snapshot, so a rule that starts firing on them shows up in review.

use std::fmt::Write as _;
use std::path::Path;

use guardrail::model::PolicyType;
use guardrail::policy::lint::{lint, LintContext, Severity};

fn corpus() -> Vec<(String, PolicyType, serde_json::Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint");
    let mut out = Vec::new();
    for (dir, ty) in [
        ("scp", PolicyType::ServiceControlPolicy),
        ("rcp", PolicyType::ResourceControlPolicy),
    ] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let doc =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let name = format!("{dir}/{}", f.file_name().unwrap().to_string_lossy());
            out.push((name, ty, doc));
        }
    }
    out
}

#[test]
fn the_corpus_draws_no_error_and_its_findings_are_reviewed() {
    let docs = corpus();
    assert!(docs.len() >= 12, "{} documents", docs.len());
    let ctx = LintContext {
        has_exempt_principals: true,
    };
    let mut report = String::new();
    for (name, ty, doc) in &docs {
        for f in lint(doc, *ty, &ctx) {
            assert_ne!(f.severity, Severity::Error, "{name}: {f:?}");
            let st = f.statement.as_deref().unwrap_or("-");
            let _ = writeln!(
                report,
                "{name} {st}: {} {} {}",
                f.code,
                f.severity.name(),
                f.message
            );
        }
    }
    insta::assert_snapshot!(report);
}
