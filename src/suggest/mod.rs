//! `guardrail suggest service-allowlist` (docs/suggest.md): from IAM's organizations access
//! report of an OU ([`AccessReport`], read by `live::access_report`), the `service-allowlist`
//! guardrail instance that allows exactly the services the OU's accounts used in a window,
//! with the services the current allow-list allows but nobody used kept as comments.
//!
//! `current.rs` finds the allow-list already on the OU in the config; `toml.rs` writes the
//! instance as a ready-to-paste `[guardrails.NAME]` table.
//!
//! Architecture invariant: pure. No AWS, no `live`, no clock (the window ends when the report
//! completed), no file system.

mod current;
mod toml;

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;

use crate::model::{AccessDetail, AccessReport, OuPath};
use crate::policy::template::{self, ParamValue};

pub use current::{current_allowlist, Current};
pub use toml::render;

/// The template this command writes instances of.
pub const TEMPLATE: &str = "service-allowlist";

/// One entry the suggestion keeps in `allowed_services`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    /// As it goes into the list: the current list's entry, or `NAMESPACE:*`.
    pub pattern: String,
    /// The last use of its service in the window, and where.
    pub last_used: Option<OffsetDateTime>,
    pub region: Option<String>,
    pub principals: u32,
    /// Not on the current list (used while something else allowed it).
    pub added: bool,
}

/// An entry of the current list whose service nobody used in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unused {
    pub pattern: String,
    /// Its last use before the window, if IAM tracked one.
    pub last_used: Option<OffsetDateTime>,
}

/// The suggested instance and what it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The instance's name: the current allow-list's, or `service-allowlist-<ou>`.
    pub name: String,
    pub ou: OuPath,
    pub entity_path: String,
    /// The window: `days` days up to the report's completion.
    pub since: OffsetDateTime,
    pub until: OffsetDateTime,
    pub days: u32,
    pub kept: Vec<Kept>,
    pub unused: Vec<Unused>,
    /// Services used in the window that `always_allowed` already covers.
    pub always: Vec<String>,
    /// The current instance's own `always_allowed`, carried over.
    pub always_allowed: Option<Vec<String>>,
    /// Whether the instance is already attached to the OU (a current allow-list was found).
    pub attached: bool,
    /// Services the report lists that nobody used in the window (no current list: these are
    /// what the SCPs allow today).
    pub not_used_count: usize,
}

/// The namespace an allow-list entry belongs to (`s3:Get*` → `s3`), lower-cased as IAM's
/// prefixes are.
pub fn namespace_of(pattern: &str) -> String {
    pattern
        .split_once(':')
        .map_or(pattern, |(ns, _)| ns)
        .to_ascii_lowercase()
}

/// The template's default `always_allowed`.
fn template_always_allowed() -> Vec<String> {
    let parsed = template::builtin(TEMPLATE).and_then(|t| template::parse(TEMPLATE, t).ok());
    match parsed
        .as_ref()
        .and_then(|t| t.parameters.get("always_allowed"))
        .and_then(|p| p.default.as_ref())
    {
        Some(ParamValue::List(l)) => l.clone(),
        _ => Vec::new(),
    }
}

/// Whether `always` allows a whole namespace (`ns:*` or `*`).
fn covers_namespace(always: &[String], ns: &str) -> bool {
    always
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(&format!("{ns}:*")))
}

/// `service-allowlist-workloads-prod` for `Workloads/Prod` (a guardrail name: letters,
/// digits, `-` and `_`).
pub fn default_name(ou: &OuPath) -> String {
    let slug: String = if ou.is_root() {
        "root".into()
    } else {
        ou.segments()
            .join("-")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect()
    };
    format!("{TEMPLATE}-{slug}")
}

/// The services used in the window, by namespace.
fn used_in(report: &AccessReport, since: OffsetDateTime) -> BTreeMap<String, &AccessDetail> {
    report
        .details
        .iter()
        .filter(|d| {
            d.last_authenticated
                .is_some_and(|t| t >= since && t <= report.completed)
        })
        .map(|d| (d.service_namespace.to_ascii_lowercase(), d))
        .collect()
}

/// The suggestion for `ou` from its report, over the last `days` days.
pub fn service_allowlist(
    report: &AccessReport,
    ou: &OuPath,
    days: u32,
    current: Option<&Current>,
) -> Suggestion {
    let until = report.completed;
    let since = until - time::Duration::days(i64::from(days));
    let used = used_in(report, since);
    let always_allowed = current.and_then(|c| c.always_allowed.clone());
    let always_list = always_allowed
        .clone()
        .unwrap_or_else(template_always_allowed);
    let mut kept = Vec::new();
    let mut always = Vec::new();
    for (ns, d) in &used {
        if covers_namespace(&always_list, ns) {
            always.push(ns.clone());
            continue;
        }
        let on_list: Vec<&String> = current
            .map(|c| c.allowed_services.iter().filter(|p| namespace_of(p) == *ns))
            .into_iter()
            .flatten()
            .collect();
        let entry = |pattern: String, added: bool| Kept {
            pattern,
            last_used: d.last_authenticated,
            region: d.region.clone(),
            principals: d.total_authenticated_entities,
            added,
        };
        if on_list.is_empty() {
            kept.push(entry(format!("{ns}:*"), current.is_some()));
        } else {
            kept.extend(on_list.into_iter().map(|p| entry(p.clone(), false)));
        }
    }
    Suggestion {
        name: current.map_or_else(|| default_name(ou), |c| c.name.clone()),
        ou: ou.clone(),
        entity_path: report.entity_path.clone(),
        since,
        until,
        days,
        unused: unused(report, &used, current),
        kept,
        always,
        always_allowed,
        attached: current.is_some(),
        not_used_count: report.details.len() - used.len(),
    }
}

/// The current list's entries whose service nobody used in the window, each once.
fn unused(
    report: &AccessReport,
    used: &BTreeMap<String, &AccessDetail>,
    current: Option<&Current>,
) -> Vec<Unused> {
    let last: BTreeMap<String, OffsetDateTime> = report
        .details
        .iter()
        .filter_map(|d| {
            Some((
                d.service_namespace.to_ascii_lowercase(),
                d.last_authenticated?,
            ))
        })
        .collect();
    let mut seen = BTreeSet::new();
    current
        .map(|c| c.allowed_services.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|p| !used.contains_key(&namespace_of(p)) && seen.insert(p.as_str()))
        .map(|p| Unused {
            pattern: p.clone(),
            last_used: last.get(&namespace_of(p)).copied(),
        })
        .collect()
}
