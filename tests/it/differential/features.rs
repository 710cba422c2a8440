//! What a differential case exercises: the features the test must cover (every family the
//! issue lists, each with more than one outcome among the random cases) and the signatures
//! of the known divergences.

use std::collections::BTreeSet;

use serde_json::Value;

/// Every family the random cases must exercise.
pub(super) const FAMILIES: &[&str] = &[
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "action wildcard",
    "resource wildcard",
    "policy variable",
    "String",
    "Numeric",
    "Date",
    "Bool",
    "Binary",
    "IpAddress",
    "Arn",
    "Null",
    "IfExists",
    "ForAnyValue",
    "ForAllValues",
    "request IPv4",
    "request IPv6",
    "request date",
    "request multivalued",
    "principal User",
    "principal AssumedRole",
    "principal FederatedUser",
    "principal Account",
    "RCP layer",
];

/// The statements of every policy of both layers.
fn statements(case: &Value) -> impl Iterator<Item = &Value> {
    ["scps", "rcps"].into_iter().flat_map(move |layer| {
        case[layer]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|l| l.as_array().into_iter().flatten())
            .flat_map(|p| p["Statement"].as_array().into_iter().flatten())
    })
}

fn texts(v: &Value) -> Vec<&str> {
    match v {
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        other => other.as_str().into_iter().collect(),
    }
}

/// The condition-operator family of an operator (`ForAnyValue:StringLikeIfExists` is
/// `String`).
fn family(op: &str) -> &'static str {
    let base = op.rsplit(':').next().unwrap_or(op);
    let base = base.trim_end_matches("IfExists").trim_start_matches("Not");
    [
        "String",
        "Numeric",
        "Date",
        "Bool",
        "Binary",
        "IpAddress",
        "Arn",
        "Null",
    ]
    .into_iter()
    .find(|f| base.starts_with(f))
    .unwrap_or("unknown")
}

/// The families a case exercises (see [`FAMILIES`]).
pub(super) fn features(case: &Value) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for st in statements(case) {
        for (key, name) in [
            ("Action", "Action"),
            ("NotAction", "NotAction"),
            ("Resource", "Resource"),
            ("NotResource", "NotResource"),
        ] {
            let Some(v) = st.get(key) else { continue };
            out.insert(name);
            let wild = texts(v).iter().any(|p| *p != "*" && p.contains(['*', '?']));
            if wild {
                out.insert(if key.contains("Action") {
                    "action wildcard"
                } else {
                    "resource wildcard"
                });
            }
            if texts(v).iter().any(|p| p.contains("${")) {
                out.insert("policy variable");
            }
        }
    }
    for (op, _, vals) in conditions(case) {
        out.insert(family(&op));
        if op.ends_with("IfExists") {
            out.insert("IfExists");
        }
        for q in ["ForAnyValue", "ForAllValues"] {
            if op.starts_with(q) {
                out.insert(q);
            }
        }
        if vals.iter().any(|v| v.contains("${")) {
            out.insert("policy variable");
        }
    }
    let ctx = &case["context"];
    if let Some(ip) = ctx["aws:SourceIp"].as_str() {
        out.insert(if ip.contains(':') {
            "request IPv6"
        } else {
            "request IPv4"
        });
    }
    if ctx.get("aws:CurrentTime").is_some() {
        out.insert("request date");
    }
    if ctx["aws:TagKeys"].as_array().is_some_and(|a| a.len() > 1) {
        out.insert("request multivalued");
    }
    let p = case["principal"].as_str().unwrap_or_default();
    out.insert(if p.ends_with(":root") {
        "principal Account"
    } else if p.contains(":user/") {
        "principal User"
    } else if p.contains(":federated-user/") {
        "principal FederatedUser"
    } else {
        "principal AssumedRole"
    });
    if case["rcps"].as_array().is_some_and(|r| !r.is_empty()) {
        out.insert("RCP layer");
    }
    out
}

/// The policy values of every condition in the case's policies, by (operator, key).
fn conditions(case: &Value) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for st in statements(case) {
        for (op, keys) in st["Condition"].as_object().into_iter().flatten() {
            for (key, v) in keys.as_object().into_iter().flatten() {
                let vals = texts(v).into_iter().map(str::to_owned).collect();
                out.push((op.clone(), key.clone(), vals));
            }
        }
    }
    out
}

/// The stable signatures of a case: the features that decide a known divergence, computed
/// from the policies and the request (never from the seed).
pub(super) fn signatures(case: &Value) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    let ctx = &case["context"];
    let ipv4 = ctx["aws:SourceIp"]
        .as_str()
        .is_some_and(|ip| ip.contains('.'));
    let has_time = ctx.get("aws:CurrentTime").is_some();
    for (op, key, vals) in conditions(case) {
        if op.contains("IpAddress")
            && key == "aws:SourceIp"
            && ipv4
            && vals.iter().any(|v| v == "0.0.0.0/0")
        {
            out.insert("ip-cidr-0.0.0.0/0");
        }
        if op.contains("Date")
            && has_time
            && vals
                .iter()
                .any(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        {
            out.insert("date-epoch-seconds");
        }
    }
    out
}
