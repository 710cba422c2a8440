//! Condition operators, parsed once, and how one condition holds for a request.
//!
//! IAM's rules (../shared/reference/aws-rules.md §6): a key absent from the request makes a
//! normal operator false and a negated one true; `...IfExists` is true on an absent key
//! (with or without a set qualifier); `Null` tests presence; `ForAnyValue:` needs one request
//! value to match and is false on an absent key, `ForAllValues:` needs every request value to
//! match and is true on an absent key. A multivalued key (`aws:TagKeys`, any `ArrayOf...` key
//! of the IAM catalogue, or a key the request gives several values) needs a set qualifier:
//! without one the condition does not hold, whatever the order of the values. Several policy
//! values are OR, NOR for a negated operator. Dates compare as instants (ISO 8601 with or
//! without offset, date only, epoch seconds); IP addresses and CIDRs as addresses, v4 and v6.

use ipnet::IpNet;
use time::format_description::well_known::Iso8601;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use super::pattern::{arn_like, glob, substitute};
use super::request::Request;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

/// The base operators IAM knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

/// Every base operator with its name.
pub const OPERATORS: &[(&str, Base)] = &[
    ("StringEquals", Base::StringEquals),
    ("StringNotEquals", Base::StringNotEquals),
    ("StringEqualsIgnoreCase", Base::StringEqualsIgnoreCase),
    ("StringNotEqualsIgnoreCase", Base::StringNotEqualsIgnoreCase),
    ("StringLike", Base::StringLike),
    ("StringNotLike", Base::StringNotLike),
    ("NumericEquals", Base::NumericEquals),
    ("NumericNotEquals", Base::NumericNotEquals),
    ("NumericLessThan", Base::NumericLessThan),
    ("NumericLessThanEquals", Base::NumericLessThanEquals),
    ("NumericGreaterThan", Base::NumericGreaterThan),
    ("NumericGreaterThanEquals", Base::NumericGreaterThanEquals),
    ("DateEquals", Base::DateEquals),
    ("DateNotEquals", Base::DateNotEquals),
    ("DateLessThan", Base::DateLessThan),
    ("DateLessThanEquals", Base::DateLessThanEquals),
    ("DateGreaterThan", Base::DateGreaterThan),
    ("DateGreaterThanEquals", Base::DateGreaterThanEquals),
    ("Bool", Base::Bool),
    ("BinaryEquals", Base::BinaryEquals),
    ("IpAddress", Base::IpAddress),
    ("NotIpAddress", Base::NotIpAddress),
    ("ArnEquals", Base::ArnEquals),
    ("ArnLike", Base::ArnLike),
    ("ArnNotEquals", Base::ArnNotEquals),
    ("ArnNotLike", Base::ArnNotLike),
    ("Null", Base::Null),
];

impl Base {
    /// The negated operators, and the positive operator each negates.
    fn positive(self) -> Option<Base> {
        Some(match self {
            Base::StringNotEquals => Base::StringEquals,
            Base::StringNotEqualsIgnoreCase => Base::StringEqualsIgnoreCase,
            Base::StringNotLike => Base::StringLike,
            Base::NumericNotEquals => Base::NumericEquals,
            Base::DateNotEquals => Base::DateEquals,
            Base::NotIpAddress => Base::IpAddress,
            Base::ArnNotEquals => Base::ArnEquals,
            Base::ArnNotLike => Base::ArnLike,
            _ => return None,
        })
    }

    pub fn is_negated(self) -> bool {
        self.positive().is_some()
    }
}

/// A parsed operator name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    pub set: Option<SetQualifier>,
    pub base: Base,
    pub if_exists: bool,
}

/// Splits `ForAnyValue:StringLikeIfExists` into its parts; `None` for an unknown operator.
pub fn parse_operator(op: &str) -> Option<Operator> {
    let (set, rest) = if let Some(r) = op.strip_prefix("ForAnyValue:") {
        (Some(SetQualifier::ForAnyValue), r)
    } else if let Some(r) = op.strip_prefix("ForAllValues:") {
        (Some(SetQualifier::ForAllValues), r)
    } else {
        (None, op)
    };
    let (name, if_exists) = match rest.strip_suffix("IfExists") {
        Some("Null") => return None,
        Some(b) => (b, true),
        None => (rest, false),
    };
    let base = OPERATORS.iter().find(|(n, _)| *n == name)?.1;
    Some(Operator {
        set,
        base,
        if_exists,
    })
}

/// One key under one operator, with its policy values.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// `None` for an operator IAM does not know: the condition never holds (AWS rejects the
    /// policy; lint reports it).
    pub op: Option<Operator>,
    pub key: String,
    pub values: Vec<String>,
    /// Whether the IAM catalogue types the key as multivalued (`ArrayOf...`).
    pub multivalued: bool,
}

