//! The matcher: keyword prefilter → windowed regex → entropy/placeholder gates → validator.
//!
//! One Aho-Corasick DFA over every rule keyword finds candidate spots. For each rule that had
//! a hit, the hits become byte windows (hit − `window_before` .. hit + `window_after`), merged
//! when they overlap, and the rule's regex runs once per merged window. A file with 600k
//! hits on `secret` therefore costs one regex pass over the merged windows, not 600k
//! (bench/RESULTS.md, the pathological keyword files). Regex searches are bounded to the window but look-around (`\b`) sees the
//! bytes outside it, so a window edge never manufactures a word boundary.

use std::ops::Range;

use regex_automata::Input;
use regex_automata::meta::Cache;
use regex_automata::util::iter::Searcher;

use crate::decode::inline::{Runs, TokenRun};
use crate::rules::{Rule, RuleSet};
use crate::scan::detect::Detector;
use crate::scan::keywords::Keywords;
use crate::scan::unreported::Unreported;
use crate::scan::{MAX_MATCHES_PER_RULE, entropy, known_public, placeholder};

/// A confirmed match of one rule, in byte offsets of the scanned input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMatch {
    /// Index of the rule in the [`RuleSet`].
    pub rule: usize,
    /// Byte range of the secret.
    pub secret: Range<usize>,
    /// Other named groups of the regex (`key`, `passphrase`…), by name.
    pub parts: Vec<(String, Range<usize>)>,
    /// Whether the secret is a published test key.
    pub known_public: bool,
}

/// Compiled prefilter over a rule set. Cheap to share between threads (`Sync`).
#[derive(Debug)]
pub struct Matcher {
    keywords: Keywords,
    /// For each keyword, the rules that own it.
    keyword_rules: Vec<Vec<u32>>,
    /// Rules that run on every input (`prefilter = false`).
    always: Vec<u32>,
}

/// Per-thread scratch space, reused across inputs.
#[derive(Debug, Default)]
pub struct Scratch {
    pub(super) windows: Vec<Vec<(usize, usize)>>,
    pub(super) touched: Vec<u32>,
    pub(super) ranges: Vec<Range<usize>>,
    /// Runs of the input of the last [`Matcher::find`], when `runs_ready`.
    pub(super) runs: Runs,
    pub(super) runs_ready: bool,
    /// Matches of the last [`Matcher::find`] past [`MAX_MATCHES_PER_RULE`] of one rule.
    pub(super) overflow: Unreported,
    /// This thread's regex caches, by rule, for when another thread holds a rule's shared
    /// one (see [`Rule::with_regex`]); boxed, so that a rule without one costs 8 bytes, not
    /// an empty cache's 1,400 (0.8 MB per thread with 597 rules).
    pub(super) caches: Vec<Option<Box<Cache>>>,
}

impl Scratch {
    /// Matches the last [`Matcher::find`] counted but did not return (ranges in its input).
    pub(crate) fn overflow(&mut self) -> &mut Unreported {
        &mut self.overflow
    }

    /// The runs of `hay`, found once per input and shared by the base58 and Solana
    /// detectors, the regex gate and the decoders.
    pub(super) fn runs(&mut self, hay: &[u8]) -> &Runs {
        if !self.runs_ready {
            crate::decode::inline::runs(hay, &mut self.runs);
            self.runs_ready = true;
        }
        &self.runs
    }

    /// The runs of `hay`, which must be the input of the last [`Matcher::find`] with this
    /// scratch (the runs it found are reused).
    pub fn take_runs(&mut self, hay: &[u8]) -> Runs {
        self.runs(hay);
        self.runs_ready = false;
        std::mem::take(&mut self.runs)
    }

    /// Hands back what [`Scratch::take_runs`] returned, so the next input reuses its buffers.
    pub fn restore_runs(&mut self, runs: Runs) {
        self.runs = runs;
        self.runs_ready = false;
    }
}

impl Matcher {
    /// Builds the prefilter for `rules`. Regexes are not compiled here.
    pub fn new(rules: &RuleSet) -> Matcher {
        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<u32>> = Vec::new();
        // Each keyword's index in `keywords` (1,000+ keywords: a linear search each was 5M
        // instructions of start-up, SipHash 1.8M).
        let mut index: foldhash::HashMap<&str, usize> = Default::default();
        let mut always = Vec::new();
        for (i, rule) in rules.rules().iter().enumerate() {
            if !rule.prefilter {
                always.push(i as u32);
                continue;
            }
            for kw in &rule.keywords {
                match index.get(kw.as_str()) {
                    Some(&p) => keyword_rules[p].push(i as u32),
                    None => {
                        index.insert(kw, keywords.len());
                        keywords.push(kw.clone());
                        keyword_rules.push(vec![i as u32]);
                    }
                }
            }
        }
        let keywords = Keywords::new(&keywords);
        Matcher {
            keywords,
            keyword_rules,
            always,
        }
    }

