//! Syntax check of Go `text/template` text as Alertmanager 0.25 parses it (Go 1.19 and
//! Alertmanager's function map), so tenant-provided text that would fail when a
//! notification is sent is refused when the configuration is validated.
//!
//! Checked: actions closed, comments, quoted strings and parentheses terminated, the
//! structure of `if`/`range`/`with`/`define`/`block`/`else`/`end`, `break`/`continue`
//! inside `range`, every function defined, every variable declared in scope, no empty
//! command. Not checked (Go checks them only when it executes the template): field names,
//! argument counts and types, names given to `{{template}}`.

/// Functions a template may call: Go's built-ins and Alertmanager 0.25's additions.
pub const FUNCTIONS: [&str; 27] = [
    "and",
    "call",
    "html",
    "index",
    "slice",
    "js",
    "len",
    "not",
    "or",
    "print",
    "printf",
    "println",
    "urlquery",
    "eq",
    "ge",
    "gt",
    "le",
    "lt",
    "ne",
    "toUpper",
    "toLower",
    "title",
    "join",
    "match",
    "safeHtml",
    "reReplaceAll",
    "stringSlice",
];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Field,
    Var(String),
    Literal,
    LParen,
    RParen,
    Pipe,
    Declare,
    Assign,
    Comma,
}

fn lex_action(src: &str) -> Result<Vec<Tok>, String> {
    let b: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let ident = |c: char| c == '_' || c.is_alphanumeric();
    // The end of the identifier characters from `i`.
    let skip_ident = |mut i: usize| {
        while b.get(i).is_some_and(|c| ident(*c)) {
            i += 1
        }
        i
    };
    // The end of the `.field` chain from `i` (`.a.b`: further fields follow directly).
    let skip_fields = |mut i: usize| {
        while b.get(i) == Some(&'.') && b.get(i + 1).is_some_and(|c| ident(*c)) {
            i = skip_ident(i + 1)
        }
        i
    };
    while i < b.len() {
        let c = b[i];
        match c {
            ' ' | '\t' | '\r' | '\n' => i += 1,
            '(' | ')' | '|' | ',' | '=' => {
                out.push(match c {
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    '|' => Tok::Pipe,
                    ',' => Tok::Comma,
                    _ => Tok::Assign,
                });
                i += 1
            }
            ':' if b.get(i + 1) == Some(&'=') => {
                out.push(Tok::Declare);
                i += 2
            }
            '"' => {
                i += 1;
                loop {
                    match b.get(i) {
                        None | Some('\n') => return Err("unterminated quoted string".into()),
                        Some('\\') => {
                            // Go's escapes: `\a`…`\v`, `\\`, `\"`, `\'`, `\x`, `\u`, `\U`, octal.
                            if !b
                                .get(i + 1)
                                .is_some_and(|c| "abfnrtv\\\"'xuU01234567".contains(*c))
                            {
                                return Err("invalid escape in a quoted string".into());
                            }
                            i += 2
                        }
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
                out.push(Tok::Literal)
            }
            '`' => {
                i += 1;
                while b.get(i).is_some_and(|c| *c != '`') {
                    i += 1
                }
                if i >= b.len() {
                    return Err("unterminated raw quoted string".into());
                }
                i += 1;
                out.push(Tok::Literal)
            }
            '\'' => {
                let mut j = i + 1;
                if b.get(j) == Some(&'\\') {
                    j += 1;
                }
                j += 1;
                let mut n = 0;
                while b.get(j).is_some_and(|c| *c != '\'' && *c != '\n') && n < 10 {
                    j += 1;
                    n += 1;
                }
                if b.get(j) != Some(&'\'') || j > i + 2 && b[i + 1] != '\\' {
                    return Err("unterminated or invalid character constant".into());
                }
                i = j + 1;
                out.push(Tok::Literal)
            }
            '.' if !b.get(i + 1).is_some_and(|c| c.is_ascii_digit()) => {
                i = skip_fields(skip_ident(i + 1));
                out.push(Tok::Field)
            }
            '$' => {
                let start = i;
                i = skip_ident(i + 1);
                let name: String = b[start..i].iter().collect();
                i = skip_fields(i);
                out.push(Tok::Var(name))
            }
            '+' | '-' | '0'..='9' | '.' => {
                let start = i;
                i += 1;
                while let Some(&c) = b.get(i) {
                    let exponent_sign =
                        matches!(c, '+' | '-') && matches!(b[i - 1], 'e' | 'E' | 'p' | 'P');
                    if !(c.is_ascii_alphanumeric() || c == '.' || c == '_' || exponent_sign) {
                        break;
                    }
                    i += 1
                }
                let text: String = b[start..i].iter().collect();
                if !valid_number(&text) {
                    return Err(format!("bad number syntax: `{text}`"));
                }
                out.push(Tok::Literal)
            }
            c if c == '_' || c.is_alphabetic() => {
                let start = i;
                i = skip_ident(i);
                let word: String = b[start..i].iter().collect();
                // A field access on a word (`x.y`) is not valid Go template syntax here.
                out.push(Tok::Ident(word))
            }
            other => return Err(format!("bad character {other:?}")),
        }
    }
    Ok(out)
}

fn valid_number(t: &str) -> bool {
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    let t = t.replace('_', "");
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit());
    }
    if let Some(o) = t.strip_prefix("0o").or_else(|| t.strip_prefix("0b")) {
        return !o.is_empty() && o.chars().all(|c| c.is_ascii_digit());
    }
    t.parse::<f64>().is_ok() && !t.contains(['i', 'I', 'n', 'N'])
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    If,
    Range,
    With,
    Define,
    BlockDef,
    Else(bool),
}

