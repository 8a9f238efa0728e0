//! `keyleak.toml`: scan limits, allowlists, rule selection and custom rules.
//!
//! Parsing is strict: an unknown key, a wrong type or a regex that does not compile is an
//! error naming the file, line and column — a typo must never silently disable a protection.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::error::LoadError;
use crate::finding::Severity;
use crate::rules::RuleSet;
use crate::rules::syntax::RuleSyntax;

/// File names looked for at the scan root, in order.
pub const CONFIG_NAMES: &[&str] = &["keyleak.toml", ".keyleak.toml"];

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigSyntax {
    #[serde(default)]
    scan: ScanSection,
    #[serde(default)]
    allow: AllowSection,
    #[serde(default)]
    rules: RulesSection,
    #[serde(default)]
    rule: Vec<Spanned<RuleSyntax>>,
    #[serde(default)]
    verify: VerifySection,
}

/// `[verify]`: limits of `--verify` (which only the command line can turn on).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifySection {
    /// Allow `--verify` together with `git --staged` (refused by default: a pre-commit hook
    /// must stay instant and offline).
    #[serde(default)]
    allow_staged: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScanSection {
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    max_file_size: Option<Spanned<String>>,
    #[serde(default)]
    baseline: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowSection {
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    regexes: Vec<Spanned<String>>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    fingerprints: Vec<String>,
    #[serde(default)]
    other_markers: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesSection {
    #[serde(default)]
    disable: Vec<Spanned<String>>,
    #[serde(default)]
    enable_only: Vec<Spanned<String>>,
    #[serde(default)]
    severity: BTreeMap<String, Spanned<String>>,
}

/// A loaded, validated config.
#[derive(Debug, Default, Clone)]
pub struct Config {
    /// Where it came from (None: defaults).
    pub path: Option<PathBuf>,
    /// Globs of paths never scanned.
    pub exclude: Vec<String>,
    /// Size limit, if set.
    pub max_file_size: Option<u64>,
    /// `[scan] baseline`: a report whose findings are not reported again, relative to the
    /// config file's directory.
    pub baseline: Option<PathBuf>,
    /// Globs of paths whose findings are suppressed.
    pub allow_paths: Vec<String>,
    /// Regexes: a finding whose secret matches is suppressed.
    pub allow_regexes: Vec<String>,
    /// Words: a finding whose secret contains one (case-insensitive) is suppressed.
    pub allow_stopwords: Vec<String>,
    /// Fingerprints to suppress.
    pub allow_fingerprints: Vec<String>,
    /// Honour other scanners' inline markers (`gitleaks:allow`, …) like `keyleak:allow`.
    pub other_markers: bool,
    /// Rule ids removed.
    pub disable: Vec<String>,
    /// When non-empty, only these rule ids run.
    pub enable_only: Vec<String>,
    /// Severity overrides.
    pub severity: Vec<(String, Severity)>,
    /// `[verify] allow_staged`: `--verify` may run with `git --staged`.
    pub verify_allow_staged: bool,
    text: String,
    custom_rules: Vec<(usize, RuleSyntax)>,
    rule_id_offsets: Vec<(String, usize)>,
}

/// Parses `25MiB`, `10 MB`, `500k`, `1048576` into bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let shown = crate::escape::quote(s, 32);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("invalid size `{shown}` (e.g. `25MiB`, `500KB`, `1048576`)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "invalid size unit in `{shown}` (use B, KiB, MiB or GiB)"
            ));
        }
    };
    Ok((n * mult as f64) as u64)
}

impl Config {
    /// Reads and validates `path`; `origin` says whether the scanned tree's author chose it
    /// (see [`crate::policy_file`]).
    pub fn load(path: &Path, origin: crate::policy_file::Origin) -> Result<Config, LoadError> {
        let text = crate::policy_file::read(path, origin)?;
        Config::parse(path, text)
    }

