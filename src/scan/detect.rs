//! Built-in candidate finders for formats a regex describes badly (`detector = "…"` in a rule).
//!
//! Both run over whole files (their rules have `prefilter = false`), so they are written to
//! touch as few bytes as possible:
//!
//! - **`bip39`** classifies 64 bytes at a time into a bit mask of "phrase bytes" (lowercase
//!   ASCII letters, non-ASCII bytes, whitespace, commas, quotes) with AVX2 (two table
//!   lookups per 32 bytes) or SSE2. A phrase of 12 words of ≥3 bytes with separators is at
//!   least 47 phrase bytes in a row; two compares on neighbouring masks rule out most blocks,
//!   and shifts and ANDs find where the stretches of the others start, so ordinary text and
//!   code cost a few instructions per 64 bytes. Only stretches of ≥47 bytes are split into words.
//!   Words are ASCII `a-z` of 3–8 letters (English, Italian, Portuguese, Czech, unaccented
//!   Spanish/French), or any run of non-ASCII characters of 3–36 bytes, which covers accented
//!   Latin words, kana (U+3000 is a separator), Hangul and space-separated Chinese characters.
//!   Chinese written without separators is one long "word" and is not found here; the
//!   validator still accepts it when a regex rule hands it over.
//! - **`solana-keypair-array`** jumps between `[` (from the matcher's shared classifying
//!   pass, else memchr) and parses at most one array
//!   from each; a parse stops at the first byte that cannot continue it, which is at the
//!   latest the next `[`, so the scan is linear.
//!
//! Which candidates are real is the validators' job (`bip39`, `solana-keypair`).

#[cfg_attr(not(target_arch = "x86_64"), allow(unused_imports))]
use crate::simd::{Kind, Level};
use std::ops::Range;
use std::str::FromStr;

use crate::decode::inline::{Runs, TokenRun, runs};

/// A named detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detector {
    /// Runs of 12–24 BIP39 words (any official wordlist), anywhere in the input.
    Bip39,
    /// JSON arrays of exactly 64 integers 0..=255 (Solana `id.json` keypairs).
    SolanaKeypairArray,
    /// Maximal runs of 51–52 base58 characters (Bitcoin WIF keys), found inside the mixed-case
    /// base64-alphabet runs of the SIMD finder the decoder uses: far cheaper than a regex
    /// over every byte, since base58 is a subset of that alphabet.
    Base58Key,
}

impl Detector {
    /// The name used in rule files.
    pub fn name(self) -> &'static str {
        match self {
            Detector::Bip39 => "bip39",
            Detector::SolanaKeypairArray => "solana-keypair-array",
            Detector::Base58Key => "base58-key",
        }
    }

    /// Every detector.
    pub const ALL: &'static [Detector] = &[
        Detector::Bip39,
        Detector::SolanaKeypairArray,
        Detector::Base58Key,
    ];

    /// Appends the byte ranges of candidate secrets in `hay` to `out`.
    pub fn find(self, hay: &[u8], out: &mut Vec<Range<usize>>) {
        // Only the base58 detector reads token runs; unlisted brackets are searched for.
        let mut r = Runs::default();
        if self == Detector::Base58Key {
            runs(hay, &mut r);
        }
        self.find_with_runs(hay, &r, out)
    }

    /// [`Detector::find`] with the runs of `hay` already found (the matcher shares one
    /// classifying pass between the detectors, the regex gate and the decoders).
    pub fn find_with_runs(self, hay: &[u8], runs: &Runs, out: &mut Vec<Range<usize>>) {
        match self {
            Detector::Bip39 => find_word_runs(hay, out),
            Detector::SolanaKeypairArray => find_byte_arrays(hay, runs.brackets(hay), out),
            Detector::Base58Key => find_base58_keys(hay, &runs.tokens, out),
        }
    }
}

impl FromStr for Detector {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Detector::ALL
            .iter()
            .copied()
            .find(|v| v.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Detector::ALL.iter().map(|v| v.name()).collect();
                format!("unknown detector `{s}` (known: {})", names.join(", "))
            })
    }
}

// ---------------------------------------------------------------------------------------------
// Base58 keys (WIF)

/// WIF: 51 characters (uncompressed) or 52 (compressed).
const BASE58_KEY_LEN: std::ops::RangeInclusive<usize> = 51..=52;

fn is_base58(b: u8) -> bool {
    b.is_ascii_alphanumeric() && !matches!(b, b'0' | b'O' | b'I' | b'l')
}

