//! `dir`, `git` and `stdin`: source → findings → filters → report → exit code.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::cli::Exit;
use crate::cli::args::{BaselineArgs, DirArgs, GitArgs, StdinArgs};
use crate::cli::progress::Progress;
use crate::cli::settings::{Policy, ScanSettings, exists_or_bail, scan_root, trusted_names};
use keyleak::config::Config;
use keyleak::escape::control as esc;
use keyleak::finding::{Finding, Suppression, VerifyStatus};
use keyleak::model::SkipKind;
use keyleak::report::{self, Report, Stats};
use keyleak::source::git::{GitMode, GitOptions};
use keyleak::source::shard::Shard;
use keyleak::source::{Counters, SourceOutput, dir, git, human_bytes, remote, repos, stdin};

/// `keyleak dir`.
pub fn run_dir(args: &DirArgs) -> Result<Exit> {
    for p in &args.paths {
        exists_or_bail(p)?;
    }
    let root = scan_root(
        &args.paths,
        args.common.config.is_some() || args.common.no_config,
    )?;
    let settings = ScanSettings::resolve(&args.common, root.as_deref())?;
    let mut exclude = settings.config.exclude.clone();
    // Never scan our own report when it is written inside the scanned tree.
    if let Some(out) = &settings.output
        && let Some(name) = out.file_name()
    {
        exclude.push(format!("/{}", name.to_string_lossy()));
    }
    let opts = dir::DirOptions {
        paths: args.paths.clone(),
        max_file_size: settings.max_file_size,
        no_ignore: args.no_ignore,
        exclude: keyleak::glob::Globs::new(&exclude).context("[scan] exclude")?,
        threads: settings.threads,
        shard: parse_shard(args.shard.as_deref())?,
    };
    let counters = Arc::new(Counters::default());
    let start = Instant::now();
    let progress = Progress::start(settings.progress, counters.clone(), "files");
    let mut out = dir::scan(&opts, &settings.engine, &counters);
    progress.finish();
    if Counters::get(&counters.scanned) == 0 {
        out.notes.push(
            "scanned 0 files: nothing was read, so this is not a clean result (check the paths, \
             ignore rules, [scan] exclude and --max-file-size; -v lists what was left out)"
                .to_string(),
        );
    }
    finish(&settings, out, &counters, start, "files", Scope::Tree)
}

/// `keyleak stdin`.
pub fn run_stdin(args: &StdinArgs) -> Result<Exit> {
    let root = Config::root_for(Path::new("."));
    let settings = ScanSettings::resolve(&args.common, Some(&root))?;
    let counters = Arc::new(Counters::default());
    let start = Instant::now();
    let out = stdin::scan(
        io::stdin().lock(),
        &args.name,
        settings.max_file_size,
        &settings.engine,
        &counters,
    )
    .context("reading standard input")?;
    finish(&settings, out, &counters, start, "inputs", Scope::Tree)
}

