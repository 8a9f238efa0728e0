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
    /// Why.
    pub reason: SkipReason,
}

impl Skipped {
    /// `path` was skipped for a reason of `kind`, shown as `detail`.
    pub fn new(path: impl Into<String>, kind: SkipKind, detail: impl Into<String>) -> Skipped {
        Skipped {
            path: path.into(),
            reason: SkipReason::new(kind, detail),
        }
    }
}

/// Why an input was not scanned: a kind to count and act on, and the text shown to users
/// (`binary`, `too large (30 MiB > 25 MiB)`, `permission denied`, …), which JSON and SARIF
/// carry unchanged. Ordered by the text first, as the reports list them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SkipReason {
    /// The full text shown to users.
    pub detail: String,
    /// What kind of reason it is.
    pub kind: SkipKind,
}

impl SkipReason {
    /// A reason of `kind` shown as `detail`.
    pub fn new(kind: SkipKind, detail: impl Into<String>) -> SkipReason {
        SkipReason {
            detail: detail.into(),
            kind,
        }
    }

    /// A reason whose text is just its kind's label (`binary`, `not a regular file`, …).
    pub fn plain(kind: SkipKind) -> SkipReason {
        SkipReason::new(kind, kind.label())
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

/// The kinds of [`SkipReason`]: the summary counts skipped inputs per kind, never per number
/// or message inside a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipKind {
    /// Not text (and not an archive).
    Binary,
    /// Over the size limit (a file, blob, stdin or archive member).
    TooLarge,
    /// A FIFO, device or socket, or something else that is not a file.
    NotRegularFile,
    /// The file could not be opened for lack of permission.
    PermissionDenied,
    /// The file was listed but gone when it was read.
    Vanished,
    /// A symlink whose target is missing.
    BrokenSymlink,
    /// A symlink that leads back to one of its parents.
    SymlinkLoop,
    /// Any other I/O or walk error.
    Unreadable,
    /// A git object the repository refers to is absent.
    MissingObject,
    /// A git object that does not inflate or has the wrong type.
    CorruptObject,
    /// A git object that could not be read for another reason.
    UnreadableObject,
    /// A repository (or its object database) that could not be opened by a scan worker.
    UnreadableRepository,
    /// A repository of a multi-repository scan that was not scanned at all.
    RepositoryNotScanned,
    /// An ignore file that could not be read or parsed.
    IgnoreFileNotApplied,
    /// An archive (or gzip stream) that could not be read, or whose reader failed.
    UnreadableArchive,
    /// One archive member that could not be read.
    UnreadableArchiveMember,
    /// An archive with more members than `--max-archive-members` (that option raises it).
    ArchiveMemberLimit,
    /// An archive, or a member, that expands past the decompression limits.
    ArchiveBomb,
    /// Archives nested deeper than the limit.
    ArchiveTooDeep,
    /// A git blob (an archive) some of whose members were skipped; the detail names the first.
    ArchiveMembersSkipped,
}

impl SkipKind {
    /// The summary's name for the kind: `2 too large`, `1 over the archive member limit`.
    pub fn label(self) -> &'static str {
        match self {
            SkipKind::Binary => "binary",
            SkipKind::TooLarge => "too large",
            SkipKind::NotRegularFile => "not a regular file",
            SkipKind::PermissionDenied => "permission denied",
            SkipKind::Vanished => "vanished before it could be read",
            SkipKind::BrokenSymlink => "broken symlink",
            SkipKind::SymlinkLoop => "symlink loop",
            SkipKind::Unreadable => "unreadable",
            SkipKind::MissingObject => "missing object",
            SkipKind::CorruptObject => "corrupt object",
            SkipKind::UnreadableObject => "unreadable object",
            SkipKind::UnreadableRepository => "unreadable repository",
            SkipKind::RepositoryNotScanned => "repository not scanned",
            SkipKind::IgnoreFileNotApplied => "ignore file not applied",
            SkipKind::UnreadableArchive => "unreadable archive",
            SkipKind::UnreadableArchiveMember => "unreadable archive member",
            SkipKind::ArchiveMemberLimit => "over the archive member limit",
            SkipKind::ArchiveBomb => "possible archive bomb",
            SkipKind::ArchiveTooDeep => "archive nested too deep",
            SkipKind::ArchiveMembersSkipped => "archive member(s) not scanned",
        }
    }
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

/// What one classifying pass over a buffer finds (`decode::inline::runs`), shared by the
/// base58 detector, the regex gate, the base64 and escape decoders and the Solana detector, so
/// the AVX2 kernel reads each block once for all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Runs {
    /// Every [`TokenRun`], in order.
    pub tokens: Vec<TokenRun>,
    /// When `marks_listed`: the offsets of every `%`, `\` and NUL byte, ascending (where the
    /// escape decoders start). Read through `Runs::escapes`.
    pub escape_list: Vec<usize>,
    /// When `marks_listed`: the offsets of every `[`, ascending (where a Solana keypair array
    /// can start). Read through `Runs::brackets`.
    pub bracket_list: Vec<usize>,
    /// Whether the two lists are complete. They are not (and are empty) where the kernel does
    /// not find these bytes, or where there were too many to list (a UTF-16 file is half
    /// NULs): then the readers search the buffer themselves.
    pub marks_listed: bool,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skip_reason_shows_its_detail_and_counts_by_kind() {
        let big = SkipReason::new(SkipKind::TooLarge, "too large (30 MiB > 25 MiB)");
        assert_eq!(big.to_string(), "too large (30 MiB > 25 MiB)");
        assert_eq!(big.kind.label(), "too large");
        assert_eq!(SkipReason::plain(SkipKind::Binary).to_string(), "binary");
        // Reports list skips by path, then by the text users see.
        let mut v = [
            Skipped::new("a", SkipKind::TooLarge, "too large (> 1 MiB)"),
            Skipped::new("a", SkipKind::Binary, "binary"),
        ];
        v.sort();
        assert_eq!(v[0].reason.detail, "binary");
    }
}
