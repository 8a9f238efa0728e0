//! keyleak must not become the leak: without `--show-secrets` no output, summary, progress
//! line or error message holds a full secret; reports with secrets are private files; the
//! binary has no network code and touches nothing in the tree it scans.

use std::collections::BTreeMap;
use std::path::Path;

use keyleak::rules::RuleSet;
use sha2::{Digest, Sha256};

use crate::util::*;

/// Values the current rules find, planted in awkward places: after ANSI escapes, next to
/// control characters, in long lines, in UTF-16, near `keyleak:allow`.
fn plant(t: &TestDir) {
    let mut n = 0;
    // Every builtin rule's examples. Examples written as checksum markers (`{{crc32:…}}`) are
    // assembled by the rules test harness and skipped here.
    for rule in RuleSet::builtin().unwrap().rules() {
        for ex in rule.examples.iter().filter(|e| !e.contains("{{")) {
            n += 1;
            t.write(&format!("examples/{}-{n}.txt", rule.id), format!("{ex}\n"));
        }
    }
    t.write("config/.env", "AWS_ACCESS_KEY_ID=AKIAZ7XQ4RTWYP3MB2KD\n");
    t.write(
        "logs/app.log",
        "\x1b[31mkey\x1b[0m=AKIAJ5Q2W3E4R5T6Y7U8\x07\r\n",
    );
    t.write(
        "min/bundle.js",
        format!(
            "{}AKIAM2N3B4V5C6X7Z2L3{}",
            "a;".repeat(300),
            "b;".repeat(400)
        ),
    );
    t.write("ok/allowed.txt", "AKIAP3O4I5U6Y7T2R3E4 # keyleak:allow\n");
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "k=AKIAW3E4R5T6Y7U2I3O4\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    t.write("win/utf16.txt", utf16);
    let many: String = (0..200)
        .map(|i| format!("{i}: AKIAQ3EGTR7HJKL2MN{}\n", base32_pair(i)))
        .collect();
    t.write("many/keys.txt", many);
}

fn base32_pair(i: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    format!("{}{}", A[i / 32 % 32] as char, A[i % 32] as char)
}

/// The full secrets keyleak finds in the tree (learned with --show-secrets, so the test
/// follows whatever the rules find), including those suppressed by `keyleak:allow`.
fn full_secrets(t: &TestDir) -> Vec<String> {
    let o = t
        .keyleak()
        .args([
            "dir",
            ".",
            "-f",
            "json",
            "--show-secrets",
            "--include-suppressed",
        ])
        .output()
        .unwrap();
    let mut secrets: Vec<String> = findings(&o)
        .iter()
        .flat_map(|f| {
            let mut v = vec![f["secret"].as_str().unwrap().to_string()];
            for p in f["parts"].as_array().into_iter().flatten() {
                v.push(p["value"].as_str().unwrap().to_string());
            }
            v
        })
        .filter(|s| s.chars().count() >= 8)
        .collect();
    secrets.sort();
    secrets.dedup();
    secrets
}

fn assert_no_secret(what: &str, bytes: &[u8], secrets: &[String]) {
    let text = String::from_utf8_lossy(bytes);
    for s in secrets {
        // Raw, and as JSON would escape it.
        let escaped = serde_json::to_string(s).unwrap();
        assert!(
            !text.contains(s.as_str()) && !text.contains(escaped.trim_matches('"')),
            "{what} leaks {s:?}:\n{text}"
        );
    }
}