/// Maximal base58 runs of WIF length. The run finder reports maximal base64-alphabet runs
/// (bounded by bytes outside that alphabet, hence outside base58 too), so splitting them at
/// non-base58 bytes yields exactly the maximal base58 runs.
fn find_base58_keys(hay: &[u8], runs: &[TokenRun], out: &mut Vec<Range<usize>>) {
    for &TokenRun {
        start: s,
        end: e,
        mixed,
    } in runs
    {
        if !mixed || e - s < *BASE58_KEY_LEN.start() {
            continue;
        }
        let mut i = s;
        while i < e {
            while i < e && !is_base58(hay[i]) {
                i += 1;
            }
            let j = (i..e).find(|&j| !is_base58(hay[j])).unwrap_or(e);
            if BASE58_KEY_LEN.contains(&(j - i)) {
                out.push(i..j);
            }
            i = j;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// BIP39 word runs

/// Fewest words in a phrase.
const MIN_WORDS: usize = 12;
/// Fewest bytes in a phrase: 12 words of 3 bytes and 11 one-byte separators.
const MIN_RUN: usize = MIN_WORDS * 3 + (MIN_WORDS - 1);
/// Most separator bytes between two words of one phrase (an indented, quoted JSON element).
const MAX_GAP: usize = 64;
/// Longest non-ASCII word in bytes (Korean NFKD words reach 33).
const MAX_WIDE_WORD: usize = 36;

/// Byte classes: 0 = breaks a phrase, LETTER = `a-z`, WIDE = any byte of a non-ASCII
/// character, SEP = whitespace, comma or quote.
const LETTER: u8 = 1;
const WIDE: u8 = 2;
const SEP: u8 = 3;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = match b {
            b'a'..=b'z' => LETTER,
            0x80..=0xff => WIDE,
            b' ' | b'\t' | b'\r' | b'\n' | b',' | b'"' | b'\'' => SEP,
            _ => 0,
        };
        i += 1;
    }
    t
};

/// U+3000 IDEOGRAPHIC SPACE, which separates Japanese mnemonic words.
const IDEOGRAPHIC_SPACE: [u8; 3] = [0xE3, 0x80, 0x80];

fn find_word_runs(hay: &[u8], out: &mut Vec<Range<usize>>) {
    word_runs_at(crate::simd::level(), hay, out)
}

/// [`Detector::Bip39`]'s candidates with the kernels of `level` (the same at every level).
pub fn word_runs_at(level: Level, hay: &[u8], out: &mut Vec<Range<usize>>) {
    #[cfg(target_arch = "x86_64")]
    if level.kind() == Kind::Avx2 {
        // SAFETY: a `Level` of AVX2 exists only where the CPU supports it.
        return unsafe { word_runs_avx2(hay, out) };
    }
    word_runs_with(hay, out, |b| masks_at(level, b).0, |b| masks_at(level, b).1)
}

/// [`word_runs_with`] compiled for AVX2, so the mask kernel is inlined into the block loop.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn word_runs_avx2(hay: &[u8], out: &mut Vec<Range<usize>>) {
    // SAFETY: this function only runs where AVX2 is available.
    word_runs_with(
        hay,
        out,
        |b| unsafe { masks_avx2(b) }.0,
        |b| unsafe { masks_avx2(b) }.1,
    )
}

#[inline(always)]
fn word_runs_with(
    hay: &[u8],
    out: &mut Vec<Range<usize>>,
    phrase: impl Fn(&[u8; 64]) -> u64,
    sep: impl Fn(&[u8; 64]) -> u64 + Copy,
) {
    let n = hay.len();
    if n < MIN_RUN {
        return;
    }
    let blocks = n.div_ceil(64);
    let mask = |b: usize| -> u64 {
        let pos = 64 * b;
        if pos + 64 <= n {
            phrase(hay[pos..pos + 64].try_into().expect("64 bytes"))
        } else {
            phrase(&block(hay, b))
        }
    };
    // No stretch starts before `skip` (set past each stretch handled).
    let mut skip = 0usize;
    let mut cur = mask(0);
    for b in 0..blocks {
        let next = mask(b + 1);
        let pos = 64 * b;
        if !may_start(cur, next) {
            cur = next;
            continue;
        }
        let mut starts = chain47((u128::from(next) << 64) | u128::from(cur));
        loop {
            starts &= match skip.saturating_sub(pos) {
                0 => !0,
                k if k >= 64 => 0,
                k => !0u64 << k,
            };
            if starts == 0 {
                break;
            }
            let k = starts.trailing_zeros();
            let s = pos + k as usize;
            // The stretch's end from the two masks (zero past `n`); byte by byte only past them.
            let ones = ((u128::from(next) << 64 | u128::from(cur)) >> k).trailing_ones();
            let mut e = s + ones as usize;
            if ones == 128 - k {
                while e < n && CLASS[usize::from(hay[e])] != 0 {
                    e += 1;
                }
            }
            runs_in_stretch_with(hay, s, e, out, sep);
            skip = e + 1;
        }
        cur = next;
    }
}

