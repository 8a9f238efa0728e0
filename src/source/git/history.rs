//! History mode: every blob reachable from the refs, scanned once, attributed to the oldest
//! commit that introduced it at each path (see the module above for the two passes).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use git2::{Oid, Repository, Sort, Tree};
use rayon::prelude::*;

use super::per_thread::PerThread;
use super::repo::{
    commit_info, display_git_path, header_skip, read_reason, setup_err, shallow_boundary, short,
    tune_libgit2,
};
use super::{GitError, GitOptions};
use super::{commits, pack};
use crate::finding::{Finding, GitInfo};
use crate::model::{Input, Provenance, SkipKind, SkipReason, Skipped};
use crate::rules::Rule;
use crate::scan::{BINARY_SNIFF, Engine, Scratch, Verdict, binary_by_head, scan_input};
use crate::source::{Capped, Counters, SourceOutput};

/// The commit limits of history mode, resolved.
pub(super) struct Limits<'a> {
    pub(super) since: Option<i64>,
    pub(super) max_count: Option<usize>,
    pub(super) branches: &'a [String],
}

/// Where a blob was introduced: an interned path and the index of the commit in walk order.
#[derive(Debug, Clone, Copy)]
struct Loc {
    path: u32,
    commit: u32,
}

/// A unique blob and every (path, first commit) it was introduced at.
#[derive(Debug)]
struct BlobRec {
    oid: Oid,
    locs: Vec<Loc>,
}

/// What the walk found: ids and interned paths only, never contents.
#[derive(Default)]
struct Inventory {
    /// Walked commits, oldest first (reverse topological order).
    commits: Vec<Oid>,
    /// Unique blobs in order of first appearance.
    blobs: Vec<BlobRec>,
    /// Interned paths, end to end, and where each ends ([`Inventory::path`]); filled by
    /// [`Inventory::seal`] from `path_index` (one allocation instead of one per path: hummingbot
    /// has 387k paths).
    paths: Vec<u8>,
    path_ends: Vec<usize>,
    skipped: Vec<Skipped>,
    /// What only the walk needs (a third of the inventory's memory on a 62k-commit history),
    /// dropped by [`Inventory::seal`] before the scan holds its own buffers.
    walk: WalkIndex,
}

/// The walk's lookup tables.
///
/// Hashed with foldhash (keyed per process) rather than SipHash, the largest item of the
/// recording's profile; the keys are still not predictable from the repository's contents.
#[derive(Default)]
struct WalkIndex {
    blob_index: foldhash::HashMap<Oid, u32>,
    /// (blob, path) pairs already recorded: the oldest commit wins.
    seen: foldhash::HashSet<(u32, u32)>,
    /// Each path stored once, here, until the walk ends.
    path_index: foldhash::HashMap<Box<[u8]>, u32>,
}

impl Inventory {
    fn intern(&mut self, path: &[u8]) -> u32 {
        if let Some(&i) = self.walk.path_index.get(path) {
            return i;
        }
        let i = self.walk.path_index.len() as u32;
        self.walk.path_index.insert(path.into(), i);
        i
    }

    fn record(&mut self, blob: Oid, path: &[u8], commit: u32) {
        let path = self.intern(path);
        let next = self.blobs.len() as u32;
        let b = *self.walk.blob_index.entry(blob).or_insert(next);
        if b == next {
            self.blobs.push(BlobRec {
                oid: blob,
                locs: Vec::with_capacity(1),
            });
        }
        if self.walk.seen.insert((b, path)) {
            self.blobs[b as usize].locs.push(Loc { path, commit });
        }
    }

    /// Ends the walk: copies the interned paths into `paths` and frees the lookup tables.
    fn seal(&mut self) {
        let index = std::mem::take(&mut self.walk);
        let mut by_id: Vec<&[u8]> = vec![&[]; index.path_index.len()];
        for (path, &i) in &index.path_index {
            by_id[i as usize] = path;
        }
        self.paths = Vec::with_capacity(by_id.iter().map(|p| p.len()).sum());
        self.path_ends = Vec::with_capacity(by_id.len());
        for path in by_id {
            self.paths.extend_from_slice(path);
            self.path_ends.push(self.paths.len());
        }
        self.blobs.shrink_to_fit();
    }

    /// The interned path `i` (after [`Inventory::seal`]).
    fn path(&self, i: u32) -> &[u8] {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.path_ends[i - 1] };
        &self.paths[start..self.path_ends[i]]
    }
}

