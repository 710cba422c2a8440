//! The SDK backend's tags on roots, OUs, accounts and policies: list, tag, untag.

use super::listing::Listing;
use super::{org, AwsBackend};
use crate::live::{Error, Result};

impl AwsBackend {
    pub(super) async fn sdk_list_tags_for_resource(
        &self,
        resource_id: &str,
    ) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        let pages = self
            .client
            .list_tags_for_resource()
            .resource_id(resource_id)
            .into_paginator()
            .send();
        let mut pages = Listing::new(pages, "ListTagsForResource");
        while let Some(page) = self.next_page(&mut pages).await {
            for t in page?.tags() {
                out.push((t.key().to_owned(), t.value().to_owned()));
            }
        }
        Ok(out)
    }

    pub(super) async fn sdk_tag_resource(
        &self,
        resource_id: &str,
        key: &str,
        value: &str,
    ) -> Result<()> {
        let tag = org::types::Tag::builder()
            .key(key)
            .value(value)
            .build()
            .map_err(|e| Error::InvalidInput {
                reason: "INPUT_REQUIRED".into(),
                message: e.to_string(),
            })?;
        let request = self.client.tag_resource().resource_id(resource_id);
        self.send("TagResource", request.tags(tag).send()).await?;
        Ok(())
    }

    pub(super) async fn sdk_untag_resource(&self, resource_id: &str, key: &str) -> Result<()> {
        let request = self.client.untag_resource().resource_id(resource_id);
        self.send("UntagResource", request.tag_keys(key).send())
            .await?;
        Ok(())
    }
}
