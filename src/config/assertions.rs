//! `[[assert]]`: what a config claims about its own guardrails (this account or OU, this
//! request, deny or allow), checked offline by the evaluator.

use std::ops::Range;

use toml_edit::{Table, TableLike};

use super::error::ErrorKind;
use super::parse::{item_span, join, key_span, Walker};
use crate::model::{AssertSubject, Assertion, Desired, OuPath};

const ASSERT_KEYS: &[&str] = &[
    "account",
    "ou",
    "action",
    "region",
    "principal",
    "resource",
    "context",
    "expect",
];

impl Walker<'_> {
    /// `[[assert]]` tables.
    pub(super) fn assertions(&mut self, top: &dyn TableLike, d: &mut Desired) {
        let Some(item) = top.get("assert") else {
            return;
        };
        let Some(arr) = item.as_array_of_tables() else {
            self.err(
                ErrorKind::InvalidValue,
                item_span(item).or_else(|| key_span(top, "assert")),
                "assert",
                "write assertions as [[assert]] tables",
            );
            return;
        };
        for (i, t) in arr.iter().enumerate() {
            if let Some(a) = self.assertion(i, t, d) {
                d.assertions.push(a);
            }
        }
    }

    /// The `i`th assertion; `None` when its subject, `action` or `expect` is in error.
    fn assertion(&mut self, i: usize, t: &Table, d: &Desired) -> Option<Assertion> {
        let path = format!("assert[{i}]");
        let span = t.span();
        self.check_keys(t, ASSERT_KEYS, &path);
        let (line, _) = self.sink.line_col(span.clone().map_or(0, |s| s.start));
        let location = format!("{}:{line}", self.sink.file_name());
        let subject = self.assert_subject(t, span.clone(), &path, d)?;
        let (action, _) = self.required_string(t, span.clone(), "action", &path)?;
        let expect_deny = self.assert_expect(t, span, &path)?;
        let context = self.assert_context(t, &path);
        Some(Assertion {
            location,
            subject,
            action,
            region: self.string(t, "region", &path).map(|(s, _)| s),
            principal: self.string(t, "principal", &path).map(|(s, _)| s),
            resource: self.string(t, "resource", &path).map(|(s, _)| s),
            context,
            expect_deny,
        })
    }

    /// Exactly one of `account` (a config key or an account id) and `ou` (a declared OU).
    fn assert_subject(
        &mut self,
        t: &Table,
        span: Option<Range<usize>>,
        path: &str,
        d: &Desired,
    ) -> Option<AssertSubject> {
        match (self.string(t, "account", path), self.string(t, "ou", path)) {
            (Some((a, sp)), None) => {
                if let Some(acct) = d.accounts.get(&a) {
                    Some(match &acct.id {
                        Some(id) => AssertSubject::Account(id.clone()),
                        None => AssertSubject::Ou(acct.ou.clone()),
                    })
                } else if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) {
                    Some(AssertSubject::Account(a))
                } else {
                    self.err(
                        ErrorKind::Dangling,
                        sp,
                        &join(path, "account"),
                        format!("account `{a}` is neither a config key nor an account id"),
                    );
                    None
                }
            }
            (None, Some((o, sp))) => match OuPath::parse(&o) {
                Some(p) if d.ous.contains_key(&p) => Some(AssertSubject::Ou(p)),
                _ => {
                    self.err(
                        ErrorKind::Dangling,
                        sp,
                        &join(path, "ou"),
                        format!("the OU `{o}` is not declared"),
                    );
                    None
                }
            },
            _ => {
                self.err(
                    ErrorKind::MissingKey,
                    span,
                    path,
                    "an assertion needs exactly one of `account` and `ou`",
                );
                None
            }
        }
    }

    /// `expect`: whether the assertion expects a deny.
    fn assert_expect(&mut self, t: &Table, span: Option<Range<usize>>, path: &str) -> Option<bool> {
        match self.required_string(t, span, "expect", path)? {
            (e, _) if e == "deny" => Some(true),
            (e, _) if e == "allow" => Some(false),
            (e, sp) => {
                self.err(
                    ErrorKind::InvalidValue,
                    sp,
                    &join(path, "expect"),
                    format!("`expect` is `deny` or `allow`, not `{e}`"),
                );
                None
            }
        }
    }

    /// `context`: condition keys to string values (others reported and left out).
    fn assert_context(&mut self, t: &Table, path: &str) -> Vec<(String, String)> {
        let mut context = Vec::new();
        let Some(c) = t.get("context") else {
            return context;
        };
        match c.as_table_like() {
            Some(ct) => {
                for (k, v) in ct.iter() {
                    match v.as_str() {
                        Some(s) => context.push((k.to_owned(), s.to_owned())),
                        None => self.err(
                            ErrorKind::InvalidValue,
                            item_span(v),
                            &join(&join(path, "context"), k),
                            "context values are strings",
                        ),
                    }
                }
            }
            None => self.err(
                ErrorKind::InvalidValue,
                item_span(c),
                &join(path, "context"),
                "`context` is a table of condition keys to values",
            ),
        }
        context
    }
}
