//! The TOML shape of a rule file (`patterns/*.toml` and `[[rule]]` blocks in `keyleak.toml`).
//! Serde only: no validation happens here.

use serde::Deserialize;
use toml::Spanned;

/// A rule file: an optional provider, shared regex fragments and a list of `[[rule]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// The provider of every rule in the file that does not name its own (`"Azure"`).
    #[serde(default)]
    pub provider: Option<String>,
    /// Named regex fragments, usable as `{{name}}` in the regex of any rule (of any file).
    #[serde(default)]
    pub fragments: std::collections::BTreeMap<String, Spanned<String>>,
    /// The rules, in file order.
    #[serde(default)]
    pub rule: Vec<Spanned<RuleSyntax>>,
}

/// One `[[rule]]` table, exactly as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSyntax {
    /// Unique kebab-case id.
    pub id: Spanned<String>,
    /// Human name.
    pub name: String,
    /// The service the credential belongs to (default: the file's `provider`, else its name).
    #[serde(default)]
    pub provider: Option<String>,
    /// Literals for the prefilter (ASCII case-insensitive unless `keywords_case_sensitive`).
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Keywords must occur with exactly this case (for prefixes such as `AKIA` that are
    /// common words in lower case).
    #[serde(default)]
    pub keywords_case_sensitive: bool,
    /// The pattern; its `secret` group (or the whole match) is the secret. Other named
    /// groups become the finding's `parts`. `{{name}}` inserts a named fragment.
    #[serde(default)]
    pub regex: Option<Spanned<String>>,
    /// A built-in detector that finds candidates instead of a regex (e.g. `bip39`).
    #[serde(default)]
    pub detector: Option<Spanned<String>>,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    #[serde(default)]
    pub entropy: Option<f64>,
    /// Named checksum / structure validator.
    #[serde(default)]
    pub validator: Option<Spanned<String>>,
    /// `critical|high|medium|low`.
    pub severity: Spanned<String>,
    /// `high|medium|low`.
    pub confidence: Spanned<String>,
    /// Free-form tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Where the format is documented.
    #[serde(default)]
    pub references: Vec<String>,
    /// How to revoke and rotate.
    #[serde(default)]
    pub remediation: String,
    /// Lines on which the rule must fire.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Lines on which it must not.
    #[serde(default)]
    pub negative_examples: Vec<String>,
    /// `false` runs the regex over whole inputs (only for rules without any usable keyword).
    #[serde(default)]
    pub prefilter: Option<bool>,
    /// Bytes searched before and after each keyword hit (default 256 before, 512 after).
    #[serde(default)]
    pub window: Option<usize>,
    /// Bytes searched before each keyword hit (overrides `window`): 0 when the regex starts
    /// at the keyword.
    #[serde(default)]
    pub window_before: Option<usize>,
    /// Bytes searched after each keyword hit (overrides `window`).
    #[serde(default)]
    pub window_after: Option<usize>,
    /// A secret containing one of these (case-insensitive) is a placeholder, not a finding.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Drop secrets that look like placeholders, references or repeated characters
    /// (`your_api_key`, `${VAR}`, `xxxx`…). Default true for low/medium confidence rules.
    #[serde(default)]
    pub placeholder_filter: Option<bool>,
    /// Credential group (an exchange id) whose parts are merged into one finding.
    #[serde(default)]
    pub credential: Option<String>,
    /// Which part of the credential this rule finds: `key`, `secret`, `passphrase`, `uid`…
    #[serde(default)]
    pub part: Option<Spanned<String>>,
    /// Ids of rules whose overlapping matches this rule replaces (a narrower context that
    /// rates the same value differently, e.g. a Firebase web config's public API key).
    #[serde(default)]
    pub shadows: Vec<String>,
    /// Paths where the rule does not apply (ASCII case-insensitive): `name/` is a directory
    /// anywhere in the path, anything else a suffix of the file name (`.md`, `.example.json`).
    #[serde(default)]
    pub skip_paths: Vec<String>,
}
