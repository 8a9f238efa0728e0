//! Offline validators named in rule data (`validator = "…"`).
//!
//! A validator looks only at the secret's bytes and answers whether they are structurally a
//! real credential (checksum, decoding, length). It may narrow the secret to a sub-range
//! (a BIP39 phrase inside a longer run of words).

use std::ops::Range;
use std::str::FromStr;

/// A named validator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Validator {
    /// No check.
    #[default]
    None,
}

impl Validator {
    /// The name used in rule files and in a finding's `validation` field.
    pub fn name(self) -> &'static str {
        match self {
            Validator::None => "none",
        }
    }

    /// Every validator, for docs and `rules list`.
    pub const ALL: &'static [Validator] = &[Validator::None];

    /// Checks `secret`; `Some(range)` (relative to `secret`) when it validates.
    pub fn check(self, secret: &[u8]) -> Option<Range<usize>> {
        match self {
            Validator::None => Some(0..secret.len()),
        }
    }
}

impl FromStr for Validator {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Validator::ALL.iter().copied().find(|v| v.name() == s).ok_or_else(|| {
            let names: Vec<_> = Validator::ALL.iter().map(|v| v.name()).collect();
            format!("unknown validator `{s}` (known: {})", names.join(", "))
        })
    }
}
