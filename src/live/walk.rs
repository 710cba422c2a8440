//! The organization walk: per parent and per policy, never per account.
//!
//! Requests for an organization with O OUs, A accounts and P policies of the types read:
//! `ListRoots` + `ListPolicies` (2), `ListOrganizationalUnitsForParent` for the root and every
//! OU (O+1), `DescribePolicy` and `ListTargetsForPolicy` per policy (2·P; `FullAWSAccess`
//! skips `DescribePolicy`, its content is fixed), and the accounts' placement: ⌈A/20⌉
//! `ListAccounts` pages whose `Paths` name each account's parent, read at the same time as the
//! OU walk (a different API family with its own bucket). When a `ListAccounts` page answers
//! without `Paths` (moto 5.2), the walk falls back to `ListAccountsForParent` for the root and
//! every OU (O+1, in the OU walk's family). Plus one request per further page of any listing.
//! [`walk_requests`] counts them by operation; [`WalkEstimate`] turns them into the budget and
//! the lower bound on time at AWS's rates.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use futures::stream::{self, FuturesUnordered, StreamExt, TryStreamExt};

use super::{limiter, OrgBackend, PlacedAccount, RequestStats, Result};
use crate::model::{LiveAccount, LiveOrg, LiveOu, LivePolicy, LiveRoot, PolicyType};

/// AWS's largest page for Organizations listings; the budget assumes full pages.
pub const PAGE_SIZE: usize = 20;

/// How to walk.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Policy types to read (those enabled on the root; by default every type guardrail
    /// manages, so that an organization with RCPs enabled plans cleanly whatever the config
    /// uses).
    pub policy_types: Vec<PolicyType>,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            concurrency: 8,
            policy_types: PolicyType::MANAGED.to_vec(),
        }
    }
}

/// The content AWS returns for `FullAWSAccess`, which therefore needs no `DescribePolicy`.
pub const FULL_AWS_ACCESS_CONTENT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// The AWS-managed RCP attached everywhere once RCPs are enabled.
const RCP_FULL_AWS_ACCESS: &str = "RCPFullAWSAccess";

/// The organization's root (`ListRoots`; an organization has exactly one).
pub async fn the_root(b: &dyn OrgBackend) -> Result<super::RootInfo> {
    b.list_roots()
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| super::Error::NotFound {
            code: "RootNotFoundException".into(),
            message: "the organization has no root".into(),
        })
}

/// Reads the whole organization.
pub async fn read_organization(b: &dyn OrgBackend, opts: &WalkOptions) -> Result<LiveOrg> {
    let conc = opts.concurrency.max(1);
    let root = the_root(b).await?;
    let (management_account, org_id) = root.owner().unwrap_or_default();
    let partition = root.partition().unwrap_or("aws").to_owned();

    // The OU tree per parent, and beside it (another API family, another bucket) every
    // account with its path; the per-parent account listing only when the paths are missing.
    let tree = async {
        let (ous, placed) =
            futures::try_join!(walk_ous(b, &root.id, conc), b.list_accounts_with_paths())?;
        let accounts = match placed.and_then(|p| place(p, &root.id, &ous)) {
            Some(accounts) => accounts,
            None => accounts_per_parent(b, &root.id, &ous, conc).await?,
        };
        Ok::<_, super::Error>((ous, accounts))
    };

    let types: Vec<PolicyType> = opts
        .policy_types
        .iter()
        .copied()
        .filter(|t| root.enabled_policy_types.contains(t))
        .collect();
    let policies = read_policies(b, &types, conc);

    let ((ous, accounts), mut policies) = futures::try_join!(tree, policies)?;
    // A target that is not in the tree just walked (moto keeps deleted OUs in
    // ListTargetsForPolicy; AWS can briefly, while a deletion propagates) is not an attachment
    // anything can act on: drop it.
    let known: std::collections::BTreeSet<&str> = std::iter::once(root.id.as_str())
        .chain(ous.iter().map(|o| o.id.as_str()))
        .chain(accounts.iter().map(|a| a.id.as_str()))
        .collect();
    for p in &mut policies {
        if p.aws_managed && p.name == RCP_FULL_AWS_ACCESS {
            p.targets = known.iter().map(|t| (*t).to_owned()).collect();
        }
        p.targets.retain(|t| known.contains(t.as_str()));
    }
    Ok(LiveOrg {
        org_id,
        management_account,
        partition,
        root: LiveRoot {
            id: root.id,
            name: root.name,
            enabled_policy_types: root.enabled_policy_types,
        },
        ous: ous.into_iter().map(|o| (o.id.clone(), o)).collect(),
        accounts: accounts.into_iter().map(|a| (a.id.clone(), a)).collect(),
        policies: policies.into_iter().map(|p| (p.id.clone(), p)).collect(),
    })
}

