//! Proves every rule against its own examples: each `examples` entry must produce a match of
//! that rule, each `negative_examples` entry must not. `keyleak rules test` and `cargo test`
//! both call [`check`], so a bad rule fails the build's tests. Examples are passed through
//! [`expand_example`] first, so rule files can carry checksum-valid tokens as `{{crc32:…}}`
//! markers instead of committing them.

use crate::scan::validate::expand_example;
use crate::scan::{Engine, Scratch};

/// One failed expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The rule.
    pub rule_id: String,
    /// Where the rule is defined.
    pub origin: String,
    /// What went wrong.
    pub message: String,
}

/// Minimum examples and negative examples each rule must carry.
pub const MIN_EXAMPLES: usize = 2;

/// Checks every rule of `engine`; returns the failures (empty when all pass).
pub fn check(engine: &Engine) -> Vec<Failure> {
    let mut failures = Vec::new();
    let mut scratch = Scratch::default();
    let mut raw = Vec::new();
    for (i, rule) in engine.rules().rules().iter().enumerate() {
        let mut fail = |message: String| {
            failures.push(Failure {
                rule_id: rule.id.clone(),
                origin: rule.origin.clone(),
                message,
            })
        };
        if rule.examples.len() < MIN_EXAMPLES {
            fail(format!(
                "has {} examples; at least {MIN_EXAMPLES} are required",
                rule.examples.len()
            ));
        }
        if rule.negative_examples.len() < MIN_EXAMPLES {
            fail(format!(
                "has {} negative_examples; at least {MIN_EXAMPLES} are required",
                rule.negative_examples.len()
            ));
        }
        for ex in &rule.examples {
            let ex = &expand_example(ex);
            raw.clear();
            engine.raw_matches(ex.as_bytes(), &mut scratch, &mut raw);
            if !raw.iter().any(|m| m.rule == i) {
                fail(format!("example does not match: {ex:?}"));
            }
        }
        for ex in &rule.negative_examples {
            let ex = &expand_example(ex);
            raw.clear();
            engine.raw_matches(ex.as_bytes(), &mut scratch, &mut raw);
            if let Some(m) = raw.iter().find(|m| m.rule == i) {
                let hit = String::from_utf8_lossy(&ex.as_bytes()[m.secret.clone()]);
                fail(format!("negative example matches ({hit:?}): {ex:?}"));
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    #[test]
    fn every_builtin_rule_passes_its_examples() {
        let engine = Engine::new(RuleSet::builtin().expect("builtin rules load"));
        let failures = check(&engine);
        let text: Vec<String> = failures
            .iter()
            .map(|f| format!("{} ({}): {}", f.rule_id, f.origin, f.message))
            .collect();
        assert!(
            failures.is_empty(),
            "{} rule check failures:\n{}",
            failures.len(),
            text.join("\n")
        );
    }
}
