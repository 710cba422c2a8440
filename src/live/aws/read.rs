//! The SDK backend's reads for the walk: roots, OUs and accounts per parent, accounts with
//! their paths, policies by type, a policy's content and its targets. Every listing goes
//! through the SDK paginator with pages of [`PAGE`] (`listing.rs`).

use super::listing::Listing;
use super::{account_info, org, sdk_type, AwsBackend, PAGE};
use crate::live::{AccountInfo, OuInfo, PlacedAccount, PolicyInfo, Result, RootInfo};
use crate::model::PolicyType;

impl AwsBackend {
    pub(super) async fn sdk_list_roots(&self) -> Result<Vec<RootInfo>> {
        let mut out = Vec::new();
        let pages = self
            .client
            .list_roots()
            .max_results(PAGE)
            .into_paginator()
            .send();
        let mut pages = Listing::new(pages, "ListRoots");
        while let Some(page) = self.next_page(&mut pages).await {
            for r in page?.roots() {
                out.push(RootInfo {
                    id: r.id().unwrap_or_default().to_owned(),
                    arn: r.arn().unwrap_or_default().to_owned(),
                    name: r.name().unwrap_or_default().to_owned(),
                    enabled_policy_types: r
                        .policy_types()
                        .iter()
                        .filter(|t| t.status() == Some(&org::types::PolicyTypeStatus::Enabled))
                        .filter_map(|t| {
                            t.r#type()
                                .and_then(|t| PolicyType::from_api_name(t.as_str()))
                        })
                        .collect(),
                });
            }
        }
        Ok(out)
    }

    pub(super) async fn sdk_list_organizational_units_for_parent(
        &self,
        parent_id: &str,
    ) -> Result<Vec<OuInfo>> {
        let mut out = Vec::new();
        let pages = self
            .client
            .list_organizational_units_for_parent()
            .parent_id(parent_id)
            .max_results(PAGE)
            .into_paginator()
            .send();
        let mut pages = Listing::new(pages, "ListOrganizationalUnitsForParent");
        while let Some(page) = self.next_page(&mut pages).await {
            for o in page?.organizational_units() {
                out.push(OuInfo {
                    id: o.id().unwrap_or_default().to_owned(),
                    name: o.name().unwrap_or_default().to_owned(),
                });
            }
        }
        Ok(out)
    }

    pub(super) async fn sdk_list_accounts_for_parent(
        &self,
        parent_id: &str,
    ) -> Result<Vec<AccountInfo>> {
        let mut out = Vec::new();
        let pages = self
            .client
            .list_accounts_for_parent()
            .parent_id(parent_id)
            .max_results(PAGE)
            .into_paginator()
            .send();
        let mut pages = Listing::new(pages, "ListAccountsForParent");
        while let Some(page) = self.next_page(&mut pages).await {
            out.extend(page?.accounts().iter().map(account_info));
        }
        Ok(out)
    }

    pub(super) async fn sdk_list_accounts_with_paths(&self) -> Result<Option<Vec<PlacedAccount>>> {
        let mut out = Vec::new();
        let pages = self
            .client
            .list_accounts()
            .max_results(PAGE)
            .into_paginator()
            .send();
        let mut pages = Listing::new(pages, "ListAccounts");
        while let Some(page) = self.next_page(&mut pages).await {
            for a in page?.accounts() {
                let info = account_info(a);
                let parent = a
                    .paths()
                    .iter()
                    .find_map(|p| PlacedAccount::parent_from_path(&info.id, p));
                // Decided per response: a page without Paths (moto 5.2, or a service that
                // does not send them) ends this read; the rest of the listing is not asked for.
                let Some(parent_id) = parent else {
                    return Ok(None);
                };
                out.push(PlacedAccount { info, parent_id });
            }
        }
        Ok(Some(out))
    }

    pub(super) async fn sdk_list_policies(
        &self,
        policy_type: PolicyType,
    ) -> Result<Vec<PolicyInfo>> {
        let mut out = Vec::new();
        let pages = self
            .client
            .list_policies()
            .filter(sdk_type(policy_type))
            .max_results(PAGE)
            .into_paginator()
            .send();
        let mut pages = Listing::new(pages, "ListPolicies");
        while let Some(page) = self.next_page(&mut pages).await {
            for p in page?.policies() {
                out.push(PolicyInfo {
                    id: p.id().unwrap_or_default().to_owned(),
                    name: p.name().unwrap_or_default().to_owned(),
                    description: p.description().unwrap_or_default().to_owned(),
                    policy_type,
                    aws_managed: p.aws_managed(),
                });
            }
        }
        Ok(out)
    }

    pub(super) async fn sdk_describe_policy(&self, policy_id: &str) -> Result<String> {
        let request = self.client.describe_policy().policy_id(policy_id);
        let out = self.send("DescribePolicy", request.send()).await?;
        Ok(out
            .policy()
            .and_then(|p| p.content())
            .unwrap_or_default()
            .to_owned())
    }

    pub(super) async fn sdk_list_targets_for_policy(&self, policy_id: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let pages = self
            .client
            .list_targets_for_policy()
            .policy_id(policy_id)
            .max_results(PAGE)
            .into_paginator()
            .send();
        let mut pages = Listing::new(pages, "ListTargetsForPolicy");
        while let Some(page) = self.next_page(&mut pages).await {
            for t in page?.targets() {
                if let Some(id) = t.target_id() {
                    out.push(id.to_owned());
                }
            }
        }
        Ok(out)
    }
}
