//! The `service-allowlist` instance already attached to the OU, read from the config: its
//! name from the parsed [`Desired`], its parameters from the config's text (the parsed config
//! keeps only the expanded statements, where `allowed_services` and `always_allowed` are one
//! list).

use toml_edit::{DocumentMut, Item};

use super::TEMPLATE;
use crate::model::{Desired, OuPath};

/// The allow-list on the OU today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub name: String,
    pub allowed_services: Vec<String>,
    /// Its own `always_allowed`, when it overrides the template's.
    pub always_allowed: Option<Vec<String>>,
}

fn strings(item: Option<&Item>) -> Option<Vec<String>> {
    let array = item?.as_array()?;
    Some(
        array
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
    )
}

/// The first (by name) `service-allowlist` instance attached directly to `ou` (`[root]` for
/// the root path), with its parameters from `config_text`; `None` when there is none.
pub fn current_allowlist(desired: &Desired, config_text: &str, ou: &OuPath) -> Option<Current> {
    let attached = if ou.is_root() {
        &desired.root.guardrails
    } else {
        &desired.ous.get(ou)?.guardrails
    };
    let name = attached.iter().find(|n| {
        desired
            .guardrails
            .get(n.as_str())
            .is_some_and(|g| g.template == TEMPLATE)
    })?;
    let doc: DocumentMut = config_text.parse().ok()?;
    let table = doc.get("guardrails")?.get(name)?;
    Some(Current {
        name: name.clone(),
        allowed_services: strings(table.get("allowed_services")).unwrap_or_default(),
        always_allowed: strings(table.get("always_allowed")),
    })
}
