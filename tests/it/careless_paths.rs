//! Careless paths: a re-import replaces only what the previous import wrote and leaves nothing
//! half-written; `plan --out` never overwrites an input; a `document` cannot name a file
//! outside the config's directory (`..`, absolute, or a symlink) unless `documents_root`
//! allows it; numeric options out of range are clap errors, not panics.

use std::fs;
use std::path::{Path, PathBuf};

use guardrail::cli::files::{check_out_path, write_import, MANIFEST};
use guardrail::config::{self, Emitted, ErrorKind};
use guardrail::live::fake::FakeOrg;
use guardrail::live::OrgBackend;
use guardrail::model::PolicyType::ServiceControlPolicy as SCP;
use guardrail::policy::limits::LimitsTable;

use crate::plan_props::doc;
use crate::support::{read, rt};

/// The fake's organization with the named policies (each on the root), emitted as `prod`.
fn emitted(policies: &[&str]) -> Emitted {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        for (i, name) in policies.iter().enumerate() {
            let id = f.create_policy(SCP, name, "", &doc(i as u8)).await.unwrap();
            f.attach_policy(&id, &root).await.unwrap();
        }
        let live = read(&f).await;
        config::emit("prod", &live, &LimitsTable::default()).unwrap()
    })
}

/// Every entry of `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn reimport_replaces_only_what_import_wrote() {
    let tmp = tempfile::tempdir().unwrap();
    let envs = tmp.path().join("environments");
    write_import(&envs, "prod", &emitted(&["a", "b"])).unwrap();
    assert_eq!(entries(&envs.join("prod")), [MANIFEST, "a.json", "b.json"]);

    // Hand-written: a boundary document, a note, a subdirectory.
    let boundary = envs.join("prod/boundary.json");
    fs::write(&boundary, "{\"hand\": \"written\"}").unwrap();
    fs::write(envs.join("prod/NOTES"), "keep me").unwrap();
    fs::create_dir(envs.join("prod/extra")).unwrap();
    fs::write(envs.join("prod/extra/x.json"), "{}").unwrap();

    // Policy b is gone, c is new.
    let report = write_import(&envs, "prod", &emitted(&["a", "c"])).unwrap();
    assert_eq!(report.dropped, ["b.json"]);
    assert_eq!(report.kept, ["NOTES", "boundary.json", "extra"]);
    assert_eq!(
        entries(&envs.join("prod")),
        [
            MANIFEST,
            "NOTES",
            "a.json",
            "boundary.json",
            "c.json",
            "extra"
        ]
    );
    assert_eq!(
        fs::read_to_string(&boundary).unwrap(),
        "{\"hand\": \"written\"}"
    );
    assert_eq!(
        fs::read_to_string(envs.join("prod/extra/x.json")).unwrap(),
        "{}"
    );
    let manifest = fs::read_to_string(envs.join("prod").join(MANIFEST)).unwrap();
    assert!(
        manifest.contains("a.json") && manifest.contains("c.json") && !manifest.contains("b.json")
    );
    // No temporary directory or file is left beside the environment.
    assert_eq!(entries(&envs), ["prod", "prod.toml"]);
}

#[test]
fn a_name_import_needs_held_by_a_hand_written_file_stops_it_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let envs = tmp.path().join("environments");
    fs::create_dir_all(envs.join("prod")).unwrap();
    fs::write(envs.join("prod.toml"), "# mine\n").unwrap();
    fs::write(envs.join("prod/a.json"), "{\"mine\": true}").unwrap();
    let err = write_import(&envs, "prod", &emitted(&["a"])).unwrap_err();
    assert!(format!("{err:#}").contains("a.json"), "{err:#}");
    assert_eq!(
        fs::read_to_string(envs.join("prod/a.json")).unwrap(),
        "{\"mine\": true}"
    );
    assert_eq!(
        fs::read_to_string(envs.join("prod.toml")).unwrap(),
        "# mine\n"
    );
    assert_eq!(entries(&envs), ["prod", "prod.toml"]);

    // The same bytes as import would write are no loss: adopted into the manifest.
    let e = emitted(&["a"]);
    fs::write(envs.join("prod/a.json"), &e.documents[0].1).unwrap();
    write_import(&envs, "prod", &e).unwrap();
    assert!(fs::read_to_string(envs.join("prod").join(MANIFEST))
        .unwrap()
        .contains("a.json"));
}

