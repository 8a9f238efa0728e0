//! Candidate spans one encoding layer down: base64/base64url runs, percent-encoding, backslash
//! escapes and BOM-less UTF-16.
//!
//! Nothing here decodes whole files. One table-driven pass finds base64 runs (skipping ahead
//! 24 bytes at a time, so ordinary text costs well under one look per byte), and one `memchr3`
//! pass finds `%`, `\` and NUL; each hit is checked for a real escape before any decoding. A
//! decoded span reaches the matcher only when it is text (base64 must decode to ≥ 90 %
//! printable ASCII, or to UTF-16 text for the next layer to unwrap).
//!
//! Memory stays bounded whatever the input: candidates are handed to the caller one at a time
//! (never collected), and every candidate but a UTF-16 run has a bounded source span — a
//! base64 run at most [`MAX_BASE64`], a percent stretch [`PERCENT_WINDOW`] either side, and an
//! escape region (which grows while escapes keep coming, a whole file on one line) is decoded
//! in overlapping pieces of [`MAX_ESCAPE_PIECE`] bytes.

#[cfg_attr(not(target_arch = "x86_64"), allow(unused_imports))]
use crate::simd::{Kind, Level};
use std::ops::Range;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::map::OffsetMap;

pub use crate::model::{Runs, TOKEN_RUN, TokenRun};

/// Shortest base64 run decoded (18 bytes of content: shorter runs are mostly identifiers);
/// the run finder reports nothing shorter.
pub const MIN_BASE64: usize = TOKEN_RUN;
/// Longest base64 run decoded: longer runs are images, fonts and wasm, and decoding them
/// would dominate the scan time of minified bundles.
pub const MAX_BASE64: usize = 8 * 1024;
/// Shortest BOM-less UTF-16 run (in code units) worth transcoding.
pub const MIN_UTF16: usize = 8;
/// Bytes around a backslash escape re-scanned after unescaping (bounded by the line).
const ESCAPE_WINDOW: usize = 256;
/// Longest stretch of URL characters decoded around a `%XX`.
const PERCENT_WINDOW: usize = 2048;
/// Longest escape region decoded as one candidate. A longer one (minified JSON full of
/// `\u0041`, or 100 MB of escapes on one line) is decoded in pieces of this size, each
/// overlapping the next by [`ESCAPE_OVERLAP`]; a 19 MB line of escapes took 1.1 GB decoded
/// whole (its offset map is ~12 bytes per source byte).
pub const MAX_ESCAPE_PIECE: usize = 64 * 1024;
/// Bytes shared by consecutive pieces of a long escape region. Each piece owns the matches
/// that *start* in its part of the region (the overlap is split in the middle), so a secret of
/// up to half of this is found whole, exactly once, whichever piece it straddles.
pub const ESCAPE_OVERLAP: usize = 8 * 1024;

/// One decoded span.
#[derive(Debug)]
pub struct Decoded {
    /// The layer's name as shown in `decoded`: `base64`, `base64url`, `percent`, `escape`,
    /// `utf16le`, `utf16be`.
    pub layer: &'static str,
    /// Source bytes (in the buffer the candidates were found in).
    pub span: Range<usize>,
    /// The decoded bytes.
    pub bytes: Vec<u8>,
    /// Decoded offsets → source offsets.
    pub map: OffsetMap,
    /// Source offsets where a match must start to be reported from this candidate: all of
    /// them, unless the candidate is one piece of a longer escape region (see
    /// [`MAX_ESCAPE_PIECE`]); then the matches starting elsewhere belong to a neighbouring
    /// piece, which sees them whole.
    pub owns: Range<usize>,
}

/// Every source offset: what a candidate that is not a piece owns.
const ALL: Range<usize> = 0..usize::MAX;

const B64_DIGIT: u8 = 1;
const B64_STD: u8 = 2;
const B64_URL: u8 = 4;
const B64_UPPER: u8 = 8;
const B64_LOWER: u8 = 16;

/// Byte classes for base64 run detection: digits, upper- and lowercase letters, `+ /`
/// (standard), `- _` (URL-safe).
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = if b.is_ascii_digit() {
            B64_DIGIT
        } else if b.is_ascii_uppercase() {
            B64_UPPER
        } else if b.is_ascii_lowercase() {
            B64_LOWER
        } else if b == b'+' || b == b'/' {
            B64_STD
        } else if b == b'-' || b == b'_' {
            B64_URL
        } else {
            0
        };
        c += 1;
    }
    t
};

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
static STD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
static URL: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Hands every decodable candidate span in `hay` to `out`, one at a time, in no particular
/// order (the caller decides what to keep: holding them all would cost memory in proportion
/// to the input).
pub fn candidates(hay: &[u8], out: &mut dyn FnMut(Decoded)) {
    let mut r = Runs::default();
    runs(hay, &mut r);
    candidates_with_runs(hay, &r, out);
}

/// [`candidates`] with the runs of `hay` already found (the matcher finds them too).
pub fn candidates_with_runs(hay: &[u8], runs: &Runs, out: &mut dyn FnMut(Decoded)) {
    for r in runs.tokens.iter().filter(|r| r.mixed) {
        run(hay, r.start, r.end, out);
    }
    let mut percent_end = 0;
    let mut utf16_end = 0;
    let mut esc: Option<Range<usize>> = None;
    for p in runs.escapes(hay) {
        match hay[p] {
            b'%' if p >= percent_end => {
                if let Some(end) = percent(hay, p, out) {
                    percent_end = end;
                }
            }
            b'\\' if significant_escape(hay, p) => {
                let w = escape_window(hay, p);
                esc = match esc {
                    Some(cur) if w.start <= cur.end => Some(cur.start..w.end.max(cur.end)),
                    Some(cur) => {
                        unescape_region(hay, cur, out);
                        Some(w)
                    }
                    None => Some(w),
                };
            }
            0 if p >= utf16_end => {
                if let Some(end) = utf16(hay, p, out) {
                    utf16_end = end;
                }
            }
            _ => {}
        }
    }
    if let Some(cur) = esc {
        unescape_region(hay, cur, out);
    }
}

