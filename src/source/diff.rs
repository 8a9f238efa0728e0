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

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use git2::{
    Delta, Diff, DiffFindOptions, DiffOptions, ErrorCode, FileMode, ObjectType, Oid, Repository,
    Tree,
};

use super::git::{
    GitError, GitOptions, commit_info, display_git_path, header_skip, read_reason, setup_err,
    shallow_boundary, short,
};
use super::{Counters, Skipped, SourceOutput};
use crate::finding::{Finding, GitInfo};
use crate::scan::{Engine, Scratch, is_binary};

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

/// A file a diff says gained lines: its new path and blob, and the added lines (or all lines
/// when libgit2 could not diff it line by line, e.g. UTF-16 text it considers binary).
#[derive(Debug)]
struct Changed {
    path: Vec<u8>,
    blob: Oid,
    /// The blob it replaced, if any: used to drop findings already there when lines are unknown.
    old_blob: Option<Oid>,
    lines: Lines,
    /// libgit2 produced no line diff (binary by its rules).
    whole: bool,
}

fn diff_options() -> DiffOptions {
    let mut o = DiffOptions::new();
    // Zero context makes every line of every hunk's new side an added line.
    o.context_lines(0)
        .interhunk_lines(0)
        .ignore_submodules(true)
        .include_typechange(true);
    o
}

/// Detects renames (and copies of files changed in the same diff) so that moving a file, even
/// with small edits, only reports the edited lines.
fn find_renames(diff: &mut Diff<'_>) -> Result<(), git2::Error> {
    let mut f = DiffFindOptions::new();
    f.renames(true).copies(true);
    diff.find_similar(Some(&mut f))
}

/// The files of `diff` that gained content, with their added lines.
fn changed_files(diff: &Diff<'_>) -> Result<Vec<Changed>, git2::Error> {
    let mut files: Vec<Changed> = Vec::new();
    for delta in diff.deltas() {
        let adds = matches!(
            delta.status(),
            Delta::Added | Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange
        );
        let new = delta.new_file();
        if !adds || !matches!(new.mode(), FileMode::Blob | FileMode::BlobExecutable) {
            continue;
        }
        let old = delta.old_file();
        let old_blob = (matches!(old.mode(), FileMode::Blob | FileMode::BlobExecutable)
            && !old.id().is_zero())
        .then(|| old.id());
        files.push(Changed {
            path: new.path_bytes().unwrap_or_default().to_vec(),
            blob: new.id(),
            old_blob,
            lines: Lines::default(),
            whole: new.is_binary() || old.is_binary(),
        });
    }
    if files.is_empty() {
        return Ok(files);
    }
    // Within one diff a new path belongs to at most one delta that adds content.
    let by_path: HashMap<Vec<u8>, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.path.clone(), i))
        .collect();
    // Both the file and the binary callback may flag a delta, hence the RefCell.
    let binary_paths: RefCell<HashSet<Vec<u8>>> = RefCell::new(HashSet::new());
    diff.foreach(
        &mut |d, _| {
            // libgit2 has loaded both sides by now and knows whether it will diff lines.
            if d.flags().is_binary() || d.new_file().is_binary() {
                binary_paths
                    .borrow_mut()
                    .insert(d.new_file().path_bytes().unwrap_or_default().to_vec());
            }
            true
        },
        Some(&mut |d, _| {
            binary_paths
                .borrow_mut()
                .insert(d.new_file().path_bytes().unwrap_or_default().to_vec());
            true
        }),
        Some(&mut |d, hunk| {
            if let Some(&i) = by_path.get(d.new_file().path_bytes().unwrap_or_default()) {
                files[i].lines.push(hunk.new_start(), hunk.new_lines());
            }
            true
        }),
        None,
    )?;
    for f in &mut files {
        if binary_paths.borrow().contains(&f.path) {
            f.whole = true;
        }
        if f.whole {
            f.lines = Lines::all();
        }
        f.lines.normalize();
    }
    Ok(files)
}

