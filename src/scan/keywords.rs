//! The keyword prefilter: every ASCII-case-insensitive occurrence of every rule keyword.
//!
//! An Aho-Corasick DFA over ~280 case-insensitive keywords walks one dependent state
//! transition per byte (~530 MB/s per core here), and Teddy, the SIMD searcher in
//! `aho-corasick`, only scales to a few dozen literals. What every keyword occurrence has in
//! common is a 4-byte gram, and grams can be tested independently of each other, so the CPU
//! overlaps them:
//!
//! - Only grams starting at **even** offsets are looked at (half the work). A keyword of five
//!   or more bytes is indexed by two adjacent grams of its own, one of which starts at an even
//!   offset wherever the keyword is. A 4-byte keyword is indexed by itself and by "any byte +
//!   its first three"; a 3-byte keyword by "its three + any byte" and "any byte + its three".
//!   "Any byte" is spelt out as the 128 values a folded byte can take.
//! - Grams are case-folded by OR-ing `0x20` into every byte (a superset of ASCII lowercasing:
//!   it also merges `_` with DEL and `@` with `` ` ``), hashed by one multiplication, and tested
//!   in a bitmap of 2^22 bits (512 KiB, in L2). A set bit is looked up in a small exact table
//!   and each keyword it names is compared with the input, ignoring ASCII case.
//! - 98 % of the bitmap hits on the Linux tree were grams of real keywords where the keyword
//!   is not: `tatu` of `tatum` in every `status`, `?cur` of `curl` in every `current`. Whatever
//!   gram announced it, a keyword at `q - 1`, `q` or `q + 1` has five bytes (or all of its
//!   three or four) at a place fixed relative to the gram, so a second, L1-sized bitmap of those
//!   bytes ([`Partners`]) rules out most hits before the exact table is read.
//! - Which grams index a keyword matters: `fine` (in `bitfinex`) occurs ~1,000 times per MB of
//!   C because of `#define`. [`COMMON_GRAMS`] holds the frequencies of the most common grams
//!   in source code, and each keyword is indexed by its rarest pair.
//!
//! Measured on 61 MB of mixed source code (`bench/RESULTS.md`): ~2,200 MB/s per core against
//! ~530 MB/s for the DFA. Keywords shorter than 3 bytes fall back to the DFA.
//!
//! Unlike a leftmost-longest automaton this reports overlapping and nested occurrences too
//! (`secret` inside `aws_secret`), so no rule is hidden behind a longer keyword.

#[cfg_attr(not(target_arch = "x86_64"), allow(unused_imports))]
use crate::simd::{Kind, Level};
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::common_grams::COMMON_GRAMS;

/// Bits of the gram bitmap: 2^22 bits, 512 KiB. An L1-sized bitmap is slower (its false
/// positives cost more than the cache misses), and so is 2^20 once the catalogue passed 900
/// keywords: 29 three-byte and 104 four-byte keywords set ~22k bits through their "any byte"
/// grams, and every false positive is a call to `verify`. Measured on the Linux 6.1 tree
/// (1.3 GB, `keyleak dir`, 5 alternating runs, user CPU): 2.45 s at 2^20, 2.27 s at 2^22;
/// 2^23 was no faster than 2^22.
const BITMAP_BITS: u32 = 22;
/// Words (of 32 bits, the unit AVX2 gathers) of the gram bitmap.
const BITMAP_WORDS: usize = 1 << (BITMAP_BITS - 5);
/// Buckets of the exact gram table: 2^15, about one entry each for the ~22k entries the
/// built-in keywords make (2^13 left ~3 per bucket, each a compare in `verify`).
const TABLE_BITS: u32 = 15;
const FOLD: u64 = 0x2020_2020_2020_2020;
/// Bits of the partner bitmap: 2^17 (16 KiB, in L1) for the ~1,100 partner keys of the
/// built-in keywords.
const PARTNER_BITS: u32 = 17;
const PARTNER_WORDS: usize = 1 << (PARTNER_BITS - 6);
const MUL64: u64 = 0x9E37_79B9_7F4A_7C15;
const MUL: u32 = 0x9E37_79B1;
const MUL_BUCKET: u32 = 0x85EB_CA6B;

