//! Config errors for people: each with the offending source line (miette's graphical report),
//! escaped for a terminal, then a count.

use std::fmt::Write as _;

use miette::{GraphicalReportHandler, GraphicalTheme};

use super::escape::{visible, visible_lines};
use super::Style;
use crate::config::{ConfigErrors, ErrorKind};

/// Config errors with the offending source lines, one report per error, then a count.
pub fn config_errors(errors: &ConfigErrors, style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    for e in &errors.0 {
        // Keys and messages quote config values, which `import` may have taken from AWS. Only
        // TOML's own parse errors (of the config or a template) break lines on purpose.
        let mut e = e.clone();
        e.key = visible(&e.key).into_owned();
        e.message = match e.kind {
            ErrorKind::Syntax | ErrorKind::Template => visible_lines(&e.message),
            _ => visible(&e.message).into_owned(),
        };
        e.help = e.help.map(|h| visible(&h).into_owned());
        let _ = handler.render_report(&mut out, &e);
        out.push('\n');
    }
    let n = errors.0.len();
    let _ = writeln!(
        out,
        "{n} error{} in config; nothing was sent to AWS.",
        if n == 1 { "" } else { "s" }
    );
    out
}
