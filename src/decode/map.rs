//! Offsets of a decoded buffer mapped back to the buffer it came from.
//!
//! A finding in decoded content must be reported where the *encoded* bytes sit in the file, so
//! every decoder records, piece by piece, which source bytes produced which decoded bytes. The
//! map is piecewise: long identity runs (copied text), fixed-stride runs (UTF-16 code units),
//! base64 groups, and opaque blocks (one escape such as `%41` or `\u0041`).

use std::ops::Range;

/// How one piece of decoded output relates to its source bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Decoded byte `i` is source byte `i` (copied unchanged).
    Identity,
    /// Decoded byte `i` came from source bytes `2i..2i+2` (ASCII UTF-16 code units).
    Stride2,
    /// Decoded byte `i` came from base64 characters `4(i/3) + i%3 ..+2`.
    Base64,
    /// The whole decoded piece came from the whole source piece (one escape sequence).
    Block,
}

#[derive(Debug, Clone, Copy)]
struct Seg {
    dec: usize,
    src: usize,
    dec_len: usize,
    src_len: usize,
    kind: Kind,
}

/// Maps byte offsets of a decoded buffer to byte offsets of its source buffer.
#[derive(Debug, Clone, Default)]
pub struct OffsetMap {
    segs: Vec<Seg>,
    dec_len: usize,
    src_start: usize,
    src_end: usize,
}

impl OffsetMap {
    /// A map builder whose first decoded byte comes from source offset `src`.
    pub fn builder(src: usize) -> MapBuilder {
        MapBuilder {
            map: OffsetMap {
                segs: Vec::new(),
                dec_len: 0,
                src_start: src,
                src_end: src,
            },
        }
    }

    /// This map with `n` unchanged source bytes (those just before its source) in front of
    /// the decoded bytes.
    pub fn with_prefix(&self, n: usize) -> OffsetMap {
        let start = self.src_start - n;
        let mut b = OffsetMap::builder(start);
        b.identity(n);
        let mut m = b.finish();
        m.segs.extend(self.segs.iter().map(|s| Seg {
            dec: s.dec + n,
            ..*s
        }));
        m.dec_len += self.dec_len;
        m.src_end = self.src_end;
        m
    }

    /// Source range of the decoded range `r`: every source byte that contributed to it.
    pub fn source_range(&self, r: Range<usize>) -> Range<usize> {
        let start = self.start(r.start);
        let end = if r.end > r.start {
            self.end(r.end)
        } else {
            start
        };
        start..end.max(start)
    }

    /// Source offset where decoded byte `d` starts.
    fn start(&self, d: usize) -> usize {
        if d >= self.dec_len || self.segs.is_empty() {
            return self.src_end;
        }
        let s = self.seg_of(d);
        let k = d - s.dec;
        match s.kind {
            Kind::Identity => s.src + k,
            Kind::Stride2 => s.src + 2 * k,
            Kind::Base64 => s.src + 4 * (k / 3) + k % 3,
            Kind::Block => s.src,
        }
    }

    /// Source offset just past the source of decoded byte `d - 1`.
    fn end(&self, d: usize) -> usize {
        if self.segs.is_empty() {
            return self.src_end;
        }
        let d = d.min(self.dec_len);
        let s = self.seg_of(d - 1);
        let last = d - 1 - s.dec;
        let e = match s.kind {
            Kind::Identity => s.src + last + 1,
            Kind::Stride2 => s.src + 2 * last + 2,
            Kind::Base64 => s.src + 4 * (last / 3) + last % 3 + 2,
            Kind::Block => s.src + s.src_len,
        };
        e.min(s.src + s.src_len)
    }

    fn seg_of(&self, d: usize) -> &Seg {
        let i = self.segs.partition_point(|s| s.dec <= d);
        &self.segs[i.saturating_sub(1)]
    }
}

/// Appends pieces to an [`OffsetMap`]; the source side advances contiguously.
#[derive(Debug)]
pub struct MapBuilder {
    map: OffsetMap,
}

impl MapBuilder {
    fn push(&mut self, dec_len: usize, src_len: usize, kind: Kind) {
        if dec_len == 0 && src_len == 0 {
            return;
        }
        let m = &mut self.map;
        if let Some(last) = m.segs.last_mut()
            && last.kind == kind
            && kind != Kind::Block
            && kind != Kind::Base64
            && last.src + last.src_len == m.src_end
        {
            last.dec_len += dec_len;
            last.src_len += src_len;
        } else if dec_len == 0 {
            // Source bytes that produced nothing: later pieces carry their own source
            // offsets, so skipping them keeps every mapping exact.
        } else {
            m.segs.push(Seg {
                dec: m.dec_len,
                src: m.src_end,
                dec_len,
                src_len,
                kind,
            });
        }
        m.dec_len += dec_len;
        m.src_end += src_len;
    }

    /// `n` bytes copied unchanged.
    pub fn identity(&mut self, n: usize) {
        self.push(n, n, Kind::Identity);
    }

    /// `n` ASCII characters decoded from `2n` bytes of UTF-16.
    pub fn stride2(&mut self, n: usize) {
        self.push(n, 2 * n, Kind::Stride2);
    }

    /// `dec_len` bytes decoded from `src_len` base64 characters.
    pub fn base64(&mut self, dec_len: usize, src_len: usize) {
        self.push(dec_len, src_len, Kind::Base64);
    }

    /// `dec_len` bytes decoded from one `src_len`-byte escape sequence.
    pub fn block(&mut self, dec_len: usize, src_len: usize) {
        self.push(dec_len, src_len, Kind::Block);
    }

    /// The finished map.
    pub fn finish(self) -> OffsetMap {
        self.map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_and_blocks() {
        // "a%41b" → "aAb" at source offset 10.
        let mut b = OffsetMap::builder(10);
        b.identity(1);
        b.block(1, 3);
        b.identity(1);
        let m = b.finish();
        assert_eq!(m.source_range(0..1), 10..11);
        assert_eq!(m.source_range(1..2), 11..14);
        assert_eq!(m.source_range(0..3), 10..15);
        assert_eq!(m.source_range(2..3), 14..15);
        assert_eq!(m.source_range(3..3), 15..15);
    }

    #[test]
    fn base64_groups() {
        // 6 decoded bytes from 8 characters at offset 0.
        let mut b = OffsetMap::builder(0);
        b.base64(6, 8);
        let m = b.finish();
        assert_eq!(m.source_range(0..6), 0..8);
        assert_eq!(m.source_range(3..6), 4..8);
        assert_eq!(m.source_range(1..2), 1..3);
    }

    #[test]
    fn prefix() {
        let mut b = OffsetMap::builder(10);
        b.base64(3, 4);
        let m = b.finish().with_prefix(4);
        assert_eq!(m.source_range(0..4), 6..10);
        assert_eq!(m.source_range(2..7), 8..14);
    }

    #[test]
    fn stride_two() {
        let mut b = OffsetMap::builder(4);
        b.stride2(5);
        let m = b.finish();
        assert_eq!(m.source_range(1..3), 6..10);
    }
}
