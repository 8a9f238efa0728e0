//! The rule set: built-in `patterns/*.toml` plus user `[[rule]]` blocks, minus disabled ids.

pub mod builtin;
pub mod check;
pub mod compiled;
pub mod syntax;

use std::collections::BTreeMap;
use std::path::Path;

pub use compiled::Rule;

use crate::error::LoadError;
use crate::finding::{Confidence, Severity};
#[cfg(test)]
use compiled::check_regex;
use compiled::{DEFAULT_WINDOW_AFTER, DEFAULT_WINDOW_BEFORE, RuleParts, parse_regex};
use syntax::{RuleFile, RuleSyntax};

/// An ordered list of rules with unique ids.
#[derive(Debug, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// Named regex fragments (`{{name}}`) of every file loaded so far, with the file that
    /// defined each.
    fragments: BTreeMap<String, (String, String)>,
}

/// The provider of rules defined outside a rule file (`[[rule]]` blocks in `keyleak.toml`)
/// that do not name one.
pub const CUSTOM_PROVIDER: &str = "custom";

impl RuleSet {
    /// The built-in rules.
    pub fn builtin() -> Result<RuleSet, LoadError> {
        let mut set = RuleSet::default();
        // A rule is large: growing the vector by doubling copied it ~600 KB in all.
        set.rules
            .reserve_exact(builtin::FILES.iter().map(builtin::File::rule_count).sum());
        let files: Vec<_> = builtin::FILES
            .iter()
            .map(|f| (format!("patterns/{}", f.name()), f.text(), f.syntax()))
            .collect();
        // Fragments first, so a rule may use a fragment defined in any file.
        for (path, text, parsed) in &files {
            set.add_fragments(Path::new(path), text, parsed)?;
        }
        for (path, text, parsed) in files {
            set.add_parsed(Path::new(&path), text, parsed, Checked::Later)?;
        }
        Ok(set)
    }

    /// Parses a rule file's text and appends its fragments and rules.
    pub fn add_file(&mut self, file: &Path, text: &str) -> Result<(), LoadError> {
        let parsed = parse_file(file, text)?;
        self.add_fragments(file, text, &parsed)?;
        self.add_parsed(file, text, parsed, Checked::Now)
    }

    fn add_fragments(
        &mut self,
        file: &Path,
        text: &str,
        parsed: &RuleFile,
    ) -> Result<(), LoadError> {
        for (name, value) in &parsed.fragments {
            if !is_fragment_name(name) {
                return Err(LoadError::at(
                    file,
                    text,
                    value.span().start,
                    format!("fragment name `{name}` must be a-z, 0-9 and _"),
                ));
            }
            if let Some((_, origin)) = self.fragments.get(name) {
                return Err(LoadError::at(
                    file,
                    text,
                    value.span().start,
                    format!("duplicate fragment `{name}` (already defined in {origin})"),
                ));
            }
            self.fragments.insert(
                name.clone(),
                (value.get_ref().clone(), file.display().to_string()),
            );
        }
        Ok(())
    }

