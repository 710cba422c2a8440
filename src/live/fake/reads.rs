//! The fake's reads, as the walk makes them: roots, OUs and accounts per parent, accounts with
//! their paths (unless the fake answers as moto 5.2 does), policies by type, a policy's
//! content and its targets. Each listing counts one request per page, as on AWS.

use super::{not_found, FakeOrg};
use crate::live::{AccountInfo, OuInfo, PlacedAccount, PolicyInfo, Result, RootInfo};
use crate::model::PolicyType;

impl FakeOrg {
    pub(super) async fn serve_list_roots(&self) -> Result<Vec<RootInfo>> {
        self.pace("ListRoots").await?;
        Ok(vec![self.lock().root.clone()])
    }

    pub(super) async fn serve_list_organizational_units_for_parent(
        &self,
        parent_id: &str,
    ) -> Result<Vec<OuInfo>> {
        const OP: &str = "ListOrganizationalUnitsForParent";
        self.pace(OP).await?;
        let out: Vec<OuInfo> = {
            let s = self.lock();
            if parent_id != s.root.id && !s.ous.contains_key(parent_id) {
                return Err(not_found("ParentNotFoundException", parent_id));
            }
            s.ous
                .iter()
                .filter(|(_, o)| o.parent == parent_id)
                .map(|(id, o)| OuInfo {
                    id: id.clone(),
                    name: o.name.clone(),
                })
                .collect()
        };
        self.more_pages(OP, out.len()).await?;
        Ok(out)
    }

    pub(super) async fn serve_list_accounts_for_parent(
        &self,
        parent_id: &str,
    ) -> Result<Vec<AccountInfo>> {
        const OP: &str = "ListAccountsForParent";
        self.pace(OP).await?;
        let out: Vec<AccountInfo> = {
            let s = self.lock();
            if parent_id != s.root.id && !s.ous.contains_key(parent_id) {
                return Err(not_found("ParentNotFoundException", parent_id));
            }
            s.accounts
                .values()
                .filter(|a| a.parent == parent_id)
                .map(|a| a.info.clone())
                .collect()
        };
        self.more_pages(OP, out.len()).await?;
        Ok(out)
    }

    pub(super) async fn serve_list_accounts_with_paths(
        &self,
    ) -> Result<Option<Vec<PlacedAccount>>> {
        const OP: &str = "ListAccounts";
        self.pace(OP).await?;
        if !self.paths {
            // The first page answered without Paths: the caller reads per parent.
            return Ok(None);
        }
        let out: Vec<PlacedAccount> = {
            let s = self.lock();
            s.accounts
                .iter()
                .map(|(id, a)| {
                    let path = s.path_of(id, &a.parent);
                    PlacedAccount {
                        info: a.info.clone(),
                        parent_id: PlacedAccount::parent_from_path(id, &path).unwrap_or_default(),
                    }
                })
                .collect()
        };
        self.more_pages(OP, out.len()).await?;
        Ok(Some(out))
    }

    pub(super) async fn serve_list_policies(
        &self,
        policy_type: PolicyType,
    ) -> Result<Vec<PolicyInfo>> {
        self.pace("ListPolicies").await?;
        let out: Vec<PolicyInfo> = self
            .lock()
            .policies
            .values()
            .filter(|p| p.info.policy_type == policy_type)
            .map(|p| p.info.clone())
            .collect();
        self.more_pages("ListPolicies", out.len()).await?;
        Ok(out)
    }

    pub(super) async fn serve_describe_policy(&self, policy_id: &str) -> Result<String> {
        self.pace("DescribePolicy").await?;
        let s = self.lock();
        s.policy(policy_id).map(|p| p.content.clone())
    }

    pub(super) async fn serve_list_targets_for_policy(
        &self,
        policy_id: &str,
    ) -> Result<Vec<String>> {
        self.pace("ListTargetsForPolicy").await?;
        let out: Vec<String> = {
            let s = self.lock();
            s.policy(policy_id)?.targets.iter().cloned().collect()
        };
        self.more_pages("ListTargetsForPolicy", out.len()).await?;
        Ok(out)
    }
}
