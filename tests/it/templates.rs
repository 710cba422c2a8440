//! The templates of issue 15: `protect-critical-resources` (an SCP whose statements follow the
//! `services` list and whose condition key carries the tag parameter) and the management-policy
//! templates (a `document` body, one policy per instance).

use std::collections::BTreeMap;

use guardrail::policy::template::{self, ParamValue};
use serde_json::json;

fn values(pairs: &[(&str, ParamValue)]) -> BTreeMap<String, ParamValue> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[test]
fn protect_critical_resources_follows_its_parameters() {
    let t = template::parse(
        "protect-critical-resources",
        template::builtin("protect-critical-resources").unwrap(),
    )
    .unwrap();
    let v = values(&[
        ("tag_key", ParamValue::String("tier".into())),
        ("tag_value", ParamValue::String("gold".into())),
        (
            "services",
            ParamValue::List(vec!["rds".into(), "kms".into()]),
        ),
    ]);
    let exempt = vec!["arn:aws:iam::*:role/pipeline".to_owned()];
    let s = template::instantiate(&t, &v, &exempt).unwrap();
    let sids: Vec<&str> = s.iter().filter_map(|x| x["Sid"].as_str()).collect();
    assert_eq!(sids, vec!["ProtectCriticalRds", "ProtectCriticalKmsKeys"]);
    for st in &s {
        assert_eq!(
            st["Condition"]["StringEquals"],
            json!({"aws:ResourceTag/tier": "gold"})
        );
        assert_eq!(
            st["Condition"]["ArnNotLike"]["aws:PrincipalArn"],
            json!(["arn:aws:iam::*:role/pipeline"])
        );
    }
    assert!(s[1]["Action"]
        .as_array()
        .unwrap()
        .contains(&json!("kms:ScheduleKeyDeletion")));
    // Defaults: every service, `critical = "true"`.
    let defaults: BTreeMap<String, ParamValue> = t
        .parameters
        .iter()
        .filter_map(|(n, p)| p.default.clone().map(|d| (n.clone(), d)))
        .collect();
    let all = template::instantiate(&t, &defaults, &exempt).unwrap();
    assert_eq!(all.len(), 6);
    assert!(all
        .iter()
        .all(|st| st["Condition"]["StringEquals"] == json!({"aws:ResourceTag/critical": "true"})));
}
