//! Added-lines modes of the git source: `--staged` (what the next commit would add) and
//! `--range` (what the commits of a pull request or push added).
//!
//! Both work the same way per changed file: libgit2 diffs the old side against the new one with
//! zero context lines and rename detection, which yields the added line numbers of the new
//! file; the whole new blob is then scanned with [`Engine::scan`] and only findings whose lines
//! touch an added line are kept. Scanning the whole blob rather than the added lines keeps
//! multi-line secrets (PEM blocks) and credentials split over nearby lines working, and keeps
//! line numbers those of the real file. A renamed file with no content change, or a mode
//! change, adds no line and so reports nothing.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use git2::{
    Delta, Diff, DiffFindOptions, DiffOptions, ErrorCode, FileMode, Index, IndexEntry, IndexTime,
    ObjectType, Oid, Patch, Repository, Tree,
};

use super::git::{
    GitError, GitOptions, commit_info, display_git_path, header_skip, read_reason, setup_err,
    shallow_boundary, short,
};
use super::index::{self, IndexFile};
use super::{Capped, Counters, MAX_FINDINGS, Skipped, SourceOutput};
use crate::decode::archive;
use crate::finding::{Finding, GitInfo};
use crate::model::{Input, Provenance};
use crate::scan::{Engine, Scratch, is_binary_input, scan_input};

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
struct Changed {
    path: Vec<u8>,
    blob: Oid,
    /// The blob it replaced against each parent diffed (`None`: new against that parent). A
    /// line is added when it is added against every one of them.
    olds: Vec<Option<Oid>>,
}

fn diff_options() -> DiffOptions {
    let mut o = DiffOptions::new();
    o.ignore_submodules(true).include_typechange(true);
    o
}

/// Detects renames so that moving a file, even with small edits, only reports the edited
/// lines. Copies are not detected: a copy puts the secret at one more path, which is new.
fn find_renames(diff: &mut Diff<'_>) -> Result<(), git2::Error> {
    let mut f = DiffFindOptions::new();
    f.renames(true);
    diff.find_similar(Some(&mut f))
}

