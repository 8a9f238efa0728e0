//! A rule ready to run: typed fields and a regex that is compiled on first use.
//!
//! Compiling ~150 regexes up front would cost more than the whole start-up budget, so a
//! rule's regex is built the first time one of its keywords hits. Loading
//! still *parses* every regex, so a bad pattern is an error at load time with its position.

use std::sync::{Mutex, OnceLock};

use regex_automata::meta::{Cache, Regex};
use regex_automata::util::syntax;
use regex_syntax::hir::{Class, Hir, HirKind};

use crate::finding::{Confidence, Severity};
use crate::model::TOKEN_RUN;
use crate::scan::detect::Detector;
use crate::scan::validate::Validator;

/// Default bytes searched before a keyword hit.
pub const DEFAULT_WINDOW_BEFORE: usize = 256;
/// Default bytes searched after a keyword hit.
pub const DEFAULT_WINDOW_AFTER: usize = 512;

/// One compiled rule.
#[derive(Debug)]
pub struct Rule {
    /// Unique kebab-case id.
    pub id: String,
    /// Human name.
    pub name: String,
    /// The service the credential belongs to.
    pub provider: String,
    /// Prefilter literals, lowercased.
    pub keywords: Vec<String>,
    /// When not empty, a keyword hit counts only if it has exactly one of these spellings.
    pub keywords_exact: Vec<String>,
    /// Source of the regex (empty for detector rules).
    pub pattern: String,
    /// A built-in candidate finder used instead of the regex.
    pub detector: Option<Detector>,
    regex: OnceLock<Regex>,
    /// The regex's search cache (its lazy DFA's states), shared by the threads; see
    /// [`Rule::with_regex`].
    shared_cache: Mutex<Option<Cache>>,
    /// Why `regex` could not be built, once a build failed (the rule then never matches).
    compile_error: OnceLock<String>,
    /// Minimum entropy of the secret.
    pub entropy: Option<f64>,
    /// Named validator.
    pub validator: Validator,
    /// Severity.
    pub severity: Severity,
    /// Confidence.
    pub confidence: Confidence,
    /// Tags.
    pub tags: Vec<String>,
    /// Documentation links.
    pub references: Vec<String>,
    /// How to revoke and rotate.
    pub remediation: String,
    /// Positive examples.
    pub examples: Vec<String>,
    /// Negative examples.
    pub negative_examples: Vec<String>,
    /// Whether the keyword prefilter gates this rule.
    pub prefilter: bool,
    /// Bytes searched before a hit.
    pub window_before: usize,
    /// Bytes searched after a hit.
    pub window_after: usize,
    /// When non-zero, the `secret` group only matches runs of at least this many bytes of
    /// `A-Z a-z 0-9 + / - _` (and at least [`TOKEN_RUN`]), so the regex is skipped on windows
    /// without such a run. Computed from the regex at load time for user rules, on first use
    /// for built-in ones (see [`Rule::token_gate`]).
    token_gate: OnceLock<usize>,
    /// Lowercased placeholder words.
    pub stopwords: Vec<String>,
    /// Whether to drop placeholder-looking secrets.
    pub placeholder_filter: bool,
    /// Credential group for merging parts.
    pub credential: Option<String>,
    /// Part name inside the credential group.
    pub part: Option<String>,
    /// Ids of rules whose overlapping matches this rule replaces.
    pub shadows: Vec<String>,
    /// Lowercased `skip_paths`: `name/` a directory anywhere, else a file-name suffix.
    pub skip_paths: Vec<String>,
    /// Where the rule was defined (`patterns/aws.toml`, `keyleak.toml`).
    pub origin: String,
}

/// The regex dialect of rules: bytes, ASCII classes, no Unicode (the regex crate documents Unicode classes as far slower).
pub fn build_regex(pattern: &str) -> Result<Regex, String> {
    Regex::builder()
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .build(pattern)
        .map_err(|e| {
            // The meta error wraps the syntax error; show the innermost readable text.
            match e.syntax_error() {
                Some(se) => se
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .to_string(),
                None => e.to_string(),
            }
        })
}

