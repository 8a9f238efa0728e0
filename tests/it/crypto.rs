//! The crypto catalogue end to end: multi-part exchange credentials, wallet secrets validated by
//! checksum (assembled here, never committed), known public test keys, and decoys.

use crate::util::*;
use keyleak::scan::validate::expand_example;

fn scan_one(name: &str, text: &str) -> (Option<i32>, Vec<serde_json::Value>) {
    let t = TestDir::new();
    t.write(name, text);
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(2), "{}", stderr(&o));
    (o.status.code(), findings(&o))
}

fn rule_ids(f: &[serde_json::Value]) -> Vec<&str> {
    f.iter().map(|x| x["rule_id"].as_str().unwrap()).collect()
}

#[test]
fn freqtrade_config_is_one_finding_with_parts() {
    let cfg = r#"{
    "max_open_trades": 3,
    "exchange": {
        "name": "binance",
        "key": "i3hTe6altETPhhD9aCfkExBYiCuTUjTJqIS6bbTN8SHfeWb4ut0EWXk0r6nx3z1x",
        "secret": "FXEUiuWeZxC0NaMZVkzjjqS4INcN48Nl7CmQWSOyHK8AeaL89A9BNN5nJujUNlyf",
        "ccxt_config": {}
    }
}"#;
    let (code, f) = scan_one("config.json", cfg);
    assert_eq!(code, Some(1));
    assert_eq!(rule_ids(&f), ["binance-api-secret"], "{f:#?}");
    assert_eq!(f[0]["severity"], "critical");
    assert_eq!(f[0]["line"], 6);
    let parts: Vec<(&str, i64)> = f[0]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["line"].as_i64().unwrap()))
        .collect();
    assert_eq!(parts, [("key", 5), ("secret", 6)]);
    for p in f[0]["parts"].as_array().unwrap() {
        assert!(
            p["value"].as_str().unwrap().ends_with('…'),
            "parts are redacted"
        );
    }
}

#[test]
fn ccxt_okx_key_secret_passphrase_merge() {
    let code = "import ccxt\nexchange = ccxt.okx({\n    'apiKey': 'bd18d310-6985-4f03-92f3-6bece678c2b1',\n    'secret': '5CC041F3B3BD3A1E03AD98577BE17D3F',\n    'password': 'Tr4dqpBJhudq!',\n})\n";
    let (_, f) = scan_one("bot.py", code);
    assert_eq!(rule_ids(&f), ["okx-api-secret"], "{f:#?}");
    let names: Vec<&str> = f[0]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["key", "secret", "passphrase"]);
}

#[test]
fn a_lone_passphrase_is_not_a_finding() {
    let (code, f) = scan_one(".env", "OKX_PASSPHRASE=Tr4dqpBJhudq!\n");
    assert_eq!(code, Some(0), "{f:#?}");
}

#[test]
fn env_lookups_and_placeholders_stay_quiet() {
    let text = "exchange = ccxt.binance({'apiKey': process.env.BINANCE_API_KEY, 'secret': process.env.BINANCE_API_SECRET})\nBINANCE_API_SECRET=your_binance_api_secret_here\nKRAKEN_API_SECRET=${KRAKEN_SECRET}\n";
    let (code, f) = scan_one("bot.js", text);
    assert_eq!(code, Some(0), "{f:#?}");
}

#[test]
fn bip39_mnemonic_with_valid_checksum() {
    let phrase = expand_example("{{bip39:9e885d952ad362caeb4efe34a8e91bd2}}");
    assert_eq!(phrase.split(' ').count(), 12);
    let (code, f) = scan_one(".env", &format!("WALLET_MNEMONIC=\"{phrase}\"\n"));
    assert_eq!(code, Some(1));
    assert_eq!(rule_ids(&f), ["bip39-mnemonic"]);
    assert_eq!(f[0]["validation"], "bip39");
    assert_eq!(f[0]["column"], 18);
    // One word changed (to one that breaks the checksum, verified offline): nothing is reported.
    let words: Vec<&str> = phrase.split(' ').collect();
    let swapped = words
        .iter()
        .enumerate()
        .map(|(i, w)| if i == 3 { "abandon" } else { w })
        .collect::<Vec<_>>()
        .join(" ");
    let (_, f) = scan_one(".env", &format!("WALLET_MNEMONIC=\"{swapped}\"\n"));
    assert!(!rule_ids(&f).contains(&"bip39-mnemonic"), "{f:#?}");
}

