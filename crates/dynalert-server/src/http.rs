//! The HTTP surface: `/metrics`, landing page, health, readiness, reload and tenant API.
//!
//! [`router`] is independent of sockets: tests drive it with `tower::ServiceExt::oneshot`.
//! Every handler reads one published state and serves only from it.

use std::time::Duration;

use axum::body::Body as AxBody;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use dynalert_exposition::Format;
use dynalert_model::effective_tenant;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::auth::Verdict;
use crate::body::response_chunks;
use crate::selfmetrics::render_tail;
use crate::state::{AppState, Msg, Trigger};

/// Longest time a request may take before it is answered with 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest accepted request body.
pub const MAX_BODY: usize = 64 * 1024;

/// Builds the router over shared state.
pub fn router(state: AppState) -> Router {
    let metrics_path = state.telemetry_path.clone();
    Router::new()
        .route("/", get(landing))
        .route(&metrics_path, get(metrics))
        .route("/-/healthy", get(healthy))
        .route("/-/ready", get(ready))
        .route("/-/reload", post(reload).put(reload))
        .route("/api/v1/tenants", get(tenants))
        .route("/api/v1/tenants/{id}", get(tenant))
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
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
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
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: no configuration loaded yet\n",
        )
            .into_response();
    }
    let format = negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    let want_gzip = accepts_gzip(
        headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok()),
    );
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
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: no configuration loaded yet\n",
        )
            .into_response()
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

async fn tenants(State(state): State<AppState>) -> Response {
    let p = state.load();
    let tenants: Vec<serde_json::Value> = p
        .config
        .tenants
        .iter()
        .map(|(id, t)| {
            serde_json::json!({
                "tenant": id,
                "file": &*t.file,
                "valid": p.status.tenant_valid.get(id).copied().unwrap_or(true),
            })
        })
        .collect();
    Json(serde_json::json!({ "at": p.at.to_rfc3339(), "tenants": tenants })).into_response()
}

async fn tenant(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let p = state.load();
    let Some(t) = p.config.tenants.get(&id) else {
        let id = dynalert_config::yaml::quote(&id);
        return (StatusCode::NOT_FOUND, format!("unknown tenant {id}\n")).into_response();
    };
    let e = effective_tenant(&p.config.platform, t, p.at);
    // Same document shape as `dynalert effective --format json`.
    Json(serde_json::json!({ "at": p.at.to_rfc3339(), "tenants": [e] })).into_response()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn landing(State(state): State<AppState>) -> Html<String> {
    let p = state.load();
    let s = &p.status;
    let mut html = String::with_capacity(4096);
    html.push_str("<!doctype html><html><head><meta charset=\"utf-8\"><title>threshold-exporter</title></head><body>\n");
    html.push_str(&format!(
        "<h1>threshold-exporter</h1>\n<p>version {} (revision {})</p>\n",
        esc(crate::VERSION),
        esc(crate::REVISION)
    ));
    let path = esc(&state.telemetry_path);
    html.push_str(&format!(
        "<ul><li><a href=\"{path}\">{path}</a></li><li><a href=\"/-/healthy\">/-/healthy</a></li><li><a href=\"/-/ready\">/-/ready</a></li><li><a href=\"/api/v1/tenants\">/api/v1/tenants</a></li></ul>\n"
    ));
    let last = s
        .last_reload
        .map_or("never".to_string(), |t| t.to_rfc3339());
    let success = s
        .last_success
        .map_or("never".to_string(), |t| t.to_rfc3339());
    html.push_str(&format!(
        "<h2>Configuration</h2>\n<p>directory <code>{}</code>; last reload {} ({}); last fully applied {}; {} tenants, {} series, hash <code>{}</code></p>\n",
        esc(&state.config_dir),
        esc(&last),
        if s.last_reload_ok { "all files applied" } else { "some files rejected" },
        esc(&success),
        p.body.tenants,
        p.body.series,
        esc(&p.body.hash),
    ));
    if s.errors.is_empty() {
        html.push_str("<p>No current errors.</p>\n");
    } else {
        html.push_str("<h2>Current errors</h2>\n<pre>\n");
        for e in &s.errors {
            html.push_str(&esc(e));
            html.push('\n');
        }
        html.push_str("</pre>\n");
    }
    html.push_str("<h2>Tenants</h2>\n<table><tr><th>tenant</th><th>valid</th><th>keys</th></tr>\n");
    for (id, t) in &p.config.tenants {
        let valid = s.tenant_valid.get(id).copied().unwrap_or(true);
        let keys: Vec<String> = t.thresholds.keys().map(|k| esc(&k.to_string())).collect();
        html.push_str(&format!(
            "<tr><td><a href=\"/api/v1/tenants/{0}\">{0}</a></td><td>{1}</td><td>{2}</td></tr>\n",
            esc(id),
            if valid {
                "yes"
            } else {
                "no: last good config served"
            },
            keys.join(", ")
        ));
    }
    html.push_str("</table>\n</body></html>\n");
    Html(html)
}
