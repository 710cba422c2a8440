//! The fake's AWS rules that are not one API call: the tree (depth, paths, targets), the
//! attachments a type's defaults bring, and the document and description checks.

use super::{
    constraint, not_found, Error, FakeOrg, FakePolicy, PolicyType, Result, State, FULL_ACCESS_ID,
    RCP_FULL_ACCESS_ID,
};

impl FakePolicy {
    /// AWS-managed policies are immutable: IMMUTABLE_POLICY, with `message`, for them.
    pub(super) fn check_customer_managed(&self, message: &str) -> Result<()> {
        if self.info.aws_managed {
            return Err(Error::InvalidInput {
                reason: "IMMUTABLE_POLICY".into(),
                message: message.into(),
            });
        }
        Ok(())
    }
}

impl State {
    pub(super) fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub(super) fn is_target(&self, id: &str) -> bool {
        id == self.root.id || self.ous.contains_key(id) || self.accounts.contains_key(id)
    }

    /// `Ok` when `id` is the root, an OU or an account; else TargetNotFoundException.
    pub(super) fn check_target(&self, id: &str) -> Result<()> {
        if self.is_target(id) {
            Ok(())
        } else {
            Err(not_found("TargetNotFoundException", id))
        }
    }

    /// The policy `id`, or PolicyNotFoundException.
    pub(super) fn policy(&self, id: &str) -> Result<&FakePolicy> {
        self.policies
            .get(id)
            .ok_or_else(|| not_found("PolicyNotFoundException", id))
    }

    /// The policy `id` to change, or PolicyNotFoundException.
    pub(super) fn policy_mut(&mut self, id: &str) -> Result<&mut FakePolicy> {
        self.policies
            .get_mut(id)
            .ok_or_else(|| not_found("PolicyNotFoundException", id))
    }

    /// An account's path as AWS's `Paths` spells it: `o-x/r-y/ou-a/ou-b/111122223333/`.
    pub(super) fn path_of(&self, account: &str, parent: &str) -> String {
        let mut ids = vec![account.to_owned()];
        let mut cur = parent;
        while let Some(ou) = self.ous.get(cur) {
            ids.push(cur.to_owned());
            cur = &ou.parent;
        }
        ids.push(self.root.id.clone());
        ids.push(self.root.owner().unwrap_or_default().1);
        ids.reverse();
        format!("{}/", ids.join("/"))
    }

    pub(super) fn depth_of(&self, parent: &str) -> usize {
        let mut d = 0;
        let mut cur = parent;
        while let Some(ou) = self.ous.get(cur) {
            d += 1;
            cur = &ou.parent;
        }
        d
    }

    pub(super) fn attached_count(&self, target: &str, ty: PolicyType) -> usize {
        self.policies
            .values()
            .filter(|p| p.info.policy_type == ty && p.targets.contains(target))
            .count()
    }

    /// AWS attaches the type's default policy to every new OU and account.
    pub(super) fn attach_defaults(&mut self, target: &str) {
        for (ty, id) in [
            (PolicyType::ServiceControlPolicy, FULL_ACCESS_ID),
            (PolicyType::ResourceControlPolicy, RCP_FULL_ACCESS_ID),
        ] {
            if self.root.enabled_policy_types.contains(&ty) {
                if let Some(p) = self.policies.get_mut(id) {
                    p.targets.insert(target.to_owned());
                }
            }
        }
    }

    /// Every root, OU and account.
    pub(super) fn all_targets(&self) -> Vec<String> {
        std::iter::once(self.root.id.clone())
            .chain(self.ous.keys().cloned())
            .chain(self.accounts.keys().cloned())
            .collect()
    }
}

impl FakeOrg {
    pub(super) fn check_document(&self, ty: PolicyType, content: &str) -> Result<()> {
        let lim = self.limits.for_type(ty);
        let v: serde_json::Value = serde_json::from_str(content)
            .map_err(|e| Error::MalformedPolicyDocument(format!("The provided policy document does not meet the requirements of the specified policy type: {e}")))?;
        let Some(obj) = v.as_object() else {
            return Err(Error::MalformedPolicyDocument(
                "The policy document must be a JSON object".into(),
            ));
        };
        if !ty.is_authorization() {
            // Management policies use the inheritance operators, not statements.
        } else if !obj.contains_key("Statement") {
            return Err(Error::MalformedPolicyDocument(
                "The policy document must contain a Statement".into(),
            ));
        }
        if ty == PolicyType::ServiceControlPolicy && content.contains("\"Principal\"") {
            return Err(Error::MalformedPolicyDocument(
                "Principal is not supported in service control policies".into(),
            ));
        }
        if content.len() > lim.max_document_chars.value {
            return Err(constraint(
                "POLICY_CONTENT_LIMIT_EXCEEDED",
                format!(
                    "policy content is {} characters; the limit is {}",
                    content.len(),
                    lim.max_document_chars.value
                ),
            ));
        }
        Ok(())
    }

    pub(super) fn check_description(&self, ty: PolicyType, description: &str) -> Result<()> {
        let max = self.limits.for_type(ty).max_description_chars.value;
        if description.chars().count() > max {
            return Err(Error::InvalidInput {
                reason: "MAX_LENGTH_EXCEEDED".into(),
                message: format!("description longer than {max} characters"),
            });
        }
        Ok(())
    }
}
