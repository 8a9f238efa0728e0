//! A read-only reader for git's index file (`.git/index`), for `--staged`.
//!
//! Why not libgit2's: loading the index through libgit2 verifies the whole file's SHA-1 with
//! the collision-detecting implementation and builds a hash map of every entry, and
//! `diff_tree_to_index` then walks every tree of HEAD. On a 50k-file repository that is most
//! of a pre-commit hook's time budget. This reader only parses the entries and the cache-tree
//! (`TREE` extension), which records the tree id of every directory whose entries have not
//! changed since git last wrote a tree; [`changes`] then compares HEAD only where the
//! cache-tree says a directory differs, so a 10-file change reads a handful of trees.
//!
//! Anything this reader does not handle (a split or sparse index, an unknown required
//! extension, a SHA-256 repository, a malformed file) makes it return `None`, and the caller
//! falls back to libgit2. See <https://git-scm.com/docs/index-format>.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use git2::{Oid, Repository, Tree};

const OID_LEN: usize = 20;
const MODE_TREE: u32 = 0o040000;

/// One stage-0 entry of the index.
#[derive(Debug, Clone)]
pub struct Entry {
    path: Range<usize>,
    /// File mode (`0o100644`, `0o100755`, `0o120000`, `0o160000`).
    pub mode: u32,
    /// Blob (or gitlink commit) id.
    pub oid: Oid,
}

/// A cache-tree node: a directory's tree id when still valid, and its subdirectories.
#[derive(Debug, Default)]
struct CacheTree {
    name: Vec<u8>,
    /// Entries under this directory, or `None` when git invalidated it (a path below changed).
    entry_count: Option<usize>,
    oid: Option<Oid>,
    children: Vec<CacheTree>,
}

/// The parts of an index that `--staged` needs.
#[derive(Debug, Default)]
pub struct IndexFile {
    names: Vec<u8>,
    /// Stage-0 entries in index order (byte order of paths, which is also git's tree order).
    entries: Vec<Entry>,
    tree: Option<CacheTree>,
}

impl IndexFile {
    /// Path bytes of `e`.
    pub fn path(&self, e: &Entry) -> &[u8] {
        &self.names[e.path.clone()]
    }

    /// Parses an index file; `None` for any format this reader does not handle.
    pub fn parse(data: &[u8]) -> Option<IndexFile> {
        let mut r = Reader { data, pos: 0 };
        if r.take(4)? != b"DIRC" {
            return None;
        }
        let version = r.u32()?;
        if !(2..=4).contains(&version) {
            return None;
        }
        let count = r.u32()? as usize;
        // The trailing checksum is not verified: this is a read-only view, and a torn file
        // fails to parse anyway.
        let body_end = data.len().checked_sub(OID_LEN)?;
        let mut idx = IndexFile {
            names: Vec::with_capacity(count * 32),
            entries: Vec::with_capacity(count),
            tree: None,
        };
        let mut prev: Vec<u8> = Vec::new();
        for _ in 0..count {
            let start = r.pos;
            r.take(24)?; // ctime, mtime, dev, ino
            let mode = r.u32()?;
            r.take(12)?; // uid, gid, size
            let oid = Oid::from_bytes(r.take(OID_LEN)?).ok()?;
            let flags = r.u16()?;
            let mut extended = 0;
            if flags & 0x4000 != 0 {
                if version < 3 {
                    return None;
                }
                extended = r.u16()?;
            }
            let path: Vec<u8> = if version == 4 {
                let strip = r.varint()?;
                let keep = prev.len().checked_sub(strip)?;
                let suffix = r.cstr()?;
                let mut p = prev[..keep].to_vec();
                p.extend_from_slice(suffix);
                p
            } else {
                let p = r.cstr()?.to_vec();
                // Entries are NUL-padded to a multiple of 8 bytes (v2/v3).
                let len = r.pos - start;
                r.take((8 - len % 8) % 8)?;
                p
            };
            if mode == MODE_TREE {
                // A sparse-index directory entry: leave it to libgit2.
                return None;
            }
            let stage = (flags >> 12) & 0x3;
            let intent_to_add = extended & 0x2000 != 0;
            // Conflict stages cannot be committed, and an intent-to-add entry stages no
            // content yet.
            if stage == 0 && !intent_to_add {
                let s = idx.names.len();
                idx.names.extend_from_slice(&path);
                idx.entries.push(Entry {
                    path: s..idx.names.len(),
                    mode,
                    oid,
                });
            }
            if version == 4 {
                prev = path;
            }
        }
        while r.pos + 8 <= body_end {
            let sig = r.take(4)?;
            let size = r.u32()? as usize;
            let ext = r.take(size)?;
            match sig {
                b"TREE" => idx.tree = Some(parse_tree(ext)?),
                // Split index ("link"), sparse directories ("sdir") and any other required
                // extension (lower-case first letter) change what the entries mean.
                s if s[0].is_ascii_lowercase() => return None,
                _ => {}
            }
        }
        Some(idx)
    }
}