#[test]
fn no_output_holds_a_full_secret() {
    let t = TestDir::new();
    plant(&t);
    let secrets = full_secrets(&t);
    assert!(
        secrets.len() >= 205,
        "the planted secrets are found: {}",
        secrets.len()
    );
    let out = tempfile::tempdir().unwrap();
    for fmt in ["text", "json", "jsonl", "sarif", "github"] {
        // Plain to stdout, and every extra flag at once into a file (each run scans the whole
        // catalogue in a debug build, so the matrix is kept to two runs per format).
        let what = format!("-f {fmt}");
        let o = t.keyleak().args(["dir", ".", "-f", fmt]).output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{what}: {}", stderr(&o));
        assert_no_secret(&format!("{what} stdout"), &o.stdout, &secrets);
        assert_no_secret(&format!("{what} stderr"), &o.stderr, &secrets);
        let file = out.path().join(format!("r.{fmt}"));
        let o = t
            .keyleak()
            .args([
                "dir",
                ".",
                "-f",
                fmt,
                "-v",
                "--include-suppressed",
                "--color",
                "always",
                "-o",
            ])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{what} -o: {}", stderr(&o));
        assert_no_secret(&format!("{what} -v -o stderr"), &o.stderr, &secrets);
        assert_no_secret(
            &format!("{what} -v -o file"),
            &std::fs::read(&file).unwrap(),
            &secrets,
        );
    }
    // stdin, and a baseline round trip, the same.
    let o = keyleak()
        .args(["stdin", "-f", "json", "-v"])
        .write_stdin(std::fs::read(t.path().join("config/.env")).unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_no_secret("stdin", &[o.stdout, o.stderr].concat(), &secrets);
}

/// Error messages quote names and positions, never values: a config whose bad lines hold
/// secrets must not echo them.
#[test]
fn error_messages_do_not_echo_secrets() {
    let t = TestDir::new();
    t.write("a.txt", "nothing");
    let secret = "AKIAZ7XQ4RTWYP3MB2KD";
    for (name, text) in [
        (
            "unknown-key.toml",
            format!("[allow]\naws_key = \"{secret}\"\n"),
        ),
        (
            "bad-regex.toml",
            format!("[allow]\nregexes = ['{secret}(']\n"),
        ),
        ("bad-toml.toml", format!("[allow\nx = \"{secret}\"\n")),
        // Not here: `max_file_size = "…"` echoes the invalid size it was given, which is the
        // user's own value for a size, not something keyleak found.
    ] {
        t.write(name, text);
        let o = t
            .keyleak()
            .args(["dir", "a.txt", "-c", name])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{name}");
        assert!(stderr(&o).contains(name), "{name}: {}", stderr(&o));
        assert_no_secret(name, &o.stderr, &[secret.to_string()]);
    }
    t.write(
        "baseline.json",
        format!("{{\"findings\": [{{\"secret\": {secret}}}]}}"),
    );
    let o = t
        .keyleak()
        .args(["dir", "a.txt", "--baseline", "baseline.json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_no_secret("baseline error", &o.stderr, &[secret.to_string()]);
}

/// The progress bar (drawn only on a terminal) shows counts, never values. `script` gives
/// the binary a pseudo-terminal.
#[cfg(unix)]
#[test]
fn progress_on_a_terminal_holds_no_secret() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("notice: no `script`; progress-bar check skipped");
        return;
    }
    let t = TestDir::new();
    plant(&t);
    // Enough files that the bar draws at least once (it ticks every 100 ms).
    for i in 0..3000 {
        t.write(
            &format!("bulk/{}/{i}.txt", i % 30),
            format!("AKIAQ3EGTR7HJKL2MNOP {i}\n"),
        );
    }
    let secrets = full_secrets(&t);
    let bin = assert_cmd::cargo::cargo_bin("keyleak");
    let o = std::process::Command::new("script")
        .args([
            "-qec",
            &format!("'{}' dir . -f text", bin.display()),
            "/dev/null",
        ])
        .current_dir(t.path())
        .output()
        .unwrap();
    assert!(stdout(&o).contains("finding"), "{}", stdout(&o));
    assert_no_secret("terminal session", &o.stdout, &secrets);
}

/// With --show-secrets the report file is created 0600, even when it replaces a world-readable
/// file; without, it is an ordinary 0644 file.
#[cfg(unix)]
#[test]
fn report_files_with_secrets_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let t = TestDir::new();
    t.write("src/a.txt", AWS_KEY);
    let mode = |p: &str| {
        std::fs::metadata(t.path().join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    t.write("r.json", "old");
    std::fs::set_permissions(
        t.path().join("r.json"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    t.keyleak()
        .args(["dir", "src", "-f", "json", "-o", "r.json", "--show-secrets"])
        .assert()
        .code(1);
    assert_eq!(mode("r.json"), 0o600);
    assert!(
        std::fs::read_to_string(t.path().join("r.json"))
            .unwrap()
            .contains(AWS_KEY)
    );
    t.keyleak()
        .args(["dir", "src", "-f", "sarif", "-o", "plain.sarif"])
        .assert()
        .code(1);
    assert_eq!(mode("plain.sarif") & 0o600, 0o600);
}

/// The only networking code is `--verify`'s blocking HTTPS client (ureq on rustls), used by
/// `src/verify/` alone; no async runtime, no other HTTP stack, no OpenSSL (git2 is built
/// without its https/ssh features). That nothing connects without `--verify` is checked by
/// `a_scan_opens_no_socket` and `verify::no_socket_without_verify`.
#[test]
fn no_networking_crates() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let o = std::process::Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "--locked",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(o.status.success(), "cargo tree: {}", stderr(&o));
    let tree = stdout(&o);
    assert!(tree.contains("git2"), "unexpected tree:\n{tree}");
    for line in tree.lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        for bad in [
            "reqwest",
            "hyper",
            "curl",
            "openssl",
            "libssh2-sys",
            "native-tls",
            "h2",
            "tokio",
        ] {
            assert!(
                name != bad && !name.starts_with(&format!("{bad}-")),
                "networking crate {line}"
            );
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.starts_with(src.join("verify")) {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                assert!(
                    !text.contains("ureq::"),
                    "{} uses the HTTP client",
                    p.display()
                );
            }
        }
    }
}

/// A scan makes no network system call at all: traced with strace where it can run, and run
/// inside a network namespace with no interfaces where we are root.
#[cfg(target_os = "linux")]
#[test]
fn a_scan_opens_no_socket() {
    let t = TestDir::new();
    plant(&t);
    let bin = assert_cmd::cargo::cargo_bin("keyleak");
    // Outside the scanned tree, which must stay untouched.
    let trace_dir = tempfile::tempdir().unwrap();
    let trace = trace_dir.path().join("strace.out");
    let traced = std::process::Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=%network",
            "-e",
            "signal=none",
            "-o",
        ])
        .arg(&trace)
        .arg(&bin)
        .args(["dir", ".", "-f", "sarif", "-q"])
        .current_dir(t.path())
        .output();
    match traced {
        Ok(o) if o.status.code() == Some(1) => {
            let calls = std::fs::read_to_string(&trace).unwrap();
            assert!(calls.trim().is_empty(), "network system calls:\n{calls}");
        }
        other => eprintln!("notice: strace unavailable or not permitted here: {other:?}"),
    }
    let sandboxed = std::process::Command::new("unshare")
        .arg("-n")
        .arg(&bin)
        .args(["dir", ".", "-f", "json", "-q"])
        .current_dir(t.path())
        .output();
    match sandboxed {
        Ok(o) if !stderr(&o).contains("unshare") => {
            assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        }
        other => eprintln!("notice: unshare -n unavailable here: {other:?}"),
    }
}