/// The files of `diff` that may have gained content. Only the deltas are used: libgit2's own
/// patch generation would look up `.gitattributes` diff drivers, which loads the whole index
/// (the cost `--staged` exists to avoid); lines are diffed later from the blobs themselves.
fn changed_files(diff: &Diff<'_>) -> Vec<Changed> {
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
        files.push(Changed {
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
struct FileScan<'a> {
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
    capped: Capped,
}

impl<'a> FileScan<'a> {
    fn new(
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
    fn scan(&mut self, file: &Changed, provenance: &Provenance) -> Result<Scan, String> {
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
            return Err("binary".into());
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
    file: &Changed,
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
struct Scan {
    findings: Vec<Finding>,
    skipped: Vec<Skipped>,
}

/// Reads a blob, refusing oversized ones from their header alone.
fn read_blob<'o>(
    odb: &'o git2::Odb<'_>,
    oid: Oid,
    max: u64,
) -> Result<git2::OdbObject<'o>, String> {
    let (size, kind) = odb.read_header(oid).map_err(|e| read_reason(&e))?;
    if let Some(reason) = header_skip(kind, size as u64, max) {
        return Err(reason);
    }
    odb.read(oid).map_err(|e| read_reason(&e))
}

// ---------------------------------------------------------------------------------------------
// Staged

/// Lines added in the index compared with HEAD (everything staged when HEAD is unborn).
///
/// Only the index is read in full, and HEAD's trees only where the index's cache-tree says
/// something changed. The index is never refreshed or written and no `index.lock` is ever
/// taken (this runs inside `git commit`'s pre-commit hook, which holds that lock). Staged findings have no commit yet: `Finding.git` is `None` and the path
/// is the staged path.
pub(crate) fn staged(
    repo: &Repository,
    opts: &GitOptions,
    engine: &Engine,
    counters: &Counters,
) -> Result<SourceOutput, GitError> {
    if repo.is_bare() {
        return Err(GitError::Other(format!(
            "{}: --staged needs a work tree, and this repository is bare",
            opts.repo.display()
        )));
    }
    let head_tree = head_tree(repo)?;
    let files = staged_files(repo, head_tree.as_ref())
        .map_err(|e| setup_err("cannot diff the index against HEAD", e))?;
    counters
        .total
        .store(files.len() as u64, std::sync::atomic::Ordering::Relaxed);

    let mut out = SourceOutput::default();
    let mut fs = FileScan::new(repo, engine, counters, opts.max_file_size)?;
    for file in &files {
        let path = display_git_path(&file.path);
        match fs.scan(file, &Provenance::Staged(path.clone())) {
            Ok(scan) => {
                out.findings.extend(scan.findings);
                out.skipped.extend(scan.skipped);
            }
            Err(reason) => out.skipped.push(Skipped { path, reason }),
        }
    }
    out.notes.extend(fs.capped.notes());
    Ok(out)
}

/// The index git will commit from: `$GIT_INDEX_FILE` when set (git sets it for hooks run by
/// `git commit -a` or `git commit <paths>`, which commit a temporary index), else the
/// repository's own.
fn index_path(repo: &Repository) -> PathBuf {
    match std::env::var_os("GIT_INDEX_FILE") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => repo.path().join("index"),
    }
}

/// The staged files that gain content, with their added lines.
fn staged_files(repo: &Repository, head: Option<&Tree<'_>>) -> Result<Vec<Changed>, git2::Error> {
    let path = index_path(repo);
    let data = match std::fs::read(&path) {
        Ok(d) => Some(d),
        // No index yet: nothing was ever staged.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(_) => None,
    };
    match data.as_deref().and_then(IndexFile::parse) {
        Some(idx) => staged_files_fast(repo, &idx, head),
        None => staged_files_libgit2(repo, &path, head),
    }
}

/// The fast path: the cache-tree narrows the comparison to the changed paths (see
/// [`super::index`]); libgit2 then diffs just those, as two small in-memory indexes, so its
/// rename detection and line diff apply unchanged.
fn staged_files_fast(
    repo: &Repository,
    idx: &IndexFile,
    head: Option<&Tree<'_>>,
) -> Result<Vec<Changed>, git2::Error> {
    let changes = index::changes(repo, idx, head)?;
    if changes.iter().all(|c| c.new.is_none()) {
        return Ok(Vec::new());
    }
    let (mut old, mut new) = (Index::new()?, Index::new()?);
    for c in &changes {
        for (side, index) in [(c.old, &mut old), (c.new, &mut new)] {
            // Submodule commits are not content of this repository.
            if let Some((mode, oid)) = side.filter(|(mode, _)| *mode != MODE_GITLINK) {
                index.add(&mem_entry(&c.path, mode, oid))?;
            }
        }
    }
    let mut diff = repo.diff_index_to_index(&old, &new, Some(&mut diff_options()))?;
    find_renames(&mut diff)?;
    Ok(changed_files(&diff))
}

const MODE_GITLINK: u32 = 0o160000;

/// An in-memory index entry: only path, mode and id matter to an index-to-index diff.
fn mem_entry(path: &[u8], mode: u32, id: Oid) -> IndexEntry {
    IndexEntry {
        ctime: IndexTime::new(0, 0),
        mtime: IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode,
        uid: 0,
        gid: 0,
        file_size: 0,
        id,
        flags: 0,
        flags_extended: 0,
        path: path.to_vec(),
    }
}

/// The general path, for index formats [`IndexFile`] does not read: libgit2's own index and
/// tree-to-index diff (slower on large repositories; never writes either).
fn staged_files_libgit2(
    repo: &Repository,
    path: &Path,
    head: Option<&Tree<'_>>,
) -> Result<Vec<Changed>, git2::Error> {
    let index = if path == repo.path().join("index") {
        repo.index()?
    } else {
        Index::open(path)?
    };
    let mut diff = repo.diff_tree_to_index(head, Some(&index), Some(&mut diff_options()))?;
    find_renames(&mut diff)?;
    Ok(changed_files(&diff))
}

/// HEAD's tree, or `None` when HEAD is unborn (no commit yet).
fn head_tree(repo: &Repository) -> Result<Option<Tree<'_>>, GitError> {
    match repo.head() {
        Ok(head) => head
            .peel_to_tree()
            .map(Some)
            .map_err(|e| setup_err("cannot read HEAD", e)),
        Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => Ok(None),
        Err(e) => Err(setup_err("cannot read HEAD", e)),
    }
}

// ---------------------------------------------------------------------------------------------
// Range

/// Lines added by the commits `spec` selects, each finding attributed to the commit that
/// added its line:
///
/// - `BASE..HEAD`: the commits `git log BASE..HEAD` lists;
/// - `BASE...HEAD`: the commits of HEAD since its merge base with BASE (what a pull request
///   adds; unlike `git log A...B`, commits only on BASE are not included);
/// - `REV`: that commit alone, against its first parent.
///
/// A merge commit adds only the lines that are new against every parent (a conflict
/// resolution or an "evil merge"), so lines brought in from a merged branch are not reported
/// twice.
pub(crate) fn range(
    repo: &Repository,
    spec: &str,
    opts: &GitOptions,
    engine: &Engine,
    counters: &Counters,
) -> Result<SourceOutput, GitError> {
    let mut out = SourceOutput::default();
    let commits = resolve_range(repo, spec, &mut out)?;
    let mut fs = FileScan::new(repo, engine, counters, opts.max_file_size)?;
    for oid in commits {
        counters
            .commits
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let files = match commit_changes(repo, oid) {
            Ok(files) => files,
            Err(e) => {
                out.skipped.push(Skipped {
                    path: short(oid),
                    reason: read_reason(&e),
                });
                continue;
            }
        };
        let mut info: Option<GitInfo> = None;
        for file in &files {
            let path = display_git_path(&file.path);
            let provenance = Provenance::Blob {
                path: path.clone(),
                blob: file.blob.to_string(),
            };
            match fs.scan(file, &provenance) {
                Ok(scan) => {
                    out.skipped.extend(scan.skipped);
                    for mut f in scan.findings {
                        if !fs.capped.room(&out.findings) {
                            continue;
                        }
                        let info = info.get_or_insert_with(|| commit_info(repo, oid));
                        f.git = Some(GitInfo {
                            blob: file.blob.to_string(),
                            ..info.clone()
                        });
                        out.findings.push(f);
                    }
                }
                Err(reason) => out.skipped.push(Skipped {
                    path: format!("{}:{path}", short(oid)),
                    reason,
                }),
            }
        }
    }
    out.notes.extend(fs.capped.notes());
    Ok(out)
}

/// What one commit added: against its only parent, against the empty tree for a root (or
/// shallow boundary) commit, and for a merge the lines new against every parent.
fn commit_changes(repo: &Repository, oid: Oid) -> Result<Vec<Changed>, git2::Error> {
    let commit = repo.find_commit(oid)?;
    let tree = commit.tree()?;
    let parents: Vec<Tree<'_>> = commit
        .parents()
        .map(|p| p.tree())
        .collect::<Result<_, _>>()?;
    let diff_from = |old: Option<&Tree<'_>>| -> Result<Vec<Changed>, git2::Error> {
        let mut diff = repo.diff_tree_to_tree(old, Some(&tree), Some(&mut diff_options()))?;
        find_renames(&mut diff)?;
        Ok(changed_files(&diff))
    };
    let Some((first, rest)) = parents.split_first() else {
        return diff_from(None);
    };
    let mut files = diff_from(Some(first))?;
    for parent in rest {
        let other: HashMap<Vec<u8>, Changed> = diff_from(Some(parent))?
            .into_iter()
            .map(|c| (c.path.clone(), c))
            .collect();
        // A file unchanged against some parent gained nothing in the merge itself; the others
        // keep only lines added against every parent (see `FileScan::scan`).
        files.retain_mut(|f| match other.get(&f.path) {
            Some(o) => {
                f.olds.extend_from_slice(&o.olds);
                true
            }
            None => false,
        });
    }
    Ok(files)
}

