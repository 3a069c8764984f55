//! The Prometheus text exposition format (0.0.4, and the sample lines of OpenMetrics) read
//! into (name, labels, value): the one parser of scraped pages. Comments (`# HELP`, `# TYPE`,
//! `# EOF`) and blank lines are skipped; a malformed line is an error naming its line and
//! column, as Prometheus' own parser rejects it (see `tests/promtool.rs`).

use std::collections::BTreeMap;
use std::fmt;

pub type Labels = BTreeMap<String, String>;

/// One sample line: metric name, labels, value (the timestamp, if any, is dropped).
pub type Line = (String, Labels, f64);

/// A line that is not valid exposition text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exposition line {}:{}: {}",
            self.line, self.col, self.message
        )
    }
}

impl std::error::Error for ParseError {}

/// Parses a page of exposition text.
pub fn parse(text: &str) -> Result<Vec<Line>, ParseError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_start_matches([' ', '\t']);
        if line.trim_end().is_empty() || line.starts_with('#') {
            continue;
        }
        let indent = raw.len() - line.len();
        let sample = Cursor { s: line, pos: 0 }
            .sample()
            .map_err(|(pos, message)| ParseError {
                line: i + 1,
                col: indent + pos + 1,
                message,
            })?;
        out.push(sample);
    }
    Ok(out)
}

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

type Step<T> = Result<T, (usize, String)>;

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn blanks(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.pos += 1;
        }
    }

    fn fail<T>(&self, message: impl Into<String>) -> Step<T> {
        Err((self.pos, message.into()))
    }

    /// A metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`) or, without colons, a label name.
    fn name(&mut self, colons: bool) -> Step<String> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            let ok = c.is_ascii_alphabetic()
                || c == '_'
                || (colons && c == ':')
                || (self.pos > start && c.is_ascii_digit());
            if !ok {
                break;
            }
            self.pos += 1;
        }
        if self.pos == start {
            let what = if colons { "metric name" } else { "label name" };
            return self.fail(format!("expected a {what}"));
        }
        Ok(self.s[start..self.pos].to_string())
    }

    fn sample(mut self) -> Step<Line> {
        let name = self.name(true)?;
        self.blanks();
        let mut labels = Labels::new();
        if self.peek() == Some('{') {
            self.pos += 1;
            loop {
                self.blanks();
                if self.peek() == Some('}') {
                    self.pos += 1;
                    break;
                }
                let at = self.pos;
                let label = self.name(false)?;
                self.blanks();
                if self.peek() != Some('=') {
                    return self.fail(format!("expected `=` after label `{label}`"));
                }
                self.pos += 1;
                self.blanks();
                let value = self.quoted()?;
                if labels.insert(label.clone(), value).is_some() {
                    return Err((at, format!("label `{label}` given twice")));
                }
                self.blanks();
                match self.peek() {
                    Some(',') => self.pos += 1,
                    Some('}') => {}
                    _ => return self.fail("expected `,` or `}` after a label value"),
                }
            }
        }
        self.blanks();
        let rest = &self.s[self.pos..];
        let mut fields = rest.split([' ', '\t']).filter(|f| !f.is_empty());
        let Some(v) = fields.next() else {
            return self.fail("expected a value");
        };
        let value = parse_value(v).ok_or((self.pos, format!("invalid value `{v}`")))?;
        if let Some(ts) = fields.next() {
            if ts.parse::<i64>().is_err() && ts.parse::<f64>().is_err() {
                return Err((self.pos, format!("invalid timestamp `{ts}`")));
            }
        }
        if let Some(extra) = fields.next() {
            return Err((
                self.pos,
                format!("unexpected `{extra}` after the timestamp"),
            ));
        }
        Ok((name, labels, value))
    }

    /// A double-quoted label value with the escapes `\\`, `\"` and `\n`.
    fn quoted(&mut self) -> Step<String> {
        if self.peek() != Some('"') {
            return self.fail("expected `\"` to open a label value");
        }
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.s[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, '\\')) => out.push('\\'),
                    Some((_, '"')) => out.push('"'),
                    Some((j, o)) => {
                        return Err((self.pos + j, format!("invalid escape `\\{o}`")));
                    }
                    None => break,
                },
                o => out.push(o),
            }
        }
        self.fail("unterminated label value")
    }
}

/// A sample value as Go's `strconv.ParseFloat` reads it: decimal or exponent notation, `NaN`,
/// `+Inf`, `-Inf` (any case).
fn parse_value(v: &str) -> Option<f64> {
    let body = v.trim_start_matches(['+', '-']);
    let special = body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("nan");
    let numeric = body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !(special || numeric) || v.len() - body.len() > 1 {
        return None;
    }
    v.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_line_is_located() {
        let err = parse("# HELP a b\na 1\nb{x=\"1} 2\n").unwrap_err();
        assert_eq!(
            (err.line, err.message.as_str()),
            (3, "unterminated label value")
        );
        let err = parse("a{x=1} 1\n").unwrap_err();
        assert_eq!((err.line, err.col), (1, 5), "{err}");
        let err = parse("a one\n").unwrap_err();
        assert_eq!(err.to_string(), "exposition line 1:3: invalid value `one`");
    }
}
