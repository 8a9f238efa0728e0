//! Offline validators named in rule data (`validator = "…"`).
//!
//! A validator looks only at the secret's bytes and answers whether they are structurally a
//! real credential (checksum, decoding, length). It may narrow the secret to a sub-range
//! (a BIP39 phrase inside a longer run of words).
//!
//! Everything here is offline and must never panic, whatever the bytes: validators run on
//! attacker-controlled input. The pieces live in submodules: `encoding` (CRC32/base62,
//! Base58Check, base64, the secp256k1 range), `bip39` (wordlists and checksum), `keys` (WIF,
//! xprv, raw scalars, Solana), `structure` (PyPI, Kraken, JWT, AWS, KuCoin, DER) and
//! `example` ([`expand_example`], which assembles checksum-valid examples at test time so no
//! rule file has to commit one).

use std::ops::Range;
use std::str::FromStr;

mod bip39;
mod encoding;
mod example;
mod keys;
mod structure;

pub use example::expand_example;
pub use structure::aws_account_id;

/// A named validator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Validator {
    #[default]
    /// No check.
    None,
    /// GitHub classic tokens (`ghp_` …): base62 CRC32 of the body in the last 6 characters.
    GithubCrc32,
    /// npm `npm_` tokens: same CRC32/base62 scheme as GitHub.
    NpmCrc32,
    /// Cloudflare scannable credentials (`cfk_`, `cfut_`, `cfat_`): 40 base62 then the CRC32 of
    /// those 40 in 8 lower-case hex.
    CloudflareCrc32,
    /// Bitcoin WIF private key: base58check, version 0x80/0xEF, 32 bytes (+0x01).
    Wif,
    /// BIP32 extended private key (xprv/yprv/zprv/tprv…): base58check, 78 bytes.
    Bip32Xprv,
    /// BIP39 mnemonic: wordlist membership and checksum; narrows to the phrase.
    Bip39,
    /// PyPI token: base64url macaroon v2 that parses.
    PypiMacaroon,
    /// Kraken API key: base64 that decodes to 42 bytes.
    KrakenKey,
    /// Kraken private key: base64 that decodes to 64 bytes.
    KrakenSecret,
    /// secp256k1 scalar: 64 hex in (0, n), not a trivial pattern.
    EthPrivateKey,
    /// Solana keypair: 64 bytes (JSON array or base58) whose last 32 are the public key of the first 32.
    SolanaKeypair,
    /// JWT: header base64url-decodes to JSON with `alg`.
    Jwt,
    /// JWT that still authenticates: signed, not expired (or no `exp`), not a public `anon` role.
    JwtLive,
    /// AWS access key id: known prefix and a 16-character base32 body that decodes.
    AwsKeyId,
    /// KuCoin key: a MongoDB ObjectId whose timestamp is 2017..now.
    KucoinObjectId,
    /// Headerless base64 DER key: decodes to a SEQUENCE of matching length.
    Base64Der,
    /// Generic values: a digit somewhere after the first 3 characters (identifiers and words
    /// rarely have one; keys almost always do). A check, not a regex, so the regex stays a
    /// small DFA.
    HasDigit,
}

