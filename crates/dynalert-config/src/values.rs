//! The threshold value grammar: key names (`metric{label="v"}`), values (`80`,
//! `"80:critical"`, `disable`), tier maps with defaults, expiry and scheduled overrides
//! (`window`, `timezone`, `days`). Generic scalars (switches, tiers, times, durations) are
//! read by [`crate::scalars`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use dynalert_model::schedule::ALL_DAYS;
use dynalert_model::{Dim, Override, Severity, ThresholdKey, TierValue, Window};

use crate::diag::{did_you_mean, Ctx};
use crate::scalars::{
    check_keys, is_disable, map_of, parse_expires, parse_severity, parse_timezone, required,
    seq_of, show, TIER_NAMES,
};
use crate::yaml::{Node, NodeKind, Pos};

pub(crate) const VALUE_MAP_KEYS: [&str; 4] = ["value", "default", "overrides", "expires"];
const OVERRIDE_KEYS: [&str; 4] = ["window", "timezone", "days", "value"];
const DAY_NAMES: [(&str, &str); 7] = [
    ("mon", "monday"),
    ("tue", "tuesday"),
    ("wed", "wednesday"),
    ("thu", "thursday"),
    ("fri", "friday"),
    ("sat", "saturday"),
    ("sun", "sunday"),
];

/// A finite, non-negative number.
pub fn parse_number(ctx: &mut Ctx, pos: Pos, text: &str, what: &str) -> Option<f64> {
    let t = text.trim();
    let unsigned = t.trim_start_matches(['-', '+']);
    if [".inf", "inf", "infinity", ".nan", "nan"]
        .iter()
        .any(|w| w.eq_ignore_ascii_case(unsigned))
    {
        ctx.error_hint(
            pos,
            format!("{what} must be a finite number, found `{t}`"),
            "use a plain number such as `80`, or `disable`",
        );
        return None;
    }
    match t.parse::<f64>() {
        Ok(v) if !v.is_finite() => {
            ctx.error(pos, format!("{what} must be a finite number, found `{t}`"));
            None
        }
        Ok(v) if v < 0.0 => {
            ctx.error_hint(
                pos,
                format!("{what} must not be negative, found `{t}`"),
                "thresholds are non-negative; use `disable` to switch a key off",
            );
            None
        }
        Ok(v) => Some(v),
        Err(_) => {
            ctx.error_hint(
                pos,
                format!("{what} is not a number: `{t}`"),
                "use a number such as `80`, `\"80:critical\"`, or `disable`",
            );
            None
        }
    }
}

/// Scalar value: number or `disable` (`None` = disabled).
fn parse_amount(ctx: &mut Ctx, node: &Node, what: &str) -> Option<Option<f64>> {
    match node.as_str() {
        Some(s) if is_disable(s) => Some(None),
        Some(s) if !node.is_null() => parse_number(ctx, node.pos, s, what).map(Some),
        _ => {
            ctx.error_hint(
                node.pos,
                format!("{what} must be a number or `disable`, found {}", show(node)),
                "write a number such as `80`, or `disable`",
            );
            None
        }
    }
}

fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    (h < 24 && m < 60).then_some(h * 60 + m)
}

pub fn parse_window(ctx: &mut Ctx, node: &Node) -> Option<Window> {
    let s = node.as_str().unwrap_or_default();
    let parsed = s
        .split_once('-')
        .and_then(|(a, b)| Some((parse_hhmm(a)?, parse_hhmm(b)?)));
    match parsed {
        Some((a, b)) if a == b => {
            ctx.error_hint(
                node.pos,
                format!("window `{s}` is empty (start equals end)"),
                "a window needs different start and end times, e.g. `22:00-06:00`",
            );
            None
        }
        Some((start_min, end_min)) => Some(Window { start_min, end_min }),
        None => {
            ctx.error_hint(
                node.pos,
                format!("bad window `{s}`"),
                "write `HH:MM-HH:MM` with 00:00-23:59 times, e.g. `22:00-06:00` (may cross midnight)",
            );
            None
        }
    }
}

