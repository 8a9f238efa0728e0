//! Git source: full history (every reachable blob once), staged changes, and commit ranges.

use std::path::PathBuf;

use super::{Counters, SourceOutput};
use crate::scan::Engine;

/// Which part of a repository to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitMode {
    /// Every blob reachable from the refs (all refs when `branches` is empty).
    History {
        /// Only commits after this date (`YYYY-MM-DD` or RFC 3339).
        since: Option<String>,
        /// Walk at most this many commits.
        max_count: Option<usize>,
        /// Limit the refs walked.
        branches: Vec<String>,
    },
    /// Lines added in the index compared with HEAD.
    Staged,
    /// Lines added by the commits in `BASE..HEAD`, `BASE...HEAD` or a single `REV`.
    Range(String),
}

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct GitOptions {
    /// The repository (any path inside it).
    pub repo: PathBuf,
    /// Which part of it.
    pub mode: GitMode,
    /// Larger blobs are skipped.
    pub max_file_size: u64,
    /// Worker threads (0 = all cores).
    pub threads: usize,
}

/// Setup failures of a git scan (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The path is not inside a repository.
    #[error("{0}: not a git repository")]
    NotARepo(String),
    /// Any other failure, with context.
    #[error("{0}")]
    Other(String),
}

/// Scans `opts.repo` as `opts.mode` says.
pub fn scan(
    opts: &GitOptions,
    _engine: &Engine,
    _counters: &Counters,
) -> Result<SourceOutput, GitError> {
    Err(GitError::Other(format!(
        "{}: git scanning is not implemented yet",
        opts.repo.display()
    )))
}