/// True when ≥ 90 % of `b` is printable ASCII or common whitespace.
pub fn mostly_printable(b: &[u8]) -> bool {
    let ok = b
        .iter()
        .filter(|&&c| matches!(c, 0x20..=0x7E | b'\t' | b'\n' | b'\r'))
        .count();
    !b.is_empty() && ok * 10 >= b.len() * 9
}

fn printable(c: u8) -> bool {
    matches!(c, 0x20..=0x7E | b'\t' | b'\n' | b'\r')
}

/// True when `b` looks like ASCII text in UTF-16 (either byte order, no BOM): ≥ 90 % of the
/// code units are one printable byte and one zero byte.
pub fn looks_like_utf16(b: &[u8]) -> bool {
    if b.len() < 2 * MIN_UTF16 {
        return false;
    }
    let units = b.len() / 2;
    let (mut le, mut be) = (0, 0);
    for u in b.chunks_exact(2) {
        if u[1] == 0 && printable(u[0]) {
            le += 1;
        } else if u[0] == 0 && printable(u[1]) {
            be += 1;
        }
    }
    le * 10 >= units * 9 || be * 10 >= units * 9
}

// ---------------------------------------------------------------------------------------------
// base64

// Finds runs of ≥ [`MIN_BASE64`] base64 characters, 64 bytes at a time: each block becomes a
// bit mask of alphabet bytes (SIMD on x86_64), and shifting the masks of two blocks against
// each other leaves exactly the positions where 24 alphabet bytes in a row start
// ([`run_starts`]). Blocks without such a start — nearly all of them in ordinary text — cost a
// dozen instructions; only real runs are walked byte by byte. See `token_runs`.

/// Appends every [`TokenRun`] of `hay` to `out`, in order.
pub fn token_runs(hay: &[u8], out: &mut Vec<TokenRun>) {
    token_runs_at(crate::simd::level(), hay, out)
}

/// Fills `out` with the [`Runs`] of `hay` (whatever it held is dropped).
pub fn runs(hay: &[u8], out: &mut Runs) {
    runs_at(crate::simd::level(), hay, out)
}

/// [`runs`] with the kernels of `level` (the result is the same at every level). With AVX2
/// the escape bytes and brackets are compared in the token-run kernel's block loop, which has
/// each block in registers already; two `memchr` passes over every buffer cost ~4.5 % of a
/// scan of the Linux tree.
pub fn runs_at(level: Level, hay: &[u8], out: &mut Runs) {
    out.tokens.clear();
    out.escape_list.clear();
    out.bracket_list.clear();
    out.marks_listed = false;
    #[cfg(target_arch = "x86_64")]
    if level.kind() == Kind::Avx2 {
        // SAFETY: a `Level` of AVX2 exists only where the CPU supports it.
        return unsafe { runs_avx2(hay, out) };
    }
    token_runs_at(level, hay, &mut out.tokens);
}

/// Most escape bytes and brackets [`Runs`] lists for one buffer (8 bytes each); past that
/// the readers search the buffer (a UTF-16 file is half NULs).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
const MAX_MARKS: usize = 64 * 1024;

impl Runs {
    /// The offsets of every `%`, `\` and NUL of `hay`, the buffer these runs are of,
    /// ascending.
    pub fn escapes<'a>(&'a self, hay: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
        self.listed_or(&self.escape_list, || {
            memchr::memchr3_iter(b'%', b'\\', 0, hay)
        })
    }

    /// The offsets of every `[` of `hay`, the buffer these runs are of, ascending.
    pub fn brackets<'a>(&'a self, hay: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
        self.listed_or(&self.bracket_list, || memchr::memchr_iter(b'[', hay))
    }

    /// `list` when the kernel made the lists, else what `search` finds.
    fn listed_or<'a, I: Iterator<Item = usize> + 'a>(
        &self,
        list: &'a [usize],
        search: impl FnOnce() -> I,
    ) -> impl Iterator<Item = usize> + 'a {
        let listed = self.marks_listed.then(|| list.iter().copied());
        let searched = (!self.marks_listed).then(search);
        listed
            .into_iter()
            .flatten()
            .chain(searched.into_iter().flatten())
    }
}

/// [`runs_at`]'s fused kernel for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn runs_avx2(hay: &[u8], out: &mut Runs) {
    let Runs {
        tokens,
        escape_list,
        bracket_list,
        marks_listed,
    } = out;
    *marks_listed = true;
    let n = hay.len();
    token_runs_with(
        hay,
        tokens,
        #[inline(always)]
        |b| unsafe { class_mask_avx2(b) },
        #[inline(always)]
        |pos, esc, brk| {
            if !*marks_listed {
                return;
            }
            // The last block is zero-padded, and a padding byte is not a NUL of the input.
            let valid = if n - pos >= 64 {
                !0
            } else {
                (1u64 << (n - pos)) - 1
            };
            push_bits(escape_list, pos, esc & valid);
            push_bits(bracket_list, pos, brk & valid);
            if escape_list.len() + bracket_list.len() > MAX_MARKS {
                *marks_listed = false;
                escape_list.clear();
                bracket_list.clear();
            }
        },
    )
}

/// Appends `pos + k` for every bit k of `m`, ascending.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn push_bits(out: &mut Vec<usize>, pos: usize, mut m: u64) {
    while m != 0 {
        out.push(pos + m.trailing_zeros() as usize);
        m &= m - 1;
    }
}

/// [`token_runs`] with the kernels of `level` (the result is the same at every level).
pub fn token_runs_at(level: Level, hay: &[u8], out: &mut Vec<TokenRun>) {
    match level.kind() {
        // SAFETY: a `Level` of AVX2 exists only where the CPU supports it.
        #[cfg(target_arch = "x86_64")]
        Kind::Avx2 => unsafe { token_runs_avx2(hay, out) },
        #[cfg(target_arch = "x86_64")]
        Kind::Sse2 => token_runs_with(hay, out, |b| (class_mask_sse2(b), 0, 0), |_, _, _| {}),
        _ => token_runs_with(hay, out, |b| (class_mask_portable(b), 0, 0), |_, _, _| {}),
    }
}