/// Cost of a folded byte in bits, ≈ −log2 of its frequency in 61 MB of source code from the benchmark
/// corpora (C, Rust, JS, Python, configs); non-ASCII bytes cost 10. Estimates the frequency
/// of grams missing from [`COMMON_GRAMS`].
const BYTE_COST: [u8; 128] = [
    24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24,
    24, 24, 24, 24, 24, 24, 24, 24, 2, 10, 7, 9, 11, 12, 10, 7, 7, 6, 5, 10, 6, 7, 7, 7, 5, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 9, 7, 9, 11, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24,
    24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 9, 5, 6, 5, 5, 4, 6, 7,
    6, 5, 10, 7, 6, 6, 5, 5, 6, 9, 5, 5, 4, 6, 7, 8, 7, 7, 10, 7, 10, 7, 12, 6,
];

/// One way a gram can announce a keyword: the keyword starts `offset` bytes after the gram.
#[derive(Debug, Clone, Copy)]
struct Entry {
    gram: u32,
    keyword: u32,
    /// Where the keyword starts relative to the gram (1 for "any byte + first three").
    offset: i32,
    /// The keyword's first (up to) 8 bytes folded like grams, and which bytes count: most
    /// announced keywords are not there (`status` announces `tatum`), and one 8-byte load and
    /// compare rejects them before the exact, byte-by-byte comparison.
    head: u64,
    head_mask: u64,
}

/// Finds keyword occurrences; shared between threads.
#[derive(Debug)]
pub struct Keywords {
    keywords: Vec<Box<[u8]>>,
    longest: usize,
    engine: Engine,
}

#[derive(Debug)]
enum Engine {
    Empty,
    Grams {
        bitmap: Box<[u32; BITMAP_WORDS]>,
        /// `entries[starts[b]..starts[b + 1]]` hold the entries of table bucket `b`.
        starts: Box<[u32]>,
        entries: Box<[Entry]>,
        partners: Partners,
    },
    /// For keyword sets with a keyword under 3 bytes.
    Automaton(AhoCorasick),
}

/// The partner test: for every keyword, the bytes that must surround a gram that announces
/// it, keyed by length: `kw[o..o + 5]` of a keyword of five or more bytes (its two indexed
/// grams `kw[o..o + 4]` and `kw[o + 1..o + 5]` cover them), and the whole of a 3- or 4-byte
/// keyword. A gram at `q` announces a keyword only if one of these keys is in the input at
/// the place [`Partners::may_match`] reads it.
#[derive(Debug)]
struct Partners {
    bits: Box<[u64; PARTNER_WORDS]>,
}

impl Partners {
    fn new(keywords: &[Box<[u8]>]) -> Partners {
        let mut p = Partners {
            bits: vec![0u64; PARTNER_WORDS]
                .into_boxed_slice()
                .try_into()
                .expect("PARTNER_WORDS words"),
        };
        for kw in keywords {
            let key = match kw.len() {
                3 | 4 => folded(kw),
                n => {
                    let o = rarest_pair(kw, n);
                    folded(&kw[o..o + 5])
                }
            };
            let (w, b) = Partners::bit(key, kw.len().min(5));
            p.bits[w] |= b;
        }
        p
    }

    /// `key`: up to five folded bytes, tagged with `len` so the three kinds never collide.
    #[inline(always)]
    fn bit(key: u64, len: usize) -> (usize, u64) {
        let mask = (1u64 << (8 * len)) - 1;
        let k = ((key & mask) | (len as u64) << 56).wrapping_mul(MUL64) >> (64 - PARTNER_BITS);
        ((k >> 6) as usize, 1 << (k & 63))
    }

    #[inline(always)]
    fn has(&self, key: u64, len: usize) -> bool {
        let (w, b) = Partners::bit(key, len);
        self.bits[w] & b != 0
    }

