//! The organization walk: per parent and per policy, never per account.
//!
//! Requests for an organization with O OUs and P policies of the types read:
//! `ListRoots` + `ListPolicies` (2), `ListOrganizationalUnitsForParent` and
//! `ListAccountsForParent` for the root and every OU (2·(O+1)), `DescribePolicy` and
//! `ListTargetsForPolicy` per policy (2·P; AWS-managed policies skip `DescribePolicy`, their
//! content is fixed), plus one request per further page of any listing.

use futures::stream::{self, StreamExt, TryStreamExt};

use super::{OrgBackend, Result};
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

    let tree = async {
        let mut ous: Vec<LiveOu> = Vec::new();
        let mut accounts: Vec<LiveAccount> = Vec::new();
        let mut level = vec![root.id.clone()];
        while !level.is_empty() {
            let results: Vec<_> = stream::iter(level.drain(..))
                .map(|parent| async move {
                    let (o, a) = futures::try_join!(
                        b.list_organizational_units_for_parent(&parent),
                        b.list_accounts_for_parent(&parent)
                    )?;
                    Ok::<_, super::Error>((parent, o, a))
                })
                .buffer_unordered(conc)
                .try_collect()
                .await?;
            for (parent, o, a) in results {
                for ou in o {
                    level.push(ou.id.clone());
                    ous.push(LiveOu {
                        id: ou.id,
                        name: ou.name,
                        parent_id: parent.clone(),
                    });
                }
                accounts.extend(a.into_iter().map(|a| LiveAccount {
                    id: a.id,
                    name: a.name,
                    email: a.email,
                    parent_id: parent.clone(),
                    state: a.state,
                }));
            }
        }
        Ok::<_, super::Error>((ous, accounts))
    };

    let policies = async {
        let mut out = Vec::new();
        for ty in &opts.policy_types {
            if !root.enabled_policy_types.contains(ty) {
                continue;
            }
            let summaries = b.list_policies(*ty).await?;
            let read: Vec<LivePolicy> = stream::iter(summaries)
                .map(|p| async move {
                    let content = async {
                        if p.aws_managed && p.name == "FullAWSAccess" {
                            Ok(FULL_AWS_ACCESS_CONTENT.to_owned())
                        } else {
                            b.describe_policy(&p.id).await
                        }
                    };
                    // RCPFullAWSAccess is on every root, OU and account and cannot be
                    // detached: listing its targets would cost a page per 20 accounts and say
                    // nothing (they are filled in below, from the tree).
                    let everywhere = p.aws_managed && p.name == RCP_FULL_AWS_ACCESS;
                    let targets = async {
                        if everywhere {
                            Ok(Vec::new())
                        } else {
                            b.list_targets_for_policy(&p.id).await
                        }
                    };
                    let (content, targets) = futures::try_join!(content, targets)?;
                    Ok::<_, super::Error>(LivePolicy {
                        id: p.id,
                        name: p.name,
                        description: p.description,
                        policy_type: p.policy_type,
                        aws_managed: p.aws_managed,
                        content,
                        targets,
                    })
                })
                .buffer_unordered(conc)
                .try_collect()
                .await?;
            out.extend(read);
        }
        Ok::<_, super::Error>(out)
    };

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

fn extra_pages(n: usize) -> u64 {
    (n.div_ceil(PAGE_SIZE).max(1) - 1) as u64
}

/// The most requests a walk of `org` may make: `2 + 2·(O+1) + 2·P` plus one for every further
/// page of each listing (pages of [`PAGE_SIZE`]).
pub fn request_budget(org: &LiveOrg) -> u64 {
    let o = org.ous.len() as u64;
    let p = org.policies.len() as u64;
    let mut budget = 2 + 2 * (o + 1) + 2 * p;
    let mut children: std::collections::HashMap<&str, (usize, usize)> =
        std::collections::HashMap::new();
    for ou in org.ous.values() {
        children.entry(ou.parent_id.as_str()).or_default().0 += 1;
    }
    for a in org.accounts.values() {
        children.entry(a.parent_id.as_str()).or_default().1 += 1;
    }
    for parent in std::iter::once(&org.root.id).chain(org.ous.keys()) {
        let (child_ous, child_accts) = children.get(parent.as_str()).copied().unwrap_or_default();
        budget += extra_pages(child_ous) + extra_pages(child_accts);
    }
    budget += extra_pages(org.policies.len());
    for pol in org.policies.values() {
        budget += extra_pages(pol.targets.len());
    }
    budget
}
