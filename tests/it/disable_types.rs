//! `organization.disable_policy_types` on the fake: the config's errors, the plan (the type's
//! managed policies detached and deleted first, refused while an unmanaged policy of the type
//! is attached), apply (convergence after a lost answer or a crash), drift and every output.

use std::collections::BTreeMap;
use std::path::PathBuf;

use guardrail::apply::{self, RetryPolicy, StepStatus};
use guardrail::config::ErrorKind;
use guardrail::live::fake::{FakeOrg, Fault};
use guardrail::live::OrgBackend;
use guardrail::model::{IamLive, OuPath, PolicyType};
use guardrail::plan::file::SavedPlan;
use guardrail::plan::{self, Change, Refusal};
use guardrail::policy::marker;
use guardrail::render::{self, Style};

use crate::support::{parse_with, read, rt};

const TAG: PolicyType = PolicyType::TagPolicy;
const TAG_DOC: &str = r#"{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"}}}}"#;

/// The config that disables tag policies and otherwise keeps FullAWSAccess everywhere.
const DISABLING: &str = r#"[organization]
management_account = "999999999999"
disable_policy_types = ["TAG_POLICY"]

[ous.Prod]
"#;

fn disabling() -> guardrail::model::Desired {
    parse_with(DISABLING, &BTreeMap::new()).unwrap_or_else(|e| panic!("{e}"))
}

/// An organization with tag policies enabled and guardrail's own tag policy (marked for the
/// `test` environment) on the root and on OU Prod.
async fn with_managed_tag_policy() -> FakeOrg {
    let f = FakeOrg::new("999999999999");
    let root = f.root_id();
    f.enable_policy_type(&root, TAG).await.unwrap();
    let prod = f.create_organizational_unit(&root, "Prod").await.unwrap();
    let mark = marker::mark("", &f.snapshot().org_id, "test");
    let tags = f.create_policy(TAG, "tags", &mark, TAG_DOC).await.unwrap();
    f.attach_policy(&tags, &root).await.unwrap();
    f.attach_policy(&tags, &prod).await.unwrap();
    f
}

async fn apply_with(p: &plan::Plan, f: &FakeOrg, attempts: u32) -> apply::Outcome {
    let live = read(f).await;
    let policy = RetryPolicy {
        attempts,
        base: std::time::Duration::ZERO,
    };
    apply::execute_with(p, &live, f, policy, &|_, _, _| {}).await
}

#[test]
fn the_type_is_disabled_after_its_policies_are_detached_and_deleted() {
    rt().block_on(async {
        let f = with_managed_tag_policy().await;
        let live = read(&f).await;
        let desired = disabling();
        let p = plan::plan(&desired, &live).unwrap();
        let actions: Vec<&str> = p.changes.iter().map(|c| c.action()).collect();
        assert_eq!(
            actions,
            vec!["detach", "detach", "delete_policy", "disable_policy_type"]
        );
        assert_eq!(
            p.changes.last(),
            Some(&Change::DisablePolicyType { policy_type: TAG })
        );
        let deps = apply::dependencies(&p.changes, &p.account_paths);
        assert_eq!(
            deps[3],
            vec![0, 1, 2],
            "the disable waits for every detach and delete"
        );

        let out = apply_with(&p, &f, 1).await;
        assert!(out.succeeded(), "{:?}", out.steps);
        let after = read(&f).await;
        assert!(!after.root.enabled_policy_types.contains(&TAG));
        assert!(after.policies.values().all(|p| p.policy_type != TAG));
        assert!(plan::plan(&desired, &after).unwrap().is_empty());
        assert!(f.violations().is_empty(), "{:?}", f.violations());
    });
}

#[test]
fn a_failed_detach_keeps_the_type_enabled() {
    rt().block_on(async {
        let f = with_managed_tag_policy().await;
        let p = plan::plan(&disabling(), &read(&f).await).unwrap();
        f.fail_nth_write(
            1,
            guardrail::live::Error::Service {
                code: "AccessDeniedException".into(),
                message: "no".into(),
            },
        );
        let out = apply_with(&p, &f, 1).await;
        assert!(matches!(out.steps[0].1, StepStatus::Failed(_)));
        assert!(
            matches!(&out.steps[3].1, StepStatus::Skipped { because_of } if because_of.contains(&0)),
            "{:?}",
            out.steps[3]
        );
        let after = read(&f).await;
        assert!(after.root.enabled_policy_types.contains(&TAG));
    });
}