/// Parses `pattern` in the rule dialect without compiling it: catches every syntax error at
/// load time for a fraction of the cost of building the matcher. Returns the rule's token gate
/// (see [`Rule::token_gate`]).
pub fn check_regex(pattern: &str) -> Result<usize, String> {
    syntax::parse_with(pattern, &syntax::Config::new().unicode(false).utf8(false))
        .map(|hir| token_gate(&hir))
        .map_err(|e| {
            e.to_string()
                .lines()
                .last()
                .unwrap_or("")
                .trim()
                .to_string()
        })
}

/// The shortest run of token bytes (`A-Z a-z 0-9 + / - _`) the `secret` group can match, when
/// it only matches such bytes and at least [`TOKEN_RUN`] of them (else 0): a window without
/// that long a run cannot match.
fn token_gate(hir: &Hir) -> usize {
    fn secret(h: &Hir) -> Option<&Hir> {
        match h.kind() {
            HirKind::Capture(c) if c.name.as_deref() == Some("secret") => Some(&c.sub),
            HirKind::Capture(c) => secret(&c.sub),
            HirKind::Repetition(r) => secret(&r.sub),
            HirKind::Concat(hs) | HirKind::Alternation(hs) => hs.iter().find_map(secret),
            _ => None,
        }
    }
    fn in_alphabet(h: &Hir) -> bool {
        let token = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_');
        match h.kind() {
            HirKind::Empty | HirKind::Look(_) => true,
            HirKind::Literal(l) => l.0.iter().all(|&b| token(b)),
            HirKind::Class(Class::Bytes(c)) => c.iter().all(|r| (r.start()..=r.end()).all(token)),
            HirKind::Class(Class::Unicode(c)) => c.iter().all(|r| {
                (u32::from(r.start())..=u32::from(r.end())).all(|c| c < 0x80 && token(c as u8))
            }),
            HirKind::Repetition(r) => in_alphabet(&r.sub),
            HirKind::Capture(c) => in_alphabet(&c.sub),
            HirKind::Concat(hs) | HirKind::Alternation(hs) => hs.iter().all(in_alphabet),
        }
    }
    secret(hir)
        .filter(|s| in_alphabet(s))
        .and_then(|s| s.properties().minimum_len())
        .filter(|&n| n >= TOKEN_RUN)
        .unwrap_or(0)
}

impl Rule {
    /// Builds a rule whose regex has already been checked by [`build_regex`].
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(parts: RuleParts) -> Rule {
        Rule {
            id: parts.id,
            name: parts.name,
            provider: parts.provider,
            keywords: parts.keywords,
            keywords_exact: parts.keywords_exact,
            pattern: parts.pattern,
            detector: parts.detector,
            regex: OnceLock::new(),
            shared_cache: Mutex::new(None),
            compile_error: OnceLock::new(),
            entropy: parts.entropy,
            validator: parts.validator,
            severity: parts.severity,
            confidence: parts.confidence,
            tags: parts.tags,
            references: parts.references,
            remediation: parts.remediation,
            examples: parts.examples,
            negative_examples: parts.negative_examples,
            prefilter: parts.prefilter,
            window_before: parts.window_before,
            window_after: parts.window_after,
            token_gate: parts.token_gate.map(OnceLock::from).unwrap_or_default(),
            stopwords: parts.stopwords,
            placeholder_filter: parts.placeholder_filter,
            credential: parts.credential,
            part: parts.part,
            shadows: parts.shadows,
            skip_paths: parts.skip_paths,
            origin: parts.origin,
        }
    }

