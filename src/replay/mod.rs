//! Replay: what would a guardrail change have done to the requests CloudTrail recorded?
//!
//! Each record is parsed into types (`record`), mapped to the request it stands for (`map`),
//! and evaluated *before* and *after* the change on its path: the SCPs of the caller's
//! account and the RCPs of the resource owner's ([`Path::across`]); the requests whose
//! decision flips are grouped by account, action, principal, deciding statement and region. Pure:
//! the paths come in as functions and the records one at a time; `read` is the one piece of
//! IO (log files below a directory, plain or gzip).
//!
//! "Before" is either a path (plan: the live organization) or, with none given, the outcome
//! the log recorded (validate: an event without an access-denied error was allowed). An event
//! that failed with an access-denied error can only become newly allowed; when it stays
//! denied, or the "before" side is the log, it is counted as already denied.

pub mod dedup;
pub mod map;
pub mod read;
pub mod record;
pub mod sink;
pub mod synth;
mod synth_record;
pub mod synth_write;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::model::{Desired, LiveOrg};
use crate::plan::verify::{self, describe_decider};
use crate::policy::eval::{self, Decision, Exemption, Path};

pub use map::{Mapped, NotMapped};
pub use record::Record;

/// A `--replay-since` / `--replay-until` value that is not an RFC 3339 time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an RFC 3339 time (like 2026-11-01T00:00:00Z)")]
pub struct BadTime(pub String);

/// Parses an RFC 3339 time.
pub fn parse_time(s: &str) -> Result<OffsetDateTime, BadTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339).map_err(|_| BadTime(s.to_owned()))
}

/// One more event of a group (a replay's flip, an observation's denials), in `region` at
/// `time` (`t`, when it parses): the group's regions (each once, sorted) and its first and
/// last times seen, as written.
pub(crate) fn note_seen(
    regions: &mut Vec<String>,
    (first, last): (&mut String, &mut String),
    region: &str,
    time: &str,
    t: Option<OffsetDateTime>,
) {
    if !region.is_empty() && !regions.iter().any(|r| r == region) {
        regions.push(region.to_owned());
        regions.sort();
    }
    if t.is_some_and(|t| parse_time(first).is_ok_and(|f| t < f)) {
        *first = time.to_owned();
    }
    if t.is_some_and(|t| parse_time(last).is_ok_and(|l| t > l)) {
        *last = time.to_owned();
    }
}

/// A time as RFC 3339 in UTC, to the second (`2026-11-01T09:00:00Z`).
pub fn format_time(t: OffsetDateTime) -> String {
    synth::rfc3339(t.unix_timestamp())
}

/// The window of events to replay: `since` inclusive, `until` exclusive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

impl Window {
    pub fn contains(&self, t: OffsetDateTime) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }
}

/// Why a record was not evaluated.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Skip {
    OutsideWindow,
    BadEventTime,
    /// An event already replayed: the same `eventID`, or the same `sharedEventID` (one call
    /// logged in the caller's account and in the resource owner's).
    Duplicate,
    NotApiCall,
    AwsServicePrincipal,
    NoPrincipal(String),
    /// Neither the caller's nor the resource owner's account is in the organization (on
    /// either side).
    UnknownAccount,
    /// validate: the caller's or the resource owner's account is not in the config, which
    /// cannot say whether it is in the organization (validate reads nothing live).
    NotInConfig,
    Exempt(&'static str),
    /// Denied in the log and not allowed after the change.
    AlreadyDenied,
}

impl Skip {
    /// A stable label for the human and JSON reports.
    pub fn label(&self) -> String {
        match self {
            Skip::OutsideWindow => "outside the window".into(),
            Skip::BadEventTime => "no valid eventTime".into(),
            Skip::Duplicate => "duplicate (eventID or sharedEventID seen before)".into(),
            Skip::NotApiCall => "not an API call".into(),
            Skip::AwsServicePrincipal => "AWS service principal".into(),
            Skip::NoPrincipal(kind) => format!("no IAM principal ({kind})"),
            Skip::UnknownAccount => "account not in the organization".into(),
            Skip::NotInConfig => "account not in the config (validate is offline)".into(),
            Skip::Exempt(why) => format!("exempt ({why})"),
            Skip::AlreadyDenied => "already denied".into(),
        }
    }
}

