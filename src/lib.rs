//! guardrail: an AWS Organization's guardrails as code. See ARCHITECTURE.md for the map.
//!
//! Dependencies point inward: `cli` → `apply`/`render` → `plan` → `config`/`policy`/`live` →
//! `model`.

pub mod apply;
pub mod cli;
pub mod config;
pub mod live;
pub mod lock;
pub mod model;
pub mod observe;
pub mod plan;
pub mod policy;
pub mod render;
pub mod replay;
pub mod rollout;
pub mod suggest;