    /// Whether a gram at `q` can announce a keyword that is there: a long keyword's five
    /// bytes at `q - 1` or `q`, a 4-byte keyword at `q - 1`, `q` or `q + 1`, a 3-byte one at
    /// `q` or `q + 1` (the places [`grams_engine`] indexes them from). Never false where
    /// `verify` would report a hit: it reports a keyword only where all of its bytes are.
    #[inline(always)]
    fn may_match(&self, hay: &[u8], q: usize) -> bool {
        if q >= 1 && q + 7 <= hay.len() {
            let x = u64::from_le_bytes(hay[q - 1..q + 7].try_into().expect("8 bytes")) | FOLD;
            return self.has(x, 5)
                | self.has(x >> 8, 5)
                | self.has(x, 4)
                | self.has(x >> 8, 4)
                | self.has(x >> 16, 4)
                | self.has(x >> 8, 3)
                | self.has(x >> 16, 3);
        }
        self.may_match_near_an_end(hay, q)
    }

    /// [`Partners::may_match`] within 7 bytes of either end: only the keys that fit in the
    /// input.
    #[cold]
    #[inline(never)]
    fn may_match_near_an_end(&self, hay: &[u8], q: usize) -> bool {
        let key = |at: Option<usize>, len: usize| {
            at.and_then(|s| hay.get(s..s + len))
                .is_some_and(|b| self.has(folded(b), len))
        };
        key(q.checked_sub(1), 5)
            || key(Some(q), 5)
            || key(q.checked_sub(1), 4)
            || key(Some(q), 4)
            || key(Some(q + 1), 4)
            || key(Some(q), 3)
            || key(Some(q + 1), 3)
    }
}

/// Up to eight bytes, folded like grams, little-endian.
fn folded(b: &[u8]) -> u64 {
    let mut x = [0u8; 8];
    let n = b.len().min(8);
    x[..n].copy_from_slice(&b[..n]);
    u64::from_le_bytes(x) | FOLD
}

/// Where the rarest pair of adjacent grams of a keyword of `n` ≥ 5 bytes starts.
fn rarest_pair(kw: &[u8], n: usize) -> usize {
    // Each gram's cost once: adjacent pairs share a gram. The first of equal pairs wins.
    let mut left = gram_cost(gram(kw));
    let mut best = (u64::MAX, 0);
    for o in 0..=n - 5 {
        let right = gram_cost(gram(&kw[o + 1..]));
        if left + right < best.0 {
            best = (left + right, o);
        }
        left = right;
    }
    best.1
}

fn fold(b: u8) -> u8 {
    b | 0x20
}

fn gram(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) | FOLD as u32
}

/// The bitmap bit of a gram: the high bits of a 32-bit product, which depend on every bit of
/// the gram (the same arithmetic runs eight lanes at a time with AVX2).
#[inline(always)]
fn bit(gram: u32) -> (usize, u32) {
    let k = gram.wrapping_mul(MUL) >> (32 - BITMAP_BITS);
    ((k >> 5) as usize, 1 << (k & 31))
}

/// The exact table's bucket of a gram (another multiplier, so bitmap collisions spread).
fn bucket(gram: u32) -> usize {
    (gram.wrapping_mul(MUL_BUCKET) >> (32 - TABLE_BITS)) as usize
}

/// Occurrences per MB of the rarest gram in [`COMMON_GRAMS`]: an unmeasured gram is estimated
/// at most this common.
const RAREST_MEASURED: u64 = {
    let mut min = u32::MAX;
    let mut i = 0;
    while i < COMMON_GRAMS.len() {
        if COMMON_GRAMS[i].1 < min {
            min = COMMON_GRAMS[i].1;
        }
        i += 1;
    }
    min as u64
};

/// Measured occurrences per MB of a folded gram, if it is among [`COMMON_GRAMS`].
fn measured(g: u32) -> Option<u64> {
    COMMON_GRAMS
        .binary_search_by_key(&g, |&(c, _)| c)
        .ok()
        .map(|i| u64::from(COMMON_GRAMS[i].1))
}

