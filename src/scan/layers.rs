//! Decoding layers, driven from the scan: the plain matches first, then every candidate span
//! from [`inline::candidates`] decoded and matched again (depth ≤ [`MAX_DEPTH`]). A decoded
//! finding is reported at the location of its *encoded* bytes in the file, with the chain of
//! layers in `decoded` (outermost first) and the decoded secret as its value, so its
//! fingerprint is the plain one. A secret seen both plain and decoded at the same place is
//! reported once. Notebooks are unescaped as a whole first ([`notebook`]).

use std::ops::Range;

use crate::decode::inline::Decoded;
use crate::decode::map::OffsetMap;
use crate::decode::{MAX_DEPTH, inline, notebook};
use crate::finding::{Finding, Span};
use crate::model::Runs;

use super::assemble::{self, Assembled, Window, span_of, to_finding};
use super::location::LineIndex;
use super::unreported::Unreported;
use super::{Engine, MAX_KEPT, RawMatch, Scratch, group, repeats, shadow};
use crate::finding::Severity;

/// Bytes of the encoded span's line, just before it, matched together with the decoded bytes,
/// so context patterns see the key a value is assigned to (`AWS_SECRET_ACCESS_KEY: <base64>`).
const CONTEXT: usize = 64;

/// One decoding layer, linked to the layer it was found in.
struct Layer<'a> {
    label: &'static str,
    map: &'a OffsetMap,
    /// The decoded bytes of this layer.
    buf: &'a [u8],
    /// Offsets of the parent buffer where a match must start to be reported through this
    /// layer ([`Decoded::owns`]).
    owns: Range<usize>,
    parent: Option<&'a Layer<'a>>,
}

struct Ctx<'a> {
    engine: &'a Engine,
    path: &'a str,
    file: &'a [u8],
    index: LineIndex,
    notebook: Option<&'a notebook::Notebook>,
    findings: Vec<Assembled>,
    /// Matches counted but not kept (file ranges), see [`Ctx::bound`].
    unreported: Unreported,
    /// Once the findings were cut to [`MAX_KEPT`]: the least severity kept. A match below
    /// or at it would be cut again, so it is counted without being assembled.
    floor: Option<Severity>,
}

/// Every finding in `hay`, plain and, when `decode`, decoded (see the module docs), and how
/// many matches the memory bounds left out ([`super::MAX_MATCHES_PER_RULE`] per rule and buffer,
/// [`MAX_KEPT`] findings held, the most severe first).
pub(crate) fn scan(
    engine: &Engine,
    path: &str,
    hay: &[u8],
    scratch: &mut Scratch,
    decode: bool,
) -> (Vec<Finding>, usize) {
    let nb = if decode && notebook::is_notebook(path) {
        notebook::parse(hay)
    } else {
        None
    };
    let view: &[u8] = nb.as_ref().map_or(hay, |n| &n.view);
    let mut ctx = Ctx {
        engine,
        path,
        file: hay,
        index: LineIndex::new(),
        notebook: nb.as_ref(),
        findings: Vec::new(),
        unreported: Unreported::default(),
        floor: None,
    };
    let mut raw = Vec::new();
    engine.raw_matches(view, scratch, &mut raw);
    ctx.overflowed(None, scratch.overflow());
    shadow::drop_shadowed(engine.rules(), &mut raw);
    for m in raw {
        ctx.push(view, None, m);
    }
    if decode {
        let runs = scratch.take_runs(view);
        ctx.descend(view, Some(&runs), None, 0, scratch);
        scratch.restore_runs(runs);
    }
    let (mut findings, unreported) = ctx.finish();
    super::markers::mark(hay, &mut findings);
    (findings, unreported)
}

