//! The config: `environments/<env>.toml` → [`Desired`], and the reverse for `import`.
//!
//! Parsing is pure: the caller hands in the text and a function that reads policy documents,
//! so tests run without a file system and every error is collected, not just the first. Each
//! error names file, line, column and key (see [`ConfigError`]). The schema is documented key
//! by key in `docs/config.md`.
//!
//! Architecture invariant: no AWS, no `live`. Imports `model` and `policy` only.

mod boundaries;
mod emit;
mod error;
mod guardrails;
mod parse;

pub use emit::{emit, Emitted};
pub use error::{ConfigError, ConfigErrors, ErrorKind};
pub use parse::parse;

use std::path::Path;

use crate::model::Desired;

/// Reads a config file and the documents it names from disk. Paths of documents are relative
/// to the config file's directory.
pub fn load(path: &Path) -> Result<Desired, ConfigErrors> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            let mut sink = error::Sink::new(path, "");
            sink.push(
                ErrorKind::Unreadable,
                None,
                "(file)",
                format!("cannot read config: {e}"),
                Some(
                    "run `guardrail import --env NAME` to create one from the live organization"
                        .into(),
                ),
            );
            return Err(ConfigErrors(sink.into_errors()));
        }
    };
    let base = path.parent().unwrap_or(Path::new(".")).to_owned();
    parse(path, &text, &|p: &Path| {
        std::fs::read_to_string(base.join(p))
    })
}
