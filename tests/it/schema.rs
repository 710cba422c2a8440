//! The config's JSON Schema (`config::schema`) cannot silently lag the parser: the parser and
//! the schema agree on every key of every table (the parser's own list of known keys, read
//! from its unknown-key errors, against the schema's properties), configs that use every
//! feature parse and validate, and the checked-in `schema/guardrail-config.schema.json` is
//! what the code generates.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use guardrail::config::{schema, ErrorKind};
use guardrail::policy::template;
use serde_json::{json, Value};
use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table};

use super::support::parse_with;

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&schema::json_schema()).expect("the schema is a valid JSON Schema")
}

fn as_json(text: &str) -> Value {
    let doc = toml_edit::ImDocument::parse(text).unwrap();
    template::toml_to_json(doc.as_item())
}

fn schema_errors(text: &str) -> Vec<String> {
    let instance = as_json(text);
    validator()
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

#[test]
fn checked_in_schema_is_what_the_code_generates() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(schema::SCHEMA_PATH);
    let want = schema::json_schema_text();
    if std::env::var_os("GUARDRAIL_UPDATE_SCHEMA").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is out of date; regenerate it with `cargo run --bin guardrail -- schema > {}` \
         (or `GUARDRAIL_UPDATE_SCHEMA=1 cargo test --test it schema`) and commit it",
        schema::SCHEMA_PATH,
        schema::SCHEMA_PATH
    );
}

/// Follows a local `$ref` (`#/definitions/X`).
fn resolve<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => root
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling {r}")),
        None => s,
    }
}

/// Builds, from the schema, a TOML table holding every property the schema knows (values of
/// the right shape, so the parser descends into every table) and one key the schema does not
/// know, `zz_N`; `expected[N]` is the schema's key set of that table.
struct Gen<'a> {
    root: &'a Value,
    expected: Vec<BTreeSet<String>>,
}

impl Gen<'_> {
    fn table(&mut self, s: &Value) -> Table {
        let s = resolve(self.root, s);
        let mut t = Table::new();
        let props = s["properties"].as_object().cloned().unwrap_or_default();
        for (k, p) in &props {
            t.insert(k, self.item(&p.clone()));
        }
        let n = self.expected.len();
        self.expected.push(props.keys().cloned().collect());
        t.insert(&format!("zz_{n}"), toml_edit::value("x"));
        t
    }

    fn item(&mut self, s: &Value) -> Item {
        let s = resolve(self.root, s).clone();
        if let Some(first) = s["enum"].get(0).and_then(Value::as_str) {
            return toml_edit::value(first);
        }
        if s.get("properties").is_some() {
            return Item::Table(self.table(&s));
        }
        match s["type"].as_str() {
            Some("object") => {
                // A map: one entry, named `x`.
                let mut t = Table::new();
                t.insert("x", self.item(&s["additionalProperties"]));
                Item::Table(t)
            }
            Some("array") => {
                let items = resolve(self.root, &s["items"]).clone();
                if items.get("properties").is_some() {
                    let mut a = ArrayOfTables::new();
                    a.push(self.table(&items));
                    Item::ArrayOfTables(a)
                } else {
                    let mut a = Array::new();
                    match self.item(&items) {
                        Item::Value(v) => a.push(v),
                        other => panic!("array of {other:?}"),
                    }
                    toml_edit::value(a)
                }
            }
            Some("integer") => toml_edit::value(1),
            Some("boolean") => toml_edit::value(true),
            _ => toml_edit::value("x"),
        }
    }
}

/// The parser's known keys of the table that holds `zz_N`, from its error's help.
fn parser_keys(help: &str) -> BTreeSet<String> {
    if help == "this template takes no parameters" {
        return BTreeSet::new();
    }
    let list = help
        .strip_prefix("known keys here: ")
        .or_else(|| help.strip_prefix("its parameters: "))
        .unwrap_or_else(|| panic!("unexpected help: {help}"));
    list.split(", ").map(str::to_owned).collect()
}

