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

/// The one-line message for a fatal error: each cause in the chain, joined by `: `, as
/// anyhow's `{:#}` does, except a `git2::Error`, whose message the library's error already
/// quotes (its own `Display` adds libgit2's class and code numbers, noise for a user).
pub fn error_line(err: &anyhow::Error) -> String {
    err.chain()
        .filter(|c| !c.is::<git2::Error>())
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;
    use keyleak::source::git::GitError;

    #[test]
    fn a_git_error_keeps_its_source_and_is_printed_once() {
        let cause = git2::Error::new(
            git2::ErrorCode::NotFound,
            git2::ErrorClass::Reference,
            "revspec 'nope' not found",
        );
        let err = GitError::Git {
            context: "--range `nope`: bad revision `nope`".into(),
            source: cause,
        };
        let source = std::error::Error::source(&err).expect("the git2 error is the source");
        assert_eq!(
            source.downcast_ref::<git2::Error>().map(|e| e.code()),
            Some(git2::ErrorCode::NotFound)
        );
        let err = Err::<(), _>(anyhow::Error::new(err))
            .context("scanning")
            .unwrap_err();
        assert_eq!(
            error_line(&err),
            "scanning: --range `nope`: bad revision `nope`: revspec 'nope' not found"
        );
    }

    #[test]
    fn other_causes_are_joined_like_anyhow_alternate() {
        let err = Err::<(), _>(std::io::Error::other("disk full"))
            .context("writing report.json")
            .unwrap_err();
        assert_eq!(error_line(&err), format!("{err:#}"));
    }
}
