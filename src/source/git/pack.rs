//! The fast path of history mode: the wanted blobs read straight from the repository's pack
//! files, each object inflated once.
//!
//! libgit2 reads one object at a time: a blob stored as a delta costs its whole delta chain
//! (up to 50 inflates and applies, minus what its small base cache keeps) plus an allocation
//! and a copy per step. Here the wanted blobs of a pack and the bases they need form a forest
//! (each delta under its base); each tree is walked depth first, so every object is inflated
//! once and a delta is applied once to its parent's bytes, kept in a per-depth buffer that is
//! reused from object to object. Trees are spread over the rayon pool.
//!
//! The commit walk reads its trees here too ([`Reader`]: one object at a time, with a cache of
//! recent delta results), so libgit2 is left with the commits.
//!
//! This path only has to be fast, not complete: whatever it does not read (loose objects,
//! other object directories, a delta whose base is elsewhere, anything corrupt, a blob over
//! the size limit) is reported as not read, and the caller reads it through libgit2, which
//! says precisely why it cannot be scanned when that is the case.

use std::collections::hash_map::Entry as MapEntry;
use std::ops::Deref;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use git2::Oid;
use gix_pack::data::entry::Header;
use rayon::prelude::*;

use super::per_thread::PerThread;

const NONE: u32 = u32::MAX;

/// What all workers together hold at most for the delta chains they are in (the capacity of
/// the buffers holding every ancestor of the object being read, and of its delta), split
/// evenly between them; a blob a worker has no room for is left, with its subtree, to libgit2,
/// which holds one object at a time. A byte budget, not a depth: on 2 cores, 32 MiB a worker
/// is git's 50 levels of files up to 640 KiB (most histories' files), and a chain of large
/// files still uses the first levels.
const CHAIN_BUDGET: usize = 64 << 20;
/// The least a worker gets of [`CHAIN_BUDGET`], however many threads share it.
const CHAIN_BUDGET_MIN: usize = 8 << 20;
/// Buffer capacity a worker keeps between trees; all of it is released after a tree that left
/// more (a tree of large blobs), so idle workers do not sit on their largest chain.
const KEEP_BETWEEN_TREES: usize = 4 << 20;
/// A delta tree is one task: its objects are read depth first by one worker, each delta applied
/// to its parent's bytes. A tree of a file with many large versions (hummingbot's largest: 100 MB
/// in 67 objects) would keep one worker busy while the others idle at the end of the pass, so a
/// child subtree of about this many bytes (its objects counted at its parent's size) is handed,
/// with a copy of the parent's bytes, to another task; the worker keeps the heaviest child.
const SPLIT_BYTES: usize = 4 << 20;
/// What the copied parents of handed-off subtrees hold at most at once, all workers together;
/// past it a subtree is read where it is.
const SPLIT_BUDGET: usize = 32 << 20;
/// The most delta trees one task of [`resolve`] reads.
const ROOTS_PER_TASK: usize = 4;
/// Every page of a mapped pack that was read counts in the resident set until it is unmapped:
/// once this many bytes of it are mapped, the pages are dropped from the mapping (they stay in
/// the page cache, so a page still needed comes back without any disk read).
const RELEASE_EVERY: u64 = 16 << 20;
/// ...but only while the whole process holds more than this (Linux: `/proc/self/statm`;
/// elsewhere always): a history whose scan leaves room keeps its pages and does not fault
/// them in again (the releases doubled a 107k-blob history's system time), one near the
/// bound (hummingbot's, ~270 MiB) releases as before.
const RESIDENT_BUDGET: u64 = 192 << 20;
/// The unit in which reads map a pack: Linux maps the cached pages of the aligned 64 KiB
/// around a faulting page of a file mapping too (`fault_around_bytes`), so reading a 200-byte
/// object makes 64 KiB resident. Counting only the bytes read let a pass over small objects
/// (hummingbot's 128k blobs) keep up to ~50 MiB more of the pack resident between releases.
const FAULT_AROUND: u64 = 64 << 10;

/// A pack file mapped read-only (shared: dropping its pages loses nothing).
struct Mapped(Arc<memmap2::Mmap>);

impl Deref for Mapped {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// One pack: its index, its data, and the mapping of its data, to release pages from.
struct Pack {
    index: gix_pack::index::File,
    data: gix_pack::data::File<Mapped>,
    map: Arc<memmap2::Mmap>,
    /// One bit per [`FAULT_AROUND`] window of the mapping read since the pages were last
    /// released, and the bytes of those windows.
    touched: Vec<AtomicU64>,
    mapped: AtomicU64,
}

impl Pack {
    /// Counts a read of `len` bytes at `offset` (approximate under concurrent readers: only
    /// the release point depends on it).
    fn touch(&self, offset: u64, len: usize) {
        let first = offset / FAULT_AROUND;
        let last = offset.saturating_add(len.max(1) as u64 - 1) / FAULT_AROUND;
        let mut new = 0;
        for w in first..=last {
            let Some(word) = self.touched.get((w / 64) as usize) else {
                break;
            };
            let bit = 1u64 << (w % 64);
            if word.fetch_or(bit, Ordering::Relaxed) & bit == 0 {
                new += FAULT_AROUND;
            }
        }
        self.charge(new);
    }