/// The commits `spec` selects, oldest first.
fn resolve_range(
    repo: &Repository,
    spec: &str,
    out: &mut SourceOutput,
) -> Result<Vec<Oid>, GitError> {
    let spec = spec.trim();
    if spec.is_empty() {
        return Err(GitError::Other("--range: empty revision".into()));
    }
    if !spec.contains("..") {
        let commit = peel(repo, spec, spec)?;
        return Ok(vec![commit]);
    }
    let symmetric = spec.contains("...");
    let sep = if symmetric { "..." } else { ".." };
    let (base, head) = spec.split_once(sep).unwrap_or((spec, ""));
    // An empty side means HEAD, as in git.
    let base_name = if base.is_empty() { "HEAD" } else { base };
    let head_name = if head.is_empty() { "HEAD" } else { head };
    let head_oid = peel(repo, head_name, spec)?;
    let base_oid = peel(repo, base_name, spec)?;
    let hide = if symmetric {
        match repo.merge_base(base_oid, head_oid) {
            Ok(mb) => mb,
            Err(e) if e.code() == ErrorCode::NotFound => {
                return Err(GitError::Other(if repo.is_shallow() {
                    format!(
                        "--range `{spec}`: `{base_name}` and `{head_name}` have no common ancestor in this shallow \
                         clone; fetch more history (`git fetch --deepen=<n>`, or `fetch-depth: 0` in actions/checkout)"
                    )
                } else {
                    format!(
                        "--range `{spec}`: `{base_name}` and `{head_name}` have no common ancestor"
                    )
                }));
            }
            Err(e) => return Err(setup_err(&format!("--range `{spec}`"), e)),
        }
    } else {
        base_oid
    };
    let mut walk = repo
        .revwalk()
        .map_err(|e| setup_err("cannot walk history", e))?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
        .map_err(|e| setup_err("cannot walk history", e))?;
    walk.push(head_oid)
        .map_err(|e| setup_err(&format!("--range `{spec}`"), e))?;
    walk.hide(hide)
        .map_err(|e| setup_err(&format!("--range `{spec}`"), e))?;
    let commits: Vec<Oid> = walk
        .collect::<Result<_, _>>()
        .map_err(|e| setup_err(&format!("--range `{spec}`"), e))?;
    // In a shallow clone the walk can run into the boundary before reaching BASE: the range
    // then holds commits that are really in BASE's history and that cannot be told apart.
    let boundary: HashSet<Oid> = shallow_boundary(repo).into_iter().collect();
    if let Some(b) = commits.iter().find(|c| boundary.contains(c)) {
        out.notes.push(format!(
            "shallow clone: the range reaches the shallow boundary at {} before `{base_name}`; lines added \
             before it may be reported; fetch more history (`git fetch --deepen=<n>`, or `fetch-depth: 0` in \
             actions/checkout)",
            short(*b)
        ));
    }
    Ok(commits)
}

