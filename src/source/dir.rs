//! Working-tree source: a parallel `ignore` walk. Hidden files are scanned; `.gitignore` and
//! `.git/info/exclude` apply only inside a git work tree and never to tracked files (ripgrep's
//! convention and git's own), `.ignore` files apply everywhere (unless `no_ignore`); `.git/` is
//! never entered, symlinks are not followed (so a loop cannot be walked twice), and
//! FIFOs/devices are never opened.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ignore::{WalkBuilder, WalkState};

use super::worktree::{WorkTree, ignored_notes};
use super::{
    Capped, Counters, MAX_FINDINGS, MAX_FINDINGS_PER_INPUT, Skipped, SourceOutput, human_bytes,
};
use crate::finding::Finding;
use crate::glob::Globs;
use crate::model::{Input, Provenance, SkipKind, SkipReason};
use crate::scan::{Engine, Scratch, Verdict, scan_input};

/// What to walk and how.
#[derive(Debug, Clone)]
pub struct DirOptions {
    /// Roots (files or directories).
    pub paths: Vec<PathBuf>,
    /// Larger files are skipped.
    pub max_file_size: u64,
    /// Also scan what `.gitignore`/`.ignore` exclude.
    pub no_ignore: bool,
    /// Paths (relative to their root, or as shown) never read: an excluded directory is not
    /// opened.
    pub exclude: Globs,
    /// Worker threads (0 = all cores).
    pub threads: usize,
    /// Scan only the files this shard owns (by display path).
    pub shard: Option<super::shard::Shard>,
}

/// Walks `opts.paths` and scans every regular file. Each file keeps at most
/// [`MAX_FINDINGS_PER_INPUT`] findings and the scan [`MAX_FINDINGS`]; the notes say what the
/// caps left out.
pub fn scan(opts: &DirOptions, engine: &Engine, counters: &Counters) -> SourceOutput {
    let out = Mutex::new(SourceOutput::default());
    let caps = Caps::default();
    for root in &opts.paths {
        walk_root(root, opts, engine, counters, &out, &caps);
    }
    let mut out = out.into_inner().unwrap_or_else(|e| e.into_inner());
    let capped = caps.capped.into_inner().unwrap_or_else(|e| e.into_inner());
    out.notes.extend(capped.notes());
    out.ignored.sort();
    out.ignored.dedup();
    out.ignore_files.sort();
    out.ignore_files.dedup();
    out.notes.extend(ignored_notes(&out.ignored));
    out
}

