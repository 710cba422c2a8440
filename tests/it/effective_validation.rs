//! AWS's validation of effective management policies, on the fake (which implements
//! `ListAccountsWithInvalidEffectivePolicy` and `ListEffectivePolicyValidationErrors` with
//! AWS's rules), through `live::effective_check` and drift's renderings.

use guardrail::live::effective_check::check_effective_policies;
use guardrail::live::fake::FakeOrg;
use guardrail::live::{Error, OrgBackend};
use guardrail::model::PolicyType;
use guardrail::render;

use crate::support::rt;

const ROOT_TAGS: &str = r#"{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter","@@operators_allowed_for_child_policies":["@@none"]},"tag_value":{"@@assign":["100","200"]}}}}"#;
const OU_OVERRIDE: &str = r#"{"tags":{"costcenter":{"tag_key":{"@@assign":"costcenter"}}}}"#;
const OU_APPEND: &str = r#"{"tags":{"costcenter":{"tag_value":{"@@append":["300"]}}}}"#;

struct Org {
    fake: FakeOrg,
    root: String,
    bad_account: String,
    good_account: String,
    lone_account: String,
    override_id: String,
}

/// Root: a tag policy that locks `tag_key`. OU `Bad` overrides the locked key; OU `Good`
/// appends a value (allowed). `lone` sits in an OU `Other` and carries no tag policy of its
/// own (it inherits the root's, which is valid).
async fn org() -> Org {
    let fake = FakeOrg::new("111111111111");
    let root = fake.root_id();
    fake.enable_policy_type(&root, PolicyType::TagPolicy)
        .await
        .unwrap();
    let bad = fake.create_organizational_unit(&root, "Bad").await.unwrap();
    let good = fake
        .create_organizational_unit(&root, "Good")
        .await
        .unwrap();
    let bad_account = fake
        .add_account("bad", "bad@example.com", &bad)
        .await
        .unwrap();
    let good_account = fake
        .add_account("good", "good@example.com", &good)
        .await
        .unwrap();
    let lone_account = fake
        .add_account("lone", "lone@example.com", &root)
        .await
        .unwrap();
    let p = |name: &'static str, doc: &'static str| {
        let fake = &fake;
        async move {
            fake.create_policy(PolicyType::TagPolicy, name, "", doc)
                .await
                .unwrap()
        }
    };
    let root_tags = p("root-tags", ROOT_TAGS).await;
    let override_id = p("override", OU_OVERRIDE).await;
    let append = p("append", OU_APPEND).await;
    fake.attach_policy(&root_tags, &root).await.unwrap();
    fake.attach_policy(&override_id, &bad).await.unwrap();
    fake.attach_policy(&append, &good).await.unwrap();
    Org {
        fake,
        root,
        bad_account,
        good_account,
        lone_account,
        override_id,
    }
}

#[test]
fn the_fake_names_the_account_whose_effective_policy_breaks_a_parents_lock() {
    rt().block_on(async {
        let o = org().await;
        let invalid = o
            .fake
            .list_accounts_with_invalid_effective_policy(PolicyType::TagPolicy)
            .await
            .unwrap();
        let ids: Vec<&str> = invalid.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, vec![o.bad_account.as_str()]);
        let errors = o
            .fake
            .list_effective_policy_validation_errors(&o.bad_account, PolicyType::TagPolicy)
            .await
            .unwrap();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].code, "OPERATOR_NOT_ALLOWED_BY_PARENT");
        assert_eq!(errors[0].path, "tags.costcenter.tag_key");
        assert_eq!(errors[0].contributing_policies, vec![o.override_id.clone()]);
        // The appending OU and the account under the root alone are valid: no errors.
        for a in [&o.good_account, &o.lone_account] {
            let e = o
                .fake
                .list_effective_policy_validation_errors(a, PolicyType::TagPolicy)
                .await
                .unwrap();
            assert!(e.is_empty(), "{a}: {e:?}");
        }
    });
}

