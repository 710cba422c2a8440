//! `--replay`: reads the CloudTrail logs and replays them (`crate::replay`) between a
//! "before" (plan: the live organization; validate: the outcome the logs recorded) and an
//! "after" (plan: what will really be attached after the apply; validate: the config).

use anyhow::Context;

use super::args::ReplayArgs;
use crate::model::{Desired, LiveOrg};
use crate::replay::{self, read, Replayer, Window};

/// The replay report, or `None` without `--replay`.
pub fn report(
    args: &ReplayArgs,
    live: Option<&LiveOrg>,
    after: &Desired,
) -> anyhow::Result<Option<replay::Report>> {
    let Some(path) = &args.replay else {
        return Ok(None);
    };
    let window = Window {
        since: args.replay_since,
        until: args.replay_until,
    };
    let after: Box<replay::Resolve<'_>> = match live {
        Some(live) => Box::new(replay::plan_side(after, live)),
        None => Box::new(replay::desired_side(after)),
    };
    let before = live.map(replay::live_side);
    let before: Option<&replay::Resolve<'_>> = before.as_ref().map(|f| f as _);
    let mut r = Replayer::new(window, before, &*after);
    if live.is_none() {
        // validate reads nothing live: an account the config does not list is unknown.
        r = r.config_only();
    }
    read::read_logs(path, &mut r)
        .with_context(|| format!("cannot read --replay {}", path.display()))?;
    Ok(Some(r.finish()))
}

/// `--replay-fail-on-deny` and the replay found a request the change newly denies.
pub fn fails(args: &ReplayArgs, report: Option<&replay::Report>) -> bool {
    args.replay_fail_on_deny && report.is_some_and(|r| !r.newly_denied.is_empty())
}