pub(super) fn history(
    repo: &Repository,
    limits: &Limits<'_>,
    opts: &GitOptions,
    engine: &Engine,
    counters: &Counters,
) -> Result<SourceOutput, GitError> {
    tune_libgit2();
    let mut out = SourceOutput::default();
    let packs = pack::open(&repo.commondir().join("objects"));
    let (commits, read) = walk_commits(repo, &packs, limits, &mut out)?;
    let mut inv = Inventory {
        commits,
        ..Inventory::default()
    };
    collect_blobs(repo, &packs, &mut inv, read.as_ref(), counters);
    drop(read);
    inv.seal();
    if let Some(shard) = opts.shard {
        inv.blobs.retain(|b| shard.owns_blob(b.oid.as_bytes()));
        // Every shard walks every commit but counts only its share, so the shards' totals add
        // up to the single run's (and `keyleak merge` can simply sum them).
        let others = inv
            .commits
            .iter()
            .filter(|c| !shard.owns_blob(c.as_bytes()))
            .count();
        counters
            .commits
            .fetch_sub(others as u64, std::sync::atomic::Ordering::Relaxed);
    }
    counters
        .total
        .store(inv.blobs.len() as u64, std::sync::atomic::Ordering::Relaxed);

    let boundary = shallow_boundary(repo);
    if !boundary.is_empty() {
        let walked: HashSet<Oid> = inv.commits.iter().copied().collect();
        let list: Vec<String> = boundary
            .iter()
            .filter(|c| walked.contains(c))
            .map(|c| short(*c))
            .collect();
        if !list.is_empty() {
            out.notes.push(format!(
                "shallow clone: history before {} is not scanned; files already present there are \
                 attributed to it (run `git fetch --unshallow` to scan everything)",
                list.join(", ")
            ));
        }
    }

    let path_rules = PathRules::new(engine);
    path_rules.scan_under_unskipped_paths(&mut inv);
    let scanned = scan_blobs(repo, &packs, &inv, opts.max_file_size, engine, counters);
    let mut infos: HashMap<u32, GitInfo> = HashMap::new();
    let mut capped = Capped::default();
    for (blob, mut findings, skip, unreported) in scanned {
        capped.input(&mut findings, unreported);
        let rec = &inv.blobs[blob as usize];
        let first_path = display_git_path(inv.path(rec.locs[0].path));
        if let Some(reason) = skip {
            let first = rec.locs[0];
            out.skipped.push(Skipped {
                path: format!(
                    "{}:{}",
                    short(inv.commits[first.commit as usize]),
                    first_path
                ),
                reason,
            });
        }
        for loc in &rec.locs {
            let info = infos
                .entry(loc.commit)
                .or_insert_with(|| commit_info(repo, inv.commits[loc.commit as usize]));
            let path = display_git_path(inv.path(loc.path));
            for f in &findings {
                // Archive members are reported as `<blob path>!/<member>`: keep the member.
                let member = f.path.strip_prefix(first_path.as_str()).unwrap_or("");
                let at = format!("{path}{member}");
                // The copy in `docs/` of a blob scanned as `deploy/mail.yml` is a sample there.
                if path_rules.skips(&f.rule_id, &at) {
                    continue;
                }
                // A blob at many paths is one copy per path: the scan-wide cap bounds them
                // (and counts every copy it leaves out).
                if !capped.room(&out.findings) {
                    continue;
                }
                let mut f = f.clone();
                f.path = at;
                f.git = Some(GitInfo {
                    blob: rec.oid.to_string(),
                    ..info.clone()
                });
                out.findings.push(f);
            }
        }
    }
    out.skipped.append(&mut inv.skipped);
    out.notes.extend(capped.notes());
    Ok(out)
}

/// What the walk read of every commit when it read them from the packs ([`commits`]).
type CommitMap = foldhash::HashMap<Oid, commits::Commit>;

/// The commits to walk, oldest first. `--max-count` keeps the newest N (as `git log -n`), so
/// the walk runs newest first and is reversed; a reversed topological order is still one.
/// The walk reads the commits from the packs when it can (then each commit's tree and first
/// parent come with it), else libgit2 walks, in the same order either way.
fn walk_commits(
    repo: &Repository,
    packs: &pack::Packs,
    limits: &Limits<'_>,
    out: &mut SourceOutput,
) -> Result<(Vec<Oid>, Option<CommitMap>), GitError> {
    // The commits stored whole in the packs, read in parallel first: a ref naming one of them
    // is a tip without libgit2 reading that commit again (5k pull-request refs on hummingbot).
    let read = (!commits::libgit2_only(repo.path(), repo.commondir()))
        .then(|| pack::whole_commits(packs, commits::parse));
    let tips = tips(repo, limits, read.as_ref())?;
    if tips.is_empty() {
        out.notes
            .push("the repository has no commits: nothing to scan".into());
        return Ok((Vec::new(), None));
    }
    if let Some(read) = read
        && let Some(walked) = commits::walk(packs, &tips, read)
    {
        let time = |oid: &Oid| walked.commits.get(oid).map(|c| c.time);
        let commits = limit(walked.order.iter().map(|&o| Ok(o)), limits, time, out);
        return Ok((commits, Some(walked.commits)));
    }
    let mut walk = repo
        .revwalk()
        .map_err(|e| setup_err("cannot walk history", e))?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
        .map_err(|e| setup_err("cannot walk history", e))?;
    for &tip in &tips {
        // Every tip was read as a commit already.
        let _ = walk.push(tip);
    }
    let time = |oid: &Oid| repo.find_commit(*oid).ok().map(|c| c.time().seconds());
    Ok((limit(walk, limits, time, out), None))
}

