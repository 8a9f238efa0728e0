//! Byte offset → 1-based line and character column, computed only for findings.
//!
//! `\n`, `\r\n` and a lone `\r` each end a line, so old Mac files number correctly.

/// Line starts of one input, built on first use.
#[derive(Debug, Default)]
pub struct LineIndex {
    starts: Option<Vec<usize>>,
    /// The last position computed: (line, offset, characters before it on its line). Findings
    /// come in order, so counting on from here keeps many findings on one long line (a
    /// minified bundle, a search index) linear instead of quadratic.
    last: Option<(usize, usize, usize)>,
}

impl LineIndex {
    /// An index not built yet.
    pub fn new() -> Self {
        LineIndex::default()
    }

    fn starts(&mut self, hay: &[u8]) -> &[usize] {
        self.starts.get_or_insert_with(|| {
            let mut v = vec![0];
            for i in memchr::memchr2_iter(b'\n', b'\r', hay) {
                if hay[i] == b'\r' && hay.get(i + 1) == Some(&b'\n') {
                    continue;
                }
                v.push(i + 1);
            }
            v
        })
    }

    /// 1-based line and character column of byte `offset`.
    pub fn position(&mut self, hay: &[u8], offset: usize) -> (usize, usize) {
        let offset = offset.min(hay.len());
        let starts = self.starts(hay);
        let line = starts.partition_point(|&s| s <= offset);
        let start = starts[line - 1];
        let chars = match self.last {
            Some((l, o, c)) if l == line && o <= offset => c + char_count(&hay[o..offset]),
            _ => char_count(&hay[start..offset]),
        };
        self.last = Some((line, offset, chars));
        (line, chars + 1)
    }

    /// Byte range of 1-based line `line`, without its terminator (None past the end).
    pub fn line_range(&mut self, hay: &[u8], line: usize) -> Option<(usize, usize)> {
        let start = *self.starts(hay).get(line.checked_sub(1)?)?;
        Some(self.line_bounds(hay, start))
    }

    /// Byte range of the line that holds `offset`, without its terminator.
    pub fn line_bounds(&mut self, hay: &[u8], offset: usize) -> (usize, usize) {
        let offset = offset.min(hay.len());
        let starts = self.starts(hay);
        let line = starts.partition_point(|&s| s <= offset);
        let start = starts[line - 1];
        let mut end = starts.get(line).copied().unwrap_or(hay.len());
        while end > start && matches!(hay[end - 1], b'\n' | b'\r') {
            end -= 1;
        }
        (start, end.max(start))
    }
}

/// Characters in a UTF-8-ish byte string: every byte that does not continue a sequence.
pub fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_for_every_line_ending() {
        let hay = b"ab\ncd\r\nef\rgh\xc3\xa9x";
        let mut idx = LineIndex::new();
        for (off, line, col) in [
            (0, 1, 1),
            (1, 1, 2),
            (3, 2, 1),
            (7, 3, 1),
            (10, 4, 1),
            (14, 4, 4),
        ] {
            assert_eq!(idx.position(hay, off), (line, col), "offset {off}");
        }
        assert_eq!(idx.line_bounds(hay, 4), (3, 5));
        // Out of order, and back again on a line already counted.
        assert_eq!(idx.position(hay, 1), (1, 2));
        assert_eq!(idx.position(hay, 14), (4, 4));
        assert_eq!(idx.position(hay, 12), (4, 3));
        assert_eq!(idx.line_bounds(hay, 11), (10, 15));
    }
}