    /// Finds every match of `rules` (the set this matcher was built from) in `hay`: of each
    /// rule the first [`MAX_MATCHES_PER_RULE`] (in window order, i.e. by position), the rest
    /// only counted in the scratch's [`Scratch::overflow`].
    pub fn find(
        &self,
        rules: &RuleSet,
        hay: &[u8],
        scratch: &mut Scratch,
        out: &mut Vec<RawMatch>,
    ) {
        let all = rules.rules();
        if scratch.windows.len() < all.len() {
            scratch.windows.resize_with(all.len(), Vec::new);
        }
        if scratch.caches.len() < all.len() {
            scratch.caches.resize_with(all.len(), || None);
        }
        scratch.touched.clear();
        scratch.runs_ready = false;
        scratch.overflow.clear();
        if super::split::worth_splitting(hay) {
            return super::split::find(self, all, hay, scratch, out);
        }
        self.collect_windows(
            all,
            hay,
            0..hay.len(),
            &mut scratch.windows,
            &mut scratch.touched,
        );
        scratch.touched.sort_unstable();
        let touched = std::mem::take(&mut scratch.touched);
        for &r in &touched {
            let mut windows = std::mem::take(&mut scratch.windows[r as usize]);
            // Hits arrive almost sorted; the merge above caught all but a few overlaps.
            merge_windows(&mut windows);
            let before = out.len();
            let rule = &all[r as usize];
            if rule.token_gate() > 0
                || matches!(
                    rule.detector,
                    Some(Detector::Base58Key | Detector::SolanaKeypairArray)
                )
            {
                scratch.runs(hay);
            }
            let runs = scratch.runs_ready.then_some(&scratch.runs);
            let mut sink = Sink {
                out,
                before,
                overflow: &mut scratch.overflow,
            };
            for &(s, e) in &windows {
                search_window(
                    rule,
                    r as usize,
                    hay,
                    s..e,
                    runs,
                    &mut scratch.ranges,
                    &mut scratch.caches[r as usize],
                    &mut sink,
                );
            }
            finish_rule(out, before);
            windows.clear();
            scratch.windows[r as usize] = windows;
        }
        scratch.touched = touched;
    }

    /// Turns the keyword hits that start in `within` into windows of `hay`, per rule
    /// (`windows[r]`, in hit order, overlapping ones mostly merged), and lists in `touched`
    /// the rules that got their first window here; the rules that run on every input get
    /// the whole of `hay` when `within` starts it.
    pub(super) fn collect_windows(
        &self,
        all: &[Rule],
        hay: &[u8],
        within: Range<usize>,
        windows: &mut [Vec<(usize, usize)>],
        touched: &mut Vec<u32>,
    ) {
        // A keyword starting in `within` lies inside this stretch.
        let to = within
            .end
            .saturating_add(self.keywords.longest().saturating_sub(1))
            .min(hay.len());
        let part = &hay[within.start..to];
        self.keywords.for_each(part, |k, kstart, kend| {
            if within.start + kstart >= within.end {
                return;
            }
            let (kstart, kend) = (within.start + kstart, within.start + kend);
            for &r in &self.keyword_rules[k] {
                let rule = &all[r as usize];
                if !rule.keywords_exact.is_empty()
                    && !rule
                        .keywords_exact
                        .iter()
                        .any(|e| e.as_bytes() == &hay[kstart..kend])
                {
                    continue;
                }
                let start = kstart.saturating_sub(rule.window_before);
                let end = (kend + rule.window_after).min(hay.len());
                let w = &mut windows[r as usize];
                if w.is_empty() {
                    touched.push(r);
                }
                match w.last_mut() {
                    Some(last) if start <= last.1 && end >= last.0 => {
                        last.0 = last.0.min(start);
                        last.1 = last.1.max(end);
                    }
                    _ => w.push((start, end)),
                }
            }
        });
        if within.start == 0 {
            for &r in &self.always {
                windows[r as usize].push((0, hay.len()));
                touched.push(r);
            }
        }
    }
}

