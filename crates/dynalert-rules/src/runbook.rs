//! Runbook URLs of the packs' alerts: `<base>/<pack>/README.md#<alert>`, where `<base>` is
//! one platform setting, the `url` label of the platform pack's
//! `dynalert:runbook_base_url:info` recording rule. A tenant's own `runbook_url` (from its
//! metadata) takes precedence in tenant alerts.

/// The recorded setting every runbook annotation reads.
pub const RUNBOOK_SETTING: &str = "dynalert:runbook_base_url:info";

/// The base the platform pack ships with.
pub const DEFAULT_RUNBOOK_BASE: &str = "https://runbooks.example.com/dynalert";

/// `text` (the platform pack's rule file) with the runbook base set to `base` (no trailing
/// slash). Only the setting's `url:` line changes.
pub fn set_runbook_base(text: &str, base: &str) -> String {
    let from = format!("url: \"{DEFAULT_RUNBOOK_BASE}\"");
    let to = format!(
        "url: {}",
        crate::regex_rules::quoted(base.trim_end_matches('/'))
    );
    text.replace(&from, &to)
}
