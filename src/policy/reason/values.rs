//! Readable values: the candidates tried before the automata (so a counterexample names
//! `s3:deletebucket` rather than the shortest string that happens to work), and the values
//! a counterexample gets for the keys no policy reads. Every candidate is checked against the
//! constraints before use, so nothing here decides an answer.

use super::formula::PRINCIPAL_ARN;
use super::Constants;

/// Common actions, tried after the policies' own literals.
const ACTIONS: &[&str] = &[
    "s3:getobject",
    "s3:putobject",
    "s3:deletebucket",
    "ec2:runinstances",
    "iam:createuser",
    "sts:assumerole",
    "kms:decrypt",
    "cloudtrail:stoplogging",
    "organizations:leaveorganization",
    "dynamodb:getitem",
    "lambda:invokefunction",
];

fn fill(p: &str, star: &str) -> String {
    p.replace('*', star).replace('?', "x")
}

/// Lower-case action candidates for these patterns.
pub fn action_candidates(patterns: &[&String]) -> Vec<String> {
    let mut out: Vec<String> = patterns
        .iter()
        .filter(|p| !p.contains(['*', '?']))
        .map(|p| (*p).clone())
        .collect();
    for p in patterns {
        // A service wildcard (`s3:*`) becomes a real action of that service when the
        // catalogue knows one.
        if let Some((svc, rest)) = p.split_once(':') {
            if let Some(s) = crate::policy::iam::catalogue().service(svc) {
                let hit = s.matching(rest).next();
                out.extend(hit.map(|a| format!("{svc}:{}", a.name.to_ascii_lowercase())));
            }
        }
        out.push(fill(p, "example"));
        out.push(fill(p, ""));
    }
    out.extend(ACTIONS.iter().map(|a| (*a).to_owned()));
    out
}

/// Resource candidates for these patterns.
pub fn resource_candidates(patterns: &[&String]) -> Vec<String> {
    let mut out = Vec::new();
    for p in patterns.iter().filter(|p| p.as_str() != "*") {
        out.push(fill(p, "example"));
        out.push(fill(p, ""));
    }
    out.push("arn:aws:s3:::example-bucket/example".to_owned());
    out.push("arn:aws:iam::111122223333:role/example".to_owned());
    out
}

/// Typical values of well-known keys, tried first.
pub fn key_examples(key: &str, k: &Constants) -> Vec<String> {
    let account = if k.account_id.is_empty() {
        "111122223333"
    } else {
        &k.account_id
    };
    let org = k.org_id.clone().unwrap_or_else(|| "o-exampleorgid".into());
    let v: Vec<String> = match key {
        PRINCIPAL_ARN => vec![format!("arn:aws:iam::{account}:role/example")],
        "aws:requestedregion" => vec!["us-east-1".into(), "eu-west-1".into()],
        "aws:principalaccount" | "aws:resourceaccount" => vec![account.to_owned()],
        "aws:principalorgid" | "aws:resourceorgid" => vec![org],
        "aws:principaltype" => vec!["AssumedRole".into()],
        "aws:securetransport" | "aws:multifactorauthpresent" => {
            vec!["true".into(), "false".into()]
        }
        _ => Vec::new(),
    };
    v
}

/// An action spelt as the catalogue spells it, when the catalogue knows it.
pub fn canonical_action(a: &str) -> String {
    let Some((svc, name)) = a.split_once(':') else {
        return a.to_owned();
    };
    let cat = crate::policy::iam::catalogue();
    match cat.service(svc).and_then(|s| s.action(name)) {
        Some(act) => format!("{svc}:{}", act.name),
        None => a.to_owned(),
    }
}