/// The commits the walk starts from, in the order they are pushed to it. A ref that names a
/// commit of `packed` ([`pack::whole_commits`]) is taken as it is; any other is peeled by
/// libgit2 (a tag, a symbolic ref, a commit only libgit2 reads).
fn tips(
    repo: &Repository,
    limits: &Limits<'_>,
    packed: Option<&commits::Read>,
) -> Result<Vec<Oid>, GitError> {
    let mut tips = Vec::new();
    if limits.branches.is_empty() {
        // Every ref (branches, tags, remotes, stash, notes…) and a detached HEAD. Refs that do
        // not lead to a commit (a tag of a tree, a dangling ref) have no history to walk.
        let refs = repo
            .references()
            .map_err(|e| setup_err("cannot list refs", e))?;
        for r in refs.flatten() {
            if let (Some(packed), Some(id)) = (packed, r.target())
                && packed.contains_key(&id)
            {
                tips.push(id);
                continue;
            }
            if let Ok(c) = r.peel_to_commit() {
                tips.push(c.id());
            }
        }
        if let Ok(c) = repo.head().and_then(|h| h.peel_to_commit()) {
            tips.push(c.id());
        }
    } else {
        for name in limits.branches {
            let commit = repo
                .revparse_single(name)
                .and_then(|o| o.peel_to_commit())
                .map_err(|e| setup_err(&format!("--branch `{name}`"), e))?;
            tips.push(commit.id());
        }
    }
    Ok(tips)
}

/// The walk's commits (newest first) within `--max-count` and `--since`, oldest first.
fn limit(
    walk: impl Iterator<Item = Result<Oid, git2::Error>>,
    limits: &Limits<'_>,
    time: impl Fn(&Oid) -> Option<i64>,
    out: &mut SourceOutput,
) -> Vec<Oid> {
    let mut commits = Vec::new();
    for oid in walk {
        if limits.max_count.is_some_and(|n| commits.len() >= n) {
            break;
        }
        let oid = match oid {
            Ok(oid) => oid,
            Err(e) => {
                // A commit that cannot be parsed ends that line of history, not the scan.
                out.skipped.push(Skipped {
                    path: "history".into(),
                    reason: read_reason(&e),
                });
                break;
            }
        };
        if let Some(since) = limits.since
            && time(&oid).is_some_and(|t| t < since)
        {
            continue;
        }
        commits.push(oid);
    }
    commits.reverse();
    commits
}

/// Commits diffed before their changes are recorded: bounds what is held at once (a merge of a
/// long-lived branch can introduce thousands of paths).
const BATCH: usize = 2048;

/// Records, for each walked commit, the blobs it introduced relative to its first parent.
/// Commits are diffed in parallel (each diff only reads trees), a batch at a time, then
/// recorded in walk order, so the oldest commit that shows a (blob, path) still wins. A batch
/// is recorded while the next one is diffed: the recording is serial (a fifth of a second on
/// hummingbot's 62k commits), and the workers would otherwise wait for it at every batch.
fn collect_blobs(
    repo: &Repository,
    packs: &pack::Packs,
    inv: &mut Inventory,
    read: Option<&CommitMap>,
    counters: &Counters,
) {
    let git_dir = repo.path();
    // The diffs only read the commits; the recording only writes the rest.
    let commits = std::mem::take(&mut inv.commits);
    let n = commits.len();
    // One walker (a libgit2 handle and a pack reader) per pool thread, kept across batches.
    let walkers: PerThread<Walker<'_>> = PerThread::new();
    let known = Known::default();
    let diff = |start: usize| -> Vec<(u32, Introduced)> {
        // At most 64 commits a task: rayon only splits a range further when a piece is
        // stolen, so without a bound one worker could end each batch with a quarter of it
        // alone while the other waits at the batch's end.
        (start as u32..(start + BATCH).min(n) as u32)
            .into_par_iter()
            .with_min_len(16)
            .with_max_len(64)
            .map(|ci| {
                counters
                    .commits
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let new_walker = || Walker {
                    repo: Repository::open(git_dir),
                    reader: pack::Reader::new(packs),
                };
                walkers.with(new_walker, |w| {
                    (ci, w.introduced(commits[ci as usize], ci, &known, read))
                })
            })
            .collect()
    };
    let record = |inv: &mut Inventory, diffs: Vec<(u32, Introduced)>| {
        for (ci, changes) in diffs {
            for (path, blob) in changes {
                match blob {
                    Ok(blob) => inv.record(blob, &path, ci),
                    Err(reason) => inv.skipped.push(Skipped {
                        path: format!(
                            "{}:{}",
                            short(commits[ci as usize]),
                            display_git_path(&path)
                        ),
                        reason,
                    }),
                }
            }
        }
    };
    let mut pending: Option<Vec<(u32, Introduced)>> = None;
    for start in (0..n).step_by(BATCH) {
        // `join` runs the diffs here and offers the recording to another worker, which
        // joins the diffs when it is done (and runs both itself on a one-thread pool).
        let (diffs, ()) = rayon::join(
            || diff(start),
            || {
                if let Some(d) = pending.take() {
                    record(inv, d);
                }
            },
        );
        pending = Some(diffs);
    }
    if let Some(d) = pending {
        record(inv, d);
    }
    inv.commits = commits;
}

/// What diffs commits on one thread: its libgit2 handle and its pack reader.
struct Walker<'a> {
    repo: Result<Repository, git2::Error>,
    reader: pack::Reader<'a>,
}