/// Every policy of `types` with its content and targets. Contents (`DescribePolicy`, 2/s)
/// and targets (`ListTargetsForPolicy`, 5/s) are read as two independent streams, so neither
/// family waits for the other's slots; the AWS-managed policies' targets first, since
/// `FullAWSAccess` is usually on every target and its pages, one after another, are the
/// longest chain of the walk.
async fn read_policies(
    b: &dyn OrgBackend,
    types: &[PolicyType],
    conc: usize,
) -> Result<Vec<LivePolicy>> {
    let listed = futures::future::try_join_all(types.iter().map(|t| b.list_policies(*t))).await?;
    let mut summaries: Vec<super::PolicyInfo> = listed.into_iter().flatten().collect();
    summaries.sort_by_key(|p| !p.aws_managed);
    // FullAWSAccess's content is fixed: no DescribePolicy.
    let contents = stream::iter(
        summaries
            .iter()
            .filter(|p| !(p.aws_managed && p.name == "FullAWSAccess")),
    )
    .map(|p| async move { Ok::<_, super::Error>((p.id.clone(), b.describe_policy(&p.id).await?)) })
    .buffer_unordered(conc)
    .try_collect::<HashMap<String, String>>();
    // RCPFullAWSAccess is on every root, OU and account and cannot be detached: listing its
    // targets would cost a page per 20 accounts and say nothing (the caller fills them in
    // from the tree).
    let targets = stream::iter(
        summaries
            .iter()
            .filter(|p| !(p.aws_managed && p.name == RCP_FULL_AWS_ACCESS)),
    )
    .map(|p| async move {
        Ok::<_, super::Error>((p.id.clone(), b.list_targets_for_policy(&p.id).await?))
    })
    .buffer_unordered(conc)
    .try_collect::<HashMap<String, Vec<String>>>();
    let (mut contents, mut targets) = futures::try_join!(contents, targets)?;
    Ok(summaries
        .into_iter()
        .map(|p| LivePolicy {
            // Only FullAWSAccess was not described.
            content: contents
                .remove(&p.id)
                .unwrap_or_else(|| FULL_AWS_ACCESS_CONTENT.to_owned()),
            targets: targets.remove(&p.id).unwrap_or_default(),
            id: p.id,
            name: p.name,
            description: p.description,
            policy_type: p.policy_type,
            aws_managed: p.aws_managed,
        })
        .collect())
}

/// The OUs below `root`, one `ListOrganizationalUnitsForParent` per parent, each parent
/// asked as soon as it is known (no waiting for the rest of its level).
async fn walk_ous(b: &dyn OrgBackend, root: &str, conc: usize) -> Result<Vec<LiveOu>> {
    let mut out = Vec::new();
    let mut waiting = std::collections::VecDeque::from([root.to_owned()]);
    let mut running = FuturesUnordered::new();
    loop {
        while running.len() < conc {
            let Some(parent) = waiting.pop_front() else {
                break;
            };
            running.push(async move {
                let children = b.list_organizational_units_for_parent(&parent).await;
                (parent, children)
            });
        }
        let Some((parent, children)) = running.next().await else {
            return Ok(out);
        };
        for ou in children? {
            waiting.push_back(ou.id.clone());
            out.push(LiveOu {
                id: ou.id,
                name: ou.name,
                parent_id: parent.clone(),
            });
        }
    }
}

