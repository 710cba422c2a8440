//! A fault-injecting HTTP proxy on loopback, in front of moto. From a seed it answers a chosen
//! share of Organizations requests with TooManyRequests, ConcurrentModification, a 500, a
//! dropped connection, or added latency, and forwards the rest; it records every request that
//! reached moto, with moto's answer, in order. Those faults strike before forwarding, so such a
//! request never changes moto's state.
//!
//! A second, separate share of writes (those in [`LOSABLE`]) gets a *lost response*: the proxy
//! forwards the write, moto carries it out and answers, and the proxy drops the connection
//! instead of passing the answer on (as when a network path dies after AWS committed the
//! change). The client sees a connection error for a write that took effect; its retry then
//! meets AWS's "already so" answers. Such requests are journaled as answered by moto (they
//! changed its state), marked [`Record::lost`]. One request per connection
//! (`Connection: close`). [`Proxy::die`] closes the listening socket: from then on every
//! connection is refused, as at a dead endpoint.

use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// One request moto answered.
#[derive(Debug, Clone)]
pub struct Record {
    /// `AttachPolicy`, ...; empty for non-Organizations calls.
    pub op: String,
    pub body: String,
    pub status: u16,
    pub response: String,
    /// Moto answered, but the proxy dropped the connection instead of passing the answer on.
    pub lost: bool,
}

#[derive(Default)]
struct Shared {
    log: Mutex<Vec<Record>>,
    writes: Mutex<u64>,
    wrote: Condvar,
    faults: AtomicU64,
    lost: AtomicU64,
}

pub struct Proxy {
    pub endpoint: String,
    shared: Arc<Shared>,
    /// Percent of Organizations requests to fault before forwarding (0 to 100).
    share: Arc<AtomicU64>,
    /// Percent of the remaining writes whose response is lost after moto carried them out.
    lost_share: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    /// The accept loop, which owns the listening socket ([`Proxy::die`] joins it).
    accept: Mutex<Option<std::thread::JoinHandle<()>>>,
}

const WRITES: &[&str] = &[
    "AttachPolicy",
    "DetachPolicy",
    "CreatePolicy",
    "UpdatePolicy",
    "DeletePolicy",
    "CreateOrganizationalUnit",
    "DeleteOrganizationalUnit",
    "MoveAccount",
    "CreateAccount",
];

/// Writes whose response may be lost: those whose retry moto answers as AWS would, with the
/// same end state ("already so": `DuplicatePolicyException`, `PolicyNotFoundException`,
/// `OrganizationalUnitNotFoundException`, or an idempotent success for attach, detach, move and
/// update). Not `CreateOrganizationalUnit` or `CreateAccount`: moto does not reject a duplicate
/// sibling OU or account email, so a retried create would make a second one in moto where AWS
/// answers `DuplicateOrganizationalUnitException` / a failed `CreateAccountStatus` (the fake
/// enforces those rules; no e2e test relies on a rule moto skips).
const LOSABLE: &[&str] = &[
    "AttachPolicy",
    "DetachPolicy",
    "CreatePolicy",
    "UpdatePolicy",
    "DeletePolicy",
    "DeleteOrganizationalUnit",
    "MoveAccount",
];

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

