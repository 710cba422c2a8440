//! The fake's test support: fault injection per write (a refusal, or a lost answer: the
//! write lands and its answer is dropped), the death of the process after any write, the
//! invariant log the fake keeps after every write, an observer called with the whole
//! organization after every accepted write, and that snapshot itself.

use std::collections::BTreeMap;

use super::{Error, FakeOrg, Result, DEAD_CODE};

/// Fault injection and the invariant log, for tests.
#[derive(Default)]
pub(super) struct Faults {
    /// Writes so far.
    writes: u64,
    /// Faults by the 1-based number of the write they hit.
    schedule: BTreeMap<u64, Fault>,
    /// After this write number, the process is dead: every later request fails.
    dead_after: Option<u64>,
    /// Invariant violations seen after any write (must stay empty).
    violations: Vec<String>,
    /// Called with the organization after every write AWS accepted.
    observer: Option<Observer>,
}

type Observer = Box<dyn Fn(&crate::model::LiveOrg) + Send + Sync>;

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults")
            .field("writes", &self.writes)
            .field("schedule", &self.schedule)
            .field("dead_after", &self.dead_after)
            .finish_non_exhaustive()
    }
}

/// What happens to one write.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// The write is refused with this error and changes nothing.
    Fail(Error),
    /// The write takes effect, but its answer is lost (the connection drops).
    LoseResponse,
}

impl FakeOrg {
    pub(super) fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes the `n`-th write from now fail with `error` (once).
    pub fn fail_nth_write(&self, n: u64, error: Error) {
        self.fault_nth_write(n, Fault::Fail(error));
    }

    /// Schedules a fault for the `n`-th write from now.
    pub fn fault_nth_write(&self, n: u64, fault: Fault) {
        let mut f = self.faults();
        let at = f.writes + n;
        f.schedule.insert(at, fault);
    }

    /// Simulates the death of the process after the `n`-th write from now (that write lands,
    /// its answer is lost, and every later request fails until [`FakeOrg::revive`]).
    pub fn die_after_write(&self, n: u64) {
        let mut f = self.faults();
        f.dead_after = Some(f.writes + n);
    }

    /// A new process: requests work again; pending faults are dropped.
    pub fn revive(&self) {
        let mut f = self.faults();
        f.dead_after = None;
        f.schedule.clear();
    }

    /// Writes accepted or refused so far.
    pub fn writes(&self) -> u64 {
        self.faults().writes
    }

    /// Calls `f` with the whole organization after every write AWS accepted (also a write
    /// whose answer is then lost).
    pub fn on_write(&self, f: impl Fn(&crate::model::LiveOrg) + Send + Sync + 'static) {
        self.faults().observer = Some(Box::new(f));
    }

    /// Invariant violations observed after writes: a target of an enabled type left with
    /// fewer policies than the minimum, or more than the maximum. Always empty unless the fake
    /// itself is wrong; tests assert it.
    pub fn violations(&self) -> Vec<String> {
        self.faults().violations.clone()
    }

    pub(super) fn dead(&self) -> Result<()> {
        let f = self.faults();
        match f.dead_after {
            Some(at) if f.writes >= at => Err(Error::Service {
                code: DEAD_CODE.into(),
                message: "the process was killed".into(),
            }),
            _ => Ok(()),
        }
    }

    /// Counts a write and fails it if a fault is due; `Ok(true)` when its answer is to be lost.
    fn write_gate(&self) -> Result<bool> {
        self.dead()?;
        let mut f = self.faults();
        f.writes += 1;
        let n = f.writes;
        let lose = f.dead_after == Some(n);
        match f.schedule.remove(&n) {
            Some(Fault::Fail(e)) => Err(e),
            Some(Fault::LoseResponse) => Ok(true),
            None => Ok(lose),
        }
    }

    fn check_invariants(&self) {
        let s = self.lock();
        let mut found = Vec::new();
        for ty in &s.root.enabled_policy_types {
            let lim = self.limits.for_type(*ty);
            // One pass over the attachments, then every target.
            let mut counts: std::collections::HashMap<&str, usize> =
                std::collections::HashMap::new();
            for p in s.policies.values().filter(|p| p.info.policy_type == *ty) {
                for t in &p.targets {
                    *counts.entry(t.as_str()).or_default() += 1;
                }
            }
            let targets = std::iter::once(s.root.id.as_str())
                .chain(s.ous.keys().map(String::as_str))
                .chain(s.accounts.keys().map(String::as_str));
            for t in targets {
                let n = counts.get(t).copied().unwrap_or(0);
                if n < lim.min_attachments_per_target.value
                    || n > lim.max_attachments_per_target.value
                {
                    found.push(format!("{t} carries {n} {}", ty.api_name()));
                }
            }
        }
        drop(s);
        if !found.is_empty() {
            self.faults().violations.extend(found);
        }
    }

    /// Runs a write: fault gate, then the operation, then the invariant check and the
    /// observer; a lost answer becomes a dropped connection after the write took effect.
    pub(super) fn write<T>(&self, op: impl FnOnce() -> Result<T>) -> Result<T> {
        let lose = self.write_gate()?;
        let r = op();
        self.check_invariants();
        if r.is_ok() {
            let f = self.faults();
            if let Some(obs) = &f.observer {
                obs(&self.snapshot());
            }
        }
        if lose {
            return Err(Error::Transport(
                "connection reset before the response arrived".into(),
            ));
        }
        r
    }

    /// The whole organization as a walk would see it (every type, with targets).
    pub fn snapshot(&self) -> crate::model::LiveOrg {
        use crate::model::{LiveAccount, LiveOrg, LiveOu, LivePolicy, LiveRoot};
        let s = self.lock();
        let (management_account, org_id) = s.root.owner().unwrap_or_default();
        LiveOrg {
            org_id,
            management_account,
            partition: s.root.partition().unwrap_or("aws").to_owned(),
            root: LiveRoot {
                id: s.root.id.clone(),
                name: s.root.name.clone(),
                enabled_policy_types: s.root.enabled_policy_types.clone(),
            },
            ous: s
                .ous
                .iter()
                .map(|(id, o)| {
                    let ou = LiveOu {
                        id: id.clone(),
                        name: o.name.clone(),
                        parent_id: o.parent.clone(),
                    };
                    (id.clone(), ou)
                })
                .collect(),
            accounts: s
                .accounts
                .values()
                .map(|a| {
                    let acct = LiveAccount {
                        id: a.info.id.clone(),
                        name: a.info.name.clone(),
                        email: a.info.email.clone(),
                        parent_id: a.parent.clone(),
                        state: a.info.state,
                    };
                    (a.info.id.clone(), acct)
                })
                .collect(),
            policies: s
                .policies
                .values()
                .map(|p| {
                    let pol = LivePolicy {
                        id: p.info.id.clone(),
                        name: p.info.name.clone(),
                        description: p.info.description.clone(),
                        policy_type: p.info.policy_type,
                        aws_managed: p.info.aws_managed,
                        content: p.content.clone(),
                        targets: p.targets.iter().cloned().collect(),
                    };
                    (p.info.id.clone(), pol)
                })
                .collect(),
        }
    }

    /// Sets an account's state (seeding: suspended and closed accounts).
    pub fn set_account_state(&self, id: &str, state: crate::model::AccountState) {
        if let Some(a) = self.lock().accounts.get_mut(id) {
            a.info.state = state;
        }
    }
}
