//! The wire format of Prometheus' remote read API (`POST /api/v1/read`), as far as a client
//! reading raw float samples needs it: the snappy-framed protobuf `ReadRequest`, the
//! length-delimited and checksummed `ChunkedReadResponse` frames of the streamed answer
//! (`STREAMED_XOR_CHUNKS`), and the XOR (Gorilla) chunks inside them. No I/O beyond
//! `std::io::Read`, no HTTP: the caller sends the request and hands the body to [`Frames`].

use std::io::Read;

/// `Content-Type` of a streamed answer.
pub const STREAMED_CONTENT_TYPE: &str =
    "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse";

/// The bits of Prometheus' staleness marker, a NaN that ends a series.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Whether `v` is Prometheus' staleness marker (not any NaN: only that bit pattern).
pub fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// A decoding error: what was wrong and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

fn err<T>(msg: impl Into<String>) -> Result<T, Error> {
    Err(Error(msg.into()))
}

/// How a label matcher compares (`LabelMatcher.Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchType {
    Eq = 0,
    Neq = 1,
    Re = 2,
    Nre = 3,
}

/// A label matcher of a query (regular expressions are anchored by the server, as in PromQL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    pub kind: MatchType,
    pub name: String,
    pub value: String,
}

/// One query of a `ReadRequest`: the series matching every matcher, samples in
/// `[start_ms, end_ms]` (whole chunks are returned, so samples outside may come too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub start_ms: i64,
    pub end_ms: i64,
    pub matchers: Vec<Matcher>,
}

fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_key(out: &mut Vec<u8>, field: u64, wire: u64) {
    put_uvarint(out, (field << 3) | wire);
}

fn put_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_key(out, field, 2);
    put_uvarint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn put_int64(out: &mut Vec<u8>, field: u64, v: i64) {
    put_key(out, field, 0);
    put_uvarint(out, v as u64);
}

/// The protobuf `ReadRequest` of `queries`, accepting only `STREAMED_XOR_CHUNKS` answers
/// (compress it with [`snappy_block`]).
pub fn read_request(queries: &[Query]) -> Vec<u8> {
    let mut out = Vec::new();
    for q in queries {
        let mut qb = Vec::new();
        put_int64(&mut qb, 1, q.start_ms);
        put_int64(&mut qb, 2, q.end_ms);
        for m in &q.matchers {
            let mut mb = Vec::new();
            put_int64(&mut mb, 1, m.kind as i64);
            put_bytes(&mut mb, 2, m.name.as_bytes());
            put_bytes(&mut mb, 3, m.value.as_bytes());
            put_bytes(&mut qb, 3, &mb);
        }
        put_bytes(&mut out, 1, &qb);
    }
    // accepted_response_types: [STREAMED_XOR_CHUNKS = 1], packed.
    put_bytes(&mut out, 2, &[1]);
    out
}

/// `raw` as a snappy block, the format `Content-Encoding: snappy` means for remote read.
pub fn snappy_block(raw: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new()
        .compress_vec(raw)
        .expect("a read request is far below snappy's 4 GiB input limit")
}

/// The frames of a streamed answer: each `uvarint length | CRC-32C (4 bytes, big endian) |
/// message`, the checksum over the message.
pub struct Frames<R> {
    r: R,
    buf: Vec<u8>,
    max: usize,
    /// Bytes of the messages read so far.
    pub bytes: u64,
}

impl<R: Read> Frames<R> {
    /// Frames of `r`, refusing any longer than `max` bytes.
    pub fn new(r: R, max: usize) -> Self {
        Frames {
            r,
            buf: Vec::new(),
            max,
            bytes: 0,
        }
    }

