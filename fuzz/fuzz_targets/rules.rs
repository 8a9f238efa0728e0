//! `RuleSet::add_file` on arbitrary text: an error (with a position inside the text) or rules
//! that compile and run.
#![no_main]

use std::path::Path;

use keyleak::rules::RuleSet;
use keyleak::scan::{Engine, Scratch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let mut set = RuleSet::default();
    match set.add_file(Path::new("r.toml"), text) {
        Ok(()) => {
            let engine = Engine::new(set);
            for r in engine.rules().rules() {
                let _ = r.regex();
            }
            let _ = engine.scan("x", text.as_bytes(), &mut Scratch::default());
        }
        Err(e) => {
            if let Some(p) = e.pos {
                assert!(p.line >= 1 && p.line <= text.split('\n').count() && p.column >= 1);
            }
            let _ = e.to_string();
        }
    }
});
