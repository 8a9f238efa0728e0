//! Inputs: where bytes come from (a directory walk, git history, stdin) and what could not be
//! read. Every source turns its inputs into findings through the shared [`crate::scan::Engine`].

pub mod diff;
pub mod dir;
pub mod git;
mod gittime;
mod index;
pub mod stdin;

use std::sync::atomic::{AtomicU64, Ordering};

use crate::finding::Finding;

pub use crate::model::{Skipped, human_bytes};

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
}
