//! IAM in member accounts, for permissions boundaries: the [`IamBackend`] trait, its SDK
//! implementation (AssumeRole into each account's member role, credentials cached per account,
//! bounded concurrency, adaptive retries) and [`read_boundaries`], which reads what the plan
//! needs with the fewest requests the IAM API allows: `GetPolicy` + `GetPolicyVersion` for the
//! boundary policy, and one paginated `GetAccountAuthorizationDetails` (Filter=Role) for the
//! audit, which, unlike `ListRoles`, returns each role's boundary.

use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::{self, StreamExt, TryStreamExt};

use super::{Error, RequestStats, Result};
use crate::model::Desired;
pub use crate::model::{BoundaryState, IamLive, IamPolicyState, RoleInfo};

/// An account and the role to assume in it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IamAccount {
    pub id: String,
    pub role: String,
}

#[async_trait]
pub trait IamBackend: Send + Sync {
    /// The policy and its default version's document; `None` when it does not exist.
    async fn get_policy(&self, account: &IamAccount, arn: &str) -> Result<Option<IamPolicyState>>;
    /// `(version id, is default)`, oldest first.
    async fn list_policy_versions(
        &self,
        account: &IamAccount,
        arn: &str,
    ) -> Result<Vec<(String, bool)>>;
    /// Creates the policy; returns its ARN.
    async fn create_policy(
        &self,
        account: &IamAccount,
        name: &str,
        path: &str,
        document: &str,
    ) -> Result<String>;
    /// Creates a version and makes it the default.
    async fn create_policy_version(
        &self,
        account: &IamAccount,
        arn: &str,
        document: &str,
    ) -> Result<String>;
    async fn delete_policy_version(
        &self,
        account: &IamAccount,
        arn: &str,
        version: &str,
    ) -> Result<()>;
    /// Every role with its boundary.
    async fn list_roles_with_boundaries(&self, account: &IamAccount) -> Result<Vec<RoleInfo>>;
    async fn put_role_permissions_boundary(
        &self,
        account: &IamAccount,
        role: &str,
        boundary_arn: &str,
    ) -> Result<()>;
    fn stats(&self) -> RequestStats;
}

/// Reads every covered account of every boundary, `concurrency` accounts at a time. Accounts
/// not in the live organization are skipped (they do not exist yet). `partition` is the
/// organization's (`LiveOrg::partition`), for the boundary policies' ARNs.
pub async fn read_boundaries(
    d: &Desired,
    live_accounts: &dyn Fn(&str) -> bool,
    partition: &str,
    iam: &dyn IamBackend,
    concurrency: usize,
    progress: &(dyn Fn() + Sync),
) -> Result<IamLive> {
    let mut jobs = Vec::new();
    for b in d.boundaries.values() {
        if !(b.deploy || b.audit) {
            continue;
        }
        for a in b.accounts.iter().filter(|a| live_accounts(a)) {
            jobs.push((b, a.clone()));
        }
    }
    let results: Vec<((String, String), BoundaryState)> = stream::iter(jobs)
        .map(|(b, account)| async move {
            let acct = IamAccount {
                id: account.clone(),
                role: b.member_role.clone(),
            };
            let policy = if b.deploy {
                Some(iam.get_policy(&acct, &b.arn(partition, &account)).await?)
            } else {
                None
            };
            let roles = if b.audit {
                Some(iam.list_roles_with_boundaries(&acct).await?)
            } else {
                None
            };
            progress();
            Ok::<_, Error>(((b.name.clone(), account), BoundaryState { policy, roles }))
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    Ok(IamLive {
        read: true,
        accounts: results.into_iter().collect(),
    })
}

/// Decodes a policy document IAM returned: AWS URL-encodes it, moto does not.
pub fn decode_document(s: &str) -> String {
    if s.trim_start().starts_with('{') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Shared handle type.
pub type SharedIam = Arc<dyn IamBackend>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoded_documents_decode() {
        assert_eq!(decode_document("%7B%22a%22%3A%201%7D"), "{\"a\": 1}");
        assert_eq!(decode_document("{\"a\":1}"), "{\"a\":1}");
    }
}
