//! SARIF 2.1.0 output, built with the `serde-sarif` types, for GitHub code scanning and other
//! SARIF consumers.
//!
//! The log has one run. `tool.driver.rules` holds one descriptor per rule that fired, sorted by
//! id, and each result points into it with `ruleIndex`. Locations are URIs relative to
//! `%SRCROOT%` (the scan root, which GitHub maps to the checkout), so alerts land on repository
//! files. Inputs that could not be scanned and source-level notes become
//! `invocations[0].toolExecutionNotifications`, which is where SARIF puts "the tool ran, but
//! this is what it could not see".
//!
//! Secrets pass through [`Secret::render`] and [`Finding::snippet`] only, so nothing here can
//! print one unredacted unless the report asks for `--show-secrets`. The output holds no
//! timestamps or machine-specific values: the same findings give the same bytes.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{Value, json};
use serde_sarif::sarif::{
    ArtifactContent, ArtifactLocation, Invocation, Location, Message, MultiformatMessageString,
    Notification, PhysicalLocation, PropertyBag, Region, ReportingConfiguration,
    ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Suppression, Tool,
    ToolComponent,
};

use super::Report;
use super::json::JsonPart;
use crate::finding::{Finding, Severity, Suppression as Suppressed};
use crate::model::{SkipKind, Skipped};
use crate::rules::Rule;

/// Where the log says its schema lives: the SchemaStore URL that GitHub's documentation and
/// the SARIF Multitool use.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Project home, shown by SARIF viewers as the tool's link.
pub const INFORMATION_URI: &str = "https://github.com/keyleak/keyleak";

/// Key of the fingerprint in `partialFingerprints`. Versioned because consumers compare it
/// across runs: a change to how fingerprints are computed must get a new key, not silently
/// re-open every alert. `baseline.rs` reads every value in `partialFingerprints` back.
pub const FINGERPRINT_KEY: &str = "keyleakFingerprint/v1";

/// The uriBaseId relative locations are expressed against: the scanned root.
pub const SRCROOT: &str = "%SRCROOT%";

/// Writes `report` as one SARIF log with one run.
pub fn write(report: &Report<'_>, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &build(report))?;
    w.write_all(b"\n")
}

/// The SARIF log for `report`.
pub fn build(report: &Report<'_>) -> Sarif {
    let show = report.show_secrets;
    let findings: Vec<&Finding> = report
        .findings
        .iter()
        .chain(report.listed_suppressed())
        .collect();

    // Rules that fired, by id: a BTreeMap both dedupes and gives the deterministic order that
    // `ruleIndex` refers to.
    let mut fired: BTreeMap<&str, &Finding> = BTreeMap::new();
    for f in &findings {
        fired.entry(f.rule_id.as_str()).or_insert(f);
    }
    let index: BTreeMap<&str, usize> = fired.keys().enumerate().map(|(i, id)| (*id, i)).collect();
    let descriptors: Vec<ReportingDescriptor> = fired
        .values()
        .map(|f| descriptor(report.rules.get(&f.rule_id), f))
        .collect();

    let results: Vec<SarifResult> = findings
        .iter()
        .map(|f| result(f, index[f.rule_id.as_str()], show))
        .collect();

    let driver = ToolComponent::builder()
        .name("keyleak")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri(INFORMATION_URI)
        .rules(descriptors)
        .build();

    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .invocations(vec![invocation(report)])
        // Our columns count characters (Unicode scalar values), not UTF-16 code units.
        .column_kind(json!("unicodeCodePoints"))
        .results(results)
        .build();

    Sarif::builder()
        .schema(SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}

// ---- rules ---------------------------------------------------------------------------------

/// SARIF level for a severity: GitHub shows `error` as Error, `warning` as Warning, `note` as
/// Note for non-security alerts, and filters on it.
pub fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low => ResultLevel::Note,
    }
}

/// GitHub's `security-severity` score: >9.0 is critical, 7.0–8.9 high, 4.0–6.9 medium,
/// 0.1–3.9 low. GitHub's examples write it as a string, and so do we.
pub fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.0",
    }
}

