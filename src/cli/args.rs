//! Command-line types (clap derive). No logic and no I/O here: `settings` validates them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// `keyleak --version`: the release, the commit it was built from and the rules it carries
/// (both recorded by build.rs), so a bug report or a CI log says exactly what ran.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("KEYLEAK_COMMIT"),
    ", ",
    env!("KEYLEAK_RULE_COUNT"),
    " built-in rules)"
);

/// keyleak: find credentials committed by mistake — exchange API keys, wallet secrets, cloud
/// and SaaS tokens — in files, git history, staged changes and pull requests.
#[derive(Debug, Parser)]
#[command(name = "keyleak", version = VERSION, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories (default: .).
    Dir(DirArgs),
    /// Scan git history, staged changes (--staged) or a commit range (--range).
    Git(GitArgs),
    /// Scan standard input.
    Stdin(StdinArgs),
    /// List, test or show rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Write a commented starter keyleak.toml (refuses to overwrite).
    Init {
        /// Where to write it (a directory gets DIR/keyleak.toml).
        #[arg(default_value = "keyleak.toml")]
        path: PathBuf,
    },
    /// Record today's findings as a baseline: later scans with --baseline (or `baseline` in
    /// keyleak.toml) report only new ones. Exits 0 whatever it finds.
    Baseline(BaselineArgs),
    /// Print a shell completion script: bash, zsh, fish, powershell, elvish.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page keyleak.1 (roff), or write a page per subcommand into --dir.
    Man {
        /// Write keyleak.1, keyleak-dir.1, keyleak-git.1… into this directory.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Combine shard reports (JSON, JSONL or SARIF from `--shard K/N` runs) into the report one
    /// run over everything would have written.
    Merge(MergeArgs),
    /// Install a plain git pre-commit hook that runs `keyleak git --staged`.
    InstallHook {
        /// The repository (default: the current directory).
        #[arg(default_value = ".")]
        repo: PathBuf,
        /// Replace an existing pre-commit hook (it is kept as pre-commit.keyleak-backup).
        #[arg(long)]
        force: bool,
    },
}

