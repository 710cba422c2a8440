//! `[policies.NAME]`: hand-written policies (type, name, pinned id, description, document and
//! their AWS limits), and the `policies = [...]` lists of targets that name them.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::PathBuf;

use toml_edit::TableLike;

use super::error::ErrorKind;
use super::parse::{item_span, join, key_span, seg, Walker};
use crate::model::{Desired, DesiredPolicy, PolicyType};
use crate::policy::limits::{LimitsTable, PolicyTypeLimits};
use crate::policy::{doc, marker};

const POLICY_KEYS: &[&str] = &["description", "document", "type", "id"];

/// What AWS attaches to every new root, OU and account: FullAWSAccess.
pub(super) fn aws_default(limits: &LimitsTable) -> BTreeSet<String> {
    limits
        .scp
        .aws_managed_policy
        .map(str::to_owned)
        .into_iter()
        .collect()
}

impl Walker<'_> {
    /// `[policies.NAME]`, each into `d.policies`.
    pub(super) fn policies(&mut self, top: &dyn TableLike, d: &mut Desired) {
        let Some(pols) = self.table(top, "policies", "") else {
            return;
        };
        for (name, item) in pols.iter() {
            let path = join("policies", name);
            let span = key_span(pols, name);
            let Some(t) = item.as_table_like() else {
                self.err(
                    ErrorKind::InvalidValue,
                    item_span(item),
                    &path,
                    "a policy must be a table",
                );
                continue;
            };
            if let Some(p) = self.policy(name, t, span, &path, &d.limits) {
                d.policies.insert(name.to_owned(), p);
            }
        }
    }

    fn policy(
        &mut self,
        name: &str,
        t: &dyn TableLike,
        span: Option<Range<usize>>,
        path: &str,
        limits: &LimitsTable,
    ) -> Option<DesiredPolicy> {
        self.check_keys(t, POLICY_KEYS, path);
        let policy_type = self.policy_type(t, path)?;
        let lim = limits.for_type(policy_type);
        self.check_policy_name(name, span.clone(), path, limits, lim);
        let pinned_id = self.pinned_policy_id(t, path);
        let description = self.policy_description(t, path, lim, pinned_id.is_some());
        let (doc_path, doc_span) = self.required_string(t, span, "document", path)?;
        let doc_key = join(path, "document");
        let document = self.json_document(&doc_path, doc_span.clone(), &doc_key)?;
        let size = doc::sent_size(&document);
        if size > lim.max_document_chars.value {
            self.err(
                ErrorKind::Limit,
                doc_span,
                &doc_key,
                format!(
                    "`{doc_path}` is {size} characters minified; the {} limit is {} ({}), {} over",
                    policy_type,
                    lim.max_document_chars.value,
                    lim.max_document_chars.source,
                    size - lim.max_document_chars.value
                ),
            );
        }
        Some(DesiredPolicy {
            guardrails: Vec::new(),
            pinned_id,
            name: name.to_owned(),
            policy_type,
            description,
            document,
            source: PathBuf::from(doc_path),
        })
    }

    /// The policy's `type`, SCP without one; `None` (reported) when unknown.
    fn policy_type(&mut self, t: &dyn TableLike, path: &str) -> Option<PolicyType> {
        let Some((s, sp)) = self.string(t, "type", path) else {
            return Some(PolicyType::ServiceControlPolicy);
        };
        let ty = PolicyType::from_config(&s);
        if ty.is_none() {
            self.err(
                ErrorKind::InvalidValue,
                sp,
                &join(path, "type"),
                format!("unknown policy type `{s}`; use \"scp\", \"rcp\" or an Organizations policy type such as \"TAG_POLICY\""),
            );
        }
        ty
    }

    /// AWS: 1 to the limit's characters, printable ASCII, spaces included; and not the name
    /// of an AWS-managed policy.
    fn check_policy_name(
        &mut self,
        name: &str,
        span: Option<Range<usize>>,
        path: &str,
        limits: &LimitsTable,
        lim: &PolicyTypeLimits,
    ) {
        if name.is_empty()
            || name.chars().count() > lim.max_name_chars.value
            || !name.chars().all(|c| c == ' ' || c.is_ascii_graphic())
        {
            self.err(
                ErrorKind::InvalidValue,
                span.clone(),
                path,
                format!(
                    "policy name `{name}` must be 1-{} printable ASCII characters",
                    lim.max_name_chars.value
                ),
            );
        }
        if limits.aws_managed_type(name).is_some() {
            self.err(
                ErrorKind::InvalidValue,
                span,
                path,
                format!(
                    "`{name}` is an AWS-managed policy; reference it by name, do not declare it"
                ),
            );
        }
    }

    /// The policy's `id`, when it adopts a live policy; a malformed id is reported and kept.
    fn pinned_policy_id(&mut self, t: &dyn TableLike, path: &str) -> Option<String> {
        let (id, sp) = self.string(t, "id", path)?;
        if !is_policy_id(&id) {
            self.err(
                ErrorKind::InvalidValue,
                sp,
                &join(path, "id"),
                format!(
                    "`{id}` is not a policy id (p- followed by 8 or more letters, digits or _)"
                ),
            );
        }
        Some(id)
    }

    /// The policy's `description`, checked against the room the ownership marker leaves.
    fn policy_description(
        &mut self,
        t: &dyn TableLike,
        path: &str,
        lim: &PolicyTypeLimits,
        pinned: bool,
    ) -> String {
        let Some((d, sp)) = self.string(t, "description", path) else {
            return String::new();
        };
        // A policy adopted by id keeps its description as it is when there is no room
        // for the marker; every other policy carries the marker.
        let room = if pinned {
            lim.max_description_chars.value
        } else {
            marker::room(lim.max_description_chars.value, &self.environment)
        };
        if d.chars().count() > room {
            self.err(
                ErrorKind::Limit,
                sp,
                &join(path, "description"),
                format!(
                    "description is {} characters; at most {room} fit beside guardrail's ownership marker (limit {}, {})",
                    d.chars().count(),
                    lim.max_description_chars.value,
                    lim.max_description_chars.source
                ),
            );
        }
        d
    }

    /// The `policies = [...]` of a target, each checked against the declared and AWS-managed
    /// policies. Without the key, the target carries what AWS gives every new root, OU and
    /// account: FullAWSAccess (an empty list is what says "no SCP").
    pub(super) fn policy_refs(
        &mut self,
        t: &dyn TableLike,
        path: &str,
        d: &Desired,
    ) -> BTreeSet<String> {
        if t.get("policies").is_none() {
            return aws_default(&d.limits);
        }
        self.name_refs(
            t,
            path,
            ("policies", "policy"),
            &|n| d.policies.contains_key(n) || d.limits.aws_managed_type(n).is_some(),
            &|n| format!("declare it under [policies.{}] or use an AWS-managed policy such as FullAWSAccess", seg(n)),
        )
    }
}

/// Whether `id` has the shape of an Organizations policy id (`p-` and 8 or more characters).
pub(super) fn is_policy_id(id: &str) -> bool {
    id.starts_with("p-")
        && id.len() >= 10
        && id[2..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
}
