//! Arguments + `keyleak.toml` → validated settings. Everything after this point sees only
//! typed values; every user mistake is reported here with the flag or file it came from.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::args::CommonArgs;
use keyleak::config::{CONFIG_NAMES, Config, parse_size};
use keyleak::filter::{Filters, IGNORE_FILE};
use keyleak::finding::Severity;
use keyleak::policy_file::Origin;
use keyleak::report::Format;
use keyleak::rules::RuleSet;
use keyleak::scan::Engine;
use keyleak::source::trusted::TrustedTree;

/// Default `--max-file-size`.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 25 << 20;

/// Resolved settings for one scan.
#[derive(Debug)]
pub struct ScanSettings {
    /// Report format.
    pub format: Format,
    /// Report destination (stdout when None).
    pub output: Option<PathBuf>,
    /// Print secrets in full.
    pub show_secrets: bool,
    /// Write suppressed findings too.
    pub include_suppressed: bool,
    /// Severity threshold for the exit code.
    pub fail_on: Severity,
    /// Lowest severity written to the report (display only).
    pub min_severity: Severity,
    /// Most severe findings first instead of path order.
    pub sort_by_severity: bool,
    /// Exit code for findings.
    pub exit_code: i32,
    /// Worker threads (0 = all cores).
    pub threads: usize,
    /// Size limit.
    pub max_file_size: u64,
    /// Show a progress bar.
    pub progress: bool,
    /// Print the summary.
    pub summary: bool,
    /// List skipped inputs and suppressed findings.
    pub verbose: bool,
    /// Colour text output.
    pub color: bool,
    /// The loaded config (defaults when none).
    pub config: Config,
    /// Rules + prefilter.
    pub engine: Engine,
    /// Suppression filters.
    pub filters: Filters,
    /// What `-v` says about the config and ignore files that were loaded.
    pub loaded: Vec<String>,
    /// `--verify` limits (None: nothing leaves the machine).
    pub verify: Option<keyleak::verify::Options>,
    /// `--fail-on-live`.
    pub fail_on_live: bool,
    /// `--only-live`.
    pub only_live: bool,
}

/// Loads the rule set: builtins plus the config's custom rules and selections.
pub fn load_rules(config: &Config) -> Result<RuleSet> {
    let mut rules = RuleSet::builtin().map_err(anyhow::Error::new)?;
    config.apply(&mut rules).map_err(anyhow::Error::new)?;
    Ok(rules)
}

/// Loads `--config FILE`, or discovers one in `root`.
pub fn load_config(explicit: Option<&Path>, root: Option<&Path>) -> Result<Config> {
    if let Some(p) = explicit {
        // Any readable non-directory works: `-c /dev/null` is an empty config.
        match std::fs::metadata(p) {
            Err(_) => bail!("{}: config file not found", p.display()),
            Ok(m) if m.is_dir() => bail!("{}: config file is a directory", p.display()),
            Ok(_) => {}
        }
        return Config::load(p, Origin::User).map_err(anyhow::Error::new);
    }
    match root.and_then(Config::discover) {
        Some(p) => Config::load(&p, Origin::Tree).map_err(anyhow::Error::new),
        None => Ok(Config::default()),
    }
}

/// Where the config and the ignore file come from: the scanned tree (found in a root
/// directory), or a trusted commit (`--trust-from`).
#[derive(Debug, Clone, Copy)]
pub enum Policy<'a> {
    /// Looked for in this directory of the work tree (none: defaults only).
    Tree(Option<&'a Path>),
    /// Read from a trusted commit's tree; the work tree is never consulted.
    Trusted(&'a TrustedTree),
}

/// The policy file names `--trust-from` reads from the trusted commit.
pub fn trusted_names() -> Vec<&'static str> {
    CONFIG_NAMES.iter().copied().chain([IGNORE_FILE]).collect()
}

fn load_policy_config(explicit: Option<&Path>, policy: Policy<'_>) -> Result<Config> {
    match policy {
        Policy::Trusted(t) if explicit.is_none() => {
            match CONFIG_NAMES
                .iter()
                .find_map(|n| t.get(n).map(|text| (n, text)))
            {
                Some((name, text)) => Config::parse(Path::new(&t.display(name)), text.to_string())
                    .map_err(anyhow::Error::new),
                None => Ok(Config::default()),
            }
        }
        Policy::Trusted(_) => load_config(explicit, None),
        Policy::Tree(root) => load_config(explicit, root),
    }
}

