//! Tenant-scoped Alertmanager configuration, generated from the validated `conf.d/` model.
//!
//! Pure: no I/O, no async. [`generate`] turns a [`dynalert_model::Config`] into a route
//! tree, receivers and inhibit rules; [`render`] writes them as `alertmanager.yml`
//! (optionally merged into a base file); [`explain`] answers "who gets this alert and
//! why" from the same tree, with Alertmanager's matching semantics.
//!
//! Route tree, in order under the root (receiver: `default_receiver`):
//! 1. `alertname=~"TenantSilentModeActive|Watchdog", scope="platform"` -> `dynalert-blackhole`;
//! 2. enforced copy (`severity` in `enforced.severities`, `continue: true`);
//! 3. one route per tenant with routing, silent mode or maintenance
//!    (`tenant="<id>", scope!="platform"`): tier copy (`continue: true`), then overrides
//!    `tenant-<id>-<n>`, then `tenant-<id>` (or the default receiver when the tenant has
//!    none); silent mode and maintenance mute only these own deliveries, through
//!    `mute_time_intervals` ([`mute`]), never the enforced or tier copies or liveness alerts;
//! 4. `default_receiver` for everything else (platform alerts, tenants without routing).

pub mod generate;
pub mod mute;
pub mod render;
pub mod route;

pub use generate::{
    diff, explain, generate, override_receiver_name, redact, tenant_receiver_name, with_rejected,
    AmReceiver, Delivery, GenerateError, Generated, Owner, BLACKHOLE,
};
pub use render::{render, RenderError};
pub use route::{parse_labels, InhibitRule, Matcher, Op, Route};
