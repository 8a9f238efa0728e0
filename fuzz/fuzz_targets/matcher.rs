//! The engine over arbitrary bytes: no panic; every finding's span is inside the input, its
//! secret is exactly the bytes there, line/column are right, and snippets are redacted.
#![no_main]

use keyleak::scan::Scratch;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let findings = common::ENGINE.scan("fuzz", data, &mut Scratch::default());
    common::check_findings(data, &findings);
});