    /// The next frame's message, `None` at the end of the stream.
    pub fn next_frame(&mut self) -> Result<Option<&[u8]>, Error> {
        let mut len: u64 = 0;
        let mut shift = 0;
        let mut byte = [0u8; 1];
        loop {
            match self.r.read(&mut byte) {
                Ok(0) if shift == 0 => return Ok(None),
                Ok(0) => return err("stream ends inside a frame length"),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return err(format!("cannot read the stream: {e}")),
            }
            if shift > 63 {
                return err("frame length overflows");
            }
            len |= u64::from(byte[0] & 0x7f) << shift;
            shift += 7;
            if byte[0] < 0x80 {
                break;
            }
        }
        if len > self.max as u64 {
            return err(format!(
                "frame of {len} bytes is over the limit of {}",
                self.max
            ));
        }
        let mut crc = [0u8; 4];
        self.r
            .read_exact(&mut crc)
            .map_err(|e| Error(format!("cannot read a frame checksum: {e}")))?;
        self.buf.resize(len as usize, 0);
        self.r
            .read_exact(&mut self.buf)
            .map_err(|e| Error(format!("cannot read a frame of {len} bytes: {e}")))?;
        let want = u32::from_be_bytes(crc);
        let got = crc32c::crc32c(&self.buf);
        if want != got {
            return err(format!(
                "frame checksum mismatch: {got:08x}, expected {want:08x}"
            ));
        }
        self.bytes += len;
        Ok(Some(&self.buf))
    }
}

/// A protobuf field: number and value.
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

struct Proto<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Proto<'a> {
    fn new(data: &'a [u8]) -> Self {
        Proto { data, pos: 0 }
    }

    fn uvarint(&mut self) -> Result<u64, Error> {
        let mut v: u64 = 0;
        let mut shift = 0;
        loop {
            let Some(&b) = self.data.get(self.pos) else {
                return err("protobuf: truncated varint");
            };
            self.pos += 1;
            if shift > 63 {
                return err("protobuf: varint overflows");
            }
            v |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b < 0x80 {
                return Ok(v);
            }
        }
    }

    fn next(&mut self) -> Result<Option<(u64, Field<'a>)>, Error> {
        if self.pos >= self.data.len() {
            return Ok(None);
        }
        let key = self.uvarint()?;
        let field = match key & 7 {
            0 => Field::Varint(self.uvarint()?),
            1 | 5 => {
                let n = if key & 7 == 1 { 8 } else { 4 };
                if self.pos + n > self.data.len() {
                    return err("protobuf: truncated fixed field");
                }
                self.pos += n;
                Field::Fixed
            }
            2 => {
                let n = self.uvarint()? as usize;
                let Some(b) = self.data.get(self.pos..self.pos.saturating_add(n)) else {
                    return err("protobuf: truncated length-delimited field");
                };
                self.pos += n;
                Field::Bytes(b)
            }
            w => return err(format!("protobuf: unsupported wire type {w}")),
        };
        Ok(Some((key >> 3, field)))
    }
}

fn utf8(b: &[u8]) -> Result<&str, Error> {
    std::str::from_utf8(b).map_err(|_| Error("protobuf: label is not UTF-8".into()))
}

/// Chunk encodings (`Chunk.Encoding`).
pub const ENCODING_XOR: i64 = 1;

/// One chunk of a series: its time range and encoded samples (borrowed from the frame).
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk<'a> {
    pub min_time_ms: i64,
    pub max_time_ms: i64,
    pub encoding: i64,
    pub data: &'a [u8],
}

/// A series of a frame: its labels and chunks. A long series may continue in the next
/// frame, with the same labels.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChunkedSeries<'a> {
    pub labels: Vec<(&'a str, &'a str)>,
    pub chunks: Vec<Chunk<'a>>,
}

impl ChunkedSeries<'_> {
    /// The value of label `name`.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
}

/// A decoded `ChunkedReadResponse` frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChunkedReadResponse<'a> {
    pub series: Vec<ChunkedSeries<'a>>,
    pub query_index: i64,
}

