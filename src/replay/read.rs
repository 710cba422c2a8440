//! The one piece of replay's IO: every CloudTrail log file below a directory (`*.json` and
//! `*.json.gz`, as AWS delivers them, organization-trail layouts included), in path order,
//! each record handed to a [`Replayer`]; `CloudTrail-Digest` folders are not logs. A file that cannot be read or is not a CloudTrail
//! log is reported and skipped; the run goes on.

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::record::LogFile;
use super::Replayer;

/// Log files below `root` (or `root` itself), sorted, so every run reads in the same order.
fn log_files(root: &Path, errors: &mut Vec<(String, String)>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        if p.file_name().is_some_and(|n| n == "CloudTrail-Digest") {
            // Digest files (integrity validation) are JSON without records.
            continue;
        }
        if p.is_dir() {
            match std::fs::read_dir(&p) {
                Ok(entries) => stack.extend(entries.flatten().map(|e| e.path())),
                Err(e) => errors.push((p.display().to_string(), e.to_string())),
            }
        } else if is_log(&p) {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn is_log(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    name.ends_with(".json") || name.ends_with(".json.gz")
}

/// One file's text, gunzipped when its name ends in `.gz`.
fn read_text(p: &Path) -> std::io::Result<Vec<u8>> {
    let raw = std::fs::read(p)?;
    if p.extension().is_some_and(|x| x == "gz") {
        let mut out = Vec::new();
        MultiGzDecoder::new(raw.as_slice()).read_to_end(&mut out)?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Reads every log file below `root` into `replayer`. `root` must exist.
pub fn read_logs(root: &Path, replayer: &mut Replayer<'_>) -> std::io::Result<()> {
    std::fs::metadata(root)?;
    let mut errors = Vec::new();
    let files = log_files(root, &mut errors);
    for (f, e) in errors {
        replayer.file_error(f, e);
    }
    for f in files {
        let name = f.display().to_string();
        let parsed = read_text(&f)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<LogFile>(&b).map_err(|e| e.to_string()));
        match parsed {
            Ok(log) => {
                replayer.file_read();
                for r in log.records {
                    replayer.add_raw(r);
                }
            }
            Err(e) => replayer.file_error(name, e),
        }
    }
    Ok(())
}
