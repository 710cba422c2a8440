//! ARCHITECTURE.md's import rules, checked: the pure modules never reach AWS or `live`, and
//! `model` imports nothing from the crate.

use std::path::Path;

fn sources(dir: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push((
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
    }
    assert!(!out.is_empty(), "no sources under src/{dir}");
    out
}

fn forbid(dir: &str, needles: &[&str]) {
    for (file, text) in sources(dir) {
        for n in needles {
            assert!(
                !text.contains(n),
                "{file} uses `{n}`, which ARCHITECTURE.md forbids for src/{dir}"
            );
        }
    }
}

#[test]
fn pure_modules_never_reach_aws() {
    let aws = [
        "crate::live",
        "aws_sdk_",
        "aws_config",
        "tokio::",
        "std::fs::",
        "std::net",
    ];
    for dir in [
        "config/parse.rs",
        "config/emit.rs",
        "policy",
        "model",
        "plan",
        "render",
        "replay/mod.rs",
        "replay/map.rs",
        "replay/record.rs",
        "replay/dedup.rs",
        "replay/synth.rs",
        "replay/synth_record.rs",
        "observe",
        "rollout",
        "config/rollout.rs",
        "suggest",
    ] {
        if dir.ends_with(".rs") {
            let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
            let text = std::fs::read_to_string(&p).unwrap();
            for n in aws {
                assert!(!text.contains(n), "src/{dir} uses `{n}`");
            }
        } else {
            let allowed_render = dir == "render";
            let needles: Vec<&str> = aws
                .iter()
                .copied()
                .filter(|n| !(allowed_render && *n == "crate::live"))
                .collect();
            forbid(dir, &needles);
        }
    }
}

#[test]
fn model_imports_nothing_but_limits() {
    for (file, text) in sources("model") {
        for line in text.lines().filter(|l| l.contains("crate::")) {
            assert!(line.contains("crate::policy::limits"), "{file}: {line}");
        }
    }
}