/// [`token_runs_with`] compiled for AVX2, so the mask kernel is inlined into the block loop.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn token_runs_avx2(hay: &[u8], out: &mut Vec<TokenRun>) {
    // SAFETY: this function only runs where AVX2 is available.
    token_runs_with(
        hay,
        out,
        #[inline(always)]
        |b| unsafe { class_mask_avx2(b) },
        |_, _, _| {},
    )
}

/// The run finder over the masks `classes` gives for 64 bytes: the alphabet bytes, and the
/// escape bytes and brackets (0 where a kernel does not compare them), which go to
/// `marks(block offset, escapes, brackets)` with each block (the last one zero-padded) in
/// order. One block of look-ahead, so a run crossing a block's end is seen whole. Only the
/// blocks of `hay` are classified (a short decoded piece costs its own length, not a fixed
/// chunk), and whether a run mixes cases is read from its own bytes, so ordinary blocks cost
/// one mask and the shift chain. (An uppercase mask per block, to skip the case test of
/// lowercase runs, cost more than it saved on the Linux tree.)
#[inline(always)]
fn token_runs_with(
    hay: &[u8],
    out: &mut Vec<TokenRun>,
    classes: impl Fn(&[u8]) -> (u64, u64, u64),
    mut marks: impl FnMut(usize, u64, u64),
) {
    let n = hay.len();
    #[inline(always)]
    fn mask(hay: &[u8], b: usize, classes: &impl Fn(&[u8]) -> (u64, u64, u64)) -> (u64, u64, u64) {
        let (n, pos) = (hay.len(), 64 * b);
        if pos + 64 <= n {
            classes(&hay[pos..pos + 64])
        } else if pos < n {
            let mut block = [0u8; 64];
            block[..n - pos].copy_from_slice(&hay[pos..]);
            classes(&block)
        } else {
            (0, 0, 0)
        }
    }
    // No run starts before `skip` (set past each run found, so a run is reported once).
    let mut skip = 0;
    let (mut cur, mut cur_esc, mut cur_brk) = mask(hay, 0, &classes);
    for b in 0..n.div_ceil(64) {
        let (next, next_esc, next_brk) = mask(hay, b + 1, &classes);
        if cur_esc | cur_brk != 0 {
            marks(64 * b, cur_esc, cur_brk);
        }
        let starts = run_starts(cur, next);
        if starts != 0 {
            let pos = 64 * b;
            let mut r = starts & after(skip, pos);
            while r != 0 {
                let rel = r.trailing_zeros();
                let start = pos + rel as usize;
                // The run's length from the two masks; byte by byte only past them.
                let mut len = (cur >> rel).trailing_ones();
                if len == 64 - rel {
                    len += next.trailing_ones();
                }
                let mut e = (start + len as usize).min(n);
                if len == 128 - rel {
                    while e < n && CLASS[hay[e] as usize] != 0 {
                        e += 1;
                    }
                }
                out.push(TokenRun {
                    start,
                    end: e,
                    mixed: mixed_case(&hay[start..e]),
                });
                skip = e + 1;
                r &= after(skip, pos);
            }
        }
        cur = next;
        cur_esc = next_esc;
        cur_brk = next_brk;
    }
}

/// Whether `run` (alphabet bytes, so all ASCII) has both an uppercase and a lowercase letter:
/// eight bytes at a time, stopping once both are seen. Register headers in the Linux tree are
/// hundreds of MB of long mixed-case identifiers, where a byte-by-byte class fold cost 7 % of
/// the scan.
fn mixed_case(run: &[u8]) -> bool {
    const TOP: u64 = 0x8080_8080_8080_8080;
    let rep = |b: u8| u64::from(b) * 0x0101_0101_0101_0101;
    // For a byte below 0x80, `b + (0x80 - lo)` has its top bit set exactly when `b >= lo`,
    // without a carry into the next byte.
    let (up_lo, up_hi) = (rep(0x80 - b'A'), rep(0x80 - (b'Z' + 1)));
    let (low_lo, low_hi) = (rep(0x80 - b'a'), rep(0x80 - (b'z' + 1)));
    let (mut upper, mut lower) = (false, false);
    let mut words = run.chunks_exact(8);
    for w in &mut words {
        let x = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        upper |= (x + up_lo) & !(x + up_hi) & TOP != 0;
        lower |= (x + low_lo) & !(x + low_hi) & TOP != 0;
        if upper && lower {
            return true;
        }
    }
    for &b in words.remainder() {
        upper |= b.is_ascii_uppercase();
        lower |= b.is_ascii_lowercase();
    }
    upper && lower
}

/// Bits of a block starting at `pos` that are at or after byte `skip`.
fn after(skip: usize, pos: usize) -> u64 {
    match skip.saturating_sub(pos) {
        0 => !0,
        k if k >= 64 => 0,
        k => !0u64 << k,
    }
}

/// Bit k set when 24 alphabet bytes in a row start at byte k of the block `cur` (possibly
/// continuing into `next`). [`chain24`] finds those inside one word; the word straddling both
/// blocks (`cur`'s upper half, `next`'s lower half) catches the runs that cross the edge. Only
/// shifts and ANDs, so a chunk's starts are computed with vector instructions.
#[inline(always)]
fn run_starts(cur: u64, next: u64) -> u64 {
    chain24(cur) | (chain24((cur >> 32) | (next << 32)) << 32)
}

/// Bit k set when bits k..k+24 of `w` are all set: `w` ANDed with itself shifted by 1, 2, 4,
/// 8 and 8 bits.
#[inline(always)]
fn chain24(w: u64) -> u64 {
    let mut r = w;
    r &= r >> 1;
    r &= r >> 2;
    r &= r >> 4;
    r &= r >> 8;
    r & (r >> 8)
}

