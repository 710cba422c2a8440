//! The one escaping step between names that come from AWS (OU, account and policy names,
//! descriptions, emails, role names, error messages) and a terminal.
//!
//! AWS accepts control characters and Unicode direction overrides in names and descriptions.
//! Printed raw, a name could end a line and forge one of ours ("No drift: ..."), move the
//! cursor, hide text (`ESC[8m`) or reorder what is shown. [`visible`] shows each such character
//! as a visible escape instead: `\n`, `\r`, `\t`, `\x1b` for other C0 controls, DEL and C1
//! controls, `\u{202e}` for the bidirectional marks, embeddings, overrides and isolates
//! (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069) and the Unicode line and paragraph
//! separators (U+2028, U+2029). Every other character, including other non-ASCII text, is kept.
//!
//! Human renderings pass every sentence that carries such a value through [`visible`] (a
//! sentence built from one-line templates holds no control character of its own, so escaping
//! it whole equals escaping each value); Markdown's own escaping calls it first; JSON output
//! is left as it is (JSON escapes control characters itself, and its readers want the value).

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as it is.
pub fn is_hostile(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// `s` with every hostile character shown as a visible escape; borrowed when there is none.
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hostile) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_visible(&mut out, c);
    }
    Cow::Owned(out)
}

fn push_visible(out: &mut String, c: char) {
    use std::fmt::Write as _;
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if !is_hostile(c) => out.push(c),
        c if (c as u32) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// [`visible`] applied to each line of a multi-line text whose line breaks are ours (a diff,
/// a pretty document): the breaks stay, everything hostile inside a line is shown.
pub fn visible_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        out.push_str(&visible(body));
        out.push_str(nl);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_direction_marks_become_visible() {
        assert_eq!(visible("a\nb\r\tc"), "a\\nb\\r\\tc");
        assert_eq!(visible("x\x1b[8m"), "x\\x1b[8m");
        assert_eq!(visible("\u{7f}\u{85}\u{9b}"), "\\x7f\\x85\\x9b");
        assert_eq!(visible("evil\u{202e}gnp.exe"), "evil\\u{202e}gnp.exe");
        assert_eq!(
            visible("\u{2066}\u{2069}\u{2028}"),
            "\\u{2066}\\u{2069}\\u{2028}"
        );
        assert_eq!(visible("\0"), "\\x00");
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        let s = "Équipe données / team policy (prod) \\n [x]";
        assert!(matches!(visible(s), Cow::Borrowed(_)));
        assert_eq!(visible(s), s);
    }

    #[test]
    fn lines_keep_their_breaks() {
        assert_eq!(visible_lines("a\x1b\nb\n"), "a\\x1b\nb\n");
        assert_eq!(visible_lines("a\r\nb"), "a\\r\nb");
        assert_eq!(visible_lines(""), "");
    }
}