impl Walker<'_> {
    /// What `oid` introduced: trees read from the packs when they all can be (see
    /// [`introduced_packed`]), else everything through libgit2 as [`introduced_blobs`] does.
    fn introduced(
        &mut self,
        oid: Oid,
        ci: u32,
        known: &Known,
        read: Option<&CommitMap>,
    ) -> Introduced {
        match &self.repo {
            Ok(repo) => introduced_packed(repo, &mut self.reader, oid, ci, known, read)
                .unwrap_or_else(|| introduced_blobs(repo, oid)),
            Err(e) => vec![(Vec::new(), Err(read_reason(e)))],
        }
    }
}

/// Subtrees whose every file is already recorded, at a path: the walk skips them without
/// reading them (pull-request merges, reverts and cherry-picks bring back trees history
/// already has).
///
/// `(tree, path)` maps to `c` when every file under that tree at that path was reported by the
/// diffs of commits `0..=c` (walk order): recording them again in a later commit is a no-op
/// (the oldest sighting of a (blob, path) wins), so a commit after `c` can skip the subtree.
/// The path is kept as a 64-bit hash with a per-process random key, so telling two paths
/// apart fails only when the same tree id sits at two paths whose keyed hashes collide, which
/// nobody can aim for. Bounded at [`KNOWN_LIMIT`] entries (then it only stops growing).
#[derive(Default)]
struct Known {
    hasher: std::hash::RandomState,
    /// Keyed by raw ids: `git2::Oid` compares through a libgit2 call per probe.
    map: std::sync::Mutex<foldhash::HashMap<KnownKey, u32>>,
    /// The tree of every commit libgit2 has read so far, so that a commit's parent (read as
    /// itself just before, in walk order) is not read again for its tree.
    trees: std::sync::Mutex<HashMap<Oid, Oid>>,
}

/// At most this many known subtrees are kept (~40 bytes each).
const KNOWN_LIMIT: usize = 1 << 20;

/// A subtree's id and its path's keyed hash.
type KnownKey = ([u8; 20], u64);

impl Known {
    fn key(&self, tree: &[u8; 20], path: &[u8]) -> KnownKey {
        use std::hash::BuildHasher;
        (*tree, self.hasher.hash_one(path))
    }

    fn get(&self, key: &KnownKey) -> Option<u32> {
        self.map.lock().ok()?.get(key).copied()
    }

    /// Publishes what one commit's diff established (only once the whole diff succeeded, so a
    /// commit redone through libgit2 claims nothing).
    fn publish(&self, fresh: &[(KnownKey, u32)]) {
        let Ok(mut map) = self.map.lock() else {
            return;
        };
        for &(key, c) in fresh {
            if map.len() >= KNOWN_LIMIT {
                break;
            }
            let at = map.entry(key).or_insert(c);
            *at = (*at).min(c);
        }
    }
}

/// What a diff needs besides the trees: the commit being diffed (its walk index), what is
/// already known, and what this diff establishes.
struct DiffCtx<'k> {
    commit: u32,
    known: &'k Known,
    fresh: Vec<(KnownKey, u32)>,
}

/// [`introduced_blobs`] with the trees read by `reader` (commits still through libgit2, which
/// applies grafts and the shallow boundary). `None` as soon as a tree cannot be read or is not
/// in the plain form git writes (see [`tree_entries`]): the caller then does the whole commit
/// again through libgit2, so what is reported, skipped or why, never depends on the reader.
fn introduced_packed(
    repo: &Repository,
    reader: &mut pack::Reader<'_>,
    oid: Oid,
    ci: u32,
    known: &Known,
    read: Option<&CommitMap>,
) -> Option<Introduced> {
    // The walk read every commit (and so every parent) from the packs, or libgit2 reads them.
    let (tree_id, parent_tree) = match read {
        Some(map) => {
            let c = map.get(&oid)?;
            let parent = match c.first_parent {
                Some(p) => Some(map.get(&p)?.tree),
                None => None,
            };
            (c.tree, parent)
        }
        None => {
            let commit = repo.find_commit(oid).ok()?;
            if let Ok(mut trees) = known.trees.lock() {
                trees.insert(oid, commit.tree_id());
            }
            // `parent_id` applies grafts and the shallow boundary as `parent` does; a parent
            // already read (so readable) needs only its tree, else libgit2 reads it as before.
            let read_before = commit
                .parent_id(0)
                .ok()
                .and_then(|p| known.trees.lock().ok()?.get(&p).copied());
            let parent_tree = match read_before {
                Some(t) => Some(t),
                None => commit.parent(0).ok().map(|p| p.tree_id()),
            };
            (commit.tree_id(), parent_tree)
        }
    };
    let mut ctx = DiffCtx {
        commit: ci,
        known,
        fresh: Vec::new(),
    };
    let tree_id = raw_id(&tree_id)?;
    let root = known.key(tree_id, b"");
    if known.get(&root).is_some_and(|c| c < ci) {
        return Some(Vec::new());
    }
    let mut tree = Vec::new();
    if !reader.tree(tree_id, &mut tree) {
        return None;
    }
    let parent = match parent_tree {
        Some(p) => {
            let p = raw_id(&p)?;
            let mut t = Vec::new();
            if !reader.tree(p, &mut t) {
                return None;
            }
            Some((t, known.get(&known.key(p, b""))))
        }
        // No parent (a root or a shallow boundary), or one that cannot be read: the whole
        // tree is introduced here, as in `introduced_blobs`.
        None => None,
    };
    let mut changes = Vec::new();
    let mut path = Vec::with_capacity(256);
    let old = parent.as_ref().map(|(t, k)| (t.as_slice(), *k));
    if let Some(at) = diff_packed(reader, old, &tree, &mut path, &mut changes, &mut ctx)? {
        ctx.fresh.push((root, at));
    }
    known.publish(&ctx.fresh);
    Some(changes)
}