/// Path → (mode, SHA-256 of the contents or link target) for everything under `root`,
/// `.git/` included.
#[cfg(unix)]
pub(crate) fn snapshot(root: &Path) -> BTreeMap<String, (u32, String)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let digest = if meta.is_dir() {
                stack.push(p.clone());
                String::new()
            } else if meta.file_type().is_symlink() {
                std::fs::read_link(&p)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            } else {
                hex::encode(Sha256::digest(std::fs::read(&p).unwrap()))
            };
            out.insert(rel, (meta.permissions().mode(), digest));
        }
    }
    out
}

/// Scanning never writes to the scanned tree: every file (and `.git/`) is byte-identical and
/// nothing is added, whatever the format, config, baseline or command.
#[cfg(unix)]
#[test]
fn scans_never_write_to_the_tree() {
    let t = TestDir::new();
    plant(&t);
    t.write("keyleak.toml", "[allow]\nstopwords = [\"zzz\"]\n");
    t.write(".keyleakignore", "# none\n");
    t.git(&["init", "-q"]);
    t.git(&["add", "."]);
    t.git(&["commit", "-qm", "fixture"]);
    let out = tempfile::tempdir().unwrap();
    let baseline = out.path().join("baseline.json");
    t.keyleak()
        .args(["dir", ".", "-f", "json", "-o"])
        .arg(&baseline)
        .assert()
        .code(1);
    let before = snapshot(t.path());
    for fmt in ["text", "json", "jsonl", "sarif", "github"] {
        t.keyleak()
            .args(["dir", ".", "-v", "-f", fmt])
            .assert()
            .code(1);
    }
    t.keyleak()
        .args(["dir", ".", "--baseline"])
        .arg(&baseline)
        .assert()
        .code(0);
    t.keyleak()
        .args(["dir", ".", "--no-ignore", "-o"])
        .arg(out.path().join("r.txt"))
        .assert()
        .code(1);
    keyleak().arg("dir").arg(t.path()).assert().code(1);
    // git history too (any exit code while git scanning is being built; never a write).
    let o = t
        .keyleak()
        .args(["git", ".", "-f", "json"])
        .output()
        .unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    let o = t.keyleak().args(["git", "--staged"]).output().unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert_eq!(snapshot(t.path()), before, "the scanned tree changed");
}
