//! One secret, one finding: when several rules (or several decoding layers) matched the same
//! bytes, only the most specific match stays.

use crate::finding::{Confidence, Severity};
use crate::rules::{Rule, RuleSet};

use super::RawMatch;
use super::assemble::Assembled;

/// How specific a rule's match is, for choosing between rules that matched the same bytes:
/// confidence first, then severity, then "not a generic rule".
fn specificity(r: &Rule) -> (Confidence, Severity, bool) {
    (
        r.confidence,
        r.severity,
        !r.tags.iter().any(|t| t == "generic"),
    )
}

/// When several rules matched overlapping bytes (a generic assignment rule and an exchange rule
/// on the same value, a PEM rule inside a GCP service-account key), keeps only the most specific
/// match, so one secret is one finding. Matches of different credential parts never overlap.
pub(crate) fn drop_shadowed(rules: &RuleSet, raw: &mut Vec<RawMatch>) {
    if raw.len() < 2 {
        return;
    }
    raw.sort_by_key(|m| (m.secret.start, std::cmp::Reverse(m.secret.end), m.rule));
    let mut keep = vec![true; raw.len()];
    for i in 0..raw.len() {
        if !keep[i] {
            continue;
        }
        for j in i + 1..raw.len() {
            if raw[j].secret.start >= raw[i].secret.end {
                break;
            }
            if !keep[j] {
                continue;
            }
            // A rule that names the other in `shadows` wins; else the more specific; on a tie
            // the earlier-defined rule.
            let (ri, rj) = (&rules.rules()[raw[i].rule], &rules.rules()[raw[j].rule]);
            let (a, b) = (specificity(ri), specificity(rj));
            let j_wins = if rj.shadows.contains(&ri.id) {
                true
            } else if ri.shadows.contains(&rj.id) {
                false
            } else {
                b > a || (b == a && raw[j].rule < raw[i].rule)
            };
            if j_wins {
                keep[i] = false;
                break;
            }
            keep[j] = false;
        }
    }
    let mut k = keep.iter();
    raw.retain(|_| *k.next().unwrap_or(&true));
}

/// [`drop_shadowed`] for findings of different layers: of two overlapping
/// findings, at least one decoded, the less specific rule's goes (on a tie, the deeper).
/// `findings` is sorted shallowest first.
pub(crate) fn drop_shadowed_across_layers(rules: &RuleSet, findings: &mut Vec<Assembled>) {
    let rank = |a: &Assembled| rules.get(&a.f.rule_id).map(specificity);
    // Sorted shallowest first, so the decoded findings are a suffix: only pairs with one of
    // them are compared.
    let first = findings.partition_point(|a| a.depth == 0);
    let mut keep = vec![true; findings.len()];
    for j in first..findings.len() {
        for i in 0..j {
            let (a, b) = (&findings[i].f, &findings[j].f);
            let overlap = a.byte_range.0 < b.byte_range.1 && b.byte_range.0 < a.byte_range.1;
            if !keep[i] || !overlap {
                continue;
            }
            // j is as deep or deeper than i: it wins only by being more specific. The same
            // rule on both (a password as written, `p%40ss`, and decoded) keeps the shallower.
            if rank(&findings[j]) > rank(&findings[i]) {
                keep[i] = false;
            } else {
                keep[j] = false;
                break;
            }
        }
    }
    let mut k = keep.iter();
    findings.retain(|_| *k.next().unwrap_or(&true));
}
