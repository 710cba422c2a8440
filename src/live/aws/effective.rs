//! The SDK backend's management-type operations beyond the walk: disabling a policy type
//! (waiting until the root reports it disabled) and AWS's validation of effective policies.
//! Every request goes through the client-side limiter (`lane` / `next_page`).

use super::listing::Listing;
use super::{account_info, org, sdk_type, AwsBackend, PAGE};
use crate::live::{AccountInfo, Result};
use crate::model::{EffectivePolicyError, PolicyType};

fn effective_type(t: PolicyType) -> org::types::EffectivePolicyType {
    org::types::EffectivePolicyType::from(t.api_name())
}

impl AwsBackend {
    pub(super) async fn disable_type(&self, root_id: &str, policy_type: PolicyType) -> Result<()> {
        let request = self.client.disable_policy_type().root_id(root_id);
        let request = request.policy_type(sdk_type(policy_type));
        self.send("DisablePolicyType", request.send()).await?;
        // Like enabling, disabling is asynchronous on AWS (PENDING_DISABLE).
        self.await_policy_type(root_id, policy_type, false).await
    }

    pub(super) async fn invalid_accounts(
        &self,
        policy_type: PolicyType,
    ) -> Result<Vec<AccountInfo>> {
        let pages = self
            .client
            .list_accounts_with_invalid_effective_policy()
            .policy_type(effective_type(policy_type))
            .max_results(PAGE)
            .into_paginator()
            .send();
        let mut pages = Listing::new(pages, "ListAccountsWithInvalidEffectivePolicy");
        let mut out = Vec::new();
        while let Some(page) = self.next_page(&mut pages).await {
            out.extend(page?.accounts().iter().map(account_info));
        }
        Ok(out)
    }

    pub(super) async fn validation_errors(
        &self,
        account_id: &str,
        policy_type: PolicyType,
    ) -> Result<Vec<EffectivePolicyError>> {
        let pages = self
            .client
            .list_effective_policy_validation_errors()
            .account_id(account_id)
            .policy_type(effective_type(policy_type))
            .max_results(PAGE)
            .into_paginator()
            .send();
        let mut pages = Listing::new(pages, "ListEffectivePolicyValidationErrors");
        let mut out = Vec::new();
        while let Some(page) = self.next_page(&mut pages).await {
            for e in page?.effective_policy_validation_errors() {
                out.push(EffectivePolicyError {
                    code: e.error_code().unwrap_or_default().to_owned(),
                    message: e.error_message().unwrap_or_default().to_owned(),
                    path: e.path_to_error().unwrap_or_default().to_owned(),
                    contributing_policies: e.contributing_policies().to_vec(),
                });
            }
        }
        Ok(out)
    }
}