    /// The directory config is looked for in for one scanned path: the top of the git work
    /// tree holding it, so `keyleak dir sub`, `keyleak dir sub/file` and `keyleak dir .` all
    /// use the same config; outside git, the path itself (a directory) or its parent (a file).
    pub fn root_for(path: &Path) -> PathBuf {
        let dir = if path.is_dir() {
            path.to_path_buf()
        } else {
            match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            }
        };
        work_tree_top(&dir).unwrap_or(dir)
    }

    /// Finds `keyleak.toml` / `.keyleak.toml` in `dir`.
    pub fn discover(dir: &Path) -> Option<PathBuf> {
        // `./keyleak.toml` reads worse than `keyleak.toml` in error messages.
        let base = if dir == Path::new(".") {
            Path::new("")
        } else {
            dir
        };
        CONFIG_NAMES
            .iter()
            .map(|n| base.join(n))
            // `symlink_metadata`: a link or FIFO under this name is found (and then refused by
            // the reader), never silently passed over for the next name.
            .find(|p| std::fs::symlink_metadata(p).is_ok())
    }

    /// Validates config text that came from `path`.
    pub fn parse(path: &Path, text: String) -> Result<Config, LoadError> {
        let syn: ConfigSyntax =
            toml::from_str(&text).map_err(|e| LoadError::from_toml(path, &text, &e))?;
        let at = |off: usize, msg: String| LoadError::at(path, &text, off, msg);
        let mut cfg = Config {
            path: Some(path.to_path_buf()),
            ..Config::default()
        };
        for g in &syn.scan.exclude {
            check_glob(g).map_err(|e| at(g.span().start, e))?;
            cfg.exclude.push(g.get_ref().clone());
        }
        if let Some(s) = &syn.scan.max_file_size {
            cfg.max_file_size = Some(parse_size(s.get_ref()).map_err(|e| at(s.span().start, e))?);
        }
        if let Some(b) = &syn.scan.baseline {
            let dir = path.parent().unwrap_or(Path::new(""));
            cfg.baseline = Some(dir.join(b));
        }
        for g in &syn.allow.paths {
            check_glob(g).map_err(|e| at(g.span().start, e))?;
            cfg.allow_paths.push(g.get_ref().clone());
        }
        for r in &syn.allow.regexes {
            regex::bytes::Regex::new(r.get_ref()).map_err(|e| {
                at(
                    r.span().start,
                    format!("invalid allow regex: {}", last_line(&e.to_string())),
                )
            })?;
            cfg.allow_regexes.push(r.get_ref().clone());
        }
        cfg.allow_stopwords = syn
            .allow
            .stopwords
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect();
        cfg.allow_fingerprints = syn.allow.fingerprints.clone();
        cfg.other_markers = syn.allow.other_markers;
        cfg.verify_allow_staged = syn.verify.allow_staged;
        cfg.disable = syn
            .rules
            .disable
            .iter()
            .map(|s| s.get_ref().clone())
            .collect();
        cfg.enable_only = syn
            .rules
            .enable_only
            .iter()
            .map(|s| s.get_ref().clone())
            .collect();
        for s in syn.rules.disable.iter().chain(&syn.rules.enable_only) {
            cfg.rule_id_offsets
                .push((s.get_ref().clone(), s.span().start));
        }
        for (id, sev) in &syn.rules.severity {
            let parsed: Severity = sev
                .get_ref()
                .parse()
                .map_err(|e: String| at(sev.span().start, e))?;
            cfg.severity.push((id.clone(), parsed));
            cfg.rule_id_offsets.push((id.clone(), sev.span().start));
        }
        cfg.custom_rules = syn
            .rule
            .into_iter()
            .map(|r| (r.span().start, r.into_inner()))
            .collect();
        cfg.text = text;
        Ok(cfg)
    }

    /// Applies the config to a rule set: custom rules (same id replaces a builtin), then
    /// `enable_only`, `disable` and severity overrides. Unknown rule ids are errors.
    pub fn apply(&self, rules: &mut RuleSet) -> Result<(), LoadError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut seen: Vec<&str> = Vec::new();
        for (off, r) in &self.custom_rules {
            if seen.contains(&r.id.get_ref().as_str()) {
                return Err(LoadError::at(
                    path,
                    &self.text,
                    *off,
                    format!(
                        "duplicate rule id `{}`",
                        crate::escape::quote(r.id.get_ref(), 64)
                    ),
                ));
            }
            seen.push(r.id.get_ref());
        }
        rules.add_syntax(path, &self.text, self.custom_rules.iter().cloned(), true)?;
        // Every id known before the selections remove any, for the "did you mean" hint.
        let known: Vec<String> = rules.rules().iter().map(|r| r.id.clone()).collect();
        let unknown_err = |id: &str| {
            let hint = crate::rules::nearest(known.iter().map(String::as_str), id)
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            let off = self
                .rule_id_offsets
                .iter()
                .find(|(i, _)| i == id)
                .map_or(0, |(_, o)| *o);
            LoadError::at(
                path,
                &self.text,
                off,
                format!(
                    "unknown rule id `{}` ({hint}see `keyleak rules list`)",
                    crate::escape::quote(id, 64)
                ),
            )
        };
        if !self.enable_only.is_empty()
            && let Some(id) = rules.keep_only(&self.enable_only).first()
        {
            return Err(unknown_err(id));
        }
        if let Some(id) = rules.disable(&self.disable).first() {
            return Err(unknown_err(id));
        }
        for (id, sev) in &self.severity {
            if !rules.set_severity(id, *sev) {
                return Err(unknown_err(id));
            }
        }
        Ok(())
    }
}

