//! The JSON Schema of `environments/<env>.toml`, for editors (taplo / Even Better TOML read the
//! `#:schema` directive `import` writes at the top of a config) and for other tools.
//!
//! The parser walks `toml_edit`'s document directly (for spans), so the schema is derived with
//! `schemars` from the types below, which mirror the keys the parser accepts, one struct per
//! table, their doc comments becoming the editor's hover text. They are never built. The
//! guardrail instances are described from the templates themselves: each built-in template's
//! parameters, with their types, defaults and descriptions. `tests/it/schema.rs` checks that
//! the parser and the schema agree on every key, and that the checked-in
//! `schema/guardrail-config.schema.json` is this schema.
#![allow(dead_code)] // The mirror types exist only to be described, never constructed.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use crate::model::POLICY_TYPES;
use crate::policy::template::{self, ParamKind, ParamValue, Template};

/// Where the schema of this version is published: what `import`'s `#:schema` directive names.
pub const SCHEMA_URL: &str = concat!(
    "https://raw.githubusercontent.com/guardrail-org/guardrail/v",
    env!("CARGO_PKG_VERSION"),
    "/schema/guardrail-config.schema.json"
);

/// The checked-in copy, relative to the repository root.
pub const SCHEMA_PATH: &str = "schema/guardrail-config.schema.json";

/// One organization's guardrails as code (docs/config.md describes every key).
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields, title = "guardrail environment config")]
struct Config {
    /// One more directory (relative to this file, or absolute) that `document` paths may lie in.
    documents_root: Option<String>,
    organization: Organization,
    /// Policies guardrail manages, by their name in AWS.
    policies: Option<BTreeMap<String, Policy>>,
    /// Instances of guardrail templates (docs/guardrails/), by the name targets list them under.
    guardrails: Option<BTreeMap<String, GuardrailInstance>>,
    /// Permissions boundaries kept in every covered member account.
    boundaries: Option<BTreeMap<String, Boundary>>,
    /// Requests that must be denied (or allowed); checked by validate and by every plan.
    #[schemars(rename = "assert")]
    assertions: Option<Vec<Assertion>>,
    /// The root's attachments.
    root: Option<Target>,
    /// OUs by their path from the root, names joined by `/` (`"Workloads/Prod"`).
    ous: Option<BTreeMap<String, Target>>,
    /// Accounts by a label (import uses the account name).
    accounts: Option<BTreeMap<String, Account>>,
    /// Overrides of AWS's quotas, for an organization on other quotas.
    limits: Option<Limits>,
    /// Staged rollout: where `stage = "canary"` guardrails go first.
    rollout: Option<Rollout>,
}

/// Staged rollout of guardrail instances.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Rollout {
    /// The canary OUs (paths): a guardrail at `stage = "canary"` reaches only them.
    canary: Option<Vec<String>>,
    /// Days a canary stage runs before `guardrail promote` (1 to 90, CloudTrail's event history).
    #[schemars(range(min = 1, max = 90))]
    min_days: Option<u32>,
}

/// The organization this config describes.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Organization {
    /// The organization's management account (12 digits).
    #[schemars(regex(pattern = r"^[0-9]{12}$"))]
    management_account: String,
    /// The ARN of the principal that runs apply; templates exempt it.
    #[schemars(regex(pattern = r"^arn:"))]
    deployer: Option<String>,
    /// Emergency principals (ARN patterns; account may be `*`) every template exempts.
    break_glass: Option<Vec<String>>,
    /// The role guardrail assumes in member accounts (default `OrganizationAccountAccessRole`).
    member_role: Option<String>,
    /// Where templates are looked up first, relative to this file (default `../guardrails`).
    guardrails_dir: Option<String>,
    /// Unmanaged policies (name patterns, `*`) drift does not report.
    ignore_unmanaged: Option<Vec<String>>,
    /// Live policies this environment owns without a marker (`p-...`; import writes them):
    /// one the config no longer declares is detached everywhere and deleted.
    owned_policy_ids: Option<Vec<String>>,
    /// Policy types the plan disables on the root (never SCPs, never a type the config uses).
    disable_policy_types: Option<Vec<PolicyTypeName>>,
}

/// A policy guardrail manages.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Policy {
    /// Path of the JSON document, relative to this file.
    document: String,
    /// The policy's description (guardrail appends its ownership marker).
    description: Option<String>,
    /// The policy type: `scp` (default), `rcp`, or an Organizations policy type.
    #[schemars(rename = "type")]
    policy_type: Option<PolicyTypeName>,
    /// The live policy this entry adopts (`p-...`; import writes it).
    #[schemars(regex(pattern = r"^p-[0-9A-Za-z_]{8,}$"))]
    id: Option<String>,
}

