//! Reading the JSON document a `document` key names (a policy's or a boundary's): where it
//! may lie (the config's directory or `documents_root`, as written and on disk; see
//! `docpath`), its digest among the config's inputs, and the JSON itself.

use std::ops::Range;
use std::path::Path;

use super::docpath;
use super::error::ErrorKind;
use super::parse::Walker;
use crate::model::sha256_hex;
use crate::policy::doc;

impl Walker<'_> {
    /// Reads a JSON document named by a `document` key: records its digest, and reports an
    /// unreadable file, invalid JSON or a non-object at the key's value.
    pub(super) fn json_document(
        &mut self,
        doc_path: &str,
        doc_span: Option<Range<usize>>,
        doc_key: &str,
    ) -> Option<serde_json::Value> {
        if !self.document_inside_root(doc_path, doc_span.clone(), doc_key) {
            return None;
        }
        let text = match (self.read)(Path::new(doc_path)) {
            Ok(t) => t,
            Err(e) => {
                self.err(
                    ErrorKind::BadDocument,
                    doc_span,
                    doc_key,
                    format!("cannot read `{doc_path}`: {e}"),
                );
                return None;
            }
        };
        self.inputs
            .insert(doc_path.to_owned(), sha256_hex(text.as_bytes()));
        match doc::parse(&text) {
            Ok(v) if v.is_object() => Some(v),
            Ok(_) => {
                self.err(
                    ErrorKind::BadDocument,
                    doc_span,
                    doc_key,
                    format!("`{doc_path}` must hold a JSON object"),
                );
                None
            }
            Err(e) => {
                self.err(
                    ErrorKind::BadDocument,
                    doc_span,
                    doc_key,
                    format!(
                        "`{doc_path}` is not valid JSON: line {}, column {}: {}",
                        e.line, e.column, e.message
                    ),
                );
                None
            }
        }
    }

    /// Whether a document path lies where documents may (the config's directory or
    /// `documents_root`), as written and on disk; reports it at the key when not.
    fn document_inside_root(
        &mut self,
        doc_path: &str,
        doc_span: Option<Range<usize>>,
        doc_key: &str,
    ) -> bool {
        let root = self.documents_root.as_deref();
        let outside = match docpath::lexical(doc_path, root) {
            Err(message) => Some(message),
            Ok(()) => (self.confine)(Path::new(doc_path), root.map(Path::new))
                .err()
                .map(|to| {
                    format!(
                        "`{doc_path}` resolves to {}, outside the config's directory{}",
                        to.display(),
                        root.map(|r| format!(" and documents_root `{r}`"))
                            .unwrap_or_default()
                    )
                }),
        };
        match outside {
            Some(message) => {
                self.err_help(
                    ErrorKind::InvalidValue,
                    doc_span,
                    doc_key,
                    message,
                    docpath::HELP,
                );
                false
            }
            None => true,
        }
    }
}
