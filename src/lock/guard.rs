//! The lock kept through a run: [`Guarded`] wraps the backend apply writes through and renews
//! the lock before a write once a third of its lifetime has passed since the last renewal,
//! with the same write-then-read-back as [`super::acquire`]. When the read-back shows another
//! run's unexpired lock, or the renewal cannot be written, the lock counts as lost: that
//! write and every later one fail without a request (`GuardrailLockLost`), so a run that
//! outlived its lock never writes beside the run that took it over. Reads pass through.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use super::{others, retrying, Lock, LockOptions};
use crate::live::{
    AccountInfo, Error, OrgBackend, OuInfo, PlacedAccount, PolicyInfo, RequestStats, Result,
    RootInfo,
};
use crate::model::{EffectivePolicyError, PolicyType};

/// The error code of a write refused because the lock was lost.
pub const LOCK_LOST: &str = "GuardrailLockLost";

type Pause<'a> = &'a (dyn Fn(Duration) -> futures::future::BoxFuture<'static, ()> + Sync);

/// A backend whose writes run only while this run holds the organization lock.
pub struct Guarded<'a> {
    inner: &'a dyn OrgBackend,
    lock: Lock,
    env: String,
    ttl: Duration,
    now: &'a (dyn Fn() -> u64 + Sync),
    pause: Pause<'a>,
    state: Mutex<State>,
}

struct State {
    /// When the lock's expiry was last written (seconds since the epoch).
    renewed_at: u64,
    /// Why the lock was lost, once it is.
    lost: Option<String>,
}

impl<'a> Guarded<'a> {
    /// Wraps `inner` for a lock just taken with `opts`.
    pub fn new(inner: &'a dyn OrgBackend, lock: Lock, opts: &LockOptions<'a>) -> Self {
        Guarded {
            inner,
            lock,
            env: opts.env.clone(),
            ttl: opts.ttl,
            now: opts.now,
            pause: opts.pause,
            state: Mutex::new(State {
                renewed_at: (opts.now)(),
                lost: None,
            }),
        }
    }

    /// Why the lock was lost, if it was.
    pub fn lost(&self) -> Option<String> {
        self.state.lock().ok().and_then(|s| s.lost.clone())
    }

    /// Before a write: renews the lock when due; fails once the lock is lost.
    async fn guard(&self) -> Result<()> {
        self.guard_for(None).await
    }

    /// Before a write that may itself last `lasting`: the lock is renewed now, to expire no
    /// sooner than one and a half times that from now (nothing renews it during the write).
    async fn guard_for(&self, lasting: Option<Duration>) -> Result<()> {
        let now = (self.now)();
        {
            let s = self
                .state
                .lock()
                .map_err(|_| lost_error("a renewal panicked"))?;
            if let Some(why) = &s.lost {
                return Err(lost_error(why));
            }
            if lasting.is_none() && now.saturating_sub(s.renewed_at) < self.ttl.as_secs() / 3 {
                return Ok(());
            }
        }
        let span = lasting.map_or(self.ttl, |l| self.ttl.max(l * 3 / 2));
        let renewed = self.renew(now, span).await;
        let mut s = self
            .state
            .lock()
            .map_err(|_| lost_error("a renewal panicked"))?;
        match renewed {
            Ok(()) => {
                s.renewed_at = now;
                Ok(())
            }
            Err(why) => {
                s.lost = Some(why.clone());
                Err(lost_error(&why))
            }
        }
    }

    /// Writes the new expiry on this run's tag, then reads the tags back: the lock is still
    /// held only when no other run's unexpired lock is there.
    async fn renew(&self, now: u64, span: Duration) -> std::result::Result<(), String> {
        let (root, key) = (&self.lock.root_id, &self.lock.key);
        let value = format!("{} {}", self.env, now + span.as_secs());
        retrying(self.pause, || self.inner.tag_resource(root, key, &value))
            .await
            .map_err(|e| format!("could not renew the lock tag {key}: {e}"))?;
        let held = others(self.inner, root, key, now, self.pause)
            .await
            .map_err(|e| format!("could not read the lock tags back: {e}"))?;
        match held.first() {
            None => Ok(()),
            Some((k, v)) => {
                // Our tag was just renewed: take it away at once, so the run that holds the
                // lock does not meet it at its own next renewal and stop too.
                let untagged = super::release(self.inner, &self.lock, self.pause).await;
                Err(format!(
                    "another run holds the organization lock ({}, `{v}`){}",
                    k.trim_start_matches(super::KEY_PREFIX),
                    match untagged {
                        Ok(()) => String::new(),
                        Err(e) => format!("; this run's tag {key} could not be removed: {e}"),
                    }
                ))
            }
        }
    }
}