/// The fingerprints of `.keyleakignore` and where they were read from (none when absent).
fn load_ignored(
    args: &CommonArgs,
    policy: Policy<'_>,
) -> Result<(HashSet<String>, Option<String>)> {
    if args.no_ignore_file {
        return Ok((HashSet::new(), None));
    }
    match policy {
        Policy::Trusted(t) => match t.get(IGNORE_FILE) {
            Some(text) => {
                let name = t.display(IGNORE_FILE);
                let set = keyleak::filter::parse_ignore(Path::new(&name), text)
                    .map_err(anyhow::Error::new)?;
                Ok((set, Some(name)))
            }
            None => Ok((HashSet::new(), None)),
        },
        Policy::Tree(root) => {
            let Some(r) = root else {
                return Ok((HashSet::new(), None));
            };
            let p = if r == Path::new(".") {
                PathBuf::from(IGNORE_FILE)
            } else {
                r.join(IGNORE_FILE)
            };
            // `symlink_metadata`: a link or FIFO here is refused by the reader, not skipped.
            if std::fs::symlink_metadata(&p).is_err() {
                return Ok((HashSet::new(), None));
            }
            let set = keyleak::filter::read_ignore_file(&p).map_err(anyhow::Error::new)?;
            Ok((set, Some(p.display().to_string())))
        }
    }
}

impl ScanSettings {
    /// Resolves `args`; `root` is where config and `.keyleakignore` are looked for.
    pub fn resolve(args: &CommonArgs, root: Option<&Path>) -> Result<ScanSettings> {
        Self::resolve_with(args, Policy::Tree(root))
    }

    /// Resolves `args`, with config and ignore file from `policy`.
    pub fn resolve_with(args: &CommonArgs, policy: Policy<'_>) -> Result<ScanSettings> {
        let format: Format = args
            .format
            .parse()
            .map_err(|e: String| anyhow::anyhow!("--format: {e}"))?;
        let fail_on: Severity = args
            .fail_on
            .parse()
            .map_err(|e: String| anyhow::anyhow!("--fail-on: {e}"))?;
        let min_severity: Severity = args
            .min_severity
            .parse()
            .map_err(|e: String| anyhow::anyhow!("--min-severity: {e}"))?;
        let sort_by_severity = match args.sort.as_str() {
            "path" => false,
            "severity" => true,
            other => bail!("--sort: unknown order `{other}` (expected path or severity)"),
        };
        if let Some(out) = &args.output {
            let parent = out
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            if !parent.is_dir() {
                bail!(
                    "--output {}: directory {} does not exist",
                    out.display(),
                    parent.display()
                );
            }
        }
        let root = match policy {
            Policy::Tree(r) => r,
            Policy::Trusted(_) => None,
        };
        let mut loaded = Vec::new();
        let config = if args.no_config {
            loaded.push("config: none (--no-config)".to_string());
            Config::default()
        } else {
            let c = load_policy_config(args.config.as_deref(), policy)?;
            loaded.push(match (&c.path, root, policy) {
                (Some(p), _, _) => format!("config: {}", p.display()),
                (None, _, Policy::Trusted(t)) => {
                    format!("config: none in {}", t.display(""))
                }
                (None, Some(r), _) => format!(
                    "config: none (no keyleak.toml or .keyleak.toml in {})",
                    r.display()
                ),
                (None, None, _) => "config: none".to_string(),
            });
            c
        };
        let max_file_size = match &args.max_file_size {
            Some(s) => parse_size(s).map_err(|e| anyhow::anyhow!("--max-file-size: {e}"))?,
            None => config.max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE),
        };
        let rules = load_rules(&config)?;
        let baseline = match (&args.baseline, &config.baseline) {
            (_, _) if args.no_baseline => Default::default(),
            (Some(p), _) => keyleak::baseline::load(p).map_err(anyhow::Error::new)?,
            (None, Some(p)) => {
                if !p.is_file() {
                    bail!(
                        "{}: [scan] baseline `{}` not found (create it with `keyleak baseline`, \
                         or pass --no-baseline)",
                        config
                            .path
                            .as_deref()
                            .unwrap_or(Path::new("keyleak.toml"))
                            .display(),
                        p.display()
                    );
                }
                keyleak::baseline::load(p).map_err(anyhow::Error::new)?
            }
            (None, None) => Default::default(),
        };
        let (ignored, ignore_file) = load_ignored(args, policy)?;
        if let Some(p) = &ignore_file {
            loaded.push(format!("fingerprint ignore file: {p}"));
        }
        loaded.push(format!(
            "scan kernels: {} ({}=portable|sse2 caps them)",
            keyleak::simd::level().name(),
            keyleak::simd::ENV
        ));
        let mut filters = Filters::new(&config, ignored, baseline).map_err(anyhow::Error::new)?;
        if args.no_inline_allow {
            filters = filters.without_inline();
        }
        if let Some(Some(base)) = root.map(cwd_below) {
            filters = filters.with_base(&base);
        }
        let stderr_tty = std::io::stderr().is_terminal();
        let color = match args.color.as_str() {
            "always" => true,
            "never" => false,
            "auto" => {
                args.output.is_none()
                    && std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none()
            }
            other => bail!("--color: unknown value `{other}` (expected auto, always or never)"),
        };
        let verify = if args.verify {
            if args.verify_concurrency == 0 {
                bail!("--verify-concurrency: must be at least 1");
            }
            if args.verify_timeout == 0 {
                bail!("--verify-timeout: must be at least 1 second");
            }
            let base_url = keyleak::verify::test_base_url().map_err(|e| anyhow::anyhow!(e))?;
            Some(keyleak::verify::Options {
                timeout: std::time::Duration::from_secs(args.verify_timeout),
                concurrency: args.verify_concurrency,
                base_url,
                ..Default::default()
            })
        } else {
            None
        };
        let threads = args.threads.unwrap_or(0);
        if threads > 0 {
            // One pool for the whole process: git uses rayon, dir uses ignore's own threads.
            let _ = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build_global();
        }
        Ok(ScanSettings {
            format,
            output: args.output.clone(),
            show_secrets: args.show_secrets,
            include_suppressed: args.include_suppressed,
            fail_on,
            min_severity,
            sort_by_severity,
            exit_code: args.exit_code,
            threads,
            max_file_size,
            progress: stderr_tty && !args.no_progress && !args.quiet,
            summary: !args.quiet,
            verbose: args.verbose,
            color,
            config,
            engine: Engine::with_decode(rules, decode_options(args, max_file_size)),
            filters,
            loaded,
            verify,
            fail_on_live: args.fail_on_live,
            only_live: args.only_live,
        })
    }
}

