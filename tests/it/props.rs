//! Property tests over the library: the engine, parsers, validators, redaction and reporters
//! on arbitrary (and deliberately nasty) input. Each property states what must hold for *every*
//! input, so a failure prints a minimal counterexample (proptest shrinks it).
//!
//! The fuzz targets under `fuzz/` check the same properties with coverage guidance; these run
//! on every `cargo test` with a bounded number of cases (set `PROPTEST_CASES` to run more).

use std::path::Path;
use std::sync::LazyLock;

use keyleak::config::Config;
use keyleak::finding::{Confidence, Finding, GitInfo, Part, Secret, Severity, Span};
use keyleak::model::SkipKind;
use keyleak::report::{self, Format, Report, Stats};
use keyleak::rules::RuleSet;
use keyleak::scan::validate::Validator;
use keyleak::scan::{Engine, Scratch};
use keyleak::source::Skipped;
use proptest::prelude::*;

/// Rules chosen to stress the engine: classes that match any byte (control characters,
/// invalid UTF-8), a multi-line secret, named parts merged across lines, a rule without a
/// prefilter, a zero-width window, and one rule per validator so that every validator's
/// narrowing goes through the matcher.
fn hostile_rules() -> String {
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
id = "h-long"
name = "Long token"
keywords = ["lg:"]
regex = '''lg:(?P<secret>[A-Za-z0-9+/=_-]{300,3000})'''
severity = "high"
confidence = "high"

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
            r#"
[[rule]]
id = "h-validator-{i}"
name = "Validator {name}"
keywords = ["v{i}:"]
regex = '''v{i}:(?P<secret>[^\s"]{{1,200}})'''
validator = "{name}"
severity = "high"
confidence = "high"
"#,
            name = v.name()
        ));
    }
    s
}

static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    let mut rules = RuleSet::builtin().expect("builtin rules load");
    rules
        .add_file(Path::new("hostile.toml"), &hostile_rules())
        .expect("hostile rules load");
    Engine::new(rules)
});

/// Pieces that make interesting inputs far more likely than uniform random bytes: keywords of
/// every rule, line terminators of every kind, broken UTF-8, NUL, a BOM, and filler.
fn segment() -> impl Strategy<Value = Vec<u8>> {
    let fixed: Vec<&'static [u8]> = vec![
        b"AKIA",
        b"akia",
        b"AKIAQ3EGTR7HJKL2MNOP",
        b"pw=",
        b"-----BEGIN",
        b"-----END",
        b"kk:",
        b"ks:ab:",
        b"ZZ123456",
        b"tw_ABCDEFGHIJ",
        b"\n",
        b"\r",
        b"\r\n",
        b"\xff",
        b"\xc3",
        b"\xe2\x82",
        b"\xe2\x82\xac",
        b"\xc3\xa9",
        b"\0",
        b"\x1b[31m",
        b"\t",
        b"\"",
        b" ",
        b"keyleak:allow",
        b"lg:",
        b"%41KIA",
        b"%2B",
        b"QUtJQVEzRUdUUjdISktMMk1OT1A=",
    ];
    let validator_kw: Vec<Vec<u8>> = (0..Validator::ALL.len())
        .map(|i| format!("v{i}:").into_bytes())
        .collect();
    prop_oneof![
        4 => prop::sample::select(fixed).prop_map(<[u8]>::to_vec),
        2 => prop::sample::select(validator_kw),
        3 => "[A-Za-z0-9+/=_-]{1,48}".prop_map(String::into_bytes),
        2 => prop::collection::vec(any::<u8>(), 0..24),
        1 => "[A-Za-z0-9]{300,900}".prop_map(String::into_bytes),
    ]
}

fn haystack() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(segment(), 0..48).prop_map(|v| v.concat())
}

/// Line and character column of `offset`, computed the slow obvious way: `\n`, `\r\n` and a
/// lone `\r` end a line; a column counts bytes that do not continue a UTF-8 sequence (so the
/// `\r` of a `\r\n` is a character of its line).
fn naive_position(hay: &[u8], offset: usize) -> (usize, usize) {
    let (mut line, mut col) = (1, 1);
    for (i, &b) in hay[..offset].iter().enumerate() {
        let ends_line = b == b'\n' || (b == b'\r' && hay.get(i + 1) != Some(&b'\n'));
        if ends_line {
            line += 1;
            col = 1;
        } else if b & 0xC0 != 0x80 {
            col += 1;
        }
    }
    (line, col)
}

