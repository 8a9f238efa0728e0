//! The commit walk of history mode read from the pack files: every commit reachable from the
//! tips, in the order libgit2's revwalk gives for `TOPOLOGICAL | TIME`, plus each commit's tree
//! and first parent for the diff that follows.
//!
//! libgit2 parses every commit twice in a history scan (once for the walk, once when the
//! commit is diffed), through system zlib and one call at a time; on a 62k-commit history
//! that was ~1 s of CPU, half of it before anything else could start. Here each commit is
//! read once, through [`pack::Reader`], and the walk keeps what the diff needs.
//!
//! The order must be libgit2's to the tie: which commit a (blob, path) is attributed to is the
//! first one in walk order that shows it. So this is libgit2 1.9's `revwalk.c` done again
//! step for step (the date-ordered limiting pass, then the topological sort with its binary
//! heap, whose tie-breaking is part of the result). Anything this walk is not sure to read as
//! libgit2 does gives `None`, and the caller walks with libgit2: a repository with grafts, a
//! shallow boundary or a commit-graph file (libgit2 reads parents and times from those), a
//! commit that is not in a pack (loose, or in an alternate), and a commit whose header is not
//! in the plain form git writes (see [`parse`]).

use std::collections::VecDeque;
use std::path::Path;

use foldhash::HashMap;
use git2::Oid;

use super::pack;

/// A commit's tree, first parent and committer time, as the diff and `--since` need them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Commit {
    pub(super) tree: Oid,
    pub(super) first_parent: Option<Oid>,
    pub(super) time: i64,
}

/// What the walk read: the commits newest first (libgit2's order), and each one's tree and
/// first parent.
pub(super) struct Walked {
    pub(super) order: Vec<Oid>,
    pub(super) commits: HashMap<Oid, Commit>,
}

/// Whether libgit2 reads this repository's parents or commit times from anything but the
/// commits themselves (grafts, `shallow`, a commit-graph), so the walk is left to it.
pub(super) fn libgit2_only(git_dir: &Path, common_dir: &Path) -> bool {
    let objects = common_dir.join("objects");
    [
        git_dir.join("shallow"),
        common_dir.join("shallow"),
        git_dir.join("info/grafts"),
        common_dir.join("info/grafts"),
        objects.join("info/commit-graph"),
        objects.join("info/commit-graphs"),
    ]
    .iter()
    .any(|p| p.symlink_metadata().is_ok())
}

/// A commit's tree, parents and committer time.
type Parsed = (Oid, Vec<Oid>, i64);

struct Node {
    oid: Oid,
    tree: Oid,
    time: i64,
    /// Into [`Graph::parents`].
    parents: (u32, u32),
    parsed: bool,
    seen: bool,
    added: bool,
    in_degree: u32,
}

struct Graph<'r, 'p> {
    reader: &'r mut pack::Reader<'p>,
    /// Commits already read, in parallel, by [`pack::whole_commits`].
    read: HashMap<Oid, Parsed>,
    nodes: Vec<Node>,
    at: HashMap<Oid, u32>,
    parents: Vec<u32>,
    raw: Vec<u8>,
}

impl Graph<'_, '_> {
    fn lookup(&mut self, oid: Oid) -> u32 {
        let next = self.nodes.len() as u32;
        let n = *self.at.entry(oid).or_insert(next);
        if n == next {
            self.nodes.push(Node {
                oid,
                tree: Oid::ZERO_SHA1,
                time: 0,
                parents: (0, 0),
                parsed: false,
                seen: false,
                added: false,
                in_degree: 0,
            });
        }
        n
    }

    /// `git_commit_list_parse`: reads the commit once; `None` when it cannot be read here.
    fn parse(&mut self, n: u32) -> Option<()> {
        if self.nodes[n as usize].parsed {
            return Some(());
        }
        let oid = self.nodes[n as usize].oid;
        let parsed = match self.read.remove(&oid) {
            Some(p) => Some(p),
            None => {
                let mut raw = std::mem::take(&mut self.raw);
                let ok = self.reader.commit(oid, &mut raw);
                let parsed = if ok { parse(&raw) } else { None };
                self.raw = raw;
                parsed
            }
        };
        let (tree, parent_ids, time) = parsed?;
        let start = self.parents.len() as u32;
        for p in parent_ids {
            let p = self.lookup(p);
            self.parents.push(p);
        }
        let end = self.parents.len() as u32;
        let node = &mut self.nodes[n as usize];
        node.tree = tree;
        node.time = time;
        node.parents = (start, end);
        node.parsed = true;
        Some(())
    }