/// Decodes one frame's `ChunkedReadResponse`.
pub fn chunked_read_response(data: &[u8]) -> Result<ChunkedReadResponse<'_>, Error> {
    let mut out = ChunkedReadResponse::default();
    let mut p = Proto::new(data);
    while let Some((n, f)) = p.next()? {
        match (n, f) {
            (1, Field::Bytes(b)) => out.series.push(chunked_series(b)?),
            (2, Field::Varint(v)) => out.query_index = v as i64,
            _ => {}
        }
    }
    Ok(out)
}

fn chunked_series(data: &[u8]) -> Result<ChunkedSeries<'_>, Error> {
    let mut s = ChunkedSeries::default();
    let mut p = Proto::new(data);
    while let Some((n, f)) = p.next()? {
        match (n, f) {
            (1, Field::Bytes(b)) => {
                let (mut name, mut value) = ("", "");
                let mut l = Proto::new(b);
                while let Some((n, f)) = l.next()? {
                    match (n, f) {
                        (1, Field::Bytes(b)) => name = utf8(b)?,
                        (2, Field::Bytes(b)) => value = utf8(b)?,
                        _ => {}
                    }
                }
                s.labels.push((name, value));
            }
            (2, Field::Bytes(b)) => {
                let mut c = Chunk {
                    min_time_ms: 0,
                    max_time_ms: 0,
                    encoding: 0,
                    data: &[],
                };
                let mut q = Proto::new(b);
                while let Some((n, f)) = q.next()? {
                    match (n, f) {
                        (1, Field::Varint(v)) => c.min_time_ms = v as i64,
                        (2, Field::Varint(v)) => c.max_time_ms = v as i64,
                        (3, Field::Varint(v)) => c.encoding = v as i64,
                        (4, Field::Bytes(b)) => c.data = b,
                        _ => {}
                    }
                }
                s.chunks.push(c);
            }
            _ => {}
        }
    }
    Ok(s)
}

/// A reader of bits, most significant first.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn bit(&mut self) -> Result<bool, Error> {
        let Some(&b) = self.data.get(self.pos >> 3) else {
            return err("xor chunk: truncated");
        };
        let bit = (b >> (7 - (self.pos & 7))) & 1 == 1;
        self.pos += 1;
        Ok(bit)
    }

    fn bits(&mut self, n: u32) -> Result<u64, Error> {
        if self.pos + n as usize > self.data.len() * 8 {
            return err("xor chunk: truncated");
        }
        let mut out = 0u64;
        let mut left = n;
        while left > 0 {
            let byte = self.data[self.pos >> 3];
            let off = (self.pos & 7) as u32;
            let avail = 8 - off;
            let take = avail.min(left);
            let bits = (u64::from(byte) >> (avail - take)) & ((1u64 << take) - 1);
            out = (out << take) | bits;
            left -= take;
            self.pos += take as usize;
        }
        Ok(out)
    }

    fn uvarint(&mut self) -> Result<u64, Error> {
        let mut v: u64 = 0;
        let mut shift = 0;
        loop {
            let b = self.bits(8)?;
            if shift > 63 {
                return err("xor chunk: varint overflows");
            }
            v |= (b & 0x7f) << shift;
            shift += 7;
            if b < 0x80 {
                return Ok(v);
            }
        }
    }

    fn varint(&mut self) -> Result<i64, Error> {
        let u = self.uvarint()?;
        let x = (u >> 1) as i64;
        Ok(if u & 1 != 0 { !x } else { x })
    }
}

/// The samples of an XOR chunk, in order: `(timestamp ms, value)`. The layout: the number of
/// samples (2 bytes, big endian), then a bit stream: the first timestamp (signed varint) and
/// value (64 bits); the second timestamp as an unsigned varint delta and its value XOR-coded;
/// every later timestamp as a delta of deltas in a bucket of `0`, `10`+14 bits, `110`+17,
/// `1110`+20 or `1111`+64 bits, and every value as `0` (unchanged), `10` + the meaningful bits
/// within the previous leading and trailing zeros, or `11` + 5 bits of leading zeros, 6 bits
/// of meaningful bits (0 meaning 64) and those bits.
pub struct XorSamples<'a> {
    bits: Bits<'a>,
    total: u16,
    read: u16,
    t: i64,
    delta: i64,
    v: u64,
    leading: u32,
    trailing: u32,
}