fn parse_days(ctx: &mut Ctx, node: &Node) -> Option<u8> {
    let hint = "write e.g. `days: [mon, tue, wed, thu, fri]`";
    let items = seq_of(ctx, node, "`days`", Some(hint))?;
    let mut mask = 0u8;
    let mut ok = true;
    for item in items {
        let s = item
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match DAY_NAMES
            .iter()
            .position(|(short, long)| *short == s || *long == s)
        {
            Some(i) => mask |= 1 << i,
            None => {
                let hint = did_you_mean(&s, DAY_NAMES.iter().map(|(short, _)| *short))
                    .unwrap_or_else(|| "weekdays are mon, tue, wed, thu, fri, sat, sun".into());
                ctx.error_hint(item.pos, format!("bad weekday `{s}`"), hint);
                ok = false;
            }
        }
    }
    ok.then_some(mask)
}

fn parse_override(ctx: &mut Ctx, node: &Node, what: &str) -> Option<Override> {
    let hint = "write `{window: \"22:00-06:00\", value: 95}`";
    map_of(ctx, node, &format!("override of {what}"), Some(hint))?;
    check_keys(ctx, node, &OVERRIDE_KEYS, "a scheduled override");
    let hint = Some("add `window: \"HH:MM-HH:MM\"`");
    let window = required(ctx, node, "window", "override has no `window`", hint)
        .and_then(|w| parse_window(ctx, w));
    let hint = Some("add `value: <number>` or `value: disable`");
    let value = required(ctx, node, "value", "override has no `value`", hint)
        .and_then(|v| parse_amount(ctx, v, what));
    let timezone = node
        .get("timezone")
        .map_or(Some(Tz::UTC), |tz| parse_timezone(ctx, tz));
    let days = node
        .get("days")
        .map_or(Some(ALL_DAYS), |d| parse_days(ctx, d));
    Some(Override {
        window: window?,
        days: days?,
        timezone: timezone?,
        value: value?,
        source: ctx.source(node.pos),
    })
}

/// One tier's value: scalar, `{value, expires}` or `{default, overrides, expires}`.
pub fn parse_tier_value(
    ctx: &mut Ctx,
    node: &Node,
    what: &str,
    now: DateTime<Utc>,
) -> Option<TierValue> {
    if node.as_map().is_none() {
        if let Some(s) = node.as_str().filter(|s| s.contains(':') && !is_disable(s)) {
            ctx.error_hint(
                node.pos,
                format!("tier suffix in `{s}` inside a tier map for {what}"),
                "inside `{warning: …, critical: …}` write plain numbers",
            );
            return None;
        }
        let amount = parse_amount(ctx, node, what)?;
        return Some(TierValue::fixed(amount, ctx.source(node.pos)));
    }
    check_keys(ctx, node, &VALUE_MAP_KEYS, what);
    let default = match (node.get("value"), node.get("default")) {
        (Some(v), None) | (None, Some(v)) => parse_amount(ctx, v, what),
        (Some(_), Some(d)) => {
            ctx.error_hint(
                d.pos,
                format!("{what} has both `value` and `default`"),
                "keep one of them",
            );
            None
        }
        (None, None) => {
            ctx.error_hint(
                node.pos,
                format!("{what} has no `value` or `default`"),
                "add `default: <number>` (value outside the override windows)",
            );
            None
        }
    };
    let mut overrides = Vec::new();
    let mut ok = true;
    if let Some(list) = node.get("overrides") {
        if list.as_seq().is_none() {
            ctx.error(list.pos, format!("`overrides` of {what} must be a list"));
            ok = false;
        }
        for item in list.as_seq().unwrap_or_default() {
            let o = parse_override(ctx, item, what);
            ok &= o.is_some();
            overrides.extend(o);
        }
    }
    let expires = match node.get("expires") {
        Some(e) => Some(parse_expires(ctx, e, now)?),
        None => None,
    };
    if !ok {
        return None;
    }
    Some(TierValue {
        default: default?,
        overrides,
        expires,
        source: ctx.source(node.pos),
    })
}

/// What one key entry sets.
#[derive(Default)]
pub struct KeyEntry {
    pub disable_all: Option<Pos>,
    /// Set by a scalar `"N:tier"` (upstream's meaning): the key's value is that one row,
    /// so tiers inherited from a default are not served next to it.
    pub sole: Option<Pos>,
    pub tiers: BTreeMap<Severity, (TierValue, Pos)>,
}

