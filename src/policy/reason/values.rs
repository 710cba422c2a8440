//! Readable values: the candidates tried before the automata (so a counterexample names
//! `s3:deletebucket` rather than the shortest string that happens to work), the values
//! a counterexample gets for the keys no policy reads, and what `concrete` draws on (real
//! regions, the catalogue's actions, catalogue casing). Every candidate is checked against
//! the constraints before use, so nothing here decides an answer.

use std::sync::OnceLock;

use super::formula::PRINCIPAL_ARN;
use super::Constants;
use crate::policy::iam;

/// The regions data (`scripts/gen-regions` writes it from botocore's partitions data).
const REGIONS_DATA: &str = include_str!("../../../data/aws/regions.tsv");

/// The partition whose regions a counterexample names (its principal ARNs are `arn:aws:`).
const PARTITION: &str = "aws";

/// Regions tried first, in this order: the ones a request names when nothing constrains it.
const PREFERRED: &[&str] = &["us-east-1", "eu-west-1"];

/// AWS's commercial regions (`data/aws/regions.tsv`, partition `aws`), the preferred ones
/// first, then the data's order: the regions a counterexample names.
pub fn regions() -> &'static [&'static str] {
    static REGIONS: OnceLock<Vec<&'static str>> = OnceLock::new();
    REGIONS.get_or_init(|| {
        let mut all: Vec<&'static str> = REGIONS_DATA
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let mut cols = l.split('\t');
                (cols.next() == Some(PARTITION))
                    .then(|| cols.next())
                    .flatten()
            })
            .collect();
        all.sort_by_key(|r| {
            PREFERRED
                .iter()
                .position(|p| p == r)
                .unwrap_or(PREFERRED.len())
        });
        all
    })
}

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

/// Every catalogue action as `(service:name lower-cased, service:Name)`, the common ones
/// first, built once.
pub fn catalogue_actions() -> &'static [(String, String)] {
    static ALL: OnceLock<Vec<(String, String)>> = OnceLock::new();
    ALL.get_or_init(|| {
        let all = iam::catalogue().services().iter().flat_map(|s| {
            s.actions
                .iter()
                .map(move |a| format!("{}:{}", s.prefix, a.name))
        });
        let mut out: Vec<(String, String)> = ACTIONS
            .iter()
            .map(|a| canonical_action(a))
            .chain(all)
            .map(|a| (a.to_ascii_lowercase(), a))
            .collect();
        let mut seen = std::collections::HashSet::new();
        out.retain(|(lower, _)| seen.insert(lower.clone()));
        out
    })
}

/// The first entries of [`catalogue_actions`]: the common actions.
pub fn common_actions() -> &'static [(String, String)] {
    let all = catalogue_actions();
    &all[..ACTIONS.len().min(all.len())]
}

/// An action pattern in catalogue casing (`s3:get*` becomes `s3:Get*`): a known action as
/// the catalogue spells it, a wildcard pattern cased like the first catalogue action it
/// matches; anything else as it is.
pub fn catalogue_case(p: &str) -> String {
    let Some((svc, name)) = p.split_once(':') else {
        return p.to_owned();
    };
    let Some(s) = iam::catalogue().service(svc) else {
        return p.to_owned();
    };
    s.matching(name)
        .find_map(|a| recase(name, a.name))
        .map_or_else(|| p.to_owned(), |n| format!("{}:{n}", s.prefix))
}

/// `pattern` with each literal character in the case of the character of `text` it matches
/// (case-insensitively; `*` and `?` as IAM reads them), or `None` when it does not match.
fn recase(pattern: &str, text: &str) -> Option<String> {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (n, k) = (p.len(), t.len());
    // m[i][j]: p[i..] matches t[j..].
    let mut m = vec![vec![false; k + 1]; n + 1];
    m[n][k] = true;
    for i in (0..n).rev() {
        for j in (0..=k).rev() {
            m[i][j] = match p[i] {
                '*' => m[i + 1][j] || (j < k && m[i][j + 1]),
                '?' => j < k && m[i + 1][j + 1],
                c => j < k && t[j].eq_ignore_ascii_case(&c) && m[i + 1][j + 1],
            };
        }
    }
    if !m[0][0] {
        return None;
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < n {
        match p[i] {
            '*' if m[i + 1][j] => {
                out.push('*');
                i += 1;
            }
            '*' => j += 1,
            c => {
                out.push(if c == '?' { c } else { t[j] });
                i += 1;
                j += 1;
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_take_the_catalogues_casing() {
        assert_eq!(catalogue_case("s3:deletebucket"), "s3:DeleteBucket");
        assert_eq!(catalogue_case("s3:get*"), "s3:Get*");
        assert_eq!(catalogue_case("s3:*bucket?olicy"), "s3:*Bucket?olicy");
        assert_eq!(catalogue_case("s3:*"), "s3:*");
        // Unknown services and actions, and patterns without a service, stay as they are.
        assert_eq!(catalogue_case("nosuch:thing"), "nosuch:thing");
        assert_eq!(catalogue_case("s3:nosuchaction"), "s3:nosuchaction");
        assert_eq!(catalogue_case("*"), "*");
    }

    #[test]
    fn the_catalogue_list_is_cased_and_unique() {
        let all = catalogue_actions();
        assert!(all.len() > 10_000, "{}", all.len());
        assert_eq!(all[0].1, "s3:GetObject");
        let mut lower: Vec<&String> = all.iter().map(|(l, _)| l).collect();
        lower.sort();
        lower.dedup();
        assert_eq!(lower.len(), all.len());
    }

    /// The regions come from the generated data: its header names the source and the date,
    /// every row of the `aws` partition is a region name, the preferred ones lead.
    #[test]
    fn the_regions_come_from_the_generated_data() {
        let header: Vec<&str> = REGIONS_DATA
            .lines()
            .take_while(|l| l.starts_with('#'))
            .collect();
        assert!(
            header.iter().any(|l| l.starts_with("# Source: botocore ")),
            "{header:?}"
        );
        let date = header
            .iter()
            .find_map(|l| l.strip_prefix("# Generated: "))
            .expect("a date stamp");
        assert!(
            time::Date::parse(date, &time::format_description::well_known::Iso8601::DATE).is_ok(),
            "{date}"
        );
        let all = regions();
        assert_eq!(&all[..PREFERRED.len()], PREFERRED);
        assert!(all.len() >= 30, "{all:?}");
        assert!(
            all.iter()
                .all(|r| r.split('-').count() == 3 && r.ends_with(|c: char| c.is_ascii_digit())),
            "{all:?}"
        );
        for r in ["eu-central-1", "ap-southeast-2", "sa-east-1"] {
            assert!(all.contains(&r), "{r}");
        }
        assert!(
            !all.iter()
                .any(|r| r.starts_with("cn-") || r.contains("gov") || r.contains("iso")),
            "{all:?}"
        );
        let mut unique = all.to_vec();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), all.len());
    }
}