fn parse_tree(data: &[u8]) -> Option<CacheTree> {
    let mut r = Reader { data, pos: 0 };
    let root = parse_tree_node(&mut r)?;
    Some(root)
}

fn parse_tree_node(r: &mut Reader<'_>) -> Option<CacheTree> {
    let name = r.cstr()?.to_vec();
    let count = r.until(b' ')?;
    let subtrees = r.until(b'\n')?;
    let count: i64 = std::str::from_utf8(count).ok()?.parse().ok()?;
    let subtrees: usize = std::str::from_utf8(subtrees).ok()?.parse().ok()?;
    let mut node = CacheTree {
        name,
        ..CacheTree::default()
    };
    if count >= 0 {
        node.entry_count = Some(count as usize);
        node.oid = Some(Oid::from_bytes(r.take(OID_LEN)?).ok()?);
    }
    for _ in 0..subtrees {
        node.children.push(parse_tree_node(r)?);
    }
    Some(node)
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.data.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }
    /// Bytes up to a NUL, which is consumed.
    fn cstr(&mut self) -> Option<&'a [u8]> {
        self.until(0)
    }
    fn until(&mut self, end: u8) -> Option<&'a [u8]> {
        let rest = self.data.get(self.pos..)?;
        let n = memchr::memchr(end, rest)?;
        self.pos += n + 1;
        Some(&rest[..n])
    }
    /// git's offset varint (index v4 path prefix lengths).
    fn varint(&mut self) -> Option<usize> {
        let mut b = *self.take(1)?.first()?;
        let mut v = usize::from(b & 0x7f);
        while b & 0x80 != 0 {
            b = *self.take(1)?.first()?;
            v = v
                .checked_add(1)?
                .checked_mul(128)?
                .checked_add(usize::from(b & 0x7f))?;
        }
        Some(v)
    }
}

/// One side of a staged change: mode and id.
pub type Side = (u32, Oid);

/// A path whose HEAD and index versions differ.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Delta {
    /// Repository-relative path.
    pub path: Vec<u8>,
    /// In HEAD (`None`: added).
    pub old: Option<Side>,
    /// In the index (`None`: deleted).
    pub new: Option<Side>,
}

/// Every path whose index entry differs from HEAD's tree (`head` is `None` when unborn),
/// reading HEAD's trees only under directories the cache-tree does not vouch for.
pub fn changes(
    repo: &Repository,
    idx: &IndexFile,
    head: Option<&Tree<'_>>,
) -> Result<Vec<Delta>, git2::Error> {
    let mut out = Vec::new();
    let mut prefix = Vec::new();
    compare_dir(
        repo,
        idx,
        &idx.entries,
        idx.tree.as_ref(),
        head,
        &mut prefix,
        &mut out,
    )?;
    Ok(out)
}

