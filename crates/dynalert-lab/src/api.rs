//! Small blocking HTTP clients for the parts the lab talks to: the Prometheus HTTP API, the
//! Alertmanager v2 API, the exporter's `/metrics` and the lab's own sink and simulator.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Serialize;

pub type Labels = BTreeMap<String, String>;

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build()
}

pub fn get_text(url: &str) -> anyhow::Result<String> {
    let resp = agent()
        .get(url)
        .call()
        .with_context(|| format!("GET `{url}`"))?;
    Ok(resp.into_string()?)
}

pub fn get_json(url: &str) -> anyhow::Result<serde_json::Value> {
    let resp = agent()
        .get(url)
        .call()
        .with_context(|| format!("GET `{url}`"))?;
    Ok(resp.into_json()?)
}

/// GET returning the status code only (any status, no error for 4xx/5xx).
pub fn get_status(url: &str) -> anyhow::Result<u16> {
    match agent().get(url).call() {
        Ok(r) => Ok(r.status()),
        Err(ureq::Error::Status(code, _)) => Ok(code),
        Err(e) => Err(e).with_context(|| format!("GET `{url}`")),
    }
}

/// POST with an empty body; returns the status and the body (4xx/5xx are not errors).
pub fn post_empty(url: &str) -> anyhow::Result<(u16, String)> {
    match agent().post(url).send_string("") {
        Ok(r) => Ok((r.status(), r.into_string().unwrap_or_default())),
        Err(ureq::Error::Status(code, r)) => Ok((code, r.into_string().unwrap_or_default())),
        Err(e) => Err(e).with_context(|| format!("POST `{url}`")),
    }
}

pub fn send_json(method: &str, url: &str, body: &impl Serialize) -> anyhow::Result<()> {
    agent()
        .request(method, url)
        .send_json(serde_json::to_value(body)?)
        .with_context(|| format!("{method} `{url}`"))?;
    Ok(())
}

/// One sample of an instant query.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub labels: Labels,
    pub value: f64,
}

/// Instant query against the Prometheus HTTP API.
pub fn query(prom: &str, expr: &str) -> anyhow::Result<Vec<Sample>> {
    let resp = agent()
        .get(&format!("{prom}/api/v1/query"))
        .query("query", expr)
        .call()
        .with_context(|| format!("query `{expr}` at `{prom}`"))?;
    let v: serde_json::Value = resp.into_json()?;
    if v["status"] != "success" {
        bail!("query `{expr}` failed: {}", v["error"]);
    }
    let mut out = Vec::new();
    for r in v["data"]["result"].as_array().into_iter().flatten() {
        let labels: Labels = serde_json::from_value(r["metric"].clone()).unwrap_or_default();
        let value = r["value"][1]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(f64::NAN);
        out.push(Sample { labels, value });
    }
    Ok(out)
}

/// An alert as Prometheus sees it (`/api/v1/alerts`).
#[derive(Debug, Clone, Serialize)]
pub struct PromAlert {
    pub labels: Labels,
    /// `pending` or `firing`.
    pub state: String,
    pub value: String,
}

pub fn prom_alerts(prom: &str) -> anyhow::Result<Vec<PromAlert>> {
    let v = get_json(&format!("{prom}/api/v1/alerts"))?;
    Ok(v["data"]["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| PromAlert {
            labels: serde_json::from_value(a["labels"].clone()).unwrap_or_default(),
            state: a["state"].as_str().unwrap_or_default().to_string(),
            value: a["value"].as_str().unwrap_or_default().to_string(),
        })
        .collect())
}

/// An alert as Alertmanager holds it (`/api/v2/alerts`).
#[derive(Debug, Clone, Serialize)]
pub struct AmAlert {
    pub labels: Labels,
    /// `active`, `suppressed` or `unprocessed`.
    pub state: String,
    pub inhibited_by: Vec<String>,
    pub receivers: Vec<String>,
}

pub fn am_alerts(am: &str) -> anyhow::Result<Vec<AmAlert>> {
    let v = get_json(&format!("{am}/api/v2/alerts"))?;
    Ok(v.as_array()
        .into_iter()
        .flatten()
        .map(|a| AmAlert {
            labels: serde_json::from_value(a["labels"].clone()).unwrap_or_default(),
            state: a["status"]["state"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            inhibited_by: serde_json::from_value(a["status"]["inhibitedBy"].clone())
                .unwrap_or_default(),
            receivers: a["receivers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["name"].as_str().map(str::to_string))
                .collect(),
        })
        .collect())
}

/// Parses Prometheus text exposition into (name, labels, value), skipping comments.
pub fn parse_exposition(text: &str) -> Vec<(String, Labels, f64)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (head, value) = match line.rfind('}') {
            Some(i) => (&line[..=i], line[i + 1..].trim()),
            None => match line.split_once(' ') {
                Some((h, v)) => (h, v.trim()),
                None => continue,
            },
        };
        let value = value
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN);
        let (name, labels) = match head.find('{') {
            Some(i) => (&head[..i], parse_labels(&head[i + 1..head.len() - 1])),
            None => (head, Labels::new()),
        };
        out.push((name.to_string(), labels, value));
    }
    out
}

fn parse_labels(s: &str) -> Labels {
    let mut out = Labels::new();
    let mut chars = s.chars().peekable();
    loop {
        let name: String = chars
            .by_ref()
            .take_while(|c| *c != '=')
            .collect::<String>()
            .trim_matches([',', ' '])
            .to_string();
        if name.is_empty() {
            break;
        }
        if chars.next() != Some('"') {
            break;
        }
        let mut v = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => v.push('\n'),
                    Some(o) => v.push(o),
                    None => break,
                },
                '"' => break,
                o => v.push(o),
            }
        }
        out.insert(name, v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_labels_with_escapes() {
        let s = parse_exposition("# x\nuser_threshold{tenant=\"db-a\",metric=\"a\\\"b\",severity=\"warning\"} 70\nup 1\n");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].1["metric"], "a\"b");
        assert_eq!(s[0].1["severity"], "warning");
        assert_eq!(s[0].2, 70.0);
        assert_eq!(s[1].0, "up");
    }
}
