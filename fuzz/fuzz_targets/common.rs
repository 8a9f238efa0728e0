//! Shared by the fuzz targets: the engine with builtin plus deliberately awkward rules, and
//! the properties every finding must satisfy (the same ones tests/it/props.rs checks).
#![allow(dead_code)]

use std::path::Path;
use std::sync::LazyLock;

use keyleak::finding::Finding;
use keyleak::rules::RuleSet;
use keyleak::scan::Engine;
use keyleak::scan::validate::Validator;

/// Rules whose secrets can hold any byte, span lines, carry parts, skip the prefilter, or go
/// through every validator.
pub fn hostile_rules() -> String {
    let mut s = String::from(
        r#"
[[rule]]
id = "h-any-byte"
name = "Anything up to a quote"
keywords = ["pw="]
regex = '''pw=(?P<secret>[^"\n]{8,64})'''
severity = "high"
confidence = "high"

[[rule]]
id = "h-long"
name = "Long token"
keywords = ["lg:"]
regex = '''lg:(?P<secret>[A-Za-z0-9+/=_-]{300,3000})'''
severity = "high"
confidence = "high"

[[rule]]
id = "h-block"
name = "Multi-line block"
keywords = ["-----begin"]
regex = '''(?s)(?P<secret>-----BEGIN.{0,300}?-----END)'''
severity = "critical"
confidence = "high"

[[rule]]
id = "h-key"
name = "Pair key"
keywords = ["kk:"]
regex = '''kk:(?P<secret>[a-z0-9]{8,16})'''
severity = "high"
confidence = "high"
credential = "hpair"
part = "key"

[[rule]]
id = "h-secret"
name = "Pair secret"
keywords = ["ks:"]
regex = '''ks:(?P<name>[a-z]{0,4}):(?P<secret>[A-Za-z0-9]{8,40})'''
severity = "critical"
confidence = "high"
credential = "hpair"
part = "secret"

[[rule]]
id = "h-no-prefilter"
name = "No keyword"
regex = '''\bZZ[0-9]{6}\b'''
prefilter = false
severity = "medium"
confidence = "low"

[[rule]]
id = "h-tiny-window"
name = "Zero window"
keywords = ["tw_"]
regex = '''tw_[A-Z]{10}'''
window = 0
severity = "low"
confidence = "medium"
"#,
    );
    for (i, v) in Validator::ALL.iter().enumerate() {
        s.push_str(&format!(
            "\n[[rule]]\nid = \"h-validator-{i}\"\nname = \"V\"\nkeywords = [\"v{i}:\"]\n\
             regex = '''v{i}:(?P<secret>[^\\s\"]{{1,200}})'''\nvalidator = \"{}\"\n\
             severity = \"high\"\nconfidence = \"high\"\n",
            v.name()
        ));
    }
    s
}

pub static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    let mut rules = RuleSet::builtin().expect("builtin rules load");
    rules.add_file(Path::new("hostile.toml"), &hostile_rules()).expect("hostile rules load");
    Engine::new(rules)
});

/// Line and column of `offset` the slow obvious way (`\n`, `\r\n`, lone `\r` end lines).
pub fn naive_position(hay: &[u8], offset: usize) -> (usize, usize) {
    let (mut line, mut col) = (1, 1);
    for (i, &b) in hay[..offset].iter().enumerate() {
        if b == b'\n' || (b == b'\r' && hay.get(i + 1) != Some(&b'\n')) {
            line += 1;
            col = 1;
        } else if b & 0xC0 != 0x80 {
            col += 1;
        }
    }
    (line, col)
}

/// Panics (so libFuzzer records a crash) when a finding breaks a property.
pub fn check_findings(hay: &[u8], findings: &[Finding]) {
    let utf16 = hay.starts_with(&[0xFF, 0xFE]) || hay.starts_with(&[0xFE, 0xFF]);
    for f in findings {
        if !utf16 {
            let (s, e) = f.byte_range;
            assert!(s <= e && e <= hay.len(), "range {s}..{e} outside the input");
            // A secret found inside an encoding (URL, base64…) is the decoded value; its range
            // is where the encoded text sits.
            if f.decoded.is_empty() {
                assert_eq!(f.secret.as_bytes(), &hay[s..e], "secret is not its span");
            }
            assert_eq!((f.span.line, f.span.column), naive_position(hay, s));
            assert_eq!((f.span.end_line, f.span.end_column), naive_position(hay, e));
        }
        let snippet = f.snippet(false);
        assert!(snippet.chars().count() <= 200);
        let raw = String::from_utf8_lossy(f.secret.as_bytes());
        if raw.chars().count() >= 8 {
            assert!(!snippet.contains(raw.as_ref()), "snippet {snippet:?} shows {raw:?}");
        }
    }
}
