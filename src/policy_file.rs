//! Reading the files that decide what a scan reports — `keyleak.toml`, `.keyleakignore`, a
//! baseline — when they may have been written by the author of the scanned tree.
//!
//! A file found in the scanned tree is opened without following a symlink (`O_NOFOLLOW`) and
//! without blocking (`O_NONBLOCK`: a FIFO would wait for a writer forever), must be a regular
//! file, and is read up to [`MAX_POLICY_FILE`] bytes. So a committed `.keyleakignore ->
//! /proc/self/environ` or `-> ~/.git-credentials` is refused before a byte of it is read, and
//! `-> /dev/zero` cannot fill memory. A file the user names on the command line (`-c`,
//! `--baseline`) is read as given (a link, `/dev/null`, a process substitution), still within
//! the size cap.

use std::io::Read;
use std::path::Path;

use crate::error::LoadError;

/// The largest config, ignore or baseline file read (a baseline of ~20k findings fits).
pub const MAX_POLICY_FILE: u64 = 16 << 20;

/// Who chose the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Found in the scanned tree: its author may be hostile.
    Tree,
    /// Named by the user on the command line.
    User,
}

/// Reads `path` as UTF-8 text under the rules of `origin`. Errors name the file and the
/// problem, never its content.
pub fn read(path: &Path, origin: Origin) -> Result<String, LoadError> {
    let bytes = read_bytes(path, origin)?;
    String::from_utf8(bytes).map_err(|e| {
        LoadError::whole(
            path,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// [`read`] without the UTF-8 check.
pub fn read_bytes(path: &Path, origin: Origin) -> Result<Vec<u8>, LoadError> {
    let err = |msg: String| LoadError::whole(path, msg);
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    if origin == Origin::Tree {
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
        }
        #[cfg(not(unix))]
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(err("is a symbolic link; refusing to follow it".into()));
        }
    }
    let file = opts.open(path).map_err(|e| {
        if origin == Origin::Tree
            && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
        {
            err("is a symbolic link; refusing to follow it (it must be a regular file in the scanned tree)".into())
        } else {
            err(format!("cannot read: {}", io_message(&e)))
        }
    })?;
    let meta = file
        .metadata()
        .map_err(|e| err(format!("cannot read: {}", io_message(&e))))?;
    if origin == Origin::Tree && !meta.is_file() {
        return Err(err(
            "is not a regular file (a FIFO, device or directory); refusing to read it".into(),
        ));
    }
    if meta.is_file() && meta.len() > MAX_POLICY_FILE {
        return Err(err(too_large()));
    }
    let mut buf = Vec::new();
    file.take(MAX_POLICY_FILE + 1)
        .read_to_end(&mut buf)
        .map_err(|e| err(format!("cannot read: {}", io_message(&e))))?;
    if buf.len() as u64 > MAX_POLICY_FILE {
        return Err(err(too_large()));
    }
    Ok(buf)
}

fn too_large() -> String {
    format!(
        "larger than {} MiB; refusing to read it",
        MAX_POLICY_FILE >> 20
    )
}

/// An I/O error without the OS's `(os error N)` noise.
fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}
