//! Careless paths through the binary on moto (issue 11's "done when"): `import --force` keeps
//! a hand-written boundary document beside the files it wrote, and `plan --out` onto the
//! config it reads is refused before anything is written.

use crate::{text, Org};

#[test]
fn import_force_keeps_a_boundary_document_and_plan_out_never_overwrites_the_config() {
    let org = Org::seed(2, 6, 5);
    let out = org.guardrail(&["import", "--env", "cp"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Where the README puts it: beside the imported documents.
    let boundary = org.path("environments/cp/workload-boundary.json");
    let hand = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    std::fs::write(&boundary, hand).unwrap();
    let out = org.guardrail(&["import", "--env", "cp", "--force"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&boundary).unwrap(), hand);

    let config = org.path("environments/cp.toml");
    let before = std::fs::read_to_string(&config).unwrap();
    for target in ["environments/cp.toml", "environments/cp/saved.plan"] {
        let out = org.guardrail(&["plan", "--env", "cp", "--out", target]);
        assert_eq!(out.status.code(), Some(1), "{target}");
        let err = text(&out.stderr);
        assert!(err.contains("refusing --out"), "{target}: {err}");
        assert!(!err.contains("apply it with"), "{target}: {err}");
    }
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
    assert!(!org.path("environments/cp/saved.plan").exists());
    // Outside the environments directory a plan is saved.
    let out = org.guardrail(&["plan", "--env", "cp", "--out", "cp.plan"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(org.path("cp.plan").exists());
}
