//! A YAML document tree that remembers the line and column of every node.
//!
//! Built from `yaml-rust2` parser events. Duplicate mapping keys are reported
//! instead of silently overwritten; anchors and aliases are resolved by copy.

use std::collections::HashMap;

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

/// A problem found while parsing, with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseProblem {
    pub pos: Pos,
    pub message: String,
    pub hint: Option<String>,
}

enum Frame {
    Seq(Vec<Node>, Pos, usize),
    Map(Vec<(Node, Node)>, Option<Node>, Pos, usize),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    docs: Vec<Node>,
    anchors: HashMap<usize, Node>,
    problems: Vec<ParseProblem>,
}

impl Builder {
    fn push_value(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq(items, _, _)) => items.push(node),
            Some(Frame::Map(entries, pending, _, _)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => {
                    if let Some(k) = key.as_str() {
                        if let Some((first, _)) =
                            entries.iter().find(|(e, _)| e.as_str() == Some(k))
                        {
                            self.problems.push(ParseProblem {
                                pos: key.pos,
                                message: format!(
                                    "duplicate key `{k}` (first defined at line {})",
                                    first.pos.line
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
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = Pos::from_marker(&mark);
        match ev {
            Event::Scalar(value, style, anchor, _tag) => {
                let quoted = !matches!(style, TScalarStyle::Plain);
                self.push_value(
                    Node {
                        kind: NodeKind::Scalar { value, quoted },
                        pos,
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq(Vec::new(), pos, anchor)),
            Event::MappingStart(anchor, _) => {
                self.stack.push(Frame::Map(Vec::new(), None, pos, anchor))
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq(items, pos, anchor)) => (
                        Node {
                            kind: NodeKind::Seq(items),
                            pos,
                        },
                        anchor,
                    ),
                    Some(Frame::Map(entries, _, pos, anchor)) => (
                        Node {
                            kind: NodeKind::Map(entries),
                            pos,
                        },
                        anchor,
                    ),
                    None => return,
                };
                self.push_value(node, anchor);
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().unwrap_or(Node {
                    kind: NodeKind::Scalar {
                        value: String::new(),
                        quoted: false,
                    },
                    pos,
                });
                self.push_value(node, 0);
            }
            _ => {}
        }
    }
}

/// Parses one YAML document. An empty file yields `Ok(None)`.
///
/// Syntax errors end parsing; duplicate keys are collected and parsing goes on.
pub fn parse(text: &str) -> Result<Option<Node>, Vec<ParseProblem>> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, true) {
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
    fn empty_document_is_none() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("# only a comment\n").unwrap(), None);
    }
}
