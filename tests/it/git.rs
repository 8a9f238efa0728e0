//! `keyleak git`: history, `--staged` and `--range` over real repositories built with the real
//! `git` command line, including the hard cases SPEC's "Bad input" names.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use crate::util::*;
use predicates::prelude::*;

const OTHER_KEY: &str = "AKIAZ7XQ4RTWYP3MB2KD";
const THIRD_KEY: &str = "AKIAJ5KQ7HZ2WRT6BXLE";
/// Lines that keep two secrets of one file from being grouped as parts of one credential.
const GAP: &str = "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n";

/// A fresh repository on branch `main`.
fn repo() -> TestDir {
    let t = TestDir::new();
    t.git(&["init", "-q", "-b", "main"]);
    t
}

/// Commits everything (also deletions) and returns the new commit id.
fn commit(t: &TestDir, msg: &str) -> String {
    t.git(&["add", "-A"]);
    t.git(&["commit", "-q", "--allow-empty", "-m", msg]);
    head(t)
}

/// Runs git with the test identity plus `env`, returning its output even on failure.
fn git_env(t: &TestDir, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = std::process::Command::new("git");
    c.args(args)
        .current_dir(t.path())
        .env("HOME", t.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.com");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("git runs")
}

fn head(t: &TestDir) -> String {
    t.git(&["rev-parse", "HEAD"]).trim().to_string()
}

fn scan(t: &TestDir, extra: &[&str]) -> Output {
    let mut args = vec!["git", ".", "-f", "json", "--no-progress"];
    args.extend_from_slice(extra);
    t.keyleak().args(&args).output().unwrap()
}

/// `path → commit` of every finding, sorted.
fn located(o: &Output) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = findings(o)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["commit"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

/// Hash of every file under `.git`, to prove a scan wrote nothing.
fn snapshot_git_dir(root: &Path) -> BTreeMap<String, Vec<u8>> {
    use sha2::{Digest, Sha256};
    let mut out = BTreeMap::new();
    let mut stack = vec![root.join(".git")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                out.insert(
                    p.strip_prefix(root).unwrap().display().to_string(),
                    Sha256::digest(&bytes).to_vec(),
                );
            }
        }
    }
    out
}

