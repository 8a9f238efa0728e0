//! Published test keys: Hardhat/Anvil accounts, BIP39 test vectors, AWS
//! documentation examples… Held as SHA-256 digests, so the binary does not re-publish them.
//! A match is reported with `known_public: true` at low severity and never fails a scan.
//!
//! The digests were computed offline from the values named in each comment, in their
//! [`canonical`] form. Hardhat accounts 10–19 and the Ganache/Truffle accounts 3–9 were
//! derived offline (BIP39 seed → BIP32 m/44'/60'/0'/0/i) by a throwaway script that first
//! reproduced the published accounts 0–9, so the build needs no secp256k1 code.

use sha2::{Digest, Sha256};

/// SHA-256 (hex) of each known public secret value, in its canonical form (see [`canonical`]).
/// Sorted at first use for binary search.
const KNOWN: &[&str] = &[
    // Hardhat/Anvil default mnemonic (HARDHAT_NETWORK_MNEMONIC, anvil DEFAULT_MNEMONIC)
    "f79cd64f9cea237897b8133e4b905b361c6f166faa5a1c64c32280938f5b707e",
    // Hardhat/Anvil accounts 0-19, m/44'/60'/0'/0/i (0-9 as Hardhat's docs list them; 10-19 derived offline, 0-9 reproduced to check the derivation)
    "bc1a50966c9e6486bc4ebf880b51611a2a97fcb8e7a6976e9b81a9e3e8ca0e3c",
    "8335c55334821eefd4334369ff9c04a8594f161013cf9d87f58802d87297837e",
    "b26ab6529d20ebebb4192256f202984754f785481c64b1a1aed58cac93b3617e",
    "64034b44c579b335ab5e85debbfe72789e970138cc8d296799c3833a2a8525fb",
    "4d3e46eec8244d1d106f866ee48994f6176705298aee1b8426b2ad2529eb454b",
    "0aedba9d586f34f95cf1f0d54926f62e8a078ce2ca593be73ab27a87d3ff9c5d",
    "28e543d3753fc9d14c658ebef20b76a3b5f8e7d78667baf27832ceb3bea01bdf",
    "f070994a8599478580678f2b9482c5f02bb3de0647281e8efae183669425808a",
    "38e69fdd19aefeb4adf56312f10e62c30274997835173c7006308323ad7db506",
    "967f21586cdf1248a862f2cfb330099701c942c2c7a7537c54f7ec48f8556505",
    "0b33e0132123e78d42dd12a0fbbbacd19827d35ca88e0ad4ba83a47a65ba0487",
    "84bc109b3d59b0173a76fc3d831360a6e5063b3d4c82793a97de992947a0e3a8",
    "85bde548053aab4b5a6c78473d5eb2addaa5824299ad009bf06775e3ce923010",
    "f1513114f60e5e95732b840669fe83956d8a944d23e6c76f953e7edcf2491901",
    "5330d388af894c9e1a181a06a3ce44d61fd8602165d979942be4641f4002762f",
    "a2e06155cb1a424f972c3abfaddc9cea4820c4aec722d2378903fe28dd8fc40c",
    "4a67d7a0d8a16d6d954cef19eb5afdbdd82cc0e907a571f376ef0a0981a2a9d4",
    "b08bdfde9930d9202809530dcbe193c53fd0dc6928f2010d2ffca74df95ead36",
    "cf1fc66f853151a4c6666909c8f1f80e1d855ecffefbcb65a709aae544de5588",
    "100546a8b020a55aa09b2d34b50de9a3fc45a70b261aec6a989bb2d9321af583",
    // Ganache `-d` mnemonic and accounts 0-9
    "9c5d0a6656e5d3f36601d0bf98762be09bad5d7b164382c1d6c826324d6d599a",
    "578592185588730b9d10b87e2274706a8301a179cdb60fb4263c788e7e679503",
    "30e55f5463e22af009a1b785a4d723190c4522bfa2696c2ab85fd12cedca708d",
    "70b801afae94d2e653c9612d0ebbba1f52f0d6fca900a0c0f0aa0f3e500e41e9",
    "0bc9fde2b028e3b067e45059c84dbcf43b573344d84f1f259dd912427e76f83f",
    "f51c2c795f782308c7dcfa92a59cf89c9b21758b3cc8ace822bb78ffbb0f861f",
    "6dea34b661141091338390067dc6fe04c911ed6b939f7dce3faa8b6e68e755f0",
    "faeb1dab5a326eef752d42930ec4bf5305724d2b0ddfb06ba9e89b1a36449207",
    "196fbadca8b7eea62510a490b7e8131ec83cfe1dc33ace8660333d139ebb9c1d",
    "ecd5e9d0b08a8a9fd1c35bcd303b3cceea1c8b85ee33d4255849cd3fcd37e0b4",
    "3fd5610ee03a3503edceff018e3fb550d9f2c074609535d5af84cf4a87edfcdb",
    // Truffle develop mnemonic and accounts 0-9
    "b83e96417f61cb148d0dc8a89b839ee4956ad45b5e4b6a2a6cae048e48782157",
    "f24167accb5d690f3426da43061b7028d1e3b44e9a6e3651b741cbdd38fad0a0",
    "07f935b61d37e0e50369eb1f6767a9d259f5b3d5a870a98e4e1d26f75e98a452",
    "e4f1734df0250d547add02b71d673170708b44b4abf2883906e1f54cf5bb86f8",
    "7d1b5fc238610328f01371ec9c078deb07f4c4db48fecefe1df8384de7f5cf55",
    "33f532fd39fa0d77b2255c300529a2c851954db88acd238b1c947c142707444c",
    "728383dec632311291f24ce02a3688cd93217398778c2622b46c967e29ea5162",
    "664b73b16aa577481e905f3f2fd5bdd3662a3078568b268c390d2010e3c131f7",
    "e4639de7f01667f6bb13a507e02446c89f8cd845c4f57fd09688af8ddae4ccf9",
    "98a38f6dad3f47affd7110b65b627ac61967faaa20d50cffaaaf4df2c31a4604",
    "c15f3d9dfdc983890ac1b6f44e06f6edaaa4915e9698b43871679ef8599f4a22",
    // BIP39 test vectors (trezor/python-mnemonic vectors.json: entropy 00/7f/80/ff x 16/24/32 bytes) and the ETH account 0 key of `abandon x11 about`
    "c557eec878dfd852ba3f88087c4f350f09c55537ab5e549c3cd14320ec3cef38",
    "29aedb051d65bcc80e3379acb13afb2a0807f5f4bbb346a9846c056720e0a7cd",
    "69be79ef3c28f55d7cb84db2dd3c18dfff45eeefebd09b8c5f7f3489b8ba09ac",
    "ecb0e7ba498c5920991f0b3483e91f7abafa9ecc6bd82a9a51494589592b1a8f",
    "e770e8aa42a869cf269a5bda331f706a08e02a6223ffbd28d71580e2101e02a4",
    "3b1c5e02107409ea60548d8d8f686fd8d722791f3618deb1f9eb1e9f5c02cd35",
    "3a64bcd9cea43c0aba67ba0bf2ddff8137a492bccbc672107fcbf7381086f698",
    "15f41342748aa6c0718a6f4fa4e153acf61aa4dc073a6e77347fa2e4ef639162",
    "a5fe1cb4158ffd2a27ae93b5ac617903504c3ec9d8f6ac9737ecc207cb460e72",
    "3c0949435a7e4277fac2fbe27975cdd9f5b5abf94d282112eaf4cebbb8560984",
    "c1db187b992c8ddddbe9dfab0e88542e9af36e1816c0d4c70353cd1175159bd9",
    "e96bfc1d78867126dadff72e64807301e9bb837bcf329c86976647e529520528",
    "162ab0f6e4b17c7135d6e4495dc61b3c909db730a5effd2ae59226374e52a5ea",
    // Trivial scalars 1 and 2
    "c386d8e8d07342f2e39e189c8e6c57bb205bb373fe4e3a6f69404a8bb767b417",
    "68e4d75d23e31bd23f43266f769567b2588d9f3d3010fa7cacae7efd6f5ce0ad",
    // Bitcoin wiki WIF example (key, uncompressed and compressed WIF) and BIP32 test vector 1 master xprv
    "c8fb5c43391e7d41f5ab90462b97197be155fbb3a3ebcf2dab597346dc3b84a0",
    "9d6a2b9d1f01d4577cbdce4de6f0834ac6b21d675518ace150009338685b5276",
    "110040843c3adf0df9dfa12aa89635f8c2a24a7fa0b068d78bc5e5c9f4fe7e30",
    "2243ae4c730144699810edff877f309b57c9f62289420157926505582ea6d1f9",
    "7f05cb6f0634ef6e28c2643b8c716437a574ce4d1571884370916358d8d9ff8b",
    // AWS documentation key id and secret
    "1a5d44a2dca19669d72edf4c4f1c27c4c1ca4b4408fbb17f6ce4ad452d78ddb3",
    "78314b11be2e581549ac1c4f616563fad3fdf0c3b71678f6e2299182080e0598",
    // Telegram's BotFather guide token (core.telegram.org/bots/features#botfather), copied into many READMEs
    "97663138e66699214db9caac00d9d29a9496b38ecf076e4c09284166a238a315",
    // Stripe documentation test keys
    "2cafc0970149a84f3b9e62eaf169f36f59907a3b3e31f7b82e68c69cd27f7326",
    "b1471f544ceeea31333bde7e1ecbaad6eac0d4a749412ad29bd66ef895b81c6b",
    // Stripe API reference examples (`curl … -u sk_test_BQok…:`) and the docs' sample secret key
    "f2d6ca16515033e5dce14eba840b979d27b5cbae24bb3e5bf484339667f86397",
    "7e8de44ea9ecf6d53415c90f5b249a8591f7abafbf7d65a2c0d855afeca3ec09",
    // Shared web3 keys embedded in libraries: ethers Infura, MetaMask Infura, ethers/wagmi Alchemy, ethers Etherscan, ethers QuickNode, CoinMarketCap sandbox
    "dddb5c32e423345cb6d1c836c9515c454e23f13ddc2f954a8efd509e5be655ca",
    "5d6eeff564caad6d23144abcdd87d25db0a29f3ffec49ee71abf46a04ae6c709",
    "0dec272a05c648a7a0be94748b3fccaf793a000895d28dca8dd43ce69250df06",
    "8bbdc62331f17e54c770848b53a3b9e0fe0b108e54f6eee0fc8827cb13af41f1",
    "d1d2d26c32c0cf70253c53e0f5f4aa911e9a5e97af8dc1017baf3b5584025887",
    "b48f77ee9a006b06e18a64156ba63755dd96b7c4b44cfa599dc52dc91a1dd1e0",
    // Vendor doc examples: Deribit client id/secret, Coinbase legacy key/secret; gitleaks stopword UUID
    "4604edee7c9ac20bfe8182e9de1038a2078018e9f50582f28e0c1023870c03b6",
    "3b86a0c9508a2de58cc9405a6bbb8b81d51aeaf55b16aa64768969906a8b25ff",
    "d2b9b6eed409120f01f6b948ab4a8de6833e80919b3e7e497fbfe9040bc1c6aa",
    "1193420bdaf620861bd14154966317a783abcde8d301ba5835270033f39843b8",
    "7f39f457679583387ececc66df37c07add0f10c3aaf66bc3667ee034ee2a0456",
    // Sample Google API keys in firebase-android-sdk's tests and samples (github.com/firebase/
    // firebase-android-sdk; the set gitleaks allow-lists for gcp-api-key)
    "27a9a42931dff7eb2f8434e20a9bce976ea364e7bee49187f19d5cfeca9c7045",
    "49f777db995e8260da7ca9ffdf0c08d66f0453e97ec967018baf2cdfe3b582d0",
    "a6c814bc555ae62c7bd8b58ec07bf559c7ed3a009976a1e0acc9cef0d4473b41",
    "8731261cb72d86267a32a532ebd3df429e2144e5e4ced7e13568bc9e6c8fb1b1",
    "37f8f09bdf12c2f2eae4ead7273a62ddb0c23459cbf902892f282b57f7ed6619",
    "eb540d2b6ee2a0a47c5779bc8a0141784c6b753840d4c6f4e2428a6e86e9e0b1",
    "2037abcaffb2b77785da716cf7ccff4ff4d00c4ea930db0167b7d71f50af7eb4",
    "3a8b61d0f636b007840c0d40ba12bcf48465dc054cdc1a68704a33521d84b665",
    "4c98242dcadc8b29005c6b4aad526552d5ea1842149154c0694adeec75847583",
    "ea9bb1082cf95663f5faca23b8b15ef2aa0fce0a5c6df9c32dcb85b2e0a4513d",
    "3f370c9dd8225c63b5c77de1f785edc9712958f18bb612d5fa2e0ae33aeca682",
    "a19f89ab3555eac10c40741f6df79ecf0935998f15569f8db9d67bce0181fff6",
    "e4a5542bb7fd7b67e943c71ad29c34b5972c9840597e7eda53e666f44d5da0b9",
    "dc0fcf046c61640cbd1e8b999ada3262d722c2ca4bf42dceac999020ffdbb614",
    "f56e323494a6ffc2064e7a955908957d84f0755e5f975dabd64328d0359a8f7c",
    "0b476bdf9acf2123d547b5ae76f1e59884d8ec9553ee0c47e9f31fd4768f3f3c",
    // Published GitHub token samples (kingfisher rule example; base62-token.js README)
    "fc63f901e57839da27ac0d96d1741dceff52b89d7b5f31daf6d22bb6c6fea6d3",
    "976b57ee8acdfcf45f76bcc5e329a23655bd0e1e7eeffd8ec98bab6ca6cdd660",
    // jwt.io's default example token (HS256, `{"sub":"1234567890","name":"John Doe","iat":1516239022}`)
    "7f75367e7881255134e1375e723d1dea8ad5f6a4fdb79d938df1f1754a830606",
];

