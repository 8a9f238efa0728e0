//! Whether the vector kernels agree with the portable ones (what non-x86 builds run) on some
//! bytes: the keyword gram test, the token-run finder (and the escape bytes and brackets it lists), the phrase masks and the phrase finder built on them, at every level this
//! CPU has. `cargo test` checks it as a proptest property below; the `simd` fuzz target
//! (fuzz/) checks it on libFuzzer's inputs.

use crate::decode::inline::{Runs, runs_at, token_runs_at};
use crate::scan::detect::{masks_at, word_runs_at};
use crate::scan::keywords::Keywords;
use crate::simd::{Level, available};

/// The first kernel and level whose answer on `hay` differs from the portable kernel's, or
/// `None` when all agree.
#[doc(hidden)]
pub fn first_disagreement(keywords: &Keywords, hay: &[u8]) -> Option<String> {
    let hits = |l: Level| {
        let mut v = Vec::new();
        keywords.for_each_at(l, hay, |k, s, e| v.push((k, s, e)));
        v.sort_unstable();
        v
    };
    let runs = |l: Level| {
        let mut v = Vec::new();
        token_runs_at(l, hay, &mut v);
        let mut all = Runs::default();
        runs_at(l, hay, &mut all);
        // What the readers see: the lists where a kernel made them, else their own search.
        (
            v.iter()
                .map(|r| (r.start, r.end, r.mixed))
                .collect::<Vec<_>>(),
            all.escapes(hay).collect::<Vec<_>>(),
            all.brackets(hay).collect::<Vec<_>>(),
            all.tokens,
        )
    };
    let masks = |l: Level| {
        hay.chunks(64)
            .map(|c| {
                let mut b = [0u8; 64];
                b[..c.len()].copy_from_slice(c);
                masks_at(l, &b)
            })
            .collect::<Vec<_>>()
    };
    let phrases = |l: Level| {
        let mut v = Vec::new();
        word_runs_at(l, hay, &mut v);
        v
    };
    let (h0, r0, m0, p0) = (
        hits(Level::PORTABLE),
        runs(Level::PORTABLE),
        masks(Level::PORTABLE),
        phrases(Level::PORTABLE),
    );
    available().into_iter().skip(1).find_map(|l| {
        if hits(l) != h0 {
            Some(format!("keyword hits at {l:?}"))
        } else if runs(l) != r0 {
            Some(format!("token runs at {l:?}"))
        } else if masks(l) != m0 {
            Some(format!("phrase masks at {l:?}"))
        } else if phrases(l) != p0 {
            Some(format!("phrase candidates at {l:?}"))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;

    use proptest::prelude::*;

    /// Inputs that reach every branch of the kernels: token runs across 64-byte blocks,
    /// keywords in any case, phrase words, separators, non-ASCII and NUL bytes, `%`, `\` and
    /// `[`.
    fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            prop::collection::vec(any::<u8>(), 0..80),
            "[A-Za-z0-9+/_-]{1,150}".prop_map(String::into_bytes),
            "(AKIA|secret|Binance|api_key|ghp_|xox|token|PaSsWoRd|abandon |zoo, )"
                .prop_map(String::into_bytes),
            "[a-z ,\"'\t\n\r]{1,120}".prop_map(String::into_bytes),
            "([a-z]{3,8}[ ,\n]){10,14}".prop_map(String::into_bytes),
            "[\u{80}-\u{10ffff}]{1,8}".prop_map(String::into_bytes),
            // Escapes, printf formats and arrays: the escape bytes and brackets the run
            // finder lists.
            "[%\\\\\\[\\]0-9a-fu{}x, ]{1,60}".prop_map(String::into_bytes),
        ];
        prop::collection::vec(piece, 0..12).prop_map(|p| p.concat())
    }

    fn keywords() -> &'static Keywords {
        static K: OnceLock<Keywords> = OnceLock::new();
        K.get_or_init(|| {
            Keywords::of_rules(&crate::rules::RuleSet::builtin().expect("built-in rules"))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Every kernel gives the same answer at every level this CPU has: the AVX2 and SSE2
        /// paths against the portable one, which is what non-x86 builds run.
        #[test]
        fn every_level_agrees(hay in hostile_bytes(), offset in 0usize..64) {
            // An unaligned start, as for a slice into a file.
            let mut buf = vec![b' '; offset];
            buf.extend_from_slice(&hay);
            let hay = &buf[offset..];
            let d = first_disagreement(keywords(), hay);
            prop_assert!(d.is_none(), "{:?}", d);
        }
    }

    /// The property above is not vacuous: its inputs do produce hits and runs.
    #[test]
    fn the_agreement_inputs_hit() {
        let hay = b"x AKIAQ3EGTR7HJKL2MNOPabcdefghijklmnopqrstuvwxyz0123 secret=1";
        let mut hits = 0;
        keywords().for_each_at(Level::PORTABLE, hay, |_, _, _| hits += 1);
        let mut runs = Vec::new();
        token_runs_at(Level::PORTABLE, hay, &mut runs);
        assert!(hits >= 2 && runs.len() == 1, "{hits} {runs:?}");
    }
}
