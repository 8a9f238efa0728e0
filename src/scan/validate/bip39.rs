//! BIP39 mnemonics: the official wordlists, word lookup, the checksum, and finding the
//! longest checksum-valid phrase inside a run of words.
//!
//! Wordlists are the official ones from bitcoin/bips `bip-0039/*.txt`, taken verbatim (NFKD,
//! as published) from the PyPI package `mnemonic` 0.21 (trezor/python-mnemonic), which ships
//! them; `english.txt` has SHA-256 2f5eed53…b24dbda, the digest of bitcoin/bips' file. The
//! `*.nfc.txt` files are the same lists in NFC (Python `unicodedata.normalize("NFC", w)`),
//! generated for the four lists where NFC differs, because text in the wild is usually NFC
//! (precomposed Hangul, kana with dakuten, é) while the published lists are NFKD.
//! Latin lists also match with their accents dropped, as BIP39 wallets accept
//! (the es/fr lists are unique without accents). The trezor-only Russian and Turkish lists
//! are not official and are left out.
//!
//! Lookup tables are built lazily, one language at a time, so a scan that never meets a
//! Korean phrase never builds the Korean table.

use std::ops::Range;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// An official BIP39 wordlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// English.
    English,
    /// Spanish.
    Spanish,
    /// French.
    French,
    /// Italian.
    Italian,
    /// Portuguese.
    Portuguese,
    /// Czech.
    Czech,
    /// Japanese (phrases are joined with U+3000 IDEOGRAPHIC SPACE).
    Japanese,
    /// Korean.
    Korean,
    /// Chinese (simplified); words are single characters.
    ChineseSimplified,
    /// Chinese (traditional); words are single characters.
    ChineseTraditional,
}

impl Language {
    /// Every official list, English first (the common case ends the search soonest).
    pub const ALL: [Language; 10] = [
        Language::English,
        Language::Spanish,
        Language::French,
        Language::Italian,
        Language::Portuguese,
        Language::Czech,
        Language::Japanese,
        Language::Korean,
        Language::ChineseSimplified,
        Language::ChineseTraditional,
    ];

    /// (official NFKD list, NFC list when it differs).
    fn sources(self) -> (&'static str, Option<&'static str>) {
        match self {
            Language::English => (include_str!("wordlists/english.txt"), None),
            Language::Spanish => (
                include_str!("wordlists/spanish.txt"),
                Some(include_str!("wordlists/spanish.nfc.txt")),
            ),
            Language::French => (
                include_str!("wordlists/french.txt"),
                Some(include_str!("wordlists/french.nfc.txt")),
            ),
            Language::Italian => (include_str!("wordlists/italian.txt"), None),
            Language::Portuguese => (include_str!("wordlists/portuguese.txt"), None),
            Language::Czech => (include_str!("wordlists/czech.txt"), None),
            Language::Japanese => (
                include_str!("wordlists/japanese.txt"),
                Some(include_str!("wordlists/japanese.nfc.txt")),
            ),
            Language::Korean => (
                include_str!("wordlists/korean.txt"),
                Some(include_str!("wordlists/korean.nfc.txt")),
            ),
            Language::ChineseSimplified => (include_str!("wordlists/chinese_simplified.txt"), None),
            Language::ChineseTraditional => {
                (include_str!("wordlists/chinese_traditional.txt"), None)
            }
        }
    }

    /// Whether words are single CJK characters that may be written without separators.
    fn is_chinese(self) -> bool {
        matches!(
            self,
            Language::ChineseSimplified | Language::ChineseTraditional
        )
    }

    /// Whether no word is ASCII (kana, hangul, hanzi), so ASCII text cannot hold a phrase.
    fn non_ascii_only(self) -> bool {
        matches!(
            self,
            Language::ChineseSimplified
                | Language::ChineseTraditional
                | Language::Japanese
                | Language::Korean
        )
    }

