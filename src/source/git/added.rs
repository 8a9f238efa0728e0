//! The added lines of a change, shared by `--staged` (what the next commit would add, see
//! [`super::staged`]) and `--range` (what the commits of a pull request or push added, see
//! [`super::range`]).
//!
//! Both work the same way per changed file: libgit2 diffs the old side against the new one with
//! zero context lines and rename detection, which yields the added line numbers of the new
//! file; the whole new blob is then scanned with [`Engine::scan`] and only findings whose lines
//! touch an added line are kept. Scanning the whole blob rather than the added lines keeps
//! multi-line secrets (PEM blocks) and credentials split over nearby lines working, and keeps
//! line numbers those of the real file. A renamed file with no content change, or a mode
//! change, adds no line and so reports nothing.

use std::collections::{HashMap, HashSet};

use git2::{Delta, Diff, DiffFindOptions, DiffOptions, FileMode, Oid, Patch, Repository};

use super::GitError;
use super::repo::{header_skip, read_reason, setup_err};
use crate::decode::archive;
use crate::finding::Finding;
use crate::model::{Input, Provenance, SkipKind, SkipReason, Skipped};
use crate::scan::{Engine, Scratch, is_binary_input, scan_input};
use crate::source::{Capped, Counters, MAX_FINDINGS};

/// 1-based line numbers of a file, as sorted, disjoint, inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Lines(Vec<(u32, u32)>);

impl Lines {
    /// Every line of the file: used when no line-level diff is possible.
    fn all() -> Lines {
        Lines(vec![(1, u32::MAX)])
    }

    fn push(&mut self, start: u32, count: u32) {
        if count > 0 {
            self.0.push((start, start + (count - 1)));
        }
    }

    /// Sorts and merges overlapping or adjacent ranges.
    fn normalize(&mut self) {
        self.0.sort_unstable();
        let mut out: Vec<(u32, u32)> = Vec::with_capacity(self.0.len());
        for &(s, e) in &self.0 {
            match out.last_mut() {
                Some(last) if s <= last.1.saturating_add(1) => last.1 = last.1.max(e),
                _ => out.push((s, e)),
            }
        }
        self.0 = out;
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Lines in both sets (both normalized).
    fn intersect(&self, other: &Lines) -> Lines {
        let (mut i, mut j, mut out) = (0, 0, Vec::new());
        while i < self.0.len() && j < other.0.len() {
            let (a, b) = (self.0[i], other.0[j]);
            let (s, e) = (a.0.max(b.0), a.1.min(b.1));
            if s <= e {
                out.push((s, e));
            }
            if a.1 < b.1 { i += 1 } else { j += 1 }
        }
        Lines(out)
    }

    /// True when any line in `start..=end` is in the set.
    fn touches(&self, start: usize, end: usize) -> bool {
        let (start, end) = (
            start.min(u32::MAX as usize) as u32,
            end.min(u32::MAX as usize) as u32,
        );
        let i = self.0.partition_point(|r| r.1 < start);
        self.0.get(i).is_some_and(|r| r.0 <= end)
    }
}

/// A file a diff says may have gained lines: its new path and blob, and what it replaced.
#[derive(Debug)]
pub(super) struct ChangedFile {
    pub(super) path: Vec<u8>,
    pub(super) blob: Oid,
    /// The blob it replaced against each parent diffed (`None`: new against that parent). A
    /// line is added when it is added against every one of them.
    pub(super) olds: Vec<Option<Oid>>,
}

pub(super) fn diff_options() -> DiffOptions {
    let mut o = DiffOptions::new();
    o.ignore_submodules(true).include_typechange(true);
    o
}

/// Detects renames so that moving a file, even with small edits, only reports the edited
/// lines. Copies are not detected: a copy puts the secret at one more path, which is new.
pub(super) fn find_renames(diff: &mut Diff<'_>) -> Result<(), git2::Error> {
    let mut f = DiffFindOptions::new();
    f.renames(true);
    diff.find_similar(Some(&mut f))
}

/// The files of `diff` that may have gained content. Only the deltas are used: libgit2's own
/// patch generation would look up `.gitattributes` diff drivers, which loads the whole index
/// (the cost `--staged` exists to avoid); lines are diffed later from the blobs themselves.
pub(super) fn changed_files(diff: &Diff<'_>) -> Vec<ChangedFile> {
    let is_file = |m: FileMode| matches!(m, FileMode::Blob | FileMode::BlobExecutable);
    let mut files = Vec::new();
    for delta in diff.deltas() {
        let (old, new) = (delta.old_file(), delta.new_file());
        let adds = match delta.status() {
            Delta::Added | Delta::Typechange => true,
            // Same blob: a pure rename or a mode change adds no line.
            Delta::Modified | Delta::Renamed => old.id() != new.id(),
            _ => false,
        };
        if !adds || !is_file(new.mode()) {
            continue;
        }
        let old_blob = (is_file(old.mode()) && !old.id().is_zero()).then(|| old.id());
        files.push(ChangedFile {
            path: new.path_bytes().unwrap_or_default().to_vec(),
            blob: new.id(),
            olds: vec![old_blob],
        });
    }
    files
}

/// Lines of `new` that are not in `old` (zero-context line diff). Content already passed the
/// binary check, so libgit2 is told to treat both sides as text.
fn added_lines(old: &[u8], new: &[u8]) -> Lines {
    let mut o = DiffOptions::new();
    // Zero context makes every line of every hunk's new side an added line.
    o.context_lines(0).interhunk_lines(0).force_text(true);
    let mut lines = Lines::default();
    let Ok(patch) = Patch::from_buffers(old, None, new, None, Some(&mut o)) else {
        return Lines::all();
    };
    for i in 0..patch.num_hunks() {
        match patch.hunk(i) {
            Ok((hunk, _)) => lines.push(hunk.new_start(), hunk.new_lines()),
            Err(_) => return Lines::all(),
        }
    }
    lines.normalize();
    lines
}

/// Scans changed files and keeps the findings on added lines.
pub(super) struct FileScan<'a> {
    odb: git2::Odb<'a>,
    engine: &'a Engine,
    counters: &'a Counters,
    max: u64,
    archives: bool,
    scratch: Scratch,
    /// Findings of blobs already scanned (under the path they were scanned at): a blob
    /// committed at many paths, or in many commits of a range, is scanned once.
    seen: HashMap<Oid, (String, std::sync::Arc<Vec<Finding>>)>,
    /// Findings held by `seen`, to keep the cache bounded.
    cached: usize,
    pub(super) capped: Capped,
}

