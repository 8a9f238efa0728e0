//! Living with findings: keyleak.toml, allowlists, inline allow, .keyleakignore, baselines.

use crate::util::*;
use predicates::prelude::*;

const OTHER_KEY: &str = "AKIAZ7XQ4RTWYP3MB2KD";

fn ids(o: &std::process::Output) -> Vec<String> {
    findings(o)
        .iter()
        .map(|f| format!("{}:{}", f["path"].as_str().unwrap(), f["line"]))
        .collect()
}

#[test]
fn config_is_discovered_at_the_root() {
    for name in ["keyleak.toml", ".keyleak.toml"] {
        let t = TestDir::new();
        t.write(name, "[allow]\npaths = [\"fixtures/**\"]\n");
        t.write("fixtures/a.txt", AWS_KEY);
        t.write("src/b.txt", AWS_KEY);
        let o = t
            .keyleak()
            .args(["dir", ".", "-f", "json"])
            .output()
            .unwrap();
        assert_eq!(ids(&o), ["src/b.txt:1"], "{name}");
        assert!(
            stderr(&o).contains("suppressed 1 by allowed path"),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn explicit_config_overrides_discovery() {
    let t = TestDir::new();
    t.write("keyleak.toml", "[allow]\npaths = [\"**\"]\n");
    t.write("other.toml", "[allow]\npaths = []\n");
    t.write("a.txt", AWS_KEY);
    t.keyleak().args(["dir", "."]).assert().code(0);
    t.keyleak()
        .args(["dir", ".", "-c", "other.toml"])
        .assert()
        .code(1);
    t.keyleak()
        .args(["dir", ".", "-c", "missing.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing.toml"));
}

#[test]
fn allow_regexes_stopwords_and_fingerprints() {
    let t = TestDir::new();
    t.write("a.txt", format!("{AWS_KEY}\n{OTHER_KEY}\n"));
    t.write("keyleak.toml", "[allow]\nregexes = ['''^AKIAQ3''']\n");
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(ids(&o), ["a.txt:2"]);

    t.write("keyleak.toml", "[allow]\nstopwords = [\"p3mb\"]\n");
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(ids(&o), ["a.txt:1"]);

    let fp = findings(&o)[0]["fingerprint"].as_str().unwrap().to_string();
    t.write(
        "keyleak.toml",
        format!("[allow]\nstopwords = [\"p3mb\"]\nfingerprints = [\"{fp}\"]\n"),
    );
    t.keyleak()
        .args(["dir", "."])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("1 by ignored fingerprint"));
}

#[test]
fn scan_exclude_never_reads_the_path() {
    let t = TestDir::new();
    t.write(
        "keyleak.toml",
        "[scan]\nexclude = [\"vendor/**\", \"*.min.js\"]\nmax_file_size = \"1KiB\"\n",
    );
    t.write("vendor/x/a.txt", AWS_KEY);
    t.write("web/app.min.js", AWS_KEY);
    t.write("big.txt", "x".repeat(2048));
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("too large"),
        "max_file_size from config applies"
    );
}

/// An excluded directory is pruned by the walk, not listed and then filtered: a FIFO posing as
/// its `.ignore` (which the walk reads for every directory it lists) is never touched, so it
/// is not in the skip counts, and the scan does not hang on it either.
#[cfg(unix)]
#[test]
fn excluded_directories_are_never_listed() {
    let t = TestDir::new();
    t.write(
        "keyleak.toml",
        "[scan]\nexclude = [\"vendor/**\", \"deps/\", \"*.gen\", \"!keep.gen\", \"#odd\"]\n",
    );
    for d in ["vendor", "deps", "src/deps"] {
        t.write(&format!("{d}/a.txt"), AWS_KEY);
        let ok = std::process::Command::new("mkfifo")
            .arg(t.path().join(d).join(".ignore"))
            .status()
            .unwrap()
            .success();
        assert!(ok, "mkfifo");
    }
    t.write("x.gen", AWS_KEY);
    t.write("keep.gen", AWS_KEY);
    t.write("#odd", AWS_KEY);
    t.write("open.txt", AWS_KEY);
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut paths: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    paths.sort();
    // `deps/` has no `/` before its end, so it matches at any depth; `!keep.gen` re-includes.
    assert_eq!(paths, ["keep.gen", "open.txt"]);
    assert_eq!(v["skipped"], serde_json::json!([]), "{}", stderr(&o));
    // Without the exclusions the same tree reads those directories (and their FIFO `.ignore`
    // files are reported, not opened), so the test above can tell pruning from filtering.
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json", "--no-config"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["skipped"].as_array().unwrap().len(), 3, "{}", stdout(&o));
    assert_eq!(v["findings"].as_array().unwrap().len(), 7);
}

/// A path named on the command line under an excluded directory is still excluded, and the
/// glob dialect is checked at load time.
#[test]
fn excluded_paths_named_directly_and_invalid_globs() {
    let t = TestDir::new();
    // In a work tree the config at its top applies to paths below it.
    t.git(&["init", "-q"]);
    t.write("keyleak.toml", "[scan]\nexclude = [\"vendor/**\"]\n");
    t.write("vendor/a/b.txt", AWS_KEY);
    t.keyleak().args(["dir", "vendor/a/b.txt"]).assert().code(0);
    t.keyleak().args(["dir", "vendor/a"]).assert().code(0);
    t.keyleak()
        .args(["dir", "vendor/a", "--no-config"])
        .assert()
        .code(1);
    t.write("keyleak.toml", "[scan]\nexclude = [\"ok\", \"a[b\"]\n");
    t.keyleak()
        .args(["dir", "."])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "keyleak.toml:2:18: invalid glob: unclosed character class",
        ));
}

