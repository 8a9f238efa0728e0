//! Secrets in disguise: pure transforms one layer down.
//!
//! Credentials often hide under an encoding: base64 in a Kubernetes `Secret` or an `.npmrc`
//! `_auth`, percent-encoding in a URL, `\uXXXX` escapes in JSON, BOM-less UTF-16, Jupyter
//! notebook strings, files inside archives. This module holds the transforms only — bytes in,
//! decoded bytes plus an [`map::OffsetMap`] back to the source out — and knows nothing of
//! rules, findings or sources:
//!
//! - [`inline`] finds candidate spans one layer down and decodes them;
//! - [`notebook`] unescapes a Jupyter notebook's strings into one view;
//! - [`archive`] expands zip, tar and gzip data into members, within limits.
//!
//! The scan module drives them (`scan::layers`): which layers to follow, how deep, and how a
//! decoded match becomes a finding at the location of its encoded bytes.

pub mod archive;
pub mod inline;
pub mod map;
pub mod notebook;

/// Encoding layers followed inside one another (base64 inside base64, UTF-16 inside base64…).
pub const MAX_DEPTH: usize = 2;

/// What is decoded. Carried by the scan engine so every source sees the same choice.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// Decode base64, percent-encoding, escapes, UTF-16 and notebooks (`--no-decode` turns it
    /// off).
    pub inline: bool,
    /// Open archives, with these limits (`--no-archives` turns it off).
    pub archives: Option<archive::ArchiveLimits>,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            inline: true,
            archives: Some(archive::ArchiveLimits::default()),
        }
    }
}