    /// Whether every word is ASCII, so a token with a non-ASCII byte cannot be one.
    fn ascii_only(self) -> bool {
        matches!(
            self,
            Language::English | Language::Italian | Language::Portuguese | Language::Czech
        )
    }

    fn table(self) -> &'static Table {
        static TABLES: [OnceLock<Table>; 10] = [const { OnceLock::new() }; 10];
        let i = Language::ALL.iter().position(|&l| l == self).unwrap_or(0);
        TABLES[i].get_or_init(|| Table::build(self))
    }
}

/// One language's words in official order plus every accepted spelling → index.
struct Table {
    words: Vec<&'static str>,
    index: rustc_hash::FxHashMap<String, u16>,
}

impl Table {
    fn build(lang: Language) -> Table {
        let (nfkd, nfc) = lang.sources();
        let words: Vec<&'static str> = nfkd.lines().filter(|w| !w.is_empty()).collect();
        let mut index =
            rustc_hash::FxHashMap::with_capacity_and_hasher(words.len() * 2, Default::default());
        for (i, w) in words.iter().enumerate() {
            index.insert((*w).to_string(), i as u16);
            let folded = strip_combining(w);
            if folded != *w {
                index.insert(folded, i as u16);
            }
        }
        for (i, w) in nfc
            .into_iter()
            .flat_map(|t| t.lines().filter(|w| !w.is_empty()))
            .enumerate()
        {
            index.entry(w.to_string()).or_insert(i as u16);
        }
        debug_assert_eq!(words.len(), 2048);
        Table { words, index }
    }

    fn lookup(&self, word: &[u8]) -> Option<u16> {
        // Capitalised words ("Abandon") are rare but harmless to accept.
        let lowered;
        let word = if word.iter().any(u8::is_ascii_uppercase) {
            lowered = word.to_ascii_lowercase();
            &lowered[..]
        } else {
            word
        };
        let s = std::str::from_utf8(word).ok()?;
        if let Some(&i) = self.index.get(s) {
            return Some(i);
        }
        // An NFKD word typed without its accents' combining marks, or vice versa.
        if s.chars().any(is_combining) {
            self.index.get(&strip_combining(s)).copied()
        } else {
            None
        }
    }
}

/// Every ASCII spelling of every word of every list.
fn ascii_words() -> &'static rustc_hash::FxHashSet<Box<[u8]>> {
    static SET: OnceLock<rustc_hash::FxHashSet<Box<[u8]>>> = OnceLock::new();
    SET.get_or_init(|| {
        Language::ALL
            .iter()
            .flat_map(|l| l.table().index.keys())
            .filter(|k| k.is_ascii())
            .map(|k| k.as_bytes().into())
            .collect()
    })
}

/// Whether `tokens` hold `n` consecutive joined tokens that are each a word of some list.
fn has_wordlist_run(text: &[u8], tokens: &[Token], n: usize) -> bool {
    let set = ascii_words();
    let mut run = 0;
    let mut lowered = Vec::new();
    for t in tokens {
        let w = &text[t.range.clone()];
        let hit = w.len() <= 12 && {
            if w.iter().any(u8::is_ascii_uppercase) {
                lowered.clear();
                lowered.extend(w.iter().map(u8::to_ascii_lowercase));
                set.contains(&lowered[..])
            } else {
                set.contains(w)
            }
        };
        run = match (hit, t.joined) {
            (false, _) => 0,
            (true, true) => run + 1,
            (true, false) => 1,
        };
        if run >= n {
            return true;
        }
    }
    false
}

/// Combining diacritical marks (U+0300–U+036F): what NFKD splits accents into.
fn is_combining(c: char) -> bool {
    ('\u{0300}'..='\u{036F}').contains(&c)
}

fn strip_combining(s: &str) -> String {
    s.chars().filter(|&c| !is_combining(c)).collect()
}

/// The English word for an 11-bit index.
pub fn english_word(i: u16) -> Option<&'static str> {
    Language::English.table().words.get(usize::from(i)).copied()
}