    fn add_parsed(
        &mut self,
        file: &Path,
        text: &str,
        parsed: RuleFile,
        checked: Checked,
    ) -> Result<(), LoadError> {
        let provider = parsed.provider.clone().unwrap_or_else(|| {
            file.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| CUSTOM_PROVIDER.to_string())
        });
        self.add_rules(
            file,
            text,
            parsed
                .rule
                .into_iter()
                .map(|s| (s.span().start, s.into_inner())),
            false,
            &provider,
            checked,
        )
    }

    /// Appends already-parsed rules from `file` (whose text is `text`, for positions). A rule
    /// whose id already exists replaces it only when `replace` is set (user config overriding
    /// a builtin).
    pub fn add_syntax(
        &mut self,
        file: &Path,
        text: &str,
        rules: impl IntoIterator<Item = (usize, RuleSyntax)>,
        replace: bool,
    ) -> Result<(), LoadError> {
        self.add_rules(file, text, rules, replace, CUSTOM_PROVIDER, Checked::Now)
    }

    fn add_rules(
        &mut self,
        file: &Path,
        text: &str,
        rules: impl IntoIterator<Item = (usize, RuleSyntax)>,
        replace: bool,
        provider: &str,
        checked: Checked,
    ) -> Result<(), LoadError> {
        for (offset, syn) in rules {
            let rule = compile(file, text, offset, syn, provider, &self.fragments, checked)?;
            if let Some(i) = self.rules.iter().position(|r| r.id == rule.id) {
                if replace {
                    self.rules[i] = rule;
                    continue;
                }
                return Err(LoadError::at(
                    file,
                    text,
                    offset,
                    format!(
                        "duplicate rule id `{}` (already defined in {})",
                        rule.id, self.rules[i].origin
                    ),
                ));
            }
            self.rules.push(rule);
        }
        Ok(())
    }

    /// Removes the rules with these ids; unknown ids are returned so the caller can report them.
    pub fn disable(&mut self, ids: &[String]) -> Vec<String> {
        let unknown = ids
            .iter()
            .filter(|id| !self.rules.iter().any(|r| &r.id == *id))
            .cloned()
            .collect();
        self.rules.retain(|r| !ids.contains(&r.id));
        unknown
    }

    /// Keeps only the rules with these ids; unknown ids are returned.
    pub fn keep_only(&mut self, ids: &[String]) -> Vec<String> {
        let unknown = ids
            .iter()
            .filter(|id| !self.rules.iter().any(|r| &r.id == *id))
            .cloned()
            .collect();
        self.rules.retain(|r| ids.contains(&r.id));
        unknown
    }

    /// Overrides the severity of one rule; false if no such rule.
    pub fn set_severity(&mut self, id: &str, severity: Severity) -> bool {
        match self.rules.iter_mut().find(|r| r.id == id) {
            Some(r) => {
                r.severity = severity;
                true
            }
            None => false,
        }
    }

    /// The rules in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Looks a rule up by id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// One warning per rule whose regex was needed but could not be compiled (a size limit;
    /// syntax is checked at load time), for the caller to show: such a rule matched nothing.
    pub fn compile_warnings(&self) -> Vec<String> {
        self.rules
            .iter()
            .filter_map(|r| {
                r.compile_error().map(|e| {
                    format!(
                        "rule `{}` ({}) cannot be compiled and is skipped: {e}",
                        r.id, r.origin
                    )
                })
            })
            .collect()
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rule id closest to a mistyped one, for "did you mean" hints.
    pub fn nearest(&self, wanted: &str) -> Option<&str> {
        nearest(self.rules.iter().map(|r| r.id.as_str()), wanted)
    }
}

/// The candidate closest to `wanted` when it is close enough to be a likely typo: compared
/// without case and separators (`githubpat` → `github-pat`), then by edit distance with
/// transpositions (`dri` → `dir`), a prefix match (`aws-access-key` → `aws-access-key-id`)
/// counting as close.
pub fn nearest<'a>(candidates: impl IntoIterator<Item = &'a str>, wanted: &str) -> Option<&'a str> {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let w = norm(wanted);
    if w.is_empty() {
        return None;
    }
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let n = norm(c);
        let edits = strsim::osa_distance(&w, &n);
        let mut score = strsim::jaro_winkler(&w, &n);
        if n == w {
            score = 2.0;
        } else if edits <= (w.len() / 4).max(1) {
            score = score.max(1.0 - edits as f64 / 100.0);
        } else if w.len() >= 3 && n.starts_with(&w) {
            score = score.max(0.9);
        }
        if score >= 0.85 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

fn parse_file(file: &Path, text: &str) -> Result<RuleFile, LoadError> {
    toml::from_str(text).map_err(|e| LoadError::from_toml(file, text, &e))
}