/// Whether [`chain47`] of `cur` and `next` can be non-zero, in a few instructions (most
/// blocks of code have no 47-byte stretch). A stretch starting at bit k ≤ 17 covers bits
/// 17..=46 of `cur`; one starting at k ≥ 18 covers the top 64 − k bits of `cur` and the low
/// k − 17 bits of `next`, so those two runs of ones add up to at least 47.
#[inline(always)]
fn may_start(cur: u64, next: u64) -> bool {
    const MID: u64 = ((1u64 << MIN_RUN) - 1) & !((1u64 << (MIN_RUN - 30)) - 1);
    cur & MID == MID || cur.leading_ones() + next.trailing_ones() >= MIN_RUN as u32
}

/// Bit k (k < 64) set when bits k..k+47 of `w` are all set, i.e. a stretch of at least
/// [`MIN_RUN`] phrase bytes starts at byte k of the first block.
#[inline(always)]
fn chain47(w: u128) -> u64 {
    let mut r = w;
    r &= r >> 1;
    r &= r >> 2;
    r &= r >> 4;
    r &= r >> 8;
    r &= r >> 16;
    r &= r >> (MIN_RUN - 32);
    r as u64
}

/// Bit k of the first mask set when `block[k]` is a phrase byte (`CLASS` non-zero), of the
/// second when it is a separator (`CLASS == SEP`), with the kernel of `level` (the same masks
/// at every level).
#[inline]
pub fn masks_at(level: Level, block: &[u8; 64]) -> (u64, u64) {
    match level.kind() {
        // SAFETY: a `Level` of AVX2 exists only where the CPU supports it.
        #[cfg(target_arch = "x86_64")]
        Kind::Avx2 => unsafe { masks_avx2(block) },
        #[cfg(target_arch = "x86_64")]
        Kind::Sse2 => masks_sse2(block),
        _ => masks_portable(block),
    }
}

/// [`masks_at`] with AVX2: each byte's class is `LO[low nibble] & HI[high nibble]`, two table
/// lookups (`vpshufb`) per 32 bytes. High-nibble bits: 0x01 for `0x0_` (tab, LF, CR), 0x02
/// for `0x2_` (space, `"`, `'`, `,`), 0x04 for `0x6_` (`a-o`), 0x08 for `0x7_` (`p-z`), 0x10
/// for non-ASCII; separators are the classes 0x01 and 0x02.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn masks_avx2(block: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::*;
    #[rustfmt::skip]
    const LO: [i8; 16] = [
        0x1A, 0x1C, 0x1E, 0x1C, 0x1C, 0x1C, 0x1C, 0x1E,
        0x1C, 0x1D, 0x1D, 0x14, 0x16, 0x15, 0x14, 0x14,
    ];
    #[rustfmt::skip]
    const HI: [i8; 16] = [
        0x01, 0, 0x02, 0, 0, 0, 0x04, 0x08,
        0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
    ];
    // SAFETY: the tables are 16 bytes, loaded unaligned into both 128-bit lanes.
    let (lo_t, hi_t) = unsafe {
        (
            _mm256_broadcastsi128_si256(_mm_loadu_si128(LO.as_ptr().cast::<__m128i>())),
            _mm256_broadcastsi128_si256(_mm_loadu_si128(HI.as_ptr().cast::<__m128i>())),
        )
    };
    let nibble = _mm256_set1_epi8(0x0F);
    let zero = _mm256_setzero_si256();
    let seps = _mm256_set1_epi8(0x03);
    let (mut phrase, mut sep) = (0u64, 0u64);
    for half in 0..2 {
        // SAFETY: reads bytes 32·half..32·half+32 of the 64-byte block.
        let v = unsafe { _mm256_loadu_si256(block.as_ptr().add(32 * half).cast::<__m256i>()) };
        let lo = _mm256_shuffle_epi8(lo_t, _mm256_and_si256(v, nibble));
        let hi = _mm256_shuffle_epi8(hi_t, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble));
        let class = _mm256_and_si256(lo, hi);
        let none = _mm256_movemask_epi8(_mm256_cmpeq_epi8(class, zero)) as u32;
        let not_sep =
            _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(class, seps), zero)) as u32;
        phrase |= u64::from(!none) << (32 * half);
        sep |= u64::from(!not_sep) << (32 * half);
    }
    (phrase, sep)
}

