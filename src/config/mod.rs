//! The config: `environments/<env>.toml` → [`Desired`], and the reverse for `import`.
//!
//! Parsing is pure: the caller hands in the text and a function that reads policy documents,
//! so tests run without a file system and every error is collected, not just the first. Each
//! error names file, line, column and key (see [`ConfigError`]). The schema is documented key
//! by key in `docs/config.md`.
//!
//! Architecture invariant: no AWS, no `live`. Imports `model` and `policy` only.

mod assertions;
mod boundaries;
mod compile;
mod counts;
mod disable;
mod docpath;
mod documents;
mod emit;
mod error;
mod guardrails;
mod json_doc;
mod lint;
mod locate;
mod parse;
mod policies;
mod rollout;
pub mod schema;
mod sections;
mod targets;

pub use docpath::Confine;
pub use emit::{emit, Emitted};
pub use error::{ConfigError, ConfigErrors, ErrorKind};
pub use guardrails::exempt_principals;
pub use locate::key_location;
pub use parse::{parse, parse_confined};

use std::path::{Path, PathBuf};

use crate::model::Desired;

/// Reads a config file and the documents it names from disk. Paths of documents are relative
/// to the config file's directory, and must resolve (symlinks followed) inside it or inside
/// `documents_root`.
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
    let base = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => Path::new(".").to_owned(),
    };
    parse_confined(
        path,
        &text,
        &|p: &Path| std::fs::read_to_string(base.join(p)),
        &|doc: &Path, root: Option<&Path>| on_disk(&base, doc, root),
    )
}

/// The file system check for a config in directory `base`: the document's canonical path
/// (symlinks resolved) must lie inside the canonical config directory or documents root. A
/// document that does not exist passes (reading it reports that).
fn on_disk(base: &Path, doc: &Path, root: Option<&Path>) -> Result<(), PathBuf> {
    let Ok(resolved) = base.join(doc).canonicalize() else {
        return Ok(());
    };
    let roots = std::iter::once(base.to_owned()).chain(root.map(|r| base.join(r)));
    for r in roots {
        if r.canonicalize().is_ok_and(|r| resolved.starts_with(r)) {
            return Ok(());
        }
    }
    Err(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_out_are_refused_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("environments");
        std::fs::create_dir_all(base.join("prod")).unwrap();
        std::fs::write(dir.path().join("secret.json"), "{}").unwrap();
        std::fs::write(base.join("prod/ok.json"), "{}").unwrap();
        assert_eq!(on_disk(&base, Path::new("prod/ok.json"), None), Ok(()));
        assert_eq!(on_disk(&base, Path::new("prod/missing.json"), None), Ok(()));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret.json"), base.join("prod/link.json"))
                .unwrap();
            assert!(on_disk(&base, Path::new("prod/link.json"), None).is_err());
            assert_eq!(
                on_disk(&base, Path::new("prod/link.json"), Some(Path::new(".."))),
                Ok(())
            );
        }
    }
}
