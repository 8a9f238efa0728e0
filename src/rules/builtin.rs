//! The `patterns/*.toml` files, parsed at build time by `build.rs` into the statics below.
//!
//! Parsing the TOML at run time was half of start-up (45M of 90M instructions for `keyleak
//! stdin` on one line, callgrind, 597 rules; bench/RESULTS.md, issue 20, session 10). The
//! statics mirror [`RuleFile`] field for field, with each spanned value's position in the
//! file's text, so the loader checks and reports them exactly as it does a user's file. They
//! hold integers only (strings as ranges of one text, lists as ranges of [`STRS`]): pointers
//! would each be a relocation the loader applies at every start.

use toml::Spanned;

use super::syntax::{RuleFile, RuleSyntax};

/// Every file's text, then the values not spelt in their file as they read.
static BLOB: &str = include_str!(concat!(env!("OUT_DIR"), "/builtin_rules.txt"));

/// A string: `BLOB[offset..offset + length]`.
#[derive(Debug, Clone, Copy)]
pub struct S(u32, u32);

/// A list of strings: `STRS[start..start + length]`.
#[derive(Debug, Clone, Copy)]
pub struct L(u32, u32);

/// A string value and its byte range in its file's text.
#[derive(Debug)]
pub struct At(u32, u32, S);

/// One built-in rule file.
#[derive(Debug)]
pub struct File {
    name: S,
    text: S,
    provider: Option<S>,
    /// `FRAGMENTS[start..start + length]`.
    fragments: (u32, u32),
    /// `RULES[start..start + length]`.
    rules: (u32, u32),
}

/// One `[[rule]]` table: [`RuleSyntax`] with static strings.
#[derive(Debug)]
struct Rule {
    id: At,
    name: S,
    provider: Option<S>,
    keywords: L,
    keywords_case_sensitive: bool,
    regex: Option<At>,
    detector: Option<At>,
    entropy: Option<f64>,
    validator: Option<At>,
    severity: At,
    confidence: At,
    tags: L,
    references: L,
    remediation: S,
    examples: L,
    negative_examples: L,
    prefilter: Option<bool>,
    window: Option<usize>,
    window_before: Option<usize>,
    window_after: Option<usize>,
    stopwords: L,
    placeholder_filter: Option<bool>,
    credential: Option<S>,
    part: Option<At>,
    shadows: L,
    skip_paths: L,
}

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

fn range(start: u32, len: u32) -> std::ops::Range<usize> {
    start as usize..start as usize + len as usize
}

impl S {
    fn str(self) -> &'static str {
        &BLOB[range(self.0, self.1)]
    }

    fn string(self) -> String {
        self.str().to_string()
    }
}

impl L {
    fn strings(self) -> Vec<String> {
        STRS[range(self.0, self.1)]
            .iter()
            .map(|s| s.string())
            .collect()
    }
}

impl At {
    fn spanned(&self) -> Spanned<String> {
        Spanned::new(range(self.0, self.1 - self.0), self.2.string())
    }
}

impl File {
    /// The file's name in `patterns/`.
    pub fn name(&self) -> &'static str {
        self.name.str()
    }

    /// Its text, for the positions of load errors.
    pub fn text(&self) -> &'static str {
        self.text.str()
    }

    /// The number of rules it defines.
    pub fn rule_count(&self) -> usize {
        self.rules.1 as usize
    }

    /// The file as the loader takes it.
    pub fn syntax(&self) -> RuleFile {
        RuleFile {
            provider: self.provider.map(S::string),
            fragments: FRAGMENTS[range(self.fragments.0, self.fragments.1)]
                .iter()
                .map(|(k, v)| (k.string(), v.spanned()))
                .collect(),
            rule: RULES[range(self.rules.0, self.rules.1)]
                .iter()
                .map(|(start, end, r)| Spanned::new(range(*start, end - start), r.syntax()))
                .collect(),
        }
    }
}

impl Rule {
    fn syntax(&self) -> RuleSyntax {
        let Rule {
            id,
            name,
            provider,
            keywords,
            keywords_case_sensitive,
            regex,
            detector,
            entropy,
            validator,
            severity,
            confidence,
            tags,
            references,
            remediation,
            examples,
            negative_examples,
            prefilter,
            window,
            window_before,
            window_after,
            stopwords,
            placeholder_filter,
            credential,
            part,
            shadows,
            skip_paths,
        } = self;
        RuleSyntax {
            id: id.spanned(),
            name: name.string(),
            provider: provider.map(S::string),
            keywords: keywords.strings(),
            keywords_case_sensitive: *keywords_case_sensitive,
            regex: regex.as_ref().map(At::spanned),
            detector: detector.as_ref().map(At::spanned),
            entropy: *entropy,
            validator: validator.as_ref().map(At::spanned),
            severity: severity.spanned(),
            confidence: confidence.spanned(),
            tags: tags.strings(),
            references: references.strings(),
            remediation: remediation.string(),
            examples: examples.strings(),
            negative_examples: negative_examples.strings(),
            prefilter: *prefilter,
            window: *window,
            window_before: *window_before,
            window_after: *window_after,
            stopwords: stopwords.strings(),
            placeholder_filter: *placeholder_filter,
            credential: credential.map(S::string),
            part: part.as_ref().map(At::spanned),
            shadows: shadows.strings(),
            skip_paths: skip_paths.strings(),
        }
    }
}
