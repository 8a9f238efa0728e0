//! Archives: zip (jar, whl, apk, docx…), tar, gzip and tar.gz, nested up to a depth limit.
//!
//! A pure transform: [`expand`] hands each member's bytes to the caller as
//! `archive.zip!/inner/path` (nested: `a.zip!/b.zip!/c.env`); the scan module scans them like
//! files, so they are decoded too. An archive is recognised by its
//! magic bytes, not its name. Everything decompressed is streamed through a meter that enforces
//! the limits in [`ArchiveLimits`] — header sizes are never trusted — so a bomb costs at most
//! the budget in time and at most one member (≤ `max_member_size`) in memory. Whatever limit is
//! hit, the archive (or member) is reported as [`Skipped`]; members handed over before that stay.

use std::cell::Cell;
use std::io::{self, Cursor, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};

use flate2::read::MultiGzDecoder;

use crate::model::{SkipKind, SkipReason, Skipped, human_bytes};

/// Limits against archive bombs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Total bytes decompressed from one top-level archive, nested ones included.
    pub max_total: u64,
    /// Decompressed bytes allowed per compressed byte (for the whole archive and per member).
    pub max_ratio: u64,
    /// Below this many decompressed bytes the ratio is not enforced (tiny archives of text
    /// legitimately compress very well).
    pub ratio_floor: u64,
    /// Archives inside archives: the top level is depth 1.
    pub max_depth: usize,
    /// Members (files, directories, links) per top-level archive, nested ones included.
    pub max_members: usize,
    /// Largest member scanned (the `--max-file-size` of members).
    pub max_member_size: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_total: 256 << 20,
            max_ratio: 100,
            ratio_floor: 1 << 20,
            max_depth: 3,
            max_members: 10_000,
            max_member_size: 25 << 20,
        }
    }
}

/// Archive formats recognised by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `PK\x03\x04` (or an empty zip's `PK\x05\x06`).
    Zip,
    /// `\x1f\x8b\x08`: gzip, possibly around a tar.
    Gzip,
    /// POSIX/GNU tar (`ustar` at offset 257).
    Tar,
}

/// The archive format of `data`, if any.
pub fn sniff(data: &[u8]) -> Option<Kind> {
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        Some(Kind::Zip)
    } else if data.starts_with(&[0x1f, 0x8b, 0x08]) {
        Some(Kind::Gzip)
    } else if data.len() >= 263 && &data[257..262] == b"ustar" {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// What [`expand`] calls for each member that is not itself an archive: its path below the
/// top-level archive (`inner/path`, or `b.zip!/c.env` when nested) and its bytes.
pub type Visit<'a> = dyn FnMut(&str, &[u8]) + 'a;

/// Expands `data` when it is an archive (by its magic bytes) named `path`: every member that is
/// not itself an archive goes to `visit`, nested archives are opened up to the depth limit, and
/// whatever could not be read goes to `skipped`. Returns false (and does nothing) when `data`
/// is not an archive.
pub fn expand(
    limits: &ArchiveLimits,
    path: &str,
    data: &[u8],
    skipped: &mut Vec<Skipped>,
    visit: &mut Visit<'_>,
) -> bool {
    let Some(kind) = sniff(data) else {
        return false;
    };
    let budget = Budget::new(limits, data.len() as u64);
    let top = format!("{path}!/");
    let mut cx = Cx {
        limits,
        budget: &budget,
        top: &top,
        skipped,
        visit,
    };
    // Defence in depth: the readers are well kept, but a malformed archive must never take
    // the scan down with it.
    let r = catch_unwind(AssertUnwindSafe(|| cx.archive(path, kind, data, 1)));
    if r.is_err() {
        cx.skip(
            path,
            SkipKind::UnreadableArchive,
            "malformed archive (reader failed)".into(),
        );
    }
    true
}

/// A limit was hit and reported: stop reading this top-level archive.
struct Stop;

/// Decompression allowance shared by a top-level archive and everything nested in it.
struct Budget {
    left: Cell<u64>,
    hit: Cell<bool>,
    total: u64,
    ratio_bound: bool,
    members: Cell<usize>,
}

impl Budget {
    fn new(limits: &ArchiveLimits, compressed: u64) -> Budget {
        let by_ratio = compressed
            .saturating_mul(limits.max_ratio)
            .max(limits.ratio_floor);
        let total = limits.max_total.min(by_ratio);
        Budget {
            left: Cell::new(total),
            hit: Cell::new(false),
            total,
            ratio_bound: by_ratio < limits.max_total,
            members: Cell::new(0),
        }
    }
}

/// Counts decompressed bytes against the [`Budget`]; fails once it is spent.
struct Metered<'a, R> {
    inner: R,
    budget: &'a Budget,
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let left = self.budget.left.get();
        if left == 0 {
            // Spent: only the end of the stream is still acceptable.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => {
                    self.budget.hit.set(true);
                    Err(io::Error::other("decompression limit"))
                }
            };
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.budget.left.set(left - n as u64);
        Ok(n)
    }
}