fn walk_root(
    root: &Path,
    opts: &DirOptions,
    engine: &Engine,
    counters: &Counters,
    out: &Mutex<SourceOutput>,
    caps: &Caps,
) {
    // A file named on the command line is scanned whatever ignore rules say.
    let tree = (!opts.no_ignore && root.is_dir())
        .then(|| WorkTree::open(root))
        .flatten();
    let visited: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    let track = tree.is_some();
    let mut builder = WalkBuilder::new(root);
    // The crate's own ignore-file loader is off: it reads a `.gitignore` that is a FIFO or a
    // link to /dev/zero without limit. `Ignores` reads them as hostile data instead.
    let ignores =
        (!opts.no_ignore).then(|| std::sync::Arc::new(super::ignores::Ignores::new(root)));
    let filter = ignores.clone();
    let excluded = Excluded::new(root, &opts.exclude);
    builder
        .hidden(false)
        .follow_links(false)
        .git_ignore(false)
        .git_global(false)
        .git_exclude(false)
        .ignore(false)
        .parents(false)
        .require_git(false)
        .threads(opts.threads)
        .filter_entry(move |e| {
            if e.file_name() == ".git" {
                return false;
            }
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            if e.depth() > 0 && excluded.walked(e.path(), is_dir) {
                return false;
            }
            match &filter {
                Some(ig) if e.depth() > 0 => !ig.is_ignored(e.path(), is_dir),
                _ => true,
            }
        });
    builder.build_parallel().run(|| {
        let mut scratch = Scratch::default();
        let mut buf = Vec::new();
        let mut flush = FlushOnDrop {
            local: SourceOutput::default(),
            out,
            seen: Vec::new(),
            visited: &visited,
        };
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    let (path, reason) = walk_error(&err);
                    flush.local.skipped.push(Skipped { path, reason });
                    return WalkState::Continue;
                }
            };
            let Some(ft) = entry.file_type() else {
                return WalkState::Continue;
            };
            if !ft.is_file() {
                // FIFOs, devices and sockets are never opened (a FIFO would block, /dev/zero
                // never ends). Inside a tree they are ignored like symlinks; one named on the
                // command line is reported, so the user knows it was not scanned.
                if entry.depth() == 0 && !ft.is_dir() {
                    flush.local.skipped.push(Skipped::new(
                        display_path(entry.path()),
                        SkipKind::NotRegularFile,
                        "not a regular file",
                    ));
                }
                return WalkState::Continue;
            }
            let path = entry.path();
            if track {
                flush.seen.push(path.to_path_buf());
            }
            if !opts.no_ignore {
                let name = entry.file_name();
                if name == ".ignore" || (track && name == ".gitignore") {
                    flush.local.ignore_files.push(display_path(path));
                }
            }
            // A file named on the command line was not checked on the way down.
            if entry.depth() == 0 && excluded_file(root, &opts.exclude, path) {
                return WalkState::Continue;
            }
            scan_file(
                path,
                opts,
                engine,
                counters,
                &mut scratch,
                &mut buf,
                &mut flush.local,
                caps,
            );
            WalkState::Continue
        })
    });
    if let Some(ig) = ignores {
        lock(out).skipped.extend(ig.take_skipped());
    }
    let Some(tree) = tree else {
        return;
    };
    let visited: BTreeSet<PathBuf> = visited
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .collect();
    let mut local = SourceOutput::default();
    let mut scratch = Scratch::default();
    let mut buf = Vec::new();
    for path in tree.tracked_not_visited(&visited) {
        if excluded_file(root, &opts.exclude, &path) {
            continue;
        }
        scan_file(
            &path,
            opts,
            engine,
            counters,
            &mut scratch,
            &mut buf,
            &mut local,
            caps,
        );
    }
    local.ignored = tree.ignored(&visited);
    local.ignore_files = tree.ignore_files_above();
    let mut out = lock(out);
    out.findings.append(&mut local.findings);
    out.skipped.append(&mut local.skipped);
    out.ignored.append(&mut local.ignored);
    out.ignore_files.append(&mut local.ignore_files);
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads and scans one file found under `root` (unless another shard owns it; the callers
/// leave out what `[scan] exclude` names).
#[allow(clippy::too_many_arguments)]
fn scan_file(
    path: &Path,
    opts: &DirOptions,
    engine: &Engine,
    counters: &Counters,
    scratch: &mut Scratch,
    buf: &mut Vec<u8>,
    local: &mut SourceOutput,
    caps: &Caps,
) {
    let display = display_path(path);
    if opts.shard.is_some_and(|s| !s.owns_path(&display)) {
        return;
    }
    let len = match read_file(path, opts.max_file_size, buf) {
        Ok(len) => len,
        Err(reason) => {
            local.skipped.push(Skipped {
                path: display,
                reason,
            });
            return;
        }
    };
    let buf = &buf[..len];
    let provenance = Provenance::Path(display);
    let scanned = scan_input(
        engine,
        Input {
            provenance: &provenance,
            bytes: buf,
        },
        scratch,
    );
    if scanned.verdict == Verdict::Binary {
        local.skipped.push(Skipped::new(
            provenance.display(),
            SkipKind::Binary,
            "binary",
        ));
        return;
    }
    let mut findings = scanned.findings;
    caps.input(&mut findings, scanned.unreported);
    counters.scanned(buf.len(), findings.len());
    local.findings.extend(findings);
    local.skipped.extend(scanned.skipped);
}

/// `[scan] exclude` for the walk of one root, which checks each entry on the way down (so the
/// directories above it were checked already): a path is matched relative to the root and as
/// shown (so a config at the repository top naming `sub/vendor/**` applies to
/// `keyleak dir sub`).
struct Excluded {
    root: PathBuf,
    globs: Globs,
    /// The root is the current directory: paths as shown are the relative ones.
    here: bool,
    /// The root, as shown, is itself excluded (or lies in an excluded directory).
    all: bool,
}

impl Excluded {
    fn new(root: &Path, globs: &Globs) -> Excluded {
        let shown = display_path(root);
        let here = matches!(shown.as_str(), "" | ".");
        Excluded {
            root: root.to_path_buf(),
            globs: globs.clone(),
            here,
            all: !here && globs.is_match(&shown, true),
        }
    }

    fn walked(&self, path: &Path, is_dir: bool) -> bool {
        if self.globs.is_empty() {
            return false;
        }
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        self.all
            || self.globs.is_match_here(&display_path(rel), is_dir)
            || (!self.here && self.globs.is_match_here(&display_path(path), is_dir))
    }
}

/// [`Excluded`] for a file found another way (named on the command line, tracked but
/// ignored): every directory above it counts.
fn excluded_file(root: &Path, globs: &Globs, path: &Path) -> bool {
    if globs.is_empty() {
        return false;
    }
    let rel = path.strip_prefix(root).unwrap_or(path);
    globs.is_match(&display_path(rel), false) || globs.is_match(&display_path(path), false)
}

/// The finding caps of one walk, shared by its workers.
#[derive(Default)]
struct Caps {
    capped: Mutex<Capped>,
    /// Findings kept so far, scan-wide.
    kept: AtomicUsize,
}

impl Caps {
    /// Cuts one file's findings to the per-input cap and to the room left under the
    /// scan-wide one, counting what is left out.
    fn input(&self, findings: &mut Vec<Finding>, unreported: usize) {
        if findings.len() > MAX_FINDINGS_PER_INPUT || unreported > 0 {
            lock(&self.capped).input(findings, unreported);
        }
        let before = self.kept.fetch_add(findings.len(), Ordering::Relaxed);
        let room = MAX_FINDINGS.saturating_sub(before);
        if findings.len() > room {
            lock(&self.capped).per_scan += findings.len() - room;
            findings.truncate(room);
        }
    }
}

/// Moves a worker's results into the shared output when the worker ends, so workers never
/// contend on the lock while scanning.
struct FlushOnDrop<'a> {
    local: SourceOutput,
    out: &'a Mutex<SourceOutput>,
    /// Files walked, kept inside a git work tree to find the tracked files ignore rules hid.
    seen: Vec<PathBuf>,
    visited: &'a Mutex<Vec<PathBuf>>,
}

