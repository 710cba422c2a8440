//! Wildcards, ARNs and policy variables: the string matching every other part of the
//! evaluator rests on.
//!
//! - `*` matches any run of characters and `?` exactly one (IAM's two wildcards).
//! - ARNs compare segment by segment: partition, service, region, account, then the resource
//!   part (which may itself hold colons). A wildcard never crosses a colon in the first five.
//! - Policy variables (`${aws:PrincipalAccount}`, `${aws:PrincipalTag/team}`, `${key, 'default'}`)
//!   are resolved only where IAM resolves them: in the resource part of an ARN (after the
//!   fifth colon) and in condition values. Anywhere else they stay literal text and so match
//!   nothing but themselves.

use super::request::Request;

/// `*` any run, `?` one character; whole-string match.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// ARN comparison (Resource elements, `ArnLike`/`ArnEquals`): `*` alone matches anything;
/// otherwise both must have six parts and each part matches with wildcards.
pub fn arn_like(pattern: &str, value: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let v: Vec<&str> = value.splitn(6, ':').collect();
    p.len() == 6 && v.len() == 6 && p.iter().zip(&v).all(|(a, b)| glob(a, b))
}

/// Whether the five segments before the resource part (partition, service, region, account)
/// match: policy variables are resolved only after the fifth colon, so these decide a match
/// whatever value an unresolvable variable would have had.
pub fn arn_head_like(pattern: &str, value: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let v: Vec<&str> = value.splitn(6, ':').collect();
    p.len() == 6 && v.len() == 6 && p[..5].iter().zip(&v[..5]).all(|(a, b)| glob(a, b))
}

/// A Resource pattern with its policy variables resolved in the resource part only; `None`
/// when a variable there has no value (the pattern then matches nothing).
pub fn resolve_resource(pattern: &str, req: &Request) -> Option<String> {
    if !pattern.contains("${") {
        return Some(pattern.to_owned());
    }
    let parts: Vec<&str> = pattern.splitn(6, ':').collect();
    match parts.as_slice() {
        [head @ .., tail] if head.len() == 5 => {
            let resolved = substitute(tail, req)?;
            Some(format!("{}:{resolved}", head.join(":")))
        }
        // Not an ARN: nothing to resolve, so the variable is literal text.
        _ => Some(pattern.to_owned()),
    }
}

/// Replaces policy variables with the request's values; `None` when one is missing and has
/// no default. `${*}`, `${?}` and `${$}` become the characters themselves; in `Like`
/// comparisons they then still act as wildcards, where IAM matches them literally (an
/// approximation, listed in tests/differential/divergences.toml).
pub fn substitute(s: &str, req: &Request) -> Option<String> {
    if !s.contains("${") {
        return Some(s.to_owned());
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        let name = &after[..end];
        match name {
            "*" | "?" | "$" => out.push_str(name),
            _ => {
                // `${key, 'default'}`: the default when the key is absent.
                let (key, default) = match name.split_once(',') {
                    Some((k, d)) => (k.trim(), Some(d.trim().trim_matches('\''))),
                    None => (name.trim(), None),
                };
                // Only single-valued keys can be variables: a key with several values has
                // no one value to put in.
                match req.values(key) {
                    Some([v]) => out.push_str(v),
                    _ => out.push_str(default?),
                }
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_cases() {
        assert!(glob("s3:Get*", "s3:GetObject"));
        assert!(glob("*", ""));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
        assert!(glob("*Deployer", "role/guardrail/Deployer"));
        assert!(!glob("s3:Get*", "s3:PutObject"));
    }

    #[test]
    fn arn_wildcards_stay_within_their_segment() {
        assert!(arn_like("arn:aws:iam::*:role/*", "arn:aws:iam::1:role/a/b"));
        assert!(arn_like("arn:aws:s3:::b/*", "arn:aws:s3:::b/k:with:colons"));
        // `*` in the region segment cannot swallow the account segment.
        assert!(!arn_like(
            "arn:aws:ec2:*:instance/i-1",
            "arn:aws:ec2:eu-west-1:1:instance/i-1"
        ));
        assert!(!arn_like("arn:aws:s3:::b", "not-an-arn"));
    }

    /// IAM resolves policy variables in the resource part of an ARN only: in
    /// `arn:aws:iam::${aws:PrincipalAccount}:role/*` the variable is literal text, so the
    /// pattern matches no real role.
    #[test]
    fn policy_variables_resolve_only_after_the_fifth_colon() {
        let req = Request::new("iam:CreateRole").principal("arn:aws:iam::111122223333:role/app");
        let p = resolve_resource("arn:aws:iam::${aws:PrincipalAccount}:role/*", &req);
        assert_eq!(
            p.as_deref(),
            Some("arn:aws:iam::${aws:PrincipalAccount}:role/*")
        );
        assert!(!arn_like(
            p.as_deref().unwrap_or_default(),
            "arn:aws:iam::111122223333:role/x"
        ));
        let q = resolve_resource("arn:aws:s3:::home/${aws:PrincipalAccount}/*", &req);
        assert_eq!(q.as_deref(), Some("arn:aws:s3:::home/111122223333/*"));
        assert_eq!(
            substitute("a${*}b${aws:x, 'd'}", &Request::new("x")),
            Some("a*bd".into())
        );
    }
}
