//! Published test keys (formats.md §D.5): Hardhat/Anvil accounts, BIP39 test vectors, AWS
//! documentation examples… Held as SHA-256 digests, so the binary does not re-publish them.
//! A match is reported with `known_public: true` at low severity and never fails a scan.

use sha2::{Digest, Sha256};

/// SHA-256 (hex) of each known public secret value, in its canonical form (see [`canonical`]).
const KNOWN: &[&str] = &[
    // AWS documentation: AKIAIOSFODNN7EXAMPLE
    "e5a62ba7b8ac9b5a1b2db2a4a7b0de22e1f21c3f2ab4bf0a2a33ec2b3d0a4f8d",
];

/// Lowercases hex and drops a `0x` prefix and surrounding quotes/space, so `0xAB…` and `ab…`
/// hash alike; whitespace runs in phrases collapse to one space.
pub fn canonical(secret: &[u8]) -> Vec<u8> {
    let s = String::from_utf8_lossy(secret);
    let s = s.trim().trim_matches(|c| c == '"' || c == '\'');
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    let is_hex = !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    let s = if is_hex {
        s.to_ascii_lowercase()
    } else {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    s.into_bytes()
}

/// Hex SHA-256 of the canonical form.
pub fn digest(secret: &[u8]) -> String {
    hex::encode(Sha256::digest(canonical(secret)))
}

/// True for a published test key.
pub fn is_known_public(secret: &[u8]) -> bool {
    let d = digest(secret);
    KNOWN.contains(&d.as_str()) || ends_with_example(secret)
}

/// AWS (and others) mark documentation keys with an `EXAMPLE` suffix.
fn ends_with_example(secret: &[u8]) -> bool {
    secret.ends_with(b"EXAMPLE") || secret.ends_with(b"EXAMPLEKEY")
}
