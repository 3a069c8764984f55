//! Status pages for operators and tenants: `/`, `/tenants`, `/tenants/{id}`, `/config`,
//! each also as JSON under `/api/v1/…`.
//!
//! Pages are rendered on the server from the published snapshot only (no scripts, no
//! external assets) and sit behind the same TLS and basic auth as `/metrics`, since they are
//! routes of the same router. Every user value is escaped; receiver URLs and keys are never
//! shown, only the receiver type and a masked host.

mod catalogue;
pub mod html;
mod index;
mod prom;

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use dynalert_model::routing::{mask_url, Enforced, FieldKind, Receiver, Timings};
use dynalert_model::{effective_tenant, Config, Severity, TenantEffective, ValueState};
use serde::Serialize;
use serde_json::Value;

use crate::state::{AppState, Published};
pub use catalogue::{catalogue, packs, AlertRef, CatalogueKey};
use html::{badge, end_table, error_table, esc, table, url_enc, value};
pub use index::{Cache, Edge, Index, Row, StateCounts};

/// Rows per page of `/tenants`.
pub const PER_PAGE: usize = 100;
/// Longest list (edges, tenants in maintenance or silent mode) shown on `/`.
pub const LIST_CAP: usize = 200;

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn opt_ts(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "never".into(), ts)
}

/// The index of the published snapshot, built off the async threads when it is stale.
async fn index_of(state: &AppState, p: &Arc<Published>) -> Arc<Index> {
    let (st, config, at) = (state.clone(), p.config.clone(), p.at);
    tokio::task::spawn_blocking(move || st.status_cache.get(&config, at))
        .await
        .expect("index build does not panic")
}

// ---------------------------------------------------------------- `/` --------------------

/// One current error, split into location, message and hint.
#[derive(Debug, Serialize)]
pub struct ErrorDoc {
    pub location: String,
    pub message: String,
    pub hint: Option<String>,
}

fn error_doc(text: &str) -> ErrorDoc {
    let (head, hint) = text
        .split_once("\n  hint: ")
        .map_or((text, None), |(h, hint)| (h, Some(hint.to_string())));
    let (location, message) = head.split_once(": error: ").unwrap_or(("", head));
    ErrorDoc {
        location: location.to_string(),
        message: message.to_string(),
        hint,
    }
}

fn outcome(p: &Published) -> &'static str {
    let s = &p.status;
    if s.last_reload.is_none() {
        "pending"
    } else if s.last_reload_ok {
        "applied"
    } else if !s.platform_valid && s.errors.iter().any(|e| !e.contains(": error: ")) {
        "failed"
    } else if !s.platform_valid {
        "platform rejected"
    } else {
        "partly rejected"
    }
}

fn outcome_text(o: &str) -> &'static str {
    match o {
        "pending" => "no reload finished yet",
        "applied" => "every file applied",
        "failed" => "the directory could not be read; the last good configuration is served",
        "platform rejected" => {
            "platform files rejected; the whole last good configuration is served"
        }
        _ => "some tenant files rejected; they keep their last good configuration",
    }
}

/// A typed document as JSON, every object's keys sorted (through a [`Value`]).
fn json_response(doc: impl Serialize) -> Response {
    Json(serde_json::to_value(doc).expect("status documents serialize")).into_response()
}

/// `GET /api/v1/status`.
#[derive(Serialize)]
struct StatusDoc<'a> {
    version: &'static str,
    revision: &'static str,
    config_dir: &'a str,
    at: String,
    last_reload: LastReload,
    errors: Vec<ErrorDoc>,
    counts: Counts,
    edges: Vec<&'a Edge>,
    maintenance: Vec<&'a str>,
    silent: Vec<&'a str>,
}

#[derive(Serialize)]
struct LastReload {
    at: Option<String>,
    duration_seconds: Option<f64>,
    outcome: &'static str,
    last_success: Option<String>,
}

#[derive(Serialize)]
struct Counts {
    tenants_valid: usize,
    tenants_rejected: usize,
    series: usize,
    keys: usize,
}

fn status_doc<'a>(state: &'a AppState, p: &Published, ix: &'a Index) -> StatusDoc<'a> {
    let s = &p.status;
    let rejected = s.tenant_valid.values().filter(|v| !**v).count();
    let valid = p
        .config
        .tenants
        .keys()
        .filter(|id| s.tenant_valid.get(*id).copied().unwrap_or(true))
        .count();
    let horizon = p.at + Duration::hours(index::EDGE_HORIZON_HOURS);
    let edges: Vec<&Edge> = ix
        .edges
        .iter()
        .filter(|e| e.at > p.at && e.at <= horizon)
        .collect();
    let ids = |pick: fn(&Row) -> bool| -> Vec<&str> {
        let rows = ix.rows.iter().filter(|r| pick(r));
        rows.map(|r| r.tenant.as_str()).collect()
    };
    StatusDoc {
        version: crate::VERSION,
        revision: crate::REVISION,
        config_dir: &state.config_dir,
        at: ts(p.at),
        last_reload: LastReload {
            at: s.last_reload.map(ts),
            duration_seconds: s.last_reload_seconds,
            outcome: outcome(p),
            last_success: s.last_success.map(ts),
        },
        errors: s.errors.iter().map(|e| error_doc(e)).collect(),
        counts: Counts {
            tenants_valid: valid,
            tenants_rejected: rejected,
            series: p.body.series,
            keys: ix.keys,
        },
        edges,
        maintenance: ids(|r| r.maintenance),
        silent: ids(|r| r.silent),
    }
}

