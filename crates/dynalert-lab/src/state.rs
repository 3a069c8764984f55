//! `lab.json`: every part of a running lab with its URL, pid and process start time.
//!
//! The start time (from `/proc/<pid>/stat`) guards against pid reuse: `down` only signals a
//! pid whose start time still matches what `up` recorded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// One process of the lab.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Part {
    pub name: String,
    pub pid: u32,
    /// Start time in clock ticks since boot (`/proc/<pid>/stat` field 22).
    pub start_ticks: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub log: PathBuf,
    /// The command line, so a stopped part can be started again (scenario `ha`).
    pub argv: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Whether this part is a simulation rather than the real thing.
    #[serde(default)]
    pub simulated: bool,
}

/// A MariaDB instance and its tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Database {
    pub tenant: String,
    pub socket: PathBuf,
    pub exporter_url: String,
}

/// The contents of `lab.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabState {
    pub dir: PathBuf,
    pub conf_dir: PathBuf,
    pub started_at: String,
    /// `prometheus` or `victoriametrics`.
    #[serde(default = "prometheus_engine")]
    pub engine: String,
    /// The Prometheus HTTP API the tools ask: Prometheus itself, or on the VictoriaMetrics
    /// engine the query front (queries to VictoriaMetrics, rules and alerts to vmalert).
    pub prometheus_url: String,
    /// vmalert's own URL (VictoriaMetrics engine only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vmalert_url: Option<String>,
    pub alertmanager_url: String,
    pub exporter_urls: Vec<String>,
    pub sink_url: String,
    pub kubernetes_sim_url: String,
    pub databases: Vec<Database>,
    /// In start order; `down` stops them in reverse.
    pub parts: Vec<Part>,
}

fn prometheus_engine() -> String {
    "prometheus".into()
}

impl LabState {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("lab.json")
    }

    pub fn load(dir: &Path) -> anyhow::Result<LabState> {
        let path = Self::path(dir);
        let text = fs_err::read_to_string(&path)
            .context("no running lab here; start one with `dynalert lab up`")?;
        serde_json::from_str(&text)
            .with_context(|| format!("bad lab state file `{}`", path.display()))
    }

    pub fn save(&self) -> anyhow::Result<()> {
        let path = Self::path(&self.dir);
        let tmp = path.with_extension("json.tmp");
        fs_err::write(&tmp, serde_json::to_string_pretty(self)?)?;
        fs_err::rename(&tmp, &path)?;
        Ok(())
    }

    pub fn part(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.name == name)
    }

    pub fn part_mut(&mut self, name: &str) -> Option<&mut Part> {
        self.parts.iter_mut().find(|p| p.name == name)
    }

    pub fn database(&self, tenant: &str) -> Option<&Database> {
        self.databases.iter().find(|d| d.tenant == tenant)
    }
}