/// Runs one rule over one merged window of `hay` (extended over a token its end cuts), past
/// the rule's token gate and its regex gate (see [`Rule::gate`]). `runs` are the token runs of
/// all of `hay`: required for a rule with a token gate or a base58/Solana detector.
#[allow(clippy::too_many_arguments)]
pub(super) fn search_window(
    rule: &Rule,
    index: usize,
    hay: &[u8],
    window: Range<usize>,
    runs: Option<&Runs>,
    ranges: &mut Vec<Range<usize>>,
    cache: &mut Option<Box<Cache>>,
    sink: &mut Sink<'_>,
) {
    let s = window.start;
    let e = extend_over_token(hay, window.end);
    let gate = rule.token_gate();
    if gate > 0
        && !has_token_run(
            &runs.expect("runs are found for gated rules").tokens,
            s,
            e,
            gate,
        )
    {
        return;
    }
    if let Some(g) = rule.gate()
        && !g.is_match(Input::new(hay).span(s..e))
    {
        return;
    }
    run_rule(rule, index, hay, s..e, runs, ranges, cache, sink);
}

/// Drops the repeats among one rule's matches, `out[before..]`: overlapping windows that were
/// not merged (rare) can repeat a match.
pub(super) fn finish_rule(out: &mut Vec<RawMatch>, before: usize) {
    dedupe(&mut out[before..]);
    let mut seen = before;
    for i in before..out.len() {
        if out[i].rule != usize::MAX {
            out.swap(seen, i);
            seen += 1;
        }
    }
    out.truncate(seen);
}

/// Whether a token run overlaps `s..e` by at least `len` bytes (`runs` is sorted).
fn has_token_run(runs: &[TokenRun], s: usize, e: usize, len: usize) -> bool {
    let first = runs.partition_point(|r| r.end <= s);
    runs[first..]
        .iter()
        .take_while(|r| r.start < e)
        .any(|r| r.end.min(e) - r.start.max(s) >= len)
}

/// Longest stretch a window end is moved forward by [`extend_over_token`].
const MAX_WINDOW_EXTENSION: usize = 64 * 1024;

/// Moves a window end that falls inside a token (base64url, JWT, URL-safe bytes) past the
/// token's end and the byte after it (which a regex may consume as the token's delimiter), so
/// a window never cuts the secret a regex would match: a 2 KB RS256 JWT whose keyword is its
/// first bytes is matched whole, not missed because its tail fell outside the 512-byte window.
fn extend_over_token(hay: &[u8], end: usize) -> usize {
    let is_token = |b: u8| {
        b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'.' | b'=' | b'%')
    };
    if end == 0 || end >= hay.len() || !is_token(hay[end - 1]) {
        return end;
    }
    let limit = (end + MAX_WINDOW_EXTENSION).min(hay.len());
    hay[end..limit]
        .iter()
        .position(|&b| !is_token(b))
        .map_or(limit, |p| end + p + 1)
}

/// Sorts windows and merges the overlapping ones.
pub(super) fn merge_windows(w: &mut Vec<(usize, usize)>) {
    if w.len() < 2 {
        return;
    }
    w.sort_unstable();
    let mut n = 0;
    for i in 1..w.len() {
        if w[i].0 <= w[n].1 {
            w[n].1 = w[n].1.max(w[i].1);
        } else {
            n += 1;
            w[n] = w[i];
        }
    }
    w.truncate(n + 1);
}

/// Marks later duplicates (same rule, same secret range) with `rule = usize::MAX`.
fn dedupe(ms: &mut [RawMatch]) {
    ms.sort_by_key(|m| (m.secret.start, m.secret.end));
    for i in 1..ms.len() {
        if ms[i].secret == ms[i - 1].secret {
            ms[i].rule = usize::MAX;
        }
    }
}

/// Where one rule's matches in one input go: the first [`MAX_MATCHES_PER_RULE`] to `out`
/// (from `before` on), the others are counted and their ranges kept to hide.
pub(super) struct Sink<'a> {
    pub out: &'a mut Vec<RawMatch>,
    pub before: usize,
    pub overflow: &'a mut Unreported,
}

impl Sink<'_> {
    pub(super) fn push(&mut self, m: RawMatch) {
        if self.out.len() - self.before < MAX_MATCHES_PER_RULE {
            self.out.push(m);
            return;
        }
        self.overflow.count += 1;
        self.overflow.hide(m.secret);
        for (_, r) in m.parts {
            self.overflow.hide(r);
        }
    }
}

