//! `--trust-from REV`: the files that decide what a scan reports (`keyleak.toml`,
//! `.keyleakignore`) read from a commit the scanned change cannot rewrite, through libgit2,
//! never from the work tree.
//!
//! On a pull request the checkout is the PR's own merge commit, so a config or ignore file read
//! from it is chosen by the PR's author: `[allow] paths = ["**"]` or the fingerprint of the
//! secret they are adding would silence the gate. Read from the base commit instead, those
//! files are what the repository's maintainers merged. A change to them still shows (see
//! [`changed`]), and takes effect once it is merged.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{ObjectType, Oid, Repository, Tree};

use super::git::{GitError, open, setup_err, short};
use crate::policy_file::MAX_POLICY_FILE;

/// Tree entries of a symbolic link: the blob holds a target path, never content to trust.
const MODE_LINK: i32 = 0o120000;

/// Policy files as they are in a trusted commit.
#[derive(Debug, Clone)]
pub struct TrustedTree {
    /// The revision as given.
    pub rev: String,
    /// The commit it names.
    pub commit: Oid,
    /// File name (at the repository's top) → content, for the names asked for that exist.
    files: BTreeMap<String, String>,
}

impl TrustedTree {
    /// The content of `name` at the trusted commit, if it has one.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.files.get(name).map(String::as_str)
    }

    /// How a file of the trusted commit is named in messages: `<commit>:<name>`.
    pub fn display(&self, name: &str) -> String {
        format!("{}:{name}", short(self.commit))
    }
}

/// Reads `names` (paths from the repository's top) from the tree of `rev` in the repository
/// at `repo`. A name that is a symlink, a directory or larger than
/// [`MAX_POLICY_FILE`] in that commit is an error; a missing one is simply absent.
pub fn read(repo: &Path, rev: &str, names: &[&str]) -> Result<TrustedTree, GitError> {
    let repo = open(repo)?;
    let commit = commit_of(&repo, rev)?;
    let tree = repo
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(|e| setup_err(&format!("--trust-from `{rev}`"), e))?;
    let mut files = BTreeMap::new();
    for name in names {
        if let Some(text) = read_file(&repo, &tree, rev, name)? {
            files.insert((*name).to_string(), text);
        }
    }
    Ok(TrustedTree {
        rev: rev.to_string(),
        commit,
        files,
    })
}

/// Of `names`, those whose entry in the tree of `head` differs from the one in `trusted`
/// (added, changed, removed, or turned into a link): the policy changes a reviewer must see.
pub fn changed(
    repo: &Path,
    trusted: &TrustedTree,
    head: &str,
    names: &[&str],
) -> Result<Vec<String>, GitError> {
    let repo = open(repo)?;
    let head = commit_of(&repo, head)?;
    let tree_of = |c: Oid| {
        repo.find_commit(c)
            .and_then(|c| c.tree())
            .map_err(|e| setup_err(&format!("cannot read commit {}", short(c)), e))
    };
    let (old, new) = (tree_of(trusted.commit)?, tree_of(head)?);
    let entry = |t: &Tree<'_>, name: &str| {
        t.get_path(Path::new(name))
            .ok()
            .map(|e| (e.id(), e.filemode()))
    };
    Ok(names
        .iter()
        .filter(|n| entry(&old, n) != entry(&new, n))
        .map(|n| (*n).to_string())
        .collect())
}

/// The head side of a `--range` spec: `B` of `A..B` / `A...B` (HEAD when empty), or the
/// single revision.
pub fn range_head(spec: &str) -> &str {
    let spec = spec.trim();
    let head = match spec.find("..") {
        Some(i) => spec[i..].trim_start_matches('.'),
        None => spec,
    };
    if head.is_empty() { "HEAD" } else { head }
}

fn commit_of(repo: &Repository, rev: &str) -> Result<Oid, GitError> {
    repo.revparse_single(rev)
        .and_then(|o| o.peel(ObjectType::Commit))
        .map(|c| c.id())
        .map_err(|e| {
            setup_err(
                &format!(
                    "--trust-from `{}`: not a commit in this repository",
                    crate::escape::quote(rev, 64)
                ),
                e,
            )
        })
}

fn read_file(
    repo: &Repository,
    tree: &Tree<'_>,
    rev: &str,
    name: &str,
) -> Result<Option<String>, GitError> {
    let Ok(entry) = tree.get_path(Path::new(name)) else {
        return Ok(None);
    };
    let at = format!("{rev}:{name}");
    let refuse = |why: &str| Err(GitError::Other(format!("{at}: {why}; refusing to read it")));
    if entry.filemode() == MODE_LINK {
        return refuse("is a symbolic link");
    }
    if entry.kind() != Some(ObjectType::Blob) {
        return refuse("is not a regular file");
    }
    let odb = repo.odb().map_err(|e| setup_err(&at, e))?;
    let (size, _) = odb.read_header(entry.id()).map_err(|e| setup_err(&at, e))?;
    if size as u64 > MAX_POLICY_FILE {
        return refuse(&format!("is larger than {} MiB", MAX_POLICY_FILE >> 20));
    }
    let obj = odb.read(entry.id()).map_err(|e| setup_err(&at, e))?;
    match std::str::from_utf8(obj.data()) {
        Ok(s) => Ok(Some(s.to_string())),
        Err(e) => Err(GitError::Other(format!(
            "{at}: not UTF-8 text (invalid byte at offset {})",
            e.valid_up_to()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_of_a_range() {
        for (spec, want) in [
            ("main..feature", "feature"),
            ("a...b", "b"),
            ("abc", "abc"),
            ("main..", "HEAD"),
            ("main...", "HEAD"),
        ] {
            assert_eq!(range_head(spec), want, "{spec}");
        }
    }
}