    /// Counts `new` bytes as mapped, and releases the pages past [`RELEASE_EVERY`].
    fn charge(&self, new: u64) {
        if new == 0 {
            return;
        }
        let before = self.mapped.fetch_add(new, Ordering::Relaxed);
        if before < RELEASE_EVERY && before + new >= RELEASE_EVERY {
            if resident_bytes().is_some_and(|r| r < RESIDENT_BUDGET) {
                // Room left: count again from here, drop nothing.
                for word in &self.touched {
                    word.store(0, Ordering::Relaxed);
                }
                self.mapped.store(0, Ordering::Relaxed);
                return;
            }
            // SAFETY: a shared read-only file mapping: the next access to a dropped page reads
            // it again from the file, whose bytes git never changes in place.
            let _ = unsafe {
                self.map
                    .unchecked_advise(memmap2::UncheckedAdvice::DontNeed)
            };
            for word in &self.touched {
                word.store(0, Ordering::Relaxed);
            }
            self.mapped.store(0, Ordering::Relaxed);
        }
    }
}

/// The process's resident set size, where the system says it cheaply.
fn resident_bytes() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        // SAFETY: sysconf only reads a system constant.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        pages.checked_mul(u64::try_from(page).ok()?)
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// The largest tree [`Reader`] reads (a tree of a million entries is ~40 MiB); a pack entry that
/// claims more is left to libgit2 rather than allocated.
const TREE_LIMIT: usize = 256 << 20;
/// What a [`Reader`] keeps of recently resolved objects, so that reading a tree whose delta
/// base was read just before (the same directory one commit earlier) costs one delta.
const READER_CACHE: usize = 16 << 20;

/// One object of a pack that is wanted or is the base of one that is.
struct Node {
    offset: u64,
    /// The wanted blob this object is (index into the caller's list), or `NONE`.
    blob: u32,
    first_child: u32,
    next_sibling: u32,
    /// Objects in the subtree under and including this one.
    count: u32,
}

/// The objects to read from one pack, as delta trees.
struct Plan {
    nodes: Vec<Node>,
    /// Nodes that are whole objects (not deltas), in pack order.
    roots: Vec<u32>,
}

/// A worker's reusable state: the inflate stream, one buffer per chain depth, the inflated
/// delta, the walk's stack, and the caller's own scratch.
struct Worker<S> {
    inflate: gix_zlib::Decompress,
    chain: Vec<Vec<u8>>,
    delta: Vec<u8>,
    stack: Vec<(u32, usize)>,
    user: S,
    /// The most [`Worker::held`] has been.
    peak: usize,
}

/// How much of a blob its reader may be content with: a whole blob that no delta needs is
/// inflated `len` bytes far first, and no further when `enough` says those bytes are all the
/// reader needs of it (history mode: a binary file's first block says it is one; hummingbot's
/// history holds 281 MB of such images and binaries, 168 MB of its pack).
#[derive(Clone, Copy)]
pub(super) struct Head<'a> {
    pub(super) len: usize,
    pub(super) enough: &'a (dyn Fn(&[u8]) -> bool + Sync),
}

/// Reads every blob of `wanted` that the pack files hold, calling
/// `visit(scratch, i, bytes)` for `wanted[i]` on some worker of the current rayon pool, at
/// most once per blob, with its bytes or, when `head` says they are enough, their first
/// `head.len`; blobs over `max` bytes are not read. Returns which blobs were visited and what
/// `visit` returned for them (in no particular order). Never fails: a pack or an object it
/// cannot read leaves its blobs unvisited.
pub(super) fn read_blobs<S, R, I, V>(
    packs: &Packs,
    wanted: &[Oid],
    max: u64,
    head: Head<'_>,
    init: I,
    visit: V,
) -> (Vec<bool>, Vec<R>)
where
    S: Send,
    R: Send,
    I: Fn() -> S + Sync + Send,
    V: Fn(&mut S, u32, &[u8]) -> Option<R> + Sync + Send,
{
    let limits = Limits {
        max: usize::try_from(max).unwrap_or(usize::MAX),
        budget: CHAIN_BUDGET,
        split: SPLIT_BYTES,
        head,
    };
    let read = read_blobs_within(packs, wanted, limits, init, visit);
    (read.visited, read.results)
}

/// What [`read_blobs_within`] read, and how (the how for tests).
#[cfg_attr(not(test), allow(dead_code))]
struct Read<R> {
    visited: Vec<bool>,
    results: Vec<R>,
    /// The most one worker held.
    peak: usize,
    /// Subtrees handed to another task.
    splits: usize,
}

/// [`read_blobs`] with the workers' buffers held within `limits.budget` bytes in all and
/// subtrees of `limits.split` bytes handed off ([`SPLIT_BYTES`]).
fn read_blobs_within<S, R, I, V>(
    packs: &Packs,
    wanted: &[Oid],
    limits: Limits<'_>,
    init: I,
    visit: V,
) -> Read<R>
where
    S: Send,
    R: Send,
    I: Fn() -> S + Sync + Send,
    V: Fn(&mut S, u32, &[u8]) -> Option<R> + Sync + Send,
{
    let visited: Vec<AtomicBool> = wanted.iter().map(|_| AtomicBool::new(false)).collect();
    let mut results = Vec::new();
    let mut splits = 0;
    let mut placed = vec![false; wanted.len()];
    let workers = PerThread::new();
    for pack in &packs.0 {
        if placed.iter().all(|&p| p) {
            break;
        }
        // A pack the index or data parser rejects later (a panic on hostile bytes) must not
        // take the scan down: what it did not visit goes to libgit2.
        let one = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let plan = plan(pack, wanted, &mut placed);
            resolve(pack, &plan, &workers, limits, &init, &visit, &visited)
        }));
        if let Ok((mut r, n)) = one {
            results.append(&mut r);
            splits += n;
        }
    }
    let visited = visited.into_iter().map(AtomicBool::into_inner).collect();
    let peak = workers.into_values().map(|w| w.peak).max().unwrap_or(0);
    Read {
        visited,
        results,
        peak,
        splits,
    }
}

/// The pack files of a repository, opened once for a history scan.
pub(super) struct Packs(Vec<Pack>);

/// The readable packs under `objects/pack`, in name order (none when there are none).
pub(super) fn open(objects: &Path) -> Packs {
    Packs(open_packs(objects))
}

