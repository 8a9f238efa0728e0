//! A rule ready to run: typed fields and a regex that is compiled on first use.
//!
//! Compiling ~150 regexes up front would cost more than the whole start-up budget, so a
//! rule's regex is built the first time one of its keywords hits. Loading
//! still *parses* every user regex, so a bad pattern is an error at load time with its
//! position. A regex is parsed once: the token gate, the context gate and the compiled regex
//! are all made from the same syntax tree.

use std::sync::{Arc, Mutex, OnceLock};

use regex_automata::meta::{Cache, Regex};
use regex_automata::util::syntax;
use regex_automata::{Input, hybrid};
use regex_syntax::hir::{Class, Hir, HirKind};

use crate::finding::{Confidence, Severity};
use crate::model::TOKEN_RUN;
use crate::scan::detect::Detector;
use crate::scan::validate::Validator;

/// Default bytes searched before a keyword hit.
pub const DEFAULT_WINDOW_BEFORE: usize = 256;
/// Default bytes searched after a keyword hit.
pub const DEFAULT_WINDOW_AFTER: usize = 512;

/// One compiled rule.
#[derive(Debug)]
pub struct Rule {
    /// Unique kebab-case id.
    pub id: String,
    /// Human name.
    pub name: String,
    /// The service the credential belongs to.
    pub provider: String,
    /// Prefilter literals, lowercased.
    pub keywords: Vec<String>,
    /// When not empty, a keyword hit counts only if it has exactly one of these spellings.
    pub keywords_exact: Vec<String>,
    /// Source of the regex (empty for detector rules).
    pub pattern: String,
    /// A built-in candidate finder used instead of the regex.
    pub detector: Option<Detector>,
    regex: OnceLock<Regex>,
    /// See [`Rule::gate`].
    gate: OnceLock<Option<SharedGate>>,
    /// The regex's search cache (its lazy DFA's states), shared by the threads; see
    /// [`Rule::with_regex`]. Boxed: inline, an empty cache was 1,400 of a rule's 2,000 bytes,
    /// 0.8 MB of pages touched at start-up for caches that mostly never exist.
    shared_cache: Mutex<Option<Box<Cache>>>,
    /// Why `regex` could not be built, once a build failed (the rule then never matches).
    compile_error: OnceLock<String>,
    /// Minimum entropy of the secret.
    pub entropy: Option<f64>,
    /// Named validator.
    pub validator: Validator,
    /// Severity.
    pub severity: Severity,
    /// Confidence.
    pub confidence: Confidence,
    /// Tags.
    pub tags: Vec<String>,
    /// Documentation links.
    pub references: Vec<String>,
    /// How to revoke and rotate.
    pub remediation: String,
    /// Positive examples.
    pub examples: Vec<String>,
    /// Negative examples.
    pub negative_examples: Vec<String>,
    /// Whether the keyword prefilter gates this rule.
    pub prefilter: bool,
    /// Bytes searched before a hit.
    pub window_before: usize,
    /// Bytes searched after a hit.
    pub window_after: usize,
    /// The parsed regex and what is read from it: at load time for user rules, on first use
    /// for built-in ones (see [`Rule::token_gate`]).
    parsed: OnceLock<Parsed>,
    /// Lowercased placeholder words.
    pub stopwords: Vec<String>,
    /// Whether to drop placeholder-looking secrets.
    pub placeholder_filter: bool,
    /// Credential group for merging parts.
    pub credential: Option<String>,
    /// Part name inside the credential group.
    pub part: Option<String>,
    /// Ids of rules whose overlapping matches this rule replaces.
    pub shadows: Vec<String>,
    /// Lowercased `skip_paths`: `name/` a directory anywhere, else a file-name suffix.
    pub skip_paths: Vec<String>,
    /// Where the rule was defined (`patterns/aws.toml`, `keyleak.toml`).
    pub origin: String,
}

/// A rule's regex, parsed, and what the matcher reads from the syntax tree.
#[derive(Debug)]
pub(crate) struct Parsed {
    /// `None` when the pattern does not parse (only possible for a built-in rule, whose
    /// regexes `cargo test` checks; [`Rule::regex`] then reports the error).
    hir: Option<Hir>,
    /// See [`Rule::token_gate`].
    token_gate: usize,
}

impl Parsed {
    /// Reads what the matcher needs from a parsed regex.
    pub(crate) fn new(hir: Hir) -> Parsed {
        Parsed {
            token_gate: token_gate(&hir),
            hir: Some(hir),
        }
    }
}

/// The regex dialect of rules: bytes, ASCII classes, no Unicode (the regex crate documents Unicode classes as far slower).
fn syntax_config() -> syntax::Config {
    syntax::Config::new().unicode(false).utf8(false)
}

/// Compiles a parsed regex of the rule dialect. `meta::Builder::build` parses the pattern
/// with [`syntax_config`] and calls this same builder, so the result is the same regex.
fn build_hir(hir: &Hir) -> Result<Regex, String> {
    Regex::builder()
        .build_from_hir(hir)
        .map_err(|e| e.to_string())
}

/// Compiles `pattern` in the rule dialect.
pub fn build_regex(pattern: &str) -> Result<Regex, String> {
    Regex::builder()
        .syntax(syntax_config())
        .build(pattern)
        .map_err(|e| {
            // The meta error wraps the syntax error; show the innermost readable text.
            match e.syntax_error() {
                Some(se) => se
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .to_string(),
                None => e.to_string(),
            }
        })
}

/// [`parse_regex`], for the tests: the rule's token gate (see [`Rule::token_gate`]).
#[cfg(test)]
pub(crate) fn check_regex(pattern: &str) -> Result<usize, String> {
    parse_regex(pattern).map(|p| p.token_gate)
}

