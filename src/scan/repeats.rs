//! One finding per secret and place: a secret found plain and again decoded over the same file
//! bytes (a key inside a percent-encoded URL, a base64 value that decodes to itself one layer
//! down) is reported once, at the shallowest layer that found it.

use std::collections::{BTreeMap, HashMap};

use super::assemble::Assembled;

/// Drops every finding whose file range overlaps a kept finding of the same fingerprint found
/// at the same or a shallower layer (the earlier wins among equals). O(n log n): kept ranges of
/// one fingerprint never overlap each other, so only the one starting last before a range's
/// end can meet it (the pairwise version compared every pair of one secret's findings).
pub(crate) fn drop_repeats(findings: &mut Vec<Assembled>) {
    findings.sort_by_key(|a| a.depth);
    // Per fingerprint: kept ranges, start → end, widened to one byte when empty.
    let mut kept: HashMap<&str, BTreeMap<usize, usize>> = HashMap::new();
    let mut keep = Vec::with_capacity(findings.len());
    for a in findings.iter() {
        let (s, e) = a.f.byte_range;
        let e = e.max(s + 1);
        let ranges = kept.entry(a.f.fingerprint.as_str()).or_default();
        let repeat = ranges
            .range(..e)
            .next_back()
            .is_some_and(|(_, &end)| end > s);
        if !repeat {
            ranges.insert(s, e);
        }
        keep.push(!repeat);
    }
    let mut i = 0;
    findings.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(range: std::ops::Range<usize>, depth: usize, fp: &str) -> Assembled {
        let mut a = Assembled::test_finding("r", 1, range, "s".into());
        a.f.fingerprint = fp.into();
        a.depth = depth;
        a
    }

    fn ranges(v: &[Assembled]) -> Vec<(usize, usize, usize)> {
        v.iter()
            .map(|a| (a.f.byte_range.0, a.f.byte_range.1, a.depth))
            .collect()
    }

    #[test]
    fn overlapping_repeats_of_one_secret_go() {
        let mut v = vec![
            at(10..30, 1, "a"),
            at(0..20, 0, "a"),
            // Another secret over the same bytes stays.
            at(5..25, 1, "b"),
            // Touching, not overlapping.
            at(20..40, 1, "a"),
            // Empty ranges count as one byte.
            at(45..45, 0, "a"),
            at(45..45, 2, "a"),
            at(44..46, 2, "a"),
            at(46..47, 2, "a"),
        ];
        drop_repeats(&mut v);
        assert_eq!(
            ranges(&v),
            [
                (0, 20, 0),
                (45, 45, 0),
                (5, 25, 1),
                (20, 40, 1),
                (46, 47, 2)
            ]
        );
    }

    /// 100k repeats of one secret, each plain, decoded over the same bytes and decoded beside
    /// them: every repeat goes, every other place stays, in its order.
    #[test]
    fn a_flood_of_one_secret() {
        let n = 100_000;
        let mut v: Vec<Assembled> = (0..n)
            .flat_map(|i| {
                let s = 100 * i;
                [
                    at(s + 5..s + 30, 1, "a"),
                    at(s..s + 20, 0, "a"),
                    at(s + 40..s + 60, 1, "a"),
                ]
            })
            .collect();
        drop_repeats(&mut v);
        assert_eq!(v.len(), 2 * n);
        let (plain, decoded) = v.split_at(n);
        assert!(
            plain
                .iter()
                .enumerate()
                .all(|(i, a)| a.f.byte_range == (100 * i, 100 * i + 20))
        );
        assert!(
            decoded
                .iter()
                .enumerate()
                .all(|(i, a)| a.f.byte_range.0 == 100 * i + 40)
        );
    }
}