/// Estimated occurrences per MB of a folded gram in source code: measured for the common
/// ones, else guessed from byte frequencies (and capped at the rarest measured one).
fn gram_cost(g: u32) -> u64 {
    if let Some(n) = measured(g) {
        return n;
    }
    let bits: u32 = g
        .to_le_bytes()
        .iter()
        .map(|&f| {
            if f < 0x80 {
                u32::from(BYTE_COST[usize::from(f)])
            } else {
                10
            }
        })
        .sum();
    (1_000_000u64 >> bits.min(40)).min(RAREST_MEASURED)
}

/// Estimated cost of a wildcard gram: the grams that match `pattern`, whose one `None` is any
/// byte. A wildcard first byte leaves the gram's high 24 bits fixed, so its grams are one
/// range of the sorted table; elsewhere each of the 128 values that byte can take is looked up
/// (a walk over all 8,192 measured grams for each of the ~200 wildcard patterns would cost
/// start-up ~30M instructions).
fn wildcard_cost(pattern: [Option<u8>; 4]) -> u64 {
    debug_assert_eq!(pattern.iter().filter(|p| p.is_none()).count(), 1);
    let measured: u64 = if pattern[0].is_none() {
        let low = gram(&pattern.map(|p| p.unwrap_or(0))) & !0xFF;
        let from = COMMON_GRAMS.partition_point(|&(g, _)| g < low);
        let to = COMMON_GRAMS.partition_point(|&(g, _)| g <= low | 0xFF);
        COMMON_GRAMS[from..to]
            .iter()
            .map(|&(_, n)| u64::from(n))
            .sum()
    } else {
        any_byte()
            .filter_map(|b| measured(gram(&pattern.map(|p| p.unwrap_or(b)))))
            .sum()
    };
    measured + 30
}

/// The 128 values a folded byte can take.
fn any_byte() -> impl Iterator<Item = u8> {
    (0u8..=255).filter(|&b| fold(b) == b)
}

