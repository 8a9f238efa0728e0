//! Opening a repository, tuning libgit2 for a read-once scan, and the small helpers every git
//! mode shares: short ids, display paths, commit metadata, the shallow boundary, skip reasons.

use std::path::Path;

use git2::{ErrorClass, ErrorCode, ObjectType, Oid, Repository};

use super::GitError;
use crate::finding::GitInfo;
use crate::model::{SkipKind, SkipReason, human_bytes};

/// Opens the repository containing `path` (a work tree, any directory inside it, or a bare
/// repository), read-only in spirit: nothing here writes to it.
pub(crate) fn open(path: &Path) -> Result<Repository, GitError> {
    let shown = path.display().to_string();
    if !path.exists() {
        return Err(GitError::Other(format!(
            "{shown}: no such file or directory"
        )));
    }
    // FIFOs or device links among the control files would hang libgit2 (tarball audits).
    crate::source::gitdir::check(path).map_err(GitError::Other)?;
    match Repository::discover(path) {
        Ok(repo) => Ok(repo),
        Err(e) if e.code() == ErrorCode::NotFound => Err(GitError::NotARepo(shown)),
        Err(e) if e.code() == ErrorCode::Owner => Err(GitError::Other(format!(
            "{shown}: the repository is owned by another user; if you trust it, run \
             `git config --global --add safe.directory <path>`"
        ))),
        Err(e) => Err(setup_err(&format!("{shown}: cannot open repository"), e)),
    }
}

/// Sets libgit2's process-wide knobs for a read-once scan, before any worker thread exists.
pub(super) fn tune_libgit2() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // libgit2 re-hashes every object it reads to check its id. A scanner only reads, a
        // corrupt object still fails to inflate, and the SHA-1 (collision-detecting, so slow)
        // would cost about as much CPU as the decompression that bounds a history scan.
        git2::opts::strict_hash_verification(false);
        // SAFETY: these only store integers in libgit2's global settings; `Once` runs them
        // before this scan starts any thread that uses libgit2.
        unsafe {
            // Trees are read once per commit that changed them and blobs once; the object
            // cache only churned (its stores and evictions cost 40 % of the walk on a 10k-commit
            // history) and was most of the peak RSS.
            let _ = git2::opts::set_cache_max_size(0);
            // Packs are memory-mapped and every mapped page read counts in RSS: a full
            // history touches the whole pack. Cap the mapped windows so memory stays bounded
            // by this, not by the repository's size. libgit2 reads the commits (and what the
            // pack reader leaves): where a pack interleaves commits with blobs (`git
            // fast-import` writes them in stream order), reading 10k commits with a 256 MiB cap
            // kept 240 MiB of the pack resident; 48 MiB in 8 MiB windows costs a few remaps.
            let _ = git2::opts::set_mwindow_size(8 << 20);
            let _ = git2::opts::set_mwindow_mapped_limit(48 << 20);
        }
    });
}

/// A libgit2 error as a setup failure, with what was being done.
pub(crate) fn setup_err(what: &str, e: git2::Error) -> GitError {
    GitError::Git {
        context: what.to_string(),
        source: e,
    }
}

/// A 12-digit abbreviation for messages and `Skipped` paths.
pub(crate) fn short(oid: Oid) -> String {
    let mut s = oid.to_string();
    s.truncate(12);
    s
}

/// A git path as shown in reports: git already uses `/`; bytes that are not UTF-8 become U+FFFD.
pub(crate) fn display_git_path(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

/// Author and date of a commit, as findings carry them.
pub(crate) fn commit_info(repo: &Repository, commit: Oid) -> GitInfo {
    let mut info = GitInfo {
        commit: commit.to_string(),
        ..GitInfo::default()
    };
    if let Ok(c) = repo.find_commit(commit) {
        let author = c.author();
        info.author = String::from_utf8_lossy(author.name_bytes()).into_owned();
        info.email = String::from_utf8_lossy(author.email_bytes()).into_owned();
        let when = author.when();
        info.date = super::time::rfc3339(when.seconds(), when.offset_minutes());
    }
    info
}

/// Commits listed in `.git/shallow`: the boundary of a shallow clone, whose parents are missing.
pub(crate) fn shallow_boundary(repo: &Repository) -> Vec<Oid> {
    if !repo.is_shallow() {
        return Vec::new();
    }
    let text = std::fs::read_to_string(repo.commondir().join("shallow")).unwrap_or_default();
    text.lines()
        .filter_map(|l| Oid::from_str(l.trim()).ok())
        .collect()
}

/// A blob's reason for not being scanned, when its header already tells (kind, size).
pub(crate) fn header_skip(kind: ObjectType, size: u64, max: u64) -> Option<SkipReason> {
    if kind != ObjectType::Blob {
        return Some(SkipReason::new(
            SkipKind::CorruptObject,
            format!("corrupt object: expected a blob, found a {kind}"),
        ));
    }
    if size > max {
        return Some(SkipReason::new(
            SkipKind::TooLarge,
            format!("too large ({} > {})", human_bytes(size), human_bytes(max)),
        ));
    }
    None
}

/// A per-object read failure, as a `Skipped` reason.
pub(crate) fn read_reason(e: &git2::Error) -> SkipReason {
    let kind = match (e.class(), e.code()) {
        (_, ErrorCode::NotFound) => SkipKind::MissingObject,
        (ErrorClass::Zlib | ErrorClass::Object | ErrorClass::Odb, _) => SkipKind::CorruptObject,
        _ => SkipKind::UnreadableObject,
    };
    SkipReason::new(kind, format!("{}: {}", kind.label(), e.message()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_failures_are_skip_kinds_with_libgit2s_text() {
        let err = |code, class| git2::Error::new(code, class, "object 1234 is gone");
        let missing = read_reason(&err(ErrorCode::NotFound, ErrorClass::Odb));
        assert_eq!(missing.kind, SkipKind::MissingObject);
        assert_eq!(missing.detail, "missing object: object 1234 is gone");
        let corrupt = read_reason(&err(ErrorCode::GenericError, ErrorClass::Zlib));
        assert_eq!(corrupt.kind, SkipKind::CorruptObject);
        assert_eq!(corrupt.detail, "corrupt object: object 1234 is gone");
        let other = read_reason(&err(ErrorCode::GenericError, ErrorClass::Os));
        assert_eq!(other.kind, SkipKind::UnreadableObject);
        assert_eq!(
            header_skip(ObjectType::Tree, 1, 10).map(|r| r.kind),
            Some(SkipKind::CorruptObject)
        );
        let big = header_skip(ObjectType::Blob, 11, 10).expect("over the limit");
        assert_eq!(big.kind, SkipKind::TooLarge);
        assert!(big.detail.starts_with("too large ("), "{big}");
        assert_eq!(header_skip(ObjectType::Blob, 10, 10), None);
    }
}
