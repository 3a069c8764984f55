//! One line per failure: the error and its causes, each said once.
//!
//! Library errors often put their source into their own message (`cannot read `x`: {source}`)
//! and also return it as their source, and I/O errors name their path again. Printing every
//! link of such a chain repeats the same cause; this keeps each link's own words only.

/// The error and its causes as one `a: b: c` line, without repeated causes or paths.
pub fn chain(err: &anyhow::Error) -> String {
    let texts: Vec<String> = err.chain().map(ToString::to_string).collect();
    let mut own: Vec<String> = Vec::with_capacity(texts.len());
    for (i, text) in texts.iter().enumerate() {
        // A message that embeds its cause keeps only the words before it.
        let mut mine = text.as_str();
        if let Some(next) = texts.get(i + 1) {
            if let Some(head) = mine.strip_suffix(next.as_str()) {
                mine = head.trim_end_matches([':', ' ']);
            }
        }
        if mine.is_empty() || own.iter().any(|o| o.contains(mine)) {
            continue;
        }
        // A cause that restates paths already named keeps only what it adds after them
        // (`failed to read directory `x`: <reason>` under `cannot read `x``: the reason).
        let named = quoted(mine);
        let restated = !named.is_empty()
            && named
                .iter()
                .all(|q| own.iter().any(|o| quoted(o).contains(q)));
        if restated {
            let rest = mine.rsplit_once('`').map_or("", |(_, r)| r);
            let rest = rest.trim_start_matches([':', ' ']);
            if !rest.is_empty() && !own.iter().any(|o| o.contains(rest)) {
                own.push(rest.to_string());
            }
            continue;
        }
        own.push(mine.to_string());
    }
    own.join(": ")
}

/// The backticked values of a message, as the project's messages quote paths.
fn quoted(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrap {
        msg: String,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    }
    impl std::fmt::Display for Wrap {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.msg)
        }
    }
    impl std::error::Error for Wrap {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.source.as_deref().map(|e| e as _)
        }
    }

    fn io(path: &str) -> Wrap {
        let raw = std::io::Error::from(std::io::ErrorKind::NotFound);
        Wrap {
            msg: format!("failed to read directory `{path}`: {raw}"),
            source: Some(Box::new(raw)),
        }
    }

    #[test]
    fn a_cause_embedded_in_its_parent_is_said_once() {
        let inner = io("/nonexistent");
        let outer = Wrap {
            msg: format!("cannot read config directory `/nonexistent`: {inner}"),
            source: Some(Box::new(inner)),
        };
        let line = chain(&anyhow::Error::new(outer));
        let raw = std::io::Error::from(std::io::ErrorKind::NotFound).to_string();
        assert_eq!(line.matches("`/nonexistent`").count(), 1, "{line}");
        assert_eq!(line.matches(raw.as_str()).count(), 1, "{line}");
        assert!(line.starts_with("cannot read config directory"), "{line}");
    }

    #[test]
    fn distinct_causes_are_all_kept() {
        let err = anyhow::Error::new(io("rules/packs/redis/alerts.yaml"))
            .context("cannot read rule packs in `rules/packs`");
        let line = chain(&err);
        assert!(line.contains("`rules/packs`"), "{line}");
        assert!(line.contains("`rules/packs/redis/alerts.yaml`"), "{line}");
        let plain = anyhow::anyhow!("no valid tenant `db-z` in `conf.d`");
        assert_eq!(chain(&plain), "no valid tenant `db-z` in `conf.d`");
    }
}
