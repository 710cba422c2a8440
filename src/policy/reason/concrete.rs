//! Concrete counterexamples: the search's values made into a request a reviewer can paste
//! into `guardrail explain` and recognise in AWS's own world.
//!
//! Each variable is replaced in turn, and each replacement is kept only when the request
//! still replays through [`decide`] as "the new side allows, the old side denies":
//!
//! - the **action** becomes an action of the IAM catalogue in its catalogue casing, inside the
//!   action language the search found (the model's action literals), preferring one the
//!   statement that denied it before names;
//! - the **principal** becomes an ARN in the class's account of the principal type the model
//!   asks for (`role/`, `user/`, `root`, `federated-user/`), with no `*` or `?`; it is set
//!   with [`Request::principal`], so `aws:PrincipalType` and `aws:PrincipalAccount` agree
//!   with it as they do in `explain`;
//! - the **region** becomes a real region;
//! - the **resource** becomes an ARN of one of the action's resource types (from the
//!   catalogue's ARN formats), or `*` when the action takes no resource.
//!
//! When no replacement replays, the search's value stays and the witness says so in a note.
//! The work done here (candidates checked, statements replayed) is counted like search steps.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::values::{catalogue_actions, common_actions, regions};
use super::{Constants, Witness};
use crate::policy::eval::{
    arn_like, decide, glob, Actions, Decision, Path, Principal, PrincipalType, Request,
};
use crate::policy::iam::{self, Action, Service};

/// Replays tried at most per variable of one witness.
const MAX_REPLAYS: usize = 32;
/// The account a principal gets when the class has none (unit tests).
const SAMPLE_ACCOUNT: &str = "111122223333";

/// Action constraints of a model: pattern lists (lower-cased) and whether the action must
/// match one of them.
pub type ActionLits = [(Vec<String>, bool)];

/// Makes witnesses concrete for one pair of paths.
pub struct Concretizer<'a> {
    old: &'a Path,
    new: &'a Path,
    account: String,
    /// Statements on both sides: what one replay costs, in steps.
    weight: u64,
    /// Work done, in steps.
    pub work: u64,
    /// The catalogue look-up stops once `work` reaches this.
    limit: u64,
    /// Candidate actions by (action constraints, responsible patterns, search's action).
    actions: HashMap<String, Vec<String>>,
}

fn statements(p: &Path) -> u64 {
    p.scp
        .iter()
        .chain(&p.rcp)
        .flat_map(|l| &l.policies)
        .map(|p| p.policy.statements.len() as u64)
        .sum()
}

