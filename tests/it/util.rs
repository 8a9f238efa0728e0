//! Test DSL: a fresh temp directory per test, the real binary, real `git`.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use tempfile::TempDir;

/// A temporary directory with helpers to write files.
pub struct TestDir {
    pub dir: TempDir,
}

impl TestDir {
    pub fn new() -> TestDir {
        TestDir {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `rel` (creating parent directories) and returns its path.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, contents).expect("write");
        p
    }

    /// `keyleak ARGS…` run inside this directory.
    pub fn keyleak(&self) -> Command {
        let mut c = keyleak();
        c.current_dir(self.path());
        c
    }

    /// Runs `git ARGS…` here, panicking on failure.
    pub fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args)
    }
}

/// The binary under test, with a clean environment for determinism.
pub fn keyleak() -> Command {
    let mut c = Command::cargo_bin("keyleak").expect("binary");
    // Never pick up this repository's own keyleak.toml (cargo runs tests from the package
    // root): commands not run in a TestDir run from an empty directory of their own.
    let cwd = std::env::temp_dir().join("keyleak-it-empty-cwd");
    std::fs::create_dir_all(&cwd).expect("mkdir");
    c.env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("NO_COLOR")
        .current_dir(cwd);
    c
}

/// Runs git in `dir` with a fixed identity; panics with stderr on failure.
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stdout as a string.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stderr as a string.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Parses a JSON report's findings.
pub fn findings(o: &Output) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stdout(o)));
    v["findings"].as_array().cloned().unwrap_or_default()
}

/// A fake AWS key id (format-valid, not a real credential).
pub const AWS_KEY: &str = "AKIAQ3EGTR7HJKL2MNOP";
/// A second, different AWS key id.
pub const AWS_KEY_2: &str = "AKIAZ7XQ4RTWYP3MB2KD";

/// `git` in `dir` with a fixed identity and no user or system configuration, for commands
/// whose failure a test checks (`git commit` through a hook).
pub fn git_cmd(dir: &Path) -> std::process::Command {
    let mut c = std::process::Command::new("git");
    c.current_dir(dir);
    git_env(&mut c);
    c
}

/// The environment `git_cmd` runs git with, for any command that runs git (hooks, pre-commit,
/// the GitHub Action's script): fixed identity, no user or system configuration.
pub fn git_env(c: &mut std::process::Command) {
    c.env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", empty_git_config())
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "init.defaultBranch")
        .env("GIT_CONFIG_VALUE_0", "main");
}

/// An empty file for GIT_CONFIG_GLOBAL: the developer's ~/.gitconfig (signing, hooksPath…)
/// must not change what the tests see. (Not /dev/null, which a sandbox may have replaced.)
fn empty_git_config() -> &'static Path {
    static EMPTY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| {
        let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("empty.gitconfig");
        if std::fs::metadata(&p).map(|m| m.len()).unwrap_or(1) != 0 {
            std::fs::write(&p, "").expect("write empty.gitconfig");
        }
        p
    })
}

/// `PATH` with the directory of the `keyleak` under test first, for scripts and hooks that
/// run `keyleak` by name.
pub fn path_with_keyleak() -> std::ffi::OsString {
    let bin = assert_cmd::cargo::cargo_bin("keyleak");
    let dir = bin.parent().expect("binary directory").to_path_buf();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(dir).chain(std::env::split_paths(&rest))).expect("PATH")
}

/// Whether an external tool the test drives is installed (`tool ARGS` runs and exits 0).
/// Missing, it prints a notice and the test returns early, except under `CI=true`, where it
/// fails: CI must never pass such a test vacuously (`.ci/run` installs every such tool).
pub fn require_tool(tool: &str, args: &[&str]) -> bool {
    let ok = std::process::Command::new(tool)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "`{tool}` is required when CI=true (`.ci/run` installs it) but `{tool} {}` failed",
            args.join(" ")
        );
        eprintln!(
            "NOTICE: skipping: `{tool}` is not installed (`.ci/run` shows how to install it)"
        );
    }
    ok
}

/// The root of the keyleak source tree (the files the integrations ship: action.yml, …).
pub fn source_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}
