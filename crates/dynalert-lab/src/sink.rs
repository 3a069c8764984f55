//! The webhook sink's records: one JSON line per notification, with the receiver (the URL
//! path Alertmanager posted to) and the time it arrived.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// One alert inside a notification.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SinkAlert {
    pub status: String,
    pub labels: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub starts_at: String,
    #[serde(default)]
    pub ends_at: String,
}

/// One notification as received.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Notification {
    /// Arrival time, RFC 3339 with milliseconds.
    pub received_at: String,
    /// Arrival time in milliseconds since the Unix epoch.
    pub received_ms: i64,
    /// URL path without the leading slash, e.g. `db-a`, `vip-pager`.
    pub receiver: String,
    /// `firing` or `resolved` (of the whole group).
    pub status: String,
    /// Alertmanager's name for the receiver, from the payload.
    #[serde(default)]
    pub am_receiver: String,
    pub alerts: Vec<SinkAlert>,
}

impl Notification {
    /// Builds a record from an Alertmanager webhook payload.
    pub fn from_payload(
        path: &str,
        payload: &serde_json::Value,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Notification {
        let s = |v: &serde_json::Value, k: &str| {
            v.get(k)
                .and_then(|x| x.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let alerts = payload
            .get("alerts")
            .and_then(|a| a.as_array())
            .map(|a| {
                a.iter()
                    .map(|al| SinkAlert {
                        status: s(al, "status"),
                        labels: al
                            .get("labels")
                            .and_then(|l| serde_json::from_value(l.clone()).ok())
                            .unwrap_or_default(),
                        starts_at: s(al, "startsAt"),
                        ends_at: s(al, "endsAt"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Notification {
            received_at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            received_ms: now.timestamp_millis(),
            receiver: path.trim_start_matches('/').to_string(),
            status: s(payload, "status"),
            am_receiver: s(payload, "receiver"),
            alerts,
        }
    }
}

/// Reads every notification recorded so far (a torn last line is skipped).
pub fn read_all(path: &Path) -> Vec<Notification> {
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect(),
        Err(_) => Vec::new(),
    }
}
