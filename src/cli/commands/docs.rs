//! `keyleak completions SHELL` and `keyleak man`: generated from the clap definitions, so they
//! never drift from the real options.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::Exit;
use crate::cli::args::Cli;

/// Prints the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Result<Exit> {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "keyleak", &mut out);
    out.flush()?;
    Ok(Exit::Clean)
}

/// Prints `keyleak.1`, or writes every page (one per subcommand) into `dir`.
pub fn man(dir: Option<&Path>) -> Result<Exit> {
    let cmd = Cli::command();
    match dir {
        None => {
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            out.flush()?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("{}: cannot create", dir.display()))?;
            clap_mangen::generate_to(cmd, dir)
                .with_context(|| format!("{}: cannot write the man pages", dir.display()))?;
            eprintln!("keyleak: wrote the man pages to {}", dir.display());
        }
    }
    Ok(Exit::Clean)
}
