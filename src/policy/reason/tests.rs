//! Unit tests of the decision procedure on hand-made paths: the verdicts, the readable
//! counterexamples, the exemptions, and the automata against the evaluator's matching.

use serde_json::{json, Value};

use super::glob::{member, Nfa};
use super::*;
use crate::policy::eval::{arn_like, glob, EvalPolicy};

fn path(scps: &[Value]) -> Path {
    let level = |i: usize, docs: Vec<EvalPolicy>| Level {
        name: format!("level{i}"),
        policies: docs,
    };
    let mut policies = vec![EvalPolicy::allow_all("FullAWSAccess")];
    policies.extend(
        scps.iter()
            .enumerate()
            .map(|(i, d)| EvalPolicy::new(&format!("p{i}"), d, Vec::new())),
    );
    Path {
        scp: vec![
            level(0, vec![EvalPolicy::allow_all("FullAWSAccess")]),
            level(1, policies),
        ],
        rcp: Vec::new(),
        management: false,
    }
}

fn deny(actions: &[&str]) -> Value {
    json!({"Statement": [{"Sid": "D", "Effect": "Deny", "Action": actions, "Resource": "*"}]})
}

fn check(old: &Path, new: &Path) -> Verdict {
    new_access(old, new, &Constants::default(), Budget::default())
}

#[test]
fn adding_a_deny_is_proved() {
    let old = path(&[]);
    let new = path(&[deny(&["s3:DeleteBucket"])]);
    assert_eq!(check(&old, &new), Verdict::Proved);
}

#[test]
fn removing_a_deny_names_its_action() {
    let old = path(&[deny(&["s3:DeleteBucket", "iam:*"])]);
    let new = path(&[deny(&["iam:*"])]);
    let Verdict::NewAccess(ws) = check(&old, &new) else {
        panic!("expected new access");
    };
    assert_eq!(ws[0].request.action, "s3:DeleteBucket");
    // A bucket's ARN, not an object's: the action's resource type.
    let res = ws[0].request.resource.as_deref().unwrap_or_default();
    assert!(
        res.starts_with("arn:aws:s3:::") && !res.contains('/'),
        "{res}"
    );
    assert!(matches!(ws[0].old, Decision::Deny(_)));
    assert_eq!(ws[0].new, Decision::Allow);
}

#[test]
fn a_region_lock_removed_gives_a_region_outside_it() {
    let lock = json!({"Statement": [{"Effect": "Deny", "NotAction": ["iam:*", "sts:*"],
        "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}}]});
    let Verdict::NewAccess(ws) = check(&path(&[lock]), &path(&[])) else {
        panic!("expected new access");
    };
    let r = &ws[0].request;
    assert!(!r.action.to_ascii_lowercase().starts_with("iam:"), "{r:?}");
    assert_ne!(
        r.values("aws:RequestedRegion"),
        Some(&["eu-west-1".to_owned()][..])
    );
}

#[test]
fn narrowing_a_condition_is_proved_and_widening_is_not() {
    let ip = |cidr: &str| {
        json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"NotIpAddress": {"aws:SourceIp": [cidr]}}}]})
    };
    // Allowing fewer addresses (a smaller network) is a tightening.
    assert_eq!(
        check(&path(&[ip("10.0.0.0/8")]), &path(&[ip("10.1.0.0/16")])),
        Verdict::Proved
    );
    let Verdict::NewAccess(ws) = check(&path(&[ip("10.1.0.0/16")]), &path(&[ip("10.0.0.0/8")]))
    else {
        panic!("expected new access");
    };
    assert!(ws[0].request.values("aws:SourceIp").is_some());
}

#[test]
fn an_unknown_policy_variable_is_not_proved() {
    let d = |p: &[&str]| {
        json!({"Statement": [{"Sid": "Home", "Effect": "Deny", "Action": "s3:*",
            "NotResource": p}]})
    };
    let home = "arn:aws:s3:::home/${aws:PrincipalTag/team}/*";
    // A statement both sides keep is decided whatever the variable holds...
    let same = check(&path(&[d(&[home])]), &path(&[d(&[home]), deny(&["ec2:*"])]));
    assert_eq!(same, Verdict::Proved);
    // ...but a tightening that rests on the variable's value is not proved.
    let v = check(
        &path(&[d(&[home, "arn:aws:s3:::home/shared/*"])]),
        &path(&[d(&[home])]),
    );
    let Verdict::Unknown(Unknown::Unsupported {
        construct,
        statement,
    }) = v
    else {
        panic!("{v:?}");
    };
    assert!(construct.contains("aws:principaltag/team"), "{construct}");
    assert_eq!(statement, "p0/Home");
}