fn concrete(s: &str) -> bool {
    !s.contains(['*', '?'])
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn single(r: &Request, key: &str) -> Option<String> {
    match r.values(key) {
        Some([v]) => Some(v.clone()),
        _ => None,
    }
}

/// The catalogue's action for `service:name` (any case).
fn catalogue_action(a: &str) -> Option<(&'static Service, &'static Action)> {
    let (svc, name) = a.split_once(':')?;
    let s = iam::catalogue().service(svc)?;
    Some((s, s.action(name)?))
}

impl<'a> Concretizer<'a> {
    /// `limit`: the steps the catalogue look-up may take in all (the search's own budget).
    pub fn new(old: &'a Path, new: &'a Path, k: &Constants, limit: u64) -> Concretizer<'a> {
        let account = if is_account_id(&k.account_id) {
            k.account_id.clone()
        } else {
            SAMPLE_ACCOUNT.to_owned()
        };
        Concretizer {
            old,
            new,
            account,
            weight: statements(old) + statements(new) + 1,
            work: 0,
            limit,
            actions: HashMap::new(),
        }
    }

    /// The witness with concrete values wherever one replays; notes say where none did.
    pub fn witness(&mut self, actions: &ActionLits, w: Witness) -> Witness {
        let mut w = w;
        self.action(&mut w, actions);
        self.principal(&mut w);
        self.region(&mut w);
        self.resource(&mut w);
        w
    }

    /// Replays `r`; adopts it when the new side still allows and the old side denies.
    fn adopt(&mut self, w: &mut Witness, r: Request) -> bool {
        if r == w.request {
            return true;
        }
        self.work += self.weight;
        let (old, new) = (decide(self.old, &r), decide(self.new, &r));
        let ok = !new.is_denied() && old.is_denied();
        if ok {
            *w = Witness {
                request: r,
                old,
                new,
                notes: std::mem::take(&mut w.notes),
            };
        }
        ok
    }

    /// The first candidate that replays, trying at most [`MAX_REPLAYS`].
    fn first(&mut self, w: &mut Witness, cands: impl IntoIterator<Item = Request>) -> bool {
        cands
            .into_iter()
            .take(MAX_REPLAYS)
            .any(|r| self.adopt(w, r))
    }

    fn action(&mut self, w: &mut Witness, lits: &ActionLits) {
        let current = w.request.action.clone();
        let real = catalogue_action(&current).is_some();
        let named = responsible_actions(self.old, &w.old);
        let own = real.then(|| current.to_ascii_lowercase());
        // The statement's own actions and services first, replayed as they are found...
        let near = near_sources(&named, own);
        let found = self.scan(lits, &named, near, MAX_REPLAYS);
        if self.try_actions(w, found) {
            return;
        }
        // ...then the whole catalogue, looked through once per action language.
        let key = format!("{lits:?} {named:?}");
        let far = match self.actions.get(&key) {
            Some(c) => c.clone(),
            None => {
                let c = self.scan(lits, &named, far_sources(&named), MAX_REPLAYS);
                self.actions.insert(key, c.clone());
                c
            }
        };
        if self.try_actions(w, far) || real {
            return;
        }
        let cut = if self.work >= self.limit {
            " (the look-up stopped at the search's step budget)"
        } else {
            ""
        };
        w.notes.push(format!(
            "no action of the IAM catalogue fits this counterexample{cut}; `{current}` is the search's own value"
        ));
    }

    /// The first of these actions that replays.
    fn try_actions(&mut self, w: &mut Witness, names: impl IntoIterator<Item = String>) -> bool {
        names.into_iter().any(|action| {
            let r = Request {
                action,
                ..w.request.clone()
            };
            self.adopt(w, r)
        })
    }

    /// Up to `max` catalogue actions (in catalogue casing) from `sources` inside the model's
    /// action language; every name looked at and pattern tried is counted.
    fn scan<'s>(
        &mut self,
        lits: &ActionLits,
        named: &[String],
        sources: impl Iterator<Item = (Cow<'s, str>, bool)>,
        max: usize,
    ) -> Vec<String> {
        let per_item = 1 + lits.iter().map(|(p, _)| p.len() as u64).sum::<u64>();
        let holds = |a: &str| {
            lits.iter()
                .all(|(p, want)| p.iter().any(|p| glob(p, a)) == *want)
        };
        let mut out: Vec<String> = Vec::new();
        for (lower, want_named) in sources {
            if self.work >= self.limit || out.len() >= max {
                break;
            }
            self.work += per_item + if want_named { named.len() as u64 } else { 0 };
            if want_named && !named.iter().any(|p| glob(p, &lower)) {
                continue;
            }
            if !holds(&lower) {
                continue;
            }
            if let Some(name) = catalogue_name(&lower).filter(|n| !out.contains(n)) {
                out.push(name);
            }
        }
        out
    }

    fn principal(&mut self, w: &mut Witness) {
        let r = &w.request;
        let arn = single(r, "aws:principalarn");
        let kind = single(r, "aws:principaltype")
            .and_then(|t| principal_type(&t))
            .or_else(|| arn.as_deref().map(|a| Principal::parse(a).kind))
            .unwrap_or(PrincipalType::AssumedRole);
        let account = single(r, "aws:principalaccount")
            .filter(|a| is_account_id(a))
            .unwrap_or_else(|| self.account.clone());
        let mut arns: Vec<String> = arn.iter().flat_map(|a| from_model(a, &account)).collect();
        arns.push(sample_principal(kind, &account));
        let base = w.request.clone();
        let cands: Vec<Request> = arns.iter().map(|a| base.clone().principal(a)).collect();
        if !self.first(w, cands) {
            w.notes.push(format!(
                "no principal ARN of the class's account fits this counterexample; the principal is the search's own value ({})",
                arn.as_deref().unwrap_or("none")
            ));
        }
    }

    fn region(&mut self, w: &mut Witness) {
        let current = single(&w.request, "aws:requestedregion");
        if current.as_deref().is_some_and(|c| regions().contains(&c)) {
            return;
        }
        let base = w.request.clone();
        let cands: Vec<Request> = regions().iter().map(|g| base.clone().region(g)).collect();
        if !cands.into_iter().any(|r| self.adopt(w, r)) {
            w.notes.push(format!(
                "no AWS region fits this counterexample; the region is the search's own value ({})",
                current.as_deref().unwrap_or("none")
            ));
        }
    }

    fn resource(&mut self, w: &mut Witness) {
        let region = single(&w.request, "aws:requestedregion").unwrap_or_default();
        let current = w.request.resource.clone();
        let shown = current.clone().unwrap_or_else(|| "none".into());
        let formats = match catalogue_action(&w.request.action) {
            Some((svc, act)) => resource_formats(svc, act),
            None if current.as_deref().is_some_and(concrete) => return,
            None => Vec::new(),
        };
        let known = catalogue_action(&w.request.action).is_some();
        let (typed, other) =
            resource_candidates(current.as_deref(), &formats, &region, &self.account);
        let base = w.request.clone();
        let with = |res: String| Request {
            resource: Some(res),
            ..base.clone()
        };
        if known && self.first(w, typed.into_iter().map(with)) {
            return;
        }
        let why = if known {
            "no ARN of the action's resource types fits this counterexample"
        } else {
            "the action is not in the IAM catalogue"
        };
        let made = match other {
            Some(o) if self.adopt(w, with(o.clone())) => o,
            _ => shown,
        };
        w.notes.push(format!(
            "{why}; the resource is the search's own value ({made})"
        ));
    }
}