/// Requests that flip, grouped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flip {
    /// The account whose policies decide: the caller's for an SCP, the resource owner's for
    /// an RCP (the same account unless the request crossed accounts).
    pub account: String,
    pub action: String,
    pub principal: String,
    /// What decides on the side that denies: `denied by SCP ... statement ...`.
    pub decided_by: String,
    pub policy: Option<String>,
    pub statement: Option<String>,
    /// The group's region (`awsRegion`; regions are a dimension of the groups, so one, or
    /// none when the record named none), a list as in observe's groups.
    pub regions: Vec<String>,
    pub count: usize,
    pub first_seen: String,
    pub last_seen: String,
}

/// The whole replay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub files_read: usize,
    /// Files that could not be read or parsed, with why; the run goes on.
    pub file_errors: Vec<(String, String)>,
    pub records_read: usize,
    /// Records that are not CloudTrail records (fields of the wrong type).
    pub bad_records: usize,
    pub events_mapped: usize,
    pub evaluated: usize,
    /// Distinct requests evaluated (the rest were answered from [`dedup`]'s cache).
    pub distinct_requests: usize,
    /// The earliest and latest `eventTime` replayed (within the window).
    pub span: Option<(OffsetDateTime, OffsetDateTime)>,
    pub unmappable: BTreeMap<(String, String), usize>,
    pub skipped: BTreeMap<Skip, usize>,
    pub newly_denied: Vec<Flip>,
    pub newly_allowed: Vec<Flip>,
}

impl Report {
    /// Requests newly denied, the distinct principals and accounts they came from.
    pub fn denied_totals(&self) -> (usize, usize, usize) {
        let requests = self.newly_denied.iter().map(|f| f.count).sum();
        let principals: BTreeSet<&str> = self
            .newly_denied
            .iter()
            .map(|f| f.principal.as_str())
            .collect();
        let accounts: BTreeSet<&str> = self
            .newly_denied
            .iter()
            .map(|f| f.account.as_str())
            .collect();
        (requests, principals.len(), accounts.len())
    }

    pub fn not_evaluated(&self) -> usize {
        self.skipped.values().sum::<usize>()
            + self.unmappable.values().sum::<usize>()
            + self.bad_records
    }
}

/// An account id → its path (`None`: not in the organization, or, for
/// [`Replayer::config_only`], not in the config).
pub type Resolve<'a> = dyn Fn(&str) -> Option<Path> + 'a;

/// Error codes with which AWS refused a call for lack of permission.
const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "Client.UnauthorizedOperation",
    "UnauthorizedAccess",
];

/// A flip's group: deciding account, action, principal, deciding statement, region.
type Key = (String, String, String, String, String);

/// A (caller's account, resource owner's account) pair's paths before and after, and the
/// context keys their policies read.
struct Sides {
    before: Option<Path>,
    after: Option<Path>,
    reads: dedup::Relevant,
}

/// Replays records one at a time; [`Replayer::finish`] gives the report.
pub struct Replayer<'a> {
    window: Window,
    before: Option<&'a Resolve<'a>>,
    after: &'a Resolve<'a>,
    /// `after` is the config alone: an account it does not list is unknown, not outside.
    config_only: bool,
    /// Caller's account → resource owner's account → index in `sides`.
    accounts: HashMap<String, HashMap<String, usize>>,
    sides: Vec<Sides>,
    cache: dedup::Cache,
    seen: dedup::Seen,
    denied: BTreeMap<Key, Flip>,
    allowed: BTreeMap<Key, Flip>,
    report: Report,
}

impl<'a> Replayer<'a> {
    /// `before`: the account's path before the change, or `None` for the logged outcome;
    /// `after`: its path after the change. `None` from either: not in the organization.
    pub fn new(window: Window, before: Option<&'a Resolve<'a>>, after: &'a Resolve<'a>) -> Self {
        Replayer {
            window,
            before,
            after,
            config_only: false,
            accounts: HashMap::new(),
            sides: Vec::new(),
            cache: dedup::Cache::default(),
            seen: dedup::Seen::default(),
            denied: BTreeMap::new(),
            allowed: BTreeMap::new(),
            report: Report::default(),
        }
    }

    /// validate: `after` is the config alone, so an account it does not list may still be in
    /// the organization. A request is evaluated only when both its caller's and its resource
    /// owner's accounts are in the config (else [`Skip::NotInConfig`]); a missing account is
    /// never taken for one outside the organization, whose layer would not apply.
    pub fn config_only(mut self) -> Self {
        self.config_only = true;
        self
    }

    /// A file was read.
    pub fn file_read(&mut self) {
        self.report.files_read += 1;
    }

    /// A file could not be read or parsed.
    pub fn file_error(&mut self, file: String, error: String) {
        self.report.file_errors.push((file, error));
    }

