//! Suppression: `[allow]` paths, regexes, stopwords and fingerprints, `keyleak:allow` on the
//! line, `.keyleakignore`, and `--baseline`. A suppressed finding is kept (marked) so it can be
//! counted, listed with `-v` and, on request, written to SARIF with a `suppressions` entry.

use std::collections::HashSet;
use std::path::Path;

use crate::config::Config;
use crate::error::LoadError;
use crate::finding::{Finding, Marker, Suppression};
use crate::glob::Globs;
use crate::scan::markers;

/// Name of the ignore file at the scan root.
pub const IGNORE_FILE: &str = ".keyleakignore";

/// Every suppression source, compiled.
#[derive(Debug, Default)]
pub struct Filters {
    paths: Globs,
    regexes: Vec<regex::bytes::Regex>,
    stopwords: Vec<String>,
    fingerprints: HashSet<String>,
    baseline: HashSet<String>,
    other_markers: bool,
    /// The current directory relative to the config's directory (`sub/` when run in `sub`),
    /// so `[allow] paths` mean the same wherever keyleak is started.
    base: String,
    /// Honour `keyleak:allow` and other scanners' markers (off with `--no-inline-allow`).
    inline: bool,
}

impl Filters {
    /// Compiles the allowlists of `config`, the ignore file's fingerprints and a baseline.
    pub fn new(
        config: &Config,
        ignored: HashSet<String>,
        baseline: HashSet<String>,
    ) -> Result<Filters, LoadError> {
        let cfg_path = config.path.clone().unwrap_or_default();
        let paths = Globs::new(&config.allow_paths)
            .map_err(|e| LoadError::whole(&cfg_path, e.to_string()))?;
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
            other_markers: config.other_markers,
            base: String::new(),
            inline: true,
        })
    }

    /// Stops honouring `keyleak:allow` comments and other scanners' markers
    /// (`--no-inline-allow`): in a strict gate the author of the scanned change must not be
    /// able to silence it.
    pub fn without_inline(mut self) -> Filters {
        self.inline = false;
        self
    }

    /// Also matches `[allow] paths` against finding paths prefixed with `base` (the current
    /// directory relative to the config's directory).
    pub fn with_base(mut self, base: &Path) -> Filters {
        let b = base.to_string_lossy().replace('\\', "/");
        let b = b.trim_matches('/');
        self.base = if b.is_empty() || b == "." {
            String::new()
        } else {
            format!("{b}/")
        };
        self
    }

    /// Why `f` is suppressed, if it is. The first matching reason wins, most local first.
    pub fn reason(&self, f: &Finding) -> Option<Suppression> {
        match f.marker {
            _ if !self.inline => {}
            Some(Marker::Keyleak) => return Some(Suppression::Inline),
            Some(Marker::Other(_)) if self.other_markers => return Some(Suppression::OtherMarker),
            _ => {}
        }
        let path = f.path.as_str();
        if self.paths.is_match(path, false)
            || (!self.base.is_empty()
                && !path.starts_with('/')
                && self.paths.is_match(&format!("{}{path}", self.base), false))
        {
            return Some(Suppression::AllowPath);
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

    /// The once-per-scan warning for reported findings that carry another scanner's marker
    /// which the config does not ask to honour, so a migrating user knows why they still fail.
    pub fn unhonoured_markers(&self, reported: &[Finding]) -> Option<String> {
        let mut names: Vec<&str> = Vec::new();
        let mut n = 0;
        for f in reported {
            if let Some(Marker::Other(name)) = f.marker {
                n += 1;
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        (n > 0).then(|| {
            format!(
                "{n} finding{} carr{} another scanner's marker ({}), which keyleak does not \
                 honour: use `{}` (or `{}` on the line above), or set \
                 `[allow] other_markers = true` in keyleak.toml",
                if n == 1 { "" } else { "s" },
                if n == 1 { "ies" } else { "y" },
                names.join(", "),
                markers::ALLOW,
                markers::ALLOW_NEXT_LINE,
            )
        })
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