#[test]
fn rules_disable_enable_only_and_severity() {
    let t = TestDir::new();
    t.write("a.txt", AWS_KEY);
    t.write(
        "keyleak.toml",
        "[rules]\ndisable = [\"aws-access-key-id\"]\n",
    );
    t.keyleak().args(["dir", "."]).assert().code(0);
    t.write(
        "keyleak.toml",
        "[rules]\nseverity = { \"aws-access-key-id\" = \"low\" }\n",
    );
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "low is below the default --fail-on medium"
    );
    assert_eq!(findings(&o)[0]["severity"], "low");
    t.write(
        "keyleak.toml",
        "[rules]\nenable_only = [\"aws-access-key-id\"]\n",
    );
    t.keyleak().args(["dir", "."]).assert().code(1);
    t.write("keyleak.toml", "[rules]\ndisable = [\"no-such-rule\"]\n");
    t.keyleak()
        .args(["dir", "."])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "keyleak.toml:2:12: unknown rule id `no-such-rule`",
        ));
}

const CUSTOM: &str = r#"
[[rule]]
id = "acme-token"
name = "ACME internal token"
keywords = ["acme_"]
regex = '''\b(?P<secret>acme_[A-Za-z0-9]{24})\b'''
severity = "critical"
confidence = "high"
remediation = "Revoke it in the ACME console."
examples = ["t = acme_Q8fz2LmP0vX7nR4tYw1KcJ9e", "acme_Hs3UaB6dQ8fz2LmP0vX7nR4t"]
negative_examples = ["acme_short", "xacme_Q8fz2LmP0vX7nR4tYw1KcJ9e"]
"#;

#[test]
fn custom_rules_scan_and_test() {
    let t = TestDir::new();
    t.write("keyleak.toml", CUSTOM);
    t.write("a.py", "TOKEN = 'acme_Q8fz2LmP0vX7nR4tYw1KcJ9e'\n");
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(findings(&o)[0]["rule_id"], "acme-token");
    assert_eq!(findings(&o)[0]["severity"], "critical");
    t.keyleak()
        .args(["rules", "test", "-c", "keyleak.toml"])
        .assert()
        .code(0);
    t.keyleak()
        .args(["rules", "show", "acme-token", "-c", "keyleak.toml"])
        .assert()
        .stdout(predicate::str::contains("Revoke it in the ACME console."));
    t.write(
        "keyleak.toml",
        CUSTOM.replace("\"acme_short\"", "\"acme_Q8fz2LmP0vX7nR4tYw1KcJ9f\""),
    );
    t.keyleak()
        .args(["rules", "test", "-c", "keyleak.toml"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "FAIL acme-token (keyleak.toml): negative example matches",
        ));
}

