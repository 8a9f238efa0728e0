//! The `patterns/*.toml` files, embedded at build time by `build.rs`.

/// `(file name, contents)` of every built-in pattern file, sorted by name.
pub const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_patterns.rs"));
