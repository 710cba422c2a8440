//! Progress on stderr. On a terminal: indicatif spinners and bars, cleared when done. Without
//! one (CI, a pipe, a file): plain lines stamped with the UTC time, one per phase (reading the
//! organization, reading IAM, planning, applying) and one per finished apply step, each
//! written at once (stderr is unbuffered), so the log of a run killed with SIGKILL still
//! shows what was done. A retry is told in both cases.

use std::io::IsTerminal;
use std::time::{SystemTime, UNIX_EPOCH};

use indicatif::ProgressBar;

use crate::apply::Event;
use crate::plan::Change;
use crate::render;

/// `2026-11-23T11:49:01Z` for `secs` seconds after the Unix epoch.
pub fn utc_timestamp(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

fn now() -> String {
    utc_timestamp(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    )
}

/// A line on stderr outside any phase (an SDK retry): timestamped without a terminal. `line`
/// must already be escaped.
pub fn note(line: &str) {
    if std::io::stderr().is_terminal() {
        eprintln!("{line}");
    } else {
        eprintln!("{} {line}", now());
    }
}

/// One phase of a run: a spinner or bar on a terminal, timestamped lines otherwise.
pub struct Phase {
    bar: ProgressBar,
    tty: bool,
}

impl Phase {
    /// Starts a phase of `len` steps (0: a spinner), announcing it without a terminal.
    pub fn start(what: &str, len: usize) -> Phase {
        let tty = std::io::stderr().is_terminal();
        let bar = if !tty {
            eprintln!("{} {what}", now());
            ProgressBar::hidden()
        } else if len == 0 {
            let s = ProgressBar::new_spinner();
            s.set_message(what.to_owned());
            s.enable_steady_tick(std::time::Duration::from_millis(120));
            s
        } else {
            let bar = ProgressBar::new(len as u64);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} ({eta})")
            {
                bar.set_style(style);
            }
            bar.set_message(what.to_owned());
            bar
        };
        Phase { bar, tty }
    }

    /// One more step done.
    pub fn inc(&self) {
        self.bar.inc(1);
    }

    /// A line on stderr: above the bar on a terminal, timestamped otherwise. `line` must
    /// already be escaped.
    pub fn say(&self, line: &str) {
        if self.tty {
            self.bar.println(line);
        } else {
            eprintln!("{} {line}", now());
        }
    }

    /// Ends the phase; without a terminal, says how it ended.
    pub fn finish(self, summary: &str) {
        self.bar.finish_and_clear();
        if !self.tty {
            eprintln!("{} {summary}", now());
        }
    }

    /// The apply observer: a line per retry; per finished step a line without a terminal
    /// (on one, the bar moves and only failures get a line).
    pub fn on_step(&self, total: usize, i: usize, change: &Change, event: &Event<'_>) {
        match event {
            Event::Retrying {
                error,
                attempt,
                attempts,
                wait,
            } => self.say(&render::retry_line(
                i, change, error, *attempt, *attempts, *wait,
            )),
            Event::Finished(status) => {
                self.inc();
                let failed = matches!(status, crate::apply::StepStatus::Failed(_));
                if !self.tty || failed {
                    self.say(&render::step_line(i, total, change, status));
                }
                if let crate::apply::StepStatus::Failed(e) = status {
                    tracing::warn!(step = i + 1, action = change.action(), error = %e, "step failed");
                } else {
                    tracing::info!(step = i + 1, action = change.action(), "step finished");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(utc_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_timestamp(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_timestamp(1_795_434_541), "2026-11-23T11:49:01Z");
        assert_eq!(utc_timestamp(4_107_542_399), "2100-02-28T23:59:59Z");
    }
}
