//! Finding assembly: a raw match becomes a [`Finding`] with its spans, and once every finding
//! of an input is known, each finding's line is cut and redacted **by byte ranges**: every
//! finding's (encoded) ranges in the file are blanked in every other finding's line, never
//! searched for as text, so an encoded, escaped or control-character-laden neighbour is
//! hidden like a plain one. No report shows more of any value than its 4-character prefix.

use std::ops::Range;

use crate::finding::{Confidence, Finding, Part, Secret, Severity, Span, fingerprint, redact};
use crate::rules::RuleSet;

use super::RawMatch;
use super::location::LineIndex;

/// Bytes of the line kept before a finding's start, and after it.
const BEFORE: usize = 80;
const AFTER: usize = 400;
/// Characters a decoded finding's line is cut to (as it always was).
const DECODED_LINE_CHARS: usize = 400;

/// A finding being assembled: the finding, the file ranges of its values and the stretch of
/// line its snippet is cut from.
#[derive(Debug)]
pub(crate) struct Assembled {
    pub f: Finding,
    /// Encoding layers it was found under (0: as written in the file; a notebook's own
    /// unescaping does not count).
    pub depth: usize,
    /// File byte ranges of the secret (first) and of each of `f.parts`, in order.
    pub ranges: Vec<Range<usize>>,
    /// For each of `ranges`: whether the file holds the value as is there (plain), so the
    /// snippet may show it under `--show-secrets`; encoded bytes are always hidden.
    pub raw: Vec<bool>,
    pub window: Window,
}

impl Assembled {
    /// A high, medium-confidence finding of `rule` on `line`, over file bytes `range`, with the
    /// secret `secret`: the shape grouping and shadowing tests need.
    #[cfg(test)]
    pub fn test_finding(rule: &str, line: usize, range: Range<usize>, secret: String) -> Assembled {
        Assembled::for_test(Finding {
            rule_id: rule.into(),
            rule_name: rule.into(),
            severity: Severity::High,
            confidence: Confidence::Medium,
            path: "f".into(),
            span: Span {
                line,
                column: 1,
                end_line: line,
                end_column: range.end - range.start + 1,
            },
            byte_range: (range.start, range.end),
            secret: Secret::new(secret),
            line_text: String::new(),
            line_values: Vec::new(),
            fingerprint: String::new(),
            validation: "none".into(),
            known_public: false,
            parts: Vec::new(),
            git: None,
            decoded: Vec::new(),
            notebook_cell: None,
            suppressed: None,
            marker: None,
            verification: None,
        })
    }

    /// A finding with an empty window at its own byte range.
    #[cfg(test)]
    pub fn for_test(f: Finding) -> Assembled {
        let (s, e) = f.byte_range;
        Assembled {
            f,
            depth: 0,
            ranges: std::iter::once(s..e).collect(),
            raw: vec![true],
            window: Window {
                bytes: Vec::new(),
                offsets: Offsets::Identity(s),
                cap: false,
            },
        }
    }
}

/// The stretch of one line a snippet is cut from, with the file offset of each byte.
#[derive(Debug)]
pub(crate) struct Window {
    bytes: Vec<u8>,
    /// File offset of `bytes[i]`: `start + i`, or looked up (transcoded UTF-16).
    offsets: Offsets,
    /// Cut the finished line to [`DECODED_LINE_CHARS`].
    cap: bool,
}

#[derive(Debug)]
enum Offsets {
    Identity(usize),
    Mapped(Vec<usize>),
}

impl Window {
    /// The line of `hay` holding `offset`, from [`BEFORE`] bytes before it to [`AFTER`] after;
    /// `hay[i]` is at file offset `file_offset(i)`.
    pub fn cut(
        hay: &[u8],
        index: &mut LineIndex,
        offset: usize,
        cap: bool,
        file_offset: Option<&dyn Fn(usize) -> usize>,
    ) -> Window {
        let (start, end) = index.line_bounds(hay, offset);
        let offset = offset.clamp(start, end.max(start));
        let from = if offset - start > BEFORE {
            offset - BEFORE
        } else {
            start
        };
        let to = end.min(offset + AFTER).max(from);
        let offsets = match file_offset {
            None => Offsets::Identity(from),
            Some(map) => Offsets::Mapped((from..to).map(map).collect()),
        };
        Window {
            bytes: hay[from..to].to_vec(),
            offsets,
            cap,
        }
    }