impl Validator {
    /// The name used in rule files and in a finding's `validation` field.
    pub fn name(self) -> &'static str {
        match self {
            Validator::None => "none",
            Validator::GithubCrc32 => "github-crc32",
            Validator::NpmCrc32 => "npm-crc32",
            Validator::CloudflareCrc32 => "cloudflare-crc32",
            Validator::Wif => "wif",
            Validator::Bip32Xprv => "bip32-xprv",
            Validator::Bip39 => "bip39",
            Validator::PypiMacaroon => "pypi-macaroon",
            Validator::KrakenKey => "kraken-key",
            Validator::KrakenSecret => "kraken-secret",
            Validator::EthPrivateKey => "eth-private-key",
            Validator::SolanaKeypair => "solana-keypair",
            Validator::Jwt => "jwt",
            Validator::JwtLive => "jwt-live",
            Validator::AwsKeyId => "aws-key-id",
            Validator::KucoinObjectId => "kucoin-objectid",
            Validator::Base64Der => "base64-der",
            Validator::HasDigit => "has-digit",
        }
    }

    /// Every validator, for docs and `rules list`.
    pub const ALL: &'static [Validator] = &[
        Validator::None,
        Validator::GithubCrc32,
        Validator::NpmCrc32,
        Validator::CloudflareCrc32,
        Validator::Wif,
        Validator::Bip32Xprv,
        Validator::Bip39,
        Validator::PypiMacaroon,
        Validator::KrakenKey,
        Validator::KrakenSecret,
        Validator::EthPrivateKey,
        Validator::SolanaKeypair,
        Validator::Jwt,
        Validator::JwtLive,
        Validator::AwsKeyId,
        Validator::KucoinObjectId,
        Validator::Base64Der,
        Validator::HasDigit,
    ];

    /// Checks `secret`; `Some(range)` (relative to `secret`) when it validates.
    ///
    /// Surrounding whitespace and quotes are not part of a credential, so every validator sees
    /// the secret without them and the returned range excludes them. Never panics.
    pub fn check(self, secret: &[u8]) -> Option<Range<usize>> {
        let t = trimmed(secret);
        let s = &secret[t.clone()];
        let whole = |ok: bool| ok.then(|| t.clone());
        match self {
            Validator::None => Some(0..secret.len()),
            Validator::GithubCrc32 => {
                prefixed_crc32(s, &[b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_"])
                    .map(|r| shift(r, t.start))
            }
            Validator::NpmCrc32 => prefixed_crc32(s, &[b"npm_"]).map(|r| shift(r, t.start)),
            Validator::CloudflareCrc32 => cloudflare_crc32(s).map(|r| shift(r, t.start)),
            Validator::Wif => whole(keys::wif(s)),
            Validator::Bip32Xprv => whole(keys::bip32_xprv(s)),
            Validator::Bip39 => bip39::find_phrase(s).map(|r| shift(r, t.start)),
            Validator::PypiMacaroon => whole(structure::pypi_macaroon(s)),
            Validator::KrakenKey => whole(structure::kraken_key(s)),
            Validator::KrakenSecret => whole(structure::kraken_secret(s)),
            Validator::EthPrivateKey => whole(keys::eth_private_key(s)),
            Validator::SolanaKeypair => whole(keys::solana_keypair(s)),
            Validator::Jwt => whole(structure::jwt(s)),
            Validator::JwtLive => whole(structure::jwt_live(s)),
            Validator::AwsKeyId => whole(structure::aws_key_id(s)),
            Validator::KucoinObjectId => whole(structure::kucoin_objectid(s)),
            Validator::Base64Der => whole(structure::base64_der(s)),
            Validator::HasDigit => whole(s.iter().skip(3).any(u8::is_ascii_digit)),
        }
    }
}

fn shift(r: Range<usize>, by: usize) -> Range<usize> {
    (r.start + by)..(r.end + by)
}

/// `secret` without surrounding ASCII whitespace and quotes.
fn trimmed(secret: &[u8]) -> Range<usize> {
    let junk = |b: &u8| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'`');
    let start = secret.iter().position(|b| !junk(b)).unwrap_or(secret.len());
    let end = secret
        .iter()
        .rposition(|b| !junk(b))
        .map_or(start, |i| i + 1);
    start..end
}

/// Finds one of `prefixes` in `s`, takes the alphanumeric run after it, and checks its last six
/// characters against the base62 CRC-32 of the rest. GitHub's and npm's scheme
/// (github.blog 2021-04-05 "Behind GitHub's new authentication token formats"; verified on the
/// published samples in `encoding`'s tests): the prefix is **not** checksummed. Classic tokens
/// carry 36 characters after the prefix; `ghr_` refresh tokens also come with 76.
fn prefixed_crc32(s: &[u8], prefixes: &[&[u8]]) -> Option<Range<usize>> {
    let (at, body_start, body_len) = prefixed_run(s, prefixes)?;
    let ok_len = body_len == 36 || (body_len == 76 && &s[at..body_start] == b"ghr_");
    if !ok_len {
        return None;
    }
    let body = &s[body_start..body_start + body_len];
    let (random, sum) = body.split_at(body_len - 6);
    (encoding::crc32_base62(random) == sum).then(|| at..body_start + body_len)
}