impl<'a> FileScan<'a> {
    pub(super) fn new(
        repo: &'a Repository,
        engine: &'a Engine,
        counters: &'a Counters,
        max: u64,
    ) -> Result<Self, GitError> {
        let odb = repo
            .odb()
            .map_err(|e| setup_err("cannot open the object database", e))?;
        Ok(FileScan {
            odb,
            engine,
            counters,
            max,
            archives: engine.decode_options().archives.is_some(),
            scratch: Scratch::default(),
            seen: HashMap::new(),
            cached: 0,
            capped: Capped::default(),
        })
    }

    /// Findings of `file` on its added lines, under `provenance`, and the archive members
    /// that could not be read; `Err` is a skip reason.
    pub(super) fn scan(
        &mut self,
        file: &ChangedFile,
        provenance: &Provenance,
    ) -> Result<Scan, SkipReason> {
        let obj = read_blob(&self.odb, file.blob, self.max)?;
        let data = obj.data();
        let input = Input {
            provenance,
            bytes: data,
        };
        if self.archives && archive::sniff(data).is_some() {
            let (odb, engine, max) = (&self.odb, self.engine, self.max);
            let (mut scan, unreported) =
                scan_archive(odb, engine, max, &mut self.scratch, file, input);
            self.capped.input(&mut scan.findings, unreported);
            self.counters.scanned(data.len(), scan.findings.len());
            return Ok(scan);
        }
        if is_binary_input(self.engine, data) {
            return Err(SkipReason::plain(SkipKind::Binary));
        }
        let mut lines: Option<Lines> = None;
        for old in &file.olds {
            let added = match old.map(|o| read_blob(&self.odb, o, self.max)) {
                Some(Ok(o)) if !is_binary_input(self.engine, o.data()) => {
                    added_lines(o.data(), data)
                }
                // New, replacing a binary, or the old side cannot be read: every line counts.
                _ => Lines::all(),
            };
            lines = Some(match lines {
                Some(l) => l.intersect(&added),
                None => added,
            });
        }
        let lines = lines.unwrap_or_else(Lines::all);
        if lines.is_empty() {
            return Ok(Scan::default());
        }
        let path = provenance.display();
        let mut scanned = match self.seen.get(&file.blob) {
            Some((first, found)) => {
                let (first, found) = (first.clone(), found.clone());
                let findings = found
                    .iter()
                    .map(|f| {
                        let mut f = f.clone();
                        // Archive members are reported as `<blob path>!/<member>`: keep them.
                        let member = f
                            .path
                            .strip_prefix(first.as_str())
                            .unwrap_or("")
                            .to_string();
                        f.path = format!("{path}{member}");
                        f
                    })
                    .collect();
                Scan {
                    findings,
                    skipped: Vec::new(),
                }
            }
            None => {
                let mut scanned = scan_input(self.engine, input, &mut self.scratch);
                self.capped.input(&mut scanned.findings, scanned.unreported);
                if self.cached + scanned.findings.len() <= MAX_FINDINGS {
                    self.cached += scanned.findings.len();
                    self.seen.insert(
                        file.blob,
                        (path.clone(), std::sync::Arc::new(scanned.findings.clone())),
                    );
                }
                Scan {
                    findings: scanned.findings,
                    skipped: scanned.skipped,
                }
            }
        };
        scanned.findings.retain(|f| {
            lines.touches(f.span.line, f.span.end_line)
                || f.parts
                    .iter()
                    .any(|p| lines.touches(p.span.line, p.span.end_line))
        });
        self.counters.scanned(data.len(), scanned.findings.len());
        Ok(Scan {
            findings: scanned.findings,
            skipped: scanned.skipped,
        })
    }
}