#[test]
fn the_automata_read_patterns_as_the_evaluator_does() {
    let pats = [
        "s3:get*",
        "a?c",
        "*:*:*:*:*:role/x/*",
        "arn:aws:s3:::b/*",
        "*",
        "x*y*z",
    ];
    let texts = [
        "s3:getobject",
        "abc",
        "ac",
        "a:b:c:d:e:role/x/y",
        "a:b:c:d:e:f:role/x/y",
        "arn:aws:s3:::b/k:1",
        "xyz",
        "xaybz",
        "xzy",
        "",
        ":::::",
    ];
    for p in pats {
        for t in texts {
            assert_eq!(member(&vec![Nfa::glob(p)], t), glob(p, t), "glob {p} {t}");
            let arn: Vec<Nfa> = Nfa::arn(p).into_iter().collect();
            assert_eq!(member(&arn, t), arn_like(p, t), "arn {p} {t}");
        }
    }
}

/// RCPs never see `kms:RetireGrant`, so an RCP that denies only it grants nothing when it goes;
/// one that also denies `kms:Decrypt` does.
#[test]
fn an_rcp_on_retire_grant_alone_changes_nothing() {
    let rcp = |actions: &[&str]| {
        let mut p = path(&[]);
        let doc = json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": actions,
            "Resource": "*"}]});
        p.rcp = vec![Level {
            name: "account".into(),
            policies: vec![
                EvalPolicy::allow_all("RCPFullAWSAccess"),
                EvalPolicy::new("r", &doc, Vec::new()),
            ],
        }];
        p
    };
    let bare = rcp(&[]);
    assert_eq!(check(&rcp(&["kms:RetireGrant"]), &bare), Verdict::Proved);
    let Verdict::NewAccess(ws) = check(&rcp(&["kms:RetireGrant", "kms:Decrypt"]), &bare) else {
        panic!("expected new access");
    };
    assert!(
        ws.iter().all(|w| w.request.action == "kms:Decrypt"),
        "{ws:?}"
    );
}

/// Moving an account to the management account's exemption opens what its SCPs denied; a
/// service-linked role never makes a counterexample (it is exempt on both sides).
#[test]
fn exemptions_follow_the_evaluator() {
    let old = path(&[deny(&["s3:DeleteBucket"])]);
    let mut exempt = old.clone();
    exempt.management = true;
    let Verdict::NewAccess(ws) = check(&old, &exempt) else {
        panic!("expected new access");
    };
    let exempted = Decision::NotAffected(crate::policy::eval::Exemption::ManagementAccount);
    assert!(ws.iter().all(|w| w.new == exempted), "{ws:?}");
    // The management account denies nothing, so leaving it opens nothing.
    assert_eq!(check(&exempt, &old), Verdict::Proved);
    for w in ws {
        let arn = w.request.values("aws:PrincipalArn").unwrap_or_default();
        assert!(
            !arn.iter().any(|a| a.contains("aws-service-role")),
            "{arn:?}"
        );
    }
}

/// A Deny that only service-linked roles meet denied nothing (they are exempt), so removing
/// it is proved; one that also meets a plain role is not.
#[test]
fn denies_only_service_linked_roles_meet_deny_nothing() {
    let slr = |pats: &[&str]| {
        json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"ArnLike": {"aws:PrincipalArn": pats}}}]})
    };
    let only = slr(&["arn:aws:iam::*:role/aws-service-role/*"]);
    assert_eq!(check(&path(&[only]), &path(&[])), Verdict::Proved);
    let also = slr(&[
        "arn:aws:iam::*:role/aws-service-role/*",
        "arn:aws:iam::*:role/ops*",
    ]);
    let Verdict::NewAccess(ws) = check(&path(&[also]), &path(&[])) else {
        panic!("expected new access");
    };
    let arn = ws[0].request.values("aws:PrincipalArn").unwrap_or_default();
    assert!(arn[0].contains(":role/ops"), "{arn:?}");
}

/// The witnesses of a removed Deny, each checked to replay on both sides and to be concrete:
/// a catalogue action in catalogue casing, a principal ARN in the account with no wildcard,
/// a real region, a concrete resource.
fn concrete_witnesses(old: &Path, new: &Path) -> Vec<Witness> {
    let k = Constants {
        account_id: "210987654321".into(),
        ..Constants::default()
    };
    let Verdict::NewAccess(ws) = new_access(old, new, &k, Budget::default()) else {
        panic!("expected new access");
    };
    for w in &ws {
        let r = &w.request;
        assert!(
            decide(old, r).is_denied() && !decide(new, r).is_denied(),
            "{w:?}"
        );
        assert_eq!(
            (decide(old, r), decide(new, r)),
            (w.old.clone(), w.new.clone())
        );
        assert_eq!(values::canonical_action(&r.action), r.action, "{w:?}");
        let (svc, name) = r.action.split_once(':').expect("service:Action");
        let cat = crate::policy::iam::catalogue();
        assert!(
            cat.service(svc).and_then(|s| s.action(name)).is_some(),
            "{w:?}"
        );
        let arn = r.values("aws:PrincipalArn").expect("a principal");
        assert!(!arn[0].contains(['*', '?']), "{w:?}");
        assert!(arn[0].contains(":210987654321:"), "{w:?}");
        let region = r.values("aws:RequestedRegion").expect("a region");
        assert!(values::regions().contains(&region[0].as_str()), "{w:?}");
        let res = r.resource.as_deref().expect("a resource");
        assert!(res == "*" || !res.contains(['*', '?']), "{w:?}");
        assert!(w.notes.is_empty(), "{w:?}");
    }
    ws
}