/// The alphabet, escape (`%`, `\`, NUL) and `[` masks of 64 bytes (bit k for `block[k]`)
/// with AVX2: each byte's class is `LO[low nibble] & HI[high nibble]`, two table lookups (`vpshufb`) per
/// 32 bytes. Bits: `+ - /` 0x01, digits 0x02, `A-O` 0x04, `P-Z` 0x08, `_` 0x10, `a-o` 0x20,
/// `p-z` 0x40.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn class_mask_avx2(block: &[u8]) -> (u64, u64, u64) {
    use std::arch::x86_64::*;
    assert!(block.len() >= 64);
    #[rustfmt::skip]
    const LO: [i8; 16] = [
        0x4A, 0x6E, 0x6E, 0x6E, 0x6E, 0x6E, 0x6E, 0x6E,
        0x6E, 0x6E, 0x6C, 0x25, 0x24, 0x25, 0x24, 0x35,
    ];
    const HI: [i8; 16] = [
        0, 0, 0x01, 0x02, 0x04, 0x18, 0x20, 0x40, 0, 0, 0, 0, 0, 0, 0, 0,
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
    let (percent, backslash, bracket) = (
        _mm256_set1_epi8(b'%' as i8),
        _mm256_set1_epi8(b'\\' as i8),
        _mm256_set1_epi8(b'[' as i8),
    );
    let (mut out, mut esc, mut brk) = (0u64, 0u64, 0u64);
    for half in 0..2 {
        // SAFETY: reads bytes 32·half..32·half+32 of `block`, which has at least 64.
        let v = unsafe { _mm256_loadu_si256(block.as_ptr().add(32 * half).cast::<__m256i>()) };
        let lo = _mm256_shuffle_epi8(lo_t, _mm256_and_si256(v, nibble));
        let hi = _mm256_shuffle_epi8(hi_t, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble));
        let none = _mm256_cmpeq_epi8(_mm256_and_si256(lo, hi), zero);
        out |= u64::from(!(_mm256_movemask_epi8(none) as u32)) << (32 * half);
        let e = _mm256_or_si256(
            _mm256_or_si256(
                _mm256_cmpeq_epi8(v, percent),
                _mm256_cmpeq_epi8(v, backslash),
            ),
            _mm256_cmpeq_epi8(v, zero),
        );
        esc |= u64::from(_mm256_movemask_epi8(e) as u32) << (32 * half);
        let k = _mm256_cmpeq_epi8(v, bracket);
        brk |= u64::from(_mm256_movemask_epi8(k) as u32) << (32 * half);
    }
    (out, esc, brk)
}

/// The alphabet mask of 64 bytes (bit k for `block[k]`), SSE2.
#[cfg(target_arch = "x86_64")]
fn class_mask_sse2(block: &[u8]) -> u64 {
    use std::arch::x86_64::*;
    assert!(block.len() >= 64);
    let mut out = 0u64;
    for lane in 0..4 {
        // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics are always
        // available; the unaligned load reads bytes 16·lane..16·lane+16, within `block`.
        let bits = unsafe {
            let v = _mm_loadu_si128(block.as_ptr().add(lane * 16).cast::<__m128i>());
            // Unsigned `x - lo <= len - 1` as `min(x - lo, len - 1) == x - lo`.
            let in_range = |x: __m128i, lo: u8, last: u8| {
                let t = _mm_sub_epi8(x, _mm_set1_epi8(lo as i8));
                _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(last as i8)), t)
            };
            let upper = in_range(v, b'A', 25);
            let lower = in_range(v, b'a', 25);
            let digit = in_range(v, b'0', 9);
            let eq = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
            let special = _mm_or_si128(
                _mm_or_si128(eq(b'+'), eq(b'/')),
                _mm_or_si128(eq(b'-'), eq(b'_')),
            );
            let all = _mm_or_si128(_mm_or_si128(upper, lower), _mm_or_si128(digit, special));
            _mm_movemask_epi8(all) as u16
        };
        out |= u64::from(bits) << (16 * lane);
    }
    out
}

/// The alphabet mask of 64 bytes (bit k for `block[k]`).
fn class_mask_portable(block: &[u8]) -> u64 {
    block[..64]
        .iter()
        .enumerate()
        .fold(0, |m, (k, &b)| m | (u64::from(CLASS[b as usize] != 0) << k))
}

/// Splits one run over the union alphabet into standard and URL-safe candidates.
fn run(hay: &[u8], s: usize, e: usize, out: &mut dyn FnMut(Decoded)) {
    let mut has = 0;
    for &b in &hay[s..e] {
        has |= CLASS[b as usize];
    }
    match (has & B64_STD != 0, has & B64_URL != 0) {
        (_, false) => candidate(hay, s, e, false, out),
        (false, true) => candidate(hay, s, e, true, out),
        (true, true) => {
            // Mixed alphabets (paths such as `a/b-c/d`): try each alphabet's pieces.
            for (bad, url) in [(B64_URL, false), (B64_STD, true)] {
                let mut start = s;
                for k in s..=e {
                    if k == e || CLASS[hay[k] as usize] == bad {
                        if k - start >= MIN_BASE64 {
                            candidate(hay, start, k, url, out);
                        }
                        start = k + 1;
                    }
                }
            }
        }
    }
}

const INTEGRITY: [&[u8]; 4] = [b"sha1-", b"sha256-", b"sha384-", b"sha512-"];
const BINARY_MEDIA: [&[u8]; 6] = [
    b"image/",
    b"font/",
    b"audio/",
    b"video/",
    b"application/font",
    b"application/x-font",
];

fn candidate(hay: &[u8], s: usize, e: usize, url: bool, out: &mut dyn FnMut(Decoded)) {
    let run = &hay[s..e];
    if run.len() > MAX_BASE64 || run.iter().all(u8::is_ascii_hexdigit) {
        return; // blobs, and hex digests
    }
    // Subresource-integrity hashes (`sha512-…` in lock files) are binary digests.
    let before = &hay[s.saturating_sub(8)..s];
    if INTEGRITY
        .iter()
        .any(|p| before.ends_with(p) || run.starts_with(p))
    {
        return;
    }
    // `data:image/png;base64,…` and fonts: binary payloads.
    if before.ends_with(b"base64,") {
        let ctx = &hay[s.saturating_sub(120)..s];
        if let Some(d) = memchr::memmem::rfind(ctx, b"data:") {
            let media = &ctx[d + 5..];
            if BINARY_MEDIA
                .iter()
                .any(|m| media.len() >= m.len() && media[..m.len()].eq_ignore_ascii_case(m))
            {
                return;
            }
        }
    }
    let mut len = run.len();
    if len % 4 == 1 {
        len -= 1; // one stray character cannot encode anything
    }
    let engine = if url { &URL } else { &STD };
    // Cheap rejection: the first 24 characters (18 bytes) must already look like text.
    let mut head = [0u8; 18];
    match engine.decode_slice(&run[..MIN_BASE64], &mut head) {
        Ok(n) if mostly_printable(&head[..n]) || looks_like_utf16_prefix(&head[..n]) => {}
        _ => return,
    }
    let Ok(bytes) = engine.decode(&run[..len]) else {
        return;
    };
    if !(mostly_printable(&bytes) || looks_like_utf16(&bytes)) {
        return;
    }
    let mut pad = 0;
    while pad < 2 && hay.get(e + pad) == Some(&b'=') {
        pad += 1;
    }
    let mut map = OffsetMap::builder(s);
    map.base64(bytes.len(), len);
    out(Decoded {
        layer: if url { "base64url" } else { "base64" },
        span: s..e + pad,
        bytes,
        map: map.finish(),
        owns: ALL,
    });
}

