//! Types shared by parts that may not import one another (see the README's architecture
//! section): what an input is and where it came from, why an input was not scanned, and the
//! token runs that both the matcher and the decoders work from. This module imports nothing
//! of keyleak but [`crate::finding`].

/// Where an input's bytes came from. A source builds one per input; the scan derives the
/// display path from it and archive members nest inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance {
    /// A file in a directory walk, by its display path.
    Path(String),
    /// A git blob, by the path it was (first) seen at; commit details are attached by the
    /// history and range sources after the scan, since one blob can sit at many paths.
    Blob {
        /// Display path in the tree.
        path: String,
        /// Full hex id of the blob.
        blob: String,
    },
    /// A file in the index (`--staged`): it has no commit yet.
    Staged(String),
    /// Standard input, under the name the user chose.
    Stdin(String),
    /// A member of an archive: `outer!/member`.
    ArchiveMember {
        /// The archive.
        outer: Box<Provenance>,
        /// The member's path inside it.
        member: String,
    },
}

impl Provenance {
    /// The path shown in reports: `dir/file`, `app.jar!/config.env`, `a.zip!/b.zip!/c`.
    pub fn display(&self) -> String {
        match self {
            Provenance::Path(p) | Provenance::Staged(p) | Provenance::Stdin(p) => p.clone(),
            Provenance::Blob { path, .. } => path.clone(),
            Provenance::ArchiveMember { outer, member } => {
                format!("{}!/{member}", outer.display())
            }
        }
    }
}

/// One input to scan: its provenance and its whole content.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Where it came from.
    pub provenance: &'a Provenance,
    /// Its bytes, as read (not yet decoded).
    pub bytes: &'a [u8],
}

/// An input that was not scanned, and why. Never fatal: counted, listed with `-v`, and
/// recorded in SARIF notifications.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Skipped {
    /// Display path (or `commit:path` / blob id for git).
    pub path: String,
    /// Why: `binary`, `too large (30 MiB > 25 MiB)`, `permission denied`, …
    pub reason: String,
}

/// Shortest run of token bytes (`A-Z a-z 0-9 + / - _`) reported by the run finder: the
/// shortest base64 run worth decoding (18 bytes of content), and the length from which a
/// rule's secret is only looked for where such a run is (`Rule::token_gate`).
pub const TOKEN_RUN: usize = 24;

/// A maximal run of at least [`TOKEN_RUN`] token bytes (`A-Z a-z 0-9 + / - _`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenRun {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// Whether it has both upper- and lowercase letters. Base64 of text always mixes cases
    /// (each character mixes bits of two bytes); snake_case identifiers, SCREAMING_CONSTANTS
    /// and lowercase paths (most long runs in code) do not, and are told apart from the masks
    /// alone.
    pub mixed: bool,
}

/// Formats a byte count as `25 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