/// Parses `pattern` in the rule dialect without compiling it: catches every syntax error at
/// load time for a fraction of the cost of building the matcher.
pub(crate) fn parse_regex(pattern: &str) -> Result<Parsed, String> {
    syntax::parse_with(pattern, &syntax_config())
        .map(Parsed::new)
        .map_err(|e| {
            e.to_string()
                .lines()
                .last()
                .unwrap_or("")
                .trim()
                .to_string()
        })
}

/// The shortest run of token bytes (`A-Z a-z 0-9 + / - _`) the `secret` group can match, when
/// it only matches such bytes and at least [`TOKEN_RUN`] of them (else 0): a window without
/// that long a run cannot match.
fn token_gate(hir: &Hir) -> usize {
    fn secret(h: &Hir) -> Option<&Hir> {
        match h.kind() {
            HirKind::Capture(c) if c.name.as_deref() == Some("secret") => Some(&c.sub),
            HirKind::Capture(c) => secret(&c.sub),
            HirKind::Repetition(r) => secret(&r.sub),
            HirKind::Concat(hs) | HirKind::Alternation(hs) => hs.iter().find_map(secret),
            _ => None,
        }
    }
    fn in_alphabet(h: &Hir) -> bool {
        let token = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_');
        match h.kind() {
            HirKind::Empty | HirKind::Look(_) => true,
            HirKind::Literal(l) => l.0.iter().all(|&b| token(b)),
            HirKind::Class(Class::Bytes(c)) => c.iter().all(|r| (r.start()..=r.end()).all(token)),
            HirKind::Class(Class::Unicode(c)) => c.iter().all(|r| {
                (u32::from(r.start())..=u32::from(r.end())).all(|c| c < 0x80 && token(c as u8))
            }),
            HirKind::Repetition(r) => in_alphabet(&r.sub),
            HirKind::Capture(c) => in_alphabet(&c.sub),
            HirKind::Concat(hs) | HirKind::Alternation(hs) => hs.iter().all(in_alphabet),
        }
    }
    secret(hir)
        .filter(|s| in_alphabet(s))
        .and_then(|s| s.properties().minimum_len())
        .filter(|&n| n >= TOKEN_RUN)
        .unwrap_or(0)
}

/// Whether `h` holds a repetition that makes a lazy DFA large: any number (or more than 64)
/// of a class of 128 bytes or more, such as the `[^\n]*` of a context rule's
/// `(?:[^\n]*\n){0,6}?[^\n]*?` (each position the repetition may have reached is a
/// different state).
fn is_wide(h: &Hir) -> bool {
    fn class_len(h: &Hir) -> usize {
        match h.kind() {
            HirKind::Class(Class::Bytes(c)) => c.iter().map(|r| r.len()).sum(),
            HirKind::Class(Class::Unicode(c)) => c.iter().map(|r| r.len()).sum(),
            _ => 0,
        }
    }
    match h.kind() {
        HirKind::Repetition(r) => {
            (r.max.is_none_or(|m| m > 64) && class_len(&r.sub) >= 128) || is_wide(&r.sub)
        }
        HirKind::Capture(c) => is_wide(&c.sub),
        HirKind::Concat(hs) | HirKind::Alternation(hs) => hs.iter().any(is_wide),
        _ => false,
    }
}

/// Whether `h` holds the `secret` group.
fn has_secret(h: &Hir) -> bool {
    match h.kind() {
        HirKind::Capture(c) => c.name.as_deref() == Some("secret") || has_secret(&c.sub),
        HirKind::Repetition(r) => has_secret(&r.sub),
        HirKind::Concat(hs) | HirKind::Alternation(hs) => hs.iter().any(has_secret),
        _ => false,
    }
}

/// A regex that matches the end of every match of `h` (a suffix of every string `h`
/// matches, ending where it ends), with no wide part (see [`is_wide`]): `h` itself when it
/// has none; after a concatenation's last wide element; each branch's for an alternation;
/// the empty regex (a suffix of anything) for a wide repetition. Look-arounds are kept as they
/// are, so they see the same bytes.
fn wide_suffix(h: &Hir) -> Hir {
    if !is_wide(h) {
        return h.clone();
    }
    match h.kind() {
        HirKind::Concat(hs) => {
            let last = hs.iter().rposition(is_wide).unwrap_or(0);
            let mut rest = vec![wide_suffix(&hs[last])];
            rest.extend(hs[last + 1..].iter().cloned());
            Hir::concat(rest)
        }
        HirKind::Alternation(hs) => Hir::alternation(hs.iter().map(wide_suffix).collect()),
        // Without its name: a `secret` group cut short must not be mistaken for the secret.
        HirKind::Capture(c) => wide_suffix(&c.sub),
        HirKind::Repetition(r) if r.min > 0 && is_wide(&r.sub) => wide_suffix(&r.sub),
        _ => Hir::empty(),
    }
}

