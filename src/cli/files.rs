//! The file system side of `import` and `plan --out`: nothing the user wrote is lost, nothing
//! half-written is left behind, and a saved plan never overwrites one of its own inputs.
//!
//! `import` owns exactly the documents it wrote last time, listed in the environment
//! directory's manifest ([`MANIFEST`]). A re-import builds the new directory beside the old one
//! (same parent, so the same file system): every entry of the old directory that the manifest
//! does not list is copied in (files, subdirectories, symlinks as symlinks), then the new
//! documents and the new manifest are written, and the config goes to a temporary file beside
//! `NAME.toml`. Only when every write has succeeded are the two renamed into place; a failure
//! before that removes the temporary copies and leaves the environment as it was. A document
//! name the new import needs that is held by a file it did not write stops the import unless
//! the file already holds exactly the new bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};

use crate::config::Emitted;

/// The manifest of an imported environment directory: the files `import` wrote there.
pub const MANIFEST: &str = ".guardrail-import.json";

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Manifest {
    /// "1": `files` are names directly inside the environment directory.
    format_version: String,
    files: Vec<String>,
}

/// What a re-import did with the environment directory.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportWrite {
    /// Documents written.
    pub written: usize,
    /// Entries the previous import did not write, carried over unchanged.
    pub kept: Vec<String>,
    /// Documents the previous import wrote that this one does not (their policies are gone).
    pub dropped: Vec<String>,
}

/// Whether `name` is one plain file name (no separator, no `.` or `..`).
fn plain_name(name: &str) -> bool {
    let mut parts = Path::new(name).components();
    matches!(
        (parts.next(), parts.next()),
        (Some(Component::Normal(n)), None) if n == std::ffi::OsStr::new(name)
    )
}

/// The files the previous import wrote, from the manifest; none when there is no manifest.
/// Entries that are not plain names are ignored, so a crafted manifest cannot claim anything
/// outside the directory.
fn owned(docs_dir: &Path) -> anyhow::Result<BTreeSet<String>> {
    let path = docs_dir.join(MANIFEST);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let m: Manifest = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not an import manifest; move it away and run again",
            path.display()
        )
    })?;
    Ok(m.files.into_iter().filter(|f| plain_name(f)).collect())
}

/// Creates an empty file, failing when `p` exists.
fn create_file(p: &Path) -> std::io::Result<()> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(p)
        .map(drop)
}