/// [`masks_at`] with SSE2, the x86_64 baseline.
#[cfg(target_arch = "x86_64")]
fn masks_sse2(block: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::*;
    let (mut phrase, mut sep) = (0u64, 0u64);
    for lane in 0..4 {
        // SAFETY: SSE2 is part of the x86_64 baseline; the unaligned load reads bytes
        // 16·lane..16·lane+16 of the 64-byte block.
        let (p, sp) = unsafe {
            let v = _mm_loadu_si128(block.as_ptr().add(lane * 16).cast::<__m128i>());
            let t = _mm_sub_epi8(v, _mm_set1_epi8(b'a' as i8));
            let lower = _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(25)), t);
            let eq = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
            // `\t \n \r` are 9, 10, 13: `x - 9 <= 4` minus 11 and 12.
            let t = _mm_sub_epi8(v, _mm_set1_epi8(9));
            let ctl = _mm_andnot_si128(
                _mm_or_si128(eq(11), eq(12)),
                _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(4)), t),
            );
            let sep = _mm_or_si128(
                _mm_or_si128(_mm_or_si128(eq(b' '), eq(b',')), ctl),
                _mm_or_si128(eq(b'"'), eq(b'\'')),
            );
            // Non-ASCII bytes have the top bit set, which movemask reads directly.
            let ascii = _mm_movemask_epi8(_mm_or_si128(lower, sep));
            (
                (ascii | _mm_movemask_epi8(v)) as u16,
                _mm_movemask_epi8(sep) as u16,
            )
        };
        phrase |= u64::from(p) << (16 * lane);
        sep |= u64::from(sp) << (16 * lane);
    }
    (phrase, sep)
}

/// [`masks_at`], a byte at a time: every target.
fn masks_portable(block: &[u8; 64]) -> (u64, u64) {
    block.iter().enumerate().fold((0, 0), |(p, s), (k, &b)| {
        let c = CLASS[usize::from(b)];
        (p | (u64::from(c != 0) << k), s | (u64::from(c == SEP) << k))
    })
}

/// The 64-byte block `b` of `hay`, zero-padded past its end (zero is neither class).
fn block(hay: &[u8], b: usize) -> [u8; 64] {
    let pos = 64 * b;
    let mut out = [0u8; 64];
    if pos < hay.len() {
        let n = (hay.len() - pos).min(64);
        out[..n].copy_from_slice(&hay[pos..pos + n]);
    }
    out
}

/// Splits `hay[s..e]` (phrase bytes only) into words and reports runs of ≥12 valid words.
/// Word boundaries come from separator bit masks, a few instructions per word; a stretch that
/// may hold an ideographic space (a 3-byte separator) goes byte by byte.
#[cfg(test)]
fn runs_in_stretch(level: Level, hay: &[u8], s: usize, e: usize, out: &mut Vec<Range<usize>>) {
    runs_in_stretch_with(hay, s, e, out, |b| masks_at(level, b).1)
}

/// [`runs_in_stretch`] with the separator-mask kernel `sep` (inlined into the caller, so the
/// AVX2 finder runs it with AVX2).
#[inline(always)]
fn runs_in_stretch_with(
    hay: &[u8],
    s: usize,
    e: usize,
    out: &mut Vec<Range<usize>>,
    sep: impl Fn(&[u8; 64]) -> u64,
) {
    if memchr::memchr(IDEOGRAPHIC_SPACE[0], &hay[s..e]).is_some() {
        return runs_in_stretch_bytes(hay, s, e, out);
    }
    // A word of one or two bytes is never part of a phrase and ends any run (`word` flushes
    // it), so only the segments between such words that hold at least 12 words can hold a
    // phrase; English prose and comments (`a`, `of`, `is` every few words) rarely have one.
    // Word starts and short words come from the separator masks, a few instructions per 64
    // bytes; the word-by-word walk runs on the remaining segments only.
    let words_of = |b: usize| -> u64 {
        let pos = 64 * b;
        let seps = match hay.get(pos..pos + 64) {
            Some(full) => sep(full.try_into().expect("64 bytes")),
            None => sep(&block(hay, b)),
        };
        let (lo, hi) = (s.saturating_sub(pos), (e - pos).min(64));
        let inside = (u64::MAX >> (64 - (hi - lo))) << lo;
        !seps & inside
    };
    let (first, last) = (s / 64, (e - 1) / 64);
    let mut segment = s;
    let mut words = 0u32;
    let mut carry = 0u64;
    let mut w = words_of(first);
    for b in first..=last {
        let next = if b < last { words_of(b + 1) } else { 0 };
        let starts = w & !((w << 1) | carry);
        let two_more = ((w >> 1) | (next << 63)) & ((w >> 2) | (next << 62));
        let mut short = starts & !two_more;
        let mut counted = starts;
        while short != 0 {
            let k = short.trailing_zeros();
            let below_and_at = u64::MAX >> (63 - k);
            words += (counted & below_and_at & !(1 << k)).count_ones();
            counted &= !below_and_at;
            let p = 64 * b + k as usize;
            if words as usize >= MIN_WORDS {
                words_in_segment(hay, segment, p, out, &sep);
            }
            segment = p;
            words = 0;
            short &= short - 1;
        }
        words += counted.count_ones();
        carry = w >> 63;
        w = next;
    }
    if words as usize >= MIN_WORDS {
        words_in_segment(hay, segment, e, out, &sep);
    }
}

