//! Observe: the access-denied events of the organization's accounts, after apply, attributed
//! to the guardrail (and policy) that denied them.
//!
//! Each CloudTrail record (from log files through `replay::read`, or from CloudTrail's event
//! history through `live::cloudtrail`) is parsed with `replay::record`; records that are not
//! access-denied calls are counted and dropped. A denial is attributed by the policy ARN AWS
//! names in its message (`message`); when AWS names none, by re-evaluating the request
//! (`replay::map`) in the live organization, on the SCPs of the caller's account and the
//! RCPs of the resource owner's (`eval::Path::across`). A denial counts against the account
//! whose layer denied (the caller's for an SCP, the owner's for an RCP), else the account
//! that logged it. Either way the policy is
//! mapped to its guardrail through the config's compiled policies. Denials are grouped by
//! guardrail, policy, OU, account, principal and action; a denial of the deployer or a
//! break-glass principal by an organization policy is flagged.
//!
//! Pure: the organization, the config and the time window come in; no AWS, no clock.

pub mod message;

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::model::PolicyType;
use crate::model::{Desired, LiveOrg, OuPath};
use crate::plan::verify;
use crate::policy::eval::{self, arn_like, Decision, EvalPolicy, Layer, Request};
use crate::replay::map::{self, NotMapped};
use crate::replay::record::{self, Record};
use crate::replay::{note_seen, parse_time, sink::Sink, Window};

use message::DenyingPolicy;

/// Error codes with which AWS refuses a call for lack of permission.
pub const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "Client.UnauthorizedOperation",
    "UnauthorizedAccess",
];

/// How a denial was attributed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Via {
    /// AWS named the policy in its message.
    Message,
    /// AWS named none; the request, re-evaluated on the live organization, is denied.
    Reevaluated,
    /// The message names a policy that is not the organization's (IAM, boundary, resource).
    NotOrganization,
    /// Re-evaluated, the organization's policies allow it: an IAM or resource policy denied.
    AllowedByOrganization,
    /// No ARN and nothing to re-evaluate (unmappable action, unknown account, no principal).
    Unknown,
}

impl Via {
    pub fn label(self) -> &'static str {
        match self {
            Via::Message => "named by AWS",
            Via::Reevaluated => "re-evaluated",
            Via::NotOrganization => "not an organization policy",
            Via::AllowedByOrganization => "the organization's policies allow it",
            Via::Unknown => "not attributed",
        }
    }

    /// Whether an organization policy (SCP or RCP) denied.
    pub fn by_organization(self) -> bool {
        matches!(self, Via::Message | Via::Reevaluated)
    }
}

/// One group of denials: same guardrail(s), policy, OU, account, principal and action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The guardrail instances the deciding statement came from (empty: not a guardrail).
    pub guardrails: Vec<String>,
    /// The policy's name (or the ARN AWS gave when the organization has no such policy).
    pub policy: Option<String>,
    /// Whether the config manages the policy.
    pub managed: bool,
    pub ou: String,
    pub account: String,
    pub principal: String,
    pub action: String,
    pub via: Via,
    /// The principal is the deployer, the member role or a break-glass principal, and an
    /// organization policy denied it.
    pub protected: bool,
    pub regions: Vec<String>,
    pub count: usize,
    pub first_seen: String,
    pub last_seen: String,
}

/// The whole observation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub files_read: usize,
    /// Sources (files, or an account's event history in a region) that could not be read,
    /// with why.
    pub file_errors: Vec<(String, String)>,
    pub records_read: usize,
    pub bad_records: usize,
    pub outside_window: usize,
    /// Access-denied events read again (the same `eventID` or `sharedEventID`: one denial
    /// logged in two accounts, or a file read twice), counted once.
    pub duplicates: usize,
    /// Access-denied events seen in the window.
    pub denials: usize,
    pub groups: Vec<Group>,
}

impl Report {
    /// Denials by a dimension of the groups (guardrail, policy, OU, account, principal),
    /// largest first.
    pub fn by(&self, key: impl Fn(&Group) -> Vec<String>) -> Vec<(String, usize)> {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for g in &self.groups {
            for k in key(g) {
                *m.entry(k).or_default() += g.count;
            }
        }
        let mut v: Vec<(String, usize)> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }

    /// Groups denied to the deployer or a break-glass principal by an organization policy.
    pub fn protected(&self) -> impl Iterator<Item = &Group> {
        self.groups.iter().filter(|g| g.protected)
    }

    /// Denials a guardrail caused (optionally only in the given accounts).
    pub fn denials_by(&self, guardrail: &str, accounts: Option<&[String]>) -> usize {
        self.groups
            .iter()
            .filter(|g| g.guardrails.iter().any(|x| x == guardrail))
            .filter(|g| accounts.is_none_or(|a| a.contains(&g.account)))
            .map(|g| g.count)
            .sum()
    }
}

type Key = (Vec<String>, Option<String>, String, String, String);

/// Attribution of one denial.
struct Attribution {
    guardrails: Vec<String>,
    policy: Option<String>,
    managed: bool,
    via: Via,
    /// The layer that denied, when known.
    layer: Option<Layer>,
}