/// Runs one rule over one window of `hay`.
/// `runs` are the token runs of all of `hay`, when already found; `cache` is this thread's
/// cache for the rule's regex.
#[allow(clippy::too_many_arguments)]
fn run_rule(
    rule: &Rule,
    index: usize,
    hay: &[u8],
    window: Range<usize>,
    runs: Option<&Runs>,
    ranges: &mut Vec<Range<usize>>,
    cache: &mut Option<Box<Cache>>,
    out: &mut Sink<'_>,
) {
    if let Some(det) = rule.detector {
        ranges.clear();
        if let (Some(runs), true) = (runs, window == (0..hay.len())) {
            det.find_with_runs(hay, runs, ranges);
        } else {
            det.find(&hay[window.clone()], ranges);
        }
        for r in ranges.drain(..) {
            let abs = (window.start + r.start)..(window.start + r.end);
            if let Some(m) = confirm(rule, index, hay, abs, Vec::new()) {
                out.push(m);
            }
        }
        return;
    }
    rule.with_regex(cache, |re, cache| {
        let secret_group = re
            .group_info()
            .to_index(regex_automata::PatternID::ZERO, "secret");
        // `captures_iter`, with the cache given: the same search and empty-match handling.
        let mut it = Searcher::new(Input::new(hay).span(window.clone()));
        let mut caps = re.create_captures();
        let mut longer = re.create_captures();
        loop {
            let _ = it.advance(|input| {
                re.search_captures_with(cache, input, &mut caps);
                Ok(caps.get_match())
            });
            let Some(mut whole) = caps.get_match() else {
                break;
            };
            // A match that reaches the window's end may have been cut by it (a 2 KB JWT after
            // a keyword 512 bytes back): the window must never cap what the regex can match,
            // so the same start is searched again, anchored, up to the end of the input.
            if whole.end() == window.end && window.end < hay.len() {
                let from = Input::new(hay)
                    .span(whole.start()..hay.len())
                    .anchored(regex_automata::Anchored::Yes);
                re.search_captures_with(cache, &from, &mut longer);
                if let Some(m) = longer.get_match()
                    && m.end() > whole.end()
                {
                    std::mem::swap(&mut caps, &mut longer);
                    whole = m;
                }
            }
            let secret = match secret_group.and_then(|g| caps.get_group(g)) {
                Some(s) => s.range(),
                None if secret_group.is_some() => continue,
                None => whole.range(),
            };
            let mut parts = Vec::new();
            for (_, gi, name) in re.group_info().all_names() {
                if let Some(name) = name
                    && name != "secret"
                    && let Some(span) = caps.get_group(gi)
                {
                    parts.push((name.to_string(), span.range()));
                }
            }
            if let Some(m) = confirm(rule, index, hay, secret, parts) {
                out.push(m);
            }
        }
    });
}

