//! Making untrusted text safe to print. File names, archive member names, git author names,
//! config values, rule ids and secrets are written by whoever wrote the scanned tree; printed
//! raw, a control character rewrites the reader's terminal (`ESC]52` sets the clipboard,
//! `ESC[2K` erases a line) or, on a CI runner, a newline starts a workflow command
//! (`::error …`, `::add-mask::`, `::stop-commands::`). Every human-readable output passes its
//! input-derived fields through [`control`]; messages that quote file content use [`quote`].

use std::borrow::Cow;
use std::fmt::Write;

/// True for characters that must never reach a terminal or a CI log as themselves: C0
/// (including tab and newline), DEL, C1, and the bidirectional overrides and isolates that
/// make text display in a different order than it is stored ("Trojan Source").
pub fn is_unsafe(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every unsafe character written as an escape: `\n`, `\r`, `\t`, `\x1b`, `\u{9b}`,
/// `\u{202e}`. Text without any is returned as is.
pub fn control(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && is_unsafe(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// At most `max` characters of `s`, escaped, with `…` when cut: for error messages that must
/// say what they did not understand without echoing a file's content (a config that is a
/// link to `/proc/self/environ` must not print the environment).
pub fn quote(s: &str, max: usize) -> String {
    let mut cut: String = s.chars().take(max).collect();
    if cut.len() < s.len() {
        cut.push('…');
    }
    control(&cut).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_control_character() {
        for (input, want) in [
            ("plain/path.txt", "plain/path.txt"),
            ("a\nb\r\tc", "a\\nb\\r\\tc"),
            ("\x1b]52;c;aGk=\x07", "\\x1b]52;c;aGk=\\x07"),
            ("\x1b[2K\rfake", "\\x1b[2K\\rfake"),
            ("del\x7f", "del\\x7f"),
            ("c1\u{9b}31m", "c1\\u{9b}31m"),
            ("rtl\u{202e}txt.exe", "rtl\\u{202e}txt.exe"),
            ("é ✓ 日本", "é ✓ 日本"),
        ] {
            assert_eq!(control(input), want, "{input:?}");
        }
        for c in (0u32..0x20).chain(0x7f..0xa0) {
            let s = char::from_u32(c).unwrap().to_string();
            assert!(!control(&s).chars().any(is_unsafe), "U+{c:04X}");
        }
    }

    #[test]
    fn quote_cuts_and_escapes() {
        assert_eq!(quote("SHELL=/bin/bash\0AWS_SECRET=x", 8), "SHELL=/b…");
        assert_eq!(quote("a\nb", 8), "a\\nb");
        assert_eq!(quote("short", 8), "short");
    }
}