#[test]
fn parser_and_schema_agree_on_every_key() {
    let root = schema::json_schema();
    let mut gen = Gen {
        root: &root,
        expected: Vec::new(),
    };
    let mut doc = DocumentMut::new();
    for (k, v) in gen.table(&root).iter() {
        doc.insert(k, v.clone());
    }
    // One instance of every built-in template, with every parameter the schema gives it.
    let branches = root["definitions"]["GuardrailInstance"]["allOf"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(branches.len(), template::BUILTIN.len());
    let mut instances = Table::new();
    let mut templates = Vec::new();
    for b in &branches {
        let then = &b["then"];
        let name = then["properties"]["template"]["const"].as_str().unwrap();
        let mut t = gen.table(then);
        t.insert("template", toml_edit::value(name));
        // The parser lists the parameters alone: not `template`, nor the rollout's `stage`
        // (which the generated config sets, so a parser that refused it would fail above).
        let keys = gen.expected.last_mut().unwrap();
        keys.remove("template");
        keys.remove("stage");
        templates.push(name.to_owned());
        instances.insert(&format!("g-{name}"), Item::Table(t));
    }
    doc.insert("guardrails", Item::Table(instances));
    let text = doc.to_string();

    let errors = parse_with(&text, &BTreeMap::new()).expect_err("the generated config has errors");
    let mut seen = BTreeSet::new();
    for e in errors.0.iter().filter(|e| e.kind == ErrorKind::UnknownKey) {
        let n: usize = e
            .message
            .split("zz_")
            .nth(1)
            .and_then(|rest| rest.split('`').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("the parser refused a key the schema allows: {e}\n{text}"));
        let help = e.help.as_deref().unwrap_or_default();
        assert_eq!(
            parser_keys(help),
            gen.expected[n],
            "the parser and the schema disagree on the keys of the table at {}",
            e.key
        );
        seen.insert(n);
    }
    // Every table of the final text (the generated `guardrails` map was replaced by one
    // instance of each template).
    let all: BTreeSet<usize> = (0..gen.expected.len())
        .filter(|n| text.contains(&format!("zz_{n} =")))
        .collect();
    assert!(all.len() > 20, "{text}");
    assert_eq!(
        seen, all,
        "some tables were not checked by the parser\n{text}"
    );
    assert!(templates.len() >= 19);
}

/// Every feature of the config: boundaries, assertions, limits, account by email, RCPs,
/// guardrails with and without parameters, documents_root.
const FULL: &str = r#"
documents_root = "shared"

[organization]
management_account = "111111111111"
deployer = "arn:aws:iam::111111111111:role/deployer"
break_glass = ["arn:aws:iam::*:role/BreakGlass"]
member_role = "OrganizationAccountAccessRole"
guardrails_dir = "../guardrails"
ignore_unmanaged = ["aws-guardrails-*"]

[policies.deny-leave]
description = "no leaving"
document = "docs/deny-leave.json"
type = "scp"
id = "p-abcdefgh12"

[policies.rcp-one]
document = "docs/rcp.json"
type = "rcp"

[guardrails.eu]
template = "region-lock"
allowed_regions = ["eu-west-1"]

[guardrails.no-root]
template = "root-user-deny"

[boundaries.dev]
policy_name = "DevBoundary"
path = "/guardrail/"
document = "docs/boundary.json"
ous = ["Workloads"]
accounts = ["dev"]
member_role = "OrganizationAccountAccessRole"
exempt_roles = ["Admin*"]
enforce = ["deploy", "require", "protect", "audit", "attach-existing"]

[root]
policies = ["FullAWSAccess", "deny-leave"]
guardrails = ["no-root"]

[ous."Workloads"]
policies = ["FullAWSAccess", "RCPFullAWSAccess", "rcp-one"]
guardrails = ["eu"]

[ous."Workloads/Prod"]

[accounts.dev]
id = "222222222222"
ou = "Workloads/Prod"
policies = ["FullAWSAccess"]
guardrails = ["eu"]

[accounts.new]
email = "new@example.com"
ou = "Workloads"

[[assert]]
ou = "Workloads/Prod"
action = "ec2:RunInstances"
region = "us-west-2"
principal = "arn:aws:iam::*:role/app"
resource = "*"
context = { "aws:MultiFactorAuthPresent" = "false" }
expect = "deny"

[[assert]]
account = "dev"
action = "s3:GetObject"
region = "eu-west-1"
expect = "allow"

[limits.scp]
max_document_chars = 10240
max_attachments_per_target = 10
min_attachments_per_target = 1
max_policies_per_org = 1000

[limits.rcp]
max_attachments_per_target = 5

[limits.org]
max_ou_depth = 5
max_ous = 1000
"#;

fn full_docs() -> BTreeMap<PathBuf, String> {
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoLeave","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#;
    let rcp = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoHttp","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;
    let boundary = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"iam:CreateUser","Resource":"*"}]}"#;
    [
        ("docs/deny-leave.json", deny),
        ("docs/rcp.json", rcp),
        ("docs/boundary.json", boundary),
    ]
    .into_iter()
    .map(|(p, t)| (PathBuf::from(p), t.to_owned()))
    .collect()
}

