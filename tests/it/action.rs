//! The GitHub Action (`action.yml`) and the example workflow that uses it
//! (`examples/github-actions/guardrail.yml`), parsed as YAML: the workflow passes only inputs
//! the action declares (and every required one), reads only outputs it declares, pins the
//! action to this crate's version, and the action runs only subcommands, flags and formats
//! guardrail's command line really has (clap's own definition); the release workflow
//! (`.github/workflows/release.yml`) publishes the targets and file names the action downloads.

use std::collections::BTreeSet;
use std::path::Path;

use clap::CommandFactory as _;
use guardrail::cli::Cli;
use serde_norway::Value;

fn yaml(path: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_mapping()
        .map(|m| {
            m.keys()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {v:?}"))
}

/// The long flags and `--format` values of one subcommand.
fn subcommand(name: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let cli = Cli::command();
    let sub = cli
        .find_subcommand(name)
        .unwrap_or_else(|| panic!("guardrail has no `{name}` subcommand"));
    let longs = sub
        .get_arguments()
        .chain(cli.get_arguments().filter(|a| a.is_global_set()))
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect();
    let formats = sub
        .get_arguments()
        .find(|a| a.get_long() == Some("format"))
        .map(|a| {
            a.get_possible_values()
                .iter()
                .map(|v| v.get_name().to_owned())
                .collect()
        })
        .unwrap_or_default();
    (longs, formats)
}

/// Every `--flag` in a piece of shell.
fn flags(script: &str) -> BTreeSet<String> {
    script
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(str::to_owned)
        .collect()
}

/// The run script of the step that runs guardrail, split into the part every command shares
/// (before `case`) and each `case` branch by command name.
fn run_script() -> (String, Vec<(String, String)>) {
    let action = yaml("action.yml");
    assert_eq!(str_of(&action["runs"], "using"), "composite");
    let steps = action["runs"]["steps"].as_sequence().expect("steps");
    let run = steps
        .iter()
        .find(|s| s["id"].as_str() == Some("run"))
        .expect("a step with id `run`");
    let script = str_of(run, "run");
    let (common, rest) = script
        .split_once("case \"$GUARDRAIL_COMMAND\" in")
        .expect("case");
    let (cases, _) = rest.split_once("esac").expect("esac");
    let mut branches = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in cases.lines() {
        let t = line.trim();
        let label = t
            .strip_suffix(')')
            .filter(|l| l.chars().all(|c| c.is_ascii_lowercase() || c == '*'));
        if let Some(label) = label {
            branches.extend(current.take());
            current = Some((label.to_owned(), String::new()));
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    branches.extend(current);
    (common.to_owned(), branches)
}

#[test]
fn the_action_runs_real_subcommands_and_flags() {
    let (common, branches) = run_script();
    let commands: Vec<&str> = branches
        .iter()
        .map(|(l, _)| l.as_str())
        .filter(|l| *l != "*")
        .collect();
    assert_eq!(commands, ["plan", "apply", "drift"]);
    for (name, body) in &branches {
        if name == "*" {
            continue;
        }
        let (longs, _) = subcommand(name);
        for f in flags(&common).union(&flags(body)) {
            assert!(
                longs.contains(f),
                "the action passes {f} to `guardrail {name}`, which has no such flag"
            );
        }
    }
    // The command input's documented values are those the action handles.
    let action = yaml("action.yml");
    let doc = str_of(&action["inputs"]["command"], "description");
    for c in &commands {
        assert!(doc.contains(c), "{doc}");
    }
}

#[test]
fn the_example_workflow_uses_the_action_as_declared() {
    let action = yaml("action.yml");
    let inputs = keys(&action["inputs"]);
    let outputs = keys(&action["outputs"]);
    let required: BTreeSet<String> = inputs
        .iter()
        .filter(|i| action["inputs"][i.as_str()]["required"].as_bool() == Some(true))
        .cloned()
        .collect();
    // The action installs the release of its own version, which is this crate's.
    let version = str_of(&action["inputs"]["version"], "default");
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    let repo = env!("CARGO_PKG_REPOSITORY").trim_start_matches("https://github.com/");
    let pinned = format!("{repo}@v{version}");

    let workflow = yaml("examples/github-actions/guardrail.yml");
    let jobs = workflow["jobs"].as_mapping().expect("jobs");
    let mut uses = 0;
    for (job_name, job) in jobs {
        let steps = job["steps"].as_sequence().expect("steps");
        let ids: BTreeSet<&str> = steps
            .iter()
            .filter(|s| s["uses"].as_str() == Some(pinned.as_str()))
            .filter_map(|s| s["id"].as_str())
            .collect();
        for step in steps {
            let Some(u) = step["uses"].as_str() else {
                continue;
            };
            if !u.starts_with(&format!("{repo}@")) {
                continue;
            }
            assert_eq!(
                u, pinned,
                "{job_name:?}: pin the action to the crate's version"
            );
            uses += 1;
            let with = keys(&step["with"]);
            for k in &with {
                assert!(
                    inputs.contains(k),
                    "{job_name:?} passes `{k}`, not an input of action.yml"
                );
            }
            for r in &required {
                assert!(
                    with.contains(r),
                    "{job_name:?} lacks the required input `{r}`"
                );
            }
            let command = str_of(&step["with"], "command");
            let (_, formats) = subcommand(command);
            if let Some(f) = step["with"]["format"].as_str() {
                assert!(
                    formats.contains(f),
                    "`guardrail {command}` has no format `{f}`"
                );
            }
        }
        // Every `steps.<id>.outputs.<name>` read of the action's steps names a declared output.
        let text = serde_norway::to_string(job).unwrap();
        for id in &ids {
            let needle = format!("steps.{id}.outputs.");
            for (i, _) in text.match_indices(&needle) {
                let name: String = text[i + needle.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect();
                assert!(
                    outputs.contains(&name),
                    "{job_name:?} reads output `{name}`, which action.yml does not declare"
                );
            }
        }
    }
    assert_eq!(uses, 3, "plan, apply and drift each run through the action");
}

/// The release workflow builds what the action downloads: the same targets, and archives
/// and checksum files by the same name (`guardrail-v<version>-<target>.tar.gz[.sha256]`,
/// the binary in a directory of that name).
#[test]
fn the_action_installs_what_the_release_workflow_publishes() {
    let release = yaml(".github/workflows/release.yml");
    let build = &release["jobs"]["build"];
    let published: BTreeSet<String> = build["strategy"]["matrix"]["include"]
        .as_sequence()
        .expect("matrix include")
        .iter()
        .map(|e| str_of(e, "target").to_owned())
        .collect();
    let steps = build["steps"].as_sequence().expect("steps");
    let step = |name: &str| {
        let s = steps
            .iter()
            .find(|s| s["name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("release.yml has no step `{name}`"));
        str_of(s, "run").to_owned()
    };
    let package = step("Package");
    for needle in [
        "name=guardrail-${GITHUB_REF_NAME}-${{ matrix.target }}",
        "tar -C dist -czf \"dist/$name.tar.gz\" \"$name\"",
        "shasum -a 256 \"$name.tar.gz\" > \"$name.tar.gz.sha256\"",
    ] {
        assert!(
            package.contains(needle),
            "release.yml's Package lacks `{needle}`"
        );
    }
    assert!(
        step("Build").contains("--release --locked"),
        "the release profile"
    );

    let action = yaml("action.yml");
    let install = action["runs"]["steps"]
        .as_sequence()
        .expect("steps")
        .iter()
        .find(|s| s["if"].as_str() == Some("inputs.install == 'release'"))
        .map(|s| str_of(s, "run").to_owned())
        .expect("the release install step");
    let downloaded: BTreeSet<String> = install
        .lines()
        .filter_map(|l| l.split_once(") target=")?.1.split_once(' '))
        .map(|(t, _)| t.trim_end_matches(';').to_owned())
        .collect();
    assert_eq!(
        downloaded, published,
        "the action's runners and the released targets"
    );
    for needle in [
        "name=\"guardrail-v${GUARDRAIL_VERSION}-${target}\"",
        "\"$url/$name.tar.gz\"",
        "\"$url/$name.tar.gz.sha256\"",
        "shasum -a 256 -c \"$name.tar.gz.sha256\"",
        "echo \"$dir/$name\" >> \"$GITHUB_PATH\"",
    ] {
        assert!(
            install.contains(needle),
            "action.yml's install lacks `{needle}`"
        );
    }
}