/// The context gate of a regex (see [`Rule::context_gate`]): for a top-level concatenation
/// with a wide element before its `secret` group, the elements from there up to the next wide
/// element, the first cut to its [`wide_suffix`]. Every match of the regex contains a match
/// of it, since those elements match consecutive bytes of every match and a look-around
/// sees the whole input either way.
///
/// A regex with no wide part before its secret that starts with its own keywords (`(?i:binance|kraken|…)`, which
/// the keyword prefilter found already and which are dense where they occur at all) followed
/// by a label before the secret gets the elements after the keywords as its gate instead, and
/// one anchored at a line start the elements from its label on (see [`line_anchored_label`]).
/// Either way the gate is a run of consecutive elements of the regex's concatenation, so it
/// matches inside every match of the regex, by the same argument.
fn context_gate(hir: &Hir, keywords: &[String]) -> Option<Hir> {
    let HirKind::Concat(hs) = hir.kind() else {
        return None;
    };
    let k = hs.iter().position(has_secret)?;
    if is_wide(&hs[k]) {
        return None;
    }
    let end = hs[k..].iter().position(is_wide).map_or(hs.len(), |j| k + j);
    let (first, mut parts) = match hs[..k].iter().rposition(is_wide) {
        Some(first) => (first + 1, vec![wide_suffix(&hs[first])]),
        // The longest run of leading elements that is keywords (the parser lifts a common
        // prefix, `acme|acmecorp` → `acme(?:|corp)`), leaving at least a label before the secret.
        None => {
            let after = (1..k)
                .rev()
                .find(|&j| are_keywords(&Hir::concat(hs[..j].to_vec()), keywords))
                .or_else(|| line_anchored_label(hs, k))?;
            (after, Vec::new())
        }
    };
    parts.extend(hs[first..end].iter().cloned());
    Some(Hir::concat(parts))
}

/// For a regex anchored at a line start (`(?m)^[ \t]*…(?i:password|pwd)…`), the first element
/// before the secret from which on the regex starts with literals of 3 bytes or more: the
/// label. The line-start anchor and the optional, literal-free prefix before the label give
/// the regex no literal prefix, so its search runs the lazy DFA over every byte of every
/// window, while a gate that starts at the label gets a literal prefilter and only runs the DFA
/// where the label occurs (the password-literal rules over gen-small, where `password` is
/// common in comments and names but assignments of literals are not; bench/RESULTS.md, issue
/// 20, session 7).
fn line_anchored_label(hs: &[Hir], k: usize) -> Option<usize> {
    use regex_syntax::hir::Look;
    if !matches!(
        hs.first()?.kind(),
        HirKind::Look(Look::StartLF | Look::StartCRLF)
    ) {
        return None;
    }
    (1..k).find(|&j| {
        (j + 1..=k).any(|m| {
            folded(&Hir::concat(hs[j..m].to_vec()))
                .is_some_and(|all| all.iter().all(|l| l.len() >= 3))
        })
    })
}

/// The strings `h` matches, lowercased, when it is a small finite set of case-insensitive
/// literals.
fn folded(h: &Hir) -> Option<Vec<Vec<u8>>> {
    match h.kind() {
        HirKind::Literal(l) => Some(vec![l.0.to_ascii_lowercase()]),
        HirKind::Class(Class::Bytes(c)) => {
            let mut bytes = c.iter().flat_map(|r| r.start()..=r.end());
            let first = bytes.next()?.to_ascii_lowercase();
            bytes
                .all(|b| b.to_ascii_lowercase() == first)
                .then(|| vec![vec![first]])
        }
        HirKind::Empty => Some(vec![Vec::new()]),
        HirKind::Capture(c) => folded(&c.sub),
        // `acme(?:corp)?`: the parser's factoring of `acme|acmecorp`.
        HirKind::Repetition(r) if r.max == Some(1) => {
            let mut all = folded(&r.sub)?;
            if r.min == 0 {
                all.push(Vec::new());
            }
            Some(all)
        }
        HirKind::Alternation(hs) => {
            let mut all = Vec::new();
            for h in hs {
                all.extend(folded(h)?);
            }
            (all.len() <= 256).then_some(all)
        }
        HirKind::Concat(hs) => {
            let mut all = vec![Vec::new()];
            for h in hs {
                let next = folded(h)?;
                all = all
                    .iter()
                    .flat_map(|a| next.iter().map(move |b| [&a[..], &b[..]].concat()))
                    .collect();
                if all.len() > 256 {
                    return None;
                }
            }
            Some(all)
        }
        _ => None,
    }
}

/// Whether every string `h` matches is one of `keywords` (lowercase) up to ASCII case.
fn are_keywords(h: &Hir, keywords: &[String]) -> bool {
    folded(h).is_some_and(|all| {
        all.iter()
            .all(|l| !l.is_empty() && keywords.iter().any(|k| k.as_bytes() == &l[..]))
    })
}

/// The largest count a gate keeps in a counted repetition (see [`loosened`]).
const GATE_COUNT_CAP: u32 = 16;

/// `h` without its groups and with every counted repetition whose count exceeds
/// [`GATE_COUNT_CAP`] made open-ended from at most that count (`[A-Za-z0-9]{64}` →
/// `[A-Za-z0-9]{16,}`, `[a-z]{0,40}` → `[a-z]*`): it matches every string `h` matches (and
/// more), so a window where it does not match holds no match of `h`; look-arounds are kept.
///
/// A lazy DFA spends a state per position a count may have reached, for every count the
/// input is in at once, and the NFA a copy of the repeated class per count: the gates of
/// the exchange rules (a label, then `[A-Za-z0-9]{64}`) each built tens of thousands of
/// transitions over ccxt, ~4,000 instructions each. Capping the context gates at 16 took
/// ccxt from 1,289M to 1,206M instructions (at 8: 1,225M; with the whole-regex gates, 12 and
/// 24 gave 1,167M and 1,214M against 16's 1,153M), and let through 14 more of its 12,506
/// windows (bench/RESULTS.md, issue 20, session 10).
fn loosened(h: &Hir) -> Hir {
    match h.kind() {
        HirKind::Repetition(r) => {
            let sub = Box::new(loosened(&r.sub));
            // A small bounded count stays; any other becomes open-ended from at most the cap
            // (an open-ended one from a small minimum is thereby unchanged).
            let (min, max) = match r.max {
                Some(max) if max <= GATE_COUNT_CAP => (r.min, Some(max)),
                _ => (r.min.min(GATE_COUNT_CAP), None),
            };
            Hir::repetition(regex_syntax::hir::Repetition {
                min,
                max,
                greedy: r.greedy,
                sub,
            })
        }
        HirKind::Capture(c) => loosened(&c.sub),
        HirKind::Concat(hs) => Hir::concat(hs.iter().map(loosened).collect()),
        HirKind::Alternation(hs) => Hir::alternation(hs.iter().map(loosened).collect()),
        _ => h.clone(),
    }
}