    /// Whether `path` (as reported, `/`-separated; archive members after `!/`) is one of the
    /// rule's `skip_paths`: a directory entry (`docs/`) matches any directory component, any
    /// other entry a suffix of the file name.
    pub fn skips_path(&self, path: &str) -> bool {
        if self.skip_paths.is_empty() {
            return false;
        }
        let lower = path.to_ascii_lowercase();
        let (dirs, name) = match lower.rfind(['/', '\\']) {
            Some(i) => (&lower[..=i], &lower[i + 1..]),
            None => ("", lower.as_str()),
        };
        self.skip_paths.iter().any(|p| match p.strip_suffix('/') {
            Some(dir) => dirs
                .split(['/', '\\', '!'])
                .any(|component| component == dir.trim_start_matches('/')),
            None => name.ends_with(p.as_str()),
        })
    }

    /// The compiled regex, built on first use.
    pub fn regex(&self) -> &Regex {
        self.regex.get_or_init(|| {
            // Syntax was checked at load time; only a size limit can fail here. Keep the
            // reason so the caller can say so (see `RuleSet::compile_warnings`) rather than
            // lose the rule silently.
            build_regex(&self.pattern).unwrap_or_else(|e| {
                let _ = self.compile_error.set(e);
                build_regex(r"[^\x00-\xFF]").expect("a regex that never matches compiles")
            })
        })
    }

    /// Runs `f` with the compiled regex and a search cache: the rule's shared one when no
    /// other thread holds it, else `private` (the calling thread's own, created on first use).
    ///
    /// A lazy DFA builds its states as the input reaches them, which is costly for the
    /// context rules (a few thousand instructions a transition); with one cache per thread,
    /// as the regex's own pool keeps them, every thread builds the same states again
    /// (measured on ccxt: 852M instructions of determinization with one thread, ~1.5G with
    /// two). Sharing one cache when it is free builds them once; `try_lock` never waits, so a
    /// rule that runs over whole files never serialises the threads.
    pub fn with_regex<R>(
        &self,
        private: &mut Option<Cache>,
        f: impl FnOnce(&Regex, &mut Cache) -> R,
    ) -> R {
        let re = self.regex();
        if let Ok(mut shared) = self.shared_cache.try_lock() {
            let cache = shared.get_or_insert_with(|| re.create_cache());
            return f(re, cache);
        }
        f(re, private.get_or_insert_with(|| re.create_cache()))
    }

    /// The shortest token run the rule's `secret` group needs, 0 for no gate (see
    /// [`check_regex`]). A built-in pattern that fails to parse gets no gate; its regex then
    /// reports the failure through [`Rule::compile_error`].
    pub fn token_gate(&self) -> usize {
        *self
            .token_gate
            .get_or_init(|| check_regex(&self.pattern).unwrap_or(0))
    }

    /// Why the regex could not be compiled, if [`Rule::regex`] was called and failed: the
    /// rule then matches nothing.
    pub fn compile_error(&self) -> Option<&str> {
        self.compile_error.get().map(String::as_str)
    }

    /// Whether the rule's regex has been compiled (for start-up measurements and tests).
    pub fn is_compiled(&self) -> bool {
        self.regex.get().is_some()
    }
}