/// Word counts BIP39 allows, longest first.
const LENGTHS: [usize; 5] = [24, 21, 18, 15, 12];

/// Longest run of consecutive wordlist words still searched for a phrase: a 24-word phrase plus
/// as many list words around it (labels such as `seed`, `phrase`, `wallet` are list words).
const MAX_SEGMENT: usize = 40;

/// Whether the last ENT/32 bits of the concatenated 11-bit indices equal the first bits of
/// SHA-256(entropy) (BIP39 "Generating the mnemonic").
pub fn checksum_ok(indices: &[u16]) -> bool {
    let n = indices.len();
    if !LENGTHS.contains(&n) {
        return false;
    }
    let mut bytes = [0u8; 33];
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut out = 0;
    for &i in indices {
        acc = (acc << 11) | u32::from(i & 0x7ff);
        bits += 11;
        while bits >= 8 {
            bits -= 8;
            bytes[out] = (acc >> bits) as u8;
            out += 1;
        }
    }
    // 11·n bits = 32·n/3 entropy bits + n/3 checksum bits; 11·n is a multiple of 8 only for
    // n = 24, so flush what is left, left-aligned.
    if bits > 0 {
        bytes[out] = (acc << (8 - bits)) as u8;
    }
    let ent_bytes = n * 4 / 3;
    let cs_bits = n / 3;
    let hash = Sha256::digest(&bytes[..ent_bytes]);
    let want = hash[0] >> (8 - cs_bits);
    let got = bytes[ent_bytes] >> (8 - cs_bits);
    want == got
}

/// The English mnemonic for `entropy` (16, 20, 24, 28 or 32 bytes).
pub fn english_mnemonic(entropy: &[u8]) -> Option<String> {
    if !matches!(entropy.len(), 16 | 20 | 24 | 28 | 32) {
        return None;
    }
    let cs_bits = entropy.len() / 4;
    let hash = Sha256::digest(entropy);
    let mut words = Vec::new();
    let mut acc: u32 = 0;
    let mut bits = 0;
    let last = hash[0] >> (8 - cs_bits);
    let stream = entropy
        .iter()
        .map(|&b| (b, 8))
        .chain(std::iter::once((last, cs_bits)));
    for (b, width) in stream {
        acc = (acc << width) | u32::from(b);
        bits += width;
        while bits >= 11 {
            bits -= 11;
            words.push(english_word(((acc >> bits) & 0x7ff) as u16)?);
        }
    }
    Some(words.join(" "))
}

/// A word token and whether the gap before it joins it to the previous word.
#[derive(Debug, Clone)]
struct Token {
    range: Range<usize>,
    joined: bool,
}

/// Longest gap (bytes of separators) that still joins two words: enough for an indented,
/// quoted JSON array element on its own line.
const MAX_GAP: usize = 64;

/// Bytes that may separate words of one phrase: whitespace, commas and quotes.
fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b',' | b'"' | b'\'')
}

/// U+3000 IDEOGRAPHIC SPACE, the Japanese separator, in UTF-8.
const IDEOGRAPHIC_SPACE: &[u8] = "\u{3000}".as_bytes();

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphabetic() || b >= 0x80
}

/// Words of one candidate that are looked at. Phrases are 12–24 words; a longer run is a
/// list (several phrases one per line, which the detector also hands over line by line, or a
/// word dump), and bounding it keeps a hostile megabyte of words from costing seconds.
const MAX_TOKENS: usize = 8192;