/// `scp`, `rcp` or an Organizations API policy type name.
struct PolicyTypeName;

impl JsonSchema for PolicyTypeName {
    fn schema_name() -> Cow<'static, str> {
        "PolicyType".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = ["scp", "rcp"]
            .into_iter()
            .chain(POLICY_TYPES.iter().map(|(_, api, _)| *api))
            .collect();
        to_schema(json!({ "type": "string", "enum": names }))
    }
}

/// A permissions boundary in every covered member account.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Boundary {
    /// The IAM customer managed policy's name.
    policy_name: String,
    /// Its IAM path, starting and ending with `/` (default `/guardrail/`).
    #[schemars(regex(pattern = r"^/(.*/)?$"))]
    path: Option<String>,
    /// Path of the JSON document, relative to this file.
    document: String,
    /// Covered OUs (paths; `"/"` is every member account).
    ous: Option<Vec<String>>,
    /// More covered accounts (config keys or ids).
    accounts: Option<Vec<String>>,
    /// The role assumed in each member account (default `organization.member_role`).
    member_role: Option<String>,
    /// Roles the audit skips (`*` wildcards).
    exempt_roles: Option<Vec<String>>,
    /// What to enforce (default: deploy, require, protect, audit).
    enforce: Option<Vec<Enforce>>,
}

#[derive(JsonSchema)]
#[schemars(rename_all = "kebab-case")]
enum Enforce {
    Deploy,
    Require,
    Protect,
    Audit,
    AttachExisting,
}

/// A request that must get the expected decision.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Assertion {
    /// An account (config key or id); give `account` or `ou`.
    account: Option<String>,
    /// An OU path (a member account directly in it); give `account` or `ou`.
    ou: Option<String>,
    /// `service:Action`.
    action: String,
    /// `aws:RequestedRegion`.
    region: Option<String>,
    /// `aws:PrincipalArn` (default: a workload role in the account).
    principal: Option<String>,
    /// The resource ARN (default: any).
    resource: Option<String>,
    /// More condition keys and their values.
    context: Option<BTreeMap<String, String>>,
    /// The decision the request must get.
    expect: Expect,
}

#[derive(JsonSchema)]
#[schemars(rename_all = "lowercase")]
enum Expect {
    Deny,
    Allow,
}

/// The root or an OU: what is attached directly to it.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Target {
    /// Policies attached directly here (declared ones or AWS-managed ones such as
    /// FullAWSAccess). Without the key: FullAWSAccess, as AWS gives every new target.
    policies: Option<Vec<String>>,
    /// Guardrail instances attached directly here (compiled into policies).
    guardrails: Option<Vec<String>>,
}

/// An account: where it lives and what is attached directly to it.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Account {
    /// The account id (12 digits); required unless `email` is given.
    #[schemars(regex(pattern = r"^[0-9]{12}$"))]
    id: Option<String>,
    /// The account's email: matches a live account, or plan creates it.
    email: Option<String>,
    /// Path of the OU the account lives in; omitted means the root.
    ou: Option<String>,
    /// Policies attached directly to the account. Without the key: FullAWSAccess.
    policies: Option<Vec<String>>,
    /// Guardrail instances attached directly to the account.
    guardrails: Option<Vec<String>>,
}

/// Quota overrides; defaults are AWS's current values.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Limits {
    scp: Option<PolicyLimits>,
    rcp: Option<PolicyLimits>,
    org: Option<OrgLimits>,
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct PolicyLimits {
    /// Characters of the minified document.
    #[schemars(range(min = 1))]
    max_document_chars: Option<u64>,
    /// Policies of this type attached directly to one target, unmanaged ones included.
    #[schemars(range(min = 1))]
    max_attachments_per_target: Option<u64>,
    /// Policies of this type a target must keep.
    #[schemars(range(min = 1))]
    min_attachments_per_target: Option<u64>,
    /// Policies of this type in the organization.
    #[schemars(range(min = 1))]
    max_policies_per_org: Option<u64>,
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct OrgLimits {
    /// OU levels below the root.
    #[schemars(range(min = 1))]
    max_ou_depth: Option<u64>,
    /// OUs in the organization.
    #[schemars(range(min = 1))]
    max_ous: Option<u64>,
}

/// `[guardrails.NAME]`: `template` and that template's parameters.
struct GuardrailInstance;

impl JsonSchema for GuardrailInstance {
    fn schema_name() -> Cow<'static, str> {
        "GuardrailInstance".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let templates = builtin_templates();
        let names: Vec<&str> = templates.iter().map(|t| t.name.as_str()).collect();
        let branches: Vec<Value> = templates.iter().map(template_branch).collect();
        to_schema(json!({
            "description": "An instance of a guardrail template: `template` names it, the other keys are its parameters.",
            "type": "object",
            "required": ["template"],
            "properties": {
                "template": {
                    "description": "A built-in template (docs/guardrails/) or one in `organization.guardrails_dir`.",
                    "anyOf": [{ "enum": names }, { "type": "string" }],
                },
                "stage": stage_schema(),
            },
            "allOf": branches,
        }))
    }
}