fn is_utf16(hay: &[u8]) -> bool {
    hay.starts_with(&[0xFF, 0xFE]) || hay.starts_with(&[0xFE, 0xFF])
}

fn check_findings(hay: &[u8], findings: &[Finding]) -> Result<(), TestCaseError> {
    for f in findings {
        let (s, e) = f.byte_range;
        prop_assert!(
            s <= e && e <= hay.len(),
            "range {s}..{e} outside 0..{}",
            hay.len()
        );
        // A secret found inside an encoding (URL, base64…) is the decoded value; its range is
        // where the encoded text sits.
        if f.decoded.is_empty() {
            prop_assert_eq!(
                f.secret.as_bytes(),
                &hay[s..e],
                "secret is not the bytes at its range"
            );
        }
        prop_assert_eq!(
            (f.span.line, f.span.column),
            naive_position(hay, s),
            "start of {:?}",
            f
        );
        prop_assert_eq!(
            (f.span.end_line, f.span.end_column),
            naive_position(hay, e),
            "end"
        );
        let lines = naive_position(hay, hay.len()).0;
        for p in &f.parts {
            prop_assert!(p.span.line >= 1 && p.span.line <= lines);
            prop_assert!(p.span.column >= 1);
        }
        prop_assert!(f.snippet(true).chars().count() <= 200);
        check_snippet_redacted(f, hay)?;
    }
    Ok(())
}