fn open_packs(objects: &Path) -> Vec<Pack> {
    let Ok(dir) = std::fs::read_dir(objects.join("pack")) else {
        return Vec::new();
    };
    let mut names: Vec<_> = dir
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "idx"))
        .collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|idx| {
            // Only regular files: a FIFO or device under objects/pack would block or lie.
            let pack = idx.with_extension("pack");
            let regular = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.is_file());
            if !regular(&idx) || !regular(&pack) {
                return None;
            }
            let index = gix_pack::index::File::at(&idx, gix_hash::Kind::Sha1).ok()?;
            let file = std::fs::File::open(&pack).ok()?;
            // SAFETY: git never writes into a pack file in place; a repack writes a new one.
            let map = Arc::new(unsafe { memmap2::MmapOptions::new().map(&file) }.ok()?);
            let data =
                gix_pack::data::File::from_data(Mapped(map.clone()), pack, gix_hash::Kind::Sha1)
                    .ok()?
                    .with_alloc_limit_bytes(Some(TREE_LIMIT));
            let windows = (map.len() as u64).div_ceil(FAULT_AROUND).div_ceil(64);
            (index.num_objects() == data.num_objects()).then_some(Pack {
                index,
                data,
                map,
                touched: (0..windows).map(|_| AtomicU64::new(0)).collect(),
                mapped: AtomicU64::new(0),
            })
        })
        .collect()
}

/// Where a pack object's chain goes next: it is a whole object (a delta tree's root), a delta
/// on the object at this offset, or nothing can be read there (the chain ends without a root).
#[derive(Clone, Copy)]
enum Up {
    Root,
    Base(u64),
    End,
}

/// The header of the object at `offset`: what [`Up`] it has.
fn up(pack: &Pack, offset: u64) -> Up {
    let Ok(entry) = pack.data.entry(offset) else {
        return Up::End;
    };
    pack.touch(entry.pack_offset(), entry.header_size());
    let base = match entry.header {
        Header::OfsDelta { base_distance } => {
            Header::verified_base_pack_offset(entry.pack_offset(), base_distance)
        }
        Header::RefDelta { base_id } => pack
            .index
            .lookup(base_id)
            .map(|e| pack.index.pack_offset_at_index(e)),
        Header::Blob | Header::Tree | Header::Commit | Header::Tag => return Up::Root,
    };
    base.map_or(Up::End, Up::Base)
}

/// Finds the wanted blobs this pack holds (those no earlier pack took) and the bases they
/// need, linked as delta trees. An object whose header cannot be read, or whose base is not
/// in this pack, ends its chain without a root: nothing under it is read here.
fn plan(pack: &Pack, wanted: &[Oid], placed: &mut [bool]) -> Plan {
    let index = &pack.index;
    // Each wanted id's place in the index (a binary search over it, a cache miss a step) and
    // its own header, read in parallel: on hummingbot's 128k blobs this was most of the plan,
    // and the plan runs while every worker waits for it. Linking the chains stays serial.
    let found: Vec<Option<(u64, Up)>> = wanted
        .par_iter()
        .zip(placed.par_iter())
        .with_min_len(1024)
        .map(|(oid, &placed)| {
            if placed {
                return None;
            }
            let entry = index.lookup(gix_hash::oid::from_bytes_unchecked(oid.as_bytes()))?;
            let offset = index.pack_offset_at_index(entry);
            Some((offset, up(pack, offset)))
        })
        .collect();
    let mut nodes: Vec<Node> = Vec::new();
    let mut roots = Vec::new();
    let mut at: foldhash::HashMap<u64, u32> = foldhash::HashMap::default();
    for (i, found) in found.into_iter().enumerate() {
        let Some((offset, first_up)) = found else {
            continue;
        };
        let mut node = match at.entry(offset) {
            // Two ids at one offset: a corrupt index; the second is left to libgit2.
            MapEntry::Occupied(e) if nodes[*e.get() as usize].blob != NONE => continue,
            MapEntry::Occupied(e) => {
                nodes[*e.get() as usize].blob = i as u32;
                placed[i] = true;
                continue;
            }
            MapEntry::Vacant(e) => {
                e.insert(nodes.len() as u32);
                nodes.push(Node {
                    offset,
                    blob: i as u32,
                    first_child: NONE,
                    next_sibling: NONE,
                    count: 1,
                });
                (nodes.len() - 1) as u32
            }
        };
        placed[i] = true;
        // Up the chain until a base already planned or a whole object. Every step adds a new
        // node, so this ends; a cycle of deltas is linked but has no root and is never read.
        let mut next = first_up;
        loop {
            let base = match next {
                Up::Root => {
                    roots.push(node);
                    break;
                }
                Up::End => break,
                Up::Base(base) => base,
            };
            let (parent, new) = match at.entry(base) {
                MapEntry::Occupied(e) => (*e.get(), false),
                MapEntry::Vacant(e) => {
                    e.insert(nodes.len() as u32);
                    nodes.push(Node {
                        offset: base,
                        blob: NONE,
                        first_child: NONE,
                        next_sibling: NONE,
                        count: 1,
                    });
                    ((nodes.len() - 1) as u32, true)
                }
            };
            nodes[node as usize].next_sibling = nodes[parent as usize].first_child;
            nodes[parent as usize].first_child = node;
            if !new {
                break;
            }
            node = parent;
            next = up(pack, base);
        }
    }
    roots.sort_by_key(|&r| nodes[r as usize].offset);
    count_subtrees(&mut nodes, &roots);
    Plan { nodes, roots }
}

/// Sets every node's [`Node::count`] (children before parents; a node only a cycle reaches keeps
/// its 1, and is never read anyway).
fn count_subtrees(nodes: &mut [Node], roots: &[u32]) {
    let mut stack: Vec<(u32, bool)> = Vec::new();
    for &root in roots {
        stack.push((root, false));
        while let Some((n, children_done)) = stack.pop() {
            let mut c = nodes[n as usize].first_child;
            if children_done {
                let mut count = 1u32;
                while c != NONE {
                    count = count.saturating_add(nodes[c as usize].count);
                    c = nodes[c as usize].next_sibling;
                }
                nodes[n as usize].count = count;
            } else {
                stack.push((n, true));
                while c != NONE {
                    stack.push((c, false));
                    c = nodes[c as usize].next_sibling;
                }
            }
        }
    }
}

