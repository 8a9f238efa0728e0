//! The single integration-test binary: every test drives the real `keyleak` binary over real
//! files and real git repositories in temporary directories.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

mod util;

mod config;
mod dir;
mod sarif;
