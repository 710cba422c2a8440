//! One account's SCP and RCP path for the reasoning tests and the access-proof benchmark
//! (included by `#[path]` in the `it` test binary and in `guardrail-bench`): the root and the
//! account, `FullAWSAccess` on both, and the documents under test attached to the account.

use guardrail::policy::eval::{EvalPolicy, Level, Path};
use serde_json::Value;

/// Root and account levels with `FullAWSAccess`; `docs` attached to the account (in the RCP
/// layer for an RCP, beside `RCPFullAWSAccess`).
pub fn path(rcp: bool, docs: &[&Value], account_allow: Option<&Value>) -> Path {
    let attached: Vec<EvalPolicy> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| EvalPolicy::new(&format!("doc{i}"), d, Vec::new()))
        .collect();
    let mut account = vec![match account_allow {
        Some(a) => EvalPolicy::new("Allow", a, Vec::new()),
        None => EvalPolicy::allow_all("FullAWSAccess"),
    }];
    let mut rcp_account = vec![EvalPolicy::allow_all("RCPFullAWSAccess")];
    if rcp {
        rcp_account.extend(attached);
    } else {
        account.extend(attached);
    }
    let level = |name: &str, policies| Level {
        name: name.into(),
        policies,
    };
    Path {
        scp: vec![
            level("root", vec![EvalPolicy::allow_all("FullAWSAccess")]),
            level("account", account),
        ],
        rcp: vec![level("account", rcp_account)],
        management: false,
    }
}
