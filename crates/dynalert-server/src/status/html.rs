//! HTML building blocks of the status pages: escaping, the page frame and its inline CSS.
//!
//! Every user value goes through [`esc`] (text and attribute context alike). Pages are
//! self-contained: no scripts, no external assets, readable at 400 px.

use std::fmt::Write as _;

/// Escapes text for HTML element content and double- or single-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a path segment or query value.
pub fn url_enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const CSS: &str = "\
:root{color-scheme:light dark;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--info:#0969da;--mute:#6e7781}
body{font:15px/1.45 system-ui,sans-serif;margin:0;padding:0 1rem 2rem;max-width:80rem}
header{display:flex;flex-wrap:wrap;gap:.3rem 1rem;align-items:baseline;border-bottom:1px solid #8884;padding:.6rem 0;margin-bottom:.6rem}
header strong{font-size:1.1rem}
nav a{margin-right:.8rem}
h1{font-size:1.35rem;margin:.6rem 0;overflow-wrap:anywhere}
h2{font-size:1.1rem;margin:1.2rem 0 .4rem}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.3rem 0}
th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #8883;vertical-align:top}
th{font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font-family:ui-monospace,monospace;font-size:.9em;overflow-wrap:anywhere}
pre{white-space:pre-wrap;background:#8881;padding:.5rem;margin:.3rem 0}
.badge{display:inline-block;padding:0 .4rem;border:1px solid;border-radius:.6rem;font-size:.85em;white-space:nowrap}
.ok{color:var(--ok)}.bad{color:var(--bad)}.warn{color:var(--warn)}.info{color:var(--info)}.mute{color:var(--mute)}
form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin:.5rem 0}
label{display:flex;flex-direction:column;font-size:.85em}
input,select,button{font:inherit;padding:.2rem .4rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.3rem 0}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
caption{text-align:left}
td a{white-space:nowrap}
@media (max-width:600px){body{padding:0 .5rem 1rem}dl{grid-template-columns:1fr}dd{margin-bottom:.3rem}
table,tbody,caption{display:block}thead{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}
tr{display:block;border-bottom:1px solid #8884;padding:.3rem 0}
tbody td,tbody th{display:block;position:relative;border:0;padding:.1rem 0 .1rem 8rem;text-align:left}
tbody td.num{text-align:left}
td[data-label]::before,th[data-label]::before{content:attr(data-label);font-weight:600;position:absolute;left:0;width:7.5rem;overflow-wrap:anywhere}}
";

/// Starts a page: head with viewport and inline CSS, header and navigation.
pub fn open(out: &mut String, title: &str) {
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<link rel=\"icon\" href=\"data:,\">\
<title>{0} · threshold-exporter</title><style>{CSS}</style></head><body>\n\
<header><strong>threshold-exporter</strong><nav aria-label=\"pages\">\
<a href=\"/\">status</a><a href=\"/tenants\">tenants</a><a href=\"/config\">catalogue</a>\
</nav></header>\n<main>\n<h1>{0}</h1>\n",
        esc(title)
    );
}

pub fn close(out: &mut String, json: &str) {
    let _ = write!(
        out,
        "<p class=\"mute\">Also as JSON: <a href=\"{0}\">{0}</a></p>\n</main></body></html>\n",
        esc(json)
    );
}

/// A text badge; the class only adds colour to what the text already says.
pub fn badge(class: &str, text: &str) -> String {
    format!("<span class=\"badge {class}\">{}</span>", esc(text))
}

/// Starts a table with a caption and header cells.
pub fn table(out: &mut String, caption: &str, headers: &[&str]) {
    let _ = write!(
        out,
        "<div class=\"scroll\"><table><caption class=\"mute\">{}</caption><thead><tr>",
        esc(caption)
    );
    for h in headers {
        let _ = write!(out, "<th scope=\"col\">{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>\n");
}

/// A table of located errors (location, message, hint), escaped.
pub fn error_table<'a>(
    out: &mut String,
    caption: &str,
    rows: impl Iterator<Item = (&'a str, &'a str, Option<&'a str>)>,
) {
    table(out, caption, &["location", "error", "hint"]);
    for (location, message, hint) in rows {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(location),
            esc(message),
            esc(hint.unwrap_or(""))
        );
    }
    end_table(out);
}

/// Ends the table started last and labels every body cell with its column header
/// (`data-label`), which narrow screens show in front of the value instead of the header row.
pub fn end_table(out: &mut String) {
    out.push_str("</tbody></table></div>\n");
    let Some(start) = out.rfind("<table>") else {
        return;
    };
    let Some(body) = out[start..].find("<tbody>").map(|i| start + i) else {
        return;
    };
    let headers: Vec<String> = out[start..body]
        .split("<th scope=\"col\">")
        .skip(1)
        .filter_map(|h| h.split("</th>").next())
        .map(str::to_string)
        .collect();
    // Cell tags only: every value inside was escaped, so `<td` or `<tr>` is markup.
    let mut labelled = String::with_capacity(out.len() - body + 64 * headers.len());
    let mut col = 0;
    let mut rest = &out[body..];
    while let Some(i) = rest.find('<') {
        labelled.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with("<tr>") {
            col = 0;
        } else if let Some(tail) = rest
            .strip_prefix("<td")
            .or_else(|| rest.strip_prefix("<th"))
        {
            if let Some(h) = headers.get(col) {
                let _ = write!(labelled, "{} data-label=\"{h}\"", &rest[..3]);
                rest = tail;
                col += 1;
                continue;
            }
            col += 1;
        }
        labelled.push('<');
        rest = &rest[1..];
    }
    labelled.push_str(rest);
    out.truncate(body);
    out.push_str(&labelled);
}

/// A value as the exposition shows it (`none` when no series is emitted).
pub fn value(v: Option<f64>) -> String {
    v.map_or_else(|| "none".to_string(), |x| x.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<a href='x'>\"&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(url_enc("<b>x y"), "%3Cb%3Ex%20y");
    }

    #[test]
    fn body_cells_carry_their_column_header() {
        let mut out = String::from("<p>before</p>");
        table(&mut out, "c", &["tenant", "state"]);
        out.push_str(&format!(
            "<tr><td>{}</td><td class=\"num\">2</td></tr>\n<tr><th scope=\"row\">x</th><td>y</td></tr>\n",
            esc("<td>evil")
        ));
        end_table(&mut out);
        assert!(out.starts_with("<p>before</p>"));
        assert!(out.contains(
            "<tr><td data-label=\"tenant\">&lt;td&gt;evil</td><td data-label=\"state\" class=\"num\">2</td></tr>"
        ), "{out}");
        assert!(out.contains(
            "<tr><th data-label=\"tenant\" scope=\"row\">x</th><td data-label=\"state\">y</td></tr>"
        ), "{out}");
    }
}
