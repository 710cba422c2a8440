//! Writes [`super::synth`]'s files below a directory: gzip (as AWS delivers them) or plain
//! JSON, one file at a time, so a generated log of any size never sits in memory whole.

use std::io::Write as _;
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;

use super::synth::File;

/// Writes `file` below `root`; `gzip: false` drops the `.gz` and writes plain JSON.
pub fn write(root: &Path, file: &File, gzip: bool) -> std::io::Result<()> {
    let rel = if gzip {
        file.path.clone()
    } else {
        file.path.trim_end_matches(".gz").to_owned()
    };
    let path = root.join(rel);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let body = serde_json::to_vec(&serde_json::json!({ "Records": file.records }))?;
    let out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    if gzip {
        let mut gz = GzEncoder::new(out, Compression::fast());
        gz.write_all(&body)?;
        gz.finish()?.flush()
    } else {
        let mut out = out;
        out.write_all(&body)?;
        out.flush()
    }
}