pub async fn api_status(State(state): State<AppState>) -> Response {
    let p = state.load();
    let ix = index_of(&state, &p).await;
    json_response(status_doc(&state, &p, &ix))
}

pub async fn page_status(State(state): State<AppState>) -> Response {
    let p = state.load();
    let ix = index_of(&state, &p).await;
    let d = status_doc(&state, &p, &ix);
    let s = &p.status;
    let mut h = String::with_capacity(8192);
    html::open(&mut h, "Status");
    let o = outcome(&p);
    let _ = writeln!(
        h,
        "<dl><dt>version</dt><dd>{} (revision {})</dd>\
<dt>config directory</dt><dd><code>{}</code></dd>\
<dt>last reload</dt><dd>{} {} ({}), took {}</dd>\
<dt>last fully applied</dt><dd>{}</dd>\
<dt>served snapshot</dt><dd>{}, hash <code>{}</code></dd>\
<dt>metrics</dt><dd><a href=\"{path}\">{path}</a></dd></dl>",
        esc(crate::VERSION),
        esc(crate::REVISION),
        esc(&state.config_dir),
        opt_ts(s.last_reload),
        badge(if o == "applied" { "ok" } else { "bad" }, o),
        outcome_text(o),
        s.last_reload_seconds
            .map_or("unknown".into(), |x| format!("{:.1} ms", x * 1000.0)),
        opt_ts(s.last_success),
        ts(p.at),
        esc(&p.body.hash),
        path = esc(&state.telemetry_path),
    );
    h.push_str("<h2>Counts</h2>\n");
    table(
        &mut h,
        "tenants, series and keys served",
        &["what", "count"],
    );
    let c = &d.counts;
    for (label, n) in [
        ("tenants valid", c.tenants_valid),
        ("tenants rejected", c.tenants_rejected),
        ("series", c.series),
        ("threshold keys", c.keys),
    ] {
        let _ = writeln!(
            h,
            "<tr><th scope=\"row\">{label}</th><td class=\"num\">{n}</td></tr>"
        );
    }
    end_table(&mut h);
    h.push_str("<h2>Current errors</h2>\n");
    if s.errors.is_empty() {
        h.push_str("<p>No current errors.</p>\n");
    } else {
        let docs: Vec<_> = s.errors.iter().map(|e| error_doc(e)).collect();
        error_table(
            &mut h,
            "errors of the last reload (file:line:col)",
            docs.iter()
                .map(|e| (e.location.as_str(), e.message.as_str(), e.hint.as_deref())),
        );
    }
    let _ = writeln!(
        h,
        "<h2>Schedule edges in the next {} h</h2>",
        index::EDGE_HORIZON_HOURS
    );
    let edges = &d.edges;
    if edges.is_empty() {
        h.push_str("<p>No scheduled change in the next 24 h.</p>\n");
    } else {
        table(
            &mut h,
            "upcoming changes of served values",
            &["at (UTC)", "tenant", "change"],
        );
        for e in edges.iter().take(LIST_CAP) {
            let tenant = &e.tenant;
            let changes: Vec<String> = e.changes.iter().map(|c| esc(c)).collect();
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td><a href=\"/tenants/{}\">{}</a></td><td>{}</td></tr>",
                esc(&e.at.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
                url_enc(tenant),
                esc(tenant),
                changes.join("<br>")
            );
        }
        end_table(&mut h);
        if edges.len() > LIST_CAP {
            let _ = writeln!(
                h,
                "<p>and {} more (all in <a href=\"/api/v1/status\">/api/v1/status</a>)</p>",
                edges.len() - LIST_CAP
            );
        }
    }
    for (title, key, ids, empty) in [
        (
            "Tenants in maintenance now",
            "maintenance",
            &d.maintenance,
            "No tenant is in maintenance.",
        ),
        (
            "Tenants in silent mode now",
            "silent",
            &d.silent,
            "No tenant is in silent mode.",
        ),
    ] {
        let _ = writeln!(h, "<h2>{title}</h2>");
        if ids.is_empty() {
            let _ = writeln!(h, "<p>{empty}</p>");
        } else {
            h.push_str("<ul>");
            for id in ids.iter().take(LIST_CAP) {
                let _ = write!(
                    h,
                    "<li><a href=\"/tenants/{}\">{}</a></li>",
                    url_enc(id),
                    esc(id)
                );
            }
            h.push_str("</ul>\n");
            if ids.len() > LIST_CAP {
                let _ = writeln!(
                    h,
                    "<p>and {} more: <a href=\"/tenants?state={key}\">all of them</a></p>",
                    ids.len() - LIST_CAP
                );
            }
        }
    }
    html::close(&mut h, "/api/v1/status");
    Html(h).into_response()
}

