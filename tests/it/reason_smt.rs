//! `policy::reason` against an independent solver: Z3, run as a program (`.venv/bin/z3`, from
//! the `z3-solver` wheel that `scripts/test` installs with pip), fed SMT-LIB that this file
//! writes from the JSON policies themselves (a second encoding, written for the test only).
//! Over small random SCP pairs (actions and NotAction, resources and NotResource, and
//! `aws:RequestedRegion` conditions with every string operator, negation and IfExists) the two
//! must agree: PROVED exactly when Z3 says `unsat`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, Stdio};

use guardrail::policy::eval::{EvalPolicy, Level, Path};
use guardrail::policy::reason::{new_access, Budget, Constants, Verdict};
use serde_json::{json, Value};

use crate::differential::Rng;

fn z3() -> std::path::PathBuf {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/z3");
    assert!(
        p.is_file(),
        "the SMT cross-check needs Z3 at {}: run `.venv/bin/pip install 'z3-solver>=4.12,<6'` \
         (scripts/test does)",
        p.display()
    );
    p
}

const ACTIONS: &[&str] = &[
    "*",
    "s3:*",
    "s3:Get*",
    "s3:GetObject",
    "s3:?etObject",
    "*Object",
    "ec2:*",
    "iam:*Role",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::*",
    "arn:aws:*:*:*:*",
    "arn:aws:s3:::b/k?",
];
const OPS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringNotLike",
    "StringEqualsIfExists",
    "StringNotLikeIfExists",
];
const REGIONS: &[&[&str]] = &[&["eu-west-1"], &["eu-*"], &["us-east-1", "eu-west-1"]];

fn statement(r: &mut Rng) -> Value {
    let mut s = json!({"Effect": if r.chance(70) { "Deny" } else { "Allow" }});
    let acts: Vec<&str> = (0..1 + r.below(2)).map(|_| *r.pick(ACTIONS)).collect();
    s[if r.chance(20) { "NotAction" } else { "Action" }] = json!(acts);
    let res: Vec<&str> = (0..1 + r.below(2)).map(|_| *r.pick(RESOURCES)).collect();
    s[if r.chance(20) {
        "NotResource"
    } else {
        "Resource"
    }] = json!(res);
    if r.chance(50) {
        s["Condition"] = json!({ *r.pick(OPS): {"aws:RequestedRegion": r.pick(REGIONS)} });
    }
    s
}

fn path(statements: &[Value], allow_all: bool) -> Path {
    let mut policies = vec![EvalPolicy::new(
        "p",
        &json!({ "Statement": statements }),
        Vec::new(),
    )];
    if allow_all {
        policies.push(EvalPolicy::allow_all("FullAWSAccess"));
    }
    Path {
        scp: vec![Level {
            name: "account".into(),
            policies,
        }],
        rcp: Vec::new(),
        management: false,
    }
}