fn is_fragment_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Replaces every `{{name}}` in `pattern` by its fragment, wrapped in `(?-x:…)` so that a
/// fragment means the same inside a verbose (`(?x)`) regex, where whitespace is ignored.
/// Fragments may use other fragments (up to a small depth, so a cycle is an error).
fn expand_fragments(
    pattern: &str,
    fragments: &BTreeMap<String, (String, String)>,
    depth: usize,
) -> Result<String, String> {
    if !pattern.contains("{{") {
        return Ok(pattern.to_string());
    }
    if depth > 8 {
        return Err("fragments nest more than 8 deep (a cycle?)".to_string());
    }
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut rest = pattern;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            return Err("`{{` without a closing `}}`".to_string());
        };
        let name = &after[..j];
        let Some((frag, _)) = fragments.get(name) else {
            return Err(format!(
                "unknown fragment `{{{{{name}}}}}` (known: {})",
                fragments.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        };
        out.push_str("(?-x:");
        out.push_str(&expand_fragments(frag, fragments, depth + 1)?);
        out.push(')');
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The parts a credential group can have; anything else in `part` is a load error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialPart {
    /// The public half: key id, API key, client id.
    Key,
    /// The secret half.
    Secret,
    /// A passphrase set by the user at key creation (useless alone).
    Passphrase,
    /// An account or user id (useless alone).
    Uid,
    /// A password (useless alone).
    Password,
    /// A STARK (L2) private key.
    Stark,
}

impl CredentialPart {
    /// Every part, for error messages.
    pub const ALL: [CredentialPart; 6] = [
        CredentialPart::Key,
        CredentialPart::Secret,
        CredentialPart::Passphrase,
        CredentialPart::Uid,
        CredentialPart::Password,
        CredentialPart::Stark,
    ];

    /// The name used in rule files and outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialPart::Key => "key",
            CredentialPart::Secret => "secret",
            CredentialPart::Passphrase => "passphrase",
            CredentialPart::Uid => "uid",
            CredentialPart::Password => "password",
            CredentialPart::Stark => "stark",
        }
    }
}

impl std::str::FromStr for CredentialPart {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        CredentialPart::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<_> = CredentialPart::ALL.iter().map(|p| p.as_str()).collect();
                format!("unknown part `{s}` (expected one of: {})", all.join(", "))
            })
    }
}

fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
}

/// When a rule's regex syntax is checked (and its token gate computed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checked {
    /// At load: a user's rule, whose mistakes must stop the run with a pointed error.
    Now,
    /// On first use: the built-in rules, whose regexes `cargo test` checks. Parsing all of
    /// them was 63 % of start-up (126M of 201M instructions for `keyleak stdin` on one line,
    /// callgrind, 485 rules); a pre-commit run only reaches the rules whose keywords it meets.
    Later,
}