/// Separators between the words of a phrase written as a list (`"a", "b"`) or one per line.
fn is_phrase_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | '"' | '\'')
}

/// Lowercases hex and drops a `0x` prefix and surrounding quotes/space, so `0xAB…` and `ab…`
/// hash alike. A phrase (letters between whitespace, commas and quotes) becomes its words
/// joined by one space, so `["test", "test", …]` and `test test …` hash alike.
pub fn canonical(secret: &[u8]) -> Vec<u8> {
    let s = String::from_utf8_lossy(secret);
    let s = s.trim().trim_matches(|c| c == '"' || c == '\'');
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    let is_hex = !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    let is_phrase = s
        .chars()
        .all(|c| c.is_alphabetic() || is_phrase_separator(c));
    let s = if is_hex {
        s.to_ascii_lowercase()
    } else if is_phrase {
        s.split(is_phrase_separator)
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    s.into_bytes()
}

/// Hex SHA-256 of the canonical form.
pub fn digest(secret: &[u8]) -> String {
    hex::encode(Sha256::digest(canonical(secret)))
}

fn known_sorted() -> &'static [&'static str] {
    static SORTED: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    SORTED.get_or_init(|| {
        let mut v = KNOWN.to_vec();
        v.sort_unstable();
        v
    })
}