#[test]
fn an_unmanaged_policy_of_the_type_refuses_the_plan() {
    rt().block_on(async {
        let f = with_managed_tag_policy().await;
        let prod = read(&f).await.ou_ids_by_path()[&OuPath::parse("Prod").unwrap()].clone();
        let theirs = f
            .create_policy(TAG, "console-tags", "made in the console", TAG_DOC)
            .await
            .unwrap();
        f.attach_policy(&theirs, &prod).await.unwrap();
        // Unattached, another unmanaged tag policy takes nothing with it: not named.
        f.create_policy(TAG, "spare", "", TAG_DOC).await.unwrap();
        let live = read(&f).await;
        let err = plan::plan(&disabling(), &live).unwrap_err();
        let refusal = err
            .0
            .iter()
            .find(|r| matches!(r, Refusal::DisableWouldDetach { .. }))
            .unwrap_or_else(|| panic!("{err}"));
        let Refusal::DisableWouldDetach {
            policy_type,
            attached,
        } = refusal
        else {
            unreachable!()
        };
        assert_eq!(*policy_type, TAG);
        assert_eq!(
            attached,
            &vec![format!("console-tags ({theirs}) on ou Prod")]
        );
        let text = render::refusals_human(&err, Style::default());
        assert!(text.contains("console-tags"), "{text}");
        assert!(text.contains("disable_policy_types"), "{text}");
        assert_eq!(refusal.kind(), "disable_would_detach");
        // Nothing was written and the root still has the type.
        assert!(read(&f).await.root.enabled_policy_types.contains(&TAG));
    });
}

#[test]
fn disabling_rcps_takes_only_rcpfullawsaccess_with_it() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        f.create_organizational_unit(&root, "Prod").await.unwrap();
        f.enable_policy_type(&root, PolicyType::ResourceControlPolicy)
            .await
            .unwrap();
        let desired = parse_with(
            &DISABLING.replace("\"TAG_POLICY\"", "\"rcp\""),
            &BTreeMap::new(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let live = read(&f).await;
        assert!(live.policies.values().any(|p| p.name == "RCPFullAWSAccess"));
        let p = plan::plan(&desired, &live).unwrap();
        assert_eq!(
            p.changes,
            vec![Change::DisablePolicyType {
                policy_type: PolicyType::ResourceControlPolicy
            }]
        );
        assert!(apply_with(&p, &f, 1).await.succeeded());
        let after = read(&f).await;
        assert!(!after
            .root
            .enabled_policy_types
            .contains(&PolicyType::ResourceControlPolicy));
        assert!(plan::plan(&desired, &after).unwrap().is_empty());
    });
}

#[test]
fn a_lost_answer_to_the_disable_is_already_so() {
    rt().block_on(async {
        let f = with_managed_tag_policy().await;
        let desired = disabling();
        let p = plan::plan(&desired, &read(&f).await).unwrap();
        // The fourth write is the disable: it lands, its answer is lost; the retry meets
        // PolicyTypeNotEnabledException, which counts as done.
        f.fault_nth_write(4, Fault::LoseResponse);
        let out = apply_with(&p, &f, 3).await;
        assert!(out.succeeded(), "{:?}", out.steps);
        let after = read(&f).await;
        assert!(!after.root.enabled_policy_types.contains(&TAG));
        assert!(plan::plan(&desired, &after).unwrap().is_empty());
    });
}

#[test]
fn a_crash_during_the_disable_converges_on_the_next_run() {
    for crash_after in 1..=4 {
        rt().block_on(async {
            let f = with_managed_tag_policy().await;
            let desired = disabling();
            let p = plan::plan(&desired, &read(&f).await).unwrap();
            f.die_after_write(crash_after);
            let out = apply_with(&p, &f, 1).await;
            assert!(
                !out.succeeded(),
                "the process died after write {crash_after}"
            );
            f.revive();
            let live = read(&f).await;
            let again = plan::plan(&desired, &live).unwrap();
            let out = apply_with(&again, &f, 1).await;
            assert!(
                out.succeeded(),
                "after write {crash_after}: {:?}",
                out.steps
            );
            let after = read(&f).await;
            assert!(!after.root.enabled_policy_types.contains(&TAG));
            assert!(
                plan::plan(&desired, &after).unwrap().is_empty(),
                "after write {crash_after}"
            );
            assert!(f.violations().is_empty(), "{:?}", f.violations());
        });
    }
}