/// `keyleak git`.
pub fn run_git(args: &GitArgs) -> Result<Exit> {
    let shard = parse_shard(args.shard.as_deref())?;
    let mut specs = args.repos.clone();
    if let Some(file) = &args.repos_file {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("--repos {}", file.display()))?;
        specs.extend(repos::read_list(&text));
    }
    if specs.is_empty() && args.repos_file.is_none() {
        specs.push(".".into());
    }
    let mut seen = std::collections::HashSet::new();
    specs.retain(|s| seen.insert(s.clone()));
    let several = specs.len() != 1 || args.repos_file.is_some() || remote::is_remote(&specs[0]);
    let mode = if args.staged {
        GitMode::Staged
    } else if let Some(r) = &args.range {
        GitMode::Range(r.clone())
    } else {
        GitMode::History {
            since: args.since.clone(),
            max_count: args.max_count,
            branches: args.branch.clone(),
        }
    };
    if several {
        if !matches!(mode, GitMode::History { .. }) {
            bail!("--staged and --range scan one local repository");
        }
        return run_repos(args, specs, mode, shard);
    }
    let repo = PathBuf::from(&specs[0]);
    exists_or_bail(&repo)?;
    let root = Config::root_for(&repo);
    let trusted = match &args.trust_from {
        Some(rev) => Some(
            keyleak::source::trusted::read(&repo, rev, &trusted_names())
                .map_err(anyhow::Error::new)?,
        ),
        None => None,
    };
    let policy = match &trusted {
        Some(t) => Policy::Trusted(t),
        None => Policy::Tree(Some(&root)),
    };
    let settings = ScanSettings::resolve_with(&args.common, policy)?;
    if args.staged && settings.verify.is_some() && !settings.config.verify_allow_staged {
        anyhow::bail!(
            "--verify is refused with --staged: a pre-commit hook stays offline \
             (set `[verify] allow_staged = true` in keyleak.toml to allow it)"
        );
    }
    let opts = GitOptions {
        repo: repo.clone(),
        mode,
        max_file_size: settings.max_file_size,
        threads: settings.threads,
        shard,
    };
    let counters = Arc::new(Counters::default());
    let start = Instant::now();
    let progress = Progress::start(settings.progress, counters.clone(), "blobs");
    let out = git::scan(&opts, &settings.engine, &counters);
    progress.finish();
    let mut out = out.map_err(anyhow::Error::new)?;
    if !args.staged {
        keyleak::source::head::mark_at_head(&repo, &mut out.findings);
    }
    drop_excluded(&settings, &mut out.findings)?;
    if let (Some(t), Some(spec)) = (&trusted, &args.range) {
        let head = keyleak::source::trusted::range_head(spec);
        let changed = keyleak::source::trusted::changed(&repo, t, head, &trusted_names())
            .map_err(anyhow::Error::new)?;
        for name in changed {
            out.notes.push(format!(
                "this range changes {name}; the scan used {} (--trust-from), so the change \
                 takes effect only once it is merged",
                t.display(&name)
            ));
        }
    }
    let scope = if args.staged {
        Scope::Staged
    } else if args.range.is_some() {
        Scope::Range
    } else {
        Scope::Tree
    };
    finish(&settings, out, &counters, start, "blobs", scope)
}

/// `[scan] exclude` on history: a blob has many paths over time, so the findings are
/// filtered by the path they were reported at.
fn drop_excluded(settings: &ScanSettings, findings: &mut Vec<Finding>) -> Result<()> {
    if !settings.config.exclude.is_empty() {
        let ex = keyleak::glob::Globs::new(&settings.config.exclude).context("[scan] exclude")?;
        findings.retain(|f| !ex.is_match(&f.path, false));
    }
    Ok(())
}

/// Several repositories (or remote ones): one report, one summary, one exit code. Their own
/// `keyleak.toml` and `.keyleakignore` are not read (an audit applies one policy, `-c`, to
/// repositories it does not trust).
fn run_repos(
    args: &GitArgs,
    specs: Vec<String>,
    mode: GitMode,
    shard: Option<Shard>,
) -> Result<Exit> {
    let settings = ScanSettings::resolve(&args.common, None)?;
    let opts = repos::ReposOptions {
        specs,
        mode,
        max_file_size: settings.max_file_size,
        threads: settings.threads,
        keep_clones: args.keep_clones.clone(),
        shard,
    };
    let counters = Arc::new(Counters::default());
    let start = Instant::now();
    let progress = Progress::start(settings.progress, counters.clone(), "blobs");
    let result = repos::scan(&opts, &settings.engine, &counters);
    progress.finish();
    let mut out = result.output;
    drop_excluded(&settings, &mut out.findings)?;
    let exit = finish(&settings, out, &counters, start, "blobs", Scope::Tree)?;
    // A repository that could not be scanned is never a clean pass.
    Ok(match exit {
        Exit::Clean if result.failed > 0 => Exit::Findings(crate::cli::FATAL),
        e => e,
    })
}

/// `--shard K/N`.
fn parse_shard(s: Option<&str>) -> Result<Option<Shard>> {
    s.map(|s| {
        s.parse::<Shard>()
            .map_err(|e| anyhow::anyhow!("--shard: {e}"))
    })
    .transpose()
}

/// What was scanned, for what `finish` says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// A tree, a history, stdin.
    Tree,
    /// The staged changes (a pre-commit hook): a failure ends with what to do next.
    Staged,
    /// A range: every finding is on a line the change adds, so a `keyleak:allow` on it was
    /// written by the change itself.
    Range,
}

