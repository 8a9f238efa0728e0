//! `Config::parse` (and `apply` onto the builtin rules) on arbitrary text: never a panic, and
//! an error's position is inside the text.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use keyleak::config::Config;
use keyleak::rules::RuleSet;
use libfuzzer_sys::fuzz_target;

static BUILTIN_OK: LazyLock<()> = LazyLock::new(|| {
    RuleSet::builtin().expect("builtins load");
});

fuzz_target!(|text: &str| {
    LazyLock::force(&BUILTIN_OK);
    let check = |pos: Option<keyleak::error::Pos>| {
        if let Some(p) = pos {
            assert!(p.line >= 1 && p.line <= text.split('\n').count() && p.column >= 1);
        }
    };
    match Config::parse(Path::new("k.toml"), text.to_string()) {
        Ok(cfg) => {
            let mut rules = RuleSet::builtin().unwrap();
            if let Err(e) = cfg.apply(&mut rules) {
                check(e.pos);
            }
            // Validation and matching compile globs with the same code: a config that loads
            // has globs that compile.
            keyleak::glob::Globs::new(&cfg.exclude).expect("exclude globs compile");
            keyleak::glob::Globs::new(&cfg.allow_paths).expect("allow globs compile");
        }
        Err(e) => check(e.pos),
    }
});
