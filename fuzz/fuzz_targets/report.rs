//! Report writers on findings built from arbitrary bytes (control characters, invalid UTF-8,
//! huge lines): JSON, JSONL and SARIF parse and GitHub annotations stay one line each. (That
//! snippets never show a secret is the matcher target's job; here the hostile finding's other
//! fields are cut from the same bytes and may hold it on purpose.)
#![no_main]

use keyleak::finding::{Confidence, Finding, Secret, Severity, Span};
use keyleak::report::{self, Format, Report, Stats};
use keyleak::rules::RuleSet;
use keyleak::scan::Scratch;
use keyleak::model::SkipKind;
use keyleak::source::Skipped;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    // Findings the way the engine makes them, plus one whose every field is hostile.
    let mut findings = common::ENGINE.scan("p", data, &mut Scratch::default());
    let mut fields = data.splitn(3, |&b| b == 0xFF);
    let path = String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
    let secret = fields.next().unwrap_or_default().to_vec();
    let rest = String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
    findings.push(Finding {
        rule_id: "r".into(),
        rule_name: rest.clone(),
        severity: Severity::High,
        confidence: Confidence::Low,
        path: path.clone(),
        span: Span { line: 1, column: 1, end_line: 1, end_column: 2 },
        byte_range: (0, secret.len()),
        fingerprint: keyleak::finding::fingerprint("r", &secret),
        secret: Secret::new(secret),
        line_text: rest.repeat(if data.len() < 64 { 2000 } else { 1 }),
        line_values: vec![],
        validation: "none".into(),
        known_public: false,
        parts: vec![],
        git: None,
        decoded: vec![rest],
        notebook_cell: Some(data.len()),
        suppressed: None,
        marker: None,
        verification: None,
    });
    let rules = RuleSet::default();
    let skipped = vec![Skipped::new(path, SkipKind::Unreadable, "r")];
    for show in [false, true] {
        let report = Report {
            findings: &findings,
            suppressed: &[],
            rules: &rules,
            skipped: &skipped,
            notes: &[],
            stats: Stats::default(),
            show_secrets: show,
            include_suppressed: false,
            color: false,
        };
        let render = |fmt| {
            let mut out = Vec::new();
            report::write(fmt, &report, &mut out).expect("writing to memory works");
            out
        };
        let json = render(Format::Json);
        serde_json::from_slice::<serde_json::Value>(&json).expect("json parses");
        for line in render(Format::Jsonl).split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            serde_json::from_slice::<serde_json::Value>(line).expect("jsonl line parses");
        }
        serde_json::from_slice::<serde_json::Value>(&render(Format::Sarif)).expect("sarif parses");
        let github = render(Format::Github);
        assert_eq!(github.iter().filter(|&&b| b == b'\n').count(), findings.len());
    }
});