/// Sorts, filters, reports, summarises and decides the exit code.
fn finish(
    settings: &ScanSettings,
    out: SourceOutput,
    counters: &Counters,
    start: Instant,
    unit: &str,
    scope: Scope,
) -> Result<Exit> {
    let SourceOutput {
        mut findings,
        mut skipped,
        mut notes,
        ignored,
        ignore_files,
    } = out;
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup_by(|a, b| a.sort_key() == b.sort_key() && a.byte_range == b.byte_range);
    skipped.sort();
    let (mut findings, mut suppressed) = settings.filters.apply(findings);
    notes.extend(settings.filters.unhonoured_markers(&findings));
    if scope == Scope::Range {
        for f in &mut suppressed {
            if f.suppressed == Some(Suppression::Inline) {
                f.suppressed = Some(Suppression::InlineAdded);
            }
        }
    }
    let verified = settings.verify.as_ref().map(|opts| {
        if let Some(base) = &opts.base_url {
            eprintln!(
                "keyleak: warning: verification requests go to the test stand-in {base} \
                 ({} is set), not to the providers",
                keyleak::verify::TEST_BASE_URL_ENV
            );
        }
        keyleak::verify::verify(&mut findings, opts)
    });
    if settings.only_live {
        findings.retain(|f| {
            f.verification
                .as_ref()
                .is_some_and(|v| v.status == VerifyStatus::Live)
        });
    }
    // The verdict is taken on every finding; --min-severity only trims what is shown.
    let failing = findings.iter().any(|f| {
        !f.known_public
            && f.severity >= settings.fail_on
            && (!settings.fail_on_live
                || f.verification
                    .as_ref()
                    .is_some_and(|v| v.status == VerifyStatus::Live))
    });
    let total = findings.len();
    findings.retain(|f| f.severity >= settings.min_severity);
    let hidden = total - findings.len();
    if settings.sort_by_severity {
        // Stable: path order within a severity.
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    }
    let stats = Stats {
        scanned: Counters::get(&counters.scanned),
        bytes: Counters::get(&counters.bytes),
        elapsed: start.elapsed(),
        commits: Counters::get(&counters.commits),
    };
    let report = Report {
        findings: &findings,
        suppressed: &suppressed,
        rules: settings.engine.rules(),
        skipped: &skipped,
        notes: &notes,
        stats,
        show_secrets: settings.show_secrets,
        include_suppressed: settings.include_suppressed,
        color: settings.color,
    };
    write_report(settings, &report)?;
    print_rule_warnings(settings.engine.rules());
    if settings.summary {
        print_summary(settings, &report, unit, hidden);
        if settings.verbose {
            let mut err = io::stderr().lock();
            for f in &ignore_files {
                let _ = writeln!(err, "keyleak: ignore file: {f}");
            }
            for p in &ignored {
                let _ = writeln!(err, "keyleak: not scanned (ignored): {p}");
            }
        }
        if let Some(v) = &verified {
            eprintln!(
                "keyleak: verified {} distinct credential{}: {} finding{} live, {} revoked, {} error, {} unsupported",
                v.checked,
                if v.checked == 1 { "" } else { "s" },
                v.live,
                if v.live == 1 { "" } else { "s" },
                v.revoked,
                v.error,
                v.unsupported
            );
        }
        if scope == Scope::Staged && failing {
            print_next_steps();
        }
    }
    // The process exits right after this: the compiled rules (regexes, their lazy-DFA caches,
    // the keyword automaton) are left to the operating system rather than freed one allocation
    // at a time, which is serial work after the scan (31M instructions on ccxt;
    // bench/RESULTS.md, issue 20, session 7).
    std::mem::forget(settings.engine.clone());
    Ok(if failing {
        Exit::Findings(settings.exit_code)
    } else {
        Exit::Clean
    })
}

fn write_report(settings: &ScanSettings, report: &Report<'_>) -> Result<()> {
    write_output(
        settings.output.as_deref(),
        settings.show_secrets,
        &|w: &mut dyn Write| report::write(settings.format, report, w),
    )
}

