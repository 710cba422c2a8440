//! Every Organizations policy type through one model, on the fake: management policies (tag,
//! backup, AI opt-out, declarative, ...) import, plan empty, and round-trip an edit; a type the
//! config uses is enabled by the plan before any attach; limits come from each type's row; a
//! management policy is compared by meaning, as SCPs are.

use std::collections::BTreeMap;
use std::path::PathBuf;

use guardrail::apply;
use guardrail::live::fake::FakeOrg;
use guardrail::live::OrgBackend;
use guardrail::model::PolicyType;
use guardrail::plan::{self, Change, Refusal};

use crate::support::{import, parse_with, read, rt};

const TAG: &str = r#"{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"}}}}"#;
const IMDS: &str =
    r#"{"ec2_attributes":{"instance_metadata_defaults":{"http_tokens":{"@@assign":"required"}}}}"#;

#[test]
fn management_policies_import_plan_empty_and_round_trip_an_edit() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        for ty in [PolicyType::TagPolicy, PolicyType::BackupPolicy, PolicyType::AiServicesOptOutPolicy] {
            f.enable_policy_type(&root, ty).await.unwrap();
        }
        let ou = f.create_organizational_unit(&root, "Prod").await.unwrap();
        let tag = f.create_policy(PolicyType::TagPolicy, "tags", "", TAG).await.unwrap();
        f.attach_policy(&tag, &ou).await.unwrap();
        let (live, mut desired, emitted) = import(&f).await;
        assert!(emitted.config.contains("type = \"TAG_POLICY\""), "{}", emitted.config);
        assert!(plan::plan(&desired, &live).unwrap().is_empty());
        // Edit: the tag policy moves from Prod to the root; its content changes too.
        let prod = guardrail::model::OuPath::parse("Prod").unwrap();
        desired.ous.get_mut(&prod).unwrap().policies.remove("tags");
        desired.root.policies.insert("tags".into());
        desired.policies.get_mut("tags").unwrap().document = serde_json::from_str(
            r#"{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"},"tag_value":{"@@assign":["100","200"]}}}}"#,
        )
        .unwrap();
        let p = plan::plan(&desired, &live).unwrap();
        let actions: Vec<&str> = p.changes.iter().map(|c| c.action()).collect();
        assert_eq!(actions, vec!["update_policy", "attach", "detach"]);
        assert!(apply::execute(&p, &live, &f).await.succeeded());
        let after = read(&f).await;
        assert!(plan::plan(&desired, &after).unwrap().is_empty());
        assert!(f.violations().is_empty(), "{:?}", f.violations());
    });
}

#[test]
fn a_type_the_config_uses_is_enabled_first() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        f.create_organizational_unit(&f.root_id(), "Prod").await.unwrap();
        let (live, _, emitted) = import(&f).await;
        let mut docs: BTreeMap<PathBuf, String> = emitted.documents.iter().cloned().collect();
        docs.insert("test/imds.json".into(), IMDS.into());
        let config = emitted.config.replace(
            "[ous.Prod]\npolicies = [\"FullAWSAccess\"]",
            "[ous.Prod]\npolicies = [\"FullAWSAccess\", \"imdsv2\"]",
        ) + "\n[policies.imdsv2]\ntype = \"DECLARATIVE_POLICY_EC2\"\ndocument = \"test/imds.json\"\n";
        let desired = parse_with(&config, &docs).unwrap_or_else(|e| panic!("{e}"));
        let p = plan::plan(&desired, &live).unwrap();
        assert_eq!(
            p.changes.first(),
            Some(&Change::EnablePolicyType { policy_type: PolicyType::DeclarativePolicyEc2 })
        );
        let out = apply::execute(&p, &live, &f).await;
        assert!(out.succeeded(), "{:?}", out.steps);
        let after = read(&f).await;
        assert!(after.root.enabled_policy_types.contains(&PolicyType::DeclarativePolicyEc2));
        assert!(plan::plan(&desired, &after).unwrap().is_empty());
    });
}

