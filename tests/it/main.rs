//! Integration tests against the in-memory fake and the pure modules: config errors, the
//! plan, import round trips, request budgets. One binary (see Cargo.toml `autotests = false`).

mod access_proof;
mod access_proof_output;
mod access_report;
#[path = "../common/account_path.rs"]
mod account_path;
mod action;
mod action_case;
mod apply_props;
mod boundaries;
mod careless_paths;
mod causes;
mod cli_tools;
mod config_errors;
mod dead_endpoint;
mod differential;
mod disable_types;
mod docs;
mod effective;
mod effective_props;
mod effective_validation;
mod engine_props;
mod fake_rules;
mod graph;
mod held_back;
mod hostile;
mod hostile_names;
mod import_quoting;
#[path = "../common/invariants.rs"]
mod invariants;
mod layering;
mod lint_corpus;
mod management_lint;
mod model_check;
mod observe;
mod plan_props;
mod policy_types;
mod reason_corpus;
mod reason_props;
mod reason_smt;
#[path = "../common/region_lock.rs"]
mod region_lock;
mod render_snapshots;
mod replay;
mod replay_cross;
mod replay_reference;
mod replay_synth;
mod safety;
mod sarif;
mod schema;
mod sdk_retries;
mod streams;
mod suggest;
mod support;
mod templates;
mod walk_paths;
