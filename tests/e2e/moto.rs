//! The moto harness: one `moto_server` per test binary, on a free loopback port, started on
//! first use from the project's virtualenv and stopped when the test process exits (moto runs
//! under a small Python wrapper that exits when its stdin, a pipe held by this process,
//! closes). A missing moto is a loud failure with instructions, never a skip.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub struct Moto {
    pub endpoint: String,
    _child: Mutex<Child>,
}

static MOTO: OnceLock<Moto> = OnceLock::new();

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("GUARDRAIL_MOTO_PYTHON") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")
}

const WRAPPER: &str = r#"
import os, sys, threading
def watch():
    sys.stdin.read()
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
from moto.server import main
main(["-H", "127.0.0.1", "-p", sys.argv[1]])
"#;

fn answers_http(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 12];
    matches!(s.read(&mut buf), Ok(n) if n >= 12 && buf.starts_with(b"HTTP/1."))
}

fn start() -> Moto {
    let py = python();
    assert!(
        py.exists(),
        "moto is not installed: {} is missing.\n\
         Run `scripts/test` (it creates .venv and installs moto[server]), or\n\
         `python3 -m venv .venv && .venv/bin/pip install 'moto[server]'`,\n\
         or point GUARDRAIL_MOTO_PYTHON at a Python that has moto[server].",
        py.display()
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut child = Command::new(&py)
        .arg("-c")
        .arg(WRAPPER)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start moto with {}: {e}", py.display()));
    // Readiness: poll until moto answers HTTP, with a deadline (this waits for a condition;
    // it is not a sleep standing in for synchronisation).
    let deadline = Instant::now() + Duration::from_secs(60);
    while !answers_http(port) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("moto_server exited before answering: {status}; is moto[server] installed in the venv?");
        }
        assert!(
            Instant::now() < deadline,
            "moto_server did not answer on port {port} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Moto {
        endpoint: format!("http://127.0.0.1:{port}"),
        _child: Mutex::new(child),
    }
}

pub fn moto() -> &'static Moto {
    MOTO.get_or_init(start)
}
