//! Reporters: findings (already filtered and sorted) → text, JSON, JSONL, SARIF or GitHub
//! workflow annotations. Reporters only format; they decide nothing.

pub mod document;
pub mod github;
pub mod html;
pub mod json;
pub mod markdown;
pub mod merge;
pub mod sarif;
pub mod text;

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::str::FromStr;
use std::time::Duration;

use crate::finding::{Finding, Severity};
use crate::model::Skipped;
use crate::rules::RuleSet;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable blocks.
    Text,
    /// One line per finding.
    Compact,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// SARIF 2.1.0.
    Sarif,
    /// `::error file=…` workflow commands.
    Github,
    /// One self-contained HTML page with charts and a sortable table.
    Html,
    /// GitHub Flavored Markdown, for a ticket or a pull-request comment.
    Markdown,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Format::Text),
            "compact" => Ok(Format::Compact),
            "json" => Ok(Format::Json),
            "jsonl" => Ok(Format::Jsonl),
            "sarif" => Ok(Format::Sarif),
            "github" => Ok(Format::Github),
            "html" => Ok(Format::Html),
            "markdown" | "md" => Ok(Format::Markdown),
            _ => Err(format!(
                "unknown format `{s}` (expected text, compact, json, jsonl, sarif, github, html or markdown)"
            )),
        }
    }
}

/// Totals for the summary and for report metadata.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Inputs scanned.
    pub scanned: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Git commits walked (0 outside git mode).
    pub commits: u64,
}

/// Everything a reporter may show.
#[derive(Debug)]
pub struct Report<'a> {
    /// Findings to report, sorted; suppressed ones included only when asked for.
    pub findings: &'a [Finding],
    /// Findings that filters suppressed (for counts, `-v`, SARIF suppressions).
    pub suppressed: &'a [Finding],
    /// The rule set (for rule metadata).
    pub rules: &'a RuleSet,
    /// Inputs not scanned.
    pub skipped: &'a [Skipped],
    /// Source-level warnings.
    pub notes: &'a [String],
    /// Totals.
    pub stats: Stats,
    /// Print secrets in full.
    pub show_secrets: bool,
    /// Emit suppressed findings too (SARIF `suppressions`, JSON `suppressed`).
    pub include_suppressed: bool,
    /// Colour the text output.
    pub color: bool,
}

impl Report<'_> {
    /// Findings per severity, most severe first.
    pub fn by_severity(&self) -> Vec<(Severity, usize)> {
        let mut m: BTreeMap<std::cmp::Reverse<Severity>, usize> = BTreeMap::new();
        for f in self.findings {
            *m.entry(std::cmp::Reverse(f.severity)).or_default() += 1;
        }
        m.into_iter().map(|(k, v)| (k.0, v)).collect()
    }

    /// The suppressed findings a report lists: all with `--include-suppressed`, and always
    /// those the scanned change suppressed itself (a `keyleak:allow` it adds), so a reviewer
    /// sees them.
    pub fn listed_suppressed(&self) -> impl Iterator<Item = &Finding> {
        let all = self.include_suppressed;
        self.suppressed
            .iter()
            .filter(move |f| all || f.suppressed == Some(crate::finding::Suppression::InlineAdded))
    }

    /// Findings per rule id.
    pub fn by_rule(&self) -> BTreeMap<&str, usize> {
        let mut m = BTreeMap::new();
        for f in self.findings {
            *m.entry(f.rule_id.as_str()).or_default() += 1;
        }
        m
    }
}

/// Writes `report` in `format` to `w`.
pub fn write(format: Format, report: &Report<'_>, w: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => text::write(report, w),
        Format::Compact => text::write_compact(report, w),
        Format::Json => json::write(report, w, false),
        Format::Jsonl => json::write(report, w, true),
        Format::Sarif => sarif::write(report, w),
        Format::Github => github::write(report, w),
        Format::Html => html::write(report, w),
        Format::Markdown => markdown::write(report, w),
    }
}