#[test]
fn history_attributes_the_introducing_commit() {
    let t = repo();
    t.write("README.md", "hello\n");
    commit(&t, "init");
    t.write(
        "config/app.env",
        format!("# creds\nAWS_ACCESS_KEY_ID={AWS_KEY}\n"),
    );
    let added = commit(&t, "add creds");
    t.write("README.md", "hello again\n");
    commit(&t, "later");
    let o = scan(&t, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let f = findings(&o);
    assert_eq!(f.len(), 1, "{}", stdout(&o));
    let f = &f[0];
    assert_eq!(f["path"], "config/app.env");
    assert_eq!(f["line"], 2);
    assert_eq!(f["commit"], added.as_str());
    assert_eq!(f["author"], "Test Author");
    assert_eq!(f["email"], "author@example.com");
    let date = f["date"].as_str().unwrap();
    assert!(
        date.len() == 25 && &date[10..11] == "T" && (date.ends_with(":00") || date.contains('+')),
        "not RFC 3339: {date}"
    );
    let blob = t.git(&["rev-parse", "HEAD:config/app.env"]);
    assert_eq!(f["blob"], blob.trim());
    assert!(!stdout(&o).contains(AWS_KEY));
    assert!(stderr(&o).contains("3 commits"), "{}", stderr(&o));
}

#[test]
fn clean_history_exits_0() {
    let t = repo();
    t.write("a.txt", "nothing here\n");
    commit(&t, "init");
    t.keyleak().args(["git", "."]).assert().code(0);
}

#[test]
fn empty_repository_is_clean() {
    let t = repo();
    let o = scan(&t, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(findings(&o).is_empty());
    // Staged with nothing staged and an unborn HEAD: also clean.
    assert_eq!(scan(&t, &["--staged"]).status.code(), Some(0));
}

#[test]
fn unborn_head_staged_reports_everything_staged() {
    let t = repo();
    t.write("a.txt", format!("one\ntwo\nkey={AWS_KEY}\n"));
    t.git(&["add", "a.txt"]);
    let o = scan(&t, &["--staged"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let f = findings(&o);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["path"], "a.txt");
    assert_eq!(f[0]["line"], 3);
    assert!(f[0].get("commit").is_none_or(|c| c.is_null()), "{}", f[0]);
    // History has no commit yet: nothing to scan, not an error.
    assert_eq!(scan(&t, &[]).status.code(), Some(0));
}

#[test]
fn detached_head_commits_are_scanned() {
    let t = repo();
    t.write("a.txt", "x\n");
    commit(&t, "init");
    t.git(&["checkout", "-q", "--detach"]);
    t.write("b.txt", format!("{AWS_KEY}\n"));
    let detached = commit(&t, "only on a detached HEAD");
    let o = scan(&t, &[]);
    assert_eq!(located(&o), [("b.txt".to_string(), detached)]);
}

#[test]
fn stash_is_scanned() {
    let t = repo();
    t.write("a.txt", "x\n");
    commit(&t, "init");
    t.write("a.txt", format!("x\n{AWS_KEY}\n"));
    t.git(&["stash", "-q"]);
    let o = scan(&t, &[]);
    assert_eq!(findings(&o).len(), 1, "{}", stdout(&o));
}

#[test]
fn shallow_clone_stops_cleanly_with_a_note() {
    let origin = repo();
    origin.write("old.txt", format!("{AWS_KEY}\n"));
    commit(&origin, "one");
    origin.write("a.txt", "a\n");
    commit(&origin, "two");
    origin.write("b.txt", format!("{OTHER_KEY}\n"));
    let tip = commit(&origin, "three");
    let t = TestDir::new();
    let url = format!("file://{}", origin.path().display());
    t.git(&["clone", "-q", "--depth", "1", &url, "c"]);
    let c = t.path().join("c");
    let o = t
        .keyleak()
        .args(["git", "c", "-f", "json", "--no-progress"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // Both files exist at the boundary, which is all the history there is.
    let got = located(&o);
    assert_eq!(
        got,
        [
            ("b.txt".into(), tip.clone()),
            ("old.txt".into(), tip.clone())
        ]
    );
    let notes = json(&o)["notes"].to_string();
    assert!(notes.contains("shallow clone: history before"), "{notes}");
    assert!(notes.contains(&tip[..12]), "{notes}");
    assert!(
        stderr(&o).contains("warning: shallow clone"),
        "{}",
        stderr(&o)
    );
    // A range whose base was not fetched: exit 2, and say how to fix it.
    let base = git_in(origin.path(), &["rev-parse", "HEAD~2"]);
    let range = format!("{}..HEAD", base.trim());
    t.keyleak()
        .args(["git", "c", "--range", &range])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("fetch more history")
                .and(predicate::str::contains("fetch-depth: 0")),
        );
    assert!(c.join(".git/shallow").exists());
}

#[test]
fn submodule_gitlink_is_not_an_error() {
    let sub = repo();
    sub.write("inside.txt", format!("{OTHER_KEY}\n"));
    commit(&sub, "sub");
    let t = repo();
    t.write("a.txt", format!("{AWS_KEY}\n"));
    commit(&t, "init");
    let url = sub.path().display().to_string();
    t.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        &url,
        "vendor/sub",
    ]);
    commit(&t, "add submodule");
    let o = scan(&t, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // The submodule's own history is another repository: only a.txt is found.
    let paths: Vec<String> = located(&o).into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["a.txt"]);
    assert_eq!(
        json(&o)["skipped"].as_array().unwrap().len(),
        0,
        "{}",
        stdout(&o)
    );
    // Staging a submodule bump is not an error either.
    assert_eq!(scan(&t, &["--staged"]).status.code(), Some(0));
}

#[test]
fn secret_added_in_a_merge_resolution_is_found() {
    let t = repo();
    t.write("conf.txt", "key = none\n");
    let base = commit(&t, "base");
    t.git(&["checkout", "-q", "-b", "feature"]);
    t.write("conf.txt", "key = feature\n");
    t.write("feature.txt", format!("{OTHER_KEY}\n"));
    let feature = commit(&t, "feature");
    t.git(&["checkout", "-q", "main"]);
    t.write("conf.txt", "key = main\n");
    commit(&t, "main");
    let out = git_env(&t, &["merge", "-q", "feature"], &[]);
    assert!(!out.status.success(), "expected a conflict");
    assert!(t.path().join(".git/MERGE_HEAD").exists());
    t.write("conf.txt", format!("key = {AWS_KEY}\n"));
    let merge = commit(&t, "merge with a secret in the resolution");

    let o = scan(&t, &[]);
    assert_eq!(
        located(&o),
        [
            ("conf.txt".into(), merge.clone()),
            ("feature.txt".into(), feature.clone())
        ]
    );
    // The range adds both, each attributed to the commit that really added it: the merge
    // is not blamed for the lines it brought in from `feature`.
    let o = scan(&t, &["--range", &format!("{base}..HEAD")]);
    assert_eq!(
        located(&o),
        [
            ("conf.txt".into(), merge.clone()),
            ("feature.txt".into(), feature)
        ]
    );
    // The merge commit alone adds only its resolution.
    let o = scan(&t, &["--range", &merge]);
    assert_eq!(located(&o), [("conf.txt".into(), merge)]);
}

#[test]
fn secret_added_then_deleted() {
    let t = repo();
    t.write("a.txt", "x\n");
    commit(&t, "init");
    t.write("a.txt", format!("x\n{AWS_KEY}\n"));
    let added = commit(&t, "oops");
    t.write("a.txt", "x\n");
    let removed = commit(&t, "remove");
    let o = scan(&t, &[]);
    assert_eq!(located(&o), [("a.txt".into(), added.clone())]);
    assert_eq!(findings(&o)[0]["line"], 2);
    // The deleting commit adds nothing.
    assert_eq!(scan(&t, &["--range", &removed]).status.code(), Some(0));
    // The range over both still reports the addition.
    let o = scan(&t, &["--range", "HEAD~2..HEAD"]);
    assert_eq!(located(&o), [("a.txt".into(), added)]);
}

#[test]
fn same_secret_in_three_branches_has_one_fingerprint() {
    let t = repo();
    t.write("README", "r\n");
    commit(&t, "init");
    let mut want = Vec::new();
    for (i, b) in ["one", "two", "three"].iter().enumerate() {
        t.git(&["checkout", "-q", "-b", b, "main"]);
        // Different files around the same secret: three blobs, three locations.
        let path = format!("{b}/cfg.txt");
        t.write(&path, format!("{}\nkey={AWS_KEY}\n", "#".repeat(i + 1)));
        want.push((path, commit(&t, b)));
    }
    t.git(&["checkout", "-q", "main"]);
    let o = scan(&t, &[]);
    want.sort();
    assert_eq!(located(&o), want);
    let fps: std::collections::HashSet<String> = findings(&o)
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fps.len(), 1);
    // --branch limits the refs walked.
    let o = scan(&t, &["--branch", "two"]);
    assert_eq!(located(&o).len(), 1);
    assert_eq!(located(&o)[0].0, "two/cfg.txt");
    assert_eq!(scan(&t, &["--branch", "nope"]).status.code(), Some(2));
}

#[test]
fn one_blob_at_two_paths_is_two_findings() {
    let t = repo();
    t.write("a.txt", format!("{AWS_KEY}\n"));
    let first = commit(&t, "one");
    t.write("copy/a.txt", format!("{AWS_KEY}\n"));
    let second = commit(&t, "two");
    let o = scan(&t, &[]);
    assert_eq!(
        located(&o),
        [("a.txt".into(), first), ("copy/a.txt".into(), second)]
    );
    assert!(stderr(&o).contains("scanned 1 blob "), "{}", stderr(&o));
}

#[cfg(unix)]
#[test]
fn non_utf8_paths_and_contents() {
    use std::os::unix::ffi::OsStrExt;
    let t = repo();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    // Invalid UTF-8 (but no byte-order mark, which would make it UTF-16).
    let mut content = b"\xfd\xfe\xff garbage \xc3\x28 key=".to_vec();
    content.extend_from_slice(AWS_KEY.as_bytes());
    content.extend_from_slice(b" \xe9\n");
    std::fs::write(t.path().join(name), &content).unwrap();
    let c = commit(&t, "latin-1 name");
    let o = scan(&t, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(located(&o), [("caf\u{fffd}.txt".into(), c)]);
    // Staged and range go through the same path handling.
    assert_eq!(scan(&t, &["--range", "HEAD"]).status.code(), Some(1));
}

#[test]
fn renamed_file_keeps_the_adding_commit() {
    let t = repo();
    t.write("a.txt", format!("one\n{AWS_KEY}\nthree{GAP}\n"));
    let added = commit(&t, "add");
    t.git(&["mv", "a.txt", "b.txt"]);
    let renamed = commit(&t, "rename");
    // History: the secret was introduced at a.txt by `added`; b.txt is a new location of the
    // same blob, introduced by the rename.
    let o = scan(&t, &[]);
    assert_eq!(
        located(&o),
        [
            ("a.txt".into(), added.clone()),
            ("b.txt".into(), renamed.clone())
        ]
    );
    // A rename adds no line.
    assert_eq!(scan(&t, &["--range", &renamed]).status.code(), Some(0));
    // A rename with an edit elsewhere in the file reports only the edited line's secrets.
    t.git(&["mv", "b.txt", "c.txt"]);
    t.write(
        "c.txt",
        format!("one\n{AWS_KEY}\nthree{GAP}\nfour {OTHER_KEY}\n"),
    );
    t.git(&["add", "-A"]);
    let o = scan(&t, &["--staged"]);
    let f = findings(&o);
    assert_eq!(f.len(), 1, "{}", stdout(&o));
    assert_eq!(f[0]["path"], "c.txt");
    assert_eq!(f[0]["line"], 34);
    // A mode change adds nothing either.
    t.git(&["reset", "-q", "--hard"]);
    t.git(&["update-index", "--chmod=+x", "b.txt"]);
    assert_eq!(scan(&t, &["--staged"]).status.code(), Some(0));
}

#[cfg(unix)]
#[test]
fn corrupt_loose_object_is_skipped_and_the_scan_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let t = repo();
    t.write("good.txt", format!("{AWS_KEY}\n"));
    t.write("bad.txt", format!("{OTHER_KEY}\n"));
    commit(&t, "two files");
    let blob = t.git(&["rev-parse", "HEAD:bad.txt"]);
    let blob = blob.trim();
    let obj = t
        .path()
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    std::fs::set_permissions(&obj, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&obj, b"this is not a zlib stream at all").unwrap();
    let o = scan(&t, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(located(&o).len(), 1);
    assert_eq!(located(&o)[0].0, "good.txt");
    let skipped = json(&o)["skipped"].as_array().unwrap().clone();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(
        skipped[0]["path"].as_str().unwrap().ends_with(":bad.txt"),
        "{skipped:?}"
    );
    assert!(
        skipped[0]["reason"].as_str().unwrap().contains("corrupt"),
        "{skipped:?}"
    );
}

#[test]
fn not_a_repository_exits_2() {
    let t = TestDir::new();
    t.write("a.txt", AWS_KEY);
    t.keyleak()
        .args(["git", "."])
        .env("GIT_CEILING_DIRECTORIES", t.path().parent().unwrap())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a git repository"));
}

#[test]
fn bad_revisions_exit_2() {
    let t = repo();
    t.write("a.txt", "x\n");
    commit(&t, "init");
    for spec in ["nope", "nope..HEAD", "HEAD..nope", "main...nope"] {
        t.keyleak()
            .args(["git", ".", "--range", spec])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("bad revision `nope`"));
    }
    t.keyleak()
        .args(["git", ".", "--since", "last tuesday"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--since"));
}

#[test]
fn staged_reports_only_added_lines() {
    let t = repo();
    t.write("a.txt", format!("one\nold={AWS_KEY}\nthree{GAP}\n"));
    t.write("keep.txt", format!("{THIRD_KEY}\n"));
    commit(&t, "init");
    // A secret already in HEAD is not reported again; the new one is, at its staged line.
    t.write(
        "a.txt",
        format!("zero\none\nold={AWS_KEY}\nthree{GAP}\nnew={OTHER_KEY}\n"),
    );
    t.write("new/b.txt", format!("{THIRD_KEY}\n"));
    t.git(&["add", "a.txt", "new/b.txt"]);
    // Unstaged changes are not what the next commit adds.
    t.write("keep.txt", format!("{THIRD_KEY}\n{OTHER_KEY}\n"));
    let o = scan(&t, &["--staged"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let mut got: Vec<(String, u64)> = findings(&o)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [("a.txt".to_string(), 35), ("new/b.txt".to_string(), 1)]
    );
    // Removing lines adds nothing.
    t.git(&["reset", "-q", "--hard"]);
    t.write("a.txt", "one\nthree\n");
    t.git(&["add", "a.txt"]);
    assert_eq!(scan(&t, &["--staged"]).status.code(), Some(0));
}

const PEM_RULE: &str = r#"
[[rule]]
id = "test-pem"
name = "Test PEM block"
keywords = ["-----BEGIN TEST KEY-----"]
regex = '''(?s)(?P<secret>-----BEGIN TEST KEY-----\n[A-Za-z0-9+/=\n]{20,400}?-----END TEST KEY-----)'''
severity = "high"
confidence = "high"
examples = ["-----BEGIN TEST KEY-----\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldY\n-----END TEST KEY-----", "-----BEGIN TEST KEY-----\nMDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1u\n-----END TEST KEY-----"]
negative_examples = ["-----BEGIN TEST KEY-----\n-----END TEST KEY-----", "BEGIN TEST KEY"]
"#;

#[test]
fn staged_multi_line_secret_with_one_changed_line() {
    let t = repo();
    let cfg = TestDir::new();
    let cfg_path = cfg.write("rules.toml", PEM_RULE);
    let cfg_path = cfg_path.to_str().unwrap();
    let pem = |body: &str| {
        format!(
            "intro\n-----BEGIN TEST KEY-----\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldY\n{body}\n-----END TEST KEY-----\n"
        )
    };
    t.write("key.pem", pem("MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1u"));
    commit(&t, "init");
    let o = scan(&t, &["--staged", "-c", cfg_path]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Only the middle of the block changes: the whole block is the new secret.
    t.write("key.pem", pem("Wnl4d3Z1dHNycXBvbm1sa2ppaGdmZWRj"));
    t.git(&["add", "key.pem"]);
    let o = scan(&t, &["--staged", "-c", cfg_path]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let f = findings(&o);
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0]["line"].as_u64(), f[0]["end_line"].as_u64()),
        (Some(2), Some(5))
    );
}

#[test]
fn range_forms() {
    let t = repo();
    t.write("a.txt", format!("{AWS_KEY}\n"));
    commit(&t, "base");
    t.git(&["checkout", "-q", "-b", "pr"]);
    t.write("b.txt", format!("{OTHER_KEY}\n"));
    let pr1 = commit(&t, "pr one");
    t.write("b.txt", format!("{OTHER_KEY}{GAP}\nx={THIRD_KEY}\n"));
    let pr2 = commit(&t, "pr two");
    t.git(&["checkout", "-q", "main"]);
    t.write("main.txt", format!("{THIRD_KEY}\n"));
    let main2 = commit(&t, "main moves on");
    let mut want = [
        ("b.txt".to_string(), pr1.clone()),
        ("b.txt".to_string(), pr2.clone()),
    ];
    want.sort();
    // `main..pr` and `main...pr` both select the pull request's two commits.
    assert_eq!(located(&scan(&t, &["--range", "main..pr"])), want);
    assert_eq!(located(&scan(&t, &["--range", "main...pr"])), want);
    // A single revision: that commit alone.
    let o = scan(&t, &["--range", &pr2]);
    assert_eq!(located(&o), [("b.txt".to_string(), pr2.clone())]);
    assert_eq!(findings(&o)[0]["line"], 32);
    // `pr..main`: only main's new commit.
    assert_eq!(
        located(&scan(&t, &["--range", "pr..main"])),
        [("main.txt".to_string(), main2)]
    );
    // An empty range is clean.
    assert_eq!(scan(&t, &["--range", "pr..pr"]).status.code(), Some(0));
}

#[test]
fn since_and_max_count_limit_commits() {
    let t = repo();
    let at = |date: &str, file: &str, body: String| {
        t.write(file, body);
        t.git(&["add", "-A"]);
        let out = git_env(
            &t,
            &["commit", "-q", "-m", file],
            &[("GIT_AUTHOR_DATE", date), ("GIT_COMMITTER_DATE", date)],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    at(
        "2020-01-01T00:00:00+00:00",
        "old.txt",
        format!("{AWS_KEY}\n"),
    );
    at(
        "2022-01-01T00:00:00+00:00",
        "mid.txt",
        format!("{OTHER_KEY}\n"),
    );
    at(
        "2024-01-01T00:00:00+00:00",
        "new.txt",
        format!("{THIRD_KEY}\n"),
    );
    let paths = |o: &Output| located(o).into_iter().map(|(p, _)| p).collect::<Vec<_>>();
    assert_eq!(paths(&scan(&t, &[])), ["mid.txt", "new.txt", "old.txt"]);
    assert_eq!(
        paths(&scan(&t, &["--since", "2021-06-01"])),
        ["mid.txt", "new.txt"]
    );
    assert_eq!(
        paths(&scan(&t, &["--since", "2023-12-31T23:00:00-02:00"])),
        Vec::<String>::new()
    );
    assert_eq!(paths(&scan(&t, &["--max-count", "1"])), ["new.txt"]);
    assert_eq!(
        paths(&scan(&t, &["--max-count", "2"])),
        ["mid.txt", "new.txt"]
    );
    let o = scan(&t, &["--max-count", "2"]);
    let f = findings(&o);
    let new = f.iter().find(|f| f["path"] == "new.txt").unwrap();
    assert_eq!(new["date"], "2024-01-01T00:00:00+00:00");
}

#[test]
fn binary_and_oversized_blobs_are_skipped() {
    let t = repo();
    let mut bin = b"\0\x01\x02".to_vec();
    bin.extend_from_slice(AWS_KEY.as_bytes());
    t.write("img.bin", bin);
    t.write("big.txt", format!("{}{OTHER_KEY}\n", "a ".repeat(3000)));
    t.write("small.txt", format!("{THIRD_KEY}\n"));
    commit(&t, "files");
    let o = scan(&t, &["--max-file-size", "1KiB"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(located(&o).len(), 1);
    let skipped = json(&o)["skipped"].to_string();
    assert!(
        skipped.contains("img.bin") && skipped.contains("binary"),
        "{skipped}"
    );
    assert!(
        skipped.contains("big.txt") && skipped.contains("too large"),
        "{skipped}"
    );
}

#[test]
fn scans_never_write_to_the_repository() {
    let t = repo();
    t.write("a.txt", format!("{AWS_KEY}\n"));
    commit(&t, "one");
    t.write("b.txt", format!("{OTHER_KEY}\n"));
    commit(&t, "two");
    t.write("c.txt", format!("{THIRD_KEY}\n"));
    t.git(&["add", "c.txt"]);
    // Make the index stat data stale, the case where a refresh would rewrite it.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    t.write("a.txt", format!("{AWS_KEY}\n"));
    let before = snapshot_git_dir(t.path());
    for args in [
        &[][..],
        &["--staged"],
        &["--range", "HEAD~1..HEAD"],
        &["--range", "HEAD"],
    ] {
        let o = scan(&t, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert_eq!(snapshot_git_dir(t.path()), before, "{args:?} changed .git/");
    }
}

#[test]
fn a_path_inside_the_work_tree_finds_the_repository() {
    let t = repo();
    t.write("sub/dir/a.txt", format!("{AWS_KEY}\n"));
    commit(&t, "one");
    let o = t
        .keyleak()
        .args(["git", "sub/dir", "-f", "json"])
        .output()
        .unwrap();
    // Paths stay repository-relative whatever directory was named.
    assert_eq!(located(&o)[0].0, "sub/dir/a.txt");
}

/// Builds the same history (same ids: fixed dates) in `t`: a config file grown over 40
/// commits (delta chains in a pack) with secrets in some versions, a copy of it at a second
/// path, a binary and an oversized blob, and a merged branch. With `pack`, the first 26
/// commits are repacked into one pack, the next 10 into a second, and the rest stay loose.
fn evolving_history(t: &TestDir, pack: bool) {
    let mut n = 0;
    let mut commit_dated = |msg: &str| {
        n += 1;
        let date = format!("{} +0000", 1_600_000_000 + n * 60);
        t.git(&["add", "-A"]);
        let out = git_env(
            t,
            &["commit", "-q", "--allow-empty", "-m", msg],
            &[("GIT_AUTHOR_DATE", &date), ("GIT_COMMITTER_DATE", &date)],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        date
    };
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut words = |k: usize| -> String {
        (0..k)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ["alpha", "beta", "gamma", "delta", "omega", "sigma"][x as usize % 6]
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut body = String::new();
    for i in 0..40 {
        body.push_str(&format!("setting_{i} = \"{}\"\n", words(12)));
        let mut text = body.clone();
        if (10..20).contains(&i) {
            text.push_str(&format!("{GAP}aws = \"{AWS_KEY}\"\n"));
        }
        if i >= 30 {
            text.push_str(&format!("{GAP}other = \"{OTHER_KEY}\"\n"));
        }
        t.write("app/config.py", &text);
        if i == 15 {
            t.write("backup/config.py", &text);
        }
        if i == 5 {
            let mut bin = b"\0\x01\x02".to_vec();
            bin.extend_from_slice(THIRD_KEY.as_bytes());
            t.write("img.bin", bin);
        }
        if i == 8 || i == 12 {
            t.write("big.txt", format!("{}{THIRD_KEY} {i}\n", words(4000)));
        }
        commit_dated(&format!("v{i}"));
        if pack && i == 25 {
            t.git(&["repack", "-adfq", "--depth=50", "--window=50"]);
        }
        if pack && i == 35 {
            t.git(&["repack", "-dq"]);
        }
    }
    t.git(&["checkout", "-qb", "feature"]);
    t.write("feature.txt", format!("{THIRD_KEY}\n"));
    commit_dated("feature");
    t.git(&["checkout", "-q", "main"]);
    t.write("main.txt", "nothing here\n");
    let date = commit_dated("main");
    let out = git_env(
        t,
        &["merge", "-q", "--no-ff", "feature", "-m", "merge"],
        &[("GIT_AUTHOR_DATE", &date), ("GIT_COMMITTER_DATE", &date)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

fn packs(t: &TestDir) -> usize {
    std::fs::read_dir(t.path().join(".git/objects/pack"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "pack"))
                .count()
        })
        .unwrap_or(0)
}

/// History read from packs (the pack-order fast path) reports exactly what it reports from
/// loose objects (libgit2 only): same findings, provenance, skipped blobs and notes, with every
/// history option.
#[test]
fn packed_history_reads_like_loose_objects() {
    let loose = repo();
    evolving_history(&loose, false);
    let packed = repo();
    evolving_history(&packed, true);
    assert_eq!(packs(&loose), 0);
    assert_eq!(packs(&packed), 2);
    assert_eq!(head(&loose), head(&packed));
    for args in [
        &[][..],
        &["-j", "1"],
        &["--max-file-size", "16KiB"],
        &["--since", "2020-09-13T12:51:00+00:00"],
        &["--max-count", "7"],
        &["--branch", "feature"],
    ] {
        let a = scan(&loose, args);
        let b = scan(&packed, args);
        assert_eq!(a.status.code(), Some(1), "{args:?}: {}", stderr(&a));
        assert_eq!(b.status.code(), a.status.code(), "{args:?}: {}", stderr(&b));
        assert_eq!(stdout(&b), stdout(&a), "{args:?}");
    }
    let o = scan(&packed, &["--max-file-size", "16KiB"]);
    let v = json(&o);
    let skipped = v["skipped"].to_string();
    assert!(
        skipped.contains("img.bin") && skipped.contains("binary"),
        "{skipped}"
    );
    assert!(
        skipped.contains("big.txt") && skipped.contains("too large"),
        "{skipped}"
    );
    let paths: Vec<_> = located(&o).into_iter().map(|(p, _)| p).collect();
    for p in ["app/config.py", "backup/config.py", "feature.txt"] {
        assert!(paths.iter().any(|q| q == p), "{p} in {paths:?}");
    }
}

/// A pack cut short: what cannot be read is reported as skipped, and nothing panics or hangs.
#[test]
fn truncated_pack_is_skipped_and_counted() {
    let t = repo();
    evolving_history(&t, true);
    let pack = std::fs::read_dir(t.path().join(".git/objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pack"))
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .expect("a pack");
    let bytes = std::fs::read(&pack).unwrap();
    let mut perms = std::fs::metadata(&pack).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&pack, perms).unwrap();
    std::fs::write(&pack, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let o = t
        .keyleak()
        .args(["git", ".", "-f", "json", "--no-progress"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    // libgit2 rejects the whole pack, so history stops at the loose commits; what could
    // not be read is listed, never silently missing.
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let v = json(&o);
    assert!(!v["skipped"].as_array().unwrap().is_empty(), "{v}");
}

/// The pack reader holds a delta chain's objects at once, within a byte budget shared by its
/// workers (8 MiB each with 8 of them); what does not fit is read through libgit2, one object
/// at a time. A 40-version file of ~1 MiB a version, packed in delta chains 15+ deep, reports
/// exactly what the same history reports from loose objects, skipped blobs too. (The budget
/// itself is checked by the pack reader's unit tests.)
#[test]
fn deep_delta_chains_of_large_blobs_read_like_loose_objects() {
    let t = repo();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as usize
    };
    let line = |next: &mut dyn FnMut() -> usize| -> String {
        let w = [
            "lorem", "ipsum", "dolor", "amet", "elit", "sed", "magna", "tempor",
        ];
        (0..12)
            .map(|_| w[next() % w.len()])
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut lines: Vec<String> = (0..16_000).map(|_| line(&mut next)).collect();
    for i in 0..40 {
        // Every version edits lines all over the file, so git deltas each against a neighbour
        // (deep chains), not all against the newest.
        for _ in 0..20 {
            let at = next() % lines.len();
            lines[at] = line(&mut next);
        }
        lines.push(line(&mut next));
        let mut text = lines.join("\n");
        if i % 10 == 3 {
            text.push_str(&format!("{GAP}aws = \"{OTHER_KEY}\" # v{i}\n"));
        }
        t.write("data/big.txt", &text);
        if i == 20 {
            t.write("img.bin", b"\0\x01\x02 binary");
        }
        commit(&t, &format!("v{i}"));
    }
    let args: [&[&str]; 2] = [&["-j", "8"], &["-j", "8", "--max-file-size", "1000KiB"]];
    let run = |a: &[&str]| {
        let o = scan(&t, a);
        (o.status.code(), stdout(&o))
    };
    let loose: Vec<_> = args.iter().map(|a| run(a)).collect();
    assert_eq!(loose[0].0, Some(1));
    t.git(&["repack", "-adfq", "--depth=50", "--window=10"]);
    assert_eq!(packs(&t), 1);
    let chain = t.git(&["verify-pack", "-v", &pack_idx(&t)]);
    let deepest = chain
        .lines()
        .filter_map(|l| {
            l.strip_prefix("chain length = ")?
                .split(':')
                .next()?
                .parse::<u32>()
                .ok()
        })
        .max();
    assert!(deepest >= Some(15), "{chain}");
    for (args, loose) in args.iter().zip(&loose) {
        assert_eq!(&run(args), loose, "{args:?}");
    }
    assert_eq!(findings(&scan(&t, args[0])).len(), 4);
    let capped = json(&scan(&t, args[1]))["skipped"].to_string();
    assert!(
        capped.contains("too large") && capped.contains("img.bin"),
        "{capped}"
    );
}

fn pack_idx(t: &TestDir) -> String {
    std::fs::read_dir(t.path().join(".git/objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "idx"))
        .expect("an index")
        .to_string_lossy()
        .into_owned()
}

/// A history that brings back subtrees it already had: a revert, a copy of a directory at a
/// second path, a branch that cherry-picks a commit and is merged back (as pull-request merge
/// refs do), and a symlink replaced by a file with the same blob. Dated commits, so building it
/// twice gives the same ids; with `pack`, everything is repacked at the end.
fn returning_trees(t: &TestDir, pack: bool) {
    let mut n = 0;
    let mut commit_dated = |msg: &str| {
        n += 1;
        let date = format!("{} +0000", 1_600_000_000 + n * 60);
        t.git(&["add", "-A"]);
        let out = git_env(
            t,
            &["commit", "-q", "--allow-empty", "-m", msg],
            &[("GIT_AUTHOR_DATE", &date), ("GIT_COMMITTER_DATE", &date)],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    };
    t.write("lib/keys/a.txt", format!("aws = \"{AWS_KEY}\"\n"));
    t.write("lib/util.py", "x = 1\n");
    commit_dated("add lib");
    t.write("lib/keys/a.txt", "rotated\n");
    commit_dated("rotate");
    t.write("lib/keys/a.txt", format!("aws = \"{AWS_KEY}\"\n"));
    commit_dated("revert: lib/ is the first commit's tree again");
    t.write("vendor/lib/keys/a.txt", format!("aws = \"{AWS_KEY}\"\n"));
    t.write("vendor/lib/util.py", "x = 1\n");
    commit_dated("vendor a copy: the same tree at another path");
    t.git(&["checkout", "-qb", "pr", "HEAD~2"]);
    t.write("svc/keys/b.txt", format!("other = \"{OTHER_KEY}\"\n"));
    commit_dated("pr: add svc");
    t.git(&["checkout", "-q", "main"]);
    t.write("svc/keys/b.txt", format!("other = \"{OTHER_KEY}\"\n"));
    commit_dated("main: the same svc tree");
    let date = "1600009999 +0000";
    let out = git_env(
        t,
        &["merge", "-q", "--no-ff", "pr", "-m", "merge pr"],
        &[("GIT_AUTHOR_DATE", date), ("GIT_COMMITTER_DATE", date)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(THIRD_KEY, t.path().join("svc/link")).unwrap();
        commit_dated("a symlink whose target is a key");
        std::fs::remove_file(t.path().join("svc/link")).unwrap();
        t.write("svc/link", THIRD_KEY);
        commit_dated("the same bytes as a file");
        std::fs::remove_file(t.path().join("svc/link")).unwrap();
        commit_dated("gone");
        t.write("svc/link", THIRD_KEY);
        commit_dated("back as a file: that svc tree again, now recorded");
        t.write("moved/svc/link", THIRD_KEY);
        t.write("moved/svc/keys/b.txt", format!("other = \"{OTHER_KEY}\"\n"));
        commit_dated("and that tree at another path");
    }
    if pack {
        t.git(&["repack", "-adfq"]);
    }
}

/// The walk skips subtrees whose every file it has already recorded at that path; from packs
/// (where it does) it reports what libgit2 alone reports from loose objects (where it does
/// not): every path a blob is at, each with the oldest commit that introduced it.
#[test]
fn subtrees_history_already_has_are_attributed_like_loose_objects() {
    let loose = repo();
    returning_trees(&loose, false);
    let packed = repo();
    returning_trees(&packed, true);
    assert_eq!(packs(&loose), 0);
    assert_eq!(packs(&packed), 1);
    assert_eq!(head(&loose), head(&packed));
    for args in [
        &[][..],
        &["-j", "1"],
        &["--max-count", "4"],
        &["--branch", "pr"],
    ] {
        let a = scan(&loose, args);
        let b = scan(&packed, args);
        assert_eq!(a.status.code(), Some(1), "{args:?}: {}", stderr(&a));
        assert_eq!(stdout(&b), stdout(&a), "{args:?}");
    }
    let paths: Vec<String> = located(&scan(&packed, &[]))
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let mut want = vec!["lib/keys/a.txt", "svc/keys/b.txt", "vendor/lib/keys/a.txt"];
    if cfg!(unix) {
        want.extend(["moved/svc/keys/b.txt", "moved/svc/link", "svc/link"]);
        want.sort();
    }
    assert_eq!(paths, want);
    // The revert and the merge introduce nothing new: each finding keeps its first commit.
    let first = loose.git(&["rev-list", "--max-parents=0", "HEAD"]);
    let o = scan(&packed, &[]);
    let lib = findings(&o)
        .into_iter()
        .find(|f| f["path"] == "lib/keys/a.txt")
        .unwrap();
    assert_eq!(lib["commit"], first.trim());
}

/// The same history twice, with fixed dates (so the same ids): five branches add one secret
/// file at the same path at one commit time, so which commit is credited with it depends on
/// the walk's order among equal times; a side commit is forked from an older one. With
/// `pack`, everything is packed, which is when keyleak walks the commits itself; loose, the
/// walk is libgit2's.
fn tied_history(t: &TestDir, pack: bool) {
    let date = "1700000000 +0000";
    let env = [("GIT_AUTHOR_DATE", date), ("GIT_COMMITTER_DATE", date)];
    let run = |args: &[&str]| {
        let o = git_env(t, args, &env);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    t.write("base.txt", "nothing\n");
    run(&["add", "-A"]);
    run(&["commit", "-qm", "base"]);
    for b in 0..5 {
        run(&["checkout", "-qb", &format!("b{b}"), "main"]);
        t.write("keys/aws.txt", format!("{AWS_KEY}\n"));
        t.write(&format!("own{b}.txt"), format!("{b}\n"));
        run(&["add", "-A"]);
        run(&["commit", "-qm", &format!("b{b}")]);
        run(&["checkout", "-q", "main"]);
        if b % 2 == 1 {
            run(&["merge", "-q", "--no-ff", "-m", "merge", &format!("b{b}")]);
        }
        t.write("base.txt", format!("nothing {b}\n"));
        run(&["add", "-A"]);
        run(&["commit", "-qm", "main"]);
    }
    if pack {
        run(&["repack", "-adq"]);
    }
}

/// keyleak's own commit walk (every commit packed) credits every finding to the commit
/// libgit2's walk credits it to, also when grafts rewrite parents (libgit2 applies
/// `info/grafts`, so that walk is left to it) and when a commit's header is in a form git does
/// not write (no commit time: libgit2 reads 0; keyleak leaves such a walk to libgit2 rather
/// than read it differently).
#[test]
fn packed_commits_are_walked_like_libgit2_walks_them() {
    let loose = repo();
    tied_history(&loose, false);
    let packed = repo();
    tied_history(&packed, true);
    assert_eq!(packs(&loose), 0);
    assert_eq!(packs(&packed), 1);
    assert_eq!(head(&loose), head(&packed));
    let same = |what: &str| {
        for args in [&[][..], &["--branch", "b3"], &["--max-count", "4"]] {
            let a = scan(&loose, args);
            let b = scan(&packed, args);
            assert_eq!(a.status.code(), Some(1), "{what} {args:?}: {}", stderr(&a));
            assert_eq!(stdout(&b), stdout(&a), "{what} {args:?}");
        }
    };
    same("tied times");
    let commits: Vec<String> = ["b2", "b4"]
        .iter()
        .map(|b| loose.git(&["rev-parse", b]).trim().to_string())
        .collect();
    // b2's and b4's commits become roots: the whole tree is theirs.
    for t in [&loose, &packed] {
        t.write(
            ".git/info/grafts",
            format!("{}\n{}\n", commits[0], commits[1]),
        );
    }
    same("grafts");
    for t in [&loose, &packed] {
        std::fs::remove_file(t.path().join(".git/info/grafts")).unwrap();
    }
    // A commit without a time, on a branch of its own.
    let tree = loose.git(&["rev-parse", "main^{tree}"]).trim().to_string();
    let parent = head(&loose);
    let raw = format!(
        "tree {tree}\nparent {parent}\nauthor A <a@example.com> 1700000000 +0000\n\
         committer A <a@example.com>\n\nno time\n"
    );
    for t in [&loose, &packed] {
        t.write("odd-commit", &raw);
        let id = t.git(&[
            "hash-object",
            "-t",
            "commit",
            "--literally",
            "-w",
            "odd-commit",
        ]);
        std::fs::remove_file(t.path().join("odd-commit")).unwrap();
        t.git(&["update-ref", "refs/heads/odd", id.trim()]);
    }
    packed.git(&["repack", "-adq"]);
    assert_eq!(packs(&packed), 1);
    same("a commit without a time");
}

/// Blobs read from the packs are inflated only as far as their first 8 KiB when those say
/// binary: whatever the rest of the file holds, history reports exactly what it reports from
/// loose objects, and what is text or an archive past that block is still scanned whole (an
/// archive's headers hold NULs, UTF-16 text with a byte-order mark is full of them, and a NUL
/// past the first block does not make a file binary).
#[test]
fn binaries_read_by_their_first_block_report_like_loose_objects() {
    use std::io::Write;
    let t = repo();
    // Each file's own noise: git would store files sharing bytes as deltas of one another.
    let noise = |seed: u64, n: usize| -> Vec<u8> {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 56) as u8
            })
            .collect()
    };
    // Binary from its first bytes, a secret far behind: skipped as binary either way.
    let mut bin = noise(1, 64 << 10);
    bin[10] = 0;
    bin.extend_from_slice(format!("aws = \"{THIRD_KEY}\"\n").as_bytes());
    t.write("assets/blob.bin", &bin);
    // Text in its first block, a NUL and a secret after it.
    let mut late = "padding line of text\n".repeat(600).into_bytes();
    late.push(0);
    late.extend_from_slice(format!("{GAP}aws = \"{AWS_KEY}\"\n").as_bytes());
    t.write("late.txt", &late);
    // A zip whose first member is 16 KiB of noise stored as it is, the secret in the second.
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    w.start_file("noise.bin", stored).unwrap();
    w.write_all(&noise(2, 16 << 10)).unwrap();
    w.start_file("creds.env", stored).unwrap();
    w.write_all(format!("aws = \"{OTHER_KEY}\"\n").as_bytes())
        .unwrap();
    t.write("bundle.zip", w.finish().unwrap().into_inner());
    // A plain tar, the secret in its second member.
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in [
        ("noise.bin", noise(3, 16 << 10)),
        ("creds.env", format!("aws = \"{THIRD_KEY}\"\n").into_bytes()),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, &data[..]).unwrap();
    }
    t.write("bundle.tar", b.into_inner().unwrap());
    // UTF-16LE with a byte-order mark, the secret past the first block.
    let text = format!(
        "{}{GAP}aws = \"{OTHER_KEY}\"\n",
        "a line of wide text\n".repeat(500)
    );
    let mut wide = vec![0xFF, 0xFE];
    wide.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    t.write("wide.txt", &wide);
    let c = commit(&t, "files");
    let args: [&[&str]; 3] = [&[], &["-j", "1"], &["--max-file-size", "40KiB"]];
    let run = |a: &[&str]| {
        let o = scan(&t, a);
        (o.status.code(), stdout(&o))
    };
    let loose: Vec<_> = args.iter().map(|a| run(a)).collect();
    t.git(&["repack", "-adfq"]);
    assert_eq!(packs(&t), 1);
    // Each blob is stored whole ("id type size size-in-pack offset", no depth and base).
    let listing = t.git(&["verify-pack", "-v", &pack_idx(&t)]);
    let blobs: Vec<_> = listing.lines().filter(|l| l.contains(" blob ")).collect();
    assert_eq!(blobs.len(), 5, "{listing}");
    assert!(
        blobs.iter().all(|l| l.split_whitespace().count() == 5),
        "{listing}"
    );
    for (a, loose) in args.iter().zip(&loose) {
        assert_eq!(&run(a), loose, "{a:?}");
    }
    let o = scan(&t, &[]);
    let paths: Vec<_> = located(&o)
        .into_iter()
        .map(|(p, at)| (p, at == c))
        .collect();
    assert_eq!(
        paths,
        [
            ("bundle.tar!/creds.env".to_string(), true),
            ("bundle.zip!/creds.env".to_string(), true),
            ("late.txt".to_string(), true),
            ("wide.txt".to_string(), true),
        ]
    );
    let skipped = json(&o)["skipped"].to_string();
    assert!(
        skipped.contains("assets/blob.bin") && skipped.contains("binary"),
        "{skipped}"
    );
}

/// A file with 60 versions of ~300 KiB packed in delta chains at most 4 deep: bushy delta trees
/// (many deltas on one base), whose large subtrees the pack reader hands to other tasks with a
/// copy of their base. The one version holding a secret is a delta inside such a tree; it is
/// found at its commit, and every report equals the loose-object (libgit2) one, with 1, 2
/// and 4 threads and within a small file-size limit.
#[test]
fn split_delta_trees_read_like_loose_objects() {
    let t = repo();
    let mut x: u64 = 0xD1B5_4A32_D192_ED03;
    let mut line = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        format!("row {x:016x} {:08x} value\n", x.rotate_left(17) as u32)
    };
    let mut rows: Vec<String> = (0..8_000).map(|_| line()).collect();
    let mut secret_commit = String::new();
    for v in 0..60 {
        for k in 0..25 {
            let at = (v * 613 + k * 211) % rows.len();
            rows[at] = line();
        }
        // The secret replaces 40 rows, so this version is not the largest (git bases a delta
        // tree on its largest object).
        let text = if v == 41 {
            let block = format!("{GAP}aws = \"{OTHER_KEY}\"{GAP}");
            [rows[..4000].concat(), block, rows[4040..].concat()].concat()
        } else {
            rows.concat()
        };
        t.write("data/rows.txt", &text);
        let c = commit(&t, &format!("v{v}"));
        if v == 41 {
            secret_commit = c;
        }
    }
    let args: [&[&str]; 4] = [
        &["-j", "1"],
        &["-j", "2"],
        &["-j", "4"],
        &["-j", "4", "--max-file-size", "200KiB"],
    ];
    let run = |a: &[&str]| {
        let o = scan(&t, a);
        (o.status.code(), stdout(&o))
    };
    let loose: Vec<_> = args.iter().map(|a| run(a)).collect();
    t.git(&[
        "-c",
        "pack.threads=1",
        "repack",
        "-adfq",
        "--depth=4",
        "--window=20",
    ]);
    assert_eq!(packs(&t), 1);
    let blob = t.git(&["rev-parse", &format!("{secret_commit}:data/rows.txt")]);
    let listing = t.git(&["verify-pack", "-v", &pack_idx(&t)]);
    let entry = listing
        .lines()
        .find(|l| l.starts_with(blob.trim()))
        .expect("the secret's version is in the pack");
    // "id blob size size-in-pack offset depth base": a delta has a depth and a base.
    assert_eq!(entry.split_whitespace().count(), 7, "not a delta: {entry}");
    for (a, loose) in args.iter().zip(&loose) {
        assert_eq!(&run(a), loose, "{a:?}");
    }
    assert_eq!(loose[0].0, Some(1));
    let o = scan(&t, &["-j", "4"]);
    assert_eq!(
        located(&o),
        vec![(
            "data/rows.txt".to_string(),
            secret_commit.trim().to_string()
        )]
    );
}

/// A linear history of 5,000 commits (the walk diffs commits in batches of 2,048 and records
/// one batch while the next is diffed), written by `git fast-import`: secrets at the first and
/// last commit, on both sides of the batch boundaries, and a deleted file brought back two
/// batches later. Every finding is reported once, at the commit that introduced it (a batch
/// recorded out of order would move the returning file to its later commit; a batch not
/// recorded would drop findings), from the pack and from loose objects, with 1 to 4 threads.
#[test]
fn a_long_history_is_recorded_in_walk_order_across_batches() {
    let t = repo();
    let first = format!("aws = \"{AWS_KEY}\"\n");
    let added: BTreeMap<usize, Vec<(&str, String)>> = BTreeMap::from([
        (0, vec![("keys/first.py", first.clone())]),
        (
            2047,
            vec![("edge/a.py", format!("other = \"{OTHER_KEY}\"\n"))],
        ),
        (
            2048,
            vec![("edge/b.py", format!("third = \"{THIRD_KEY}\"\n"))],
        ),
        (
            4200,
            vec![
                ("keys/first.py", first.clone()),
                ("keys/second.py", first.clone()),
            ],
        ),
        (
            4999,
            vec![("last/z.py", format!("last = \"{THIRD_KEY}\"\n"))],
        ),
    ]);
    let mut stream = String::new();
    for k in 0..5000usize {
        let date = 1_600_000_000 + k * 60;
        stream.push_str(&format!(
            "commit refs/heads/main\nauthor A <a@example.com> {date} +0000\n\
             committer A <a@example.com> {date} +0000\ndata 2\nc\n"
        ));
        let counter = format!("n = {k}\n");
        stream.push_str(&format!(
            "M 100644 inline src/counter.txt\ndata {}\n{counter}\n",
            counter.len()
        ));
        for (path, body) in added.get(&k).into_iter().flatten() {
            stream.push_str(&format!(
                "M 100644 inline {path}\ndata {}\n{body}\n",
                body.len()
            ));
        }
        if k == 3000 {
            stream.push_str("D keys/first.py\n");
        }
    }
    let mut import = std::process::Command::new("git");
    import
        .args(["fast-import", "--quiet"])
        .current_dir(t.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(std::process::Stdio::piped());
    let mut child = import.spawn().expect("git fast-import runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stream.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let ids: Vec<String> = t
        .git(&["rev-list", "--reverse", "main"])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(ids.len(), 5000);
    let mut expected: Vec<(String, String)> = [
        ("edge/a.py", 2047),
        ("edge/b.py", 2048),
        ("keys/first.py", 0),
        ("keys/second.py", 4200),
        ("last/z.py", 4999),
    ]
    .iter()
    .map(|&(p, k)| (p.to_string(), ids[k].clone()))
    .collect();
    expected.sort();
    assert_eq!(packs(&t), 1);
    let runs = |t: &TestDir| {
        ["1", "2", "4"]
            .iter()
            .map(|j| {
                let o = scan(t, &["-j", j]);
                assert_eq!(o.status.code(), Some(1), "-j {j}: {}", stderr(&o));
                assert_eq!(located(&o), expected, "-j {j}");
                stdout(&o)
            })
            .collect::<Vec<_>>()
    };
    let packed = runs(&t);
    // The same objects loose: libgit2 walks and reads them.
    let pack = t.path().join(".git/objects/pack");
    let moved = t.path().join("moved");
    std::fs::rename(&pack, &moved).unwrap();
    std::fs::create_dir(&pack).unwrap();
    for e in std::fs::read_dir(&moved).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "pack") {
            let out = std::process::Command::new("git")
                .args(["unpack-objects", "-q"])
                .current_dir(t.path())
                .stdin(std::fs::File::open(&p).unwrap())
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
        }
    }
    std::fs::remove_dir_all(&moved).unwrap();
    assert_eq!(packs(&t), 0);
    assert_eq!(runs(&t), packed);
}