/// A parent's bytes copied for subtrees handed to other tasks, counted against
/// [`SPLIT_BUDGET`] until the last of those tasks is done with it.
struct Base<'l> {
    bytes: Vec<u8>,
    ledger: &'l AtomicUsize,
}

impl Drop for Base<'_> {
    fn drop(&mut self) {
        self.ledger.fetch_sub(self.bytes.len(), Ordering::Relaxed);
    }
}

/// Where a task starts: a whole object (a delta tree's root), or a delta whose parent's bytes
/// another task resolved and handed over.
enum Start<'b> {
    Root(u32),
    Under(u32, &'b [u8]),
}

/// What every task of one pack's pass shares.
struct Pass<'a, S, R, I, V> {
    pack: &'a Pack,
    plan: &'a Plan,
    workers: &'a PerThread<Worker<S>>,
    /// The bounds of each worker (`budget` is its share of the whole).
    limits: Limits<'a>,
    init: &'a I,
    visit: &'a V,
    visited: &'a [AtomicBool],
    results: Mutex<Vec<R>>,
    /// Bytes of the [`Base`]s alive.
    ledger: AtomicUsize,
    /// Subtrees handed to another task.
    splits: AtomicUsize,
}

/// Reads the planned trees in parallel, in pack order within each worker's share, the workers
/// sharing `limits.budget` bytes of buffers; a large subtree is handed to another task (see
/// [`SPLIT_BYTES`]; `limits.split` is that size). Returns what `visit` returned and how many
/// subtrees were handed off.
fn resolve<S, R, I, V>(
    pack: &Pack,
    plan: &Plan,
    workers: &PerThread<Worker<S>>,
    limits: Limits<'_>,
    init: &I,
    visit: &V,
    visited: &[AtomicBool],
) -> (Vec<R>, usize)
where
    S: Send,
    R: Send,
    I: Fn() -> S + Sync + Send,
    V: Fn(&mut S, u32, &[u8]) -> Option<R> + Sync + Send,
{
    let pass = Pass {
        pack,
        plan,
        workers,
        limits: Limits {
            budget: (limits.budget / workers.len().max(1)).max(CHAIN_BUDGET_MIN.min(limits.budget)),
            ..limits
        },
        init,
        visit,
        visited,
        results: Mutex::new(Vec::new()),
        ledger: AtomicUsize::new(0),
        splits: AtomicUsize::new(0),
    };
    // Handed-off subtrees are spawned, not run in place: a worker's state is borrowed while it
    // reads a tree, and a spawned task only runs once its thread has returned to the pool.
    // Rayon splits a range only so far unless its halves are stolen, so a worker can be left
    // with a quarter of the trees to read alone at the end; at most this many trees a task
    // keeps the rest stealable (each worker still reads its share in pack order).
    rayon::scope(|s| {
        plan.roots
            .par_iter()
            .with_max_len(ROOTS_PER_TASK)
            .for_each(|&root| pass.run(s, Start::Root(root)));
    });
    let results = pass.results.into_inner();
    (
        results.unwrap_or_else(std::sync::PoisonError::into_inner),
        pass.splits.into_inner(),
    )
}

impl<S, R, I, V> Pass<'_, S, R, I, V>
where
    S: Send,
    R: Send,
    I: Fn() -> S + Sync + Send,
    V: Fn(&mut S, u32, &[u8]) -> Option<R> + Sync + Send,
{
    fn run<'s>(&'s self, s: &rayon::Scope<'s>, start: Start<'_>) {
        // One worker per pool thread, so buffers are reused from tree to tree.
        let new_worker = || Worker {
            inflate: gix_zlib::Decompress::default(),
            chain: Vec::new(),
            delta: Vec::new(),
            stack: Vec::new(),
            user: (self.init)(),
            peak: 0,
        };
        let mut out = self.workers.with(new_worker, |w| {
            let mut out = Vec::new();
            let mut emit = |w: &mut S, blob: u32, bytes: &[u8]| {
                self.visited[blob as usize].store(true, Ordering::Relaxed);
                if let Some(r) = (self.visit)(w, blob, bytes) {
                    out.push(r);
                }
            };
            let mut defer = |child: u32, base: Arc<Base<'s>>| {
                self.splits.fetch_add(1, Ordering::Relaxed);
                s.spawn(move |s| self.run(s, Start::Under(child, &base.bytes)));
            };
            tree(
                self.pack,
                self.plan,
                start,
                self.limits,
                &self.ledger,
                w,
                &mut emit,
                &mut defer,
            );
            if w.held() > KEEP_BETWEEN_TREES {
                w.chain = Vec::new();
                w.delta = Vec::new();
            }
            out
        });
        if !out.is_empty() {
            let mut results = self
                .results
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            results.append(&mut out);
        }
    }
}

impl<S> Worker<S> {
    /// The capacity of the buffers this worker holds for objects.
    fn held(&self) -> usize {
        self.chain.iter().map(Vec::capacity).sum::<usize>() + self.delta.capacity()
    }
}

/// A worker's bounds: the largest blob, its buffers' byte budget, the subtree size handed off,
/// and how much of a blob may do.
#[derive(Clone, Copy)]
struct Limits<'a> {
    max: usize,
    budget: usize,
    split: usize,
    head: Head<'a>,
}