fn lost_error(why: &str) -> Error {
    Error::Service {
        code: LOCK_LOST.into(),
        message: format!("the organization lock was lost, so this run writes nothing more: {why}"),
    }
}

#[async_trait]
impl OrgBackend for Guarded<'_> {
    async fn list_roots(&self) -> Result<Vec<RootInfo>> {
        self.inner.list_roots().await
    }
    async fn list_organizational_units_for_parent(&self, parent_id: &str) -> Result<Vec<OuInfo>> {
        self.inner
            .list_organizational_units_for_parent(parent_id)
            .await
    }
    async fn list_accounts_for_parent(&self, parent_id: &str) -> Result<Vec<AccountInfo>> {
        self.inner.list_accounts_for_parent(parent_id).await
    }
    async fn list_accounts_with_paths(&self) -> Result<Option<Vec<PlacedAccount>>> {
        self.inner.list_accounts_with_paths().await
    }
    async fn list_policies(&self, policy_type: PolicyType) -> Result<Vec<PolicyInfo>> {
        self.inner.list_policies(policy_type).await
    }
    async fn describe_policy(&self, policy_id: &str) -> Result<String> {
        self.inner.describe_policy(policy_id).await
    }
    async fn list_targets_for_policy(&self, policy_id: &str) -> Result<Vec<String>> {
        self.inner.list_targets_for_policy(policy_id).await
    }
    async fn enable_policy_type(&self, root_id: &str, policy_type: PolicyType) -> Result<()> {
        self.guard().await?;
        self.inner.enable_policy_type(root_id, policy_type).await
    }
    async fn create_organizational_unit(&self, parent_id: &str, name: &str) -> Result<String> {
        self.guard().await?;
        self.inner.create_organizational_unit(parent_id, name).await
    }
    async fn delete_organizational_unit(&self, ou_id: &str) -> Result<()> {
        self.guard().await?;
        self.inner.delete_organizational_unit(ou_id).await
    }
    async fn create_policy(
        &self,
        policy_type: PolicyType,
        name: &str,
        description: &str,
        content: &str,
    ) -> Result<String> {
        self.guard().await?;
        self.inner
            .create_policy(policy_type, name, description, content)
            .await
    }
    async fn update_policy(
        &self,
        policy_id: &str,
        description: Option<&str>,
        content: Option<&str>,
    ) -> Result<()> {
        self.guard().await?;
        self.inner
            .update_policy(policy_id, description, content)
            .await
    }
    async fn delete_policy(&self, policy_id: &str) -> Result<()> {
        self.guard().await?;
        self.inner.delete_policy(policy_id).await
    }
    async fn attach_policy(&self, policy_id: &str, target_id: &str) -> Result<()> {
        self.guard().await?;
        self.inner.attach_policy(policy_id, target_id).await
    }
    async fn detach_policy(&self, policy_id: &str, target_id: &str) -> Result<()> {
        self.guard().await?;
        self.inner.detach_policy(policy_id, target_id).await
    }
    async fn move_account(
        &self,
        account_id: &str,
        source_parent_id: &str,
        destination_parent_id: &str,
    ) -> Result<()> {
        self.guard().await?;
        self.inner
            .move_account(account_id, source_parent_id, destination_parent_id)
            .await
    }
    async fn create_account(&self, name: &str, email: &str) -> Result<String> {
        self.guard_for(Some(crate::live::CREATE_ACCOUNT_WAIT))
            .await?;
        self.inner.create_account(name, email).await
    }
    async fn list_tags_for_resource(&self, resource_id: &str) -> Result<Vec<(String, String)>> {
        self.inner.list_tags_for_resource(resource_id).await
    }
    async fn tag_resource(&self, resource_id: &str, key: &str, value: &str) -> Result<()> {
        self.guard().await?;
        self.inner.tag_resource(resource_id, key, value).await
    }
    async fn untag_resource(&self, resource_id: &str, key: &str) -> Result<()> {
        self.guard().await?;
        self.inner.untag_resource(resource_id, key).await
    }
    async fn disable_policy_type(&self, root_id: &str, policy_type: PolicyType) -> Result<()> {
        self.guard().await?;
        self.inner.disable_policy_type(root_id, policy_type).await
    }
    async fn list_accounts_with_invalid_effective_policy(
        &self,
        policy_type: PolicyType,
    ) -> Result<Vec<AccountInfo>> {
        self.inner
            .list_accounts_with_invalid_effective_policy(policy_type)
            .await
    }
    async fn list_effective_policy_validation_errors(
        &self,
        account_id: &str,
        policy_type: PolicyType,
    ) -> Result<Vec<EffectivePolicyError>> {
        self.inner
            .list_effective_policy_validation_errors(account_id, policy_type)
            .await
    }
    fn stats(&self) -> RequestStats {
        self.inner.stats()
    }
}
