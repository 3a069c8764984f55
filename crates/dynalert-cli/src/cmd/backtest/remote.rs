//! Reading observations with Prometheus' remote read API instead of `query_range`: the raw
//! samples of the series an observation selects, streamed as XOR chunks, evaluated here with
//! the semantics of the PromQL the query path sends (`max by(tenant) (<selector> > <floor>)` at
//! every step of the grid).

use std::collections::BTreeMap;
use std::io::BufReader;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use dynalert_remote_read as rr;

use super::{FetchStats, Observations};

/// How an instant vector selector sees a series at step `t`: the latest sample in the lookback
/// window, unless that sample is a staleness marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookback {
    /// The window's length (Prometheus' `--query.lookback-delta`, 5 minutes by default).
    pub ms: i64,
    /// Whether a sample exactly `ms` before the step is still seen: `[t - ms, t]` in
    /// Prometheus 2, `(t - ms, t]` from Prometheus 3 on.
    pub closed: bool,
}

impl Default for Lookback {
    fn default() -> Self {
        Lookback {
            ms: 300_000,
            closed: true,
        }
    }
}

/// The matcher `name="value"`.
fn eq(name: &str, value: &str) -> rr::Matcher {
    rr::Matcher {
        kind: rr::MatchType::Eq,
        name: name.into(),
        value: value.into(),
    }
}

/// The matchers of an observation the remote path can evaluate: `max by(tenant) (<selector>)`
/// with a plain selector (no offset, `@` or `or` of matchers). `None` for any other shape,
/// which stays on `query_range`.
pub fn plain_selection(observation: &str) -> Option<Vec<rr::Matcher>> {
    use promql_parser::label::MatchOp;
    use promql_parser::parser::{token, Expr, LabelModifier};
    let mut e = promql_parser::parser::parse(observation).ok()?;
    while let Expr::Paren(p) = e {
        e = *p.expr;
    }
    let Expr::Aggregate(agg) = e else { return None };
    if agg.op.id() != token::T_MAX || agg.param.is_some() {
        return None;
    }
    match &agg.modifier {
        Some(LabelModifier::Include(l)) if l.labels == ["tenant"] => {}
        _ => return None,
    }
    let mut inner = *agg.expr;
    while let Expr::Paren(p) = inner {
        inner = *p.expr;
    }
    let Expr::VectorSelector(vs) = inner else {
        return None;
    };
    if vs.offset.is_some() || vs.at.is_some() || !vs.matchers.or_matchers.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    if let Some(name) = &vs.name {
        out.push(eq("__name__", name));
    }
    for m in &vs.matchers.matchers {
        if m.name == "__name__" && vs.name.is_some() && matches!(m.op, MatchOp::Equal) {
            continue;
        }
        let kind = match m.op {
            MatchOp::Equal => rr::MatchType::Eq,
            MatchOp::NotEqual => rr::MatchType::Neq,
            MatchOp::Re(_) => rr::MatchType::Re,
            MatchOp::NotRe(_) => rr::MatchType::Nre,
        };
        out.push(rr::Matcher {
            kind,
            name: m.name.clone(),
            value: m.value.clone(),
        });
    }
    if out.is_empty() {
        return None;
    }
    Some(out)
}

/// The step grid `from, from + step, …, ≤ to` in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Grid {
    pub from_ms: i64,
    pub last_ms: i64,
    pub step_ms: i64,
}

impl Grid {
    pub fn new(from: i64, to: i64, step: i64) -> Self {
        let last = from + (to - from).div_euclid(step) * step;
        Grid {
            from_ms: from * 1000,
            last_ms: last * 1000,
            step_ms: step * 1000,
        }
    }
}

/// The value of one tenant at a step: the maximum over its series, as PromQL's `max` has it (a
/// NaN gives way to any other value).
fn merge_max(slot: &mut f64, v: f64) {
    if slot.is_nan() || v > *slot {
        *slot = v;
    }
}

/// Evaluates one series' samples on the grid: every step at which the series' selected sample
/// is over `floor` (every step it is present, without a floor) gets that value, merged with
/// [`merge_max`] into `out` (step in seconds -> value). Samples must come in time order (a
/// repeated or earlier timestamp is ignored); call [`SeriesEval::finish`] after the last.
pub struct SeriesEval<'a> {
    grid: Grid,
    lookback: Lookback,
    floor: Option<f64>,
    prev: Option<(i64, f64)>,
    out: &'a mut BTreeMap<i64, f64>,
}

