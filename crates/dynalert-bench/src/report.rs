//! Text table, JSON and SVG output of the benchmarks, and the verdict against the targets.

use std::fmt::Write as _;
use std::path::Path;

use crate::exporter::ExporterReport;
use crate::rules::RulesReport;
use crate::Result;

/// Writes `<name>.json` and `<name>.txt` (`table`) into `out`.
fn write_report(
    out: &Path,
    name: &str,
    report: &impl serde::Serialize,
    table: String,
) -> Result<()> {
    fs_err::create_dir_all(out)?;
    let json = serde_json::to_string_pretty(report).unwrap_or_default();
    fs_err::write(out.join(format!("{name}.json")), json + "\n")?;
    fs_err::write(out.join(format!("{name}.txt")), table)?;
    Ok(())
}

/// Writes `rules.json`, `rules.txt` and `rules.svg` into `out`.
pub fn write_rules(report: &RulesReport, out: &Path) -> Result<()> {
    write_report(out, "rules", report, rules_table(report))?;
    fs_err::write(out.join("rules.svg"), crate::svg::rules_plot(report))?;
    Ok(())
}

/// Writes `exporter.json` and `exporter.txt` into `out`.
pub fn write_exporter(report: &ExporterReport, out: &Path) -> Result<()> {
    write_report(out, "exporter", report, exporter_table(report))
}

fn mib(b: f64) -> String {
    format!("{:.0}", b / 1048576.0)
}

