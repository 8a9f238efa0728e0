//! Multi-part credentials: an exchange's key, secret and passphrase near each other become one
//! finding; parts useless alone are dropped.

use crate::finding::{Finding, Part};
use crate::rules::RuleSet;

/// Credential parts that are useless alone — a passphrase or a uid without its key and
/// secret — are reported only as parts of a merged finding, never on their own.
pub(crate) fn drop_lone_parts(rules: &RuleSet, findings: &mut Vec<Finding>) {
    findings.retain(|f| {
        let part = rules.get(&f.rule_id).and_then(|r| r.part.as_deref());
        !(matches!(part, Some("passphrase" | "uid" | "password")) && f.parts.is_empty())
    });
}

/// Lines within which parts of one credential are merged into one finding.
pub const CREDENTIAL_LINES: usize = 20;

/// Merges findings of one credential group (an exchange's key, secret and passphrase) that sit
/// within [`CREDENTIAL_LINES`] of each other into one finding carrying the others as `parts`.
/// The merged finding is the `secret` part (or the most severe one).
pub fn group_credentials(rules: &RuleSet, findings: &mut Vec<Finding>) {
    let meta = |f: &Finding| {
        rules
            .get(&f.rule_id)
            .and_then(|r| Some((r.credential.clone()?, r.part.clone().unwrap_or_default())))
    };
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        if let Some((cred, part)) = meta(f) {
            // One value per part: two key ids near each other are two credentials, and the
            // same value twice is two locations.
            match groups.iter_mut().find(|(c, members)| {
                c == &cred
                    && members.iter().all(|&j| {
                        findings[j].span.line.abs_diff(f.span.line) <= CREDENTIAL_LINES
                            && meta(&findings[j]).map(|(_, p)| p) != Some(part.clone())
                    })
            }) {
                Some((_, members)) => members.push(i),
                None => groups.push((cred, vec![i])),
            }
        }
    }
    let mut drop = vec![false; findings.len()];
    for (_, members) in groups.iter().filter(|(_, m)| m.len() > 1) {
        let lead = *members
            .iter()
            .max_by_key(|&&i| {
                let part = meta(&findings[i]).map(|(_, p)| p).unwrap_or_default();
                (part == "secret", findings[i].severity, std::cmp::Reverse(i))
            })
            .expect("non-empty group");
        let mut parts = Vec::new();
        for &i in members {
            let f = &findings[i];
            // Groups hold one value per part (see above), so no part repeats here.
            let name = meta(f).map(|(_, p)| p).unwrap_or_default();
            parts.push(Part {
                name,
                value: f.secret.clone(),
                span: f.span,
            });
            if i != lead {
                drop[i] = true;
            }
        }
        parts.sort_by_key(|p| (p.span.line, p.span.column));
        findings[lead].parts = parts;
    }
    let mut i = 0;
    findings.retain(|_| {
        i += 1;
        !drop[i - 1]
    });
}
