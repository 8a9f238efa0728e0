//! `dir`, `git` and `stdin`: source → findings → filters → report → exit code.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::cli::Exit;
use crate::cli::args::{DirArgs, GitArgs, StdinArgs};
use crate::cli::progress::Progress;
use crate::cli::settings::{ScanSettings, exists_or_bail, scan_root};
use keyleak::config::Config;
use keyleak::finding::VerifyStatus;
use keyleak::report::{self, Report, Stats};
use keyleak::source::git::{GitMode, GitOptions};
use keyleak::source::{Counters, SourceOutput, dir, git, human_bytes, stdin};

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
        exclude: keyleak::filter::glob_set(&exclude).context("[scan] exclude")?,
        threads: settings.threads,
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
    finish(&settings, out, &counters, start, "files")
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
    finish(&settings, out, &counters, start, "inputs")
}

/// `keyleak git`.
pub fn run_git(args: &GitArgs) -> Result<Exit> {
    exists_or_bail(&args.repo)?;
    let root = Config::root_for(&args.repo);
    let settings = ScanSettings::resolve(&args.common, Some(&root))?;
    if args.staged && settings.verify.is_some() && !settings.config.verify_allow_staged {
        anyhow::bail!(
            "--verify is refused with --staged: a pre-commit hook stays offline \
             (set `[verify] allow_staged = true` in keyleak.toml to allow it)"
        );
    }
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
    let opts = GitOptions {
        repo: args.repo.clone(),
        mode,
        max_file_size: settings.max_file_size,
        threads: settings.threads,
    };
    let counters = Arc::new(Counters::default());
    let start = Instant::now();
    let progress = Progress::start(settings.progress, counters.clone(), "blobs");
    let out = git::scan(&opts, &settings.engine, &counters);
    progress.finish();
    let mut out = out.map_err(anyhow::Error::new)?;
    if !settings.config.exclude.is_empty() {
        let ex = keyleak::filter::glob_set(&settings.config.exclude).context("[scan] exclude")?;
        out.findings.retain(|f| !ex.is_match(&f.path));
    }
    finish(&settings, out, &counters, start, "blobs")
}

/// Sorts, filters, reports, summarises and decides the exit code.
fn finish(
    settings: &ScanSettings,
    out: SourceOutput,
    counters: &Counters,
    start: Instant,
    unit: &str,
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
    let (mut findings, suppressed) = settings.filters.apply(findings);
    notes.extend(settings.filters.unhonoured_markers(&findings));
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
    if settings.summary {
        print_summary(settings, &report, unit);
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
    }
    let failing = findings.iter().any(|f| {
        !f.known_public
            && f.severity >= settings.fail_on
            && (!settings.fail_on_live
                || f.verification
                    .as_ref()
                    .is_some_and(|v| v.status == VerifyStatus::Live))
    });
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
            // Write beside the target and rename, so a failure never leaves half a report.
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let tmp = dir.join(format!(
                ".{}.keyleak-tmp-{}",
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                std::process::id()
            ));
            let result = (|| -> io::Result<()> {
                let f = create_private(&tmp, private)?;
                let mut w = BufWriter::new(f);
                write(&mut w)?;
                w.flush()?;
                std::fs::rename(&tmp, path)
            })();
            if let Err(e) = result {
                let _ = std::fs::remove_file(&tmp);
                return Err(anyhow::Error::new(e).context(format!("--output {}", path.display())));
            }
            Ok(())
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

/// Creates a report file; mode 0600 when it will hold unredacted secrets.
fn create_private(path: &Path, private: bool) -> io::Result<File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if private { 0o600 } else { 0o644 });
    }
    let _ = private;
    opts.open(path)
}

fn print_summary(settings: &ScanSettings, report: &Report<'_>, unit: &str) {
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
        line.push_str(&format!(", {} commits", s.commits));
    }
    if !report.skipped.is_empty() {
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        for sk in report.skipped {
            let key = sk
                .reason
                .split(" (")
                .next()
                .unwrap_or(&sk.reason)
                .to_string();
            *reasons.entry(key).or_default() += 1;
        }
        let parts: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
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
    for note in report.notes {
        let _ = writeln!(err, "keyleak: warning: {note}");
    }
    if settings.verbose {
        for sk in report.skipped {
            let _ = writeln!(err, "keyleak: skipped {}: {}", sk.path, sk.reason);
        }
    }
    if report.findings.is_empty() && s.scanned == 0 {
        let _ = writeln!(err, "keyleak: no secrets found, but nothing was scanned");
    } else if report.findings.is_empty() {
        let _ = writeln!(err, "keyleak: no secrets found");
    } else {
        let sev: Vec<String> = report
            .by_severity()
            .iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        let rules: Vec<String> = report
            .by_rule()
            .iter()
            .map(|(r, n)| format!("{r} ×{n}"))
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
                "; {public} known public test key(s) do not fail the scan"
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
        if settings.verbose {
            for f in report.suppressed {
                let _ = writeln!(
                    err,
                    "keyleak: suppressed {}:{}:{} {} ({}) fingerprint {}",
                    f.path,
                    f.span.line,
                    f.span.column,
                    f.rule_id,
                    f.suppressed.map_or("?", |s| s.label()),
                    f.fingerprint
                );
            }
        }
    }
}
