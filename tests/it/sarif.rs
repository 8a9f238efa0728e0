//! SARIF output (SPEC "SARIF"): valid against the official 2.1.0 schema, accepted by Microsoft's
//! SARIF Multitool with GitHub's ingestion rules, and never carrying an unredacted secret.
//! These drive the library only, so they do not depend on CLI flags.

use std::path::{Path, PathBuf};
use std::process::Command;

use keyleak::finding::{
    Confidence, Finding, GitInfo, Part, Secret, Severity, Span, Suppression, fingerprint,
};
use keyleak::model::SkipKind;
use keyleak::report::{Report, Stats, sarif};
use keyleak::rules::RuleSet;
use keyleak::source::Skipped;
use serde_json::Value;

const RULES: &str = r#"
[[rule]]
id = "demo-exchange-credential"
name = "Demo exchange API credential"
keywords = ["demox_"]
regex = '''(?P<key>demox_[a-z0-9]{16})'''
severity = "critical"
confidence = "high"
tags = ["exchange", "crypto"]
references = ["https://example.com/docs/api-keys", "not a url"]
remediation = "Delete the key pair under Account → API management and create a new one."

[[rule]]
id = "demo-token"
name = "Demo token"
keywords = ["demot_"]
regex = '''demot_[a-z0-9]{16}'''
severity = "high"
confidence = "medium"
tags = ["demo"]

[[rule]]
id = "demo-test-key"
name = "Demo test key"
keywords = ["demok_"]
regex = '''demok_[a-z0-9]{16}'''
severity = "medium"
confidence = "low"
"#;

/// Raw secrets planted in [`sample`]; none may appear in redacted output.
const EXCHANGE_KEY: &str = "demox_k3yk3yk3yk3yk3yk";
const EXCHANGE_SECRET: &str = "demox_s3cr3ts3cr3ts3cr3t";
const EXCHANGE_PASS: &str = "Passphrase-Hunter2-Zebra";
const TOKEN: &str = "demot_t0k3nt0k3nt0k3n";
const KNOWN: &str = "demok_publ1cpubl1cpubl1c";
const SUPPRESSED: &str = "demot_suppr3ss3dsuppr3ss";
const ABSOLUTE: &str = "demot_abs0lut3abs0lut3ab";

fn rules() -> RuleSet {
    let mut set = RuleSet::default();
    set.add_file(Path::new("demo.toml"), RULES)
        .expect("demo rules load");
    set
}

fn span(line: usize, column: usize, len: usize) -> Span {
    Span {
        line,
        column,
        end_line: line,
        end_column: column + len,
    }
}

fn finding(rule_id: &str, rule_name: &str, path: &str, secret: &[u8], line_text: &str) -> Finding {
    let col = String::from_utf8_lossy(secret);
    let column = line_text
        .find(col.as_ref())
        .map_or(1, |b| line_text[..b].chars().count() + 1);
    Finding {
        rule_id: rule_id.into(),
        rule_name: rule_name.into(),
        severity: Severity::High,
        confidence: Confidence::Medium,
        path: path.into(),
        span: span(3, column, col.chars().count()),
        byte_range: (10, 10 + secret.len()),
        secret: Secret::new(secret),
        line_text: line_text.into(),
        line_values: Vec::new(),
        fingerprint: fingerprint(rule_id, secret),
        validation: "none".into(),
        known_public: false,
        parts: Vec::new(),
        git: None,
        decoded: Vec::new(),
        notebook_cell: None,
        suppressed: None,
        marker: None,
        verification: None,
    }
    .with_values_marked()
}

trait MarkValues {
    fn with_values_marked(self) -> Self;
}

impl MarkValues for Finding {
    /// Marks where the secret and parts stand in the line, as the engine does when it cuts it.
    fn with_values_marked(mut self) -> Self {
        self.line_values = std::iter::once(&self.secret)
            .chain(self.parts.iter().map(|p| &p.value))
            .filter_map(|v| {
                let v = String::from_utf8_lossy(v.as_bytes());
                let b = self.line_text.find(v.as_ref())?;
                Some((b..b + v.len(), true))
            })
            .collect();
        self
    }
}

/// Findings covering every branch of the writer: parts, git provenance, a known-public key,
/// a path with spaces and non-ASCII text, a snippet with control characters and invalid UTF-8,
/// an absolute path, and two kinds of suppression.
struct Sample {
    findings: Vec<Finding>,
    suppressed: Vec<Finding>,
    skipped: Vec<Skipped>,
    notes: Vec<String>,
}

