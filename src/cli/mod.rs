//! The command-line layer: the only code that knows about clap, anyhow or the terminal.

pub mod args;
pub mod commands;
pub mod hints;
pub mod progress;
pub mod settings;

use anyhow::Result;
use args::{Cli, Command};

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Nothing at or above `--fail-on`: 0.
    Clean,
    /// Findings (or failed rule tests): the given code.
    Findings(i32),
}

/// Exit code for errors (bad arguments, config, unreadable repo, unwritable output).
pub const FATAL: i32 = 2;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<Exit> {
    match &cli.command {
        Command::Dir(a) => commands::scan::run_dir(a),
        Command::Git(a) => commands::scan::run_git(a),
        Command::Stdin(a) => commands::scan::run_stdin(a),
        Command::Rules(c) => commands::rules::run(c),
        Command::Merge(a) => commands::merge::run(a),
        Command::Init { path } => commands::init::init(path),
        Command::Baseline(a) => commands::scan::run_baseline(a),
        Command::Completions { shell } => commands::docs::completions(*shell),
        Command::Man { dir } => commands::docs::man(dir.as_deref()),
        Command::InstallHook { repo, force } => commands::init::install_hook(repo, *force),
    }
}
