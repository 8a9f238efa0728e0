//! Scanning one input. Every source hands its inputs to [`scan_input`], which opens archives,
//! decides binary or text (UTF-16 included) and runs the [`Engine`] over the text; filters and
//! reporters consume its output.
//!
//! Inside: [`layers`] follows decoding layers (the transforms live in `crate::decode`),
//! [`assemble`] turns matches into findings with spans and redacted lines, [`shadow`] keeps one
//! finding per secret, and [`group`] merges multi-part credentials.

mod assemble;
mod common_grams;
pub mod detect;
pub mod entropy;
mod group;
mod input;
pub mod keywords;
pub mod known_public;
mod layers;
pub mod location;
pub mod markers;
mod matcher;
pub mod placeholder;
mod repeats;
mod shadow;
pub mod simd_agreement;
mod split;
mod unreported;
pub mod validate;

use std::sync::Arc;

use crate::finding::Finding;
use crate::rules::RuleSet;
pub use group::CREDENTIAL_LINES;
pub use input::{Scanned, Verdict, binary_by_head, is_binary_input, scan_input};
pub use matcher::{Matcher, RawMatch, Scratch};
pub use split::{SPLIT_SIZE, piece_starts};

/// The most findings one input keeps: a 1 MB file of 20k generated `api_key = "…"` lines is
/// one problem, not 20k, and a blob committed at 500 paths must not multiply it. The sources
/// cut each input's findings to this, the most severe first, and say so in their notes.
pub const MAX_FINDINGS_PER_INPUT: usize = 1_000;

/// The most matches of one rule kept from one buffer (the input, or one decoded span); the
/// others are only counted, so a flood of one pattern costs no memory per match.
pub const MAX_MATCHES_PER_RULE: usize = MAX_FINDINGS_PER_INPUT;

/// The findings one input's scan holds at a time: past twice this (many rules flooding, or
/// many decoded spans), the least severe are dropped down to this and counted.
pub const MAX_KEPT: usize = 4 * MAX_FINDINGS_PER_INPUT;

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

    /// Every finding in `hay`, reported under `path`, within the bounds of
    /// [`Engine::scan_counting`]. UTF-16 text is transcoded first.
    pub fn scan(&self, path: &str, hay: &[u8], scratch: &mut Scratch) -> Vec<Finding> {
        self.scan_counting(path, hay, scratch).0
    }

    /// [`Engine::scan`], and how many matches were left out by the scan's memory bounds
    /// ([`MAX_MATCHES_PER_RULE`], [`MAX_KEPT`]): counted before de-duplication, so an upper
    /// bound of the findings not reported.
    pub fn scan_counting(
        &self,
        path: &str,
        hay: &[u8],
        scratch: &mut Scratch,
    ) -> (Vec<Finding>, usize) {
        let decode = self.inner.decode.inline;
        if let Some(text) = utf16_to_utf8(hay) {
            return layers::scan(self, path, text.as_bytes(), scratch, decode);
        }
        layers::scan(self, path, hay, scratch, decode)
    }
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

    /// Ten thousand decoded spans of one low-severity match each, and one critical among them
    /// (after the first `MAX_KEPT`): the findings held stay within `2 × MAX_KEPT`, the critical
    /// one is kept, and every match is either reported or counted.
    #[test]
    fn a_flood_of_decoded_matches_is_bounded_keeping_the_most_severe() {
        use base64::Engine as _;
        let mut rules = RuleSet::default();
        let rule = |id: &str, kw: &str, severity: &str| {
            format!(
                "[[rule]]\nid = \"{id}\"\nname = \"N\"\nkeywords = [\"{kw}\"]\n\
                 regex = '{kw}(?P<secret>[a-z0-9]{{16}})'\nseverity = \"{severity}\"\n\
                 confidence = \"high\"\n"
            )
        };
        let text = format!(
            "{}{}",
            rule("lo", "lo=", "low"),
            rule("hi", "hi=", "critical")
        );
        rules
            .add_file(std::path::Path::new("t.toml"), &text)
            .unwrap();
        let engine = Engine::new(rules);
        let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
        let n = 10_000;
        let mut hay = String::new();
        for i in 0..n {
            hay.push_str(&format!(
                "v{i}: {}\n",
                b64(format!("lo={i:016x} is a value"))
            ));
            // Past the first MAX_KEPT, before the first cut.
            if i == MAX_KEPT + 1000 {
                hay.push_str(&format!("hi: {}\n", b64("hi=abcdef0123456789 too".into())));
            }
        }
        let (found, unreported) =
            engine.scan_counting("f.yaml", hay.as_bytes(), &mut Scratch::default());
        assert!(found.len() < 2 * MAX_KEPT, "{}", found.len());
        assert!(found.iter().any(|f| f.rule_id == "hi"));
        assert!(
            found.len() + unreported > n,
            "{} + {unreported}",
            found.len()
        );
    }

    /// A notebook cell is a place, not a layer: `decoded` holds only encodings.
    #[test]
    fn notebook_cell_is_not_an_encoding_layer() {
        let engine = Engine::new(RuleSet::builtin().unwrap());
        let nb = concat!(
            r#"{"cells": [{"cell_type": "code", "source": ["a = 1\n"]},"#,
            r#" {"cell_type": "code", "source": ["k = \"QUtJQVo3WFE0UlRXWVAzTUIyS0Q=\"\n"]}]}"#
        );
        let found = engine.scan("n.ipynb", nb.as_bytes(), &mut Scratch::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].decoded, ["base64"]);
        assert_eq!(found[0].notebook_cell, Some(2));
        assert_eq!(found[0].decoded_shown(), ["notebook-cell:2", "base64"]);
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