fn sample() -> Sample {
    let mut exchange = finding(
        "demo-exchange-credential",
        "Demo exchange API credential",
        "config/exchange.env",
        EXCHANGE_SECRET.as_bytes(),
        &format!("KEY={EXCHANGE_KEY} SECRET={EXCHANGE_SECRET} PASS={EXCHANGE_PASS}"),
    );
    exchange.severity = Severity::Critical;
    exchange.confidence = Confidence::High;
    exchange.validation = "crc32".into();
    exchange.parts = vec![
        Part {
            name: "key".into(),
            value: Secret::new(EXCHANGE_KEY),
            span: span(3, 5, 22),
        },
        Part {
            name: "secret".into(),
            value: Secret::new(EXCHANGE_SECRET),
            span: span(3, 35, 24),
        },
        Part {
            name: "passphrase".into(),
            value: Secret::new(EXCHANGE_PASS),
            span: span(3, 65, 24),
        },
    ];
    let exchange = exchange.with_values_marked();

    let mut from_git = finding(
        "demo-token",
        "Demo token",
        "dir with space/ключи #1%.env",
        TOKEN.as_bytes(),
        &format!("token: \"{TOKEN}\" # ключ"),
    );
    from_git.git = Some(GitInfo {
        commit: "0123456789abcdef0123456789abcdef01234567".into(),
        author: "Ada Lovelace".into(),
        email: "ada@example.com".into(),
        date: "2024-05-01T12:00:00+02:00".into(),
        blob: "89abcdef0123456789abcdef0123456789abcdef".into(),
        at_head: None,
        repository: None,
    });
    from_git.decoded = vec!["base64".into()];

    let mut known = finding(
        "demo-test-key",
        "Demo test key",
        "test/fixtures/keys.txt",
        KNOWN.as_bytes(),
        &format!("\u{1b}[31m{KNOWN}\u{7}\u{0} tab\there"),
    );
    known.severity = Severity::Low;
    known.known_public = true;

    // Invalid UTF-8 in both the secret and its line, as a binary-ish text file would give.
    let mut raw_secret = b"demot_".to_vec();
    raw_secret.extend_from_slice(b"\xff\xfeinvalid\xc3utf8!!");
    let raw_line = [b"x = ".as_slice(), &raw_secret, b" \x80\x81 end"].concat();
    let invalid = finding(
        "demo-token",
        "Demo token",
        "src/main.rs",
        &raw_secret,
        &String::from_utf8_lossy(&raw_line),
    );

    let absolute = finding(
        "demo-token",
        "Demo token",
        "/home/user/project/.env",
        ABSOLUTE.as_bytes(),
        &format!("TOKEN={ABSOLUTE}"),
    );

    let mut inline = finding(
        "demo-token",
        "Demo token",
        "docs/README.md",
        SUPPRESSED.as_bytes(),
        &format!("{SUPPRESSED} <!-- keyleak:allow -->"),
    );
    inline.suppressed = Some(Suppression::Inline);
    let mut baselined = inline.clone();
    baselined.path = "docs/old.md".into();
    baselined.suppressed = Some(Suppression::Baseline);

    Sample {
        findings: vec![exchange, known, invalid, from_git, absolute],
        suppressed: vec![inline, baselined],
        skipped: vec![
            Skipped::new("assets/logo with space.png", SkipKind::Binary, "binary"),
            Skipped::new(
                "secrets/locked.env",
                SkipKind::PermissionDenied,
                "permission denied",
            ),
            Skipped::new(
                "big/dump.sql",
                SkipKind::TooLarge,
                "too large (30.0 MiB > 25.0 MiB)",
            ),
        ],
        notes: vec!["shallow clone: history stops at 0123456789ab".into()],
    }
}

fn report<'a>(s: &'a Sample, rules: &'a RuleSet, show: bool, suppressed: bool) -> Report<'a> {
    Report {
        findings: &s.findings,
        suppressed: &s.suppressed,
        rules,
        skipped: &s.skipped,
        notes: &s.notes,
        stats: Stats {
            scanned: 42,
            bytes: 4096,
            ..Stats::default()
        },
        show_secrets: show,
        include_suppressed: suppressed,
        color: false,
    }
}

fn render(show: bool, suppressed: bool) -> Vec<u8> {
    let (s, rules) = (sample(), rules());
    let mut out = Vec::new();
    sarif::write(&report(&s, &rules, show, suppressed), &mut out).expect("writes to a Vec");
    out
}

fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("SARIF output is JSON")
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---- schema --------------------------------------------------------------------------------

/// The official schema, with `format` checked too: the schema's draft treats formats as
/// annotations by default, and a URI that is not one is exactly the mistake to catch.
pub(crate) fn schema_validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(manifest_dir().join("fixtures/sarif-2.1.0.json"))
        .expect("fixtures/sarif-2.1.0.json is readable");
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles")
}

pub(crate) fn schema_errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn valid_against_the_sarif_schema() {
    let v = schema_validator();
    for (show, suppressed) in [(false, false), (false, true), (true, true)] {
        let doc = parse(&render(show, suppressed));
        let errors = schema_errors(&v, &doc);
        assert!(
            errors.is_empty(),
            "show={show} suppressed={suppressed}: {errors:#?}"
        );
    }
}

#[test]
fn empty_report_is_valid() {
    let (s, rules) = (
        Sample {
            findings: vec![],
            suppressed: vec![],
            skipped: vec![],
            notes: vec![],
        },
        rules(),
    );
    let mut out = Vec::new();
    sarif::write(&report(&s, &rules, false, false), &mut out).unwrap();
    let doc = parse(&out);
    assert!(schema_errors(&schema_validator(), &doc).is_empty());
    assert_eq!(doc["runs"][0]["results"], serde_json::json!([]));
    assert_eq!(
        doc["runs"][0]["tool"]["driver"]["rules"],
        serde_json::json!([])
    );
}

#[test]
fn the_schema_check_is_not_vacuous() {
    // A broken log must fail, or the test above proves nothing.
    let v = schema_validator();
    let mut doc = parse(&render(false, false));
    doc["runs"][0]["results"][0]["level"] = "fatal".into();
    doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        "dir with space/a b".into();
    doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    let errors = schema_errors(&v, &doc);
    assert_eq!(errors.len(), 3, "{errors:#?}");
}

// ---- content -------------------------------------------------------------------------------

#[test]
fn log_shape() {
    let doc = parse(&render(false, true));
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(doc["$schema"], sarif::SCHEMA_URI);
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "keyleak");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        driver["informationUri"],
        "https://github.com/keyleak/keyleak"
    );

    // One descriptor per rule that fired, sorted by id, and every ruleIndex points at its rule.
    let ids: Vec<&str> = driver["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["demo-exchange-credential", "demo-test-key", "demo-token"]
    );
    for r in run["results"].as_array().unwrap() {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(driver["rules"][i]["id"], r["ruleId"]);
    }
}

#[test]
fn rule_descriptors_carry_github_metadata() {
    let doc = parse(&render(false, false));
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .clone();
    let exchange = &rules[0];
    assert_eq!(exchange["name"], "DemoExchangeApiCredential");
    assert_eq!(
        exchange["shortDescription"]["text"],
        "Demo exchange API credential"
    );
    assert!(
        exchange["fullDescription"]["text"]
            .as_str()
            .unwrap()
            .contains("critical")
    );
    let help_md = exchange["help"]["markdown"].as_str().unwrap();
    assert!(help_md.contains("Account → API management"), "{help_md}");
    assert!(
        help_md.contains("- <https://example.com/docs/api-keys>\n"),
        "{help_md}"
    );
    assert!(help_md.contains("- not a url\n"), "{help_md}");
    assert!(
        exchange["help"]["text"]
            .as_str()
            .unwrap()
            .contains("Delete the key pair")
    );
    // The first reference that is a URL, never free text.
    assert_eq!(exchange["helpUri"], "https://example.com/docs/api-keys");
    assert_eq!(
        exchange["properties"]["tags"],
        serde_json::json!(["security", "secret", "exchange", "crypto"])
    );
    assert_eq!(exchange["properties"]["security-severity"], "9.5");
    assert_eq!(exchange["defaultConfiguration"]["level"], "error");

    let by_id = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(
        by_id("demo-token")["properties"]["security-severity"],
        "8.0"
    );
    assert_eq!(
        by_id("demo-test-key")["properties"]["security-severity"],
        "5.5"
    );
    assert_eq!(
        by_id("demo-test-key")["defaultConfiguration"]["level"],
        "warning"
    );
    // A rule without remediation still tells the reader how to rotate.
    assert!(
        by_id("demo-token")["help"]["text"]
            .as_str()
            .unwrap()
            .contains("Revoke")
    );
}

