//! Inputs: where bytes come from (a directory walk, git history, stdin) and what could not be
//! read. Every source turns its inputs into findings through the shared [`crate::scan::Engine`].

pub mod dir;
pub mod git;
mod gitdir;
pub mod head;
mod ignores;
pub mod remote;
pub mod repos;
pub mod shard;
pub mod stdin;
pub mod trusted;
pub mod worktree;

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
    /// `dir`: untracked paths git ignore rules left out (directories end in `/`).
    pub ignored: Vec<String>,
    /// `dir`: the ignore files that applied.
    pub ignore_files: Vec<String>,
}

pub use crate::scan::MAX_FINDINGS_PER_INPUT;

/// The most findings one scan keeps (bounded memory whatever the input); reported when hit.
pub const MAX_FINDINGS: usize = 100_000;

/// Counts what the finding caps left out, for one note at the end of a scan.
#[derive(Debug, Default)]
pub struct Capped {
    /// Inputs that had more than [`MAX_FINDINGS_PER_INPUT`] findings.
    pub inputs: usize,
    /// Findings dropped by the per-input cap, and matches the scan itself only counted (an
    /// upper bound: counted before de-duplication).
    pub per_input: usize,
    /// Findings dropped by the per-scan cap.
    pub per_scan: usize,
}

impl Capped {
    /// Cuts one input's findings to the per-input cap, keeping the most severe (the earlier
    /// first among equals, and the kept ones in their order): a real key placed after
    /// thousands of generated low-severity lines is still reported. `unreported` are the
    /// matches the scan already left out ([`crate::scan::Scanned::unreported`]).
    pub fn input(&mut self, findings: &mut Vec<Finding>, unreported: usize) {
        let over = findings.len().saturating_sub(MAX_FINDINGS_PER_INPUT);
        if over + unreported == 0 {
            return;
        }
        self.inputs += 1;
        self.per_input += over + unreported;
        if over > 0 {
            let mut order: Vec<usize> = (0..findings.len()).collect();
            order.sort_by_key(|&i| std::cmp::Reverse(findings[i].severity));
            let mut keep = vec![false; findings.len()];
            for &i in &order[..MAX_FINDINGS_PER_INPUT] {
                keep[i] = true;
            }
            let mut i = 0;
            findings.retain(|_| {
                i += 1;
                keep[i - 1]
            });
        }
    }

    /// Adds another worker's counts.
    pub fn add(&mut self, other: &Capped) {
        self.inputs += other.inputs;
        self.per_input += other.per_input;
        self.per_scan += other.per_scan;
    }

    /// Whether `out` has room for one more finding (counting the ones that do not fit).
    pub fn room(&mut self, out: &[Finding]) -> bool {
        if out.len() < MAX_FINDINGS {
            true
        } else {
            self.per_scan += 1;
            false
        }
    }

    /// The notes saying what was left out (none when nothing was).
    pub fn notes(&self) -> Vec<String> {
        let mut v = Vec::new();
        if self.per_input > 0 {
            v.push(format!(
                "{} input(s) had more than {MAX_FINDINGS_PER_INPUT} findings each; up to {} more were \
                 not reported, the most severe kept (the file looks generated: review it whole)",
                self.inputs, self.per_input
            ));
        }
        if self.per_scan > 0 {
            v.push(format!(
                "more than {MAX_FINDINGS} findings: {} were not reported; narrow the scan",
                self.per_scan
            ));
        }
        v
    }
}