impl Condition {
    pub fn holds(&self, req: &Request) -> bool {
        let Some(o) = self.op else { return false };
        let have = req.values(&self.key).filter(|v| !v.is_empty());
        if o.base == Base::Null {
            let absent = have.is_none();
            return self
                .values
                .iter()
                .any(|w| w.eq_ignore_ascii_case(&absent.to_string()));
        }
        let Some(have) = have else {
            return match o.set {
                _ if o.if_exists => true,
                Some(SetQualifier::ForAllValues) => true,
                Some(SetQualifier::ForAnyValue) => false,
                None => o.base.is_negated(),
            };
        };
        // A value whose variable the request lacks can match nothing: drop it.
        let wanted: Vec<String> = self
            .values
            .iter()
            .filter_map(|v| substitute(v, req))
            .collect();
        let positive = o.base.positive().unwrap_or(o.base);
        let one = |v: &str| {
            let any = wanted.iter().any(|w| compare(positive, w, v));
            any != o.base.is_negated()
        };
        match o.set {
            None if self.multivalued || have.len() > 1 => false,
            None => one(&have[0]),
            Some(SetQualifier::ForAnyValue) => have.iter().any(|v| one(v)),
            Some(SetQualifier::ForAllValues) => have.iter().all(|v| one(v)),
        }
    }
}

fn num(s: &str) -> Option<f64> {
    s.trim().parse().ok()
}

/// A date as seconds since the epoch (fractions kept): epoch seconds, ISO 8601 with an
/// offset or `Z`, without one (UTC), or a date alone (midnight UTC).
pub fn instant(s: &str) -> Option<f64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return num(s);
    }
    let secs = |t: OffsetDateTime| t.unix_timestamp_nanos() as f64 / 1e9;
    if let Ok(t) = OffsetDateTime::parse(s, &Iso8601::DEFAULT) {
        return Some(secs(t));
    }
    if let Ok(t) = PrimitiveDateTime::parse(s, &Iso8601::DEFAULT) {
        return Some(secs(t.assume_utc()));
    }
    Date::parse(s, &Iso8601::DEFAULT)
        .ok()
        .map(|d| secs(d.midnight().assume_utc()))
}

/// An address or a CIDR; a bare address is its own one-address network.
fn network(s: &str) -> Option<IpNet> {
    let s = s.trim();
    s.parse::<IpNet>().ok().or_else(|| {
        // `IpNet` has no parser for a bare address; `/32` or `/128` make it one.
        let bits = if s.contains(':') { 128 } else { 32 };
        format!("{s}/{bits}").parse().ok()
    })
}

fn ip_in(cidr: &str, ip: &str) -> bool {
    match (network(cidr), network(ip)) {
        (Some(net), Some(addr)) => net.contains(&addr),
        _ => false,
    }
}

fn compare(op: Base, policy: &str, value: &str) -> bool {
    use std::cmp::Ordering;
    let ord = |a: Option<f64>, b: Option<f64>| -> Option<Ordering> {
        match (a, b) {
            (Some(v), Some(p)) => v.partial_cmp(&p),
            _ => None,
        }
    };
    match op {
        Base::StringEquals | Base::BinaryEquals => policy == value,
        Base::StringEqualsIgnoreCase => policy.to_lowercase() == value.to_lowercase(),
        Base::StringLike => glob(policy, value),
        Base::ArnEquals | Base::ArnLike => arn_like(policy, value),
        Base::Bool => policy.eq_ignore_ascii_case(value),
        Base::IpAddress => ip_in(policy, value),
        Base::NumericEquals => ord(num(value), num(policy)).is_some_and(Ordering::is_eq),
        Base::NumericLessThan => ord(num(value), num(policy)).is_some_and(Ordering::is_lt),
        Base::NumericLessThanEquals => ord(num(value), num(policy)).is_some_and(Ordering::is_le),
        Base::NumericGreaterThan => ord(num(value), num(policy)).is_some_and(Ordering::is_gt),
        Base::NumericGreaterThanEquals => ord(num(value), num(policy)).is_some_and(Ordering::is_ge),
        Base::DateEquals => ord(instant(value), instant(policy)).is_some_and(Ordering::is_eq),
        Base::DateLessThan => ord(instant(value), instant(policy)).is_some_and(Ordering::is_lt),
        Base::DateLessThanEquals => {
            ord(instant(value), instant(policy)).is_some_and(Ordering::is_le)
        }
        Base::DateGreaterThan => ord(instant(value), instant(policy)).is_some_and(Ordering::is_gt),
        Base::DateGreaterThanEquals => {
            ord(instant(value), instant(policy)).is_some_and(Ordering::is_ge)
        }
        // Negated operators are evaluated through their positive form; Null never gets here.
        _ => false,
    }
}
