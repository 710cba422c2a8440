//! `suggest service-allowlist` through the binary on moto, as far as moto goes: the config,
//! the connection and the OU's entity path (`ListRoots`, `ListOrganizationalUnitsForParent`
//! through the SDK). moto has no organizations access report (docs/suggest.md), so the report
//! and the suggestion are tested on the fake (`tests/it/suggest.rs`).

use super::{expect_code, text, Org};

#[test]
fn suggest_resolves_the_ou_through_the_sdk_and_names_a_missing_one() {
    let org = Org::seed(3, 2, 1);
    let out = org.guardrail(&["import", "--env", "s"]);
    expect_code(&out, 0);
    let out = org.guardrail(&[
        "suggest",
        "service-allowlist",
        "--env",
        "s",
        "--ou",
        "Nowhere/Deeper",
    ]);
    expect_code(&out, 1);
    let err = text(&out.stderr);
    assert!(
        err.contains("the organization has no OU Nowhere/Deeper"),
        "{err}"
    );
    assert!(
        out.stdout.is_empty(),
        "no suggestion: {}",
        text(&out.stdout)
    );
}