struct Checker {
    stack: Vec<(Kind, usize)>,
    /// Declared variables, each with the depth of the block that declared it.
    vars: Vec<(String, usize)>,
}

impl Checker {
    fn in_range(&self) -> bool {
        self.stack
            .iter()
            .rev()
            .take_while(|(b, _)| *b != Kind::Define && *b != Kind::BlockDef)
            .any(|(b, _)| *b == Kind::Range)
    }

    /// Checks one pipeline: optional declaration, commands separated by `|`.
    fn pipeline(&mut self, toks: &[Tok], what: &str) -> Result<(), String> {
        let mut toks = toks;
        // `$x := …`, `$x = …`, `$i, $v := …` (range).
        let decl_end = toks
            .iter()
            .position(|t| matches!(t, Tok::Declare | Tok::Assign));
        let mut new_vars = Vec::new();
        if let Some(end) = decl_end {
            let head = &toks[..end];
            let ok = match head {
                [Tok::Var(_)] => true,
                [Tok::Var(_), Tok::Comma, Tok::Var(_)] => what == "range",
                _ => false,
            };
            if ok {
                if matches!(toks[end], Tok::Declare) {
                    for t in head {
                        if let Tok::Var(v) = t {
                            new_vars.push(v.clone());
                        }
                    }
                }
                toks = &toks[end + 1..];
            }
        }
        if toks.is_empty() {
            return Err(format!("missing value for {what}"));
        }
        for cmd in toks.split(|t| *t == Tok::Pipe) {
            self.command(cmd)?;
        }
        let depth = self.stack.len();
        self.vars.extend(new_vars.into_iter().map(|v| (v, depth)));
        Ok(())
    }

    fn command(&self, toks: &[Tok]) -> Result<(), String> {
        if toks.is_empty() {
            return Err("missing value for command".into());
        }
        let mut depth = 0i32;
        for t in toks {
            match t {
                Tok::LParen => depth += 1,
                Tok::RParen => {
                    depth -= 1;
                    if depth < 0 {
                        return Err("unexpected right paren".into());
                    }
                }
                Tok::Pipe if depth == 0 => return Err("unexpected \"|\" in command".into()),
                Tok::Declare | Tok::Assign | Tok::Comma => {
                    return Err("unexpected declaration or `,` in command".into())
                }
                Tok::Ident(name) => match name.as_str() {
                    "true" | "false" | "nil" => {}
                    n if FUNCTIONS.contains(&n) => {}
                    "if" | "range" | "with" | "define" | "block" | "template" | "else" | "end"
                    | "break" | "continue" => {
                        return Err(format!("unexpected <{name}> in command"))
                    }
                    n => return Err(format!("function `{n}` not defined")),
                },
                Tok::Var(v) if v != "$" && !self.vars.iter().any(|(n, _)| n == v) => {
                    return Err(format!("undefined variable `{v}`"));
                }
                _ => {}
            }
        }
        if depth > 0 {
            return Err("unclosed left paren".into());
        }
        // Empty parentheses and pipelines inside parentheses.
        let mut stack: Vec<Vec<&Tok>> = vec![Vec::new()];
        for t in toks {
            match t {
                Tok::LParen => stack.push(Vec::new()),
                Tok::RParen => {
                    let inner = stack.pop().unwrap_or_default();
                    if inner.is_empty() || inner.split(|t| **t == Tok::Pipe).any(|c| c.is_empty()) {
                        return Err("missing value for parenthesized pipeline".into());
                    }
                    if let Some(top) = stack.last_mut() {
                        top.push(&Tok::Literal);
                    }
                }
                t => {
                    if let Some(top) = stack.last_mut() {
                        top.push(t)
                    }
                }
            }
        }
        Ok(())
    }

