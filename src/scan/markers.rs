//! Suppression comments in the scanned text: `keyleak:allow` on any line of a finding (the key's
//! line of a two-line credential counts as much as the secret's), `keyleak:allow-next-line` on
//! the line above any of them, and other scanners' markers, which the filter honours only when
//! the config asks (users migrating from those tools already have them in their code).

use std::collections::HashMap;

use memchr::memmem;

use super::location::LineIndex;
use crate::finding::{Finding, Marker};

/// The marker for the line it is on.
pub const ALLOW: &str = "keyleak:allow";
/// The marker for the line below it.
pub const ALLOW_NEXT_LINE: &str = "keyleak:allow-next-line";

/// Other scanners' markers for their own line: gitleaks, detect-secrets, trufflehog.
pub const OTHER: &[&str] = &[
    "gitleaks:allow",
    "pragma: allowlist secret",
    "trufflehog:ignore",
];
/// detect-secrets' marker for the line below it.
const OTHER_NEXT_LINE: &str = "pragma: allowlist nextline secret";

/// A multi-line secret (a PEM block) is looked at on at most this many of its lines.
const MAX_LINES: usize = 256;

/// What markers one line holds: for itself, and for the line below.
#[derive(Debug, Clone, Copy, Default)]
struct LineMarkers {
    here: Option<Marker>,
    next: Option<Marker>,
}

/// Sets [`Finding::marker`] from the lines of `hay` each finding (and each of its parts) covers.
/// Each line is searched once, so many findings on one long line stay linear.
pub fn mark(hay: &[u8], findings: &mut [Finding]) {
    if findings.is_empty()
        || ![ALLOW, "gitleaks:", "pragma: allowlist", "trufflehog:"]
            .iter()
            .any(|m| memmem::find(hay, m.as_bytes()).is_some())
    {
        return;
    }
    let mut index = LineIndex::new();
    let mut cache: HashMap<usize, LineMarkers> = HashMap::new();
    let mut at = |line: usize| -> LineMarkers {
        *cache.entry(line).or_insert_with(|| {
            index
                .line_range(hay, line)
                .map_or_else(LineMarkers::default, |(s, e)| line_markers(&hay[s..e]))
        })
    };
    for f in findings.iter_mut() {
        let spans = std::iter::once(f.span).chain(f.parts.iter().map(|p| p.span));
        let mut found: Option<Marker> = None;
        for span in spans {
            let last = span.end_line.max(span.line).min(span.line + MAX_LINES);
            let above = at(span.line.saturating_sub(1)).next;
            for m in (span.line..=last).map(|l| at(l).here).chain([above]) {
                found = strongest(found, m);
            }
        }
        f.marker = found;
    }
}

/// keyleak's own marker wins over another tool's.
fn strongest(a: Option<Marker>, b: Option<Marker>) -> Option<Marker> {
    match (a, b) {
        (Some(Marker::Keyleak), _) | (_, Some(Marker::Keyleak)) => Some(Marker::Keyleak),
        (a, b) => a.or(b),
    }
}

fn line_markers(line: &[u8]) -> LineMarkers {
    let mut out = LineMarkers::default();
    // `keyleak:allow-next-line` also contains `keyleak:allow`: an occurrence counts for this
    // line only when it is not the start of the next-line form.
    for i in memmem::find_iter(line, ALLOW.as_bytes()) {
        if line[i..].starts_with(ALLOW_NEXT_LINE.as_bytes()) {
            out.next = Some(Marker::Keyleak);
        } else {
            out.here = Some(Marker::Keyleak);
        }
    }
    if out.here.is_none() {
        out.here = OTHER
            .iter()
            .find(|m| memmem::find(line, m.as_bytes()).is_some())
            .map(|m| Marker::Other(m));
    }
    if out.next.is_none() && memmem::find(line, OTHER_NEXT_LINE.as_bytes()).is_some() {
        out.next = Some(Marker::Other(OTHER_NEXT_LINE));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_line_form_is_not_an_own_line_marker() {
        let m = line_markers(b"# keyleak:allow-next-line");
        assert_eq!((m.here, m.next), (None, Some(Marker::Keyleak)));
        let m = line_markers(b"x = 1 # keyleak:allow");
        assert_eq!((m.here, m.next), (Some(Marker::Keyleak), None));
        let m = line_markers(b"x = 1 # gitleaks:allow");
        assert_eq!(m.here, Some(Marker::Other("gitleaks:allow")));
    }
}