impl Keywords {
    /// Indexes `keywords` (matched ignoring ASCII case).
    pub fn new(keywords: &[String]) -> Keywords {
        let lowered: Vec<Box<[u8]>> = keywords
            .iter()
            .map(|k| k.as_bytes().to_ascii_lowercase().into_boxed_slice())
            .collect();
        let engine = if lowered.is_empty() {
            Engine::Empty
        } else if lowered.iter().any(|k| k.len() < 3) {
            Engine::Automaton(
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&lowered)
                    .expect("keywords build an automaton"),
            )
        } else {
            grams_engine(&lowered)
        };
        Keywords {
            longest: lowered.iter().map(|k| k.len()).max().unwrap_or(0),
            keywords: lowered,
            engine,
        }
    }

    /// Every keyword of every rule in `rules`, once: the prefilter the benches, the SIMD
    /// agreement check and its fuzz target measure (the matcher builds its own, per rule).
    pub fn of_rules(rules: &crate::rules::RuleSet) -> Keywords {
        let mut all: Vec<String> = rules
            .rules()
            .iter()
            .flat_map(|r| r.keywords.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        Keywords::new(&all)
    }

    /// The length of the longest keyword (0 without keywords).
    pub fn longest(&self) -> usize {
        self.longest
    }

    /// The number of keywords.
    pub fn len(&self) -> usize {
        self.keywords.len()
    }

    /// Whether there are no keywords.
    pub fn is_empty(&self) -> bool {
        self.keywords.is_empty()
    }

    /// Calls `hit(keyword index, start, end)` for every occurrence of every keyword in `hay`,
    /// overlapping ones included, in roughly ascending order of position (a hit can come up to
    /// a keyword's length before an earlier-reported one).
    pub fn for_each(&self, hay: &[u8], hit: impl FnMut(usize, usize, usize)) {
        self.for_each_at(crate::simd::level(), hay, hit)
    }

    /// [`Keywords::for_each`] with the kernels of `level` (the hits are the same at every
    /// level).
    pub fn for_each_at(&self, level: Level, hay: &[u8], mut hit: impl FnMut(usize, usize, usize)) {
        match &self.engine {
            Engine::Empty => {}
            Engine::Automaton(ac) => {
                for m in ac.find_overlapping_iter(hay) {
                    hit(m.pattern().as_usize(), m.start(), m.end());
                }
            }
            Engine::Grams {
                bitmap,
                starts,
                entries,
                partners,
            } => {
                let set = |g: u32| {
                    let (word, b) = bit(g);
                    bitmap[word] & b != 0
                };
                let mut verify = |q: usize, g: u32| {
                    if partners.may_match(hay, q) {
                        self.verify(starts, entries, hay, q, g, &mut hit);
                    }
                };
                let mut q = 0;
                #[cfg(target_arch = "x86_64")]
                if level.kind() == Kind::Avx2 {
                    // SAFETY: a `Level` of AVX2 exists only where the CPU supports it.
                    q = unsafe { avx2::scan(hay, bitmap, &mut verify) };
                }
                #[cfg(not(target_arch = "x86_64"))]
                let _ = level;
                // Grams at q, q+2, q+4 from one 8-byte load; the last few positions go
                // through a zero-padded copy (a padding byte is one of the "any byte" values).
                while q + 8 <= hay.len() {
                    let x = u64::from_le_bytes(hay[q..q + 8].try_into().expect("8 bytes")) | FOLD;
                    let (g0, g1, g2) = (x as u32, (x >> 16) as u32, (x >> 32) as u32);
                    if set(g0) {
                        verify(q, g0);
                    }
                    if set(g1) {
                        verify(q + 2, g1);
                    }
                    if set(g2) {
                        verify(q + 4, g2);
                    }
                    q += 6;
                }
                let mut tail = [0u8; 16];
                let rest = &hay[q..];
                tail[..rest.len()].copy_from_slice(rest);
                let mut t = 0;
                while t < rest.len() {
                    let g = gram(&tail[t..t + 4]);
                    if set(g) {
                        verify(q + t, g);
                    }
                    t += 2;
                }
            }
        }
    }

    /// Checks the keywords gram `g` at `hay[q..]` announces.
    #[inline(never)]
    fn verify(
        &self,
        starts: &[u32],
        entries: &[Entry],
        hay: &[u8],
        q: usize,
        g: u32,
        hit: &mut impl FnMut(usize, usize, usize),
    ) {
        let b = bucket(g);
        for e in &entries[starts[b] as usize..starts[b + 1] as usize] {
            if e.gram != g {
                continue;
            }
            let Some(start) = q.checked_add_signed(e.offset as isize) else {
                continue;
            };
            if let Some(x) = hay.get(start..start + 8) {
                let x = u64::from_le_bytes(x.try_into().expect("8 bytes")) | FOLD;
                if x & e.head_mask != e.head {
                    continue;
                }
            }
            let kw = &self.keywords[e.keyword as usize];
            let end = start + kw.len();
            if hay
                .get(start..end)
                .is_some_and(|s| s.eq_ignore_ascii_case(kw))
            {
                hit(e.keyword as usize, start, end);
            }
        }
    }
}