/// A compiled context gate, shared by the rules whose gates are the same regex.
type SharedGate = Arc<OnceLock<Option<Gate>>>;

/// A compiled context gate (see [`Rule::context_gate`]): a forward lazy DFA with the literal
/// prefilter of the gate's prefixes, and a search cache the threads share.
///
/// A gate only answers whether it matches, which needs neither where a match starts nor its
/// groups; `meta::Regex` also builds a reverse NFA, a one-pass DFA and for some regexes a
/// reverse-inner prefilter, which were ~40 % of compiling a gate on ccxt (bench/RESULTS.md,
/// issue 20, session 8). The prefilter is the one the meta regex would have built from the
/// same prefixes (`Prefilter::from_hir_prefix`). Where the lazy DFA cannot answer (it gives
/// up when its cache thrashes, or failed to build) the gate's meta regex, compiled then,
/// answers instead: the answer is the same either way, only slower.
///
/// The cache: a gate's lazy DFA builds its states as windows reach them, ~5,000 instructions a
/// transition; with one cache per thread each thread built the same states again.
#[derive(Debug)]
pub struct Gate {
    hir: Hir,
    dfa: Option<hybrid::dfa::DFA>,
    shared_cache: Mutex<Option<hybrid::dfa::Cache>>,
    /// Caches for the threads that find the shared one taken.
    private_caches: Mutex<Vec<hybrid::dfa::Cache>>,
    fallback: OnceLock<Option<Regex>>,
}

impl Gate {
    /// Compiles `hir`; `None` when it cannot be compiled at all (a size limit).
    fn new(hir: Hir) -> Option<Gate> {
        let dfa = forward_dfa(&hir);
        let gate = Gate {
            hir,
            dfa,
            shared_cache: Mutex::new(None),
            private_caches: Mutex::new(Vec::new()),
            fallback: OnceLock::new(),
        };
        if gate.dfa.is_none() {
            gate.fallback()?;
        }
        Some(gate)
    }

    /// The gate as a meta regex, compiled on first use.
    fn fallback(&self) -> Option<&Regex> {
        self.fallback
            .get_or_init(|| build_hir(&self.hir).ok())
            .as_ref()
    }

    /// Whether the gate matches in `input`: with the shared cache when no other thread holds
    /// it (`try_lock` never waits), else with a private one.
    pub fn is_match<'h>(&self, input: impl Into<Input<'h>>) -> bool {
        let input = input.into().earliest(true);
        if let Some(dfa) = &self.dfa {
            let found = match self.shared_cache.try_lock() {
                Ok(mut shared) => {
                    let cache = shared.get_or_insert_with(|| dfa.create_cache());
                    dfa.try_search_fwd(cache, &input)
                }
                Err(_) => {
                    let taken = self.private_caches.lock().ok().and_then(|mut v| v.pop());
                    let mut cache = taken.unwrap_or_else(|| dfa.create_cache());
                    let found = dfa.try_search_fwd(&mut cache, &input);
                    if let Ok(mut v) = self.private_caches.lock() {
                        v.push(cache);
                    }
                    found
                }
            };
            if let Ok(found) = found {
                return found.is_some();
            }
        }
        self.fallback().is_some_and(|re| re.is_match(input))
    }
}

/// The forward lazy DFA of a gate, configured as `meta::Regex` configures its own (minus the
/// reverse DFA it pairs it with); `None` if it does not build.
fn forward_dfa(hir: &Hir) -> Option<hybrid::dfa::DFA> {
    use regex_automata::MatchKind;
    use regex_automata::nfa::thompson;
    let nfa = thompson::Compiler::new()
        .configure(thompson::Config::new().which_captures(thompson::WhichCaptures::None))
        .build_from_hir(hir)
        .ok()?;
    let pre = prefix_prefilter(hir);
    let config = hybrid::dfa::Config::new()
        .match_kind(MatchKind::LeftmostFirst)
        .specialize_start_states(pre.is_some())
        .prefilter(pre)
        .unicode_word_boundary(true)
        .minimum_cache_clear_count(Some(3))
        .minimum_bytes_per_state(Some(10));
    hybrid::dfa::Builder::new()
        .configure(config)
        .build_from_nfa(nfa)
        .ok()
}

/// The prefilter `Prefilter::from_hir_prefix` builds for `hir` (the same literals, extracted
/// and optimised the same way), built once per process for each set of literals: the gates
/// of the exchange rules differ in their secrets but start with the same few labels (`key`,
/// `secret`, `passphrase`, …), and building the prefilter (a Teddy searcher and an
/// Aho-Corasick DFA) was ~280,000 instructions a gate on ccxt (bench/RESULTS.md, issue 20,
/// session 10). Built outside the lock: two threads may build the same one, and the first
/// kept wins.
fn prefix_prefilter(hir: &Hir) -> Option<regex_automata::util::prefilter::Prefilter> {
    use regex_automata::MatchKind;
    use regex_automata::util::prefilter::Prefilter;
    use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};
    type Built = Vec<(Vec<Vec<u8>>, Option<Prefilter>)>;
    static BUILT: Mutex<Built> = Mutex::new(Vec::new());
    let mut seq = Seq::empty();
    seq.union(&mut Extractor::new().kind(ExtractKind::Prefix).extract(hir));
    seq.optimize_for_prefix_by_preference();
    let literals: Vec<Vec<u8>> = seq
        .literals()?
        .iter()
        .map(|l| l.as_bytes().to_vec())
        .collect();
    let find = |built: &Built| {
        built
            .iter()
            .find(|(l, _)| *l == literals)
            .map(|(_, p)| p.clone())
    };
    if let Some(pre) = find(&BUILT.lock().unwrap_or_else(|e| e.into_inner())) {
        return pre;
    }
    let pre = Prefilter::new(MatchKind::LeftmostFirst, &literals);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(first) = find(&built) {
        return first;
    }
    built.push((literals, pre.clone()));
    pre
}

