//! The lab's own small servers, run as one child process (`dynalert lab helper`):
//!
//! * the webhook sink: `POST /<receiver>` records the notification to `notifications.jsonl`;
//!   `GET /` shows them as a page, `GET /api/notifications` as JSON;
//! * the simulated Kubernetes endpoint: `GET /metrics` serves cAdvisor and kube-state-metrics
//!   series (labelled `simulated="true"`); `GET|PUT /api/pods`, `PUT|DELETE
//!   /api/pods/{namespace}/{pod}` and `POST /api/reset` let the scenario runner control it;
//! * on the VictoriaMetrics engine, the query front: one Prometheus-style URL for the tools,
//!   `GET /api/v1/rules` and `GET /api/v1/alerts` from vmalert, every other `GET` from
//!   VictoriaMetrics (the role of `-vmalert.proxyURL` in later VictoriaMetrics releases).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};

use crate::sim::{Cluster, PodSpec};
use crate::sink::{read_all, Notification};

#[derive(Clone)]
struct SinkState {
    file: PathBuf,
    lock: Arc<Mutex<()>>,
}

type SimState = Arc<Mutex<Cluster>>;

/// Where the query front sends requests.
#[derive(Debug, Clone)]
pub struct QueryFront {
    pub listen: SocketAddr,
    /// VictoriaMetrics: queries, series, labels, everything but rules and alerts.
    pub query_backend: String,
    /// vmalert: `/api/v1/rules`, `/api/v1/alerts`.
    pub rules_backend: String,
}

/// The webhook sink: where it listens and the file it appends to.
#[derive(Debug, Clone)]
pub struct Sink {
    pub listen: SocketAddr,
    pub file: PathBuf,
}

/// Runs the servers given until SIGTERM or SIGINT. Each logs the address it bound on stderr
/// (`msg=listening name=<sink|sim|query> address=127.0.0.1:N`), so it can be started on
/// port 0.
pub fn serve(
    sink: Option<Sink>,
    sim_addr: Option<SocketAddr>,
    front: Option<QueryFront>,
) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let mut servers = Vec::new();
        if let Some(s) = sink {
            let router = sink_router(SinkState {
                file: s.file,
                lock: Arc::new(Mutex::new(())),
            });
            servers.push(("sink", s.listen, router));
        }
        if let Some(addr) = sim_addr {
            let router = sim_router(Arc::new(Mutex::new(Cluster::baseline())));
            servers.push(("sim", addr, router));
        }
        if let Some(f) = front {
            servers.push(("query", f.listen, front_router(f)));
        }
        let mut tasks = Vec::new();
        for (name, addr, router) in servers {
            let l = tokio::net::TcpListener::bind(addr).await?;
            eprintln!("msg=listening name={name} address={}", l.local_addr()?);
            tasks.push(tokio::spawn(async move {
                axum::serve(l, router)
                    .with_graceful_shutdown(shutdown())
                    .await
            }));
        }
        for t in tasks {
            t.await??;
        }
        anyhow::Ok(())
    })
}

async fn shutdown() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("install SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

fn front_router(front: QueryFront) -> Router {
    Router::new()
        .route("/-/ready", get(|| async { "ok" }))
        .fallback(get(front_forward))
        .with_state(Arc::new(front))
}

/// The backend a query-front request goes to.
pub fn front_backend<'a>(front: &'a QueryFront, path: &str) -> &'a str {
    if path == "/api/v1/rules" || path == "/api/v1/alerts" {
        &front.rules_backend
    } else {
        &front.query_backend
    }
}

async fn front_forward(State(front): State<Arc<QueryFront>>, uri: axum::http::Uri) -> Response {
    let url = format!(
        "{}{}",
        front_backend(&front, uri.path()),
        uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    );
    let got = tokio::task::spawn_blocking(move || {
        let agent = ureq::AgentBuilder::new()
            .timeout(std::time::Duration::from_secs(30))
            .build();
        match agent.get(&url).call() {
            Ok(r) | Err(ureq::Error::Status(_, r)) => {
                let status = r.status();
                let ctype = r.content_type().to_string();
                let mut body = Vec::new();
                std::io::Read::read_to_end(&mut r.into_reader(), &mut body)
                    .map(|_| (status, ctype, body))
                    .map_err(|e| format!("GET `{url}`: {e}"))
            }
            Err(e) => Err(format!("GET `{url}`: {e}")),
        }
    })
    .await;
    match got {
        Ok(Ok((status, ctype, body))) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
            [(header::CONTENT_TYPE, ctype)],
            body,
        )
            .into_response(),
        Ok(Err(e)) => (StatusCode::BAD_GATEWAY, e).into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

fn sink_router(state: SinkState) -> Router {
    Router::new()
        .route("/", get(sink_page))
        .route("/-/ready", get(|| async { "ok" }))
        .route("/api/notifications", get(sink_list))
        .route("/{*receiver}", post(sink_receive))
        .with_state(state)
}

async fn sink_receive(
    State(st): State<SinkState>,
    Path(receiver): Path<String>,
    Json(payload): Json<serde_json::Value>,
) -> StatusCode {
    let n = Notification::from_payload(&receiver, &payload, chrono::Utc::now());
    let Ok(line) = serde_json::to_string(&n) else {
        return StatusCode::INTERNAL_SERVER_ERROR;
    };
    let _guard = st.lock.lock().unwrap_or_else(|e| e.into_inner());
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&st.file)
        .and_then(|mut f| writeln!(f, "{line}"));
    written.map_or(StatusCode::INTERNAL_SERVER_ERROR, |()| StatusCode::OK)
}