#[test]
fn the_fake_refuses_what_aws_refuses() {
    rt().block_on(async {
        let o = org().await;
        // SCPs have no effective policy to validate.
        let e = o
            .fake
            .list_accounts_with_invalid_effective_policy(PolicyType::ServiceControlPolicy)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
        // A type that is not enabled.
        let e = o
            .fake
            .list_accounts_with_invalid_effective_policy(PolicyType::BackupPolicy)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::PolicyTypeNotEnabled(_)), "{e:?}");
        // An unknown account, and an account no policy of the type reaches.
        let e = o
            .fake
            .list_effective_policy_validation_errors("999999999999", PolicyType::TagPolicy)
            .await
            .unwrap_err();
        assert!(matches!(&e, Error::NotFound { code, .. } if code == "AccountNotFoundException"), "{e:?}");
        o.fake
            .enable_policy_type(&o.root, PolicyType::AiServicesOptOutPolicy)
            .await
            .unwrap();
        let e = o
            .fake
            .list_effective_policy_validation_errors(&o.lone_account, PolicyType::AiServicesOptOutPolicy)
            .await
            .unwrap_err();
        assert!(matches!(&e, Error::NotFound { code, .. } if code == "EffectivePolicyNotFoundException"), "{e:?}");
    });
}

#[test]
fn a_merged_value_the_type_does_not_accept_is_invalid() {
    rt().block_on(async {
        let fake = FakeOrg::new("111111111111");
        let root = fake.root_id();
        fake.enable_policy_type(&root, PolicyType::AiServicesOptOutPolicy)
            .await
            .unwrap();
        let a = fake.add_account("a", "a@example.com", &root).await.unwrap();
        let p = fake
            .create_policy(
                PolicyType::AiServicesOptOutPolicy,
                "ai",
                "",
                r#"{"services":{"default":{"opt_out_policy":{"@@assign":"optout"}}}}"#,
            )
            .await
            .unwrap();
        fake.attach_policy(&p, &a).await.unwrap();
        let errors = fake
            .list_effective_policy_validation_errors(&a, PolicyType::AiServicesOptOutPolicy)
            .await
            .unwrap();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].code, "INVALID_EFFECTIVE_POLICY");
        assert!(
            errors[0].message.contains("optOut"),
            "{}",
            errors[0].message
        );
        assert_eq!(errors[0].contributing_policies, vec![p]);
    });
}

#[test]
fn drift_reports_what_aws_found_invalid_in_every_format() {
    rt().block_on(async {
        let o = org().await;
        o.fake.reset_stats();
        let v = check_effective_policies(
            &o.fake,
            &[PolicyType::ServiceControlPolicy, PolicyType::TagPolicy],
        )
        .await
        .unwrap();
        // SCPs are skipped: one listing for the tag type, one error read for its account.
        let stats = o.fake.stats();
        assert_eq!(
            stats.get("ListAccountsWithInvalidEffectivePolicy"),
            1,
            "{stats:?}"
        );
        assert_eq!(
            stats.get("ListEffectivePolicyValidationErrors"),
            1,
            "{stats:?}"
        );
        assert_eq!(v.checked, vec![PolicyType::TagPolicy]);
        assert_eq!(v.invalid.len(), 1);
        assert!(v.unsupported.is_none());
        let human = render::effective_human(&v);
        assert!(
            human.contains("AWS reports the effective tag policy of account bad"),
            "{human}"
        );
        assert!(
            human.contains("OPERATOR_NOT_ALLOWED_BY_PARENT at `tags.costcenter.tag_key`"),
            "{human}"
        );
        let md = render::effective_markdown(&v);
        assert!(md.contains("#### Invalid effective policies"), "{md}");
        let json = render::effective_json(&v);
        assert_eq!(json["validated"], true);
        assert_eq!(json["invalid"][0]["account_id"], o.bad_account.as_str());
        assert_eq!(json["invalid"][0]["policy_type"], "TAG_POLICY");
        assert_eq!(
            json["invalid"][0]["errors"][0]["contributing_policies"][0],
            o.override_id.as_str()
        );
    });
}

#[test]
fn disabling_a_type_on_the_fake_detaches_every_policy_of_it_as_aws_does() {
    rt().block_on(async {
        let o = org().await;
        o.fake
            .disable_policy_type(&o.root, PolicyType::TagPolicy)
            .await
            .unwrap();
        let roots = o.fake.list_roots().await.unwrap();
        assert!(!roots[0]
            .enabled_policy_types
            .contains(&PolicyType::TagPolicy));
        for p in o.fake.list_policies(PolicyType::TagPolicy).await.unwrap() {
            let targets = o.fake.list_targets_for_policy(&p.id).await.unwrap();
            assert!(targets.is_empty(), "{} still on {targets:?}", p.name);
        }
        // SCPs are untouched.
        assert!(roots[0]
            .enabled_policy_types
            .contains(&PolicyType::ServiceControlPolicy));
        let e = o
            .fake
            .disable_policy_type(&o.root, PolicyType::TagPolicy)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::PolicyTypeNotEnabled(_)), "{e:?}");
    });
}
