//! Suppression: `[allow]` paths, regexes, stopwords and fingerprints, `keyleak:allow` on the
//! line, `.keyleakignore`, and `--baseline`. A suppressed finding is kept (marked) so it can be
//! counted, listed with `-v` and, on request, written to SARIF with a `suppressions` entry.

use std::collections::HashSet;
use std::path::Path;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::config::Config;
use crate::error::LoadError;
use crate::finding::{Finding, Suppression};

/// The inline marker.
pub const INLINE_MARKER: &str = "keyleak:allow";

/// Name of the ignore file at the scan root.
pub const IGNORE_FILE: &str = ".keyleakignore";

/// Every suppression source, compiled.
#[derive(Debug, Default)]
pub struct Filters {
    paths: Option<GlobSet>,
    regexes: Vec<regex::bytes::Regex>,
    stopwords: Vec<String>,
    fingerprints: HashSet<String>,
    baseline: HashSet<String>,
    /// Honour `keyleak:allow` (off with `--no-inline-allow`).
    inline: bool,
}

/// Builds a glob set where `*` does not cross `/` and a pattern without `/` matches at any depth
/// (gitignore semantics).
pub fn glob_set(patterns: &[String]) -> Result<GlobSet, globset::Error> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let p = p.trim_start_matches("./");
        let anchored = p.trim_end_matches('/');
        let variants: Vec<String> = if anchored.contains('/') {
            let base = anchored.trim_start_matches('/').to_string();
            vec![base.clone(), format!("{base}/**")]
        } else {
            vec![format!("**/{anchored}"), format!("**/{anchored}/**")]
        };
        for v in variants {
            b.add(GlobBuilder::new(&v).literal_separator(true).build()?);
        }
    }
    b.build()
}

impl Filters {
    /// Compiles the allowlists of `config`, the ignore file's fingerprints and a baseline.
    pub fn new(
        config: &Config,
        ignored: HashSet<String>,
        baseline: HashSet<String>,
    ) -> Result<Filters, LoadError> {
        let cfg_path = config.path.clone().unwrap_or_default();
        let paths = if config.allow_paths.is_empty() {
            None
        } else {
            Some(
                glob_set(&config.allow_paths)
                    .map_err(|e| LoadError::whole(&cfg_path, e.to_string()))?,
            )
        };
        let regexes = config
            .allow_regexes
            .iter()
            .map(|r| {
                regex::bytes::Regex::new(r).map_err(|e| LoadError::whole(&cfg_path, e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let mut fingerprints: HashSet<String> = config.allow_fingerprints.iter().cloned().collect();
        fingerprints.extend(ignored);
        Ok(Filters {
            paths,
            regexes,
            stopwords: config.allow_stopwords.clone(),
            fingerprints,
            baseline,
            inline: true,
        })
    }

    /// Stops honouring `keyleak:allow` comments (`--no-inline-allow`): in a strict gate the
    /// author of the scanned change must not be able to silence it.
    pub fn without_inline(mut self) -> Filters {
        self.inline = false;
        self
    }

    /// Why `f` is suppressed, if it is. The first matching reason wins, most local first.
    pub fn reason(&self, f: &Finding) -> Option<Suppression> {
        if self.inline && f.line_text.contains(INLINE_MARKER) {
            return Some(Suppression::Inline);
        }
        if let Some(p) = &self.paths {
            let path = f.path.trim_start_matches("./");
            if p.is_match(path) {
                return Some(Suppression::AllowPath);
            }
        }
        let secret = f.secret.as_bytes();
        if self.regexes.iter().any(|r| r.is_match(secret)) {
            return Some(Suppression::AllowRegex);
        }
        if !self.stopwords.is_empty() {
            let lower = secret.to_ascii_lowercase();
            if self
                .stopwords
                .iter()
                .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
            {
                return Some(Suppression::AllowRegex);
            }
        }
        if self.fingerprints.contains(&f.fingerprint) {
            return Some(Suppression::AllowFingerprint);
        }
        if self.baseline.contains(&f.fingerprint) {
            return Some(Suppression::Baseline);
        }
        None
    }

    /// Splits findings into (reported, suppressed), marking the suppressed ones.
    pub fn apply(&self, findings: Vec<Finding>) -> (Vec<Finding>, Vec<Finding>) {
        let mut kept = Vec::new();
        let mut dropped = Vec::new();
        for mut f in findings {
            match self.reason(&f) {
                Some(r) => {
                    f.suppressed = Some(r);
                    dropped.push(f);
                }
                None => kept.push(f),
            }
        }
        (kept, dropped)
    }
}

/// Reads `.keyleakignore` found in the scanned tree (see [`crate::policy_file`]).
pub fn read_ignore_file(path: &Path) -> Result<HashSet<String>, LoadError> {
    let text = crate::policy_file::read(path, crate::policy_file::Origin::Tree)?;
    parse_ignore(path, &text)
}

/// Parses ignore-file text: one fingerprint per line, `#` comments, blank lines. An error
/// quotes at most a short, escaped prefix of the offending line.
pub fn parse_ignore(path: &Path, text: &str) -> Result<HashSet<String>, LoadError> {
    let mut out = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.split('#').next().unwrap_or("").trim();
        if l.is_empty() {
            continue;
        }
        if !l.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(LoadError {
                file: path.to_path_buf(),
                pos: Some(crate::error::Pos {
                    line: i + 1,
                    column: line.find(l).unwrap_or(0) + 1,
                }),
                message: format!(
                    "`{}` is not a fingerprint (hex digits expected)",
                    crate::escape::quote(l, 12)
                ),
            });
        }
        out.insert(l.to_ascii_lowercase());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_follow_gitignore_shape() {
        let g = glob_set(&[
            "tests/fixtures/**".into(),
            "*.min.js".into(),
            "vendor".into(),
        ])
        .unwrap();
        for (p, want) in [
            ("tests/fixtures/a/b.txt", true),
            ("src/tests/fixtures/a", false),
            ("web/app.min.js", true),
            ("app.min.js", true),
            ("vendor/x/y.go", true),
            ("a/vendor/y.go", true),
            ("src/main.rs", false),
        ] {
            assert_eq!(g.is_match(p), want, "{p}");
        }
    }
}
