//! Multi-part credentials: an exchange's key, secret and passphrase near each other become one
//! finding; parts useless alone are dropped.

use std::collections::HashMap;

use crate::finding::Part;
use crate::rules::RuleSet;

use super::assemble::Assembled;

/// Credential parts that are useless alone — a passphrase or a uid without its key and
/// secret — are reported only as parts of a merged finding, never on their own.
pub(crate) fn drop_lone_parts(rules: &RuleSet, findings: &mut Vec<Assembled>) {
    findings.retain(|a| {
        let part = rules.get(&a.f.rule_id).and_then(|r| r.part.as_deref());
        !(matches!(part, Some("passphrase" | "uid" | "password")) && a.f.parts.is_empty())
    });
}

/// Lines within which parts of one credential are merged into one finding.
pub const CREDENTIAL_LINES: usize = 20;

/// One group being formed: its first member's line and, per part name, its member.
struct Group {
    first_line: usize,
    members: Vec<usize>,
}

/// Merges findings of one credential group (an exchange's key, secret and passphrase) that sit
/// within [`CREDENTIAL_LINES`] of each other into one finding carrying the others as `parts`.
/// The merged finding is the `secret` part (or the most severe one).
///
/// A group holds one value per part: two key ids near each other are two credentials, and the
/// same value twice is two locations. Findings are swept in line order (then input order),
/// each joining the oldest group of its credential that is still open (its first member at
/// most [`CREDENTIAL_LINES`] above) and lacks its part. Groups only close and only gain parts,
/// so one cursor per (credential, part) moves forward over the credential's groups: with the
/// sort, O(n log n) for n findings however many share a credential.
///
/// Returns the number of groups looked at, for the complexity test.
pub(crate) fn group_credentials(rules: &RuleSet, findings: &mut Vec<Assembled>) -> usize {
    // (credential id, part id) per finding, interned; the rule is looked up once per finding.
    let mut creds: HashMap<&str, usize> = HashMap::new();
    let mut parts: HashMap<&str, usize> = HashMap::new();
    let mut meta: Vec<Option<(usize, usize)>> = Vec::with_capacity(findings.len());
    let mut part_names: Vec<&str> = Vec::new();
    for a in findings.iter() {
        let m = rules.get(&a.f.rule_id).and_then(|r| {
            let cred = r.credential.as_deref()?;
            let part = r.part.as_deref().unwrap_or_default();
            let n = creds.len();
            let c = *creds.entry(cred).or_insert(n);
            let n = parts.len();
            let p = *parts.entry(part).or_insert_with(|| {
                part_names.push(part);
                n
            });
            Some((c, p))
        });
        meta.push(m);
    }
    let mut order: Vec<usize> = (0..findings.len()).filter(|&i| meta[i].is_some()).collect();
    if order.len() < 2 {
        return 0;
    }
    let mut looked = 0;
    order.sort_by_key(|&i| (meta[i].map(|m| m.0), findings[i].f.span.line, i));

    let mut groups: Vec<Group> = Vec::new();
    // Per credential: its groups (indices into `groups`, oldest first), and per part a cursor
    // into that list before which no group can take the part.
    let mut by_cred: Vec<Vec<usize>> = vec![Vec::new(); creds.len()];
    let mut cursor: HashMap<(usize, usize), usize> = HashMap::new();
    // Which parts a group already has: (group, part).
    let mut has: std::collections::HashSet<(usize, usize)> = std::collections::HashSet::new();
    for &i in &order {
        let Some((c, p)) = meta[i] else { continue };
        let line = findings[i].f.span.line;
        let list = &by_cred[c];
        let cur = cursor.entry((c, p)).or_insert(0);
        while *cur < list.len() {
            looked += 1;
            let g = list[*cur];
            let closed = line.abs_diff(groups[g].first_line) > CREDENTIAL_LINES;
            if closed || has.contains(&(g, p)) {
                *cur += 1;
            } else {
                break;
            }
        }
        match list.get(*cur) {
            Some(&g) => {
                groups[g].members.push(i);
                has.insert((g, p));
            }
            None => {
                let g = groups.len();
                groups.push(Group {
                    first_line: line,
                    members: vec![i],
                });
                by_cred[c].push(g);
                has.insert((g, p));
            }
        }
    }

    let mut drop = vec![false; findings.len()];
    for group in groups.iter().filter(|g| g.members.len() > 1) {
        let part_of = |i: usize| meta[i].map_or("", |(_, p)| part_names[p]);
        let lead = *group
            .members
            .iter()
            .max_by_key(|&&i| {
                (
                    part_of(i) == "secret",
                    findings[i].f.severity,
                    std::cmp::Reverse(i),
                )
            })
            .expect("non-empty group");
        let mut merged: Vec<(Part, std::ops::Range<usize>, bool)> = group
            .members
            .iter()
            .map(|&i| {
                let a = &findings[i];
                let part = Part {
                    name: part_of(i).to_string(),
                    value: a.f.secret.clone(),
                    span: a.f.span,
                };
                (part, a.ranges[0].clone(), a.raw[0])
            })
            .collect();
        merged.sort_by_key(|(p, _, _)| (p.span.line, p.span.column));
        for &i in &group.members {
            drop[i] = i != lead;
        }
        let lead = &mut findings[lead];
        lead.ranges.truncate(1);
        lead.raw.truncate(1);
        lead.f.parts.clear();
        for (part, range, raw) in merged {
            lead.f.parts.push(part);
            lead.ranges.push(range);
            lead.raw.push(raw);
        }
    }
    let mut i = 0;
    findings.retain(|_| {
        i += 1;
        !drop[i - 1]
    });
    looked
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finding of `rule` on `line`, as assembly hands it to grouping.
    fn at(rule: &str, line: usize, n: usize) -> Assembled {
        Assembled::test_finding(rule, line, n * 100..n * 100 + 64, format!("{rule}{n}"))
    }

    /// `n` Binance credentials (key line, secret line) one after another, or all keys first
    /// then all secrets on one line: each becomes one finding with two parts, and the work
    /// done grows linearly with `n` (the pairwise version took 8.7 s for 40k lines).
    #[test]
    fn grouping_a_flood_is_linear() {
        let rules = RuleSet::builtin().unwrap();
        let run = |n: usize, one_line: bool| {
            let mut v: Vec<Assembled> = Vec::with_capacity(2 * n);
            for i in 0..n {
                let line = if one_line { 1 } else { 2 * i + 1 };
                v.push(at("binance-api-key", line, 2 * i));
                if !one_line {
                    v.push(at("binance-api-secret", line + 1, 2 * i + 1));
                }
            }
            if one_line {
                for i in 0..n {
                    v.push(at("binance-api-secret", 1, 2 * n + i));
                }
            }
            let looked = group_credentials(&rules, &mut v);
            assert_eq!(v.len(), n);
            assert!(
                v.iter()
                    .all(|a| a.f.parts.len() == 2 && a.ranges.len() == 3)
            );
            looked
        };
        for one_line in [false, true] {
            let (small, large) = (run(1_000, one_line), run(100_000, one_line));
            // Linear: at most a few groups looked at per finding, at both sizes.
            assert!(small <= 4 * 2_000, "{small}");
            assert!(large <= 4 * 200_000, "{large}");
            assert!(large <= 110 * small, "{small} → {large}");
        }
    }

    /// Grouping keeps the rules' semantics: one value per part, within CREDENTIAL_LINES.
    #[test]
    fn groups_hold_one_value_per_part_within_reach() {
        let rules = RuleSet::builtin().unwrap();
        let mut v = vec![
            at("binance-api-key", 1, 0),
            at("binance-api-key", 2, 1),
            at("binance-api-secret", 3, 2),
            at("binance-api-secret", 4, 3),
            at("binance-api-secret", 40, 4),
        ];
        group_credentials(&rules, &mut v);
        let got: Vec<(usize, usize)> = v.iter().map(|a| (a.f.span.line, a.f.parts.len())).collect();
        // Key 1 with secret 3, key 2 with secret 4; the secret 36 lines below stays alone.
        assert_eq!(got, [(3, 2), (4, 2), (40, 0)]);
    }
}