/// Without `--show-secrets` the snippet never holds a secret (or part) of 8+ characters, nor
/// (for long ones) 32 characters of it: not raw, not with control characters blanked as the
/// snippet blanks them.
fn check_snippet_redacted(f: &Finding, hay: &[u8]) -> Result<(), TestCaseError> {
    // The same characters may also stand elsewhere in the input, outside the secret.
    let (s, e) = f.byte_range;
    let elsewhere = if e <= hay.len() {
        String::from_utf8_lossy(&[&hay[..s], b"\0", &hay[e..]].concat()).into_owned()
    } else {
        String::from_utf8_lossy(hay).into_owned()
    };
    let elsewhere: String = elsewhere
        .chars()
        .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
        .collect();
    let snippet = f.snippet(false);
    let values = std::iter::once(&f.secret).chain(f.parts.iter().map(|p| &p.value));
    for v in values {
        let raw = String::from_utf8_lossy(v.as_bytes());
        if raw.chars().count() < 8 {
            continue;
        }
        prop_assert!(
            !snippet.contains(raw.as_ref()),
            "snippet {snippet:?} holds {raw:?}"
        );
        let blanked: String = raw
            .chars()
            .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
            .collect();
        let first_line = blanked.split(['\n', '\r']).next().unwrap_or("");
        let probe: String = first_line.chars().skip(4).take(32).collect();
        if probe.chars().filter(|c| !c.is_whitespace()).count() >= 8 && !elsewhere.contains(&probe)
        {
            prop_assert!(
                !snippet.contains(&probe),
                "snippet {snippet:?} holds {probe:?} of {raw:?}"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The engine never panics, and every finding points at exactly its secret's bytes.
    #[test]
    fn engine_spans_are_exact(hay in haystack()) {
        prop_assume!(!is_utf16(&hay));
        let findings = ENGINE.scan("f", &hay, &mut Scratch::default());
        check_findings(&hay, &findings)?;
    }

    /// Uniform random bytes, including UTF-16 BOM inputs (transcoded first): never a panic.
    #[test]
    fn engine_survives_random_bytes(mut hay in prop::collection::vec(any::<u8>(), 0..4096),
                                    bom in 0u8..3) {
        let prefix: &[u8] = match bom {
            1 => &[0xFF, 0xFE],
            2 => &[0xFE, 0xFF],
            _ => &[],
        };
        hay.splice(0..0, prefix.iter().copied());
        let findings = ENGINE.scan("f", &hay, &mut Scratch::default());
        if !is_utf16(&hay) {
            check_findings(&hay, &findings)?;
        }
        for f in &findings {
            prop_assert!(f.span.line >= 1 && f.span.column >= 1);
            check_snippet_redacted(f, &[])?;
        }
    }

    /// A scratch reused across inputs gives the same findings as a fresh one.
    #[test]
    fn scratch_reuse_is_invisible(a in haystack(), b in haystack()) {
        let mut scratch = Scratch::default();
        let _ = ENGINE.scan("a", &a, &mut scratch);
        let reused: Vec<_> = ENGINE.scan("b", &b, &mut scratch).iter().map(|f| f.byte_range).collect();
        let fresh: Vec<_> =
            ENGINE.scan("b", &b, &mut Scratch::default()).iter().map(|f| f.byte_range).collect();
        prop_assert_eq!(reused, fresh);
    }

    /// Every validator on arbitrary bytes: no panic, and a narrowed range lies inside the input.
    #[test]
    fn validators_stay_in_bounds(bytes in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        "[a-z ]{0,300}".prop_map(String::into_bytes),
        "[1-9A-HJ-NP-Za-km-z]{0,120}".prop_map(String::into_bytes),
        "[A-Za-z0-9+/=_.-]{0,300}".prop_map(String::into_bytes),
        "\\[[0-9, ]{0,400}\\]".prop_map(String::into_bytes),
    ]) {
        for v in Validator::ALL {
            if let Some(r) = v.check(&bytes) {
                prop_assert!(r.start <= r.end && r.end <= bytes.len(), "{} gave {r:?}", v.name());
            }
        }
    }

    /// Redaction never shows a whole secret of 8 or more characters, nor more than 4 of them.
    #[test]
    fn redaction_hides_secrets(s in prop_oneof![".{8,80}", "[A-Za-z0-9]{8,80}",
                               prop::collection::vec(any::<u8>(), 8..80)
                                   .prop_map(|b| String::from_utf8_lossy(&b).into_owned())]) {
        let r = Secret::new(s.as_bytes()).redacted();
        prop_assert!(!r.contains(s.as_str()), "{r:?} shows {s:?}");
        prop_assert!(r.chars().count() <= 5, "{r:?} shows too much");
        let debug = format!("{:?}", Secret::new(s.as_bytes()));
        prop_assert!(!debug.contains(s.as_str()), "Debug shows {:?}", s);
    }

    /// Rule files: any text either loads or fails with a position inside the file; a rule that
    /// loads compiles and runs.
    #[test]
    fn rule_files_never_panic(text in rule_file_text()) {
        let mut set = RuleSet::default();
        match set.add_file(Path::new("r.toml"), &text) {
            Ok(()) => {
                let engine = Engine::new(set);
                for r in engine.rules().rules() {
                    let _ = r.regex();
                }
                let _ = engine.scan("x", text.as_bytes(), &mut Scratch::default());
            }
            Err(e) => check_position(&text, e.pos.map(|p| (p.line, p.column)))?,
        }
    }

    /// Config files: same contract as rule files, and applying a parsed config never panics.
    #[test]
    fn configs_never_panic(text in config_text()) {
        match Config::parse(Path::new("k.toml"), text.clone()) {
            Ok(cfg) => {
                let mut rules = RuleSet::builtin().unwrap();
                if let Err(e) = cfg.apply(&mut rules) {
                    check_position(&text, e.pos.map(|p| (p.line, p.column)))?;
                }
            }
            Err(e) => check_position(&text, e.pos.map(|p| (p.line, p.column)))?,
        }
    }

    /// Every format writes a well-formed report for any finding: control characters, invalid
    /// UTF-8 (as it reaches a finding: lossily decoded), huge lines, odd paths.
    #[test]
    fn reports_are_well_formed(f in finding(), show in any::<bool>()) {
        let findings = vec![f];
        let rules = RuleSet::default();
        let skipped = vec![Skipped::new("a\nb\u{1b}", SkipKind::Unreadable, "r\"\\")];
        let notes = vec!["n\u{0}".to_string()];
        let report = Report {
            findings: &findings,
            suppressed: &[],
            rules: &rules,
            skipped: &skipped,
            notes: &notes,
            stats: Stats::default(),
            show_secrets: show,
            include_suppressed: false,
            color: false,
        };
        let render = |fmt| {
            let mut out = Vec::new();
            report::write(fmt, &report, &mut out).unwrap();
            out
        };
        let json = render(Format::Json);
        let doc: serde_json::Value = serde_json::from_slice(&json).expect("json parses");
        prop_assert_eq!(doc["findings"].as_array().map(Vec::len), Some(1));
        let jsonl = render(Format::Jsonl);
        let lines: Vec<&[u8]> = jsonl.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
        prop_assert_eq!(lines.len(), 1);
        serde_json::from_slice::<serde_json::Value>(lines[0]).expect("jsonl line parses");
        let github = render(Format::Github);
        prop_assert_eq!(github.iter().filter(|&&b| b == b'\n').count(), 1, "one annotation line");
        let sarif = render(Format::Sarif);
        serde_json::from_slice::<serde_json::Value>(&sarif).expect("sarif parses");
        if !show {
            let secret = findings[0].secret.reveal();
            if secret.chars().count() >= 8 {
                for (name, out) in [("json", &json), ("jsonl", &jsonl), ("github", &github),
                                    ("sarif", &sarif), ("text", &render(Format::Text))] {
                    let text = String::from_utf8_lossy(out);
                    prop_assert!(!text.contains(&secret), "{name} shows the secret");
                    // JSON escapes control characters: compare against the escaped form too.
                    let escaped = serde_json::to_string(&secret).unwrap();
                    prop_assert!(!text.contains(escaped.trim_matches('"')), "{name} (escaped)");
                }
            }
        }
    }
}

fn check_position(text: &str, pos: Option<(usize, usize)>) -> Result<(), TestCaseError> {
    if let Some((line, col)) = pos {
        let lines = text.split('\n').count();
        prop_assert!(line >= 1 && line <= lines, "line {line} of {lines}");
        prop_assert!(col >= 1);
    }
    Ok(())
}

/// Rule files: random text, and valid rules with each field replaced by something random.
fn rule_file_text() -> impl Strategy<Value = String> {
    let field = prop_oneof![
        Just("id = \"x-y\"".to_string()),
        "id = \"[a-zA-Z -]{0,8}\"",
        Just("name = \"N\"".to_string()),
        Just("keywords = [\"kw\"]".to_string()),
        "keywords = \\[\"[a-z]{0,3}\"\\]",
        Just("regex = '''kw[0-9]{4}'''".to_string()),
        "regex = '''[()\\[\\]a-z{},*+?|\\\\^$.0-9]{0,16}'''",
        "regex = '''\\(\\?P<[a-z]{0,6}>[a-z.*]{0,6}\\)'''",
        Just("detector = \"bip39\"".to_string()),
        "validator = \"[a-z0-9-]{0,12}\"",
        Just("severity = \"high\"".to_string()),
        "severity = \"[a-z]{0,8}\"",
        Just("confidence = \"low\"".to_string()),
        "entropy = -?[0-9]{1,3}\\.[0-9]",
        "window = [0-9]{1,6}",
        Just("window = -1".to_string()),
        Just("prefilter = false".to_string()),
        Just("credential = \"c\"".to_string()),
        Just("part = \"secret\"".to_string()),
        Just("stopwords = [\"\"]".to_string()),
        "[a-z_]{1,10} = [0-9]{1,3}",
        ".{0,20}",
    ];
    prop_oneof![
        1 => ".{0,200}",
        4 => prop::collection::vec(
            prop::collection::vec(field, 0..12).prop_map(|f| format!("[[rule]]\n{}\n", f.join("\n"))),
            0..3,
        )
        .prop_map(|r| r.concat()),
    ]
}

/// Config files: random text and plausible sections with random values.
fn config_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("[scan]".to_string()),
        Just("[allow]".to_string()),
        Just("[rules]".to_string()),
        Just("[rules.severity]".to_string()),
        "exclude = \\[\"[a-z*/!{},\\[\\]]{0,10}\"\\]",
        "max_file_size = \"[0-9.]{0,22}[a-zA-Z ]{0,4}\"",
        "paths = \\[\"[a-z*/{\\[]{0,8}\"\\]",
        "regexes = \\['''[a-z()\\[\\]*+?{}0-9\\\\]{0,12}'''\\]",
        "stopwords = \\[\"[a-z]{0,6}\"\\]",
        "fingerprints = \\[\"[0-9a-f]{0,32}\"\\]",
        "disable = \\[\"[a-z-]{0,20}\"\\]",
        Just("disable = [\"aws-access-key-id\"]".to_string()),
        Just("enable_only = [\"aws-access-key-id\"]".to_string()),
        "\"[a-z-]{1,20}\" = \"[a-z]{0,8}\"",
        Just("[[rule]]\nid = \"aws-access-key-id\"\nname = \"n\"\nkeywords = [\"k\"]\nregex = 'k'\nseverity = \"low\"\nconfidence = \"low\"".to_string()),
        ".{0,30}",
    ];
    prop_oneof![
        1 => ".{0,200}",
        4 => prop::collection::vec(line, 0..14).prop_map(|l| l.join("\n")),
    ]
}

