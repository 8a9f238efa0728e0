//! Test-time assembly of checksum-valid examples.
//!
//! Hosts scan pushes for checksum-valid GitHub and npm tokens and reject them, and a
//! committed valid WIF or mnemonic looks like a leak to every other scanner. Rule files
//! therefore write examples with markers that are expanded just before the examples run:
//!
//! | marker | becomes |
//! |---|---|
//! | `{{crc32:BODY}}` | BODY + the 6-character base62 CRC-32 GitHub/npm append (the prefix up to the last `_` is not checksummed) |
//! | `{{crc32hex:BODY}}` | BODY + the 8 lower-case hex CRC-32 Cloudflare appends (of the part after the last `_`) |
//! | `{{bip39:ENTROPYHEX}}` | the English mnemonic for 16/20/24/28/32 bytes of entropy |
//! | `{{b58check:HEX}}` | Base58Check of the payload bytes (WIF, xprv) |
//! | `{{solana:SEEDHEX}}` | base58 of the 64-byte keypair seed ‖ ed25519 public key |
//! | `{{solana-json:SEEDHEX}}` | the same keypair as a JSON array `[1,2,…]` |
//!
//! A marker that is unknown or whose argument does not parse is left as written, so a typo
//! shows up as a failing example rather than silently passing.

use super::{bip39, encoding, keys};

/// Replaces every known `{{name:arg}}` marker in `s` (see the module docs).
pub fn expand_example(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let inner = &after[..close];
        match expand_one(inner) {
            Some(text) => out.push_str(&text),
            None => {
                out.push_str("{{");
                out.push_str(inner);
                out.push_str("}}");
            }
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

fn expand_one(inner: &str) -> Option<String> {
    let (name, arg) = inner.split_once(':')?;
    match name {
        "crc32" => {
            let random = arg.rfind('_').map_or(arg, |i| &arg[i + 1..]);
            let sum = encoding::crc32_base62(random.as_bytes());
            Some(format!("{arg}{}", String::from_utf8_lossy(&sum)))
        }
        "crc32hex" => {
            let random = arg.rfind('_').map_or(arg, |i| &arg[i + 1..]);
            let sum = encoding::crc32_hex(random.as_bytes());
            Some(format!("{arg}{}", String::from_utf8_lossy(&sum)))
        }
        // Pattern-only tokens (Stripe, Slack, OpenAI…) are split in the repository so host push
        // protection never sees one whole: `{{cat:sk_|live_…}}` joins the pieces at test time.
        "cat" => Some(arg.split('|').collect()),
        "bip39" => bip39::english_mnemonic(&hex::decode(arg).ok()?),
        "b58check" => Some(encoding::base58check_encode(&hex::decode(arg).ok()?)),
        "solana" => Some(bs58::encode(solana_keypair(arg)?).into_string()),
        "solana-json" => {
            let items: Vec<String> = solana_keypair(arg)?.iter().map(u8::to_string).collect();
            Some(format!("[{}]", items.join(",")))
        }
        _ => None,
    }
}

fn solana_keypair(seed_hex: &str) -> Option<Vec<u8>> {
    let mut seed = [0u8; 32];
    if !encoding::hex_into(seed_hex.as_bytes(), &mut seed) {
        return None;
    }
    let mut pair = seed.to_vec();
    pair.extend_from_slice(&keys::ed25519_public(&seed));
    Some(pair)
}
