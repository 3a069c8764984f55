//! A hand-written SVG plot (no font or system dependencies): evaluation time per cycle, CPU per
//! cycle and RSS against the tenant count, one line per set and engine, log-log axes. Sets that
//! did not fit in memory have no point.

use std::fmt::Write as _;

use crate::rules::RulesReport;

const W: f64 = 460.0;
const H: f64 = 320.0;
const ML: f64 = 70.0;
const MR: f64 = 20.0;
const MT: f64 = 40.0;
const MB: f64 = 50.0;
const COLOURS: [&str; 4] = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd"];
const DASHES: [&str; 4] = ["", "6,3", "2,2", "8,2,2,2"];

struct Series {
    name: String,
    points: Vec<(f64, f64)>,
    /// Tenant counts at which the set did not fit in memory (drawn as a cross on the x axis).
    did_not_fit: Vec<(f64, &'static str)>,
}

/// Renders the three panels side by side.
pub fn rules_plot(r: &RulesReport) -> String {
    let mut names: Vec<String> = vec![];
    for size in &r.sizes {
        for x in &size.sets {
            if !names.contains(&x.set) {
                names.push(x.set.clone());
            }
        }
    }
    let series = |f: &dyn Fn(&crate::rules::SetResult) -> f64| -> Vec<Series> {
        names
            .iter()
            .map(|n| {
                let sets = r.sizes.iter().flat_map(|s| &s.sets).filter(|x| &x.set == n);
                Series {
                    name: n.clone(),
                    points: sets
                        .clone()
                        .filter(|x| x.stopped().is_none())
                        .map(|x| (x.tenants as f64, f(x)))
                        .filter(|(_, y)| *y > 0.0)
                        .collect(),
                    did_not_fit: sets
                        .filter_map(|x| x.stopped().map(|why| (x.tenants as f64, why)))
                        .collect(),
                }
            })
            .collect()
    };
    // Reports written before `cores` was recorded: assume this machine.
    let recorded = Some(r.cores).filter(|c| *c > 0);
    let cores = recorded.unwrap_or_else(crate::rules::available_cores);
    let eval = series(&|x| x.eval_ms_per_cycle);
    let cpu = series(&|x| x.cpu_cores * r.interval_s * 1000.0);
    let rss = series(&|x| x.rss_bytes / 1048576.0);
    let mut s = String::new();
    let (w, h) = (3.0 * W, H + 30.0);
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"11\">"
    );
    let _ = writeln!(s, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    // vmalert's sets count vmalert and VictoriaMetrics together.
    let mut sets = r.sizes.iter().flat_map(|z| &z.sets);
    let vmalert = sets.any(|x| x.set.starts_with("vmalert"));
    let who = if vmalert { "Engine" } else { "Prometheus" };
    panel(
        &mut s,
        0.0,
        "Evaluation time per cycle (ms, sum over groups)",
        &eval,
        Some((
            r.interval_s * 1000.0,
            format!("interval: {} s", r.interval_s),
        )),
    );
    panel(
        &mut s,
        W,
        &format!("{who} CPU per evaluation cycle (ms)"),
        &cpu,
        Some((
            r.interval_s * 1000.0 * cores as f64,
            format!("capacity: {cores} cores x {} s", r.interval_s),
        )),
    );
    panel(&mut s, 2.0 * W, &format!("{who} RSS (MiB)"), &rss, None);
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{} keys per tenant, {} - {}</text>",
        1.5 * W,
        H + 20.0,
        r.keys,
        xml(&r.prometheus_version),
        xml(&r.machine)
    );
    s.push_str("</svg>\n");
    s
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn decades(lo: f64, hi: f64) -> (f64, f64) {
    let a = lo.max(1e-3).log10().floor();
    let mut b = hi.max(1e-3).log10().ceil();
    if b <= a {
        b = a + 1.0;
    }
    (a, b)
}

fn panel(s: &mut String, x0: f64, title: &str, series: &[Series], hline: Option<(f64, String)>) {
    let all: Vec<(f64, f64)> = series.iter().flat_map(|x| x.points.clone()).collect();
    let (xmin, xmax) = all
        .iter()
        .map(|p| p.0)
        .chain(
            series
                .iter()
                .flat_map(|x| x.did_not_fit.iter().map(|p| p.0)),
        )
        .fold((f64::INFINITY, 0.0f64), |(a, b), x| (a.min(x), b.max(x)));
    let (mut ymin, mut ymax) = all.iter().fold((f64::INFINITY, 0.0f64), |(a, b), p| {
        (a.min(p.1), b.max(p.1))
    });
    if let Some((y, _)) = &hline {
        ymin = ymin.min(*y);
        ymax = ymax.max(*y);
    }
    if all.is_empty() {
        return;
    }
    let (xa, xb) = decades(xmin, xmax);
    let (ya, yb) = decades(ymin, ymax);
    let pw = W - ML - MR;
    let ph = H - MT - MB;
    let px = |x: f64| x0 + ML + (x.log10() - xa) / (xb - xa) * pw;
    let py = |y: f64| MT + ph - (y.log10() - ya) / (yb - ya) * ph;
    // The plot area's left edge, right edge and middle.
    let (left, right, mid) = (x0 + ML, x0 + ML + pw, x0 + ML + pw / 2.0);
    let _ = writeln!(
        s,
        "<text x=\"{mid}\" y=\"20\" text-anchor=\"middle\" font-size=\"13\">{}</text>",
        xml(title)
    );
    let _ = writeln!(
        s,
        "<rect x=\"{left}\" y=\"{MT}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#333\"/>"
    );
    for d in (xa as i32)..=(xb as i32) {
        let v = 10f64.powi(d);
        let x = px(v);
        let _ = writeln!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{MT}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            MT + ph,
            MT + ph + 15.0,
            fmt_num(v)
        );
    }
    for d in (ya as i32)..=(yb as i32) {
        let v = 10f64.powi(d);
        let y = py(v);
        let _ = writeln!(
            s,
            "<line x1=\"{left:.1}\" y1=\"{y:.1}\" x2=\"{right:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left - 5.0,
            y + 4.0,
            fmt_num(v)
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{mid}\" y=\"{}\" text-anchor=\"middle\">tenants</text>",
        H - 12.0
    );
    if let Some((v, label)) = hline {
        let y = py(v);
        let _ = writeln!(
            s,
            "<line x1=\"{left:.1}\" y1=\"{y:.1}\" x2=\"{right:.1}\" y2=\"{y:.1}\" stroke=\"#888\" stroke-dasharray=\"4,4\"/><text x=\"{:.1}\" y=\"{:.1}\" fill=\"#555\">{}</text>",
            left + 5.0,
            y - 4.0,
            xml(&label)
        );
    }
    for (i, ser) in series.iter().enumerate() {
        let c = COLOURS[i % COLOURS.len()];
        let dash = DASHES[i % DASHES.len()];
        let pts: Vec<String> = ser
            .points
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y)))
            .collect();
        let _ = writeln!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"/>",
            pts.join(" ")
        );
        for (x, y) in &ser.points {
            let _ = writeln!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{c}\"/>",
                px(*x),
                py(*y)
            );
        }
        for (x, why) in &ser.did_not_fit {
            // A cross above the x axis, one row per series: no figure, the engine was stopped.
            let (cx, cy) = (px(*x), MT + ph - 8.0 - 12.0 * i as f64);
            let _ = writeln!(
                s,
                "<path d=\"M{:.1},{:.1}l8,8m0,-8l-8,8\" stroke=\"{c}\" stroke-width=\"2\"/>",
                cx - 4.0,
                cy - 4.0
            );
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{c}\">{why}</text>",
                cx - 7.0,
                cy + 4.0
            );
        }
        let ly = MT + 14.0 + 14.0 * i as f64;
        let lx = left + 8.0;
        let _ = writeln!(
            s,
            "<line x1=\"{lx}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{c}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"/><text x=\"{}\" y=\"{}\">{}</text>",
            lx + 20.0,
            lx + 25.0,
            ly + 4.0,
            xml(&ser.name)
        );
    }
}