/// Turns one parsed rule into a [`Rule`], checking every field that can be wrong.
fn compile(
    file: &Path,
    text: &str,
    offset: usize,
    syn: RuleSyntax,
    provider: &str,
    fragments: &BTreeMap<String, (String, String)>,
    checked: Checked,
) -> Result<Rule, LoadError> {
    let err = |off: usize, msg: String| LoadError::at(file, text, off, msg);
    let id = syn.id.get_ref().clone();
    if !is_kebab(&id) {
        return Err(err(
            syn.id.span().start,
            format!("rule id `{id}` must be kebab-case (a-z, 0-9, -)"),
        ));
    }
    let severity: Severity = syn
        .severity
        .get_ref()
        .parse()
        .map_err(|e: String| err(syn.severity.span().start, e))?;
    let confidence: Confidence = syn
        .confidence
        .get_ref()
        .parse()
        .map_err(|e: String| err(syn.confidence.span().start, e))?;
    let validator = match &syn.validator {
        Some(v) => v
            .get_ref()
            .parse()
            .map_err(|e: String| err(v.span().start, e))?,
        None => Default::default(),
    };
    let detector = match &syn.detector {
        Some(d) => Some(
            d.get_ref()
                .parse()
                .map_err(|e: String| err(d.span().start, e))?,
        ),
        None => None,
    };
    let (pattern, parsed) = match (&syn.regex, &detector) {
        (Some(r), _) => {
            let pattern = expand_fragments(r.get_ref(), fragments, 0)
                .map_err(|e| err(r.span().start, format!("rule `{id}`: {e}")))?;
            let parsed = match checked {
                Checked::Now => Some(parse_regex(&pattern).map_err(|e| {
                    err(r.span().start, format!("rule `{id}`: invalid regex: {e}"))
                })?),
                Checked::Later => None,
            };
            (pattern, parsed)
        }
        (None, Some(_)) => (String::new(), None),
        (None, None) => {
            return Err(err(
                offset,
                format!("rule `{id}` needs a `regex` or a `detector`"),
            ));
        }
    };
    let keywords: Vec<String> = syn
        .keywords
        .iter()
        .map(|k| k.to_ascii_lowercase())
        .collect();
    let keywords_exact = if syn.keywords_case_sensitive {
        syn.keywords.clone()
    } else {
        Vec::new()
    };
    if keywords.iter().any(|k| k.is_empty()) {
        return Err(err(offset, format!("rule `{id}` has an empty keyword")));
    }
    if let Some(p) = syn.skip_paths.iter().find(|p| {
        let dir = p.strip_suffix('/').unwrap_or(p);
        dir.is_empty() || dir.contains(['/', '*', '?', '[', '\\'])
    }) {
        return Err(err(
            offset,
            format!(
                "rule `{id}` has skip_paths entry `{p}`: write a file-name suffix (`.md`) or one directory name (`docs/`), not a glob"
            ),
        ));
    }
    let prefilter = syn.prefilter.unwrap_or(true);
    if prefilter && keywords.is_empty() {
        return Err(err(
            offset,
            format!(
                "rule `{id}` has no keywords; add literals the prefilter can use, or set `prefilter = false`"
            ),
        ));
    }
    if let Some(e) = syn.entropy
        && !(0.0..=8.0).contains(&e)
    {
        return Err(err(
            offset,
            format!("rule `{id}`: entropy {e} is outside 0..=8 bits per byte"),
        ));
    }
    let part = match &syn.part {
        Some(p) => {
            let parsed: CredentialPart = p
                .get_ref()
                .parse()
                .map_err(|e: String| err(p.span().start, format!("rule `{id}`: {e}")))?;
            if syn.credential.is_none() {
                return Err(err(
                    p.span().start,
                    format!(
                        "rule `{id}`: `part = \"{}\"` needs `credential`",
                        p.get_ref()
                    ),
                ));
            }
            Some(parsed.as_str().to_string())
        }
        None => None,
    };
    let provider = match syn.provider {
        Some(p) if p.trim().is_empty() => {
            return Err(err(offset, format!("rule `{id}` has an empty provider")));
        }
        Some(p) => p,
        None => provider.to_string(),
    };
    let (window_before, window_after) = match syn.window {
        Some(w) => (w, w),
        None => (DEFAULT_WINDOW_BEFORE, DEFAULT_WINDOW_AFTER),
    };
    let window_before = syn.window_before.unwrap_or(window_before);
    let window_after = syn.window_after.unwrap_or(window_after);
    Ok(Rule::new(RuleParts {
        id,
        name: syn.name,
        provider,
        keywords,
        keywords_exact,
        pattern,
        detector,
        entropy: syn.entropy,
        validator,
        severity,
        confidence,
        tags: syn.tags,
        references: syn.references,
        remediation: syn.remediation.trim().to_string(),
        examples: syn.examples,
        negative_examples: syn.negative_examples,
        prefilter,
        window_before,
        window_after,
        parsed,
        stopwords: syn
            .stopwords
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect(),
        placeholder_filter: syn
            .placeholder_filter
            .unwrap_or(confidence < Confidence::High),
        credential: syn.credential,
        part,
        shadows: syn.shadows,
        skip_paths: syn
            .skip_paths
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect(),
        origin: file.display().to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[rule]]
id = "demo-token"
name = "Demo"
keywords = ["demo_"]
regex = '''\b(?P<secret>demo_[a-z0-9]{8})\b'''
severity = "high"
confidence = "high"
examples = ["demo_abcd1234"]
negative_examples = ["demo_short"]
"#;

    fn load(text: &str) -> Result<RuleSet, LoadError> {
        let mut s = RuleSet::default();
        s.add_file(Path::new("t.toml"), text)?;
        Ok(s)
    }

    /// Built-in regexes are parsed on first use, not at load (start-up): this is where a
    /// broken one is caught instead.
    #[test]
    fn every_builtin_regex_parses() {
        let set = RuleSet::builtin().unwrap();
        for r in set.rules().iter().filter(|r| r.detector.is_none()) {
            assert!(
                check_regex(&r.pattern).is_ok(),
                "{}: {:?}",
                r.id,
                check_regex(&r.pattern)
            );
        }
    }

    #[test]
    fn loads_a_rule_lazily() {
        let s = load(GOOD).unwrap();
        let r = s.get("demo-token").unwrap();
        assert!(!r.is_compiled());
        assert!(r.regex().is_match(b"x demo_abcd1234 y"));
        assert!(r.is_compiled());
    }

    #[test]
    fn a_regex_over_the_size_limit_is_a_warning_for_the_caller() {
        // Parses (so it loads), but its compiled automaton is far over the size limit.
        let text = GOOD.replace(
            r"\b(?P<secret>demo_[a-z0-9]{8})\b",
            r"(?P<secret>demo_(?:[a-z0-9]{1000}){1000})",
        );
        assert_ne!(text, GOOD);
        let s = load(&text).unwrap();
        assert!(s.compile_warnings().is_empty(), "nothing compiled yet");
        let r = s.get("demo-token").unwrap();
        assert!(!r.regex().is_match(b"demo_abcd1234"));
        assert!(r.compile_error().is_some());
        let warnings = s.compile_warnings();
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0]
                .starts_with("rule `demo-token` (t.toml) cannot be compiled and is skipped: "),
            "{warnings:?}"
        );
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let cases = [
            (
                GOOD.replace("severity = \"high\"", "severity = \"urgent\""),
                "t.toml:7:12: unknown severity",
            ),
            (
                GOOD.replace("{8}", "{8"),
                "t.toml:6:9: rule `demo-token`: invalid regex",
            ),
            (
                GOOD.replace("name = \"Demo\"", "nmae = \"Demo\""),
                "t.toml:4:1: unknown field `nmae`",
            ),
            (
                GOOD.replace("demo-token", "Demo Token"),
                "t.toml:3:6: rule id `Demo Token` must be kebab-case",
            ),
            (
                GOOD.replace("keywords = [\"demo_\"]", ""),
                "t.toml:2:1: rule `demo-token` has no keywords",
            ),
            (
                format!("{GOOD}{GOOD}"),
                "t.toml:12:1: duplicate rule id `demo-token`",
            ),
        ];
        for (text, want) in cases {
            let e = load(&text).unwrap_err().to_string();
            assert!(e.starts_with(want), "got {e:?}, want prefix {want:?}");
        }
    }

    #[test]
    fn nearest_ids() {
        let ids = [
            "github-pat",
            "github-oauth-token",
            "aws-access-key-id",
            "dir",
            "git",
        ];
        assert_eq!(nearest(ids, "githubpat"), Some("github-pat"));
        assert_eq!(nearest(ids, "GITHUB_PAT"), Some("github-pat"));
        assert_eq!(nearest(ids, "aws-access-key"), Some("aws-access-key-id"));
        assert_eq!(nearest(ids, "dri"), Some("dir"));
        assert_eq!(nearest(ids, "zzzzzz"), None);
        assert_eq!(nearest(ids, ""), None);
    }

    /// What build.rs wrote is what a run-time parse of the same files gives, field for field
    /// and span for span.
    #[test]
    fn builtin_statics_match_their_toml() {
        for f in &builtin::FILES {
            let parsed = parse_file(Path::new(f.name()), f.text()).unwrap();
            assert_eq!(
                format!("{:?}", f.syntax()),
                format!("{parsed:?}"),
                "{}",
                f.name()
            );
        }
        assert_eq!(
            RuleSet::builtin().unwrap().len().to_string(),
            env!("KEYLEAK_RULE_COUNT")
        );
    }

    #[test]
    fn builtins_load() {
        let s = RuleSet::builtin().unwrap();
        assert!(!s.is_empty());
    }
}
