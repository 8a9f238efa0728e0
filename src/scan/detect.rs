//! Built-in candidate finders for formats a regex describes badly (`detector = "…"` in a rule).

use std::ops::Range;
use std::str::FromStr;

/// A named detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detector {
    /// Runs of 12–24 BIP39 words (any official wordlist), anywhere in the input.
    Bip39,
    /// JSON arrays of exactly 64 integers 0..=255 (Solana `id.json` keypairs).
    SolanaKeypairArray,
}

impl Detector {
    /// The name used in rule files.
    pub fn name(self) -> &'static str {
        match self {
            Detector::Bip39 => "bip39",
            Detector::SolanaKeypairArray => "solana-keypair-array",
        }
    }

    /// Every detector.
    pub const ALL: &'static [Detector] = &[Detector::Bip39, Detector::SolanaKeypairArray];

    /// Appends the byte ranges of candidate secrets in `hay` to `out`.
    pub fn find(self, _hay: &[u8], _out: &mut Vec<Range<usize>>) {
        match self {
            // Stubs until the detectors land.
            Detector::Bip39 | Detector::SolanaKeypairArray => {}
        }
    }
}

impl FromStr for Detector {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Detector::ALL
            .iter()
            .copied()
            .find(|v| v.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Detector::ALL.iter().map(|v| v.name()).collect();
                format!("unknown detector `{s}` (known: {})", names.join(", "))
            })
    }
}