#[test]
fn enabling_rcps_counts_rcpfullawsaccess_against_the_limit() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let (live, _, emitted) = import(&f).await;
        let mut docs: BTreeMap<PathBuf, String> = emitted.documents.iter().cloned().collect();
        let mut config = emitted.config.clone();
        let mut names = Vec::new();
        for i in 0..5 {
            let doc = format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Principal":"*","Action":"s3:Get{i}","Resource":"*"}}]}}"#);
            docs.insert(format!("test/r{i}.json").into(), doc);
            config += &format!("\n[policies.r{i}]\ntype = \"rcp\"\ndocument = \"test/r{i}.json\"\n");
            names.push(format!("\"r{i}\""));
        }
        let config = config.replace(
            "[root]\npolicies = [\"FullAWSAccess\"]",
            &format!("[root]\npolicies = [\"FullAWSAccess\", {}]", names.join(", ")),
        );
        let desired = parse_with(&config, &docs).unwrap_or_else(|e| panic!("{e}"));
        // Five RCPs and the RCPFullAWSAccess that arrives with the type: six of five.
        let err = plan::plan(&desired, &live).unwrap_err();
        assert!(
            err.0.iter().any(|r| matches!(r, Refusal::TooManyAttachments { count: 6, limit: 5, .. })),
            "{err}"
        );
    });
}

#[test]
fn limits_come_from_each_types_row() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        f.enable_policy_type(&root, PolicyType::AiServicesOptOutPolicy)
            .await
            .unwrap();
        let ai = |i: usize| {
            format!(r#"{{"services":{{"s{i}":{{"opt_out_policy":{{"@@assign":"optOut"}}}}}}}}"#)
        };
        for i in 0..5 {
            let p = f
                .create_policy(
                    PolicyType::AiServicesOptOutPolicy,
                    &format!("ai{i}"),
                    "",
                    &ai(i),
                )
                .await
                .unwrap();
            f.attach_policy(&p, &root).await.unwrap();
        }
        // AI opt-out allows 5 per target: the sixth is refused by the fake, as AWS does.
        let p = f
            .create_policy(PolicyType::AiServicesOptOutPolicy, "ai5", "", &ai(5))
            .await
            .unwrap();
        assert!(f.attach_policy(&p, &root).await.is_err());
        // And by the plan, before any request.
        let (live, mut desired, _) = import(&f).await;
        desired.root.policies.insert("ai5".into());
        let err = plan::plan(&desired, &live).unwrap_err();
        assert!(
            err.0.iter().any(|r| matches!(
                r,
                Refusal::TooManyAttachments {
                    count: 6,
                    limit: 5,
                    policy_type: PolicyType::AiServicesOptOutPolicy,
                    ..
                }
            )),
            "{err}"
        );
    });
}

#[test]
fn a_backup_policy_round_trips_an_edit_on_the_fake() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        f.enable_policy_type(&root, PolicyType::BackupPolicy).await.unwrap();
        let plan_doc = |region: &str| {
            format!(
                r#"{{"plans":{{"daily":{{"regions":{{"@@assign":["{region}"]}},"rules":{{"daily":{{"schedule_expression":{{"@@assign":"cron(0 5 ? * * *)"}},"target_backup_vault_name":{{"@@assign":"Default"}}}}}}}}}}}}"#
            )
        };
        let b = f.create_policy(PolicyType::BackupPolicy, "daily", "", &plan_doc("eu-west-1")).await.unwrap();
        f.attach_policy(&b, &root).await.unwrap();
        let (live, mut desired, emitted) = import(&f).await;
        assert!(emitted.config.contains("type = \"BACKUP_POLICY\""), "{}", emitted.config);
        assert!(plan::plan(&desired, &live).unwrap().is_empty());
        desired.policies.get_mut("daily").unwrap().document =
            serde_json::from_str(&plan_doc("eu-central-1")).unwrap();
        let p = plan::plan(&desired, &live).unwrap();
        assert!(matches!(&p.changes[..], [Change::UpdatePolicy { name, content_diff: Some(_), .. }] if name == "daily"), "{:?}", p.changes);
        assert!(apply::execute(&p, &live, &f).await.succeeded());
        let after = read(&f).await;
        assert!(plan::plan(&desired, &after).unwrap().is_empty());
        assert!(after.policy_by_name("daily").unwrap().content.contains("eu-central-1"));
    });
}