fn error_response(kind: &str, status: u16) -> Vec<u8> {
    let body = format!(r#"{{"__type":"{kind}","Message":"injected by the test proxy"}}"#);
    let reason = if status == 500 {
        "Internal Server Error"
    } else {
        "Bad Request"
    };
    format!("HTTP/1.1 {status} {reason}\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).into_bytes()
}

/// The shares a connection is handled with (read when it is accepted).
#[derive(Clone, Copy)]
struct Shares {
    fault: u64,
    lost: u64,
}

fn handle(client: TcpStream, upstream: &str, shared: &Shared, shares: Shares, rng: &mut u64) {
    let mut reader = BufReader::new(match client.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let Some((headers, body)) = super::rate_proxy::read_request(&mut reader) else {
        return;
    };
    let mut client = client;
    let op = headers
        .iter()
        .find_map(|h| {
            h.to_ascii_lowercase()
                .starts_with("x-amz-target:")
                .then(|| h.rsplit('.').next().unwrap_or_default().trim().to_owned())
        })
        .unwrap_or_default();
    if !op.is_empty() && xorshift(rng) % 100 < shares.fault {
        shared.faults.fetch_add(1, Ordering::SeqCst);
        match xorshift(rng) % 5 {
            0 => {
                let _ = client.write_all(&error_response("TooManyRequestsException", 400));
                return;
            }
            1 => {
                let _ = client.write_all(&error_response("ConcurrentModificationException", 400));
                return;
            }
            2 => {
                let _ = client.write_all(&error_response("ServiceException", 500));
                return;
            }
            3 => return,                                        // dropped connection
            _ => std::thread::sleep(Duration::from_millis(30)), // latency, then forward
        }
    }
    // Rolled only when the share is set, so the fault sequence of a seed without lost
    // responses is what it always was.
    let lose =
        shares.lost > 0 && LOSABLE.contains(&op.as_str()) && xorshift(rng) % 100 < shares.lost;
    let Ok(mut up) = TcpStream::connect(upstream) else {
        return;
    };
    let mut req = Vec::new();
    for h in &headers {
        let lower = h.to_ascii_lowercase();
        if lower.starts_with("connection:") {
            continue;
        }
        req.extend_from_slice(h.as_bytes());
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"Connection: close\r\n\r\n");
    req.extend_from_slice(&body);
    if up.write_all(&req).is_err() {
        return;
    }
    let mut resp = Vec::new();
    if up.read_to_end(&mut resp).is_err() {
        return;
    }
    let text = String::from_utf8_lossy(&resp).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let response = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    {
        let mut log = shared.log.lock().unwrap();
        log.push(Record {
            op: op.clone(),
            body: String::from_utf8_lossy(&body).into_owned(),
            status,
            response,
            lost: lose,
        });
    }
    if WRITES.contains(&op.as_str()) {
        *shared.writes.lock().unwrap() += 1;
        shared.wrote.notify_all();
    }
    if lose {
        // Moto has carried the write out; the client never hears of it. Dropping `client`
        // closes the connection with nothing written.
        shared.lost.fetch_add(1, Ordering::SeqCst);
        return;
    }
    let _ = client.write_all(&resp);
}

impl Proxy {
    /// Starts a proxy to `upstream` (`http://127.0.0.1:PORT`), faulting `share` percent.
    pub fn start(upstream: &str, seed: u64, share: u64) -> Proxy {
        Proxy::start_with_lost(upstream, seed, share, 0)
    }

    /// As [`Proxy::start`], and loses the response of `lost` percent of the writes that were
    /// not faulted before forwarding.
    pub fn start_with_lost(upstream: &str, seed: u64, share: u64, lost: u64) -> Proxy {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared::default());
        let share = Arc::new(AtomicU64::new(share));
        let lost_share = Arc::new(AtomicU64::new(lost));
        let stop = Arc::new(AtomicBool::new(false));
        let (s2, sh2, lo2, st2) = (
            shared.clone(),
            share.clone(),
            lost_share.clone(),
            stop.clone(),
        );
        let accept = std::thread::spawn(move || {
            let mut n = seed.max(1);
            for conn in listener.incoming() {
                if st2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                n = n
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let shares = Shares {
                    fault: sh2.load(Ordering::SeqCst),
                    lost: lo2.load(Ordering::SeqCst),
                };
                let (s3, up, mut rng) = (s2.clone(), upstream.clone(), n | 1);
                std::thread::spawn(move || handle(conn, &up, &s3, shares, &mut rng));
            }
        });
        Proxy {
            endpoint,
            shared,
            share,
            lost_share,
            stop,
            accept: Mutex::new(Some(accept)),
        }
    }

    /// The endpoint dies: the listening socket is closed (once this returns, every new
    /// connection is refused). Requests already accepted are still answered.
    pub fn die(&self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag, then wait for it to drop the listener.
        let _ = TcpStream::connect(self.endpoint.trim_start_matches("http://"));
        if let Some(accept) = self.accept.lock().unwrap().take() {
            accept.join().unwrap();
        }
    }

    pub fn set_share(&self, pct: u64) {
        self.share.store(pct, Ordering::SeqCst);
    }

    pub fn set_lost_share(&self, pct: u64) {
        self.lost_share.store(pct, Ordering::SeqCst);
    }

    pub fn faults(&self) -> u64 {
        self.shared.faults.load(Ordering::SeqCst)
    }

    /// Writes moto carried out whose response the proxy dropped.
    pub fn lost(&self) -> u64 {
        self.shared.lost.load(Ordering::SeqCst)
    }

    /// Writes moto has answered so far.
    pub fn writes(&self) -> u64 {
        *self.shared.writes.lock().unwrap()
    }

    pub fn log(&self) -> Vec<Record> {
        self.shared.log.lock().unwrap().clone()
    }

    /// Blocks until moto has answered at least `n` writes (a condition, not a timer).
    pub fn wait_for_writes(&self, n: u64) -> bool {
        let mut w = self.shared.writes.lock().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while *w < n {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            w = self.shared.wrote.wait_timeout(w, left).unwrap().0;
        }
        true
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.endpoint.trim_start_matches("http://"));
    }
}
