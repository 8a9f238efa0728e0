//! Inputs: where bytes come from (a directory walk, git history, stdin) and what could not be
//! read. Every source turns its inputs into findings through the shared [`crate::scan::Engine`].

pub mod diff;
pub mod dir;
pub mod git;
mod gittime;
mod index;
pub mod stdin;
pub mod worktree;

use std::sync::atomic::{AtomicU64, Ordering};

use crate::finding::Finding;

/// An input that was not scanned, and why. Never fatal: counted, listed with `-v`, and
/// recorded in SARIF notifications.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Skipped {
    /// Display path (or `commit:path` / blob id for git).
    pub path: String,
    /// Why: `binary`, `too large (30 MiB > 25 MiB)`, `permission denied`, …
    pub reason: String,
}

/// Live counters a source updates for the progress bar and the summary.
#[derive(Debug, Default)]
pub struct Counters {
    /// Inputs scanned (files, blobs).
    pub scanned: AtomicU64,
    /// Bytes scanned.
    pub bytes: AtomicU64,
    /// Findings so far (before filters).
    pub findings: AtomicU64,
    /// Total inputs when known up front (git blobs), else 0.
    pub total: AtomicU64,
    /// Secondary count (git: commits walked).
    pub commits: AtomicU64,
}

impl Counters {
    /// Records one scanned input.
    pub fn scanned(&self, bytes: usize, findings: usize) {
        self.scanned.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        self.findings.fetch_add(findings as u64, Ordering::Relaxed);
    }

    /// Reads a counter.
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

/// What a source produced.
#[derive(Debug, Default)]
pub struct SourceOutput {
    /// Findings, unfiltered, in any order.
    pub findings: Vec<Finding>,
    /// Inputs not scanned.
    pub skipped: Vec<Skipped>,
    /// Warnings that are not about one input (e.g. "shallow clone: history stops at …").
    pub notes: Vec<String>,
    /// `dir`: untracked paths git ignore rules left out (directories end in `/`).
    pub ignored: Vec<String>,
    /// `dir`: the ignore files that applied.
    pub ignore_files: Vec<String>,
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