/// Resolves one revision to a commit, with an error that says what to do in a shallow clone.
fn peel(repo: &Repository, rev: &str, spec: &str) -> Result<Oid, GitError> {
    let obj = repo.revparse_single(rev).map_err(|e| {
        if repo.is_shallow() && e.code() == ErrorCode::NotFound {
            GitError::Other(format!(
                "--range `{spec}`: revision `{rev}` is not in this shallow clone; fetch more history \
                 (`git fetch --deepen=<n>` or `git fetch origin {rev}`, or `fetch-depth: 0` in actions/checkout)"
            ))
        } else {
            setup_err(&format!("--range `{spec}`: bad revision `{rev}`"), e)
        }
    })?;
    match obj.peel(ObjectType::Commit) {
        Ok(c) => Ok(c.id()),
        Err(_) => Err(GitError::Other(format!(
            "--range `{spec}`: `{rev}` is not a commit"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .env("GIT_AUTHOR_NAME", "T")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "T")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn write(dir: &Path, rel: &str, body: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }

    type Summary = Vec<(Vec<u8>, Oid, Vec<Option<Oid>>)>;

    fn summary(files: Vec<Changed>) -> Summary {
        // libgit2 lists an intent-to-add entry as the empty blob: nothing to scan either way.
        let empty = Oid::from_str("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391").unwrap();
        let mut v: Summary = files
            .into_iter()
            .filter(|c| c.blob != empty)
            .map(|c| (c.path, c.blob, c.olds))
            .collect();
        v.sort();
        v
    }

    /// The cache-tree fast path and libgit2's tree-to-index diff agree, whatever is staged.
    #[test]
    fn fast_staged_path_matches_libgit2() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        let check = |label: &str| {
            let repo = Repository::open(d).unwrap();
            let head = head_tree(&repo).unwrap();
            let data = std::fs::read(d.join(".git/index")).unwrap();
            let fast = IndexFile::parse(&data)
                .map(|idx| staged_files_fast(&repo, &idx, head.as_ref()).unwrap());
            let slow = staged_files_libgit2(&repo, &d.join(".git/index"), head.as_ref()).unwrap();
            let fast = fast.unwrap_or_else(|| panic!("{label}: fast path declined"));
            assert_eq!(summary(fast), summary(slow), "{label}");
        };
        git(d, &["init", "-q", "-b", "main"]);
        write(d, "a/b/c.txt", "one\ntwo\n");
        write(d, "a/b/d.txt", "d\n");
        write(d, "a/x.txt", "x\n");
        write(d, "a-b.txt", "sibling\n");
        write(d, "top.txt", "top\n");
        git(d, &["add", "-A"]);
        check("unborn HEAD");
        git(d, &["commit", "-q", "-m", "one"]);
        check("clean");
        write(d, "a/b/c.txt", "zero\none\ntwo\nthree\n");
        write(d, "a/new/n.txt", "new\n");
        write(d, "a-b.txt", "sibling\nmore\n");
        std::fs::remove_file(d.join("a/x.txt")).unwrap();
        git(d, &["add", "-A"]);
        check("modify, add dir, delete");
        git(d, &["commit", "-q", "-m", "two"]);
        git(d, &["mv", "a/b/d.txt", "moved.txt"]);
        git(d, &["mv", "a/b/c.txt", "a/c2.txt"]);
        write(d, "a/c2.txt", "zero\none\ntwo\nthree\nfour\n");
        git(d, &["add", "-A"]);
        check("renames");
        git(d, &["commit", "-q", "-m", "three"]);
        std::fs::remove_file(d.join("top.txt")).unwrap();
        write(d, "top.txt/inner.txt", "was a file\n");
        std::fs::remove_dir_all(d.join("a/new")).unwrap();
        write(d, "a/new", "was a dir\n");
        git(d, &["add", "-A"]);
        check("file <-> dir");
        git(d, &["commit", "-q", "-m", "four"]);
        git(d, &["update-index", "--chmod=+x", "moved.txt"]);
        write(d, "ita.txt", "intent\n");
        git(d, &["add", "-N", "ita.txt"]);
        check("mode change and intent-to-add");
        git(d, &["update-index", "--index-version", "4"]);
        write(d, "a-b.txt", "v4\n");
        git(d, &["add", "a-b.txt"]);
        check("index v4");
        git(d, &["update-index", "--index-version", "2"]);
        // With the cache-tree dropped (`read-tree` writes none) every directory is compared.
        git(d, &["read-tree", "HEAD"]);
        write(d, "a/c2.txt", "changed again\n");
        git(d, &["add", "a/c2.txt"]);
        check("no cache-tree");
    }

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
