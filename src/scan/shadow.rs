//! One secret, one finding: when several rules (or several decoding layers) matched the same
//! bytes, only the most specific match stays.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

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
///
/// Each decoded finding `j` (in order) meets the still-kept findings before it that overlap
/// it, in order: while it is more specific it drops them; the first one at least as specific
/// drops `j` instead. The overlapping pairs are found by one sweep over the byte ranges sorted
/// by start (an interval is live while its end is past the sweep), so the work is
/// O(n log n + pairs) rather than the n² of comparing every pair: a flood of decoded findings
/// on different bytes costs nothing per finding. Returns the number of overlapping pairs
/// looked at, for the complexity test.
pub(crate) fn drop_shadowed_across_layers(rules: &RuleSet, findings: &mut Vec<Assembled>) -> usize {
    // Sorted shallowest first, so the decoded findings are a suffix: only pairs with one of
    // them count.
    let first = findings.partition_point(|a| a.depth == 0);
    if first == findings.len() {
        return 0;
    }
    // The rule is looked up once per rule id, not once per comparison.
    let rank: Vec<Option<(Confidence, Severity, bool)>> = {
        let mut by_id: HashMap<&str, Option<(Confidence, Severity, bool)>> = HashMap::new();
        findings
            .iter()
            .map(|a| {
                *by_id
                    .entry(a.f.rule_id.as_str())
                    .or_insert_with(|| rules.get(&a.f.rule_id).map(specificity))
            })
            .collect()
    };
    let pairs = overlapping_pairs(findings, first);
    let mut keep = vec![true; findings.len()];
    for run in pairs.chunk_by(|a, b| a.0 == b.0) {
        let j = run[0].0;
        for &(_, i) in run {
            if !keep[i] {
                continue;
            }
            // j is as deep or deeper than i: it wins only by being more specific. The same
            // rule on both (a password as written, `p%40ss`, and decoded) keeps the shallower.
            if rank[j] > rank[i] {
                keep[i] = false;
            } else {
                keep[j] = false;
                break;
            }
        }
    }
    let mut k = keep.iter();
    findings.retain(|_| *k.next().unwrap_or(&true));
    pairs.len()
}

/// Every `(j, i)` with `i < j`, `j >= first` and overlapping byte ranges (`a.0 < b.1 &&
/// b.0 < a.1`, so an empty range overlaps only a range strictly around it), sorted.
fn overlapping_pairs(findings: &[Assembled], first: usize) -> Vec<(usize, usize)> {
    let range = |i: usize| findings[i].f.byte_range;
    let mut order: Vec<usize> = (0..findings.len()).collect();
    // Empty ranges first at a start, so one is never live when a range starting at its
    // position arrives (they do not overlap).
    order.sort_unstable_by_key(|&i| (range(i), i));
    // Live ranges, by end: each one started at or before the sweep position and ends after it,
    // so it overlaps the range arriving there.
    let mut live: BinaryHeap<Reverse<(usize, usize)>> = BinaryHeap::new();
    let mut pairs = Vec::new();
    for &x in &order {
        let (start, end) = range(x);
        while live.peek().is_some_and(|Reverse((e, _))| *e <= start) {
            live.pop();
        }
        for &Reverse((_, y)) in live.iter() {
            let (i, j) = (x.min(y), x.max(y));
            if j >= first {
                pairs.push((j, i));
            }
        }
        live.push(Reverse((end, x)));
    }
    pairs.sort_unstable();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finding of `rule` at file bytes `start..end`, `depth` layers down.
    fn at(rule: &str, start: usize, end: usize, depth: usize) -> Assembled {
        let mut a = Assembled::test_finding(rule, 1, start..end, format!("{rule}{start}"));
        a.depth = depth;
        a
    }

    /// The pairwise version this replaced, kept as the reference for its semantics.
    fn pairwise(rules: &RuleSet, findings: &mut Vec<Assembled>) {
        let rank = |a: &Assembled| rules.get(&a.f.rule_id).map(specificity);
        let first = findings.partition_point(|a| a.depth == 0);
        let mut keep = vec![true; findings.len()];
        for j in first..findings.len() {
            for i in 0..j {
                let (a, b) = (&findings[i].f, &findings[j].f);
                let overlap = a.byte_range.0 < b.byte_range.1 && b.byte_range.0 < a.byte_range.1;
                if !keep[i] || !overlap {
                    continue;
                }
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

    fn kept(v: &[Assembled]) -> Vec<(String, (usize, usize), usize)> {
        v.iter()
            .map(|a| (a.f.rule_id.clone(), a.f.byte_range, a.depth))
            .collect()
    }

    /// Same survivors as the pairwise version on dense, overlapping, nested and empty ranges
    /// over three layers (a fixed pseudo-random sequence, so a failure replays).
    #[test]
    fn the_sweep_keeps_what_comparing_every_pair_kept() {
        let rules = RuleSet::builtin().unwrap();
        let ids = [
            "generic-secret-assignment",
            "generic-secret-named",
            "binance-api-key",
            "binance-api-secret",
            "no-such-rule",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n) as usize
        };
        for _ in 0..300 {
            let n = 1 + next(30);
            let mut v: Vec<Assembled> = (0..n)
                .map(|_| {
                    let start = next(40);
                    let end = start + next(12);
                    at(ids[next(ids.len() as u64)], start, end, next(3))
                })
                .collect();
            v.sort_by_key(|a| a.depth);
            let mut want = v
                .iter()
                .map(|a| at(&a.f.rule_id, a.f.byte_range.0, a.f.byte_range.1, a.depth))
                .collect();
            pairwise(&rules, &mut want);
            drop_shadowed_across_layers(&rules, &mut v);
            assert_eq!(kept(&v), kept(&want));
        }
    }

    /// 100k findings, half decoded, each decoded one on the bytes of one plain one: the more
    /// specific rule stays at each place, and only the 50k overlapping pairs are looked at
    /// (comparing every pair would be 50k × 75k on average).
    #[test]
    fn a_flood_of_decoded_findings_is_swept_not_compared_pairwise() {
        let rules = RuleSet::builtin().unwrap();
        let n = 50_000;
        let mut v: Vec<Assembled> = (0..n)
            .map(|k| at("generic-secret-assignment", 100 * k, 100 * k + 64, 0))
            .collect();
        for k in 0..n {
            // Even places: a specific rule under the encoding beats the generic plain match;
            // odd places: the same generic rule decoded loses to the plain one.
            let rule = if k % 2 == 0 {
                "binance-api-key"
            } else {
                "generic-secret-assignment"
            };
            v.push(at(rule, 100 * k + 10, 100 * k + 40, 1));
        }
        let looked = drop_shadowed_across_layers(&rules, &mut v);
        assert_eq!(looked, n);
        assert_eq!(v.len(), n);
        let mut by_place: Vec<(usize, &str, usize)> = v
            .iter()
            .map(|a| (a.f.byte_range.0 / 100, a.f.rule_id.as_str(), a.depth))
            .collect();
        by_place.sort_unstable();
        for (k, (place, rule, depth)) in by_place.into_iter().enumerate() {
            assert_eq!(place, k);
            if k % 2 == 0 {
                assert_eq!((rule, depth), ("binance-api-key", 1), "at {k}");
            } else {
                assert_eq!((rule, depth), ("generic-secret-assignment", 0), "at {k}");
            }
        }
    }
}