/// The 20 bytes of `id`.
fn raw_id(id: &Oid) -> Option<&[u8; 20]> {
    id.as_bytes().try_into().ok()
}

/// The two sides of an entry are the same kind of thing (a subtree, a symlink, a submodule or
/// a file): only then does an unchanged entry carry the old side's knowledge over (a file
/// that replaced a symlink with the same blob is not recorded there, see [`diff_trees`]).
fn same_kind(a: i32, b: i32) -> bool {
    let kind = |m: i32| match m {
        MODE_TREE | MODE_LINK | MODE_GITLINK => m,
        _ => 0,
    };
    kind(a) == kind(b)
}

/// [`diff_trees`] over raw trees read by `reader`; `None` when a tree cannot be read or parsed.
/// `old` comes with the commit by which all its files were recorded, if known. Returns the
/// commit by which every file of `new` is recorded once this diff is, if that is known (see
/// [`Known`]); subtrees already known before this commit are skipped.
fn diff_packed(
    reader: &mut pack::Reader<'_>,
    old: Option<(&[u8], Option<u32>)>,
    new: &[u8],
    path: &mut Vec<u8>,
    changes: &mut Introduced,
    ctx: &mut DiffCtx<'_>,
) -> Option<Option<u32>> {
    let new = tree_entries(new)?;
    let (old, old_known) = match old {
        Some((o, k)) => (tree_entries(o)?, k),
        None => (Vec::new(), Some(ctx.commit)),
    };
    let mut known = Some(ctx.commit);
    // Both sides are in git's order and no name is there twice (see [`tree_entries`]): the
    // entry at the same path is found by walking them together. An entry that is a subtree
    // on one side and not on the other is changed either way, and no old subtree to diff.
    let mut olds = old.iter().peekable();
    for entry in &new {
        while olds
            .next_if(|o| git_order(o, entry) == std::cmp::Ordering::Less)
            .is_some()
        {}
        let before = olds.next_if(|o| git_order(o, entry) == std::cmp::Ordering::Equal);
        let unchanged = before.is_some_and(|b| {
            b.id == entry.id && (b.mode == MODE_TREE) == (entry.mode == MODE_TREE)
        });
        if unchanged {
            let carried = before.is_some_and(|b| same_kind(b.mode, entry.mode));
            known = if carried {
                known.zip(old_known).map(|(a, b)| a.max(b))
            } else {
                None
            };
            continue;
        }
        let len = path.len();
        path.extend_from_slice(entry.name);
        match entry.mode {
            MODE_TREE => {
                path.push(b'/');
                let key = ctx.known.key(entry.id, path);
                let sub_known = match ctx.known.get(&key) {
                    Some(c) if c < ctx.commit => Some(c),
                    _ => {
                        let mut sub = Vec::new();
                        if !reader.tree(entry.id, &mut sub) {
                            return None;
                        }
                        let old_sub = match before {
                            Some(b) if b.mode == MODE_TREE => {
                                let mut t = Vec::new();
                                if !reader.tree(b.id, &mut t) {
                                    return None;
                                }
                                Some((t, ctx.known.get(&ctx.known.key(b.id, path))))
                            }
                            _ => None,
                        };
                        let old_sub = old_sub.as_ref().map(|(t, k)| (t.as_slice(), *k));
                        let at = diff_packed(reader, old_sub, &sub, path, changes, ctx)?;
                        if let Some(at) = at {
                            ctx.fresh.push((key, at));
                        }
                        at
                    }
                };
                known = known.zip(sub_known).map(|(a, b)| a.max(b));
            }
            MODE_LINK | MODE_GITLINK => {}
            _ => match Oid::from_bytes(entry.id) {
                Ok(id) => changes.push((path.clone(), Ok(id))),
                Err(_) => return None,
            },
        }
        path.truncate(len);
    }
    Some(known)
}

/// Git's order of tree entries: by name, a subtree's name followed by `/`.
fn git_order(a: &TreeEntry<'_>, b: &TreeEntry<'_>) -> std::cmp::Ordering {
    // The names' common length compares as slices (one `memcmp`; the diff's merge and the
    // parse's order check call this for every entry); only what follows it needs the slash.
    let n = a.name.len().min(b.name.len());
    let order = a.name[..n].cmp(&b.name[..n]);
    if order.is_ne() {
        return order;
    }
    let slash = |m: i32| (m == MODE_TREE).then_some(&b'/');
    let a = a.name[n..].iter().chain(slash(a.mode));
    a.cmp(b.name[n..].iter().chain(slash(b.mode)))
}

/// One entry of a raw tree.
struct TreeEntry<'a> {
    mode: i32,
    name: &'a [u8],
    id: &'a [u8; 20],
}

