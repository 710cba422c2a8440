//! What an endpoint URL says about where requests go: loopback (an emulator such as moto on
//! this machine) or not. Parsed from the URL's authority, never by substring.

use std::net::IpAddr;

/// The host of `url` (`scheme://host[:port][/path]`, IPv6 in brackets), if it has one.
pub fn host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split_once(']')?.0
    } else {
        authority.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

/// Whether `url` points at this machine: `localhost` (and its subdomains) or a loopback
/// address (127.0.0.0/8, ::1).
pub fn is_loopback(url: &str) -> bool {
    match host(url) {
        Some(h) => {
            let h = h.to_ascii_lowercase();
            h == "localhost"
                || h.ends_with(".localhost")
                || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_endpoints_are_recognised_by_their_host() {
        for yes in [
            "http://127.0.0.1:5000",
            "http://localhost:5000/",
            "http://LOCALHOST",
            "http://[::1]:5000",
            "http://127.1.2.3",
            "http://user@localhost:1",
        ] {
            assert!(is_loopback(yes), "{yes}");
        }
        for no in [
            "https://organizations.us-east-1.amazonaws.com",
            "http://10.0.0.1:5000",
            "http://localhost.example.com",
            "http://example.com/127.0.0.1",
            "http://[::2]:5000",
            "",
        ] {
            assert!(!is_loopback(no), "{no}");
        }
    }
}