#[test]
fn hardhat_defaults_are_known_public_and_do_not_fail() {
    let text = "// hardhat.config.js\nmodule.exports = { networks: { hardhat: { accounts: { mnemonic: \"test test test test test test test test test test test junk\" } } } };\nconst PRIVATE_KEY = \"0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\";\n";
    let (code, f) = scan_one("hardhat.config.js", text);
    assert_eq!(code, Some(0), "{f:#?}");
    assert!(!f.is_empty(), "known public keys are still reported");
    for x in &f {
        assert_eq!(x["known_public"], true, "{x}");
        assert_eq!(x["severity"], "low");
    }
}

#[test]
fn fresh_evm_private_key_in_dotenv() {
    let (code, f) = scan_one(
        ".env",
        "DEPLOYER_PRIVATE_KEY=0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318\n",
    );
    assert_eq!(code, Some(1));
    assert_eq!(rule_ids(&f), ["evm-private-key"], "{f:#?}");
    assert_eq!(f[0]["validation"], "eth-private-key");
}

#[test]
fn hashes_are_not_private_keys() {
    let text = r#"const txHash = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060";
const blockHash = "0x88e96d4537bea4d9c05d12549907b32561d3bf31f45aae734cdc119f13406cb6";
bytes32 public constant MINTER_ROLE = 0x9f2df0fed2c77648de5860a4cc508cd0818c85b8b8a1ab4ceeef8d981c8956a6;
"integrity": "sha512-Q8fz2LmP0vX7nR4tYw1KcJ9eHs3UaB6dQ8fz2LmP0vX7nR4tYw1KcJ9eHs3UaB6dQ8fz2LmP0vX7nR4tYw1KcJ9eHs3Ua=="
checksum = "3f9a1c7e5b2d4086af1e9c3b7d5a2f803f9a1c7e5b2d4086af1e9c3b7d5a2f80"
commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904
"#;
    let (code, f) = scan_one("notes.txt", text);
    assert_eq!(code, Some(0), "{f:#?}");
}

#[test]
fn wif_and_xprv_by_base58check() {
    // A WIF key assembled from a fresh scalar: version 0x80, key, 0x01 (compressed).
    let wif = expand_example(
        "{{b58check:803f9a1c7e5b2d4086af1e9c3b7d5a2f80c4e8a1b2d3f4a5b6c7d8e9f0a1b2c3d401}}",
    );
    let (code, f) = scan_one("wallet.txt", &format!("btc_key: {wif}\n"));
    assert_eq!(code, Some(1), "{wif}");
    assert_eq!(rule_ids(&f), ["bitcoin-wif-private-key"]);
    // Last character changed: checksum fails.
    let mut bad = wif.clone();
    let last = bad.pop().unwrap();
    bad.push(if last == 'a' { 'b' } else { 'a' });
    let (_, f) = scan_one("wallet.txt", &format!("btc_key: {bad}\n"));
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn github_token_checksum() {
    let good = expand_example("{{crc32:ghp_Q8fz2LmP0vX7nR4tYw1KcJ9eHs3UaB}}");
    let (code, f) = scan_one("ci.yml", &format!("token: {good}\n"));
    assert_eq!(code, Some(1));
    assert_eq!(rule_ids(&f), ["github-pat"]);
    assert_eq!(f[0]["validation"], "github-crc32");
    let bad = format!(
        "{}{}",
        &good[..good.len() - 1],
        if good.ends_with('A') { 'B' } else { 'A' }
    );
    let (code, _) = scan_one("ci.yml", &format!("token: {bad}\n"));
    assert_eq!(code, Some(0));
}

#[test]
fn rules_show_has_exchange_remediation() {
    keyleak()
        .args(["rules", "show", "binance-api-secret"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("withdraw"));
}