/// The entries of a raw tree (`<octal mode> <name>\0<20-byte id>`, repeated), or `None` unless
/// it is in the form git writes: the modes git uses, non-empty names, strictly sorted in git's
/// order (a subtree sorts as its name followed by `/`). libgit2 reads the same trees alike;
/// anything odder is left to libgit2, whose lookups and errors history mode reports.
fn tree_entries(mut raw: &[u8]) -> Option<Vec<TreeEntry<'_>>> {
    // No entry is shorter than 24 bytes (`40000 a\0` and the id): never grown.
    let mut entries: Vec<TreeEntry<'_>> = Vec::with_capacity(raw.len() / 24);
    while !raw.is_empty() {
        let space = memchr::memchr(b' ', raw)?;
        let mut mode = 0i32;
        for &d in &raw[..space] {
            if !(b'0'..=b'7').contains(&d) || mode > 0o7777777 {
                return None;
            }
            mode = mode * 8 + i32::from(d - b'0');
        }
        // libgit2's filemode() normalises 100664 to 100644, a plain file either way.
        if ![
            0o100644,
            0o100755,
            0o100664,
            MODE_TREE,
            MODE_LINK,
            MODE_GITLINK,
        ]
        .contains(&mode)
        {
            return None;
        }
        let rest = &raw[space + 1..];
        let nul = memchr::memchr(0, rest)?;
        let name = &rest[..nul];
        let id: &[u8; 20] = rest.get(nul + 1..nul + 21)?.try_into().ok()?;
        raw = &rest[nul + 21..];
        if name.is_empty() {
            return None;
        }
        let entry = TreeEntry { mode, name, id };
        if let Some(prev) = entries.last()
            && git_order(prev, &entry) != std::cmp::Ordering::Less
        {
            return None;
        }
        // A subtree and a file of the same name (sorted apart: "a" < "a.txt" < "a/"): git
        // never writes it, and which one a lookup by name finds is not defined.
        if mode == MODE_TREE
            && entries
                .iter()
                .rev()
                .take_while(|e| e.name.starts_with(name))
                .any(|e| e.name == name)
        {
            return None;
        }
        entries.push(entry);
    }
    Some(entries)
}

/// What one commit introduced relative to its first parent: (path, blob or why not).
type Introduced = Vec<(Vec<u8>, Result<Oid, SkipReason>)>;

/// The blobs `oid` introduced relative to its first parent; an unreadable commit or tree is
/// one entry with the reason.
///
/// Merge semantics: only the first parent counts. A blob a merge brings in from its other
/// parents was introduced by a commit on that branch, which the walk (oldest first) has
/// already recorded, so the oldest sighting still wins; a blob new in the merge itself (a
/// conflict resolution) differs from the first parent and is recorded here. `--range` asks
/// another question (which *lines* a merge adds against every parent, see
/// [`super::range`]).
fn introduced_blobs(repo: &Repository, oid: Oid) -> Introduced {
    let mut changes = Vec::new();
    let commit = match repo.find_commit(oid) {
        Ok(c) => c,
        Err(e) => return vec![(Vec::new(), Err(read_reason(&e)))],
    };
    let tree = match commit.tree() {
        Ok(t) => t,
        Err(e) => return vec![(Vec::new(), Err(read_reason(&e)))],
    };
    // A shallow boundary commit has no parents (libgit2 applies `.git/shallow`), so its
    // whole tree counts as introduced there. A parent that cannot be read is treated alike.
    let parent_tree = commit.parent(0).ok().and_then(|p| p.tree().ok());
    let mut path = Vec::with_capacity(256);
    diff_trees(
        repo,
        parent_tree.as_ref(),
        &tree,
        &mut path,
        &mut |p, blob| changes.push((p.to_vec(), blob.map_err(|e| read_reason(&e)))),
    );
    changes
}

const MODE_TREE: i32 = 0o040000;
const MODE_LINK: i32 = 0o120000;
const MODE_GITLINK: i32 = 0o160000;

/// What [`diff_trees`] reports: a path and its new blob, or why a subtree could not be read.
type TreeVisitor<'a> = dyn FnMut(&[u8], Result<Oid, git2::Error>) + 'a;

/// Calls `found(path, Ok(blob))` for every regular file in `new` whose blob differs from the
/// one at the same path in `old`, descending only into subtrees whose id changed, and
/// `found(dir, Err(_))` for a subtree that cannot be read (the walk goes on). Symlinks (their
/// blob is a target path) and gitlinks (submodule commits, not in this repository) are skipped.
fn diff_trees(
    repo: &Repository,
    old: Option<&Tree<'_>>,
    new: &Tree<'_>,
    path: &mut Vec<u8>,
    found: &mut TreeVisitor<'_>,
) {
    for entry in new.iter() {
        let mode = entry.filemode();
        let before = old.and_then(|t| t.get_name_bytes(entry.name_bytes()));
        let unchanged = before.as_ref().is_some_and(|b| {
            b.id() == entry.id() && (b.filemode() == MODE_TREE) == (mode == MODE_TREE)
        });
        if unchanged {
            continue;
        }
        let len = path.len();
        path.extend_from_slice(entry.name_bytes());
        match mode {
            MODE_TREE => {
                path.push(b'/');
                match repo.find_tree(entry.id()) {
                    Ok(sub) => {
                        let old_sub = match &before {
                            Some(b) if b.filemode() == MODE_TREE => repo.find_tree(b.id()).ok(),
                            _ => None,
                        };
                        diff_trees(repo, old_sub.as_ref(), &sub, path, found);
                    }
                    Err(e) => found(path, Err(e)),
                }
            }
            MODE_LINK | MODE_GITLINK => {}
            _ => found(path, Ok(entry.id())),
        }
        path.truncate(len);
    }
}