/// `AWS access key ID` → `AwsAccessKeyId`: SARIF wants `name` to be a Pascal-case identifier
/// (the Multitool's SARIF2012 checks it), distinct from the human text in `shortDescription`.
/// Acronyms are folded to one capital so that word boundaries stay visible; mixed-case words
/// (`GitHub`) keep their spelling.
pub fn pascal_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for word in name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let acronym = !word.chars().any(char::is_lowercase);
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            if acronym {
                out.extend(chars.flat_map(char::to_lowercase));
            } else {
                out.push_str(chars.as_str());
            }
        }
    }
    out
}

/// What to do when a rule fires without remediation text of its own.
const DEFAULT_REMEDIATION: &str = "Revoke the secret where it was issued, replace it with a new \
    one kept out of the repository (an environment variable or a secret manager), and remove \
    it from the history if the repository is shared.";

/// The descriptor of a rule that fired. `rule` is `None` only if a finding names a rule the set
/// no longer has (e.g. disabled after the scan); the finding then supplies what it can.
fn descriptor(rule: Option<&Rule>, f: &Finding) -> ReportingDescriptor {
    let name = rule.map_or(f.rule_name.as_str(), |r| r.name.as_str());
    let severity = rule.map_or(f.severity, |r| r.severity);
    let confidence = rule.map_or(f.confidence, |r| r.confidence);
    let remediation = rule
        .map(|r| r.remediation.as_str())
        .filter(|r| !r.is_empty());
    let remediation = remediation.unwrap_or(DEFAULT_REMEDIATION);
    let references: Vec<&str> = rule
        .map(|r| r.references.iter().map(String::as_str).collect())
        .unwrap_or_default();

    let mut tags = vec!["security".to_string(), "secret".to_string()];
    for t in rule.map(|r| r.tags.as_slice()).unwrap_or_default() {
        if !tags.contains(t) {
            tags.push(t.clone());
        }
    }

    let full = format!(
        "{name} (keyleak rule `{id}`): a {severity}-severity secret, matched with {confidence} \
         confidence. Anyone who can read the file or its history can use it.",
        id = f.rule_id,
        confidence = confidence.as_str(),
    );
    let mut help_text = format!("{remediation}\n");
    let mut help_md = format!(
        "**{name}** (`{}`)\n\n### How to revoke and rotate\n\n{remediation}\n",
        f.rule_id
    );
    if !references.is_empty() {
        help_text.push_str("\nReferences:\n");
        help_md.push_str("\n### References\n\n");
        for r in &references {
            help_text.push_str(&format!("- {r}\n"));
            // Only a real URL may become an autolink; free text would read as an HTML tag.
            if is_url(r) {
                help_md.push_str(&format!("- <{r}>\n"));
            } else {
                help_md.push_str(&format!("- {r}\n"));
            }
        }
    }

    let mut props = BTreeMap::new();
    props.insert(
        "security-severity".to_string(),
        json!(security_severity(severity)),
    );
    // GitHub ranks alerts by `precision` (very-high|high|medium|low); our confidence names
    // are a subset of its values.
    props.insert("precision".to_string(), json!(confidence.as_str()));
    let properties = PropertyBag::builder()
        .tags(tags)
        .additional_properties(props)
        .build();

    let mut d = ReportingDescriptor::builder()
        .id(f.rule_id.as_str())
        .name(pascal_case(name))
        .short_description(MultiformatMessageString::builder().text(name).build())
        .full_description(MultiformatMessageString::builder().text(full).build())
        .help(
            MultiformatMessageString::builder()
                .text(help_text)
                .markdown(help_md)
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(level(severity)))
                .build(),
        )
        .properties(properties)
        .build();
    // helpUri must be an absolute URI; a user rule's reference may be free text.
    d.help_uri = references.iter().find(|r| is_url(r)).map(|r| r.to_string());
    d
}

fn is_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://")) && !s.contains(char::is_whitespace)
}

// ---- results -------------------------------------------------------------------------------

