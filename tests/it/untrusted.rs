//! Input written by an attacker: a pull request that tries to silence its own secret, policy
//! files that are links or FIFOs, names and messages carrying terminal escapes or workflow
//! commands, and files keyleak writes where a link was planted.

use std::path::Path;

use crate::util::*;

/// A repository whose `main` has a README, and a `feature` branch made by `change`.
fn pr_repo(change: impl FnOnce(&TestDir)) -> TestDir {
    let t = TestDir::new();
    t.git(&["init", "-q", "-b", "main"]);
    t.write("README.md", "demo\n");
    t.git(&["add", "-A"]);
    t.git(&["commit", "-q", "-m", "initial"]);
    t.git(&["checkout", "-q", "-b", "feature"]);
    change(&t);
    t.git(&["add", "-A"]);
    t.git(&["commit", "-q", "-m", "feature"]);
    t
}

/// The fingerprint keyleak gives the AWS key id (anyone can compute it offline).
fn aws_fingerprint() -> String {
    let t = TestDir::new();
    t.write("a.env", format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n"));
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json", "-q"])
        .output()
        .unwrap();
    findings(&o)[0]["fingerprint"].as_str().unwrap().to_string()
}

fn range(t: &TestDir, extra: &[&str]) -> std::process::Output {
    t.keyleak()
        .args(["git", ".", "--range", "main...feature", "-f", "json"])
        .args(extra)
        .output()
        .unwrap()
}

/// Every way the issue found for a pull request to silence the secret it adds: with
/// `--trust-from main` none works, and the summary names the policy files the PR changed.
#[test]
fn a_pull_request_cannot_silence_its_own_secret_with_trust_from() {
    let fp = aws_fingerprint();
    let attempts: Vec<(&str, Vec<(&str, String)>)> = vec![
        (
            "allow all paths",
            vec![("keyleak.toml", "[allow]\npaths = [\"**\"]\n".into())],
        ),
        (
            "ignore its fingerprint",
            vec![(".keyleakignore", format!("{fp}\n"))],
        ),
        (
            "disable the rule in .keyleak.toml",
            vec![(
                ".keyleak.toml",
                "[rules]\ndisable = [\"aws-access-key-id\"]\n".into(),
            )],
        ),
        (
            "downgrade the rule",
            vec![(
                "keyleak.toml",
                "[rules.severity]\n\"aws-access-key-id\" = \"low\"\n".into(),
            )],
        ),
    ];
    for (label, files) in attempts {
        let t = pr_repo(|t| {
            t.write("config/app.env", format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n"));
            for (name, body) in &files {
                t.write(name, body);
            }
        });
        // Without a trusted revision the attack works: that is what --trust-from is for.
        let o = range(&t, &[]);
        assert_eq!(o.status.code(), Some(0), "{label}: {}", stderr(&o));
        let o = range(&t, &["--trust-from", "main"]);
        assert_eq!(o.status.code(), Some(1), "{label}: {}", stderr(&o));
        let f = findings(&o);
        assert_eq!(f.len(), 1, "{label}: {f:?}");
        assert_eq!(f[0]["rule_id"], "aws-access-key-id", "{label}");
        for (name, _) in &files {
            assert!(
                stderr(&o).contains(&format!("this range changes {name}")),
                "{label}: no notice about {name}: {}",
                stderr(&o)
            );
        }
    }
}

/// The trusted commit's own config and ignore file do apply; an explicit `-c` is read as
/// given; the work tree's `.keyleakignore` is never read in trusted mode.
#[test]
fn trust_from_uses_the_trusted_files_and_never_the_work_tree() {
    let fp = aws_fingerprint();
    let t = TestDir::new();
    t.git(&["init", "-q", "-b", "main"]);
    t.write("keyleak.toml", "[allow]\npaths = [\"fixtures/**\"]\n");
    t.git(&["add", "-A"]);
    t.git(&["commit", "-q", "-m", "policy"]);
    t.git(&["checkout", "-q", "-b", "feature"]);
    t.write(
        "fixtures/test.env",
        format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n"),
    );
    t.write("src/app.env", format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n"));
    t.git(&["add", "-A"]);
    t.git(&["commit", "-q", "-m", "feature"]);
    // The base's allowlist applies: only src/app.env is reported.
    let o = range(&t, &["--trust-from", "main"]);
    let paths: Vec<String> = findings(&o)
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths, ["src/app.env"], "{}", stderr(&o));
    // An uncommitted .keyleakignore in the work tree, with -c pointing outside the repo.
    t.write(".keyleakignore", format!("{fp}\n"));
    let cfg = TestDir::new();
    let cfg_path = cfg.write("strict.toml", "[scan]\n");
    let o = range(
        &t,
        &["--trust-from", "main", "-c", cfg_path.to_str().unwrap()],
    );
    assert_eq!(findings(&o).len(), 2, "{}", stderr(&o));
    // Without --trust-from the work tree's ignore file is honoured (the documented default).
    let o = range(&t, &["-c", cfg_path.to_str().unwrap()]);
    assert_eq!(findings(&o).len(), 0, "{}", stderr(&o));
    // A trusted revision that is not a commit is a clear error.
    let o = range(&t, &["--trust-from", "no-such-branch"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--trust-from `no-such-branch`"),
        "{}",
        stderr(&o)
    );
    // --trust-from needs --range.
    let o = t
        .keyleak()
        .args(["git", ".", "--trust-from", "main"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// A policy file that is a symlink in the trusted commit is refused, not followed.
#[cfg(unix)]
#[test]
fn trusted_policy_file_that_is_a_link_is_refused() {
    let t = TestDir::new();
    t.git(&["init", "-q", "-b", "main"]);
    std::os::unix::fs::symlink("/etc/passwd", t.path().join(".keyleakignore")).unwrap();
    t.write("README.md", "x\n");
    t.git(&["add", "-A"]);
    t.git(&["commit", "-q", "-m", "base"]);
    let o = t
        .keyleak()
        .args(["git", ".", "--range", "HEAD", "--trust-from", "main"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is a symbolic link"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("root:"), "{}", stderr(&o));
}

/// A `keyleak:allow` the range adds is listed as suppressed by the change (stderr, JSON and
/// SARIF with a `suppressions` entry), and `--no-inline-allow` turns it back into a finding.
#[test]
fn inline_allow_added_by_the_range_is_shown_and_can_be_refused() {
    let t = pr_repo(|t| {
        t.write(
            "config/app.env",
            format!("AWS_ACCESS_KEY_ID={AWS_KEY} # keyleak:allow\n"),
        );
    });
    let o = range(&t, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "config/app.env:1:19 aws-access-key-id is suppressed by a keyleak:allow this change adds"
        ),
        "{}",
        stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["suppressed"], "keyleak:allow added by this change", "{v}");
    let sarif = t
        .keyleak()
        .args(["git", ".", "--range", "main...feature", "-f", "sarif"])
        .output()
        .unwrap();
    let s: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let r = &s["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "aws-access-key-id", "{s}");
    assert_eq!(r["suppressions"][0]["kind"], "inSource");
    assert_eq!(r["properties"]["suppressed_by_change"], true);
    assert_eq!(
        r["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );
    // Strict gate.
    let o = range(&t, &["--no-inline-allow"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(findings(&o).len(), 1);
    // Outside a range the marker is an ordinary suppression, listed only with -v.
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(findings(&o).is_empty());
    assert!(!stderr(&o).contains("this change adds"), "{}", stderr(&o));
}

#[test]
fn no_ignore_file_reports_what_keyleakignore_hides() {
    let fp = aws_fingerprint();
    let t = TestDir::new();
    t.write("a.env", format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n"));
    t.write(".keyleakignore", format!("{fp}\n"));
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json", "--no-ignore-file"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

/// Creates a hostile file at the given path.
type MakeFile<'a> = Box<dyn Fn(&Path) + 'a>;

/// Environment-like content that must never reach stderr.
const ENVIRON: &str =
    "SHELL=/bin/bash\0AWS_SECRET_ACCESS_KEY=hunter2hunter2hunter2\0INPUT_TOKEN=ghs_notarealtoken\0";

/// `.keyleakignore`, `keyleak.toml` and `.keyleak.toml` that are links (to a file with secrets,
/// or to /dev/zero), FIFOs or huge: a clear error naming the file, never its content, never a
/// hang.
#[cfg(unix)]
#[test]
fn policy_files_that_are_links_fifos_or_huge_are_refused() {
    let outside = TestDir::new();
    let secrets = outside.write("environ", ENVIRON);
    for name in [".keyleakignore", "keyleak.toml", ".keyleak.toml"] {
        let cases: Vec<(&str, MakeFile)> = vec![
            (
                "is a symbolic link",
                Box::new(|p: &Path| std::os::unix::fs::symlink(&secrets, p).unwrap()),
            ),
            (
                "is a symbolic link",
                Box::new(|p: &Path| std::os::unix::fs::symlink("/dev/zero", p).unwrap()),
            ),
            (
                "is not a regular file",
                Box::new(|p: &Path| {
                    let ok = std::process::Command::new("mkfifo")
                        .arg(p)
                        .status()
                        .unwrap()
                        .success();
                    assert!(ok);
                }),
            ),
            (
                "larger than 16 MiB",
                Box::new(|p: &Path| {
                    let f = std::fs::File::create(p).unwrap();
                    f.set_len(17 << 20).unwrap();
                }),
            ),
        ];
        for (want, make) in cases {
            let t = TestDir::new();
            t.write("a.env", format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n"));
            make(&t.path().join(name));
            let start = std::time::Instant::now();
            let o = t
                .keyleak()
                .args(["dir", "."])
                .timeout(std::time::Duration::from_secs(30))
                .output()
                .unwrap();
            assert!(start.elapsed().as_secs() < 30, "{name} {want}: hung");
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{name} {want}: {err}");
            assert!(err.contains(name) && err.contains(want), "{name}: {err}");
            assert!(!err.contains("hunter2") && !err.contains("ghs_"), "{err}");
            assert_eq!(err.lines().count(), 1, "{err}");
        }
    }
}

/// A config or ignore file with the environment's content (a copy, not a link) is rejected
/// quoting at most a short, escaped prefix.
#[test]
fn policy_file_errors_never_echo_the_content() {
    let t = TestDir::new();
    t.write(".keyleakignore", ENVIRON);
    let o = t.keyleak().args(["dir", "."]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("is not a fingerprint"), "{err}");
    assert!(!err.contains("hunter2") && !err.contains("ghs_"), "{err}");
    assert!(!err.contains('\0'), "{err:?}");

    let t = TestDir::new();
    t.write(
        "keyleak.toml",
        "[scan]\nmax_file_size = \"AWS_SECRET_ACCESS_KEY=hunter2hunter2hunter2hunter2hunter2\"\n",
    );
    let o = t.keyleak().args(["dir", "."]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        !stderr(&o).contains("hunter2hunter2hunter2"),
        "{}",
        stderr(&o)
    );
}

/// A config value with newlines and workflow commands ends up on one escaped line.
#[test]
fn config_values_cannot_inject_workflow_commands() {
    let t = TestDir::new();
    t.write(
        "keyleak.toml",
        "[rules]\ndisable = [\"x\\n::error file=README.md,line=1::All clear\\n::add-mask::keyleak\\n::stop-commands::deadbeef\\u001b[2K\"]\n",
    );
    let o = t.keyleak().args(["dir", "."]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("keyleak: error: keyleak.toml:2:"), "{err}");
    assert!(err.contains("x\\n::error file=README.md"), "{err}");
    assert!(!err.contains('\x1b'), "{err:?}");
}

/// File names, git author names and emails, zip member names and `-v` skip lists never put a
/// control character on the terminal.
#[cfg(unix)]
#[test]
fn terminal_escapes_in_names_are_written_out() {
    use std::io::Write;
    let evil = "clip\x1b]52;c;ZXZpbA==\x07\x1b[2K\r\u{9b}8m";
    let t = TestDir::new();
    t.git(&["init", "-q", "-b", "main"]);
    t.write(
        &format!("{evil}.env"),
        format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n"),
    );
    t.write(&format!("{evil}.bin"), b"\0\x01\x02binary".as_slice());
    // A zip whose member name carries the escapes.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(
        format!("{evil}/member.env"),
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    zip.write_all(format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n").as_bytes())
        .unwrap();
    t.write("bundle.zip", zip.finish().unwrap().into_inner());
    t.git(&["add", "-A"]);
    let o = std::process::Command::new("git")
        .args(["commit", "-q", "-m", "evil"])
        .current_dir(t.path())
        .env("GIT_AUTHOR_NAME", evil)
        .env("GIT_AUTHOR_EMAIL", format!("{evil}@example.com"))
        .env("GIT_COMMITTER_NAME", "c")
        .env("GIT_COMMITTER_EMAIL", "c@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", t.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    for args in [
        vec!["dir", ".", "-v", "--color", "never"],
        vec!["git", ".", "-v", "--color", "never"],
        vec!["dir", ".", "-v", "-f", "github"],
    ] {
        let o = t.keyleak().args(&args).output().unwrap();
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert_eq!(o.status.code(), Some(1), "{args:?}: {all}");
        for c in all.chars() {
            assert!(
                c == '\n' || !keyleak::escape::is_unsafe(c),
                "{args:?}: control character U+{:04X} in output:\n{all}",
                c as u32
            );
        }
        assert!(
            all.contains("clip\\x1b]52;c;ZXZpbA==\\x07"),
            "{args:?}: {all}"
        );
    }
    let o = t
        .keyleak()
        .args(["git", ".", "--color", "never"])
        .output()
        .unwrap();
    assert!(
        stdout(&o).contains("by clip\\x1b]52;c;ZXZpbA==\\x07\\x1b[2K\\r\\u{9b}8m <clip"),
        "{}",
        stdout(&o)
    );
}

/// `-o`: the report is written through a temporary file with a random name, created
/// exclusively; no predictable name is used, and nothing is left behind.
#[cfg(unix)]
#[test]
fn output_temp_file_is_random_and_exclusive() {
    let t = TestDir::new();
    t.write("src/a.env", format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n"));
    let out = TestDir::new();
    let victim = TestDir::new();
    // Links at every name the old scheme could pick for this run's pid range.
    let target = victim.path().join("stolen.json");
    for pid in 1..=4096u32 {
        let _ = std::os::unix::fs::symlink(
            &target,
            out.path().join(format!(".r.json.keyleak-tmp-{pid}")),
        );
    }
    let report = out.path().join("r.json");
    let o = t
        .keyleak()
        .args(["dir", "src", "-f", "json", "--show-secrets", "-o"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!target.exists(), "the report went through a planted link");
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(text.contains(AWS_KEY));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&report).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "a report with secrets must be private");
    let left: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with(".r.json.keyleak-tmp-") && n != "r.json")
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// `init` and `install-hook` never write through a symlink, dangling or not, and
/// `install-hook --force` never overwrites an earlier backup.
#[cfg(unix)]
#[test]
fn init_and_install_hook_never_write_through_links() {
    let outside = TestDir::new();
    let t = TestDir::new();
    t.git(&["init", "-q", "-b", "main"]);
    // init through a dangling link.
    let planted = outside.path().join("planted.toml");
    std::os::unix::fs::symlink(&planted, t.path().join("keyleak.toml")).unwrap();
    let o = t.keyleak().arg("init").output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert!(!planted.exists(), "init wrote through a dangling link");

    // install-hook through a dangling link.
    let hooks = t.path().join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let hook_target = outside.path().join("evil-hook");
    std::os::unix::fs::symlink(&hook_target, hooks.join("pre-commit")).unwrap();
    let o = t.keyleak().arg("install-hook").output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!hook_target.exists());
    // --force moves the link itself aside and writes a regular file.
    let o = t
        .keyleak()
        .args(["install-hook", "--force"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!hook_target.exists(), "install-hook wrote through the link");
    let meta = std::fs::symlink_metadata(hooks.join("pre-commit")).unwrap();
    assert!(meta.is_file());
    assert!(
        std::fs::symlink_metadata(hooks.join("pre-commit.keyleak-backup"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // A second --force over another hook must not overwrite that backup.
    std::fs::write(hooks.join("pre-commit"), "#!/bin/sh\necho mine\n").unwrap();
    let o = t
        .keyleak()
        .args(["install-hook", "--force"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("backup"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit")).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    assert!(
        std::fs::symlink_metadata(hooks.join("pre-commit.keyleak-backup"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

fn mkfifo(p: &Path) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let ok = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo {}", p.display());
}

/// Ignore files that are FIFOs or links to /dev/zero neither hang `dir` nor grow its memory:
/// they are not applied (the scan covers more, never less) and are listed as skipped.
#[cfg(unix)]
#[test]
fn hostile_ignore_files_do_not_hang_the_walk() {
    for (name, fifo) in [
        (".gitignore", false),
        (".gitignore", true),
        (".ignore", true),
        ("sub/.gitignore", false),
        (".git/info/exclude", true),
        (".git/info/exclude", false),
    ] {
        let t = TestDir::new();
        std::fs::create_dir_all(t.path().join(".git/info")).unwrap();
        t.write("sub/a.env", format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n"));
        let p = t.path().join(name);
        if fifo {
            mkfifo(&p);
        } else {
            std::os::unix::fs::symlink("/dev/zero", &p).unwrap();
        }
        let o = t
            .keyleak()
            .args(["dir", ".", "-v", "-f", "json"])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
        assert_eq!(findings(&o).len(), 1, "{name}");
        assert!(
            stderr(&o).contains("ignore file not applied"),
            "{name}: {}",
            stderr(&o)
        );
    }
    // A regular ignore file next to them still applies (in a work tree: outside one, a
    // `.gitignore` hides nothing, as for git).
    let t = TestDir::new();
    t.git(&["init", "-q"]);
    t.write(".gitignore", "ignored/\n");
    t.write("ignored/a.env", format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n"));
    let o = t.keyleak().args(["dir", "."]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// FIFOs (and device links) among a repository's control files make `keyleak git` exit 2 with
/// the file's name instead of hanging in libgit2.
#[cfg(unix)]
#[test]
fn fifos_in_the_git_directory_do_not_hang_git_scans() {
    for name in ["config", "packed-refs", "objects/info/alternates", "HEAD"] {
        let t = TestDir::new();
        t.git(&["init", "-q", "-b", "main"]);
        t.write("a.env", format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n"));
        t.git(&["add", "-A"]);
        t.git(&["commit", "-q", "-m", "one"]);
        let p = t.path().join(".git").join(name);
        let _ = std::fs::remove_file(&p);
        mkfifo(&p);
        for args in [vec!["git", "."], vec!["git", ".", "--range", "HEAD"]] {
            let o = t
                .keyleak()
                .args(&args)
                .timeout(std::time::Duration::from_secs(60))
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(2), "{name} {args:?}: {}", stderr(&o));
            assert!(
                stderr(&o).contains("not a regular file") && stderr(&o).contains(name),
                "{name}: {}",
                stderr(&o)
            );
        }
    }
}

/// One small blob of generated `api_key = "…"` lines committed at 120 paths: history and range
/// scans stay bounded (per-input and per-scan finding caps, one scan per blob), and the notes
/// say what the caps left out.
#[test]
fn one_blob_of_many_findings_at_many_paths_is_bounded() {
    let t = TestDir::new();
    t.git(&["init", "-q", "-b", "main"]);
    t.write("README.md", "x\n");
    t.git(&["add", "-A"]);
    t.git(&["commit", "-q", "-m", "base"]);
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut body = String::new();
    for _ in 0..2_000 {
        let v: String = (0..32)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                alphabet[(x % alphabet.len() as u64) as usize] as char
            })
            .collect();
        body.push_str(&format!("api_key = \"{v}\"\n"));
    }
    t.write("gen.txt", &body);
    let blob = t.git(&["hash-object", "-w", "gen.txt"]).trim().to_string();
    std::fs::remove_file(t.path().join("gen.txt")).unwrap();
    for i in 0..120 {
        t.git(&[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("100644,{blob},d{i}/gen.txt"),
        ]);
    }
    t.git(&["commit", "-q", "-m", "flood"]);
    for args in [
        vec!["git", "."],
        vec!["git", ".", "--range", "main~1..main"],
    ] {
        let start = std::time::Instant::now();
        let o = t
            .keyleak()
            .args(&args)
            .args(["-f", "jsonl", "-o", "/dev/null"])
            .timeout(std::time::Duration::from_secs(300))
            .output()
            .unwrap();
        let err = stderr(&o);
        // Generic assignments are `low`: the verdict is clean, but nothing is silent.
        assert!(matches!(o.status.code(), Some(0 | 1)), "{args:?}: {err}");
        assert!(
            err.contains("more than 1000 findings each"),
            "{args:?}: no per-input note: {err}"
        );
        // 120 paths × the 1000 findings the blob keeps: 20000 copies beyond the scan's cap,
        // every one counted.
        assert!(
            err.contains("more than 100000 findings: 20000 were not reported")
                && err.contains("100000 findings ("),
            "{args:?}: no per-scan note: {err}"
        );
        eprintln!("{args:?}: {:?}", start.elapsed());
    }
}

/// Thousands of generated `api_key = "…"` lines, then one real key next to one more generated
/// value: (the text, that last generated value).
fn generated_flood() -> (String, String) {
    let mut x: u64 = 0x2545f4914f6cdd1d;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut value = || -> String {
        (0..32)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                alphabet[(x % alphabet.len() as u64) as usize] as char
            })
            .collect()
    };
    let mut body = String::new();
    for _ in 0..3_000 {
        body.push_str(&format!("api_key = \"{}\"\n", value()));
    }
    let last = value();
    body.push_str(&format!("key_id = {AWS_KEY}, api_key = \"{last}\"\n"));
    (body, last)
}

/// A file of thousands of generated `api_key = "…"` lines with one real key on the last line,
/// next to one more generated value: the scan holds a bounded number of findings, the real
/// (more severe) key is among the ones kept, the note says what was left out, and the value
/// left out on the real key's line is hidden in its snippet like any other secret.
#[test]
fn a_flood_of_generated_keys_keeps_the_real_one_and_hides_the_rest() {
    let (body, last) = generated_flood();
    let t = TestDir::new();
    t.write("gen.env", &body);
    let runs = [
        t.keyleak()
            .args(["dir", ".", "-f", "json"])
            .output()
            .unwrap(),
        t.keyleak()
            .args(["stdin", "--name", "gen.env", "-f", "json"])
            .write_stdin(body.clone())
            .output()
            .unwrap(),
    ];
    for o in &runs {
        let err = stderr(o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.contains("1 input(s) had more than 1000 findings each; up to "),
            "{err}"
        );
        let f = findings(o);
        assert_eq!(f.len(), 1000);
        let aws: Vec<_> = f
            .iter()
            .filter(|x| x["rule_id"] == "aws-access-key-id")
            .collect();
        assert_eq!(aws.len(), 1, "{aws:?}");
        assert_eq!(aws[0]["line"], 3001);
        assert!(!stdout(o).contains(&last[4..]), "{}", aws[0]["snippet"]);
        assert!(!err.contains(&last[4..]));
    }
}

/// The same flood inside a zip that a pull request adds: `--range` caps the archive's
/// findings like a file's, keeps the real key and says what it left out.
#[test]
fn a_flood_in_an_archive_added_by_a_range_is_capped_and_said() {
    use std::io::Write;
    let (body, _) = generated_flood();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file("conf/gen.env", opts).unwrap();
    w.write_all(body.as_bytes()).unwrap();
    let zip = w.finish().unwrap().into_inner();
    let t = pr_repo(|t| {
        t.write("dist/bundle.zip", &zip);
    });
    let o = range(&t, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("1 input(s) had more than 1000 findings each; up to "),
        "{err}"
    );
    let f = findings(&o);
    assert_eq!(f.len(), 1000);
    assert!(
        f.iter()
            .any(|x| x["rule_id"] == "aws-access-key-id"
                && x["path"] == "dist/bundle.zip!/conf/gen.env"),
        "{f:?}"
    );
}