/// The accounts of one denial: the one that logged it, the caller's, the resource owner's.
struct Accounts {
    logged: String,
    caller: String,
    owner: String,
}

impl Accounts {
    /// The account whose layer denied; the logging account when no layer is known.
    fn deciding(&self, layer: Option<Layer>) -> &str {
        match layer {
            Some(Layer::Scp) => &self.caller,
            Some(Layer::Rcp) => &self.owner,
            None => &self.logged,
        }
    }
}

/// Takes records one at a time; [`Observer::finish`] gives the report.
pub struct Observer<'a> {
    live: &'a LiveOrg,
    desired: &'a Desired,
    window: Window,
    protected: Vec<String>,
    paths: BTreeMap<String, Option<eval::Path>>,
    groups: BTreeMap<Key, Group>,
    seen: crate::replay::dedup::Seen,
    report: Report,
}

impl<'a> Observer<'a> {
    pub fn new(live: &'a LiveOrg, desired: &'a Desired, window: Window) -> Self {
        Observer {
            live,
            desired,
            window,
            protected: protected_principals(desired),
            paths: BTreeMap::new(),
            groups: BTreeMap::new(),
            seen: Default::default(),
            report: Report::default(),
        }
    }

    /// One record, as a JSON value.
    pub fn add_value(&mut self, v: serde_json::Value) {
        self.report.records_read += 1;
        match record::parse(v) {
            Ok(r) => self.add_parsed(&r),
            Err(_) => self.report.bad_records += 1,
        }
    }

    /// A source of events (a file, an account's event history in a region) that could not be
    /// read; the run goes on.
    pub fn source_error(&mut self, source: String, error: String) {
        self.report.file_errors.push((source, error));
    }

    /// An event whose record is not JSON (from the event history).
    pub fn note_bad_event(&mut self, _error: String) {
        self.report.records_read += 1;
        self.report.bad_records += 1;
    }

    fn add_parsed(&mut self, r: &Record) {
        let denied = r
            .error_code
            .as_deref()
            .is_some_and(|c| ACCESS_DENIED.contains(&c));
        if !denied {
            return;
        }
        match parse_time(&r.event_time) {
            Ok(t) if self.window.contains(t) => {}
            _ => {
                self.report.outside_window += 1;
                return;
            }
        }
        if self
            .seen
            .repeat(r.event_id.as_deref(), r.shared_event_id.as_deref())
        {
            self.report.duplicates += 1;
            return;
        }
        let mapped = map::map(r);
        if matches!(mapped, Err(NotMapped::AwsServicePrincipal)) {
            // SCPs and RCPs never apply to a service principal.
            return;
        }
        self.report.denials += 1;
        let (action, principal) = match &mapped {
            Ok(m) => (m.action.clone(), m.principal.clone()),
            Err(_) => (
                format!(
                    "{}:{}",
                    r.event_source.trim_end_matches(".amazonaws.com"),
                    r.event_name
                ),
                r.user_identity
                    .arn
                    .clone()
                    .unwrap_or_else(|| r.user_identity.kind.clone()),
            ),
        };
        let logged = r.recipient_account_id.clone();
        let accounts = match &mapped {
            Ok(m) => Accounts {
                logged,
                caller: m.caller_account.clone(),
                owner: m.resource_account.clone(),
            },
            Err(_) => Accounts {
                caller: logged.clone(),
                owner: logged.clone(),
                logged,
            },
        };
        let request = mapped.as_ref().ok().map(|m| &m.request);
        let a = self.attribute(r.error_message.as_deref(), &accounts, request);
        let account = accounts.deciding(a.layer).to_owned();
        let protected =
            a.via.by_organization() && self.protected.iter().any(|p| arn_like(p, &principal));
        let ou = self.ou_of(&account);
        let key = (
            a.guardrails.clone(),
            a.policy.clone(),
            account.clone(),
            principal.clone(),
            action.clone(),
        );
        let g = self.groups.entry(key).or_insert_with(|| Group {
            guardrails: a.guardrails,
            policy: a.policy,
            managed: a.managed,
            ou,
            account,
            principal,
            action,
            via: a.via,
            protected,
            regions: Vec::new(),
            count: 0,
            first_seen: r.event_time.clone(),
            last_seen: r.event_time.clone(),
        });
        g.count += 1;
        let t = parse_time(&r.event_time).ok();
        let span = (&mut g.first_seen, &mut g.last_seen);
        note_seen(&mut g.regions, span, &r.aws_region, &r.event_time, t);
    }

    /// The account's OU path in the live organization (`/` for the root, `?` when unknown).
    fn ou_of(&self, account: &str) -> String {
        let Some(a) = self.live.accounts.get(account) else {
            return if account == self.live.management_account {
                "(management account)".into()
            } else {
                "?".into()
            };
        };
        match self.live.path_of(&a.parent_id) {
            Some(p) if p.is_root() => "/".into(),
            Some(p) => p.to_string(),
            None => "?".into(),
        }
    }

