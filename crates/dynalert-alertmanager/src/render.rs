//! Rendering the generated configuration as `alertmanager.yml`, optionally merged into a base file.
//!
//! Merge rules for `--base`: every top-level key of the base is kept (`global`,
//! `templates`, `time_intervals`, …); base receivers are kept and generated ones
//! added (a name defined by both is an error); the generated route tree replaces
//! the base root route, and the base's child routes are kept, placed after the
//! tenant routes and before the final default route, so they see every alert no
//! tenant owns; base inhibit rules come before the generated ones.

use yaml_rust2::yaml::{Hash, Yaml};
use yaml_rust2::{YamlEmitter, YamlLoader};

use crate::generate::{Generated, BLACKHOLE};
use crate::mute::TimeInterval;
use crate::route::{InhibitRule, Matcher, Route};

/// Errors while reading the base file or rendering.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RenderError {
    #[error("base config is not valid YAML: {0}")]
    BaseSyntax(String),
    #[error("base config must be a mapping")]
    BaseShape,
    #[error("receiver `{0}` is defined in the base config and generated from conf.d")]
    ReceiverConflict(String),
    #[error("time interval `{0}` is defined in the base config and generated from conf.d")]
    IntervalConflict(String),
    #[error("cannot render YAML: {0}")]
    Emit(String),
}

fn s(text: &str) -> Yaml {
    Yaml::String(text.to_string())
}

fn fmt_secs(secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let (h, m, sec) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    for (n, unit) in [(h, 'h'), (m, 'm'), (sec, 's')] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    out
}

fn matchers(ms: &[Matcher]) -> Yaml {
    Yaml::Array(ms.iter().map(|m| s(&m.to_string())).collect())
}

fn strings(items: &[String]) -> Yaml {
    Yaml::Array(items.iter().map(|v| s(v)).collect())
}

/// The list under `key` of a mapping of the base file (empty when there is none).
fn base_list(h: &Hash, key: &str) -> Vec<Yaml> {
    h.get(&s(key))
        .and_then(Yaml::as_vec)
        .cloned()
        .unwrap_or_default()
}

fn route_yaml(r: &Route) -> Yaml {
    let mut h = Hash::new();
    h.insert(s("receiver"), s(&r.receiver));
    if !r.matchers.is_empty() {
        h.insert(s("matchers"), matchers(&r.matchers));
    }
    if let Some(g) = &r.group_by {
        h.insert(s("group_by"), strings(g));
    }
    for (key, v) in [
        ("group_wait", r.timings.group_wait),
        ("group_interval", r.timings.group_interval),
        ("repeat_interval", r.timings.repeat_interval),
    ] {
        if let Some(v) = v {
            h.insert(s(key), s(&fmt_secs(v)));
        }
    }
    if r.cont {
        h.insert(s("continue"), Yaml::Boolean(true));
    }
    for (key, names) in [
        ("mute_time_intervals", &r.mute_time_intervals),
        ("active_time_intervals", &r.active_time_intervals),
    ] {
        if !names.is_empty() {
            h.insert(s(key), strings(names));
        }
    }
    if !r.routes.is_empty() {
        h.insert(
            s("routes"),
            Yaml::Array(r.routes.iter().map(route_yaml).collect()),
        );
    }
    Yaml::Hash(h)
}

fn inhibit_yaml(r: &InhibitRule) -> Yaml {
    let mut h = Hash::new();
    h.insert(s("source_matchers"), matchers(&r.source));
    h.insert(s("target_matchers"), matchers(&r.target));
    h.insert(s("equal"), strings(&r.equal));
    Yaml::Hash(h)
}

fn hhmm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn interval_yaml(t: &TimeInterval) -> Yaml {
    let specs = t
        .specs
        .iter()
        .map(|spec| {
            let mut h = Hash::new();
            if let Some((a, b)) = spec.times {
                let mut range = Hash::new();
                range.insert(s("start_time"), s(&hhmm(a)));
                range.insert(s("end_time"), s(&hhmm(b)));
                h.insert(s("times"), Yaml::Array(vec![Yaml::Hash(range)]));
            }
            for (key, list) in [
                ("weekdays", &spec.weekdays),
                ("days_of_month", &spec.days_of_month),
                ("months", &spec.months),
                ("years", &spec.years),
            ] {
                if !list.is_empty() {
                    h.insert(s(key), strings(list));
                }
            }
            if let Some(l) = &spec.location {
                h.insert(s("location"), s(l));
            }
            Yaml::Hash(h)
        })
        .collect();
    let mut h = Hash::new();
    h.insert(s("name"), s(&t.name));
    h.insert(s("time_intervals"), Yaml::Array(specs));
    Yaml::Hash(h)
}

