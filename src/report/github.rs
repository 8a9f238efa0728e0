//! GitHub Actions workflow commands: one `::error` / `::warning` / `::notice` per finding,
//! which GitHub shows as annotations on the changed lines.

use std::io::{self, Write};

use super::Report;
use crate::finding::Severity;

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
        let level = match f.severity {
            Severity::Critical | Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low => "notice",
        };
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
        writeln!(
            w,
            "::{level} file={},line={},endLine={},col={},endColumn={},title={}::{}",
            escape_property(&f.path),
            f.span.line,
            f.span.end_line,
            f.span.column,
            f.span.end_column,
            escape_property(&format!("keyleak: {}", f.rule_id)),
            escape_data(&msg)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(escape_property("a:b,c%\x1b"), "a%3Ab%2Cc%25\\x1b");
        assert_eq!(escape_data("x:y\n::error::no%"), "x:y\\n::error::no%25");
    }
}
