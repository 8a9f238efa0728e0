//! Matches an input's scan counted but did not keep. A file of a million generated keys would
//! otherwise hold a million findings in memory (a 19 MB one took 1.7 GB); past the bounds
//! (see [`MAX_MATCHES_PER_RULE`] and [`MAX_KEPT`]) a match is only counted, for the notes, and
//! its byte ranges remembered, so that no kept finding's snippet shows it.
//!
//! [`MAX_MATCHES_PER_RULE`]: super::MAX_MATCHES_PER_RULE
//! [`MAX_KEPT`]: super::MAX_KEPT

use std::ops::Range;

/// Ranges this close together are remembered as one (the bytes between them are hidden in
/// snippets too), so a flood of matches costs a few ranges, not one each.
const GAP: usize = 256;

/// Counted matches and the byte ranges to hide, merged when close.
#[derive(Debug, Default)]
pub(crate) struct Unreported {
    /// Matches not kept.
    pub count: usize,
    ranges: Vec<Range<usize>>,
    /// Length of `ranges` after its last sort and merge.
    merged_len: usize,
}

impl Unreported {
    /// Forgets everything (a scratch buffer is reused across inputs).
    pub fn clear(&mut self) {
        self.count = 0;
        self.ranges.clear();
        self.merged_len = 0;
    }

    /// Hides `r` (empty ranges are ignored).
    pub fn hide(&mut self, r: Range<usize>) {
        if r.is_empty() {
            return;
        }
        if let Some(last) = self.ranges.last_mut()
            && r.start >= last.start
            && r.start <= last.end + GAP
        {
            last.end = last.end.max(r.end);
            return;
        }
        self.ranges.push(r);
        // Out-of-order ranges (one rule's matches after another's) are merged from time to
        // time, so the list stays within one range per GAP bytes of input.
        if self.ranges.len() > 2 * self.merged_len.max(1024) {
            self.merge();
        }
    }

    /// Adds what `other` counted and hides what it hid.
    pub fn absorb(&mut self, other: &mut Unreported) {
        self.count += other.count;
        for r in other.ranges() {
            self.hide(r.clone());
        }
    }

    /// The ranges, sorted and merged.
    pub fn ranges(&mut self) -> &[Range<usize>] {
        self.merge();
        &self.ranges
    }

    fn merge(&mut self) {
        self.ranges.sort_unstable_by_key(|r| (r.start, r.end));
        let mut n = 0;
        for i in 0..self.ranges.len() {
            let r = self.ranges[i].clone();
            if n > 0 && r.start <= self.ranges[n - 1].end + GAP {
                let last = &mut self.ranges[n - 1];
                last.end = last.end.max(r.end);
            } else {
                self.ranges[n] = r;
                n += 1;
            }
        }
        self.ranges.truncate(n);
        self.merged_len = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_ranges_merge_and_far_ones_stay_apart() {
        let mut u = Unreported::default();
        // A flood: one range; a second rule's matches out of order join it.
        for k in 0..10_000 {
            u.hide(k * 22..k * 22 + 20);
        }
        u.hide(5..9);
        u.hide(1_000_000..1_000_010);
        u.hide(3..3);
        assert_eq!(u.ranges(), &[0..219_998, 1_000_000..1_000_010]);
        // Far apart and out of order: kept apart, bounded by merging.
        let mut u = Unreported::default();
        for k in (0..5_000).rev() {
            u.hide(k * 1000..k * 1000 + 10);
        }
        assert_eq!(u.ranges().len(), 5_000);
        assert!(u.ranges().windows(2).all(|w| w[0].end < w[1].start));
    }
}