impl<'a> SeriesEval<'a> {
    pub fn new(
        grid: Grid,
        lookback: Lookback,
        floor: Option<f64>,
        out: &'a mut BTreeMap<i64, f64>,
    ) -> Self {
        SeriesEval {
            grid,
            lookback,
            floor,
            prev: None,
            out,
        }
    }

    pub fn push(&mut self, t: i64, v: f64) {
        if let Some((pt, pv)) = self.prev {
            if t <= pt {
                return;
            }
            self.cover(pt, pv, t);
        }
        self.prev = Some((t, v));
    }

    pub fn finish(mut self) {
        if let Some((pt, pv)) = self.prev.take() {
            self.cover(pt, pv, i64::MAX);
        }
    }

    /// The steps at which the sample `(s, v)` is the one selected: from `s` until the next
    /// sample (`next`, exclusive) or the end of the lookback window.
    fn cover(&mut self, s: i64, v: f64, next: i64) {
        if rr::is_stale(v)
            || self
                .floor
                .is_some_and(|f| v.partial_cmp(&f) != Some(std::cmp::Ordering::Greater))
        {
            return;
        }
        let g = self.grid;
        let window_end = if self.lookback.closed {
            s.saturating_add(self.lookback.ms)
        } else {
            s.saturating_add(self.lookback.ms - 1)
        };
        let hi = (next - 1).min(window_end).min(g.last_ms);
        let lo = s.max(g.from_ms);
        if hi < lo {
            return;
        }
        let k = (lo - g.from_ms + g.step_ms - 1).div_euclid(g.step_ms);
        let mut t = g.from_ms + k * g.step_ms;
        while t <= hi {
            let slot = self.out.entry(t / 1000).or_insert(f64::NAN);
            merge_max(slot, v);
            t += g.step_ms;
        }
    }
}

/// What the server told about remote read, from [`probe`].
#[derive(Debug, Clone)]
pub enum Probe {
    /// It streams XOR chunks; with its lookback semantics.
    Streams(Lookback),
    /// It does not (no remote read, or no streamed answers): why.
    Unsupported(String),
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(600))
        .build()
}

#[allow(clippy::result_large_err)]
fn post_read(
    agent: &ureq::Agent,
    prometheus: &str,
    queries: &[rr::Query],
) -> Result<ureq::Response, ureq::Error> {
    agent
        .post(&format!("{}/api/v1/read", prometheus.trim_end_matches('/')))
        .set("Content-Type", "application/x-protobuf")
        .set("Content-Encoding", "snappy")
        .set("X-Prometheus-Remote-Read-Version", "0.1.0")
        .send_bytes(&rr::snappy_block(&rr::read_request(queries)))
}

fn is_streamed(resp: &ureq::Response) -> bool {
    resp.header("Content-Type")
        .is_some_and(|c| c.starts_with("application/x-streamed-protobuf"))
}

fn get_json(agent: &ureq::Agent, url: &str) -> Option<serde_json::Value> {
    let body = agent.get(url).call().ok()?.into_string().ok()?;
    serde_json::from_str(&body).ok()
}

/// Asks `prometheus` whether it answers remote read with streamed XOR chunks (an empty query),
/// and reads its lookback (`--query.lookback-delta` from `/api/v1/status/flags`, 5 minutes when
/// not told) and its version (a window closed at its start before Prometheus 3).
pub fn probe(prometheus: &str) -> anyhow::Result<Probe> {
    let agent = agent();
    let q = rr::Query {
        start_ms: 0,
        end_ms: 0,
        matchers: vec![eq("__name__", "dynalert_backtest_probe")],
    };
    match post_read(&agent, prometheus, &[q]) {
        Ok(resp) if is_streamed(&resp) => {}
        Ok(resp) => {
            return Ok(Probe::Unsupported(format!(
                "`{prometheus}/api/v1/read` answered `{}`, not streamed chunks",
                resp.header("Content-Type").unwrap_or("")
            )))
        }
        Err(ureq::Error::Status(code, _)) => {
            return Ok(Probe::Unsupported(format!(
                "`{prometheus}/api/v1/read` answered {code}"
            )))
        }
        Err(e) => return Err(e).with_context(|| format!("remote read at `{prometheus}`")),
    }
    let base = prometheus.trim_end_matches('/');
    let mut lookback = Lookback::default();
    if let Some(v) = get_json(&agent, &format!("{base}/api/v1/status/flags")) {
        if let Some(ms) = v["data"]["query.lookback-delta"]
            .as_str()
            .and_then(|s| dynalert_model::duration::parse(s).ok())
            .and_then(|d| i64::try_from(d.as_millis()).ok())
            .filter(|ms| *ms > 0)
        {
            lookback.ms = ms;
        }
    }
    if let Some(v) = get_json(&agent, &format!("{base}/api/v1/status/buildinfo")) {
        if let Some(major) = v["data"]["version"]
            .as_str()
            .and_then(|s| s.split('.').next()?.parse::<u32>().ok())
        {
            lookback.closed = major < 3;
        }
    }
    Ok(Probe::Streams(lookback))
}

