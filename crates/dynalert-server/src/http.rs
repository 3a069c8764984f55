//! The HTTP surface: `/metrics`, status pages, health, readiness, reload and the JSON API.
//!
//! [`router`] is independent of sockets: tests drive it with `tower::ServiceExt::oneshot`.
//! Every handler reads one published state and serves only from it.

use std::time::Duration;

use axum::body::Body as AxBody;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use dynalert_exposition::Format;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::auth::Verdict;
use crate::body::response_chunks;
use crate::selfmetrics::render_tail;
use crate::state::{AppState, Msg, Trigger};
use crate::status;

/// Longest time a request may take before it is answered with 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest accepted request body.
pub const MAX_BODY: usize = 64 * 1024;

/// Builds the router over shared state.
pub fn router(state: AppState) -> Router {
    let metrics_path = state.telemetry_path.clone();
    Router::new()
        .route("/", get(status::page_status))
        .route("/tenants", get(status::page_tenants))
        .route("/tenants/{id}", get(status::page_tenant))
        .route("/config", get(status::page_config))
        .route("/api/v1/status", get(status::api_status))
        .route("/api/v1/config", get(status::api_config))
        .route(&metrics_path, get(metrics))
        .route("/-/healthy", get(healthy))
        .route("/-/ready", get(ready))
        .route("/-/reload", post(reload).put(reload))
        .route("/api/v1/tenants", get(status::api_tenants))
        .route("/api/v1/tenants/{id}", get(status::api_tenant))
        .layer(middleware::from_fn_with_state(state.clone(), basic_auth))
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(state)
}

async fn basic_auth(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(auth) = state.auth.load_full() else {
        return next.run(req).await;
    };
    let header = text(req.headers(), header::AUTHORIZATION).map(str::to_string);
    match auth.check_async(header).await {
        Verdict::Allowed => next.run(req).await,
        Verdict::Busy => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            "too many authentication attempts in progress\n",
        )
            .into_response(),
        Verdict::Denied => (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                "Basic realm=\"threshold-exporter\"",
            )],
            "unauthorized\n",
        )
            .into_response(),
    }
}

/// A header's value, when it is text.
fn text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// 503 while no configuration has been loaded: nothing true can be served yet.
fn not_ready() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "not ready: no configuration loaded yet\n",
    )
        .into_response()
}

/// Picks the exposition format from an `Accept` header.
pub fn negotiate(accept: Option<&str>) -> Format {
    let Some(accept) = accept else {
        return Format::Text;
    };
    let mut best_om = -1.0f32;
    let mut best_text = -1.0f32;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let mut q = 1.0f32;
        for p in parts {
            if let Some(v) = p.strip_prefix("q=") {
                q = v.parse().unwrap_or(0.0);
            }
        }
        match media.as_str() {
            "application/openmetrics-text" => best_om = best_om.max(q),
            "text/plain" | "*/*" | "text/*" => best_text = best_text.max(q),
            _ => {}
        }
    }
    if best_om > 0.0 && best_om >= best_text {
        Format::OpenMetrics
    } else {
        Format::Text
    }
}

/// Whether an `Accept-Encoding` header allows gzip.
pub fn accepts_gzip(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        v.split(',').any(|e| {
            let mut parts = e.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let q = parts
                .find_map(|p| p.strip_prefix("q="))
                .map_or(1.0, |q| q.parse::<f32>().unwrap_or(0.0));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && q > 0.0
        })
    })
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let p = state.load();
    if !p.status.ready {
        // Nothing true to serve yet: an empty 200 would read as "every threshold gone".
        return not_ready();
    }
    let format = negotiate(text(&headers, header::ACCEPT));
    let want_gzip = accepts_gzip(text(&headers, header::ACCEPT_ENCODING));
    let tail = Bytes::from(render_tail(&p, format));
    let segments = [&p.body.segment, &*p.valid];
    let (chunks, gzip) = match want_gzip
        .then(|| response_chunks(&segments, tail.clone(), true))
        .flatten()
    {
        Some(c) => (c, true),
        // Not compressed yet (a fresh snapshot) or not asked for: identity.
        None => (
            response_chunks(&segments, tail, false).expect("identity"),
            false,
        ),
    };
    let len: usize = chunks.iter().map(Bytes::len).sum();
    let mut resp = Response::new(AxBody::new(crate::chunks::ChunksBody::new(chunks)));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Accept-Encoding"),
    );
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    resp
}

async fn healthy() -> &'static str {
    "Healthy\n"
}

async fn ready(State(state): State<AppState>) -> Response {
    if state.load().status.ready {
        (StatusCode::OK, "Ready\n").into_response()
    } else {
        not_ready()
    }
}

async fn reload(State(state): State<AppState>) -> Response {
    if !state.enable_lifecycle {
        return (
            StatusCode::FORBIDDEN,
            "lifecycle API is not enabled: start the exporter with `--web.enable-lifecycle`, or send SIGHUP\n",
        )
            .into_response();
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    if state
        .reload
        .send(Msg::Reload(Trigger::Http, Some(tx)))
        .is_err()
    {
        return (StatusCode::SERVICE_UNAVAILABLE, "reloader stopped\n").into_response();
    }
    match tokio::time::timeout(REQUEST_TIMEOUT, rx).await {
        Ok(Ok(o)) if o.applied => (StatusCode::OK, "config applied\n").into_response(),
        Ok(Ok(o)) => {
            if let Some(failed) = o.failed {
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("reload failed: {failed}\n"),
                )
                    .into_response();
            }
            let mut body = format!(
                "config rejected: {} error(s); rejected files keep their last good config\n",
                o.errors.len()
            );
            for e in &o.errors {
                body.push_str(e);
                body.push('\n');
            }
            (StatusCode::UNPROCESSABLE_ENTITY, body).into_response()
        }
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            "reload did not finish in time\n",
        )
            .into_response(),
    }
}
