//! Whether a finding from git history is still in the repository's HEAD: the next step differs
//! (a secret still at HEAD must be deleted from the code as well as rotated; one deleted since
//! needs rotating, and perhaps a history rewrite).

use std::collections::HashMap;
use std::path::Path;

use git2::{ObjectType, Repository};

use crate::finding::Finding;

/// Sets `git.at_head` on every git finding: true when the file at its path in HEAD contains the
/// secret, false when the path is gone from HEAD or no longer holds it. Findings inside archive
/// members (`path!/member`) and repositories without a HEAD commit are left unknown.
pub fn mark_at_head(repo: &Path, findings: &mut [Finding]) {
    let Ok(repo) = Repository::discover(repo) else {
        return;
    };
    let Ok(tree) = repo.head().and_then(|h| h.peel_to_tree()) else {
        return;
    };
    // One read per path, however many findings share it.
    let mut files: HashMap<String, Option<Vec<u8>>> = HashMap::new();
    for f in findings.iter_mut() {
        if f.git.is_none() || f.path.contains("!/") {
            continue;
        }
        let content = files.entry(f.path.clone()).or_insert_with(|| {
            let entry = tree.get_path(Path::new(&f.path)).ok()?;
            if entry.kind() != Some(ObjectType::Blob) {
                return None;
            }
            repo.find_blob(entry.id())
                .ok()
                .map(|b| b.content().to_vec())
        });
        let secret = f.secret.as_bytes();
        let present = content
            .as_deref()
            .is_some_and(|c| !secret.is_empty() && memchr::memmem::find(c, secret).is_some());
        if let Some(g) = f.git.as_mut() {
            g.at_head = Some(present);
        }
    }
}
