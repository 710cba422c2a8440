//! The published syntax of each management policy type, as data: which keys may appear where,
//! which settings hold one value and which a list (so take `@@append`/`@@remove`), and which
//! values a setting accepts. The lint logic that walks a document against it lives in
//! `management.rs`; nothing here decides anything.
//!
//! Written from AWS Organizations' "<type> policy syntax and examples" pages (read 2026). Where
//! a page shows a subtree only by example or leaves it open (Security Hub's `features`, a chat
//! applications policy's Microsoft Teams tenants, backup plans' newer rule actions), the
//! subtree is [`Node::Open`]: only the generic operator rules apply beneath it.

use crate::model::PolicyType;

/// The values a setting accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Values {
    /// Any string (names, ARNs, tag values, cron expressions, ...).
    Any,
    /// Exactly one of these strings, case-sensitive (AWS: "the policies do not work if you use
    /// unexpected capitalization").
    OneOf(&'static [&'static str]),
    /// A whole number in a range, written as a JSON number or a string of digits.
    Integer { min: i64, max: i64 },
}

/// A setting: where the inheritance operators apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// A single value: only `@@assign`.
    One(Values),
    /// A list: `@@assign`, `@@append`, `@@remove`; each item is checked.
    Many(Values),
}

/// One node of a type's syntax tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// An object with exactly these keys (each optional).
    Fields(&'static [(&'static str, Node)]),
    /// An object whose keys the author chooses (plan names, tag policy keys, regions, ...),
    /// each holding the same node.
    Named(&'static Node),
    /// An object whose keys come from a published list that grows (AI services), each holding
    /// the same node: a key not in the list is a warning, not an error.
    Listed(&'static [&'static str], &'static Node),
    /// A setting.
    Value(Setting),
    /// A subtree whose syntax AWS does not publish in detail: only the operator rules apply.
    Open,
}

/// A type's syntax and where it comes from.
#[derive(Debug, Clone, Copy)]
pub struct Syntax {
    pub policy_type: PolicyType,
    pub root: Node,
    /// The AWS Organizations User Guide page it was written from.
    pub source: &'static str,
}

const ANY: Node = Node::Value(Setting::One(Values::Any));
const ANY_LIST: Node = Node::Value(Setting::Many(Values::Any));
const ENABLED: Values = Values::OneOf(&["enabled", "disabled"]);

// ---- tag policies -------------------------------------------------------------------------

const TAG_ENTRY: Node = Node::Fields(&[
    ("tag_key", ANY),
    ("tag_value", ANY_LIST),
    ("enforced_for", ANY_LIST),
    ("report_required_tag_for", ANY_LIST),
]);
const TAG: Node = Node::Fields(&[("tags", Node::Named(&TAG_ENTRY))]);

// ---- backup policies ----------------------------------------------------------------------

const KEY_VALUE: Node = Node::Fields(&[("tag_key", ANY), ("tag_value", ANY)]);
const DAYS: Node = Node::Value(Setting::One(Values::Integer {
    min: 1,
    max: 36_500,
}));
const LIFECYCLE: Node = Node::Fields(&[
    ("move_to_cold_storage_after_days", DAYS),
    ("delete_after_days", DAYS),
    (
        "opt_in_to_archive_for_supported_resources",
        Node::Value(Setting::One(Values::OneOf(&["true", "false"]))),
    ),
]);
const COPY_ACTION: Node =
    Node::Fields(&[("target_backup_vault_arn", ANY), ("lifecycle", LIFECYCLE)]);
