//! Located diagnostics: `path:line:col: error: message` plus an optional hint.

use std::fmt;
use std::sync::Arc;

use crate::yaml::Pos;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warning,
}

/// One finding about a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub level: Level,
    pub file: Arc<str>,
    pub pos: Pos,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.pos.line, self.pos.col, level, self.message
        )?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Longest message kept: a message quoting a huge user value must not become a huge
/// log line or reload response.
const MAX_MESSAGE: usize = 1024;

fn clamp(mut s: String) -> String {
    if s.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// Collects the diagnostics of one file.
pub struct Ctx<'a> {
    pub file: Arc<str>,
    pub out: &'a mut Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    /// Collects the diagnostics of `file` into `out`.
    pub fn new(file: Arc<str>, out: &'a mut Vec<Diagnostic>) -> Ctx<'a> {
        Ctx { file, out }
    }

    pub fn push(
        &mut self,
        level: Level,
        pos: Pos,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.out.push(Diagnostic {
            level,
            file: self.file.clone(),
            pos,
            message: clamp(message.into()),
            hint: hint.map(clamp),
        });
    }

    pub fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.push(Level::Error, pos, message, None);
    }

    pub fn error_hint(&mut self, pos: Pos, message: impl Into<String>, hint: impl Into<String>) {
        self.push(Level::Error, pos, message, Some(hint.into()));
    }

    pub fn warn(&mut self, pos: Pos, message: impl Into<String>, hint: impl Into<String>) {
        self.push(Level::Warning, pos, message, Some(hint.into()));
    }

    /// How many errors were collected so far.
    pub fn errors(&self) -> usize {
        self.out.iter().filter(|d| d.is_error()).count()
    }

    pub fn source(&self, pos: Pos) -> dynalert_model::Source {
        dynalert_model::Source {
            file: self.file.clone(),
            line: pos.line,
        }
    }
}

/// `did you mean `x`?` when a candidate is close enough to `word`.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(word, c);
        if score > 0.8 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

/// [`did_you_mean`], else every candidate: `{lead} `a`, `b``.
pub fn did_you_mean_or_list<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
    lead: &str,
) -> String {
    did_you_mean(word, candidates.clone())
        .unwrap_or_else(|| format!("{lead} {}", ticked(candidates, ", ")))
}

/// `items` in backticks, joined with `sep`: `` `a`, `b` ``.
pub fn ticked<T: fmt::Display>(items: impl IntoIterator<Item = T>, sep: &str) -> String {
    let all: Vec<String> = items.into_iter().map(|i| format!("`{i}`")).collect();
    all.join(sep)
}
