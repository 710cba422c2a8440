//! AWS matches action names case-insensitively (`EC2:TerminateInstances` is valid policy
//! grammar): a policy written that way is never a lint error, so it neither stops the config
//! loader nor blocks importing and planning an organization that already uses it.

use guardrail::live::fake::FakeOrg;
use guardrail::live::OrgBackend;
use guardrail::model::PolicyType::ServiceControlPolicy as SCP;
use guardrail::plan;

use crate::support::{import, rt};

const MIXED_CASE: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoReads","Effect":"Deny","Action":["S3:GetObject","EC2:TerminateInstances","Iam:Create*"],"Resource":"*"}]}"#;

#[test]
fn import_then_plan_of_mixed_case_actions_is_not_blocked() {
    rt().block_on(async {
        let f = FakeOrg::new("111111111111");
        let root = f.root_id();
        let ou = f
            .create_organizational_unit(&root, "Workloads")
            .await
            .unwrap();
        let p = f
            .create_policy(SCP, "mixed-case", "", MIXED_CASE)
            .await
            .unwrap();
        f.attach_policy(&p, &ou).await.unwrap();

        // `import` parses the emitted config and panics on any config error (lint errors
        // are config errors).
        let (live, desired, emitted) = import(&f).await;
        assert!(
            emitted
                .documents
                .iter()
                .any(|(_, doc)| doc.contains("EC2:TerminateInstances")),
            "the document is imported as written"
        );
        let notes: Vec<(&str, &str)> = desired
            .lint
            .iter()
            .filter(|n| n.subject.contains("mixed-case"))
            .map(|n| (n.code, n.severity))
            .collect();
        assert!(!notes.is_empty(), "the case is noted: {:?}", desired.lint);
        assert!(
            notes
                .iter()
                .all(|(code, sev)| *code == "GR022" && *sev == "suggestion"),
            "only as a suggestion: {notes:?}"
        );
        let plan = plan::plan(&desired, &live).unwrap_or_else(|e| panic!("{e}"));
        assert!(plan.is_empty(), "{:?}", plan.changes);
    });
}
