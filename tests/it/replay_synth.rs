//! `--replay` on generated logs (`replay::synth`): the newly denied set is exactly the one the
//! generator's own facts give (computed without the replay code), on gzip files in an
//! organization trail's folders; and on bad input (a truncated `.gz`, JSON that is not a
//! CloudTrail log, records with unknown fields or wrong types) the run reports each file and
//! goes on, replaying what it could read.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use guardrail::model::Desired;
use guardrail::policy::eval::Path as EvalPath;
use guardrail::replay::synth::{Event, Generator, Identity, Options};
use guardrail::replay::{self, read, synth_write, Replayer, Report, Skip, Window};

use crate::region_lock::{config_head, ALLOWED};
use crate::replay::full_access_only;

const MGMT: &str = "111111111111";
const LOCKED: [&str; 3] = ["222222222201", "222222222202", "222222222203"];
const OPEN: [&str; 2] = ["333333333301", "333333333302"];

/// A config: a region lock (eu-west-1, eu-central-1) on OU Locked, break-glass exempt.
fn config(dir: &Path) -> Desired {
    let mut cfg = config_head(MGMT, true);
    cfg.push_str(&format!(
        r#"
[accounts.management]
id = "{MGMT}"
policies = ["FullAWSAccess"]
"#
    ));
    for (ou, ids) in [("Locked", &LOCKED[..]), ("Open", &OPEN[..])] {
        for id in ids {
            cfg.push_str(&format!(
                "\n[accounts.a{id}]\nid = \"{id}\"\nou = \"{ou}\"\npolicies = [\"FullAWSAccess\"]\n"
            ));
        }
    }
    let path = dir.join("synth.toml");
    std::fs::write(&path, cfg).unwrap();
    guardrail::config::load(&path).unwrap_or_else(|e| panic!("{e:?}"))
}

/// Before the change: FullAWSAccess alone, the management account exempt.
fn bare(account: &str) -> Option<EvalPath> {
    full_access_only(account == MGMT)
}

fn options(seed: u64) -> Options {
    Options {
        seed,
        org_id: "o-synthetic01".into(),
        management: MGMT.into(),
        accounts: LOCKED.iter().chain(&OPEN).map(|s| s.to_string()).collect(),
        regions: ["us-east-1", "eu-west-1", "eu-central-1", "us-west-2"]
            .map(String::from)
            .to_vec(),
        exempt_role: "BreakGlass".into(),
        files: 40,
        records_per_file: 60,
        start: replay::parse_time("2026-10-01T00:00:00Z")
            .unwrap()
            .unix_timestamp(),
        days: 30,
    }
}

/// Writes the logs; returns the generator's facts about every record.
fn generate(dir: &Path, seed: u64) -> Vec<Event> {
    let mut events = Vec::new();
    for (i, f) in Generator::new(options(seed)).enumerate() {
        synth_write::write(dir, &f, i % 4 != 0).unwrap();
        events.extend(f.events);
    }
    events
}

fn replay_dir(desired: &Desired, dir: &Path) -> Report {
    let after = replay::desired_side(desired);
    let mut r = Replayer::new(Window::default(), Some(&bare), &after);
    read::read_logs(dir, &mut r).unwrap();
    r.finish()
}

type Groups = BTreeMap<(String, String, String), usize>;

/// The newly denied set from the generator's facts alone.
fn expected(events: &[Event]) -> Groups {
    let allowed = ALLOWED.map(String::from);
    let locked = |a: &str| LOCKED.contains(&a);
    let mut out = Groups::new();
    for e in events.iter().filter(|e| e.out_of_region(&locked, &allowed)) {
        let p = e.principal.clone().expect("an IAM principal");
        *out.entry((e.account.clone(), e.action.to_owned(), p))
            .or_default() += 1;
    }
    out
}

fn got(r: &Report) -> Groups {
    let mut out = Groups::new();
    for f in &r.newly_denied {
        *out.entry((f.account.clone(), f.action.clone(), f.principal.clone()))
            .or_default() += f.count;
    }
    out
}

