//! The walk over a config's top-level table, section by section in the order that lets each
//! see what it needs (`[policies]` and `[guardrails]` before the targets that name them; the
//! compile, limits and lint steps last), and the sections that stand alone: `documents_root`,
//! `[organization]` and `[limits]`.

use toml_edit::TableLike;

use super::error::ErrorKind;
use super::parse::{is_account_id, item_span, join, key_span, Walker};
use crate::model::Desired;
use crate::policy::{limits, limits::LimitsTable};

const TOP_KEYS: &[&str] = &[
    "documents_root",
    "rollout",
    "boundaries",
    "guardrails",
    "assert",
    "organization",
    "limits",
    "policies",
    "root",
    "ous",
    "accounts",
];
const ORG_KEYS: &[&str] = &[
    "management_account",
    "deployer",
    "break_glass",
    "member_role",
    "guardrails_dir",
    "ignore_unmanaged",
    "owned_policy_ids",
    "disable_policy_types",
];

impl Walker<'_> {
    pub(super) fn walk(&mut self, top: &toml_edit::Table) -> Desired {
        self.check_keys(top, TOP_KEYS, "");
        self.documents_root(top);
        let mut d = Desired {
            limits: self.limits(top),
            environment: self.environment.clone(),
            ..Desired::default()
        };
        self.organization(top, &mut d);
        self.policies(top, &mut d);
        // [guardrails.NAME]
        self.guardrail_instances(top, &mut d);
        self.root(top, &mut d);
        self.ous(top, &mut d);
        self.accounts(top, &mut d);

        // [boundaries.NAME] (adds its require/protect guardrails to the covered targets)
        self.boundaries(top, &mut d);

        // [rollout] and `stage`: canary guardrails only where they reach the canary OUs.
        self.rollout(top, &mut d);

        // [[assert]]
        self.assertions(top, &mut d);

        // Compile the guardrails into policies, then lint every document.
        // Limits and lint run whatever else failed: every finding is reported at once.
        if self.sink.errors.is_empty() {
            self.compile(top, &mut d);
        }
        self.attachment_counts(top, &d);
        self.lint(top, &mut d);
        self.disabled_types(top, &mut d);
        d
    }

    /// The top-level `documents_root`: one more directory documents may lie in.
    fn documents_root(&mut self, top: &dyn TableLike) {
        if let Some((root, sp)) = self.string(top, "documents_root", "") {
            if root.is_empty() {
                self.err(
                    ErrorKind::InvalidValue,
                    sp,
                    "documents_root",
                    "`documents_root` must name a directory",
                );
            } else {
                self.documents_root = Some(root);
            }
        }
    }

    /// `[organization]`, required.
    fn organization(&mut self, top: &dyn TableLike, d: &mut Desired) {
        let Some(org) = self.table(top, "organization", "") else {
            if top.get("organization").is_none() {
                self.err(
                    ErrorKind::MissingKey,
                    Some(0..0),
                    "organization",
                    "missing required table [organization]",
                );
            }
            return;
        };
        let span = key_span(top, "organization");
        self.check_keys(org, ORG_KEYS, "organization");
        if let Some((id, sp)) =
            self.required_string(org, span, "management_account", "organization")
        {
            if !is_account_id(&id) {
                self.err(
                    ErrorKind::InvalidValue,
                    sp,
                    "organization.management_account",
                    format!("`{id}` is not a 12-digit account id"),
                );
            }
            d.management_account = id;
        }
        if let Some((arn, sp)) = self.string(org, "deployer", "organization") {
            if !arn.starts_with("arn:") {
                self.err(
                    ErrorKind::InvalidValue,
                    sp,
                    "organization.deployer",
                    format!("`{arn}` is not an ARN"),
                );
            }
            d.deployer = Some(arn);
        }
        d.break_glass = self
            .string_list(org, "break_glass", "organization")
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        d.member_role = self
            .string(org, "member_role", "organization")
            .map(|(s, _)| s)
            .unwrap_or_else(|| "OrganizationAccountAccessRole".to_owned());
        d.ignore_unmanaged = self
            .string_list(org, "ignore_unmanaged", "organization")
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        for (id, sp) in self.string_list(org, "owned_policy_ids", "organization") {
            if !super::policies::is_policy_id(&id) {
                self.err(
                    ErrorKind::InvalidValue,
                    sp,
                    "organization.owned_policy_ids",
                    format!(
                        "`{id}` is not a policy id (p- followed by 8 or more letters, digits or _)"
                    ),
                );
            }
            d.owned_policy_ids.insert(id);
        }
        if let Some((dir, _)) = self.string(org, "guardrails_dir", "organization") {
            self.guardrails_dir = dir;
        }
    }

    /// `[limits]`: the limits table, its defaults overridden where the config says.
    fn limits(&mut self, top: &dyn TableLike) -> LimitsTable {
        let mut table = LimitsTable::default();
        let Some(lims) = self.table(top, "limits", "") else {
            return table;
        };
        for (section, item) in lims.iter() {
            let path = join("limits", section);
            let Some(t) = item.as_table_like() else {
                self.err(
                    ErrorKind::InvalidValue,
                    item_span(item),
                    &path,
                    "must be a table",
                );
                continue;
            };
            let known: &[&str] = match section {
                "scp" | "rcp" => limits::POLICY_LIMIT_KEYS,
                "org" => limits::ORG_LIMIT_KEYS,
                _ => {
                    self.err_help(
                        ErrorKind::UnknownKey,
                        key_span(lims, section),
                        &path,
                        format!("unknown key `{section}`"),
                        "known keys here: scp, rcp, org",
                    );
                    continue;
                }
            };
            self.check_keys(t, known, &path);
            for (k, v) in t.iter() {
                if !known.contains(&k) {
                    continue;
                }
                let Some(n) = v
                    .as_integer()
                    .filter(|n| *n > 0)
                    .and_then(|n| usize::try_from(n).ok())
                else {
                    self.err(
                        ErrorKind::InvalidValue,
                        item_span(v),
                        &join(&path, k),
                        format!("`{k}` must be a positive integer"),
                    );
                    continue;
                };
                let ok = match section {
                    "scp" => table.scp.set(k, n),
                    "rcp" => table.rcp.set(k, n),
                    _ => table.org.set(k, n),
                };
                debug_assert!(ok, "key {k} was checked against the known list");
            }
        }
        table
    }
}