/// An archive has no lines to diff: what it adds is each member finding (path within the
/// archive and fingerprint) that no old side of it already had. Also returns the matches its
/// scan only counted ([`crate::scan::Scanned::unreported`]).
fn scan_archive(
    odb: &git2::Odb<'_>,
    engine: &Engine,
    max: u64,
    scratch: &mut Scratch,
    file: &ChangedFile,
    input: Input<'_>,
) -> (Scan, usize) {
    let scanned = scan_input(engine, input, scratch);
    let mut findings = scanned.findings;
    for old in file.olds.iter().flatten() {
        let Ok(o) = read_blob(odb, *old, max) else {
            continue;
        };
        let before = Input {
            bytes: o.data(),
            ..input
        };
        let had: HashSet<(String, String)> = scan_input(engine, before, scratch)
            .findings
            .into_iter()
            .map(|f| (f.path, f.fingerprint))
            .collect();
        findings.retain(|f| !had.contains(&(f.path.clone(), f.fingerprint.clone())));
    }
    (
        Scan {
            findings,
            skipped: scanned.skipped,
        },
        scanned.unreported,
    )
}

/// What [`FileScan::scan`] found in one changed file.
#[derive(Default)]
pub(super) struct Scan {
    pub(super) findings: Vec<Finding>,
    pub(super) skipped: Vec<Skipped>,
}

/// Reads a blob, refusing oversized ones from their header alone.
fn read_blob<'o>(
    odb: &'o git2::Odb<'_>,
    oid: Oid,
    max: u64,
) -> Result<git2::OdbObject<'o>, SkipReason> {
    let (size, kind) = odb.read_header(oid).map_err(|e| read_reason(&e))?;
    if let Some(reason) = header_skip(kind, size as u64, max) {
        return Err(reason);
    }
    odb.read(oid).map_err(|e| read_reason(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[(u32, u32)]) -> Lines {
        Lines(v.to_vec())
    }

    #[test]
    fn normalize_merges_adjacent_and_overlapping() {
        let mut l = lines(&[(10, 12), (1, 1), (2, 3), (11, 15), (20, 20)]);
        l.normalize();
        assert_eq!(l, lines(&[(1, 3), (10, 15), (20, 20)]));
    }

    #[test]
    fn intersect_table() {
        for (a, b, want) in [
            (vec![(1, 10)], vec![(5, 20)], vec![(5, 10)]),
            (vec![(1, 2), (5, 6)], vec![(3, 4)], vec![]),
            (
                vec![(1, 3), (5, 9)],
                vec![(2, 6), (8, 8)],
                vec![(2, 3), (5, 6), (8, 8)],
            ),
            (vec![(1, u32::MAX)], vec![(7, 7)], vec![(7, 7)]),
        ] {
            assert_eq!(
                lines(&a).intersect(&lines(&b)),
                lines(&want),
                "{a:?} ∩ {b:?}"
            );
        }
    }

    #[test]
    fn touches_table() {
        let l = lines(&[(3, 5), (10, 10)]);
        for (s, e, want) in [
            (1, 2, false),
            (1, 3, true),
            (5, 9, true),
            (6, 9, false),
            (10, 10, true),
            (11, 99, false),
        ] {
            assert_eq!(l.touches(s, e), want, "{s}..={e}");
        }
        assert!(Lines::all().touches(123_456, 123_456));
    }

    #[test]
    fn added_lines_table() {
        for (old, new, want) in [
            (&b"a\nb\n"[..], &b"a\nb\n"[..], vec![]),
            (&b"a\nb\n"[..], &b"a\nx\nb\n"[..], vec![(2, 2)]),
            (&b"a\nb\n"[..], &b"z\na\nb\ny\n"[..], vec![(1, 1), (4, 4)]),
            (&b"a\nb\nc\n"[..], &b"a\nB\nC\n"[..], vec![(2, 3)]),
            (&b"a\nb\n"[..], &b"a\n"[..], vec![]),
            (&b""[..], &b"a\nb"[..], vec![(1, 2)]),
            (&b"a\xff\n"[..], &b"a\xff\nb\xfe\n"[..], vec![(2, 2)]),
        ] {
            assert_eq!(added_lines(old, new), lines(&want), "{old:?} -> {new:?}");
        }
    }

    #[test]
    fn push_skips_empty_hunks() {
        let mut l = Lines::default();
        l.push(4, 0);
        l.push(7, 2);
        assert_eq!(l, lines(&[(7, 8)]));
    }
}
