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
    c.env("GIT_CONFIG_NOSYSTEM", "1").env_remove("NO_COLOR");
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