/// Accounts placed by their paths, or `None` when a path names a parent that is not in the
/// tree just walked (something moved between the two reads): then the per-parent listing,
/// which reads placement and tree from the same parents, decides.
fn place(placed: Vec<PlacedAccount>, root: &str, ous: &[LiveOu]) -> Option<Vec<LiveAccount>> {
    let parents: std::collections::HashSet<&str> = std::iter::once(root)
        .chain(ous.iter().map(|o| o.id.as_str()))
        .collect();
    placed
        .into_iter()
        .map(|p| {
            let known = parents.contains(p.parent_id.as_str());
            known.then_some(LiveAccount {
                id: p.info.id,
                name: p.info.name,
                email: p.info.email,
                parent_id: p.parent_id,
                state: p.info.state,
            })
        })
        .collect()
}

/// The accounts of the root and every OU, one `ListAccountsForParent` per parent.
async fn accounts_per_parent(
    b: &dyn OrgBackend,
    root: &str,
    ous: &[LiveOu],
    conc: usize,
) -> Result<Vec<LiveAccount>> {
    let parents = std::iter::once(root.to_owned()).chain(ous.iter().map(|o| o.id.clone()));
    let listed: Vec<(String, Vec<super::AccountInfo>)> = stream::iter(parents)
        .map(|parent| async move {
            let accounts = b.list_accounts_for_parent(&parent).await?;
            Ok::<_, super::Error>((parent, accounts))
        })
        .buffer_unordered(conc)
        .try_collect()
        .await?;
    Ok(listed
        .into_iter()
        .flat_map(|(parent, accounts)| {
            accounts.into_iter().map(move |a| LiveAccount {
                id: a.id,
                name: a.name,
                email: a.email,
                parent_id: parent.clone(),
                state: a.state,
            })
        })
        .collect())
}

/// Requests for one listing of `n` items: pages of [`PAGE_SIZE`], at least one.
fn pages(n: usize) -> u64 {
    n.div_ceil(PAGE_SIZE).max(1) as u64
}

/// How the walk learns where each account is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadPath {
    /// `ListAccounts` (8/s) with each account's `Paths`, beside the per-parent OU walk.
    Paths,
    /// `ListAccountsForParent` for the root and every OU (the same 5/s family as the OU
    /// walk), after a `ListAccounts` page came back without `Paths`.
    PerParent,
}

impl ReadPath {
    pub const ALL: [ReadPath; 2] = [ReadPath::Paths, ReadPath::PerParent];

    /// The path a walk took, from the requests it made.
    pub fn taken(stats: &RequestStats) -> ReadPath {
        if stats.get("ListAccountsForParent") > 0 {
            ReadPath::PerParent
        } else {
            ReadPath::Paths
        }
    }
}