/// Every built-in template, parsed. They are compiled in and a unit test parses each, so one
/// that does not parse is left out here rather than failing the schema.
fn builtin_templates() -> Vec<Template> {
    template::BUILTIN
        .iter()
        .filter_map(|(name, text)| template::parse(name, text).ok())
        .collect()
}

/// `if template = NAME then` its parameters, and no other key.
fn template_branch(t: &Template) -> Value {
    let mut properties = Map::new();
    properties.insert(
        "template".into(),
        json!({ "const": t.name, "description": t.description }),
    );
    properties.insert("stage".into(), stage_schema());
    let mut required = vec!["template".to_owned()];
    for (name, p) in &t.parameters {
        properties.insert(
            name.clone(),
            param_schema(p.kind, &p.description, &p.default),
        );
        if p.default.is_none() {
            required.push(name.clone());
        }
    }
    json!({
        "if": { "properties": { "template": { "const": t.name } }, "required": ["template"] },
        "then": { "properties": properties, "required": required, "additionalProperties": false },
    })
}

/// `stage` of a guardrail instance (`[rollout]`).
fn stage_schema() -> Value {
    json!({
        "description": "The rollout stage: `all` (default) attaches it everywhere it is listed, `canary` only where it reaches the canary OUs of [rollout].",
        "enum": ["all", "canary"],
    })
}

fn param_schema(kind: ParamKind, description: &str, default: &Option<ParamValue>) -> Value {
    let mut s = match kind {
        ParamKind::String => json!({ "type": "string" }),
        ParamKind::StringList => json!({ "type": "array", "items": { "type": "string" } }),
        ParamKind::Bool => json!({ "type": "boolean" }),
    };
    s["description"] = Value::String(description.to_owned());
    if let Some(d) = default {
        s["default"] = match d {
            ParamValue::String(v) => json!(v),
            ParamValue::List(v) => json!(v),
            ParamValue::Bool(v) => json!(v),
        };
    }
    s
}

fn to_schema(v: Value) -> Schema {
    match v {
        Value::Object(m) => Schema::from(m),
        Value::Bool(b) => Schema::from(b),
        // Every caller passes an object literal.
        _ => Schema::default(),
    }
}

/// The schema as a JSON value (draft 07, which taplo and most editors read).
pub fn json_schema() -> Value {
    let generator = SchemaSettings::draft07().into_generator();
    let mut v = generator.into_root_schema_for::<Config>().to_value();
    strip_null(&mut v);
    // `$schema`, `$id` and `title` first, where a reader looks.
    let Value::Object(mut body) = v else {
        return v;
    };
    let mut head = Map::new();
    for k in ["$schema", "$id", "title"] {
        let value = match k {
            "$id" => Some(Value::String(SCHEMA_URL.into())),
            _ => body.remove(k),
        };
        if let Some(value) = value {
            head.insert(k.into(), value);
        }
    }
    head.extend(body);
    Value::Object(head)
}

/// The schema as the checked-in file holds it: pretty JSON and a final newline.
pub fn json_schema_text() -> String {
    // A `Value` always serializes (its keys are strings).
    let mut s = serde_json::to_string_pretty(&json_schema()).unwrap_or_default();
    s.push('\n');
    s
}

/// TOML has no null: an optional key is simply absent, so `Option`'s `null` is taken out of
/// every `type` list and every `anyOf`.
fn strip_null(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Array(types)) = m.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    m.insert("type".into(), only);
                }
            }
            // `anyOf: [{"$ref": X}, {"type": "null"}]` becomes `allOf: [{"$ref": X}]` (a
            // `$ref` beside a description would be ignored in draft 07).
            if let Some(Value::Array(alts)) = m.get_mut("anyOf") {
                alts.retain(|a| a != &json!({ "type": "null" }));
                if alts.len() == 1 {
                    if let Some(alts) = m.remove("anyOf") {
                        m.insert("allOf".into(), alts);
                    }
                }
            }
            m.values_mut().for_each(strip_null);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_null),
        _ => {}
    }
}
