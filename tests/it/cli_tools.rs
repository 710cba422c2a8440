//! `guardrail completions SHELL`, `guardrail man` and `guardrail schema` through the real
//! binary, and the Rust version `cargo install --locked` needs.

use std::process::Output;

fn guardrail(args: &[&str]) -> Output {
    let out = assert_cmd::Command::cargo_bin("guardrail")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(args: &[&str]) -> String {
    String::from_utf8(guardrail(args).stdout).unwrap()
}

/// The subcommands, from `--help` (so a new one is checked without editing this test).
fn subcommands() -> Vec<String> {
    let help = stdout(&["--help"]);
    let list = help
        .split("Commands:")
        .nth(1)
        .and_then(|rest| rest.split("Options:").next())
        .unwrap();
    let names: Vec<String> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_owned)
        .collect();
    assert!(names.len() >= 9, "{help}");
    names
}

#[test]
fn completions_know_every_subcommand_in_every_shell() {
    let names = subcommands();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = stdout(&["completions", shell]);
        for n in &names {
            assert!(
                script.contains(n.as_str()),
                "{shell} completion lacks `{n}`"
            );
        }
    }
    let bash = stdout(&["completions", "bash"]);
    assert!(bash.contains("complete -F _guardrail"), "{bash}");
    assert!(bash.contains("--env") && bash.contains("plan"));
    // An unknown shell is refused by clap.
    let out = assert_cmd::Command::cargo_bin("guardrail")
        .unwrap()
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_man_page_has_a_section_per_subcommand_with_its_options() {
    let page = stdout(&["man"]);
    assert!(page.starts_with(".ie") || page.starts_with(".TH"), "{page}");
    assert!(page.contains(".TH guardrail 1"), "{page}");
    for n in subcommands() {
        let header = format!(".SH \"GUARDRAIL {}\"", n.to_uppercase());
        assert!(page.contains(&header), "no section {header}");
    }
    // Options as roff writes them (`\-\-env`), and validate's formats.
    let validate = page.split(".SH \"GUARDRAIL VALIDATE\"").nth(1).unwrap();
    let validate = validate.split(".SH \"GUARDRAIL").next().unwrap();
    assert!(validate.contains("\\-\\-env"), "{validate}");
    assert!(validate.contains("sarif"), "{validate}");
}

#[test]
fn schema_prints_the_checked_in_schema() {
    let printed = stdout(&["schema"]);
    assert_eq!(printed, guardrail::config::schema::json_schema_text());
    let v: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(v["$schema"], "http://json-schema.org/draft-07/schema#");
}

fn version(v: &str) -> Vec<u64> {
    v.split('.').map(|n| n.parse().unwrap()).collect()
}

/// `cargo install --locked` builds the locked dependencies, so the Rust that Cargo.toml's
/// `rust-version` and README's install section promise must build every one of them (the AWS
/// SDK crates raise theirs often).
#[test]
fn the_declared_rust_version_builds_every_locked_dependency() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let rustc = std::process::Command::new("rustc")
        .arg("-vV")
        .output()
        .unwrap();
    let rustc = String::from_utf8(rustc.stdout).unwrap();
    let host = rustc
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .unwrap();
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--filter-platform",
            host,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let ours = packages.iter().find(|p| p["name"] == "guardrail").unwrap();
    let declared = ours["rust_version"]
        .as_str()
        .expect("Cargo.toml sets rust-version");
    let resolved: Vec<&str> = meta["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    let needs: Vec<String> = packages
        .iter()
        .filter(|p| resolved.contains(&p["id"].as_str().unwrap()))
        .filter_map(|p| Some((p["name"].as_str()?, p["rust_version"].as_str()?)))
        .filter(|(_, v)| version(v) > version(declared))
        .map(|(name, v)| format!("{name} needs {v}"))
        .collect();
    assert!(needs.is_empty(), "rust-version = {declared}, but {needs:?}");
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
    let promise = format!("With Rust {declared} or later");
    assert!(
        readme.unwrap().contains(&promise),
        "README should say `{promise}`"
    );
}
