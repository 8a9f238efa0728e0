//! Human-readable output: one block per finding, then each rule's fix once (a fix paragraph
//! repeated on every finding buried the findings); or one line per finding (`compact`).
//! Colour only when asked (a TTY).

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

/// Width the fix paragraphs are wrapped to.
const WIDTH: usize = 100;

/// Writes every finding as a block, then how to fix each rule that fired.
pub fn write(report: &Report<'_>, w: &mut dyn Write) -> io::Result<()> {
    let p = Paint(report.color);
    for f in report.findings {
        write_one(report, &p, f, w)?;
    }
    write_fixes(report, &p, w)
}

/// One line per finding: severity, location, rule, redacted secret, fingerprint (and commit).
pub fn write_compact(report: &Report<'_>, w: &mut dyn Write) -> io::Result<()> {
    let p = Paint(report.color);
    for f in report.findings {
        let mut line = format!(
            "{} {}:{}:{}  {}  {}  {}",
            p.severity(f.severity),
            f.path,
            f.span.line,
            f.span.column,
            f.rule_id,
            f.secret.render(report.show_secrets),
            p.wrap("2", &f.fingerprint)
        );
        if let Some(g) = &f.git {
            line.push_str(&format!("  {}", &g.commit[..g.commit.len().min(12)]));
        }
        if f.known_public {
            line.push_str(&p.wrap("2", "  (known public test key)"));
        }
        writeln!(w, "{line}")?;
    }
    Ok(())
}

/// Each rule's remediation once, in the order the rules first appear in the report.
fn write_fixes(report: &Report<'_>, p: &Paint, w: &mut dyn Write) -> io::Result<()> {
    let mut order: Vec<&str> = Vec::new();
    let mut counts: std::collections::HashMap<&str, usize> = Default::default();
    for f in report.findings {
        let n = counts.entry(f.rule_id.as_str()).or_default();
        if *n == 0 {
            order.push(&f.rule_id);
        }
        *n += 1;
    }
    let with_fix: Vec<_> = order
        .iter()
        .filter_map(|id| report.rules.get(id))
        .filter(|r| !r.remediation.trim().is_empty())
        .collect();
    if with_fix.is_empty() {
        return Ok(());
    }
    writeln!(w, "{}", p.wrap("1", "How to fix"))?;
    for rule in with_fix {
        let n = counts.get(rule.id.as_str()).copied().unwrap_or(0);
        writeln!(
            w,
            "  {} {}",
            p.wrap("1", &esc(&rule.id)),
            p.wrap(
                "2",
                &format!("({n} finding{})", if n == 1 { "" } else { "s" })
            )
        )?;
        let opts = textwrap::Options::new(WIDTH)
            .word_splitter(textwrap::WordSplitter::NoHyphenation)
            .initial_indent("    ")
            .subsequent_indent("    ");
        for para in rule.remediation.trim().lines() {
            // A custom rule's text comes from a config file, perhaps in the scanned tree.
            for line in textwrap::wrap(&esc(para), &opts) {
                writeln!(w, "{line}")?;
            }
        }
    }
    writeln!(
        w,
        "{}",
        p.wrap(
            "2",
            "  Not a secret? Add `keyleak:allow` in a comment on its line, or its fingerprint to \
             .keyleakignore."
        )
    )
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
        match g.at_head {
            Some(true) => writeln!(
                w,
                "  {}  still in this file at HEAD: delete it from the code, and rotate it",
                p.wrap("2", "HEAD       ")
            )?,
            Some(false) => writeln!(
                w,
                "  {}  no longer in this file at HEAD, but still in the history: rotate it",
                p.wrap("2", "HEAD       ")
            )?,
            None => {}
        }
    }
    let decoded = f.decoded_shown();
    if !decoded.is_empty() {
        writeln!(
            w,
            "  {}  {}",
            p.wrap("2", "decoded    "),
            esc(&decoded.join(" → "))
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
    writeln!(w)
}