const BACKUP_RULE: Node = Node::Fields(&[
    ("schedule_expression", ANY),
    ("schedule_expression_timezone", ANY),
    (
        "start_backup_window_minutes",
        Node::Value(Setting::One(Values::Integer {
            min: 60,
            max: 43_200,
        })),
    ),
    (
        "complete_backup_window_minutes",
        Node::Value(Setting::One(Values::Integer {
            min: 60,
            max: 241_920,
        })),
    ),
    (
        "enable_continuous_backup",
        Node::Value(Setting::One(Values::OneOf(&["true", "false"]))),
    ),
    ("target_backup_vault_name", ANY),
    ("target_logically_air_gapped_backup_vault_arn", ANY),
    ("recovery_point_tags", Node::Named(&KEY_VALUE)),
    ("lifecycle", LIFECYCLE),
    ("copy_actions", Node::Named(&COPY_ACTION)),
    ("index_actions", Node::Open),
    ("scan_actions", Node::Open),
]);
const TAG_SELECTION: Node = Node::Fields(&[
    ("iam_role_arn", ANY),
    ("tag_key", ANY),
    ("tag_value", ANY_LIST),
]);
const RESOURCE_SELECTION: Node = Node::Fields(&[
    ("iam_role_arn", ANY),
    ("resource_types", ANY_LIST),
    ("not_resource_types", ANY_LIST),
    ("conditions", Node::Open),
]);
const BACKUP_PLAN: Node = Node::Fields(&[
    ("regions", ANY_LIST),
    ("rules", Node::Named(&BACKUP_RULE)),
    (
        "selections",
        Node::Fields(&[
            ("tags", Node::Named(&TAG_SELECTION)),
            ("resources", Node::Named(&RESOURCE_SELECTION)),
        ]),
    ),
    (
        "advanced_backup_settings",
        Node::Named(&Node::Fields(&[(
            "windows_vss",
            Node::Value(Setting::One(ENABLED)),
        )])),
    ),
    ("backup_plan_tags", Node::Named(&KEY_VALUE)),
    ("scan_settings", Node::Open),
]);
const BACKUP: Node = Node::Fields(&[("plans", Node::Named(&BACKUP_PLAN))]);

// ---- AI services opt-out ------------------------------------------------------------------

/// The services the AI opt-out syntax page lists (and `default`, every service current and
/// future). The list grows: another name is a warning.
const AI_SERVICES: &[&str] = &[
    "default",
    "aidevops",
    "aiops",
    "awssupplychain",
    "chimesdkvoiceanalytics",
    "cloudwatch",
    "codeguruprofiler",
    "codewhisperer",
    "comprehend",
    "connect",
    "connectamd",
    "connectoptimization",
    "contactlens",
    "datazone",
    "frauddetector",
    "guardduty",
    "lex",
    "polly",
    "q",
    "quicksightq",
    "rekognition",
    "securitylake",
    "supportapp",
    "textract",
    "transcribe",
    "translate",
];
const AI_SERVICE: Node = Node::Fields(&[(
    "opt_out_policy",
    Node::Value(Setting::One(Values::OneOf(&["optIn", "optOut"]))),
)]);
const AI_OPT_OUT: Node = Node::Fields(&[("services", Node::Listed(AI_SERVICES, &AI_SERVICE))]);

// ---- chat applications --------------------------------------------------------------------

const CHAT_CLIENT: Node = Node::Value(Setting::One(ENABLED));
const CHANNEL_SETTINGS: Node = Node::Fields(&[
    (
        "supported_channel_types",
        Node::Value(Setting::Many(Values::OneOf(&["public", "private"]))),
    ),
    (
        "supported_role_settings",
        Node::Value(Setting::Many(Values::OneOf(&["user_role", "channel_role"]))),
    ),
]);
const CHAT_PLATFORMS: Node = Node::Fields(&[
    (
        "slack",
        Node::Fields(&[
            ("client", CHAT_CLIENT),
            ("workspaces", ANY_LIST),
            ("default", CHANNEL_SETTINGS),
            ("overrides", Node::Named(&CHANNEL_SETTINGS)),
        ]),
    ),
    (
        "microsoft_teams",
        Node::Fields(&[
            ("client", CHAT_CLIENT),
            ("tenants", Node::Open),
            ("default", CHANNEL_SETTINGS),
            ("overrides", Node::Open),
        ]),
    ),
    ("chime", Node::Fields(&[("client", CHAT_CLIENT)])),
]);
const CHATBOT: Node = Node::Fields(&[(
    "chatbot",
    Node::Fields(&[
        ("platforms", CHAT_PLATFORMS),
        ("default", Node::Fields(&[("client", CHAT_CLIENT)])),
    ]),
)]);

