//! Scanning one input: the [`Engine`] turns bytes plus a display path into [`Finding`]s.
//! Sources (dir, git, stdin) feed it; filters and reporters consume its output.

mod common_grams;
pub mod detect;
pub mod entropy;
pub mod keywords;
pub mod known_public;
pub mod location;
pub mod markers;
mod matcher;
pub mod placeholder;
pub mod validate;

use std::ops::Range;
use std::sync::Arc;

use crate::finding::{Finding, Part, Secret, Severity, Span, fingerprint};
use crate::rules::RuleSet;
use location::LineIndex;
pub use matcher::{Matcher, RawMatch, Scratch};

/// Bytes of the first block checked for NUL to call an input binary.
pub const BINARY_SNIFF: usize = 8 * 1024;

/// True when `data` has a NUL byte in its first 8 KiB (UTF-16 text with a BOM is not binary).
pub fn is_binary(data: &[u8]) -> bool {
    if data.starts_with(&[0xFF, 0xFE]) || data.starts_with(&[0xFE, 0xFF]) {
        return false;
    }
    memchr::memchr(0, &data[..data.len().min(BINARY_SNIFF)]).is_some()
}

/// Rules plus their prefilter: everything needed to scan, shared by all threads.
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

#[derive(Debug)]
struct EngineInner {
    rules: RuleSet,
    matcher: Matcher,
    decode: crate::decode::DecodeOptions,
}

impl Engine {
    /// Builds the prefilter for `rules`.
    pub fn new(rules: RuleSet) -> Engine {
        Engine::with_decode(rules, Default::default())
    }

    /// Builds the prefilter for `rules`, decoding encoded content and archives as `decode` says.
    pub fn with_decode(rules: RuleSet, decode: crate::decode::DecodeOptions) -> Engine {
        let matcher = Matcher::new(&rules);
        Engine {
            inner: Arc::new(EngineInner {
                rules,
                matcher,
                decode,
            }),
        }
    }

    /// What is decoded (inline encodings, archives).
    pub fn decode_options(&self) -> &crate::decode::DecodeOptions {
        &self.inner.decode
    }

    /// The rules.
    pub fn rules(&self) -> &RuleSet {
        &self.inner.rules
    }

    /// Raw matches in `hay` (no positions computed).
    pub fn raw_matches(&self, hay: &[u8], scratch: &mut Scratch, out: &mut Vec<RawMatch>) {
        self.inner
            .matcher
            .find(&self.inner.rules, hay, scratch, out);
    }

    /// Every finding in `hay`, reported under `path`. UTF-16 text is transcoded first.
    pub fn scan(&self, path: &str, hay: &[u8], scratch: &mut Scratch) -> Vec<Finding> {
        if let Some(text) = utf16_to_utf8(hay) {
            return self.scan_text(path, text.as_bytes(), scratch);
        }
        self.scan_text(path, hay, scratch)
    }

    fn scan_text(&self, path: &str, hay: &[u8], scratch: &mut Scratch) -> Vec<Finding> {
        let mut findings = if self.inner.decode.inline {
            crate::decode::scan(self, path, hay, scratch)
        } else {
            self.scan_plain(path, hay, scratch)
        };
        redact_neighbours(&mut findings);
        markers::mark(hay, &mut findings);
        findings
    }

    fn scan_plain(&self, path: &str, hay: &[u8], scratch: &mut Scratch) -> Vec<Finding> {
        let mut raw = Vec::new();
        self.raw_matches(hay, scratch, &mut raw);
        if raw.is_empty() {
            return Vec::new();
        }
        drop_shadowed(self.rules(), &mut raw);
        let mut index = LineIndex::new();
        let mut findings: Vec<Finding> = raw
            .into_iter()
            .map(|m| self.to_finding(path, hay, &mut index, m))
            .collect();
        crate::scan::group_credentials(self.rules(), &mut findings);
        drop_lone_parts(self.rules(), &mut findings);
        findings
    }

    pub(crate) fn to_finding(
        &self,
        path: &str,
        hay: &[u8],
        index: &mut LineIndex,
        m: RawMatch,
    ) -> Finding {
        let rule = &self.rules().rules()[m.rule];
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
            marker: None,
            verification: None,
        }
    }
}

