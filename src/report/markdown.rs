//! `-f markdown`: the HTML report's content for a ticket or a pull-request comment (GitHub
//! Flavored Markdown).
//!
//! Paths, snippets, secrets and author names are attacker-controlled and go into code spans,
//! where Markdown renders no link, image or HTML; the fence is longer than any backtick run in
//! the value, and table pipes are escaped. Our own texts (rule names, fixes) are escaped as
//! plain Markdown.

use std::io::{self, Write};

use super::Report;
use super::document::{Document, first_sentence};

/// Writes `report` as Markdown.
pub fn write(report: &Report<'_>, w: &mut dyn Write) -> io::Result<()> {
    super::document::write_with(report, w, render)
}

/// Renders `doc` as Markdown.
pub fn render(doc: &Document<'_>, w: &mut dyn Write) -> io::Result<()> {
    let reported = doc.reported().count();
    writeln!(w, "# keyleak report\n")?;
    let totals: Vec<String> = doc
        .by_severity()
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    writeln!(
        w,
        "**{reported} finding{}**: {}.",
        if reported == 1 { "" } else { "s" },
        totals.join(", ")
    )?;
    let suppressed = doc.findings.len() - reported;
    if suppressed > 0 {
        writeln!(w, "{suppressed} suppressed (listed below, marked as such).")?;
    }
    if !doc.skipped.is_empty() {
        writeln!(
            w,
            "{} input(s) could not be scanned (see *Not scanned*).",
            doc.skipped.len()
        )?;
    }
    writeln!(
        w,
        "Secrets are redacted unless the report was written with `--show-secrets`.\n"
    )?;

    table(
        w,
        "By rule",
        "rule",
        &doc.count_by(|f| Some(f.rule_id.as_str())),
    )?;
    let repos = doc.count_by(|f| f.repository.as_deref());
    if !repos.is_empty() {
        table(w, "By repository", "repository", &repos)?;
    }
    let months = doc.by_month();
    if !months.is_empty() {
        writeln!(w, "## When the secrets were committed\n")?;
        writeln!(w, "| month | findings | still at HEAD |\n|---|---:|---:|")?;
        for m in months {
            writeln!(w, "| {} | {} | {} |", code(m.month), m.total, m.at_head)?;
        }
        writeln!(w)?;
    }

    if !doc.findings.is_empty() {
        writeln!(w, "## Findings\n")?;
        writeln!(
            w,
            "| severity | rule | location | secret and line | commit | fingerprint | fix |"
        )?;
        writeln!(w, "|---|---|---|---|---|---|---|")?;
        for f in doc.findings {
            let mut sev = f.severity.clone();
            if let Some(why) = &f.suppressed {
                sev.push_str(&format!(" (suppressed: {})", text(why)));
            }
            if f.known_public {
                sev.push_str(" (known public test key)");
            }
            if let Some(v) = &f.verification {
                sev.push_str(&format!(" (verified: {})", v.summary()));
            }
            let mut location = format!("{}:{}:{}", f.path, f.line, f.column);
            if let Some(repo) = &f.repository {
                location = format!("{repo} {location}");
            }
            let mut secret = code(&f.secret);
            for p in &f.parts {
                secret.push_str(&format!("<br>{} {}", text(&p.name), code(&p.value)));
            }
            secret.push_str(&format!("<br>{}", code(&f.snippet)));
            let commit = match &f.commit {
                Some(c) => format!(
                    "{} {} {}{}",
                    code(c.get(..12).unwrap_or(c)),
                    code(f.date.as_deref().unwrap_or("")),
                    code(f.author.as_deref().unwrap_or("")),
                    super::document::head_label(f.present_at_head)
                        .map_or(String::new(), |l| format!("<br>{l}"))
                ),
                None => String::new(),
            };
            writeln!(
                w,
                "| {} | {} {} | {} | {secret} | {commit} | {} | {} |",
                text(&sev),
                text(&f.rule_name),
                code(&f.rule_id),
                code(&location),
                code(&f.fingerprint),
                text(first_sentence(doc.fix(&f.rule_id)))
            )?;
        }
        writeln!(w)?;
        writeln!(
            w,
            "To silence a reviewed false positive, add `keyleak:allow` on its line or its fingerprint to `.keyleakignore`; a real secret must be revoked and rotated first (`keyleak rules show RULE` has the full fix)."
        )?;
        writeln!(w)?;
    }
    if !doc.notes.is_empty() {
        writeln!(w, "## Warnings\n")?;
        for n in doc.notes {
            writeln!(w, "- {}", code(n))?;
        }
        writeln!(w)?;
    }
    if !doc.skipped.is_empty() {
        writeln!(w, "## Not scanned\n")?;
        for s in doc.skipped {
            writeln!(w, "- {}: {}", code(&s.path), code(&s.reason))?;
        }
        writeln!(w)?;
    }
    Ok(())
}

fn table(w: &mut dyn Write, title: &str, what: &str, rows: &[(&str, usize)]) -> io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(w, "## {title}\n")?;
    writeln!(w, "| {what} | findings |\n|---|---:|")?;
    for (k, n) in rows {
        writeln!(w, "| {} | {n} |", code(k))?;
    }
    writeln!(w)
}

/// `s` as an inline code span that is safe inside a table cell: no link, image or HTML renders
/// inside a code span; control characters are made visible, line breaks become spaces, and
/// pipes are escaped (GFM splits cells on them even inside code spans).
pub fn code(s: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    let mut clean = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => clean.push(' '),
            '|' => clean.push_str("\\|"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f || ('\u{80}'..='\u{9f}').contains(&c) => {
                clean.push_str(&format!("\\x{:02X}", c as u32));
            }
            c => clean.push(c),
        }
    }
    let longest = clean.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    format!("{fence} {clean} {fence}")
}

/// Plain text in which no Markdown construct can start: emphasis, code, link and image
/// brackets, table pipes and headings are backslash-escaped, and `<`, `>`, `&` become entities
/// so nothing becomes HTML.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '!' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f || ('\u{80}'..='\u{9f}').contains(&c) => {
                out.push_str(&format!("\\\\x{:02X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_outlast_backticks_and_escape_pipes() {
        assert_eq!(code("a`b``c|d"), "``` a`b``c\\|d ```");
        assert_eq!(code("x\ny"), "` x y `");
    }

    #[test]
    fn text_escapes_links_and_html() {
        assert_eq!(text("![x](http://e) <b>"), "\\!\\[x\\](http://e) &lt;b&gt;");
    }
}
