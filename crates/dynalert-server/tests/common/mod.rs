//! Helpers shared by the in-process server tests.

// Each test binary includes this module and uses a part of it.
#![allow(dead_code)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use dynalert_server::auth::Auth;
use dynalert_server::{Clock, Options, Server};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// A ready server on `dir` with the watcher off and no poll within a test; `tweak` sets
/// the options a test is about.
pub async fn start_with(dir: &Path, tweak: impl FnOnce(&mut Options)) -> Server {
    let mut opts = Options::new(dir);
    opts.watch = false;
    opts.poll_interval = Duration::from_secs(3600);
    tweak(&mut opts);
    let server = Server::start(opts);
    assert!(server.ready(Duration::from_secs(10)).await);
    server
}

pub async fn start(dir: &Path) -> Server {
    start_with(dir, |_| {}).await
}

/// Basic auth with one user `user` whose password is `password` (bcrypt, low cost).
pub fn one_user(user: &str, password: &str) -> Option<Arc<Auth>> {
    let hash = bcrypt::hash(password, 4).unwrap();
    Some(Arc::new(Auth::new(
        [(user.to_string(), hash)].into_iter().collect(),
    )))
}

/// The `authorization` header value for `user:password`.
pub fn basic(credentials: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    )
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

/// One request through the router, without a socket.
pub async fn call(server: &Server, method: &str, uri: &str, headers: &[(&str, &str)]) -> Resp {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Body::empty()).unwrap();
    let resp = server.router().oneshot(req).await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Resp {
        status,
        headers,
        body,
    }
}

/// The status of a request without headers.
pub async fn status(server: &Server, method: &str, uri: &str) -> StatusCode {
    call(server, method, uri, &[]).await.status
}

/// A clock the test moves by hand; the server re-checks its edges on
/// `Server::clock_moved`, so an expiry is tested without waiting for it.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn at(rfc3339: &str) -> ManualClock {
        ManualClock(Mutex::new(
            DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc(),
        ))
    }

    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap() = t;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// The system clock shifted by a fixed offset: time runs at real speed, so the reloader's
/// own timer is what must serve an edge placed a moment ahead.
pub struct OffsetClock(pub chrono::Duration);

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.0
    }
}
