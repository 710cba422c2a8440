//! The test proxy's AWS-rate mode: AWS's throttling in front of moto, which throttles nothing.
//!
//! A loopback HTTP proxy with a token bucket per calling account (the access key in the
//! request's `Authorization`) and Organizations API family, at the rates of
//! [`guardrail::live::limiter::RATES`] (AWS's documented per-account rates, enforced exactly:
//! [`RateLimiter::aws`]). A request that finds its bucket empty is answered as AWS answers it,
//! HTTP 400 with `{"__type":"TooManyRequestsException",...}`, and never reaches moto; the rest
//! are forwarded, one request per connection. Other services (STS, IAM) pass unthrottled.
//!
//! moto 5.2 answers `ListAccounts` without `Paths`; with [`RateProxy::set_paths`] the proxy
//! adds each account's path, as AWS has since 2026-03-31, so the read that uses them can be
//! measured through the real binary. moto also ignores `MaxResults` on some listings
//! (`ListTargetsForPolicy` never paginates); the proxy pages any listing answer longer than
//! the request's `MaxResults` itself, as AWS would (later pages come from its cache, each
//! through the bucket like any request). It counts the requests it answered and throttled,
//! by operation.
//!
//! Used by the e2e tests and compiled into `guardrail-bench` (`#[path]`), so it is written
//! without `unwrap`: a poisoned lock is taken as is (the maps stay valid maps).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use guardrail::live::limiter::RateLimiter;

/// A running AWS-rate proxy; stops accepting when dropped.
pub struct RateProxy {
    pub endpoint: String,
    rated: Arc<Rated>,
    stop: Arc<AtomicBool>,
}

#[derive(Default)]
struct Rated {
    /// AWS's buckets, by calling access key.
    buckets: Mutex<HashMap<String, Arc<RateLimiter>>>,
    forwarded: Mutex<BTreeMap<String, u64>>,
    throttled: Mutex<BTreeMap<String, u64>>,
    /// Account id → the path `ListAccounts` answers for it; empty: no `Paths` added.
    paths: Mutex<HashMap<String, String>>,
    /// Pages the proxy cut from a longer answer: its `NextToken` → (list key, items left).
    pages: Mutex<HashMap<String, (String, Vec<serde_json::Value>)>>,
    next_page: std::sync::atomic::AtomicU64,
}

/// The token of pages the proxy serves from its cache.
const PAGE_TOKEN: &str = "guardrail-rate-proxy-page-";

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One HTTP request: header lines (the request line first) and the body. The fault proxy
/// (`proxy.rs`) reads requests with it too.
pub(crate) fn read_request(stream: &mut BufReader<TcpStream>) -> Option<(Vec<String>, Vec<u8>)> {
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            break;
        }
        headers.push(line);
    }
    let len = header(&headers, "content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    stream.read_exact(&mut body).ok()?;
    Some((headers, body))
}

/// The value of header `name` (lower case).
fn header<'a>(headers: &'a [String], name: &str) -> Option<&'a str> {
    headers.iter().find_map(|h| {
        let (k, v) = h.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The Organizations operation (`ListAccounts`, ...), or empty for another service.
fn operation(headers: &[String]) -> String {
    header(headers, "x-amz-target")
        .filter(|t| t.starts_with("AWSOrganizations"))
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or_default()
        .to_owned()
}

/// The access key a request is signed with (`Credential=AKID/date/region/service/...`).
fn calling_key(headers: &[String]) -> String {
    header(headers, "authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').next())
        .unwrap_or_default()
        .to_owned()
}

/// AWS's answer to a throttled request.
fn too_many_requests(op: &str) -> String {
    let body = format!(
        r#"{{"__type":"TooManyRequestsException","Message":"Rate exceeded","Type":"{op}"}}"#
    );
    format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Sends one request to `upstream` and returns moto's whole answer.
fn forward(upstream: &str, headers: &[String], body: &[u8]) -> Option<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).ok()?;
    let mut req = Vec::new();
    for h in headers
        .iter()
        .filter(|h| !h.to_ascii_lowercase().starts_with("connection:"))
    {
        req.extend_from_slice(h.as_bytes());
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"Connection: close\r\n\r\n");
    req.extend_from_slice(body);
    up.write_all(&req).ok()?;
    let mut resp = Vec::new();
    up.read_to_end(&mut resp).ok()?;
    Some(resp)
}

/// A `ListAccounts` answer with each known account's `Paths` added (Content-Length fixed).
fn with_paths(resp: Vec<u8>, paths: &HashMap<String, String>) -> Vec<u8> {
    let text = String::from_utf8_lossy(&resp).into_owned();
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return resp;
    };
    let Ok(mut v) = serde_json::from_str::<serde_json::Value>(body) else {
        return resp;
    };
    for a in v["Accounts"].as_array_mut().into_iter().flatten() {
        let path = a["Id"].as_str().and_then(|id| paths.get(id)).cloned();
        if let Some(p) = path {
            a["Paths"] = serde_json::json!([p]);
        }
    }
    let body = v.to_string();
    let head: Vec<&str> = head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("content-length:"))
        .collect();
    format!(
        "{}\r\nContent-Length: {}\r\n\r\n{body}",
        head.join("\r\n"),
        body.len()
    )
    .into_bytes()
}