/// One scanned blob: its index, its findings (under its first path) or why it was skipped,
/// and the matches its scan only counted ([`crate::scan::Scanned::unreported`]).
type Scanned = (u32, Vec<Finding>, Option<SkipReason>, usize);

/// Reads and scans every unique blob in parallel: first all the packs hold (see [`super::pack`]),
/// then the rest through libgit2, which also says why a blob cannot be scanned. Sorted by
/// blob, whichever path read it.
fn scan_blobs(
    repo: &Repository,
    packs: &pack::Packs,
    inv: &Inventory,
    max: u64,
    engine: &Engine,
    counters: &Counters,
) -> Vec<Scanned> {
    let oids: Vec<Oid> = inv.blobs.iter().map(|b| b.oid).collect();
    // A blob that is binary by its first block is scanned from that block alone, with the
    // same verdict: the pack reader need not inflate the rest.
    let binary = |head: &[u8]| binary_by_head(engine, head);
    let head = pack::Head {
        len: BINARY_SNIFF,
        enough: &binary,
    };
    let (read, mut scanned) = pack::read_blobs(
        packs,
        &oids,
        max,
        head,
        Scratch::default,
        |scratch, b, data| {
            let rec = &inv.blobs[b as usize];
            let path = display_git_path(inv.path(rec.locs[0].path));
            scanned_blob(
                b,
                rec.locs.len(),
                scan_bytes(data, rec.oid, &path, engine, scratch),
                counters,
            )
        },
    );
    let rest: Vec<u32> = (0..oids.len() as u32)
        .filter(|&b| !read[b as usize])
        .collect();
    scanned.extend(scan_blobs_libgit2(
        repo.path(),
        inv,
        &rest,
        max,
        engine,
        counters,
    ));
    scanned.sort_unstable_by_key(|s| s.0);
    scanned
}

/// The rules with `skip_paths`: the only ones whose findings depend on which of a blob's paths
/// it is scanned and reported under (none of the others is looked at per finding).
struct PathRules<'e>(Vec<&'e Rule>);

impl<'e> PathRules<'e> {
    fn new(engine: &'e Engine) -> Self {
        let rules = engine.rules().rules().iter();
        PathRules(rules.filter(|r| !r.skip_paths.is_empty()).collect())
    }

    /// Whether the rule `id` (if it has `skip_paths`) leaves `path` out.
    fn skips(&self, id: &str, path: &str) -> bool {
        self.0.iter().any(|r| r.id == id && r.skips_path(path))
    }

    /// A blob is scanned once, under its first path, and a rule's `skip_paths` drop its
    /// matches there. So that a sample copy (`docs/mail.yml`, committed first) cannot hide the
    /// same file's real copy (`deploy/mail.yml`), a blob whose first path some rule skips is
    /// scanned under its first path that no rule skips, if it has one; each copy is then
    /// judged by its own path when the findings are attributed ([`PathRules::skips`]).
    fn scan_under_unskipped_paths(&self, inv: &mut Inventory) {
        if self.0.is_empty() {
            return;
        }
        let skipped = |inv: &Inventory, loc: &Loc| {
            let path = display_git_path(inv.path(loc.path));
            self.0.iter().any(|r| r.skips_path(&path))
        };
        for b in 0..inv.blobs.len() {
            let locs = &inv.blobs[b].locs;
            if locs.len() < 2 || !skipped(inv, &locs[0]) {
                continue;
            }
            if let Some(i) = locs.iter().position(|l| !skipped(inv, l)) {
                inv.blobs[b].locs[..=i].rotate_right(1);
            }
        }
    }
}

/// What one blob's scan leaves to report (nothing for a clean blob), counted for progress.
fn scanned_blob(
    b: u32,
    paths: usize,
    result: Result<(usize, Vec<Finding>, Option<SkipReason>, usize), SkipReason>,
    counters: &Counters,
) -> Option<Scanned> {
    match result {
        Ok((len, findings, note, unreported)) => {
            counters.scanned(len, findings.len() * paths);
            (!findings.is_empty() || note.is_some() || unreported > 0)
                .then_some((b, findings, note, unreported))
        }
        Err(reason) => Some((b, Vec::new(), Some(reason), 0)),
    }
}