fn grams_engine(keywords: &[Box<[u8]>]) -> Engine {
    let mut entries: Vec<Entry> = Vec::with_capacity(
        keywords
            .iter()
            .map(|kw| match kw.len() {
                3 => 256,
                4 => 129,
                _ => 2,
            })
            .sum(),
    );
    let head = |kw: &[u8]| {
        let n = kw.len().min(8);
        let mut b = [0u8; 8];
        b[..n].copy_from_slice(&kw[..n]);
        let mask = if n == 8 { !0 } else { (1u64 << (8 * n)) - 1 };
        ((u64::from_le_bytes(b) | FOLD) & mask, mask)
    };
    let heads: Vec<(u64, u64)> = keywords.iter().map(|kw| head(kw)).collect();
    let mut add = |bytes: [u8; 4], keyword: usize, offset: i32| {
        let (head, head_mask) = heads[keyword];
        entries.push(Entry {
            gram: gram(&bytes),
            keyword: keyword as u32,
            offset,
            head,
            head_mask,
        });
    };
    for (i, kw) in keywords.iter().enumerate() {
        match kw.len() {
            3 => {
                for b in any_byte() {
                    add([kw[0], kw[1], kw[2], b], i, 0);
                    add([b, kw[0], kw[1], kw[2]], i, 1);
                }
            }
            4 => {
                add([kw[0], kw[1], kw[2], kw[3]], i, 0);
                // At an odd offset: the gram before it or the one after, whichever is rarer.
                let before = wildcard_cost([None, Some(kw[0]), Some(kw[1]), Some(kw[2])]);
                let after = wildcard_cost([Some(kw[1]), Some(kw[2]), Some(kw[3]), None]);
                for b in any_byte() {
                    if before <= after {
                        add([b, kw[0], kw[1], kw[2]], i, 1);
                    } else {
                        add([kw[1], kw[2], kw[3], b], i, -1);
                    }
                }
            }
            n => {
                // Two adjacent grams, the rarest pair.
                let o = rarest_pair(kw, n);
                add(kw[o..o + 4].try_into().expect("4"), i, -(o as i32));
                add(kw[o + 1..o + 5].try_into().expect("4"), i, -(o as i32 + 1));
            }
        }
    }
    // built on the heap: half a megabyte is too much for a worker thread's stack in debug builds
    let mut bitmap: Box<[u32; BITMAP_WORDS]> = vec![0u32; BITMAP_WORDS]
        .into_boxed_slice()
        .try_into()
        .expect("BITMAP_WORDS words");
    // Ordered by (bucket, gram, keyword, offset): a counting sort by bucket, then each
    // bucket's few entries. One comparison sort of the ~25k entries was 15M instructions, a
    // quarter of start-up (callgrind, bench/RESULTS.md, issue 20, session 10).
    let mut at = vec![0u32; (1 << TABLE_BITS) + 1];
    for e in &entries {
        at[bucket(e.gram) + 1] += 1;
    }
    for b in 1..at.len() {
        at[b] += at[b - 1];
    }
    // In place: each swap moves one entry into its bucket for good.
    let mut next = at.clone();
    for b in 0..1 << TABLE_BITS {
        while next[b] < at[b + 1] {
            let i = next[b] as usize;
            let home = bucket(entries[i].gram);
            if home != b {
                entries.swap(i, next[home] as usize);
            }
            next[home] += 1;
        }
    }
    for w in at.windows(2) {
        let group = &mut entries[w[0] as usize..w[1] as usize];
        if group.len() > 1 {
            group.sort_unstable_by_key(|e| (e.gram, e.keyword, e.offset));
        }
    }
    entries.dedup_by_key(|e| (e.gram, e.keyword, e.offset));
    let mut starts = vec![0u32; (1 << TABLE_BITS) + 1];
    for e in &entries {
        let (word, b) = bit(e.gram);
        bitmap[word] |= b;
        starts[bucket(e.gram) + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    Engine::Grams {
        bitmap,
        starts: starts.into_boxed_slice(),
        entries: entries.into_boxed_slice(),
        partners: Partners::new(keywords),
    }
}

/// The gram test eight lanes at a time: two loads give the grams at the 16 even offsets of 32
/// bytes, one multiply-shift hashes them, one gather fetches their bitmap words.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{BITMAP_BITS, BITMAP_WORDS, MUL};

    /// Blocks of 32 bytes tested before their hits are handed on: the gathers of eight
    /// blocks are in flight together, where a hit branch taken at random (one block in four
    /// on C) used to discard the next block's gathers whenever it was mispredicted.
    const CHUNK: usize = 8;

    /// `SPREAD[m]` has bit 2i set for bit i of `m`.
    const SPREAD: [u16; 256] = {
        let mut t = [0u16; 256];
        let mut m = 0;
        while m < 256 {
            let mut i = 0;
            while i < 8 {
                t[m] |= (((m >> i) & 1) as u16) << (2 * i);
                i += 1;
            }
            m += 1;
        }
        t
    };

    /// Tests every gram at an even offset while 34 bytes remain, calling `verify(q, gram)` for
    /// each gram whose bit is set (ascending), and returns where the scalar loop takes over
    /// (an even offset).
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn scan(
        hay: &[u8],
        bitmap: &[u32; BITMAP_WORDS],
        verify: &mut impl FnMut(usize, u32),
    ) -> usize {
        let fold = _mm256_set1_epi32(0x2020_2020);
        let mul = _mm256_set1_epi32(MUL as i32);
        let low5 = _mm256_set1_epi32(31);
        let one = _mm256_set1_epi32(1);
        // Bit i of the low byte: the gram at offset 4i is set; of the high byte: at 4i + 2.
        let block = |q: usize| -> u32 {
            // SAFETY: the callers check that bytes q..q+34 are in bounds; the gather indexes
            // are `hash >> (32 - BITMAP_BITS + 5)` < BITMAP_WORDS.
            unsafe {
                let test = |v: __m256i| {
                    let k = _mm256_srli_epi32::<{ 32 - BITMAP_BITS as i32 }>(_mm256_mullo_epi32(
                        _mm256_or_si256(v, fold),
                        mul,
                    ));
                    let words = _mm256_i32gather_epi32::<4>(
                        bitmap.as_ptr().cast::<i32>(),
                        _mm256_srli_epi32::<5>(k),
                    );
                    let bits =
                        _mm256_and_si256(_mm256_srlv_epi32(words, _mm256_and_si256(k, low5)), one);
                    _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(bits, one))) as u32
                };
                let v0 = _mm256_loadu_si256(hay.as_ptr().add(q).cast::<__m256i>());
                let v2 = _mm256_loadu_si256(hay.as_ptr().add(q + 2).cast::<__m256i>());
                test(v0) | test(v2) << 8
            }
        };
        let mut hits = |q: usize, m: u32| {
            // Interleaved: bit j is the gram at q + 2j.
            let mut both =
                u32::from(SPREAD[(m & 0xFF) as usize]) | u32::from(SPREAD[(m >> 8) as usize]) << 1;
            while both != 0 {
                let p = q + 2 * both.trailing_zeros() as usize;
                let g = u32::from_le_bytes(hay[p..p + 4].try_into().expect("4 bytes"));
                verify(p, g | 0x2020_2020);
                both &= both - 1;
            }
        };
        let mut q = 0;
        while q + 32 * (CHUNK - 1) + 34 <= hay.len() {
            let mut masks = [0u32; CHUNK];
            for (j, m) in masks.iter_mut().enumerate() {
                *m = block(q + 32 * j);
            }
            for (j, &m) in masks.iter().enumerate() {
                if m != 0 {
                    hits(q + 32 * j, m);
                }
            }
            q += 32 * CHUNK;
        }
        while q + 34 <= hay.len() {
            let m = block(q);
            if m != 0 {
                hits(q, m);
            }
            q += 32;
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(kws: &[&str], hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let k = Keywords::new(&kws.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let mut out = Vec::new();
        k.for_each(hay, |i, s, e| out.push((i, s, e)));
        out.sort_unstable();
        out
    }

    #[test]
    fn wildcard_cost_of_a_first_byte_range_equals_the_lookups() {
        for kw in [&b"aws_"[..], b"ghp_", b"xprv", b"int ", b"\x00\x01\x02\x03"] {
            let pattern = [None, Some(kw[0]), Some(kw[1]), Some(kw[2])];
            let looked_up: u64 = any_byte()
                .filter_map(|b| measured(gram(&pattern.map(|p| p.unwrap_or(b)))))
                .sum();
            assert_eq!(wildcard_cost(pattern), looked_up + 30, "{kw:?}");
        }
        assert!(wildcard_cost([None, Some(b'i'), Some(b'n'), Some(b't')]) > 500);
    }

    /// Every occurrence, by brute force.
    fn naive(kws: &[&str], hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        for (i, k) in kws.iter().enumerate() {
            let k = k.as_bytes();
            for s in 0..hay.len().saturating_sub(k.len() - 1) {
                if hay[s..s + k.len()].eq_ignore_ascii_case(k) {
                    out.push((i, s, s + k.len()));
                }
            }
        }
        out.sort_unstable();
        out
    }

    const KWS: &[&str] = &[
        "okx",
        "pk=",
        "gate",
        "_key=",
        "secret",
        "aws_secret",
        "begin rsa private key",
        "xoxb-",
    ];

    #[test]
    fn finds_every_occurrence_at_every_offset_and_case() {
        for pad in 0..9 {
            for kw in KWS {
                for variant in [kw.to_string(), kw.to_ascii_uppercase()] {
                    let mut hay = vec![b'.'; pad];
                    hay.extend_from_slice(variant.as_bytes());
                    assert_eq!(hits(KWS, &hay), naive(KWS, &hay), "{pad} {variant}");
                    hay.extend_from_slice(b" tail");
                    assert_eq!(hits(KWS, &hay), naive(KWS, &hay), "{pad} {variant}+");
                }
            }
        }
    }

    #[test]
    fn finds_keywords_across_simd_block_edges() {
        // Long enough for the 32-byte vector loop, with a keyword at every offset of a block
        // and the scalar tail.
        for pad in 0..70 {
            for kw in KWS {
                let mut hay = vec![b'.'; pad];
                hay.extend_from_slice(kw.to_ascii_uppercase().as_bytes());
                hay.extend(std::iter::repeat_n(b' ', 100 - pad));
                assert_eq!(hits(KWS, &hay), naive(KWS, &hay), "{pad} {kw}");
            }
        }
    }

    #[test]
    fn overlapping_and_nested_occurrences_are_all_reported() {
        let hay = b"AWS_SECRET=1 okxokx gategate okx_key=_key=";
        let got = hits(KWS, hay);
        assert_eq!(got, naive(KWS, hay));
        assert!(got.iter().any(|&(i, _, _)| KWS[i] == "secret"));
    }

    /// Grams of keywords where the keyword is not (`tatu` of `tatum` in `status`, `?cur` of
    /// `curl` in `current`) are dropped by the partner test; every keyword of every length is
    /// still found at every alignment, next to keywords that share its grams, at the input's
    /// start and end too.
    #[test]
    fn partner_test_keeps_every_occurrence() {
        let kws = [
            "tatum", "curl", "cur", "ult", "vault", "resend_", "abcd", "xyz",
        ];
        let words = [
            "tatum", "CURL", "cur", "vAult", "reSend_", "abcd", "xyz", "status", "current",
            "default", "resent", "bcd", "xabc",
        ];
        for pad in 0..40 {
            for kw in words {
                let mut hay = vec![b'.'; pad];
                hay.extend_from_slice(kw.as_bytes());
                assert_eq!(hits(&kws, &hay), naive(&kws, &hay), "{pad} {kw} at the end");
                hay.extend_from_slice(b" status current default ");
                hay.extend(std::iter::repeat_n(b' ', 40 - pad));
                assert_eq!(hits(&kws, &hay), naive(&kws, &hay), "{pad} {kw}");
                let start = &hay[pad..];
                assert_eq!(hits(&kws, start), naive(&kws, start), "{kw} at the start");
            }
        }
    }

    #[test]
    fn short_keywords_fall_back_to_the_automaton() {
        let kws = ["ab", "secret"];
        let hay = b"xAbsecretab";
        assert_eq!(hits(&kws, hay), naive(&kws, hay));
    }

    #[test]
    fn agrees_with_brute_force_on_pseudo_random_text() {
        let mut x = 0x1234_5678_u32;
        let alphabet = b"okxpk=gatesecretAWS_KEY= -_";
        let hay: Vec<u8> = (0..20_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                alphabet[x as usize % alphabet.len()]
            })
            .collect();
        assert_eq!(hits(KWS, &hay), naive(KWS, &hay));
    }
}