// ---------------------------------------------------------------- `/tenants` -------------

/// Query of `/tenants` and `/api/v1/tenants`.
#[derive(Debug, Default)]
pub struct ListQuery {
    pub q: String,
    pub state: String,
    pub page: Option<usize>,
}

/// Decodes `application/x-www-form-urlencoded` (`+` is a space, `%XX` a byte).
fn form_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl ListQuery {
    pub fn parse(query: Option<&str>) -> ListQuery {
        let mut q = ListQuery::default();
        for pair in query.unwrap_or("").split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = form_decode(v);
            match k {
                "q" => q.q = v.trim().to_string(),
                "state" => q.state = v,
                "page" => q.page = v.parse().ok().filter(|n| *n >= 1),
                _ => {}
            }
        }
        q
    }
}

/// States `?state=` accepts, with their labels.
const STATES: [(&str, &str); 5] = [
    ("", "any"),
    ("valid", "valid"),
    ("rejected", "rejected"),
    ("maintenance", "in maintenance"),
    ("silent", "in silent mode"),
];

/// A tenant row joined with its validity.
struct Listed<'a> {
    row: std::borrow::Cow<'a, Row>,
    valid: bool,
    /// A rejected tenant with no good version: nothing is served for it.
    serving: bool,
    /// When the current rejection was first seen.
    since: Option<DateTime<Utc>>,
}

fn listed<'a>(p: &Published, ix: &'a Index) -> Vec<Listed<'a>> {
    let valid = &p.status.tenant_valid;
    let mut out: Vec<Listed> = ix
        .rows
        .iter()
        .map(|r| Listed {
            valid: valid.get(&r.tenant).copied().unwrap_or(true),
            row: std::borrow::Cow::Borrowed(r),
            serving: true,
            since: p.status.rejected_since.get(&r.tenant).copied(),
        })
        .collect();
    let missing: Vec<&String> = valid
        .iter()
        .filter(|(id, ok)| !**ok && !ix.config.tenants.contains_key(*id))
        .map(|(id, _)| id)
        .collect();
    if !missing.is_empty() {
        for id in missing {
            out.push(Listed {
                row: std::borrow::Cow::Owned(Row {
                    tenant: id.clone(),
                    haystack: id.to_lowercase(),
                    ..Row::default()
                }),
                valid: false,
                serving: false,
                since: p.status.rejected_since.get(id).copied(),
            });
        }
        out.sort_by(|a, b| a.row.tenant.cmp(&b.row.tenant));
    }
    out
}

fn matches(l: &Listed, q: &ListQuery, needle: &str) -> bool {
    let state = match q.state.as_str() {
        "valid" => l.valid,
        "rejected" => !l.valid,
        "maintenance" => l.row.maintenance,
        "silent" => l.row.silent,
        _ => true,
    };
    state && (needle.is_empty() || l.row.haystack.contains(needle))
}

/// `GET /api/v1/tenants`.
#[derive(Serialize)]
struct TenantsDoc<'a> {
    at: String,
    total: usize,
    tenants: Vec<RowDoc<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pagination: Option<Pagination>,
}

#[derive(Serialize)]
struct Pagination {
    page: usize,
    per_page: usize,
    pages: usize,
}

/// One tenant of `/api/v1/tenants`.
#[derive(Serialize)]
struct RowDoc<'a> {
    #[serde(flatten)]
    row: &'a Row,
    valid: bool,
    rejected_since: Option<String>,
    serving: &'static str,
}

fn row_json<'a>(l: &'a Listed) -> RowDoc<'a> {
    let serving = match (l.serving, l.valid) {
        (false, _) => "nothing",
        (true, true) => "current file",
        (true, false) => "last good config",
    };
    RowDoc {
        row: &l.row,
        valid: l.valid,
        rejected_since: l.since.map(ts),
        serving,
    }
}

/// An optional instant as [`ts`] writes it (for `#[serde(serialize_with)]`).
fn ser_ts<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    t.map(ts).serialize(s)
}

