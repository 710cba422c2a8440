//! Import writes every value AWS accepts so that it loads back unchanged: policy names of 1-128
//! printable ASCII characters (spaces, quotes, `/`, `\`, `#`, `=` and `..` included),
//! descriptions of up to 512 characters of any printable text, OU names of up to 128
//! characters with Unicode, account names of up to 50 printable ASCII characters. The proof:
//! seed the fake with such names, read, emit, parse the emitted config back (documents read
//! from the emitted map), plan: no change. Document file names stay plain, distinct names.

use std::collections::BTreeSet;
use std::path::Component;

use guardrail::live::fake::FakeOrg;
use guardrail::live::OrgBackend;
use guardrail::model::PolicyType::ServiceControlPolicy as SCP;
use guardrail::plan;
use guardrail::policy::limits::LimitsTable;
use proptest::prelude::*;

use crate::plan_props::doc;
use crate::support::{import, rt};

fn regex(pattern: &str) -> BoxedStrategy<String> {
    proptest::string::string_regex(pattern).unwrap().boxed()
}

/// Names AWS accepts, per field, from the documented limits in the one limits table.
fn policy_name() -> impl Strategy<Value = String> {
    let max = LimitsTable::default().scp.max_name_chars.value;
    prop_oneof![
        regex(&format!("[ -~]{{1,{max}}}")),
        Just("team policy".to_owned()),
        Just("../../etc/passwd".to_owned()),
        Just("a\"b'c\\\\d#e=f[g]".to_owned()),
        Just(".".to_owned()),
        Just(" ".to_owned()),
    ]
    .prop_filter("an AWS-managed name is taken", |n| {
        LimitsTable::default().aws_managed_type(n).is_none()
    })
}

fn description() -> impl Strategy<Value = String> {
    let max = LimitsTable::default().scp.max_description_chars.value;
    prop_oneof![
        regex(&format!("\\PC{{0,{max}}}")),
        // AWS's pattern is `[\s\S]*`: control characters and line breaks too.
        regex(&format!("[\\s\\S]{{0,{max}}}")),
        Just("x".repeat(max)),
        Just(String::new()),
        Just("  padded \"quoted\" 'single' \\ back ".to_owned()),
    ]
}

fn ou_name() -> impl Strategy<Value = String> {
    let max = LimitsTable::default().org.max_ou_name_chars.value;
    prop_oneof![
        regex(&format!("[^/\\p{{C}}]{{1,{max}}}")),
        // AWS's pattern is `[\s\S]*`: control characters too (a `/` cannot be imported: an OU
        // path could not express it, and import says so).
        regex(&format!("[^/]{{1,{max}}}")),
        Just("Équipe données ☃".to_owned()),
        Just("..".to_owned()),
        Just("(root)".to_owned()),
    ]
}

fn account_name() -> impl Strategy<Value = String> {
    "[ -~]{1,50}"
}

#[derive(Debug, Clone)]
struct Names {
    ous: Vec<(String, bool)>,
    accounts: Vec<(String, usize)>,
    policies: Vec<(String, String, usize)>,
}

fn names() -> impl Strategy<Value = Names> {
    (
        prop::collection::vec((ou_name(), any::<bool>()), 1..4),
        prop::collection::vec((account_name(), 0usize..8), 0..4),
        prop::collection::vec((policy_name(), description(), 0usize..8), 1..5),
    )
        .prop_map(|(ous, accounts, policies)| Names {
            ous,
            accounts,
            policies,
        })
}

