//! Routing settings parsed from `routing:` (platform) and `_routing` (tenant).
//!
//! The loader keeps the block as JSON after checking its shape; the
//! Alertmanager generator gives it meaning.

use serde::{Deserialize, Serialize};

/// Platform `routing:` block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformRouting {
    pub raw: serde_json::Value,
}

/// Tenant `_routing` block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantRouting {
    pub raw: serde_json::Value,
}
