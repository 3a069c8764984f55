//! A minimal blocking HTTP server on 127.0.0.1 that serves fixed bodies by path.
//!
//! It stands in for the source exporters and, for the rules benchmark, for the threshold
//! exporter: the threshold body is the exporter's own rendering of the generated `conf.d`
//! (`dynalert_exposition::render`), so Prometheus ingests exactly the series the exporter would
//! serve while the measurement does not depend on the daemon. Stopped when dropped.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::Result;

/// A running endpoint. Drop stops it.
pub struct Endpoint {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Endpoint {
    /// Serves `bodies` (path → body) on a free port of 127.0.0.1.
    pub fn start(bodies: BTreeMap<String, String>) -> Result<Endpoint> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let bodies: Arc<BTreeMap<String, Arc<Vec<u8>>>> = Arc::new(
            bodies
                .into_iter()
                .map(|(k, v)| (k, Arc::new(v.into_bytes())))
                .collect(),
        );
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let bodies = bodies.clone();
                std::thread::spawn(move || {
                    let _ = handle(conn, &bodies);
                });
            }
        });
        Ok(Endpoint {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// `127.0.0.1:<port>`.
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }
}

fn handle(conn: TcpStream, bodies: &BTreeMap<String, Arc<Vec<u8>>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut content_length = 0u64;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
                content_length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    // A request body (vmalert's notifications to the stand-in notifier) is read and dropped,
    // so the connection is not reset under the sender.
    std::io::copy(
        &mut std::io::Read::take(&mut reader, content_length),
        &mut std::io::sink(),
    )?;
    let mut conn = conn;
    match bodies.get(&path) {
        Some(body) => {
            write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            conn.write_all(body)?;
        }
        None => {
            conn.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )?;
        }
    }
    conn.flush()
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
