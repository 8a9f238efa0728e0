//! What a scan reports: [`Finding`] and the small value types around it.
//!
//! A finding's secret is held in [`Secret`], whose `Display`/`Debug` redact, so a secret can
//! only reach an output through an explicit [`Secret::reveal`] that reporters call under
//! `--show-secrets`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How bad a leak of this kind is. Ordered: `Low < Medium < High < Critical`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational: public test keys, encrypted keystores.
    Low,
    /// Worth a look.
    #[default]
    Medium,
    /// A live credential for a service.
    High,
    /// Direct access to money or infrastructure (exchange secrets, wallet keys, cloud roots).
    Critical,
}

impl Severity {
    /// The lowercase name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(format!(
                "unknown severity `{}` (expected critical, high, medium or low)",
                crate::escape::quote(s, 32)
            )),
        }
    }
}

/// How sure the matcher is that this is a real secret.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Entropy or generic assignment only.
    Low,
    /// Pattern plus context.
    #[default]
    Medium,
    /// Checksum verified or an unmistakable prefix.
    High,
}

impl Confidence {
    /// The lowercase name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl FromStr for Confidence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Ok(Confidence::Low),
            "medium" => Ok(Confidence::Medium),
            "high" => Ok(Confidence::High),
            _ => Err(format!(
                "unknown confidence `{s}` (expected high, medium or low)"
            )),
        }
    }
}

/// Secret bytes that redact themselves when formatted.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps raw secret bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(bytes.into())
    }

    /// The full secret. Only reporters call this, and only under `--show-secrets`.
    pub fn reveal(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }

    /// The raw bytes, for fingerprints and allowlist regexes; never for output.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The first few characters then `…`; short secrets show less so that
    /// at least three quarters stay hidden.
    pub fn redacted(&self) -> String {
        redact(&String::from_utf8_lossy(&self.0))
    }

    /// Redacted or full, as the caller's `--show-secrets` says.
    pub fn render(&self, show: bool) -> String {
        if show { self.reveal() } else { self.redacted() }
    }
}

/// Redacts a secret string: first 4 characters then `…` (fewer for short ones).
pub fn redact(s: &str) -> String {
    // A PEM block's header says what kind of key leaked and is not secret: keep it whole.
    if let Some(rest) = s.strip_prefix("-----BEGIN ")
        && let Some(end) = rest.find("-----")
        && end <= 40
        && rest[..end]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b == b' ' || b.is_ascii_digit())
    {
        return format!("-----BEGIN {}-----…", &rest[..end]);
    }
    let n = s.chars().count();
    let keep = if n >= 16 { 4 } else { n / 4 };
    let mut out: String = s.chars().take(keep).collect();
    out.push('…');
    out
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// A 1-based position range in a file. Columns count characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// First line (1-based).
    pub line: usize,
    /// First column (1-based, in characters).
    pub column: usize,
    /// Last line (1-based).
    pub end_line: usize,
    /// Column just past the last character (1-based, in characters).
    pub end_column: usize,
}

/// One value of a credential made of several (exchange key + secret + passphrase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// `key`, `secret`, `passphrase`, `uid`…
    pub name: String,
    /// The value.
    pub value: Secret,
    /// Where it is.
    pub span: Span,
}

/// Where a git finding came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GitInfo {
    /// Full hex id of the commit that introduced the blob at this path.
    pub commit: String,
    /// Author name.
    pub author: String,
    /// Author email.
    pub email: String,
    /// Author date, RFC 3339.
    pub date: String,
    /// Full hex id of the blob.
    pub blob: String,
    /// Whether the file at this path in HEAD still holds the secret (None: not checked, as for
    /// staged scans, or no HEAD). Rotation is needed either way; deleting it is not, if gone.
    pub at_head: Option<bool>,
    /// The repository, when one run covers several (`keyleak git A B`, `--repos`).
    pub repository: Option<String>,
}

/// A suppression comment found on one of a finding's lines (or on the line before).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Marker {
    /// `keyleak:allow` on a line of the finding, or `keyleak:allow-next-line` above one.
    Keyleak,
    /// Another scanner's marker (`gitleaks:allow`, `pragma: allowlist secret`,
    /// `trufflehog:ignore`), honoured only when the config says so.
    Other(&'static str),
}

/// Why a finding was suppressed instead of reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Suppression {
    /// `keyleak:allow` on a line of the finding (or `keyleak:allow-next-line` above one).
    Inline,
    /// A `keyleak:allow` comment on a line the scanned range adds: the change silences its
    /// own finding, which reviewers must see.
    InlineAdded,
    /// Another scanner's marker, honoured by `[allow] other_markers = true`.
    OtherMarker,
    /// `[allow] paths` in the config.
    AllowPath,
    /// `[allow] regexes` / `stopwords` in the config.
    AllowRegex,
    /// `[allow] fingerprints` in the config or `.keyleakignore`.
    AllowFingerprint,
    /// Present in the `--baseline` report.
    Baseline,
}