#[test]
fn a_config_using_every_feature_parses_and_matches_the_schema() {
    parse_with(FULL, &full_docs()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(schema_errors(FULL), Vec::<String>::new());
}

#[test]
fn the_shipped_environments_match_the_schema() {
    // `environments/sandbox.toml` is written by `scripts/sandbox` (ignored by git), so a
    // fresh clone has only the example.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("environments/example.toml");
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(schema_errors(&text), Vec::<String>::new(), "example.toml");
}

#[test]
fn the_schema_refuses_what_the_parser_refuses() {
    let cases = [
        ("an unknown top-level key", "colour = \"x\"\n"),
        (
            "a typo in a target",
            "[root]\npolicy = [\"FullAWSAccess\"]\n",
        ),
        ("a bad account id", "[accounts.a]\nid = \"12345\"\n"),
        (
            "a parameter of another template",
            "[guardrails.g]\ntemplate = \"root-user-deny\"\nallowed_regions = [\"eu-west-1\"]\n",
        ),
        (
            "a required parameter left out",
            "[guardrails.g]\ntemplate = \"region-lock\"\n",
        ),
        (
            "a parameter of the wrong type",
            "[guardrails.g]\ntemplate = \"region-lock\"\nallowed_regions = \"eu-west-1\"\n",
        ),
        (
            "an unknown enforce",
            "[boundaries.b]\npolicy_name = \"B\"\ndocument = \"b.json\"\nenforce = [\"all\"]\n",
        ),
        (
            "expect",
            "[[assert]]\naccount = \"a\"\naction = \"s3:GetObject\"\nexpect = \"denied\"\n",
        ),
    ];
    let org = "[organization]\nmanagement_account = \"111111111111\"\n";
    for (what, extra) in cases {
        let text = format!("{org}{extra}");
        assert!(!schema_errors(&text).is_empty(), "the schema allows {what}");
        assert!(
            parse_with(&text, &BTreeMap::new()).is_err(),
            "the parser allows {what}"
        );
    }
    // A template from `guardrails_dir` is not known to the schema: any keys pass.
    let custom = format!("{org}[guardrails.g]\ntemplate = \"my-own\"\nanything = true\n");
    assert_eq!(schema_errors(&custom), Vec::<String>::new());
    assert_eq!(
        schema::json_schema()["$id"],
        json!(schema::SCHEMA_URL),
        "the schema names where it is published"
    );
}

#[test]
fn import_writes_the_schema_directive_first_and_plans_empty() {
    let shape = guardrail::live::demo::Shape {
        accounts: 4,
        ous: 6,
        policies: 5,
        bare: false,
    };
    let (config, again) = super::support::rt().block_on(async {
        let fake = guardrail::live::fake::FakeOrg::new("999999999999");
        guardrail::live::demo::seed(&fake, shape, 4).await.unwrap();
        let (live, desired, emitted) = super::support::import(&fake).await;
        let plan = guardrail::plan::plan(&desired, &live).unwrap();
        assert!(
            plan.changes.is_empty(),
            "import then plan: {:?}",
            plan.changes
        );
        let (_, _, again) = super::support::import(&fake).await;
        (emitted.config, again.config)
    });
    assert_eq!(
        config.lines().next(),
        Some(format!("#:schema {}", schema::SCHEMA_URL).as_str())
    );
    assert_eq!(config, again, "the emitted config is deterministic");
    assert_eq!(schema_errors(&config), Vec::<String>::new());
}

#[test]
fn the_schema_url_is_in_the_repository_cargo_names() {
    let repo = env!("CARGO_PKG_REPOSITORY");
    let path = repo
        .strip_prefix("https://github.com/")
        .expect("the repository is on GitHub");
    assert_eq!(
        schema::SCHEMA_URL,
        format!(
            "https://raw.githubusercontent.com/{path}/v{}/{}",
            env!("CARGO_PKG_VERSION"),
            schema::SCHEMA_PATH
        ),
        "Cargo.toml's repository moved: update SCHEMA_URL in src/config/schema.rs"
    );
}