async fn sink_list(State(st): State<SinkState>) -> Json<Vec<Notification>> {
    Json(read_all(&st.file))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn sink_page(State(st): State<SinkState>) -> Html<String> {
    let mut rows = String::new();
    for n in read_all(&st.file).iter().rev().take(500) {
        for a in &n.alerts {
            let labels: Vec<String> = a
                .labels
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "alertname" | "tenant" | "severity"))
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            rows.push_str(&format!(
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><small>{}</small></td></tr>\n",
                esc(&a.status),
                esc(&n.received_at),
                esc(&n.receiver),
                esc(&a.status),
                esc(a.labels.get("alertname").map(String::as_str).unwrap_or("")),
                esc(a.labels.get("tenant").map(String::as_str).unwrap_or("")),
                esc(a.labels.get("severity").map(String::as_str).unwrap_or("")),
                esc(&labels.join(", ")),
            ));
        }
    }
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"5\">\
<title>dynalert lab: webhook sink</title><style>body{{font-family:sans-serif;margin:1.5em}}\
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 8px;text-align:left}}\
tr.firing td:nth-child(4){{font-weight:bold}}</style></head><body>\
<h1>dynalert lab: webhook sink</h1><p>Every notification Alertmanager sent, newest first. \
The receiver is the URL path it was posted to. JSON: <a href=\"/api/notifications\">/api/notifications</a>.</p>\
<table><tr><th>received</th><th>receiver</th><th>status</th><th>alertname</th><th>tenant</th><th>severity</th><th>other labels</th></tr>\n{rows}</table></body></html>"
    ))
}

fn sim_router(state: SimState) -> Router {
    Router::new()
        .route("/", get(sim_page))
        .route("/-/ready", get(|| async { "ok" }))
        .route("/metrics", get(sim_metrics))
        .route("/api/pods", get(sim_list).put(sim_put_all))
        .route(
            "/api/pods/{namespace}/{pod}",
            put(sim_put).delete(sim_delete),
        )
        .route("/api/reset", post(sim_reset))
        .with_state(state)
}

async fn sim_metrics(State(st): State<SimState>) -> Response {
    let body = st.lock().unwrap_or_else(|e| e.into_inner()).render();
    let text = "text/plain; version=0.0.4; charset=utf-8";
    ([(header::CONTENT_TYPE, text)], body).into_response()
}

async fn sim_list(State(st): State<SimState>) -> Json<Vec<PodSpec>> {
    Json(st.lock().unwrap_or_else(|e| e.into_inner()).pods())
}

async fn sim_put_all(State(st): State<SimState>, Json(pods): Json<Vec<PodSpec>>) -> StatusCode {
    let mut c = st.lock().unwrap_or_else(|e| e.into_inner());
    for p in pods {
        c.put(p);
    }
    StatusCode::NO_CONTENT
}

async fn sim_put(
    State(st): State<SimState>,
    Path((namespace, pod)): Path<(String, String)>,
    Json(mut spec): Json<PodSpec>,
) -> StatusCode {
    spec.namespace = namespace;
    spec.name = pod;
    st.lock().unwrap_or_else(|e| e.into_inner()).put(spec);
    StatusCode::NO_CONTENT
}

async fn sim_delete(
    State(st): State<SimState>,
    Path((namespace, pod)): Path<(String, String)>,
) -> StatusCode {
    let mut cluster = st.lock().unwrap_or_else(|e| e.into_inner());
    if cluster.delete(&namespace, &pod) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

async fn sim_reset(State(st): State<SimState>) -> StatusCode {
    st.lock().unwrap_or_else(|e| e.into_inner()).reset();
    StatusCode::NO_CONTENT
}

async fn sim_page(State(st): State<SimState>) -> Html<String> {
    let mut rows = String::new();
    for p in st.lock().unwrap_or_else(|e| e.into_inner()).pods() {
        for c in &p.containers {
            rows.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2} / {}</td><td>{}</td></tr>",
                esc(&p.namespace),
                esc(&p.name),
                esc(&c.name),
                c.cpu_usage_cores,
                c.cpu_limit_cores
                    .map(|l| format!("{l:.2}"))
                    .unwrap_or_else(|| "none".into()),
                esc(c.waiting_reason.as_deref().unwrap_or("")),
            ));
        }
    }
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>dynalert lab: SIMULATED Kubernetes endpoint</title></head>\
<body style=\"font-family:sans-serif\"><h1>SIMULATED Kubernetes endpoint</h1><p>Not a cluster: this endpoint serves \
cAdvisor and kube-state-metrics series with their real names and labels, every one labelled <code>simulated=\"true\"</code>, \
so that scenarios B and C can run without Kubernetes. <a href=\"/metrics\">/metrics</a></p>\
<table border=1 cellpadding=3><tr><th>namespace</th><th>pod</th><th>container</th><th>CPU cores used / limit</th><th>waiting reason</th></tr>{rows}</table></body></html>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_front_sends_rules_and_alerts_to_vmalert_and_the_rest_to_victoriametrics() {
        let f = QueryFront {
            listen: "127.0.0.1:0".parse().unwrap(),
            query_backend: "http://vm".into(),
            rules_backend: "http://vmalert".into(),
        };
        assert_eq!(front_backend(&f, "/api/v1/rules"), "http://vmalert");
        assert_eq!(front_backend(&f, "/api/v1/alerts"), "http://vmalert");
        assert_eq!(front_backend(&f, "/api/v1/query"), "http://vm");
        assert_eq!(front_backend(&f, "/api/v1/query_range"), "http://vm");
        assert_eq!(front_backend(&f, "/api/v1/rules/extra"), "http://vm");
    }
}
