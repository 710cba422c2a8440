//! The lint corpus: realistic SCPs and RCPs written for guardrail (data perimeters on
//! `...IfExists` keys, region locks scoped to some services or exempting VPC calls, denies
//! scoped to role and policy ARNs, `aws:AssumedRoot`, newer services, mixed-case actions, RCP
//! perimeters) in `tests/fixtures/lint/`. None may draw an error; every action, wildcard and
//! condition key they name is in the IAM catalogue (checked here apart from lint), so no
//! finding of a catalogue rule may appear (it would contradict the catalogue); and every
//! finding that remains is in the snapshot, so a rule that starts firing on them shows up in
//! review.

use std::fmt::Write as _;
use std::path::Path;

use guardrail::model::PolicyType;
use guardrail::policy::iam::catalogue;
use guardrail::policy::lint::{
    lint, LintContext, Severity, EMPTY_WILDCARD, GLOBAL_KEY, RCP_SERVICE, SERVICE_PREFIX,
    UNKNOWN_ACTION, UNSUPPORTED_KEY,
};

/// The rules whose findings say the catalogue lacks something.
const CATALOGUE_RULES: &[&str] = &[
    SERVICE_PREFIX.code,
    GLOBAL_KEY.code,
    UNKNOWN_ACTION.code,
    EMPTY_WILDCARD.code,
    UNSUPPORTED_KEY.code,
    RCP_SERVICE.code,
];

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
        names_only_what_the_catalogue_knows(name, doc);
        for f in lint(doc, *ty, &ctx) {
            assert_ne!(f.severity, Severity::Error, "{name}: {f:?}");
            assert!(
                !CATALOGUE_RULES.contains(&f.code),
                "{name}: the catalogue knows everything this document names: {f:?}"
            );
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

fn strings(v: &serde_json::Value) -> Vec<&str> {
    match v {
        serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_str()).collect(),
        other => other.as_str().into_iter().collect(),
    }
}

/// Every action of the document is a catalogue action of a catalogue service (a wildcard
/// matches at least one), and every condition key is a global key or a key of its service.
fn names_only_what_the_catalogue_knows(name: &str, doc: &serde_json::Value) {
    let cat = catalogue();
    for st in doc["Statement"].as_array().into_iter().flatten() {
        let actions = st.get("Action").or(st.get("NotAction"));
        for a in actions.map(strings).unwrap_or_default() {
            if a == "*" {
                continue;
            }
            let (svc, act) = a.split_once(':').unwrap_or((a, ""));
            let service = cat.service(svc);
            let hits = service.map_or(0, |s| s.matching(act).count());
            assert!(hits > 0, "{name}: `{a}` is not in the catalogue");
        }
        for keys in st["Condition"]
            .as_object()
            .into_iter()
            .flat_map(|o| o.values())
        {
            for key in keys.as_object().into_iter().flat_map(|k| k.keys()) {
                let prefix = key.split(':').next().unwrap_or_default();
                let own = cat
                    .service(prefix)
                    .is_some_and(|s| s.keys.iter().any(|k| k.covers(key)));
                // An OIDC provider's keys (`token.actions.githubusercontent.com:sub`) are no
                // service's: AWS sets them from the web identity token.
                let oidc = prefix.contains('.');
                assert!(
                    cat.global_key(key).is_some() || own || oidc,
                    "{name}: condition key `{key}` is not in the catalogue"
                );
            }
        }
    }
}