#[test]
fn a_management_policy_is_compared_by_meaning() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        f.enable_policy_type(&root, PolicyType::TagPolicy).await.unwrap();
        let live_text = "{ \"tags\": { \"costcenter\": {\n  \"tag_value\": { \"@@operators_allowed_for_child_policies\": [\"@@remove\", \"@@append\"], \"@@assign\": [\"100\", \"200\"] },\n  \"tag_key\": { \"@@assign\": \"CostCenter\" } } } }";
        let p = f.create_policy(PolicyType::TagPolicy, "tags", "", live_text).await.unwrap();
        f.attach_policy(&p, &root).await.unwrap();
        let (live, mut desired, _) = import(&f).await;
        // The same policy written differently: key order, whitespace, the child control's
        // operators in another order and repeated.
        let set = |d: &mut guardrail::model::Desired, text: &str| {
            d.policies.get_mut("tags").unwrap().document = serde_json::from_str(text).unwrap();
        };
        set(
            &mut desired,
            r#"{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"},"tag_value":{"@@assign":["100","200"],"@@operators_allowed_for_child_policies":["@@append","@@remove","@@append"]}}}}"#,
        );
        let p = plan::plan(&desired, &live).unwrap();
        assert!(p.is_empty(), "{:?}", p.changes);
        // A change of meaning is an update: children may no longer remove values.
        set(
            &mut desired,
            r#"{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"},"tag_value":{"@@assign":["100","200"],"@@operators_allowed_for_child_policies":["@@append"]}}}}"#,
        );
        let p = plan::plan(&desired, &live).unwrap();
        assert!(
            matches!(&p.changes[..], [Change::UpdatePolicy { name, content_diff: Some(d), .. }] if name == "tags" && d.contains("@@remove")),
            "{:?}",
            p.changes
        );
    });
}