    fn pop_vars(&mut self) {
        let depth = self.stack.len();
        self.vars.retain(|(_, d)| *d <= depth);
    }

    fn action(&mut self, toks: Vec<Tok>) -> Result<(), String> {
        let keyword = match toks.first() {
            Some(Tok::Ident(k)) => k.as_str(),
            _ => "",
        };
        let rest = toks.get(1..).unwrap_or_default();
        match keyword {
            "if" | "range" | "with" => {
                let block = match keyword {
                    "if" => Kind::If,
                    "range" => Kind::Range,
                    _ => Kind::With,
                };
                self.stack.push((block, 0));
                self.pipeline(rest, keyword)
            }
            "else" => {
                let (top, _) = self.stack.last().copied().ok_or("unexpected {{else}}")?;
                // A second plain `{{else}}` (`Else(false)` on top) is refused here too.
                if !matches!(top, Kind::If | Kind::Range | Kind::With | Kind::Else(true)) {
                    return Err("unexpected {{else}}".into());
                }
                match rest.first() {
                    None => {
                        self.pop_vars();
                        self.stack.last_mut().expect("checked above").0 = Kind::Else(false);
                        Ok(())
                    }
                    Some(Tok::Ident(k))
                        if k == "if" && matches!(top, Kind::If | Kind::Else(true)) =>
                    {
                        self.pop_vars();
                        self.stack.last_mut().expect("checked above").0 = Kind::Else(true);
                        self.pipeline(&rest[1..], "if")
                    }
                    Some(Tok::Ident(k)) => Err(format!("unexpected <{k}> in else")),
                    _ => Err("unexpected token in else".into()),
                }
            }
            "end" => {
                if !rest.is_empty() {
                    return Err("unexpected token in end".into());
                }
                if self.stack.pop().is_none() {
                    return Err("unexpected {{end}}".into());
                }
                self.pop_vars();
                Ok(())
            }
            "break" | "continue" => {
                if !rest.is_empty() {
                    return Err(format!("unexpected token in {{{{{keyword}}}}}"));
                }
                if !self.in_range() {
                    return Err(format!("{{{{{keyword}}}}} outside {{{{range}}}}"));
                }
                Ok(())
            }
            "define" | "block" | "template" => {
                if keyword == "define" && !self.stack.is_empty() {
                    return Err("unexpected <define> in command".into());
                }
                if !matches!(rest.first(), Some(Tok::Literal)) {
                    return Err(format!("missing or invalid name in {{{{{keyword}}}}}"));
                }
                let args = &rest[1..];
                if keyword == "define" && !args.is_empty() {
                    return Err("unexpected token in define clause".into());
                }
                if !args.is_empty() {
                    self.pipeline(args, keyword)?;
                }
                if keyword != "template" {
                    let b = if keyword == "define" {
                        Kind::Define
                    } else {
                        Kind::BlockDef
                    };
                    self.stack.push((b, 0));
                }
                Ok(())
            }
            _ => self.pipeline(&toks, "command"),
        }
    }
}