impl Suppression {
    /// Short label for summaries.
    pub fn label(self) -> &'static str {
        match self {
            Suppression::Inline => "keyleak:allow",
            Suppression::InlineAdded => "keyleak:allow added by this change",
            Suppression::OtherMarker => "another scanner's marker",
            Suppression::AllowPath => "allowed path",
            Suppression::AllowRegex => "allowed regex",
            Suppression::AllowFingerprint => "ignored fingerprint",
            Suppression::Baseline => "baseline",
        }
    }

    /// In source (a comment next to the secret) or external (config, baseline).
    pub fn in_source(self) -> bool {
        matches!(
            self,
            Suppression::Inline | Suppression::InlineAdded | Suppression::OtherMarker
        )
    }
}

/// One detected secret at one location.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Rule id, kebab-case.
    pub rule_id: String,
    /// Human rule name.
    pub rule_name: String,
    /// Severity after known-public downgrades.
    pub severity: Severity,
    /// Confidence.
    pub confidence: Confidence,
    /// Path as displayed (relative to the scan root where possible, `/` separators).
    pub path: String,
    /// Position of the secret.
    pub span: Span,
    /// Byte offsets of the secret in the scanned content.
    pub byte_range: (usize, usize),
    /// The secret.
    pub secret: Secret,
    /// The (first) line holding the secret, cut to ~80 bytes before it and ~400 after, control
    /// characters blanked, every *other* value and every encoded value on it already redacted.
    /// This finding's own plain values are still raw: see [`Finding::snippet`].
    pub line_text: String,
    /// Byte ranges of `line_text` holding this finding's own values (secret and parts), and
    /// whether each starts where its value starts (else it was cut and shows no prefix).
    pub line_values: Vec<(std::ops::Range<usize>, bool)>,
    /// Stable identity of (rule, secret).
    pub fingerprint: String,
    /// Name of the validator that confirmed it (`none` if none).
    pub validation: String,
    /// A published test key: reported at low severity and never fails a scan.
    pub known_public: bool,
    /// The values of a multi-part credential (empty for single values).
    pub parts: Vec<Part>,
    /// Provenance in git history.
    pub git: Option<GitInfo>,
    /// Encoding layers the secret was found under (`base64`, …), outermost first.
    pub decoded: Vec<String>,
    /// The Jupyter notebook cell holding the secret (1-based, top to bottom as Jupyter shows
    /// them), for a finding in a notebook's source or output.
    pub notebook_cell: Option<usize>,
    /// Set when a filter suppressed this finding.
    pub suppressed: Option<Suppression>,
    /// A suppression comment on the finding's lines, found by the scan.
    pub marker: Option<Marker>,
    /// What the provider said about the credential (only under `--verify`).
    pub verification: Option<Verification>,
}

impl Finding {
    /// `decoded` as reports show it: the notebook cell first (`notebook-cell:N`), then the
    /// encoding layers.
    pub fn decoded_shown(&self) -> Vec<String> {
        self.notebook_cell
            .map(|c| format!("notebook-cell:{c}"))
            .into_iter()
            .chain(self.decoded.iter().cloned())
            .collect()
    }

    /// The line with this finding's values redacted (unless `show`) by their byte ranges,
    /// trimmed to 200 characters. Other findings' values were redacted when the line was cut.
    pub fn snippet(&self, show: bool) -> String {
        let mut text = self.line_text.clone();
        if !show {
            let mut spans: Vec<&(std::ops::Range<usize>, bool)> = self
                .line_values
                .iter()
                .filter(|(r, _)| r.start < r.end && text.get(r.clone()).is_some())
                .collect();
            // From the end, so earlier ranges stay valid.
            spans.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
            let mut floor = usize::MAX;
            for (r, starts) in spans {
                let end = r.end.min(floor);
                if r.start >= end {
                    continue;
                }
                let hidden = if *starts {
                    redact(&text[r.start..end])
                } else {
                    "…".to_string()
                };
                text.replace_range(r.start..end, &hidden);
                floor = r.start;
            }
        }
        truncate_chars(text.trim(), 200)
    }

    /// Sort key: repository (when a run covers several), path, line, column, rule id, commit:
    /// the deterministic order every report (and `keyleak merge`) uses.
    #[allow(clippy::type_complexity)]
    pub fn sort_key(&self) -> (Option<&str>, &str, usize, usize, &str, Option<&str>) {
        (
            self.git.as_ref().and_then(|g| g.repository.as_deref()),
            &self.path,
            self.span.line,
            self.span.column,
            &self.rule_id,
            self.git.as_ref().map(|g| g.commit.as_str()),
        )
    }
}

