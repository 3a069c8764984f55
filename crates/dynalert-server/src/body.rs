//! Pre-rendered exposition bodies.
//!
//! A snapshot is rendered once into per-tenant chunks (one text slice per family), and a
//! body is assembled from the chunks only when something changed. Each chunk is rendered
//! with the `dynalert-exposition` helpers, so the assembled text is byte-for-byte what
//! `dynalert_exposition::render` produces for the same snapshot.
//!
//! Gzip is pre-computed too: every [`Segment`] keeps its raw-deflate form ending in a full
//! flush, so segments and a small per-scrape tail concatenate into one valid gzip member
//! (header, deflate blocks, combined CRC-32 and length).

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use dynalert_exposition::{write_header, write_sample};
use dynalert_model::{Family, TenantSeries};
use flate2::{Compress, Compression, Crc, FlushCompress};
use sha2::{Digest, Sha256};

const FAMILIES: usize = Family::ALL.len();

/// Rendered series of one tenant: one text with the end offset of each family.
#[derive(Debug)]
pub struct Chunk {
    text: String,
    ends: [usize; FAMILIES],
    hash: [u8; 32],
    series: usize,
}

impl Chunk {
    /// Renders the series of one tenant.
    pub fn render(t: &TenantSeries) -> Chunk {
        let mut text = String::with_capacity(t.series.len() * 110);
        let mut ends = [0; FAMILIES];
        for (i, family) in Family::ALL.into_iter().enumerate() {
            for s in t.family(family) {
                write_sample(&mut text, s.family.name(), &s.labels, s.value);
            }
            ends[i] = text.len();
        }
        let hash = Sha256::digest(text.as_bytes()).into();
        Chunk {
            text,
            ends,
            hash,
            series: t.series.len(),
        }
    }

    /// Whether two chunks render the same lines.
    pub fn same_text(&self, other: &Chunk) -> bool {
        self.hash == other.hash && self.text == other.text
    }

    fn family(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }
}

/// A piece of a response body with its pre-computed deflate form.
#[derive(Debug)]
pub struct Segment {
    pub raw: Bytes,
    deflate: OnceLock<(Bytes, Crc)>,
}

impl Segment {
    pub fn new(raw: impl Into<Bytes>) -> Segment {
        Segment {
            raw: raw.into(),
            deflate: OnceLock::new(),
        }
    }

    /// Compresses the segment now (idempotent); scrapes before this serve identity.
    pub fn compress(&self) {
        self.deflate.get_or_init(|| {
            let mut crc = Crc::new();
            crc.update(&self.raw);
            (deflate(&self.raw, FlushCompress::Full), crc)
        });
    }

    pub fn is_compressed(&self) -> bool {
        self.deflate.get().is_some()
    }
}

/// Raw deflate of `data`, ending with `flush` (`Full`: byte-aligned and dictionary reset,
/// so more deflate data may follow; `Finish`: the final block).
fn deflate(data: &[u8], flush: FlushCompress) -> Bytes {
    let mut c = Compress::new(Compression::fast(), false);
    let mut out = Vec::with_capacity(data.len() / 4 + 64);
    loop {
        let consumed = c.total_in() as usize;
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(4096));
        }
        let status = c
            .compress_vec(&data[consumed..], &mut out, flush)
            .expect("in-memory deflate cannot fail");
        let done = c.total_in() as usize == data.len() && out.len() < out.capacity();
        if done || status == flate2::Status::StreamEnd {
            break;
        }
    }
    out.into()
}

const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];

/// Builds the chunks of a response: identity, or gzip when every segment is compressed.
pub fn response_chunks(segments: &[&Segment], tail: Bytes, gzip: bool) -> Option<Vec<Bytes>> {
    if !gzip {
        let mut out: Vec<Bytes> = segments.iter().map(|s| s.raw.clone()).collect();
        out.push(tail);
        return Some(out);
    }
    let mut out = Vec::with_capacity(segments.len() + 3);
    out.push(Bytes::from_static(&GZIP_HEADER));
    let mut crc = Crc::new();
    for s in segments {
        let (bytes, c) = s.deflate.get()?;
        out.push(bytes.clone());
        crc.combine(c);
    }
    let mut tail_crc = Crc::new();
    tail_crc.update(&tail);
    crc.combine(&tail_crc);
    out.push(deflate(&tail, FlushCompress::Finish));
    let mut trailer = Vec::with_capacity(8);
    trailer.extend_from_slice(&crc.sum().to_le_bytes());
    trailer.extend_from_slice(&crc.amount().to_le_bytes());
    out.push(trailer.into());
    Some(out)
}

