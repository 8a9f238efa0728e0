//! `keyleak merge`: shard reports in, one report out, and the exit code a single run would
//! have given.

use std::io::Write;

use anyhow::{Context, Result, bail};

use crate::cli::Exit;
use crate::cli::args::MergeArgs;
use crate::cli::commands::scan::write_output;
use keyleak::finding::Severity;
use keyleak::report::document::Document;
use keyleak::report::merge::{self, Shard};
use keyleak::report::{Format, github, html, json, markdown};
use keyleak::rules::RuleSet;

/// `keyleak merge`.
pub fn run(args: &MergeArgs) -> Result<Exit> {
    let fail_on: Severity = args.fail_on.parse().map_err(anyhow::Error::msg)?;
    let mut json_in = Vec::new();
    let mut sarif_in = Vec::new();
    let mut lines = true;
    for p in &args.reports {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        match merge::parse(&p.display().to_string(), &text)? {
            Shard::Json(r) => {
                lines = false;
                json_in.push(r);
            }
            Shard::Jsonl(r) => json_in.push(r),
            Shard::Sarif(v) => sarif_in.push(v),
        }
    }
    if !json_in.is_empty() && !sarif_in.is_empty() {
        bail!("the reports mix JSON/JSONL and SARIF: merge reports of one kind");
    }
    let format = match &args.format {
        Some(f) => f.parse::<Format>().map_err(anyhow::Error::msg)?,
        None if !sarif_in.is_empty() => Format::Sarif,
        None if lines => Format::Jsonl,
        None => Format::Json,
    };
    if !args.path_prefix.is_empty() && format != Format::Github {
        bail!("--path-prefix applies to -f github only");
    }

    let (total, failing, by_severity) = if sarif_in.is_empty() {
        let doc = merge::merge_json(json_in)?;
        let rules = RuleSet::builtin().context("loading the built-in rules")?;
        let write = |w: &mut dyn Write| match format {
            Format::Json => json::write_document(&doc, w),
            Format::Jsonl => json::write_lines(&doc.findings, w),
            Format::Html | Format::Markdown => {
                let view = Document {
                    findings: &doc.findings,
                    skipped: &doc.skipped,
                    notes: &doc.notes,
                    rules: &rules,
                };
                if format == Format::Html {
                    html::render(&view, w)
                } else {
                    markdown::render(&view, w)
                }
            }
            _ => Err(std::io::Error::other(
                "JSON and JSONL reports merge into json, jsonl, html or markdown (scan with -f sarif to merge SARIF or write github annotations)",
            )),
        };
        write_output(args.output.as_deref(), false, &write)?;
        tally(
            doc.findings
                .iter()
                .filter(|f| f.suppressed.is_none())
                .map(|f| {
                    (
                        f.severity.parse().unwrap_or(Severity::Critical),
                        f.known_public,
                    )
                }),
            fail_on,
        )
    } else {
        if format != Format::Sarif && format != Format::Github {
            bail!(
                "SARIF reports merge into SARIF or github annotations only (scan with -f json to \
                 get the other formats)"
            );
        }
        let log = merge::merge_sarif(sarif_in)?;
        write_output(args.output.as_deref(), false, &|w: &mut dyn Write| {
            if format == Format::Github {
                return github::write_sarif(&log, &args.path_prefix, w);
            }
            serde_json::to_writer_pretty(&mut *w, &log)?;
            w.write_all(b"\n")
        })?;
        let results = log["runs"][0]["results"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        tally(
            results
                .iter()
                .filter(|r| r.get("suppressions").is_none())
                .map(|r| {
                    let p = &r["properties"];
                    (
                        p["severity"]
                            .as_str()
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(Severity::Critical),
                        p["known_public"].as_bool().unwrap_or(false),
                    )
                }),
            fail_on,
        )
    };
    if !args.quiet {
        let sev: Vec<String> = by_severity
            .iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        eprintln!(
            "keyleak: merged {} report{}: {total} finding{}{}",
            args.reports.len(),
            if args.reports.len() == 1 { "" } else { "s" },
            if total == 1 { "" } else { "s" },
            if sev.is_empty() {
                String::new()
            } else {
                format!(" ({})", sev.join(", "))
            }
        );
    }
    Ok(if failing {
        Exit::Findings(args.exit_code)
    } else {
        Exit::Clean
    })
}

/// (reported findings, whether any fails the run, counts per severity most severe first).
fn tally(
    findings: impl Iterator<Item = (Severity, bool)>,
    fail_on: Severity,
) -> (usize, bool, Vec<(Severity, usize)>) {
    let mut counts = std::collections::BTreeMap::new();
    let mut failing = false;
    let mut total = 0;
    for (sev, public) in findings {
        total += 1;
        failing |= !public && sev >= fail_on;
        *counts.entry(std::cmp::Reverse(sev)).or_insert(0) += 1;
    }
    (
        total,
        failing,
        counts.into_iter().map(|(k, v)| (k.0, v)).collect(),
    )
}
