//! Remote repositories for audits: `keyleak git URL…` clones each into a bare mirror with the
//! user's own `git` (so credential helpers, SSH keys and proxies work as they do for the user),
//! scans it like a local repository, and removes it afterwards unless asked to keep it.
//!
//! URLs are input like any other: git runs with `--` before the URL (a URL cannot become an
//! option), the `ext::` transport (which runs commands) is refused, terminal prompts are off (an
//! audit never hangs waiting for a password), and credentials written into a URL
//! (`https://user:token@host/…`) never reach a report or a message.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether `spec` names a remote repository rather than a local path: a URL with a scheme
/// (`https://`, `ssh://`, `git://`, `file://`) or scp-like `user@host:path`. A path that exists
/// locally is always local.
pub fn is_remote(spec: &str) -> bool {
    if Path::new(spec).exists() {
        return false;
    }
    if let Some((scheme, _)) = spec.split_once("://") {
        return !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    }
    // scp-like syntax: `host:path` or `user@host:path`, with no slash before the colon.
    match spec.split_once(':') {
        Some((host, path)) => {
            !host.is_empty() && !path.is_empty() && !host.contains('/') && host.contains('@')
        }
        None => false,
    }
}

/// `spec` as reports show it: any `user:password@` in a URL becomes `***@`.
pub fn display(spec: &str) -> String {
    if let Some((scheme, rest)) = spec.split_once("://") {
        let end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            return format!("{scheme}://***@{}", &rest[at + 1..]);
        }
    }
    spec.to_string()
}

/// A local bare mirror of a remote repository; deleted on drop unless it was kept.
#[derive(Debug)]
pub struct Mirror {
    /// The mirror's git directory.
    pub path: PathBuf,
    remove: bool,
}

impl Drop for Mirror {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Clones `url` as a bare mirror: into `keep/<name>.git` (updated if it already exists) when
/// `keep` is given, else into a fresh private temporary directory. The error is git's own
/// message, made printable and cut short.
pub fn mirror(url: &str, keep: Option<&Path>) -> Result<Mirror, String> {
    let (path, remove) = match keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("--keep-clones {}: {e}", dir.display()))?;
            (dir.join(format!("{}.git", dir_name(url))), false)
        }
        None => (private_temp_dir()?, true),
    };
    let mirror = Mirror { path, remove };
    let update = !remove && mirror.path.join("HEAD").is_file();
    let mut cmd = git();
    if update {
        cmd.arg("--git-dir").arg(&mirror.path).args([
            "fetch",
            "--prune",
            "--quiet",
            "--",
            url,
            "+refs/*:refs/*",
        ]);
    } else {
        cmd.args(["clone", "--mirror", "--quiet", "--no-hardlinks", "--", url])
            .arg(&mirror.path);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run git to clone: {e}"))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr);
        let msg: String = msg
            .trim()
            .replace(url, &display(url))
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(300)
            .collect();
        return Err(format!(
            "{} failed: {msg}",
            if update { "fetch" } else { "clone" }
        ));
    }
    Ok(mirror)
}

/// `git` for cloning untrusted URLs: no prompts, no command-running transports, no hooks or
/// templates from the user's setup that would run during a clone.
fn git() -> Command {
    let mut c = Command::new("git");
    c.env("GIT_TERMINAL_PROMPT", "0")
        .args([
            "-c",
            "protocol.ext.allow=never",
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "http.lowSpeedLimit=1000",
            "-c",
            "http.lowSpeedTime=120",
        ])
        .stdin(std::process::Stdio::null());
    c
}

/// A directory name for `url` under `--keep-clones`: its last path segments, made safe.
fn dir_name(url: &str) -> String {
    let shown = display(url);
    let tail = shown
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .rsplit(['/', ':'])
        .take(2)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("-");
    let safe: String = tail
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.');
    if safe.is_empty() {
        "repo".into()
    } else {
        safe.to_string()
    }
}

/// A new, owner-only directory under the system temporary directory.
fn private_temp_dir() -> Result<PathBuf, String> {
    let base = std::env::temp_dir();
    for attempt in 0..16u32 {
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p = base.join(format!(
            "keyleak-clone-{}-{nonce:x}-{attempt}",
            std::process::id()
        ));
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        match b.create(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot create a temporary directory: {e}")),
        }
    }
    Err("cannot create a temporary directory".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_remote_specs() {
        for r in [
            "https://github.com/o/r",
            "git://127.0.0.1:9418/r.git",
            "ssh://git@host/r",
            "git@github.com:o/r.git",
            "file:///srv/r.git",
        ] {
            assert!(is_remote(r), "{r}");
        }
        for l in ["./repo", "repo", "/abs/repo", "a:b/c", "C:\\x"] {
            assert!(!is_remote(l), "{l}");
        }
    }

    #[test]
    fn credentials_in_urls_are_hidden() {
        assert_eq!(
            display("https://bob:ghp_secret@github.com/o/r.git"),
            "https://***@github.com/o/r.git"
        );
        assert_eq!(display("git@github.com:o/r.git"), "git@github.com:o/r.git");
        assert_eq!(dir_name("https://u:p@h.example/org/repo.git"), "org-repo");
        assert_eq!(dir_name("https://h/../../etc"), "-etc");
    }
}