fn fmt_num(v: f64) -> String {
    if v >= 1.0 {
        let mut n = format!("{v:.0}");
        let mut i = n.len() as i32 - 3;
        while i > 0 {
            n.insert(i as usize, ',');
            i -= 3;
        }
        n
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{SetResult, SizeResult};

    fn set(name: &str, tenants: usize, rss_mib: f64, did_not_fit: Option<&str>) -> SetResult {
        SetResult {
            set: name.into(),
            tenants,
            keys: 20,
            rules: 127,
            groups: 5,
            rule_file_bytes: 1,
            promtool_check_s: 0.1,
            load_s: 0.2,
            eval_ms_per_cycle: 100.0,
            max_group_ms: 50.0,
            rule_eval_avg_us: 1.0,
            cpu_cores: 0.1,
            rss_bytes: rss_mib * 1048576.0,
            head_series: 1.0,
            us_per_tenant_key: 1.0,
            keeps_up: did_not_fit.is_none(),
            firing: 1,
            answers_match: did_not_fit.is_none(),
            steady: did_not_fit.is_none(),
            measured_s: 45.0,
            rule_costs_ms: Default::default(),
            did_not_fit: did_not_fit.map(String::from),
            wall_s: 60.0,
            ..SetResult::default()
        }
    }

    #[test]
    fn a_set_that_did_not_fit_is_a_cross_not_a_point() {
        let report = RulesReport {
            command: "test".into(),
            machine: "test".into(),
            prometheus_version: "test".into(),
            interval_s: 15.0,
            cores: 2,
            keys: 20,
            warm_cycles: 2,
            measure_cycles: 3,
            sizes: vec![
                SizeResult {
                    tenants: 1000,
                    expected_firing: 1,
                    sets: vec![set("dynamic/lean", 1000, 300.0, None)],
                    differences: vec![],
                    skipped: vec![],
                    load_average: String::new(),
                },
                SizeResult {
                    tenants: 100_000,
                    expected_firing: 1,
                    sets: vec![set("dynamic/lean", 100_000, 0.0, Some("memory"))],
                    differences: vec![],
                    skipped: vec![],
                    load_average: String::new(),
                },
            ],
        };
        let svg = rules_plot(&report);
        // One measured point per panel (three panels), the other size only as crosses.
        assert_eq!(svg.matches("<circle").count(), 3, "{svg}");
        assert_eq!(svg.matches("did not fit</text>").count(), 3, "{svg}");
        // The x axis reaches the size that did not fit.
        assert!(svg.contains(">100,000</text>"), "{svg}");
    }
}