#[test]
fn a_config_over_a_management_types_organization_limit_is_refused_before_any_request() {
    let mut config = String::from("[organization]\nmanagement_account = \"123456789012\"\n");
    let mut docs: BTreeMap<PathBuf, String> = BTreeMap::new();
    // AWS holds at most 1,000 policies of each management type in an organization.
    for i in 0..1_001 {
        docs.insert(
            format!("t/{i}.json").into(),
            format!(r#"{{"tags":{{"k{i}":{{"tag_key":{{"@@assign":"K{i}"}}}}}}}}"#),
        );
        config += &format!("[policies.t{i}]\ntype = \"TAG_POLICY\"\ndocument = \"t/{i}.json\"\n");
    }
    let errs = parse_with(&config, &docs).unwrap_err();
    assert!(
        errs.0.iter().any(|e| e.key == "policies"
            && e.message.contains(
                "1001 tag policies; an organization holds at most 1000 (AWS default), 1 over"
            )),
        "{errs}"
    );
    // At the limit it is fine.
    docs.remove(&PathBuf::from("t/1000.json"));
    let config = config.replace(
        "[policies.t1000]\ntype = \"TAG_POLICY\"\ndocument = \"t/1000.json\"\n",
        "",
    );
    parse_with(&config, &docs).unwrap_or_else(|e| panic!("{e}"));
}

/// docs/config.md documents every type's row of the limits table, value and source, as the
/// code has it (`aws` or `assumed`), so the two cannot drift apart.
#[test]
fn docs_config_lists_every_types_limits_and_sources() {
    use guardrail::policy::limits::{Limit, LimitSource, LimitsTable};
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/config.md")).unwrap();
    let shown = |l: Limit| {
        let digits = l.value.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        let source = match l.source {
            LimitSource::AwsDefault => "aws",
            LimitSource::AwsAssumed => "assumed",
            LimitSource::Config => "config",
        };
        format!("{grouped} {source}")
    };
    let table = LimitsTable::default();
    for (ty, api, _) in guardrail::model::POLICY_TYPES {
        let row = text
            .lines()
            .find(|l| l.starts_with(&format!("| `{api}`")))
            .unwrap_or_else(|| panic!("docs/config.md has no row for {api}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let lim = table.for_type(*ty);
        assert_eq!(cells[2], shown(lim.max_document_chars), "{api} size: {row}");
        let per_target = format!(
            "{} / {}",
            shown(lim.max_attachments_per_target),
            shown(lim.min_attachments_per_target)
        );
        assert!(
            cells[3].starts_with(&per_target),
            "{api} per target, want {per_target}: {row}"
        );
        assert_eq!(
            cells[4],
            shown(lim.max_policies_per_org),
            "{api} per organization: {row}"
        );
    }
}

/// The fake holds every management type to AWS's rules: no attachment until the type is
/// enabled on the root, the type's document size, and its attachments per target.
#[test]
fn the_fake_enforces_every_management_types_enablement_and_limits() {
    use guardrail::live::Error;
    rt().block_on(async {
        let table = guardrail::policy::limits::LimitsTable::default();
        assert_eq!(table.management.len(), 11);
        for row in &table.management {
            let ty = row.policy_type;
            let f = FakeOrg::new("999999999999");
            let root = f.root_id();
            let doc = |i: usize| format!(r#"{{"k{i}":{{"v":{{"@@assign":"x"}}}}}}"#);
            let first = f.create_policy(ty, "p0", "", &doc(0)).await.unwrap();
            let e = f.attach_policy(&first, &root).await.unwrap_err();
            assert!(matches!(e, Error::PolicyTypeNotEnabled(_)), "{ty:?}: {e:?}");
            f.enable_policy_type(&root, ty).await.unwrap();
            let max = row.max_attachments_per_target.value;
            f.attach_policy(&first, &root).await.unwrap();
            for i in 1..max {
                let p = f
                    .create_policy(ty, &format!("p{i}"), "", &doc(i))
                    .await
                    .unwrap();
                f.attach_policy(&p, &root).await.unwrap();
            }
            let over = f.create_policy(ty, "over", "", &doc(max)).await.unwrap();
            let e = f.attach_policy(&over, &root).await.unwrap_err();
            assert!(
                format!("{e:?}").contains("MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"),
                "{ty:?}: {e:?}"
            );
            // A document one character over the type's size.
            let size = row.max_document_chars.value;
            let pad = "x".repeat(size - r#"{"k":""}"#.len() + 1);
            let big = format!(r#"{{"k":"{pad}"}}"#);
            assert_eq!(big.len(), size + 1);
            let e = f.create_policy(ty, "big", "", &big).await.unwrap_err();
            assert!(
                format!("{e:?}").contains("POLICY_CONTENT_LIMIT_EXCEEDED"),
                "{ty:?}: {e:?}"
            );
            let fits = format!(r#"{{"k":"{}"}}"#, &pad[1..]);
            f.create_policy(ty, "fits", "", &fits).await.unwrap();
        }
    });
}

/// Drift for a management type, as for SCPs: a managed tag policy edited in the console and an
/// AI opt-out policy attached by hand to a target the config describes are both drift, and
/// apply puts the managed one back.
#[test]
fn a_management_policy_changed_out_of_band_is_drift() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        for ty in [PolicyType::TagPolicy, PolicyType::AiServicesOptOutPolicy] {
            f.enable_policy_type(&root, ty).await.unwrap();
        }
        let tag = f.create_policy(PolicyType::TagPolicy, "tags", "", TAG).await.unwrap();
        f.attach_policy(&tag, &root).await.unwrap();
        let (_, desired, _) = import(&f).await;
        let edited = r#"{"tags":{"costcenter":{"tag_key":{"@@assign":"costcenter"}}}}"#;
        f.update_policy(&tag, None, Some(edited)).await.unwrap();
        let ai = r#"{"services":{"default":{"opt_out_policy":{"@@assign":"optIn"}}}}"#;
        let clicked = f
            .create_policy(PolicyType::AiServicesOptOutPolicy, "clicked", "", ai)
            .await
            .unwrap();
        f.attach_policy(&clicked, &root).await.unwrap();
        let live = read(&f).await;
        let p = plan::plan(&desired, &live).unwrap();
        assert!(guardrail::render::drifted(&p));
        let human = guardrail::render::drift_human("test", &p);
        assert!(human.contains("tags") && human.contains("clicked"), "{human}");
        assert!(
            matches!(&p.changes[..], [Change::UpdatePolicy { name, content_diff: Some(_), .. }] if name == "tags"),
            "{:?}",
            p.changes
        );
        assert!(apply::execute(&p, &live, &f).await.succeeded());
        let after = read(&f).await;
        assert!(after.policy_by_name("tags").unwrap().content.contains("CostCenter"));
        // The hand-attached policy is unmanaged: never written, still reported.
        let again = plan::plan(&desired, &after).unwrap();
        assert!(again.is_empty(), "{:?}", again.changes);
        assert!(after.policy_by_name("clicked").is_some());
        assert!(guardrail::render::drifted(&again));
    });
}
