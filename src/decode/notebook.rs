//! Jupyter notebooks (`.ipynb`): every JSON string unescaped in place, with cell indices.
//!
//! A notebook stores code and outputs as JSON strings, one per line, so `\n`, `\"` and
//! `\uXXXX` escapes sit inside and around secrets (a PEM key spread over several strings, a
//! `key = \"…\"` assignment whose quotes break context patterns). The whole file is copied with
//! each string's escapes decoded — the structure stays, so line numbers map back through an
//! [`OffsetMap`] — and the byte range of each element of the top-level `cells` array is noted,
//! so a finding can name its cell. Malformed JSON degrades gracefully: what was unescaped is
//! still scanned, and cells are only known as far as the structure made sense.

use std::ops::Range;

use super::inline::decode_escape;
use super::map::OffsetMap;

/// An unescaped notebook.
#[derive(Debug)]
pub struct Notebook {
    /// The file with every string's escapes decoded.
    pub view: Vec<u8>,
    /// View offsets → file offsets.
    pub map: OffsetMap,
    /// File byte range of each cell, in order.
    cells: Vec<Range<usize>>,
}

impl Notebook {
    /// The 1-based index of the cell holding file offset `at` (as Jupyter shows them, top to
    /// bottom), if any.
    pub fn cell_at(&self, at: usize) -> Option<usize> {
        let k = self.cells.partition_point(|c| c.start <= at);
        (k > 0 && at < self.cells[k - 1].end).then_some(k)
    }
}

/// True for paths ending in `.ipynb` (any case), including archive members.
pub fn is_notebook(path: &str) -> bool {
    path.len() >= 6 && path.as_bytes()[path.len() - 6..].eq_ignore_ascii_case(b".ipynb")
}

#[derive(Debug)]
struct Frame {
    object: bool,
    expect_key: bool,
    /// This array is the top-level `cells`.
    cells: bool,
    /// Where this container starts, when it is a cell.
    cell_start: Option<usize>,
}

/// Unescapes `json`; `None` when it does not look like a JSON object.
pub fn parse(json: &[u8]) -> Option<Notebook> {
    let first = json.iter().position(|b| !b.is_ascii_whitespace())?;
    if json[first] != b'{' {
        return None;
    }
    let mut view = Vec::with_capacity(json.len());
    let mut map = OffsetMap::builder(0);
    let mut cells = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut key_is_cells = false;
    let mut copy_from = 0;
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            b'"' => {
                let key = stack.last().is_some_and(|f| f.object && f.expect_key);
                let start = i + 1;
                let mut j = start;
                loop {
                    let Some(k) = memchr::memchr2(b'"', b'\\', &json[j..]) else {
                        j = json.len();
                        break;
                    };
                    let at = j + k;
                    if json[at] == b'"' {
                        j = at;
                        break;
                    }
                    match decode_escape(json, at) {
                        Some(esc) => {
                            view.extend_from_slice(&json[copy_from..at]);
                            map.identity(at - copy_from);
                            view.extend_from_slice(&esc.bytes[..esc.len]);
                            map.block(esc.len, esc.consumed);
                            j = at + esc.consumed;
                            copy_from = j;
                        }
                        None => j = (at + 2).min(json.len()),
                    }
                }
                if key {
                    if let Some(f) = stack.last_mut() {
                        f.expect_key = false;
                    }
                    if stack.len() == 1 {
                        key_is_cells = &json[start..j.min(json.len())] == b"cells";
                    }
                }
                i = j + 1;
            }
            c @ (b'{' | b'[') => {
                let in_cells = stack.last().is_some_and(|f| f.cells);
                let cells_array = c == b'[' && stack.len() == 1 && key_is_cells;
                stack.push(Frame {
                    object: c == b'{',
                    expect_key: c == b'{',
                    cells: cells_array,
                    cell_start: in_cells.then_some(i),
                });
                i += 1;
            }
            b'}' | b']' => {
                if let Some(Frame {
                    cell_start: Some(s),
                    ..
                }) = stack.pop()
                {
                    cells.push(s..i + 1);
                }
                i += 1;
            }
            b',' => {
                if let Some(f) = stack.last_mut() {
                    f.expect_key = f.object;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    view.extend_from_slice(&json[copy_from..]);
    map.identity(json.len() - copy_from);
    Some(Notebook {
        view,
        map: map.finish(),
        cells,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NB: &str = r##"{
 "cells": [
  {"cell_type": "markdown", "source": ["# Title\n"]},
  {"cell_type": "code", "source": ["key = \"AKIA\u0051\"\n", "x = {\"a\": [1, 2]}"],
   "outputs": [{"text": ["line\n"]}]}
 ],
 "metadata": {"cells": [{"not": "a cell"}]}
}"##;

    #[test]
    fn unescapes_and_numbers_cells() {
        let nb = parse(NB.as_bytes()).unwrap();
        let view = String::from_utf8(nb.view.clone()).unwrap();
        assert!(view.contains("key = \"AKIAQ\"\n\""), "{view}");
        assert!(view.contains("[\"# Title\n\"]"));
        let at = NB.find("key =").unwrap();
        assert_eq!(nb.cell_at(at), Some(2));
        assert_eq!(nb.cell_at(NB.find("# Title").unwrap()), Some(1));
        assert_eq!(nb.cell_at(NB.find("\"not\"").unwrap()), None);
        // The view maps back onto the file.
        let v = view.find("AKIAQ").unwrap();
        let r = nb.map.source_range(v..v + 5);
        assert_eq!(&NB[r], "AKIA\\u0051");
    }

    #[test]
    fn malformed_json_does_not_panic() {
        for s in [
            "{",
            "{\"cells\": [",
            "{\"a\": \"\\",
            "{]]]}}}",
            "{\"cells\":[{\"x\":\"\\u12",
        ] {
            parse(s.as_bytes());
        }
        assert!(parse(b"[1]").is_none());
        assert!(is_notebook("a/B.IPYNB"));
        assert!(!is_notebook("ipynb"));
    }
}
