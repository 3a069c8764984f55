//! Threshold keys: a catalogue name plus optional dimensional labels.
//!
//! `container_cpu{container="mariadb"}` is the key `container_cpu` with the
//! exact dimension `container="mariadb"`; `container_cpu{container=~"sidecar-.*"}`
//! carries a regex dimension that is exported as the label `container_re`.

use serde::{Deserialize, Serialize};

/// One dimensional label of a key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dim {
    pub label: String,
    pub value: String,
    pub regex: bool,
}

impl Dim {
    /// The label name as exported: `label` or `label_re` for regex dimensions.
    pub fn exported_label(&self) -> String {
        if self.regex {
            format!("{}_re", self.label)
        } else {
            self.label.clone()
        }
    }
}

/// A catalogue key with its dimensions, sorted by label.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ThresholdKey {
    pub base: String,
    pub dims: Vec<Dim>,
}

impl ThresholdKey {
    /// `component` label: the part of the base key before its first underscore.
    pub fn component(&self) -> &str {
        split_key(&self.base).0
    }

    /// `metric` label: the part of the base key after its first underscore.
    pub fn metric(&self) -> &str {
        split_key(&self.base).1
    }

    pub fn is_dimensional(&self) -> bool {
        !self.dims.is_empty()
    }
}

impl std::fmt::Display for ThresholdKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.base)?;
        if self.dims.is_empty() {
            return Ok(());
        }
        f.write_str("{")?;
        for (i, d) in self.dims.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let op = if d.regex { "=~" } else { "=" };
            write!(f, "{}{}\"{}\"", d.label, op, d.value)?;
        }
        f.write_str("}")
    }
}

/// Splits a key at its first underscore into (component, metric).
pub fn split_key(key: &str) -> (&str, &str) {
    key.split_once('_').unwrap_or((key, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_first_underscore() {
        assert_eq!(split_key("mysql_connections"), ("mysql", "connections"));
        assert_eq!(
            split_key("mysql_replication_lag"),
            ("mysql", "replication_lag")
        );
        assert_eq!(split_key("container_cpu"), ("container", "cpu"));
    }

    #[test]
    fn displays_dimensions() {
        let k = ThresholdKey {
            base: "container_cpu".into(),
            dims: vec![Dim {
                label: "container".into(),
                value: "sidecar-.*".into(),
                regex: true,
            }],
        };
        assert_eq!(k.to_string(), "container_cpu{container=~\"sidecar-.*\"}");
        assert_eq!(k.dims[0].exported_label(), "container_re");
    }
}
