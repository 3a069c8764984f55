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
        // A missing or non-string field reads as empty.
        let s = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
        let alerts = payload["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|al| SinkAlert {
                status: s(al, "status"),
                labels: serde_json::from_value(al["labels"].clone()).unwrap_or_default(),
                starts_at: s(al, "startsAt"),
                ends_at: s(al, "endsAt"),
            })
            .collect();
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
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}
