//! The fake's tags on roots, OUs, accounts and policies: list, tag (no `aws:` keys, at most
//! the limit per resource), untag.

use super::{constraint, not_found, FakeOrg};
use crate::live::{Error, Result};

impl FakeOrg {
    pub(super) async fn serve_list_tags_for_resource(
        &self,
        resource_id: &str,
    ) -> Result<Vec<(String, String)>> {
        self.pace("ListTagsForResource").await?;
        let s = self.lock();
        if !s.is_target(resource_id) && !s.policies.contains_key(resource_id) {
            return Err(not_found("TargetNotFoundException", resource_id));
        }
        Ok(s.tags
            .get(resource_id)
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }

    pub(super) async fn serve_tag_resource(
        &self,
        resource_id: &str,
        key: &str,
        value: &str,
    ) -> Result<()> {
        self.pace("TagResource").await?;
        let mut s = self.lock();
        if !s.is_target(resource_id) && !s.policies.contains_key(resource_id) {
            return Err(not_found("TargetNotFoundException", resource_id));
        }
        if key.starts_with("aws:") {
            return Err(Error::InvalidInput {
                reason: "INVALID_SYSTEM_TAGS_PARAMETER".into(),
                message: "aws: tags are reserved".into(),
            });
        }
        let tags = s.tags.entry(resource_id.to_owned()).or_default();
        if !tags.contains_key(key) && tags.len() >= self.limits.org.max_tags_per_resource.value {
            return Err(constraint("MAX_TAG_LIMIT_EXCEEDED", "too many tags"));
        }
        tags.insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    pub(super) async fn serve_untag_resource(&self, resource_id: &str, key: &str) -> Result<()> {
        self.pace("UntagResource").await?;
        let mut s = self.lock();
        if !s.is_target(resource_id) && !s.policies.contains_key(resource_id) {
            return Err(not_found("TargetNotFoundException", resource_id));
        }
        if let Some(t) = s.tags.get_mut(resource_id) {
            t.remove(key);
        }
        Ok(())
    }
}