#[test]
fn a_failed_write_leaves_the_environment_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let envs = tmp.path().join("environments");
    write_import(&envs, "prod", &emitted(&["a"])).unwrap();
    let before_config = fs::read_to_string(envs.join("prod.toml")).unwrap();
    let before_doc = fs::read_to_string(envs.join("prod/a.json")).unwrap();

    let unchanged = |envs: &Path, extra: &[&str]| {
        assert_eq!(
            fs::read_to_string(envs.join("prod.toml")).unwrap(),
            before_config
        );
        assert_eq!(
            fs::read_to_string(envs.join("prod/a.json")).unwrap(),
            before_doc
        );
        let mut want = vec![MANIFEST, "a.json"];
        want.extend_from_slice(extra);
        want.sort();
        assert_eq!(entries(&envs.join("prod")), want);
        assert_eq!(entries(envs), ["prod", "prod.toml"], "no temporary left");
    };

    // A document path that is not a file in the directory.
    let mut broken = emitted(&["a", "b"]);
    broken.config.push_str("\n# new\n");
    broken.documents[1].0 = PathBuf::from("prod/sub/b.json");
    assert!(write_import(&envs, "prod", &broken).is_err());
    unchanged(&envs, &[]);

    // Halfway: the new directory is being filled when an entry cannot be carried over.
    #[cfg(unix)]
    {
        fs::write(envs.join("prod/NOTES"), "keep me").unwrap();
        let _socket = std::os::unix::net::UnixListener::bind(envs.join("prod/s.sock")).unwrap();
        let mut next = emitted(&["a", "c"]);
        next.config.push_str("\n# new\n");
        let err = write_import(&envs, "prod", &next).unwrap_err();
        assert!(format!("{err:#}").contains("s.sock"), "{err:#}");
        unchanged(&envs, &["NOTES", "s.sock"]);
    }
}

#[test]
fn plan_out_refuses_its_inputs_and_the_environments_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let envs = tmp.path().join("environments");
    write_import(&envs, "prod", &emitted(&["a"])).unwrap();
    let config = envs.join("prod.toml");
    let document = envs.join("prod/a.json");
    let template = tmp.path().join("guardrails/lock.toml");
    fs::create_dir_all(template.parent().unwrap()).unwrap();
    fs::write(&template, "").unwrap();
    let inputs = [config.clone(), document.clone(), template.clone()];

    let refused = [
        config.clone(),
        document.clone(),
        template.clone(),
        envs.join("prod/new.plan"),
        envs.join("new.plan"),
        tmp.path().join("guardrails/../environments/prod.toml"),
        envs.join("prod"),
    ];
    for out in &refused {
        let err = check_out_path(out, &envs, &inputs).unwrap_err();
        assert!(format!("{err:#}").contains("refusing --out"), "{err:#}");
    }
    #[cfg(unix)]
    {
        let link = tmp.path().join("link.plan");
        std::os::unix::fs::symlink(&template, &link).unwrap();
        assert!(check_out_path(&link, &envs, &inputs).is_err());
        let dangling = tmp.path().join("dangling.plan");
        std::os::unix::fs::symlink(envs.join("prod/x.plan"), &dangling).unwrap();
        assert!(check_out_path(&dangling, &envs, &inputs).is_err());
    }
    check_out_path(&tmp.path().join("guardrail.plan"), &envs, &inputs).unwrap();
    assert!(check_out_path(&tmp.path().join("no/such/dir.plan"), &envs, &inputs).is_err());
}

const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#;