    /// A raw record from a log file.
    pub fn add_raw(&mut self, v: serde_json::Value) {
        self.report.records_read += 1;
        match record::parse(v) {
            Ok(r) => self.add_parsed(&r),
            Err(_) => self.report.bad_records += 1,
        }
    }

    fn skip(&mut self, why: Skip) {
        *self.report.skipped.entry(why).or_default() += 1;
    }

    /// A parsed record (counts it as read).
    pub fn add(&mut self, r: &Record) {
        self.report.records_read += 1;
        self.add_parsed(r);
    }

    fn add_parsed(&mut self, r: &Record) {
        let Ok(t) = parse_time(&r.event_time) else {
            return self.skip(Skip::BadEventTime);
        };
        if !self.window.contains(t) {
            return self.skip(Skip::OutsideWindow);
        }
        // The copies of a cross-account call share `sharedEventID`. They are one request only
        // when the record names the resource's account: otherwise each copy takes its own
        // recipient as the owner whose RCPs apply (`map`), so both are kept.
        let names_owner = r
            .resources
            .iter()
            .any(|x| x.account_id.as_deref().is_some_and(|a| !a.is_empty()));
        let shared = r.shared_event_id.as_deref().filter(|_| names_owner);
        if self.seen.repeat(r.event_id.as_deref(), shared) {
            return self.skip(Skip::Duplicate);
        }
        self.report.span = Some(match self.report.span {
            Some((first, last)) => (first.min(t), last.max(t)),
            None => (t, t),
        });
        let m = match map::map(r) {
            Ok(m) => m,
            Err(NotMapped::Unmappable { source, name }) => {
                *self.report.unmappable.entry((source, name)).or_default() += 1;
                return;
            }
            Err(NotMapped::NotApiCall) => return self.skip(Skip::NotApiCall),
            Err(NotMapped::AwsServicePrincipal) => return self.skip(Skip::AwsServicePrincipal),
            Err(NotMapped::NoPrincipal(k)) => return self.skip(Skip::NoPrincipal(k)),
        };
        self.report.events_mapped += 1;
        let logged_denied = r
            .error_code
            .as_deref()
            .is_some_and(|c| ACCESS_DENIED.contains(&c));
        let Some((before, after)) = self.outcome(&m) else {
            return self.skip(if self.config_only {
                Skip::NotInConfig
            } else {
                Skip::UnknownAccount
            });
        };
        if let Decision::NotAffected(e) = after {
            return self.skip(Skip::Exempt(match e {
                Exemption::ManagementAccount => "management account",
                Exemption::ServiceLinkedRole => "service-linked role",
            }));
        }
        let was_denied = before.as_ref().map_or(logged_denied, Decision::is_denied);
        match (logged_denied, was_denied, after.is_denied()) {
            (false, false, true) => {
                self.report.evaluated += 1;
                record_flip(&mut self.denied, &m, &after, &r.event_time, t);
            }
            (_, true, false) if before.is_some() => {
                self.report.evaluated += 1;
                if let Some(was) = &before {
                    record_flip(&mut self.allowed, &m, was, &r.event_time, t);
                }
            }
            (true, _, _) => self.skip(Skip::AlreadyDenied),
            _ => self.report.evaluated += 1,
        }
    }

    /// The sides of a caller's account and a resource owner's, resolved once.
    fn side(&mut self, caller: &str, owner: &str) -> usize {
        if let Some(i) = self.accounts.get(caller).and_then(|m| m.get(owner)) {
            return *i;
        }
        let before = self.before.and_then(|b| joined(b, caller, owner, false));
        let after = joined(self.after, caller, owner, self.config_only);
        let reads = dedup::relevant(before.iter().chain(&after));
        self.sides.push(Sides {
            before,
            after,
            reads,
        });
        let i = self.sides.len() - 1;
        self.accounts
            .entry(caller.to_owned())
            .or_default()
            .insert(owner.to_owned(), i);
        i
    }

    /// The decisions before (`None` when the before side is the log) and after, evaluated
    /// once per distinct request; `None` when neither account is in the organization (or,
    /// config only, either is not in the config).
    fn outcome(&mut self, m: &Mapped) -> Option<(Option<Decision>, Decision)> {
        let i = self.side(&m.caller_account, &m.resource_account);
        let sides = &self.sides[i];
        let after = sides.after.as_ref()?;
        let before = match (self.before, &sides.before) {
            (None, _) => None,
            (Some(_), Some(p)) => Some(p),
            (Some(_), None) => return None,
        };
        let key = dedup::Key::new(i, &m.request, &sides.reads);
        let (out, fresh) = self.cache.get_or(key, || {
            (
                before.map(|p| eval::decide(p, &m.request)),
                eval::decide(after, &m.request),
            )
        });
        let out = out.clone();
        self.report.distinct_requests += usize::from(fresh);
        Some(out)
    }

