//! Route tree and matchers with Alertmanager's matching semantics.
//!
//! The generator builds this tree and renders it to YAML; `explain` walks the same
//! tree, so what `dynalert explain-route` says is what the generated file does.
//! Matching follows Alertmanager: a route matches when all its matchers match;
//! children are tried in order and the first match stops the walk unless it has
//! `continue`; a route none of whose children matched is itself a match.

use std::collections::BTreeMap;
use std::fmt;

use dynalert_model::routing::Timings;

/// Matcher operator (the model's own, so a tenant's matchers need no conversion).
pub use dynalert_model::routing::MatchOp as Op;

/// One label matcher, e.g. `tenant="db-a"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    pub name: String,
    pub op: Op,
    pub value: String,
}

impl Matcher {
    pub fn new(name: &str, op: Op, value: impl Into<String>) -> Matcher {
        Matcher {
            name: name.to_string(),
            op,
            value: value.into(),
        }
    }

    pub fn eq(name: &str, value: impl Into<String>) -> Matcher {
        Matcher::new(name, Op::Eq, value)
    }

    /// Whether the matcher accepts `labels` (a missing label is the empty string).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let v = labels.get(&self.name).map_or("", String::as_str);
        match self.op {
            Op::Eq => v == self.value,
            Op::Ne => v != self.value,
            Op::Re | Op::NotRe => {
                // Alertmanager anchors regular expressions at both ends.
                let hit = regex::Regex::new(&format!("^(?:{})$", self.value))
                    .is_ok_and(|re| re.is_match(v));
                hit == (self.op == Op::Re)
            }
        }
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let escaped = self
            .value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        let op = match self.op {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Re => "=~",
            Op::NotRe => "!~",
        };
        write!(f, "{}{op}\"{}\"", self.name, escaped)
    }
}

/// A route of the generated tree.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Route {
    pub receiver: String,
    pub matchers: Vec<Matcher>,
    pub cont: bool,
    pub group_by: Option<Vec<String>>,
    pub timings: Timings,
    pub routes: Vec<Route>,
    /// Names of `time_intervals` during which this route notifies nobody.
    pub mute_time_intervals: Vec<String>,
    /// Names of `time_intervals` outside which this route notifies nobody.
    pub active_time_intervals: Vec<String>,
    /// Why the route exists, in words (used by explain; not rendered).
    pub why: String,
}

impl Route {
    pub fn new(
        receiver: impl Into<String>,
        matchers: Vec<Matcher>,
        why: impl Into<String>,
    ) -> Route {
        Route {
            receiver: receiver.into(),
            matchers,
            why: why.into(),
            ..Route::default()
        }
    }

    fn matches_self(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matchers.iter().all(|m| m.matches(labels))
    }

    /// The routes that deliver `labels`, in order, each with the chain of routes leading to it.
    pub fn deliveries<'a>(&'a self, labels: &BTreeMap<String, String>) -> Vec<Vec<&'a Route>> {
        if !self.matches_self(labels) {
            return Vec::new();
        }
        let mut all = Vec::new();
        for child in &self.routes {
            let hits = child.deliveries(labels);
            let matched = !hits.is_empty();
            for mut chain in hits {
                chain.insert(0, self);
                all.push(chain);
            }
            if matched && !child.cont {
                break;
            }
        }
        if all.is_empty() {
            all.push(vec![self]);
        }
        all
    }

    /// Receiver names that get `labels`, in delivery order (what `amtool config routes test` prints).
    pub fn receivers_for(&self, labels: &BTreeMap<String, String>) -> Vec<String> {
        self.deliveries(labels)
            .into_iter()
            .filter_map(|chain| chain.last().map(|r| r.receiver.clone()))
            .collect()
    }

    /// Every route of the tree, depth first.
    pub fn walk(&self) -> Vec<&Route> {
        let mut out = vec![self];
        for c in &self.routes {
            out.extend(c.walk());
        }
        out
    }
}

/// An inhibit rule: alerts matching `target` are muted while an alert matching `source`
/// with equal values of the `equal` labels fires.
#[derive(Debug, Clone, PartialEq)]
pub struct InhibitRule {
    pub source: Vec<Matcher>,
    pub target: Vec<Matcher>,
    pub equal: Vec<String>,
    pub why: String,
}

impl InhibitRule {
    /// Whether `source` (firing) inhibits `target` under this rule.
    pub fn inhibits(
        &self,
        source: &BTreeMap<String, String>,
        target: &BTreeMap<String, String>,
    ) -> bool {
        self.source.iter().all(|m| m.matches(source))
            && self.target.iter().all(|m| m.matches(target))
            && self.equal.iter().all(|l| source.get(l) == target.get(l))
    }
}

/// Parses `a=b,c=d` (also `a="b"`) into labels.
pub fn parse_labels(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(format!("label `{part}` has no `=`; write `name=value`"));
        };
        let k = k.trim();
        if k.is_empty() {
            return Err(format!("label `{part}` has no name"));
        }
        let v = v.trim().trim_matches('"');
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(s: &str) -> BTreeMap<String, String> {
        parse_labels(s).unwrap()
    }

    #[test]
    fn regex_is_anchored_and_missing_label_is_empty() {
        let m = Matcher::new("tenant", Op::Re, "db-a");
        assert!(m.matches(&labels("tenant=db-a")));
        assert!(!m.matches(&labels("tenant=db-ab")));
        assert!(Matcher::new("scope", Op::Ne, "platform").matches(&labels("tenant=x")));
    }

    #[test]
    fn matcher_renders_escaped() {
        assert_eq!(Matcher::eq("a", "x\"y").to_string(), "a=\"x\\\"y\"");
    }

    #[test]
    fn continue_and_fallback_follow_alertmanager() {
        let mut root = Route::new("default", vec![], "root");
        let mut copy = Route::new("noc", vec![Matcher::eq("severity", "critical")], "copy");
        copy.cont = true;
        root.routes.push(copy);
        root.routes
            .push(Route::new("t", vec![Matcher::eq("tenant", "a")], "tenant"));
        assert_eq!(
            root.receivers_for(&labels("tenant=a,severity=critical")),
            ["noc", "t"]
        );
        // Only a `continue` route matched: the root itself is not a match any more.
        assert_eq!(root.receivers_for(&labels("severity=critical")), ["noc"]);
        assert_eq!(root.receivers_for(&labels("severity=warning")), ["default"]);
    }
}
