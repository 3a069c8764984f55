//! What the real-server tests share: reading the requests Alertmanager sends to a sink.

use std::io::BufRead;

/// Reads one HTTP/1.1 request line and its headers; returns (request line, content length,
/// `Authorization`).
pub fn read_head(reader: &mut impl BufRead) -> std::io::Result<(String, usize, String)> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let (mut len, mut auth) = (0usize, String::new());
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            } else if k.eq_ignore_ascii_case("authorization") {
                auth = v.trim().to_string();
            }
        }
    }
    Ok((line, len, auth))
}
