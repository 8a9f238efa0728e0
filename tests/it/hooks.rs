//! Commit hooks: `keyleak install-hook` (a plain `.git/hooks/pre-commit`) and the pre-commit
//! framework's hooks from `.pre-commit-hooks.yaml`, each blocking a real `git commit`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::util::*;

/// A repository with one commit, ready for staged changes.
fn repo() -> TestDir {
    let t = TestDir::new();
    t.git(&["init", "-q", "-b", "main"]);
    t.write("README.md", "hello\n");
    t.git(&["add", "README.md"]);
    t.git(&["commit", "-q", "-m", "initial"]);
    t
}

/// `git commit -m MSG` with `keyleak` (the build under test) on PATH, as a developer runs it.
fn commit(t: &TestDir, msg: &str, env: &[(&str, std::ffi::OsString)]) -> Output {
    let mut c = git_cmd(t.path());
    c.args(["commit", "-q", "-m", msg])
        .env("PATH", path_with_keyleak())
        .envs(env.iter().map(|(k, v)| (k, v)));
    c.output().expect("git commit runs")
}

fn all_output(o: &Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

fn head_subject(t: &TestDir) -> String {
    t.git(&["log", "-1", "--format=%s"]).trim().to_string()
}

// ---- keyleak install-hook ------------------------------------------------------------------

#[test]
fn install_hook_writes_an_executable_hook() {
    let t = repo();
    t.keyleak()
        .args(["install-hook"])
        .assert()
        .code(0)
        .stderr(predicates::str::contains("installed"));
    let hook = t.path().join(".git/hooks/pre-commit");
    let text = std::fs::read_to_string(&hook).unwrap();
    assert!(text.starts_with("#!/bin/sh\n"), "{text}");
    assert!(text.contains("keyleak git --staged"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&hook).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "hook is not executable: {mode:o}");
    }
    // Installing again is a no-op, not a refusal.
    t.keyleak()
        .args(["install-hook"])
        .assert()
        .code(0)
        .stderr(predicates::str::contains("already installed"));
}