/// The requests, by operation, a walk of `org` makes on AWS along `path`: `ListRoots`; per
/// managed type enabled on the root, the pages of `ListPolicies`; per policy `DescribePolicy`
/// (not for `FullAWSAccess`) and the pages of `ListTargetsForPolicy` (not for
/// `RCPFullAWSAccess`); per parent (the root and every OU) the pages of
/// `ListOrganizationalUnitsForParent`; then either the pages of `ListAccounts` (one per 20
/// accounts) or one `ListAccounts` page and, per parent, the pages of
/// `ListAccountsForParent`. That is `2 + (O+1) + 2·P + ⌈A/20⌉` with paths and
/// `3 + 2·(O+1) + 2·P` without, plus one per further page.
pub fn walk_requests(org: &LiveOrg, path: ReadPath) -> RequestStats {
    let mut by: BTreeMap<String, u64> = BTreeMap::new();
    let mut add = |op: &str, n: u64| *by.entry(op.to_owned()).or_default() += n;
    add("ListRoots", 1);
    for ty in &org.root.enabled_policy_types {
        if ty.is_managed() {
            let n = org
                .policies
                .values()
                .filter(|p| p.policy_type == *ty)
                .count();
            add("ListPolicies", pages(n));
        }
    }
    for p in org.policies.values() {
        if !(p.aws_managed && p.name == "FullAWSAccess") {
            add("DescribePolicy", 1);
        }
        if !(p.aws_managed && p.name == RCP_FULL_AWS_ACCESS) {
            add("ListTargetsForPolicy", pages(p.targets.len()));
        }
    }
    let mut children: HashMap<&str, (usize, usize)> = HashMap::new();
    for ou in org.ous.values() {
        children.entry(ou.parent_id.as_str()).or_default().0 += 1;
    }
    for a in org.accounts.values() {
        children.entry(a.parent_id.as_str()).or_default().1 += 1;
    }
    for parent in std::iter::once(&org.root.id).chain(org.ous.keys()) {
        let (child_ous, child_accounts) =
            children.get(parent.as_str()).copied().unwrap_or_default();
        add("ListOrganizationalUnitsForParent", pages(child_ous));
        if path == ReadPath::PerParent {
            add("ListAccountsForParent", pages(child_accounts));
        }
    }
    match path {
        ReadPath::Paths => add("ListAccounts", pages(org.accounts.len())),
        ReadPath::PerParent => add("ListAccounts", 1),
    }
    RequestStats { by_operation: by }
}

/// The most requests a walk of `org` may make, whichever path it takes (the per-parent path
/// never makes fewer: every parent costs at least a page, and it asks one `ListAccounts` page
/// first).
pub fn request_budget(org: &LiveOrg) -> u64 {
    ReadPath::ALL
        .iter()
        .map(|p| walk_requests(org, *p).total())
        .max()
        .unwrap_or_default()
}

/// What a walk of an organization costs along one path.
#[derive(Debug, Clone, PartialEq)]
pub struct WalkEstimate {
    pub path: ReadPath,
    /// Requests ([`walk_requests`]).
    pub budget: u64,
    /// At AWS's rates, no walk can take less: for each API family, its requests beyond the
    /// burst over its rate; the slowest family ([`limiter::lower_bound`]).
    pub bound: Duration,
    /// The operations of that slowest family the walk calls, and how many requests they are.
    pub bottleneck: (Vec<&'static str>, u64),
}

impl WalkEstimate {
    pub fn of(org: &LiveOrg, path: ReadPath) -> WalkEstimate {
        let requests = walk_requests(org, path);
        let (bound, bottleneck) = limiter::slowest_family(&requests);
        WalkEstimate {
            path,
            budget: requests.total(),
            bound,
            bottleneck,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::AccountInfo;

    #[test]
    fn a_path_names_the_parent_before_the_account() {
        let parent = |p| PlacedAccount::parent_from_path("111122223333", p);
        assert_eq!(
            parent("o-x/r-y/ou-a/ou-b/111122223333/").as_deref(),
            Some("ou-b")
        );
        assert_eq!(parent("o-x/r-y/111122223333/").as_deref(), Some("r-y"));
        assert_eq!(
            parent("o-x/r-y/ou-a/444455556666/"),
            None,
            "another account"
        );
        assert_eq!(parent(""), None);
    }

    #[test]
    fn a_path_outside_the_tree_walked_sends_the_walk_per_parent() {
        let placed = |parent: &str| PlacedAccount {
            info: AccountInfo {
                id: "111122223333".into(),
                name: "a".into(),
                email: "a@x".into(),
                state: Default::default(),
            },
            parent_id: parent.into(),
        };
        let ous = [LiveOu {
            id: "ou-a".into(),
            name: "A".into(),
            parent_id: "r-y".into(),
        }];
        assert!(place(vec![placed("ou-a")], "r-y", &ous).is_some());
        assert!(place(vec![placed("r-y")], "r-y", &ous).is_some());
        assert!(place(vec![placed("ou-gone")], "r-y", &ous).is_none());
    }
}