/// Splits `text` into word tokens (at most [`MAX_TOKENS`]): maximal runs of ASCII letters and non-ASCII characters
/// (U+3000 excepted). A token joins the previous one when only separators lie between.
fn tokenize(text: &[u8]) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut gap_ok = false;
    let mut gap_len = 0;
    while i < text.len() && tokens.len() < MAX_TOKENS {
        if text[i..].starts_with(IDEOGRAPHIC_SPACE) {
            i += IDEOGRAPHIC_SPACE.len();
            gap_len += IDEOGRAPHIC_SPACE.len();
            continue;
        }
        let b = text[i];
        if is_word_byte(b) {
            let start = i;
            while i < text.len()
                && is_word_byte(text[i])
                && !text[i..].starts_with(IDEOGRAPHIC_SPACE)
            {
                i += 1;
            }
            let joined = gap_ok && !tokens.is_empty() && gap_len <= MAX_GAP;
            tokens.push(Token {
                range: start..i,
                joined,
            });
            gap_ok = true;
            gap_len = 0;
        } else {
            if !is_separator(b) {
                gap_ok = false;
            }
            gap_len += 1;
            i += 1;
        }
    }
    tokens
}

/// Splits tokens into single characters, joined to each other, for Chinese phrases written
/// without spaces.
fn split_chars(text: &[u8], tokens: &[Token]) -> Vec<Token> {
    let mut out = Vec::with_capacity(tokens.len());
    for t in tokens {
        let Ok(s) = std::str::from_utf8(&text[t.range.clone()]) else {
            out.push(t.clone());
            continue;
        };
        for (k, (off, c)) in s.char_indices().enumerate() {
            let start = t.range.start + off;
            out.push(Token {
                range: start..start + c.len_utf8(),
                joined: if k == 0 { t.joined } else { true },
            });
        }
    }
    out
}

/// Most windows one call checksums. A real candidate has a few dozen words; a run of
/// hundreds of thousands of wordlist words is a dump, not a phrase, and gets this much work
/// (a few tens of milliseconds) before the search gives up with what it has.
const CHECKSUM_BUDGET: usize = 50_000;

/// Words in strictly increasing list order: a slice of the wordlist itself (vendored
/// `english.txt`, a JS array of the words), where ~1 window in 256 passes the checksum by
/// chance. Twelve random words are in increasing order with probability 1/12! ≈ 2·10⁻⁹.
fn in_list_order(window: &[u16]) -> bool {
    window.windows(2).all(|w| w[0] < w[1])
}