/// Cloudflare's scannable API credentials (developers.cloudflare.com, "Token formats"): `cfk_`
/// (Global API Key), `cfut_` (user API token) or `cfat_` (account API token), 40 base62
/// characters, then a checksum; the checksum is the CRC-32 of the 40 characters (prefix not
/// included) in 8 lower-case hex digits, which a token published in a public repository
/// confirms. The alphanumeric run after the prefix must be exactly 48 long.
fn cloudflare_crc32(s: &[u8]) -> Option<Range<usize>> {
    let (at, body_start, body_len) = prefixed_run(s, &[b"cfk_", b"cfut_", b"cfat_"])?;
    if body_len != 48 {
        return None;
    }
    let (random, sum) = s[body_start..body_start + 48].split_at(40);
    (encoding::crc32_hex(random) == sum).then(|| at..body_start + 48)
}

/// Where the first of `prefixes` (tried in order) starts in `s`, where the alphanumeric run after
/// it starts, and how long that run is.
fn prefixed_run(s: &[u8], prefixes: &[&[u8]]) -> Option<(usize, usize, usize)> {
    let (at, plen) = prefixes.iter().find_map(|p| {
        s.windows(p.len())
            .position(|w| w == *p)
            .map(|i| (i, p.len()))
    })?;
    let body_start = at + plen;
    let body_len = s[body_start..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    Some((at, body_start, body_len))
}

impl FromStr for Validator {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Validator::ALL
            .iter()
            .copied()
            .find(|v| v.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Validator::ALL.iter().map(|v| v.name()).collect();
                format!("unknown validator `{s}` (known: {})", names.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    /// Runs `v` over each `(input, valid)` row; a valid row must validate as a whole.
    fn table(v: Validator, rows: &[(&str, bool)]) {
        for (input, valid) in rows {
            let got = v.check(input.as_bytes());
            if *valid {
                assert_eq!(
                    got,
                    Some(0..input.len()),
                    "{} should accept {input:?}",
                    v.name()
                );
            } else {
                assert_eq!(got, None, "{} should reject {input:?}", v.name());
            }
        }
    }

    /// Changes the character at `i` to a different one of the same class.
    fn flip(s: &str, i: usize) -> String {
        let mut b = s.as_bytes().to_vec();
        b[i] = match b[i] {
            b'z' => b'y',
            b'Z' => b'Y',
            b'9' => b'8',
            c => c + 1,
        };
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn names_round_trip() {
        for &v in Validator::ALL {
            assert_eq!(v.name().parse::<Validator>(), Ok(v));
        }
        assert!("crc".parse::<Validator>().is_err());
    }

    #[test]
    fn github_crc32() {
        // Assembled at test time: a literal valid token in this file would trip push protection.
        let sample = expand_example("{{crc32:ghp_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ}}");
        assert!(
            sample.ends_with("0mLq17"),
            "published sample from base62-token.js"
        );
        let refresh = expand_example(&format!("{{{{crc32:ghr_{}}}}}", "aB3".repeat(23) + "x"));
        table(
            Validator::GithubCrc32,
            &[
                (&sample, true),
                (&sample.replacen("ghp_", "gho_", 1), true),
                (&sample.replacen("ghp_", "ghs_", 1), true),
                (&refresh, true),
                (&flip(&sample, 10), false),
                (&flip(&sample, sample.len() - 1), false),
                (&sample[..sample.len() - 1], false),
                ("ghp_0000000000000000000000000000000000000", false),
                ("ghx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17", false),
                ("", false),
            ],
        );
        // Narrowing: quotes around the token are not part of it.
        let quoted = format!("'{sample}'");
        assert_eq!(
            Validator::GithubCrc32.check(quoted.as_bytes()),
            Some(1..quoted.len() - 1)
        );
    }

    #[test]
    fn npm_crc32() {
        let token = expand_example("{{crc32:npm_abcdefghijABCDEFGHIJ0123456789}}");
        assert_eq!(token.len(), 40);
        table(
            Validator::NpmCrc32,
            &[
                (&token, true),
                (&flip(&token, 8), false),
                (&token.replacen("npm_", "ghp_", 1), false),
            ],
        );
    }

    #[test]
    fn cloudflare_crc32() {
        let token = expand_example("{{crc32hex:cfut_Qm7Tz2LwXb9KpN4vRc8JhD1sYf6GaE3uWo5BnZq0}}");
        assert_eq!(token.len(), 53);
        assert!(
            token[45..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        table(
            Validator::CloudflareCrc32,
            &[
                (&token, true),
                (&token.replacen("cfut_", "cfat_", 1), true),
                (&token.replacen("cfut_", "cfk_", 1), true),
                (&flip(&token, 12), false),
                (&flip(&token, token.len() - 1), false),
                (&token[..token.len() - 1], false),
                (&format!("{token}0"), false),
                (&token.replacen("cfut_", "cfxx_", 1), false),
                ("", false),
            ],
        );
    }

    #[test]
    fn wif() {
        // en.bitcoin.it/wiki/Wallet_import_format example key.
        let uncompressed = "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ";
        let compressed = "KwdMAjGmerYanjeui5SHS7JkmpZvVipYvB2LJGU1ZxJwYvP98617";
        let key = "0c28fca386c7a227600b2fe50b7cae11ec86d3bf1fbe471be89827e19d72aa1d";
        assert_eq!(
            expand_example(&format!("{{{{b58check:80{key}}}}}")),
            uncompressed
        );
        assert_eq!(
            expand_example(&format!("{{{{b58check:80{key}01}}}}")),
            compressed
        );
        let testnet = expand_example(&format!("{{{{b58check:ef{key}01}}}}"));
        let zero = expand_example(&format!("{{{{b58check:80{}}}}}", "00".repeat(32)));
        let wrong_version = expand_example(&format!("{{{{b58check:00{key}}}}}"));
        let bad_flag = expand_example(&format!("{{{{b58check:80{key}02}}}}"));
        table(
            Validator::Wif,
            &[
                (uncompressed, true),
                (compressed, true),
                (&testnet, true),
                (&flip(uncompressed, 20), false),
                (&flip(compressed, 51), false),
                (&zero, false),
                (&wrong_version, false),
                (&bad_flag, false),
                ("5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyT0", false),
            ],
        );
    }

    #[test]
    fn bip32_xprv() {
        // BIP32 test vector 1, master key; and the trezor vector 0 root key.
        let tv1 = "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi";
        let trezor = "xprv9s21ZrQH143K3GJpoapnV8SFfukcVBSfeCficPSGfubmSFDxo1kuHnLisriDvSnRRuL2Qrg5ggqHKNVpxR86QEC8w35uxmGoggxtQTPvfUu";
        // Its public counterpart is not a secret.
        let xpub = "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8";
        table(
            Validator::Bip32Xprv,
            &[
                (tv1, true),
                (trezor, true),
                (&flip(tv1, 60), false),
                (xpub, false),
                (&tv1[..110], false),
            ],
        );
        // Each SLIP-0132 version really produces its four-letter prefix, and validates.
        let tail = format!(
            "00{}{}{}00{}",
            "00".repeat(4),
            "00".repeat(4),
            "11".repeat(32),
            "22".repeat(32)
        );
        for (version, prefix) in keys_versions() {
            let s = expand_example(&format!("{{{{b58check:{version:08x}{tail}}}}}"));
            assert!(s.starts_with(prefix), "{s} should start with {prefix}");
            assert!(
                Validator::Bip32Xprv.check(s.as_bytes()).is_some(),
                "{prefix}"
            );
        }
        // Depth 0 with a parent fingerprint, and key data not starting 0x00, both fail.
        let orphan = format!(
            "0488ade400{}{}{}00{}",
            "01".repeat(4),
            "00".repeat(4),
            "11".repeat(32),
            "22".repeat(32)
        );
        let not_private = format!(
            "0488ade400{}{}{}02{}",
            "00".repeat(4),
            "00".repeat(4),
            "11".repeat(32),
            "22".repeat(32)
        );
        for hex in [orphan, not_private] {
            let s = expand_example(&format!("{{{{b58check:{hex}}}}}"));
            assert_eq!(Validator::Bip32Xprv.check(s.as_bytes()), None);
        }
    }

    fn keys_versions() -> Vec<(u32, &'static str)> {
        vec![
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
        ]
    }

    #[test]
    fn bip39() {
        let about = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
        assert_eq!(
            expand_example(&format!("{{{{bip39:{}}}}}", "00".repeat(16))),
            about
        );
        let legal = expand_example(&format!("{{{{bip39:{}}}}}", "7f".repeat(32)));
        table(
            Validator::Bip39,
            &[
                (about, true),
                (&legal, true),
                ("zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong", true),
                (&about.replace("about", "above"), false),
                (
                    "the quick brown fox jumps over the lazy dog and then some more words",
                    false,
                ),
            ],
        );
        // A JSON array of words narrows to the words, quotes excluded.
        let arr = format!("[\"{}\"]", about.replace(' ', "\", \""));
        let r = Validator::Bip39.check(arr.as_bytes()).unwrap();
        assert_eq!(&arr[r], about.replace(' ', "\", \""));
    }

    #[test]
    fn eth_private_key() {
        // Hardhat/Anvil account #0 (hardhat `HARDHAT_NETWORK_MNEMONIC`, m/44'/60'/0'/0/0): a real, in-range key.
        let k = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
        let n = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
        table(
            Validator::EthPrivateKey,
            &[
                (k, true),
                (&format!("0x{k}"), true),
                (&k.to_uppercase(), true),
                (&k[..63], false),
                (&format!("{k}0"), false),
                (&k.replacen('a', "g", 1), false),
                (n, false),
                (&"0".repeat(64), false),
                (&format!("{}1", "0".repeat(63)), false),
                (&"0123456789abcdef".repeat(4), false),
                (&"deadbeef".repeat(8), false),
                (
                    "ac0974bec39a17e36ba4a6b4d2300000000ab478cbed5efcae784d7bf4f2ff80",
                    false,
                ),
            ],
        );
    }

    #[test]
    fn solana_keypair() {
        // RFC 8032 §7.1 test 1: secret key → public key.
        let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
        let mut s = [0u8; 32];
        hex::decode_to_slice(seed, &mut s).unwrap();
        assert_eq!(
            hex::encode(keys::ed25519_public(&s)),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let b58 = expand_example(&format!("{{{{solana:{seed}}}}}"));
        let json = expand_example(&format!("{{{{solana-json:{seed}}}}}"));
        let spaced = json.replace(',', ", ").replace('[', "[\n  ");
        let mut wrong: Vec<u8> = hex::decode(seed).unwrap();
        wrong.extend_from_slice(&[7u8; 32]);
        let wrong_b58 = bs58::encode(&wrong).into_string();
        let last_changed = json
            .rsplit_once(',')
            .map(|(a, _)| format!("{a},0]"))
            .unwrap();
        table(
            Validator::SolanaKeypair,
            &[
                (&b58, true),
                (&json, true),
                (&spaced, true),
                (&wrong_b58, false),
                (&last_changed, false),
                (&json.replacen('[', "[256,", 1), false),
                ("[1,2,3]", false),
                ("[]", false),
                ("[-1]", false),
            ],
        );
    }

    #[test]
    fn jwt() {
        // The jwt.io default example.
        let good = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        let no_alg = format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(b"{}")
        );
        let array_payload = format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(b"[1]")
        );
        table(
            Validator::Jwt,
            &[
                (good, true),
                (&good[1..], false),
                (&good.replacen('.', "", 1), false),
                (&format!("{good}.x"), false),
                (&no_alg, false),
                (&array_payload, false),
                (&good.replacen("SflK", "Sfl+", 1), false),
            ],
        );
    }

    #[test]
    fn jwt_live() {
        let tok = |header: &str, payload: &str| {
            format!(
                "{}.{}.c2lnbmF0dXJlLWJ5dGVz",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(payload)
            )
        };
        let hs = r#"{"alg":"HS256","typ":"JWT"}"#;
        let now = 1_800_000_000;
        let live = |t: &str| super::structure::jwt_live_at(t.as_bytes(), now);
        assert!(live(&tok(hs, r#"{"sub":"svc"}"#)), "no exp");
        assert!(
            live(&tok(hs, r#"{"sub":"svc","exp":1900000000}"#)),
            "exp ahead"
        );
        assert!(
            live(&tok(hs, r#"{"role":"service_role","exp":2e9}"#)),
            "float exp ahead"
        );
        assert!(
            !live(&tok(hs, r#"{"sub":"svc","exp":1700000000}"#)),
            "expired"
        );
        assert!(
            !live(&tok(hs, r#"{"sub":"svc","exp":"never"}"#)),
            "exp not a date"
        );
        assert!(
            !live(&tok(r#"{"alg":"none"}"#, r#"{"sub":"svc"}"#)),
            "unsigned"
        );
        assert!(
            !live(&tok(r#"{"alg":"NONE"}"#, r#"{"sub":"svc"}"#)),
            "unsigned"
        );
        assert!(
            !live(&tok(hs, r#"{"role":"anon","iss":"supabase"}"#)),
            "public anon key"
        );
        assert!(!live(&tok(hs, "[1]")), "not a JWT");
        assert!(!live(&tok(hs, r#"{"some":"payload"}"#)), "no subject claim");
        assert!(live(&tok(hs, r#"{"uid":45742}"#)), "a user id");
    }

    fn macaroon(location: &[u8], sig_len: usize) -> String {
        let field = |t: u8, d: &[u8]| [&[t, d.len() as u8][..], d].concat();
        let bytes = [
            &[2u8][..],
            &field(1, location),
            &field(2, &[1; 16]),
            &[0],
            &field(2, br#"{"version": 1, "permissions": "user"}"#),
            &[0],
            &[0],
            &field(6, &vec![7; sig_len]),
        ]
        .concat();
        format!("pypi-{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    #[test]
    fn pypi_macaroon() {
        let good = macaroon(b"pypi.org", 32);
        assert!(
            good.starts_with("pypi-AgEIcHlwaS5vcmc"),
            "every pypi.org token starts `pypi-AgEIcHlwaS5vcmc` (02 01 08 + location)"
        );
        let test = macaroon(b"test.pypi.org", 32);
        assert!(test.starts_with("pypi-AgENdGVzdC5weXBpLm9yZw"));
        table(
            Validator::PypiMacaroon,
            &[
                (&good, true),
                (&test, true),
                (&macaroon(b"evil.example", 32), false),
                (&macaroon(b"pypi.org", 31), false),
                (&good[..good.len() - 4], false),
                (&good.replacen("pypi-Ag", "pypi-Aw", 1), false),
                ("pypi-", false),
                ("pypi-!!!!", false),
            ],
        );
    }

    #[test]
    fn kraken() {
        let key = STANDARD.encode([0x5a; 42]);
        let secret = STANDARD.encode([0xa5; 64]);
        assert_eq!((key.len(), secret.len()), (56, 88));
        table(
            Validator::KrakenKey,
            &[
                (&key, true),
                (&secret, false),
                (&key[..52], false),
                ("!".repeat(56).as_str(), false),
            ],
        );
        table(
            Validator::KrakenSecret,
            &[
                (&secret, true),
                (secret.trim_end_matches('='), true),
                (&key, false),
                (&STANDARD.encode([1; 63]), false),
            ],
        );
    }

    #[test]
    fn aws_key_id() {
        table(
            Validator::AwsKeyId,
            &[
                ("AKIAIOSFODNN7EXAMPLE", true),
                ("AKIAQ3EGTR7HJKL2MNOP", true),
                ("ASIAY34FZKBOKMUTVV7A", true),
                ("AKIAQ3EGTR7HJKL2MNO0", false),
                ("AKIAQ3EGTR7HJKL2MNO", false),
                ("AKIAq3EGTR7HJKL2MNOP", false),
                ("AIDAQ3EGTR7HJKL2MNOP", false),
            ],
        );
        assert_eq!(aws_account_id(b"AKIAIOSFODNN7EXAMPLE"), None);
        // The decode trufflehog's `aws` detector tests use (trufflehog `pkg/detectors/aws`).
        assert_eq!(
            aws_account_id(b"ASIAY34FZKBOKMUTVV7A"),
            Some(609_629_065_308)
        );
    }

    #[test]
    fn kucoin_objectid() {
        // 0x5d1b3c4e = 2019-07-02; 0x58000000 = 2016-10-13; 0x7f000000 = 2037.
        table(
            Validator::KucoinObjectId,
            &[
                ("5d1b3c4e8f2a9b0012345678", true),
                ("5D1B3C4E8F2A9B0012345678", true),
                ("58000000aaaaaaaaaaaaaaaa", false),
                ("7f000000aaaaaaaaaaaaaaaa", false),
                ("000000000000000000000000", false),
                ("5d1b3c4e8f2a9b001234567", false),
                ("5d1b3c4e8f2a9b001234567g", false),
            ],
        );
    }

    #[test]
    fn base64_der() {
        // An Ed25519 PKCS#8 private key: SEQUENCE of 46 bytes (RFC 8410 §7: the DER starts `MC4CAQAw…` in base64).
        let mut der = hex::decode("302e020100300506032b657004220420").unwrap();
        der.extend_from_slice(&[9; 32]);
        let good = STANDARD.encode(&der);
        assert!(good.starts_with("MC4CAQAwBQYDK2VwBCIEI"));
        // Long-form length (0x81 0x80 → 128 bytes of content).
        let mut long = vec![0x30, 0x81, 0x80];
        long.extend_from_slice(&[4; 128]);
        let wrapped = format!("{}\n{}", &good[..32], &good[32..]);
        table(
            Validator::Base64Der,
            &[
                (&good, true),
                (&STANDARD.encode(&long), true),
                (&wrapped, true),
                (&STANDARD.encode(&der[..40]), false),
                (&STANDARD.encode([&der[..], &[0]].concat()), false),
                (&STANDARD.encode([&[0x31][..], &der[1..]].concat()), false),
                (&STANDARD.encode([0x30, 0x81, 0x05, 1, 2, 3, 4, 5]), false),
                ("MC4CAQAw!!", false),
            ],
        );
    }

    #[test]
    fn expand_example_markers() {
        assert_eq!(expand_example("k={{cat:ab|cd|e}};"), "k=abcde;");
        assert_eq!(expand_example("no markers"), "no markers");
        assert_eq!(
            expand_example("{{unknown:abc}} and {{bip39:zz}}"),
            "{{unknown:abc}} and {{bip39:zz}}"
        );
        assert_eq!(expand_example("open {{crc32:x"), "open {{crc32:x");
        assert_eq!(
            expand_example("a={{bip39:00000000000000000000000000000000}};"),
            "a=abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about;"
        );
        let two = expand_example(
            "{{crc32:ghp_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ}} {{crc32:npm_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ}}",
        );
        let (a, b) = two.split_once(' ').unwrap();
        assert_eq!(a[4..], b[4..], "the prefix is not checksummed");
        assert_eq!(expand_example("{{solana-json:zz}}"), "{{solana-json:zz}}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Arbitrary bytes, and bytes behind each validator's expected prefix, never panic
        /// and never yield a range outside the input.
        #[test]
        fn never_panics_and_stays_in_bounds(
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            prefix in proptest::sample::select(vec!["", "ghp_", "npm_", "pypi-AgEI", "0x", "[", "eyJ", "AKIA", "MC4C", "xprv", "abandon "]),
        ) {
            let input = [prefix.as_bytes(), &tail].concat();
            for v in Validator::ALL {
                if let Some(r) = v.check(&input) {
                    proptest::prop_assert!(r.start <= r.end && r.end <= input.len());
                }
            }
        }
    }

    #[test]
    fn never_panics_on_hostile_bytes() {
        let inputs: Vec<Vec<u8>> = vec![
            vec![],
            vec![0xff; 200],
            b"\"\"\"".to_vec(),
            b"ghp_".to_vec(),
            b"npm_\xff\xff".to_vec(),
            b"[".to_vec(),
            b"[,,,]".to_vec(),
            b"pypi-AgEI".to_vec(),
            b"..".to_vec(),
            b"0x".to_vec(),
            "\u{3000}".repeat(30).into_bytes(),
            b"MIGH".to_vec(),
            STANDARD
                .encode([0x30, 0x84, 0xff, 0xff, 0xff, 0xff])
                .into_bytes(),
        ];
        for v in Validator::ALL {
            for input in &inputs {
                let _ = v.check(input);
            }
        }
    }
}