/// One result.
fn result(f: &Finding, rule_index: usize, show: bool) -> SarifResult {
    let level = if f.known_public {
        ResultLevel::Note
    } else {
        level(f.severity)
    };

    let mut fingerprints = BTreeMap::new();
    fingerprints.insert(FINGERPRINT_KEY.to_string(), f.fingerprint.clone());

    let mut r = SarifResult::builder()
        .rule_id(f.rule_id.as_str())
        .rule_index(rule_index as i64)
        .level(level)
        .message(
            Message::builder()
                .text(printable(&message(f, show)))
                .build(),
        )
        .locations(vec![location(&f.path, Some(region(f, show)))])
        .partial_fingerprints(fingerprints)
        .properties(
            PropertyBag::builder()
                .additional_properties(properties(f, show))
                .build(),
        )
        .build();
    if let Some(s) = f.suppressed {
        r.suppressions = Some(vec![suppression(s)]);
    }
    r
}

/// The result message: the rule, the (redacted) secret, and what a reader of the alert needs to
/// judge it. It ends with a period, as SARIF's message guidance asks.
fn message(f: &Finding, show: bool) -> String {
    let mut msg = format!("{}: {}", f.rule_name, f.secret.render(show));
    if f.known_public {
        msg.push_str(" is a published test key (known public), not a live credential");
    } else {
        msg.push_str(&format!(
            " ({} severity, {} confidence",
            f.severity,
            f.confidence.as_str()
        ));
        if f.validation != "none" && !f.validation.is_empty() {
            msg.push_str(&format!(", verified by {}", f.validation));
        }
        msg.push(')');
    }
    if !f.parts.is_empty() {
        let names: Vec<&str> = f.parts.iter().map(|p| p.name.as_str()).collect();
        msg.push_str(&format!("; credential parts: {}", names.join(", ")));
    }
    let decoded = f.decoded_shown();
    if !decoded.is_empty() {
        msg.push_str(&format!("; found after decoding {}", decoded.join(", ")));
    }
    if let Some(g) = &f.git {
        msg.push_str(&format!(
            "; introduced in commit {}",
            short_commit(&g.commit)
        ));
    }
    if let Some(v) = &f.verification {
        msg.push_str(&format!("; provider check: {}", v.summary()));
    }
    msg.push('.');
    msg
}

