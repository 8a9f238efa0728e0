//! `--range`: the lines the commits of a pull request or push added, each finding attributed
//! to the commit that added it.

use std::collections::{HashMap, HashSet};

use git2::{ErrorCode, ObjectType, Oid, Repository, Tree};

use super::added::{ChangedFile, FileScan, changed_files, diff_options, find_renames};
use super::repo::{commit_info, display_git_path, read_reason, setup_err, shallow_boundary, short};
use super::{GitError, GitOptions};
use crate::finding::GitInfo;
use crate::model::{Provenance, Skipped};
use crate::scan::Engine;
use crate::source::{Counters, SourceOutput};

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
        let files = match added_files(repo, oid) {
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

/// The files one commit may have added lines to, each with the blob it replaced against
/// every parent: against its only parent, against the empty tree for a root (or shallow
/// boundary) commit.
///
/// Merge semantics (unlike history mode's [`super::history`], which asks which *blobs* a
/// commit introduced against its first parent only): a merge adds only the lines new against
/// every parent, so a file unchanged against any parent is dropped here and the others keep
/// one old side per parent for `FileScan::scan` to intersect.
fn added_files(repo: &Repository, oid: Oid) -> Result<Vec<ChangedFile>, git2::Error> {
    let commit = repo.find_commit(oid)?;
    let tree = commit.tree()?;
    let parents: Vec<Tree<'_>> = commit
        .parents()
        .map(|p| p.tree())
        .collect::<Result<_, _>>()?;
    let diff_from = |old: Option<&Tree<'_>>| -> Result<Vec<ChangedFile>, git2::Error> {
        let mut diff = repo.diff_tree_to_tree(old, Some(&tree), Some(&mut diff_options()))?;
        find_renames(&mut diff)?;
        Ok(changed_files(&diff))
    };
    let Some((first, rest)) = parents.split_first() else {
        return diff_from(None);
    };
    let mut files = diff_from(Some(first))?;
    for parent in rest {
        let other: HashMap<Vec<u8>, ChangedFile> = diff_from(Some(parent))?
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