/// The prefix test for UTF-16 payloads (PowerShell `-EncodedCommand` is base64 of UTF-16LE).
fn looks_like_utf16_prefix(b: &[u8]) -> bool {
    let units = b.len() / 2;
    let le = b
        .chunks_exact(2)
        .filter(|u| u[1] == 0 && printable(u[0]))
        .count();
    let be = b
        .chunks_exact(2)
        .filter(|u| u[0] == 0 && printable(u[1]))
        .count();
    units > 0 && (le * 10 >= units * 9 || be * 10 >= units * 9)
}

// ---------------------------------------------------------------------------------------------
// percent-encoding

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn hex2(hay: &[u8], i: usize) -> Option<u8> {
    Some(hex_val(*hay.get(i)?)? << 4 | hex_val(*hay.get(i + 1)?)?)
}

/// Characters that can sit in a URL or form value (quotes, brackets and spaces end it).
fn url_char(c: u8) -> bool {
    c.is_ascii_graphic() && !matches!(c, b'"' | b'\'' | b'`' | b'<' | b'>' | b'\\' | b'(' | b')')
}

/// Decodes the URL-character stretch around the `%` at `p`. Returns the stretch's end.
fn percent(hay: &[u8], p: usize, out: &mut dyn FnMut(Decoded)) -> Option<usize> {
    hex2(hay, p + 1)?;
    let lo = p.saturating_sub(PERCENT_WINDOW);
    let mut s = p;
    while s > lo && url_char(hay[s - 1]) {
        s -= 1;
    }
    let hi = (p + PERCENT_WINDOW).min(hay.len());
    let mut e = p;
    while e < hi && url_char(hay[e]) {
        e += 1;
    }
    let mut bytes = Vec::with_capacity(e - s);
    let mut map = OffsetMap::builder(s);
    let mut i = s;
    let mut copied = 0;
    while i < e {
        if hay[i] == b'%'
            && i + 3 <= e
            && let Some(v) = hex2(hay, i + 1)
        {
            map.identity(copied);
            copied = 0;
            bytes.push(v);
            map.block(1, 3);
            i += 3;
        } else {
            bytes.push(hay[i]);
            copied += 1;
            i += 1;
        }
    }
    map.identity(copied);
    out(Decoded {
        layer: "percent",
        span: s..e,
        bytes,
        map: map.finish(),
        owns: ALL,
    });
    Some(e)
}

// ---------------------------------------------------------------------------------------------
// backslash escapes

/// `\uXXXX`, `\u{…}`, `\xNN`, `\"` and `\'` trigger unescaping; `\n` and `\t` alone do not
/// (they are everywhere in code and rarely hide anything), but are decoded inside a region.
fn significant_escape(hay: &[u8], p: usize) -> bool {
    match hay.get(p + 1) {
        Some(b'u') => {
            hay.get(p + 2) == Some(&b'{')
                || (hex2(hay, p + 2).is_some() && hex2(hay, p + 4).is_some())
        }
        Some(b'x') => hex2(hay, p + 2).is_some(),
        Some(b'"' | b'\'') => true,
        _ => false,
    }
}

/// The line-bounded window around the escape at `p`.
fn escape_window(hay: &[u8], p: usize) -> Range<usize> {
    let lo = p.saturating_sub(ESCAPE_WINDOW);
    let s = memchr::memrchr(b'\n', &hay[lo..p]).map_or(lo, |k| lo + k + 1);
    let hi = (p + ESCAPE_WINDOW).min(hay.len());
    let e = memchr::memchr(b'\n', &hay[p..hi]).map_or(hi, |k| p + k);
    s..e
}

/// One decoded escape: up to 4 UTF-8 bytes, how many source bytes it used, and whether it
/// was one of the kinds that hide secrets (`\u`, `\x`, quotes).
#[derive(Debug, Clone, Copy)]
pub struct Escape {
    /// Decoded bytes (`len` of them).
    pub bytes: [u8; 4],
    /// How many of `bytes` are used.
    pub len: usize,
    /// Source bytes consumed, backslash included.
    pub consumed: usize,
    /// `\u`, `\x` or a quote.
    pub significant: bool,
}

