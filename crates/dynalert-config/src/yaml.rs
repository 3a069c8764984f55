//! A YAML document tree that remembers the line and column of every node.
//!
//! Built from `yaml-rust2` parser events. Duplicate mapping keys are reported
//! instead of silently overwritten (in linear time); anchors and aliases are
//! resolved by copy. Every file is untrusted input, so the tree is bounded while
//! it is built: nesting depth and node count (aliases count with the size of what
//! they copy) stop the build at the first node over a [`Limits`] bound, before
//! any deep recursion or large allocation can happen.

use std::collections::{HashMap, HashSet};

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl Pos {
    fn from_marker(m: &Marker) -> Pos {
        Pos {
            line: u32::try_from(m.line()).unwrap_or(u32::MAX).max(1),
            col: u32::try_from(m.col() + 1).unwrap_or(u32::MAX),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A scalar; `quoted` is true for quoted and block scalars (never a number or null).
    Scalar {
        value: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub pos: Pos,
}

impl Node {
    /// The scalar text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { value, quoted: false } if value.is_empty() || value == "~" || value == "null" || value == "Null" || value == "NULL")
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// Value of a mapping entry by key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// A short name of the node's type for messages.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar { .. } if self.is_null() => "null",
            NodeKind::Scalar { .. } => "scalar",
            NodeKind::Seq(_) => "list",
            NodeKind::Map(_) => "mapping",
        }
    }

    /// Converts to JSON (scalars typed like YAML 1.2 core schema).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.kind {
            NodeKind::Scalar { value, quoted } => {
                if *quoted {
                    return serde_json::Value::String(value.clone());
                }
                if self.is_null() {
                    return serde_json::Value::Null;
                }
                match value.as_str() {
                    "true" | "True" | "TRUE" => return serde_json::Value::Bool(true),
                    "false" | "False" | "FALSE" => return serde_json::Value::Bool(false),
                    _ => {}
                }
                if let Ok(i) = value.parse::<i64>() {
                    return serde_json::Value::from(i);
                }
                match value.parse::<f64>() {
                    Ok(f) if f.is_finite() && looks_numeric(value) => serde_json::Value::from(f),
                    _ => serde_json::Value::String(value.clone()),
                }
            }
            NodeKind::Seq(items) => items.iter().map(Node::to_json).collect(),
            NodeKind::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

fn looks_numeric(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
}

/// Bounds on one parsed file. Every tree the loader builds respects them, so code
/// that walks a tree (validation, `Drop`, JSON conversion) never recurses deeper
/// than `max_depth` nor touches more than `max_nodes` nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file accepted, in bytes.
    pub max_bytes: u64,
    /// Deepest nesting of sequences and mappings.
    pub max_depth: usize,
    /// Most nodes in one document, counting each alias as the nodes it copies.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_bytes: 1 << 20,
            max_depth: 64,
            max_nodes: 100_000,
        }
    }
}

/// A problem found while parsing, with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseProblem {
    pub pos: Pos,
    pub message: String,
    pub hint: Option<String>,
}

/// A sequence or mapping under construction: its children, start, anchor id and
/// the number of nodes below it.
struct Frame {
    kind: FrameKind,
    pos: Pos,
    anchor: usize,
    size: usize,
}

enum FrameKind {
    Seq(Vec<Node>),
    /// Entries, the key waiting for its value, and the keys seen (duplicate check).
    Map(Vec<(Node, Node)>, Option<Node>, HashSet<String>),
}

#[derive(Default)]
struct Builder {
    limits: Limits,
    stack: Vec<Frame>,
    docs: Vec<Node>,
    /// Anchor id -> (node, node count).
    anchors: HashMap<usize, (Node, usize)>,
    problems: Vec<ParseProblem>,
    /// Nodes built so far, aliases counted with their size.
    nodes: usize,
    /// Set when a limit was exceeded: every further event is ignored.
    stopped: bool,
}

impl Builder {
    /// Counts `size` more nodes; false (and the build stops) when over the limit.
    fn count(&mut self, size: usize, pos: Pos) -> bool {
        self.nodes = self.nodes.saturating_add(size);
        if self.nodes > self.limits.max_nodes {
            self.stop(
                pos,
                format!(
                    "document has more than {} nodes (aliases count as the nodes they repeat)",
                    self.limits.max_nodes
                ),
                "split the file or remove repeated aliases; the limit is `--config.max-nodes`",
            );
            return false;
        }
        true
    }