#[test]
fn every_output_shows_the_disable_and_a_saved_plan_carries_it() {
    rt().block_on(async {
        let f = with_managed_tag_policy().await;
        let live = read(&f).await;
        let desired = disabling();
        let p = plan::plan(&desired, &live).unwrap();
        let human = render::plan_human("test", &p, Style::default());
        assert!(human.contains("DISABLE the "), "{human}");
        assert!(human.contains("type on the root (TAG_POLICY)"), "{human}");
        assert!(human.contains("1 to disable"), "{human}");
        let json = render::plan_json("test", &p);
        let last = &json["changes"][3];
        assert_eq!(last["action"], "disable_policy_type");
        assert_eq!(last["policy_type"], "TAG_POLICY");
        assert_eq!(last["deletion"], true);
        let md = render::plan_markdown("test", &p);
        assert!(md.contains("policy types to disable | 1"), "{md}");
        assert!(
            md.contains("DISABLE the tag policy type on the root (TAG\\_POLICY)"),
            "{md}"
        );

        let drift = render::drift_json("test", &p);
        let kinds: Vec<&str> = drift["drift"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| d["kind"].as_str())
            .collect();
        assert!(kinds.contains(&"policy_type_enabled"), "{kinds:?}");

        let saved = SavedPlan::new(
            "test",
            &p,
            desired.inputs.clone(),
            &live,
            &IamLive::default(),
        );
        let back = SavedPlan::from_json(&saved.to_json()).unwrap();
        assert_eq!(back.plan().changes, p.changes);
        back.compare("test", &p, &desired.inputs, &live, &IamLive::default())
            .unwrap();
    });
}

#[test]
fn a_type_listed_but_already_disabled_plans_nothing() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        f.create_organizational_unit(&f.root_id(), "Prod")
            .await
            .unwrap();
        let p = plan::plan(&disabling(), &read(&f).await).unwrap();
        assert!(p.is_empty(), "{:?}", p.changes);
    });
}

const DOC: &str = r#"{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"}}}}"#;

fn config_error(list: &str, extra: &str) -> Vec<guardrail::config::ConfigError> {
    let text = format!(
        "[organization]\nmanagement_account = \"999999999999\"\ndisable_policy_types = {list}\n{extra}"
    );
    let docs: BTreeMap<PathBuf, String> =
        [(PathBuf::from("test/tags.json"), DOC.to_owned())].into();
    parse_with(&text, &docs).expect_err("refused").0
}

#[test]
fn the_config_refuses_unknown_types_scps_used_types_and_repeats() {
    let errs = config_error(r#"["TAG_POLICIES"]"#, "");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].kind, ErrorKind::InvalidValue);
    assert_eq!(
        (errs[0].line, errs[0].key.as_str()),
        (3, "organization.disable_policy_types")
    );
    assert!(errs[0]
        .message
        .contains("unknown policy type `TAG_POLICIES`"));

    let errs = config_error(r#"["scp"]"#, "");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].message.contains("cannot be disabled"),
        "{}",
        errs[0].message
    );

    let used = "\n[policies.tags]\ntype = \"TAG_POLICY\"\ndocument = \"test/tags.json\"\n\n[root]\npolicies = [\"FullAWSAccess\", \"tags\"]\n";
    let errs = config_error("[\n  \"BACKUP_POLICY\",\n  \"TAG_POLICY\",\n]", used);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].line, 5, "the entry's own line");
    assert!(
        errs[0]
            .message
            .contains("still uses TAG_POLICY: policy `tags`"),
        "{}",
        errs[0].message
    );

    let errs = config_error(
        r#"["rcp"]"#,
        "\n[root]\npolicies = [\"FullAWSAccess\", \"RCPFullAWSAccess\"]\n",
    );
    assert!(
        errs[0].message.contains("`RCPFullAWSAccess`"),
        "{}",
        errs[0].message
    );

    let errs = config_error(r#"["TAG_POLICY", "TAG_POLICY"]"#, "");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].kind, ErrorKind::Duplicate);

    let ok = parse_with(DISABLING, &BTreeMap::new()).unwrap();
    assert_eq!(ok.disable_policy_types, [TAG].into());
}

#[test]
fn a_used_type_that_is_disabled_is_drift_too() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        f.create_organizational_unit(&f.root_id(), "Prod").await.unwrap();
        let docs: BTreeMap<PathBuf, String> =
            [(PathBuf::from("test/tags.json"), DOC.to_owned())].into();
        let text = "[organization]\nmanagement_account = \"999999999999\"\n\n[policies.tags]\ntype = \"TAG_POLICY\"\ndocument = \"test/tags.json\"\n\n[root]\npolicies = [\"FullAWSAccess\", \"tags\"]\n\n[ous.Prod]\n";
        let desired = parse_with(text, &docs).unwrap_or_else(|e| panic!("{e}"));
        let p = plan::plan(&desired, &read(&f).await).unwrap();
        let (kind, message) = render::drift_item(&p.changes[0], &p);
        assert_eq!(kind, "policy_type_disabled");
        assert!(message.contains("the config uses it"), "{message}");
    });
}
