//! What ignore rules mean inside a git work tree. Git ignores only untracked files, so every
//! tracked file is scanned whatever `.gitignore` says (a force-added `.env` is committed and
//! leaked); untracked files that git ignores are left out, but counted and, when their names
//! usually hold secrets, named in the summary, so "no secrets found" never hides them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use git2::{Repository, Status, StatusOptions};

/// A directory walk root's place in a git work tree.
pub struct WorkTree {
    repo: Repository,
    /// The work tree's top, canonical.
    top: PathBuf,
    /// The walk root, canonical.
    root_abs: PathBuf,
    /// The walk root as given (paths are reported under it).
    root: PathBuf,
}

impl WorkTree {
    /// The work tree holding directory `root`, if it is in one (bare repositories have none).
    pub fn open(root: &Path) -> Option<WorkTree> {
        let root_abs = std::fs::canonicalize(root).ok()?;
        let repo = Repository::discover(&root_abs).ok()?;
        let top = std::fs::canonicalize(repo.workdir()?).ok()?;
        root_abs.starts_with(&top).then_some(WorkTree {
            repo,
            top,
            root_abs,
            root: root.to_path_buf(),
        })
    }

    /// A path relative to the work tree's top, as the walk reports it (under the root as given).
    fn walk_path(&self, rel: &Path) -> Option<PathBuf> {
        let abs = self.top.join(rel);
        let under = abs.strip_prefix(&self.root_abs).ok()?;
        Some(self.root.join(under))
    }

    /// Tracked regular files under the root that the walk did not visit (`visited` holds the
    /// walk's paths): those an ignore rule left out. Symlinks and submodules are not files;
    /// a path that leads outside the root through a symlinked directory is left alone.
    pub fn tracked_not_visited(&self, visited: &BTreeSet<PathBuf>) -> Vec<PathBuf> {
        let Ok(index) = self.repo.index() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for entry in index.iter() {
            // Regular files only: 0o100644 / 0o100755 (not 0o120000 links, 0o160000 gitlinks).
            if entry.mode & 0o170000 != 0o100000 {
                continue;
            }
            let rel = PathBuf::from(String::from_utf8_lossy(&entry.path).into_owned());
            let Some(p) = self.walk_path(&rel) else {
                continue;
            };
            if visited.contains(&p) {
                continue;
            }
            let inside = std::fs::canonicalize(&p).is_ok_and(|c| c.starts_with(&self.root_abs));
            if inside {
                out.push(p);
            }
        }
        out
    }

    /// Untracked paths under the root that git ignores and the walk did not visit, as the walk
    /// would report them; an ignored directory is one entry ending in `/` (it is not descended
    /// into). Git also reads the user's global excludes, which the walk does not: what the walk
    /// scanned anyway is not reported as left out.
    pub fn ignored(&self, visited: &BTreeSet<PathBuf>) -> Vec<String> {
        let mut opts = StatusOptions::new();
        opts.include_ignored(true)
            .include_untracked(false)
            .recurse_ignored_dirs(false)
            .exclude_submodules(true)
            .no_refresh(true);
        if let Ok(rel) = self.root_abs.strip_prefix(&self.top)
            && !rel.as_os_str().is_empty()
        {
            opts.pathspec(rel);
        }
        let Ok(statuses) = self.repo.statuses(Some(&mut opts)) else {
            return Vec::new();
        };
        let mut out: Vec<String> = statuses
            .iter()
            .filter(|e| e.status().contains(Status::IGNORED))
            .filter_map(|e| {
                let raw = String::from_utf8_lossy(e.path_bytes()).into_owned();
                let dir = raw.ends_with('/');
                let p = self.walk_path(Path::new(raw.trim_end_matches('/')))?;
                let walked = if dir {
                    visited
                        .range(p.clone()..)
                        .next()
                        .is_some_and(|v| v.starts_with(&p))
                } else {
                    visited.contains(&p)
                };
                if walked {
                    return None;
                }
                let mut s = super::dir::display_path(&p);
                if dir {
                    s.push('/');
                }
                Some(s)
            })
            .collect();
        out.sort();
        out
    }

