//! The fake's policy writes, with AWS's rules: a type enabled (RCPFullAWSAccess attached
//! everywhere with RCPs, FullAWSAccess restored with SCPs), policies created, updated and
//! deleted (document and description checked, AWS-managed ones immutable, none deleted while
//! in use), attached (type enabled, once, within the per-target limit) and detached (attached,
//! never the last SCP nor an undetachable AWS-managed policy).

use std::collections::BTreeSet;

use super::{constraint, not_found, FakeOrg, FakePolicy, FULL_ACCESS_ID, RCP_FULL_ACCESS_ID};
use crate::live::{Error, PolicyInfo, Result};
use crate::model::PolicyType;

impl FakeOrg {
    pub(super) async fn serve_enable_policy_type(
        &self,
        root_id: &str,
        policy_type: PolicyType,
    ) -> Result<()> {
        self.pace("EnablePolicyType").await?;
        self.write(|| {
            let mut s = self.lock();
            if root_id != s.root.id {
                return Err(not_found("RootNotFoundException", root_id));
            }
            if s.root.enabled_policy_types.contains(&policy_type) {
                return Err(Error::Service {
                    code: "PolicyTypeAlreadyEnabledException".into(),
                    message: format!("{} is already enabled", policy_type.api_name()),
                });
            }
            s.root.enabled_policy_types.push(policy_type);
            // As AWS does: enabling RCPs attaches RCPFullAWSAccess everywhere (it cannot be
            // detached); enabling SCPs again restores FullAWSAccess everywhere.
            let targets = s.all_targets();
            if policy_type == PolicyType::ResourceControlPolicy {
                s.policies.insert(
                    RCP_FULL_ACCESS_ID.to_owned(),
                    FakePolicy {
                        info: PolicyInfo {
                            id: RCP_FULL_ACCESS_ID.into(),
                            name: "RCPFullAWSAccess".into(),
                            description: "Allows access to every resource".into(),
                            policy_type,
                            aws_managed: true,
                        },
                        content: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#.into(),
                        targets: targets.into_iter().collect(),
                    },
                );
            } else if let Some(p) = s.policies.get_mut(FULL_ACCESS_ID) {
                p.targets.extend(targets);
            }
            Ok(())
        })
    }

    pub(super) async fn serve_create_policy(
        &self,
        policy_type: PolicyType,
        name: &str,
        description: &str,
        content: &str,
    ) -> Result<String> {
        self.pace("CreatePolicy").await?;
        self.write(|| {
            self.check_document(policy_type, content)?;
            self.check_description(policy_type, description)?;
            let lim = self.limits.for_type(policy_type);
            let mut s = self.lock();
            if name.is_empty() || name.chars().count() > lim.max_name_chars.value {
                return Err(Error::InvalidInput {
                    reason: "MAX_LENGTH_EXCEEDED".into(),
                    message: "policy name length".into(),
                });
            }
            if s.policies.values().any(|p| p.info.name == name) {
                return Err(Error::DuplicatePolicy(format!(
                    "A policy with the name {name} already exists"
                )));
            }
            let count = s
                .policies
                .values()
                .filter(|p| p.info.policy_type == policy_type && !p.info.aws_managed)
                .count();
            if count >= lim.max_policies_per_org.value {
                return Err(constraint(
                    "POLICY_NUMBER_LIMIT_EXCEEDED",
                    "too many policies",
                ));
            }
            let n = s.next();
            let id = format!("p-{n:08x}");
            s.policies.insert(
                id.clone(),
                FakePolicy {
                    info: PolicyInfo {
                        id: id.clone(),
                        name: name.into(),
                        description: description.into(),
                        policy_type,
                        aws_managed: false,
                    },
                    content: content.into(),
                    targets: BTreeSet::new(),
                },
            );
            Ok(id)
        })
    }

    pub(super) async fn serve_update_policy(
        &self,
        policy_id: &str,
        description: Option<&str>,
        content: Option<&str>,
    ) -> Result<()> {
        self.pace("UpdatePolicy").await?;
        self.write(|| {
            let ty = {
                let s = self.lock();
                let p = s.policy(policy_id)?;
                p.check_customer_managed("AWS-managed policies cannot be changed")?;
                p.info.policy_type
            };
            if let Some(c) = content {
                self.check_document(ty, c)?;
            }
            if let Some(d) = description {
                self.check_description(ty, d)?;
            }
            let mut s = self.lock();
            let p = s.policy_mut(policy_id)?;
            if let Some(c) = content {
                p.content = c.into();
            }
            if let Some(d) = description {
                p.info.description = d.into();
            }
            Ok(())
        })
    }

    pub(super) async fn serve_delete_policy(&self, policy_id: &str) -> Result<()> {
        self.pace("DeletePolicy").await?;
        self.write(|| {
            let mut s = self.lock();
            let p = s.policy(policy_id)?;
            p.check_customer_managed("AWS-managed policies cannot be deleted")?;
            if !p.targets.is_empty() {
                return Err(Error::PolicyInUse(format!(
                    "{policy_id} is attached to {} targets",
                    p.targets.len()
                )));
            }
            s.policies.remove(policy_id);
            Ok(())
        })
    }

    pub(super) async fn serve_attach_policy(&self, policy_id: &str, target_id: &str) -> Result<()> {
        self.pace("AttachPolicy").await?;
        self.write(|| {
            let mut s = self.lock();
            let ty = s.policy(policy_id)?.info.policy_type;
            s.check_target(target_id)?;
            if !s.root.enabled_policy_types.contains(&ty) {
                return Err(Error::PolicyTypeNotEnabled(format!(
                    "{} is not enabled on the root",
                    ty.api_name()
                )));
            }
            if s.policies
                .get(policy_id)
                .is_some_and(|p| p.targets.contains(target_id))
            {
                return Err(Error::DuplicatePolicyAttachment(format!(
                    "{policy_id} is already attached to {target_id}"
                )));
            }
            let max = self.limits.for_type(ty).max_attachments_per_target.value;
            if s.attached_count(target_id, ty) >= max {
                return Err(constraint(
                    "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                    format!(
                        "{target_id} already has {max} policies of type {}",
                        ty.api_name()
                    ),
                ));
            }
            if let Some(p) = s.policies.get_mut(policy_id) {
                p.targets.insert(target_id.into());
            }
            Ok(())
        })
    }

    pub(super) async fn serve_detach_policy(&self, policy_id: &str, target_id: &str) -> Result<()> {
        self.pace("DetachPolicy").await?;
        self.write(|| {
            let mut s = self.lock();
            let p = s.policy(policy_id)?;
            let ty = p.info.policy_type;
            s.check_target(target_id)?;
            if !p.targets.contains(target_id) {
                return Err(Error::PolicyNotAttached(format!(
                    "{policy_id} is not attached to {target_id}"
                )));
            }
            let lim = self.limits.for_type(ty);
            if p.info.aws_managed
                && Some(p.info.name.as_str()) == lim.aws_managed_policy
                && !lim.aws_managed_detachable
            {
                return Err(Error::InvalidInput {
                    reason: "NON_DETACHABLE_POLICY".into(),
                    message: format!("{} cannot be detached", p.info.name),
                });
            }
            if s.attached_count(target_id, ty) <= lim.min_attachments_per_target.value {
                return Err(constraint(
                    "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                    format!(
                        "{target_id} must keep at least {} policy of type {}",
                        lim.min_attachments_per_target.value,
                        ty.api_name()
                    ),
                ));
            }
            if let Some(p) = s.policies.get_mut(policy_id) {
                p.targets.remove(target_id);
            }
            Ok(())
        })
    }
}
