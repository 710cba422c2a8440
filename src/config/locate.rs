//! Where a key is written in a config's text: its 1-based line and column, for findings that
//! are not config errors (lockouts in SARIF) but still point at the line that causes them.

use toml_edit::{ImDocument, Item, TableLike};

use super::error::Sink;

/// The line and column of the last key of `path` (`["organization", "deployer"]`), or of the
/// deepest key of it that exists; `None` when the text is not TOML or not even the first key
/// is there.
pub fn key_location(text: &str, path: &[&str]) -> Option<(usize, usize)> {
    let doc = ImDocument::parse(text).ok()?;
    let mut table: &dyn TableLike = doc.as_table();
    let mut found = None;
    for k in path {
        let Some((key, item)) = table.get_key_value(k) else {
            break;
        };
        found = key.span().map(|s| s.start).or(found);
        match item {
            Item::Table(t) => table = t,
            Item::Value(v) => match v.as_inline_table() {
                Some(t) => table = t,
                None => break,
            },
            _ => break,
        }
    }
    let sink = Sink::new(std::path::Path::new(""), text);
    found.map(|offset| sink.line_col(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_keys_and_stops_at_the_deepest_present() {
        let text = "# c\n[organization]\nmanagement_account = \"1\"\n  deployer = \"arn\"\n";
        assert_eq!(
            key_location(text, &["organization", "deployer"]),
            Some((4, 3))
        );
        assert_eq!(
            key_location(text, &["organization", "break_glass"]),
            Some((2, 2))
        );
        assert_eq!(key_location(text, &["root"]), None);
        assert_eq!(key_location("[[", &["root"]), None);
    }
}
