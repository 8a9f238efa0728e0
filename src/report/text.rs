//! Human-readable output: one block per finding. Colour only when asked (a TTY).

use std::io::{self, Write};

use super::Report;
use crate::escape::control as esc;
use crate::finding::{Finding, Severity};

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn severity(&self, s: Severity) -> String {
        let code = match s {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "36",
        };
        self.wrap(code, &format!("{:<8}", s.as_str()))
    }
}

/// Writes every finding as a block.
pub fn write(report: &Report<'_>, w: &mut dyn Write) -> io::Result<()> {
    let p = Paint(report.color);
    for f in report.findings {
        write_one(report, &p, f, w)?;
    }
    Ok(())
}

fn write_one(report: &Report<'_>, p: &Paint, f: &Finding, w: &mut dyn Write) -> io::Result<()> {
    let show = report.show_secrets;
    let mut title = format!(
        "{} {}",
        p.severity(f.severity),
        p.wrap("1", &esc(&f.rule_name))
    );
    if f.known_public {
        title.push_str(&p.wrap("2", " (known public test key: does not fail the scan)"));
    }
    writeln!(w, "{title}")?;
    writeln!(
        w,
        "  {}  {}:{}:{}",
        p.wrap("2", "at         "),
        esc(&f.path),
        f.span.line,
        f.span.column
    )?;
    writeln!(
        w,
        "  {}  {}",
        p.wrap("2", "secret     "),
        esc(&f.secret.render(show))
    )?;
    if !f.parts.is_empty() {
        let parts: Vec<String> = f
            .parts
            .iter()
            .map(|part| {
                format!(
                    "{} {} (line {})",
                    esc(&part.name),
                    esc(&part.value.render(show)),
                    part.span.line
                )
            })
            .collect();
        writeln!(w, "  {}  {}", p.wrap("2", "parts      "), parts.join(", "))?;
    }
    if let Some(g) = &f.git {
        writeln!(
            w,
            "  {}  {} by {} <{}> on {}",
            p.wrap("2", "commit     "),
            &g.commit[..g.commit.len().min(12)],
            esc(&g.author),
            esc(&g.email),
            esc(&g.date)
        )?;
    }
    if !f.decoded.is_empty() {
        writeln!(
            w,
            "  {}  {}",
            p.wrap("2", "decoded    "),
            esc(&f.decoded.join(" → "))
        )?;
    }
    writeln!(
        w,
        "  {}  {}",
        p.wrap("2", "line       "),
        esc(&f.snippet(show))
    )?;
    writeln!(
        w,
        "  {}  {} · confidence {} · validation {}",
        p.wrap("2", "rule       "),
        esc(&f.rule_id),
        f.confidence.as_str(),
        esc(&f.validation)
    )?;
    writeln!(w, "  {}  {}", p.wrap("2", "fingerprint"), f.fingerprint)?;
    if let Some(v) = &f.verification {
        let code = match v.status {
            crate::finding::VerifyStatus::Live => "1;31",
            crate::finding::VerifyStatus::Revoked => "32",
            _ => "2",
        };
        writeln!(
            w,
            "  {}  {}",
            p.wrap("2", "verified   "),
            p.wrap(code, &v.summary())
        )?;
    }
    if let Some(rule) = report.rules.get(&f.rule_id)
        && !rule.remediation.is_empty()
    {
        let first = rule.remediation.lines().next().unwrap_or("");
        writeln!(w, "  {}  {}", p.wrap("2", "fix        "), esc(first))?;
    }
    writeln!(w)
}
