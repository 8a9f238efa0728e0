//! `keyleak init` and `keyleak install-hook`: write starter files, never clobbering silently.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::cli::Exit;
use keyleak::config::STARTER;

/// Creates `path` with `contents`, failing if anything is already there: a file, a directory,
/// or a symbolic link, even a dangling one (O_EXCL never follows it, so a link planted in a
/// repository cannot make keyleak write outside it).
fn create_new(path: &Path, contents: &str, mode: u32) -> Result<()> {
    if std::fs::symlink_metadata(path).is_ok() {
        bail!("{}: already exists; not overwriting it", path.display());
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    let _ = mode;
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!("{}: already exists; not overwriting it", path.display())
        } else {
            anyhow::Error::new(e).context(format!("{}: cannot write", path.display()))
        }
    })?;
    f.write_all(contents.as_bytes())
        .with_context(|| format!("{}: cannot write", path.display()))
}

/// Writes a starter `keyleak.toml` (into `path` when it is a directory; a link to a
/// directory is not followed, so a planted one cannot redirect the write).
pub fn init(path: &Path) -> Result<Exit> {
    let joined;
    let is_dir = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
    let path = if is_dir {
        joined = path.join("keyleak.toml");
        joined.as_path()
    } else {
        path
    };
    create_new(path, STARTER, 0o644)?;
    eprintln!("keyleak: wrote {}", path.display());
    Ok(Exit::Clean)
}

/// The hook script: fails the commit when staged changes add a secret.
pub const HOOK: &str = "#!/bin/sh\n# Installed by `keyleak install-hook`: blocks commits that add secrets.\n# Bypass once (not recommended): git commit --no-verify\nexec keyleak git --staged --no-progress \"$@\"\n";

/// Installs `.git/hooks/pre-commit` in `repo`.
pub fn install_hook(repo: &Path, force: bool) -> Result<Exit> {
    let r = git2::Repository::discover(repo)
        .map_err(|_| anyhow::anyhow!("{}: not a git repository", repo.display()))?;
    let hooks = match r
        .config()
        .ok()
        .and_then(|c| c.get_path("core.hooksPath").ok())
    {
        Some(p) if p.is_absolute() => p,
        Some(p) => r.workdir().unwrap_or(r.path()).join(p),
        None => r.path().join("hooks"),
    };
    std::fs::create_dir_all(&hooks)
        .with_context(|| format!("{}: cannot create", hooks.display()))?;
    let hook = hooks.join("pre-commit");
    // `symlink_metadata`: a dangling link is "something there" too, never written through.
    if let Ok(meta) = std::fs::symlink_metadata(&hook) {
        let current = if meta.is_file() {
            std::fs::read_to_string(&hook).unwrap_or_default()
        } else {
            String::new()
        };
        if current == HOOK {
            eprintln!("keyleak: {} is already installed", hook.display());
            return Ok(Exit::Clean);
        }
        if !force {
            bail!(
                "{}: a pre-commit hook already exists; add `keyleak git --staged` to it, or rerun with --force (the old hook is kept as pre-commit.keyleak-backup)",
                hook.display()
            );
        }
        let backup = hooks.join("pre-commit.keyleak-backup");
        if std::fs::symlink_metadata(&backup).is_ok() {
            bail!(
                "{}: a backup from an earlier --force already exists; move it away first (it is never overwritten)",
                backup.display()
            );
        }
        // Renames the hook (or the link) itself, never what a link points to.
        std::fs::rename(&hook, &backup).with_context(|| {
            format!("{}: cannot move it to {}", hook.display(), backup.display())
        })?;
    }
    create_new(&hook, HOOK, 0o755)?;
    eprintln!("keyleak: installed {}", hook.display());
    Ok(Exit::Clean)
}