#[test]
fn malformed_configs_name_file_line_and_column() {
    let cases = [
        (
            "[scan]\nexclud = []\n",
            "keyleak.toml:2:1: unknown field `exclud`",
        ),
        ("[allow]\npaths = \"a\"\n", "keyleak.toml:2:9: invalid type"),
        (
            "[allow]\nregexes = ['(open']\n",
            "keyleak.toml:2:12: invalid allow regex",
        ),
        (
            "[scan]\nmax_file_size = \"huge\"\n",
            "keyleak.toml:2:17: invalid size",
        ),
        (
            "[rules]\nseverity = { x = \"urgent\" }\n",
            "keyleak.toml:2:18: unknown severity `urgent`",
        ),
        (
            &format!("{CUSTOM}{CUSTOM}"),
            "keyleak.toml:13:1: duplicate rule id `acme-token`",
        ),
        (
            &CUSTOM.replace("{24}", "{24"),
            "keyleak.toml:6:9: rule `acme-token`: invalid regex",
        ),
        (
            &CUSTOM.replace("validator", "x").replace(
                "confidence = \"high\"",
                "confidence = \"high\"\nvalidator = \"luhn\"",
            ),
            "keyleak.toml:9:13: unknown validator `luhn`",
        ),
        ("[scan\n", "keyleak.toml:1:6:"),
    ];
    for (text, want) in cases {
        let t = TestDir::new();
        t.write("keyleak.toml", text);
        t.write("a.txt", "clean");
        let o = t.keyleak().args(["dir", "."]).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{text}");
        let err = stderr(&o);
        assert!(
            err.starts_with(&format!("keyleak: error: {want}")),
            "got {err:?}, want {want:?}"
        );
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn inline_allow_in_any_comment_syntax() {
    let t = TestDir::new();
    let lines = [
        format!("key = \"{AWS_KEY}\"  # keyleak:allow"),
        format!("key = \"{AWS_KEY}\"; // keyleak:allow test fixture"),
        format!("key = '{AWS_KEY}' -- keyleak:allow"),
        format!("/* keyleak:allow */ key = \"{AWS_KEY}\""),
        format!("<!-- keyleak:allow --> {AWS_KEY}"),
        format!("key={AWS_KEY} ; keyleak:allow"),
        format!("key = \"{OTHER_KEY}\""),
    ];
    t.write("a.txt", lines.join("\n"));
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json", "-v"])
        .output()
        .unwrap();
    assert_eq!(ids(&o), ["a.txt:7"]);
    let err = stderr(&o);
    assert!(err.contains("suppressed 6 by keyleak:allow"), "{err}");
    assert!(
        err.contains("keyleak: suppressed a.txt:1:8 aws-access-key-id (keyleak:allow)"),
        "{err}"
    );
}

#[test]
fn keyleakignore_file() {
    let t = TestDir::new();
    t.write("a.txt", format!("{AWS_KEY}\n{OTHER_KEY}\n"));
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    let fp = findings(&o)[0]["fingerprint"].as_str().unwrap().to_string();
    t.write(
        ".keyleakignore",
        format!("# reviewed 2026-11-26: rotated\n\n{fp}  # the first one\n"),
    );
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(ids(&o), ["a.txt:2"]);
    t.write(".keyleakignore", "not-a-fingerprint\n");
    t.keyleak()
        .args(["dir", "."])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(".keyleakignore:1:1"));
}

#[test]
fn baseline_from_json_report() {
    let t = TestDir::new();
    t.write("old.txt", AWS_KEY);
    t.keyleak()
        .args(["dir", ".", "-f", "json", "-o", "baseline.json"])
        .assert()
        .code(1);
    // Old secret silenced, exit 0.
    t.keyleak()
        .args(["dir", ".", "--baseline", "baseline.json"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("suppressed 1 by baseline"));
    // A new secret still fails.
    t.write("new.txt", OTHER_KEY);
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json", "--baseline", "baseline.json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(ids(&o), ["new.txt:1"]);
    // --include-suppressed writes both, marking the old one.
    let o = t
        .keyleak()
        .args([
            "dir",
            ".",
            "-f",
            "json",
            "--baseline",
            "baseline.json",
            "--include-suppressed",
        ])
        .output()
        .unwrap();
    let f = findings(&o);
    assert_eq!(f.len(), 2);
    assert!(f.iter().any(|x| x["suppressed"] == "baseline"));
    // Garbage baseline is an error.
    t.write("bad.json", "{\"hello\": 1}");
    t.keyleak()
        .args(["dir", ".", "--baseline", "bad.json"])
        .assert()
        .code(2);
}

#[test]
fn init_writes_once() {
    let t = TestDir::new();
    t.keyleak().arg("init").assert().code(0);
    let text = std::fs::read_to_string(t.path().join("keyleak.toml")).unwrap();
    assert!(text.contains("[allow]"));
    t.keyleak()
        .arg("init")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
    // The starter config is valid.
    t.write("a.txt", "clean");
    t.keyleak().args(["dir", "."]).assert().code(0);
}

#[test]
fn baseline_from_history_silences_a_later_range_scan() {
    let t = TestDir::new();
    t.git(&["init", "-q", "-b", "main"]);
    t.write("old.env", format!("AWS_KEY={AWS_KEY}\n"));
    t.git(&["add", "."]);
    t.git(&["commit", "-qm", "old secret"]);
    // Adopt keyleak: baseline of the whole history.
    t.keyleak()
        .args(["git", ".", "-f", "json", "-o", "baseline.json"])
        .assert()
        .code(1);
    let base = t.git(&["rev-parse", "HEAD"]).trim().to_string();
    // A later change copies the old secret (already accepted) and adds a new one.
    t.write("copy.env", format!("AWS_KEY={AWS_KEY}\n"));
    t.git(&["add", "copy.env"]);
    t.git(&["commit", "-qm", "copy"]);
    let range = format!("{base}..HEAD");
    t.keyleak()
        .args(["git", ".", "--range", &range, "--baseline", "baseline.json"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("suppressed 1 by baseline"));
    t.write("new.env", format!("AWS_KEY={OTHER_KEY}\n"));
    t.git(&["add", "new.env"]);
    t.git(&["commit", "-qm", "new"]);
    let o = t
        .keyleak()
        .args([
            "git",
            ".",
            "--range",
            &range,
            "--baseline",
            "baseline.json",
            "-f",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(ids(&o), ["new.env:1"]);
}

/// `[scan] exclude` in history: a finding only in an excluded path is dropped, one in another
/// path is kept, and a blob that is at an excluded path in one commit and at a scanned path in
/// another is still reported.
#[test]
fn scan_exclude_applies_to_history() {
    let t = TestDir::new();
    t.git(&["init", "-q", "-b", "main"]);
    t.write("keyleak.toml", "[scan]\nexclude = [\"vendor/**\"]\n");
    t.write(
        "vendor/lib/conf.env",
        format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n"),
    );
    t.write(
        "vendor/moved.env",
        format!("AWS_ACCESS_KEY_ID={AWS_KEY_2}\n"),
    );
    t.git(&["add", "."]);
    t.git(&["commit", "-qm", "vendored"]);
    t.git(&["mv", "vendor/moved.env", "app.env"]);
    t.git(&["commit", "-qm", "moved out of vendor"]);
    let o = t
        .keyleak()
        .args(["git", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let paths: Vec<String> = findings(&o)
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths, ["app.env"], "{}", stdout(&o));
}
