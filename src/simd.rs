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
}