/// Writes `bytes` to `path` and flushes them to disk.
fn write_synced(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f =
        fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A sibling of `dir/name` that does not exist yet, created by `create` (so two runs never
/// share one).
fn fresh_sibling(
    dir: &Path,
    name: &str,
    what: &str,
    create: impl Fn(&Path) -> std::io::Result<()>,
) -> anyhow::Result<PathBuf> {
    for n in 0..1000 {
        let p = dir.join(format!(".{name}.{what}-{}-{n}", std::process::id()));
        match create(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", p.display())),
        }
    }
    bail!(
        "cannot find a free temporary name beside {}",
        dir.join(name).display()
    )
}

/// Removes a temporary path when dropped, unless [`Temp::keep`] was called (it was renamed
/// into place).
struct Temp {
    path: PathBuf,
    armed: bool,
}

impl Temp {
    fn new(path: PathBuf) -> Self {
        Temp { path, armed: true }
    }
    fn path(&self) -> &Path {
        &self.path
    }
    fn keep(&mut self) {
        self.armed = false;
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if self.armed {
            let _ = if self.path.is_dir() {
                fs::remove_dir_all(&self.path)
            } else {
                fs::remove_file(&self.path)
            };
        }
    }
}

/// Copies one directory entry as it is: a file with its permissions, a directory with its
/// contents, a symlink as a symlink.
fn copy_entry(from: &Path, to: &Path) -> anyhow::Result<()> {
    let meta =
        fs::symlink_metadata(from).with_context(|| format!("cannot read {}", from.display()))?;
    let ctx = || format!("cannot copy {} to {}", from.display(), to.display());
    if meta.file_type().is_symlink() {
        #[cfg(unix)]
        {
            let target = fs::read_link(from).with_context(ctx)?;
            std::os::unix::fs::symlink(target, to).with_context(ctx)?;
        }
        #[cfg(not(unix))]
        {
            fs::copy(from, to).with_context(ctx)?;
        }
    } else if meta.is_dir() {
        fs::create_dir(to).with_context(ctx)?;
        for entry in fs::read_dir(from).with_context(ctx)? {
            let entry = entry.with_context(ctx)?;
            copy_entry(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else if meta.is_file() {
        fs::copy(from, to).with_context(ctx)?;
    } else {
        bail!(
            "{} is neither a file, a directory nor a symlink; import cannot carry it over",
            from.display()
        );
    }
    Ok(())
}

/// Fills `tmp` with the old directory's entries that import does not own, refusing an entry
/// that holds a name the new import needs (unless it already holds the new bytes).
fn carry_over(
    docs_dir: &Path,
    tmp: &Path,
    new: &BTreeMap<String, &str>,
    report: &mut ImportWrite,
) -> anyhow::Result<()> {
    let owned = owned(docs_dir)?;
    let mut clashes = Vec::new();
    let entries =
        fs::read_dir(docs_dir).with_context(|| format!("cannot read {}", docs_dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", docs_dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == MANIFEST || owned.contains(&name) {
            if owned.contains(&name) && !new.contains_key(&name) {
                report.dropped.push(name);
            }
            continue;
        }
        if let Some(text) = new.get(&name) {
            if fs::read(entry.path()).is_ok_and(|b| b == text.as_bytes()) {
                continue;
            }
            clashes.push(entry.path().display().to_string());
            continue;
        }
        copy_entry(&entry.path(), &tmp.join(&name))?;
        report.kept.push(name);
    }
    if !clashes.is_empty() {
        bail!(
            "import needs {} for policy documents, but the previous import did not write {} (no record in {MANIFEST}); move {} away and run again",
            clashes.join(", "),
            if clashes.len() == 1 { "it" } else { "them" },
            if clashes.len() == 1 { "it" } else { "them" }
        );
    }
    Ok(())
}

/// The documents by file name inside the environment directory `env`.
fn documents_by_name<'e>(
    env: &str,
    emitted: &'e Emitted,
) -> anyhow::Result<BTreeMap<String, &'e str>> {
    let mut out = BTreeMap::new();
    for (rel, text) in &emitted.documents {
        let name = rel
            .strip_prefix(env)
            .ok()
            .and_then(|n| n.to_str())
            .filter(|n| plain_name(n) && *n != MANIFEST)
            .with_context(|| {
                format!(
                    "document path {} is not a file name inside environments/{env}/",
                    rel.display()
                )
            })?;
        if out.insert(name.to_owned(), text.as_str()).is_some() {
            bail!("two documents share the path {}", rel.display());
        }
    }
    Ok(out)
}

/// Writes an imported environment: `environments/ENV/` (documents and manifest) and
/// `environments/ENV.toml`, replacing only what the previous import wrote (see the module
/// docs for the order of writes and renames).
pub fn write_import(
    environments: &Path,
    env: &str,
    emitted: &Emitted,
) -> anyhow::Result<ImportWrite> {
    let docs_dir = environments.join(env);
    let config = environments.join(format!("{env}.toml"));
    fs::create_dir_all(environments)
        .with_context(|| format!("cannot create {}", environments.display()))?;
    if docs_dir.exists() && !docs_dir.is_dir() {
        bail!("{} exists and is not a directory", docs_dir.display());
    }
    let mut report = ImportWrite::default();
    let new = documents_by_name(env, emitted)?;

    let tmp = Temp::new(fresh_sibling(environments, env, "import", |p| {
        fs::create_dir(p)
    })?);
    if docs_dir.is_dir() {
        carry_over(&docs_dir, tmp.path(), &new, &mut report)?;
    }
    for (name, text) in &new {
        write_synced(&tmp.path().join(name), text.as_bytes())?;
        report.written += 1;
    }
    let manifest = Manifest {
        format_version: "1".into(),
        files: new.keys().cloned().collect(),
    };
    let manifest = serde_json::to_string_pretty(&manifest)?;
    write_synced(
        &tmp.path().join(MANIFEST),
        format!("{manifest}\n").as_bytes(),
    )?;
    let config_tmp = Temp::new(fresh_sibling(
        environments,
        &format!("{env}.toml"),
        "import",
        create_file,
    )?);
    write_synced(config_tmp.path(), emitted.config.as_bytes())?;

    install(tmp, config_tmp, &docs_dir, &config)?;
    report.kept.sort();
    report.dropped.sort();
    Ok(report)
}

/// A free name beside `dir/name` (nothing is created).
fn free_sibling(dir: &Path, name: &str, what: &str) -> anyhow::Result<PathBuf> {
    fresh_sibling(dir, name, what, |p| match fs::symlink_metadata(p) {
        Ok(_) => Err(std::io::ErrorKind::AlreadyExists.into()),
        Err(_) => Ok(()),
    })
}

/// Renames the finished directory and config into place: the old directory aside, the new one
/// in, the config over the old one, then the old directory removed. A failed rename puts back
/// what was there.
fn install(
    mut tmp: Temp,
    mut config_tmp: Temp,
    docs_dir: &Path,
    config: &Path,
) -> anyhow::Result<()> {
    let parent = docs_dir.parent().unwrap_or(Path::new("."));
    let name = docs_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let old = if docs_dir.is_dir() {
        let old = free_sibling(parent, &name, "old")?;
        fs::rename(docs_dir, &old)
            .with_context(|| format!("cannot move {} aside", docs_dir.display()))?;
        Some(old)
    } else {
        None
    };
    // Puts the old directory (or none) back in place of the new one.
    let restore = |new_is_in_place: bool| {
        if new_is_in_place {
            let _ = fs::remove_dir_all(docs_dir);
        }
        if let Some(old) = &old {
            let _ = fs::rename(old, docs_dir);
        }
    };
    if let Err(e) = fs::rename(tmp.path(), docs_dir) {
        restore(false);
        return Err(e)
            .with_context(|| format!("cannot move the new documents to {}", docs_dir.display()));
    }
    tmp.keep();
    if let Err(e) = fs::rename(config_tmp.path(), config) {
        restore(true);
        return Err(e)
            .with_context(|| format!("cannot move the new config to {}", config.display()));
    }
    config_tmp.keep();
    if let Some(old) = &old {
        fs::remove_dir_all(old).with_context(|| {
            format!(
                "imported, but cannot remove the previous documents in {}",
                old.display()
            )
        })?;
    }
    Ok(())
}

/// The canonical form of `path`, which need not exist: its parent is canonicalized and the
/// file name appended.
fn canonical_target(path: &Path) -> anyhow::Result<PathBuf> {
    if let Ok(meta) = fs::symlink_metadata(path) {
        if meta.is_dir() {
            bail!("{} is a directory", path.display());
        }
        return fs::canonicalize(path).with_context(|| {
            format!(
                "{} is a symlink to nowhere; name the file itself",
                path.display()
            )
        });
    }
    let name = match path.components().next_back() {
        Some(Component::Normal(n)) => n,
        _ => bail!("{} does not name a file", path.display()),
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let parent = fs::canonicalize(parent)
        .with_context(|| format!("the directory of {} does not exist", path.display()))?;
    Ok(parent.join(name))
}

/// Refuses a `plan --out` path that is one of `inputs` (config, documents, templates) or lies
/// inside the `environments` directory, comparing canonical paths so `./x`, `a/../x` and
/// symlinks are seen through.
pub fn check_out_path(out: &Path, environments: &Path, inputs: &[PathBuf]) -> anyhow::Result<()> {
    let target =
        canonical_target(out).with_context(|| format!("refusing --out {}", out.display()))?;
    if let Ok(envs) = fs::canonicalize(environments) {
        if target.starts_with(&envs) {
            bail!(
                "refusing --out {}: it lies inside the environments directory {}; save plans elsewhere",
                out.display(),
                environments.display()
            );
        }
    }
    for input in inputs {
        if fs::canonicalize(input).is_ok_and(|i| i == target) {
            bail!(
                "refusing --out {}: it is {}, an input of this plan",
                out.display(),
                input.display()
            );
        }
    }
    Ok(())
}

/// Writes `bytes` to a temporary file beside `path` and renames it into place, so a reader
/// never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .with_context(|| format!("{} does not name a file", path.display()))?;
    let mut tmp = Temp::new(fresh_sibling(dir, &name, "tmp", create_file)?);
    write_synced(tmp.path(), bytes)?;
    fs::rename(tmp.path(), path).with_context(|| format!("cannot write {}", path.display()))?;
    tmp.keep();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_only() {
        assert!(plain_name("a.json"));
        assert!(plain_name("a b.json"));
        for bad in ["", ".", "..", "a/b", "/a", "../a", "a/"] {
            assert!(!plain_name(bad), "{bad}");
        }
    }
}