/// Seeds the fake; requests AWS would refuse (a duplicate name) are skipped.
async fn build(n: &Names) -> FakeOrg {
    let f = FakeOrg::new("999999999999");
    let root = f.root_id();
    let mut targets = vec![root.clone()];
    for (name, nested) in &n.ous {
        let parent = if *nested {
            targets.last().cloned().unwrap_or(root.clone())
        } else {
            root.clone()
        };
        if let Ok(id) = f.create_organizational_unit(&parent, name).await {
            targets.push(id);
        }
    }
    let ous = targets.clone();
    for (i, (name, parent)) in n.accounts.iter().enumerate() {
        let parent = &ous[parent % ous.len()];
        if let Ok(id) = f
            .add_account(name, &format!("a{i}@example.com"), parent)
            .await
        {
            targets.push(id);
        }
    }
    for (i, (name, description, target)) in n.policies.iter().enumerate() {
        if let Ok(id) = f.create_policy(SCP, name, description, &doc(i as u8)).await {
            let _ = f.attach_policy(&id, &targets[target % targets.len()]).await;
        }
    }
    f
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn every_name_aws_accepts_loads_back_with_an_empty_plan(n in names()) {
        rt().block_on(async {
            let f = build(&n).await;
            let (live, desired, emitted) = import(&f).await;
            let p = plan::plan(&desired, &live).unwrap_or_else(|r| panic!("{r}\n{}", emitted.config));
            prop_assert!(p.is_empty(), "{:?}\n{}", p.changes, emitted.config);
            prop_assert_eq!(desired.policies.len(), live.policies.values().filter(|p| !p.aws_managed).count());
            prop_assert_eq!(desired.ous.len(), live.ous.len());
            // The fake took the first OU and the first policy (nothing to collide with): the
            // names above were really sent.
            prop_assert!(!live.ous.is_empty() && live.policies.values().any(|p| !p.aws_managed));

            // Each document is one plain file name inside the environment's directory, and no
            // two differ only in case.
            let mut seen = BTreeSet::new();
            for (rel, _) in &emitted.documents {
                let parts: Vec<Component> = rel.components().collect();
                prop_assert_eq!(parts.len(), 2, "{}", rel.display());
                prop_assert_eq!(parts[0], Component::Normal(std::ffi::OsStr::new("test")));
                let name = rel.file_name().unwrap().to_string_lossy().to_string();
                prop_assert!(!name.starts_with('.'), "{}", name);
                prop_assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)), "{}", name);
                prop_assert!(seen.insert(name.to_ascii_lowercase()), "{}", name);
            }
            Ok(())
        })?;
    }
}

#[test]
fn names_that_map_to_one_stem_get_distinct_documents() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        for (i, name) in ["team policy", "team/policy", "team_policy", "TEAM_POLICY"]
            .iter()
            .enumerate()
        {
            let id = f.create_policy(SCP, name, "", &doc(i as u8)).await.unwrap();
            f.attach_policy(&id, &root).await.unwrap();
        }
        let (live, desired, emitted) = import(&f).await;
        let files: BTreeSet<String> = emitted
            .documents
            .iter()
            .map(|(p, _)| p.to_string_lossy().to_ascii_lowercase())
            .collect();
        assert_eq!(files.len(), 4, "{files:?}");
        assert!(plan::plan(&desired, &live).unwrap().is_empty());
        assert!(
            emitted.config.contains("[policies.\"team policy\"]"),
            "{}",
            emitted.config
        );
    });
}

/// What import writes for a world as hard as a real organization (quoted and unicode names,
/// Control Tower's SCPs, another environment's policy, RCPs, management policy types, names
/// shared by two accounts), byte for byte: the config, then each document's path and text.
/// Ids are filtered; everything else is the emitted text.
#[test]
fn an_imported_world_is_written_byte_for_byte_as_reviewed() {
    use guardrail::live::world::{self, WorldOptions};
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let opts = WorldOptions {
            seed: 7,
            accounts: 8,
            team_ous: 2,
            emulator: false,
        };
        world::build(&f, opts).await.unwrap();
        let (live, desired, emitted) = import(&f).await;
        assert!(plan::plan(&desired, &live).unwrap().is_empty());
        let mut text = emitted.config.clone();
        for (rel, doc) in &emitted.documents {
            text.push_str(&format!("\n--- {}\n{doc}", rel.display()));
        }
        insta::with_settings!({filters => vec![
            (r"\b\d{12}\b", "[ACCOUNT]"),
            (r"\bp-[0-9a-f]{8}\b", "[POLICY]"),
            (r"\bou-[0-9a-z]+-[0-9a-f]{8}\b", "[OU]"),
            (r"\bo-[0-9a-z]{10,}\b", "[ORG]"),
        ]}, {
            insta::assert_snapshot!("imported_world", text);
        });
    });
}

/// The issue's own case: an SCP named `team policy` with a 500-character description.
#[test]
fn team_policy_with_a_500_character_description_round_trips() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let description = "d\"e's\\c ".repeat(63)[..500].to_owned();
        let id = f
            .create_policy(SCP, "team policy", &description, &doc(1))
            .await
            .unwrap();
        f.attach_policy(&id, &f.root_id()).await.unwrap();
        let (live, desired, emitted) = import(&f).await;
        assert_eq!(desired.policies["team policy"].description, description);
        assert!(
            plan::plan(&desired, &live).unwrap().is_empty(),
            "{}",
            emitted.config
        );
    });
}