/// The gates after a regex match: placeholder, stopwords, entropy, validator, known-public.
fn confirm(
    rule: &Rule,
    index: usize,
    hay: &[u8],
    secret: Range<usize>,
    parts: Vec<(String, Range<usize>)>,
) -> Option<RawMatch> {
    let bytes = &hay[secret.clone()];
    if bytes.is_empty() {
        return None;
    }
    let narrowed = rule.validator.check(bytes)?;
    let secret = (secret.start + narrowed.start)..(secret.start + narrowed.end);
    let bytes = &hay[secret.clone()];
    let public = known_public::is_known_public(bytes);
    if !public {
        if rule.placeholder_filter && placeholder::is_placeholder(bytes) {
            return None;
        }
        if !rule.stopwords.is_empty() {
            let lower = bytes.to_ascii_lowercase();
            if rule
                .stopwords
                .iter()
                .any(|w| placeholder::contains(&lower, w.as_bytes()))
            {
                return None;
            }
        }
        if let Some(min) = rule.entropy
            && entropy::shannon(bytes) < min
        {
            return None;
        }
    }
    Some(RawMatch {
        rule: index,
        secret,
        parts,
        known_public: public,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn set(text: &str) -> RuleSet {
        let mut s = RuleSet::default();
        s.add_file(Path::new("t.toml"), text).unwrap();
        s
    }

    const RULES: &str = r#"
[[rule]]
id = "demo"
name = "Demo"
keywords = ["demo_"]
regex = '''\b(?P<secret>demo_[a-z0-9]{8})\b'''
severity = "high"
confidence = "high"

[[rule]]
id = "ctx"
name = "Context"
keywords = ["acme"]
regex = '''(?i)acme[a-z_]{0,20}\s*=\s*['"]?(?P<secret>[a-f0-9]{16})'''
entropy = 2.5
severity = "high"
confidence = "medium"
"#;

    fn find(rules: &RuleSet, hay: &[u8]) -> Vec<(String, String)> {
        let m = Matcher::new(rules);
        let mut out = Vec::new();
        m.find(rules, hay, &mut Scratch::default(), &mut out);
        out.iter()
            .map(|r| {
                (
                    rules.rules()[r.rule].id.clone(),
                    String::from_utf8_lossy(&hay[r.secret.clone()]).into(),
                )
            })
            .collect()
    }

    #[test]
    fn finds_through_prefilter_and_gates() {
        let rules = set(RULES);
        let got = find(
            &rules,
            b"x = demo_ab12cd34\nACME_KEY = '3f9a1c7e5b2d4086'\nacme_key = 'aaaaaaaaaaaaaaaa'",
        );
        assert_eq!(
            got,
            vec![
                ("demo".into(), "demo_ab12cd34".into()),
                ("ctx".into(), "3f9a1c7e5b2d4086".into())
            ]
        );
    }

    #[test]
    fn window_edges_do_not_fake_word_boundaries() {
        let rules = set(RULES);
        // The keyword sits deep inside a long token: no boundary before `demo_`.
        let mut hay = vec![b'a'; 2000];
        hay.extend_from_slice(b"demo_ab12cd34");
        assert!(find(&rules, &hay).is_empty());
    }

    #[test]
    fn a_keyword_inside_a_longer_one_still_triggers_its_rule() {
        let rules = set(r#"
[[rule]]
id = "short"
name = "Short"
keywords = ["demo"]
regex = '''demo(?P<secret>[0-9]{6})'''
severity = "high"
confidence = "high"

[[rule]]
id = "long"
name = "Long"
keywords = ["xdemox"]
regex = '''xdemox'''
severity = "high"
confidence = "high"
"#);
        let got = find(&rules, b"..xdemox.. demo123456");
        let ids: Vec<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["short", "long"]);
        // `demo` only occurs inside `xdemox` here: the short rule's window is still searched.
        let got = find(&rules, b"xdemo123456x xdemox");
        assert!(
            got.iter().any(|(id, s)| id == "short" && s == "123456"),
            "{got:?}"
        );
    }

    /// A context rule's regex is neither run nor compiled on windows its context gate rules
    /// out (the name everywhere, no labelled secret), and still finds what is there.
    #[test]
    fn a_context_gate_skips_windows_without_a_labelled_secret() {
        let rules = set(r#"
[[rule]]
id = "ctx"
name = "Context"
keywords = ["acme"]
regex = '''(?i:acme)(?:[^\n]*\n){0,6}?[^\n]*?secret[ =]+(?P<secret>[0-9a-f]{16})\b'''
severity = "high"
confidence = "high"
"#);
        let rule = &rules.rules()[0];
        assert!(rule.gate().is_some());
        let hay = "acme.fetch(secret)\nacme = 3f9a1c7e5b2d4086\n".repeat(50);
        assert!(find(&rules, hay.as_bytes()).is_empty());
        assert!(!rule.is_compiled(), "the gate ruled every window out");
        let hay = format!("{hay}acme:\n  x: 1\n  secret = 3f9a1c7e5b2d4086\n");
        assert_eq!(
            find(&rules, hay.as_bytes()),
            vec![("ctx".into(), "3f9a1c7e5b2d4086".into())]
        );
    }

    /// A rule without a context gate is gated on its whole regex: its regex is compiled only
    /// once a window holds a match.
    #[test]
    fn a_regex_is_compiled_only_for_a_window_that_matches() {
        let rules = set(RULES);
        let demo = &rules.rules()[0];
        assert!(demo.gate().is_some());
        let hay = "demo_ab12 demo_ab12cd34x demo_".repeat(50);
        assert!(find(&rules, hay.as_bytes()).is_empty());
        assert!(!demo.is_compiled(), "no window held a match");
        let hay = format!("{hay} demo_ab12cd34");
        assert_eq!(
            find(&rules, hay.as_bytes()),
            vec![("demo".into(), "demo_ab12cd34".into())]
        );
        assert!(demo.is_compiled());
    }

    #[test]
    fn dense_hits_merge_into_one_window() {
        let rules = set(RULES);
        let hay = "demo_ ".repeat(100_000) + "demo_ab12cd34";
        assert_eq!(find(&rules, hay.as_bytes()).len(), 1);
    }
}
