//! Finding assembly: a raw match becomes a [`Finding`] with its spans and its line, and the
//! line is redacted so that no report shows more of any secret than its prefix.

use std::ops::Range;

use crate::finding::{Finding, Part, Secret, Severity, Span, fingerprint, redact, truncate_chars};
use crate::rules::RuleSet;

use super::RawMatch;
use super::location::LineIndex;

/// A raw match in `hay` (the file, or the view it was matched in) as a finding at its own
/// position: its line text, spans and fingerprint; sources and decoded layers adjust it after.
pub(crate) fn to_finding(
    rules: &RuleSet,
    path: &str,
    hay: &[u8],
    index: &mut LineIndex,
    m: RawMatch,
) -> Finding {
    let rule = &rules.rules()[m.rule];
    let span = span_of(hay, index, m.secret.clone());
    let secret = Secret::new(&hay[m.secret.clone()]);
    let part_ranges: Vec<Range<usize>> = m.parts.iter().map(|(_, r)| r.clone()).collect();
    let parts = m
        .parts
        .iter()
        .filter(|(_, r)| !r.is_empty())
        .map(|(name, r)| Part {
            name: name.clone(),
            value: Secret::new(&hay[r.clone()]),
            span: span_of(hay, index, r.clone()),
        })
        .collect();
    Finding {
        rule_id: rule.id.clone(),
        rule_name: rule.name.clone(),
        severity: if m.known_public {
            Severity::Low
        } else {
            rule.severity
        },
        confidence: rule.confidence,
        path: path.to_string(),
        span,
        byte_range: (m.secret.start, m.secret.end),
        fingerprint: fingerprint(&rule.id, secret.as_bytes()),
        secret,
        line_text: line_text(hay, index, m.secret.clone(), &part_ranges),
        validation: rule.validator.name().to_string(),
        known_public: m.known_public,
        parts,
        git: None,
        decoded: Vec::new(),
        suppressed: None,
    }
}

pub(crate) fn span_of(hay: &[u8], index: &mut LineIndex, r: Range<usize>) -> Span {
    let (line, column) = index.position(hay, r.start);
    let (end_line, end_column) = index.position(hay, r.end);
    Span {
        line,
        column,
        end_line,
        end_column,
    }
}

/// The line holding the secret, cut to ~80 bytes before it and ~400 after for megabyte-long
/// lines, with control characters blanked so that a snippet is safe to print on a terminal.
///
/// The first line of the secret and of each part is kept raw and whole, exactly as
/// [`Finding::snippet`] searches for it to redact it: a blanked control character, a cut
/// inside a long secret or a UTF-8 sequence decoded across the secret's edge would otherwise
/// make that search miss and leave the secret readable in every report.
fn line_text(
    hay: &[u8],
    index: &mut LineIndex,
    secret: Range<usize>,
    parts: &[Range<usize>],
) -> String {
    let offset = secret.start;
    let (start, end) = index.line_bounds(hay, offset);
    let from = if offset - start > 80 {
        offset - 80
    } else {
        start
    };
    let to = end.min(offset + 400).max(from);
    let mut keep: Vec<Range<usize>> = std::iter::once(secret)
        .chain(parts.iter().cloned())
        .filter(|r| r.start >= from && r.start <= to)
        .map(|r| first_line(hay, r))
        .collect();
    keep.sort_by_key(|r| r.start);
    let blank = |bytes: &[u8]| -> String {
        String::from_utf8_lossy(bytes)
            .chars()
            .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
            .collect()
    };
    let mut text = String::new();
    let mut pos = from;
    for r in keep {
        if r.start < pos {
            continue; // inside a range already kept raw
        }
        text.push_str(&blank(&hay[pos..r.start]));
        text.push_str(&String::from_utf8_lossy(&hay[r.clone()]));
        pos = r.end;
    }
    if pos < to {
        text.push_str(&blank(&hay[pos..to]));
    }
    text
}