impl Ctx<'_> {
    /// Decodes the candidates of `buf` and matches what they decode to, one candidate at a
    /// time (at most one per layer is alive, whatever the input's size).
    /// `runs` are the token runs of `buf` when already known.
    fn descend(
        &mut self,
        buf: &[u8],
        runs: Option<&Runs>,
        parent: Option<&Layer<'_>>,
        depth: usize,
        sc: &mut Scratch,
    ) {
        if depth >= MAX_DEPTH {
            return;
        }
        let mut raw = Vec::new();
        let mut joined = Vec::new();
        let mut visit = |d: Decoded| self.visit(buf, d, parent, depth, sc, &mut raw, &mut joined);
        match runs {
            Some(runs) => inline::candidates_with_runs(buf, runs, &mut visit),
            None => inline::candidates(buf, &mut visit),
        }
    }

    /// Matches one candidate of `buf` (with the start of its line, see [`CONTEXT`]) and
    /// descends into it. `raw` and `joined` are scratch buffers reused across candidates.
    #[allow(clippy::too_many_arguments)]
    fn visit(
        &mut self,
        buf: &[u8],
        d: Decoded,
        parent: Option<&Layer<'_>>,
        depth: usize,
        sc: &mut Scratch,
        raw: &mut Vec<RawMatch>,
        joined: &mut Vec<u8>,
    ) {
        // Every decoder here shrinks its input; anything else is a bug or an attack.
        if d.bytes.len() > 2 * d.span.len() {
            return;
        }
        let s = d.span.start;
        let lo = s.saturating_sub(CONTEXT);
        let ctx = memchr::memrchr2(b'\n', b'\r', &buf[lo..s]).map_or(lo, |k| lo + k + 1);
        joined.clear();
        joined.extend_from_slice(&buf[ctx..s]);
        joined.extend_from_slice(&d.bytes);
        let map = d.map.with_prefix(s - ctx);
        let layer = Layer {
            label: d.layer,
            map: &map,
            buf: joined,
            owns: d.owns.clone(),
            parent,
        };
        raw.clear();
        self.engine.raw_matches(joined, sc, raw);
        self.overflowed(Some(&layer), sc.overflow());
        // Matches inside the context alone were found in `buf` already.
        raw.retain(|m| m.secret.end > s - ctx);
        shadow::drop_shadowed(self.engine.rules(), raw);
        for m in raw.drain(..) {
            self.push(joined, Some(&layer), m);
        }
        self.descend(
            &d.bytes,
            None,
            Some(&Layer {
                map: &d.map,
                buf: &d.bytes,
                ..layer
            }),
            depth + 1,
            sc,
        );
    }

    /// `r` in `layer`'s buffer → (range in the outermost layer's buffer, range in the file,
    /// whether every layer on the way owns where `r` starts: a piece of a long escape region
    /// does not own a match its neighbour reports).
    fn to_file(
        &self,
        mut layer: Option<&Layer<'_>>,
        mut r: Range<usize>,
    ) -> (Range<usize>, Range<usize>, bool) {
        let mut outer = r.clone();
        let mut owned = true;
        while let Some(l) = layer {
            outer = r.clone();
            r = l.map.source_range(r);
            owned &= l.owns.contains(&r.start);
            layer = l.parent;
        }
        if let Some(nb) = self.notebook {
            r = nb.map.source_range(r);
        }
        (outer, r, owned)
    }

    /// Counts the matches the matcher left out of `layer`'s buffer (or the view) and hides
    /// their ranges.
    fn overflowed(&mut self, layer: Option<&Layer<'_>>, over: &mut Unreported) {
        if over.count == 0 {
            return;
        }
        self.unreported.count += over.count;
        for r in over.ranges() {
            let file = self.to_file(layer, r.clone()).1;
            self.unreported.hide(file);
        }
    }

    /// Keeps the findings held within [`MAX_KEPT`]: past twice that, the most severe
    /// [`MAX_KEPT`] stay (the earlier first among equals) and the others are counted, their
    /// ranges hidden. A real key among a flood of generated low-severity matches is kept.
    fn bound(&mut self) {
        if self.findings.len() < 2 * MAX_KEPT {
            return;
        }
        let mut order: Vec<usize> = (0..self.findings.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(self.findings[i].f.severity));
        let mut keep = vec![false; self.findings.len()];
        for &i in &order[..MAX_KEPT] {
            keep[i] = true;
        }
        self.floor = Some(self.findings[order[MAX_KEPT - 1]].f.severity);
        let mut i = 0;
        let unreported = &mut self.unreported;
        self.findings.retain(|a| {
            i += 1;
            if !keep[i - 1] {
                unreported.count += 1;
                for r in &a.ranges {
                    unreported.hide(r.clone());
                }
            }
            keep[i - 1]
        });
    }

    /// Turns a match in `buf` (the decoded bytes of `layer`, or the view) into a finding.
    fn push(&mut self, buf: &[u8], layer: Option<&Layer<'_>>, m: RawMatch) {
        let rules = self.engine.rules();
        if rules.rules()[m.rule].skips_path(self.path) {
            return;
        }
        let severity = if m.known_public {
            Severity::Low
        } else {
            rules.rules()[m.rule].severity
        };
        if self.floor.is_some_and(|floor| severity <= floor) {
            // It would be cut: count it (where its layer owns it) and hide its bytes.
            let ranges = std::iter::once(m.secret).chain(m.parts.into_iter().map(|(_, r)| r));
            for (k, r) in ranges.enumerate() {
                let (_, file, owned) = self.to_file(layer, r);
                if k == 0 && owned {
                    self.unreported.count += 1;
                }
                self.unreported.hide(file);
            }
            return;
        }
        self.bound();
        if layer.is_none() && self.notebook.is_none() {
            let (f, ranges) = to_finding(rules, self.path, self.file, &mut self.index, m);
            let window = Window::cut(self.file, &mut self.index, ranges[0].start, false, None);
            let raw = vec![true; ranges.len()];
            self.findings.push(Assembled {
                f,
                ranges,
                raw,
                window,
                depth: 0,
            });
            return;
        }
        let (mut f, in_buf) = to_finding(rules, self.path, buf, &mut LineIndex::new(), m);
        // (range in the outermost layer's buffer, range in the file) of the secret and parts.
        if !self.to_file(layer, in_buf[0].clone()).2 {
            return;
        }
        let located: Vec<(Range<usize>, Range<usize>)> = in_buf
            .into_iter()
            .map(|r| {
                let (outer, file, _) = self.to_file(layer, r);
                (outer, file)
            })
            .collect();
        let (outer_r, file_r) = located[0].clone();

        let mut chain = Vec::new();
        let mut outermost = None;
        let mut l = layer;
        while let Some(x) = l {
            chain.push(x.label.to_string());
            outermost = Some(x);
            l = x.parent;
        }
        chain.reverse();
        let depth = chain.len();
        f.notebook_cell = self.notebook.and_then(|nb| nb.cell_at(file_r.start));
        f.decoded = chain;
        f.byte_range = (file_r.start, file_r.end);

        // Bytes that encode a value are always hidden in a line; only a value that is in the
        // line as is may be shown (under --show-secrets).
        let values: Vec<Vec<u8>> = std::iter::once(f.secret.as_bytes().to_vec())
            .chain(f.parts.iter().map(|p| p.value.as_bytes().to_vec()))
            .collect();
        let (raw, window) = match outermost {
            // UTF-16 straight in the file: positions and the line come from the transcoded
            // text (the file's bytes are half NULs), anchored where the run starts.
            Some(o) if o.label.starts_with("utf16") && self.notebook.is_none() => {
                let run_start = o.map.source_range(0..0).start;
                let anchor = self.index.position(self.file, run_start);
                let mut idx = LineIndex::new();
                let mut pos = |r: &Range<usize>| {
                    let (l1, c1) = idx.position(o.buf, r.start);
                    let (l2, c2) = idx.position(o.buf, r.end);
                    let shift = |l: usize, c: usize| {
                        if l == 1 {
                            (anchor.0, anchor.1 + c - 1)
                        } else {
                            (anchor.0 + l - 1, c)
                        }
                    };
                    let (line, column) = shift(l1, c1);
                    let (end_line, end_column) = shift(l2, c2);
                    Span {
                        line,
                        column,
                        end_line,
                        end_column,
                    }
                };
                f.span = pos(&outer_r);
                for (p, (o_r, _)) in f.parts.iter_mut().zip(&located[1..]) {
                    p.span = pos(o_r);
                }
                let raw = located
                    .iter()
                    .zip(&values)
                    .map(|((o_r, _), v)| o.buf.get(o_r.clone()) == Some(v.as_slice()))
                    .collect();
                let map = |i: usize| o.map.source_range(i..i + 1).start;
                let window = Window::cut(o.buf, &mut idx, outer_r.start, true, Some(&map));
                (raw, window)
            }
            _ => {
                f.span = span_of(self.file, &mut self.index, file_r.clone());
                for (p, (_, r)) in f.parts.iter_mut().zip(&located[1..]) {
                    p.span = span_of(self.file, &mut self.index, r.clone());
                }
                let file = self.file;
                let raw = located
                    .iter()
                    .zip(&values)
                    .map(|((_, r), v)| file.get(r.clone()) == Some(v.as_slice()))
                    .collect();
                let window = Window::cut(file, &mut self.index, file_r.start, true, None);
                (raw, window)
            }
        };
        self.findings.push(Assembled {
            f,
            ranges: located.into_iter().map(|(_, r)| r).collect(),
            raw,
            window,
            depth,
        });
    }

    /// Drops decoded repeats of a secret already found (plain or shallower) at the same
    /// place and, where rules matched overlapping bytes in different layers (a generic rule on
    /// a base64 value, a specific one inside it), keeps the more specific; then merges
    /// multi-part credentials and cuts each finding's line.
    fn finish(self) -> (Vec<Finding>, usize) {
        let Ctx {
            engine,
            mut findings,
            mut unreported,
            ..
        } = self;
        if findings.iter().any(|a| a.depth > 0) {
            repeats::drop_repeats(&mut findings);
            shadow::drop_shadowed_across_layers(engine.rules(), &mut findings);
        }
        group::group_credentials(engine.rules(), &mut findings);
        group::drop_lone_parts(engine.rules(), &mut findings);
        (
            assemble::finish(findings, unreported.ranges()),
            unreported.count,
        )
    }
}