/// Reads and scans the blobs `ids` through libgit2, in parallel. Chunks are contiguous so each
/// task reads blobs in walk order (neighbours in history share delta bases in the pack), and
/// each task opens its own `Repository`.
fn scan_blobs_libgit2(
    git_dir: &Path,
    inv: &Inventory,
    ids: &[u32],
    max: u64,
    engine: &Engine,
    counters: &Counters,
) -> Vec<Scanned> {
    let n = ids.len();
    if n == 0 {
        return Vec::new();
    }
    // Enough chunks to balance uneven blob sizes, few enough that opening a handle per chunk
    // (config, refs and pack indexes: well under a millisecond) is noise.
    let chunk = n.div_ceil(rayon::current_num_threads() * 16).max(1);
    ids.par_chunks(chunk)
        .flat_map_iter(|chunk| {
            // Every blob of a chunk whose handle cannot be opened is skipped with the reason.
            let unreadable = |what: &str, e: git2::Error| {
                let reason = SkipReason::new(
                    SkipKind::UnreadableRepository,
                    format!("cannot open {what}: {}", e.message()),
                );
                chunk
                    .iter()
                    .map(|&b| (b, Vec::new(), Some(reason.clone()), 0))
                    .collect::<Vec<_>>()
            };
            let repo = match Repository::open(git_dir) {
                Ok(r) => r,
                Err(e) => return unreadable("repository", e),
            };
            let odb = match repo.odb() {
                Ok(o) => o,
                Err(e) => return unreadable("object database", e),
            };
            let mut results = Vec::new();
            let mut scratch = Scratch::default();
            for &b in chunk {
                let rec = &inv.blobs[b as usize];
                let path = display_git_path(inv.path(rec.locs[0].path));
                let result = scan_blob(&odb, rec.oid, &path, max, engine, &mut scratch);
                results.extend(scanned_blob(b, rec.locs.len(), result, counters));
            }
            results
        })
        .collect()
}

/// Reads one blob (size checked from the header first, so an oversized blob is never
/// inflated) and scans it under `path`. Returns the blob's length, its findings, a note on
/// unreadable archive members, and the matches the scan only counted.
fn scan_blob(
    odb: &git2::Odb<'_>,
    oid: Oid,
    path: &str,
    max: u64,
    engine: &Engine,
    scratch: &mut Scratch,
) -> Result<(usize, Vec<Finding>, Option<SkipReason>, usize), SkipReason> {
    let (size, kind) = odb.read_header(oid).map_err(|e| read_reason(&e))?;
    if let Some(reason) = header_skip(kind, size as u64, max) {
        return Err(reason);
    }
    let obj = odb.read(oid).map_err(|e| read_reason(&e))?;
    scan_bytes(obj.data(), oid, path, engine, scratch)
}

/// Scans one blob's bytes under `path`; see [`scan_blob`].
fn scan_bytes(
    data: &[u8],
    oid: Oid,
    path: &str,
    engine: &Engine,
    scratch: &mut Scratch,
) -> Result<(usize, Vec<Finding>, Option<SkipReason>, usize), SkipReason> {
    let provenance = Provenance::Blob {
        path: path.to_string(),
        blob: oid.to_string(),
    };
    let input = Input {
        provenance: &provenance,
        bytes: data,
    };
    let scanned = scan_input(engine, input, scratch);
    match scanned.verdict {
        Verdict::Binary => Err(SkipReason::plain(SkipKind::Binary)),
        Verdict::Text => Ok((data.len(), scanned.findings, None, scanned.unreported)),
        // What could not be read inside an archive is summarised on the blob's skipped line.
        Verdict::Archive => {
            let note = scanned.skipped.first().map(|first| {
                SkipReason::new(
                    SkipKind::ArchiveMembersSkipped,
                    format!(
                        "{} archive member(s) not scanned (first: {}: {})",
                        scanned.skipped.len(),
                        first.path,
                        first.reason
                    ),
                )
            });
            Ok((data.len(), scanned.findings, note, scanned.unreported))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(mode: &str, name: &str, id: u8) -> Vec<u8> {
        let mut e = format!("{mode} {name}\0").into_bytes();
        e.extend_from_slice(&[id; 20]);
        e
    }

    #[test]
    fn only_trees_in_gits_own_form_are_parsed_here() {
        // A subtree sorts as "a/", after "a.txt" ('.' < '/'); a file "a" would sort first.
        let good = [
            entry("100644", "a.txt", 1),
            entry("40000", "a", 2),
            entry("100755", "b", 3),
            entry("120000", "c", 4),
            entry("160000", "d", 5),
        ]
        .concat();
        let parsed = tree_entries(&good).expect("git's own form");
        let names: Vec<_> = parsed.iter().map(|e| e.name).collect();
        assert_eq!(names, [&b"a.txt"[..], b"a", b"b", b"c", b"d"]);
        assert_eq!(parsed[1].mode, MODE_TREE);
        assert_eq!(parsed[4].id, &[5; 20]);
        assert_eq!(tree_entries(b"").map(|v| v.len()), Some(0));
        for odd in [
            // Out of order, duplicated, a mode git never writes, an empty name, truncated.
            [entry("100644", "b", 1), entry("100644", "a", 2)].concat(),
            [entry("100644", "a", 1), entry("100644", "a", 2)].concat(),
            entry("100600", "a", 1),
            entry("10064x", "a", 1),
            entry("100644", "", 1),
            entry("100644", "a", 1)[..10].to_vec(),
            // A file and a subtree of one name, in git's order.
            [
                entry("100644", "a", 1),
                entry("100644", "a.txt", 2),
                entry("40000", "a", 3),
            ]
            .concat(),
        ] {
            assert!(tree_entries(&odd).is_none(), "{odd:?}");
        }
    }
}