/// JSON to YAML; a mapping's `name` key comes first.
fn json_yaml(v: &serde_json::Value) -> Yaml {
    use serde_json::Value;
    match v {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Integer(i),
            None => Yaml::Real(n.to_string()),
        },
        Value::String(t) => s(t),
        Value::Array(a) => Yaml::Array(a.iter().map(json_yaml).collect()),
        Value::Object(m) => {
            let mut h = Hash::new();
            if let Some(name) = m.get("name") {
                h.insert(s("name"), json_yaml(name));
            }
            for (k, v) in m.iter().filter(|(k, _)| k.as_str() != "name") {
                h.insert(s(k), json_yaml(v));
            }
            Yaml::Hash(h)
        }
    }
}

/// The `name` of every mapping in `items`.
fn names<'a>(items: impl Iterator<Item = &'a Yaml>) -> std::collections::HashSet<String> {
    let name = |y: &'a Yaml| y.as_hash()?.get(&s("name"))?.as_str();
    items.filter_map(|y| name(y).map(str::to_string)).collect()
}

/// Renders `generated` as a complete `alertmanager.yml`, merged into `base` when given.
pub fn render(generated: &Generated, base: Option<&str>) -> Result<String, RenderError> {
    let docs = (base.map(YamlLoader::load_from_str).transpose())
        .map_err(|e| RenderError::BaseSyntax(e.to_string()))?;
    let mut top = match docs.into_iter().flatten().next() {
        None | Some(Yaml::Null) => Hash::new(),
        Some(Yaml::Hash(h)) => h,
        Some(_) => return Err(RenderError::BaseShape),
    };

    let mut route = generated.route.clone();
    let base_children: Vec<Yaml> = top
        .get(&s("route"))
        .and_then(Yaml::as_hash)
        .map(|r| base_list(r, "routes"))
        .unwrap_or_default();
    let mut route_y = route_yaml(&route);
    if !base_children.is_empty() {
        // Insert before the final default route.
        route.routes.pop();
        route_y = route_yaml(&route);
        if let Yaml::Hash(h) = &mut route_y {
            let mut children = base_list(h, "routes");
            children.extend(base_children);
            if let Some(last) = generated.route.routes.last() {
                children.push(route_yaml(last));
            }
            h.insert(s("routes"), Yaml::Array(children));
        }
    }

    let mut receivers = base_list(&top, "receivers");
    // Names of the base receivers: one lookup per generated receiver keeps this linear.
    let base_names = names(receivers.iter());
    for r in &generated.receivers {
        if base_names.contains(r.name.as_str()) {
            if r.name == BLACKHOLE {
                continue;
            }
            return Err(RenderError::ReceiverConflict(r.name.clone()));
        }
        receivers.push(json_yaml(&r.config));
    }

    let mut inhibit = base_list(&top, "inhibit_rules");
    for rule in &generated.inhibit_rules {
        let y = inhibit_yaml(rule);
        if !inhibit.contains(&y) {
            inhibit.push(y);
        }
    }

    if !generated.time_intervals.is_empty() {
        let mut intervals = base_list(&top, "time_intervals");
        let legacy = base_list(&top, "mute_time_intervals");
        let base_names = names(intervals.iter().chain(&legacy));
        for t in &generated.time_intervals {
            if base_names.contains(t.name.as_str()) {
                return Err(RenderError::IntervalConflict(t.name.clone()));
            }
            intervals.push(interval_yaml(t));
        }
        top.insert(s("time_intervals"), Yaml::Array(intervals));
    }

    // Stable key order: base keys first as written, then ours.
    top.insert(s("route"), route_y);
    top.insert(s("receivers"), Yaml::Array(receivers));
    top.insert(s("inhibit_rules"), Yaml::Array(inhibit));

    let mut out = String::new();
    let mut emitter = YamlEmitter::new(&mut out);
    emitter
        .dump(&Yaml::Hash(top))
        .map_err(|e| RenderError::Emit(format!("{e:?}")))?;
    let body = out.strip_prefix("---\n").unwrap_or(&out);
    Ok(format!(
        "# Generated from conf.d by `dynalert alertmanager`; edit conf.d, not this file.\n{body}\n"
    ))
}
