//! End-to-end: the real `guardrail` binary, through the real AWS SDK, against moto on
//! loopback. Each test creates its own organization in a fresh random account (see
//! `guardrail-demo`), so tests share one moto server without seeing each other.
//! No test here relies on an AWS rule moto does not enforce; the fake covers those.
//!
//! The harness (seeded organizations, the binary run against them, shared scenarios) is in
//! `harness.rs`; each file holds one group of tests.

mod access_proof;
mod apply_drift;
mod at_aws_rates;
mod boundaries;
mod careless;
mod cloudtrail_replay;
mod credentials;
mod disable_types;
mod faults;
mod guardrails;
mod harness;
mod import_plan;
#[path = "../common/invariants.rs"]
mod invariants;
mod logs;
mod moto;
mod observe;
mod proxy;
mod rate_proxy;
#[path = "../common/region_lock.rs"]
mod region_lock;
mod replay;
mod suggest;
mod transport;
mod world;

use harness::{
    edit, expect_code, json, org_with_large_change, replayed_violations, set_account_ou, stats,
    text, Org,
};