/// Writes a report to stdout, or to `output` atomically; `private` (unredacted secrets) makes
/// the file owner-only.
pub fn write_output(
    output: Option<&Path>,
    private: bool,
    write: &dyn Fn(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    match output {
        None => {
            let stdout = io::stdout();
            let mut w = BufWriter::new(stdout.lock());
            match write(&mut w).and_then(|()| w.flush()) {
                // `keyleak … | head`: the reader has seen all it wants, but the scan's verdict
                // stands, so the exit code still says whether there were findings.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                r => r.map_err(|e| anyhow::Error::new(e).context("writing the report to stdout")),
            }
        }
        Some(path) if std::fs::symlink_metadata(path).is_ok_and(|m| !m.is_file()) => {
            // Not a regular file (`/dev/null`, `/dev/stdout`, a FIFO, a symlink): write through
            // it. Renaming a temporary file onto it would replace the device or the link itself
            // (run as root, `-o /dev/null` turned the machine's /dev/null into a plain file).
            let result = (|| -> io::Result<()> {
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(path)?;
                if private && f.metadata()?.is_file() {
                    restrict(&f)?;
                }
                let mut w = BufWriter::new(f);
                write(&mut w)?;
                w.flush()
            })();
            result
                .map_err(|e| anyhow::Error::new(e).context(format!("--output {}", path.display())))
        }
        Some(path) => {
            // Write beside the target and rename, so a failure never leaves half a report. The
            // temporary file has a random name and is created exclusively (O_EXCL): a name
            // planted in advance, a symlink to somewhere else, is never written through.
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let result = (|| -> io::Result<()> {
                let mut b = tempfile::Builder::new();
                b.prefix(".keyleak-report-").suffix(".tmp");
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = if private { 0o600 } else { 0o644 };
                    b.permissions(std::fs::Permissions::from_mode(mode));
                }
                let tmp = b.tempfile_in(dir)?;
                let mut w = BufWriter::new(tmp);
                write(&mut w)?;
                w.flush()?;
                let tmp = w.into_inner().map_err(|e| e.into_error())?;
                tmp.persist(path).map_err(|e| e.error)?;
                Ok(())
            })();
            result
                .map_err(|e| anyhow::Error::new(e).context(format!("--output {}", path.display())))
        }
    }
}

/// Makes an existing report file (reached through a symlink) owner-only, for unredacted secrets.
fn restrict(f: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    let _ = f;
    Ok(())
}

/// After a blocked commit: the ways out, most important first.
fn print_next_steps() {
    eprint!(
        "keyleak: commit blocked. For each finding, either:\n\
         \x20 1. remove the secret from the file, `git add` it again, and rotate the secret (revoke it\n\
         \x20    and issue a new one): it may already be copied elsewhere;\n\
         \x20 2. if it is not a real secret (a test value, an example), add `keyleak:allow` in a\n\
         \x20    comment on its line;\n\
         \x20 3. if it was reviewed and accepted, add its fingerprint to .keyleakignore.\n\
         \x20 Then commit again. To commit anyway, once: git commit --no-verify\n"
    );
}

/// Rules the scan needed but could not compile (they matched nothing): always said, summary
/// or not, since findings may be missing.
pub(crate) fn print_rule_warnings(rules: &keyleak::rules::RuleSet) {
    let mut err = io::stderr().lock();
    for w in rules.compile_warnings() {
        let _ = writeln!(err, "keyleak: warning: {}", esc(&w));
    }
}