#[test]
fn results_carry_location_fingerprint_and_properties() {
    let s = sample();
    let doc = parse(&render(false, false));
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), s.findings.len());

    let exchange = &results[0];
    assert_eq!(exchange["level"], "error");
    assert_eq!(
        exchange["partialFingerprints"]["keyleakFingerprint/v1"],
        s.findings[0].fingerprint.as_str()
    );
    let loc = &exchange["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "config/exchange.env");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    let sp = s.findings[0].span;
    assert_eq!(loc["region"]["startLine"], sp.line);
    assert_eq!(loc["region"]["startColumn"], sp.column);
    assert_eq!(loc["region"]["endLine"], sp.end_line);
    assert_eq!(loc["region"]["endColumn"], sp.end_column);
    let props = &exchange["properties"];
    assert_eq!(props["confidence"], "high");
    assert_eq!(props["validation"], "crc32");
    assert_eq!(props["known_public"], false);
    let parts: Vec<&str> = props["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(parts, ["key", "secret", "passphrase"]);

    // Known-public keys are notes, and say so. Control characters from the scanned line
    // never reach a viewer.
    let known = &results[1];
    assert_eq!(known["level"], "note");
    assert!(
        known["message"]["text"]
            .as_str()
            .unwrap()
            .contains("known public")
    );
    let snippet = known["locations"][0]["physicalLocation"]["region"]["snippet"]["text"]
        .as_str()
        .unwrap();
    assert_eq!(snippet, "\u{FFFD}[31mdemo…\u{FFFD}\u{FFFD} tab\there");

    // Spaces, `#`, `%` and non-ASCII are percent-encoded; git provenance is kept.
    let git = &results[3];
    assert_eq!(
        git["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "dir%20with%20space/%D0%BA%D0%BB%D1%8E%D1%87%D0%B8%20%231%25.env"
    );
    assert_eq!(
        git["properties"]["commit"],
        "0123456789abcdef0123456789abcdef01234567"
    );
    assert_eq!(git["properties"]["author"], "Ada Lovelace");
    assert_eq!(git["properties"]["email"], "ada@example.com");
    assert_eq!(git["properties"]["date"], "2024-05-01T12:00:00+02:00");
    assert_eq!(
        git["properties"]["blob"],
        "89abcdef0123456789abcdef0123456789abcdef"
    );
    assert_eq!(git["properties"]["decoded"], serde_json::json!(["base64"]));
    assert!(
        git["message"]["text"]
            .as_str()
            .unwrap()
            .contains("0123456789ab")
    );

    // An absolute path is a file:// URI with no base.
    let abs = &results[4]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(abs["uri"], "file:///home/user/project/.env");
    assert!(abs.get("uriBaseId").is_none());
}

#[test]
fn suppressed_findings_only_when_asked_and_marked() {
    let without = parse(&render(false, false));
    let results = without["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r.get("suppressions").is_none()));

    let with = parse(&render(false, true));
    let results = with["runs"][0]["results"].as_array().unwrap();
    let sup: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(sup.len(), 2);
    assert_eq!(
        sup[0]["suppressions"],
        serde_json::json!([{"kind": "inSource", "justification": "keyleak:allow"}])
    );
    assert_eq!(
        sup[1]["suppressions"],
        serde_json::json!([{"kind": "external", "justification": "baseline"}])
    );
}

#[test]
fn invocation_lists_skipped_inputs_and_notes() {
    let doc = parse(&render(false, false));
    let inv = &doc["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], true);
    let notes = inv["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 4);
    assert_eq!(notes[0]["level"], "note");
    assert_eq!(
        notes[0]["message"]["text"],
        "skipped assets/logo with space.png: binary."
    );
    assert_eq!(
        notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "assets/logo%20with%20space.png"
    );
    assert_eq!(notes[1]["level"], "warning");
    assert_eq!(
        notes[1]["message"]["text"],
        "skipped secrets/locked.env: permission denied."
    );
    assert_eq!(notes[2]["level"], "warning");
    assert_eq!(
        notes[3]["message"]["text"],
        "shallow clone: history stops at 0123456789ab."
    );
    assert!(notes[3].get("locations").is_none());
}

#[test]
fn output_is_deterministic() {
    assert_eq!(render(false, true), render(false, true));
}

// ---- redaction -----------------------------------------------------------------------------

fn raw_secrets() -> Vec<String> {
    let mut raw = vec![
        EXCHANGE_KEY,
        EXCHANGE_SECRET,
        EXCHANGE_PASS,
        TOKEN,
        KNOWN,
        SUPPRESSED,
        ABSOLUTE,
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    raw.push(String::from_utf8_lossy(b"demot_\xff\xfeinvalid\xc3utf8!!").into_owned());
    raw
}

#[test]
fn redacted_unless_show_secrets() {
    let redacted = render(false, true);
    // Compare decoded text too: JSON escapes could otherwise hide a secret from a byte search.
    let text = String::from_utf8(redacted.clone()).unwrap();
    let decoded = parse(&redacted).to_string();
    for raw in raw_secrets() {
        // The redacted form keeps only a short prefix, so the tail must never appear.
        let tail: String = raw.chars().skip(6).collect();
        for hay in [&text, &decoded] {
            assert!(!hay.contains(&raw), "{raw} leaked");
            assert!(!hay.contains(&tail), "tail of {raw} leaked");
        }
    }

    let shown = String::from_utf8(render(true, true)).unwrap();
    for raw in [
        EXCHANGE_KEY,
        EXCHANGE_SECRET,
        EXCHANGE_PASS,
        TOKEN,
        KNOWN,
        SUPPRESSED,
    ] {
        assert!(shown.contains(raw), "--show-secrets must show {raw}");
    }
}

// ---- snapshot ------------------------------------------------------------------------------

#[test]
fn snapshot() {
    let text = String::from_utf8(render(false, true)).unwrap();
    // The version changes with every release; the snapshot is about the shape.
    let text = text.replace(
        &format!("\"{}\"", env!("CARGO_PKG_VERSION")),
        "\"[VERSION]\"",
    );
    insta::assert_snapshot!(text);
}

// ---- SARIF Multitool -----------------------------------------------------------------------

/// `$KEYLEAK_SARIF_VALIDATE`, else `shared/tools/sarif-validate` beside the checkout.
fn multitool() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KEYLEAK_SARIF_VALIDATE") {
        return Some(PathBuf::from(p));
    }
    let p = manifest_dir().join("../shared/tools/sarif-validate");
    p.exists().then_some(p)
}

/// Skipping is fine on a laptop without npm, but CI must never pass this test vacuously.
fn unavailable(why: &str) {
    let msg = format!(
        "SARIF Multitool check NOT RUN: {why}. Set KEYLEAK_SARIF_VALIDATE to shared/tools/sarif-validate \
         or check out shared/ beside the repository, with node/npm installed."
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg} (CI=true: failing instead of skipping)");
    }
    eprintln!("{msg}");
}

#[test]
fn accepted_by_the_sarif_multitool_with_github_rules() {
    let Some(tool) = multitool() else {
        return unavailable("sarif-validate not found");
    };
    if !tool.exists() {
        return unavailable(&format!("{} does not exist", tool.display()));
    }
    if Command::new("npm").arg("--version").output().is_err() {
        return unavailable("npm is not installed");
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, show, suppressed) in [
        ("redacted.sarif", false, true),
        ("shown.sarif", true, false),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, render(show, suppressed)).unwrap();
        files.push(path);
    }
    // A log GitHub must reject (a result without a location), checked in the same run: if the
    // Multitool silently validated nothing (say, its runtime failed to start), this catches it.
    let mut broken = parse(&render(false, false));
    broken["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("locations");
    let broken_path = dir.path().join("broken.sarif");
    std::fs::write(&broken_path, serde_json::to_vec(&broken).unwrap()).unwrap();

    let out = Command::new("bash")
        .arg(&tool)
        .args(&files)
        .arg(&broken_path)
        .output()
        .expect("runs sarif-validate");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(2) {
        return unavailable(&format!(
            "sarif-validate could not install the Multitool: {stderr}"
        ));
    }
    let report = format!(
        "sarif-validate exit {:?}\n{stdout}\n{stderr}",
        out.status.code()
    );
    let broken_name = broken_path.display().to_string();
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with(&broken_name) && l.contains(": error ")),
        "the Multitool did not flag the broken log, so it checked nothing: {report}"
    );
    // The script exits 1 only on errors, but warnings are fixed too: any problem in our own
    // logs fails the test.
    let problems: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.starts_with(&broken_name))
        .filter(|l| l.contains(": error ") || l.contains(": warning "))
        .collect();
    assert!(problems.is_empty(), "{report}");
}