/// The top of the git work tree holding `dir`: the nearest ancestor (or `dir` itself) with a
/// `.git` entry (a directory, or the file of a linked work tree or submodule), shown relative to
/// the current directory when it is inside it.
pub fn work_tree_top(dir: &Path) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(dir).ok()?;
    let top = abs
        .ancestors()
        .find(|a| std::fs::symlink_metadata(a.join(".git")).is_ok())?;
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|c| std::fs::canonicalize(c).ok());
    Some(
        match cwd.as_deref().and_then(|c| top.strip_prefix(c).ok()) {
            Some(rel) if rel.as_os_str().is_empty() => PathBuf::from("."),
            Some(rel) => rel.to_path_buf(),
            None => top.to_path_buf(),
        },
    )
}

fn check_glob(g: &Spanned<String>) -> Result<(), String> {
    crate::glob::Globs::check(g.get_ref()).map_err(|e| format!("invalid glob: {}", e.message))
}

fn last_line(s: &str) -> String {
    s.lines().last().unwrap_or(s).trim().to_string()
}

/// A commented starter config, written by `keyleak init`.
pub const STARTER: &str = r#"# keyleak configuration. Every key is optional; unknown keys are errors.
# Docs: see the README section "Configuration".

[scan]
# Paths never scanned (gitignore-style globs, relative to the scanned root).
exclude = [
  # "vendor/**",
  # "**/*.min.js",
]
# Larger files and blobs are skipped and reported as skipped.
max_file_size = "25MiB"
# Findings recorded by `keyleak baseline` are not reported again (relative to this file).
# baseline = ".keyleak-baseline.json"

[allow]
# Findings in these paths are suppressed (still counted in the summary).
paths = [
  # "tests/fixtures/**",
]
# A finding whose secret matches one of these regexes is suppressed.
regexes = [
  # '''^AKIA[A-Z0-9]{12}EXAMPLE$''',
]
# A finding whose secret contains one of these words (case-insensitive) is suppressed.
stopwords = []
# Fingerprints of findings that were reviewed and accepted (see also .keyleakignore).
fingerprints = []
# Also honour other scanners' inline markers (gitleaks:allow, pragma: allowlist secret,
# trufflehog:ignore) like keyleak:allow. Off: they are reported once per scan as not honoured.
other_markers = false

[rules]
# Rule ids to turn off (see `keyleak rules list`).
disable = []
# When non-empty, only these rules run.
enable_only = []
# Per-rule severity overrides.
[rules.severity]
# "generic-secret-assignment" = "low"

# Custom rules use the same schema as the built-in patterns/*.toml:
# [[rule]]
# id = "acme-internal-token"
# name = "ACME internal token"
# keywords = ["acme_"]
# regex = '''\b(?P<secret>acme_[A-Za-z0-9]{32})\b'''
# severity = "high"
# confidence = "high"
# remediation = "Revoke it at https://acme.example/tokens."
# examples = ["token = acme_Q8fz2LmP0vX7nR4tYw1KcJ9eHs3UaB6d"]
# negative_examples = ["token = acme_short"]
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(Path::new("k.toml"), text.to_string()).map_err(|e| e.to_string())
    }

    #[test]
    fn starter_parses() {
        parse(STARTER).unwrap();
    }

    #[test]
    fn sizes() {
        for (s, n) in [
            ("25MiB", 25 << 20),
            ("10 MB", 10 << 20),
            ("500k", 500 << 10),
            ("42", 42),
            ("1.5KiB", 1536),
        ] {
            assert_eq!(parse_size(s).unwrap(), n, "{s}");
        }
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5 parsecs").is_err());
    }

    #[test]
    fn strict_errors_have_positions() {
        for (text, want) in [
            (
                "[scan]\nexclud = []\n",
                "k.toml:2:1: unknown field `exclud`",
            ),
            (
                "[allow]\nregexes = ['(unclosed']\n",
                "k.toml:2:12: invalid allow regex",
            ),
            (
                "[scan]\nmax_file_size = 'big'\n",
                "k.toml:2:17: invalid size",
            ),
            (
                "[rules]\nseverity = { x = 'urgent' }\n",
                "k.toml:2:18: unknown severity",
            ),
            ("[allow]\npaths = 'a'\n", "k.toml:2:9: invalid type"),
            ("[[rule]]\nid = 'x'\n", "k.toml:1:1: missing field"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.starts_with(want), "got {e:?}, want {want:?}");
        }
    }
}
