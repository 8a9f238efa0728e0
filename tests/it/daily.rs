//! Everyday output: each rule's fix once, the compact view, severity order and the display
//! filter, the blocked commit's next steps, skipped-file buckets and the archive member limit,
//! PEM key types, plurals.

use std::io::{Cursor, Write};

use crate::util::*;

/// A tree with two AWS key ids (high), a PEM key (high) and a known public test key (low).
fn tree() -> TestDir {
    let t = TestDir::new();
    t.write("a.env", format!("K1={AWS_KEY}\nK2={AWS_KEY_2}\n"));
    t.write(
        "keys/id_rsa",
        "-----BEGIN RSA PRIVATE KEY-----\n\
         MIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF0qJKkBNn7Vx7Z5BBhxKQhJ2V8Pq\n\
         vK3Nw7BUNi5UJtXWMRf8dbl1yJKaD6GPNSVdwWqHHp8U0IQMDm2w8fPA5tMMl4E8\n\
         -----END RSA PRIVATE KEY-----\n",
    );
    // The AWS documentation's example key id: a known public test key, reported low.
    t.write("docs.md", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n");
    t
}

fn scan(t: &TestDir, args: &[&str]) -> std::process::Output {
    t.keyleak().args(["dir", "."]).args(args).output().unwrap()
}

#[test]
fn text_shows_each_rules_fix_once() {
    let t = tree();
    let out = scan(&t, &["--color", "never"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    // The AWS fix paragraph appears once for its three findings, in the closing section.
    let (findings, fixes) = text.split_once("How to fix\n").expect(&text);
    assert!(!findings.contains("CloudTrail"), "{text}");
    assert_eq!(fixes.matches("CloudTrail").count(), 1, "{text}");
    assert!(fixes.contains("aws-access-key-id (3 findings)"), "{fixes}");
    assert!(fixes.contains("pem-private-key (1 finding)"), "{fixes}");
    assert!(fixes.contains("keyleak:allow"), "{fixes}");
    // Wrapped: no line of the section runs past 100 columns.
    for l in fixes.lines() {
        assert!(l.chars().count() <= 100, "{l}");
    }
    // A PEM finding names the key type.
    assert!(
        findings.contains("secret       -----BEGIN RSA PRIVATE KEY-----…"),
        "{findings}"
    );
}

#[test]
fn compact_is_one_line_per_finding() {
    let t = tree();
    let out = scan(&t, &["-f", "compact", "--color", "never"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("high     a.env:1:4  aws-access-key-id  AKIA…  ")),
        "{text}"
    );
    assert!(
        lines.iter().any(|l| l.ends_with("(known public test key)")),
        "{text}"
    );
    assert!(!text.contains(AWS_KEY));
}

#[test]
fn sort_by_severity_and_min_severity_display_filter() {
    let t = tree();
    let out = scan(&t, &["-f", "json", "--sort", "severity"]);
    let sev: Vec<String> = findings(&out)
        .iter()
        .map(|f| f["severity"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sev, ["high", "high", "high", "low"]);
    // Path order by default: docs.md (low) comes first.
    let out = scan(&t, &["-f", "json"]);
    assert_eq!(findings(&out)[0]["path"], "a.env");
    assert_eq!(findings(&out)[2]["path"], "docs.md");

    // --min-severity hides, --fail-on still decides.
    let out = scan(&t, &["-f", "json", "--min-severity", "high"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(findings(&out).len(), 3);
    assert!(
        stderr(&out).contains("1 finding below --min-severity high not shown"),
        "{}",
        stderr(&out)
    );
    let out = scan(&t, &["--min-severity", "critical"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "hidden findings still fail the scan"
    );
    assert_eq!(stdout(&out), "");
    let out = scan(&t, &["--min-severity", "critical", "--fail-on", "critical"]);
    assert_eq!(out.status.code(), Some(0));
    let out = scan(&t, &["--min-severity", "severe"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--min-severity"), "{}", stderr(&out));
    let out = scan(&t, &["--sort", "random"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn blocked_commit_ends_with_next_steps() {
    let t = TestDir::new();
    t.git(&["init", "-q"]);
    t.write("app.env", format!("KEY={AWS_KEY}\n"));
    t.git(&["add", "app.env"]);
    let out = t
        .keyleak()
        .args(["git", "--staged", "--no-progress"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let steps = &err[err.find("keyleak: commit blocked").expect(&err)..];
    insta::assert_snapshot!(steps);
    // Only a blocked pre-commit scan prints them.
    let out = t.keyleak().args(["dir", "."]).output().unwrap();
    assert!(!stderr(&out).contains("commit blocked"));
}

#[test]
fn plural_forms() {
    let t = TestDir::new();
    t.git(&["init", "-q"]);
    t.write("a.txt", "hello\n");
    t.git(&["add", "."]);
    t.git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@e",
        "commit",
        "-qm",
        "one",
    ]);
    let err = stderr(&t.keyleak().args(["git", "."]).output().unwrap());
    assert!(err.contains("scanned 1 blob (6 B)"), "{err}");
    assert!(err.contains(", 1 commit\n"), "{err}");
    let t = TestDir::new();
    t.write("docs.md", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n");
    let err = stderr(&t.keyleak().args(["dir", "."]).output().unwrap());
    assert!(
        err.contains("1 known public test key does not fail the scan"),
        "{err}"
    );
}

fn zip_with(n: usize, secret_last: bool) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..n {
        w.start_file(format!("m{i}.txt"), opts).unwrap();
        if secret_last && i == n - 1 {
            writeln!(w, "KEY={AWS_KEY}").unwrap();
        } else {
            w.write_all(b"x\n").unwrap();
        }
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn skipped_summary_buckets_by_reason_and_member_limit_flag() {
    let t = TestDir::new();
    t.write("one.zip", zip_with(10_050, true));
    t.write("two.zip", zip_with(10_200, false));
    t.write("big.txt", vec![b'a'; 5 << 20]);
    t.write("bin.dat", b"\0\x01\x02binary");
    let out = t
        .keyleak()
        .args(["dir", ".", "--max-file-size", "4MiB", "-f", "json"])
        .output()
        .unwrap();
    let err = stderr(&out);
    let summary = err.lines().next().unwrap();
    // One bucket per reason, whatever the archive sizes.
    assert!(
        summary.contains("; skipped 4 (1 binary, 2 over the archive member limit, 1 too large)"),
        "{err}"
    );
    assert!(err.contains("--max-archive-members"), "{err}");
    assert_eq!(findings(&out).len(), 0, "the key is past the limit");
    // Raising the limit scans every member and finds the key in the last one.
    let out = t
        .keyleak()
        .args(["dir", ".", "--max-archive-members", "20000", "-f", "json"])
        .output()
        .unwrap();
    let f = findings(&out);
    assert_eq!(f.len(), 1, "{}", stderr(&out));
    assert!(
        f[0]["path"].as_str().unwrap().starts_with("one.zip"),
        "{f:?}"
    );
    assert!(!stderr(&out).contains("members"), "{}", stderr(&out));
}

/// A history finding says whether HEAD still holds the secret at its path: the next step
/// differs (delete it from the code too, or only rotate it).
#[test]
fn history_findings_say_whether_the_secret_is_still_at_head() {
    let t = TestDir::new();
    t.git(&["init", "-q"]);
    let commit = |msg: &str| {
        t.git(&["add", "-A"]);
        t.git(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-qm",
            msg,
        ]);
    };
    t.write("gone.env", format!("KEY={AWS_KEY}\n"));
    t.write("kept.env", format!("KEY={AWS_KEY_2}\n"));
    commit("add");
    t.write("gone.env", "KEY=\n");
    commit("remove one");
    let out = t
        .keyleak()
        .args(["git", ".", "-f", "json"])
        .output()
        .unwrap();
    let f = findings(&out);
    let at = |p: &str| {
        f.iter()
            .find(|x| x["path"] == p)
            .unwrap_or_else(|| panic!("{p}: {f:?}"))["present_at_head"]
            .clone()
    };
    assert_eq!(at("gone.env"), serde_json::json!(false));
    assert_eq!(at("kept.env"), serde_json::json!(true));
    let text = stdout(
        &t.keyleak()
            .args(["git", ".", "--color", "never"])
            .output()
            .unwrap(),
    );
    assert!(
        text.contains("no longer in this file at HEAD, but still in the history"),
        "{text}"
    );
    assert!(
        text.contains("still in this file at HEAD: delete it from the code"),
        "{text}"
    );
    // Staged scans have no history to speak of.
    t.write("new.env", format!("KEY={AWS_KEY}\n"));
    t.git(&["add", "new.env"]);
    let out = t
        .keyleak()
        .args(["git", "--staged", "-f", "json"])
        .output()
        .unwrap();
    assert!(findings(&out)[0].get("present_at_head").is_none());
}