/// Scans changed files and keeps the findings on added lines.
struct FileScan<'a> {
    odb: git2::Odb<'a>,
    engine: &'a Engine,
    counters: &'a Counters,
    max: u64,
    scratch: Scratch,
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
            .map_err(|e| setup_err("cannot open the object database", &e))?;
        Ok(FileScan {
            odb,
            engine,
            counters,
            max,
            scratch: Scratch::default(),
        })
    }

    /// Findings of `file` on its added lines, under `path`; `Err` is a skip reason.
    fn scan(&mut self, file: &Changed, path: &str) -> Result<Vec<Finding>, String> {
        let obj = read_blob(&self.odb, file.blob, self.max)?;
        let data = obj.data();
        if is_binary(data) {
            return Err("binary".into());
        }
        let mut findings = self.engine.scan(path, data, &mut self.scratch);
        self.counters.scanned(data.len(), 0);
        findings.retain(|f| {
            file.lines.touches(f.span.line, f.span.end_line)
                || f.parts
                    .iter()
                    .any(|p| file.lines.touches(p.span.line, p.span.end_line))
        });
        if file.whole && !findings.is_empty() {
            // No line diff: keep only secrets the previous version did not already have.
            if let Some(old) = file.old_blob {
                let before: HashSet<String> = match read_blob(&self.odb, old, self.max) {
                    Ok(o) => self
                        .engine
                        .scan(path, o.data(), &mut self.scratch)
                        .into_iter()
                        .map(|f| f.fingerprint)
                        .collect(),
                    Err(_) => HashSet::new(),
                };
                findings.retain(|f| !before.contains(&f.fingerprint));
            }
        }
        self.counters
            .findings
            .fetch_add(findings.len() as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(findings)
    }
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
/// Only the index is read in full; the diff against HEAD's tree is libgit2's
/// `diff_tree_to_index` with the in-memory index, so the index is never refreshed or written
/// and no `index.lock` is ever taken (this runs inside `git commit`'s pre-commit hook, which
/// holds that lock). Staged findings have no commit yet: `Finding.git` is `None` and the path
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
    let index = repo
        .index()
        .map_err(|e| setup_err("cannot read the index", &e))?;
    let head_tree = head_tree(repo)?;
    let mut diff = repo
        .diff_tree_to_index(head_tree.as_ref(), Some(&index), Some(&mut diff_options()))
        .map_err(|e| setup_err("cannot diff the index against HEAD", &e))?;
    find_renames(&mut diff).map_err(|e| setup_err("cannot detect renames", &e))?;
    let files =
        changed_files(&diff).map_err(|e| setup_err("cannot diff the index against HEAD", &e))?;
    counters
        .total
        .store(files.len() as u64, std::sync::atomic::Ordering::Relaxed);

    let mut out = SourceOutput::default();
    let mut fs = FileScan::new(repo, engine, counters, opts.max_file_size)?;
    for file in &files {
        let path = display_git_path(&file.path);
        match fs.scan(file, &path) {
            Ok(findings) => out.findings.extend(findings),
            Err(reason) => out.skipped.push(Skipped { path, reason }),
        }
    }
    Ok(out)
}

/// HEAD's tree, or `None` when HEAD is unborn (no commit yet).
fn head_tree(repo: &Repository) -> Result<Option<Tree<'_>>, GitError> {
    match repo.head() {
        Ok(head) => head
            .peel_to_tree()
            .map(Some)
            .map_err(|e| setup_err("cannot read HEAD", &e)),
        Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => Ok(None),
        Err(e) => Err(setup_err("cannot read HEAD", &e)),
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
            match fs.scan(file, &path) {
                Ok(findings) => {
                    for mut f in findings {
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
        changed_files(&diff)
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
        // A file unchanged against some parent gained nothing in the merge itself.
        files.retain_mut(|f| match other.get(&f.path) {
            Some(o) => {
                f.lines = f.lines.intersect(&o.lines);
                !f.lines.is_empty()
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
            Err(e) => return Err(setup_err(&format!("--range `{spec}`"), &e)),
        }
    } else {
        base_oid
    };
    let mut walk = repo
        .revwalk()
        .map_err(|e| setup_err("cannot walk history", &e))?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
        .map_err(|e| setup_err("cannot walk history", &e))?;
    walk.push(head_oid)
        .map_err(|e| setup_err(&format!("--range `{spec}`"), &e))?;
    walk.hide(hide)
        .map_err(|e| setup_err(&format!("--range `{spec}`"), &e))?;
    let commits: Vec<Oid> = walk
        .collect::<Result<_, _>>()
        .map_err(|e| setup_err(&format!("--range `{spec}`"), &e))?;
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
            GitError::Other(format!("--range `{spec}`: bad revision `{rev}`: {}", e.message()))
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
    fn push_skips_empty_hunks() {
        let mut l = Lines::default();
        l.push(4, 0);
        l.push(7, 2);
        assert_eq!(l, lines(&[(7, 8)]));
    }
}