    fn offset(&self, i: usize) -> usize {
        match &self.offsets {
            Offsets::Identity(s) => s + i,
            Offsets::Mapped(v) => v[i],
        }
    }

    /// File offsets covered: first byte and one past the last.
    fn file_span(&self) -> Range<usize> {
        match (&self.offsets, self.bytes.len()) {
            (_, 0) => 0..0,
            (Offsets::Identity(s), n) => *s..s + n,
            (Offsets::Mapped(v), n) => v[0]..v[n - 1] + 1,
        }
    }
}

/// A raw match in `hay` (the file, or the view it was matched in) as a finding at its own
/// position, with the ranges in `hay` of its secret and non-empty parts. Its line is filled in
/// by [`finish`].
pub(crate) fn to_finding(
    rules: &RuleSet,
    path: &str,
    hay: &[u8],
    index: &mut LineIndex,
    m: RawMatch,
) -> (Finding, Vec<Range<usize>>) {
    let rule = &rules.rules()[m.rule];
    let span = span_of(hay, index, m.secret.clone());
    let secret = Secret::new(&hay[m.secret.clone()]);
    let mut ranges = vec![m.secret.clone()];
    let parts = m
        .parts
        .iter()
        .filter(|(_, r)| !r.is_empty())
        .map(|(name, r)| {
            ranges.push(r.clone());
            Part {
                name: name.clone(),
                value: Secret::new(&hay[r.clone()]),
                span: span_of(hay, index, r.clone()),
            }
        })
        .collect();
    let f = Finding {
        rule_id: rule.id.clone(),
        rule_name: rule.name.clone(),
        severity: if m.known_public
            || (rule.confidence == Confidence::Low && says_not_real(hay, m.secret.end))
        {
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
        line_text: String::new(),
        line_values: Vec::new(),
        validation: rule.validator.name().to_string(),
        known_public: m.known_public,
        parts,
        git: None,
        decoded: Vec::new(),
        notebook_cell: None,
        suppressed: None,
        marker: None,
        verification: None,
    };
    (f, ranges)
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

/// How a byte of a window is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Text,
    /// One of this finding's own plain values (index into its ranges): raw in `line_text`,
    /// redacted by [`Finding::snippet`] unless `--show-secrets`.
    Own(usize),
    /// Any finding's value or encoded bytes: always redacted.
    Hidden,
}

/// Fills in every finding's `line_text` and `line_values` from its window, hiding every range
/// of every finding of the input that falls in it, and the `also_hidden` ranges (of matches
/// counted but not kept).
pub(crate) fn finish(all: Vec<Assembled>, also_hidden: &[Range<usize>]) -> Vec<Finding> {
    // The union of all value ranges, merged: a merged range starts where some value starts, so
    // showing its first characters shows at most that value's prefix.
    let mut hidden: Vec<Range<usize>> = all
        .iter()
        .flat_map(|a| a.ranges.iter().cloned())
        .chain(also_hidden.iter().cloned())
        .filter(|r| !r.is_empty())
        .collect();
    hidden.sort_unstable_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(hidden.len());
    for r in hidden {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    all.into_iter()
        .map(|a| {
            let Assembled {
                mut f,
                ranges,
                raw,
                window,
                ..
            } = a;
            let values: Vec<&[u8]> = std::iter::once(f.secret.as_bytes())
                .chain(f.parts.iter().map(|p| p.value.as_bytes()))
                .collect();
            let (text, spans) = render(&window, &ranges, &raw, &values, &merged);
            f.line_text = text;
            f.line_values = spans;
            f
        })
        .collect()
}

/// The window as text with control characters blanked, hidden ranges redacted, and this
/// finding's own plain values raw, with their ranges in the text and whether each starts where
/// its value starts.
fn render(
    w: &Window,
    own: &[Range<usize>],
    raw: &[bool],
    values: &[&[u8]],
    merged: &[Range<usize>],
) -> (String, Vec<(Range<usize>, bool)>) {
    let span = w.file_span();
    // Merged ranges that reach into the window, plus any other occurrence of one of this
    // finding's values in it (the same key pasted twice on a line, only one of them matched).
    let first = merged.partition_point(|r| r.end <= span.start);
    let mut near: Vec<Range<usize>> = merged[first..]
        .iter()
        .take_while(|r| r.start < span.end)
        .cloned()
        .collect();
    if let Offsets::Identity(from) = w.offsets {
        for v in values.iter().filter(|v| v.len() >= 8) {
            for at in memchr::memmem::find_iter(&w.bytes, v) {
                near.push(from + at..from + at + v.len());
            }
        }
        near.sort_unstable_by_key(|r| (r.start, r.end));
        near.dedup_by(|b, a| {
            // `a` is kept: merge `b` into it when they touch.
            if b.start <= a.end {
                a.end = a.end.max(b.end);
                true
            } else {
                false
            }
        });
    }
    let mut k = 0;
    let mut class = |at: usize| -> (Class, bool) {
        for (n, r) in own.iter().enumerate() {
            if raw[n] && r.contains(&at) {
                return (Class::Own(n), at == r.start);
            }
        }
        // Offsets only grow along a window: sweep.
        while k < near.len() && near[k].end <= at {
            k += 1;
        }
        match near.get(k) {
            Some(r) if r.start <= at => (Class::Hidden, at == r.start),
            _ => (Class::Text, false),
        }
    };
    let classes: Vec<(Class, bool)> = (0..w.bytes.len()).map(|i| class(w.offset(i))).collect();
    let mut text = String::new();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < w.bytes.len() {
        let (c, starts) = classes[i];
        let mut j = i + 1;
        // One segment: bytes of one class, and of one value (a new one starts a new segment).
        while j < w.bytes.len() && classes[j].0 == c && (c == Class::Text || !classes[j].1) {
            j += 1;
        }
        let seg = blank(&String::from_utf8_lossy(&w.bytes[i..j]));
        match c {
            Class::Text => text.push_str(&seg),
            Class::Own(_) => {
                let at = text.len();
                text.push_str(&seg);
                spans.push((at..text.len(), starts));
            }
            Class::Hidden if starts => text.push_str(&redact(&seg)),
            // Starts inside a value: its prefix is shown elsewhere or not at all.
            Class::Hidden => text.push('…'),
        }
        i = j;
    }
    if w.cap && text.chars().count() > DECODED_LINE_CHARS {
        let cut = text
            .char_indices()
            .nth(DECODED_LINE_CHARS - 1)
            .map_or(text.len(), |(b, _)| b);
        text.truncate(cut);
        text.push('…');
        spans.retain_mut(|(r, _)| {
            r.end = r.end.min(cut);
            r.start < r.end
        });
    }
    (text, spans)
}

/// Control characters blanked, so that a line is safe to print on a terminal.
fn blank(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
        .collect()
}

/// Whether the rest of the line after a secret is a comment calling it fake (`# noqa: mock`,
/// `// dummy key for tests`). For rules that only see a secret-named assignment, such a value is
/// reported at `low`, so it does not fail a default scan: measured on hummingbot's history, test
/// fixtures marked `# noqa: mock` were most of the generic rule's medium findings. A rule with a
/// prefix or a checksum is never demoted this way (a real token stays real whatever the comment).
fn says_not_real(hay: &[u8], end: usize) -> bool {
    const WORDS: [&[u8]; 6] = [
        b"mock",
        b"fake",
        b"dummy",
        b"example",
        b"test",
        b"placeholder",
    ];
    let rest = &hay[end.min(hay.len())..];
    let rest = &rest[..rest.len().min(200)];
    let line = &rest[..memchr::memchr(b'\n', rest).unwrap_or(rest.len())];
    let Some(at) = [&b"#"[..], b"//", b"/*", b"<!--", b"--"]
        .iter()
        .filter_map(|m| memchr::memmem::find(line, m))
        .min()
    else {
        return false;
    };
    let comment = line[at..].to_ascii_lowercase();
    WORDS
        .iter()
        .any(|w| memchr::memmem::find(&comment, w).is_some())
}
