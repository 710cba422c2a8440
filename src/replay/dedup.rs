//! Distinct requests are evaluated once: a log repeats the same call thousands of times (the
//! same role, action, resource and region), and only the parts of a request some policy on
//! the account's paths can read decide its outcome. [`relevant`] collects those context keys
//! (every condition key, every policy variable in a resource or condition value, and
//! `aws:PrincipalArn`, which decides the service-linked-role exemption) and whether any
//! statement names a resource other than `*`; a request projected onto them ([`Key`]) is the
//! cache key, so `aws:CurrentTime` or `aws:SourceIp` split requests
//! only when a policy looks at them. The cache holds at most [`CAPACITY`] entries and starts
//! over when full, so memory stays bounded whatever the log.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::policy::eval::{Decision, Path, Request, Resources};

/// The most distinct requests remembered at once.
pub const CAPACITY: usize = 1 << 20;

/// What the policies on an account's paths can read of a request besides its action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relevant {
    /// Context keys, lower-cased.
    pub keys: BTreeSet<String>,
    /// Whether some statement names resources other than `*`.
    pub resource: bool,
}

/// What the policies on these paths can read.
pub fn relevant<'p>(paths: impl IntoIterator<Item = &'p Path>) -> Relevant {
    let mut keys = BTreeSet::from(["aws:principalarn".to_owned()]);
    let mut resource = false;
    let statements = paths
        .into_iter()
        .flat_map(|p| p.scp.iter().chain(&p.rcp))
        .flat_map(|l| &l.policies)
        .flat_map(|p| &p.policy.statements);
    for s in statements {
        if let Resources::Resource(v) | Resources::NotResource(v) = &s.resources {
            resource |= v.iter().any(|r| r != "*");
            v.iter().for_each(|r| variables(r, &mut keys));
        }
        for c in &s.conditions {
            keys.insert(c.key.to_ascii_lowercase());
            c.values.iter().for_each(|v| variables(v, &mut keys));
        }
    }
    Relevant { keys, resource }
}

/// The `${key}` policy variables of a string.
fn variables(s: &str, keys: &mut BTreeSet<String>) {
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        rest = &rest[i + 2..];
        let Some(end) = rest.find('}') else { return };
        keys.insert(rest[..end].to_ascii_lowercase());
        rest = &rest[end + 1..];
    }
}

/// A request as the policies of one account's paths see it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    side: usize,
    action: String,
    resource: Option<String>,
    context: Vec<(String, Vec<String>)>,
}