/// Decodes the escape sequence starting with the backslash at `hay[i]` (not reading past
/// `hay.len()`). JSON, JavaScript, Python and C escapes; `None` for anything else.
pub fn decode_escape(hay: &[u8], i: usize) -> Option<Escape> {
    let simple = |b: u8, significant| {
        Some(Escape {
            bytes: [b, 0, 0, 0],
            len: 1,
            consumed: 2,
            significant,
        })
    };
    let utf8 = |c: char, consumed| {
        let mut bytes = [0u8; 4];
        let len = c.encode_utf8(&mut bytes).len();
        Some(Escape {
            bytes,
            len,
            consumed,
            significant: true,
        })
    };
    match *hay.get(i + 1)? {
        b'n' => simple(b'\n', false),
        b'r' => simple(b'\r', false),
        b't' => simple(b'\t', false),
        b'b' => simple(0x08, false),
        b'f' => simple(0x0C, false),
        b'\\' => simple(b'\\', false),
        b'/' => simple(b'/', false),
        b'"' => simple(b'"', true),
        b'\'' => simple(b'\'', true),
        b'x' => Some(Escape {
            bytes: [hex2(hay, i + 2)?, 0, 0, 0],
            len: 1,
            consumed: 4,
            significant: true,
        }),
        b'u' if hay.get(i + 2) == Some(&b'{') => {
            let close = memchr::memchr(b'}', &hay[i + 3..(i + 10).min(hay.len())])?;
            let digits = std::str::from_utf8(&hay[i + 3..i + 3 + close]).ok()?;
            let v = u32::from_str_radix(digits, 16).ok()?;
            utf8(char::from_u32(v)?, close + 4)
        }
        b'u' => {
            let unit =
                |k: usize| Some(u16::from(hex2(hay, k)?) << 8 | u16::from(hex2(hay, k + 2)?));
            let hi = unit(i + 2)?;
            if (0xD800..0xDC00).contains(&hi) {
                // A surrogate pair: `\uD83D\uDE00`.
                if hay.get(i + 6) != Some(&b'\\') || hay.get(i + 7) != Some(&b'u') {
                    return None;
                }
                let lo = unit(i + 8)?;
                let c = char::decode_utf16([hi, lo]).next()?.ok()?;
                return utf8(c, 12);
            }
            utf8(char::from_u32(u32::from(hi))?, 6)
        }
        _ => None,
    }
}

/// Unescapes `hay[r]`, in pieces of at most [`MAX_ESCAPE_PIECE`] bytes overlapping by
/// [`ESCAPE_OVERLAP`]; each piece in which a significant escape was decoded is a candidate.
fn unescape_region(hay: &[u8], r: Range<usize>, out: &mut dyn FnMut(Decoded)) {
    if r.len() <= MAX_ESCAPE_PIECE {
        unescape_piece(hay, r, ALL, out);
        return;
    }
    let half = ESCAPE_OVERLAP / 2;
    let mut a = r.start;
    loop {
        let b = (a + MAX_ESCAPE_PIECE).min(r.end);
        let owns_start = if a == r.start { 0 } else { a + half };
        let owns_end = if b == r.end { usize::MAX } else { b - half };
        unescape_piece(hay, a..b, owns_start..owns_end, out);
        if b == r.end {
            return;
        }
        a = b - ESCAPE_OVERLAP;
    }
}

/// Unescapes `hay[r]` (an escape cut by `r.end` stays as it is); keeps it when a significant
/// escape was decoded.
fn unescape_piece(hay: &[u8], r: Range<usize>, owns: Range<usize>, out: &mut dyn FnMut(Decoded)) {
    let src = &hay[..r.end];
    let mut bytes = Vec::with_capacity(r.len());
    let mut map = OffsetMap::builder(r.start);
    let mut significant = false;
    let mut i = r.start;
    let mut copy_from = i;
    while let Some(k) = memchr::memchr(b'\\', &src[i..]) {
        let at = i + k;
        match decode_escape(src, at) {
            Some(esc) => {
                bytes.extend_from_slice(&src[copy_from..at]);
                map.identity(at - copy_from);
                bytes.extend_from_slice(&esc.bytes[..esc.len]);
                map.block(esc.len, esc.consumed);
                significant |= esc.significant;
                i = at + esc.consumed;
                copy_from = i;
            }
            None => i = at + 1,
        }
    }
    if !significant {
        return;
    }
    bytes.extend_from_slice(&src[copy_from..r.end]);
    map.identity(r.end - copy_from);
    out(Decoded {
        layer: "escape",
        span: r,
        bytes,
        map: map.finish(),
        owns,
    });
}

// ---------------------------------------------------------------------------------------------
// BOM-less UTF-16