/// Why a member's content was not read (already reported).
enum Unread {
    Broken,
    TooLarge,
}

struct Cx<'a, 'b> {
    limits: &'a ArchiveLimits,
    budget: &'a Budget,
    /// The top-level archive's path and `!/`, cut from member paths for `visit`.
    top: &'a str,
    skipped: &'b mut Vec<Skipped>,
    visit: &'b mut Visit<'b>,
}

impl<'a> Cx<'a, '_> {
    fn skip(&mut self, path: &str, kind: SkipKind, detail: String) {
        self.skipped.push(Skipped::new(path, kind, detail));
    }

    fn meter<R: Read>(&self, r: R) -> Metered<'a, R> {
        Metered {
            inner: r,
            budget: self.budget,
        }
    }

    /// Reports the spent budget against the top-level archive `top` (the first path segment).
    fn budget_spent(&mut self, path: &str) -> Stop {
        let top = path.split("!/").next().unwrap_or(path).to_string();
        let reason = if self.budget.ratio_bound {
            format!(
                "archive expands more than {}× (over {} decompressed; possible archive bomb): \
                 the rest was not scanned",
                self.limits.max_ratio,
                human_bytes(self.budget.total)
            )
        } else {
            format!(
                "archive decompresses to more than {} (possible archive bomb): the rest was \
                 not scanned",
                human_bytes(self.budget.total)
            )
        };
        self.skip(&top, SkipKind::ArchiveBomb, reason);
        Stop
    }

    fn count_member(&mut self, path: &str) -> Result<(), Stop> {
        let n = self.budget.members.get() + 1;
        self.budget.members.set(n);
        if n > self.limits.max_members {
            let top = path.split("!/").next().unwrap_or(path).to_string();
            self.skip(
                &top,
                SkipKind::ArchiveMemberLimit,
                format!(
                    "archive has more than {} members: the rest was not scanned",
                    self.limits.max_members
                ),
            );
            return Err(Stop);
        }
        Ok(())
    }

    fn archive(&mut self, path: &str, kind: Kind, data: &[u8], depth: usize) -> Result<(), Stop> {
        match kind {
            Kind::Zip => self.zip(path, data, depth),
            Kind::Tar => self.tar(path, data, depth),
            Kind::Gzip => self.gzip(path, data, depth),
        }
    }

    /// Reads one member's content, at most `limit` bytes (metered). `Ok(None)`: reported and
    /// skipped.
    fn read_member(
        &mut self,
        member: &str,
        r: impl Read,
        limit: u64,
        why: &SkipReason,
    ) -> Result<Option<Vec<u8>>, Stop> {
        let r = self.meter(r);
        let read = self.read_metered(
            member,
            r,
            Vec::new(),
            limit,
            why,
            "unreadable archive member",
        );
        Ok(read?.ok())
    }

    /// Appends what `r` (already metered) yields to `buf`, up to `limit` bytes in all. Every
    /// way it can fail is reported here; the `Unread` says whether the stream can go on.
    fn read_metered(
        &mut self,
        member: &str,
        r: impl Read,
        mut buf: Vec<u8>,
        limit: u64,
        why: &SkipReason,
        unreadable: &str,
    ) -> Result<Result<Vec<u8>, Unread>, Stop> {
        let res = r
            .take(limit.saturating_add(1).saturating_sub(buf.len() as u64))
            .read_to_end(&mut buf);
        if self.budget.hit.get() {
            return Err(self.budget_spent(member));
        }
        if let Err(e) = res {
            self.skip(
                member,
                SkipKind::UnreadableArchiveMember,
                format!("{unreadable}: {e}"),
            );
            return Ok(Err(Unread::Broken));
        }
        if buf.len() as u64 > limit {
            self.skipped.push(Skipped {
                path: member.to_string(),
                reason: why.clone(),
            });
            return Ok(Err(Unread::TooLarge));
        }
        Ok(Ok(buf))
    }

    /// The size limit of a member whose compressed size the archive claims to be
    /// `compressed` (a lie can only make the limit stricter), and the reason to give.
    fn member_limit(&self, compressed: Option<u64>) -> (u64, SkipReason) {
        let size = self.limits.max_member_size;
        let mut limit = size;
        let mut why = SkipReason::new(
            SkipKind::TooLarge,
            format!("too large (> {})", human_bytes(size)),
        );
        if let Some(c) = compressed {
            let by_ratio = c
                .saturating_mul(self.limits.max_ratio)
                .max(self.limits.ratio_floor);
            if by_ratio < limit {
                limit = by_ratio;
                why = SkipReason::new(
                    SkipKind::ArchiveBomb,
                    format!(
                        "expands more than {}× (possible archive bomb)",
                        self.limits.max_ratio
                    ),
                );
            }
        }
        (limit, why)
    }

    /// What to do with one member's content: recurse into archives, hand the rest over.
    fn member(&mut self, path: &str, data: &[u8], depth: usize) -> Result<(), Stop> {
        if let Some(kind) = sniff(data) {
            if depth >= self.limits.max_depth {
                self.skip(
                    path,
                    SkipKind::ArchiveTooDeep,
                    format!(
                        "archive nested more than {} levels deep",
                        self.limits.max_depth
                    ),
                );
                return Ok(());
            }
            return self.archive(path, kind, data, depth + 1);
        }
        (self.visit)(path.strip_prefix(self.top).unwrap_or(path), data);
        Ok(())
    }

    fn zip(&mut self, path: &str, data: &[u8], depth: usize) -> Result<(), Stop> {
        // The central directory is parsed whole: refuse one that claims too many entries
        // before the reader allocates for them.
        if let Some(n) = zip_entries(data)
            && n > self.limits.max_members
        {
            self.skip(
                path,
                SkipKind::ArchiveMemberLimit,
                format!(
                    "archive has {n} members (limit {}): not scanned",
                    self.limits.max_members
                ),
            );
            return Ok(());
        }
        let mut zip = match zip::ZipArchive::new(Cursor::new(data)) {
            Ok(z) => z,
            Err(e) => {
                self.skip(
                    path,
                    SkipKind::UnreadableArchive,
                    format!("unreadable archive: {e}"),
                );
                return Ok(());
            }
        };
        for i in 0..zip.len() {
            let name = zip
                .name_for_index(i)
                .map_or_else(|| format!("#{i}"), str::to_string);
            let member = format!("{path}!/{name}");
            self.count_member(&member)?;
            let file = match zip.by_index(i) {
                Ok(f) => f,
                Err(e) => {
                    self.skip(
                        &member,
                        SkipKind::UnreadableArchiveMember,
                        format!("unreadable archive member: {e}"),
                    );
                    continue;
                }
            };
            if !file.is_file() {
                continue;
            }
            // The header's sizes are only trusted to refuse: a member that admits to being a
            // bomb is not decompressed at all. The meter below enforces the rest.
            let (size, packed) = (file.size(), file.compressed_size());
            if size > self.limits.ratio_floor && size / packed.max(1) > self.limits.max_ratio {
                self.skip(
                    &member,
                    SkipKind::ArchiveBomb,
                    format!(
                        "expands {}× to {} (limit {}×; possible archive bomb)",
                        size / packed.max(1),
                        human_bytes(size),
                        self.limits.max_ratio
                    ),
                );
                continue;
            }
            let (limit, why) = self.member_limit(Some(packed));
            let Some(bytes) = self.read_member(&member, file, limit, &why)? else {
                continue;
            };
            self.member(&member, &bytes, depth)?;
        }
        Ok(())
    }

    fn tar(&mut self, path: &str, data: &[u8], depth: usize) -> Result<(), Stop> {
        let stream = self.meter(data);
        self.tar_stream(path, stream, depth)
    }

    fn gzip(&mut self, path: &str, data: &[u8], depth: usize) -> Result<(), Stop> {
        let mut dec = self.meter(MultiGzDecoder::new(data));
        let mut head = Vec::with_capacity(512);
        let res = (&mut dec).take(512).read_to_end(&mut head);
        if self.budget.hit.get() {
            return Err(self.budget_spent(path));
        }
        if let Err(e) = res {
            self.skip(
                path,
                SkipKind::UnreadableArchive,
                format!("unreadable gzip data: {e}"),
            );
            return Ok(());
        }
        if sniff_tar_head(&head) {
            // tar.gz is one layer: members are `a.tgz!/dir/file`.
            return self.tar_stream(path, Cursor::new(head).chain(dec), depth);
        }
        let member = format!("{path}!/{}", gz_inner_name(path));
        let (limit, why) = self.member_limit(Some(data.len() as u64));
        // Already metered: read the rest directly.
        match self.read_metered(&member, dec, head, limit, &why, "unreadable gzip data")? {
            Ok(buf) => self.member(&member, &buf, depth),
            Err(_) => Ok(()),
        }
    }

    fn tar_stream<R: Read>(&mut self, path: &str, r: R, depth: usize) -> Result<(), Stop> {
        let mut ar = tar::Archive::new(r);
        let entries = match ar.entries() {
            Ok(e) => e,
            Err(e) => {
                self.skip(
                    path,
                    SkipKind::UnreadableArchive,
                    format!("unreadable archive: {e}"),
                );
                return Ok(());
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    if self.budget.hit.get() {
                        return Err(self.budget_spent(path));
                    }
                    // A broken header: the stream cannot be resynchronised.
                    self.skip(
                        path,
                        SkipKind::UnreadableArchive,
                        format!("unreadable archive: {e}"),
                    );
                    return Ok(());
                }
            };
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let name = raw.trim_start_matches("./");
            let member = format!("{path}!/{name}");
            self.count_member(&member)?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let (limit, why) = self.member_limit(None);
            let unreadable = "unreadable archive member";
            match self.read_metered(&member, entry, Vec::new(), limit, &why, unreadable)? {
                Ok(buf) => self.member(&member, &buf, depth)?,
                // The stream cannot be resynchronised after a broken member.
                Err(Unread::Broken) => return Ok(()),
                Err(Unread::TooLarge) => continue,
            }
        }
        Ok(())
    }
}