// ---- declarative policies for EC2 ---------------------------------------------------------

const fn one_of(values: &'static [&'static str]) -> Node {
    Node::Value(Setting::One(Values::OneOf(values)))
}

const IMAGE_CRITERION: Node = Node::Fields(&[
    ("allowed_image_providers", ANY_LIST),
    ("image_names", ANY_LIST),
    ("marketplace_product_codes", ANY_LIST),
    ("creation_date_condition", Node::Open),
    ("deprecation_time_condition", Node::Open),
]);
const EC2_ATTRIBUTES: Node = Node::Fields(&[
    ("exception_message", ANY),
    (
        "vpc_block_public_access",
        Node::Fields(&[(
            "internet_gateway_block",
            Node::Fields(&[
                (
                    "mode",
                    one_of(&["off", "block_ingress", "block_bidirectional"]),
                ),
                ("exclusions_allowed", one_of(&["enabled", "disabled"])),
            ]),
        )]),
    ),
    (
        "serial_console_access",
        Node::Fields(&[("status", one_of(&["enabled", "disabled"]))]),
    ),
    (
        "image_block_public_access",
        Node::Fields(&[("state", one_of(&["block_new_sharing", "unblocked"]))]),
    ),
    (
        "allowed_images_settings",
        Node::Fields(&[
            ("state", one_of(&["enabled", "audit_mode"])),
            ("image_criteria", Node::Named(&IMAGE_CRITERION)),
        ]),
    ),
    (
        "instance_metadata_defaults",
        Node::Fields(&[
            (
                "http_tokens",
                one_of(&["no_preference", "required", "optional"]),
            ),
            (
                "http_put_response_hop_limit",
                Node::Value(Setting::One(Values::Integer { min: -1, max: 64 })),
            ),
            (
                "http_endpoint",
                one_of(&["no_preference", "enabled", "disabled"]),
            ),
            (
                "instance_metadata_tags",
                one_of(&["no_preference", "enabled", "disabled"]),
            ),
        ]),
    ),
    (
        "snapshot_block_public_access",
        Node::Fields(&[(
            "state",
            one_of(&["block_all_sharing", "block_new_sharing", "unblocked"]),
        )]),
    ),
]);
const DECLARATIVE_EC2: Node = Node::Fields(&[("ec2_attributes", EC2_ATTRIBUTES)]);

// ---- region enablement: Security Hub, Inspector, Shield network security director ---------

const REGIONS: Node = Node::Fields(&[
    ("enable_in_regions", ANY_LIST),
    ("disable_in_regions", ANY_LIST),
]);
const SECURITY_HUB: Node = Node::Fields(&[(
    "securityhub",
    Node::Fields(&[
        ("enable_in_regions", ANY_LIST),
        ("disable_in_regions", ANY_LIST),
        ("features", Node::Named(&REGIONS)),
    ]),
)]);
const LAMBDA_SCANNING: Node = Node::Fields(&[
    ("enable_in_regions", ANY_LIST),
    ("disable_in_regions", ANY_LIST),
    ("lambda_code_scanning", REGIONS),
]);
const INSPECTOR: Node = Node::Fields(&[(
    "inspector",
    Node::Fields(&[(
        "enablement",
        Node::Fields(&[
            ("ec2_scanning", REGIONS),
            ("ecr_scanning", REGIONS),
            ("lambda_standard_scanning", LAMBDA_SCANNING),
            ("lambda_code_scanning", REGIONS),
            ("code_repository_scanning", REGIONS),
        ]),
    )]),
)]);
const NETWORK_SECURITY_DIRECTOR: Node = Node::Fields(&[(
    "network_security_director",
    Node::Fields(&[(
        "enablement",
        Node::Fields(&[("network_security_scan", REGIONS)]),
    )]),
)]);