impl Drop for FlushOnDrop<'_> {
    fn drop(&mut self) {
        let mut out = lock(self.out);
        out.findings.append(&mut self.local.findings);
        out.skipped.append(&mut self.local.skipped);
        out.notes.append(&mut self.local.notes);
        out.ignore_files.append(&mut self.local.ignore_files);
        drop(out);
        if !self.seen.is_empty() {
            lock(self.visited).append(&mut self.seen);
        }
    }
}

/// Reads a whole file into `buf[..n]` and returns `n`, refusing files over `max` without
/// reading them. `buf` is a worker's buffer, kept at the largest size it has reached: only what
/// it grows by is zeroed, and bytes past `n` are left over from earlier files.
fn read_file(path: &Path, max: u64, buf: &mut Vec<u8>) -> Result<usize, SkipReason> {
    let mut f = File::open(path).map_err(|e| io_reason_at(path, &e))?;
    let meta = f.metadata().map_err(|e| io_reason(&e))?;
    if !meta.is_file() {
        return Err(SkipReason::plain(SkipKind::NotRegularFile));
    }
    let too_large =
        |shown: String| SkipReason::new(SkipKind::TooLarge, format!("too large ({shown})"));
    if meta.len() > max {
        return Err(too_large(format!(
            "{} > {}",
            human_bytes(meta.len()),
            human_bytes(max)
        )));
    }
    // Read what the stat saw, in one `read` where the kernel allows: `read_to_end` started
    // at 8 KiB and doubled, so a 100 KB file took four calls (39k extra calls on the Linux
    // tree). A file that grew since is scanned as it was; a size of 0 may be a lie (procfs),
    // so those are read to the end, within the limit.
    let (mut want, sized) = match meta.len() {
        0 => (
            (64 * 1024usize).min(usize::try_from(max.saturating_add(1)).unwrap_or(usize::MAX)),
            false,
        ),
        n => (n as usize, true),
    };
    let mut n = 0;
    loop {
        if buf.len() < want {
            buf.resize(want, 0);
        }
        let got = loop {
            match f.read(&mut buf[n..want]) {
                Ok(got) => break got,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_reason(&e)),
            }
        };
        n += got;
        if got == 0 || (sized && n == want) {
            break;
        }
        if n == want {
            // Only an unsized file gets here: read on, in doubling steps, one byte past the
            // limit at most (that byte proves the file is too large).
            if n as u64 > max {
                return Err(too_large(format!("> {}", human_bytes(max))));
            }
            want = (want * 2).min(usize::try_from(max.saturating_add(1)).unwrap_or(usize::MAX));
        }
    }
    if n as u64 > max {
        return Err(too_large(format!("> {}", human_bytes(max))));
    }
    Ok(n)
}

