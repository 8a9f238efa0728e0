//! The report as a document for people: findings in their JSON view plus the rule metadata a
//! reader needs (name, fix). The HTML and Markdown reporters render from this, so `keyleak
//! merge` can produce them from shard reports (which only hold the JSON view) exactly as a
//! single scan does.

use std::collections::BTreeMap;

use super::json::{JsonFinding, JsonSkipped};
use crate::rules::RuleSet;

/// Everything the HTML and Markdown reports show.
#[derive(Debug)]
pub struct Document<'a> {
    /// Reported findings first (sorted), then suppressed ones when they were asked for.
    pub findings: &'a [JsonFinding],
    /// Inputs not scanned.
    pub skipped: &'a [JsonSkipped],
    /// Source-level warnings.
    pub notes: &'a [String],
    /// Rule metadata (names, fixes) by id.
    pub rules: &'a RuleSet,
}

/// Renders a scan's report through `render` (the HTML or Markdown reporter), as a document
/// built from the report's JSON views.
pub fn write_with(
    report: &super::Report<'_>,
    w: &mut dyn std::io::Write,
    render: fn(&Document<'_>, &mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let (findings, skipped) = super::json::views(report);
    render(
        &Document {
            findings: &findings,
            skipped: &skipped,
            notes: report.notes,
            rules: report.rules,
        },
        w,
    )
}

/// Severities, most severe first, as they appear in every output.
pub const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];

impl Document<'_> {
    /// Findings that were not suppressed.
    pub fn reported(&self) -> impl Iterator<Item = &JsonFinding> {
        self.findings.iter().filter(|f| f.suppressed.is_none())
    }

    /// Reported findings per severity, most severe first, zeros included.
    pub fn by_severity(&self) -> Vec<(&'static str, usize)> {
        SEVERITIES
            .iter()
            .map(|s| (*s, self.reported().filter(|f| f.severity == *s).count()))
            .collect()
    }

    /// Reported findings per key, largest first (ties by key).
    pub fn count_by<'b>(
        &'b self,
        key: impl Fn(&'b JsonFinding) -> Option<&'b str>,
    ) -> Vec<(&'b str, usize)> {
        let mut m: BTreeMap<&str, usize> = BTreeMap::new();
        for f in self.reported() {
            if let Some(k) = key(f) {
                *m.entry(k).or_default() += 1;
            }
        }
        let mut v: Vec<_> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v
    }

    /// Reported findings per month of their commit date (`YYYY-MM`), oldest first, each with
    /// how many of them are still in their file at HEAD. Findings without a commit (working
    /// tree, staged) are not in the timeline.
    pub fn by_month(&self) -> Vec<Month<'_>> {
        let mut m: BTreeMap<&str, Month<'_>> = BTreeMap::new();
        for f in self.reported() {
            if let Some(d) = f.date.as_deref().and_then(|d| d.get(..7)) {
                let e = m.entry(d).or_insert(Month {
                    month: d,
                    total: 0,
                    at_head: 0,
                });
                e.total += 1;
                e.at_head += usize::from(f.present_at_head == Some(true));
            }
        }
        m.into_values().collect()
    }

    /// Reported history findings still in their file at HEAD.
    pub fn at_head(&self) -> usize {
        self.reported()
            .filter(|f| f.present_at_head == Some(true))
            .count()
    }

    /// The first sentence of a rule's fix (the whole text is in the table's detail).
    pub fn fix(&self, rule_id: &str) -> &str {
        self.rules
            .get(rule_id)
            .map(|r| r.remediation.as_str())
            .unwrap_or("")
    }
}

/// One month of the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month<'a> {
    /// `YYYY-MM`.
    pub month: &'a str,
    /// Findings committed that month.
    pub total: usize,
    /// Of those, still in their file at HEAD (the rest were deleted since, or are not known).
    pub at_head: usize,
}

/// The first sentence of `text`: up to the first `. ` (or the whole text).
pub fn first_sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(i) => &text[..=i],
        None => text,
    }
}

/// What a history finding's presence at HEAD means for its owner (none when not known).
pub fn head_label(present: Option<bool>) -> Option<&'static str> {
    match present? {
        true => Some("still at HEAD"),
        false => Some("deleted since (still in history)"),
    }
}
