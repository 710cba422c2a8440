//! Config errors: every one names the file, line, column and key, and carries the source
//! text so `render` can show the offending line.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What went wrong, so tests and tools can tell kinds apart without parsing messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read.
    Unreadable,
    /// Not valid TOML.
    Syntax,
    /// A key the schema does not know.
    UnknownKey,
    /// A required key is absent.
    MissingKey,
    /// A value of the wrong type or shape.
    InvalidValue,
    /// A reference to something not declared (OU parent, policy, account OU).
    Dangling,
    /// The same id used twice.
    Duplicate,
    /// A policy document that cannot be read or is not valid JSON.
    BadDocument,
    /// Breaks a limit from the limits table.
    Limit,
    /// A lint error in a policy document or guardrail (see docs/lint.md).
    Lint,
    /// A guardrail template that cannot be found, read or expanded.
    Template,
}

impl ErrorKind {
    /// Every kind, for tools that list them (SARIF's rules).
    pub const ALL: &'static [ErrorKind] = &[
        ErrorKind::Unreadable,
        ErrorKind::Syntax,
        ErrorKind::UnknownKey,
        ErrorKind::MissingKey,
        ErrorKind::InvalidValue,
        ErrorKind::Dangling,
        ErrorKind::Duplicate,
        ErrorKind::BadDocument,
        ErrorKind::Limit,
        ErrorKind::Lint,
        ErrorKind::Template,
    ];

    /// One sentence saying what the kind means.
    pub fn describe(self) -> &'static str {
        match self {
            ErrorKind::Unreadable => "The config file could not be read.",
            ErrorKind::Syntax => "The config is not valid TOML.",
            ErrorKind::UnknownKey => "A key the config schema does not know.",
            ErrorKind::MissingKey => "A required key is absent.",
            ErrorKind::InvalidValue => "A value of the wrong type or shape.",
            ErrorKind::Dangling => "A reference to something the config does not declare.",
            ErrorKind::Duplicate => "The same name, id or email used twice.",
            ErrorKind::BadDocument => {
                "A policy document that cannot be read or is not a JSON object."
            }
            ErrorKind::Limit => "A value over a limit of the limits table.",
            ErrorKind::Lint => "A lint error in a policy document or guardrail (docs/lint.md).",
            ErrorKind::Template => "A guardrail template that cannot be found, read or expanded.",
        }
    }
}

/// One config error.
#[derive(Debug, Clone)]
pub struct ConfigError {
    pub kind: ErrorKind,
    /// The config file, as given.
    pub file: PathBuf,
    /// 1-based line and column of the span start.
    pub line: usize,
    pub column: usize,
    /// Dotted key path, for example `ous."Workloads/Prod".policies`.
    pub key: String,
    pub message: String,
    /// An optional hint that says what to do.
    pub help: Option<String>,
    /// The lint rule (`GR0xx`) of an [`ErrorKind::Lint`] error.
    pub rule: Option<&'static str>,
    /// Byte span in the source text.
    pub span: Range<usize>,
    pub source_text: Arc<str>,
    /// The source under its file name, for reports.
    named: Arc<miette::NamedSource<Arc<str>>>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.key,
            self.message
        )
    }
}

impl std::error::Error for ConfigError {}

impl miette::Diagnostic for ConfigError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("config::{:?}", self.kind)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h.clone()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(self.named.as_ref() as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let label =
            miette::LabeledSpan::new_with_span(Some(format!("`{}`", self.key)), self.span.clone());
        Some(Box::new(std::iter::once(label)))
    }
}

/// Every error found in one config, in source order.
#[derive(Debug, Clone, Default)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Collects errors while walking one file.
pub(crate) struct Sink {
    file: PathBuf,
    text: Arc<str>,
    line_starts: Vec<usize>,
    named: Arc<miette::NamedSource<Arc<str>>>,
    pub errors: Vec<ConfigError>,
}

impl Sink {
    pub fn new(file: &Path, text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let text: Arc<str> = Arc::from(text);
        Sink {
            named: Arc::new(miette::NamedSource::new(
                file.display().to_string(),
                text.clone(),
            )),
            file: file.to_owned(),
            text,
            line_starts,
            errors: Vec::new(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line.saturating_sub(1)];
        let column = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        (line, column)
    }

    pub fn push(
        &mut self,
        kind: ErrorKind,
        span: Option<Range<usize>>,
        key: &str,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let span = span.unwrap_or(0..0);
        let (line, column) = self.line_col(span.start);
        self.errors.push(ConfigError {
            kind,
            file: self.file.clone(),
            line,
            column,
            key: key.to_owned(),
            message: message.into(),
            help,
            rule: None,
            span,
            source_text: self.text.clone(),
            named: self.named.clone(),
        });
    }

    pub fn file_name(&self) -> String {
        self.file.display().to_string()
    }

    pub fn into_errors(mut self) -> Vec<ConfigError> {
        self.errors.sort_by_key(|e| (e.span.start, e.span.end));
        self.errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let s = Sink::new(Path::new("f.toml"), "ab\ncd\n");
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(1), (1, 2));
        assert_eq!(s.line_col(3), (2, 1));
        assert_eq!(s.line_col(4), (2, 2));
    }
}
