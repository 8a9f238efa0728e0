//! keyleak's entry point: parse, run, print one error line, exit 0 / 1 / 2.

mod cli;

use std::io::ErrorKind;
use std::process::ExitCode;

use clap::Parser;

// mimalloc instead of the platform allocator. A scan makes many short-lived allocations on every
// worker (regex compilation for the rules a file wakes, decoded candidates, findings). Measured
// on ccxt (59 MB, 2 threads, medians of 25-30 interleaved runs): glibc 82.0 ms, 145 ms CPU;
// mimalloc 66.1 ms, 121 ms CPU. The Linux tree and both histories are unchanged (±2 %); peak RSS
// grows on the tree (61 → 100 MiB), not on history. The release binaries are static musl builds,
// whose allocator is far slower under threads: ccxt 165 → 73 ms, the Linux tree 1.11 → 0.90 s,
// hummingbot's history 4.47 → 3.43 s. mimalloc v3 was 6 % slower on ccxt and took 26 % more
// memory on history than v2.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