impl Key {
    /// `side`: which account paths (an index the caller keeps); `what`: what they read.
    pub fn new(side: usize, req: &Request, what: &Relevant) -> Key {
        Key {
            side,
            action: req.action.to_ascii_lowercase(),
            resource: req.resource.clone().filter(|_| what.resource),
            context: req
                .context
                .iter()
                .filter(|(k, _)| what.keys.contains(k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }
}

/// The outcomes before (if there is a before side) and after.
pub type Outcome = (Option<Decision>, Decision);

/// Remembered outcomes, at most [`CAPACITY`].
#[derive(Debug, Default)]
pub struct Cache {
    map: HashMap<Key, Outcome>,
}

impl Cache {
    /// The outcome for `key`, computing it with `eval` the first time.
    pub fn get_or(&mut self, key: Key, eval: impl FnOnce() -> Outcome) -> (&Outcome, bool) {
        if self.map.len() >= CAPACITY && !self.map.contains_key(&key) {
            self.map.clear();
        }
        let mut fresh = false;
        let out = self.map.entry(key).or_insert_with(|| {
            fresh = true;
            eval()
        });
        (out, fresh)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// The most event ids [`Seen`] remembers at once (about 40 MiB when full).
pub const SEEN_CAPACITY: usize = 1 << 21;

/// CloudTrail events already replayed, by id, so one event is counted once: the same
/// `eventID` read again (two trails of one account, an overlapping sync), or the same
/// `sharedEventID` (one call delivered to the caller's account and to the resource owner's,
/// each copy with its own `eventID`; AWS's record contents reference). Ids are kept as 64-bit
/// hashes, at most [`SEEN_CAPACITY`], starting over when full; `read` hands files over by day
/// and region, so the copies of one event arrive close together.
#[derive(Debug, Default)]
pub struct Seen {
    ids: HashSet<u64>,
}

impl Seen {
    /// Whether this event was seen before; remembers its ids. A record without ids is never a
    /// repeat.
    pub fn repeat(&mut self, event_id: Option<&str>, shared: Option<&str>) -> bool {
        let key = |tag: u8, id: Option<&str>| id.filter(|i| !i.is_empty()).map(|i| hash(tag, i));
        let keys = [key(b'e', event_id), key(b's', shared)];
        let seen = keys.iter().flatten().any(|k| self.ids.contains(k));
        if self.ids.len() + 2 > SEEN_CAPACITY {
            self.ids.clear();
        }
        self.ids.extend(keys.into_iter().flatten());
        seen
    }
}

/// A hash of a tagged id, the same for the whole run (`DefaultHasher::new` has fixed keys);
/// a new id is taken for a repeat with odds of at most one in 2^43 ([`SEEN_CAPACITY`] ids
/// among 2^64 hashes).
fn hash(tag: u8, id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    tag.hash(&mut h);
    id.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::eval::{EvalPolicy, Level};

    fn path(doc: serde_json::Value) -> Path {
        Path {
            scp: vec![Level {
                name: "root".into(),
                policies: vec![EvalPolicy::new("p", &doc, vec![None])],
            }],
            rcp: Vec::new(),
            management: false,
        }
    }

    #[test]
    fn condition_keys_and_variables_are_relevant_and_nothing_else() {
        let p = path(
            serde_json::json!({"Statement": [{"Effect": "Deny", "Action": "*",
            "Resource": "arn:aws:s3:::${aws:PrincipalTag/Team}-*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": "eu-west-1",
                "aws:SourceVpce": "${aws:SourceVpc}x"}}}]}),
        );
        let what = relevant([&p]);
        assert!(what.resource);
        let want = [
            "aws:principalarn",
            "aws:principaltag/team",
            "aws:requestedregion",
            "aws:sourcevpc",
            "aws:sourcevpce",
        ];
        assert_eq!(what.keys, want.iter().map(|s| s.to_string()).collect());
    }

    #[test]
    fn requests_differing_only_in_unread_keys_share_a_key() {
        let keys = relevant([&path(serde_json::json!({"Statement": [{"Effect": "Deny",
            "Action": "*", "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}))]);
        assert!(!keys.resource, "Resource * reads no ARN");
        let req = |ip: &str, t: &str| {
            Request::new("s3:GetObject")
                .principal("arn:aws:iam::111122223333:role/R")
                .with("aws:SourceIp", ip)
                .with("aws:CurrentTime", t)
        };
        let a = Key::new(0, &req("10.1.1.1", "2026-11-01T00:00:00Z"), &keys);
        let b = Key::new(0, &req("10.1.1.1", "2026-11-02T00:00:00Z"), &keys);
        let c = Key::new(0, &req("192.0.2.1", "2026-11-01T00:00:00Z"), &keys);
        assert_eq!(a, b, "the time is read by no policy");
        assert_ne!(a, c, "the source IP is");
        assert_ne!(
            a,
            Key::new(1, &req("10.1.1.1", "x"), &keys),
            "another account"
        );
    }

    #[test]
    fn the_cache_evaluates_once_per_key() {
        let keys = Relevant::default();
        let mut cache = Cache::default();
        let mut evals = 0;
        let mut fresh = Vec::new();
        for _ in 0..3 {
            let key = Key::new(0, &Request::new("s3:GetObject"), &keys);
            fresh.push(
                cache
                    .get_or(key, || {
                        evals += 1;
                        (None, Decision::Allow)
                    })
                    .1,
            );
        }
        assert_eq!(evals, 1);
        assert_eq!(fresh, [true, false, false]);
        assert_eq!(cache.len(), 1);
    }
}