#[test]
fn install_hook_refuses_to_clobber_and_force_keeps_a_backup() {
    let t = repo();
    let mine = "#!/bin/sh\necho my own hook\n";
    let hook = t.write(".git/hooks/pre-commit", mine);
    let o = t.keyleak().args(["install-hook"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", all_output(&o));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        mine,
        "refusal changed the hook"
    );

    t.keyleak()
        .args(["install-hook", "--force"])
        .assert()
        .code(0);
    let backup = t.path().join(".git/hooks/pre-commit.keyleak-backup");
    assert_eq!(std::fs::read_to_string(backup).unwrap(), mine);
    assert!(
        std::fs::read_to_string(&hook)
            .unwrap()
            .contains("keyleak git --staged")
    );
}

#[test]
fn install_hook_outside_a_repository_exits_2() {
    let t = TestDir::new();
    t.keyleak()
        .args(["install-hook"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not a git repository"));
}

#[test]
fn installed_hook_blocks_a_commit_that_adds_a_secret() {
    let t = repo();
    t.keyleak().args(["install-hook"]).assert().code(0);

    t.write("config/app.env", format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n"));
    t.git(&["add", "config/app.env"]);
    let o = commit(&t, "add config", &[]);
    let out = all_output(&o);
    assert!(!o.status.success(), "the commit went through: {out}");
    assert!(out.contains("config/app.env:1:19"), "{out}");
    assert!(out.contains("AKIA…"), "{out}");
    assert!(!out.contains(AWS_KEY), "the hook printed the secret: {out}");
    assert_eq!(head_subject(&t), "initial");
    // The blocked commit ends with the ways out.
    let tail = out
        .split("keyleak: commit blocked")
        .nth(1)
        .unwrap_or_else(|| panic!("{out}"));
    for step in [
        "rotate",
        "keyleak:allow",
        ".keyleakignore",
        "git commit --no-verify",
    ] {
        assert!(tail.contains(step), "{step} missing: {out}");
    }

    // Unstage the secret, commit something clean: the hook lets it through.
    t.git(&["rm", "-q", "--cached", "config/app.env"]);
    t.write("notes.txt", "nothing secret\n");
    t.git(&["add", "notes.txt"]);
    let o = commit(&t, "clean", &[]);
    assert!(o.status.success(), "{}", all_output(&o));
    assert_eq!(head_subject(&t), "clean");
}

// ---- the pre-commit framework ----------------------------------------------------------

/// Files shared by every pre-commit test run, under the target directory so that pre-commit's
/// `cargo install` of keyleak happens once per source change, not once per test or CI run.
fn shared_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pre-commit")
}

/// A git repository holding the current source tree (tracked and untracked, not ignored
/// files), committed, for `pre-commit try-repo --ref`. Its path is named by a digest of the
/// content, so an unchanged tree reuses pre-commit's environment (keyed on repo and rev).
fn hook_repo() -> &'static (PathBuf, String) {
    static REPO: OnceLock<(PathBuf, String)> = OnceLock::new();
    REPO.get_or_init(|| {
        let src = source_root();
        let list = git_in(
            src,
            &[
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
        );
        let mut files: Vec<&str> = list
            .split('\0')
            .filter(|f| !f.is_empty() && src.join(f).is_file())
            .collect();
        files.sort_unstable();
        files.dedup();
        let mut digest = Sha256::new();
        for f in &files {
            digest.update(f.as_bytes());
            digest.update([0]);
            digest.update(std::fs::read(src.join(f)).unwrap());
            digest.update([0]);
        }
        let name = hex::encode(&digest.finalize()[..8]);
        let shared = shared_dir();
        let repo = shared.join(format!("repo-{name}"));
        if !repo.join(".git").exists() {
            std::fs::create_dir_all(&shared).unwrap();
            let staging = tempfile::tempdir_in(&shared).unwrap();
            for f in &files {
                let to = staging.path().join(f);
                std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                std::fs::copy(src.join(f), to).unwrap();
            }
            let s = staging.path();
            git_in(s, &["init", "-q", "-b", "main"]);
            git_in(s, &["add", "-A"]);
            git_cmd(s)
                .args(["commit", "-q", "-m", "keyleak source under test"])
                .env("GIT_AUTHOR_DATE", "2020-01-01T00:00:00Z")
                .env("GIT_COMMITTER_DATE", "2020-01-01T00:00:00Z")
                .status()
                .unwrap();
            // Another test process may have won the race: its copy is just as good.
            let staged = staging.keep();
            if std::fs::rename(&staged, &repo).is_err() {
                let _ = std::fs::remove_dir_all(&staged);
            }
        }
        let rev = git_in(&repo, &["rev-parse", "HEAD"]).trim().to_string();
        (repo, rev)
    })
}

/// The environment of every pre-commit run (and of `git commit` through its hook, which
/// installs the environment on first use): one pre-commit home and one cargo target directory
/// shared by all runs, and a release profile that builds fast (pre-commit's `cargo install`
/// builds keyleak in release mode; the tests need a working binary, not a fast one).
fn pre_commit_env() -> Vec<(&'static str, std::ffi::OsString)> {
    let shared = shared_dir();
    vec![
        ("PRE_COMMIT_HOME", shared.join("home").into()),
        ("CARGO_TARGET_DIR", shared.join("cargo-target").into()),
        ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0".into()),
        ("CARGO_PROFILE_RELEASE_LTO", "false".into()),
        ("CARGO_PROFILE_RELEASE_DEBUG", "false".into()),
        ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256".into()),
        ("CARGO_PROFILE_RELEASE_INCREMENTAL", "true".into()),
        ("PRE_COMMIT_COLOR", "never".into()),
        ("CARGO_TERM_COLOR", "never".into()),
    ]
}

/// pre-commit runs one at a time: each `try-repo` clones this repository into a fresh temporary
/// store and builds it there (sharing only the cargo target directory), and a build must not
/// reuse a build-script output generated for another, concurrently made clone.
fn pre_commit_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// `pre-commit ARGS…` in `dir`.
fn pre_commit(dir: &Path) -> Command {
    let mut c = Command::new("pre-commit");
    c.current_dir(dir).envs(pre_commit_env());
    git_env(&mut c);
    c
}

fn try_repo(t: &TestDir, hook: &str) -> Output {
    let (repo, rev) = hook_repo();
    let _serial = pre_commit_lock();
    let start = std::time::Instant::now();
    let o = pre_commit(t.path())
        .arg("try-repo")
        .arg(repo)
        .args([hook, "--ref", rev])
        .output()
        .expect("pre-commit runs");
    eprintln!(
        "pre-commit try-repo {hook}: {:.1}s",
        start.elapsed().as_secs_f64()
    );
    o
}

fn have_pre_commit() -> bool {
    require_tool("pre-commit", &["--version"])
}

#[test]
fn pre_commit_hook_blocks_a_staged_secret_and_passes_a_clean_change() {
    if !have_pre_commit() {
        return;
    }
    let t = repo();
    t.write("deploy/.env", format!("\n\nAWS_ACCESS_KEY_ID={AWS_KEY}\n"));
    t.git(&["add", "deploy/.env"]);
    let o = try_repo(&t, "keyleak");
    let out = all_output(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("- hook id: keyleak"), "{out}");
    assert!(out.contains("deploy/.env:3:19"), "{out}");
    assert!(out.contains("AKIA…"), "{out}");
    assert!(!out.contains(AWS_KEY), "the hook printed the secret: {out}");

    let t = repo();
    t.write("notes.txt", "nothing secret\n");
    t.git(&["add", "notes.txt"]);
    let o = try_repo(&t, "keyleak");
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    assert!(stdout(&o).contains("Passed"), "{}", stdout(&o));
}

#[test]
fn pre_commit_files_hook_scans_the_passed_files() {
    if !have_pre_commit() {
        return;
    }
    let t = repo();
    t.write("src/settings.py", format!("KEY = \"{AWS_KEY}\"\n"));
    t.write("docs/guide.md", "no secrets here\n");
    t.git(&["add", "."]);
    let o = try_repo(&t, "keyleak-files");
    let out = all_output(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("- hook id: keyleak-files"), "{out}");
    assert!(out.contains("src/settings.py:1:8"), "{out}");
    assert!(!out.contains(AWS_KEY), "{out}");
}

#[test]
fn pre_commit_installed_from_a_config_blocks_git_commit() {
    if !have_pre_commit() {
        return;
    }
    let (repo_path, rev) = hook_repo();
    let t = repo();
    t.write(
        ".pre-commit-config.yaml",
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: keyleak\n",
            repo_path.display()
        ),
    );
    t.git(&["add", ".pre-commit-config.yaml"]);
    t.git(&["commit", "-q", "-m", "pre-commit config"]);
    let _serial = pre_commit_lock();
    let o = pre_commit(t.path()).arg("install").output().unwrap();
    assert!(o.status.success(), "{}", all_output(&o));

    // The hook installs keyleak into PRE_COMMIT_HOME on the first commit (once per source
    // change: this store, unlike try-repo's, persists under the target directory).
    let env = pre_commit_env();
    let start = std::time::Instant::now();
    t.write("wallet.txt", format!("aws = {AWS_KEY}\n"));
    t.git(&["add", "wallet.txt"]);
    let o = commit(&t, "add wallet", &env);
    eprintln!(
        "git commit through pre-commit: {:.1}s",
        start.elapsed().as_secs_f64()
    );
    let out = all_output(&o);
    assert!(!o.status.success(), "the commit went through: {out}");
    assert!(out.contains("wallet.txt:1:7"), "{out}");
    assert!(!out.contains(AWS_KEY), "{out}");
    assert_eq!(head_subject(&t), "pre-commit config");

    t.git(&["rm", "-q", "--cached", "wallet.txt"]);
    t.write("notes.txt", "nothing secret\n");
    t.git(&["add", "notes.txt"]);
    let o = commit(&t, "clean", &env);
    assert!(o.status.success(), "{}", all_output(&o));
    assert_eq!(head_subject(&t), "clean");
}

#[test]
fn pre_commit_hooks_manifest_declares_both_hooks() {
    if !require_tool("python3", &["-c", "import yaml"]) {
        return;
    }
    let hooks = yaml_to_json(&source_root().join(".pre-commit-hooks.yaml"));
    let hooks = hooks.as_array().expect("a list of hooks");
    let by_id = |id: &str| {
        hooks
            .iter()
            .find(|h| h["id"] == id)
            .unwrap_or_else(|| panic!("no hook `{id}`"))
    };
    let staged = by_id("keyleak");
    assert_eq!(staged["language"], "rust");
    assert_eq!(staged["pass_filenames"], false);
    assert!(
        staged["entry"]
            .as_str()
            .unwrap()
            .starts_with("keyleak git --staged")
    );
    assert_eq!(staged["stages"], serde_json::json!(["pre-commit"]));
    let files = by_id("keyleak-files");
    assert_eq!(files["language"], "rust");
    assert!(files["entry"].as_str().unwrap().starts_with("keyleak dir"));
    let prebuilt = by_id("keyleak-prebuilt");
    assert_eq!(prebuilt["language"], "script");
    let entry = prebuilt["entry"].as_str().unwrap();
    let script = entry.split(' ').next().unwrap();
    assert!(source_root().join(script).is_file(), "{script}");
    assert!(entry.ends_with("git --staged --no-progress"), "{entry}");
    let system = by_id("keyleak-system");
    assert_eq!(system["language"], "system");
    assert_eq!(system["entry"], staged["entry"]);
}

/// A YAML file as JSON, through Python's yaml (PyYAML, which pre-commit depends on).
pub fn yaml_to_json(path: &Path) -> serde_json::Value {
    let o = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)",
        ])
        .arg(path)
        .output()
        .expect("python3 runs");
    assert!(
        o.status.success(),
        "{}: not valid YAML: {}",
        path.display(),
        stderr(&o)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// `keyleak-prebuilt`: pre-commit runs the release binary of the hook repository's version,
/// which install.sh fetches from a loopback release server and verifies on first use; the
/// second run needs no server (the binary is cached).
#[test]
fn pre_commit_prebuilt_hook_downloads_the_verified_release() {
    if !have_pre_commit() || !require_tool("curl", &["--version"]) {
        return;
    }
    let rel = TestDir::new();
    let tag = format!("v{}", env!("CARGO_PKG_VERSION"));
    let releases = crate::release::release_tree(rel.path(), &tag);
    let server = crate::release::Server::start(&releases);
    let cache = rel.path().join("cache");
    let env = [
        (
            "KEYLEAK_DOWNLOAD_URL",
            std::ffi::OsString::from(&server.url),
        ),
        ("KEYLEAK_CACHE_DIR", cache.clone().into()),
    ];

    let t = repo();
    t.write("deploy/.env", format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n"));
    t.git(&["add", "deploy/.env"]);
    let o = try_repo_with(&t, "keyleak-prebuilt", &env);
    let out = all_output(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("checksum verified"), "{out}");
    assert!(out.contains("deploy/.env:1:19"), "{out}");
    assert!(!out.contains(AWS_KEY), "{out}");
    let cached = cache.join(format!("{tag}/keyleak"));
    assert_eq!(
        std::fs::read(&cached).unwrap(),
        std::fs::read(assert_cmd::cargo::cargo_bin("keyleak")).unwrap()
    );

    // Cached: works with the server gone, and a clean change passes.
    drop(server);
    let t = repo();
    t.write("notes.txt", "nothing secret\n");
    t.git(&["add", "notes.txt"]);
    let o = try_repo_with(&t, "keyleak-prebuilt", &env);
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    assert!(!all_output(&o).contains("downloading"));
}

fn try_repo_with(t: &TestDir, hook: &str, env: &[(&str, std::ffi::OsString)]) -> Output {
    let (repo, rev) = hook_repo();
    let _serial = pre_commit_lock();
    pre_commit(t.path())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .arg("try-repo")
        .arg(repo)
        .args([hook, "--ref", rev])
        .output()
        .expect("pre-commit runs")
}