/// Decodes the samples of an XOR chunk's bytes.
pub fn xor_samples(data: &[u8]) -> Result<XorSamples<'_>, Error> {
    let Some(head) = data.get(..2) else {
        return err("xor chunk: shorter than its header");
    };
    Ok(XorSamples {
        bits: Bits { data, pos: 16 },
        total: u16::from_be_bytes([head[0], head[1]]),
        read: 0,
        t: 0,
        delta: 0,
        v: 0,
        leading: 0,
        trailing: 0,
    })
}

impl XorSamples<'_> {
    /// The number of samples the chunk's header announces.
    pub fn len(&self) -> usize {
        usize::from(self.total)
    }

    /// Whether the chunk holds no sample.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    fn value(&mut self) -> Result<(), Error> {
        if !self.bits.bit()? {
            return Ok(());
        }
        let meaningful;
        if self.bits.bit()? {
            self.leading = self.bits.bits(5)? as u32;
            let m = self.bits.bits(6)? as u32;
            meaningful = if m == 0 { 64 } else { m };
            if self.leading + meaningful > 64 {
                return err("xor chunk: invalid value header");
            }
            self.trailing = 64 - self.leading - meaningful;
        } else {
            meaningful = 64 - self.leading - self.trailing;
        }
        let b = self.bits.bits(meaningful)?;
        self.v ^= if self.trailing >= 64 {
            0
        } else {
            b << self.trailing
        };
        Ok(())
    }

    fn step(&mut self) -> Result<(i64, f64), Error> {
        match self.read {
            0 => {
                self.t = self.bits.varint()?;
                self.v = self.bits.bits(64)?;
            }
            1 => {
                self.delta = self.bits.uvarint()? as i64;
                self.t = self.t.wrapping_add(self.delta);
                self.value()?;
            }
            _ => {
                let mut d = 0u32;
                for _ in 0..4 {
                    if !self.bits.bit()? {
                        break;
                    }
                    d += 1;
                }
                let dod = match d {
                    0 => 0,
                    4 => self.bits.bits(64)? as i64,
                    _ => {
                        let size = [0, 14, 17, 20][d as usize];
                        let mut b = self.bits.bits(size)? as i64;
                        // Negative numbers come back as high unsigned ones.
                        if b > 1 << (size - 1) {
                            b -= 1 << size;
                        }
                        b
                    }
                };
                self.delta = self.delta.wrapping_add(dod);
                self.t = self.t.wrapping_add(self.delta);
                self.value()?;
            }
        }
        self.read += 1;
        Ok((self.t, f64::from_bits(self.v)))
    }
}

impl Iterator for XorSamples<'_> {
    type Item = Result<(i64, f64), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.read >= self.total {
            return None;
        }
        match self.step() {
            Ok(s) => Some(Ok(s)),
            Err(e) => {
                self.read = self.total;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_with_a_wrong_checksum_is_refused() {
        let msg = b"\x10\x05";
        let mut good = vec![msg.len() as u8];
        good.extend_from_slice(&crc32c::crc32c(msg).to_be_bytes());
        good.extend_from_slice(msg);
        let mut f = Frames::new(&good[..], 1 << 20);
        assert_eq!(f.next_frame().unwrap(), Some(&msg[..]));
        assert_eq!(f.next_frame().unwrap(), None);
        let mut bad = good.clone();
        bad[1] ^= 1;
        let mut f = Frames::new(&bad[..], 1 << 20);
        assert!(f.next_frame().unwrap_err().0.contains("checksum"));
        let mut f = Frames::new(&good[..good.len() - 1], 1 << 20);
        assert!(f.next_frame().is_err());
    }
}
