//! GitHub Actions workflow commands: one `::error` / `::warning` / `::notice` per finding,
//! which GitHub shows as annotations on the changed lines. The one place that maps a severity
//! to a command and escapes a command's properties and message: `-f github` writes them from a
//! scan, and the GitHub Action from the scan's SARIF (`keyleak merge REPORT.sarif -f github`).

use std::io::{self, Write};

use serde_json::Value;

use super::Report;
use crate::finding::Severity;

/// The workflow command for a finding: the levels of SARIF (error, warning, note), and a
/// published test key, which never fails a run, only a notice.
pub fn command(severity: Severity, known_public: bool) -> &'static str {
    match severity {
        _ if known_public => "notice",
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "notice",
    }
}

/// One annotation. Every text field is written escaped.
struct Annotation<'a> {
    command: &'a str,
    file: &'a str,
    line: u64,
    end_line: u64,
    /// (column, end column), when known.
    columns: Option<(u64, u64)>,
    title: &'a str,
    message: &'a str,
}

impl Annotation<'_> {
    fn write(&self, w: &mut dyn Write) -> io::Result<()> {
        write!(
            w,
            "::{} file={},line={},endLine={}",
            self.command,
            escape_property(self.file),
            self.line,
            self.end_line
        )?;
        if let Some((col, end)) = self.columns {
            write!(w, ",col={col},endColumn={end}")?;
        }
        writeln!(
            w,
            ",title={}::{}",
            escape_property(self.title),
            escape_data(self.message)
        )
    }
}

/// Escapes a workflow-command property value (GitHub's documented escapes), after every
/// control character is written out (an ESC would colour or rewrite the job log).
fn escape_property(s: &str) -> String {
    crate::escape::control(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
        .replace(':', "%3A")
        .replace(',', "%2C")
}

/// Escapes a workflow-command message (control characters written out first).
fn escape_data(s: &str) -> String {
    crate::escape::control(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Writes one annotation per finding.
pub fn write(report: &Report<'_>, w: &mut dyn Write) -> io::Result<()> {
    for f in report.findings {
        let mut msg = format!(
            "{} ({}): {}",
            f.rule_name,
            f.severity,
            f.secret.render(report.show_secrets)
        );
        if let Some(g) = &f.git {
            msg.push_str(&format!(
                " in commit {}",
                &g.commit[..g.commit.len().min(12)]
            ));
        }
        if f.known_public {
            msg.push_str(" [known public test key]");
        }
        if let Some(v) = &f.verification {
            msg.push_str(&format!(" [verified: {}]", v.summary()));
        }
        Annotation {
            command: command(f.severity, f.known_public),
            file: &f.path,
            line: f.span.line as u64,
            end_line: f.span.end_line as u64,
            columns: Some((f.span.column as u64, f.span.end_column as u64)),
            title: &format!("keyleak: {}", f.rule_id),
            message: &msg,
        }
        .write(w)?;
    }
    Ok(())
}

/// Annotations from a keyleak SARIF log, each path prefixed with `prefix` (the repository's
/// place in the workspace): first a warning per finding that a `keyleak:allow` added by the
/// scanned change suppressed, then one annotation per reported result, with the result's
/// message. Suppressed results are otherwise left out.
pub fn write_sarif(log: &Value, prefix: &str, w: &mut dyn Write) -> io::Result<()> {
    let results = || {
        log["runs"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|run| run["results"].as_array().into_iter().flatten())
    };
    for r in results().filter(|r| suppressed_by_change(r)) {
        let at = SarifAt::of(r, prefix);
        let message = format!(
            "A keyleak:allow comment added by this change suppresses a {} finding ({}).",
            r["ruleId"].as_str().unwrap_or("?"),
            r["properties"]["severity"].as_str().unwrap_or("?"),
        );
        Annotation {
            command: "warning",
            columns: None,
            title: "keyleak: suppressed by this change",
            message: &message,
            ..at.annotation()
        }
        .write(w)?;
    }
    for r in results().filter(|r| r.get("suppressions").is_none_or(Value::is_null)) {
        let at = SarifAt::of(r, prefix);
        let props = &r["properties"];
        // keyleak always writes a severity; a hand-edited log without one fails loudest.
        let severity = props["severity"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(Severity::Critical);
        let title = format!("keyleak: {}", r["ruleId"].as_str().unwrap_or("?"));
        Annotation {
            command: command(severity, props["known_public"].as_bool().unwrap_or(false)),
            title: &title,
            message: r["message"]["text"].as_str().unwrap_or(""),
            ..at.annotation()
        }
        .write(w)?;
    }
    Ok(())
}

fn suppressed_by_change(r: &Value) -> bool {
    r.get("suppressions").is_some_and(|s| !s.is_null())
        && r["properties"]["suppressed_by_change"].as_bool() == Some(true)
}

/// Where a SARIF result is.
struct SarifAt {
    file: String,
    line: u64,
    end_line: u64,
    columns: (u64, u64),
}

impl SarifAt {
    fn of(r: &Value, prefix: &str) -> SarifAt {
        let loc = &r["locations"][0]["physicalLocation"];
        let region = &loc["region"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap_or("");
        let path = super::merge::uri_path(uri);
        let line = region["startLine"].as_u64().unwrap_or(1);
        let column = region["startColumn"].as_u64().unwrap_or(1);
        SarifAt {
            file: format!("{prefix}{path}"),
            line,
            end_line: region["endLine"].as_u64().unwrap_or(line),
            columns: (column, region["endColumn"].as_u64().unwrap_or(column)),
        }
    }

    fn annotation(&self) -> Annotation<'_> {
        Annotation {
            command: "",
            file: &self.file,
            line: self.line,
            end_line: self.end_line,
            columns: Some(self.columns),
            title: "",
            message: "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(escape_property("a:b,c%\x1b"), "a%3Ab%2Cc%25\\x1b");
        assert_eq!(escape_data("x:y\n::error::no%"), "x:y\\n::error::no%25");
    }

    #[test]
    fn sarif_results_become_annotations() {
        let log = serde_json::json!({"runs": [{"results": [
            {"ruleId": "r1", "message": {"text": "k: AKIA… (high severity)\n::error::x"},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a%20b%2C.txt"},
                 "region": {"startLine": 2, "startColumn": 3, "endLine": 2, "endColumn": 9}}}],
             "properties": {"severity": "high", "known_public": false}},
            {"ruleId": "r2", "message": {"text": "m"},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": "k.txt"},
                 "region": {"startLine": 1}}}],
             "properties": {"severity": "critical", "known_public": true}},
            {"ruleId": "r3", "message": {"text": "n"}, "suppressions": [{"kind": "inSource"}],
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": "s.txt"},
                 "region": {"startLine": 4, "endLine": 5}}}],
             "properties": {"severity": "medium", "suppressed_by_change": true}},
            {"ruleId": "r4", "message": {"text": "o"}, "suppressions": [{"kind": "external"}],
             "properties": {"severity": "high"}}
        ]}]});
        let mut out = Vec::new();
        write_sarif(&log, "sub/", &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "::warning file=sub/s.txt,line=4,endLine=5,title=keyleak%3A suppressed by this \
             change::A keyleak:allow comment added by this change suppresses a r3 finding \
             (medium).\n\
             ::error file=sub/a b%2C.txt,line=2,endLine=2,col=3,endColumn=9,title=keyleak%3A \
             r1::k: AKIA… (high severity)\\n::error::x\n\
             ::notice file=sub/k.txt,line=1,endLine=1,col=1,endColumn=1,title=keyleak%3A r2::m\n"
        );
    }
}