/// "1 commit", "2 commits".
fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn print_summary(settings: &ScanSettings, report: &Report<'_>, unit: &str, hidden: usize) {
    let mut err = io::stderr().lock();
    let s = &report.stats;
    // "1 file", "2 files": the unit is given in the plural.
    let unit = if s.scanned == 1 {
        unit.trim_end_matches('s')
    } else {
        unit
    };
    let mut line = format!(
        "keyleak: scanned {} {unit} ({}) in {:.2}s",
        s.scanned,
        human_bytes(s.bytes),
        s.elapsed.as_secs_f64()
    );
    if s.commits > 0 {
        line.push_str(&format!(", {}", plural(s.commits, "commit", "commits")));
    }
    if !report.skipped.is_empty() {
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        for sk in report.skipped {
            *reasons
                .entry(sk.reason.kind.label().to_string())
                .or_default() += 1;
        }
        let parts: Vec<String> = reasons
            .iter()
            .map(|(r, n)| format!("{n} {}", esc(r)))
            .collect();
        line.push_str(&format!(
            "; skipped {} ({})",
            report.skipped.len(),
            parts.join(", ")
        ));
        if !settings.verbose {
            line.push_str(", -v lists them");
        }
    }
    let _ = writeln!(err, "{line}");
    if settings.verbose {
        for l in &settings.loaded {
            let _ = writeln!(err, "keyleak: {l}");
        }
    }
    if report
        .skipped
        .iter()
        .any(|sk| sk.reason.kind == SkipKind::ArchiveMemberLimit)
    {
        let _ = writeln!(
            err,
            "keyleak: raise the archive member limit with --max-archive-members N"
        );
    }
    for note in report.notes {
        let _ = writeln!(err, "keyleak: warning: {}", esc(note));
    }
    if settings.verbose {
        for sk in report.skipped {
            let _ = writeln!(
                err,
                "keyleak: skipped {}: {}",
                esc(&sk.path),
                esc(&sk.reason.detail)
            );
        }
    }
    if report.findings.is_empty() && hidden == 0 && s.scanned == 0 {
        let _ = writeln!(err, "keyleak: no secrets found, but nothing was scanned");
    } else if report.findings.is_empty() && hidden == 0 {
        let _ = writeln!(err, "keyleak: no secrets found");
    } else if report.findings.is_empty() {
        let _ = writeln!(
            err,
            "keyleak: {} below --min-severity {} not shown",
            plural(hidden as u64, "finding", "findings"),
            settings.min_severity
        );
    } else {
        let sev: Vec<String> = report
            .by_severity()
            .iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        let rules: Vec<String> = report
            .by_rule()
            .iter()
            .map(|(r, n)| format!("{} ×{n}", esc(r)))
            .collect();
        let public = report.findings.iter().filter(|f| f.known_public).count();
        let mut l = format!(
            "keyleak: {} finding{} ({}): {}",
            report.findings.len(),
            if report.findings.len() == 1 { "" } else { "s" },
            sev.join(", "),
            rules.join(", ")
        );
        if public > 0 {
            l.push_str(&format!(
                "; {} not fail the scan",
                plural(
                    public as u64,
                    "known public test key does",
                    "known public test keys do"
                )
            ));
        }
        if hidden > 0 {
            l.push_str(&format!(
                "; {} below --min-severity {} not shown",
                plural(hidden as u64, "finding", "findings"),
                settings.min_severity
            ));
        }
        let _ = writeln!(err, "{l}");
    }
    if !report.suppressed.is_empty() {
        let mut by: BTreeMap<&str, usize> = BTreeMap::new();
        for f in report.suppressed {
            *by.entry(f.suppressed.map_or("?", |s| s.label()))
                .or_default() += 1;
        }
        let parts: Vec<String> = by.iter().map(|(k, n)| format!("{n} by {k}")).collect();
        let _ = writeln!(err, "keyleak: suppressed {}", parts.join(", "));
        // Not only with -v: a change that silences its own finding is what a reviewer must see.
        for f in report
            .suppressed
            .iter()
            .filter(|f| !settings.verbose && f.suppressed == Some(Suppression::InlineAdded))
        {
            let _ = writeln!(
                err,
                "keyleak: warning: {}:{}:{} {} is suppressed by a keyleak:allow this change adds",
                esc(&f.path),
                f.span.line,
                f.span.column,
                esc(&f.rule_id),
            );
        }
        if settings.verbose {
            for f in report.suppressed {
                let _ = writeln!(
                    err,
                    "keyleak: suppressed {}:{}:{} {} ({}) fingerprint {}",
                    esc(&f.path),
                    f.span.line,
                    f.span.column,
                    esc(&f.rule_id),
                    f.suppressed.map_or("?", |s| s.label()),
                    f.fingerprint
                );
            }
        }
    }
}

/// `keyleak baseline`: a JSON report of today's findings, written whatever they are (exit 0),
/// so the recipe works under `set -e`. Runs the ordinary `dir` / `git` scan with fixed options,
/// ignoring any existing baseline (re-recording must not drop what it lists).
pub fn run_baseline(args: &BaselineArgs) -> Result<Exit> {
    use clap::Parser;
    #[derive(Parser)]
    struct DirOnly {
        #[command(flatten)]
        a: DirArgs,
    }
    #[derive(Parser)]
    struct GitOnly {
        #[command(flatten)]
        a: GitArgs,
    }
    let mut argv: Vec<std::ffi::OsString> = vec!["keyleak".into(), args.path.clone().into()];
    for a in [
        "-f",
        "json",
        "--fail-on",
        "low",
        "--exit-code",
        "0",
        "--no-baseline",
        "-o",
    ] {
        argv.push(a.into());
    }
    argv.push(args.output.clone().into());
    if let Some(c) = &args.config {
        argv.push("-c".into());
        argv.push(c.clone().into());
    }
    let exit = if args.git {
        run_git(&GitOnly::try_parse_from(argv)?.a)?
    } else {
        run_dir(&DirOnly::try_parse_from(argv)?.a)?
    };
    eprintln!(
        "keyleak: baseline written to {}; commit it, and set `baseline = \"{}\"` under [scan] in \
         keyleak.toml (or pass --baseline) so later scans report only new findings",
        args.output.display(),
        args.output.display()
    );
    Ok(match exit {
        Exit::Findings(_) => Exit::Clean,
        e => e,
    })
}