/// A series met in an earlier window: its group (the values of the `by` labels) and its last
/// sample.
struct SeriesState {
    group: Option<String>,
    prev: Option<(i64, f64)>,
}

/// The group of a series: the values of the `by` labels joined with NUL (the tenant alone for
/// `by = ["tenant"]`); `None` when one of them is missing or empty (PromQL's `max by` would
/// group it under an empty value, which no tenant or tier is).
fn group_of(s: &rr::ChunkedSeries<'_>, by: &[&str]) -> Option<String> {
    let mut out = String::new();
    for (i, l) in by.iter().enumerate() {
        let v = s.label(l).filter(|v| !v.is_empty())?;
        if i > 0 {
            out.push('\0');
        }
        out.push_str(v);
    }
    Some(out)
}

/// The observation of every tenant over the grid, read with remote read: tenant -> step ->
/// value, only the steps over `floor` when there is one (what `query_range` of
/// `max by(tenant) (<selector> > <floor>)` returns). The range is read in windows of
/// `window_ms` aligned to its multiples (`i64::MAX`: one request), in time order; a series'
/// last sample carries over to the next window. One request is the cheapest for Prometheus:
/// it looks every series up once per block it reads, whatever the window.
pub fn fetch(
    prometheus: &str,
    matchers: &[rr::Matcher],
    floor: Option<f64>,
    grid: (i64, i64, i64),
    lookback: Lookback,
    window_ms: i64,
    progress: &mut dyn FnMut(i64),
) -> anyhow::Result<(Observations, FetchStats)> {
    fetch_by(
        prometheus,
        matchers,
        &["tenant"],
        floor,
        grid,
        lookback,
        window_ms,
        progress,
    )
}

/// [`fetch`] of `max by(<by>) (<selector>)`: group -> step -> value, the group being the
/// values of the `by` labels joined with NUL.
#[allow(clippy::too_many_arguments)]
pub fn fetch_by(
    prometheus: &str,
    matchers: &[rr::Matcher],
    by: &[&str],
    floor: Option<f64>,
    (from, to, step): (i64, i64, i64),
    lookback: Lookback,
    window_ms: i64,
    progress: &mut dyn FnMut(i64),
) -> anyhow::Result<(Observations, FetchStats)> {
    let grid = Grid::new(from, to, step);
    let began = Instant::now();
    let agent = agent();
    let mut out: Observations = BTreeMap::new();
    let mut stats = FetchStats::default();
    let mut local = Duration::ZERO;
    let mut series: std::collections::HashMap<String, SeriesState> =
        std::collections::HashMap::new();
    let mut key = String::new();
    let (start_ms, end_ms) = (grid.from_ms - lookback.ms, grid.last_ms);
    let window_ms = window_ms.max(1);
    let mut w0 = start_ms;
    while w0 <= end_ms {
        let w1 = ((w0.div_euclid(window_ms) + 1) * window_ms - 1).min(end_ms);
        let query = rr::Query {
            start_ms: w0,
            end_ms: w1,
            matchers: matchers.to_vec(),
        };
        let resp = match post_read(&agent, prometheus, std::slice::from_ref(&query)) {
            Ok(r) => r,
            Err(ureq::Error::Status(code, r)) => {
                let body = r.into_string().unwrap_or_default();
                bail!(
                    "remote read at `{prometheus}` failed with {code}: {}",
                    body.trim()
                )
            }
            Err(e) => return Err(e).with_context(|| format!("remote read at `{prometheus}`")),
        };
        if !is_streamed(&resp) {
            bail!(
                "remote read at `{prometheus}` answered `{}`, not streamed chunks",
                resp.header("Content-Type").unwrap_or("")
            );
        }
        stats.queries += 1;
        stats.remote += 1;
        let mut frames = rr::Frames::new(
            BufReader::with_capacity(1 << 20, resp.into_reader()),
            1 << 28,
        );
        let fail = |e: rr::Error| anyhow::anyhow!("remote read at `{prometheus}`: {e}");
        while let Some(frame) = frames.next_frame().map_err(fail)? {
            let t0 = Instant::now();
            let msg = rr::chunked_read_response(frame).map_err(fail)?;
            for s in &msg.series {
                key.clear();
                for (n, v) in &s.labels {
                    key.push_str(n);
                    key.push('\0');
                    key.push_str(v);
                    key.push('\0');
                }
                if !series.contains_key(&key) {
                    let group = group_of(s, by);
                    series.insert(key.clone(), SeriesState { group, prev: None });
                }
                let Some(state) = series.get_mut(&key) else {
                    continue;
                };
                let Some(tenant) = &state.group else {
                    continue;
                };
                let values = match out.get_mut(tenant) {
                    Some(v) => v,
                    None => out.entry(tenant.clone()).or_default(),
                };
                let mut e = SeriesEval::new(grid, lookback, floor, values);
                e.prev = state.prev;
                for c in &s.chunks {
                    if c.encoding != rr::ENCODING_XOR {
                        bail!(
                            "remote read at `{prometheus}`: a chunk of encoding {} (native histograms are not supported)",
                            c.encoding
                        );
                    }
                    for sample in rr::xor_samples(c.data).map_err(fail)? {
                        let (t, v) = sample.map_err(fail)?;
                        stats.samples += 1;
                        e.push(t, v);
                    }
                }
                state.prev = e.prev;
            }
            local += t0.elapsed();
        }
        stats.bytes += frames.bytes;
        progress(if w1 >= end_ms {
            to
        } else {
            (w1 / 1000).max(from)
        });
        w0 = w1 + 1;
    }
    let t0 = Instant::now();
    for state in series.into_values() {
        let (Some(tenant), Some(prev)) = (state.group, state.prev) else {
            continue;
        };
        let values = out.entry(tenant).or_default();
        let mut e = SeriesEval::new(grid, lookback, floor, values);
        e.prev = Some(prev);
        e.finish();
    }
    // A tenant none of whose steps is over the floor: as absent as in a `query_range` answer.
    out.retain(|_, s| !s.is_empty());
    local += t0.elapsed();
    stats.points = out.values().map(BTreeMap::len).sum();
    stats.local = local;
    stats.prometheus = began.elapsed().saturating_sub(local);
    Ok((out, stats))
}