/// `AssumedRole`, `User`, ... as `aws:PrincipalType` spells them.
fn principal_type(t: &str) -> Option<PrincipalType> {
    use PrincipalType::*;
    [Account, User, FederatedUser, AssumedRole]
        .into_iter()
        .find(|k| k.name() == t)
}

/// A principal of this type in `account`.
fn sample_principal(kind: PrincipalType, account: &str) -> String {
    match kind {
        PrincipalType::Account => format!("arn:aws:iam::{account}:root"),
        PrincipalType::User => format!("arn:aws:iam::{account}:user/example"),
        PrincipalType::FederatedUser => format!("arn:aws:sts::{account}:federated-user/example"),
        PrincipalType::AssumedRole => format!("arn:aws:iam::{account}:role/example"),
    }
}

/// The model's principal ARN with its wildcards filled and its account made concrete: the
/// class's account first, then its own when that is already an account id.
fn from_model(arn: &str, account: &str) -> Vec<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, partition, service, _, own, res] = parts.as_slice() else {
        return Vec::new();
    };
    let partition = if concrete(partition) && !partition.is_empty() {
        partition
    } else {
        "aws"
    };
    let service = if *service == "sts" { "sts" } else { "iam" };
    let mut accounts = vec![account];
    if is_account_id(own) && *own != account {
        accounts.push(own);
    }
    let mut out = Vec::new();
    for star in ["", "example"] {
        let res = res.replace('*', star).replace('?', "x");
        let named = res.rsplit('/').next().is_some_and(|n| !n.is_empty());
        if res == "root" || (res.contains('/') && named) {
            for a in &accounts {
                out.push(format!("arn:{partition}:{service}::{a}:{res}"));
            }
        }
    }
    out.dedup();
    out
}

/// The ARN formats of an action's resource types, required ones first.
fn resource_formats(svc: &Service, act: &Action) -> Vec<&'static str> {
    let mut types: Vec<&(&str, bool)> = act.resources.iter().collect();
    types.sort_by_key(|(_, required)| !required);
    types
        .iter()
        .filter_map(|(name, _)| {
            svc.resources
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(name))
        })
        .map(|t| t.arn)
        .collect()
}

/// Whether `r` is an ARN of this format: every `${...}` read as a wildcard, and (unless the
/// format has a wildcard of its own) as many `/` as the format, so a bucket's format does not
/// take an object's ARN.
fn fits_format(f: &str, r: &str) -> bool {
    let slashes = |s: &str| s.matches('/').count();
    arn_like(&fill_format(f, "*", "*", "*"), r) && (f.contains('*') || slashes(f) == slashes(r))
}