/// Reports the runs of ≥12 valid words in `hay[s..e]`, a segment of a stretch that starts at
/// the stretch's start or at a word and ends at the stretch's end or at a word's start.
#[inline(always)]
fn words_in_segment(
    hay: &[u8],
    s: usize,
    e: usize,
    out: &mut Vec<Range<usize>>,
    sep: impl Fn(&[u8; 64]) -> u64,
) {
    let mut seps = SepBits {
        sep,
        hay,
        end: e,
        block: usize::MAX,
        mask: 0,
    };
    let mut i = s;
    let mut run: Option<(usize, usize, usize)> = None; // (start, end of last word, words)
    let mut gap = 0usize;
    loop {
        let ws = seps.next(i, false);
        gap += ws - i;
        if gap > MAX_GAP {
            flush(hay, &mut run, out);
        }
        if ws >= e {
            break;
        }
        let we = seps.next(ws, true);
        let ok = match we - ws {
            3..=8 => true,
            9..=MAX_WIDE_WORD => hay[ws..we].iter().any(|&b| b >= 0x80),
            _ => false,
        };
        word(hay, &mut run, gap, ws..we, ok, out);
        gap = 0;
        i = we;
    }
    flush(hay, &mut run, out);
}

/// Separator bits of `hay[..end]`, one 64-byte block at a time.
struct SepBits<'a, F> {
    sep: F,
    hay: &'a [u8],
    end: usize,
    block: usize,
    mask: u64,
}

impl<F: Fn(&[u8; 64]) -> u64> SepBits<'_, F> {
    /// The first position at or after `from` that is (`sep`) or is not a separator, or `end`.
    #[inline(always)]
    fn next(&mut self, from: usize, sep: bool) -> usize {
        let mut p = from;
        while p < self.end {
            let b = p / 64;
            if b != self.block {
                self.block = b;
                self.mask = match self.hay.get(64 * b..64 * b + 64) {
                    Some(full) => (self.sep)(full.try_into().expect("64 bytes")),
                    None => (self.sep)(&block(self.hay, b)),
                };
            }
            let m = if sep { self.mask } else { !self.mask } >> (p % 64);
            if m != 0 {
                return (p + m.trailing_zeros() as usize).min(self.end);
            }
            p = 64 * (b + 1);
        }
        self.end
    }
}

/// [`runs_in_stretch`] byte by byte, for stretches with ideographic spaces.
fn runs_in_stretch_bytes(hay: &[u8], s: usize, e: usize, out: &mut Vec<Range<usize>>) {
    let mut i = s;
    let mut run: Option<(usize, usize, usize)> = None; // (start, end of last word, words)
    let mut gap = 0usize;
    while i < e {
        let c = CLASS[usize::from(hay[i])];
        let is_ideo_space = hay[i] == 0xE3 && hay.get(i..i + 3) == Some(&IDEOGRAPHIC_SPACE[..]);
        if c == SEP || is_ideo_space {
            let step = if is_ideo_space { 3 } else { 1 };
            i += step;
            gap += step;
            if gap > MAX_GAP {
                flush(hay, &mut run, out);
            }
            continue;
        }
        // A word: letters and non-ASCII bytes up to the next separator.
        let ws = i;
        let mut wide = false;
        while i < e {
            let c = CLASS[usize::from(hay[i])];
            if c == SEP || (hay[i] == 0xE3 && hay.get(i..i + 3) == Some(&IDEOGRAPHIC_SPACE[..])) {
                break;
            }
            wide |= c == WIDE;
            i += 1;
        }
        let len = i - ws;
        let ok = if wide {
            (3..=MAX_WIDE_WORD).contains(&len)
        } else {
            (3..=8).contains(&len)
        };
        word(hay, &mut run, gap, ws..i, ok, out);
        gap = 0;
    }
    flush(hay, &mut run, out);
}

