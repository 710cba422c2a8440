//! Where a `document` may live: inside the config file's directory, or inside the directory
//! named by the top-level `documents_root` key. `document = "../../../etc/passwd"` or an
//! absolute path elsewhere is a config error at the key, so a config cannot make guardrail read
//! (and send to AWS, or digest into a saved plan) a file outside the tree it was given.
//!
//! Two checks: [`lexical`] on the path as written (pure, in `parse`), and, when the config is
//! loaded from disk, `config::load`'s check of the canonical path ([`Confine`]), so a symlink
//! that points outside is refused too.

use std::path::{Component, Path, PathBuf};

/// The file system check `load` hands the parser: `Err(resolved)` when the document (relative
/// to the config's directory) resolves outside both the config's directory and the
/// `documents_root` (relative to the config's directory, or absolute).
pub type Confine<'a> = &'a dyn Fn(&Path, Option<&Path>) -> Result<(), PathBuf>;

/// A path with `.` dropped and `..` folded into the component before it; leading `..` kept.
#[derive(Debug, PartialEq, Eq)]
struct Normal {
    absolute: bool,
    parts: Vec<String>,
}

fn normal(p: &Path) -> Normal {
    let mut n = Normal {
        absolute: false,
        parts: Vec::new(),
    };
    for c in p.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => {
                n.absolute = true;
                n.parts.clear();
            }
            Component::CurDir => {}
            Component::ParentDir => {
                if n.parts.last().is_some_and(|l| l != "..") {
                    n.parts.pop();
                } else if !n.absolute {
                    n.parts.push("..".into());
                }
            }
            Component::Normal(s) => n.parts.push(s.to_string_lossy().into_owned()),
        }
    }
    n
}

/// Whether `inner` lies inside `outer` (both normal, same kind).
fn inside(inner: &Normal, outer: &Normal) -> bool {
    inner.absolute == outer.absolute && inner.parts.starts_with(&outer.parts)
}

/// Checks a document path as written. `Err(message)` when it is absolute or climbs out of the
/// config's directory and `documents_root` does not allow it; a path the written form cannot
/// decide (a relative root and an absolute document, or the reverse) is left to [`Confine`].
pub fn lexical(doc: &str, root: Option<&str>) -> Result<(), String> {
    let d = normal(Path::new(doc));
    if !d.absolute && d.parts.first().is_none_or(|p| p != "..") {
        return Ok(());
    }
    if let Some(root) = root {
        let r = normal(Path::new(root));
        if inside(&d, &r) || r.absolute != d.absolute {
            return Ok(());
        }
        return Err(format!(
            "`{doc}` lies outside the config's directory and outside documents_root `{root}`"
        ));
    }
    if d.absolute {
        Err(format!(
            "`{doc}` is an absolute path; a document lies inside the config's directory"
        ))
    } else {
        Err(format!("`{doc}` lies outside the config's directory"))
    }
}

/// The hint every refusal carries.
pub const HELP: &str = "keep documents beside the config (for example environments/NAME/), or allow another directory with a top-level `documents_root = \"...\"` (docs/config.md)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_stay_inside_the_config_directory() {
        assert!(lexical("prod/a.json", None).is_ok());
        assert!(lexical("./prod/../a.json", None).is_ok());
        assert!(lexical("a b/ü.json", None).is_ok());
        assert!(lexical("../../../etc/passwd", None).is_err());
        assert!(lexical("prod/../../x.json", None).is_err());
        assert!(lexical("/etc/passwd", None).is_err());
    }

    #[test]
    fn documents_root_allows_one_more_directory() {
        assert!(lexical("../policies/a.json", Some("../policies")).is_ok());
        assert!(lexical("../policies/../secrets/a.json", Some("../policies")).is_err());
        assert!(lexical("../other/a.json", Some("../policies")).is_err());
        assert!(lexical("/srv/policies/a.json", Some("/srv/policies")).is_ok());
        assert!(lexical("/etc/passwd", Some("/srv/policies")).is_err());
        assert!(lexical("/srv/policies/../../etc/passwd", Some("/srv/policies")).is_err());
    }
}