/// Plain-data constructor arguments for [`Rule::new`].
#[derive(Debug, Default)]
pub(crate) struct RuleParts {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub keywords: Vec<String>,
    pub keywords_exact: Vec<String>,
    pub pattern: String,
    pub detector: Option<Detector>,
    pub entropy: Option<f64>,
    pub validator: Validator,
    pub severity: Severity,
    pub confidence: Confidence,
    pub tags: Vec<String>,
    pub references: Vec<String>,
    pub remediation: String,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
    pub prefilter: bool,
    pub window_before: usize,
    pub window_after: usize,
    /// `None`: computed from the pattern on first use.
    pub token_gate: Option<usize>,
    pub stopwords: Vec<String>,
    pub placeholder_filter: bool,
    pub credential: Option<String>,
    pub part: Option<String>,
    pub shadows: Vec<String>,
    pub skip_paths: Vec<String>,
    pub origin: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_paths_are_file_name_suffixes_or_directory_names() {
        let rule = |skip: &str| {
            format!(
                "[[rule]]\nid = \"demo\"\nname = \"Demo\"\nkeywords = [\"demo_\"]\nregex = '''demo_[0-9]{{4}}'''\nseverity = \"high\"\nconfidence = \"high\"\nskip_paths = [{skip}]\n"
            )
        };
        let mut rules = crate::rules::RuleSet::default();
        rules
            .add_file(
                std::path::Path::new("t.toml"),
                &rule(r#"".MD", "docs/", ".example.json""#),
            )
            .unwrap();
        let r = &rules.rules()[0];
        for p in [
            "README.md",
            "a/b/Guide.MD",
            "docs/x.yml",
            "site/docs/y.py",
            "c.example.json",
            "pkg.whl!/docs/z.py",
        ] {
            assert!(r.skips_path(p), "{p}");
        }
        for p in [
            "config.yml",
            "docsite/x.yml",
            "md",
            "mydocs/a.py",
            "example.json",
            "<stdin>",
            "x.md.bak",
        ] {
            assert!(!r.skips_path(p), "{p}");
        }
        for bad in ["\"\"", "\"/\"", "\"*.md\"", "\"a/b/\"", "\"d[ab]/\""] {
            let err = crate::rules::RuleSet::default()
                .add_file(std::path::Path::new("t.toml"), &rule(bad))
                .unwrap_err()
                .to_string();
            assert!(err.contains("skip_paths"), "{bad}: {err}");
        }
    }

    /// A thread that finds the shared cache taken searches with its own, with the same result.
    #[test]
    fn a_held_shared_cache_falls_back_to_the_private_one() {
        let mut rules = crate::rules::RuleSet::default();
        rules
            .add_file(
                std::path::Path::new("t.toml"),
                r#"
[[rule]]
id = "demo"
name = "Demo"
keywords = ["demo_"]
regex = '''\b(?P<secret>demo_[a-z0-9]{8})\b'''
severity = "high"
confidence = "high"
"#,
            )
            .expect("rule loads");
        let rule = &rules.rules()[0];
        let hay = "x = demo_ab12cd34;";
        let search = |private: &mut Option<Cache>| {
            rule.with_regex(private, |re, cache| {
                re.search_with(cache, &regex_automata::Input::new(&hay))
            })
        };
        let mut private = None;
        let free = search(&mut private);
        assert!(private.is_none(), "the free shared cache was used");
        let held = rule.shared_cache.lock().expect("not poisoned");
        let busy = std::thread::scope(|s| s.spawn(|| search(&mut private)).join().unwrap());
        drop(held);
        assert!(private.is_some(), "the private cache was used");
        assert_eq!(free, busy);
        assert_eq!(free.map(|m| m.range()), Some(4..17));
    }

    #[test]
    fn token_gate_is_the_secret_length_when_it_is_all_token_bytes() {
        for (pattern, want) in [
            (r"(?i:binance)[^\n]*?(?P<secret>[A-Za-z0-9]{64})\b", 64),
            (r"key=(?P<secret>[a-f0-9]{32}|[A-Z0-9_-]{40,})", 32),
            (r"(?P<secret>ghp_[A-Za-z0-9]{36})", 40),
            // Too short to gate on, a byte outside the token alphabet, no secret group.
            (r"(?P<secret>[a-f0-9]{16})", 0),
            (r"(?P<secret>[A-Za-z0-9+/]{86}==)", 0),
            (r"(?P<secret>eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,})", 0),
            (r"[A-Za-z0-9]{64}", 0),
            (r"(?P<secret>[A-Za-z0-9]{24}|x)", 0),
        ] {
            assert_eq!(check_regex(pattern), Ok(want), "{pattern}");
        }
    }
}