/// Strings that exercise every escaping path: control characters, quotes, backslashes,
/// U+FFFD (what invalid UTF-8 becomes), workflow-command separators, long runs.
fn nasty_string(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..max)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        prop::string::string_regex(&format!(
            "[\\x00-\\x1f\"\\\\:,%\u{fffd}\u{2028}a-z]{{0,{max}}}"
        ))
        .expect("valid regex"),
        any::<String>(),
    ]
}

fn finding() -> impl Strategy<Value = Finding> {
    (
        nasty_string(64),
        nasty_string(64),
        prop_oneof![
            nasty_string(300),
            (1usize..4).prop_map(|n| "x".repeat(n * 300_000))
        ],
        nasty_string(20),
        any::<(u32, u32, bool, bool)>(),
    )
        .prop_map(|(path, secret, line, part, (l, c, public, git))| {
            // As the engine builds it: one line, control characters blanked, the secret raw
            // at a byte range the snippet redacts.
            let secret = secret.replace(['\n', '\r'], "");
            let line: String = line
                .chars()
                .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
                .collect();
            let line_text = format!("{line} {secret} {line}");
            let at = line.len() + 1;
            let line_values = vec![(at..at + secret.len(), true)];
            let span = Span {
                line: l as usize,
                column: c as usize,
                end_line: l as usize,
                end_column: c as usize + 1,
            };
            Finding {
                rule_id: "r".into(),
                rule_name: path.clone(),
                severity: Severity::High,
                confidence: Confidence::High,
                path,
                span,
                byte_range: (0, secret.len()),
                fingerprint: keyleak::finding::fingerprint("r", secret.as_bytes()),
                secret: Secret::new(secret.as_bytes()),
                line_text,
                line_values,
                validation: "none".into(),
                known_public: public,
                parts: vec![Part {
                    name: part.clone(),
                    value: Secret::new(part.as_bytes()),
                    span,
                }],
                git: git.then(|| GitInfo {
                    commit: "c\u{0}".into(),
                    author: part.clone(),
                    email: "e\n".into(),
                    date: String::new(),
                    blob: "b".into(),
                    at_head: None,
                    repository: None,
                }),
                decoded: vec![],
                notebook_cell: None,
                suppressed: None,
                marker: None,
                verification: None,
            }
        })
}