/// Parses the value of a key entry into tiers; `tier` is forced by a `<key>_<tier>` spelling.
pub fn parse_key_value(
    ctx: &mut Ctx,
    node: &Node,
    key: &str,
    forced_tier: Option<Severity>,
    entry: &mut KeyEntry,
    now: DateTime<Utc>,
) {
    let mut set = |ctx: &mut Ctx, sev: Severity, tv: TierValue, pos: Pos| {
        if let Some((_, first)) = entry.tiers.get(&sev) {
            ctx.error_hint(
                pos,
                format!(
                    "{sev} tier of `{key}` is set twice (first at line {})",
                    first.line
                ),
                "keep one of the two settings",
            );
            return;
        }
        entry.tiers.insert(sev, (tv, pos));
    };
    // A single value written at `node`.
    let fixed = |ctx: &Ctx, v: Option<f64>| TierValue::fixed(v, ctx.source(node.pos));
    let tier_map = node.as_map().is_some_and(|m| {
        let names = || m.iter().filter_map(|(k, _)| k.as_str());
        names().any(|s| TIER_NAMES.contains(&s))
            // `{warn: 70}`: a misspelt tier, not a value map (did-you-mean on the tier).
            || (!names().any(|s| VALUE_MAP_KEYS.contains(&s))
                && names().any(|s| did_you_mean(s, TIER_NAMES).is_some()))
    });
    if tier_map {
        if let Some(t) = forced_tier {
            ctx.error_hint(
                node.pos,
                format!("`{key}_{t}` takes a single value, not a tier map"),
                format!("write `{key}: {{{t}: …}}` or give `{key}_{t}` a number"),
            );
            return;
        }
        for (k, v) in node.as_map().unwrap_or_default() {
            let name = k.as_str().unwrap_or_default();
            let Some(sev) = Severity::parse(name) else {
                let hint = did_you_mean(name, TIER_NAMES.iter().copied().chain(VALUE_MAP_KEYS))
                    .unwrap_or_else(|| "tiers are `info`, `warning` and `critical`".into());
                ctx.error_hint(k.pos, format!("unknown tier `{name}` for `{key}`"), hint);
                continue;
            };
            if let Some(tv) = parse_tier_value(ctx, v, &format!("`{key}` {sev}"), now) {
                set(ctx, sev, tv, k.pos);
            }
        }
        return;
    }
    // Scalar with optional `:tier` suffix.
    if let Some(s) = node.as_str() {
        if is_disable(s) {
            match forced_tier {
                Some(t) => set(ctx, t, fixed(ctx, None), node.pos),
                None => entry.disable_all = Some(node.pos),
            }
            return;
        }
        if let Some((num, tier)) = s.rsplit_once(':') {
            let tier_node = Node {
                kind: NodeKind::Scalar {
                    value: tier.trim().to_string(),
                    quoted: true,
                },
                pos: node.pos,
            };
            let Some(sev) = parse_severity(ctx, &tier_node, &format!("value `{s}` of `{key}`"))
            else {
                return;
            };
            if forced_tier.is_some_and(|f| f != sev) {
                ctx.error_hint(
                    node.pos,
                    format!("value `{s}` names a different tier than the key"),
                    "drop the `:tier` suffix",
                );
                return;
            }
            let what = format!("value of `{key}`");
            let amount = (!is_disable(num)).then(|| parse_number(ctx, node.pos, num, &what));
            if amount == Some(None) {
                return;
            }
            if forced_tier.is_none() {
                entry.sole = Some(node.pos);
            }
            set(ctx, sev, fixed(ctx, amount.flatten()), node.pos);
            return;
        }
    }
    let sev = forced_tier.unwrap_or(Severity::Warning);
    // The usual value, a plain number, takes the short way (what `parse_tier_value`
    // accepts for it, without building the wording of its messages).
    if let Some(v) = plain_number(node) {
        set(ctx, sev, fixed(ctx, Some(v)), node.pos);
        return;
    }
    if let Some(tv) = parse_tier_value(ctx, node, &format!("`{key}`"), now) {
        set(ctx, sev, tv, node.pos);
    }
}