/// Series labels -> raw samples `(timestamp ms, value)`.
pub type RawSeries = BTreeMap<Vec<(String, String)>, Vec<(i64, f64)>>;

/// The raw samples of every series `matchers` select, as remote read streams them: labels ->
/// samples with a timestamp in `[start_ms, end_ms]` (chunks are whole, so they are trimmed).
pub fn read_raw(
    prometheus: &str,
    matchers: &[rr::Matcher],
    start_ms: i64,
    end_ms: i64,
) -> anyhow::Result<RawSeries> {
    let query = rr::Query {
        start_ms,
        end_ms,
        matchers: matchers.to_vec(),
    };
    let resp = post_read(&agent(), prometheus, &[query])
        .with_context(|| format!("remote read at `{prometheus}`"))?;
    if !is_streamed(&resp) {
        bail!("remote read at `{prometheus}`: not streamed chunks");
    }
    let mut frames = rr::Frames::new(BufReader::new(resp.into_reader()), 1 << 28);
    let mut out = RawSeries::new();
    while let Some(frame) = frames.next_frame().map_err(anyhow::Error::msg)? {
        for s in rr::chunked_read_response(frame)
            .map_err(anyhow::Error::msg)?
            .series
        {
            let labels = s
                .labels
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            let samples = out.entry(labels).or_default();
            for c in &s.chunks {
                for x in rr::xor_samples(c.data).map_err(anyhow::Error::msg)? {
                    let (t, v) = x.map_err(anyhow::Error::msg)?;
                    if (start_ms..=end_ms).contains(&t) {
                        samples.push((t, v));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// [`super::recorded`] read with remote read: the same thresholds served and `ALERTS` firing
/// intervals, evaluated here on the grid as the instant queries of `query_range` would
/// (`max by(tenant, severity)` of the latest sample within the lookback, no staleness marker).
#[allow(clippy::type_complexity)]
pub fn recorded(
    prometheus: &str,
    alerts: &[super::KeyAlert],
    (from, to, step): (i64, i64, i64),
    lookback: Lookback,
) -> anyhow::Result<(
    super::Served,
    BTreeMap<(String, String, dynalert_model::Severity), super::Firing>,
)> {
    use dynalert_model::Severity;
    let grid = (from, to, step);
    let read = |matchers: &[rr::Matcher], by: &[&str]| {
        let q = &mut |_| {};
        fetch_by(prometheus, matchers, by, None, grid, lookback, i64::MAX, q).map(|(o, _)| o)
    };
    let split = |group: &str| -> Option<(String, Severity)> {
        let (tenant, sev) = group.split_once('\0')?;
        Some((tenant.to_string(), Severity::parse(sev)?))
    };
    // `max by(tenant) (user_maintenance) == 1`
    let maintenance: BTreeMap<String, std::collections::BTreeSet<i64>> =
        read(&[eq("__name__", "user_maintenance")], &["tenant"])?
            .into_iter()
            .map(|(tenant, steps)| {
                let on = steps.into_iter().filter(|(_, v)| *v == 1.0).map(|(t, _)| t);
                (tenant, on.collect())
            })
            .collect();
    let mut thresholds: super::Served = BTreeMap::new();
    let mut firing: BTreeMap<(String, String, Severity), super::Firing> = BTreeMap::new();
    for a in alerts {
        let per = thresholds.entry(a.key.clone()).or_default();
        let name = format!("tenant:alert_threshold:{}", a.key);
        for (group, steps) in read(&[eq("__name__", &name)], &["tenant", "severity"])? {
            let Some((tenant, sev)) = split(&group) else {
                continue;
            };
            let paused = maintenance.get(&tenant);
            let segs = per.entry((tenant, sev)).or_default();
            super::extend_served(segs, steps, paused, step);
        }
        let Some(alert) = &a.alert else { continue };
        let matchers = [
            eq("__name__", "ALERTS"),
            eq("alertname", alert),
            eq("alertstate", "firing"),
        ];
        for (group, steps) in read(&matchers, &["tenant", "severity"])? {
            let Some((tenant, sev)) = split(&group) else {
                continue;
            };
            // A step with the alert in `ALERTS` is firing; the first step without it ends it.
            let f = super::replay_sparse(from, to, step, &steps, &|_| Some(0.0), 0);
            firing.insert((tenant, a.key.clone(), sev), f);
        }
    }
    Ok((thresholds, firing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_max_by_tenant_of_a_plain_selector_is_read_remotely() {
        let m =
            plain_selection(r#"max by (tenant) (mysql_up{job="db", env=~"prod|stage"})"#).unwrap();
        let env = rr::Matcher {
            kind: rr::MatchType::Re,
            ..eq("env", "prod|stage")
        };
        assert_eq!(m, vec![eq("__name__", "mysql_up"), eq("job", "db"), env]);
        for other in [
            "sum by (tenant) (rate(x[5m]))",
            "max by (tenant, cluster) (x)",
            "max without (pod) (x)",
            "max by (tenant) (x offset 5m)",
            "min by (tenant) (x)",
            "max by (tenant) (x) * 100",
            "x",
        ] {
            assert_eq!(plain_selection(other), None, "{other}");
        }
    }

    fn eval(samples: &[(i64, f64)], floor: Option<f64>, lookback: Lookback) -> Vec<(i64, f64)> {
        let mut out = BTreeMap::new();
        let mut e = SeriesEval::new(Grid::new(0, 1200, 60), lookback, floor, &mut out);
        for (t, v) in samples {
            e.push(t * 1000, *v);
        }
        e.finish();
        out.into_iter().collect()
    }

    #[test]
    fn a_sample_is_seen_until_the_next_one_a_stale_marker_or_the_end_of_the_lookback() {
        // The staleness rules of PromQL's instant selector, as Prometheus documents them: the
        // latest sample at or before the step within the lookback; a staleness marker hides
        // the series from its own timestamp on.
        let stale = f64::from_bits(rr::STALE_NAN_BITS);
        let samples = [(30, 1.0), (150, 2.0), (200, stale), (420, 3.0)];
        let got = eval(&samples, None, Lookback::default());
        let steps = |a: i64, b: i64, v: f64| (a..=b).step_by(60).map(move |t| (t, v));
        let want: Vec<(i64, f64)> = steps(60, 120, 1.0)
            .chain(steps(180, 180, 2.0))
            .chain(steps(420, 720, 3.0))
            .collect();
        assert_eq!(got, want);
        // Closed window: a sample exactly 300 s before the step is still seen (420 + 300).
        assert!(got.contains(&(720, 3.0)));
        let open = eval(
            &samples,
            None,
            Lookback {
                ms: 300_000,
                closed: false,
            },
        );
        assert_eq!(open.last(), Some(&(660, 3.0)));
        // With a floor, only the steps over it.
        assert_eq!(
            eval(&samples, Some(2.0), Lookback::default()),
            steps(420, 720, 3.0).collect::<Vec<_>>()
        );
    }
}