/// Adds the word `w` (valid or not, `gap` separator bytes after the previous one) to `run`.
fn word(
    hay: &[u8],
    run: &mut Option<(usize, usize, usize)>,
    gap: usize,
    w: Range<usize>,
    ok: bool,
    out: &mut Vec<Range<usize>>,
) {
    if !ok {
        return flush(hay, run, out);
    }
    *run = match *run {
        Some((start, _, words)) if gap <= MAX_GAP => Some((start, w.end, words + 1)),
        _ => Some((w.start, w.end, 1)),
    };
}

/// Reports a finished run when it has enough words. A run over several lines is also
/// reported line by line when a line holds a phrase of its own (a file of test mnemonics,
/// one per line), since a validator narrows each candidate to one phrase.
fn flush(hay: &[u8], run: &mut Option<(usize, usize, usize)>, out: &mut Vec<Range<usize>>) {
    let Some((start, end, words)) = run.take() else {
        return;
    };
    if words < MIN_WORDS {
        return;
    }
    out.push(start..end);
    let text = &hay[start..end];
    if memchr::memchr(b'\n', text).is_none() {
        return;
    }
    let mut line_start = start;
    for line in text.split(|&b| b == b'\n') {
        let line_end = line_start + line.len();
        let count = line
            .split(|&b| CLASS[usize::from(b)] == SEP)
            .filter(|w| !w.is_empty())
            .count();
        if count >= MIN_WORDS {
            // Trim separators so the piece starts and ends on a word.
            let lead = line
                .iter()
                .take_while(|&&b| CLASS[usize::from(b)] == SEP)
                .count();
            let trail = line
                .iter()
                .rev()
                .take_while(|&&b| CLASS[usize::from(b)] == SEP)
                .count();
            if lead + trail < line.len() {
                out.push(line_start + lead..line_end - trail);
            }
        }
        line_start = line_end + 1;
    }
}

// ---------------------------------------------------------------------------------------------
// Solana keypair arrays

/// Elements in a Solana keypair array.
const KEYPAIR_LEN: usize = 64;

/// `brackets`: the offsets of every `[` in `hay`, ascending.
fn find_byte_arrays(
    hay: &[u8],
    brackets: impl Iterator<Item = usize>,
    out: &mut Vec<Range<usize>>,
) {
    let mut from = 0;
    for open in brackets {
        if open < from {
            continue;
        }
        if let Some(end) = parse_byte_array(hay, open) {
            out.push(open..end);
            from = end;
        }
    }
}

