//! Request counting, by operation. Every backend counts one request per page it fetches and
//! one per write, so `--stats` and the request-budget tests see the same numbers for the fake
//! and for AWS.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Requests made, by operation name (`ListAccountsForParent`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestStats {
    pub by_operation: BTreeMap<String, u64>,
}

impl RequestStats {
    pub fn total(&self) -> u64 {
        self.by_operation.values().sum()
    }

    pub fn get(&self, op: &str) -> u64 {
        self.by_operation.get(op).copied().unwrap_or(0)
    }
}

/// A shared counter a backend bumps.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counter(Arc<Mutex<BTreeMap<String, u64>>>);

impl Counter {
    pub fn bump(&self, op: &str) {
        // A poisoned lock only means another thread panicked mid-increment; the map is still
        // a valid map, so keep counting.
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry(op.to_owned()).or_default() += 1;
    }

    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    pub fn snapshot(&self) -> RequestStats {
        let m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        RequestStats {
            by_operation: m.clone(),
        }
    }
}
