//! `.gitignore`, `.ignore` and `.git/info/exclude` for the directory walk, read as hostile data.
//!
//! The `ignore` crate's own loader opens each ignore file with a plain blocking `open` and reads
//! it line by line without a limit: a committed `.gitignore -> /dev/zero` grew memory until the
//! machine ran out, and a FIFO named `.gitignore` hung the walk. Here every ignore file goes
//! through [`crate::policy_file`] (no symlink followed, no blocking open, regular files only,
//! size-capped); one that cannot be read that way is not applied, which can only make the scan
//! cover more, and is listed as skipped. The crate's matcher ([`Gitignore`]) still does the
//! pattern matching, so the patterns mean what they meant.
//!
//! `.gitignore` and `.git/info/exclude` apply only inside a git work tree (git's meaning and
//! ripgrep's convention: a `.gitignore` in an unpacked tarball hides nothing from git, so it
//! hides nothing here); `.ignore` applies everywhere. Tracked files the rules match are still
//! scanned: the walk finds them through the index afterwards (see `worktree`).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::Skipped;
use crate::model::SkipKind;
use crate::policy_file::{self, Origin};

/// Ignore files per directory inside a git work tree, highest precedence first.
const NAMES_GIT: &[&str] = &[".ignore", ".gitignore"];
/// Outside one.
const NAMES_PLAIN: &[&str] = &[".ignore"];

/// The matchers of one directory (highest precedence first).
type Level = Arc<Vec<Gitignore>>;

/// A directory's chain (none: no ignore file applies there).
type ChainRef = Option<Arc<Chain>>;

/// The ignore files in force in a directory: its own, then its nearest ancestor's that has
/// any, and so on. Directories without ignore files share their parent's chain, so checking a
/// path costs one lookup and a walk over the directories that have ignore files, however deep.
struct Chain {
    level: Level,
    parent: Option<Arc<Chain>>,
}

/// Lazily loaded ignore rules for one walk root.
pub(crate) struct Ignores {
    root: PathBuf,
    /// Ignore files of the root's ancestors up to the enclosing git work tree's top, each with
    /// the root's path relative to that ancestor.
    parents: Vec<(Level, PathBuf)>,
    /// `.git/info/exclude` of the work tree containing the root (lowest precedence).
    exclude: Option<(Gitignore, PathBuf)>,
    /// Chains by directory, keyed by two independently seeded hashes of the path rather than
    /// the path itself: 10,000 nested directories would otherwise keep ~100 MB of paths.
    cache: Mutex<HashMap<(u64, u64), ChainRef>>,
    seeds: (RandomState, RandomState),
    skipped: Mutex<Vec<Skipped>>,
    /// The ignore file names read in each directory.
    names: &'static [&'static str],
}

impl Ignores {
    /// Rules for a walk of `root`.
    pub(crate) fn new(root: &Path) -> Ignores {
        let mut ig = Ignores {
            root: root.to_path_buf(),
            parents: Vec::new(),
            exclude: None,
            cache: Mutex::new(HashMap::new()),
            seeds: (RandomState::new(), RandomState::new()),
            skipped: Mutex::new(Vec::new()),
            names: NAMES_PLAIN,
        };
        let abs = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        if abs
            .ancestors()
            .any(|d| std::fs::symlink_metadata(d.join(".git")).is_ok())
        {
            ig.names = NAMES_GIT;
        }
        let mut dir = Some(abs.as_path());
        while let Some(d) = dir {
            let rel = abs.strip_prefix(d).unwrap_or(Path::new("")).to_path_buf();
            if d != abs {
                ig.parents.push((ig.load(d), rel.clone()));
            }
            let dotgit = d.join(".git");
            if std::fs::symlink_metadata(&dotgit).is_ok() {
                if std::fs::symlink_metadata(&dotgit).is_ok_and(|m| m.is_dir()) {
                    let p = dotgit.join("info/exclude");
                    if std::fs::symlink_metadata(&p).is_ok() {
                        ig.exclude = ig.build(d, &p).map(|g| (g, rel));
                    }
                }
                break;
            }
            dir = d.parent();
        }
        ig
    }

    /// Whether `path` (under the root; a directory when `is_dir`) is ignored.
    pub(crate) fn is_ignored(&self, path: &Path, is_dir: bool) -> bool {
        let mut chain = path.parent().and_then(|d| self.chain(d));
        while let Some(c) = chain {
            for m in c.level.iter() {
                let r = m.matched(path, is_dir);
                if r.is_ignore() {
                    return true;
                }
                if r.is_whitelist() {
                    return false;
                }
            }
            chain = c.parent.clone();
        }
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        for (level, prefix) in &self.parents {
            let p = prefix.join(rel);
            for m in level.iter() {
                let r = m.matched(&p, is_dir);
                if r.is_ignore() {
                    return true;
                }
                if r.is_whitelist() {
                    return false;
                }
            }
        }
        if let Some((m, prefix)) = &self.exclude {
            return m.matched(prefix.join(rel), is_dir).is_ignore();
        }
        false
    }

    /// Ignore files that could not be read, as skipped inputs.
    pub(crate) fn take_skipped(&self) -> Vec<Skipped> {
        std::mem::take(&mut *self.skipped.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The chain in force in `dir` (a directory at or under the root). The walk reaches a
    /// directory through its parent, so the parent's chain is already cached.
    fn chain(&self, dir: &Path) -> Option<Arc<Chain>> {
        let key = (
            self.seeds.0.hash_one(dir.as_os_str()),
            self.seeds.1.hash_one(dir.as_os_str()),
        );
        if let Some(c) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return c.clone();
        }
        let parent = match dir.parent() {
            Some(p) if dir != self.root && p.starts_with(&self.root) => self.chain(p),
            _ => None,
        };
        let level = self.load(dir);
        let c = if level.is_empty() {
            parent
        } else {
            Some(Arc::new(Chain { level, parent }))
        };
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, c.clone());
        c
    }

    fn load(&self, dir: &Path) -> Level {
        let mut v = Vec::new();
        for name in self.names {
            let p = dir.join(name);
            if std::fs::symlink_metadata(&p).is_ok()
                && let Some(g) = self.build(dir, &p)
            {
                v.push(g);
            }
        }
        Arc::new(v)
    }

    /// Reads one ignore file through the hostile-file reader; patterns are relative to `dir`.
    fn build(&self, dir: &Path, file: &Path) -> Option<Gitignore> {
        let text = match policy_file::read_bytes(file, Origin::Tree) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                self.skipped
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(Skipped::new(
                        super::dir::display_path(file),
                        SkipKind::IgnoreFileNotApplied,
                        format!("ignore file not applied: {}", e.message),
                    ));
                return None;
            }
        };
        let mut b = GitignoreBuilder::new(dir);
        for line in text.lines() {
            // A bad pattern is dropped, as git does.
            let _ = b.add_line(Some(file.to_path_buf()), line);
        }
        b.build().ok()
    }
}
