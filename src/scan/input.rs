//! The one entry point every source uses: [`scan_input`] opens archives, decides whether the
//! bytes are text (UTF-8, or UTF-16 with or without a byte-order mark) and scans the text.
//! Sources only say where bytes came from ([`Provenance`]) and what to do with the result.

use crate::decode::{archive, inline};
use crate::finding::Finding;
use crate::model::{Input, Provenance, Skipped};

use super::{BINARY_SNIFF, Engine, Scratch, is_binary};

/// What [`scan_input`] made of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Scanned as text.
    Text,
    /// Opened as an archive; its members were scanned (binary members are passed over
    /// silently: a jar's classes are not worth a line each).
    Archive,
    /// Binary: not scanned. The source decides how to report it.
    Binary,
}

/// The result of scanning one input.
#[derive(Debug)]
pub struct Scanned {
    /// What the input was.
    pub verdict: Verdict,
    /// Findings, in the input's own order.
    pub findings: Vec<Finding>,
    /// Archive members (or whole archives) that could not be read.
    pub skipped: Vec<Skipped>,
    /// Matches left out by the scan's memory bounds (see [`Engine::scan_counting`]); the
    /// sources add them to their per-input cap note.
    pub unreported: usize,
}

/// True when `data` is binary for the scan: a NUL in the first block, unless it is UTF-16
/// text that the decoder will transcode (a byte-order mark, or BOM-less UTF-16 when inline
/// decoding is on).
pub fn is_binary_input(engine: &Engine, data: &[u8]) -> bool {
    is_binary(data)
        && !(engine.decode_options().inline
            && inline::looks_like_utf16(&data[..data.len().min(BINARY_SNIFF)]))
}

/// True when [`scan_input`] calls binary every input whose first [`BINARY_SNIFF`] bytes (all of
/// it, if shorter) are `head`: both of what it decides before that are read from those bytes
/// alone (an archive by its magic bytes, binary by a NUL in the first block), so a reader can
/// stop there (history mode's pack reader does).
pub fn binary_by_head(engine: &Engine, head: &[u8]) -> bool {
    let archive = engine.decode_options().archives.is_some() && archive::sniff(head).is_some();
    !archive && is_binary_input(engine, head)
}

/// Scans one input, whatever its source: archive → members (recursively, within limits);
/// binary → nothing; text → findings reported under the provenance's display path.
pub fn scan_input(engine: &Engine, input: Input<'_>, scratch: &mut Scratch) -> Scanned {
    let path = input.provenance.display();
    let mut out = Scanned {
        verdict: Verdict::Text,
        findings: Vec::new(),
        skipped: Vec::new(),
        unreported: 0,
    };
    if let Some(limits) = &engine.decode_options().archives {
        let findings = &mut out.findings;
        let unreported = &mut out.unreported;
        let opened = archive::expand(
            limits,
            &path,
            input.bytes,
            &mut out.skipped,
            &mut |member, bytes| {
                if is_binary_input(engine, bytes) {
                    return;
                }
                let provenance = Provenance::ArchiveMember {
                    outer: Box::new(input.provenance.clone()),
                    member: member.to_string(),
                };
                let (found, left) = engine.scan_counting(&provenance.display(), bytes, scratch);
                findings.extend(found);
                *unreported += left;
            },
        );
        if opened {
            out.verdict = Verdict::Archive;
            return out;
        }
    }
    if is_binary_input(engine, input.bytes) {
        out.verdict = Verdict::Binary;
        return out;
    }
    (out.findings, out.unreported) = engine.scan_counting(&path, input.bytes, scratch);
    out
}
