//! `--shard K/N`: N independent processes (matrix jobs, Kubernetes indexed pods) that together
//! scan everything exactly once, with no coordinator.
//!
//! Work is split by a key every process computes the same way from the same input: a file's
//! display path for `dir`, a blob's id for history (every shard still walks every commit, so
//! the first commit and path of each blob — its provenance — is the one a single run names),
//! and a repository's position in the list when a run covers at least N repositories. The
//! reports then merge (`keyleak merge`) into the single run's report.

use std::fmt;
use std::str::FromStr;

/// Shard `index` (0-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based index of this shard.
    pub index: u64,
    /// Number of shards (≥ 1).
    pub count: u64,
}

impl FromStr for Shard {
    type Err = String;
    /// `K/N`, with K counted from 1 as schedulers show it (`JOB_COMPLETION_INDEX` + 1, a
    /// matrix's `1..N`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "`{}` is not a shard: expected K/N with 1 <= K <= N (e.g. 2/8)",
                s.escape_debug()
            )
        };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: u64 = k.trim().parse().map_err(|_| bad())?;
        let n: u64 = n.trim().parse().map_err(|_| bad())?;
        if n == 0 || k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard {
            index: k - 1,
            count: n,
        })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

impl Shard {
    /// Whether this shard scans the file at `path` (its display path).
    pub fn owns_path(&self, path: &str) -> bool {
        self.count <= 1 || fnv1a(path.as_bytes()) % self.count == self.index
    }

    /// Whether this shard scans the blob with id `oid` (raw bytes; already uniformly spread).
    pub fn owns_blob(&self, oid: &[u8]) -> bool {
        if self.count <= 1 {
            return true;
        }
        let mut head = [0u8; 8];
        let n = oid.len().min(8);
        head[..n].copy_from_slice(&oid[..n]);
        u64::from_be_bytes(head) % self.count == self.index
    }

    /// Whether this shard scans the `i`-th item of a list every shard sees in the same order.
    pub fn owns_nth(&self, i: usize) -> bool {
        i as u64 % self.count == self.index
    }
}

/// FNV-1a, 64-bit: stable across versions and platforms (unlike std's hasher), which is what
/// N processes that must agree on a split need.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k_of_n() {
        assert_eq!("2/8".parse(), Ok(Shard { index: 1, count: 8 }));
        for bad in ["0/3", "4/3", "1/0", "x", "1/", "/2", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_key_has_exactly_one_owner() {
        for n in [1u64, 2, 3, 7] {
            let shards: Vec<Shard> = (0..n).map(|index| Shard { index, count: n }).collect();
            for i in 0..500u32 {
                let path = format!("dir/file-{i}.txt");
                let oid = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes();
                assert_eq!(shards.iter().filter(|s| s.owns_path(&path)).count(), 1);
                assert_eq!(shards.iter().filter(|s| s.owns_blob(&oid)).count(), 1);
                assert_eq!(shards.iter().filter(|s| s.owns_nth(i as usize)).count(), 1);
            }
        }
    }

    #[test]
    fn fnv1a_matches_its_published_vectors() {
        // From the FNV reference test suite: "" and "a".
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