/// Reads one delta tree, or the subtree under a handed-over parent, depth first: `chain[d]`
/// holds the object at depth `d` of the current path, so a delta is applied to its parent's
/// bytes without copying them. An object that cannot be read, or that would take the worker's
/// buffers over the budget, ends its subtree (libgit2 gets those blobs).
#[allow(clippy::too_many_arguments)]
fn tree<'l, S>(
    pack: &Pack,
    plan: &Plan,
    start: Start<'_>,
    limits: Limits<'_>,
    ledger: &'l AtomicUsize,
    w: &mut Worker<S>,
    emit: &mut dyn FnMut(&mut S, u32, &[u8]),
    defer: &mut dyn FnMut(u32, Arc<Base<'l>>),
) {
    let Limits { max, budget, .. } = limits;
    let data = &pack.data;
    if w.chain.is_empty() {
        w.chain.push(Vec::new());
    }
    w.stack.clear();
    match start {
        Start::Root(root) => {
            let node = &plan.nodes[root as usize];
            let Ok(entry) = data.entry(node.offset) else {
                return;
            };
            // Deltas of a tree or commit are trees or commits: never wanted blobs.
            if entry.header != Header::Blob || entry.decompressed_size > max as u64 {
                return;
            }
            let size = entry.decompressed_size as usize;
            if size > budget {
                return;
            }
            if w.held() > budget - size {
                w.chain = vec![Vec::new()];
                w.delta = Vec::new();
            }
            // A blob no delta needs is read only as far as its reader wants it (with no
            // children, `expand` below has nothing to read from its bytes).
            let chain = &mut w.chain[0];
            let read = if node.blob != NONE && node.first_child == NONE {
                inflate_head(pack, &entry, &mut w.inflate, chain, size, limits.head).is_some()
            } else {
                inflate(pack, &entry, &mut w.inflate, chain, size)
            };
            if !read {
                return;
            }
            w.peak = w.peak.max(w.held());
            if node.blob != NONE {
                emit(&mut w.user, node.blob, &w.chain[0]);
            }
            expand(plan, root, 1, w, limits.split, ledger, defer);
        }
        Start::Under(child, base) => {
            let size = base.len();
            if size > budget {
                return;
            }
            if w.held() > budget - size {
                w.chain = vec![Vec::new()];
                w.delta = Vec::new();
            }
            w.chain[0].clear();
            if w.chain[0].try_reserve_exact(size).is_err() {
                return;
            }
            w.chain[0].extend_from_slice(base);
            w.stack.push((child, 1));
        }
    }
    while let Some((n, depth)) = w.stack.pop() {
        let node = &plan.nodes[n as usize];
        let Ok(entry) = data.entry(node.offset) else {
            continue;
        };
        // A delta is about as long as what it adds; the slack covers its copy instructions.
        if entry.decompressed_size > (max as u64).saturating_mul(2).saturating_add(4096) {
            continue;
        }
        let size = entry.decompressed_size as usize;
        // Room for the delta and the result: the ancestors' buffers stay; buffers deeper than
        // this object hold a previous branch, not needed until the walk goes down again, so
        // they go first when room is short.
        let ancestors: usize = w.chain[..depth].iter().map(Vec::capacity).sum();
        if ancestors + size > budget {
            continue;
        }
        if w.held() - w.delta.capacity() + w.delta.capacity().max(size) > budget {
            w.chain.truncate(depth);
            if w.delta.capacity() > size {
                w.delta = Vec::new();
            }
        }
        if !inflate(pack, &entry, &mut w.inflate, &mut w.delta, size) {
            continue;
        }
        if w.chain.len() == depth {
            w.chain.push(Vec::new());
        }
        let room = budget.saturating_sub(w.held() - w.chain[depth].capacity());
        let (bases, rest) = w.chain.split_at_mut(depth);
        let target = &mut rest[0];
        if target.capacity() > room {
            *target = Vec::new();
        }
        if apply_delta(&bases[depth - 1], &w.delta, target, max.min(room)).is_none() {
            continue;
        }
        w.peak = w.peak.max(w.held());
        if node.blob != NONE {
            emit(&mut w.user, node.blob, &w.chain[depth]);
        }
        expand(plan, n, depth + 1, w, limits.split, ledger, defer);
    }
}

/// Queues the children of `parent`, whose bytes are `w.chain[depth - 1]`, to be read at
/// `depth`. A child whose subtree is estimated at `split` bytes or more (its objects counted
/// at the parent's size: versions of one file), other than the heaviest child, which this
/// worker keeps, goes to `defer` with a copy of the parent's bytes, while the copies alive fit
/// in [`SPLIT_BUDGET`]; either way every child is read once.
fn expand<'l, S>(
    plan: &Plan,
    parent: u32,
    depth: usize,
    w: &mut Worker<S>,
    split: usize,
    ledger: &'l AtomicUsize,
    defer: &mut dyn FnMut(u32, Arc<Base<'l>>),
) {
    let nodes = &plan.nodes;
    let first = nodes[parent as usize].first_child;
    let size = w.chain[depth - 1].len();
    let mut heaviest = NONE;
    let mut most = 0;
    let mut c = first;
    while c != NONE {
        if nodes[c as usize].count > most {
            most = nodes[c as usize].count;
            heaviest = c;
        }
        c = nodes[c as usize].next_sibling;
    }
    let mut base: Option<Option<Arc<Base<'l>>>> = None;
    let mut c = first;
    while c != NONE {
        let next = nodes[c as usize].next_sibling;
        let large = (nodes[c as usize].count as usize).saturating_mul(size.max(1)) >= split;
        if c != heaviest && large {
            let shared = base.get_or_insert_with(|| copy_base(&w.chain[depth - 1], ledger));
            if let Some(b) = shared {
                defer(c, b.clone());
                c = next;
                continue;
            }
        }
        w.stack.push((c, depth));
        c = next;
    }
}

