//! History mode: every blob reachable from the refs, scanned once, attributed to the oldest
//! commit that introduced it at each path (see the module above for the two passes).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use git2::{Oid, Repository, Sort, Tree};
use rayon::prelude::*;

use super::pack;
use super::repo::{
    commit_info, display_git_path, header_skip, read_reason, setup_err, shallow_boundary, short,
    tune_libgit2,
};
use super::{GitError, GitOptions};
use crate::finding::{Finding, GitInfo};
use crate::model::{Input, Provenance, SkipKind, SkipReason, Skipped};
use crate::scan::{Engine, Scratch, Verdict, scan_input};
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
    blob_index: HashMap<Oid, u32>,
    /// (blob, path) pairs already recorded: the oldest commit wins.
    seen: HashSet<(u32, u32)>,
    paths: Vec<Box<[u8]>>,
    path_index: HashMap<Box<[u8]>, u32>,
    skipped: Vec<Skipped>,
}

impl Inventory {
    fn intern(&mut self, path: &[u8]) -> u32 {
        if let Some(&i) = self.path_index.get(path) {
            return i;
        }
        let i = self.paths.len() as u32;
        self.paths.push(path.into());
        self.path_index.insert(path.into(), i);
        i
    }

    fn record(&mut self, blob: Oid, path: &[u8], commit: u32) {
        let path = self.intern(path);
        let next = self.blobs.len() as u32;
        let b = *self.blob_index.entry(blob).or_insert(next);
        if b == next {
            self.blobs.push(BlobRec {
                oid: blob,
                locs: Vec::with_capacity(1),
            });
        }
        if self.seen.insert((b, path)) {
            self.blobs[b as usize].locs.push(Loc { path, commit });
        }
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
    let commits = walk_commits(repo, limits, &mut out)?;
    let mut inv = Inventory {
        commits,
        ..Inventory::default()
    };
    collect_blobs(repo, &mut inv, counters);
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

    let scanned = scan_blobs(repo, &inv, opts.max_file_size, engine, counters);
    let mut infos: HashMap<u32, GitInfo> = HashMap::new();
    let mut capped = Capped::default();
    for (blob, mut findings, skip, unreported) in scanned {
        capped.input(&mut findings, unreported);
        let rec = &inv.blobs[blob as usize];
        let first_path = display_git_path(&inv.paths[rec.locs[0].path as usize]);
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
            let path = display_git_path(&inv.paths[loc.path as usize]);
            for f in &findings {
                // A blob at many paths is one copy per path: the scan-wide cap bounds them
                // (and counts every copy it leaves out).
                if !capped.room(&out.findings) {
                    continue;
                }
                let mut f = f.clone();
                // Archive members are reported as `<blob path>!/<member>`: keep the member.
                let member = f.path.strip_prefix(first_path.as_str()).unwrap_or("");
                f.path = format!("{path}{member}");
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

/// The commits to walk, oldest first. `--max-count` keeps the newest N (as `git log -n`), so
/// the walk runs newest first and is reversed; a reversed topological order is still one.
fn walk_commits(
    repo: &Repository,
    limits: &Limits<'_>,
    out: &mut SourceOutput,
) -> Result<Vec<Oid>, GitError> {
    let mut walk = repo
        .revwalk()
        .map_err(|e| setup_err("cannot walk history", e))?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
        .map_err(|e| setup_err("cannot walk history", e))?;
    let mut tips = 0;
    if limits.branches.is_empty() {
        // Every ref (branches, tags, remotes, stash, notes…) and a detached HEAD. Refs that do
        // not lead to a commit (a tag of a tree, a dangling ref) have no history to walk.
        let refs = repo
            .references()
            .map_err(|e| setup_err("cannot list refs", e))?;
        for r in refs.flatten() {
            if let Ok(c) = r.peel_to_commit() {
                tips += usize::from(walk.push(c.id()).is_ok());
            }
        }
        if let Ok(c) = repo.head().and_then(|h| h.peel_to_commit()) {
            tips += usize::from(walk.push(c.id()).is_ok());
        }
    } else {
        for name in limits.branches {
            let commit = repo
                .revparse_single(name)
                .and_then(|o| o.peel_to_commit())
                .map_err(|e| setup_err(&format!("--branch `{name}`"), e))?;
            walk.push(commit.id())
                .map_err(|e| setup_err(&format!("--branch `{name}`"), e))?;
            tips += 1;
        }
    }
    if tips == 0 {
        out.notes
            .push("the repository has no commits: nothing to scan".into());
        return Ok(Vec::new());
    }
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
        if let Some(since) = limits.since {
            match repo.find_commit(oid) {
                Ok(c) if c.time().seconds() < since => continue,
                _ => {}
            }
        }
        commits.push(oid);
    }
    commits.reverse();
    Ok(commits)
}

/// What one commit introduced relative to its first parent: (path, blob or why not).
type Introduced = Vec<(Vec<u8>, Result<Oid, SkipReason>)>;

/// Records, for each walked commit, the blobs it introduced relative to its first parent.
/// Commits are diffed in parallel (each diff only reads trees), then recorded in walk order,
/// so the oldest commit that shows a (blob, path) still wins.
fn collect_blobs(repo: &Repository, inv: &mut Inventory, counters: &Counters) {
    let git_dir = repo.path();
    let commits = &inv.commits;
    let n = commits.len();
    if n == 0 {
        return;
    }
    let chunk = n.div_ceil(rayon::current_num_threads() * 16).max(1);
    let ids: Vec<u32> = (0..n as u32).collect();
    let diffs: Vec<(u32, Introduced)> = ids
        .par_chunks(chunk)
        .flat_map_iter(|chunk| {
            let repo = Repository::open(git_dir);
            chunk
                .iter()
                .map(|&ci| {
                    counters
                        .commits
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let changes = match &repo {
                        Ok(repo) => introduced_blobs(repo, commits[ci as usize]),
                        Err(e) => vec![(Vec::new(), Err(read_reason(e)))],
                    };
                    (ci, changes)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for (ci, changes) in diffs {
        let oid = inv.commits[ci as usize];
        for (path, blob) in changes {
            match blob {
                Ok(blob) => inv.record(blob, &path, ci),
                Err(reason) => inv.skipped.push(Skipped {
                    path: format!("{}:{}", short(oid), display_git_path(&path)),
                    reason,
                }),
            }
        }
    }
}

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
    inv: &Inventory,
    max: u64,
    engine: &Engine,
    counters: &Counters,
) -> Vec<Scanned> {
    let oids: Vec<Oid> = inv.blobs.iter().map(|b| b.oid).collect();
    let (read, mut scanned) = pack::read_blobs(
        &repo.commondir().join("objects"),
        &oids,
        max,
        Scratch::default,
        |scratch, b, data| {
            let rec = &inv.blobs[b as usize];
            let path = display_git_path(&inv.paths[rec.locs[0].path as usize]);
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
            let mut results = Vec::new();
            let repo = match Repository::open(git_dir) {
                Ok(r) => r,
                Err(e) => {
                    let reason = SkipReason::new(
                        SkipKind::UnreadableRepository,
                        format!("cannot open repository: {}", e.message()),
                    );
                    results.extend(
                        chunk
                            .iter()
                            .map(|&b| (b, Vec::new(), Some(reason.clone()), 0)),
                    );
                    return results;
                }
            };
            let odb = match repo.odb() {
                Ok(o) => o,
                Err(e) => {
                    let reason = SkipReason::new(
                        SkipKind::UnreadableRepository,
                        format!("cannot open object database: {}", e.message()),
                    );
                    results.extend(
                        chunk
                            .iter()
                            .map(|&b| (b, Vec::new(), Some(reason.clone()), 0)),
                    );
                    return results;
                }
            };
            let mut scratch = Scratch::default();
            for &b in chunk {
                let rec = &inv.blobs[b as usize];
                let path = display_git_path(&inv.paths[rec.locs[0].path as usize]);
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