#[test]
fn removing_a_deny_on_a_service_wildcard_names_a_real_action_of_it() {
    let ws = concrete_witnesses(&path(&[deny(&["s3:*"])]), &path(&[]));
    assert!(
        ws.iter().all(|w| w.request.action.starts_with("s3:")),
        "{ws:?}"
    );
    // A common action of the service comes first.
    assert_eq!(ws[0].request.action, "s3:GetObject");
}

/// `*` used to give the made-up action `example`; now it is a catalogue action.
#[test]
fn removing_a_deny_on_everything_names_a_catalogue_action() {
    let all = json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"StringLike": {"aws:RequestedRegion": ["ap-*"]}}}]});
    let ws = concrete_witnesses(&path(&[all]), &path(&[]));
    let region = ws[0]
        .request
        .values("aws:RequestedRegion")
        .unwrap_or_default();
    assert!(region[0].starts_with("ap-"), "{ws:?}");
}

/// A Deny on principals matched by wildcards gives a principal of the class's account with
/// none left: the root user for `:root`, a role named from the pattern for `role/ops*`.
#[test]
fn witness_principals_carry_no_wildcard() {
    let on = |pats: &[&str]| {
        json!({"Statement": [{"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*",
            "Condition": {"ArnLike": {"aws:PrincipalArn": pats}}}]})
    };
    let ws = concrete_witnesses(&path(&[on(&["arn:aws:iam::*:root"])]), &path(&[]));
    let arn = ws[0].request.values("aws:PrincipalArn").unwrap_or_default();
    assert_eq!(arn[0], "arn:aws:iam::210987654321:root");
    assert_eq!(
        ws[0].request.values("aws:PrincipalType"),
        Some(&["Account".to_owned()][..])
    );
    let ws = concrete_witnesses(&path(&[on(&["arn:aws:iam::*:role/ops*"])]), &path(&[]));
    let arn = ws[0].request.values("aws:PrincipalArn").unwrap_or_default();
    assert_eq!(arn[0], "arn:aws:iam::210987654321:role/ops");
}

/// The action the statement that denied it names is preferred, in catalogue casing, and the
/// resource is an ARN of the action's resource type, in the pattern the statement names.
#[test]
fn the_witness_takes_the_responsible_statements_action_and_a_typed_resource() {
    let d = json!({"Statement": [{"Sid": "Logs", "Effect": "Deny",
        "Action": ["s3:deletebucket", "s3:putbucketpolicy"], "Resource": "arn:aws:s3:::logs-*"}]});
    let ws = concrete_witnesses(&path(&[d]), &path(&[]));
    let w = &ws[0];
    assert_eq!(w.request.action, "s3:DeleteBucket", "{w:?}");
    let res = w.request.resource.as_deref().unwrap_or_default();
    assert!(
        res.starts_with("arn:aws:s3:::logs-") && !res.contains('/'),
        "{w:?}"
    );
}

/// An action that takes no resource gets `*`, as AWS's policies name it.
#[test]
fn an_action_without_a_resource_type_gets_a_star() {
    let ws = concrete_witnesses(&path(&[deny(&["s3:ListAllMyBuckets"])]), &path(&[]));
    assert_eq!(ws[0].request.action, "s3:ListAllMyBuckets");
    assert_eq!(ws[0].request.resource.as_deref(), Some("*"));
}

/// A value nothing concrete fits stays, and the witness says so.
#[test]
fn an_action_outside_the_catalogue_is_kept_with_a_note() {
    let Verdict::NewAccess(ws) = check(&path(&[deny(&["nosuch:thing"])]), &path(&[])) else {
        panic!("expected new access");
    };
    assert_eq!(ws[0].request.action, "nosuch:thing");
    assert!(
        ws[0].notes.iter().any(|n| n.contains("IAM catalogue")),
        "{:?}",
        ws[0]
    );
}

#[test]
fn steps_are_reported() {
    let (v, used) = new_access_with_stats(
        &path(&[deny(&["s3:*"])]),
        &path(&[]),
        &Constants::default(),
        Budget::default(),
    );
    assert!(matches!(v, Verdict::NewAccess(_)));
    assert!(used > 0 && used <= Budget::default().max_steps, "{used}");
    let (v, used) = new_access_with_stats(
        &path(&[deny(&["s3:*"])]),
        &path(&[]),
        &Constants::default(),
        Budget {
            max_steps: 1,
            max_witnesses: 10,
        },
    );
    assert_eq!(v, Verdict::Unknown(Unknown::Budget));
    assert!(used > 1, "{used}");
}