    fn parents_of(&self, n: u32) -> std::ops::Range<usize> {
        let (a, b) = self.nodes[n as usize].parents;
        a as usize..b as usize
    }

    /// `add_parents_to_list` for an interesting commit (nothing is hidden here).
    fn add_parents(&mut self, n: u32, list: &mut VecDeque<u32>) -> Option<()> {
        if self.nodes[n as usize].added {
            return Some(());
        }
        self.nodes[n as usize].added = true;
        for i in self.parents_of(n) {
            let p = self.parents[i];
            self.parse(p)?;
            if !self.nodes[p as usize].seen {
                self.nodes[p as usize].seen = true;
                self.insert_by_date(p, list);
            }
        }
        Some(())
    }

    /// `git_commit_list_insert_by_date`: before the first commit strictly older.
    fn insert_by_date(&self, n: u32, list: &mut VecDeque<u32>) {
        let time = self.nodes[n as usize].time;
        let at = list
            .iter()
            .position(|&p| self.nodes[p as usize].time < time)
            .unwrap_or(list.len());
        list.insert(at, n);
    }

    /// `git_commit_list_time_cmp`: newer first.
    fn cmp(&self, a: u32, b: u32) -> std::cmp::Ordering {
        let (a, b) = (self.nodes[a as usize].time, self.nodes[b as usize].time);
        b.cmp(&a)
    }
}

/// The commits [`pack::whole_commits`] read, parsed: the walk's head start.
pub(super) type Read = HashMap<Oid, Parsed>;

/// Walks every commit reachable from `tips` (in the order they were pushed to the revwalk),
/// or `None` when libgit2 must (see the module). `read` is what [`pack::whole_commits`] read
/// with [`parse`]; the rest is read here one at a time.
pub(super) fn walk(packs: &pack::Packs, tips: &[Oid], read: Read) -> Option<Walked> {
    let mut reader = pack::Reader::new(packs);
    let mut g = Graph {
        read,
        reader: &mut reader,
        nodes: Vec::new(),
        at: HashMap::default(),
        parents: Vec::new(),
        raw: Vec::new(),
    };
    // `git_revwalk_push` puts each tip at the front of the input list.
    let input: Vec<u32> = tips.iter().map(|&t| g.lookup(t)).collect();
    let mut list = VecDeque::new();
    for &c in input.iter().rev() {
        g.parse(c)?;
        if !g.nodes[c as usize].seen {
            g.nodes[c as usize].seen = true;
            list.push_back(c);
        }
    }
    // `limit_list`.
    let mut limited = Vec::new();
    while let Some(c) = list.pop_front() {
        g.add_parents(c, &mut list)?;
        limited.push(c);
    }
    // `sort_in_topological_order`.
    for &c in &limited {
        g.nodes[c as usize].in_degree = 1;
    }
    for &c in &limited {
        for i in g.parents_of(c) {
            let p = g.parents[i] as usize;
            if g.nodes[p].in_degree != 0 {
                g.nodes[p].in_degree += 1;
            }
        }
    }
    let mut heap = Heap(Vec::new());
    for &c in &limited {
        if g.nodes[c as usize].in_degree == 1 {
            heap.insert(c, &g);
        }
    }
    let mut order = Vec::with_capacity(limited.len());
    while let Some(next) = heap.pop(&g) {
        for i in g.parents_of(next) {
            let p = g.parents[i];
            let node = &mut g.nodes[p as usize];
            if node.in_degree == 0 {
                continue;
            }
            node.in_degree -= 1;
            if node.in_degree == 1 {
                heap.insert(p, &g);
            }
        }
        g.nodes[next as usize].in_degree = 0;
        order.push(g.nodes[next as usize].oid);
    }
    let commits = (0..g.nodes.len() as u32)
        .filter(|&i| g.nodes[i as usize].parsed)
        .map(|i| {
            let n = &g.nodes[i as usize];
            let first_parent = g
                .parents_of(i)
                .next()
                .map(|k| g.nodes[g.parents[k] as usize].oid);
            (
                n.oid,
                Commit {
                    tree: n.tree,
                    first_parent,
                    time: n.time,
                },
            )
        })
        .collect();
    Some(Walked { order, commits })
}

/// libgit2's `git_pqueue`: a binary heap whose order among equal times is part of the walk's
/// result, so it is the same heap, sift for sift.
struct Heap(Vec<u32>);

impl Heap {
    fn insert(&mut self, n: u32, g: &Graph<'_, '_>) {
        self.0.push(n);
        let mut el = self.0.len() - 1;
        let kid = self.0[el];
        while el > 0 {
            let parent_el = (el - 1) / 2;
            let parent = self.0[parent_el];
            if g.cmp(parent, kid) != std::cmp::Ordering::Greater {
                break;
            }
            self.0[el] = parent;
            el = parent_el;
        }
        self.0[el] = kid;
    }