fn strs(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn lit(s: &str) -> String {
    format!("(str.to_re \"{}\")", s.replace('"', "\"\""))
}

/// A wildcard pattern as a regular expression; `colon: false` keeps wildcards off `:`.
fn glob_re(p: &str, colon: bool) -> String {
    let any = if colon {
        "re.allchar".to_owned()
    } else {
        format!("(re.diff re.allchar {})", lit(":"))
    };
    let parts: Vec<String> = p
        .chars()
        .map(|c| match c {
            '*' => format!("(re.* {any})"),
            '?' => any.clone(),
            c => lit(&c.to_string()),
        })
        .collect();
    match parts.len() {
        0 => lit(""),
        1 => parts[0].clone(),
        _ => format!("(re.++ {})", parts.join(" ")),
    }
}

fn arn_re(p: &str) -> String {
    if p == "*" {
        return "re.all".into();
    }
    let parts: Vec<&str> = p.splitn(6, ':').collect();
    if parts.len() != 6 {
        return "re.none".into();
    }
    let segs: Vec<String> = parts
        .iter()
        .enumerate()
        .map(|(i, s)| glob_re(s, i == 5))
        .collect();
    format!("(re.++ {})", segs.join(&format!(" {} ", lit(":"))))
}

fn any_in(var: &str, res: Vec<String>) -> String {
    let ors: Vec<String> = res
        .iter()
        .map(|r| format!("(str.in_re {var} {r})"))
        .collect();
    format!("(or false {})", ors.join(" "))
}

/// "The statement applies", read from the JSON.
fn applies(s: &Value) -> String {
    let act = |k: &str| {
        any_in(
            "a",
            strs(&s[k])
                .iter()
                .map(|p| glob_re(&p.to_ascii_lowercase(), true))
                .collect(),
        )
    };
    let action = if s.get("Action").is_some() {
        act("Action")
    } else {
        format!("(not {})", act("NotAction"))
    };
    let res = |k: &str| any_in("r", strs(&s[k]).iter().map(|p| arn_re(p)).collect());
    let resource = if s.get("Resource").is_some() {
        res("Resource")
    } else {
        format!("(not {})", res("NotResource"))
    };
    let mut cond = "true".to_owned();
    for (op, keys) in s["Condition"].as_object().into_iter().flatten() {
        let vals = strs(&keys["aws:RequestedRegion"]);
        let base = op.trim_end_matches("IfExists");
        let negated = base.contains("Not");
        let like = base.ends_with("Like");
        let m = any_in(
            "g",
            vals.iter()
                .map(|v| if like { glob_re(v, true) } else { lit(v) })
                .collect(),
        );
        let one = if negated { format!("(not {m})") } else { m };
        let absent = op.ends_with("IfExists") || negated;
        cond = format!("(ite (not gp) {absent} (and (not gm) {one}))");
    }
    format!("(and {action} (or (not rp) {resource}) {cond})")
}

fn allowed(stmts: &[Value], allow_all: bool) -> String {
    let of = |e: &'static str| stmts.iter().filter(move |s| s["Effect"] == e).map(applies);
    let denies: Vec<String> = of("Deny").map(|d| format!("(not {d})")).collect();
    let allows: Vec<String> = of("Allow")
        .chain(allow_all.then(|| "true".to_owned()))
        .collect();
    format!("(and (or false {}) {})", allows.join(" "), denies.join(" "))
}

fn problem(old: (&[Value], bool), new: (&[Value], bool)) -> String {
    let mut p = String::from("(push 1)\n");
    p.push_str("(declare-const a String)(declare-const r String)(declare-const g String)\n");
    p.push_str("(declare-const rp Bool)(declare-const gp Bool)(declare-const gm Bool)\n");
    // The evaluator lower-cases the action: no upper-case ASCII letter in it.
    p.push_str("(assert (str.in_re a (re.* (re.diff re.allchar (re.range \"A\" \"Z\")))))\n");
    let _ = writeln!(p, "(assert {})", allowed(new.0, new.1));
    let _ = writeln!(p, "(assert (not {}))", allowed(old.0, old.1));
    p.push_str("(check-sat)\n(pop 1)\n");
    p
}

#[test]
fn proofs_agree_with_z3_on_small_cases() {
    let mut r = Rng(0x2545_f491_4f6c_dd1d);
    let mut cases = Vec::new();
    for _ in 0..150 {
        let old: Vec<Value> = (0..1 + r.below(3)).map(|_| statement(&mut r)).collect();
        let mut new = old.clone();
        match r.below(3) {
            0 => new.push(statement(&mut r)),
            1 => {
                let i = r.below(new.len());
                new.remove(i);
            }
            _ => {
                let i = r.below(new.len());
                new[i] = statement(&mut r);
            }
        }
        cases.push((old, r.chance(80), new, r.chance(80)));
    }
    let script: String = cases
        .iter()
        .map(|(o, oa, n, na)| problem((o, *oa), (n, *na)))
        .collect();
    let mut child = Command::new(z3())
        .args(["-in", "-T:60"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("z3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let answers: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(answers.len(), cases.len(), "{answers:?}");
    let (mut proved, mut found) = (0, 0);
    for ((o, oa, n, na), z) in cases.iter().zip(&answers) {
        let v = new_access(
            &path(o, *oa),
            &path(n, *na),
            &Constants::default(),
            Budget::default(),
        );
        let ours = match v {
            Verdict::Proved => "unsat",
            Verdict::NewAccess(_) => "sat",
            Verdict::Unknown(u) => panic!("{u:?} on a case inside the fragment:\n{o:?}\n{n:?}"),
        };
        assert_eq!(ours, z, "old {oa} {}\nnew {na} {}", json!(o), json!(n));
        if ours == "sat" {
            found += 1
        } else {
            proved += 1
        }
    }
    assert!(
        proved >= 20 && found >= 20,
        "{proved} proved, {found} new access"
    );
}