/// Transcodes the run of ASCII UTF-16 code units through the NUL at `p`. Returns its end.
fn utf16(hay: &[u8], p: usize, out: &mut dyn FnMut(Decoded)) -> Option<usize> {
    let le_ok = |k: usize| k + 1 < hay.len() && hay[k + 1] == 0 && printable(hay[k]);
    let be_ok = |k: usize| k + 1 < hay.len() && hay[k] == 0 && printable(hay[k + 1]);
    for (le, unit) in [(true, p.checked_sub(1)), (false, Some(p))] {
        let Some(unit) = unit else { continue };
        let ok = |k: usize| if le { le_ok(k) } else { be_ok(k) };
        if !ok(unit) {
            continue;
        }
        let mut s = unit;
        while s >= 2 && ok(s - 2) {
            s -= 2;
        }
        let mut e = unit;
        while ok(e) {
            e += 2;
        }
        let units = (e - s) / 2;
        if units < MIN_UTF16 {
            return Some(e);
        }
        let bytes: Vec<u8> = hay[s..e]
            .chunks_exact(2)
            .map(|u| if le { u[0] } else { u[1] })
            .collect();
        let mut map = OffsetMap::builder(s);
        map.stride2(units);
        out(Decoded {
            layer: if le { "utf16le" } else { "utf16be" },
            span: s..e,
            bytes,
            map: map.finish(),
            owns: ALL,
        });
        return Some(e);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    fn found(hay: &[u8]) -> Vec<(&'static str, String, Range<usize>)> {
        let mut out = Vec::new();
        candidates(hay, &mut |d| out.push(d));
        out.into_iter()
            .map(|d| {
                (
                    d.layer,
                    String::from_utf8_lossy(&d.bytes).into_owned(),
                    d.span,
                )
            })
            .collect()
    }

    #[test]
    fn base64_runs_decode_to_text() {
        let enc = STANDARD.encode("aws_access_key_id=AKIAQ3EGTR7HJKL2MNOP");
        let hay = format!("data:\n  creds: {enc}\n");
        let got = found(hay.as_bytes());
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, "base64");
        assert_eq!(got[0].1, "aws_access_key_id=AKIAQ3EGTR7HJKL2MNOP");
        let start = hay.find(&enc).unwrap();
        assert_eq!(got[0].2, start..start + enc.len());
    }

    #[test]
    fn base64url_and_mixed_alphabets() {
        let enc = URL_SAFE_NO_PAD.encode("user?:pass>>word??with~~~stuff");
        assert!(enc.contains('_') || enc.contains('-'), "{enc}");
        let got = found(format!("t={enc};").as_bytes());
        assert_eq!(got[0].0, "base64url");
        assert_eq!(got[0].1, "user?:pass>>word??with~~~stuff");
    }

    #[test]
    fn binary_hashes_identifiers_and_images_are_skipped() {
        for hay in [
            "\"integrity\": \"sha512-z0Yb5qDgtm4AYnlRsXhqCKvjWsC2HfEDXo0E1hIcZz5gZI3hyeHj+oOuQlyWQo2gJ7y1yz7iRIAIZ8qfPhlS7Q==\"",
            "checksum = \"0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9\"",
            "fn get_element_by_class_name_for_document_root() {}",
            "url(data:image/png;base64,aGVsbG8gd29ybGQgdGhpcyBpcyB0ZXh0IHRoYXQgaXMgbG9uZw==)",
            "src/components/HeaderNavigation/LanguageSwitcher/index.tsx",
        ] {
            assert!(
                found(hay.as_bytes()).is_empty(),
                "{hay}: {:?}",
                found(hay.as_bytes())
            );
        }
    }

    #[test]
    fn skip_ahead_finds_runs_at_every_alignment() {
        let enc = STANDARD.encode("the quick brown fox jumps over");
        for pad in 0..30 {
            let hay = format!("{}{} x", "ab ".repeat(pad), enc);
            let got = found(hay.as_bytes());
            assert_eq!(got.len(), 1, "pad {pad}");
            assert_eq!(got[0].1, "the quick brown fox jumps over");
        }
    }

    #[test]
    fn class_mask_matches_the_table() {
        let all: Vec<u8> = (0..=255u8).collect();
        for block in all.chunks(64) {
            let bits = |f: &dyn Fn(u8) -> bool| {
                block.iter().enumerate().fold(0u64, |m, (k, &b)| {
                    m | (u64::from(f(CLASS[b as usize])) << k)
                })
            };
            let want = bits(&|c| c != 0);
            assert_eq!(class_mask_portable(block), want);
            #[cfg(target_arch = "x86_64")]
            {
                assert_eq!(class_mask_sse2(block), want);
                if std::arch::is_x86_feature_detected!("avx2") {
                    let at = |f: &dyn Fn(u8) -> bool| {
                        block
                            .iter()
                            .enumerate()
                            .fold(0u64, |m, (k, &b)| m | (u64::from(f(b)) << k))
                    };
                    let esc = at(&|b| matches!(b, b'%' | b'\\' | 0));
                    let brk = at(&|b| b == b'[');
                    // SAFETY: AVX2 is available, checked just above.
                    assert_eq!(unsafe { class_mask_avx2(block) }, (want, esc, brk));
                }
            }
        }
    }

    #[test]
    fn runs_across_block_edges_and_long_runs() {
        let enc = STANDARD.encode("x".repeat(3000) + "AKIAQ3EGTR7HJKL2MNOP");
        for pad in [0, 1, 40, 50, 63, 64, 100] {
            let hay = format!(
                "{}{enc} {}",
                " ".repeat(pad),
                STANDARD.encode("hello there, general kenobi")
            );
            let got = found(hay.as_bytes());
            assert_eq!(got.len(), 2, "pad {pad}");
            assert_eq!(got[0].2.start, pad);
            assert!(got[0].1.ends_with("AKIAQ3EGTR7HJKL2MNOP"));
            assert_eq!(got[1].1, "hello there, general kenobi");
        }
    }

    #[test]
    fn run_finder_agrees_with_a_naive_scan() {
        let mut x: u32 = 7;
        let mut rnd = |m: u32| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) % m
        };
        for round in 0..300 {
            let len = rnd(700) as usize;
            // Mostly alphabet bytes, so long runs of every length and position occur, some
            // longer than the two blocks the masks cover.
            let gap = if round % 7 == 0 { 400 } else { 2 + round % 40 };
            let hay: Vec<u8> = (0..len)
                .map(|_| match rnd(gap) {
                    0 => b' ',
                    // Long stretches of one case, so every kind of run occurs: lowercase,
                    // uppercase (`_` sits between the letter ranges), mixed, and mixed only
                    // by one letter at either end.
                    _ if round % 4 == 0 => b"az9+/-_"[rnd(7) as usize],
                    _ if round % 4 == 1 => b"AZ9+/-_@[`{"[rnd(11) as usize],
                    // Escape bytes and brackets, NUL too, at every offset of a block.
                    1 if round % 5 == 0 => b"%\\\0[%"[rnd(5) as usize],
                    _ if round % 4 == 2 && rnd(97) == 0 => b"Zz"[rnd(2) as usize],
                    _ if round % 4 == 2 => b"OP9+/-_"[rnd(7) as usize],
                    _ => b"aZ9+/-_"[rnd(7) as usize],
                })
                .collect();
            let mut want = Vec::new();
            let mut s = 0;
            for k in 0..=hay.len() {
                if k == hay.len() || CLASS[hay[k] as usize] == 0 {
                    let has = hay[s..k].iter().fold(0, |h, &c| h | CLASS[c as usize]);
                    if k - s >= MIN_BASE64 {
                        let mixed = has & B64_UPPER != 0 && has & B64_LOWER != 0;
                        want.push((s, k, mixed));
                    }
                    s = k + 1;
                }
            }
            // Every kernel level; the random lengths put the buffer's end, where runs are
            // cut, at every offset of a 64-byte block.
            let at = |f: &dyn Fn(u8) -> bool| -> Vec<usize> {
                (0..hay.len()).filter(|&k| f(hay[k])).collect()
            };
            let escapes = at(&|b| matches!(b, b'%' | b'\\' | 0));
            let brackets = at(&|b| b == b'[');
            for level in crate::simd::available() {
                let mut runs = Vec::new();
                token_runs_at(level, &hay, &mut runs);
                let got: Vec<_> = runs.iter().map(|r| (r.start, r.end, r.mixed)).collect();
                assert_eq!(got, want, "round {round}, {level:?}");
                // The fused pass: the same runs, and every escape byte and bracket (none of
                // the last block's zero padding), from stale contents too.
                let mut all = Runs {
                    tokens: runs.clone(),
                    escape_list: vec![7],
                    bracket_list: vec![9],
                    marks_listed: true,
                };
                runs_at(level, &hay, &mut all);
                assert_eq!(all.tokens, runs, "round {round}, {level:?}");
                let got: Vec<usize> = all.escapes(&hay).collect();
                assert_eq!(got, escapes, "round {round}, {level:?}");
                let got: Vec<usize> = all.brackets(&hay).collect();
                assert_eq!(got, brackets, "round {round}, {level:?}");
            }
        }
    }

    #[test]
    fn mixed_case_agrees_with_the_class_fold() {
        let alphabet = b"AZaz09+/-_MmQq@[`{";
        let mut x = 0x9E37_79B9_u32;
        for len in 0..40 {
            for _ in 0..200 {
                let run: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        // Mostly one case, so single-case runs of every length occur too.
                        match x % 9 {
                            0 => alphabet[(x >> 8) as usize % alphabet.len()],
                            1..=4 => b"az09_"[(x >> 8) as usize % 5],
                            _ => b"AZ09-"[(x >> 8) as usize % 5],
                        }
                    })
                    .collect();
                let want = run.iter().any(u8::is_ascii_uppercase)
                    && run.iter().any(u8::is_ascii_lowercase);
                assert_eq!(
                    mixed_case(&run),
                    want,
                    "{:?}",
                    String::from_utf8_lossy(&run)
                );
            }
        }
    }

    #[test]
    fn percent_runs() {
        let got = found(b"url = \"https://user:p%40ss%2Fw0rd@db.example.com/x\"");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "percent");
        assert_eq!(got[0].1, "https://user:p@ss/w0rd@db.example.com/x");
        assert!(found(b"printf(\"100%\"); x = 5 % 3").is_empty());
    }

    #[test]
    fn escapes() {
        let got = found(br#"s = "\x41\x4b\x49\x41 and \u0041 \"q\" \ud83d\ude00""#);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "escape");
        assert_eq!(got[0].1, "s = \"AKIA and A \"q\" \u{1F600}\"");
        // Newline escapes alone do not trigger.
        assert!(found(b"printf(\"a\\n\");").is_empty());
    }

    /// A line of escapes longer than one piece is decoded in bounded pieces that overlap, and
    /// whose owned offsets tile the line: no candidate holds the whole line, and every offset
    /// has exactly one owner.
    #[test]
    fn long_escape_regions_are_decoded_in_overlapping_pieces() {
        let unit = br"\x41%41\u{41}";
        let hay: Vec<u8> = unit.repeat(3 * MAX_ESCAPE_PIECE / unit.len());
        let mut pieces = Vec::new();
        candidates(&hay, &mut |d| {
            if d.layer == "escape" {
                pieces.push((d.span, d.owns, d.bytes.len()));
            }
        });
        assert!(pieces.len() >= 3, "{}", pieces.len());
        assert_eq!(pieces[0].0.start, 0);
        assert_eq!(pieces[0].1.start, 0);
        assert_eq!(pieces.last().unwrap().0.end, hay.len());
        assert_eq!(pieces.last().unwrap().1.end, usize::MAX);
        for (span, owns, decoded) in &pieces {
            assert!(span.len() <= MAX_ESCAPE_PIECE && *decoded <= span.len());
            // What a piece owns leaves room for a secret of half the overlap inside it.
            assert!(owns.start == 0 || owns.start >= span.start + ESCAPE_OVERLAP / 2);
            assert!(owns.end == usize::MAX || owns.end + ESCAPE_OVERLAP / 2 <= span.end);
        }
        for w in pieces.windows(2) {
            assert_eq!(w[0].0.end - w[1].0.start, ESCAPE_OVERLAP);
            assert_eq!(w[0].1.end, w[1].1.start);
        }
        // A short region is one candidate that owns everything.
        let mut short = Vec::new();
        candidates(&unit.repeat(100), &mut |d| short.push((d.layer, d.owns)));
        assert!(short.contains(&("escape", ALL)), "{short:?}");
    }

    #[test]
    fn utf16_without_bom() {
        let le: Vec<u8> = "key: AKIAQ3EGTR7HJKL2MNOP\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let got = found(&le);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "utf16le");
        assert_eq!(got[0].1, "key: AKIAQ3EGTR7HJKL2MNOP\n");
        let be: Vec<u8> = "key: AKIAQ3EGTR7HJKL2MNOP"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(found(&be)[0].0, "utf16be");
        assert!(looks_like_utf16(&le));
        assert!(!looks_like_utf16(
            b"\0\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
        ));
    }

    #[test]
    fn base64_of_utf16_is_kept_for_the_next_layer() {
        let le: Vec<u8> = "Write-Host AKIAQ3EGTR7HJKL2MNOP"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let enc = STANDARD.encode(&le);
        let mut out = Vec::new();
        candidates(format!("powershell -enc {enc}").as_bytes(), &mut |d| {
            out.push(d)
        });
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].bytes, le);
    }

    /// A buffer with more escape bytes and brackets than [`MAX_MARKS`] (a UTF-16 file is half
    /// NULs) is not listed, and the readers still see every one.
    #[test]
    fn too_many_marks_are_searched_not_listed() {
        let mut hay = b"%[".repeat(MAX_MARKS / 2 + 50);
        hay.extend_from_slice(b"\\\0 [");
        for level in crate::simd::available() {
            let mut r = Runs::default();
            runs_at(level, &hay, &mut r);
            assert!(!r.marks_listed && r.escape_list.is_empty() && r.bracket_list.is_empty());
            assert_eq!(r.escapes(&hay).count(), MAX_MARKS / 2 + 52, "{level:?}");
            assert_eq!(r.brackets(&hay).count(), MAX_MARKS / 2 + 51, "{level:?}");
        }
    }

    #[test]
    fn never_panics_on_edges() {
        for hay in [
            &b"%"[..],
            b"%4",
            b"\\",
            b"\\u",
            b"\\u{1F600",
            b"\\ud83d\\u",
            b"\0",
            b"a\0",
            b"\\x4",
        ] {
            found(hay);
        }
    }
}