    fn pop(&mut self, g: &Graph<'_, '_>) -> Option<u32> {
        let top = *self.0.first()?;
        let last = self.0.pop()?;
        if !self.0.is_empty() {
            self.0[0] = last;
            self.down(g);
        }
        Some(top)
    }

    fn down(&mut self, g: &Graph<'_, '_>) {
        let h = &mut self.0;
        let mut el = 0;
        let parent = h[0];
        loop {
            let mut kid_el = el * 2 + 1;
            let Some(&first) = h.get(kid_el) else {
                break;
            };
            let mut kid = first;
            if let Some(&rkid) = h.get(kid_el + 1)
                && g.cmp(kid, rkid) == std::cmp::Ordering::Greater
            {
                kid = rkid;
                kid_el += 1;
            }
            if g.cmp(parent, kid) != std::cmp::Ordering::Greater {
                break;
            }
            h[el] = kid;
            el = kid_el;
        }
        h[el] = parent;
    }
}

/// A commit's tree, parents and committer time, read as libgit2's quick parse reads them, or
/// `None` unless the header is in the form git writes: `tree`, then `parent` lines, then
/// `author` lines, then `committer NAME <EMAIL> SECONDS ±HHMM`. Anything odder goes to libgit2,
/// so its reading of an odd commit (a missing time is 0, a stray sign is read) decides.
pub(super) fn parse(raw: &[u8]) -> Option<Parsed> {
    let mut rest = raw;
    let tree = id_line(&mut rest, b"tree ")?;
    let mut parents = Vec::new();
    while let Some(p) = id_line(&mut rest, b"parent ") {
        parents.push(p);
    }
    if parents.len() > usize::from(u16::MAX) {
        return None;
    }
    while rest.starts_with(b"author ") {
        signature_time(&mut rest, b"author ")?;
    }
    let time = signature_time(&mut rest, b"committer ")?;
    Some((tree, parents, time))
}

/// `PREFIX <40 hex>\n`, consumed.
fn id_line(rest: &mut &[u8], prefix: &[u8]) -> Option<Oid> {
    let line = rest.strip_prefix(prefix)?;
    let (digits, after) = line.split_at_checked(40)?;
    let after = after.strip_prefix(b"\n")?;
    // Lowercase hex only: what git writes (libgit2 would also take uppercase). Decoded here:
    // libgit2's parser is a call per id, ~80M instructions over hummingbot's 62k commits.
    if digits.iter().any(u8::is_ascii_uppercase) {
        return None;
    }
    let mut raw = [0u8; 20];
    hex::decode_to_slice(digits, &mut raw).ok()?;
    let oid = Oid::from_bytes(&raw).ok()?;
    *rest = after;
    Some(oid)
}

