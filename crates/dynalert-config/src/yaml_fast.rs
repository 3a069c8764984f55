//! A fast reader for the plain shape most config files have, with the same result as
//! the full parser.
//!
//! Tenant and platform files are nearly always block mappings of `key: value` lines,
//! values being plain or quoted one-line scalars or one-line flow collections
//! (`{warning: 70, critical: 90}`, `[mon, tue]`). This reader builds the [`Node`] tree of
//! such a file directly, with the positions the full parser gives. At the first thing
//! outside that shape (anchors, tags, escapes, block scalars, multi-line values, tabs,
//! non-ASCII text, empty values, duplicate keys, a limit reached, any doubt) it gives
//! up and the full parser reads the file, so findings and their messages come from one
//! place. `tests::same_tree_as_the_full_parser` checks the two agree.

use std::collections::HashSet;

use crate::yaml::{Limits, Node, NodeKind, Pos};

/// Longest key read here: the full parser refuses implicit keys over 1024 characters.
const MAX_KEY: usize = 512;

/// Maps with more entries than this check duplicates with a hash set.
const LINEAR_DUPLICATE_CHECK: usize = 16;

/// One line holding content (not blank, not only a comment).
#[derive(Clone, Copy)]
struct Line<'a> {
    /// 1-based line number.
    no: u32,
    /// Leading spaces.
    indent: usize,
    /// The whole line, without the newline.
    text: &'a [u8],
    /// One more than the deepest indent of the comment-only lines right before this
    /// line (0: none).
    comments_before: usize,
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    /// `comments_before` of the end of the text.
    comments_after: usize,
    next: usize,
    nodes: usize,
    limits: Limits,
}

/// Result of a step: `None` means "not the simple shape, use the full parser".
type Step<T> = Option<T>;

/// Reads `text` (BOM already removed) when it has the simple shape; `None` otherwise.
pub(crate) fn parse(text: &str, limits: Limits) -> Option<Node> {
    let bytes = text.as_bytes();
    // ASCII only (columns are then bytes), no tabs, no carriage returns, no controls.
    if bytes
        .iter()
        .any(|&b| !(b == b'\n' || (0x20..0x7f).contains(&b)))
    {
        return None;
    }
    let mut lines = Vec::with_capacity(bytes.iter().filter(|&&b| b == b'\n').count() + 1);
    let mut comments = 0;
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.as_bytes();
        let indent = raw.iter().take_while(|&&b| b == b' ').count();
        let rest = &raw[indent..];
        if rest.is_empty() {
            continue;
        }
        if rest[0] == b'#' {
            comments = comments.max(indent + 1);
            continue;
        }
        lines.push(Line {
            no: u32::try_from(i + 1).ok()?,
            indent,
            text: raw,
            comments_before: comments,
        });
        comments = 0;
    }
    let first = *lines.first()?;
    if first.indent != 0 {
        return None;
    }
    let mut r = Reader {
        lines,
        comments_after: comments,
        next: 0,
        nodes: 0,
        limits,
    };
    let root = r.block_map(0, 1)?;
    (r.next == r.lines.len()).then_some(root)
}

fn pos(line: u32, col: usize) -> Step<Pos> {
    Some(Pos {
        line,
        col: u32::try_from(col + 1).ok()?,
    })
}

fn scalar(value: &[u8], quoted: bool, pos: Pos) -> Node {
    Node {
        // The text is ASCII, checked at the start.
        kind: NodeKind::Scalar {
            value: std::str::from_utf8(value)
                .map(str::to_owned)
                .unwrap_or_default(),
            quoted,
        },
        pos,
    }
}

/// Characters of a plain scalar in a block value or a plain key.
fn plain_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b' ' | b'_' | b'.' | b'-' | b'+' | b'/' | b':' | b'@' | b'=' | b'~' | b'(' | b')'
        )
}

/// Characters a plain scalar may start with.
fn plain_start(b: u8, next: Option<u8>) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(b, b'_' | b'.' | b'/' | b'+' | b'~' | b'(')
        || (b == b'-' && next.is_some_and(|n| n.is_ascii_alphanumeric() || n == b'.'))
}

/// Characters of a plain scalar inside a flow collection.
fn flow_plain_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b' ' | b'_' | b'.' | b'-' | b'+' | b'/')
}

