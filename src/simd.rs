//! Which vector instructions the scan's byte-classifying kernels use (the keyword gram test,
//! the token-run finder, the BIP39 phrase finder), decided once per process.
//!
//! Every kernel has a portable version that is compiled on every target, so the code a
//! non-x86 build runs is also built and tested on x86. `KEYLEAK_SIMD=portable` (or `sse2`)
//! caps the level, so the same inputs can be run through each path and compared (the tests
//! do); results never depend on the level, only speed does.

use std::sync::OnceLock;

/// A kernel level this CPU can run. Only this module makes one, after checking the CPU, so a
/// kernel may trust it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Level(Kind);

/// The instruction set of a [`Level`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Plain Rust, byte or word at a time: every target.
    Portable,
    /// SSE2: the x86_64 baseline.
    Sse2,
    /// AVX2, where the CPU has it.
    Avx2,
}

impl Level {
    /// The portable level, which every CPU runs.
    pub const PORTABLE: Level = Level(Kind::Portable);

    /// Its instruction set.
    pub fn kind(self) -> Kind {
        self.0
    }

    /// As `-v` shows it.
    pub fn name(self) -> &'static str {
        match self.0 {
            Kind::Portable => "portable",
            Kind::Sse2 => "sse2",
            Kind::Avx2 => "avx2",
        }
    }
}

/// The environment variable that caps the level (`portable`, `sse2`; anything else: the best).
pub const ENV: &str = "KEYLEAK_SIMD";

/// The level the scan uses: the best this CPU has, capped by [`ENV`]. Read once.
pub fn level() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let cap = match std::env::var(ENV).as_deref() {
            Ok("portable") => Kind::Portable,
            Ok("sse2") => Kind::Sse2,
            _ => Kind::Avx2,
        };
        available()
            .into_iter()
            .rfind(|l| l.0 <= cap)
            .unwrap_or(Level::PORTABLE)
    })
}

/// Every level this CPU can run, portable first.
pub fn available() -> Vec<Level> {
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
    let mut out = vec![Level::PORTABLE];
    #[cfg(target_arch = "x86_64")]
    {
        out.push(Level(Kind::Sse2));
        if std::arch::is_x86_feature_detected!("avx2") {
            out.push(Level(Kind::Avx2));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_and_the_chosen_one_is_available() {
        let all = available();
        assert_eq!(all[0], Level::PORTABLE);
        assert!(all.windows(2).all(|w| w[0].kind() < w[1].kind()));
        assert!(all.contains(&level()));
        #[cfg(target_arch = "x86_64")]
        assert!(all.len() >= 2, "SSE2 is the x86_64 baseline");
    }

    use proptest::prelude::*;

    use crate::decode::inline::token_runs_at;
    use crate::scan::detect::masks_at;
    use crate::scan::keywords::Keywords;

    /// Inputs that reach every branch of the kernels: token runs across 64-byte blocks,
    /// keywords in any case, phrase words, separators, non-ASCII and NUL bytes.
    fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            prop::collection::vec(any::<u8>(), 0..80),
            "[A-Za-z0-9+/_-]{1,150}".prop_map(String::into_bytes),
            "(AKIA|secret|Binance|api_key|ghp_|xox|token|PaSsWoRd|abandon |zoo, )"
                .prop_map(String::into_bytes),
            "[a-z ,\"'\t\n\r]{1,120}".prop_map(String::into_bytes),
            "[\u{80}-\u{10ffff}]{1,8}".prop_map(String::into_bytes),
        ];
        prop::collection::vec(piece, 0..12).prop_map(|p| p.concat())
    }

    fn keywords() -> &'static Keywords {
        static K: OnceLock<Keywords> = OnceLock::new();
        K.get_or_init(|| {
            let rules = crate::rules::RuleSet::builtin().expect("built-in rules");
            let mut all: Vec<String> = rules
                .rules()
                .iter()
                .flat_map(|r| r.keywords.iter().cloned())
                .collect();
            all.sort();
            all.dedup();
            Keywords::new(&all)
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
            let levels = available();
            let hits = |l: Level| {
                let mut v = Vec::new();
                keywords().for_each_at(l, hay, |k, s, e| v.push((k, s, e)));
                v.sort_unstable();
                v
            };
            let runs = |l: Level| {
                let mut v = Vec::new();
                token_runs_at(l, hay, &mut v);
                v.iter().map(|r| (r.start, r.end, r.mixed)).collect::<Vec<_>>()
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
            let (h0, r0, m0) = (hits(Level::PORTABLE), runs(Level::PORTABLE), masks(Level::PORTABLE));
            for &l in &levels[1..] {
                prop_assert_eq!(&hits(l), &h0, "keyword hits at {:?}", l);
                prop_assert_eq!(&runs(l), &r0, "token runs at {:?}", l);
                prop_assert_eq!(&masks(l), &m0, "phrase masks at {:?}", l);
            }
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