    fn stop(&mut self, pos: Pos, message: String, hint: &str) {
        self.stopped = true;
        self.problems.push(ParseProblem {
            pos,
            message,
            hint: Some(hint.into()),
        });
        // Drop the partial tree now, iteratively: no frame is deeper than the limit.
        while let Some(frame) = self.stack.pop() {
            drop(frame);
        }
        self.anchors.clear();
    }

    fn push_value(&mut self, node: Node, size: usize, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        let Some(frame) = self.stack.last_mut() else {
            self.docs.push(node);
            return;
        };
        frame.size = frame.size.saturating_add(size);
        match &mut frame.kind {
            FrameKind::Seq(items) => items.push(node),
            FrameKind::Map(entries, pending, seen) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => {
                    if let Some(k) = key.as_str() {
                        if !seen.insert(k.to_string()) {
                            let first = entries
                                .iter()
                                .find(|(e, _)| e.as_str() == Some(k))
                                .map_or(0, |(e, _)| e.pos.line);
                            self.problems.push(ParseProblem {
                                pos: key.pos,
                                message: format!(
                                    "duplicate key {} (first defined at line {first})",
                                    quote(k)
                                ),
                                hint: Some("remove one of the two entries".into()),
                            });
                            return;
                        }
                    }
                    entries.push((key, node));
                }
            },
        }
    }

    fn open(&mut self, kind: FrameKind, pos: Pos, anchor: usize) {
        if self.stack.len() >= self.limits.max_depth {
            let max = self.limits.max_depth;
            self.stop(
                pos,
                format!("nesting is deeper than {max} levels"),
                "flatten the structure; the limit is `--config.max-depth`",
            );
            return;
        }
        if self.count(1, pos) {
            self.stack.push(Frame {
                kind,
                pos,
                anchor,
                size: 1,
            });
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.stopped {
            return;
        }
        let pos = Pos::from_marker(&mark);
        match ev {
            Event::Scalar(value, style, anchor, _tag) => {
                if !self.count(1, pos) {
                    return;
                }
                let quoted = !matches!(style, TScalarStyle::Plain);
                self.push_value(
                    Node {
                        kind: NodeKind::Scalar { value, quoted },
                        pos,
                    },
                    1,
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => self.open(FrameKind::Seq(Vec::new()), pos, anchor),
            Event::MappingStart(anchor, _) => self.open(
                FrameKind::Map(Vec::new(), None, HashSet::new()),
                pos,
                anchor,
            ),
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return;
                };
                let kind = match frame.kind {
                    FrameKind::Seq(items) => NodeKind::Seq(items),
                    FrameKind::Map(entries, _, _) => NodeKind::Map(entries),
                };
                let node = Node {
                    kind,
                    pos: frame.pos,
                };
                self.push_value(node, frame.size, frame.anchor);
            }
            Event::Alias(id) => {
                let Some(size) = self.anchors.get(&id).map(|(_, s)| *s) else {
                    let empty = Node {
                        kind: NodeKind::Scalar {
                            value: String::new(),
                            quoted: false,
                        },
                        pos,
                    };
                    self.push_value(empty, 1, 0);
                    return;
                };
                // Count before copying: an alias bomb stops here, not after the copy.
                if !self.count(size, pos) {
                    return;
                }
                let node = self.anchors[&id].0.clone();
                self.push_value(node, size, 0);
            }
            _ => {}
        }
    }
}

/// A user value for a message: at most 64 characters, with the full length when cut.
pub fn quote(value: &str) -> String {
    const MAX: usize = 64;
    match value.char_indices().nth(MAX) {
        None => format!("`{value}`"),
        Some((cut, _)) => format!("`{}…` ({} bytes)", &value[..cut], value.len()),
    }
}

/// Parses one YAML document with the default [`Limits`]. An empty file yields `Ok(None)`.
pub fn parse(text: &str) -> Result<Option<Node>, Vec<ParseProblem>> {
    parse_with(text, Limits::default())
}

/// Parses one YAML document within `limits`. An empty file yields `Ok(None)`; a leading
/// byte-order mark is ignored.
///
/// Syntax errors and exceeded limits end parsing; duplicate keys are collected and
/// parsing goes on.
pub fn parse_with(text: &str, limits: Limits) -> Result<Option<Node>, Vec<ParseProblem>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Most files have a simple shape read directly; anything else goes to the full parser.
    if let Some(doc) = crate::yaml_fast::parse(text, limits) {
        return Ok(Some(doc));
    }
    parse_full(text, limits)
}

