//! Git source: full history (every reachable blob once), staged changes, and commit ranges.
//!
//! One module per job: [`repo`] opens the repository and holds the helpers the modes share,
//! [`history`] walks the history, [`added`] finds the lines a change adds (shared by
//! [`staged`] and [`range`]), [`index`] reads `.git/index` for `--staged`, and [`time`]
//! formats and parses commit times. Everything goes through `git2` (libgit2), except that
//! history mode reads the blobs it can straight from the pack files ([`pack`], with
//! gitoxide's pack parser); the scan path never runs the `git` command and never writes to the
//! repository (no index refresh, no lock files), so a scan can run in a pre-commit hook or on a
//! read-only checkout.
//!
//! History mode works in two passes so that its cost is O(unique blobs), not O(commits × files):
//!
//! 1. **Walk.** Commits reachable from the refs are ordered oldest first (reverse topological).
//!    Each commit's tree is diffed against its first parent's by walking both trees together
//!    and skipping every subtree whose id did not change, so a commit costs what it changed,
//!    not the size of the repository. The first commit that shows a blob at a path is where
//!    that (blob, path) was introduced; later sightings are ignored. Only ids and interned
//!    paths are kept, never contents.
//! 2. **Scan.** The unique blobs are read in parallel and scanned once each; a blob's findings
//!    are copied to each path it was introduced at. Blobs in pack files are read in pack order
//!    as delta trees, so each object is inflated once and each delta applied once ([`pack`]);
//!    the rest (loose objects, alternates, anything the pack reader rejects) are read through
//!    libgit2 in contiguous chunks, one `Repository` per rayon task (libgit2 handles are not
//!    `Sync`).

mod added;
mod commits;
mod history;
pub(crate) mod index;
mod pack;
mod per_thread;
mod range;
mod repo;
mod staged;
pub(crate) mod time;

use std::path::PathBuf;

pub(crate) use repo::{open, setup_err, short};

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
    /// History only: scan only the blobs this shard owns (every shard walks every commit, so
    /// provenance is the single run's).
    pub shard: Option<crate::source::shard::Shard>,
}

/// Setup failures of a git scan (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The path is not inside a repository.
    #[error("{0}: not a git repository")]
    NotARepo(String),
    /// libgit2 failed: what was being done, and its error (kept as the source for callers
    /// that look at its code or class). The message already includes libgit2's text, so a
    /// caller printing the whole chain should stop at the `git2::Error`.
    #[error("{context}: {}", .source.message())]
    Git {
        /// What was being done, e.g. `--range `A..B``.
        context: String,
        /// libgit2's error.
        #[source]
        source: git2::Error,
    },
    /// Any other failure, with context.
    #[error("{0}")]
    Other(String),
}

/// Scans `opts.repo` as `opts.mode` says.
pub fn scan(
    opts: &GitOptions,
    engine: &Engine,
    counters: &Counters,
) -> Result<SourceOutput, GitError> {
    // Opened inside the pool: a `Repository` may move to a thread but not be shared.
    run_in_pool(opts.threads, || {
        let repo = open(&opts.repo)?;
        match &opts.mode {
            GitMode::History {
                since,
                max_count,
                branches,
            } => {
                let since = match since {
                Some(s) => Some(time::parse_since(s).ok_or_else(|| {
                    GitError::Other(format!(
                        "--since `{s}`: expected a date such as 2024-01-31 or 2024-01-31T12:00:00+01:00"
                    ))
                })?),
                None => None,
            };
                history::history(
                    &repo,
                    &history::Limits {
                        since,
                        max_count: *max_count,
                        branches,
                    },
                    opts,
                    engine,
                    counters,
                )
            }
            GitMode::Staged => staged::staged(&repo, opts, engine, counters),
            GitMode::Range(spec) => range::range(&repo, spec, opts, engine, counters),
        }
    })
}

/// Runs `f` on a pool of `threads` workers, or on rayon's global pool (all cores) for 0.
fn run_in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    if threads == 0 {
        return f();
    }
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(f),
        // Could not spawn threads: still scan, just on the global pool.
        Err(_) => f(),
    }
}
