//! The vector kernels against the portable ones: the keyword gram test, the token-run finder
//! and the phrase masks give the same answer at every level this CPU has, on any bytes at any
//! alignment (`cargo test` runs the same property with proptest, in src/simd.rs).
#![no_main]

use std::sync::LazyLock;

use keyleak::decode::inline::token_runs_at;
use keyleak::scan::detect::masks_at;
use keyleak::scan::keywords::Keywords;
use keyleak::simd::{Level, available};
use libfuzzer_sys::fuzz_target;

static KEYWORDS: LazyLock<Keywords> = LazyLock::new(|| {
    let rules = keyleak::rules::RuleSet::builtin().expect("built-in rules");
    let mut all: Vec<String> = rules
        .rules()
        .iter()
        .flat_map(|r| r.keywords.iter().cloned())
        .collect();
    all.sort();
    all.dedup();
    Keywords::new(&all)
});

fuzz_target!(|data: &[u8]| {
    let Some((&offset, rest)) = data.split_first() else {
        return;
    };
    let mut buf = vec![b' '; usize::from(offset % 64)];
    buf.extend_from_slice(rest);
    let hay = &buf[usize::from(offset % 64)..];
    let hits = |l: Level| {
        let mut v = Vec::new();
        KEYWORDS.for_each_at(l, hay, |k, s, e| v.push((k, s, e)));
        v.sort_unstable();
        v
    };
    let runs = |l: Level| {
        let mut v = Vec::new();
        token_runs_at(l, hay, &mut v);
        v.iter().map(|r| (r.start, r.end, r.mixed)).collect::<Vec<_>>()
    };
    let masks = |l: Level| {
        hay.chunks(64)
            .map(|c| {
                let mut b = [0u8; 64];
                b[..c.len()].copy_from_slice(c);
                masks_at(l, &b)
            })
            .collect::<Vec<_>>()
    };
    let (h, r, m) = (hits(Level::PORTABLE), runs(Level::PORTABLE), masks(Level::PORTABLE));
    for l in available().into_iter().skip(1) {
        assert_eq!(hits(l), h, "keyword hits at {l:?}");
        assert_eq!(runs(l), r, "token runs at {l:?}");
        assert_eq!(masks(l), m, "phrase masks at {l:?}");
    }
});