/// True for a published test key.
pub fn is_known_public(secret: &[u8]) -> bool {
    let d = digest(secret);
    known_sorted().binary_search(&d.as_str()).is_ok()
        || ends_with_example(secret)
        || is_abandon_phrase(secret)
}

/// AWS (and others) mark documentation keys with an `EXAMPLE` suffix.
fn ends_with_example(secret: &[u8]) -> bool {
    secret.ends_with(b"EXAMPLE") || secret.ends_with(b"EXAMPLEKEY")
}

/// `abandon abandon … <last word>`: the all-zero-entropy BIP39 phrases (any length; the last
/// word carries the checksum) and their neighbours that SDK tests use, e.g. `abandon`×23 +
/// `diesel`. Nobody's funds sit behind them.
fn is_abandon_phrase(secret: &[u8]) -> bool {
    let c = canonical(secret);
    let words: Vec<&[u8]> = c.split(|&b| b == b' ').collect();
    words.len() >= 12 && words[..words.len() - 1].iter().all(|w| *w == b"abandon")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_keys_are_recognised() {
        let hardhat0 = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
        let hardhat_words = ["test"; 11].join(" ") + " junk";
        let cases: Vec<(String, bool)> = vec![
            (hardhat0.into(), true),
            (format!("0x{hardhat0}"), true),
            (format!("0X{}", hardhat0.to_uppercase()), true),
            (format!("\"0x{hardhat0}\""), true),
            // Hardhat #19, derived offline.
            (
                "0xdf57089febbacf7ba0bc227dafbffa9fc08a93fdc68e1e42411a14efcf23656e".into(),
                true,
            ),
            (hardhat_words.clone(), true),
            (hardhat_words.replace(' ', "\n"), true),
            // As the bip39 validator narrows a JSON array: outer brackets already gone.
            (
                format!("\"{}\"", hardhat_words.replace(' ', "\", \"")),
                true,
            ),
            (
                "myth like bonus scare over problem client lizard pioneer submit female collect"
                    .into(),
                true,
            ),
            (
                "0x0000000000000000000000000000000000000000000000000000000000000001".into(),
                true,
            ),
            ("AKIAIOSFODNN7EXAMPLE".into(), true),
            ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(), true),
            (
                "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ".into(),
                true,
            ),
            ("84842078b09946638c03157f83405213".into(), true),
            ("014df517-39d1-4453-b7b3-9930c563627c".into(), true),
            (["abandon"; 23].join(" ") + " diesel", true),
            (["abandon"; 11].join(" ") + " about", true),
            // A random key and a fresh phrase are not.
            (
                "3f1c9a7e5b2d40863f1c9a7e5b2d4086a1b2c3d4e5f60718293a4b5c6d7e8f90".into(),
                false,
            ),
            (
                "legal winner thank year wave sausage worth useful legal winner thank yell".into(),
                false,
            ),
            (["abandon"; 5].join(" "), false),
            ("".into(), false),
        ];
        for (s, want) in cases {
            assert_eq!(is_known_public(s.as_bytes()), want, "{s}");
        }
    }

    #[test]
    fn github_samples_assembled_at_test_time() {
        for body in [
            "ghp_sbUsUmRNn8X74dFU0DJ9Fm1mvdCgtH",
            "ghp_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ",
        ] {
            let token = crate::scan::validate::expand_example(&format!("{{{{crc32:{body}}}}}"));
            assert!(is_known_public(token.as_bytes()), "{body}");
        }
    }

    #[test]
    fn digests_are_well_formed_and_unique() {
        let mut v = KNOWN.to_vec();
        assert!(v.iter().all(|h| {
            h.len() == 64
                && h.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        }));
        v.sort_unstable();
        v.dedup();
        assert_eq!(v.len(), KNOWN.len());
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(canonical(b" 0xABcd "), b"abcd");
        assert_eq!(canonical(b"'a', 'b',\n 'c'"), b"a b c");
        assert_eq!(canonical(b"sk_test_x  y"), b"sk_test_x y");
        assert_eq!(canonical(b"\xff\xfe"), "\u{fffd}\u{fffd}".as_bytes());
    }
}