fn compare_dir(
    repo: &Repository,
    idx: &IndexFile,
    entries: &[Entry],
    ct: Option<&CacheTree>,
    head: Option<&Tree<'_>>,
    prefix: &mut Vec<u8>,
    out: &mut Vec<Delta>,
) -> Result<(), git2::Error> {
    let vouched = match (ct, head) {
        (Some(ct), Some(head)) => {
            ct.oid == Some(head.id()) && ct.entry_count == Some(entries.len())
        }
        _ => false,
    };
    if vouched {
        return Ok(());
    }
    let plen = prefix.len();
    let children: HashMap<&[u8], &CacheTree> = ct
        .map(|c| c.children.iter().map(|c| (c.name.as_slice(), c)).collect())
        .unwrap_or_default();
    let mut seen: HashSet<&[u8]> = HashSet::new();
    let mut i = 0;
    while i < entries.len() {
        let rel = &idx.path(&entries[i])[plen..];
        match memchr::memchr(b'/', rel) {
            None => {
                seen.insert(rel);
                let new = (entries[i].mode, entries[i].oid);
                let old = head.and_then(|t| t.get_name_bytes(rel)).and_then(|e| {
                    let mode = e.filemode() as u32;
                    (mode != MODE_TREE).then(|| (mode, e.id()))
                });
                if old != Some(new) {
                    out.push(Delta {
                        path: idx.path(&entries[i]).to_vec(),
                        old,
                        new: Some(new),
                    });
                }
                // A HEAD directory replaced by this file: its files are deleted.
                let replaced = head.and_then(|t| t.get_name_bytes(rel));
                if let Some(e) = replaced.filter(|e| e.filemode() as u32 == MODE_TREE) {
                    let sub = repo.find_tree(e.id())?;
                    prefix.extend_from_slice(rel);
                    prefix.push(b'/');
                    deleted(repo, &sub, prefix, out)?;
                    prefix.truncate(plen);
                }
                i += 1;
            }
            Some(slash) => {
                let name = &rel[..slash];
                seen.insert(name);
                // Entries under `name/` are contiguous: byte order keeps a common prefix together.
                let mut j = i + 1;
                while j < entries.len() {
                    let r = &idx.path(&entries[j])[plen..];
                    if r.len() > slash && &r[..slash] == name && r[slash] == b'/' {
                        j += 1;
                    } else {
                        break;
                    }
                }
                let head_entry = head.and_then(|t| t.get_name_bytes(name));
                let sub_ct = children.get(name).copied();
                // Checked before loading HEAD's subtree: an unchanged directory costs nothing.
                let vouched = match (&head_entry, sub_ct) {
                    (Some(e), Some(c)) => {
                        e.filemode() as u32 == MODE_TREE
                            && c.oid == Some(e.id())
                            && c.entry_count == Some(j - i)
                    }
                    _ => false,
                };
                if vouched {
                    i = j;
                    continue;
                }
                let sub_head = match head_entry {
                    Some(e) if e.filemode() as u32 == MODE_TREE => Some(repo.find_tree(e.id())?),
                    Some(e) => {
                        // A HEAD file replaced by this directory is deleted.
                        let mut path = prefix.clone();
                        path.extend_from_slice(name);
                        out.push(Delta {
                            path,
                            old: Some((e.filemode() as u32, e.id())),
                            new: None,
                        });
                        None
                    }
                    None => None,
                };
                prefix.extend_from_slice(name);
                prefix.push(b'/');
                compare_dir(
                    repo,
                    idx,
                    &entries[i..j],
                    sub_ct,
                    sub_head.as_ref(),
                    prefix,
                    out,
                )?;
                prefix.truncate(plen);
                i = j;
            }
        }
    }
    if let Some(head) = head {
        for e in head.iter() {
            if seen.contains(e.name_bytes()) {
                continue;
            }
            deleted_entry(repo, &e, prefix, out)?;
        }
    }
    Ok(())
}

/// Records every file under `tree` as deleted (only rename detection needs them).
fn deleted(
    repo: &Repository,
    tree: &Tree<'_>,
    prefix: &mut Vec<u8>,
    out: &mut Vec<Delta>,
) -> Result<(), git2::Error> {
    for e in tree.iter() {
        deleted_entry(repo, &e, prefix, out)?;
    }
    Ok(())
}

/// Records the file `e` (under `prefix`), or every file below it when it is a tree, as deleted.
fn deleted_entry(
    repo: &Repository,
    e: &git2::TreeEntry<'_>,
    prefix: &mut Vec<u8>,
    out: &mut Vec<Delta>,
) -> Result<(), git2::Error> {
    let plen = prefix.len();
    let mode = e.filemode() as u32;
    prefix.extend_from_slice(e.name_bytes());
    if mode == MODE_TREE {
        prefix.push(b'/');
        let sub = repo.find_tree(e.id())?;
        deleted(repo, &sub, prefix, out)?;
    } else {
        out.push(Delta {
            path: prefix.clone(),
            old: Some((mode, e.id())),
            new: None,
        });
    }
    prefix.truncate(plen);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_it_does_not_understand() {
        assert!(IndexFile::parse(b"").is_none());
        assert!(IndexFile::parse(b"DIRC\0\0\0\x05\0\0\0\0").is_none());
        let mut v2_empty = b"DIRC\0\0\0\x02\0\0\0\0".to_vec();
        v2_empty.extend_from_slice(&[0; 20]);
        let idx = IndexFile::parse(&v2_empty).unwrap();
        assert!(idx.entries.is_empty() && idx.tree.is_none());
        let mut split = b"DIRC\0\0\0\x02\0\0\0\0link\0\0\0\0".to_vec();
        split.extend_from_slice(&[0; 20]);
        assert!(IndexFile::parse(&split).is_none());
    }

    #[test]
    fn varint_table() {
        for (bytes, want) in [
            (&[0x00][..], 0),
            (&[0x7f], 127),
            (&[0x80, 0x00], 128),
            (&[0x81, 0x7f], 383),
        ] {
            assert_eq!(
                Reader {
                    data: bytes,
                    pos: 0
                }
                .varint(),
                Some(want),
                "{bytes:?}"
            );
        }
    }
}
