//! `--staged`: the lines the next commit would add, from the index against HEAD.

use std::path::{Path, PathBuf};

use git2::{ErrorCode, Index, IndexEntry, IndexTime, Oid, Repository, Tree};

use super::added::{ChangedFile, FileScan, changed_files, diff_options, find_renames};
use super::index::{self, IndexFile};
use super::repo::{display_git_path, setup_err};
use super::{GitError, GitOptions};
use crate::model::{Provenance, Skipped};
use crate::scan::Engine;
use crate::source::{Counters, SourceOutput};

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
fn staged_files(
    repo: &Repository,
    head: Option<&Tree<'_>>,
) -> Result<Vec<ChangedFile>, git2::Error> {
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
) -> Result<Vec<ChangedFile>, git2::Error> {
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
) -> Result<Vec<ChangedFile>, git2::Error> {
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

    fn summary(files: Vec<ChangedFile>) -> Summary {
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
}