/// The compiled gate for `gate`, built once per process for all the rules that have it: the
/// exchanges whose secrets share a format and label have the same gate (6 passphrase rules, 5
/// key rules, …: 195 gates, 176 distinct), and compiling one costs 1.5–2M instructions, its
/// lazy-DFA states again for every copy (bench/RESULTS.md, issue 20, session 7). Two gates are
/// shared only when their syntax trees are equal, so a rule gets exactly the regex it would
/// have compiled itself. The lock covers the look-up only; a gate compiles outside it.
fn shared_gate(gate: Hir) -> SharedGate {
    static GATES: Mutex<Vec<(Hir, SharedGate)>> = Mutex::new(Vec::new());
    let slot = {
        let mut gates = GATES.lock().unwrap_or_else(|e| e.into_inner());
        match gates.iter().find(|(h, _)| *h == gate) {
            Some((_, slot)) => slot.clone(),
            None => {
                let slot = SharedGate::default();
                gates.push((gate.clone(), slot.clone()));
                slot
            }
        }
    };
    slot.get_or_init(|| Gate::new(gate));
    slot
}

impl Rule {
    /// Builds a rule whose regex has already been checked by [`build_regex`].
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(parts: RuleParts) -> Rule {
        Rule {
            id: parts.id,
            name: parts.name,
            provider: parts.provider,
            keywords: parts.keywords,
            keywords_exact: parts.keywords_exact,
            pattern: parts.pattern,
            detector: parts.detector,
            regex: OnceLock::new(),
            gate: OnceLock::new(),
            shared_cache: Mutex::new(None),
            compile_error: OnceLock::new(),
            entropy: parts.entropy,
            validator: parts.validator,
            severity: parts.severity,
            confidence: parts.confidence,
            tags: parts.tags,
            references: parts.references,
            remediation: parts.remediation,
            examples: parts.examples,
            negative_examples: parts.negative_examples,
            prefilter: parts.prefilter,
            window_before: parts.window_before,
            window_after: parts.window_after,
            parsed: parts.parsed.map(OnceLock::from).unwrap_or_default(),
            stopwords: parts.stopwords,
            placeholder_filter: parts.placeholder_filter,
            credential: parts.credential,
            part: parts.part,
            shadows: parts.shadows,
            skip_paths: parts.skip_paths,
            origin: parts.origin,
        }
    }

    /// Whether `path` (as reported, `/`-separated; archive members after `!/`) is one of the
    /// rule's `skip_paths`: a directory entry (`docs/`) matches any directory component, any
    /// other entry a suffix of the file name.
    pub fn skips_path(&self, path: &str) -> bool {
        if self.skip_paths.is_empty() {
            return false;
        }
        let lower = path.to_ascii_lowercase();
        let (dirs, name) = match lower.rfind(['/', '\\']) {
            Some(i) => (&lower[..=i], &lower[i + 1..]),
            None => ("", lower.as_str()),
        };
        self.skip_paths.iter().any(|p| match p.strip_suffix('/') {
            Some(dir) => dirs
                .split(['/', '\\', '!'])
                .any(|component| component == dir.trim_start_matches('/')),
            None => name.ends_with(p.as_str()),
        })
    }

    /// The compiled regex, built on first use.
    pub fn regex(&self) -> &Regex {
        self.regex.get_or_init(|| {
            // Syntax was checked at load time; only a size limit can fail here. Keep the
            // reason so the caller can say so (see `RuleSet::compile_warnings`) rather than
            // lose the rule silently.
            let built = match &self.parsed().hir {
                Some(hir) => build_hir(hir),
                None => build_regex(&self.pattern),
            };
            built.unwrap_or_else(|e| {
                let _ = self.compile_error.set(e);
                build_regex(r"[^\x00-\xFF]").expect("a regex that never matches compiles")
            })
        })
    }

    /// The parsed regex, parsed on first use.
    fn parsed(&self) -> &Parsed {
        self.parsed.get_or_init(|| {
            parse_regex(&self.pattern).unwrap_or(Parsed {
                hir: None,
                token_gate: 0,
            })
        })
    }

    /// A regex that matches inside every match of the rule's regex, compiled without its
    /// groups as a forward lazy DFA, or `None` for a detector rule or a pattern that does not
    /// parse. A window where it does not match cannot hold a match, and is skipped without
    /// running (or compiling) the rule's regex. It is the rule's context gate (see
    /// [`context_gate`]) when it has one, else the whole regex, either way [`loosened`].
    ///
    /// The context gate: the part from the end of a multi-line context
    /// (`(?:[^\n]*\n){0,6}?[^\n]*?`) to the end of the `secret` group and what follows it,
    /// i.e. label, assignment and secret; the exchange rules' regexes, whose lazy DFAs are
    /// large and slow to build, are skipped on the ccxt bundles, where the exchange names are
    /// everywhere but labelled secrets are not (bench/RESULTS.md, issue 20, session 6).
    ///
    /// The whole regex, for a rule without a context gate: most windows of such a rule hold no
    /// match (on ccxt, 47 of the 53 regexes without one matched in none of their windows), and
    /// a gate costs about a third of the rule's `meta::Regex` to compile (no reverse NFA, no
    /// one-pass DFA, no reverse-inner prefilter), so the regex is compiled only for the rules
    /// that have a window that matches (bench/RESULTS.md, issue 20, session 10).
    pub fn gate(&self) -> Option<&Gate> {
        if self.detector.is_some() {
            return None;
        }
        self.gate
            .get_or_init(|| {
                let hir = self.parsed().hir.as_ref()?;
                let gate = context_gate(hir, &self.keywords);
                Some(shared_gate(loosened(gate.as_ref().unwrap_or(hir))))
            })
            .as_ref()?
            .get()?
            .as_ref()
    }