/// `--no-decode` / `--no-archives`; archive members obey `--max-file-size` too.
fn decode_options(args: &CommonArgs, max_file_size: u64) -> keyleak::decode::DecodeOptions {
    keyleak::decode::DecodeOptions {
        inline: !args.no_decode,
        archives: (!args.no_archives).then(|| {
            let defaults = keyleak::decode::archive::ArchiveLimits::default();
            keyleak::decode::archive::ArchiveLimits {
                max_member_size: max_file_size,
                max_members: args.max_archive_members.unwrap_or(defaults.max_members),
                ..defaults
            }
        }),
    }
}

/// The directory a scan's config and `.keyleakignore` are discovered in: the top of the git
/// work tree of every path (see [`Config::root_for`]). Paths whose configs differ are an error,
/// since no single answer would be right for all of them.
pub fn scan_root(paths: &[PathBuf], explicit: bool) -> Result<Option<PathBuf>> {
    let mut roots: Vec<(PathBuf, Option<PathBuf>, &Path)> = Vec::new();
    for p in paths {
        let root = Config::root_for(p);
        let found = Config::discover(&root).and_then(|c| std::fs::canonicalize(c).ok());
        if !roots.iter().any(|(_, f, _)| *f == found) {
            roots.push((root, found, p));
        }
    }
    if roots.len() > 1 && !explicit {
        let list: Vec<String> = roots
            .iter()
            .map(|(r, f, p)| {
                format!(
                    "{} uses {}",
                    p.display(),
                    f.as_ref().map_or_else(
                        || format!("no config (none in {})", r.display()),
                        |f| f.display().to_string()
                    )
                )
            })
            .collect();
        bail!(
            "the paths given have different configs ({}): scan them separately, or name one with -c FILE or --no-config",
            list.join("; ")
        );
    }
    Ok(roots.into_iter().next().map(|(r, _, _)| r))
}

/// The current directory relative to `root`, when it is inside it.
fn cwd_below(root: &Path) -> Option<PathBuf> {
    let root = std::fs::canonicalize(root).ok()?;
    let cwd = std::fs::canonicalize(std::env::current_dir().ok()?).ok()?;
    cwd.strip_prefix(root).ok().map(Path::to_path_buf)
}

/// Canonical form of a user path for messages.
pub fn exists_or_bail(p: &Path) -> Result<()> {
    std::fs::symlink_metadata(p).with_context(|| format!("{}: cannot scan", p.display()))?;
    Ok(())
}