#[test]
fn generated_logs_replay_to_exactly_the_out_of_region_requests_of_the_locked_accounts() {
    for seed in [1, 7, 42] {
        let tmp = tempfile::tempdir().unwrap();
        let desired = config(tmp.path());
        let logs = tmp.path().join("logs");
        let events = generate(&logs, seed);
        let want = expected(&events);
        assert!(want.len() >= 10, "seed {seed}: a meaningful set: {want:?}");
        let r = replay_dir(&desired, &logs);
        assert_eq!(r.records_read, events.len());
        assert!(r.file_errors.is_empty(), "{:?}", r.file_errors);
        assert_eq!(r.bad_records, 0);
        assert!(r.unmappable.is_empty(), "{:?}", r.unmappable);
        assert_eq!(got(&r), want, "seed {seed}");
        // The owners' copies of cross-account calls (same sharedEventID) counted once.
        let copies = events.iter().filter(|e| e.copy).count();
        assert!(copies > 0, "seed {seed}: cross-account calls");
        assert_eq!(
            r.skipped.get(&Skip::Duplicate),
            Some(&copies),
            "seed {seed}"
        );
        // Every flip is the region lock's statement, on a locked account.
        for f in &r.newly_denied {
            assert!(LOCKED.contains(&f.account.as_str()), "{f:?}");
            let statement = f.statement.as_deref().unwrap_or_default();
            assert!(statement.contains("DenyOutsideAllowedRegions"), "{f:?}");
        }
        assert!(r.newly_allowed.is_empty());
        // Repeated requests were evaluated once.
        assert!(
            r.distinct_requests < r.events_mapped,
            "{} distinct of {}",
            r.distinct_requests,
            r.events_mapped
        );
    }
}

#[test]
fn generated_logs_hold_every_identity_and_the_exempt_ones_are_never_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let desired = config(tmp.path());
    let logs = tmp.path().join("logs");
    let events = generate(&logs, 3);
    for id in [
        Identity::Workload,
        Identity::SsoRole,
        Identity::IamUser,
        Identity::Root,
        Identity::FederatedUser,
        Identity::Exempt,
        Identity::ServiceLinkedRole,
        Identity::AwsService,
        Identity::Saml,
    ] {
        assert!(events.iter().any(|e| e.identity == id), "no {id:?}");
    }
    // Out-of-region calls the lock must not list: the management account's, service-linked
    // roles', the break-glass role's.
    let exempt_out_of_region = |f: &dyn Fn(&Event) -> bool| {
        events
            .iter()
            .any(|e| f(e) && e.regional && !ALLOWED.contains(&e.region.as_str()) && e.api_call)
    };
    assert!(exempt_out_of_region(&|e| e.account == MGMT));
    assert!(exempt_out_of_region(&|e| e.identity
        == Identity::ServiceLinkedRole
        && LOCKED.contains(&e.account.as_str())));
    assert!(exempt_out_of_region(
        &|e| e.identity == Identity::Exempt && LOCKED.contains(&e.account.as_str())
    ));
    let r = replay_dir(&desired, &logs);
    for f in &r.newly_denied {
        assert_ne!(f.account, MGMT);
        assert!(!f.principal.contains("aws-service-role"), "{}", f.principal);
        assert!(!f.principal.ends_with("role/BreakGlass"), "{}", f.principal);
    }
    let skipped = |label: &str| {
        r.skipped
            .iter()
            .find(|(k, _)| k.label() == label)
            .map_or(0, |(_, n)| *n)
    };
    assert!(skipped("exempt (management account)") > 0);
    assert!(skipped("exempt (service-linked role)") > 0);
    assert!(skipped("AWS service principal") > 0);
    assert!(skipped("not an API call") > 0);
    assert!(skipped("no IAM principal (SAMLUser)") > 0);
    assert!(skipped("already denied") > 0);
    // The organization trail's folders and gzip.
    let some = walk(&logs);
    assert!(some.iter().any(|p| p.ends_with(".json.gz")));
    assert!(some.iter().any(|p| p.ends_with(".json")));
    assert!(some
        .iter()
        .all(|p| p.contains("/AWSLogs/o-synthetic01/") && p.contains("/CloudTrail/")));
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

#[test]
fn the_generator_is_deterministic_per_seed() {
    let a: Vec<_> = Generator::new(options(5))
        .map(|f| (f.path, f.records))
        .collect();
    let b: Vec<_> = Generator::new(options(5))
        .map(|f| (f.path, f.records))
        .collect();
    let c: Vec<_> = Generator::new(options(6))
        .map(|f| (f.path, f.records))
        .collect();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

fn record(t: &str, region: &str) -> serde_json::Value {
    serde_json::json!({"eventVersion": "1.11", "eventTime": t,
        "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{}:user/ci", LOCKED[0]),
            "accountId": LOCKED[0], "userName": "ci", "somethingNew": {"x": [1, 2]}},
        "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances", "awsRegion": region,
        "sourceIPAddress": "198.51.100.1", "recipientAccountId": LOCKED[0],
        "eventType": "AwsApiCall", "eventCategory": "Management", "aFieldFrom2030": true})
}