/// `GET /api/v1/tenants`: every tenant (`tenant`, `file`, `valid` and the summary); with
/// `?page=` one page of [`PER_PAGE`]; `?q=` and `?state=` filter as on `/tenants`.
pub async fn api_tenants(State(state): State<AppState>, uri: Uri) -> Response {
    let p = state.load();
    let ix = index_of(&state, &p).await;
    let q = ListQuery::parse(uri.query());
    let needle = q.q.to_lowercase();
    let all = listed(&p, &ix);
    let hits: Vec<&Listed> = all.iter().filter(|l| matches(l, &q, &needle)).collect();
    let total = hits.len();
    let (skip, take) = q
        .page
        .map_or((0, total), |n| ((n - 1) * PER_PAGE, PER_PAGE));
    json_response(TenantsDoc {
        at: ts(p.at),
        total,
        tenants: hits
            .iter()
            .skip(skip)
            .take(take)
            .map(|l| row_json(l))
            .collect(),
        pagination: q.page.map(|n| Pagination {
            page: n,
            per_page: PER_PAGE,
            pages: total.div_ceil(PER_PAGE),
        }),
    })
}

fn page_link(q: &ListQuery, page: usize) -> String {
    let mut s = format!("/tenants?page={page}");
    if !q.q.is_empty() {
        let _ = write!(s, "&q={}", url_enc(&q.q));
    }
    if !q.state.is_empty() {
        let _ = write!(s, "&state={}", url_enc(&q.state));
    }
    esc(&s)
}

pub async fn page_tenants(State(state): State<AppState>, uri: Uri) -> Response {
    let p = state.load();
    let ix = index_of(&state, &p).await;
    let q = ListQuery::parse(uri.query());
    let needle = q.q.to_lowercase();
    let all = listed(&p, &ix);
    let hits: Vec<&Listed> = all.iter().filter(|l| matches(l, &q, &needle)).collect();
    let pages = hits.len().div_ceil(PER_PAGE).max(1);
    let page = q.page.unwrap_or(1).min(pages);
    let mut h = String::with_capacity(64 * 1024);
    html::open(&mut h, "Tenants");
    let _ = write!(
        h,
        "<form method=\"get\" action=\"/tenants\" role=\"search\">\
<label for=\"q\">search (id, owner, tier, namespace)<input id=\"q\" name=\"q\" type=\"search\" value=\"{}\"></label>\
<label for=\"state\">state<select id=\"state\" name=\"state\">",
        esc(&q.q)
    );
    for (v, label) in STATES {
        let _ = write!(
            h,
            "<option value=\"{v}\"{}>{label}</option>",
            if q.state == v { " selected" } else { "" }
        );
    }
    h.push_str("</select></label><button type=\"submit\">filter</button></form>\n");
    let _ = writeln!(
        h,
        "<p>{} of {} tenants match; page {page} of {pages}.</p>",
        hits.len(),
        all.len()
    );
    table(
        &mut h,
        "tenants (tiers counted per key and severity)",
        &[
            "tenant",
            "config",
            "tier",
            "owner",
            "namespaces",
            "custom",
            "default",
            "disabled",
            "maintenance",
            "silent",
        ],
    );
    for l in hits.iter().skip((page - 1) * PER_PAGE).take(PER_PAGE) {
        let r = &l.row;
        let cfg = if !l.serving {
            badge("bad", "rejected: nothing served")
        } else if l.valid {
            badge("ok", "valid")
        } else {
            badge("bad", "rejected: last good served")
        } + &l
            .since
            .map(|t| format!(" <span class=\"mute\">since {}</span>", ts(t)))
            .unwrap_or_default();
        let c = &r.tiers;
        let _ = writeln!(
            h,
            "<tr><td><a href=\"/tenants/{}\">{}</a></td><td>{cfg}</td><td>{}</td><td>{}</td><td>{}</td>\
<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            url_enc(&r.tenant),
            esc(&r.tenant),
            esc(r.tier.as_deref().unwrap_or("none")),
            esc(r.owner.as_deref().unwrap_or("")),
            esc(&r.namespaces.join(", ")),
            c.custom + c.scheduled,
            c.default + c.expired,
            c.disabled,
            if r.maintenance { badge("warn", "in maintenance") } else { "no".into() },
            if r.silent { badge("warn", "silent") } else { "no".into() },
        );
    }
    end_table(&mut h);
    h.push_str("<nav aria-label=\"pages of tenants\"><p>");
    if page > 1 {
        let _ = write!(
            h,
            "<a href=\"{}\" rel=\"prev\">previous page</a> ",
            page_link(&q, page - 1)
        );
    }
    if page < pages {
        let _ = write!(
            h,
            "<a href=\"{}\" rel=\"next\">next page</a>",
            page_link(&q, page + 1)
        );
    }
    h.push_str("</p></nav>\n");
    html::close(&mut h, "/api/v1/tenants?page=1");
    Html(h).into_response()
}

// ---------------------------------------------------------------- `/tenants/{id}` --------