fn skip_spaces(s: &[u8], mut i: usize) -> usize {
    while s.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

/// Whether the rest of a line from `i` is spaces and an optional comment.
fn line_ends(s: &[u8], i: usize) -> bool {
    let j = skip_spaces(s, i);
    j == s.len() || (s[j] == b'#' && j > i)
}

/// A quoted scalar starting at `s[i]` (`"` or `'`) with no escape inside; returns the
/// content and the index after the closing quote.
fn quoted(s: &[u8], i: usize) -> Step<(&[u8], usize)> {
    let q = s[i];
    let len = s[i + 1..].iter().position(|&b| b == q)?;
    let content = &s[i + 1..i + 1 + len];
    if content.contains(&b'\\') {
        return None;
    }
    Some((content, i + 2 + len))
}

impl<'a> Reader<'a> {
    fn count(&mut self) -> Step<()> {
        self.nodes += 1;
        (self.nodes <= self.limits.max_nodes).then_some(())
    }

    fn peek(&self) -> Option<Line<'a>> {
        self.lines.get(self.next).copied()
    }

    /// The next content line after a one-line value at block indent `indent` must not be
    /// deeper (that would continue the value over lines).
    fn value_done(&self, indent: usize) -> Step<()> {
        match self.peek() {
            Some(l) if l.indent > indent => None,
            _ => Some(()),
        }
    }

    /// A block mapping whose keys sit at column `indent`; `depth` counts the open
    /// collections including this one.
    fn block_map(&mut self, indent: usize, depth: usize) -> Step<Node> {
        if depth > self.limits.max_depth {
            return None;
        }
        self.count()?;
        // The full parser places a block mapping at the `:` of its first key.
        let mut map_pos = None;
        let mut entries: Vec<(Node, Node)> = Vec::new();
        let mut seen: Option<HashSet<&[u8]>> = None;
        let mut raws: Vec<&[u8]> = Vec::new();
        while let Some(line) = self.peek() {
            if line.indent < indent {
                break;
            }
            if line.indent > indent {
                return None;
            }
            self.next += 1;
            let s = line.text;
            let (key, raw, after) = self.key(s, indent, line.no)?;
            if map_pos.is_none() {
                map_pos = Some(pos(line.no, after - 1)?);
            }
            // Duplicate keys are the full parser's to report.
            if raws.len() < LINEAR_DUPLICATE_CHECK {
                if raws.contains(&raw) {
                    return None;
                }
            } else {
                let set = seen.get_or_insert_with(|| raws.iter().copied().collect());
                if !set.insert(raw) {
                    return None;
                }
            }
            raws.push(raw);
            let v = skip_spaces(s, after);
            let value = if line_ends(s, after) {
                // The value is the block below: deeper lines.
                let below = self.peek()?;
                if below.indent <= indent {
                    return None;
                }
                let t = &below.text[below.indent..];
                if t[0] == b'-' && t.get(1).is_none_or(|&b| b == b' ') {
                    self.block_seq(below.indent, depth + 1)?
                } else {
                    self.block_map(below.indent, depth + 1)?
                }
            } else {
                let (node, end) = self.inline_value(s, v, line.no, depth + 1)?;
                if !line_ends(s, end) {
                    return None;
                }
                self.plain_then_comment(&node, indent)?;
                self.value_done(indent)?;
                node
            };
            entries.push((key, value));
        }
        Some(Node {
            kind: NodeKind::Map(entries),
            pos: map_pos?,
        })
    }

    /// A plain scalar followed by deeper comment lines is left to the full parser.
    fn plain_then_comment(&self, node: &Node, indent: usize) -> Step<()> {
        let plain = matches!(node.kind, NodeKind::Scalar { quoted: false, .. });
        let comments = self
            .peek()
            .map_or(self.comments_after, |l| l.comments_before);
        (!plain || comments <= indent + 1).then_some(())
    }

    /// A block sequence whose `-` sit at column `indent`.
    fn block_seq(&mut self, indent: usize, depth: usize) -> Step<Node> {
        if depth > self.limits.max_depth {
            return None;
        }
        self.count()?;
        let first = self.peek()?;
        let seq_pos = pos(first.no, indent)?;
        let mut items = Vec::new();
        while let Some(line) = self.peek() {
            if line.indent < indent {
                break;
            }
            let s = line.text;
            if line.indent > indent || s[indent] != b'-' || s.get(indent + 1) != Some(&b' ') {
                return None;
            }
            self.next += 1;
            let v = skip_spaces(s, indent + 1);
            if v == s.len() || s[v] == b'#' || s[v] == b'-' {
                return None;
            }
            let (node, end) = self.inline_value(s, v, line.no, depth + 1)?;
            if !line_ends(s, end) {
                return None;
            }
            self.plain_then_comment(&node, indent)?;
            self.value_done(indent)?;
            items.push(node);
        }
        Some(Node {
            kind: NodeKind::Seq(items),
            pos: seq_pos,
        })
    }

    /// The key of a block mapping line at `s[i]`: plain or quoted, then `:` and a space
    /// or the end of the line. Returns the key and the index after the `:`.
    fn key(&mut self, s: &'a [u8], i: usize, line: u32) -> Step<(Node, &'a [u8], usize)> {
        self.count()?;
        let p = pos(line, i)?;
        let (node, raw, end) = match s[i] {
            b'"' | b'\'' => {
                let (content, end) = quoted(s, i)?;
                (scalar(content, true, p), content, end)
            }
            b if b.is_ascii_alphanumeric() || b == b'_' => {
                let mut j = i;
                while j < s.len() && !(s[j] == b':' && s.get(j + 1).is_none_or(|&b| b == b' ')) {
                    if !matches!(s[j], b'_' | b'.' | b'-' | b'/') && !s[j].is_ascii_alphanumeric() {
                        return None;
                    }
                    j += 1;
                }
                (scalar(&s[i..j], false, p), &s[i..j], j)
            }
            _ => return None,
        };
        if end - i > MAX_KEY || s.get(end) != Some(&b':') {
            return None;
        }
        if s.get(end + 1).is_some_and(|&b| b != b' ') {
            return None;
        }
        Some((node, raw, end + 1))
    }

    /// A one-line value at `s[i]` in block context: a scalar or a flow collection.
    /// Returns the node and the index after it.
    fn inline_value(
        &mut self,
        s: &'a [u8],
        i: usize,
        line: u32,
        depth: usize,
    ) -> Step<(Node, usize)> {
        let p = pos(line, i)?;
        match s[i] {
            b'{' | b'[' => self.flow(s, i, line, depth),
            b'"' | b'\'' => {
                self.count()?;
                let (content, end) = quoted(s, i)?;
                Some((scalar(content, true, p), end))
            }
            b if plain_start(b, s.get(i + 1).copied()) => {
                self.count()?;
                let mut j = i;
                while j < s.len() {
                    let b = s[j];
                    if b == b' ' && s.get(j + 1) == Some(&b'#') {
                        break;
                    }
                    if b == b':' && s.get(j + 1).is_none_or(|&n| n == b' ') {
                        return None;
                    }
                    if !plain_char(b) {
                        return None;
                    }
                    j += 1;
                }
                let mut end = j;
                while end > i && s[end - 1] == b' ' {
                    end -= 1;
                }
                Some((scalar(&s[i..end], false, p), end))
            }
            _ => None,
        }
    }

    /// A flow collection opening at `s[i]` and closing on the same line.
    fn flow(&mut self, s: &'a [u8], i: usize, line: u32, depth: usize) -> Step<(Node, usize)> {
        if depth > self.limits.max_depth {
            return None;
        }
        self.count()?;
        let p = pos(line, i)?;
        let map = s[i] == b'{';
        let close = if map { b'}' } else { b']' };
        let mut j = skip_spaces(s, i + 1);
        let mut entries = Vec::new();
        let mut items = Vec::new();
        if s.get(j) == Some(&close) {
            j += 1;
        } else {
            loop {
                if map {
                    let (key, end) = self.flow_scalar(s, j, line)?;
                    if s.get(end) != Some(&b':') || s.get(end + 1) != Some(&b' ') {
                        return None;
                    }
                    let k = key.as_str()?;
                    if entries
                        .iter()
                        .any(|(e, _): &(Node, Node)| e.as_str() == Some(k))
                    {
                        return None;
                    }
                    let v = skip_spaces(s, end + 1);
                    let (value, end) = self.flow_item(s, v, line, depth)?;
                    entries.push((key, value));
                    j = end;
                } else {
                    let (item, end) = self.flow_item(s, j, line, depth)?;
                    items.push(item);
                    j = end;
                }
                j = skip_spaces(s, j);
                match s.get(j) {
                    Some(&b',') => {
                        j = skip_spaces(s, j + 1);
                        // No empty or trailing entries.
                        if matches!(s.get(j), None | Some(b',' | b'}' | b']')) {
                            return None;
                        }
                    }
                    Some(&b) if b == close => {
                        j += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        let kind = if map {
            NodeKind::Map(entries)
        } else {
            NodeKind::Seq(items)
        };
        Some((Node { kind, pos: p }, j))
    }

    /// A value inside a flow collection: a scalar or a nested flow collection.
    fn flow_item(&mut self, s: &'a [u8], i: usize, line: u32, depth: usize) -> Step<(Node, usize)> {
        match s.get(i)? {
            b'{' | b'[' => self.flow(s, i, line, depth + 1),
            _ => {
                let (node, end) = self.flow_scalar(s, i, line)?;
                // `[a: 1]` is a one-pair mapping: not read here.
                if s.get(end) == Some(&b':') {
                    return None;
                }
                Some((node, end))
            }
        }
    }

    /// A scalar inside a flow collection; returns it and the index after it (trailing
    /// spaces of a plain scalar excluded).
    fn flow_scalar(&mut self, s: &'a [u8], i: usize, line: u32) -> Step<(Node, usize)> {
        self.count()?;
        let p = pos(line, i)?;
        match *s.get(i)? {
            b'"' | b'\'' => {
                let (content, end) = quoted(s, i)?;
                Some((scalar(content, true, p), end))
            }
            b if plain_start(b, s.get(i + 1).copied()) => {
                let mut j = i;
                while j < s.len() && flow_plain_char(s[j]) {
                    j += 1;
                }
                let mut end = j;
                while end > i && s[end - 1] == b' ' {
                    end -= 1;
                }
                // After a space, each word starts as a scalar would: the full parser
                // rejects `[a, b -]`, so this reader leaves such text to it.
                if (i + 1..end).any(|k| {
                    s[k - 1] == b' ' && s[k] != b' ' && !plain_start(s[k], s.get(k + 1).copied())
                }) {
                    return None;
                }
                match s.get(j) {
                    Some(b',' | b'}' | b']') => {}
                    Some(b':') if s.get(j + 1) == Some(&b' ') && end == j => {}
                    _ => return None,
                }
                Some((scalar(&s[i..end], false, p), end))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::parse;
    use crate::yaml::{parse_full, Limits, NodeKind};

    /// Where the fast reader gives a tree, it is the full parser's tree.
    fn agree(text: &str, limits: Limits) -> bool {
        let Some(fast) = parse(text, limits) else {
            return false;
        };
        let full = parse_full(text, limits);
        assert_eq!(
            full,
            Ok(Some(fast)),
            "the fast reader disagrees with the full parser on:\n{text}"
        );
        true
    }

    /// Files in the shape of generated and hand-written conf.d files: the fast reader
    /// takes them (otherwise it would speed nothing up) and agrees.
    #[test]
    fn reads_the_usual_shapes() {
        let texts = [
            "tenants:\n  tenant-00001:\n    svc_metric00: \"61\"\n    svc_metric08: disable\n    svc_metric10:\n      default: 70\n      overrides:\n        - {window: \"22:00-06:00\", timezone: \"Asia/Taipei\", days: [mon, tue, wed, thu, fri], value: 95}\n    \"svc_metric11{container='app'}\": \"91\"\n    _metadata: {tier: standard, owner: team-1, namespaces: [tenant-00001]}\n",
            "defaults:\n  svc_metric00: {warning: 50, critical: 90}\n  svc_metric01: 51\nstate_filters:\n  container_crashloop: {reasons: [CrashLoopBackOff], severity: critical}\n",
            "tenancy:\n  db-a: {tier: vip, namespaces: [db-a, db-a-batch]}\n  db-b: {namespaces: [db-b]}\n",
            "# comment\ntenants:\n  db-a:   # trailing comment\n    # indented comment\n    mysql_connections: 70  # why\n    mysql_cpu: \"80:critical\"\n    runbook: https://example.com/x\n\n    list:\n      - a\n      - 'b c'\n      - [1, 2]\n",
            "a: -5\nb: 1.5h\nc: ~\nd: \"\"\ne: ''\nf: {}\ng: []\nh: [ a , b ]\n",
        ];
        for text in texts {
            assert!(agree(text, Limits::default()), "not read fast:\n{text}");
        }
    }

    /// Shapes the fast reader leaves to the full parser (errors, and YAML it does not read).
    #[test]
    fn leaves_the_rest_to_the_full_parser() {
        let texts = [
            "",
            "# only a comment\n",
            "a: 1\na: 2\n",
            "a:\n",
            "a: &x 1\nb: *x\n",
            "a: !tag 1\n",
            "a: |\n  text\n",
            "a: plain\n  continued\n",
            "a: \"esc\\\"aped\"\n",
            "a:\tb\n",
            "a: café\n",
            "a: 1\r\nb: 2\r\n",
            "---\na: 1\n",
            "a: 1\n---\nb: 2\n",
            "- a\n- b\n",
            "  a: 1\n",
            "a:\n- b\n",
            "a: {b: 1,}\n",
            "a: {b: 1\n  , c: 2}\n",
            "a: [b: 1]\n",
            "a: {b:1}\n",
            "a: x #y\n   # deeper comment\nb: 1\n",
            "a:b: 1\n",
            "a: b: c\n",
            "? a\n: b\n",
            // A word after a space that no scalar may start with (the full parser rejects
            // the first; found by the property test below).
            "s: [ a , b -]\n",
            "s: {a: b -}\n",
        ];
        for text in texts {
            assert!(
                parse(text, Limits::default()).is_none(),
                "read fast but should not be:\n{text}"
            );
        }
        // Limits: the full parser reports them.
        let deep = "a: [[[[1]]]]\n";
        let tight = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        assert!(parse(deep, tight).is_none());
        assert!(parse(deep, Limits::default()).is_some());
        let few = Limits {
            max_nodes: 4,
            ..Limits::default()
        };
        assert!(parse("a: 1\nb: 2\n", few).is_none());
        assert!(parse("a: 1\n", few).is_some());
        let many_keys: String = (0..100).map(|i| format!("k{i}: 1\n")).collect();
        assert!(agree(&many_keys, Limits::default()));
        assert!(parse(&(many_keys + "k42: 2\n"), Limits::default()).is_none());
    }

    /// Every YAML file of the repository (and of the upstream corpus when it is there).
    #[test]
    fn agrees_on_every_yaml_file_of_the_repository() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut todo: Vec<std::path::PathBuf> =
            ["testdata", "examples", "rules", "deploy", "crates", "docs"]
                .iter()
                .map(|d| root.join(d))
                .collect();
        todo.push(root.join("../shared/compat"));
        todo.push(root.join("../../shared/compat"));
        let (mut files, mut fast) = (0, 0);
        while let Some(dir) = todo.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let path = e.path();
                if path.is_dir() {
                    if !path.ends_with("target") {
                        todo.push(path);
                    }
                    continue;
                }
                let name = path.to_string_lossy().to_ascii_lowercase();
                if !(name.ends_with(".yaml") || name.ends_with(".yml")) {
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
                files += 1;
                if agree(text, Limits::default()) {
                    fast += 1;
                }
            }
        }
        eprintln!("{fast} of {files} YAML files read fast");
        assert!(files > 100, "only {files} YAML files found");
        assert!(fast > 20, "only {fast} of {files} files were read fast");
    }

    /// A generated document: scalars and flow values as text, nested blocks.
    #[derive(Debug, Clone)]
    enum Tree {
        Leaf(&'static str),
        Map(Vec<(&'static str, Tree)>),
        Seq(Vec<&'static str>),
    }

    fn keys() -> impl Strategy<Value = &'static str> {
        let good = prop::sample::select(vec![
            "a",
            "b",
            "k1",
            "_m",
            "x-y",
            "a.b",
            "a/b",
            "1",
            "\"q\"",
            "\"q: #{}\"",
            "'s'",
            "\"svc{container='app'}\"",
            "tenants",
            "db-a",
        ]);
        let odd =
            prop::sample::select(vec!["a b", "-a", "a:b", "? a", "&x a", "\"e\\\"\"", "\"\""]);
        prop_oneof![30 => good, 1 => odd]
    }

    fn leaves() -> impl Strategy<Value = &'static str> {
        let good = prop::sample::select(vec![
            "x",
            "1",
            "-5",
            "1.5",
            "~",
            "null",
            "disable",
            "a b",
            "a  b  ",
            "http://h:1/p",
            "80:critical",
            "\"q\"",
            "\"\"",
            "''",
            "'s t'",
            "\"q: #{}\"",
            "{}",
            "[]",
            "{a: 1}",
            "{a: 1, b: [x, y]}",
            "[a, b]",
            "[ a , b ]",
            "{a: \"1\", b: {c: []}}",
            "x # c",
            "(x)",
            "a=b",
            "-x",
            "x.y/z",
        ]);
        let odd = prop::sample::select(vec![
            "[a,b]",
            "x #c",
            "x#c",
            "{a:1}",
            "[a: 1]",
            "{a: 1,}",
            "a: b",
            "x,y",
            "@x",
            "%x",
            "`x`",
            "'s''t'",
            "\"e\\n\"",
            "&a x",
            "*a",
            "!t x",
            "|",
            ">",
            "-",
            "- x",
            "",
            "{a: 1",
            "[a, [b]]",
            "{a: {b: 1}}",
        ]);
        prop_oneof![40 => good, 1 => odd]
    }

    /// A mapping without repeated keys (the explicit tests cover duplicates).
    fn unique(mut entries: Vec<(&'static str, Tree)>) -> Tree {
        let mut seen = std::collections::HashSet::new();
        entries.retain(|(k, _)| seen.insert(k.trim_matches(['"', '\''])));
        Tree::Map(entries)
    }

    fn tree() -> impl Strategy<Value = Tree> {
        let leaf = leaves().prop_map(Tree::Leaf);
        leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                prop::collection::vec((keys(), inner), 1..6).prop_map(unique),
                prop::collection::vec(leaves(), 1..4).prop_map(Tree::Seq),
            ]
        })
    }

    fn write(tree: &Tree, indent: usize, step: usize, comment: Option<usize>, out: &mut String) {
        let pad = " ".repeat(indent);
        match tree {
            Tree::Leaf(v) => out.push_str(&format!("{v}\n")),
            Tree::Map(entries) => {
                for (k, v) in entries {
                    if let Some(c) = comment {
                        out.push_str(&format!("{}# note\n", " ".repeat(c)));
                    }
                    match v {
                        Tree::Leaf(x) => out.push_str(&format!("{pad}{k}: {x}\n")),
                        _ => {
                            out.push_str(&format!("{pad}{k}:\n"));
                            write(v, indent + step, step, comment, out);
                        }
                    }
                }
            }
            Tree::Seq(items) => {
                for x in items {
                    out.push_str(&format!("{pad}- {x}\n"));
                }
            }
        }
    }

    /// Documents with a mapping at the top, in a few indent steps, with or without
    /// comment lines, some of them mutated with one piece.
    fn text() -> impl Strategy<Value = String> {
        let top = prop::collection::vec((keys(), tree()), 1..6).prop_map(unique);
        (
            top,
            1usize..4,
            prop::option::of(0usize..6),
            prop::option::of((any::<prop::sample::Index>(), leaves())),
        )
            .prop_map(|(tree, step, comment, edit)| {
                let mut text = String::new();
                write(&tree, 0, step, comment, &mut text);
                if let Some((at, p)) = edit {
                    let i = at.index(text.len() + 1);
                    text.insert_str(i, p);
                }
                text
            })
    }

    /// Generated texts, mutated near the edges of what the fast reader takes: wherever it
    /// gives a tree, the full parser gives the same one. Enough of them are read fast
    /// for the comparison to mean something.
    #[test]
    fn same_tree_as_the_full_parser() {
        use proptest::test_runner::{Config, TestRunner};
        let mut runner = TestRunner::new(Config {
            cases: 6000,
            ..Config::default()
        });
        let fast = std::cell::Cell::new(0);
        runner
            .run(&text(), |text| {
                if agree(&text, Limits::default()) {
                    fast.set(fast.get() + 1);
                }
                Ok(())
            })
            .unwrap();
        eprintln!("{} of 6000 generated texts read fast", fast.get());
        assert!(
            fast.get() > 1500,
            "only {} generated texts read fast",
            fast.get()
        );
    }

    #[test]
    fn positions_are_those_of_the_full_parser() {
        // A direct check of the positions of each node kind (the property test covers
        // the rest).
        let text = "a:\n  b: [x, {c: 'd'}]\n  e:\n    - 1\n";
        let doc = parse(text, Limits::default()).unwrap();
        assert_eq!(doc, parse_full(text, Limits::default()).unwrap().unwrap());
        let b = doc.get("a").unwrap().get("b").unwrap();
        assert!(matches!(b.kind, NodeKind::Seq(_)));
        assert_eq!((b.pos.line, b.pos.col), (2, 6));
        // A block mapping is placed at the `:` of its first key.
        assert_eq!((doc.pos.line, doc.pos.col), (1, 2));
    }
}