fn fill_format(f: &str, region: &str, account: &str, other: &str) -> String {
    let mut out = String::new();
    let mut rest = f;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            rest = &rest[start..];
            break;
        };
        out.push_str(match &after[..end] {
            "Partition" => "aws",
            "Region" => region,
            "Account" | "AccountId" => account,
            _ => other,
        });
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Concrete resources for an action, best first: the search's value when it is (or, its
/// wildcards filled, becomes) an ARN of one of the action's resource types, then each type's
/// ARN format filled, or `*` when the action takes no resource. Second, the search's value
/// with its wildcards filled, when it is no such ARN (the last resort).
fn resource_candidates(
    current: Option<&str>,
    formats: &[&str],
    region: &str,
    account: &str,
) -> (Vec<String>, Option<String>) {
    let region = if region.is_empty() {
        "us-east-1"
    } else {
        region
    };
    let fits = |r: &str| formats.iter().any(|f| fits_format(f, r));
    let filled = current.map(|c| c.replace('*', "example").replace('?', "x"));
    let mut out: Vec<String> = current
        .filter(|c| concrete(c))
        .map(str::to_owned)
        .into_iter()
        .chain(filled.clone())
        .filter(|c| fits(c))
        .collect();
    for f in formats {
        out.push(fill_format(f, region, account, "example").replace('*', "example"));
    }
    if formats.is_empty() {
        out.push("*".to_owned());
    }
    let mut seen = HashSet::new();
    out.retain(|r| seen.insert(r.clone()));
    let other = filled.filter(|c| c != "*" && !out.contains(c));
    (out, other)
}

/// Lower-cased actions to try first, each with whether it must match one of the statement's
/// own patterns: the statement's literal actions; the actions of the services its patterns
/// name (common ones first); the search's own action when it is a catalogue action.
fn near_sources(
    named: &[String],
    current: Option<String>,
) -> impl Iterator<Item = (Cow<'_, str>, bool)> + '_ {
    let cat = iam::catalogue();
    let literals = named.iter().filter(|p| concrete(p));
    let mut services: Vec<&'static Service> = named
        .iter()
        .filter(|p| !concrete(p))
        .filter_map(|p| p.split_once(':'))
        .filter(|(svc, _)| concrete(svc))
        .filter_map(|(svc, _)| cat.service(svc))
        .collect();
    services.dedup_by_key(|s| s.prefix);
    let in_services = services.into_iter().flat_map(|s| {
        let prefix = format!("{}:", s.prefix.to_ascii_lowercase());
        let common = common_actions()
            .iter()
            .filter(move |(l, _)| l.starts_with(&prefix))
            .map(|(l, _)| Cow::Borrowed(l.as_str()));
        let own = s
            .actions
            .iter()
            .map(move |a| Cow::Owned(format!("{}:{}", s.prefix, a.name).to_ascii_lowercase()));
        common.chain(own)
    });
    literals
        .map(|p| (Cow::Borrowed(p.as_str()), false))
        .chain(in_services.map(|c| (c, true)))
        .chain(current.map(|c| (Cow::Owned(c), false)))
}

/// Then the whole catalogue (common actions first): once for a pattern of the statement
/// whose service is a wildcard, those it matches; once whatever the statement names.
fn far_sources(named: &[String]) -> impl Iterator<Item = (Cow<'static, str>, bool)> {
    let wild = named
        .iter()
        .any(|p| p.split_once(':').is_none_or(|(svc, _)| !concrete(svc)));
    let all = || {
        catalogue_actions()
            .iter()
            .map(|(l, _)| Cow::Borrowed(l.as_str()))
    };
    all()
        .take(if wild { usize::MAX } else { 0 })
        .map(|c| (c, true))
        .chain(all().map(|c| (c, false)))
}

/// `service:Name` in catalogue casing, for a lower-cased catalogue action.
fn catalogue_name(lower: &str) -> Option<String> {
    catalogue_action(lower).map(|(s, a)| format!("{}:{}", s.prefix, a.name))
}

/// The action patterns (lower-cased) of the Deny statement that decided `d` on `path`; empty
/// for a missing Allow or a `NotAction` statement (which names what it spares).
fn responsible_actions(path: &Path, d: &Decision) -> Vec<String> {
    let Decision::Deny(by) = d else {
        return Vec::new();
    };
    let levels = match by.layer {
        crate::policy::eval::Layer::Scp => &path.scp,
        crate::policy::eval::Layer::Rcp => &path.rcp,
    };
    levels
        .iter()
        .filter(|l| l.name == by.level)
        .flat_map(|l| &l.policies)
        .filter(|p| p.name == by.policy)
        .flat_map(|p| &p.policy.statements)
        .find(|s| s.name == by.statement)
        .and_then(|s| match &s.actions {
            Actions::Action(p) => Some(p.clone()),
            _ => None,
        })
        .unwrap_or_default()
}
