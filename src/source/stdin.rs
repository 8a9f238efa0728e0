//! Standard input as one input, reported under a chosen name.

use std::io::Read;

use super::{Capped, Counters, Skipped, SourceOutput, human_bytes};
use crate::model::{Input, Provenance, SkipKind};
use crate::scan::{Engine, Scratch, Verdict, scan_input};

/// Reads `reader` to the end (at most `max` bytes) and scans it as `name`.
pub fn scan(
    reader: impl Read,
    name: &str,
    max: u64,
    engine: &Engine,
    counters: &Counters,
) -> std::io::Result<SourceOutput> {
    let mut buf = Vec::new();
    reader.take(max + 1).read_to_end(&mut buf)?;
    let mut out = SourceOutput::default();
    if buf.len() as u64 > max {
        out.skipped.push(Skipped::new(
            name,
            SkipKind::TooLarge,
            format!("too large (> {})", human_bytes(max)),
        ));
        return Ok(out);
    }
    let provenance = Provenance::Stdin(name.to_string());
    let input = Input {
        provenance: &provenance,
        bytes: &buf,
    };
    // An archive piped in (`git show HEAD:app.jar | keyleak stdin`) is opened like on disk.
    let scanned = scan_input(engine, input, &mut Scratch::default());
    if scanned.verdict == Verdict::Binary {
        out.skipped
            .push(Skipped::new(name, SkipKind::Binary, "binary"));
        return Ok(out);
    }
    let mut capped = Capped::default();
    out.findings = scanned.findings;
    capped.input(&mut out.findings, scanned.unreported);
    counters.scanned(buf.len(), out.findings.len());
    out.skipped = scanned.skipped;
    out.notes = capped.notes();
    Ok(out)
}