/// The `bench rules` table, one row per tenant count and rule set, then ratios and targets.
pub fn rules_table(r: &RulesReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "command: {}", r.command);
    let _ = writeln!(s, "machine: {}", r.machine);
    let _ = writeln!(
        s,
        "prometheus: {}; {} keys per tenant; interval {}s; {} warm-up + {} measured cycles",
        r.prometheus_version, r.keys, r.interval_s, r.warm_cycles, r.measure_cycles
    );
    let _ = writeln!(s);
    let header = [
        "tenants",
        "set",
        "rules",
        "groups",
        "check s",
        "load s",
        "eval ms",
        "max grp ms",
        "missed",
        "cpu ms",
        "rss MiB",
        "us/t*k",
        "firing",
        "answers",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for size in &r.sizes {
        for x in &size.sets {
            if let Some(what) = x.stopped() {
                let mut row = vec![x.tenants.to_string(), x.set.clone(), x.rules.to_string()];
                row.extend(["-", "-", "-", what].map(String::from));
                row.extend(std::iter::repeat_n("-".to_string(), 7));
                rows.push(row);
                continue;
            }
            // Groups overlap and wait for CPU: the sum of their wall times is no cost.
            let (eval, per_key) = if x.missed > 0.0 {
                ("saturated".to_string(), "-".to_string())
            } else {
                let eval = format!("{:.1}", x.eval_ms_per_cycle);
                (eval, format!("{:.2}", x.us_per_tenant_key))
            };
            rows.push(vec![
                x.tenants.to_string(),
                x.set.clone(),
                x.rules.to_string(),
                x.groups.to_string(),
                format!("{:.2}", x.promtool_check_s),
                format!("{:.2}", x.load_s),
                eval,
                format!("{:.1}", x.max_group_ms),
                format!("{:.0}", x.missed),
                format!("{:.0}", x.cpu_cores * r.interval_s * 1000.0),
                mib(x.rss_bytes),
                per_key,
                format!("{}/{}", x.firing, size.expected_firing),
                if x.answers_match {
                    "same"
                } else if !x.steady {
                    "incomplete"
                } else {
                    "DIFFER"
                }
                .to_string(),
            ]);
        }
    }
    push_columns(&mut s, &rows, Some(1));
    let _ = writeln!(s);
    for size in &r.sizes {
        let per = size.sets.iter().find(|x| x.set == "per-tenant");
        for d in size.sets.iter().filter(|x| x.set.starts_with("dynamic")) {
            if let Some(p) = per {
                let _ = writeln!(
                    s,
                    "{} tenants: {} / per-tenant: evaluation time {:.2}, CPU {:.2}; RSS {:+.0} MiB, load {:.2} s vs {:.2} s; per-tenant keeps up: {}, {} keeps up: {}",
                    size.tenants,
                    d.set,
                    d.eval_ms_per_cycle / p.eval_ms_per_cycle.max(1e-9),
                    d.cpu_cores / p.cpu_cores.max(1e-9),
                    (d.rss_bytes - p.rss_bytes) / 1048576.0,
                    d.load_s,
                    p.load_s,
                    yes(p.keeps_up),
                    d.set,
                    yes(d.keeps_up)
                );
            }
        }
    }
    for size in &r.sizes {
        for d in size.sets.iter().filter(|x| !x.rule_costs_ms.is_empty()) {
            let parts: Vec<String> = d
                .rule_costs_ms
                .iter()
                .map(|(k, v)| format!("{k} {v:.1} ms"))
                .collect();
            let _ = writeln!(
                s,
                "{} tenants, {}: last evaluation by kind of rule: {}",
                size.tenants,
                d.set,
                parts.join(", ")
            );
        }
    }
    for size in &r.sizes {
        if !size.load_average.is_empty() {
            let _ = writeln!(
                s,
                "{} tenants: load average at start {}; at the end of each set: {}",
                size.tenants,
                size.load_average,
                size.sets
                    .iter()
                    .map(|x| format!("{} {}", x.set, x.load_average))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        for why in &size.skipped {
            let _ = writeln!(s, "{} tenants, {why}", size.tenants);
        }
        for x in &size.sets {
            if let Some(why) = &x.did_not_fit {
                let _ = writeln!(s, "{} tenants, {}: did not fit: {why}", size.tenants, x.set);
            }
            if let Some(why) = &x.not_scraped {
                let _ = writeln!(s, "{} tenants, {}: not scraped: {why}", size.tenants, x.set);
            }
        }
    }
    for size in &r.sizes {
        for d in &size.differences {
            let _ = writeln!(s, "DIFFERENCE at {} tenants: {d}", size.tenants);
        }
    }
    for size in &r.sizes {
        for x in size
            .sets
            .iter()
            .filter(|x| !x.steady && x.stopped().is_none())
        {
            let _ = writeln!(
                s,
                "{} tenants, {}: saturated, not every group evaluated on data within the limit; {} of {} expected alerts firing at the end (not compared)",
                size.tenants, x.set, x.firing, size.expected_firing
            );
        }
    }
    let _ = writeln!(
        s,
        "firing sets: {}",
        if r.all_answers_match() {
            "identical for every rule set that reached steady state (and equal to the fixture's expected set)"
        } else {
            "DIFFERENT (see above)"
        }
    );
    s
}

fn yes(b: bool) -> &'static str {
    ["no", "yes"][usize::from(b)]
}

/// The `bench exporter` table.
pub fn exporter_table(r: &ExporterReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "command: {}", r.command);
    let _ = writeln!(s, "machine: {}", r.machine);
    let _ = writeln!(s);
    let header = [
        "tenants",
        "series",
        "load+resolve ms",
        "render ms",
        "cold start s",
        "reload ms",
        "scrape p50 ms",
        "scrape p90 ms",
        "body KiB",
        "rss MiB",
        "rss/tenant KiB",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for x in &r.sizes {
        rows.push(vec![
            x.tenants.to_string(),
            x.series.to_string(),
            format!("{:.0}", x.library_load_ms),
            format!("{:.1}", x.library_render_ms),
            format!("{:.2}", x.cold_start_s),
            format!("{:.0}", x.reload_ms),
            format!("{:.1}", x.scrape_p50_ms),
            format!("{:.1}", x.scrape_p90_ms),
            format!("{:.0}", x.body_bytes as f64 / 1024.0),
            mib(x.rss_bytes as f64),
            format!(
                "{:.1}",
                x.rss_bytes as f64 / 1024.0 / x.tenants.max(1) as f64
            ),
        ]);
    }
    push_columns(&mut s, &rows, None);
    s
}

/// Appends `rows` as aligned columns, right-aligned but for column `left`.
fn push_columns(s: &mut String, rows: &[Vec<String>], left: Option<usize>) {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if left == Some(i) {
                    format!("{c:<w$}", w = widths[i])
                } else {
                    format!("{c:>w$}", w = widths[i])
                }
            })
            .collect();
        let _ = writeln!(s, "{}", line.join("  ").trim_end());
    }
}