/// `keyleak dir`.
#[derive(Debug, Args)]
pub struct DirArgs {
    /// Files and directories to scan.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Also scan what .gitignore / .ignore exclude (hidden files are always scanned; .git/ never).
    #[arg(long)]
    pub no_ignore: bool,
    /// Scan only shard K of N (split by path; `keyleak merge` combines the shards' reports).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Common options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `keyleak git`.
#[derive(Debug, Args)]
pub struct GitArgs {
    /// The repositories: paths, or URLs (https://, ssh://, git://, user@host:path) to clone
    /// (default: the current directory).
    #[arg(value_name = "REPO")]
    pub repos: Vec<String>,
    /// Also scan the repositories listed in FILE (one path or URL a line; # comments).
    #[arg(long = "repos", value_name = "FILE")]
    pub repos_file: Option<PathBuf>,
    /// Keep the clones of remote repositories in DIR (reused and updated by the next run)
    /// instead of deleting them.
    #[arg(long, value_name = "DIR")]
    pub keep_clones: Option<PathBuf>,
    /// Scan only shard K of N (split by blob, or by repository when there are at least N;
    /// `keyleak merge` combines the shards' reports).
    #[arg(long, value_name = "K/N", conflicts_with_all = ["staged", "range"])]
    pub shard: Option<String>,
    /// Only what is staged for the next commit (pre-commit hook).
    #[arg(long, conflicts_with_all = ["range", "since", "max_count", "branch"])]
    pub staged: bool,
    /// Only lines added by the commits in BASE..HEAD, BASE...HEAD, or a single REV.
    #[arg(long, value_name = "BASE..HEAD", conflicts_with_all = ["since", "max_count", "branch"])]
    pub range: Option<String>,
    /// With --range: read keyleak.toml and .keyleakignore from REV's tree (e.g. a pull
    /// request's base), never from the work tree, and say when the range changes them.
    #[arg(long, value_name = "REV", requires = "range")]
    pub trust_from: Option<String>,
    /// Only commits after DATE (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Walk at most N commits.
    #[arg(long, value_name = "N")]
    pub max_count: Option<usize>,
    /// Only history reachable from REF (repeatable; default: every ref).
    #[arg(long, value_name = "REF")]
    pub branch: Vec<String>,
    /// Common options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `keyleak merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shard reports (all JSON/JSONL, or all SARIF).
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    /// Output format (default: the inputs' own): json, jsonl, sarif, html, markdown; github
    /// (workflow annotations) from SARIF reports.
    #[arg(short = 'f', long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// With `-f github`: put PREFIX before every path (the repository's directory in the
    /// workspace, with a trailing `/`).
    #[arg(long, value_name = "PREFIX", default_value = "")]
    pub path_prefix: String,
    /// Write the merged report to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Lowest severity that makes the exit code non-zero: critical, high, medium, low.
    #[arg(long, default_value = "medium", value_name = "LEVEL")]
    pub fail_on: String,
    /// Exit code when findings at or above --fail-on exist.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub exit_code: i32,
    /// No summary on stderr.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// `keyleak stdin`.
#[derive(Debug, Args)]
pub struct StdinArgs {
    /// Name to report standard input under.
    #[arg(long, default_value = "<stdin>")]
    pub name: String,
    /// Common options.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `keyleak baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// The directory (or, with --git, the repository) to record.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Record the whole git history instead of the files in the directory.
    #[arg(long)]
    pub git: bool,
    /// Where to write the baseline (a keyleak JSON report).
    #[arg(
        short = 'o',
        long,
        value_name = "FILE",
        default_value = ".keyleak-baseline.json"
    )]
    pub output: PathBuf,
    /// Config file (default: keyleak.toml or .keyleak.toml at the scanned root).
    #[arg(short = 'c', long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Options shared by every scan command.
#[derive(Debug, Args, Clone)]
pub struct CommonArgs {
    /// Output format: text, compact (one line per finding), json, jsonl, sarif, github.
    #[arg(short = 'f', long, default_value = "text", value_name = "FORMAT")]
    pub format: String,
    /// Write the report to FILE instead of stdout (the summary still goes to stderr).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Config file (default: keyleak.toml or .keyleak.toml at the top of the git work tree, or
    /// the scanned directory outside git). `-c /dev/null` is an empty config.
    #[arg(short = 'c', long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Use no config file at all (built-in rules and defaults).
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// A previous JSON or SARIF report: findings already in it are not reported again
    /// (default: `baseline` in keyleak.toml's [scan]).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Ignore the baseline named in keyleak.toml.
    #[arg(long, conflicts_with = "baseline")]
    pub no_baseline: bool,
    /// Ignore `keyleak:allow` comments (a strict gate: the scanned change cannot silence itself).
    #[arg(long)]
    pub no_inline_allow: bool,
    /// Do not read .keyleakignore.
    #[arg(long)]
    pub no_ignore_file: bool,
    /// Print secrets in full (every output redacts them otherwise).
    #[arg(long)]
    pub show_secrets: bool,
    /// Also write suppressed findings (SARIF `suppressions`, JSON `suppressed`).
    #[arg(long)]
    pub include_suppressed: bool,
    /// Lowest severity that makes the exit code non-zero: critical, high, medium, low.
    #[arg(long, default_value = "medium", value_name = "LEVEL")]
    pub fail_on: String,
    /// Lowest severity shown in the report (display only: --fail-on still decides the exit code).
    #[arg(long, default_value = "low", value_name = "LEVEL")]
    pub min_severity: String,
    /// Report order: path (path, line, column) or severity (most severe first, then path).
    #[arg(long, default_value = "path", value_name = "ORDER")]
    pub sort: String,
    /// Exit code when findings at or above --fail-on exist.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub exit_code: i32,
    /// Worker threads (default: all cores).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,
    /// Skip (and report as skipped) larger files and blobs, e.g. 25MiB.
    #[arg(long, value_name = "SIZE")]
    pub max_file_size: Option<String>,
    /// No progress bar (it only shows when stderr is a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
    /// No progress bar and no summary.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// List skipped files and suppressed findings, and why.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Do not decode base64, percent-encoding, escapes, UTF-16 or notebooks to look inside.
    #[arg(long)]
    pub no_decode: bool,
    /// Do not open archives (zip, jar, tar, tar.gz, gz…) to scan their members.
    #[arg(long)]
    pub no_archives: bool,
    /// Members scanned per archive, nested ones included, before the rest is skipped
    /// (default 10000).
    #[arg(long, value_name = "N")]
    pub max_archive_members: Option<usize>,
    /// Colour text output: auto, always, never.
    #[arg(long, default_value = "auto", value_name = "WHEN")]
    pub color: String,
    /// Ask each credential's provider whether it is live (sends it over the network; see README).
    #[arg(long)]
    pub verify: bool,
    /// With --verify: the exit code depends only on findings verified live.
    #[arg(long, requires = "verify")]
    pub fail_on_live: bool,
    /// With --verify: report only findings verified live.
    #[arg(long, requires = "verify")]
    pub only_live: bool,
    /// With --verify: seconds before one verification request gives up.
    #[arg(long, default_value_t = 10, value_name = "SECS", requires = "verify")]
    pub verify_timeout: u64,
    /// With --verify: verification requests in flight at once (at most 2 per provider).
    #[arg(long, default_value_t = 8, value_name = "N", requires = "verify")]
    pub verify_concurrency: usize,
}

/// Output of `keyleak rules list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RulesFormat {
    /// One rule a line.
    Text,
    /// A JSON array of rules.
    Json,
    /// A Markdown table, one provider a line.
    Markdown,
}

/// `keyleak rules …`.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Every rule: id, name, severity, tags.
    List {
        /// Also load custom rules from this config.
        #[arg(short = 'c', long)]
        config: Option<PathBuf>,
        /// Print JSON instead of a table (same as `--format json`).
        #[arg(long)]
        json: bool,
        /// Output: text (one rule a line), json, or markdown (one provider a line: the
        /// README's catalogue).
        #[arg(long, value_enum, default_value = "text")]
        format: RulesFormat,
        /// Only rules with this tag (repeatable: any of them).
        #[arg(long, value_name = "TAG")]
        tag: Vec<String>,
        /// Only rules of this provider, ASCII case-insensitive (repeatable: any of them).
        #[arg(long, value_name = "PROVIDER")]
        provider: Vec<String>,
    },
    /// Run every rule's examples and negative examples; non-zero on failure.
    Test {
        /// Extra rule files to load and test (patterns/*.toml format).
        files: Vec<PathBuf>,
        /// Also test the custom rules of this config.
        #[arg(short = 'c', long)]
        config: Option<PathBuf>,
    },
    /// One rule in full, with its remediation text.
    Show {
        /// Rule id.
        id: String,
        /// Also load custom rules from this config.
        #[arg(short = 'c', long)]
        config: Option<PathBuf>,
    },
}