/// `scheme://host[:port]` of a receiver, or its mail relay host; never a path, user or key.
fn masked_host(r: &Receiver) -> String {
    for spec in r.kind.fields() {
        let Some(text) = r.fields.get(spec.name).and_then(Value::as_str) else {
            continue;
        };
        if spec.kind == FieldKind::Url {
            let m = mask_url(text);
            return m.strip_suffix("/<secret>").unwrap_or(&m).to_string();
        }
        if spec.name == "smarthost" {
            let host = text.rsplit('@').next().unwrap_or_default();
            return host.to_string();
        }
    }
    String::new()
}

/// A receiver as the status pages show it: its type and masked host.
#[derive(Serialize)]
struct ReceiverDoc {
    #[serde(rename = "type")]
    kind: &'static str,
    host: String,
}

fn receiver_json(r: &Receiver) -> ReceiverDoc {
    ReceiverDoc {
        kind: r.kind.as_str(),
        host: masked_host(r),
    }
}

/// The routing summary of a tenant: receiver types and masked hosts, platform receiver names.
#[derive(Serialize)]
struct RoutingDoc {
    receiver: Option<ReceiverDoc>,
    group_by: Option<Vec<String>>,
    timings: Option<Timings>,
    overrides: Vec<OverrideDoc>,
    platform_default_receiver: Option<String>,
    tier_receiver: Option<Enforced>,
    enforced: Option<Enforced>,
}

#[derive(Serialize)]
struct OverrideDoc {
    alertname: Option<String>,
    severity: Option<Severity>,
    receiver: ReceiverDoc,
}

