//! Private keys with a checkable structure: Bitcoin WIF and BIP32 extended keys
//! (Base58Check), raw secp256k1 scalars, and Solana ed25519 keypairs.

use super::encoding::{base58check_decode, hex_into, is_secp256k1_scalar};

/// WIF (en.bitcoin.it/wiki/Wallet_import_format): version 0x80 (mainnet) or 0xEF
/// (testnet/regtest), a 32-byte scalar, and 0x01 when the public key is compressed.
pub fn wif(s: &[u8]) -> bool {
    let Some(p) = base58check_decode(s) else {
        return false;
    };
    let key = match (p.first(), p.len()) {
        (Some(0x80 | 0xEF), 33) => &p[1..33],
        (Some(0x80 | 0xEF), 34) if p[33] == 0x01 => &p[1..33],
        _ => return false,
    };
    is_secp256k1_scalar(key)
}

/// Private version bytes of BIP32 (xprv, tprv) and SLIP-0132 (satoshilabs/slips
/// slip-0132.md "Registered HD version bytes"): y/Y for P2WPKH/P2WSH-in-P2SH, z/Z for native
/// SegWit; u/U/v/V are their testnet forms. The leading characters are checked in the tests.
const XPRV_VERSIONS: [(u32, &str); 10] = [
    (0x0488_ADE4, "xprv"),
    (0x0435_8394, "tprv"),
    (0x049D_7878, "yprv"),
    (0x0295_B005, "Yprv"),
    (0x04B2_430C, "zprv"),
    (0x02AA_7A99, "Zprv"),
    (0x044A_4E28, "uprv"),
    (0x0242_85B5, "Uprv"),
    (0x045F_18BC, "vprv"),
    (0x0257_5048, "Vprv"),
];

/// BIP32 serialized extended private key: 78 bytes = version(4) ‖ depth(1) ‖ parent
/// fingerprint(4) ‖ child number(4) ‖ chain code(32) ‖ 0x00 ‖ key(32).
pub fn bip32_xprv(s: &[u8]) -> bool {
    let Some(p) = base58check_decode(s) else {
        return false;
    };
    if p.len() != 78 {
        return false;
    }
    let version = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
    if !XPRV_VERSIONS.iter().any(|&(v, _)| v == version) {
        return false;
    }
    // A master key (depth 0) has no parent: fingerprint and child number are zero.
    if p[4] == 0 && p[5..13].iter().any(|&b| b != 0) {
        return false;
    }
    p[45] == 0 && is_secp256k1_scalar(&p[46..78])
}

/// A raw secp256k1 private key as 64 hex digits (optional `0x`), in range, and not an
/// obviously made-up pattern. Random keys have ~16 distinct digits and no long runs, so the
/// pattern tests cost nothing in recall.
pub fn eth_private_key(s: &[u8]) -> bool {
    let hex = s
        .strip_prefix(b"0x")
        .or_else(|| s.strip_prefix(b"0X"))
        .unwrap_or(s);
    let mut k = [0u8; 32];
    if !hex_into(hex, &mut k) || !is_secp256k1_scalar(&k) {
        return false;
    }
    !is_trivial_hex(hex)
}

/// Fewer than 10 distinct digits, a digit repeated 8+ times in a row, a short repeating
/// period (`deadbeef…`), or long counting runs (`0123456789abcdef…`).
fn is_trivial_hex(hex: &[u8]) -> bool {
    let lower: Vec<u8> = hex.to_ascii_lowercase();
    let mut seen = [false; 256];
    lower.iter().for_each(|&b| seen[usize::from(b)] = true);
    if seen.iter().filter(|&&x| x).count() < 10 {
        return true;
    }
    let value = |b: u8| (b as char).to_digit(16).unwrap_or(0) as i32;
    let (mut run, mut steps) = (1, 0);
    for w in lower.windows(2) {
        run = if w[0] == w[1] { run + 1 } else { 1 };
        if run >= 8 {
            return true;
        }
        let d = (value(w[1]) - value(w[0])).rem_euclid(16);
        if d == 1 || d == 15 {
            steps += 1;
        }
    }
    let periodic = (1..=16).any(|p| lower.iter().zip(&lower[p..]).all(|(a, b)| a == b));
    periodic || steps >= 24
}

/// Solana keypair: 64 bytes, as a JSON array of integers (solana-keygen `id.json`) or base58
/// (wallet "export private key"); bytes 32..64 must be the ed25519 public key of the seed in
/// bytes 0..32, which no random 64 bytes satisfy.
pub fn solana_keypair(s: &[u8]) -> bool {
    let bytes = if s.first() == Some(&b'[') {
        json_byte_array(s)
    } else {
        bs58::decode(s).into_vec().ok()
    };
    let Some(bytes) = bytes.filter(|b| b.len() == 64) else {
        return false;
    };
    let Ok(seed) = <[u8; 32]>::try_from(&bytes[..32]) else {
        return false;
    };
    ed25519_public(&seed)[..] == bytes[32..]
}

/// The ed25519 public key of a 32-byte seed (RFC 8032 §5.1.5).
pub fn ed25519_public(seed: &[u8; 32]) -> [u8; 32] {
    ed25519_dalek::SigningKey::from_bytes(seed)
        .verifying_key()
        .to_bytes()
}

/// Parses `[n, n, …]` of decimal integers 0..=255 (whitespace anywhere between tokens).
pub fn json_byte_array(s: &[u8]) -> Option<Vec<u8>> {
    let inner = s.strip_prefix(b"[")?.strip_suffix(b"]")?;
    let mut out = Vec::with_capacity(64);
    for item in inner.split(|&b| b == b',') {
        let item = item.trim_ascii();
        if item.is_empty() || item.len() > 3 || !item.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let v = item.iter().fold(0u32, |a, &d| a * 10 + u32::from(d - b'0'));
        out.push(u8::try_from(v).ok()?);
    }
    Some(out)
}