/// Writes `environments/prod.toml` with one policy whose `document` is `document`, plus
/// `extra` top-level lines, and loads it.
fn load_with_document(
    tmp: &Path,
    document: &str,
    extra: &str,
) -> Result<guardrail::model::Desired, config::ConfigErrors> {
    let envs = tmp.join("environments");
    fs::create_dir_all(envs.join("prod")).unwrap();
    let text = format!(
        "{extra}[organization]\nmanagement_account = \"123456789012\"\n\n[policies.p]\ndocument = \"{document}\"\n"
    );
    fs::write(envs.join("prod.toml"), text).unwrap();
    config::load(&envs.join("prod.toml"))
}

#[test]
fn documents_outside_the_config_directory_are_config_errors() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("outside.json"), DOC).unwrap();
    let outside = tmp.path().join("outside.json");
    for document in [
        "../../../etc/passwd",
        "../outside.json",
        &outside.display().to_string(),
    ] {
        let errs = load_with_document(tmp.path(), document, "").unwrap_err();
        assert_eq!(errs.0.len(), 1, "{errs}");
        let e = &errs.0[0];
        assert_eq!(e.kind, ErrorKind::InvalidValue, "{e}");
        assert_eq!(e.key, "policies.p.document");
        assert_eq!(e.line, 5, "{e}");
        assert!(e.to_string().contains("prod.toml:5:"), "{e}");
        assert!(
            e.help.as_deref().unwrap_or("").contains("documents_root"),
            "{e:?}"
        );
    }
    // Inside the directory is fine, `..` that stays inside too.
    fs::write(tmp.path().join("environments/prod/p.json"), DOC).unwrap();
    load_with_document(tmp.path(), "prod/../prod/p.json", "").unwrap();
}

#[cfg(unix)]
#[test]
fn a_symlink_pointing_outside_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let secret = tmp.path().join("secret.json");
    fs::write(&secret, DOC).unwrap();
    fs::create_dir_all(tmp.path().join("environments/prod")).unwrap();
    std::os::unix::fs::symlink(&secret, tmp.path().join("environments/prod/p.json")).unwrap();
    let errs = load_with_document(tmp.path(), "prod/p.json", "").unwrap_err();
    let e = &errs.0[0];
    assert_eq!(
        (e.kind, e.key.as_str(), e.line),
        (ErrorKind::InvalidValue, "policies.p.document", 5)
    );
    assert!(e.message.contains("resolves to"), "{e}");
    // Allowed by documents_root.
    let d = load_with_document(tmp.path(), "prod/p.json", "documents_root = \"..\"\n").unwrap();
    assert!(d.policies.contains_key("p"));
}

#[test]
fn documents_root_allows_one_outside_directory() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("policies")).unwrap();
    fs::write(tmp.path().join("policies/p.json"), DOC).unwrap();
    fs::write(tmp.path().join("other.json"), DOC).unwrap();
    let root = "documents_root = \"../policies\"\n";
    load_with_document(tmp.path(), "../policies/p.json", root).unwrap();
    let errs = load_with_document(tmp.path(), "../other.json", root).unwrap_err();
    assert_eq!(errs.0[0].key, "policies.p.document", "{errs}");
    assert_eq!(errs.0[0].line, 6, "{errs}");
}

#[test]
fn numeric_options_out_of_range_are_clap_errors() {
    for (args, env, name) in [
        (vec!["--rate-scale", "1e-20"], None, "--rate-scale"),
        (vec!["--rate-scale", "NaN"], None, "--rate-scale"),
        (vec!["--rate-scale", "1e9"], None, "--rate-scale"),
        (vec!["--concurrency", "0"], None, "--concurrency"),
        (vec!["--concurrency", "100000"], None, "--concurrency"),
        (vec![], Some("1e-20"), "--rate-scale"),
    ] {
        let mut cmd = assert_cmd::Command::cargo_bin("guardrail").unwrap();
        // AWS options belong to the online commands; clap refuses before any request.
        cmd.args(["plan", "--env", "x"])
            .args(&args)
            .env_remove("GUARDRAIL_RATE_SCALE");
        if let Some(v) = env {
            cmd.env("GUARDRAIL_RATE_SCALE", v);
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(name) && stderr.contains("invalid value"),
            "{stderr}"
        );
    }
}