/// The outcome of asking the provider about a credential (`--verify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerifyStatus {
    /// The provider accepted the credential.
    Live,
    /// The provider said the credential is invalid, expired or revoked.
    Revoked,
    /// No answer either way: network, timeout, rate limit, unexpected response.
    Error,
    /// keyleak has no verifier for this rule, or the credential is incomplete.
    Unsupported,
}

impl VerifyStatus {
    /// The lowercase name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyStatus::Live => "live",
            VerifyStatus::Revoked => "revoked",
            VerifyStatus::Error => "error",
            VerifyStatus::Unsupported => "unsupported",
        }
    }
}

/// What an exchange key may do, as the exchange reports it (`None`: not reported).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    /// May read balances, orders and history.
    pub read: Option<bool>,
    /// May place and cancel orders.
    pub trade: Option<bool>,
    /// May withdraw funds off the exchange.
    pub withdraw: Option<bool>,
    /// Only usable from an IP allow-list.
    pub ip_restricted: Option<bool>,
}

impl Permissions {
    /// `read, trade, no withdraw, IP-restricted`: the known fields, in that order.
    pub fn summary(&self) -> String {
        let mut out = Vec::new();
        let mut flag = |v: Option<bool>, yes: &str, no: &str| match v {
            Some(true) => out.push(yes.to_string()),
            Some(false) => out.push(no.to_string()),
            None => {}
        };
        flag(self.read, "read", "no read");
        flag(self.trade, "trade", "no trade");
        flag(self.withdraw, "WITHDRAW", "no withdraw");
        flag(self.ip_restricted, "IP-restricted", "any IP");
        out.join(", ")
    }
}

/// One verification result, shared by every location of the same credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// live, revoked, error or unsupported.
    pub status: VerifyStatus,
    /// The verifier that answered (`github`, `binance`…); empty when unsupported.
    pub provider: String,
    /// Why it is revoked, errored or unsupported (never contains the secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Account id, login or name the provider reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Scopes or roles the provider reports.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub scopes: Vec<String>,
    /// Expiry the provider reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// What an exchange key may do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permissions>,
}

impl Verification {
    /// A result with only a status, provider and reason.
    pub fn new(status: VerifyStatus, provider: &str, reason: Option<String>) -> Verification {
        Verification {
            status,
            provider: provider.to_string(),
            reason,
            account: None,
            scopes: Vec::new(),
            expires: None,
            permissions: None,
        }
    }

    /// One line for humans: `live (binance; account 123; read, trade, WITHDRAW, any IP)`.
    pub fn summary(&self) -> String {
        let mut details = Vec::new();
        if !self.provider.is_empty() {
            details.push(self.provider.clone());
        }
        if let Some(a) = &self.account {
            details.push(format!("account {a}"));
        }
        if !self.scopes.is_empty() {
            details.push(format!("scopes {}", self.scopes.join(" ")));
        }
        if let Some(e) = &self.expires {
            details.push(format!("expires {e}"));
        }
        if let Some(p) = &self.permissions {
            let s = p.summary();
            if !s.is_empty() {
                details.push(s);
            }
        }
        if let Some(r) = &self.reason {
            details.push(r.clone());
        }
        if details.is_empty() {
            self.status.as_str().to_string()
        } else {
            format!("{} ({})", self.status.as_str(), details.join("; "))
        }
    }
}

/// Cuts `s` to at most `max` characters, adding `…` when it cut.
pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Stable hex digest of the rule id and the secret value.
pub fn fingerprint(rule_id: &str, secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0u8]);
    h.update(secret);
    let digest = h.finalize();
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_table() {
        for (input, want) in [
            ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_…"),
            ("abcdefgh", "ab…"),
            ("abc", "…"),
            ("", "…"),
            ("ééééééééééééééééé", "éééé…"),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3\n",
                "-----BEGIN RSA PRIVATE KEY-----…",
            ),
            (
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n",
                "-----BEGIN OPENSSH PRIVATE KEY-----…",
            ),
            // Not a header: the ordinary rule.
            ("-----BEGIN x0123456789abcdef-----", "----…"),
        ] {
            assert_eq!(redact(input), want, "{input}");
        }
    }

    #[test]
    fn secret_never_formats_in_full() {
        let s = Secret::new("sk_live_0123456789abcdefghijklmn");
        assert!(!format!("{s}").contains("0123456789"));
        assert!(!format!("{s:?}").contains("0123456789"));
        assert_eq!(s.reveal(), "sk_live_0123456789abcdefghijklmn");
    }

    #[test]
    fn fingerprint_is_stable_and_rule_scoped() {
        let a = fingerprint("r1", b"secret");
        assert_eq!(a, fingerprint("r1", b"secret"));
        assert_ne!(a, fingerprint("r2", b"secret"));
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn severity_orders_and_parses() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Medium > Severity::Low);
        assert_eq!("HIGH".parse::<Severity>().unwrap(), Severity::High);
        assert!("urgent".parse::<Severity>().is_err());
    }
}
