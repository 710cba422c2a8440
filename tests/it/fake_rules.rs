//! The fake enforces AWS's rules with AWS's error kinds (aws-rules.md), where moto does not.

use guardrail::live::fake::FakeOrg;
use guardrail::live::{Error, OrgBackend};
use guardrail::model::PolicyType::ServiceControlPolicy as SCP;

use crate::support::rt;

const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#;

fn reason(e: &Error) -> &str {
    match e {
        Error::ConstraintViolation { reason, .. } | Error::InvalidInput { reason, .. } => reason,
        _ => "",
    }
}

#[test]
fn last_scp_cannot_be_detached_and_attach_before_detach_works() {
    rt().block_on(async {
        let f = FakeOrg::new("111111111111");
        let root = f.root_id();
        let ou = f.create_organizational_unit(&root, "A").await.unwrap();
        let e = f.detach_policy("p-FullAWSAccess", &ou).await.unwrap_err();
        assert_eq!(reason(&e), "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED");
        let p = f.create_policy(SCP, "x", "", DOC).await.unwrap();
        f.attach_policy(&p, &ou).await.unwrap();
        f.detach_policy("p-FullAWSAccess", &ou).await.unwrap();
        assert!(matches!(
            f.detach_policy("p-FullAWSAccess", &ou).await,
            Err(Error::PolicyNotAttached(_))
        ));
        assert!(matches!(
            f.attach_policy(&p, &ou).await,
            Err(Error::DuplicatePolicyAttachment(_))
        ));
        assert!(matches!(
            f.delete_policy(&p).await,
            Err(Error::PolicyInUse(_))
        ));
    });
}

#[test]
fn attachment_and_size_limits_use_the_table() {
    rt().block_on(async {
        let f = FakeOrg::new("111111111111");
        let root = f.root_id();
        // FullAWSAccess is one; nine more fit, the eleventh does not.
        for i in 0..9 {
            let p = f.create_policy(SCP, &format!("p{i}"), "", DOC).await.unwrap();
            f.attach_policy(&p, &root).await.unwrap();
        }
        let p = f.create_policy(SCP, "p-over", "", DOC).await.unwrap();
        let e = f.attach_policy(&p, &root).await.unwrap_err();
        assert_eq!(reason(&e), "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED");

        let big = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{}","Effect":"Deny","Action":"s3:*","Resource":"*"}}]}}"#,
            "a".repeat(10_240)
        );
        let e = f.create_policy(SCP, "big", "", &big).await.unwrap_err();
        assert_eq!(reason(&e), "POLICY_CONTENT_LIMIT_EXCEEDED");
        assert!(matches!(f.create_policy(SCP, "bad", "", "{not json").await, Err(Error::MalformedPolicyDocument(_))));
        assert!(matches!(f.create_policy(SCP, "p0", "", DOC).await, Err(Error::DuplicatePolicy(_))));
        let e = f.update_policy("p-FullAWSAccess", None, Some(DOC)).await.unwrap_err();
        assert_eq!(reason(&e), "IMMUTABLE_POLICY");
    });
}

#[test]
fn ou_rules() {
    rt().block_on(async {
        let f = FakeOrg::new("111111111111");
        let mut parent = f.root_id();
        for i in 0..5 {
            parent = f
                .create_organizational_unit(&parent, &format!("L{i}"))
                .await
                .unwrap();
        }
        let e = f
            .create_organizational_unit(&parent, "L5")
            .await
            .unwrap_err();
        assert_eq!(reason(&e), "OU_DEPTH_LIMIT_EXCEEDED");
        let root = f.root_id();
        assert!(matches!(
            f.create_organizational_unit(&root, "L0").await,
            Err(Error::DuplicateOrganizationalUnit(_))
        ));
        let l0 = f.list_organizational_units_for_parent(&root).await.unwrap()[0]
            .id
            .clone();
        assert!(matches!(
            f.delete_organizational_unit(&l0).await,
            Err(Error::OrganizationalUnitNotEmpty(_))
        ));
        assert!(matches!(
            f.create_organizational_unit("ou-nope-12345678", "X").await,
            Err(Error::NotFound { .. })
        ));
    });
}

#[test]
fn move_account_checks_source_parent() {
    rt().block_on(async {
        let f = FakeOrg::new("111111111111");
        let root = f.root_id();
        let a = f.create_organizational_unit(&root, "A").await.unwrap();
        let b = f.create_organizational_unit(&root, "B").await.unwrap();
        let acct = f.add_account("x", "x@example.com", &a).await.unwrap();
        assert!(matches!(
            f.move_account(&acct, &b, &root).await,
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            f.move_account(&acct, &root, &a).await,
            Err(Error::DuplicateAccount(_))
        ));
        f.move_account(&acct, &a, &b).await.unwrap();
    });
}

#[test]
fn listings_count_one_request_per_page() {
    rt().block_on(async {
        let f = FakeOrg::new("111111111111");
        let root = f.root_id();
        for i in 0..45 {
            f.create_account(&format!("a{i}"), &format!("a{i}@example.com"))
                .await
                .unwrap();
        }
        f.reset_stats();
        let accts = f.list_accounts_for_parent(&root).await.unwrap();
        assert_eq!(accts.len(), 46);
        assert_eq!(f.stats().get("ListAccountsForParent"), 3);
    });
}