/// `PREFIX NAME <EMAIL> SECONDS ±HHMM\n`, consumed; its seconds.
fn signature_time(rest: &mut &[u8], prefix: &[u8]) -> Option<i64> {
    let body = rest.strip_prefix(prefix)?;
    let nl = memchr::memchr(b'\n', body)?;
    let line = &body[..nl];
    // libgit2 takes the last `<` and the last `>` of the line.
    let lt = memchr::memrchr(b'<', line)?;
    let gt = memchr::memrchr(b'>', line)?;
    if gt <= lt {
        return None;
    }
    let tail = line[gt + 1..].strip_prefix(b" ")?;
    let space = memchr::memchr(b' ', tail)?;
    let (secs, zone) = (&tail[..space], &tail[space + 1..]);
    if secs.is_empty() || secs.len() > 18 || !secs.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if zone.len() != 5
        || !matches!(zone[0], b'+' | b'-')
        || !zone[1..].iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    let time = std::str::from_utf8(secs).ok()?.parse().ok()?;
    *rest = &body[nl + 1..];
    Some(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
    const P: &str = "1111111111111111111111111111111111111111";

    fn git(dir: &Path, args: &[&str], date: &str) {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}");
    }

    /// libgit2's own order for the same tips.
    fn libgit2_order(repo: &git2::Repository, tips: &[Oid]) -> Vec<Oid> {
        let mut walk = repo.revwalk().unwrap();
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)
            .unwrap();
        for &t in tips {
            walk.push(t).unwrap();
        }
        walk.map(Result::unwrap).collect()
    }

    /// Branches forked and merged back with most commits at one time (the heap's tie-breaking
    /// decides their order) and tags on side branches: the walk gives libgit2's order for
    /// several orders of tips, and leaves a loose commit to libgit2.
    #[test]
    fn the_walk_is_libgit2s_order_to_the_tie() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        let same = "1700000000 +0000";
        git(dir, &["init", "-q", "-b", "main"], same);
        let mut n = 0;
        let mut commit = |date: &str| {
            n += 1;
            std::fs::write(dir.join(format!("f{}", n % 7)), n.to_string()).unwrap();
            git(dir, &["add", "-A"], date);
            git(dir, &["commit", "-qm", "c"], date);
        };
        for _ in 0..4 {
            commit(same);
        }
        for b in 0..6 {
            git(dir, &["checkout", "-qb", &format!("b{b}"), "main"], same);
            for k in 0..3 {
                // Some side commits older or newer than the rest.
                let date = match (b + k) % 4 {
                    0 => "1600000000 +0000",
                    1 => "1800000000 +0000",
                    _ => same,
                };
                commit(date);
            }
            git(dir, &["tag", &format!("t{b}")], same);
            git(dir, &["checkout", "-q", "main"], same);
            if b % 2 == 0 {
                git(
                    dir,
                    &["merge", "-q", "--no-ff", "-m", "m", &format!("b{b}")],
                    same,
                );
            }
            commit(same);
        }
        git(dir, &["repack", "-adq"], same);
        let repo = git2::Repository::open(dir).unwrap();
        let packs = pack::open(&dir.join(".git/objects"));
        let mut tips: Vec<Oid> = repo
            .references()
            .unwrap()
            .flatten()
            .filter_map(|r| r.peel_to_commit().ok().map(|c| c.id()))
            .collect();
        tips.push(repo.head().unwrap().peel_to_commit().unwrap().id());
        let mut orders = vec![tips.clone()];
        orders.push(tips.iter().rev().copied().collect());
        orders.push(tips.iter().chain(&tips).step_by(3).copied().collect());
        for tips in &orders {
            let read = pack::whole_commits(&packs, parse);
            let walked = walk(&packs, tips, read).expect("every commit packed");
            let expected = libgit2_order(&repo, tips);
            assert_eq!(expected.len(), 4 + 6 * 4 + 3, "every commit once");
            assert_eq!(walked.order, expected, "{tips:?}");
            let head = repo.head().unwrap().peel_to_commit().unwrap();
            let c = walked.commits[&head.id()];
            assert_eq!(c.tree, head.tree_id());
            assert_eq!(c.first_parent, head.parent_id(0).ok());
            assert_eq!(c.time, head.time().seconds());
        }
        // A commit not in a pack: libgit2 walks.
        commit(same);
        let head = repo.head().unwrap().peel_to_commit().unwrap().id();
        let packs = pack::open(&dir.join(".git/objects"));
        let read = pack::whole_commits(&packs, parse);
        assert!(walk(&packs, &[head], read).is_none());
    }

    #[test]
    fn only_plain_commit_headers_are_parsed_here() {
        let good = format!(
            "tree {T}\nparent {P}\nparent {T}\nauthor A <a@x> 5 +0100\nauthor B <b@x> 6 -0200\n\
             committer C D <c@x> 1700000000 +0000\nencoding x\n\nmsg\n"
        );
        let (tree, parents, time) = parse(good.as_bytes()).expect("plain");
        assert_eq!(tree.to_string(), T);
        assert_eq!(parents.len(), 2);
        assert_eq!(parents[0].to_string(), P);
        assert_eq!(time, 1_700_000_000);
        let root = format!("tree {T}\ncommitter <> 0 +0000\n");
        assert_eq!(parse(root.as_bytes()).map(|p| p.2), Some(0));
        for odd in [
            format!("tree {}\ncommitter a <b> 1 +0000\n", &T[..39]),
            format!(
                "tree {T}\nparent {}\ncommitter a <b> 1 +0000\n",
                T.to_uppercase()
            ),
            format!("tree {T}\nauthor a b> 1 +0000\ncommitter a <b> 1 +0000\n"),
            format!("tree {T}\ncommitter a <b> -1 +0000\n"),
            format!("tree {T}\ncommitter a <b>1 +0000\n"),
            format!("tree {T}\ncommitter a <b> 1\n"),
            format!("tree {T}\ncommitter a <b> 1 +00\n"),
            format!("tree {T}\ncommitter a <b> 1 +0000"),
            format!("tree {T}\nparent {P}\nmergetag x\ncommitter a <b> 1 +0000\n"),
            format!("tree {T}\ncommitter a <b> 99999999999999999999 +0000\n"),
            format!("tree {T}\n"),
        ] {
            assert!(parse(odd.as_bytes()).is_none(), "{odd:?}");
        }
    }
}
