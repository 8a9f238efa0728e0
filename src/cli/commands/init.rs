//! `keyleak init` and `keyleak install-hook`: write starter files, never clobbering silently.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::cli::Exit;
use keyleak::config::STARTER;

/// Writes a starter `keyleak.toml` (into `path` when it is a directory).
pub fn init(path: &Path) -> Result<Exit> {
    let joined;
    let path = if path.is_dir() {
        joined = path.join("keyleak.toml");
        joined.as_path()
    } else {
        path
    };
    if path.exists() {
        bail!("{}: already exists; not overwriting it", path.display());
    }
    std::fs::write(path, STARTER).with_context(|| format!("{}: cannot write", path.display()))?;
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
    if hook.exists() {
        let current = std::fs::read_to_string(&hook).unwrap_or_default();
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
        std::fs::rename(&hook, hooks.join("pre-commit.keyleak-backup"))?;
    }
    std::fs::write(&hook, HOOK).with_context(|| format!("{}: cannot write", hook.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))?;
    }
    eprintln!("keyleak: installed {}", hook.display());
    Ok(Exit::Clean)
}
