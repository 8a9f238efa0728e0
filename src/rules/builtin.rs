//! The `patterns/*.toml` files, parsed at build time by `build.rs` into the statics below.
//!
//! Parsing the TOML at run time was half of start-up (45M of 90M instructions for `keyleak
//! stdin` on one line, callgrind, 597 rules; bench/RESULTS.md, issue 20, session 10). The
//! statics mirror [`RuleFile`] field for field, with each spanned value's position in the
//! file's text, so the loader checks and reports them exactly as it does a user's file.

use toml::Spanned;

use super::syntax::{RuleFile, RuleSyntax};

/// A string value and its byte range in its file's text.
#[derive(Debug)]
pub struct At(pub usize, pub usize, pub &'static str);

/// One built-in rule file.
#[derive(Debug)]
pub struct File {
    /// The file's name in `patterns/`.
    pub name: &'static str,
    /// Its text, for the positions of load errors.
    pub text: &'static str,
    /// See [`RuleFile::provider`].
    pub provider: Option<&'static str>,
    /// See [`RuleFile::fragments`].
    pub fragments: &'static [(&'static str, At)],
    /// Each rule and its table's byte range.
    pub rules: &'static [(usize, usize, Rule)],
}

/// One `[[rule]]` table: [`RuleSyntax`] with static strings.
#[derive(Debug)]
#[allow(missing_docs)]
pub struct Rule {
    pub id: At,
    pub name: &'static str,
    pub provider: Option<&'static str>,
    pub keywords: &'static [&'static str],
    pub keywords_case_sensitive: bool,
    pub regex: Option<At>,
    pub detector: Option<At>,
    pub entropy: Option<f64>,
    pub validator: Option<At>,
    pub severity: At,
    pub confidence: At,
    pub tags: &'static [&'static str],
    pub references: &'static [&'static str],
    pub remediation: &'static str,
    pub examples: &'static [&'static str],
    pub negative_examples: &'static [&'static str],
    pub prefilter: Option<bool>,
    pub window: Option<usize>,
    pub window_before: Option<usize>,
    pub window_after: Option<usize>,
    pub stopwords: &'static [&'static str],
    pub placeholder_filter: Option<bool>,
    pub credential: Option<&'static str>,
    pub part: Option<At>,
    pub shadows: &'static [&'static str],
    pub skip_paths: &'static [&'static str],
}

/// Every built-in pattern file, sorted by name.
pub const FILES: &[File] = include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

impl At {
    fn spanned(&self) -> Spanned<String> {
        Spanned::new(self.0..self.1, self.2.to_string())
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

impl File {
    /// The file as the loader takes it.
    pub fn syntax(&self) -> RuleFile {
        RuleFile {
            provider: self.provider.map(str::to_string),
            fragments: self
                .fragments
                .iter()
                .map(|(k, v)| (k.to_string(), v.spanned()))
                .collect(),
            rule: self
                .rules
                .iter()
                .map(|(start, end, r)| Spanned::new(*start..*end, r.syntax()))
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
            name: name.to_string(),
            provider: provider.map(str::to_string),
            keywords: strings(keywords),
            keywords_case_sensitive: *keywords_case_sensitive,
            regex: regex.as_ref().map(At::spanned),
            detector: detector.as_ref().map(At::spanned),
            entropy: *entropy,
            validator: validator.as_ref().map(At::spanned),
            severity: severity.spanned(),
            confidence: confidence.spanned(),
            tags: strings(tags),
            references: strings(references),
            remediation: remediation.to_string(),
            examples: strings(examples),
            negative_examples: strings(negative_examples),
            prefilter: *prefilter,
            window: *window,
            window_before: *window_before,
            window_after: *window_after,
            stopwords: strings(stopwords),
            placeholder_filter: *placeholder_filter,
            credential: credential.map(str::to_string),
            part: part.as_ref().map(At::spanned),
            shadows: strings(shadows),
            skip_paths: strings(skip_paths),
        }
    }
}