    fn attribute(
        &mut self,
        message: Option<&str>,
        accounts: &Accounts,
        request: Option<&Request>,
    ) -> Attribution {
        let said = message.map(message::read);
        match said.and_then(|s| s.policy) {
            Some(DenyingPolicy::Organizations {
                id,
                arn,
                policy_type,
            }) => {
                let name = self.live.policies.get(&id).map(|p| p.name.clone());
                let (guardrails, managed) = match &name {
                    Some(n) => self.guardrails_of(n, request),
                    None => (Vec::new(), false),
                };
                Attribution {
                    guardrails,
                    policy: Some(name.unwrap_or(arn)),
                    managed,
                    via: Via::Message,
                    layer: match policy_type {
                        PolicyType::ServiceControlPolicy => Some(Layer::Scp),
                        PolicyType::ResourceControlPolicy => Some(Layer::Rcp),
                        _ => None,
                    },
                }
            }
            Some(DenyingPolicy::Other { arn }) => Attribution {
                guardrails: Vec::new(),
                policy: Some(arn),
                managed: false,
                via: Via::NotOrganization,
                layer: None,
            },
            None => self.reevaluate(accounts, request),
        }
    }

    /// No ARN from AWS: the request on the live organization, the caller's account's SCPs and
    /// the resource owner's RCPs.
    fn reevaluate(&mut self, accounts: &Accounts, request: Option<&Request>) -> Attribution {
        let unknown = Attribution {
            guardrails: Vec::new(),
            policy: None,
            managed: false,
            via: Via::Unknown,
            layer: None,
        };
        let Some(req) = request else { return unknown };
        let (caller, owner) = (
            self.path_of(&accounts.caller),
            self.path_of(&accounts.owner),
        );
        let Some(path) = eval::Path::across(caller.as_ref(), owner.as_ref()) else {
            return unknown;
        };
        match eval::decide(&path, req) {
            Decision::Deny(d) => {
                let (guardrails, managed) = self.guardrails_of(&d.policy, Some(req));
                Attribution {
                    guardrails,
                    policy: Some(d.policy),
                    managed,
                    via: Via::Reevaluated,
                    layer: Some(d.layer),
                }
            }
            Decision::NoAllow { layer, level } => Attribution {
                guardrails: Vec::new(),
                policy: Some(format!("no {} allows it at {level}", layer.name())),
                managed: false,
                via: Via::Reevaluated,
                layer: Some(layer),
            },
            Decision::Allow | Decision::NotAffected(_) => Attribution {
                via: Via::AllowedByOrganization,
                ..unknown
            },
        }
    }

    fn path_of(&mut self, account: &str) -> Option<eval::Path> {
        let live = self.live;
        self.paths
            .entry(account.to_owned())
            .or_insert_with(|| {
                if account == live.management_account {
                    return Some(verify::management_path());
                }
                let a = live.accounts.get(account)?;
                Some(verify::live_path(live, &a.parent_id, Some(account)))
            })
            .clone()
    }

    /// The guardrails behind a policy the config declares: the one whose Deny statement
    /// matches the request, or, without a request or a match, every guardrail in the policy.
    fn guardrails_of(&self, policy: &str, request: Option<&Request>) -> (Vec<String>, bool) {
        let Some(p) = self.desired.policies.get(policy) else {
            return (Vec::new(), false);
        };
        let ev = EvalPolicy::new(&p.name, &p.document, p.guardrails.clone());
        let matched = request.and_then(|req| {
            ev.policy.statements.iter().enumerate().find_map(|(i, s)| {
                (s.effect == eval::Effect::Deny && s.matches(req))
                    .then(|| ev.guardrails.get(i).cloned().flatten())
                    .flatten()
            })
        });
        let mut all: Vec<String> = match matched {
            Some(g) => vec![g],
            None => p.guardrails.iter().flatten().cloned().collect(),
        };
        all.sort();
        all.dedup();
        (all, true)
    }

    pub fn finish(mut self) -> Report {
        self.report.groups = self.groups.into_values().collect();
        self.report
    }
}

impl Sink for Observer<'_> {
    fn file_read(&mut self) {
        self.report.files_read += 1;
    }
    fn file_error(&mut self, file: String, error: String) {
        self.source_error(file, error);
    }
    fn add_raw(&mut self, record: serde_json::Value) {
        self.add_value(record);
    }
}

/// ARN patterns of the principals whose denial is an emergency: the deployer (in any
/// account), the member role it works through, and the break-glass principals, exactly as
/// every template exempts them.
pub fn protected_principals(d: &Desired) -> Vec<String> {
    crate::config::exempt_principals(d)
}

/// The window of the last `days` days before `now`.
pub fn last_days(now: OffsetDateTime, days: u32) -> Window {
    Window {
        since: Some(now - time::Duration::days(i64::from(days))),
        until: None,
    }
}

/// Whether `ou` is `canary` or lies below it.
pub fn within(ou: &OuPath, canary: &OuPath) -> bool {
    ou.segments().starts_with(canary.segments())
}
