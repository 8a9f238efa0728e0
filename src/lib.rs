//! keyleak: a static secret-leak scanner.
//!
//! Data flows one way:
//!
//! ```text
//! source (dir | git | stdin) → bytes + path → scan::Engine (prefilter → regex → entropy →
//! validator) → Finding → filter (allowlists, inline, ignore file, baseline) → report
//! ```
//!
//! Only `cli` knows about clap, anyhow or the terminal.
#![warn(missing_docs)]

pub mod baseline;
pub mod config;
pub mod decode;
pub mod error;
pub mod escape;
pub mod filter;
pub mod finding;
pub mod glob;
pub mod model;
pub mod policy_file;
pub mod report;
pub mod rules;
pub mod scan;
pub mod simd;
pub mod source;
pub mod verify;
