//! The single integration-test binary. Tests drive the real `keyleak` binary over real files and
//! real git repositories in temporary directories; a few (sarif) drive the library's reporters
//! directly to cover findings the binary cannot easily produce.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

mod util;

mod action;
mod audit;
mod cli;
mod cloud;
mod config;
mod credentials;
mod crypto;
mod daily;
mod decode;
mod devops;
mod dir;
mod git;
mod hooks;
mod hostile;
mod leaks;
mod nomiss;
mod pipeline;
mod props;
mod release;
mod rules;
mod sarif;
mod split;
mod untrusted;
mod verify;