    /// Runs `f` with the compiled regex and a search cache: the rule's shared one when no
    /// other thread holds it, else `private` (the calling thread's own, created on first use).
    ///
    /// A lazy DFA builds its states as the input reaches them, which is costly for the
    /// context rules (a few thousand instructions a transition); with one cache per thread,
    /// as the regex's own pool keeps them, every thread builds the same states again
    /// (measured on ccxt: 852M instructions of determinization with one thread, ~1.5G with
    /// two). Sharing one cache when it is free builds them once; `try_lock` never waits, so a
    /// rule that runs over whole files never serialises the threads.
    pub fn with_regex<R>(
        &self,
        private: &mut Option<Box<Cache>>,
        f: impl FnOnce(&Regex, &mut Cache) -> R,
    ) -> R {
        let re = self.regex();
        if let Ok(mut shared) = self.shared_cache.try_lock() {
            let cache = shared.get_or_insert_with(|| Box::new(re.create_cache()));
            return f(re, cache);
        }
        f(
            re,
            private.get_or_insert_with(|| Box::new(re.create_cache())),
        )
    }

    /// The shortest token run the rule's `secret` group needs, 0 for no gate (read when the
    /// regex is parsed, see [`parse_regex`]). A built-in pattern that fails to parse gets no gate; its regex then
    /// reports the failure through [`Rule::compile_error`].
    pub fn token_gate(&self) -> usize {
        self.parsed().token_gate
    }

    /// Why the regex could not be compiled, if [`Rule::regex`] was called and failed: the
    /// rule then matches nothing.
    pub fn compile_error(&self) -> Option<&str> {
        self.compile_error.get().map(String::as_str)
    }

    /// Whether the rule's regex has been compiled (for start-up measurements and tests).
    pub fn is_compiled(&self) -> bool {
        self.regex.get().is_some()
    }
}

/// Plain-data constructor arguments for [`Rule::new`].
#[derive(Debug, Default)]
pub(crate) struct RuleParts {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub keywords: Vec<String>,
    pub keywords_exact: Vec<String>,
    pub pattern: String,
    pub detector: Option<Detector>,
    pub entropy: Option<f64>,
    pub validator: Validator,
    pub severity: Severity,
    pub confidence: Confidence,
    pub tags: Vec<String>,
    pub references: Vec<String>,
    pub remediation: String,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
    pub prefilter: bool,
    pub window_before: usize,
    pub window_after: usize,
    /// The parsed pattern; `None`: parsed on first use.
    pub parsed: Option<Parsed>,
    pub stopwords: Vec<String>,
    pub placeholder_filter: bool,
    pub credential: Option<String>,
    pub part: Option<String>,
    pub shadows: Vec<String>,
    pub skip_paths: Vec<String>,
    pub origin: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules of one TOML text, as a user's rules file would load.
    fn rules_from(toml: &str) -> crate::rules::RuleSet {
        let mut rules = crate::rules::RuleSet::default();
        rules
            .add_file(std::path::Path::new("t.toml"), toml)
            .expect("rules load");
        rules
    }