/// Parses `[n, n, …]` with exactly 64 integers 0..=255 starting at `hay[open] == b'['`;
/// returns the index just past `]`.
fn parse_byte_array(hay: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    let skip_ws = |i: &mut usize| {
        while *i < hay.len() && hay[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    for k in 0..KEYPAIR_LEN {
        skip_ws(&mut i);
        let start = i;
        let mut v: u32 = 0;
        while i < hay.len() && hay[i].is_ascii_digit() && i - start < 3 {
            v = v * 10 + u32::from(hay[i] - b'0');
            i += 1;
        }
        if i == start || v > 255 || hay.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        skip_ws(&mut i);
        let want = if k + 1 == KEYPAIR_LEN { b']' } else { b',' };
        if hay.get(i) != Some(&want) {
            return None;
        }
        i += 1;
    }
    Some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_match_the_class_table() {
        let mut block = [0u8; 64];
        for start in (0..256).step_by(64) {
            for (k, b) in block.iter_mut().enumerate() {
                *b = (start + k) as u8;
            }
            let bits = |f: &dyn Fn(u8) -> bool| {
                block.iter().enumerate().fold(0u64, |m, (k, &b)| {
                    m | (u64::from(f(CLASS[usize::from(b)])) << k)
                })
            };
            let want = (bits(&|c| c != 0), bits(&|c| c == SEP));
            for level in crate::simd::available() {
                assert_eq!(masks_at(level, &block), want, "{level:?}, bytes {start}..");
            }
        }
    }

    #[test]
    fn the_stretch_precheck_never_hides_a_start() {
        // Every pair of masks made of up to three runs of ones (where the boundary cases are)
        // and pseudo-random ones.
        let mut pairs = Vec::new();
        for a in (0..128).step_by(3) {
            for len in [1, 20, 30, 46, 47, 48, 64, 90] {
                let w: u128 = if len >= 128 {
                    !0
                } else {
                    ((1u128 << len) - 1) << a
                };
                pairs.push(w);
                pairs.push(w | (((1u128 << 17) - 1) << 100));
                pairs.push(w & !(1u128 << ((a + 23) % 128)));
            }
        }
        let mut x = 0x2545_F491_4F6C_DD1D_u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let y = x.rotate_left(29) | x;
            pairs.push((u128::from(x | y.rotate_left(7)) << 64) | u128::from(y | x.rotate_left(3)));
        }
        for w in pairs {
            let (cur, next) = (w as u64, (w >> 64) as u64);
            if chain47(w) != 0 {
                assert!(may_start(cur, next), "{cur:#x} {next:#x}");
            }
        }
    }

    #[test]
    fn word_splitting_by_masks_agrees_with_the_byte_loop() {
        let mut x = 0x9E37_79B9_u32;
        let pieces = [
            "abandon",
            "ability",
            "zoo",
            "ab",
            "abstractions",
            "é",
            "ünïcödé",
            "über",
            " ",
            "  ",
            ", ",
            "\n\t",
            "\"",
            "'",
            "verylongwordthatisnotinanylist",
        ];
        for _ in 0..300 {
            let mut text = String::new();
            for _ in 0..60 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                text.push_str(pieces[x as usize % pieces.len()]);
                text.push(' ');
            }
            let hay = text.as_bytes();
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            runs_in_stretch(crate::simd::level(), hay, 0, hay.len(), &mut fast);
            runs_in_stretch_bytes(hay, 0, hay.len(), &mut slow);
            assert_eq!(fast, slow, "{text:?}");
        }
    }

    #[test]
    fn base58_keys_are_maximal_runs_of_wif_length() {
        let key = "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ";
        let hay = format!("a = '{key}'\nb = x{key}\nc = {key}0\nd = {key}/z");
        let mut out = Vec::new();
        Detector::Base58Key.find(hay.as_bytes(), &mut out);
        let got: Vec<&str> = out.iter().map(|r| &hay[r.clone()]).collect();
        // `x…` makes a 52-char run (still WIF length); `…0` is cut at the non-base58 `0`.
        assert_eq!(got, [key, &format!("x{key}"), key, key]);
    }

    fn found(d: Detector, hay: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        d.find(hay, &mut out);
        // The matcher's path, from the runs of the shared pass, at every kernel level.
        for level in crate::simd::available() {
            let mut r = Runs::default();
            crate::decode::inline::runs_at(level, hay, &mut r);
            let mut shared = Vec::new();
            d.find_with_runs(hay, &r, &mut shared);
            assert_eq!(shared, out, "{level:?}");
        }
        out.into_iter()
            .map(|r| String::from_utf8_lossy(&hay[r]).into_owned())
            .collect()
    }

    const ABOUT: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    #[test]
    fn bip39_runs() {
        let json = format!("const words = [\"{}\"];", ABOUT.replace(' ', "\", \""));
        let one_per_line = ABOUT.replace(' ', "\n");
        let ja = "あいこくしん\u{3000}".repeat(11) + "あおぞら";
        let cases: Vec<(String, Vec<String>)> = vec![
            (format!("let m = \"{ABOUT}\";"), vec![ABOUT.into()]),
            (json, vec![ABOUT.replace(' ', "\", \"")]),
            (one_per_line.clone(), vec![one_per_line]),
            (ja.clone(), vec![ja]),
            // 11 words, a word too long, a two-letter word, upper case: nothing.
            (ABOUT.replacen("abandon ", "", 1), vec![]),
            (
                ABOUT
                    .replacen("abandon", "abandoned", 1)
                    .replacen("abandon ", "", 1),
                vec![],
            ),
            (
                ABOUT.replace("abandon abandon abandon abandon abandon abandon", "ab"),
                vec![],
            ),
            (ABOUT.to_uppercase(), vec![]),
            ("fn main() { let x = foo.bar(baz); }\n".repeat(10), vec![]),
        ];
        for (hay, want) in cases {
            assert_eq!(found(Detector::Bip39, hay.as_bytes()), want, "{hay:?}");
        }
    }

    #[test]
    fn bip39_lines_are_also_candidates() {
        let legal = "legal winner thank year wave sausage worth useful legal winner thank yellow";
        let hay = format!("{ABOUT}\n{legal}\n");
        let got = found(Detector::Bip39, hay.as_bytes());
        assert_eq!(
            got,
            vec![
                format!("{ABOUT}\n{legal}"),
                ABOUT.to_string(),
                legal.to_string()
            ]
        );
    }

    #[test]
    fn bip39_probe_finds_runs_at_every_offset() {
        // The stride must never step over a phrase, wherever it starts.
        for pad in 0..2 * MIN_RUN {
            let hay = format!("{}({ABOUT})", "X".repeat(pad));
            assert_eq!(
                found(Detector::Bip39, hay.as_bytes()),
                vec![ABOUT.to_string()],
                "pad {pad}"
            );
        }
    }

    #[test]
    fn bip39_no_match_and_pathological_inputs() {
        let code = "if (x.len() > 0) { return Err(Error::new(\"bad input\")); }\n".repeat(20_000);
        assert!(found(Detector::Bip39, code.as_bytes()).is_empty());
        // One huge stretch of too-short words: linear, nothing found.
        let a = "a ".repeat(500_000);
        assert!(found(Detector::Bip39, a.as_bytes()).is_empty());
        // One huge run of valid-looking words: one candidate (plus no per-line pieces).
        let words = "abandon ".repeat(100_000);
        assert_eq!(found(Detector::Bip39, words.as_bytes()).len(), 1);
        let bytes: Vec<u8> = (0..1_000_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let _ = found(Detector::Bip39, &bytes);
    }

    proptest::proptest! {
        /// Ranges stay inside the input and every found array parses, whatever the bytes.
        #[test]
        fn ranges_in_bounds(bytes in proptest::collection::vec(
            proptest::sample::select(b"ab z,\"'\n[]0123456789\xe3\x80".to_vec()), 0..400)
        ) {
            for d in Detector::ALL {
                let mut out = Vec::new();
                d.find(&bytes, &mut out);
                for r in out {
                    proptest::prop_assert!(r.start < r.end && r.end <= bytes.len());
                }
            }
        }
    }

    fn keypair_json(sep: &str) -> String {
        let items: Vec<String> = (0..64).map(|i| ((i * 37) % 256).to_string()).collect();
        format!("[{}]", items.join(sep))
    }

    #[test]
    fn solana_arrays() {
        let compact = keypair_json(",");
        let pretty = keypair_json(",\n  ")
            .replace('[', "[\n  ")
            .replace(']', "\n]");
        let cases: Vec<(String, Vec<String>)> = vec![
            (format!("{{\"secret\": {compact}}}"), vec![compact.clone()]),
            (pretty.clone(), vec![pretty]),
            (format!("[[{compact}]]"), vec![compact.clone()]),
            (compact.replacen(",", ",256,", 1), vec![]),
            (compact.replacen(",", ",1000,", 1), vec![]),
            (compact.replacen("]", ",1]", 1), vec![]),
            (compact.replacen(",", "", 1), vec![]),
            (compact.replacen("[", "[-", 1), vec![]),
            ("[1, 2, 3]".into(), vec![]),
            (format!("x[0]\0{compact}\0"), vec![compact.clone()]),
        ];
        // At every offset of a 64-byte block, after brackets that start no array.
        for pad in 0..70 {
            let hay = format!(
                "{}[[ {compact}",
                "a[".repeat(pad / 2) + &" ".repeat(pad % 2)
            );
            assert_eq!(
                found(Detector::SolanaKeypairArray, hay.as_bytes()),
                vec![compact.clone()],
                "{pad}"
            );
        }
        for (hay, want) in cases {
            assert_eq!(
                found(Detector::SolanaKeypairArray, hay.as_bytes()),
                want,
                "{hay:?}"
            );
        }
    }

    #[test]
    fn solana_no_match_and_pathological_inputs() {
        let code = "let v = vec![1, 2, 3]; a[i] = b[j];\n".repeat(30_000);
        assert!(found(Detector::SolanaKeypairArray, code.as_bytes()).is_empty());
        let nested = "[".repeat(1_000_000);
        assert!(found(Detector::SolanaKeypairArray, nested.as_bytes()).is_empty());
        let almost = format!("[{}", "1,".repeat(63)).repeat(5_000);
        assert!(found(Detector::SolanaKeypairArray, almost.as_bytes()).is_empty());
    }
}