/// Whether the first bytes of a decompressed stream are a tar header.
fn sniff_tar_head(head: &[u8]) -> bool {
    head.len() >= 263 && &head[257..262] == b"ustar"
}

/// `x.env.gz` → `x.env`; `x.tgz` never gets here (it holds a tar).
fn gz_inner_name(path: &str) -> String {
    let base = path.rsplit(['/', '!']).next().unwrap_or(path);
    for ext in [".gz", ".gzip", ".z"] {
        if base.len() > ext.len() && base.to_ascii_lowercase().ends_with(ext) {
            return base[..base.len() - ext.len()].to_string();
        }
    }
    base.to_string()
}

/// The entry count in a zip's end-of-central-directory record, when it is not zip64.
fn zip_entries(data: &[u8]) -> Option<usize> {
    const EOCD: &[u8] = b"PK\x05\x06";
    let tail_start = data.len().saturating_sub(22 + 0xFFFF);
    let at = tail_start + memchr::memmem::rfind(&data[tail_start..], EOCD)?;
    let rec = data.get(at..at + 22)?;
    let n = u16::from_le_bytes([rec[10], rec[11]]);
    (n != 0xFFFF).then_some(usize::from(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const KEY: &str = "AKIAQ3EGTR7HJKL2MNOP";

    /// What [`expand`] made of `data`: the members handed over and the skips.
    #[derive(Default)]
    struct Out {
        members: Vec<(String, Vec<u8>)>,
        skipped: Vec<Skipped>,
    }

    impl Out {
        /// Members whose bytes hold the test key (what a scan would find).
        fn with_key(&self) -> Vec<&str> {
            self.members
                .iter()
                .filter(|(_, b)| b.windows(KEY.len()).any(|w| w == KEY.as_bytes()))
                .map(|(p, _)| p.as_str())
                .collect()
        }
    }

    fn expand_as(limits: &ArchiveLimits, path: &str, data: &[u8]) -> Option<Out> {
        let mut out = Out::default();
        let mut members = Vec::new();
        let is = expand(limits, path, data, &mut out.skipped, &mut |p, b| {
            members.push((p.to_string(), b.to_vec()))
        });
        out.members = members;
        is.then_some(out)
    }

    fn run(limits: ArchiveLimits, data: &[u8]) -> Out {
        expand_as(&limits, "t.zip", data).expect("an archive")
    }

    fn zip_of(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in members {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    /// Text that compresses about 2×, so only the total budget can stop it.
    fn text(n: usize) -> Vec<u8> {
        let mut x: u32 = 1;
        (0..n)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                b"abcdefghijklmnop"[(x >> 16) as usize % 16]
            })
            .collect()
    }

    #[test]
    fn total_budget_stops_the_archive_and_keeps_earlier_findings() {
        let data = zip_of(&[
            ("a.env", format!("K={KEY}\n").into_bytes()),
            ("b.txt", text(300_000)),
            ("c.env", format!("K={KEY}\n").into_bytes()),
        ]);
        let limits = ArchiveLimits {
            max_total: 200_000,
            ..Default::default()
        };
        let out = run(limits, &data);
        assert_eq!(out.with_key(), ["a.env"]);
        assert_eq!(out.skipped.len(), 1, "{:?}", out.skipped);
        assert_eq!(out.skipped[0].path, "t.zip");
        assert!(
            out.skipped[0].reason.detail.contains("bomb"),
            "{:?}",
            out.skipped
        );
        assert_eq!(out.skipped[0].reason.kind, SkipKind::ArchiveBomb);
    }

    #[test]
    fn member_size_and_streamed_ratio_limits() {
        let data = zip_of(&[
            ("big.txt", text(50_000)),
            ("ok.env", format!("K={KEY}\n").into_bytes()),
        ]);
        let out = run(
            ArchiveLimits {
                max_member_size: 10_000,
                ..Default::default()
            },
            &data,
        );
        assert_eq!(out.with_key(), ["ok.env"]);
        assert_eq!(out.skipped[0].path, "t.zip!/big.txt");
        assert!(out.skipped[0].reason.detail.starts_with("too large"));
        assert_eq!(out.skipped[0].reason.kind, SkipKind::TooLarge);

        // A gzip stream has no trustworthy size: the meter stops it.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![b'a'; 5 << 20]).unwrap();
        let gz = gz.finish().unwrap();
        let out = expand_as(&ArchiveLimits::default(), "x.txt.gz", &gz).unwrap();
        assert_eq!(out.skipped.len(), 1, "{:?}", out.skipped);
        // 5 MiB from ~5 KiB: over 100× the archive's size, so its budget runs out.
        assert_eq!(out.skipped[0].path, "x.txt.gz");
        assert!(
            out.skipped[0]
                .reason
                .detail
                .contains("expands more than 100×")
        );
        assert_eq!(out.skipped[0].reason.kind, SkipKind::ArchiveBomb);
    }

    /// A tar member over the limit is skipped and the next one read; a cut tar and a gzip over
    /// the limit or damaged are each reported once.
    #[test]
    fn tar_and_gzip_members_over_the_limit_or_broken() {
        let limits = ArchiveLimits {
            max_member_size: 10_000,
            ..Default::default()
        };
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in [
            ("big.txt", text(50_000)),
            ("ok.env", format!("K={KEY}\n").into_bytes()),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, &data[..]).unwrap();
        }
        let tar = b.into_inner().unwrap();
        let out = expand_as(&limits, "t.tar", &tar).unwrap();
        assert_eq!(out.with_key(), ["ok.env"]);
        assert_eq!(out.skipped.len(), 1, "{:?}", out.skipped);
        assert_eq!(out.skipped[0].path, "t.tar!/big.txt");
        assert_eq!(out.skipped[0].reason.kind, SkipKind::TooLarge);

        // Cut inside the first member's data: what is there is handed over, and the archive is
        // reported, since nothing after the cut can be read.
        let out = expand_as(&limits, "t.tar", &tar[..512 + 100]).unwrap();
        let got: Vec<_> = out
            .members
            .iter()
            .map(|(p, b)| (p.as_str(), b.len()))
            .collect();
        assert_eq!(got, [("big.txt", 100)]);
        assert_eq!(out.skipped.len(), 1, "{:?}", out.skipped);
        assert_eq!(out.skipped[0].path, "t.tar");
        assert_eq!(out.skipped[0].reason.kind, SkipKind::UnreadableArchive);

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&text(50_000)).unwrap();
        let gz = gz.finish().unwrap();
        let out = expand_as(&limits, "notes.txt.gz", &gz).unwrap();
        assert!(out.members.is_empty());
        assert_eq!(out.skipped.len(), 1, "{:?}", out.skipped);
        assert_eq!(out.skipped[0].path, "notes.txt.gz!/notes.txt");
        assert_eq!(out.skipped[0].reason.kind, SkipKind::TooLarge);
        // A damaged deflate stream after a good header.
        let mut bad = gz.clone();
        for b in &mut bad[20..60] {
            *b ^= 0x5a;
        }
        let out = expand_as(&limits, "notes.txt.gz", &bad).unwrap();
        assert!(out.members.is_empty());
        assert_eq!(out.skipped.len(), 1, "{:?}", out.skipped);
        assert!(
            out.skipped[0]
                .reason
                .detail
                .starts_with("unreadable gzip data"),
            "{:?}",
            out.skipped
        );
    }

    #[test]
    fn not_archives() {
        assert!(expand_as(&ArchiveLimits::default(), "a", b"plain").is_none());
        assert_eq!(gz_inner_name("dir/x.env.GZ"), "x.env");
        assert_eq!(gz_inner_name("a.zip!/y.gz"), "y");
    }

    #[test]
    fn garbage_behind_magic_bytes_never_panics() {
        let limits = ArchiveLimits::default();
        let mut junk = Vec::new();
        for seed in 0..200u32 {
            for magic in [&b"PK\x03\x04"[..], &[0x1f, 0x8b, 0x08], &b"PK\x05\x06"[..]] {
                junk.clear();
                junk.extend_from_slice(magic);
                let mut x = seed;
                for _ in 0..(seed as usize * 7 % 600) {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    junk.push((x >> 16) as u8);
                }
                expand_as(&limits, "j", &junk);
            }
        }
    }
}