/// The longest checksum-valid phrase in `text` (earliest on ties) in any one official list,
/// as a byte range of `text`.
pub fn find_phrase(text: &[u8]) -> Option<Range<usize>> {
    let tokens = tokenize(text);
    if tokens.len() < 12 {
        // Chinese may be written without separators: one token can hold a whole phrase.
        if !text.iter().any(|&b| b >= 0x80) {
            return None;
        }
    }
    // Prose and code comments are full of 12-word runs of short lowercase words, but almost
    // never of 12 consecutive wordlist words: one cheap pass over the union of every list's
    // ASCII spellings rejects them before ten per-language passes (profiled at a third of a
    // whole scan's time without it).
    if text.is_ascii() && !has_wordlist_run(text, &tokens, 12) {
        return None;
    }
    let mut best: Option<(usize, Range<usize>)> = None;
    let mut budget = CHECKSUM_BUDGET;
    let mut indices: Vec<Option<u16>> = Vec::with_capacity(tokens.len());
    let mut split: Vec<Token>;
    // Each distinct word is looked up once per list: a line of one keyword repeated (a keyword
    // flood, `secret secret …`) would otherwise cost ten hash lookups per word.
    let mut order: Vec<usize> = (0..tokens.len()).collect();
    order.sort_unstable_by_key(|&i| &text[tokens[i].range.clone()]);
    let mut uid = vec![0usize; tokens.len()];
    let mut distinct: Vec<&[u8]> = Vec::new();
    for &i in &order {
        let w = &text[tokens[i].range.clone()];
        if distinct.last() != Some(&w) {
            distinct.push(w);
        }
        uid[i] = distinct.len() - 1;
    }
    let mut looked: Vec<Option<u16>> = Vec::with_capacity(distinct.len());
    let ascii_text = text.is_ascii();
    for lang in Language::ALL {
        if best.as_ref().is_some_and(|(n, _)| *n == 24) {
            break;
        }
        if ascii_text && lang.non_ascii_only() {
            continue;
        }
        let toks: &[Token] = if lang.is_chinese() {
            split = split_chars(text, &tokens);
            &split
        } else {
            &tokens
        };
        let ascii = lang.ascii_only();
        let table = lang.table();
        let lookup = |w: &[u8]| {
            if ascii && !w.is_ascii() {
                None
            } else {
                table.lookup(w)
            }
        };
        indices.clear();
        if lang.is_chinese() {
            indices.extend(toks.iter().map(|t| lookup(&text[t.range.clone()])));
        } else {
            looked.clear();
            looked.extend(distinct.iter().map(|w| lookup(w)));
            indices.extend(uid.iter().map(|&u| looked[u]));
        }
        let mut i = 0;
        while i < toks.len() {
            // A segment: consecutive joined tokens that are all words of this list.
            if indices[i].is_none() {
                i += 1;
                continue;
            }
            let mut j = i + 1;
            while j < toks.len() && toks[j].joined && indices[j].is_some() {
                j += 1;
            }
            if j - i > MAX_SEGMENT {
                // A run of 40+ consecutive wordlist words is a word list (stop-word tables of
                // single Chinese characters, vocabularies), not a phrase: with that many
                // windows one passes the 4-bit checksum by chance. Seen in freqtrade's history.
                i = j;
                continue;
            }
            let seg: Vec<u16> = indices[i..j].iter().map(|x| x.unwrap_or(0)).collect();
            let have = best.as_ref().map_or(0, |(n, _)| *n);
            'len: for n in LENGTHS.into_iter().filter(|&n| n > have && n <= seg.len()) {
                for off in 0..=seg.len() - n {
                    if budget == 0 {
                        break 'len;
                    }
                    budget -= 1;
                    let window = &seg[off..off + n];
                    if !in_list_order(window) && checksum_ok(window) {
                        let range = toks[i + off].range.start..toks[i + off + n - 1].range.end;
                        best = Some((n, range));
                        break 'len;
                    }
                }
            }
            i = j;
        }
    }
    best.map(|(_, r)| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_word_is_no_phrase() {
        // A keyword flood: every token is the same wordlist word, a run far over MAX_SEGMENT.
        let line = "secret ".repeat(100);
        assert_eq!(find_phrase(line.as_bytes()), None);
        let lines = format!("{line}\n").repeat(50);
        assert_eq!(find_phrase(lines.as_bytes()), None);
    }

    #[test]
    fn english_list_is_the_official_one() {
        let text = include_str!("wordlists/english.txt");
        assert_eq!(
            hex::encode(Sha256::digest(text.as_bytes())),
            "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda"
        );
        for lang in Language::ALL {
            assert_eq!(lang.table().words.len(), 2048, "{lang:?}");
        }
    }

    /// trezor/python-mnemonic `vectors.json` (English), entropy → mnemonic.
    const VECTORS: &[(&str, &str)] = &[
        (
            "00000000000000000000000000000000",
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
        ),
        (
            "7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f",
            "legal winner thank year wave sausage worth useful legal winner thank yellow",
        ),
        (
            "80808080808080808080808080808080",
            "letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
        ),
        (
            "ffffffffffffffffffffffffffffffff",
            "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong",
        ),
        (
            "000000000000000000000000000000000000000000000000",
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon agent",
        ),
        (
            "0000000000000000000000000000000000000000000000000000000000000000",
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art",
        ),
        (
            "9e885d952ad362caeb4efe34a8e91bd2",
            "ozone drill grab fiber curtain grace pudding thank cruise elder eight picnic",
        ),
        (
            "f585c11aec520db57dd353c69554b21a89b20fb0650966fa0a9d6f74fd989d8f",
            "void come effort suffer camp survey warrior heavy shoot primary clutch crush open amazing screen patrol group space point ten exist slush involve unfold",
        ),
    ];

    #[test]
    fn trezor_vectors_encode_and_validate() {
        for (entropy, phrase) in VECTORS {
            let e = hex::decode(entropy).unwrap();
            assert_eq!(english_mnemonic(&e).as_deref(), Some(*phrase));
            assert_eq!(
                find_phrase(phrase.as_bytes()),
                Some(0..phrase.len()),
                "{phrase}"
            );
        }
    }

    #[test]
    fn one_word_changed_fails() {
        // `about` → `above` breaks the checksum; `abandonx` is not a word.
        for bad in [
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon above",
            "abandon abandon abandon abandon abandon abandonx abandon abandon abandon abandon abandon about",
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
        ] {
            assert_eq!(find_phrase(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn narrows_to_the_phrase_in_a_longer_run() {
        let phrase = "legal winner thank year wave sausage worth useful legal winner thank yellow";
        let text = format!("my seed is \"{}\", ok", phrase.replace(' ', "\", \""));
        let r = find_phrase(text.as_bytes()).unwrap();
        assert_eq!(&text[r], phrase.replace(' ', "\", \""));
        let text = format!("zoo zoo {phrase} zoo");
        let r = find_phrase(text.as_bytes()).unwrap();
        assert_eq!(&text[r], phrase);
        // Punctuation other than separators breaks a run.
        assert_eq!(
            find_phrase(phrase.replace(" wave ", " wave; ").as_bytes()),
            None
        );
    }

    #[test]
    fn other_languages() {
        // Entropy 00…00 in each list is word 0 ×11 + the word for the checksum, as for
        // English `abandon … about` (index 3).
        for lang in Language::ALL {
            let t = lang.table();
            let sep = if lang == Language::Japanese {
                "\u{3000}"
            } else {
                " "
            };
            let mut words = vec![t.words[0]; 11];
            words.push(t.words[3]);
            let phrase = words.join(sep);
            assert_eq!(
                find_phrase(phrase.as_bytes()),
                Some(0..phrase.len()),
                "{lang:?}"
            );
        }
        // The NFC spelling and the unaccented spelling of a Spanish word both resolve.
        let es = Language::Spanish.table();
        let nfkd = es
            .words
            .iter()
            .find(|w| w.chars().any(is_combining))
            .unwrap();
        let nfc = include_str!("wordlists/spanish.nfc.txt")
            .lines()
            .nth(es.index[*nfkd] as usize)
            .unwrap();
        assert_eq!(es.lookup(nfc.as_bytes()), es.lookup(nfkd.as_bytes()));
        assert_eq!(
            es.lookup(strip_combining(nfkd).as_bytes()),
            es.lookup(nfkd.as_bytes())
        );
        // Chinese without separators.
        let zh = Language::ChineseSimplified.table();
        let mut s = zh.words[0].repeat(11);
        s.push_str(zh.words[3]);
        assert_eq!(find_phrase(s.as_bytes()), Some(0..s.len()));
    }

    #[test]
    fn a_vendored_wordlist_is_not_a_phrase() {
        let list = include_str!("wordlists/english.txt");
        assert_eq!(find_phrase(list.as_bytes()), None);
        let js: Vec<String> = list.lines().map(|w| format!("'{w}'")).collect();
        assert_eq!(find_phrase(js.join(", ").as_bytes()), None);
    }

    #[test]
    fn huge_runs_stay_bounded() {
        let words = "abandon ".repeat(200_000);
        assert_eq!(find_phrase(words.as_bytes()), None);
    }

    #[test]
    fn never_panics_on_junk() {
        for junk in [
            &b""[..],
            b"\xff\xfe\xe3\x80",
            b"\xe3\x80\x80\xe3\x80\x80",
            b"a,,,,,,b",
            &[0x80; 100],
        ] {
            let _ = find_phrase(junk);
        }
    }
}