fn routing_doc(
    config: &Config,
    e: &TenantEffective,
    tenant: &dynalert_model::Tenant,
) -> RoutingDoc {
    let platform = config.platform.routing.as_ref();
    let tier_route = platform.and_then(|r| e.tier.as_ref().and_then(|t| r.tiers.get(t)));
    let own = tenant.routing.as_ref();
    RoutingDoc {
        receiver: own.and_then(|r| r.receiver.as_ref()).map(receiver_json),
        group_by: own.and_then(|r| r.group_by.clone()),
        timings: own.map(|r| r.timings.clone()),
        overrides: own
            .map(|r| {
                r.overrides
                    .iter()
                    .map(|o| OverrideDoc {
                        alertname: o.matches.alertname.clone(),
                        severity: o.matches.severity,
                        receiver: receiver_json(&o.receiver),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        platform_default_receiver: platform.map(|r| r.default_receiver.clone()),
        tier_receiver: tier_route.map(|t| Enforced {
            receiver: t.receiver.clone(),
            severities: t.severities.clone(),
        }),
        enforced: platform.and_then(|r| r.enforced.as_ref()).cloned(),
    }
}

fn tenant_errors(p: &Published, id: &str, file: &str) -> Vec<ErrorDoc> {
    let by_name = format!("/{id}.yaml:");
    p.status
        .errors
        .iter()
        .filter(|e| {
            (!file.is_empty() && e.starts_with(&format!("{file}:")))
                || e.lines().next().is_some_and(|l| l.contains(&by_name))
        })
        .map(|e| error_doc(e))
        .collect()
}

/// `GET /api/v1/tenants/{id}`: the document of `dynalert effective --format json` for one
/// tenant, plus status fields (only those that apply to a tenant with nothing served).
#[derive(Serialize, Default)]
struct TenantDoc {
    at: String,
    tenants: Vec<TenantEffective>,
    tenant: String,
    valid: bool,
    serving: &'static str,
    rejected_since: Option<String>,
    errors: Vec<ErrorDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_change: Option<NextChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    routing: Option<RoutingDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prometheus: Option<Observation>,
}

#[derive(Serialize)]
struct NextChange {
    at: Option<String>,
    changes: Vec<String>,
}

/// What `--prometheus.url` answered about the tenant's keys.
#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum Observation {
    Keys(Vec<dynalert_lab::inspect::KeyView>),
    Error(String),
}

fn tenant_view(p: &Published, id: &str) -> Option<TenantDoc> {
    let valid = p.status.tenant_valid.get(id).copied();
    let Some(t) = p.config.tenants.get(id) else {
        // Rejected before any version was accepted: nothing is served.
        return (valid == Some(false)).then(|| TenantDoc {
            at: ts(p.at),
            tenant: id.to_string(),
            serving: "nothing",
            rejected_since: p.status.rejected_since.get(id).copied().map(ts),
            errors: tenant_errors(p, id, ""),
            ..TenantDoc::default()
        });
    };
    let e = effective_tenant(&p.config.platform, t, p.at);
    let next = e
        .next_change
        .map(|at| index::diff(&e, &effective_tenant(&p.config.platform, t, at)))
        .unwrap_or_default();
    let valid = valid.unwrap_or(true);
    Some(TenantDoc {
        at: ts(p.at),
        tenant: id.to_string(),
        valid,
        serving: if valid {
            "current file"
        } else {
            "last good config"
        },
        rejected_since: p.status.rejected_since.get(id).copied().map(ts),
        errors: tenant_errors(p, id, &t.file),
        next_change: Some(NextChange {
            at: e.next_change.map(ts),
            changes: next,
        }),
        routing: Some(routing_doc(&p.config, &e, t)),
        tenants: vec![e],
        prometheus: None,
    })
}

fn unknown(id: &str) -> Response {
    let id = dynalert_config::yaml::quote(id);
    (StatusCode::NOT_FOUND, format!("unknown tenant {id}\n")).into_response()
}

type Observed = Option<Result<Vec<dynalert_lab::inspect::KeyView>, String>>;

/// Asks `--prometheus.url` (if given) about the tenant's keys and adds the answer to the
/// document as `prometheus: {keys}` or `prometheus: {error}`.
async fn observe(state: &AppState, v: &mut TenantDoc) -> Observed {
    let url = state.prometheus_url.clone()?;
    let e = v.tenants.first()?.clone();
    let task = tokio::task::spawn_blocking(move || prom::observe(&url, &e));
    let r = match tokio::time::timeout(prom::TIMEOUT, task).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => Err("the Prometheus query failed".into()),
        Err(_) => Err(format!(
            "Prometheus did not answer within {} s",
            prom::TIMEOUT.as_secs()
        )),
    };
    v.prometheus = Some(match &r {
        Ok(keys) => Observation::Keys(keys.clone()),
        Err(e) => Observation::Error(e.clone()),
    });
    Some(r)
}

/// `GET /api/v1/tenants/{id}`: the document of `dynalert effective --format json` for one
/// tenant, extended with validity, errors, the next change and the masked routing summary.
pub async fn api_tenant(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let p = state.load();
    match tenant_view(&p, &id) {
        Some(mut v) => {
            observe(&state, &mut v).await;
            json_response(v)
        }
        None => unknown(&id),
    }
}

fn link_or_text(url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        format!("<a href=\"{0}\" rel=\"noreferrer\">{0}</a>", esc(url))
    } else {
        esc(url)
    }
}

fn receiver_text(r: Option<&ReceiverDoc>) -> String {
    let Some(r) = r else {
        return "none (platform routing)".into();
    };
    let mut text = esc(r.kind);
    if !r.host.is_empty() {
        let _ = write!(text, " to <code>{}</code>", esc(&r.host));
    }
    text
}

pub async fn page_tenant(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let p = state.load();
    let json = format!("/api/v1/tenants/{}", url_enc(&id));
    let done = |mut h: String| {
        html::close(&mut h, &json);
        h
    };
    let Some(mut v) = tenant_view(&p, &id) else {
        let mut h = String::new();
        html::open(&mut h, "Unknown tenant");
        let _ = writeln!(
            h,
            "<p>No tenant <code>{}</code> is configured. <a href=\"/tenants\">All tenants</a>.</p>",
            esc(&id)
        );
        return (StatusCode::NOT_FOUND, Html(done(h))).into_response();
    };
    let observed = observe(&state, &mut v).await;
    let d = &v;
    let mut h = String::with_capacity(16 * 1024);
    html::open(&mut h, &format!("Tenant {id}"));
    let valid = d.valid;
    let _ = writeln!(
        h,
        "<p>{}{} as of {}</p>",
        if valid {
            badge("ok", "valid: the current file is served")
        } else if !v.tenants.is_empty() {
            badge("bad", "rejected: the last good config is served")
        } else {
            badge("bad", "rejected: nothing is served")
        },
        d.rejected_since
            .as_deref()
            .map(|t| format!(" since {}", esc(t)))
            .unwrap_or_default(),
        ts(p.at)
    );
    let errors = &d.errors;
    if !errors.is_empty() {
        h.push_str("<h2>Errors of the current file</h2>\n");
        error_table(
            &mut h,
            "why the file is rejected",
            errors
                .iter()
                .map(|e| (e.location.as_str(), e.message.as_str(), e.hint.as_deref())),
        );
    }
    let Some(e) = v.tenants.first() else {
        return Html(done(h)).into_response();
    };
    let _ = writeln!(
        h,
        "<dl><dt>file</dt><dd><code>{}</code></dd><dt>tier</dt><dd>{}</dd><dt>owner</dt><dd>{}</dd>\
<dt>runbook</dt><dd>{}</dd><dt>namespaces</dt><dd>{}</dd>\
<dt>maintenance</dt><dd>{}</dd><dt>silent mode</dt><dd>{}</dd><dt>next change</dt><dd>{}</dd></dl>",
        esc(&e.file),
        esc(e.tier.as_deref().unwrap_or("none")),
        esc(e.owner.as_deref().unwrap_or("none")),
        e.runbook_url.as_deref().map_or("none".into(), link_or_text),
        esc(&e.namespaces.join(", ")),
        match &e.maintenance {
            Some(m) if m.active => format!(
                "{} {} (<code>{}</code>)",
                badge("warn", "active"),
                esc(m.reason.as_deref().unwrap_or("")),
                esc(&m.source)
            ),
            Some(m) => format!("not active now (<code>{}</code>)", esc(&m.source)),
            None => "none".into(),
        },
        match &e.silent_mode {
            Some(s) if s.active => format!(
                "{} {} until {} (<code>{}</code>)",
                badge(
                    "warn",
                    &format!(
                        "muting {}",
                        s.severities.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                    )
                ),
                esc(s.reason.as_deref().unwrap_or("")),
                s.expires.map_or("no expiry".into(), ts),
                esc(&s.source)
            ),
            Some(s) => format!("expired (<code>{}</code>)", esc(&s.source)),
            None => "none".into(),
        },
        match e.next_change {
            Some(at) => {
                let next = v.next_change.as_ref().map(|n| n.changes.join("; "));
                format!("{}: {}", ts(at), esc(&next.unwrap_or_default()))
            }
            None => "none scheduled".into(),
        },
    );
    h.push_str("<h2>Effective thresholds</h2>\n");
    if let Some(Err(err)) = &observed {
        let _ = writeln!(
            h,
            "<p>{} {}</p>",
            badge("warn", "no observations"),
            esc(err)
        );
    }
    let views = observed.as_ref().and_then(|o| o.as_ref().ok());
    let mut headers = vec![
        "key",
        "tier",
        "value",
        "state",
        "source",
        "platform default",
    ];
    if views.is_some() {
        headers.extend(["observed", "alert"]);
    }
    table(
        &mut h,
        "every key and tier: the value served, why, and where it came from",
        &headers,
    );
    let platform = &p.config.platform;
    for k in &e.keys {
        let default_tiers = platform
            .defaults
            .iter()
            .find(|(pk, _)| pk.to_string() == k.key);
        for t in &k.tiers {
            let class = match t.state {
                ValueState::Custom | ValueState::Scheduled => "info",
                ValueState::Default => "ok",
                ValueState::Disabled => "mute",
                ValueState::Expired => "warn",
            };
            let mut state = badge(class, index::state_name(t.state));
            if let Some(x) = t.expires {
                let _ = write!(state, " expires {}", ts(x));
            }
            let chain = default_tiers
                .and_then(|(_, tiers)| tiers.get(&t.severity))
                .map_or("none (tenant key)".to_string(), |d| {
                    format!(
                        "{} (<code>{}</code>)",
                        value(d.default),
                        esc(&d.source.to_string())
                    )
                });
            let seen = views.map(|views| {
                let kv = views.iter().find(|kv| kv.key == k.key);
                let observed = kv
                    .and_then(|kv| kv.observed)
                    .map_or("none".to_string(), |x| x.to_string());
                let alert = kv.map_or("no series (dimensional row)".to_string(), |kv| {
                    let state = kv
                        .tiers
                        .iter()
                        .find(|x| x.severity == t.severity.as_str())
                        .map_or("inactive", |x| x.alert_state.as_str());
                    let class = match state {
                        "firing" => "bad",
                        "pending" => "warn",
                        _ => "mute",
                    };
                    format!(
                        "{} {}",
                        esc(kv.alertname.as_deref().unwrap_or("no alert")),
                        badge(class, state)
                    )
                });
                format!("<td class=\"num\">{}</td><td>{alert}</td>", esc(&observed))
            });
            let _ = writeln!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td>{state}</td><td><code>{}</code></td><td>{chain}</td>{}</tr>",
                esc(&k.key),
                t.severity.as_str(),
                value(t.value),
                esc(&t.source.to_string()),
                seen.unwrap_or_default(),
            );
        }
    }
    end_table(&mut h);
    if let Some(views) = views {
        let problems: Vec<String> = views
            .iter()
            .flat_map(|kv| kv.problems.iter().map(move |p| format!("{} {p}", kv.key)))
            .collect();
        h.push_str("<h2>Configuration and Prometheus</h2>\n");
        if problems.is_empty() {
            h.push_str("<p>Every replica serves and every recording rule holds the configured thresholds.</p>\n");
        } else {
            h.push_str("<ul>");
            for p in problems {
                let _ = write!(h, "<li>{}</li>", esc(&p));
            }
            h.push_str("</ul>\n");
        }
    }
    if !e.state_filters.is_empty() {
        h.push_str("<h2>State filters</h2>\n");
        table(
            &mut h,
            "pod state alerts",
            &["filter", "severity", "enabled", "source"],
        );
        for f in &e.state_filters {
            let _ =
                writeln!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                esc(&f.filter),
                f.severity.as_str(),
                if f.enabled { badge("ok", "enabled") } else { badge("mute", "disabled") },
                esc(&f.source)
            );
        }
        end_table(&mut h);
    }
    let Some(r) = &d.routing else {
        return Html(done(h)).into_response();
    };
    let route = |x: &Option<Enforced>| {
        x.as_ref().map_or("none".into(), |x| {
            let sevs: Vec<&str> = x.severities.iter().map(|s| s.as_str()).collect();
            format!(
                "<code>{}</code> for {}",
                esc(&x.receiver),
                esc(&sevs.join(", "))
            )
        })
    };
    h.push_str("<h2>Routing</h2>\n<p class=\"mute\">Receiver URLs, keys and passwords are never shown: only the receiver type and host.</p>\n");
    let _ = writeln!(
        h,
        "<dl><dt>receiver</dt><dd>{}</dd><dt>group by</dt><dd>{}</dd>\
<dt>tier receiver</dt><dd>{}</dd><dt>enforced copy</dt><dd>{}</dd><dt>platform default</dt><dd>{}</dd></dl>",
        receiver_text(r.receiver.as_ref()),
        r.group_by
            .as_ref()
            .map_or("platform default".into(), |g| esc(&g.join(", "))),
        route(&r.tier_receiver),
        route(&r.enforced),
        esc(r.platform_default_receiver.as_deref().unwrap_or("none")),
    );
    if !r.overrides.is_empty() {
        table(
            &mut h,
            "routing overrides",
            &["alertname", "severity", "receiver"],
        );
        for o in &r.overrides {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(o.alertname.as_deref().unwrap_or("any")),
                esc(o.severity.map_or("any", Severity::as_str)),
                receiver_text(Some(&o.receiver))
            );
        }
        end_table(&mut h);
    }
    Html(done(h)).into_response()
}

