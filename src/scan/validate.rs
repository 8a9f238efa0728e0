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
    #[default]
    /// No check.
    None,
    /// GitHub classic tokens (`ghp_` …): base62 CRC32 of the body in the last 6 characters.
    GithubCrc32,
    /// npm `npm_` tokens: same CRC32/base62 scheme as GitHub.
    NpmCrc32,
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
    /// AWS key id: base32 body decodes to a plausible account id.
    AwsKeyId,
    /// KuCoin key: a MongoDB ObjectId whose timestamp is 2017..now.
    KucoinObjectId,
    /// Headerless base64 DER key: decodes to a SEQUENCE of matching length.
    Base64Der,
}

impl Validator {
    /// The name used in rule files and in a finding's `validation` field.
    pub fn name(self) -> &'static str {
        match self {
            Validator::None => "none",
            Validator::GithubCrc32 => "github-crc32",
            Validator::NpmCrc32 => "npm-crc32",
            Validator::Wif => "wif",
            Validator::Bip32Xprv => "bip32-xprv",
            Validator::Bip39 => "bip39",
            Validator::PypiMacaroon => "pypi-macaroon",
            Validator::KrakenKey => "kraken-key",
            Validator::KrakenSecret => "kraken-secret",
            Validator::EthPrivateKey => "eth-private-key",
            Validator::SolanaKeypair => "solana-keypair",
            Validator::Jwt => "jwt",
            Validator::AwsKeyId => "aws-key-id",
            Validator::KucoinObjectId => "kucoin-objectid",
            Validator::Base64Der => "base64-der",
        }
    }

    /// Every validator, for docs and `rules list`.
    pub const ALL: &'static [Validator] = &[
        Validator::None,
        Validator::GithubCrc32,
        Validator::NpmCrc32,
        Validator::Wif,
        Validator::Bip32Xprv,
        Validator::Bip39,
        Validator::PypiMacaroon,
        Validator::KrakenKey,
        Validator::KrakenSecret,
        Validator::EthPrivateKey,
        Validator::SolanaKeypair,
        Validator::Jwt,
        Validator::AwsKeyId,
        Validator::KucoinObjectId,
        Validator::Base64Der,
    ];

    /// Checks `secret`; `Some(range)` (relative to `secret`) when it validates.
    pub fn check(self, secret: &[u8]) -> Option<Range<usize>> {
        // Stubs until each validator lands: accept the whole secret.
        let _ = self;
        Some(0..secret.len())
    }
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
