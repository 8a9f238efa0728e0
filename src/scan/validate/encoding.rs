//! Encodings and number checks shared by the validators: GitHub-style CRC32/base62 checksums,
//! Base58Check, base64 flavours and the secp256k1 scalar range.

use base64::Engine as _;
use base64::engine::general_purpose::{
    STANDARD_PAD_INDIFFERENT, URL_SAFE_NO_PAD_INDIFFERENT, URL_SAFE_PAD_INDIFFERENT,
};
use sha2::{Digest, Sha256};

/// GitHub and npm use the "GMP" base62 order: digits, then upper case, then lower case
/// (github.blog 2021-04-05 "Behind GitHub's new authentication token formats"; the scheme is
/// spelled out in therootcompany/base62-token.js README).
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The 6-character checksum GitHub and npm append to a token: CRC-32 (zlib/IEEE) of `body`
/// in base62, most significant digit first, zero-padded. 62^6 > 2^32, so 6 digits always fit.
pub fn crc32_base62(body: &[u8]) -> [u8; 6] {
    let mut n = crc32fast::hash(body);
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// The 8-character checksum Cloudflare appends to its scannable API credentials: CRC-32
/// (zlib/IEEE) of the 40 characters after the prefix, in lower-case hex, zero-padded.
pub fn crc32_hex(body: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    hex::encode_to_slice(crc32fast::hash(body).to_be_bytes(), &mut out)
        .expect("4 bytes are 8 hex digits");
    out
}

/// First 4 bytes of SHA-256(SHA-256(payload)): the Base58Check checksum.
fn checksum4(payload: &[u8]) -> [u8; 4] {
    let twice = Sha256::digest(Sha256::digest(payload));
    [twice[0], twice[1], twice[2], twice[3]]
}

/// Decodes Base58Check and returns the payload (checksum verified and removed).
///
/// Done here with sha2 rather than bs58's `check` feature, which would pull a second sha2
/// major version into the build.
pub fn base58check_decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut raw = bs58::decode(s).into_vec().ok()?;
    if raw.len() < 5 {
        return None;
    }
    let split = raw.len() - 4;
    if checksum4(&raw[..split]) != raw[split..] {
        return None;
    }
    raw.truncate(split);
    Some(raw)
}

/// Base58Check encoding of `payload`.
pub fn base58check_encode(payload: &[u8]) -> String {
    let mut raw = payload.to_vec();
    raw.extend_from_slice(&checksum4(payload));
    bs58::encode(raw).into_string()
}

/// Standard-alphabet base64, padding optional; trailing garbage bits are rejected so one
/// value has one encoding.
pub fn b64_standard(s: &[u8]) -> Option<Vec<u8>> {
    STANDARD_PAD_INDIFFERENT.decode(s).ok()
}

/// URL-safe base64, padding optional.
pub fn b64_url(s: &[u8]) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD_INDIFFERENT
        .decode(s)
        .ok()
        .or_else(|| URL_SAFE_PAD_INDIFFERENT.decode(s).ok())
}

/// The order of the secp256k1 group, big-endian (SEC 2 §2.4.1).
const SECP256K1_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

/// True when the 32 big-endian bytes are a valid secp256k1 private key: 1 ≤ k < n.
/// Equal-length big-endian byte strings compare like the numbers they encode.
pub fn is_secp256k1_scalar(k: &[u8]) -> bool {
    k.len() == 32 && k.iter().any(|&b| b != 0) && k < &SECP256K1_N[..]
}

/// Decodes `s` as hex (either case) into `out`; false when the length or a digit is wrong.
pub fn hex_into(s: &[u8], out: &mut [u8]) -> bool {
    hex::decode_to_slice(s, out).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_zlib_ieee() {
        // The CRC-32 check value from the catalogue of parametrised CRC algorithms.
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn base62_checksum_of_published_tokens() {
        // Published samples: base62-token.js README and kingfisher's rule example.
        for (body, sum) in [
            ("zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ", "0mLq17"),
            ("sbUsUmRNn8X74dFU0DJ9Fm1mvdCgtH", "474T38"),
        ] {
            assert_eq!(&crc32_base62(body.as_bytes()), sum.as_bytes());
        }
        // Zero pads to six digits.
        assert_eq!(crc32_base62(b""), *b"000000");
    }

    #[test]
    fn base58check_round_trip() {
        let payload = b"\x80keyleak";
        let s = base58check_encode(payload);
        assert_eq!(
            base58check_decode(s.as_bytes()).as_deref(),
            Some(&payload[..])
        );
        let mut bad = s.into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'2' { b'3' } else { b'2' };
        assert_eq!(base58check_decode(&bad), None);
        assert_eq!(base58check_decode(b"0OIl"), None);
        assert_eq!(base58check_decode(b""), None);
    }

    #[test]
    fn scalar_range() {
        let mut k = [0u8; 32];
        assert!(!is_secp256k1_scalar(&k));
        k[31] = 1;
        assert!(is_secp256k1_scalar(&k));
        assert!(!is_secp256k1_scalar(&SECP256K1_N));
        let mut below = SECP256K1_N;
        below[31] -= 1;
        assert!(is_secp256k1_scalar(&below));
        assert!(!is_secp256k1_scalar(&[0xff; 32]));
        assert!(!is_secp256k1_scalar(&[1; 31]));
    }
}