// ---------------------------------------------------------------- `/config` --------------

/// `GET /api/v1/config`.
#[derive(Serialize)]
struct ConfigDoc<'a> {
    at: String,
    packs: &'a [String],
    pack_errors: &'a [String],
    keys: Vec<CatalogueKey>,
    state_filters: Vec<StateFilterDoc<'a>>,
    routing_tiers: Vec<&'a String>,
}

#[derive(Serialize)]
struct StateFilterDoc<'a> {
    filter: &'a str,
    reasons: &'a [String],
    severity: Severity,
    source: String,
}

pub async fn api_config(State(state): State<AppState>) -> Response {
    let p = state.load();
    let packs = packs();
    let platform = &p.config.platform;
    json_response(ConfigDoc {
        at: ts(p.at),
        packs: &packs.names,
        pack_errors: &packs.errors,
        keys: catalogue(platform),
        state_filters: platform
            .state_filters
            .iter()
            .map(|(name, f)| StateFilterDoc {
                filter: name,
                reasons: &f.reasons,
                severity: f.severity,
                source: f.source.to_string(),
            })
            .collect(),
        routing_tiers: platform
            .routing
            .as_ref()
            .map(|r| r.tiers.keys().collect())
            .unwrap_or_default(),
    })
}

pub async fn page_config(State(state): State<AppState>) -> Response {
    let p = state.load();
    let platform = &p.config.platform;
    let mut h = String::with_capacity(16 * 1024);
    html::open(&mut h, "Key catalogue");
    let packs = packs();
    let _ = writeln!(
        h,
        "<p>Keys of the platform files, their default tiers, and the alerts of the rule packs \
built into this exporter ({}) that read them. An unarmed key has no alert.</p>",
        esc(&packs.names.join(", "))
    );
    table(
        &mut h,
        "platform catalogue",
        &[
            "key",
            "kind",
            "defaults",
            "dimensions",
            "alerts reading it",
            "armed",
            "source",
        ],
    );
    for k in catalogue(platform) {
        let defaults: Vec<String> = k
            .defaults
            .iter()
            .map(|(s, v)| format!("{} {}", s.as_str(), value(*v)))
            .collect();
        let alerts: Vec<String> = k
            .alerts
            .iter()
            .map(|a| {
                format!(
                    "{} <span class=\"mute\">({})</span>",
                    esc(&a.alert),
                    esc(&a.pack)
                )
            })
            .collect();
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            esc(&k.key),
            k.kind,
            if defaults.is_empty() { "none (optional)".into() } else { esc(&defaults.join(", ")) },
            esc(&k.dimensions.join(", ")),
            if alerts.is_empty() { "none".into() } else { alerts.join("<br>") },
            if k.armed { badge("ok", "armed") } else { badge("bad", "unarmed") },
            esc(&k.source),
        );
    }
    end_table(&mut h);
    if !platform.state_filters.is_empty() {
        h.push_str("<h2>State filters</h2>\n");
        table(
            &mut h,
            "pod state alerts",
            &["filter", "reasons", "severity", "source"],
        );
        for (name, f) in &platform.state_filters {
            let _ = writeln!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                esc(name),
                esc(&f.reasons.join(", ")),
                f.severity.as_str(),
                esc(&f.source.to_string())
            );
        }
        end_table(&mut h);
    }
    html::close(&mut h, "/api/v1/config");
    Html(h).into_response()
}
