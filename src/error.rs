//! Errors at the library's seams. Each carries the file and position it is about, so the CLI
//! can print one line and exit 2.

use std::fmt;
use std::path::PathBuf;

/// A position in a text file (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Line, 1-based.
    pub line: usize,
    /// Column in characters, 1-based.
    pub column: usize,
}

impl Pos {
    /// The line and column of byte `offset` in `text`.
    pub fn of_offset(text: &str, offset: usize) -> Pos {
        let offset = offset.min(text.len());
        let before = &text.as_bytes()[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        Pos { line, column }
    }
}

/// A rule or config file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub struct LoadError {
    /// The file (a builtin pattern file is shown as `patterns/<name>`).
    pub file: PathBuf,
    /// Where in it, when known.
    pub pos: Option<Pos>,
    /// What is wrong, with a hint where one helps.
    pub message: String,
}

impl LoadError {
    /// An error at a byte offset of `text`.
    pub fn at(
        file: impl Into<PathBuf>,
        text: &str,
        offset: usize,
        message: impl Into<String>,
    ) -> Self {
        LoadError {
            file: file.into(),
            pos: Some(Pos::of_offset(text, offset)),
            message: message.into(),
        }
    }

    /// An error about the file as a whole.
    pub fn whole(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        LoadError {
            file: file.into(),
            pos: None,
            message: message.into(),
        }
    }

    /// Converts a TOML parse/deserialize error, keeping its position.
    pub fn from_toml(file: impl Into<PathBuf>, text: &str, err: &toml::de::Error) -> Self {
        // serde's messages quote the offending value (`invalid type: string "…"`): keep the
        // message short, so a file's content is never echoed in full.
        let message = crate::escape::quote(err.message().trim(), 160);
        match err.span() {
            Some(span) => LoadError::at(file, text, span.start, message),
            None => LoadError::whole(file, message),
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Some(p) => write!(
                f,
                "{}:{}:{}: {}",
                self.file.display(),
                p.line,
                p.column,
                self.message
            ),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_to_positions() {
        let text = "ab\ncdé\nf";
        for (off, line, col) in [
            (0, 1, 1),
            (2, 1, 3),
            (3, 2, 1),
            (7, 2, 4),
            (8, 3, 1),
            (99, 3, 2),
        ] {
            assert_eq!(
                Pos::of_offset(text, off),
                Pos { line, column: col },
                "offset {off}"
            );
        }
    }
}