/// A snippet redacts only its own secret and parts, so another secret on the same stretch of
/// line (a KuCoin key beside a secret that a different rule found) would show in full in it,
/// in every format. Such neighbours are redacted in `line_text` itself; with --show-secrets
/// they are still shown in full in their own findings.
pub(crate) fn redact_neighbours(findings: &mut [Finding]) {
    // line_text keeps ~80 bytes before a secret and ~400 after; neighbours are looked for a
    // little wider, and at most 64 each way so a line dense with findings stays linear.
    const REACH: usize = 512;
    const MAX_NEIGHBOURS: usize = 64;
    if findings.len() < 2 {
        return;
    }
    let first = |v: &Secret| -> String {
        let raw = String::from_utf8_lossy(v.as_bytes()).into_owned();
        raw.lines().next().unwrap_or("").to_string()
    };
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by_key(|&i| findings[i].byte_range.0);
    for (k, &i) in order.iter().enumerate() {
        let (s, e) = findings[i].byte_range;
        let before = order[..k]
            .iter()
            .rev()
            .take_while(|&&j| findings[j].byte_range.0 + REACH >= s)
            .take(MAX_NEIGHBOURS);
        let after = order[k + 1..]
            .iter()
            .take_while(|&&j| findings[j].byte_range.0 <= e + REACH)
            .take(MAX_NEIGHBOURS);
        let own: Vec<String> = std::iter::once(&findings[i].secret)
            .chain(findings[i].parts.iter().map(|p| &p.value))
            .map(first)
            .collect();
        let mut others: Vec<(String, String)> = before
            .chain(after)
            .flat_map(|&j| {
                std::iter::once(&findings[j].secret)
                    .chain(findings[j].parts.iter().map(|p| &p.value))
            })
            .map(|v| (first(v), v.redacted()))
            // A value inside one of this finding's own must stay, or its own redaction misses.
            .filter(|(f, _)| !f.is_empty() && !own.iter().any(|o| o.contains(f.as_str())))
            .collect();
        others.sort_by_key(|(f, _)| std::cmp::Reverse(f.len()));
        let text = &mut findings[i].line_text;
        let own_present: Vec<&String> = own
            .iter()
            .filter(|o| !o.is_empty() && text.contains(o.as_str()))
            .collect();
        for (f, redacted) in others {
            if text.contains(&f) {
                // A neighbour overlapping this finding's own value is left for the own
                // redaction to cover: replacing it would break the own value apart and leave
                // the rest of it readable.
                let replaced = text.replace(&f, &redacted);
                if own_present.iter().all(|o| replaced.contains(o.as_str())) {
                    *text = replaced;
                }
            }
        }
    }
}

/// The part of `r` before its first `\n` (or `\r\n`): what `str::lines` gives first.
fn first_line(hay: &[u8], r: Range<usize>) -> Range<usize> {
    let bytes = &hay[r.clone()];
    let mut n = memchr::memchr(b'\n', bytes).unwrap_or(bytes.len());
    if n > 0 && n < bytes.len() && bytes[n - 1] == b'\r' {
        n -= 1;
    }
    r.start..r.start + n
}

/// The line holding `offset` (cut to ~400 characters around it, as the plain scan does),
/// with the bytes of each `hide` range replaced by their redacted form.
pub(crate) fn line_with_hidden(
    hay: &[u8],
    index: &mut LineIndex,
    offset: usize,
    hide: &[Range<usize>],
) -> String {
    let (start, end) = index.line_bounds(hay, offset);
    let offset = offset.clamp(start, end.max(start));
    let from = if offset - start > 80 {
        offset - 80
    } else {
        start
    };
    let to = end.min(offset + 400).max(from);
    let mut hide: Vec<&Range<usize>> = hide.iter().collect();
    hide.sort_by_key(|r| r.start);
    let mut text = String::new();
    let mut pos = from;
    for h in hide {
        let (s, e) = (h.start.max(pos), h.end.min(to));
        if s >= e {
            continue;
        }
        text.push_str(&String::from_utf8_lossy(&hay[pos..s]));
        text.push_str(&redact(&String::from_utf8_lossy(&hay[s..e])));
        pos = e;
    }
    text.push_str(&String::from_utf8_lossy(&hay[pos..to]));
    let text: String = text
        .chars()
        .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
        .collect();
    truncate_chars(&text, 400)
}
