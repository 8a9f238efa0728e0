//! JSON (one document) and JSONL (one finding per line). The serde types here are the schema
//! that `--baseline` reads back.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use super::Report;
use crate::finding::Finding;

/// One part of a multi-part credential.
#[derive(Debug, Serialize, Deserialize)]
pub struct JsonPart {
    /// `key`, `secret`, `passphrase`…
    pub name: String,
    /// Redacted unless `--show-secrets`.
    pub value: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// One finding as JSON.
#[derive(Debug, Serialize, Deserialize)]
pub struct JsonFinding {
    /// Rule id.
    pub rule_id: String,
    /// Rule name.
    pub rule_name: String,
    /// Severity.
    pub severity: String,
    /// Confidence.
    pub confidence: String,
    /// Path.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
    /// 1-based end line.
    pub end_line: usize,
    /// 1-based end column (exclusive).
    pub end_column: usize,
    /// Redacted unless `--show-secrets`.
    pub secret: String,
    /// The line, secret redacted.
    pub snippet: String,
    /// Stable identity of (rule, secret).
    pub fingerprint: String,
    /// Validator name or `none`.
    pub validation: String,
    /// Published test key.
    pub known_public: bool,
    /// Parts of a multi-part credential.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<JsonPart>,
    /// Encoding layers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decoded: Vec<String>,
    /// Git commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Git history findings: whether HEAD still holds the secret at this path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub present_at_head: Option<bool>,
    /// Git author name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Git author email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Git author date (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Git blob id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    /// The repository the finding is in, when a scan covers several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Why it was suppressed (only with `--include-suppressed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
    /// What the provider said (only with `--verify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<crate::finding::Verification>,
}

impl JsonFinding {
    /// The JSON view of `f`.
    pub fn from_finding(f: &Finding, show: bool) -> JsonFinding {
        let git = f.git.as_ref();
        JsonFinding {
            rule_id: f.rule_id.clone(),
            rule_name: f.rule_name.clone(),
            severity: f.severity.to_string(),
            confidence: f.confidence.as_str().to_string(),
            path: f.path.clone(),
            line: f.span.line,
            column: f.span.column,
            end_line: f.span.end_line,
            end_column: f.span.end_column,
            secret: f.secret.render(show),
            snippet: f.snippet(show),
            fingerprint: f.fingerprint.clone(),
            validation: f.validation.clone(),
            known_public: f.known_public,
            parts: f
                .parts
                .iter()
                .map(|p| JsonPart {
                    name: p.name.clone(),
                    value: p.value.render(show),
                    line: p.span.line,
                    column: p.span.column,
                })
                .collect(),
            decoded: f.decoded_shown(),
            commit: git.map(|g| g.commit.clone()),
            author: git.map(|g| g.author.clone()),
            email: git.map(|g| g.email.clone()),
            date: git.map(|g| g.date.clone()),
            blob: git.map(|g| g.blob.clone()),
            present_at_head: git.and_then(|g| g.at_head),
            repository: git.and_then(|g| g.repository.clone()),
            suppressed: f.suppressed.map(|s| s.label().to_string()),
            verification: f.verification.clone(),
        }
    }
}

/// The whole JSON document.
#[derive(Debug, Serialize, Deserialize)]
pub struct JsonReport {
    /// keyleak version.
    pub version: String,
    /// Findings.
    pub findings: Vec<JsonFinding>,
    /// Inputs not scanned.
    #[serde(default)]
    pub skipped: Vec<JsonSkipped>,
    /// Source warnings.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// A skipped input.
#[derive(Debug, Serialize, Deserialize)]
pub struct JsonSkipped {
    /// Path.
    pub path: String,
    /// Why.
    pub reason: String,
}

fn all_findings<'a>(report: &'a Report<'_>) -> impl Iterator<Item = &'a Finding> {
    report.findings.iter().chain(report.listed_suppressed())
}

/// The JSON view of the findings to write (suppressed ones after the others, when asked for)
/// and of the skipped inputs: what the JSON document holds, and what the HTML and Markdown
/// reports render.
pub fn views(report: &Report<'_>) -> (Vec<JsonFinding>, Vec<JsonSkipped>) {
    let findings = all_findings(report)
        .map(|f| JsonFinding::from_finding(f, report.show_secrets))
        .collect();
    let skipped = report
        .skipped
        .iter()
        .map(|s| JsonSkipped {
            path: s.path.clone(),
            reason: s.reason.detail.clone(),
        })
        .collect();
    (findings, skipped)
}

/// Writes JSON (`lines = false`) or JSONL.
pub fn write(report: &Report<'_>, w: &mut dyn Write, lines: bool) -> io::Result<()> {
    let (findings, skipped) = views(report);
    if lines {
        return write_lines(&findings, w);
    }
    write_document(
        &JsonReport {
            version: env!("CARGO_PKG_VERSION").to_string(),
            findings,
            skipped,
            notes: report.notes.to_vec(),
        },
        w,
    )
}

/// Writes one JSON document (also what `keyleak merge` writes).
pub fn write_document(doc: &JsonReport, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, doc)?;
    w.write_all(b"\n")
}

/// Writes one finding per line.
pub fn write_lines(findings: &[JsonFinding], w: &mut dyn Write) -> io::Result<()> {
    for f in findings {
        serde_json::to_writer(&mut *w, f)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}
