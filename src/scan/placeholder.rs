//! Recognises values that are templates, references or filler rather than secrets
//! (the kinds of gitleaks' global allowlist, `config/gitleaks.toml [allowlist]`, plus samples
//! seen in real repositories): `your_api_key`, `${VAR}`, `xxxx`, `<API_KEY>`, `process.env.X`…

/// Words whose presence marks a placeholder, lowercased.
const PLACEHOLDER_WORDS: &[&str] = &[
    "xxxx",
    "your_",
    "your-",
    "yourapi",
    "yoursecret",
    "yourkey",
    "<your",
    "example",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "replace_me",
    "replaceme",
    "replace-me",
    "dummy",
    "sample",
    "redacted",
    "insert_",
    "insert-",
    "put_your",
    "enter_your",
    "fake",
    "0000000000",
    "todo",
    "1234567890",
    "abcdefghij",
    // The example UUID of Wikipedia's UUID article, copied by many tutorials
    // (`123e4567-e89b-12d3-a456-426614174000`), pasted as a sample key.
    "123e4567-e89b-12d3",
    "******",
    "•••",
    "...",
];

/// True when `secret` looks like a placeholder or a reference to a value held elsewhere.
pub fn is_placeholder(secret: &[u8]) -> bool {
    if secret.is_empty() {
        return true;
    }
    let lower = secret.to_ascii_lowercase();
    if PLACEHOLDER_WORDS
        .iter()
        .any(|w| contains(&lower, w.as_bytes()))
    {
        return true;
    }
    // References: ${VAR}, {{ var }}, $VAR, %VAR%, <VAR>, @VAR@.
    let first = secret[0];
    let last = secret[secret.len() - 1];
    if first == b'$'
        || contains(secret, b"${")
        || contains(secret, b"{{")
        || (first == b'<' && last == b'>')
        || (first == b'%' && last == b'%')
        || (first == b'@' && last == b'@')
    {
        return true;
    }
    for needle in [&b"process.env"[..], b"os.environ", b"getenv", b"secrets."] {
        if contains(&lower, needle) {
            return true;
        }
    }
    // One repeated character, or at most two distinct characters.
    let mut seen = [false; 256];
    let distinct = secret
        .iter()
        .filter(|&&b| !std::mem::replace(&mut seen[b as usize], true))
        .count();
    if distinct <= 2 {
        return true;
    }
    // Long runs of one character (`sk_live_aaaaaaaaaaaaaaaa`).
    longest_run(secret) * 2 > secret.len() && secret.len() >= 8
}

fn longest_run(s: &[u8]) -> usize {
    let mut best = 0;
    let mut cur = 0;
    let mut prev = None;
    for &b in s {
        if Some(b) == prev {
            cur += 1;
        } else {
            cur = 1;
            prev = Some(b);
        }
        best = best.max(cur);
    }
    best
}

/// Byte-substring test (memchr's SIMD finder).
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::is_placeholder;

    #[test]
    fn table() {
        for (input, want) in [
            ("your_api_key_here", true),
            ("YOUR-SECRET", true),
            ("${BINANCE_SECRET}", true),
            ("{{ secrets.KEY }}", true),
            ("<API_KEY>", true),
            ("%API_KEY%", true),
            ("xxxxxxxxxxxxxxxxxxxx", true),
            ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true),
            ("process.env.BINANCE_KEY", true),
            ("changeme", true),
            ("123e4567-e89b-12d3-a456-426614174222", true),
            ("9f4c2e7a-61d3-4b8e-a0f5-3c7d9e2b1a64", false),
            ("", true),
            ("q8Fz2LmP0vX7nR4tYw1KcJ9eHs3UaB6d", false),
            ("3f9a1c7e5b2d4086af1e9c3b7d5a2f80", false),
        ] {
            assert_eq!(is_placeholder(input.as_bytes()), want, "{input}");
        }
    }
}