/// A copy of `bytes` counted in `ledger`, or `None` when [`SPLIT_BUDGET`] has no room for it.
fn copy_base<'l>(bytes: &[u8], ledger: &'l AtomicUsize) -> Option<Arc<Base<'l>>> {
    let n = bytes.len();
    ledger
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
            (held.saturating_add(n) <= SPLIT_BUDGET).then_some(held + n)
        })
        .ok()?;
    let mut copy = Vec::new();
    if copy.try_reserve_exact(n).is_err() {
        ledger.fetch_sub(n, Ordering::Relaxed);
        return None;
    }
    copy.extend_from_slice(bytes);
    Some(Arc::new(Base {
        bytes: copy,
        ledger,
    }))
}

/// Inflates one pack entry (a whole object or a delta's instructions) into `out`, which must
/// come out exactly `size` bytes long.
fn inflate(
    pack: &Pack,
    entry: &gix_pack::data::Entry,
    z: &mut gix_zlib::Decompress,
    out: &mut Vec<u8>,
    size: usize,
) -> bool {
    out.clear();
    if out.try_reserve_exact(size).is_err() {
        return false;
    }
    out.resize(size, 0);
    z.reset();
    stream(pack, entry, z, out) == Some(true)
}

/// Inflates one whole blob into `out` as [`inflate`] does, but its first `head.len` bytes first:
/// when `head.enough` says they are all its reader needs, the rest of the stream is never
/// inflated (nor checked: a stream that is corrupt further on is read as its intact head).
/// `None` when the blob cannot be read.
fn inflate_head(
    pack: &Pack,
    entry: &gix_pack::data::Entry,
    z: &mut gix_zlib::Decompress,
    out: &mut Vec<u8>,
    size: usize,
    head: Head<'_>,
) -> Option<()> {
    if size <= head.len {
        return inflate(pack, entry, z, out, size).then_some(());
    }
    out.clear();
    out.try_reserve_exact(head.len).ok()?;
    out.resize(head.len, 0);
    z.reset();
    // A stream that ends within the head is shorter than its header says: corrupt.
    if stream(pack, entry, z, out)? {
        return None;
    }
    if (head.enough)(out) {
        return Some(());
    }
    out.try_reserve_exact(size - head.len).ok()?;
    out.resize(size, 0);
    stream(pack, entry, z, &mut out[head.len..])?.then_some(())
}

/// Inflates `entry`'s stream from where `z` stopped into `out`: `Some(true)` when the stream
/// ended exactly at `out`'s end, `Some(false)` when `out` is full and the stream goes on,
/// `None` when it cannot be read or ends before `out` is full.
fn stream(
    pack: &Pack,
    entry: &gix_pack::data::Entry,
    z: &mut gix_zlib::Decompress,
    out: &mut [u8],
) -> Option<bool> {
    let start = usize::try_from(entry.data_offset.checked_add(z.total_in())?).ok()?;
    let input = pack.map.get(start..)?;
    let before = z.total_out();
    let status = z
        .decompress(input, out, gix_zlib::FlushDecompress::None)
        .ok()?;
    pack.touch(
        entry.pack_offset(),
        entry.header_size() + usize::try_from(z.total_in()).ok()?,
    );
    if z.total_out() - before != out.len() as u64 {
        return None;
    }
    Some(status == gix_zlib::Status::StreamEnd)
}

/// Git's delta format: the base's size and the result's size (little-endian base-128), then
/// instructions that either copy a range of the base (high bit set; bits 0–3 say which offset
/// bytes follow, bits 4–6 which size bytes; size 0 means 0x10000) or insert the next 1–127
/// bytes of the delta. Writes the result into `out`; `None` when the delta is corrupt, does
/// not fit `base`, or its result would be over `max`.
fn apply_delta(base: &[u8], delta: &[u8], out: &mut Vec<u8>, max: usize) -> Option<()> {
    let mut d = delta;
    let base_size = varint(&mut d)?;
    let result_size = varint(&mut d)?;
    if base_size != base.len() as u64 || result_size > max as u64 {
        return None;
    }
    let result_size = result_size as usize;
    out.clear();
    out.try_reserve_exact(result_size).ok()?;
    while let Some((&op, rest)) = d.split_first() {
        d = rest;
        if op & 0x80 != 0 {
            let mut field = |bits: u8, shift: u32| -> Option<usize> {
                if op & bits == 0 {
                    return Some(0);
                }
                let (&b, rest) = d.split_first()?;
                d = rest;
                Some(usize::from(b) << shift)
            };
            let offset = field(0x01, 0)? | field(0x02, 8)? | field(0x04, 16)? | field(0x08, 24)?;
            let mut len = field(0x10, 0)? | field(0x20, 8)? | field(0x40, 16)?;
            if len == 0 {
                len = 0x10000;
            }
            let end = offset.checked_add(len)?;
            out.extend_from_slice(base.get(offset..end)?);
        } else if op != 0 {
            let (insert, rest) = d.split_at_checked(usize::from(op))?;
            out.extend_from_slice(insert);
            d = rest;
        } else {
            // Reserved by git.
            return None;
        }
        if out.len() > result_size {
            return None;
        }
    }
    (out.len() == result_size).then_some(())
}