#[test]
fn bad_files_are_reported_one_by_one_and_the_run_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let desired = config(tmp.path());
    let logs = tmp.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let gz = |records: Vec<serde_json::Value>| {
        let body = serde_json::to_vec(&serde_json::json!({ "Records": records })).unwrap();
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&body).unwrap();
        e.finish().unwrap()
    };
    // A truncated .gz: many records, cut in the middle of the stream.
    let many: Vec<_> = (0..2000)
        .map(|i| {
            record(
                &format!("2026-11-01T10:{:02}:{:02}Z", i / 60 % 60, i % 60),
                "us-west-2",
            )
        })
        .collect();
    let full = gz(many);
    std::fs::write(logs.join("a-truncated.json.gz"), &full[..full.len() / 2]).unwrap();
    std::fs::write(logs.join("b-not-gzip.json.gz"), b"{\"Records\": []}").unwrap();
    std::fs::write(
        logs.join("c-not-cloudtrail.json"),
        b"{\"hello\": [1, 2, 3]}",
    )
    .unwrap();
    std::fs::write(logs.join("d-array.json"), b"[{\"eventName\": \"x\"}]").unwrap();
    std::fs::write(logs.join("e-empty.json"), b"").unwrap();
    let mut wrong_type = record("2026-11-01T11:00:00Z", "us-west-2");
    wrong_type["eventName"] = serde_json::json!(42);
    let good = serde_json::json!({"Records": [record("2026-11-01T12:00:00Z", "us-west-2"),
        wrong_type, record("2026-11-01T12:05:00Z", "eu-west-1")]});
    std::fs::write(logs.join("f-good.json"), good.to_string()).unwrap();

    let r = replay_dir(&desired, &logs);
    let errors: BTreeMap<String, String> = r
        .file_errors
        .iter()
        .map(|(f, e)| {
            (
                Path::new(f).file_name().unwrap().to_string_lossy().into(),
                e.clone(),
            )
        })
        .collect();
    assert_eq!(
        errors.keys().cloned().collect::<Vec<_>>(),
        [
            "a-truncated.json.gz",
            "b-not-gzip.json.gz",
            "c-not-cloudtrail.json",
            "d-array.json",
            "e-empty.json"
        ],
        "{errors:#?}"
    );
    assert!(errors["c-not-cloudtrail.json"].contains("not a CloudTrail log"));
    assert_eq!(r.files_read, 1, "only the good file read whole");
    assert_eq!(r.bad_records, 1, "the record with a number for eventName");
    // Records stream: the truncated file's records before the cut were replayed (a reader
    // that parsed whole files first would have none).
    let cut = &errors["a-truncated.json.gz"];
    assert!(cut.contains("which were replayed"), "{cut}");
    let streamed = r.records_read - 3;
    assert!(streamed > 100 && streamed < 2000, "{streamed}");
    let run = r
        .newly_denied
        .iter()
        .find(|f| f.action == "ec2:RunInstances")
        .unwrap();
    assert_eq!(
        run.count,
        streamed + 1,
        "the cut file's and the good file's us-west-2 calls"
    );
}

/// `--replay-fail-on-deny`: exit 3 when the replay finds a newly denied request, 0 without the
/// flag or when nothing is newly denied; it needs `--replay`.
#[test]
fn replay_fail_on_deny_exits_3_only_when_something_is_newly_denied() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let validate = |extra: &[&str], logs: &Path| {
        assert_cmd::Command::cargo_bin("guardrail")
            .unwrap()
            .current_dir(root)
            .args(["validate", "--env", "example", "--replay"])
            .arg(logs)
            .args(extra)
            .output()
            .unwrap()
            .status
            .code()
    };
    let fixtures = root.join("tests/fixtures/cloudtrail");
    assert_eq!(validate(&["--replay-fail-on-deny"], &fixtures), Some(3));
    assert_eq!(validate(&[], &fixtures), Some(0));
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(
        validate(&["--replay-fail-on-deny"], empty.path()),
        Some(0),
        "nothing replayed, nothing newly denied"
    );
    let alone = assert_cmd::Command::cargo_bin("guardrail")
        .unwrap()
        .current_dir(root)
        .args(["validate", "--env", "example", "--replay-fail-on-deny"])
        .output()
        .unwrap();
    assert_eq!(alone.status.code(), Some(2), "clap: requires --replay");
}

/// Counts the bytes a reader hands over.
struct Counted<'c, R> {
    inner: R,
    bytes: &'c std::cell::Cell<u64>,
}

impl<R: std::io::Read> std::io::Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.set(self.bytes.get() + n as u64);
        Ok(n)
    }
}

/// A sink that only counts records.
#[derive(Default)]
struct Records(usize);

impl replay::sink::Sink for Records {
    fn file_read(&mut self) {}
    fn file_error(&mut self, _: String, _: String) {}
    fn add_raw(&mut self, _: serde_json::Value) {
        self.0 += 1;
    }
}