/// One credential as it is written in an input: plain, or under an encoding the scan decodes.
#[derive(Debug, Clone)]
struct Written {
    /// The value a finding would carry.
    value: String,
    /// How the value stands in the input (encoded or not).
    text: String,
    /// What stands in front of it (a rule's keyword, not secret).
    keyword: &'static str,
}

/// A Slack bot token, or a `pw=` value that starts with a control character, written plain,
/// with its first character as a JSON `\u` escape, as base64 (a Kubernetes `data:` value) or
/// percent-encoded.
fn written() -> impl Strategy<Value = Written> {
    let value = prop_oneof![
        ("[0-9]{10,13}", "[0-9]{10,13}", "[A-Za-z0-9]{24,34}")
            .prop_map(|(a, b, c)| ("", format!("xoxb-{a}-{b}-{c}"))),
        "[A-Za-z0-9]{10,30}".prop_map(|v| ("pw=", format!("\u{1b}{v}"))),
    ];
    (value, 0..4u8).prop_map(|((keyword, value), how)| {
        use base64::Engine as _;
        let text = match how {
            0 => value.clone(),
            1 => {
                let mut c = value.chars();
                let first = c.next().unwrap();
                format!("\\u{:04x}{}", first as u32, c.as_str())
            }
            2 => base64::engine::general_purpose::STANDARD.encode(&value),
            _ => value.bytes().map(|b| format!("%{b:02X}")).collect(),
        };
        Written {
            value,
            text,
            keyword,
        }
    })
}