// ---- upgrade rollout, Bedrock, S3 ---------------------------------------------------------

const PATCH_ORDER: Node = Node::Fields(&[("patch_order", one_of(&["first", "second", "last"]))]);
const UPGRADE_ROLLOUT: Node = Node::Fields(&[(
    "upgrade_rollout",
    Node::Fields(&[
        ("default", PATCH_ORDER),
        (
            "tags",
            Node::Named(&Node::Fields(&[("tag_values", Node::Named(&PATCH_ORDER))])),
        ),
    ]),
)]);
const BEDROCK_CONFIG: Node = Node::Fields(&[
    ("identifier", ANY),
    ("input_tags", one_of(&["honor", "ignore"])),
    (
        "selective_content_guarding",
        Node::Fields(&[
            ("system", one_of(&["selective", "comprehensive"])),
            ("messages", one_of(&["selective", "comprehensive"])),
        ]),
    ),
    (
        "model_enforcement",
        Node::Fields(&[("included_models", ANY_LIST), ("excluded_models", ANY_LIST)]),
    ),
]);
const BEDROCK: Node = Node::Fields(&[(
    "bedrock",
    Node::Fields(&[(
        "guardrail_inference",
        Node::Named(&Node::Named(&BEDROCK_CONFIG)),
    )]),
)]);
const S3: Node = Node::Fields(&[(
    "s3_attributes",
    Node::Fields(&[(
        "public_access_block_configuration",
        one_of(&["all", "none"]),
    )]),
)]);

/// Every management type's syntax.
pub const SYNTAXES: &[Syntax] = &[
    Syntax {
        policy_type: PolicyType::TagPolicy,
        root: TAG,
        source: "Tag policy syntax and examples",
    },
    Syntax {
        policy_type: PolicyType::BackupPolicy,
        root: BACKUP,
        source: "Backup policy syntax and examples",
    },
    Syntax {
        policy_type: PolicyType::AiServicesOptOutPolicy,
        root: AI_OPT_OUT,
        source: "AI services opt-out policy syntax and examples",
    },
    Syntax {
        policy_type: PolicyType::ChatbotPolicy,
        root: CHATBOT,
        source: "Chat applications policy syntax and examples",
    },
    Syntax {
        policy_type: PolicyType::DeclarativePolicyEc2,
        root: DECLARATIVE_EC2,
        source: "Declarative policy syntax and examples",
    },
    Syntax {
        policy_type: PolicyType::SecurityhubPolicy,
        root: SECURITY_HUB,
        source: "Security Hub policy syntax and examples",
    },
    Syntax {
        policy_type: PolicyType::InspectorPolicy,
        root: INSPECTOR,
        source: "Amazon Inspector policy syntax and examples",
    },
    Syntax {
        policy_type: PolicyType::UpgradeRolloutPolicy,
        root: UPGRADE_ROLLOUT,
        source: "Upgrade rollout policy syntax and examples",
    },
    Syntax {
        policy_type: PolicyType::BedrockPolicy,
        root: BEDROCK,
        source: "Amazon Bedrock policy syntax and examples",
    },
    Syntax {
        policy_type: PolicyType::S3Policy,
        root: S3,
        source: "Amazon S3 policy syntax and examples",
    },
    Syntax {
        policy_type: PolicyType::NetworkSecurityDirectorPolicy,
        root: NETWORK_SECURITY_DIRECTOR,
        source: "AWS Shield network security director policy syntax and examples",
    },
];

/// The syntax of a management type, if this table has one.
pub fn syntax(ty: PolicyType) -> Option<&'static Syntax> {
    SYNTAXES.iter().find(|s| s.policy_type == ty)
}