fn short_commit(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// The region of the secret, with the (redacted) line as its snippet.
fn region(f: &Finding, show: bool) -> Region {
    // SARIF requires lines and columns ≥ 1 and an end that does not precede the start; a
    // source that could not place a finding (line 0) still gets a valid, if coarse, region.
    let line = f.span.line.max(1);
    let column = f.span.column.max(1);
    let end_line = f.span.end_line.max(line);
    let end_column = if end_line == line {
        f.span.end_column.max(column)
    } else {
        f.span.end_column.max(1)
    };
    let mut r = Region::builder()
        .start_line(line as i64)
        .start_column(column as i64)
        .end_line(end_line as i64)
        .end_column(end_column as i64)
        .build();
    let snippet = printable(&f.snippet(show));
    if !snippet.is_empty() {
        r.snippet = Some(ArtifactContent::builder().text(snippet).build());
    }
    r
}

/// keyleak's own fields, under the names the JSON report uses.
fn properties(f: &Finding, show: bool) -> BTreeMap<String, Value> {
    let mut p = BTreeMap::new();
    p.insert("severity".into(), json!(f.severity.as_str()));
    p.insert("confidence".into(), json!(f.confidence.as_str()));
    p.insert("validation".into(), json!(f.validation));
    p.insert("known_public".into(), json!(f.known_public));
    if f.suppressed == Some(Suppressed::InlineAdded) {
        p.insert("suppressed_by_change".into(), json!(true));
    }
    if !f.parts.is_empty() {
        let parts: Vec<JsonPart> = f
            .parts
            .iter()
            .map(|part| JsonPart {
                name: part.name.clone(),
                value: part.value.render(show),
                line: part.span.line,
                column: part.span.column,
            })
            .collect();
        p.insert("parts".into(), json!(parts));
    }
    let decoded = f.decoded_shown();
    if !decoded.is_empty() {
        p.insert("decoded".into(), json!(decoded));
    }
    if let Some(v) = &f.verification {
        p.insert("verification".into(), json!(v));
    }
    if let Some(g) = &f.git {
        for (k, v) in [
            ("commit", &g.commit),
            ("author", &g.author),
            ("email", &g.email),
            ("date", &g.date),
            ("blob", &g.blob),
        ] {
            if !v.is_empty() {
                p.insert(k.into(), json!(v));
            }
        }
        if let Some(r) = &g.repository {
            p.insert("repository".into(), json!(r));
        }
    }
    p
}

/// A `keyleak:allow` comment lives next to the secret (`inSource`); config allowlists, ignore
/// files and baselines live elsewhere (`external`).
fn suppression(s: Suppressed) -> Suppression {
    let kind = if s.in_source() {
        "inSource"
    } else {
        "external"
    };
    Suppression::builder()
        .kind(json!(kind))
        .justification(s.label())
        .build()
}

// ---- locations -----------------------------------------------------------------------------

/// A location for `path`: relative paths resolve against `%SRCROOT%`, absolute ones become
/// `file://` URIs.
fn location(path: &str, region: Option<Region>) -> Location {
    let (uri, base) = path_to_uri(path);
    let mut artifact = ArtifactLocation::builder().uri(uri).build();
    artifact.uri_base_id = base.map(str::to_string);
    let mut physical = PhysicalLocation::builder()
        .artifact_location(artifact)
        .build();
    physical.region = region;
    Location::builder().physical_location(physical).build()
}

/// A display path as a URI reference plus its uriBaseId. Relative paths stay relative (GitHub
/// resolves them against the checkout); absolute paths (`/x`, `C:\x`) become `file://` URIs.
pub fn path_to_uri(path: &str) -> (String, Option<&'static str>) {
    let path = path.replace('\\', "/");
    let bytes = path.as_bytes();
    let drive =
        bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && bytes[2] == b'/';
    if drive {
        // file:///C:/dir/file — the drive colon is legal here, encode the rest.
        return (
            format!("file:///{}:{}", &path[..1], encode_path(&path[2..], false)),
            None,
        );
    }
    if path.starts_with('/') {
        return (format!("file://{}", encode_path(&path, false)), None);
    }
    let mut rel = path.as_str();
    while let Some(rest) = rel.strip_prefix("./") {
        rel = rest;
    }
    // A colon in a relative reference's first segment would read as a scheme (`C:x`,
    // `commit:path`), so relative paths encode every colon.
    (encode_path(rel, true), Some(SRCROOT))
}

/// Percent-encodes what RFC 3986 does not allow in a path (`pchar` and `/`), byte by byte, so
/// spaces, `%`, `#`, `?`, control characters and non-ASCII text all survive a round trip.
fn encode_path(path: &str, encode_colon: bool) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        let keep = b.is_ascii_alphanumeric()
            || b"-._~/!$&'()*+,;=@".contains(&b)
            || (b == b':' && !encode_colon);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---- invocation ----------------------------------------------------------------------------

/// The single invocation: it succeeded (findings are results, not failures), and it lists
/// every input it could not scan and every source-level note.
fn invocation(report: &Report<'_>) -> Invocation {
    let mut notifications: Vec<Notification> = report.skipped.iter().map(skipped).collect();
    notifications.extend(report.notes.iter().map(|n| {
        Notification::builder()
            .level(json!("warning"))
            .message(Message::builder().text(sentence(n)).build())
            .build()
    }));

    let mut props = BTreeMap::new();
    props.insert("scanned".to_string(), json!(report.stats.scanned));
    props.insert("bytes".to_string(), json!(report.stats.bytes));
    props.insert("skipped".to_string(), json!(report.skipped.len()));
    if report.stats.commits > 0 {
        props.insert("commits".to_string(), json!(report.stats.commits));
    }

    let mut inv = Invocation::builder()
        .execution_successful(true)
        .properties(PropertyBag::builder().additional_properties(props).build())
        .build();
    if !notifications.is_empty() {
        inv.tool_execution_notifications = Some(notifications);
    }
    inv
}

/// A skipped input. Binary files and symlink loops are skipped by design (`note`); anything
/// else (too large, unreadable, corrupt) hid content the user expected scanned (`warning`).
fn skipped(s: &Skipped) -> Notification {
    let by_design = matches!(s.reason.kind, SkipKind::Binary | SkipKind::SymlinkLoop);
    let level = if by_design { "note" } else { "warning" };
    let mut n = Notification::builder()
        .level(json!(level))
        .message(
            Message::builder()
                .text(sentence(&format!("skipped {}: {}", s.path, s.reason)))
                .build(),
        )
        .build();
    if !s.path.is_empty() {
        n.locations = Some(vec![location(&s.path, None)]);
    }
    n
}

/// `text` ending with a period (SARIF's message guidance), without doubling one.
fn sentence(text: &str) -> String {
    let t = printable(text.trim_end());
    if t.ends_with(['.', '!', '?']) {
        t
    } else {
        format!("{t}.")
    }
}

/// `text` with control characters other than tab and newline replaced by U+FFFD. Scanned
/// files and paths are hostile input, and SARIF viewers (terminals included) render these
/// strings: an escape sequence in a snippet must not reach them.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\t' && c != '\n' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        for (path, uri, base) in [
            ("src/main.rs", "src/main.rs", Some(SRCROOT)),
            ("./a/./b.txt", "a/./b.txt", Some(SRCROOT)),
            (
                "dir with space/x y.env",
                "dir%20with%20space/x%20y.env",
                Some(SRCROOT),
            ),
            ("ключ.txt", "%D0%BA%D0%BB%D1%8E%D1%87.txt", Some(SRCROOT)),
            ("a#b?c%d[e]", "a%23b%3Fc%25d%5Be%5D", Some(SRCROOT)),
            ("tab\there\u{1b}", "tab%09here%1B", Some(SRCROOT)),
            // A colon in a relative reference would turn its first segment into a scheme.
            (
                "0123abcd:config/.env",
                "0123abcd%3Aconfig/.env",
                Some(SRCROOT),
            ),
            ("<stdin>", "%3Cstdin%3E", Some(SRCROOT)),
            ("win\\style\\path.txt", "win/style/path.txt", Some(SRCROOT)),
            ("/home/u/a b.txt", "file:///home/u/a%20b.txt", None),
            ("C:\\Users\\u\\.env", "file:///C:/Users/u/.env", None),
            ("d:/x:y", "file:///d:/x:y", None),
        ] {
            assert_eq!(path_to_uri(path), (uri.to_string(), base), "{path:?}");
        }
    }

    #[test]
    fn friendly_names_are_pascal_case() {
        for (name, want) in [
            ("AWS access key ID", "AwsAccessKeyId"),
            ("GitHub personal access token", "GitHubPersonalAccessToken"),
            ("BIP39 mnemonic (12/24 words)", "Bip39Mnemonic1224Words"),
            ("generic-high_entropy", "GenericHighEntropy"),
            ("", ""),
        ] {
            assert_eq!(pascal_case(name), want, "{name:?}");
        }
    }

    #[test]
    fn severity_maps_to_level_and_score() {
        for (sev, lvl, score) in [
            (Severity::Critical, ResultLevel::Error, "9.5"),
            (Severity::High, ResultLevel::Error, "8.0"),
            (Severity::Medium, ResultLevel::Warning, "5.5"),
            (Severity::Low, ResultLevel::Note, "2.0"),
        ] {
            assert_eq!(level(sev), lvl);
            assert_eq!(security_severity(sev), score);
        }
    }

    #[test]
    fn text_is_printable_sentences() {
        assert_eq!(
            printable("a\u{1b}[31mb\u{0}\tc\nd\u{85}"),
            "a\u{FFFD}[31mb\u{FFFD}\tc\nd\u{FFFD}"
        );
        assert_eq!(sentence("skipped x: binary"), "skipped x: binary.");
        assert_eq!(sentence("done. "), "done.");
    }
}
