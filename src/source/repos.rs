//! Several repositories in one run (`keyleak git A B URL…`, `--repos FILE`): each is scanned
//! like a single one (remote ones from a bare mirror clone), every finding names its
//! repository, and one that cannot be opened or cloned is reported and skipped while the rest
//! are scanned.

use std::path::{Path, PathBuf};

use super::git::{self, GitMode, GitOptions};
use super::remote;
use super::shard::Shard;
use super::{Counters, Skipped, SourceOutput};
use crate::model::SkipKind;
use crate::scan::Engine;

/// What to scan in each repository.
#[derive(Debug, Clone)]
pub struct ReposOptions {
    /// Paths or URLs, in the order given (duplicates already removed).
    pub specs: Vec<String>,
    /// History limits, as for one repository.
    pub mode: GitMode,
    /// Larger blobs are skipped.
    pub max_file_size: u64,
    /// Worker threads (0 = all cores).
    pub threads: usize,
    /// Where to keep clones of remote repositories (else they are deleted).
    pub keep_clones: Option<PathBuf>,
    /// This process's part of the work.
    pub shard: Option<Shard>,
}

/// The combined output, and how many repositories could not be scanned.
#[derive(Debug, Default)]
pub struct ReposOutput {
    /// Findings (each with its repository), skipped inputs and notes of every repository.
    pub output: SourceOutput,
    /// Repositories that could not be opened, cloned or walked.
    pub failed: usize,
}

/// Reads a `--repos` file: one path or URL a line; blank lines and `#` comments are ignored.
pub fn read_list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Scans every repository of `opts`.
pub fn scan(opts: &ReposOptions, engine: &Engine, counters: &Counters) -> ReposOutput {
    let mut all = ReposOutput::default();
    // With at least as many repositories as shards, whole repositories are dealt out (no
    // shard walks a repository it does not scan); otherwise every shard walks every repository
    // and scans its share of the blobs.
    let by_repo = opts
        .shard
        .filter(|s| s.count > 1 && opts.specs.len() as u64 >= s.count);
    let blob_shard = if by_repo.is_some() { None } else { opts.shard };
    for (i, spec) in opts.specs.iter().enumerate() {
        if by_repo.is_some_and(|s| !s.owns_nth(i)) {
            continue;
        }
        let name = remote::display(spec);
        let mirror;
        let path: &Path = if remote::is_remote(spec) {
            match remote::mirror(spec, opts.keep_clones.as_deref()) {
                Ok(m) => {
                    mirror = m;
                    &mirror.path
                }
                Err(reason) => {
                    fail(&mut all, &name, reason);
                    continue;
                }
            }
        } else {
            Path::new(spec)
        };
        let one = GitOptions {
            repo: path.to_path_buf(),
            mode: opts.mode.clone(),
            max_file_size: opts.max_file_size,
            threads: opts.threads,
            shard: blob_shard,
        };
        match git::scan(&one, engine, counters) {
            Ok(out) => {
                let SourceOutput {
                    mut findings,
                    skipped,
                    notes,
                    ..
                } = out;
                super::head::mark_at_head(path, &mut findings);
                all.output
                    .findings
                    .extend(findings.into_iter().map(|mut f| {
                        if let Some(g) = f.git.as_mut() {
                            g.repository = Some(name.clone());
                        }
                        f
                    }));
                all.output
                    .skipped
                    .extend(skipped.into_iter().map(|s| Skipped {
                        path: format!("{name}: {}", s.path),
                        reason: s.reason,
                    }));
                all.output
                    .notes
                    .extend(notes.into_iter().map(|n| format!("{name}: {n}")));
            }
            Err(e) => fail(&mut all, &name, e.to_string()),
        }
    }
    all
}

fn fail(all: &mut ReposOutput, name: &str, reason: String) {
    all.failed += 1;
    all.output
        .notes
        .push(format!("{name}: not scanned: {reason}"));
    all.output.skipped.push(Skipped::new(
        name,
        SkipKind::RepositoryNotScanned,
        format!("repository not scanned: {reason}"),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_files_skip_comments_and_blanks() {
        assert_eq!(
            read_list("# org audit\n\n  ./a  \nhttps://h/o/r.git\n# x\n"),
            vec!["./a".to_string(), "https://h/o/r.git".to_string()]
        );
    }
}
