//! Prometheus exposition of resolved snapshots.
//!
//! Pure and allocation-light: a snapshot is rendered once and the bytes are
//! served to every scrape. Families appear in a fixed order, each with
//! `# HELP` and `# TYPE`, series sorted by tenant and labels, so the output of
//! the same snapshot is byte-for-byte stable.

use std::fmt::Write as _;

use dynalert_model::{Family, Series, Snapshot};

/// Wire format of a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`
    Text,
    /// `application/openmetrics-text; version=1.0.0`
    OpenMetrics,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// Escapes a label value (`\`, `"`, newline).
pub fn escape_label_value(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Formats a sample value the way Prometheus parses it.
pub fn write_value(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        let _ = write!(out, "{v}");
    }
}

/// Writes `# HELP` and `# TYPE` lines of a family.
pub fn write_header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Writes one sample line: `name{labels} value`.
pub fn write_sample<S: AsRef<str>>(out: &mut String, name: &str, labels: &[(S, S)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(k.as_ref());
            out.push_str("=\"");
            escape_label_value(out, v.as_ref());
            out.push('"');
        }
        out.push('}');
    }
    out.push(' ');
    write_value(out, value);
    out.push('\n');
}

fn write_series(out: &mut String, s: &Series) {
    write_sample(out, s.family.name(), &s.labels, s.value);
}

/// Renders every family of the snapshot (without an OpenMetrics `# EOF`).
pub fn render_families(out: &mut String, snapshot: &Snapshot, tenant: Option<&str>) {
    for family in Family::ALL {
        write_header(out, family.name(), family.help(), "gauge");
        for t in snapshot
            .tenants
            .iter()
            .filter(|t| tenant.is_none_or(|id| t.tenant == id))
        {
            for s in t.family(family) {
                write_series(out, s);
            }
        }
    }
}

/// Renders a complete body in `format`.
pub fn render(snapshot: &Snapshot, format: Format) -> String {
    let mut out = String::with_capacity(snapshot.series_count() * 110 + 2048);
    render_families(&mut out, snapshot, None);
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use dynalert_model::TenantSeries;
    use std::sync::Arc;

    #[test]
    fn renders_sorted_families_with_headers() {
        let t = TenantSeries {
            tenant: "db-a".into(),
            series: vec![Series {
                family: Family::UserThreshold,
                labels: vec![
                    ("tenant".into(), "db-a".into()),
                    ("component".into(), "mysql".into()),
                    ("metric".into(), "connections".into()),
                    ("severity".into(), "warning".into()),
                ],
                value: 70.0,
            }],
            next_change: None,
        };
        let snap = Snapshot::from_tenants(chrono::Utc::now(), vec![Arc::new(t)]);
        let text = render(&snap, Format::Text);
        assert!(text.starts_with("# HELP user_threshold "));
        assert!(text.contains(
            "\nuser_threshold{tenant=\"db-a\",component=\"mysql\",metric=\"connections\",severity=\"warning\"} 70\n"
        ));
        assert!(!text.contains("# EOF"));
        assert!(render(&snap, Format::OpenMetrics).ends_with("# EOF\n"));
    }

    #[test]
    fn escapes_label_values() {
        let mut s = String::new();
        escape_label_value(&mut s, "a\"b\\c\nd");
        assert_eq!(s, "a\\\"b\\\\c\\nd");
    }
}
