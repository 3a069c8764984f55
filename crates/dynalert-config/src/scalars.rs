//! Readers of generic YAML scalars shared by every configuration file: on/off switches,
//! tiers, RFC 3339 times, time zones, durations, and the check of a mapping's keys. Each
//! reports a located error with a hint and returns `None` on bad input.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use dynalert_model::Severity;

use crate::diag::{did_you_mean, did_you_mean_or_list, Ctx, Level};
use crate::yaml::{Node, NodeKind, Pos};

const DISABLE_WORDS: [&str; 4] = ["disable", "disabled", "off", "false"];
const ENABLE_WORDS: [&str; 4] = ["enable", "enabled", "on", "true"];
pub(crate) const TIER_NAMES: [&str; 3] = ["info", "warning", "critical"];

pub fn is_disable(s: &str) -> bool {
    let s = s.trim();
    DISABLE_WORDS.iter().any(|w| w.eq_ignore_ascii_case(s))
}

pub fn is_enable(s: &str) -> bool {
    let s = s.trim();
    ENABLE_WORDS.iter().any(|w| w.eq_ignore_ascii_case(s))
}

/// An on/off switch (`enable`/`disable` and synonyms).
pub fn parse_switch(ctx: &mut Ctx, node: &Node, what: &str) -> Option<bool> {
    match node.as_str() {
        Some(s) if is_enable(s) => Some(true),
        Some(s) if is_disable(s) => Some(false),
        _ => {
            ctx.error_hint(
                node.pos,
                format!("{what} must be `enable` or `disable`, found {}", show(node)),
                "use `enable` or `disable`",
            );
            None
        }
    }
}

/// Short rendering of a node for messages.
pub fn show(node: &Node) -> String {
    match &node.kind {
        NodeKind::Scalar { value, .. } => crate::yaml::quote(value),
        _ => format!("a {}", node.type_name()),
    }
}

pub fn parse_severity(ctx: &mut Ctx, node: &Node, what: &str) -> Option<Severity> {
    let s = node.as_str().unwrap_or_default();
    let sev = Severity::parse(s);
    if sev.is_none() {
        let hint = did_you_mean(s, TIER_NAMES)
            .unwrap_or_else(|| "tiers are `info`, `warning` and `critical`".into());
        ctx.error_hint(node.pos, format!("unknown tier `{s}` in {what}"), hint);
    }
    sev
}

/// RFC 3339 timestamp.
pub fn parse_time(ctx: &mut Ctx, node: &Node, what: &str) -> Option<DateTime<Utc>> {
    let s = node.as_str().unwrap_or_default();
    let t = DateTime::parse_from_rfc3339(s.trim()).map_err(|e| {
        ctx.error_hint(
            node.pos,
            format!("bad `{what}` timestamp `{s}`: {e}"),
            "use RFC 3339, e.g. `2026-12-01T00:00:00Z` or `2026-12-01T08:00:00+08:00`",
        )
    });
    Some(t.ok()?.with_timezone(&Utc))
}

pub fn parse_expires(ctx: &mut Ctx, node: &Node, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let t = parse_time(ctx, node, "expires")?;
    if t <= now {
        ctx.warn(
            node.pos,
            format!("`expires` {} is in the past", t.to_rfc3339()),
            "the entry no longer applies; remove it",
        );
    }
    Some(t)
}

pub fn parse_timezone(ctx: &mut Ctx, node: &Node) -> Option<Tz> {
    let s = node.as_str().unwrap_or_default().trim();
    let tz = Tz::from_str(s).ok();
    if tz.is_none() {
        let names = chrono_tz::TZ_VARIANTS.iter().map(|t| t.name());
        let hint = did_you_mean(s, names)
            .unwrap_or_else(|| "use an IANA time zone name such as `Asia/Taipei` or `UTC`".into());
        ctx.error_hint(node.pos, format!("unknown time zone `{s}`"), hint);
    }
    tz
}

/// A duration in whole seconds ([`dynalert_model::duration`]: `90s`, `1h30m`, `1.5h`); `None`
/// when it does not parse or is finer than a second.
pub fn parse_duration_secs(s: &str) -> Option<i64> {
    let d = dynalert_model::duration::parse(s.trim()).ok()?;
    if d.subsec_nanos() != 0 {
        return None;
    }
    i64::try_from(d.as_secs()).ok()
}

/// `text` in whole seconds when it is a duration that `ok` accepts; otherwise `None` and the
/// error `message` at `pos`, with `hint`.
pub fn duration_where(
    ctx: &mut Ctx,
    pos: Pos,
    text: &str,
    ok: impl Fn(i64) -> bool,
    message: impl FnOnce() -> String,
    hint: &str,
) -> Option<i64> {
    let secs = parse_duration_secs(text).filter(|s| ok(*s));
    if secs.is_none() {
        ctx.error_hint(pos, message(), hint);
    }
    secs
}

/// The entries of `node` when it is a mapping; otherwise the error `{what} must be a
/// mapping, found …`, with `hint` when one is given.
pub fn map_of<'n>(
    ctx: &mut Ctx,
    node: &'n Node,
    what: &str,
    hint: Option<&str>,
) -> Option<&'n [(Node, Node)]> {
    let entries = node.as_map();
    if entries.is_none() {
        not_a(ctx, node, what, "mapping", hint);
    }
    entries
}

/// The items of `node` when it is a sequence; otherwise the error `{what} must be a list,
/// found …`, with `hint` when one is given.
pub fn seq_of<'n>(
    ctx: &mut Ctx,
    node: &'n Node,
    what: &str,
    hint: Option<&str>,
) -> Option<&'n [Node]> {
    let items = node.as_seq();
    if items.is_none() {
        not_a(ctx, node, what, "list", hint);
    }
    items
}

fn not_a(ctx: &mut Ctx, node: &Node, what: &str, kind: &str, hint: Option<&str>) {
    let message = format!("{what} must be a {kind}, found {}", show(node));
    ctx.push(Level::Error, node.pos, message, hint.map(str::to_string));
}

/// The value of `key` in the mapping `node`; when it is missing, the error `message` (with
/// `hint` when one is given) at the mapping.
pub fn required<'n>(
    ctx: &mut Ctx,
    node: &'n Node,
    key: &str,
    message: impl Into<String>,
    hint: Option<&str>,
) -> Option<&'n Node> {
    let value = node.get(key);
    if value.is_none() {
        ctx.push(Level::Error, node.pos, message, hint.map(str::to_string));
    }
    value
}

/// Reports keys of a mapping that are not in `allowed`.
pub fn check_keys(ctx: &mut Ctx, node: &Node, allowed: &[&str], what: &str) {
    for (k, _) in node.as_map().unwrap_or_default() {
        let name = k.as_str().unwrap_or_default();
        if !allowed.contains(&name) {
            let hint = did_you_mean_or_list(name, allowed.iter().copied(), "allowed keys are");
            ctx.error_hint(k.pos, format!("unknown key `{name}` in {what}"), hint);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_secs("2h"), Some(7200));
        assert_eq!(parse_duration_secs("1h30m"), Some(5400));
        assert_eq!(parse_duration_secs("90s"), Some(90));
        assert_eq!(parse_duration_secs("2"), None);
        assert_eq!(parse_duration_secs("2x"), None);
        assert_eq!(parse_duration_secs("1.5h"), Some(5400));
        assert_eq!(parse_duration_secs("0.5s"), None);
    }
}