/// An HTTP 200 answer with this JSON body.
fn json_response(body: &serde_json::Value) -> Vec<u8> {
    let body = body.to_string();
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The first `max` items of `items` under `key`, with a `NextToken` for the rest, cached.
fn cut_page(rated: &Rated, key: &str, mut items: Vec<serde_json::Value>, max: usize) -> Vec<u8> {
    let rest = items.split_off(max.min(items.len()));
    let mut page = serde_json::json!({ key: items });
    if !rest.is_empty() {
        let n = rated.next_page.fetch_add(1, Ordering::SeqCst);
        let token = format!("{PAGE_TOKEN}{n}");
        page["NextToken"] = serde_json::json!(token);
        locked(&rated.pages).insert(token, (key.to_owned(), rest));
    }
    json_response(&page)
}

/// A later page of an answer the proxy cut, when `body` asks for one.
fn cached_page(rated: &Rated, body: &[u8]) -> Option<Vec<u8>> {
    let input: serde_json::Value = serde_json::from_slice(body).ok()?;
    let token = input["NextToken"].as_str()?;
    let (key, items) = locked(&rated.pages).remove(token)?;
    let max = input["MaxResults"].as_u64().unwrap_or(20) as usize;
    Some(cut_page(rated, &key, items, max))
}

/// moto's answer, paged as AWS would when it holds more items than `MaxResults` asked for
/// and no `NextToken`.
fn paged_as_aws(rated: &Rated, body: &[u8], resp: Vec<u8>) -> Vec<u8> {
    let max = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["MaxResults"].as_u64());
    let text = String::from_utf8_lossy(&resp).into_owned();
    let (Some(max), Some((head, json))) = (max, text.split_once("\r\n\r\n")) else {
        return resp;
    };
    let Ok(serde_json::Value::Object(v)) = serde_json::from_str::<serde_json::Value>(json) else {
        return resp;
    };
    let long = v.iter().find_map(|(k, x)| {
        x.as_array()
            .filter(|a| a.len() as u64 > max)
            .map(|a| (k.clone(), a.clone()))
    });
    match long {
        Some((key, items)) if head.contains(" 200 ") && !v.contains_key("NextToken") => {
            cut_page(rated, &key, items, max as usize)
        }
        _ => resp,
    }
}

fn handle(client: TcpStream, upstream: &str, rated: &Rated) {
    let Ok(reader) = client.try_clone() else {
        return;
    };
    let Some((headers, body)) = read_request(&mut BufReader::new(reader)) else {
        return;
    };
    let mut client = client;
    let op = operation(&headers);
    if !op.is_empty() {
        let bucket = locked(&rated.buckets)
            .entry(calling_key(&headers))
            .or_insert_with(|| Arc::new(RateLimiter::aws()))
            .clone();
        if !bucket.try_take(&op) {
            *locked(&rated.throttled).entry(op.clone()).or_default() += 1;
            let _ = client.write_all(too_many_requests(&op).as_bytes());
            return;
        }
        *locked(&rated.forwarded).entry(op.clone()).or_default() += 1;
        if let Some(page) = cached_page(rated, &body) {
            let _ = client.write_all(&page);
            return;
        }
    }
    let Some(mut resp) = forward(upstream, &headers, &body) else {
        return;
    };
    if op == "ListAccounts" {
        let paths = locked(&rated.paths);
        if !paths.is_empty() {
            resp = with_paths(resp, &paths);
        }
    }
    if op.starts_with("List") {
        resp = paged_as_aws(rated, &body, resp);
    }
    let _ = client.write_all(&resp);
}

impl RateProxy {
    /// Starts an AWS-rate proxy to `upstream` (`http://127.0.0.1:PORT`), buckets full.
    pub fn start(upstream: &str) -> std::io::Result<RateProxy> {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let rated = Arc::new(Rated::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (r2, st2) = (rated.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (r3, up) = (r2.clone(), upstream.clone());
                std::thread::spawn(move || handle(conn, &up, &r3));
            }
        });
        Ok(RateProxy {
            endpoint,
            rated,
            stop,
        })
    }

    /// `ListAccounts` answers carry these paths (account id → `o-x/r-y/ou-a/111122223333/`);
    /// an empty map: none, as moto.
    pub fn set_paths(&self, paths: HashMap<String, String>) {
        *locked(&self.rated.paths) = paths;
    }

    /// Every bucket full again and the counts zeroed, as after a pause between two runs.
    pub fn reset(&self) {
        locked(&self.rated.buckets).clear();
        locked(&self.rated.forwarded).clear();
        locked(&self.rated.throttled).clear();
    }

    /// Organizations requests answered (by moto, or from the proxy's pages), by operation.
    pub fn forwarded(&self) -> BTreeMap<String, u64> {
        locked(&self.rated.forwarded).clone()
    }

    /// TooManyRequests answered, by operation.
    pub fn throttled(&self) -> BTreeMap<String, u64> {
        locked(&self.rated.throttled).clone()
    }
}

impl Drop for RateProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.endpoint.trim_start_matches("http://"));
    }
}

/// The path AWS's `Paths` gives each account (for `RateProxy::set_paths`; the e2e tests and the
/// benchmark share it): `o-x/r-y/ou-a/ou-b/111122223333/`.
pub(crate) fn paths_of(live: &guardrail::model::LiveOrg) -> HashMap<String, String> {
    live.accounts
        .values()
        .map(|a| {
            let mut ids = vec![a.id.clone()];
            let mut cur = a.parent_id.as_str();
            while let Some(ou) = live.ous.get(cur) {
                ids.push(ou.id.clone());
                cur = ou.parent_id.as_str();
            }
            ids.extend([live.root.id.clone(), live.org_id.clone()]);
            ids.reverse();
            (a.id.clone(), format!("{}/", ids.join("/")))
        })
        .collect()
}