/// One delta header size: 7 bits a byte, low bits first, high bit set on all but the last.
fn varint(d: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = d.split_first()?;
        *d = rest;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The largest commit [`whole_commits`] reads (anything larger is left to [`Reader`]).
const COMMIT_LIMIT: u64 = 1 << 20;
/// Objects whose headers one task of [`whole_commits`] reads.
const COMMITS_CHUNK: usize = 4096;

/// The commits stored whole (not as deltas) in the packs, read in parallel and given to
/// `parse`: what `parse` returned, by id (the first pack holding an id wins, as for
/// [`Reader`]). Only a head start for the commit walk: whatever is not here (a deltified or
/// loose commit) the walk reads one at a time. Every object's header is read for its kind
/// (git writes a pack's commits together, but a pack fetched in several steps has several such
/// runs).
pub(super) fn whole_commits<T, P>(packs: &Packs, parse: P) -> foldhash::HashMap<Oid, T>
where
    T: Send,
    P: Fn(&[u8]) -> Option<T> + Sync + Send,
{
    let mut found: foldhash::HashMap<Oid, T> = foldhash::HashMap::default();
    for pack in &packs.0 {
        // A pack the parser rejects (a panic on hostile bytes) gives nothing: the walk reads
        // those commits one at a time, and libgit2 if the reader cannot either.
        let one = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let index = &pack.index;
            let mut at: Vec<(u64, u32)> = (0..index.num_objects())
                .map(|i| (index.pack_offset_at_index(i), i))
                .collect();
            at.par_sort_unstable();
            // Spread over the pool in pack order; a chunk with no commit costs its headers.
            let workers: PerThread<(gix_zlib::Decompress, Vec<u8>)> = PerThread::new();
            at.par_chunks(COMMITS_CHUNK)
                .flat_map_iter(|chunk| {
                    workers.with(Default::default, |(z, buf)| {
                        let mut out = Vec::new();
                        for &(offset, i) in chunk {
                            let Ok(entry) = pack.data.entry(offset) else {
                                continue;
                            };
                            pack.touch(offset, entry.header_size());
                            if entry.header != Header::Commit
                                || entry.decompressed_size > COMMIT_LIMIT
                            {
                                continue;
                            }
                            let size = entry.decompressed_size as usize;
                            if !inflate(pack, &entry, z, buf, size) {
                                continue;
                            }
                            let Ok(id) = Oid::from_bytes(index.oid_at_index(i).as_bytes()) else {
                                continue;
                            };
                            if let Some(t) = parse(buf) {
                                out.push((id, t));
                            }
                        }
                        out
                    })
                })
                .collect::<Vec<_>>()
        }));
        for (id, t) in one.unwrap_or_default() {
            found.entry(id).or_insert(t);
        }
    }
    found
}

/// Reads trees from the packs one at a time (for the commit walk), resolving delta chains with
/// a cache of recent results. Anything it cannot read is for libgit2.
pub(super) struct Reader<'a> {
    packs: &'a Packs,
    inflate: gix_zlib::Inflate,
    cache: gix_pack::cache::lru::MemoryCappedHashmap,
}

impl<'a> Reader<'a> {
    pub(super) fn new(packs: &'a Packs) -> Self {
        Reader {
            packs,
            inflate: gix_zlib::Inflate::default(),
            cache: gix_pack::cache::lru::MemoryCappedHashmap::new(READER_CACHE),
        }
    }

    /// The raw tree `id` into `out`, or false when no pack holds it, it is not a tree, or it
    /// cannot be read.
    pub(super) fn tree(&mut self, id: &[u8; 20], out: &mut Vec<u8>) -> bool {
        self.object(id, out) == Some(gix_object::Kind::Tree)
    }

    /// The raw commit `id` into `out`, or false as [`Reader::tree`].
    pub(super) fn commit(&mut self, id: Oid, out: &mut Vec<u8>) -> bool {
        let Ok(id) = id.as_bytes().try_into() else {
            return false;
        };
        self.object(id, out) == Some(gix_object::Kind::Commit)
    }