/// Checks `text` as Go's `text/template` parser in Alertmanager 0.25 would; the error
/// says what is wrong (never quotes the text).
pub fn check(text: &str) -> Result<(), String> {
    let mut c = Checker {
        stack: Vec::new(),
        vars: Vec::new(),
    };
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let mut body = &rest[open + 2..];
        // `{{- ` trims; `{{-3}}` is the number -3.
        if let Some(b) = body
            .strip_prefix(['-'])
            .filter(|b| b.starts_with([' ', '\t', '\n', '\r']))
        {
            body = &b[1..];
        }
        if let Some(comment) = body.strip_prefix("/*") {
            let end = comment.find("*/").ok_or("unclosed comment")?;
            let after = &comment[end + 2..];
            let after = after
                .strip_prefix(" -}}")
                .or_else(|| after.strip_prefix("}}"));
            rest = after.ok_or("comment ends before closing delimiter")?;
            continue;
        }
        // The action ends at the first `}}` outside a quoted string.
        let chars: Vec<(usize, char)> = body.char_indices().collect();
        let mut k = 0;
        let mut end = None;
        while k < chars.len() {
            let (pos, ch) = chars[k];
            match ch {
                '"' => {
                    k += 1;
                    while k < chars.len() && chars[k].1 != '"' && chars[k].1 != '\n' {
                        if chars[k].1 == '\\' {
                            k += 1;
                        }
                        k += 1;
                    }
                    if k >= chars.len() || chars[k].1 == '\n' {
                        return Err("unterminated quoted string".into());
                    }
                }
                '`' => {
                    k += 1;
                    while k < chars.len() && chars[k].1 != '`' {
                        k += 1;
                    }
                    if k >= chars.len() {
                        return Err("unterminated raw quoted string".into());
                    }
                }
                '}' if body[pos..].starts_with("}}") => {
                    end = Some(pos);
                    break;
                }
                _ => {}
            }
            k += 1;
        }
        let end = end.ok_or("unclosed action")?;
        let mut inner = &body[..end];
        if let Some(s) = inner
            .strip_suffix('-')
            .filter(|s| s.ends_with([' ', '\t', '\n']))
        {
            inner = &s[..s.len() - 1];
        }
        let toks = lex_action(inner)?;
        c.action(toks)?;
        rest = &body[end + 2..];
    }
    if let Some((b, _)) = c.stack.last() {
        let name = match b {
            Kind::If | Kind::Else(_) => "if/else",
            Kind::Range => "range",
            Kind::With => "with",
            Kind::Define => "define",
            Kind::BlockDef => "block",
        };
        return Err(format!(
            "unexpected EOF: `{{{{{name}}}}}` has no `{{{{end}}}}`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    // Each case checked with Debian's `amtool template render` (Alertmanager 0.25):
    // accepted by its parser (output, or an error only when executing) or refused.
    #[test]
    fn like_alertmanager_0_25() {
        for ok in [
            "{{ .Status }}",
            "{{ toUpper \"a\" | toLower }}",
            "{{- /* c */ -}}",
            "{{/* a */}}",
            "{{ range .Alerts }}{{ break }}{{ end }}",
            "{{ define \"a\" }}x{{ end }}",
            "{{ .CommonLabels.alertname | title }}",
            "{{ $x := 1 }}{{ $x }}",
            "{{ range $i, $a := .Alerts }}{{ $i }}{{ end }}",
            "{{ `a` }}",
            "{{ 'a' }}",
            "{{ (len .Alerts) }}",
            "{{ .Alerts | len | printf \"%d\" }}",
            "{{ if .X }}{{ else if .Y }}{{ end }}",
            "{{-3}}",
            "{{ 1.5e3 }}",
            "{{ $.Status }}",
            "{{ block \"b\" . }}x{{ end }}",
            "{{ 0x1F }}",
            "{{ index .Alerts 5 }}",
            "{{ template \"nope\" . }}",
            "{{ nil }}",
            "{{ .X }} }}",
            "plain text",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for bad in [
            "{{ .Foo ",
            "{{ foo }}",
            "{{ if .X }}a{{ end",
            "{{ end }}",
            "{{ $x }}",
            "{{}}",
            "{{ with .X }}{{ else with .Y }}{{ end }}",
            "{{ if 1 }}{{ $y := 2 }}{{ end }}{{ $y }}",
            "{{ \"abc }}",
            "{{ (len .Alerts }}",
            "{{ | len }}",
            "{{ else }}",
            "{{ if .X }}{{ else }}{{ else }}{{ end }}",
            "{{ continue }}",
            "{{ .Labels.x-y }}",
            "{{ if }}{{ end }}",
            "{{ define \"x\" }}{{ define \"y\" }}{{ end }}{{ end }}",
            "{{ /* a */ }}",
            "{{ \"a\\q\" }}",
            "{{ since }}",
            "{{ if .X }}",
        ] {
            assert!(check(bad).is_err(), "{bad} accepted");
        }
    }
}
