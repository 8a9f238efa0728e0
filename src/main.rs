//! keyleak's entry point: parse, run, print one error line, exit 0 / 1 / 2.

mod cli;

use std::io::ErrorKind;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Clap exits 2 on bad arguments and 0 for --help / --version; a command line another
    // scanner would accept gets the keyleak equivalent instead of clap's generic message.
    let parsed = match cli::args::Cli::try_parse() {
        Ok(p) => p,
        Err(e) => {
            let args: Vec<String> = std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            if e.use_stderr()
                && let Some(hint) = cli::hints::for_args(&args)
            {
                eprintln!("keyleak: error: {hint}");
                return ExitCode::from(cli::FATAL as u8);
            }
            e.exit()
        }
    };
    match cli::run(parsed) {
        Ok(cli::Exit::Clean) => ExitCode::SUCCESS,
        Ok(cli::Exit::Findings(code)) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(err) => {
            // A closed pipe (`keyleak … | head`) is not an error worth a message.
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            // Messages quote config values, globs, paths and rule ids from the scanned tree:
            // a newline in one must not start a line of its own (a CI workflow command).
            let msg = cli::error_line(&err);
            eprintln!("keyleak: error: {}", keyleak::escape::control(&msg));
            ExitCode::from(cli::FATAL as u8)
        }
    }
}