/// A scalar that `parse_tier_value` reads as a valid number (finite, not negative).
fn plain_number(node: &Node) -> Option<f64> {
    let s = node.as_str()?;
    if node.is_null() || s.contains(':') {
        return None;
    }
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

/// Splits `base{label="v",other=~"re"}` into a key. Quotes may be `"` or `'`.
pub fn parse_key_name(text: &str) -> Result<ThresholdKey, String> {
    if text.chars().any(char::is_control) {
        return Err(format!(
            "key {} contains a control character (newline, tab, escape…)",
            crate::yaml::quote(&text.escape_debug().to_string())
        ));
    }
    let text = text.trim();
    let (base, rest) = match text.find('{') {
        Some(i) => (&text[..i], Some(&text[i..])),
        None => (text, None),
    };
    let valid_name = |s: &str| {
        !s.is_empty()
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    if !valid_name(base) {
        return Err(format!(
            "bad key name `{base}`: use lower-case letters, digits and `_`, starting with a letter"
        ));
    }
    let mut dims = Vec::new();
    if let Some(rest) = rest {
        let inner = rest
            .strip_prefix('{')
            .and_then(|r| r.strip_suffix('}'))
            .ok_or_else(|| format!("bad label selector in `{text}`: missing `}}`"))?;
        for part in split_selector(inner) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let matcher = part
                .split_once("=~")
                .map(|(l, v)| (l, true, v))
                .or_else(|| part.split_once('=').map(|(l, v)| (l, false, v)));
            let Some((label, regex, value)) = matcher else {
                return Err(format!(
                    "bad label matcher `{part}` in `{text}`: expected label=\"value\""
                ));
            };
            let label = label.trim();
            let value = value.trim();
            let unquoted = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                // Upstream also accepts a bare value (`{container=mariadb}`).
                .or_else(|| {
                    (!value.is_empty()
                        && !value.contains(|c: char| {
                            c.is_whitespace() || matches!(c, '"' | '\'' | '{' | '}' | ',' | '\\')
                        }))
                    .then_some(value)
                })
                .ok_or_else(|| {
                    format!("label value `{value}` in `{text}` must be quoted, e.g. `\"{value}\"`")
                })?;
            if !valid_label(label) {
                return Err(format!("bad label name `{label}` in `{text}`"));
            }
            // Label values name containers, databases and the like: a quote or a brace
            // can only be an attempt to break out of the series, never a real name.
            let (forbidden, shown): (&[char], &str) = if regex {
                (&['"'], "`\"`")
            } else {
                (&['"', '{', '}', '\\'], "`\"`, `{`, `}` or `\\`")
            };
            if unquoted.contains(forbidden) {
                return Err(format!(
                    "label value {} in a key may not contain {shown}",
                    crate::yaml::quote(unquoted),
                ));
            }
            if regex {
                regex::RegexBuilder::new(&format!("^(?:{unquoted})$"))
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| format!("bad regex `{unquoted}` in `{text}`: {e}"))?;
            }
            if dims.iter().any(|d: &Dim| d.label == label) {
                return Err(format!("label `{label}` appears twice in `{text}`"));
            }
            dims.push(Dim {
                label: label.to_string(),
                value: unquoted.to_string(),
                regex,
            });
        }
        dims.sort();
    }
    Ok(ThresholdKey {
        base: base.to_string(),
        dims,
    })
}

fn valid_label(s: &str) -> bool {
    const RESERVED: [&str; 5] = ["tenant", "component", "metric", "severity", "le"];
    !RESERVED.contains(&s) && !s.starts_with("__") && crate::recipes::is_label_name(s)
}

/// Splits a selector body at commas outside quotes.
fn split_selector(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quote: Option<char> = None;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, ',') => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names() {
        let k = parse_key_name("container_cpu{container='mariadb'}").unwrap();
        assert_eq!(k.to_string(), "container_cpu{container=\"mariadb\"}");
        let k = parse_key_name("container_cpu{container=~\"sidecar-.*\"}").unwrap();
        assert!(k.dims[0].regex);
        // A bare value is upstream's spelling of the same key.
        assert_eq!(
            parse_key_name("container_cpu{container=mariadb}").unwrap(),
            parse_key_name("container_cpu{container=\"mariadb\"}").unwrap()
        );
        assert!(parse_key_name("container_cpu{container=maria db}").is_err());
        assert!(parse_key_name("container_cpu{tenant='x'}").is_err());
        assert!(parse_key_name("Container").is_err());
        assert!(parse_key_name("container_cpu{container=~'('}").is_err());
    }
}