/// 8-character windows of `s` (by characters), the shortest leak the check looks for.
fn windows8(s: &str) -> Vec<String> {
    let c: Vec<char> = s.chars().collect();
    c.windows(8).map(|w| w.iter().collect()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Issue 13, item 3: whatever mix of plain and encoded credentials shares a line (or a
    /// JSON / Kubernetes-style document), no output format shows more of any finding's value
    /// than its 4-character prefix — neither the value nor the encoded text it was found in.
    #[test]
    fn no_format_shows_more_than_a_prefix_of_any_value(
        items in prop::collection::vec(written(), 2..6),
        keys in prop::collection::vec("[a-z]{1,3}", 6),
        layout in 0..3u8,
    ) {
        let fields: Vec<String> = items
            .iter()
            .zip(&keys)
            .map(|(w, k)| format!("\"{k}\":\"{}{}\"", w.keyword, w.text))
            .collect();
        let hay = match layout {
            0 => format!("{{{}}}\n", fields.join(",")),
            1 => format!("{{\"data\":{{{}}}}}\n", fields.join(",")),
            _ => format!("{}\n", fields.join("\n")),
        };
        let found = ENGINE.scan("k8s.json", hay.as_bytes(), &mut Scratch::default());
        let values: Vec<String> = found
            .iter()
            .flat_map(|f| std::iter::once(&f.secret).chain(f.parts.iter().map(|p| &p.value)))
            .map(|v| v.reveal())
            .collect();
        // What must not show: every found value, and the written text of each credential
        // that was found (its encoded form decodes to the value).
        let mut secret_texts: Vec<&str> = values.iter().map(String::as_str).collect();
        for w in &items {
            if values.iter().any(|v| v == &w.value || v.contains(&w.value)) {
                secret_texts.push(&w.text);
            }
        }
        let rules = RuleSet::default();
        let report = Report {
            findings: &found,
            suppressed: &[],
            rules: &rules,
            skipped: &[],
            notes: &[],
            stats: Stats::default(),
            show_secrets: false,
            include_suppressed: false,
            color: false,
        };
        // The input outside every secret text: a window also found there (`%30%30%3` is in
        // any percent-encoded run of zeros) shows nothing of a secret.
        let mut longest_first = secret_texts.clone();
        longest_first.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut public = hay.clone();
        for s in longest_first {
            public = public.replace(s, "\0");
        }
        for fmt in [
            Format::Json,
            Format::Jsonl,
            Format::Sarif,
            Format::Github,
            Format::Text,
            Format::Html,
            Format::Markdown,
        ] {
            let mut out = Vec::new();
            report::write(fmt, &report, &mut out).unwrap();
            let out = String::from_utf8_lossy(&out);
            for s in &secret_texts {
                for w in windows8(s).into_iter().filter(|w| !public.contains(w.as_str())) {
                    // JSON writes a backslash as `\\` and ESC as `\u001b`.
                    let escaped = serde_json::to_string(&w).unwrap();
                    prop_assert!(
                        !out.contains(&w) && !out.contains(escaped.trim_matches('"')),
                        "{fmt:?} shows {w:?} of {s:?}:\n{out}\ninput: {hay:?}"
                    );
                }
            }
        }
    }
}