    /// The git ignore files that apply to the root: `.git/info/exclude` and the `.gitignore`
    /// files from the work tree's top down to the root (the walk finds those below).
    pub fn ignore_files_above(&self) -> Vec<String> {
        let mut out = Vec::new();
        let exclude = self.repo.path().join("info").join("exclude");
        if exclude.is_file() {
            out.push(shown(&exclude));
        }
        let mut dir = self.root_abs.clone();
        while dir.pop() && dir.starts_with(&self.top) {
            let gi = dir.join(".gitignore");
            if gi.is_file() {
                out.push(shown(&gi));
            }
        }
        out
    }
}

/// `p` relative to the current directory when it is inside it.
fn shown(p: &Path) -> String {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|c| std::fs::canonicalize(c).ok());
    let rel = cwd.as_deref().and_then(|c| p.strip_prefix(c).ok());
    super::dir::display_path(rel.unwrap_or(p))
}

/// File names that usually hold secrets: env files, keys and certificates, cloud and registry
/// credentials, Terraform variables and state, kubeconfigs, wallets.
pub fn secret_shaped(path: &str) -> bool {
    let name = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase();
    let exact = [
        ".npmrc",
        ".pypirc",
        ".netrc",
        ".pgpass",
        ".dockercfg",
        ".git-credentials",
        "kubeconfig",
        "credentials",
        "secrets",
        "wallet.dat",
        "keystore",
    ];
    let prefixes = [
        ".env",
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        "credentials",
        "service-account",
        "service_account",
        "secrets.",
        "secret.",
    ];
    let suffixes = [
        ".pem",
        ".key",
        ".p12",
        ".pfx",
        ".jks",
        ".keystore",
        ".tfvars",
        ".tfvars.json",
        ".tfstate",
        ".kubeconfig",
        ".ovpn",
        ".asc",
        ".gpg",
    ];
    exact.contains(&name.as_str())
        || prefixes.iter().any(|p| name.starts_with(p))
        || suffixes.iter().any(|s| name.ends_with(s))
}

/// The summary's notes about ignored paths: the secret-shaped files by name, the rest counted.
pub fn ignored_notes(ignored: &[String]) -> Vec<String> {
    const NAMED: usize = 5;
    let (secretish, other): (Vec<&String>, Vec<&String>) = ignored
        .iter()
        .partition(|p| !p.ends_with('/') && secret_shaped(p));
    let mut notes = Vec::new();
    if !secretish.is_empty() {
        let n = secretish.len();
        let mut names: Vec<&str> = secretish.iter().take(NAMED).map(|s| s.as_str()).collect();
        let more = format!("and {} more", n - names.len());
        if n > NAMED {
            names.push(&more);
        }
        notes.push(format!(
            "not scanned: {n} ignored file{} that often hold{} secrets ({}); --no-ignore to include",
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" },
            names.join(", ")
        ));
    }
    let dirs = other.iter().filter(|p| p.ends_with('/')).count();
    let files = other.len() - dirs;
    if files + dirs > 0 {
        let mut parts = Vec::new();
        if files > 0 {
            parts.push(format!(
                "{files} {}ignored file{}",
                if secretish.is_empty() { "" } else { "other " },
                if files == 1 { "" } else { "s" }
            ));
        }
        if dirs > 0 {
            parts.push(format!(
                "{dirs} ignored director{}",
                if dirs == 1 { "y" } else { "ies" }
            ));
        }
        notes.push(format!(
            "not scanned: {} (git ignore rules; -v lists them, --no-ignore includes them)",
            parts.join(" and ")
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_shaped_names() {
        for p in [
            ".env",
            "app/.env.production",
            "certs/server.pem",
            "tls.key",
            "id_rsa",
            "id_ed25519.pub",
            "credentials-prod.json",
            "prod.tfvars",
            ".npmrc",
            "kubeconfig",
        ] {
            assert!(secret_shaped(p), "{p}");
        }
        for p in [
            "build/",
            "target/",
            "app.log",
            "node_modules/",
            "keys.rs",
            "env.py",
        ] {
            assert!(!secret_shaped(p), "{p}");
        }
    }

    #[test]
    fn notes_name_the_secret_shaped_and_count_the_rest() {
        let notes = ignored_notes(&[".env".into(), "app.log".into(), "target/".into()]);
        assert_eq!(
            notes,
            [
                "not scanned: 1 ignored file that often holds secrets (.env); --no-ignore to include",
                "not scanned: 1 other ignored file and 1 ignored directory (git ignore rules; -v lists them, --no-ignore includes them)"
            ]
        );
    }
}