fn io_reason(e: &std::io::Error) -> SkipReason {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => SkipReason::plain(SkipKind::PermissionDenied),
        std::io::ErrorKind::NotFound => SkipReason::plain(SkipKind::Vanished),
        _ => SkipReason::new(SkipKind::Unreadable, e.to_string()),
    }
}

/// [`io_reason`] for an error about `path`: a symlink whose target is missing is reported as
/// such, not as a file that vanished.
fn io_reason_at(path: &Path, e: &std::io::Error) -> SkipReason {
    if e.kind() == std::io::ErrorKind::NotFound
        && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
    {
        return SkipReason::plain(SkipKind::BrokenSymlink);
    }
    io_reason(e)
}

fn walk_error(err: &ignore::Error) -> (String, SkipReason) {
    let mut path = String::new();
    let mut e = err;
    loop {
        match e {
            ignore::Error::WithPath { path: p, err } => {
                path = display_path(p);
                e = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                e = err
            }
            ignore::Error::Io(io) => {
                let reason = io_reason_at(Path::new(&path), io);
                return (path, reason);
            }
            ignore::Error::Loop { child, .. } => {
                return (
                    display_path(child),
                    SkipReason::plain(SkipKind::SymlinkLoop),
                );
            }
            other => {
                return (
                    path,
                    SkipReason::new(SkipKind::Unreadable, other.to_string()),
                );
            }
        }
    }
}

/// A path as shown in reports: `/` separators, no leading `./`.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    let mut s = s.as_str();
    while let Some(rest) = s.strip_prefix("./") {
        s = rest;
    }
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file deleted between the walk listing it and the read (hard to time end to end) is a
    /// skip with a reason, never an error that stops the scan.
    #[test]
    fn vanished_and_oversize_files_are_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone.txt");
        let mut buf = b"stale".to_vec();
        assert_eq!(
            read_file(&gone, 100, &mut buf),
            Err(SkipReason::new(
                SkipKind::Vanished,
                "vanished before it could be read"
            ))
        );
        let big = dir.path().join("big.txt");
        std::fs::write(&big, [b'a'; 101]).unwrap();
        let big = read_file(&big, 100, &mut buf).unwrap_err();
        assert_eq!(big.kind, SkipKind::TooLarge);
        assert!(big.detail.starts_with("too large"), "{big}");

        // Whole files of every size, read into one reused buffer: a smaller file after a
        // larger one is its own bytes only (the buffer's tail is left over and not part of it).
        for (k, len) in [100_000usize, 8 * 1024 + 1, 3, 0, 65_536, 200_000]
            .into_iter()
            .enumerate()
        {
            let file = dir.path().join(format!("f{k}"));
            let body: Vec<u8> = (0..len).map(|i| (i * 31 + k) as u8).collect();
            std::fs::write(&file, &body).unwrap();
            let n = read_file(&file, 1 << 20, &mut buf).unwrap();
            assert_eq!(&buf[..n], &body[..], "{len} bytes");
        }
        // A file whose stat size is 0 but that has content (procfs) is read to its end, and
        // refused past the limit.
        #[cfg(target_os = "linux")]
        {
            let status = Path::new("/proc/self/status");
            let n = read_file(status, 1 << 20, &mut buf).unwrap();
            assert!(buf[..n].starts_with(b"Name:"), "{:?}", &buf[..n.min(20)]);
            assert!(n > 100);
            let capped = read_file(status, 10, &mut buf).unwrap_err();
            assert_eq!(capped.kind, SkipKind::TooLarge);
        }
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&gone, &link).unwrap();
            assert_eq!(
                read_file(&link, 100, &mut buf),
                Err(SkipReason::new(SkipKind::BrokenSymlink, "broken symlink"))
            );
        }
    }
}
