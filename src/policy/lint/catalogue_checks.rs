//! The checks only the IAM catalogue (`policy::iam`) makes possible: actions that do not
//! exist, wildcards that match nothing, condition keys the statement's actions never carry,
//! RCP statements on services RCPs do not cover, and which global services a region lock
//! denies.

use serde_json::{Map, Value};

use super::{finding, Finding, EMPTY_WILDCARD, RCP_SERVICE, UNKNOWN_ACTION, UNSUPPORTED_KEY};
use crate::model::PolicyType;
use crate::policy::eval::glob;
use crate::policy::iam::{catalogue, Action, Service};

/// Services whose actions a region lock must leave alone (they answer in us-east-1).
const CORE_GLOBAL: &[&str] = &["iam", "sts", "organizations"];

fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The global key closest to a misspelt one (families shown as `aws:PrincipalTag/*`).
pub fn closest_global_key(key: &str) -> Option<&'static str> {
    let k = key.to_ascii_lowercase();
    catalogue()
        .globals
        .iter()
        .filter(|g| g.name.starts_with("aws:"))
        .map(|g| {
            let stem = g.name.trim_end_matches('*').to_ascii_lowercase();
            let probe = if stem.ends_with('/') {
                k.split_inclusive('/').next().unwrap_or(&k).to_owned()
            } else {
                k.clone()
            };
            (edit_distance(&probe, &stem), g.name)
        })
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, g)| g)
}

/// The core global services a Deny with these actions covers: with `Action`, those with an
/// action some pattern matches; with `NotAction`, those no pattern names (case-insensitive).
pub fn global_services_denied(acts: &[String], not_action: bool) -> Vec<&'static str> {
    CORE_GLOBAL
        .iter()
        .copied()
        .filter(|svc| {
            let prefix = format!("{svc}:");
            let names = |a: &String| {
                let a = a.to_ascii_lowercase();
                a == "*"
                    || a.starts_with(&prefix)
                    || (a.contains(['*', '?']) && {
                        catalogue().service(svc).is_some_and(|s| {
                            s.actions.iter().any(|x| {
                                glob(&a, &format!("{svc}:{}", x.name.to_ascii_lowercase()))
                            })
                        })
                    })
            };
            if not_action {
                !acts
                    .iter()
                    .any(|a| a.to_ascii_lowercase().starts_with(&prefix))
            } else {
                acts.iter().any(names)
            }
        })
        .collect()
}

/// Lints a statement against the catalogue.
pub fn check(
    m: &Map<String, Value>,
    acts: &[String],
    not_action: bool,
    ty: PolicyType,
    st: Option<&str>,
    out: &mut Vec<Finding>,
) {
    let cat = catalogue();
    // The catalogue actions each pattern names; `None` once the set is unknown (`*`, a
    // wildcard service, an unknown service, NotAction).
    let mut named: Option<Vec<(&Service, &Action)>> = (!not_action).then(Vec::new);
    for a in acts {
        let Some((svc, act)) = a.split_once(':') else {
            named = None;
            continue;
        };
        let service = (!svc.contains(['*', '?']))
            .then(|| cat.service(svc))
            .flatten();
        let Some(service) = service else {
            named = None;
            continue;
        };
        if ty == PolicyType::ResourceControlPolicy && !cat.rcp_covers(service.prefix) {
            out.push(finding(
                RCP_SERVICE,
                st,
                format!(
                    "`{a}`: RCPs do not cover `{}` (catalogue of {})",
                    service.prefix,
                    cat.updated()
                ),
            ));
        }
        let hits: Vec<&Action> = if act.contains(['*', '?']) {
            service.matching(act).collect()
        } else {
            service.action(act).into_iter().collect()
        };
        if hits.is_empty() {
            let (rule, what) = if act.contains(['*', '?']) {
                (EMPTY_WILDCARD, "matches no action of")
            } else {
                (UNKNOWN_ACTION, "is not an action of")
            };
            out.push(finding(
                rule,
                st,
                format!(
                    "`{a}` {what} `{}` (catalogue of {})",
                    service.prefix,
                    cat.updated()
                ),
            ));
        }
        if let Some(n) = named.as_mut() {
            n.extend(hits.into_iter().map(|h| (service, h)));
        }
    }
    let Some(named) = named.filter(|n| !n.is_empty()) else {
        return;
    };
    for key in condition_keys(m) {
        if cat.global_key(&key).is_some() || key.to_ascii_lowercase().starts_with("aws:") {
            continue;
        }
        let prefix = key.split(':').next().unwrap_or_default();
        if cat.service(prefix).is_none() {
            continue;
        }
        if !named.iter().any(|(s, a)| s.supports_key(a, &key)) {
            out.push(finding(
                UNSUPPORTED_KEY,
                st,
                format!("none of the statement's actions supports the condition key `{key}`, so their requests never carry it"),
            ));
        }
    }
}

fn condition_keys(m: &Map<String, Value>) -> Vec<String> {
    let mut keys: Vec<String> = m
        .get("Condition")
        .and_then(Value::as_object)
        .map(|ops| {
            ops.values()
                .filter_map(Value::as_object)
                .flat_map(|k| k.keys().cloned())
                .collect()
        })
        .unwrap_or_default();
    keys.sort();
    keys.dedup();
    keys
}