/// The full parser (`yaml-rust2` events), for a text without byte-order mark.
pub(crate) fn parse_full(text: &str, limits: Limits) -> Result<Option<Node>, Vec<ParseProblem>> {
    let mut builder = Builder {
        limits,
        ..Builder::default()
    };
    let mut parser = Parser::new_from_str(text);
    // Events are pulled one by one: `Parser::load` recurses per nesting level.
    let result = loop {
        match parser.next_token() {
            Err(e) => break Err(e),
            Ok((Event::StreamEnd, _)) => break Ok(()),
            Ok((ev, mark)) => {
                builder.on_event(ev, mark);
                if builder.stopped {
                    return Err(builder.problems);
                }
            }
        }
    };
    if let Err(e) = result {
        let mut problems = builder.problems;
        problems.push(ParseProblem {
            pos: Pos::from_marker(e.marker()),
            message: format!("invalid YAML: {}", e.info()),
            hint: None,
        });
        return Err(problems);
    }
    if builder.docs.len() > 1 {
        builder.problems.push(ParseProblem {
            pos: builder.docs[1].pos,
            message: "more than one YAML document in the file".into(),
            hint: Some("remove the `---` separator; use one file per tenant".into()),
        });
    }
    if !builder.problems.is_empty() {
        return Err(builder.problems);
    }
    Ok(builder.docs.into_iter().next().filter(|d| !d.is_null()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let doc = parse("a:\n  b: 1\n").unwrap().unwrap();
        let b = doc.get("a").unwrap().get("b").unwrap();
        assert_eq!(b.pos, Pos { line: 2, col: 6 });
        let (key, _) = &doc.get("a").unwrap().as_map().unwrap()[0];
        assert_eq!(key.pos, Pos { line: 2, col: 3 });
    }

    #[test]
    fn duplicate_keys_are_reported() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(err[0].pos.line, 3);
        assert!(err[0].message.contains("duplicate key `a`"));
    }

    #[test]
    fn syntax_error_has_position() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err[0].message.starts_with("invalid YAML"));
        assert!(err[0].pos.line >= 1);
    }

    #[test]
    fn quoted_scalars_are_marked() {
        let doc = parse("a: \"70\"\nb: 70\n").unwrap().unwrap();
        assert_eq!(
            doc.get("a").unwrap().kind,
            NodeKind::Scalar {
                value: "70".into(),
                quoted: true
            }
        );
        assert_eq!(doc.get("b").unwrap().to_json(), serde_json::json!(70));
    }

    #[test]
    fn deep_nesting_stops_at_the_depth_limit() {
        let text = "- ".repeat(10_000) + "x\n";
        let err = parse(&text).unwrap_err();
        assert_eq!(err.len(), 1);
        assert!(
            err[0].message.contains("deeper than 64 levels"),
            "{}",
            err[0].message
        );
        assert!(err[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("--config.max-depth"));
        let flow = "[".repeat(10_000) + &"]".repeat(10_000);
        let e = parse(&flow).unwrap_err();
        assert!(
            e[0].message.contains("deeper than") || e[0].message.contains("recursion"),
            "{}",
            e[0].message
        );
        // Exactly at the limit is fine.
        let ok = "[".repeat(64) + &"]".repeat(64);
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn alias_bomb_stops_before_expansion() {
        let mut text = String::from("l0: &l0 [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*l{}", i - 1); 9].join(", ");
            text.push_str(&format!("l{i}: &l{i} [{refs}]\n"));
        }
        let started = std::time::Instant::now();
        let err = parse(&text).unwrap_err();
        assert!(
            err[0].message.contains("more than 100000 nodes"),
            "{}",
            err[0].message
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn many_keys_are_checked_for_duplicates_in_one_pass() {
        let mut text: String = (0..50_000).map(|i| format!("k{i}: 1\n")).collect();
        text.push_str("k17: 2\n");
        let err = parse_with(
            &text,
            Limits {
                max_nodes: 1_000_000,
                ..Limits::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(err[0].pos.line, 50_001);
        assert!(err[0].message.contains("first defined at line 18"));
    }

    #[test]
    fn long_values_are_quoted_by_a_prefix() {
        let q = quote(&"x".repeat(200_000));
        assert!(q.len() < 120, "{q}");
        assert!(q.contains("200000 bytes"));
        assert_eq!(quote("short"), "`short`");
    }

    #[test]
    fn byte_order_mark_is_ignored() {
        let doc = parse("\u{feff}a: 1\n").unwrap().unwrap();
        assert_eq!(doc.get("a").unwrap().as_str(), Some("1"));
    }

    #[test]
    fn empty_document_is_none() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("# only a comment\n").unwrap(), None);
    }
}
