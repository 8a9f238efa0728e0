//! `[scan] exclude` and `[allow] paths`: gitignore-style path patterns, compiled by `ignore`'s
//! gitignore builder. Config validation, the directory walk's pruning and the path allowlist
//! all go through [`Globs::new`], so a pattern the config accepts means the same everywhere.
//!
//! Each string is one gitignore line relative to the scanned root, with three keyleak rules on
//! top: a leading `./` is dropped, a leading `#` is a literal character (a TOML string is not a
//! comment), and `dir/**` also names `dir` itself, so an excluded directory is never opened.

use std::path::Path;

use ignore::gitignore::{Gitignore, GitignoreBuilder};

/// A compiled pattern list. Later patterns win; `!pattern` re-includes what an earlier pattern
/// matched, except under a matched directory (as in git).
#[derive(Debug, Clone)]
pub struct Globs {
    set: Gitignore,
}

impl Default for Globs {
    fn default() -> Globs {
        Globs {
            set: Gitignore::empty(),
        }
    }
}

/// A pattern that does not compile, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobError {
    /// The pattern as written.
    pub pattern: String,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for GlobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid glob `{}`: {}", self.pattern, self.message)
    }
}

impl std::error::Error for GlobError {}

impl Globs {
    /// Compiles `patterns` (see the module documentation for the dialect).
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Globs, GlobError> {
        // The root is never stripped from a path: callers pass paths relative to it.
        let mut b = GitignoreBuilder::new("");
        // Strict like the rest of the config: `a[b` is a typo to report, not a literal.
        b.allow_unclosed_class(false);
        let mut b = GlobBuilderLines(b);
        for p in patterns {
            b.add(p.as_ref())?;
        }
        let set = b.0.build().map_err(|e| GlobError {
            pattern: String::new(),
            message: e.to_string(),
        })?;
        Ok(Globs { set })
    }

    /// Checks one pattern the way [`Globs::new`] compiles it.
    pub fn check(pattern: &str) -> Result<(), GlobError> {
        Globs::new(&[pattern]).map(|_| ())
    }

    /// No pattern at all (the common case: nothing to check).
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Whether `path` (relative to the root, `/` separated) or a directory above it is matched,
    /// checked top-down as the walk does: under a matched directory nothing is re-included.
    /// A path that starts with `/` is matched as if the root were `/`, so only unanchored
    /// patterns (`*.min.js`, `fixtures/`) can match it.
    pub fn is_match(&self, path: &str, is_dir: bool) -> bool {
        if self.set.is_empty() {
            return false;
        }
        let rel = relative(path);
        let dirs = rel.match_indices('/').map(|(i, _)| &rel[..i]);
        dirs.filter(|d| !d.is_empty())
            .any(|d| self.is_match_here(d, true))
            || self.is_match_here(rel, is_dir)
    }

    /// Whether the walk should leave out `path` (relative to the root), whose parent
    /// directories were already checked on the way down.
    pub fn is_match_here(&self, path: &str, is_dir: bool) -> bool {
        if self.set.is_empty() {
            return false;
        }
        let rel = relative(path);
        if rel.is_empty() || Path::new(rel).has_root() {
            return false;
        }
        self.set.matched(rel, is_dir).is_ignore()
    }
}

/// `GitignoreBuilder` fed with config strings rather than file lines.
struct GlobBuilderLines(GitignoreBuilder);

impl GlobBuilderLines {
    fn add(&mut self, pattern: &str) -> Result<(), GlobError> {
        let err = |e: ignore::Error| GlobError {
            pattern: pattern.to_string(),
            message: glob_message(&e),
        };
        let mut line = pattern;
        while let Some(rest) = line.strip_prefix("./") {
            line = rest;
        }
        let (neg, body) = match line.strip_prefix('!') {
            Some(rest) => ("!", rest),
            None => ("", line),
        };
        let escaped;
        let body = if body.starts_with('#') && neg.is_empty() {
            escaped = format!("\\{body}");
            escaped.as_str()
        } else {
            body
        };
        self.0
            .add_line(None, &format!("{neg}{body}"))
            .map_err(err)?;
        // gitignore's `dir/**` matches what is inside `dir` but not `dir`: the walk would
        // still open `dir` (and report it when it cannot). Naming `dir/` too prunes it.
        if neg.is_empty()
            && let Some(dir) = body.strip_suffix("/**")
            && !dir.is_empty()
            && !dir.ends_with("**")
        {
            self.0.add_line(None, &format!("{dir}/")).map_err(err)?;
        }
        Ok(())
    }
}

/// The glob error without the pattern `ignore` already quotes.
fn glob_message(e: &ignore::Error) -> String {
    match e {
        ignore::Error::Glob { err, .. } => err.clone(),
        other => other.to_string(),
    }
}

/// `path` without a leading `./` or `/`, with `/` separators.
fn relative(path: &str) -> &str {
    let mut p = path;
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            return p;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn globs(p: &[&str]) -> Globs {
        Globs::new(p).unwrap()
    }

    #[test]
    fn gitignore_shape() {
        let g = globs(&[
            "tests/fixtures/**",
            "*.min.js",
            "vendor",
            "/top.txt",
            "build/",
        ]);
        for (p, dir, want) in [
            ("tests/fixtures/a/b.txt", false, true),
            ("tests/fixtures", true, true),
            ("tests/fixtures", false, false),
            ("src/tests/fixtures/a", false, false),
            ("web/app.min.js", false, true),
            ("app.min.js", false, true),
            ("vendor/x/y.go", false, true),
            ("a/vendor/y.go", false, true),
            ("a/vendor", false, true),
            ("top.txt", false, true),
            ("a/top.txt", false, false),
            ("build/x", false, true),
            ("build", false, false),
            ("src/main.rs", false, false),
            // `*` does not cross `/`; an absolute path only meets unanchored patterns.
            ("/abs/tests/fixtures/a", false, false),
            ("/abs/web/app.min.js", false, true),
            ("./web/app.min.js", false, true),
        ] {
            assert_eq!(g.is_match(p, dir), want, "{p} (dir: {dir})");
        }
        assert!(!globs(&["src/*.rs"]).is_match("src/a/b.rs", false));
        assert!(globs(&["src/**/*.rs"]).is_match("src/a/b.rs", false));
    }

    #[test]
    fn negation_hash_and_dot_slash() {
        let g = globs(&["*.txt", "!keep.txt"]);
        assert!(g.is_match("a.txt", false));
        assert!(!g.is_match("keep.txt", false));
        // Under a matched directory nothing is re-included (the walk never opens it).
        let g = globs(&["vendor/**", "!vendor/keep.txt"]);
        assert!(g.is_match("vendor/keep.txt", false));
        assert!(g.is_match_here("vendor", true));
        assert!(globs(&["#notes.txt"]).is_match("#notes.txt", false));
        assert!(globs(&["./a/b"]).is_match("a/b", false));
        assert!(Globs::new(&["a[b"]).is_err());
        assert!(Globs::check("{a,b}/c").is_ok());
        assert!(!Globs::default().is_match("a", false));
    }
}
