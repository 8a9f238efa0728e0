//! No silent misses: what `dir` reads and says it left out, which config applies, severities
//! that fail a default scan, and inline markers that mark (issue "No silent misses").

use crate::util::*;

const KUCOIN_KEY: &str = "635c89beb94b15839c8461ff";
const KUCOIN_SECRET: &str = "cdc53cd7-d389-4a71-a63c-1bc30337d731";

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_str(&stdout(o)).expect("json report")
}

fn kucoin_pair(key_comment: &str, secret_comment: &str) -> String {
    format!(
        "KUCOIN_API_KEY={KUCOIN_KEY}{key_comment}\nKUCOIN_API_SECRET={KUCOIN_SECRET}{secret_comment}\n"
    )
}

// ---- 4. markers ----

#[test]
fn allow_on_any_line_of_a_multi_part_finding() {
    let t = TestDir::new();
    t.write("on-key.env", kucoin_pair("  # keyleak:allow", ""));
    t.write("on-secret.env", kucoin_pair("", "  # keyleak:allow"));
    t.write("none.env", kucoin_pair("", ""));
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    let f = findings(&o);
    let paths: Vec<&str> = f.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["none.env"], "{}", stderr(&o));
    assert!(
        stderr(&o).contains("suppressed 2 by keyleak:allow"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn allow_next_line_covers_only_the_line_below() {
    let t = TestDir::new();
    t.write(
        "a.yml",
        format!(
            "# keyleak:allow-next-line\nkey: {AWS_KEY}\n# keyleak:allow-next-line\n\nkey: AKIAZ7XQ4RTWYP3MB2KD\n"
        ),
    );
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    let lines: Vec<u64> = findings(&o)
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [5], "{}", stderr(&o));
    assert!(
        stderr(&o).contains("suppressed 1 by keyleak:allow"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn other_scanners_markers_are_reported_unless_honoured() {
    let t = TestDir::new();
    t.write(
        "a.py",
        format!(
            "A = '{AWS_KEY}'  # gitleaks:allow\nB = 'AKIAZ7XQ4RTWYP3MB2KD'  # pragma: allowlist secret\n# pragma: allowlist nextline secret\nC = 'AKIAJ5KQ7HZ2WRT6BXLE'\nD = 'AKIAM2N3B4V5C6X7Z2L3'  # trufflehog:ignore\n"
        ),
    );
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(findings(&o).len(), 4, "not honoured by default");
    let err = stderr(&o);
    assert_eq!(
        err.matches("another scanner's marker").count(),
        1,
        "said once: {err}"
    );
    assert!(
        err.contains("4 findings carry another scanner's marker (gitleaks:allow, pragma: allowlist secret, pragma: allowlist nextline secret, trufflehog:ignore)"),
        "{err}"
    );
    let notes = json(&o)["notes"].to_string();
    assert!(notes.contains("other_markers = true"), "{notes}");

    t.write("keyleak.toml", "[allow]\nother_markers = true\n");
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(findings(&o).is_empty());
    let err = stderr(&o);
    assert!(
        err.contains("suppressed 4 by another scanner's marker"),
        "{err}"
    );
    assert!(!err.contains("does not honour"), "{err}");
}

// ---- 1. what `dir` reads ----

fn repo() -> TestDir {
    let t = TestDir::new();
    t.git(&["init", "-q", "-b", "main"]);
    t
}

fn paths(o: &std::process::Output) -> Vec<String> {
    findings(o)
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn gitignore_applies_only_inside_a_git_work_tree() {
    // An unpacked source tarball with a `.gitignore` of `/*` (Debian's linux-source does this).
    let t = TestDir::new();
    t.write(".gitignore", "/*\n");
    t.write("certs/signing_key.txt", format!("k = {AWS_KEY}\n"));
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(paths(&o), ["certs/signing_key.txt"], "{}", stderr(&o));
    assert!(stderr(&o).contains("scanned 2 files"), "{}", stderr(&o));

    // `.ignore` files apply anywhere.
    t.write(".ignore", "certs/\n");
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json", "-v"])
        .output()
        .unwrap();
    assert!(paths(&o).is_empty(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("keyleak: ignore file: .ignore"),
        "{}",
        stderr(&o)
    );

    // The same tree as a git work tree: `.gitignore` applies.
    let t = repo();
    t.write(".gitignore", "build/\n");
    t.write("build/out.txt", format!("k = {AWS_KEY}\n"));
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert!(paths(&o).is_empty(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not scanned: 1 ignored directory (git ignore rules"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn tracked_files_are_scanned_whatever_gitignore_says() {
    let t = repo();
    t.write(".gitignore", "*.txt\nvendor/\n");
    t.write("forced.txt", format!("k = {AWS_KEY}\n"));
    t.write("vendor/lib/conf.txt", "k = AKIAZ7XQ4RTWYP3MB2KD\n");
    t.write("vendor/lib/untracked.txt", "k = AKIAP3O4I5U6Y7T2R3E4\n");
    t.git(&["add", ".gitignore"]);
    t.git(&["add", "-f", "forced.txt", "vendor/lib/conf.txt"]);
    for args in [&["dir", "."][..], &["dir", "vendor"][..]] {
        let o = t
            .keyleak()
            .args(args)
            .args(["-f", "json"])
            .output()
            .unwrap();
        let want: &[&str] = if args[1] == "." {
            &["forced.txt", "vendor/lib/conf.txt"]
        } else {
            &["vendor/lib/conf.txt"]
        };
        assert_eq!(paths(&o), want, "{args:?}: {}", stderr(&o));
    }
    let o = t
        .keyleak()
        .args(["dir", ".", "--no-ignore", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(paths(&o).len(), 3, "{}", stderr(&o));
}

#[test]
fn ignored_secret_files_are_named_in_the_summary_and_reports() {
    let t = repo();
    t.write(".gitignore", ".env\n*.log\n");
    t.write(
        ".env",
        "BINANCE_API_KEY=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A\n",
    );
    t.write("debug.log", "nothing\n");
    t.write("app.py", "print('hi')\n");
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let err = stderr(&o);
    assert!(
        err.contains(
            "not scanned: 1 ignored file that often holds secrets (.env); --no-ignore to include"
        ),
        "{err}"
    );
    assert!(
        err.contains("1 other ignored file (git ignore rules"),
        "{err}"
    );
    let notes = json(&o)["notes"].to_string();
    assert!(notes.contains("often holds secrets (.env)"), "{notes}");
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "sarif"])
        .output()
        .unwrap();
    assert!(
        stdout(&o).contains("often holds secrets (.env)"),
        "SARIF notification"
    );
    let o = t.keyleak().args(["dir", ".", "-v"]).output().unwrap();
    assert!(
        stderr(&o).contains("keyleak: not scanned (ignored): .env"),
        "{}",
        stderr(&o)
    );
    let o = t
        .keyleak()
        .args(["dir", ".", "--no-ignore", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(paths(&o), [".env"], "{}", stderr(&o));
}

#[test]
fn scanning_nothing_is_a_warning_not_a_clean_pass() {
    let t = TestDir::new();
    std::fs::create_dir(t.path().join("empty")).unwrap();
    let o = t
        .keyleak()
        .args(["dir", "empty", "-f", "json"])
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(
        err.contains("keyleak: warning: scanned 0 files: nothing was read"),
        "{err}"
    );
    assert!(
        err.contains("no secrets found, but nothing was scanned"),
        "{err}"
    );
    assert!(json(&o)["notes"].to_string().contains("scanned 0 files"));
}

// ---- 2. which config applies ----

#[test]
fn config_at_the_work_tree_top_applies_to_every_path_given() {
    let t = repo();
    t.write(
        "keyleak.toml",
        "[allow]\npaths = [\"sub/fixtures/**\", \"fixtures/**\"]\n",
    );
    t.write("sub/fixtures/a.txt", format!("k = {AWS_KEY}\n"));
    t.write("fixtures/b.txt", format!("k = {AWS_KEY}\n"));
    t.write("sub/c.txt", "k = AKIAZ7XQ4RTWYP3MB2KD\n");
    t.git(&["add", "."]);
    // The file-name form is what the `keyleak-files` pre-commit hook runs, from the top.
    for args in [
        &["dir", "."][..],
        &["dir", "sub"][..],
        &["dir", "fixtures/b.txt", "sub/c.txt"][..],
    ] {
        let o = t
            .keyleak()
            .args(args)
            .args(["-f", "json", "-v"])
            .output()
            .unwrap();
        assert_eq!(paths(&o), ["sub/c.txt"], "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("keyleak: config: keyleak.toml"),
            "{}",
            stderr(&o)
        );
    }
    // From inside the subdirectory, too.
    let o = keyleak()
        .current_dir(t.path().join("sub"))
        .args(["dir", ".", "-f", "json", "-v"])
        .output()
        .unwrap();
    assert_eq!(paths(&o), ["c.txt"], "{}", stderr(&o));
    assert!(stderr(&o).contains("/keyleak.toml\n"), "{}", stderr(&o));
}

#[test]
fn paths_with_different_configs_are_an_error() {
    let t = TestDir::new();
    t.write("a/keyleak.toml", "[allow]\npaths = [\"x\"]\n");
    t.write("a/f.txt", "x");
    t.write("b/f.txt", "x");
    let o = t.keyleak().args(["dir", "a", "b"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("different configs"), "{}", stderr(&o));
    let o = t
        .keyleak()
        .args(["dir", "a", "b", "--no-config"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn no_config_and_dev_null_are_empty_configs() {
    let t = TestDir::new();
    t.write(
        "keyleak.toml",
        "[rules]\ndisable = [\"aws-access-key-id\"]\n",
    );
    t.write("a.txt", format!("k = {AWS_KEY}\n"));
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json", "-v"])
        .output()
        .unwrap();
    assert!(paths(&o).is_empty());
    assert!(
        stderr(&o).contains("keyleak: config: keyleak.toml"),
        "{}",
        stderr(&o)
    );
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json", "-v", "--no-config"])
        .output()
        .unwrap();
    assert_eq!(paths(&o), ["a.txt"], "{}", stderr(&o));
    assert!(
        stderr(&o).contains("keyleak: config: none (--no-config)"),
        "{}",
        stderr(&o)
    );
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json", "-c", "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(paths(&o), ["a.txt"], "{}", stderr(&o));
    let o = t
        .keyleak()
        .args(["dir", ".", "-c", "keyleak.toml", "--no-config"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

// ---- 3. severities that fail a default scan ----

fn rules_and_severities(o: &std::process::Output) -> Vec<(String, String)> {
    findings(o)
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn strongly_secret_named_values_are_medium_weak_names_stay_low() {
    let t = TestDir::new();
    t.write(
        "app.ini",
        "[exchange]\napi_secret = t69IPW2XcyAtQ7mLz0Rk4vB8nS1d\n",
    );
    t.write(
        "conf.json",
        "{\"secret\": \"Zq8r1LmN4pQ7sT0vW3yA6cE9gJ2kM5oR8uX1zB4dF7hK0nP3wY6aC9eG2jL5mO8q\"}\n",
    );
    t.write(
        "weak.env",
        "AUTH_TOKEN=9yNT06hUBIDYaAj88qPdX08VuYSavlVWOjFErWOX\n",
    );
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "medium fails a default scan");
    let got = rules_and_severities(&o);
    assert_eq!(
        got,
        [
            ("generic-secret-named".to_string(), "medium".to_string()),
            ("generic-secret-named".to_string(), "medium".to_string()),
            ("generic-secret-assignment".to_string(), "low".to_string()),
        ],
        "{got:?}"
    );
    // Weak names alone do not fail a default scan.
    std::fs::remove_file(t.path().join("app.ini")).unwrap();
    std::fs::remove_file(t.path().join("conf.json")).unwrap();
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// A comment on the line calling a generic value fake (hummingbot marks its test fixtures
/// `# noqa: mock`) rates it low; a rule with a prefix is not talked down by a comment.
#[test]
fn a_comment_calling_a_generic_value_fake_makes_it_low() {
    let t = TestDir::new();
    t.write(
        "test_auth.py",
        "api_secret = \"13e5a6ca9cceebf1f3306c2c5376ab38570a114bc1b003b60d838f92be9d7930\"  # noqa: mock\n\
         private_key = \"Zq8r1LmN4pQ7sT0vW3yA6cE9gJ2kM5oR8uX1zB4dF7hK\"  // dummy for tests\n",
    );
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        rules_and_severities(&o),
        [
            ("generic-secret-named".to_string(), "low".to_string()),
            ("generic-secret-named".to_string(), "low".to_string()),
        ]
    );
    // The same values without the comments, and a prefixed key with one, still fail.
    t.write(
        "test_auth.py",
        format!(
            "api_secret = \"13e5a6ca9cceebf1f3306c2c5376ab38570a114bc1b003b60d838f92be9d7930\"\n\
             aws = \"{AWS_KEY}\"  # fake\n"
        ),
    );
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let got = rules_and_severities(&o);
    assert!(
        got.contains(&("generic-secret-named".to_string(), "medium".to_string()))
            && got.contains(&("aws-access-key-id".to_string(), "high".to_string())),
        "{got:?}"
    );
}

const BINANCE_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const BINANCE_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
const BYBIT_KEY: &str = "T2mvbRkUo1ZP5lQbxA";
const BYBIT_SECRET: &str = "Wq1yOC9mZsJ3vX8nL2kR5tG7hB4dF6aE0cPq";

fn part_names(f: &serde_json::Value) -> Vec<String> {
    f["parts"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn exchange_named_only_by_the_sdk_import_is_critical_with_its_key() {
    let filler = "# helper\nx = 1\n".repeat(20);
    let t = TestDir::new();
    t.write(
        "bot/pybit_bot.py",
        format!(
            "from pybit.unified_trading import HTTP\n{filler}\nsession = HTTP(\n    testnet=False,\n    api_key=\"{BYBIT_KEY}\",\n    api_secret=\"{BYBIT_SECRET}\",\n)\n"
        ),
    );
    t.write(
        "bot/binance_bot.py",
        format!(
            "from binance.client import Client\n{filler}\nclient = Client(\"{BINANCE_KEY}\", \"{BINANCE_SECRET}\")\n"
        ),
    );
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    let f = findings(&o);
    let got: Vec<(String, String, Vec<String>)> = f
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                part_names(f),
            )
        })
        .collect();
    let s = |x: &str| x.to_string();
    assert_eq!(
        got,
        [
            (s("binance-sdk-api-secret"), s("critical"), vec![s("key")]),
            (
                s("bybit-sdk-api-secret"),
                s("critical"),
                vec![s("key"), s("secret")]
            ),
        ],
        "{}",
        stderr(&o)
    );
}

#[test]
fn ccxt_and_bot_configs_are_rated_by_the_exchange_rule() {
    let t = TestDir::new();
    let kucoin_pass = "Tr4dp7CX2tsi!";
    // Python, JS, PHP and Go forms of ccxt: the exchange is the class.
    t.write(
        "a.py",
        format!(
            "import ccxt\nexchange = ccxt.bybit({{\n    'apiKey': '{BYBIT_KEY}',\n    'secret': '{BYBIT_SECRET}',\n}})\n"
        ),
    );
    t.write(
        "b.js",
        format!(
            "const ccxt = require('ccxt');\nconst ex = new ccxt.binance({{\n  apiKey: '{BINANCE_KEY}',\n  secret: '{BINANCE_SECRET}',\n}});\n"
        ),
    );
    t.write(
        "c.php",
        format!(
            "<?php\n$ex = new \\ccxt\\bybit(array(\n    'apiKey' => '{BYBIT_KEY}',\n    'secret' => '{BYBIT_SECRET}',\n));\n"
        ),
    );
    t.write(
        "d.go",
        format!(
            "ex := ccxt.NewBinance(map[string]interface{{}}{{\n\t\"apiKey\": \"{BINANCE_KEY}\",\n\t\"secret\": \"{BINANCE_SECRET}\",\n}})\n"
        ),
    );
    // freqtrade: the exchange is named by the config's structure. A KuCoin key id whose first
    // bytes are no plausible ObjectId timestamp is still part of the finding.
    t.write(
        "user_data/config.json",
        format!(
            "{{\n  \"exchange\": {{\n    \"name\": \"kucoin\",\n    \"key\": \"e4b1f9a2c3d7086b5a9e1f2c\",\n    \"secret\": \"{KUCOIN_SECRET}\",\n    \"password\": \"{kucoin_pass}\",\n    \"ccxt_config\": {{}}\n  }}\n}}\n"
        ),
    );
    // Hummingbot connector config.
    t.write(
        "conf/connectors/bybit.yml",
        format!("connector: bybit\nbybit_api_key: {BYBIT_KEY}\nbybit_api_secret: {BYBIT_SECRET}\n"),
    );
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    let f = findings(&o);
    let got: Vec<(String, String, String, Vec<String>)> = f
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                part_names(f),
            )
        })
        .collect();
    let s = |x: &str| x.to_string();
    let ks = || vec![s("key"), s("secret")];
    assert_eq!(
        got,
        [
            (s("a.py"), s("bybit-api-secret"), s("critical"), ks()),
            (s("b.js"), s("binance-api-secret"), s("critical"), ks()),
            (s("c.php"), s("bybit-api-secret"), s("critical"), ks()),
            (
                s("conf/connectors/bybit.yml"),
                s("bybit-api-secret"),
                s("critical"),
                ks()
            ),
            (s("d.go"), s("binance-api-secret"), s("critical"), ks()),
            (
                s("user_data/config.json"),
                s("kucoin-api-secret"),
                s("critical"),
                vec![s("key"), s("secret"), s("passphrase")]
            ),
        ],
        "{}",
        stderr(&o)
    );
}
