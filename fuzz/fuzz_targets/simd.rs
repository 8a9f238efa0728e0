//! The vector kernels against the portable ones: the keyword gram test, the token-run finder
//! and the phrase masks give the same answer at every level this CPU has, on any bytes at any
//! alignment (`cargo test` runs the same property with proptest, in src/scan/simd_agreement.rs).
#![no_main]

use std::sync::LazyLock;

use keyleak::scan::keywords::Keywords;
use keyleak::scan::simd_agreement::first_disagreement;
use libfuzzer_sys::fuzz_target;

static KEYWORDS: LazyLock<Keywords> = LazyLock::new(|| {
    Keywords::of_rules(&keyleak::rules::RuleSet::builtin().expect("built-in rules"))
});

fuzz_target!(|data: &[u8]| {
    let Some((&offset, rest)) = data.split_first() else {
        return;
    };
    let mut buf = vec![b' '; usize::from(offset % 64)];
    buf.extend_from_slice(rest);
    let hay = &buf[usize::from(offset % 64)..];
    if let Some(d) = first_disagreement(&KEYWORDS, hay) {
        panic!("{d}");
    }
});
