//! A repository's control files checked before libgit2 (or keyleak) opens them. libgit2
//! reads `.git/config`, `HEAD`, `packed-refs`, `objects/info/alternates`, `shallow`… with plain
//! blocking reads: in an unpacked tarball any of them can be a FIFO (the open never returns) or
//! a link to `/dev/zero` (the read never ends). Anything but a regular file (or a directory
//! where one is expected) is refused with a clear error instead.

use std::path::{Path, PathBuf};

/// Files of a git directory that libgit2 or keyleak read whole.
const CONTROL_FILES: &[&str] = &[
    "config",
    "HEAD",
    "packed-refs",
    "commondir",
    "gitdir",
    "shallow",
    "index",
    "objects/info/alternates",
    "info/grafts",
];

/// Checks the repository containing `path` (its `.git` entry, or a bare repository) before it
/// is opened. Returns the offending file and why, if any.
pub fn check(path: &Path) -> Result<(), String> {
    let start = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut cur: Option<&Path> = Some(&start);
    while let Some(dir) = cur {
        let dotgit = dir.join(".git");
        if let Ok(meta) = std::fs::symlink_metadata(&dotgit) {
            if meta.is_dir() {
                return check_gitdir(&dotgit);
            }
            // A `.git` file (`gitdir: …`, worktrees and submodules) is read by libgit2.
            regular(&dotgit)?;
            return Ok(());
        }
        if dir.join("objects").is_dir() && std::fs::symlink_metadata(dir.join("HEAD")).is_ok() {
            return check_gitdir(dir);
        }
        cur = dir.parent();
    }
    Ok(())
}

fn check_gitdir(dir: &Path) -> Result<(), String> {
    for name in CONTROL_FILES {
        let p = dir.join(name);
        if std::fs::symlink_metadata(&p).is_ok() {
            regular(&p)?;
        }
    }
    Ok(())
}

/// `p` must end (after links) at a regular file.
fn regular(p: &Path) -> Result<(), String> {
    let shown = || PathBuf::from(p).display().to_string();
    match std::fs::metadata(p) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(_) => Err(format!(
            "{}: not a regular file (a FIFO, device or directory); refusing to open the repository",
            crate::escape::control(&shown())
        )),
        // A dangling link: libgit2 fails cleanly on it.
        Err(_) => Ok(()),
    }
}
