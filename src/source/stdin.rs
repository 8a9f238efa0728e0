//! Standard input as one input, reported under a chosen name.

use std::io::Read;

use super::{Counters, Skipped, SourceOutput, human_bytes};
use crate::scan::{Engine, Scratch};

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
        out.skipped.push(Skipped {
            path: name.to_string(),
            reason: format!("too large (> {})", human_bytes(max)),
        });
        return Ok(out);
    }
    let mut scratch = Scratch::default();
    // An archive piped in (`git show HEAD:app.jar | keyleak stdin`) is opened like on disk.
    if crate::decode::archive::scan_archive(engine, name, &buf, &mut scratch, &mut out) {
        counters.scanned(buf.len(), out.findings.len());
        return Ok(out);
    }
    if crate::decode::is_binary(engine, &buf) {
        out.skipped.push(Skipped {
            path: name.to_string(),
            reason: "binary".into(),
        });
        return Ok(out);
    }
    out.findings = engine.scan(name, &buf, &mut scratch);
    counters.scanned(buf.len(), out.findings.len());
    Ok(out)
}