fn span_of(hay: &[u8], index: &mut LineIndex, r: std::ops::Range<usize>) -> Span {
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
fn redact_neighbours(findings: &mut [Finding]) {
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

/// Transcodes UTF-16 text that starts with a byte-order mark.
fn utf16_to_utf8(hay: &[u8]) -> Option<String> {
    let le = hay.starts_with(&[0xFF, 0xFE]);
    let be = hay.starts_with(&[0xFE, 0xFF]);
    if !le && !be {
        return None;
    }
    let units = hay[2..].chunks_exact(2).map(|c| {
        if le {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    Some(
        char::decode_utf16(units)
            .map(|r| r.unwrap_or('\u{FFFD}'))
            .collect(),
    )
}

/// How specific a rule's match is, for choosing between rules that matched the same bytes:
/// confidence first, then severity, then "not a generic rule".
fn specificity(rules: &RuleSet, m: &RawMatch) -> (crate::finding::Confidence, Severity, bool) {
    let r = &rules.rules()[m.rule];
    (
        r.confidence,
        r.severity,
        !r.tags.iter().any(|t| t == "generic"),
    )
}

/// When several rules matched overlapping bytes (a generic assignment rule and an exchange rule
/// on the same value, a PEM rule inside a GCP service-account key), keeps only the most specific
/// match, so one secret is one finding. Matches of different credential parts never overlap.
pub(crate) fn drop_shadowed(rules: &RuleSet, raw: &mut Vec<RawMatch>) {
    if raw.len() < 2 {
        return;
    }
    raw.sort_by_key(|m| (m.secret.start, std::cmp::Reverse(m.secret.end), m.rule));
    let mut keep = vec![true; raw.len()];
    for i in 0..raw.len() {
        if !keep[i] {
            continue;
        }
        for j in i + 1..raw.len() {
            if raw[j].secret.start >= raw[i].secret.end {
                break;
            }
            if !keep[j] {
                continue;
            }
            // Overlapping: a rule that names the other in `shadows` wins; else keep the more
            // specific; on a tie keep the earlier-defined rule.
            let (ri, rj) = (&rules.rules()[raw[i].rule], &rules.rules()[raw[j].rule]);
            let (a, b) = (specificity(rules, &raw[i]), specificity(rules, &raw[j]));
            let j_wins = if rj.shadows.contains(&ri.id) {
                true
            } else if ri.shadows.contains(&rj.id) {
                false
            } else {
                b > a || (b == a && raw[j].rule < raw[i].rule)
            };
            if j_wins {
                keep[i] = false;
                break;
            }
            keep[j] = false;
        }
    }
    let mut k = keep.iter();
    raw.retain(|_| *k.next().unwrap_or(&true));
}

/// Credential parts that are useless alone — a passphrase or a uid without its key and
/// secret — are reported only as parts of a merged finding, never on their own.
pub(crate) fn drop_lone_parts(rules: &RuleSet, findings: &mut Vec<Finding>) {
    findings.retain(|f| {
        let part = rules.get(&f.rule_id).and_then(|r| r.part.as_deref());
        !(matches!(part, Some("passphrase" | "uid" | "password")) && f.parts.is_empty())
    });
}

/// Lines within which parts of one credential are merged into one finding.
pub const CREDENTIAL_LINES: usize = 20;

/// Merges findings of one credential group (an exchange's key, secret and passphrase) that sit
/// within [`CREDENTIAL_LINES`] of each other into one finding carrying the others as `parts`.
/// The merged finding is the `secret` part (or the most severe one).
pub fn group_credentials(rules: &RuleSet, findings: &mut Vec<Finding>) {
    let meta = |f: &Finding| {
        rules
            .get(&f.rule_id)
            .and_then(|r| Some((r.credential.clone()?, r.part.clone().unwrap_or_default())))
    };
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        if let Some((cred, part)) = meta(f) {
            // One value per part: two key ids near each other are two credentials, and the
            // same value twice is two locations.
            match groups.iter_mut().find(|(c, members)| {
                c == &cred
                    && members.iter().all(|&j| {
                        findings[j].span.line.abs_diff(f.span.line) <= CREDENTIAL_LINES
                            && meta(&findings[j]).map(|(_, p)| p) != Some(part.clone())
                    })
            }) {
                Some((_, members)) => members.push(i),
                None => groups.push((cred, vec![i])),
            }
        }
    }
    let mut drop = vec![false; findings.len()];
    for (_, members) in groups.iter().filter(|(_, m)| m.len() > 1) {
        let lead = *members
            .iter()
            .max_by_key(|&&i| {
                let part = meta(&findings[i]).map(|(_, p)| p).unwrap_or_default();
                (part == "secret", findings[i].severity, std::cmp::Reverse(i))
            })
            .expect("non-empty group");
        let mut parts = Vec::new();
        for &i in members {
            let f = &findings[i];
            // Groups hold one value per part (see above), so no part repeats here.
            let name = meta(f).map(|(_, p)| p).unwrap_or_default();
            parts.push(Part {
                name,
                value: f.secret.clone(),
                span: f.span,
            });
            if i != lead {
                drop[i] = true;
            }
        }
        parts.sort_by_key(|p| (p.span.line, p.span.column));
        findings[lead].parts = parts;
    }
    let mut i = 0;
    findings.retain(|_| {
        i += 1;
        !drop[i - 1]
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_sniff() {
        assert!(is_binary(b"abc\0def"));
        assert!(!is_binary(b"plain text"));
        let mut late = vec![b'a'; BINARY_SNIFF];
        late.push(0);
        assert!(!is_binary(&late));
        assert!(!is_binary(&[0xFF, 0xFE, b'a', 0]));
    }

    /// Redaction in snippets finds the secret however the line around it is cut or cleaned.
    #[test]
    fn snippets_redact_awkward_secrets() {
        let mut rules = RuleSet::default();
        rules
            .add_file(
                std::path::Path::new("t.toml"),
                r#"
[[rule]]
id = "any"
name = "Any"
keywords = ["pw="]
regex = '''pw=(?P<secret>[^"\n]{8,2000})'''
severity = "high"
confidence = "high"
"#,
            )
            .unwrap();
        let engine = Engine::new(rules);
        let long = "Q".repeat(700);
        for (hay, secret) in [
            // A control character inside: the line is blanked, the secret must not be.
            (
                b"x pw=\x1b[0mhunter2hunter2\n".to_vec(),
                "\x1b[0mhunter2hunter2",
            ),
            // Longer than the ~400 bytes of context kept after the secret's start.
            (
                format!("{} pw={long}\n", "c".repeat(100)).into_bytes(),
                long.as_str(),
            ),
            // Invalid UTF-8: the line and the secret are decoded lossily alike.
            (
                b"pw=\xa9supersecretvalue\n".to_vec(),
                "\u{fffd}supersecretvalue",
            ),
        ] {
            let f = &engine.scan("f", &hay, &mut Scratch::default())[0];
            let snippet = f.snippet(false);
            assert!(!snippet.contains(&secret[4..]), "{snippet:?}");
            assert!(snippet.contains('…'), "{snippet:?}");
        }
    }

    /// Another rule's secret on the same line is redacted in this finding's snippet too.
    #[test]
    fn snippets_redact_neighbouring_secrets() {
        let mut rules = RuleSet::default();
        let rule = |id: &str, kw: &str| {
            format!(
                "[[rule]]\nid = \"{id}\"\nname = \"N\"\nkeywords = [\"{kw}\"]\n\
                 regex = '{kw}(?P<secret>[a-z0-9]{{12}})'\nseverity = \"high\"\n\
                 confidence = \"high\"\n"
            )
        };
        let text = format!("{}{}", rule("one", "k1="), rule("two", "k2="));
        rules
            .add_file(std::path::Path::new("t.toml"), &text)
            .unwrap();
        let engine = Engine::new(rules);
        let hay = b"cfg(k1=aaaa1111bbbb, k2=cccc2222dddd)";
        let found = engine.scan("f", hay, &mut Scratch::default());
        assert_eq!(found.len(), 2);
        for f in &found {
            let snippet = f.snippet(false);
            assert!(
                !snippet.contains("1111bbbb") && !snippet.contains("2222dddd"),
                "{snippet}"
            );
            // Its own secret is still shown under --show-secrets.
            assert!(f.snippet(true).contains(&f.secret.reveal()));
        }
    }

    #[test]
    fn utf16_is_transcoded() {
        let bytes: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("hi".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(utf16_to_utf8(&bytes).unwrap(), "hi");
    }
}