    pub fn finish(mut self) -> Report {
        self.report.newly_denied = self.denied.into_values().collect();
        self.report.newly_allowed = self.allowed.into_values().collect();
        self.report
    }
}

/// A request's path from its caller's account and its resource owner's ([`Path::across`]);
/// with `both`, `None` unless both accounts resolve.
fn joined(resolve: &Resolve<'_>, caller: &str, owner: &str, both: bool) -> Option<Path> {
    let c = resolve(caller);
    let o = if owner == caller {
        c.clone()
    } else {
        resolve(owner)
    };
    if both && (c.is_none() || o.is_none()) {
        return None;
    }
    Path::across(c.as_ref(), o.as_ref())
}

/// The account whose policies decided: the caller's for an SCP, the resource owner's for an
/// RCP.
fn deciding_account<'m>(m: &'m Mapped, deciding: &Decision) -> &'m str {
    let layer = match deciding {
        Decision::Deny(d) => Some(d.layer),
        Decision::NoAllow { layer, .. } => Some(*layer),
        _ => None,
    };
    match layer {
        Some(eval::Layer::Rcp) => &m.resource_account,
        Some(eval::Layer::Scp) => &m.caller_account,
        None => &m.account,
    }
}

/// Adds one request to its group.
fn record_flip(
    groups: &mut BTreeMap<Key, Flip>,
    m: &Mapped,
    deciding: &Decision,
    time: &str,
    t: OffsetDateTime,
) {
    let (decided_by, policy, statement) = match deciding {
        Decision::Deny(d) => (
            describe_decider(d),
            Some(d.policy.clone()),
            Some(d.statement.clone()),
        ),
        Decision::NoAllow { layer, level } => (
            format!("no {} allows it at {level}", layer.name()),
            None,
            None,
        ),
        _ => (String::new(), None, None),
    };
    let account = deciding_account(m, deciding).to_owned();
    let key = (
        account.clone(),
        m.action.clone(),
        m.principal.clone(),
        decided_by.clone(),
        m.region.clone(),
    );
    let g = groups.entry(key).or_insert_with(|| Flip {
        account,
        action: m.action.clone(),
        principal: m.principal.clone(),
        decided_by,
        policy,
        statement,
        regions: Vec::new(),
        count: 0,
        first_seen: time.to_owned(),
        last_seen: time.to_owned(),
    });
    g.count += 1;
    let span = (&mut g.first_seen, &mut g.last_seen);
    note_seen(&mut g.regions, span, &m.region, time, Some(t));
}

/// An account's path in the live organization: the management account's exempts it.
pub fn live_side(live: &LiveOrg) -> impl Fn(&str) -> Option<Path> + '_ {
    move |account| {
        if account == live.management_account {
            return Some(verify::management_path());
        }
        let a = live.accounts.get(account)?;
        Some(verify::live_path(live, &a.parent_id, Some(account)))
    }
}

/// plan's "after": an account's path in `plan::projected` (what will really be attached after
/// the apply), the account found in the config by id, else by email (an account the config
/// had created names no id), else where the live account sits, with its own attachments (an
/// account the config does not describe keeps its place and its policies).
pub fn plan_side<'a>(d: &'a Desired, live: &'a LiveOrg) -> impl Fn(&str) -> Option<Path> + 'a {
    move |account| {
        if let Some((_, p)) = verify::account_levels(d, account) {
            return Some(p);
        }
        let a = live.accounts.get(account)?;
        let by_email = d.accounts.values().find(|c| {
            c.id.is_none()
                && c.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(&a.email))
        });
        if let Some(c) = by_email {
            return Some(verify::desired_path(d, &c.ou, Some((account, &c.policies))));
        }
        let ou = live.path_of(&a.parent_id)?;
        let own: BTreeSet<String> = live.policies_on(account).map(|p| p.name.clone()).collect();
        Some(verify::desired_path(d, &ou, Some((account, &own))))
    }
}

/// An account's path in a desired state (validate: the config alone).
pub fn desired_side(d: &Desired) -> impl Fn(&str) -> Option<Path> + '_ {
    move |account| verify::account_levels(d, account).map(|(_, p)| p)
}