    #[test]
    fn skip_paths_are_file_name_suffixes_or_directory_names() {
        let rule = |skip: &str| {
            format!(
                "[[rule]]\nid = \"demo\"\nname = \"Demo\"\nkeywords = [\"demo_\"]\nregex = '''demo_[0-9]{{4}}'''\nseverity = \"high\"\nconfidence = \"high\"\nskip_paths = [{skip}]\n"
            )
        };
        let rules = rules_from(&rule(r#"".MD", "docs/", ".example.json""#));
        let r = &rules.rules()[0];
        for p in [
            "README.md",
            "a/b/Guide.MD",
            "docs/x.yml",
            "site/docs/y.py",
            "c.example.json",
            "pkg.whl!/docs/z.py",
        ] {
            assert!(r.skips_path(p), "{p}");
        }
        for p in [
            "config.yml",
            "docsite/x.yml",
            "md",
            "mydocs/a.py",
            "example.json",
            "<stdin>",
            "x.md.bak",
        ] {
            assert!(!r.skips_path(p), "{p}");
        }
        for bad in ["\"\"", "\"/\"", "\"*.md\"", "\"a/b/\"", "\"d[ab]/\""] {
            let err = crate::rules::RuleSet::default()
                .add_file(std::path::Path::new("t.toml"), &rule(bad))
                .unwrap_err()
                .to_string();
            assert!(err.contains("skip_paths"), "{bad}: {err}");
        }
    }

    /// A thread that finds the shared cache taken searches with its own, with the same result.
    #[test]
    fn a_held_shared_cache_falls_back_to_the_private_one() {
        let rules = rules_from(
            r#"
[[rule]]
id = "demo"
name = "Demo"
keywords = ["demo_"]
regex = '''\b(?P<secret>demo_[a-z0-9]{8})\b'''
severity = "high"
confidence = "high"
"#,
        );
        let rule = &rules.rules()[0];
        let hay = "x = demo_ab12cd34;";
        let search = |private: &mut Option<Box<Cache>>| {
            rule.with_regex(private, |re, cache| {
                re.search_with(cache, &regex_automata::Input::new(&hay))
            })
        };
        let mut private = None;
        let free = search(&mut private);
        assert!(private.is_none(), "the free shared cache was used");
        let held = rule.shared_cache.lock().expect("not poisoned");
        let busy = std::thread::scope(|s| s.spawn(|| search(&mut private)).join().unwrap());
        drop(held);
        assert!(private.is_some(), "the private cache was used");
        assert_eq!(free, busy);
        assert_eq!(free.map(|m| m.range()), Some(4..17));
    }

    /// A gate whose shared cache another thread holds answers from a cache of its own, with
    /// the same answers.
    #[test]
    fn a_held_gate_cache_falls_back_to_another_cache() {
        let rules = rules_from(
            r#"
[[rule]]
id = "held"
name = "Held"
keywords = ["held"]
regex = '''(?i:held)(?:[^\n]*\n){0,6}?[^\n]*?sekrit[ =]+(?P<secret>[0-9a-f]{16})\b'''
severity = "high"
confidence = "high"
"#,
        );
        let gate = rules.rules()[0].gate().expect("gated");
        let (yes, no) = ("sekrit = 0123456789abcdef", "sekrit = 0123");
        let free = (gate.is_match(yes), gate.is_match(no));
        assert!(
            gate.shared_cache.lock().expect("not poisoned").is_some(),
            "the free shared cache was used"
        );
        let held = gate.shared_cache.lock().expect("not poisoned");
        let busy = std::thread::scope(|s| {
            s.spawn(|| (gate.is_match(yes), gate.is_match(no)))
                .join()
                .unwrap()
        });
        drop(held);
        assert_eq!(free, (true, false));
        assert_eq!(busy, free);
    }

    fn gate_of(pattern: &str) -> Option<Regex> {
        let hir = syntax::parse_with(pattern, &syntax_config()).expect("parses");
        context_gate(&hir, &["acme".to_string()]).map(|g| build_hir(&g).expect("gate compiles"))
    }

    #[test]
    fn the_context_gate_is_the_label_and_secret_after_the_context() {
        let gate = gate_of(
            r"(?i:acme)(?:[_.-]?key|(?:[^\n]*\n){0,6}?[^\n]*?(?i:secret|\btoken\b))[ \t]*=[ \t]*(?P<secret>[0-9a-f]{16})(?:[^0-9a-z]|$)",
        )
        .expect("a context rule has a gate");
        // The label (either branch), the assignment and the secret; not the provider name.
        for hay in [
            "SECRET = 0123456789abcdef",
            "_key=0123456789abcdef",
            "token=0123456789abcdef",
        ] {
            assert!(gate.is_match(hay), "{hay}");
        }
        for hay in [
            "acme\nacme\nfoo = 0123456789abcdef",
            "secret = 0123456789abcdefff",
            "mytokens=0123456789abcdef",
            "secret = 0123",
        ] {
            assert!(!gate.is_match(hay), "{hay}");
        }
    }

    #[test]
    fn a_context_gate_stops_at_the_next_wide_part_and_needs_a_secret() {
        let gate = gate_of(r"acme[^\n]*?key=(?P<secret>[0-9]{8})[^\n]*end").unwrap();
        assert!(
            gate.is_match("key=01234567"),
            "the `[^\\n]*end` after it is not needed"
        );
        // No multi-line context, the secret inside the wide part, no secret group at all.
        for pattern in [
            r"acme_key=(?P<secret>[0-9]{8})",
            r"acme(?P<secret>[^\n]*)",
            r"acme[^\n]*?key=[0-9]{8}",
        ] {
            assert!(gate_of(pattern).is_none(), "{pattern}");
        }
    }

    #[test]
    fn a_regex_that_starts_with_its_keywords_is_gated_on_what_follows_them() {
        let pattern = r"(?i:acme|acmecorp)(?i:[_.-]?token)=(?P<secret>[0-9a-f]{16})\b";
        let hir = syntax::parse_with(pattern, &syntax_config()).unwrap();
        let keywords = ["acme".to_string(), "acmecorp".to_string()];
        let gate = build_hir(&context_gate(&hir, &keywords).expect("gated")).unwrap();
        assert!(gate.is_match("_token=0123456789abcdef"));
        assert!(!gate.is_match("acme_key=0123456789abcdef"));
        // Not when the leading literals are not all keywords, nor without a label before the
        // secret.
        assert!(context_gate(&hir, &keywords[1..]).is_none());
        let bare = syntax::parse_with(r"(?i:acme)(?P<secret>[0-9a-f]{16})", &syntax_config());
        assert!(context_gate(&bare.unwrap(), &keywords).is_none());
    }

    #[test]
    fn a_line_anchored_regex_is_gated_from_its_label_on() {
        let pattern = r#"(?m)^[ \t]*(?:export[ \t]+)?["']?(?:[A-Za-z0-9_.-]{0,40}[_.-])?(?i:passw(?:or)?d|pwd)[ \t]*[:=][ \t]*["'](?P<secret>[A-Za-z0-9!@#]{6,})["'][ \t]*$"#;
        let regex = build_regex(pattern).unwrap();
        let gate = gate_of(pattern).expect("gated");
        // Every line the regex matches, the gate matches too (searched in the same text).
        for hay in [
            "password = 'hunter22'",
            "  export DB_PASSWORD: \"Tr0mb0ne\"\n",
            "x\n\tsmtp.pwd='k3st!rel' \ny",
            "db_Passwd = \"abcdef\"",
        ] {
            assert!(regex.is_match(hay), "{hay}");
            assert!(gate.is_match(hay), "{hay}");
        }
        // Windows the regex skips because of the label, the gate skips too: no literal
        // assignment after the label.
        for hay in [
            "# password lexer reader",
            "self.password.get('password', 2153)",
            "password = get_secret()",
        ] {
            assert!(!regex.is_match(hay), "{hay}");
            assert!(!gate.is_match(hay), "{hay}");
        }
        // The gate starts at the label: the prefix before it is not part of it.
        assert!(gate.is_match("not at a line start: password = 'hunter22'"));
        // No gate without the line-start anchor (nor with `\A`, which the prefilter handles),
        // nor when no literal of 3 bytes starts an element before the secret.
        for pattern in [
            r#"[ \t]*(?i:password)[ \t]*=[ \t]*(?P<secret>[a-z0-9]{6,})"#,
            r#"^(?i:password)=(?P<secret>[a-z0-9]{6,})"#,
            r#"(?m)^[ \t]*[a-z]{1,9}:[0-9]+:(?P<secret>[a-z0-9]{6,})"#,
        ] {
            assert!(gate_of(pattern).is_none(), "{pattern}");
        }
    }

    /// Rules whose gates are the same regex share one compiled gate; others do not.
    #[test]
    fn equal_gates_are_compiled_once() {
        let rule = |id: &str, label: &str| {
            format!(
                "[[rule]]\nid = \"{id}\"\nname = \"X\"\nkeywords = [\"{id}\"]\nregex = '''(?i:{id})(?:[^\\n]*\\n){{0,6}}?[^\\n]*?{label}[ =]+(?P<secret>[0-9a-f]{{16}})\\b'''\nseverity = \"high\"\nconfidence = \"high\"\n"
            )
        };
        let text = [
            rule("acme", "secret"),
            rule("globex", "secret"),
            rule("initech", "passphrase"),
        ]
        .concat();
        let rules = rules_from(&text);
        let gate = |i: usize| rules.rules()[i].gate().expect("gated");
        assert!(std::ptr::eq(gate(0), gate(1)), "same gate, one regex");
        assert!(
            !std::ptr::eq(gate(0), gate(2)),
            "another label, another gate"
        );
        assert!(gate(0).is_match("secret = 0123456789abcdef"));
        assert!(!gate(2).is_match("secret = 0123456789abcdef"));
        assert!(gate(2).is_match("passphrase = 0123456789abcdef"));
    }

    /// The gate is only sound if it matches inside every match of its regex: checked on every
    /// built-in rule's examples, searched without the gate.
    #[test]
    fn every_builtin_gate_matches_inside_its_rules_example_matches() {
        let set = crate::rules::RuleSet::builtin().unwrap();
        let (mut gated, mut context) = (0, 0);
        for rule in set.rules().iter().filter(|r| r.detector.is_none()) {
            let gate = rule.gate().expect("every regex rule has a gate");
            gated += 1;
            let hir = rule.parsed().hir.as_ref().expect("parses");
            if context_gate(hir, &rule.keywords).is_some() {
                context += 1;
            }
            for ex in &rule.examples {
                let ex = crate::scan::validate::expand_example(ex);
                for m in rule.regex().find_iter(ex.as_bytes()) {
                    let inside = regex_automata::Input::new(ex.as_bytes()).span(m.range());
                    assert!(gate.is_match(inside), "{}: {ex:?}", rule.id);
                }
            }
        }
        assert!(gated > 400, "every regex rule has a gate ({gated})");
        assert!(
            context > 50,
            "the exchange rules have context gates ({context})"
        );
    }

    /// A loosened regex matches everything the regex matches, with its counts capped.
    #[test]
    fn a_loosened_regex_matches_what_the_regex_matches() {
        let loose = |pattern: &str| {
            let hir = syntax::parse_with(pattern, &syntax_config()).expect("parses");
            build_hir(&loosened(&hir)).expect("compiles")
        };
        let re = loose(r"key=(?P<secret>[a-f0-9]{32})\b");
        assert!(re.is_match(&format!("key={}", "a".repeat(32))));
        assert!(
            re.is_match(&format!("key={}", "a".repeat(16))),
            "capped at 16"
        );
        assert!(!re.is_match(&format!("key={}", "a".repeat(15))));
        assert!(
            !re.is_match(&format!("key={}x", "a".repeat(32))),
            "look-arounds kept"
        );
        assert_eq!(re.group_info().all_group_len(), 1, "no groups");
        let re = loose(r"^[a-z]{0,40}-x{2,3}-y{20,}$");
        assert!(re.is_match(&format!("{}-xx-{}", "a".repeat(60), "y".repeat(16))));
        assert!(
            !re.is_match(&format!("-xxxx-{}", "y".repeat(20))),
            "small counts kept"
        );
    }

    #[test]
    fn token_gate_is_the_secret_length_when_it_is_all_token_bytes() {
        for (pattern, want) in [
            (r"(?i:binance)[^\n]*?(?P<secret>[A-Za-z0-9]{64})\b", 64),
            (r"key=(?P<secret>[a-f0-9]{32}|[A-Z0-9_-]{40,})", 32),
            (r"(?P<secret>ghp_[A-Za-z0-9]{36})", 40),
            // Too short to gate on, a byte outside the token alphabet, no secret group.
            (r"(?P<secret>[a-f0-9]{16})", 0),
            (r"(?P<secret>[A-Za-z0-9+/]{86}==)", 0),
            (r"(?P<secret>eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,})", 0),
            (r"[A-Za-z0-9]{64}", 0),
            (r"(?P<secret>[A-Za-z0-9]{24}|x)", 0),
        ] {
            assert_eq!(check_regex(pattern), Ok(want), "{pattern}");
        }
    }
}
