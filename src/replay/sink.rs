//! What takes the files and records `read::read_logs` finds: the replay ([`super::Replayer`])
//! and `observe` (`crate::observe::Observer`).

/// A taker of CloudTrail log files and their raw records.
pub trait Sink {
    /// A file was read.
    fn file_read(&mut self);
    /// A file could not be read or parsed.
    fn file_error(&mut self, file: String, error: String);
    /// One raw record of a file.
    fn add_raw(&mut self, record: serde_json::Value);
}

impl Sink for super::Replayer<'_> {
    fn file_read(&mut self) {
        super::Replayer::file_read(self);
    }
    fn file_error(&mut self, file: String, error: String) {
        super::Replayer::file_error(self, file, error);
    }
    fn add_raw(&mut self, record: serde_json::Value) {
        super::Replayer::add_raw(self, record);
    }
}