/// The threshold families of one snapshot, rendered.
#[derive(Debug)]
pub struct Body {
    pub segment: Segment,
    /// Hash of the served values (see [`body_hash`]), 16 hex digits.
    pub hash: String,
    pub tenants: usize,
    pub series: usize,
}

impl Body {
    /// Assembles a body from tenant chunks in tenant order.
    pub fn assemble(chunks: &[&Chunk]) -> Body {
        let len: usize = chunks.iter().map(|c| c.text.len()).sum::<usize>() + 2048;
        let mut out = String::with_capacity(len);
        for (i, family) in Family::ALL.into_iter().enumerate() {
            write_header(&mut out, family.name(), family.help(), "gauge");
            for c in chunks {
                out.push_str(c.family(i));
            }
        }
        let mut h = Sha256::new();
        for c in chunks {
            h.update(c.hash);
        }
        Body {
            segment: Segment::new(out),
            hash: hex16(&h.finalize()),
            tenants: chunks.len(),
            series: chunks.iter().map(|c| c.series).sum(),
        }
    }
}

fn hex16(bytes: &[u8]) -> String {
    bytes[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Recomputes the `config_info` hash from a scraped body: for every tenant (sorted by id),
/// the SHA-256 of its sample lines of the threshold families in exposition order; then the
/// SHA-256 of those digests. Lets a client check that a body is internally consistent.
pub fn body_hash(text: &str) -> String {
    let names: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
    let mut per_tenant: std::collections::BTreeMap<&str, Sha256> = Default::default();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let name = line.split(['{', ' ']).next().unwrap_or("");
        if !names.contains(&name) {
            continue;
        }
        let Some(start) = line.find("tenant=\"") else {
            continue;
        };
        let rest = &line[start + 8..];
        let tenant = &rest[..rest.find('"').unwrap_or(rest.len())];
        let h = per_tenant.entry(tenant).or_default();
        h.update(line.as_bytes());
        h.update(b"\n");
    }
    let mut all = Sha256::new();
    for (_, h) in per_tenant {
        all.update(h.finalize());
    }
    hex16(&all.finalize())
}

/// Renders a whole snapshot (used for comparisons and cold paths).
pub fn render_snapshot(tenants: &[Arc<TenantSeries>]) -> Body {
    let chunks: Vec<Chunk> = tenants.iter().map(|t| Chunk::render(t)).collect();
    Body::assemble(&chunks.iter().collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dynalert_model::{Series, Snapshot};
    use std::io::Read;

    fn tenant(id: &str, v: f64) -> Arc<TenantSeries> {
        Arc::new(TenantSeries {
            tenant: id.into(),
            series: vec![
                Series {
                    family: Family::UserThreshold,
                    labels: vec![
                        ("tenant".into(), id.into()),
                        ("component".into(), "mysql".into()),
                    ],
                    value: v,
                },
                Series {
                    family: Family::TenantMetadataInfo,
                    labels: vec![("tenant".into(), id.into())],
                    value: 1.0,
                },
            ],
            next_change: None,
        })
    }

    #[test]
    fn assembled_body_equals_full_render() {
        let tenants = vec![tenant("a", 1.0), tenant("b", 2.5)];
        let body = render_snapshot(&tenants);
        let snap = Snapshot::from_tenants(chrono::Utc::now(), tenants);
        let full = dynalert_exposition::render(&snap, dynalert_exposition::Format::Text);
        assert_eq!(std::str::from_utf8(&body.segment.raw).unwrap(), full);
        assert_eq!(body.hash, body_hash(&full));
        assert_eq!((body.tenants, body.series), (2, 4));
    }

    #[test]
    fn hash_follows_values() {
        let a = render_snapshot(&[tenant("a", 1.0)]);
        let b = render_snapshot(&[tenant("a", 2.0)]);
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn segments_and_tail_make_one_gzip_member() {
        let body = render_snapshot(&[tenant("a", 1.0), tenant("b", 2.0)]);
        let other = Segment::new("second segment\n");
        body.segment.compress();
        other.compress();
        let chunks = response_chunks(
            &[&body.segment, &other],
            Bytes::from_static(b"tail\n"),
            true,
        )
        .unwrap();
        let bytes: Vec<u8> = chunks.concat();
        let mut text = String::new();
        // `GzDecoder` reads a single member only: the whole text proves it is one member.
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        let expected = format!(
            "{}second segment\ntail\n",
            std::str::from_utf8(&body.segment.raw).unwrap()
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn gzip_waits_for_compression() {
        let s = Segment::new("x\n");
        assert!(response_chunks(&[&s], Bytes::new(), true).is_none());
        assert!(response_chunks(&[&s], Bytes::new(), false).is_some());
    }
}