    /// The object `id` into `out` and its kind, or `None` when no pack holds it or it cannot
    /// be read.
    fn object(&mut self, id: &[u8; 20], out: &mut Vec<u8>) -> Option<gix_object::Kind> {
        let id = gix_hash::oid::from_bytes_unchecked(id);
        for pack in &self.packs.0 {
            let Some(i) = pack.index.lookup(id) else {
                continue;
            };
            let offset = pack.index.pack_offset_at_index(i);
            let Ok(entry) = pack.data.entry(offset) else {
                return None;
            };
            let in_pack = |base: &gix_hash::oid, _: &mut Vec<u8>| {
                Ok(pack.index.lookup(base).and_then(|b| {
                    let entry = pack.data.entry(pack.index.pack_offset_at_index(b)).ok()?;
                    Some(gix_pack::data::decode::entry::ResolvedBase::InPack(entry))
                }))
            };
            // Hostile bytes must not take the scan down: a panic is an unreadable tree.
            let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                pack.data
                    .decode_entry(entry, out, &mut self.inflate, &in_pack, &mut self.cache)
            }));
            // The tree's own entry is counted where it is; its delta bases (those the cache did
            // not hold) are elsewhere in the pack, a window each.
            pack.touch(offset, 1);
            if let Ok(Ok(o)) = &read {
                pack.charge(FAULT_AROUND * u64::from(o.num_deltas));
            }
            return match read {
                Ok(Ok(o)) => Some(o.kind),
                _ => None,
            };
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}");
        out.stdout
    }

    fn never(_: &[u8]) -> bool {
        false
    }

    /// Every blob read whole, within `budget` bytes, subtrees of `split` bytes handed off.
    fn whole(budget: usize, split: usize) -> Limits<'static> {
        Limits {
            max: usize::MAX,
            budget,
            split,
            head: Head {
                len: usize::MAX,
                enough: &never,
            },
        }
    }

    /// 30 versions of a ~200 KiB file, each editing lines all over it, packed in delta chains
    /// at most `depth` deep (with 50, one chain 29 deep: ~6 MiB of versions); returns the
    /// repository and the versions' blob ids.
    fn chain_repo(depth: u32) -> (tempfile::TempDir, Vec<Oid>) {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        git(dir, &["init", "-q"]);
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut lines: Vec<String> = Vec::new();
        let mut line = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            format!("line {x:016x} {:032x}", u128::from(x) * 0x9E37_79B9)
        };
        for _ in 0..3_500 {
            lines.push(line());
        }
        let mut blobs = Vec::new();
        for v in 0..30 {
            for k in 0..10 {
                let at = (v * 331 + k * 97) % lines.len();
                lines[at] = line();
            }
            std::fs::write(dir.join("f.txt"), lines.join("\n")).unwrap();
            git(dir, &["add", "f.txt"]);
            git(dir, &["commit", "-qm", "v"]);
            let id = git(dir, &["rev-parse", "HEAD:f.txt"]);
            blobs.push(Oid::from_str(String::from_utf8_lossy(&id).trim()).unwrap());
        }
        // One delta-search thread: with several, git splits the window and the chain it picks
        // (so the bytes a reader holds) varies from run to run.
        git(
            dir,
            &[
                "-c",
                "pack.threads=1",
                "repack",
                "-adfq",
                &format!("--depth={depth}"),
                "--window=10",
            ],
        );
        (t, blobs)
    }

    #[test]
    fn a_chain_is_read_within_the_byte_budget_and_the_rest_left_to_libgit2() {
        let (t, blobs) = chain_repo(50);
        let packs = open(&t.path().join(".git/objects"));
        assert_eq!(packs.0.len(), 1);
        let read = |budget| {
            let r = read_blobs_within(
                &packs,
                &blobs,
                whole(budget, SPLIT_BYTES),
                || (),
                |_, i, bytes| Some((i, bytes.to_vec())),
            );
            (r.visited, r.results, r.peak)
        };
        let check = |results: &[(u32, Vec<u8>)]| {
            for (i, bytes) in results {
                let id = blobs[*i as usize].to_string();
                assert_eq!(git(t.path(), &["cat-file", "blob", &id]), *bytes, "{id}");
            }
        };
        // Everything fits in 64 MiB: every version is read, each exactly as git reads it.
        let (visited, results, peak) = read(64 << 20);
        assert!(visited.iter().all(|&v| v), "{visited:?}");
        assert_eq!(results.len(), blobs.len());
        check(&results);
        assert!(peak > 2 << 20, "the whole chain is held: {peak}");
        // In 1 MiB a worker holds a few levels; the versions under them are not read here.
        let (visited, results, peak) = read(1 << 20);
        assert!(peak <= 1 << 20, "{peak}");
        let n = visited.iter().filter(|&&v| v).count();
        assert!((2..blobs.len() - 5).contains(&n), "{n} read within 1 MiB");
        assert_eq!(results.len(), n);
        check(&results);
        assert!(results.iter().all(|(i, _)| visited[*i as usize]));
    }

    /// A bushy delta tree (chains at most 3 deep under one base) read with every subtree but
    /// the heaviest handed to another task reads every version exactly as git does, as it does
    /// read whole; within a small budget too (a handed-over parent starts a chain afresh).
    #[test]
    fn subtrees_handed_to_other_tasks_read_like_whole_trees() {
        let (t, blobs) = chain_repo(3);
        let packs = open(&t.path().join(".git/objects"));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let read = |budget, split| {
            pool.install(|| {
                read_blobs_within(
                    &packs,
                    &blobs,
                    whole(budget, split),
                    || (),
                    |_, i, bytes| Some((i, bytes.to_vec())),
                )
            })
        };
        let whole = read(64 << 20, usize::MAX);
        assert_eq!(whole.splits, 0);
        assert!(whole.visited.iter().all(|&v| v), "{:?}", whole.visited);
        for (budget, split) in [(64 << 20, 1), (64 << 20, 1 << 20), (4 << 20, 1)] {
            let mut r = read(budget, split);
            // Split 1: every subtree but the heaviest of each object goes (1 MiB: those of about
            // five versions or more, as the tree git built allows).
            assert!(split > 1 || r.splits > 0, "{budget}: nothing handed off");
            assert_eq!(r.visited, whole.visited, "{budget} {split}");
            assert_eq!(r.results.len(), blobs.len());
            r.results.sort();
            for (i, bytes) in &r.results {
                let id = blobs[*i as usize].to_string();
                assert_eq!(git(t.path(), &["cat-file", "blob", &id]), *bytes, "{id}");
            }
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_resident_set_is_read_and_follows_touched_memory() {
        let before = resident_bytes().expect("statm on Linux");
        assert!(before > 1 << 20, "{before}");
        let mut held = vec![0u8; 64 << 20];
        for i in (0..held.len()).step_by(4096) {
            held[i] = 1;
        }
        let after = resident_bytes().unwrap();
        assert!(after >= before + (48 << 20), "{before} -> {after}");
        assert_eq!(
            std::hint::black_box(&held)
                .iter()
                .filter(|&&b| b == 1)
                .count(),
            16384
        );
    }

    #[test]
    fn deltas_copy_and_insert_and_reject_what_does_not_fit() {
        let base = b"hello, world";
        // base 12, result 11: copy "hello" (offset 0, len 5), insert " you", copy "ld" (10, 2).
        let delta = [12, 11, 0x90, 5, 4, b' ', b'y', b'o', b'u', 0x91, 10, 2];
        let mut out = Vec::new();
        assert_eq!(apply_delta(base, &delta, &mut out, 100), Some(()));
        assert_eq!(out, b"hello yould");
        // Wrong base size, result over the limit, a copy past the base, a short result,
        // the reserved op, a truncated insert.
        for bad in [
            &[11, 11, 0x90, 5][..],
            &[12, 11, 0x90, 5, 4, b' ', b'y', b'o', b'u', 0x91, 10, 2][..],
            &[12, 5, 0x91, 10, 5][..],
            &[12, 6, 0x90, 5][..],
            &[12, 1, 0][..],
            &[12, 3, 3, b'a'][..],
        ] {
            let limit = if bad == &delta[..] { 10 } else { 100 };
            assert_eq!(apply_delta(base, bad, &mut out, limit), None, "{bad:?}");
        }
        // Size 0 in a copy means 0x10000.
        let big = vec![7u8; 0x10000];
        let delta = [0x80, 0x80, 0x04, 0x80, 0x80, 0x04, 0x80];
        assert_eq!(apply_delta(&big, &delta, &mut out, 1 << 20), Some(()));
        assert_eq!(out.len(), 0x10000);
    }
}
