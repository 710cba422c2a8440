//! The one piece of replay's IO: every CloudTrail log file below a directory (`*.json` and
//! `*.json.gz`, as AWS delivers them, organization-trail layouts included), in path order,
//! each record handed to a [`Sink`] (the replay, `observe`) as soon as it is parsed (one file open and one record in
//! memory at a time); `CloudTrail-Digest` folders are not logs. A file that cannot be read, is
//! cut short or is not a CloudTrail log is reported; the run goes on.

use std::cell::Cell;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::sink::Sink;
use crate::policy::limits::CLOUDTRAIL_MAX_RECORD_BYTES;

/// The parser's read buffer.
const BUFFER: usize = 1 << 16;

/// The reader under the parser: it counts the bytes pulled since the current record began
/// (`pulled`, set back to 0 before each record) and fails once they exceed the largest
/// record ([`CLOUDTRAIL_MAX_RECORD_BYTES`]) plus one buffer (a pull may run past the record's
/// end). So the parser never holds more than one bounded record, and a file that is not a
/// CloudTrail log (a huge value outside `Records`, a gzip stream that inflates to gigabytes
/// of one string) fails after about a megabyte instead of filling memory.
struct Bounded<'c, R> {
    inner: R,
    pulled: &'c Cell<usize>,
}

impl<R: Read> Read for Bounded<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let limit = CLOUDTRAIL_MAX_RECORD_BYTES.value;
        if self.pulled.get() > limit + BUFFER {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "a record or value over {} KiB: not a CloudTrail log",
                    limit / 1024
                ),
            ));
        }
        let n = self.inner.read(buf)?;
        self.pulled.set(self.pulled.get() + n);
        Ok(n)
    }
}

/// Log files below `root` (or `root` itself), in the same order every run: by the day and
/// region of an organization trail's folders (`…/CloudTrail/REGION/YYYY/MM/DD/`), then by
/// path, so the copies of one call that AWS delivers to two accounts (same day and region,
/// different account folders) are read close together ([`super::dedup::Seen`]); files
/// outside that layout come first, by path. A directory reached again through a symbolic link
/// (a link to a parent would loop) is walked once.
fn log_files(root: &Path, errors: &mut Vec<(String, String)>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut walked = std::collections::HashSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        if p.file_name().is_some_and(|n| n == "CloudTrail-Digest") {
            // Digest files (integrity validation) are JSON without records.
            continue;
        }
        if p.is_dir() {
            if !walked.insert(p.canonicalize().unwrap_or_else(|_| p.clone())) {
                continue;
            }
            match std::fs::read_dir(&p) {
                Ok(entries) => stack.extend(entries.flatten().map(|e| e.path())),
                Err(e) => errors.push((p.display().to_string(), e.to_string())),
            }
        } else if is_log(&p) {
            out.push(p);
        }
    }
    out.sort_by_cached_key(|p| (day_and_region(p), p.clone()));
    out
}

/// `(YYYY, MM, DD, REGION)` from `…/CloudTrail/REGION/YYYY/MM/DD/…`.
fn day_and_region(p: &Path) -> Option<(String, String, String, String)> {
    let parts: Vec<&str> = p.iter().filter_map(|c| c.to_str()).collect();
    let at = parts.iter().rposition(|c| *c == "CloudTrail")?;
    match parts.get(at + 1..at + 5)? {
        [region, y, m, d] => Some((
            y.to_string(),
            m.to_string(),
            d.to_string(),
            region.to_string(),
        )),
        _ => None,
    }
}

fn is_log(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    name.ends_with(".json") || name.ends_with(".json.gz")
}

/// Streams one log's records into `replayer`, one record in memory at a time: `{"Records":
/// [...]}`, other top-level keys ignored. Returns how many records it handed over; on error,
/// the records before the error have been replayed and the error says after how many. A
/// record (or a value outside `Records`) over [`CLOUDTRAIL_MAX_RECORD_BYTES`] is an error.
pub fn read_log<R: Read, S: Sink + ?Sized>(reader: R, replayer: &mut S) -> Result<usize, String> {
    let pulled = Cell::new(0);
    let bounded = Bounded {
        inner: reader,
        pulled: &pulled,
    };
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(BUFFER, bounded));
    let mut seen = 0;
    let found = LogSeed {
        replayer,
        seen: &mut seen,
        pulled: &pulled,
    }
    .deserialize(&mut de)
    .and_then(|found| de.end().map(|()| found));
    match found {
        Ok(true) => Ok(seen),
        Ok(false) => Err("not a CloudTrail log: no \"Records\" list".into()),
        Err(e) if seen > 0 => Err(format!("{e} (after {seen} record(s), which were replayed)")),
        Err(e) => Err(e.to_string()),
    }
}

/// The top-level object of a log file; `true` when it had `Records`.
struct LogSeed<'r, S: ?Sized> {
    replayer: &'r mut S,
    seen: &'r mut usize,
    pulled: &'r Cell<usize>,
}

impl<'de, S: Sink + ?Sized> DeserializeSeed<'de> for LogSeed<'_, S> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, S: Sink + ?Sized> Visitor<'de> for LogSeed<'_, S> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a CloudTrail log: {\"Records\": [...]}")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<bool, M::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "Records" {
                found = true;
                map.next_value_seed(RecordsSeed {
                    replayer: &mut *self.replayer,
                    seen: &mut *self.seen,
                    pulled: self.pulled,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// The `Records` list: each element is handed to the replayer as soon as it is parsed.
struct RecordsSeed<'r, S: ?Sized> {
    replayer: &'r mut S,
    seen: &'r mut usize,
    pulled: &'r Cell<usize>,
}

impl<'de, S: Sink + ?Sized> DeserializeSeed<'de> for RecordsSeed<'_, S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, S: Sink + ?Sized> Visitor<'de> for RecordsSeed<'_, S> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of CloudTrail records")
    }

    fn visit_seq<Q: SeqAccess<'de>>(self, mut seq: Q) -> Result<(), Q::Error> {
        loop {
            self.pulled.set(0);
            let Some(v) = seq.next_element::<serde_json::Value>()? else {
                break;
            };
            *self.seen += 1;
            self.replayer.add_raw(v);
        }
        Ok(())
    }
}

/// Opens one file, gunzipping when its name ends in `.gz`, and streams it.
fn read_file<S: Sink + ?Sized>(p: &Path, replayer: &mut S) -> Result<usize, String> {
    let f = std::fs::File::open(p).map_err(|e| e.to_string())?;
    if p.extension().is_some_and(|x| x == "gz") {
        read_log(MultiGzDecoder::new(BufReader::new(f)), replayer)
    } else {
        read_log(f, replayer)
    }
}

/// Reads every log file below `root` into `replayer`, one file at a time. `root` must exist.
pub fn read_logs<S: Sink + ?Sized>(root: &Path, replayer: &mut S) -> std::io::Result<()> {
    std::fs::metadata(root)?;
    let mut errors = Vec::new();
    let files = log_files(root, &mut errors);
    for (f, e) in errors {
        replayer.file_error(f, e);
    }
    for f in files {
        match read_file(&f, replayer) {
            Ok(_) => replayer.file_read(),
            Err(e) => replayer.file_error(f.display().to_string(), e),
        }
    }
    Ok(())
}
