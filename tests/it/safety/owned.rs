//! Imported and created policies are treated alike when the config drops them: `import`
//! records every policy it takes over without a marker in `organization.owned_policy_ids`,
//! and a listed policy the config no longer declares is detached everywhere and deleted.

use guardrail::apply;
use guardrail::live::fake::FakeOrg;
use guardrail::live::OrgBackend;
use guardrail::model::{OuPath, PolicyType::ServiceControlPolicy as SCP, TargetRef};
use guardrail::plan::{self, Change};
use guardrail::policy::marker;

use super::deny;
use crate::support::{import, parse_with, read, rt};

#[test]
fn an_imported_policy_dropped_from_the_config_is_deleted_like_a_created_one() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        let org = f.snapshot().org_id;
        let team = f.create_organizational_unit(&root, "Team").await.unwrap();
        let console = f.create_policy(SCP, "console", "made by hand", &deny("a:D")).await.unwrap();
        f.attach_policy(&console, &team).await.unwrap();
        let theirs = f.create_policy(SCP, "theirs", &marker::mark("", &org, "staging"), &deny("a:B")).await.unwrap();
        f.attach_policy(&theirs, &team).await.unwrap();
        // The first version's bare marker names no owner: maybe another environment's.
        let legacy = f.create_policy(SCP, "legacy", "old [managed-by:guardrail]", &deny("a:E")).await.unwrap();
        f.attach_policy(&legacy, &team).await.unwrap();
        let (live, mut desired, emitted) = import(&f).await;
        // import writes the record of what it took over, and only that: never another
        // environment's policy, never a bare-marked one, never FullAWSAccess.
        assert!(emitted.config.contains(&format!("owned_policy_ids = [\"{console}\"]")), "{}", emitted.config);
        assert_eq!(desired.owned_policy_ids, [console.clone()].into());
        // The pin and the record write nothing: import→plan stays empty.
        let p = plan::plan(&desired, &live).unwrap();
        assert!(p.is_empty(), "{:?}", p.changes);
        // Dropped from the config (its table and the OU's list), it is detached and deleted.
        desired.policies.remove("console");
        desired.ous.get_mut(&OuPath::parse("Team").unwrap()).unwrap().policies.remove("console");
        let mut released = desired.clone();
        let p = plan::plan(&desired, &live).unwrap();
        assert!(p.changes.iter().any(|c| matches!(c, Change::Detach { policy, target: TargetRef::Ou(o), .. } if policy == "console" && o.to_string() == "Team")), "{:?}", p.changes);
        assert!(p.changes.iter().any(|c| matches!(c, Change::DeletePolicy { id, .. } if id == &console)), "{:?}", p.changes);
        // Another environment's policy is never ours, listed or not.
        released.owned_policy_ids.insert(theirs.clone());
        // Removing the id too releases the policy instead: it stays, unmanaged.
        released.owned_policy_ids.remove(&console);
        let kept = plan::plan(&released, &live).unwrap();
        assert!(kept.changes.iter().all(|c| !matches!(c, Change::DeletePolicy { .. } | Change::Detach { .. })), "{:?}", kept.changes);
        let out = apply::execute(&p, &live, &f).await;
        assert!(out.succeeded(), "{out:?}");
        let after = read(&f).await;
        assert!(!after.policies.contains_key(&console));
        assert!(after.policies.contains_key(&theirs));
        assert!(plan::plan(&desired, &after).unwrap().is_empty());
    });
}

#[test]
fn an_owned_policy_id_that_is_not_an_id_is_a_config_error() {
    let text =
        "[organization]\nmanagement_account = \"999999999999\"\nowned_policy_ids = [\"console\"]\n";
    let err = parse_with(text, &Default::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("organization.owned_policy_ids")
            && err.contains("`console` is not a policy id"),
        "{err}"
    );
}
