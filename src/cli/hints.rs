//! Hints for command lines that clap rejects: habits from gitleaks, TruffleHog and
//! detect-secrets get the keyleak equivalent, a mistyped subcommand gets the nearest one.

/// keyleak's subcommands, for "did you mean".
const SUBCOMMANDS: &[&str] = &[
    "dir",
    "git",
    "stdin",
    "rules",
    "init",
    "baseline",
    "merge",
    "install-hook",
    "completions",
    "man",
];

/// Another scanner's subcommand and what to run instead.
const COMMANDS: &[(&str, &str)] = &[
    (
        "detect",
        "`detect` is gitleaks' command. With keyleak: `keyleak git [REPO]` scans the history, \
         `keyleak dir [PATH]` the files (gitleaks' --no-git)",
    ),
    (
        "protect",
        "`protect` is gitleaks' command. With keyleak: `keyleak git --staged` scans what is \
         staged for the next commit",
    ),
    (
        "filesystem",
        "`filesystem` is TruffleHog's command. With keyleak: `keyleak dir [PATH]...`",
    ),
    (
        "scan",
        "keyleak has no `scan` command: `keyleak dir [PATH]` scans files, `keyleak git [REPO]` \
         the git history",
    ),
];

/// Another scanner's option (without its value) and what to use instead.
const OPTIONS: &[(&str, &str)] = &[
    (
        "--redact",
        "keyleak redacts secrets in every output by default: drop `--redact` \
         (`--show-secrets` prints them in full)",
    ),
    (
        "--report-format",
        "use `-f`/`--format` (text, compact, json, jsonl, sarif, github, html, markdown)",
    ),
    ("--report-path", "use `-o`/`--output FILE`"),
    (
        "--source",
        "give the path as an argument: `keyleak git REPO` or `keyleak dir PATH`",
    ),
    (
        "--no-git",
        "use `keyleak dir PATH` to scan files without git",
    ),
    (
        "--log-opts",
        "`keyleak git` selects commits with `--range BASE..HEAD`, `--since DATE`, \
         `--max-count N` and `--branch REF`",
    ),
    ("--baseline-path", "use `--baseline FILE`"),
    (
        "--json",
        "use `-f json` (one document) or `-f jsonl` (one finding per line)",
    ),
    (
        "--fail",
        "keyleak exits 1 on findings by default; `--fail-on LEVEL` sets the lowest severity \
         that counts",
    ),
    (
        "--no-verification",
        "keyleak never sends a secret anywhere: validation is offline (checksums, formats)",
    ),
];

/// A hint for `args` (the whole command line, program name first) once clap has rejected it,
/// or None when nothing better than clap's own message is known.
pub fn for_args(args: &[String]) -> Option<String> {
    let first = args.iter().skip(1).find(|a| !a.starts_with('-'));
    // Only the first word can be a subcommand; later ones are paths.
    if let Some(cmd) = args.get(1).filter(|a| !a.starts_with('-'))
        && Some(cmd) == first
        && !SUBCOMMANDS.contains(&cmd.as_str())
    {
        if let Some((_, hint)) = COMMANDS.iter().find(|(c, _)| c == cmd) {
            return Some((*hint).to_string());
        }
        return Some(
            match keyleak::rules::nearest(SUBCOMMANDS.iter().copied(), cmd) {
                Some(n) => format!("unknown command `{cmd}`: did you mean `keyleak {n}`?"),
                None => format!(
                    "unknown command `{cmd}` (commands: {}; `keyleak --help` explains them)",
                    SUBCOMMANDS.join(", ")
                ),
            },
        );
    }
    for a in args.iter().skip(1) {
        let name = a.split('=').next().unwrap_or(a);
        if let Some((opt, hint)) = OPTIONS.iter().find(|(o, _)| *o == name) {
            return Some(format!("`{opt}` is not a keyleak option: {hint}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(line: &str) -> Option<String> {
        let args: Vec<String> = line.split(' ').map(String::from).collect();
        for_args(&args)
    }

    #[test]
    fn known_habits() {
        assert!(
            hint("keyleak detect --source .")
                .unwrap()
                .contains("keyleak git")
        );
        assert!(
            hint("keyleak dir . --redact")
                .unwrap()
                .contains("by default")
        );
        assert!(
            hint("keyleak dir --report-format=sarif")
                .unwrap()
                .contains("--format")
        );
        assert!(hint("keyleak dri").unwrap().contains("keyleak dir"));
        // A path that happens to be called `detect` is not a subcommand.
        assert_eq!(hint("keyleak dir detect --bogus"), None);
    }
}