/// A gzip file of 1,024 members (`flate2` reads multi-member streams, as AWS's are): `head`,
/// then 1 GiB of `a`, with no end. About a megabyte on disk.
fn gzip_bomb(path: &Path, head: &str) {
    let member = |body: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(body).unwrap();
        e.finish().unwrap()
    };
    let mib = vec![b'a'; 1 << 20];
    let mut out = member(&[head.as_bytes(), &mib].concat());
    let rest = member(&mib);
    for _ in 1..1024 {
        out.extend_from_slice(&rest);
    }
    std::fs::write(path, out).unwrap();
}

/// A 2 GiB directory: a sparse 2 GiB `*.json` (one record, then a hole of zero bytes) and two
/// gzip files that inflate to 1 GiB each (one string inside a record; one outside `Records`),
/// beside generated logs. Each bad file is reported and the run goes on with the exact result
/// for the rest; the reader stops within a megabyte of each bad file (so memory stays bounded:
/// it can hold no more than it read), where reading the files whole would take 4 GiB.
#[test]
fn a_2_gib_directory_reports_its_bad_files_and_replays_the_rest_within_a_megabyte_each() {
    let tmp = tempfile::tempdir().unwrap();
    let desired = config(tmp.path());
    let logs = tmp.path().join("logs");
    let events = generate(&logs, 9);
    let sparse = logs.join("sparse.json");
    let one = record("2026-11-01T12:00:00Z", "us-west-2");
    std::fs::write(&sparse, format!("{{\"Records\": [{one},")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&sparse)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    assert_eq!(std::fs::metadata(&sparse).unwrap().len(), 2 << 30);
    gzip_bomb(
        &logs.join("bomb-record.json.gz"),
        r#"{"Records": [{"eventName": ""#,
    );
    gzip_bomb(&logs.join("bomb-padding.json.gz"), r#"{"padding": ""#);

    let r = replay_dir(&desired, &logs);
    let errors: BTreeMap<String, String> = r
        .file_errors
        .iter()
        .map(|(f, e)| (f.rsplit('/').next().unwrap().to_owned(), e.clone()))
        .collect();
    assert_eq!(
        errors.keys().map(String::as_str).collect::<Vec<_>>(),
        ["bomb-padding.json.gz", "bomb-record.json.gz", "sparse.json"],
        "{errors:#?}"
    );
    assert!(
        errors["sparse.json"].contains("after 1 record(s)"),
        "{errors:#?}"
    );
    for bomb in ["bomb-padding.json.gz", "bomb-record.json.gz"] {
        assert!(errors[bomb].contains("over 1024 KiB"), "{errors:#?}");
    }
    assert_eq!(r.records_read, events.len() + 1);
    assert_eq!(r.bad_records, 0);
    let mut want = expected(&events);
    let ci = format!("arn:aws:iam::{}:user/ci", LOCKED[0]);
    *want
        .entry((LOCKED[0].to_owned(), "ec2:RunInstances".to_owned(), ci))
        .or_default() += 1;
    assert_eq!(
        got(&r),
        want,
        "the sparse file's record before the hole counts"
    );

    // What the reader pulled before giving up on each bad file.
    let pulled = |reader: Box<dyn std::io::Read>| {
        let bytes = std::cell::Cell::new(0);
        let mut sink = Records::default();
        let counted = Counted {
            inner: reader,
            bytes: &bytes,
        };
        assert!(read::read_log(counted, &mut sink).is_err());
        (bytes.get(), sink.0)
    };
    let file = |name: &str| std::fs::File::open(logs.join(name)).unwrap();
    let (n, records) = pulled(Box::new(file("sparse.json")));
    assert_eq!(records, 1);
    assert!(n <= 1 << 17, "{n} bytes of the sparse file");
    for bomb in ["bomb-padding.json.gz", "bomb-record.json.gz"] {
        let inflate = flate2::read::MultiGzDecoder::new(file(bomb));
        let (n, records) = pulled(Box::new(inflate));
        assert_eq!(records, 0);
        assert!(
            n > 1 << 20 && n <= (1 << 20) + (1 << 18),
            "{n} bytes of {bomb}"
        );
    }
}

/// A symbolic link to a parent directory would make the walk endless, and a second link to a
/// directory would read its files twice: each directory is walked once.
#[cfg(unix)]
#[test]
fn a_directory_reached_again_through_a_link_is_walked_once() {
    let tmp = tempfile::tempdir().unwrap();
    let desired = config(tmp.path());
    let logs = tmp.path().join("logs");
    let events = generate(&logs, 4);
    let files = walk(&logs).len();
    std::os::unix::fs::symlink(&logs, logs.join("loop")).unwrap();
    std::os::unix::fs::symlink(logs.join("AWSLogs"), logs.join("again")).unwrap();
    let r = replay_dir(&desired, &logs);
    assert!(r.file_errors.is_empty(), "{:?}", r.file_errors);
    assert_eq!(r.files_read, files);
    assert_eq!(r.records_read, events.len());
    assert_eq!(got(&r), expected(&events));
}
