//! One large input matched by several threads. A minified bundle of several megabytes is
//! otherwise one thread's work while the others have run out of files (ccxt: one 5.8 MB file
//! was most of the wall time, bench/RESULTS.md, issue 20).
//!
//! The input is not cut into windows scanned as separate inputs: a regex match may run past
//! any window (a match reaching a window's end is searched again up to the input's end), and
//! look-around sees the bytes on either side. Only the work is divided, and every piece of it
//! sees the whole input:
//!
//! 1. The keyword pass runs over pieces of the input in parallel. A piece reports the keyword
//!    occurrences that *start* in it, reading on past its end by the longest keyword, so each
//!    occurrence is reported by exactly one piece. The runs pass goes on meanwhile.
//! 2. Each rule's windows are gathered from the pieces and merged once, as a single pass over
//!    the input would have merged them.
//! 3. The (rule, consecutive windows) tasks run in parallel, each over the whole input.
//! 4. The results are put back in rule and window order and cut to
//!    [`MAX_MATCHES_PER_RULE`](super::MAX_MATCHES_PER_RULE) per rule as the single pass cuts
//!    them, so what [`Matcher::find`] returns is the same, match for match, and everything
//!    after it (decoding, grouping, assembly) runs once over the whole input as before.

use std::ops::Range;

use rayon::prelude::*;

use super::matcher::{Matcher, RawMatch, Scratch, Sink, finish_rule, merge_windows, search_window};
use super::unreported::Unreported;
use crate::rules::Rule;

/// Inputs from this size on are matched by several threads.
pub const SPLIT_SIZE: usize = 1 << 20;

/// Bytes of input a piece of the keyword pass covers, at least.
const PIECE: usize = 256 * 1024;

/// Window bytes a task covers, at least (fewer tasks cost less than they save below this).
const MIN_TASK: usize = 32 * 1024;

/// Whether `hay` is matched by several threads: large enough, and more than one thread to
/// match it (the pool's size is `--threads`).
pub(super) fn worth_splitting(hay: &[u8]) -> bool {
    hay.len() >= SPLIT_SIZE && rayon::current_num_threads() > 1
}

/// Where the pieces of the keyword pass over an input of `len` bytes start (the first at 0)
/// on a pool of `threads`: the seams a test places secrets across.
pub fn piece_starts(len: usize, threads: usize) -> Vec<usize> {
    let pieces = (len / PIECE).clamp(1, 4 * threads.max(1));
    let step = len.div_ceil(pieces).max(1);
    (0..pieces)
        .map(|k| k * step)
        .filter(|&s| s < len.max(1))
        .collect()
}

/// Some of one rule's windows (indices into its merged list).
struct Task {
    rule: u32,
    windows: Range<usize>,
}

/// [`Matcher::find`] over a large `hay` on the current rayon pool. `scratch` must be prepared
/// as `find` prepares it (sized for `all`, cleared).
pub(super) fn find(
    m: &Matcher,
    all: &[Rule],
    hay: &[u8],
    scratch: &mut Scratch,
    out: &mut Vec<RawMatch>,
) {
    let threads = rayon::current_num_threads();
    let starts = piece_starts(hay.len(), threads);

    // 1. Keyword hits per piece, and the runs of the whole input.
    let runs = &mut scratch.runs;
    let (found, ()) = rayon::join(
        || {
            (0..starts.len())
                .into_par_iter()
                .map(|k| {
                    let within = starts[k]..starts.get(k + 1).copied().unwrap_or(hay.len());
                    let mut windows = vec![Vec::new(); all.len()];
                    let mut touched = Vec::new();
                    m.collect_windows(all, hay, within, &mut windows, &mut touched);
                    (windows, touched)
                })
                .collect::<Vec<_>>()
        },
        || crate::decode::inline::runs(hay, runs),
    );
    scratch.runs_ready = true;

    // 2. Each rule's windows, in order, merged.
    let windows = &mut scratch.windows;
    let touched = &mut scratch.touched;
    for (mut piece, piece_touched) in found {
        for r in piece_touched {
            let w = &mut windows[r as usize];
            if w.is_empty() {
                touched.push(r);
            }
            w.append(&mut piece[r as usize]);
        }
    }
    touched.sort_unstable();
    let mut total = 0;
    for &r in touched.iter() {
        merge_windows(&mut windows[r as usize]);
        total += windows[r as usize]
            .iter()
            .map(|&(s, e)| e - s)
            .sum::<usize>();
    }

    // 3. Tasks of about equal window bytes, in rule and window order.
    let target = (total / (16 * threads)).max(MIN_TASK);
    let mut tasks = Vec::new();
    for &r in touched.iter() {
        let w = &windows[r as usize];
        let mut from = 0;
        let mut bytes = 0;
        for (i, &(s, e)) in w.iter().enumerate() {
            bytes += e - s;
            if bytes >= target || i + 1 == w.len() {
                tasks.push(Task {
                    rule: r,
                    windows: from..i + 1,
                });
                from = i + 1;
                bytes = 0;
            }
        }
    }
    let windows = &*windows;
    let runs = &scratch.runs;
    let results: Vec<(Vec<RawMatch>, Unreported)> = tasks
        .par_iter()
        .map(|t| {
            let mut found = Vec::new();
            let mut over = Unreported::default();
            let mut ranges = Vec::new();
            // A private cache is made only while another thread holds the rule's shared one.
            let mut cache = None;
            let mut sink = Sink {
                out: &mut found,
                before: 0,
                overflow: &mut over,
            };
            let rule = &all[t.rule as usize];
            for &(s, e) in &windows[t.rule as usize][t.windows.clone()] {
                search_window(
                    rule,
                    t.rule as usize,
                    hay,
                    s..e,
                    Some(runs),
                    &mut ranges,
                    &mut cache,
                    &mut sink,
                );
            }
            (found, over)
        })
        .collect();

    // 4. Back in order, each rule's matches cut as one pass over its windows cuts them: a
    //    task keeps at most as many as the cut, so the first ones overall are all here.
    let mut results = results.into_iter();
    let mut tasks = tasks.iter().peekable();
    while let Some(t) = tasks.next() {
        let before = out.len();
        let mut sink = Sink {
            out,
            before,
            overflow: &mut scratch.overflow,
        };
        let mut take = |(found, mut over): (Vec<RawMatch>, Unreported)| {
            sink.overflow.absorb(&mut over);
            for m in found {
                sink.push(m);
            }
        };
        take(results.next().expect("a result per task"));
        while tasks.peek().is_some_and(|n| n.rule == t.rule) {
            tasks.next();
            take(results.next().expect("a result per task"));
        }
        finish_rule(out, before);
    }
    for &r in scratch.touched.iter() {
        scratch.windows[r as usize].clear();
    }
}
