//! The GitHub Action: `action/keyleak-action.sh` run on a simulated runner (real event payloads,
//! GITHUB_* files, a checkout cloned from a local origin over file://, the keyleak under test on
//! PATH), and static checks of action.yml and the workflows (actionlint, shellcheck, pins).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::hooks::yaml_to_json;
use crate::util::*;

/// A second fake AWS key, committed on main before the pull request: never in its range.
const OLD_KEY: &str = "AKIAZ7XQ4RTWYP3MB2KD";
const ZERO: &str = "0000000000000000000000000000000000000000";

/// A simulated GitHub: a bare `origin`, a developer clone `dev` that pushes to it, and the
/// runner's workspace cloned from origin the way actions/checkout does.
struct Gh {
    dir: TestDir,
}

/// What one run of the script left behind.
struct Run {
    out: Output,
    outputs: BTreeMap<String, String>,
    /// The job summary with numeric character references decoded (the text a reader sees).
    summary: String,
    /// The job summary as written (Markdown).
    summary_md: String,
}

/// `s` with `&#NN;` references decoded: the summary writes every ASCII punctuation character
/// of untrusted text that way.
fn decode_refs(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("&#") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 2..];
        match tail.find(';').and_then(|j| {
            let n: u32 = tail[..j].parse().ok()?;
            Some((char::from_u32(n)?, j))
        }) {
            Some((c, j)) => {
                out.push(c);
                rest = &tail[j + 1..];
            }
            None => {
                out.push_str("&#");
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

impl Run {
    fn log(&self) -> String {
        format!("{}{}", stdout(&self.out), stderr(&self.out))
    }
    fn output(&self, key: &str) -> &str {
        self.outputs
            .get(key)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no output `{key}`: {:?}\n{}", self.outputs, self.log()))
    }
    fn sarif_results(&self) -> Vec<Value> {
        let sarif: Value =
            serde_json::from_slice(&std::fs::read(self.output("sarif-file")).unwrap()).unwrap();
        sarif["runs"][0]["results"].as_array().unwrap().clone()
    }
}

impl Gh {
    /// origin with main = [README, old.env holding OLD_KEY, old.env emptied] and a `feature`
    /// branch from it; `feature_file` is what the branch's one commit adds.
    fn new(feature_file: (&str, &str)) -> Gh {
        let dir = TestDir::new();
        git_in(
            dir.path(),
            &["init", "-q", "--bare", "-b", "main", "origin.git"],
        );
        git_in(dir.path(), &["clone", "-q", "origin.git", "dev"]);
        let gh = Gh { dir };
        gh.git(&["checkout", "-q", "-B", "main"]);
        gh.commit("README.md", "demo\n", "initial");
        gh.commit("old.env", &format!("KEY={OLD_KEY}\n"), "old key");
        gh.commit("old.env", "KEY=\n", "remove the old key");
        gh.git(&["push", "-q", "origin", "HEAD:main"]);
        gh.git(&["checkout", "-q", "-b", "feature"]);
        gh.commit(feature_file.0, feature_file.1, "feature");
        gh.git(&["push", "-q", "origin", "feature"]);
        gh
    }

    fn git(&self, args: &[&str]) -> String {
        git_in(&self.dir.path().join("dev"), args)
    }

    fn commit(&self, path: &str, contents: &str, msg: &str) -> String {
        self.dir.write(&format!("dev/{path}"), contents);
        self.git(&["add", path]);
        self.git(&["commit", "-q", "-m", msg]);
        self.sha("HEAD")
    }

    fn sha(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev]).trim().to_string()
    }

    fn origin_url(&self) -> String {
        format!("file://{}", self.dir.path().join("origin.git").display())
    }

    /// The runner's workspace: `branch` cloned from origin, complete or `--depth 1`.
    fn checkout(&self, branch: &str, shallow: bool) -> PathBuf {
        let ws = self.dir.path().join("ws");
        let url = self.origin_url();
        let mut args = vec!["clone", "-q", "--no-tags", "--branch", branch];
        if shallow {
            args.extend(["--depth", "1"]);
        }
        args.extend([url.as_str(), "ws"]);
        git_in(self.dir.path(), &args);
        ws
    }

    fn pull_request(&self, base: &str, head: &str) -> Value {
        let repo = json!({"full_name": "octo/demo", "default_branch": "main"});
        json!({
            "action": "opened",
            "number": 7,
            "pull_request": {
                "number": 7,
                "commits": 1,
                "base": {"ref": "main", "sha": self.sha(base), "repo": repo},
                "head": {"ref": "feature", "sha": self.sha(head), "repo": repo},
            },
            "repository": repo,
        })
    }

    fn push(&self, reference: &str, before: &str, after: &str) -> Value {
        json!({
            "ref": reference,
            "before": before,
            "after": after,
            "created": before == ZERO,
            "deleted": after == ZERO,
            "forced": false,
            "commits": [{"id": after}],
            "repository": {"full_name": "octo/demo", "default_branch": "main"},
        })
    }

    /// Runs `keyleak-action.sh SUB` as the action's step would, with the action's default
    /// inputs overridden by `inputs`.
    fn run(
        &self,
        ws: &Path,
        sub: &str,
        event: &str,
        payload: &Value,
        inputs: &[(&str, &str)],
    ) -> Run {
        let files = self.dir.path().join("runner");
        let _ = std::fs::remove_dir_all(&files);
        std::fs::create_dir_all(files.join("temp")).unwrap();
        let (event_path, output, summary) = (
            files.join("event.json"),
            files.join("output"),
            files.join("summary.md"),
        );
        std::fs::write(&event_path, serde_json::to_vec_pretty(payload).unwrap()).unwrap();
        std::fs::write(&output, "").unwrap();
        std::fs::write(&summary, "").unwrap();

        let mut c = Command::new("bash");
        c.arg(source_root().join("action/keyleak-action.sh"))
            .arg(sub);
        // Nothing of a real runner (when the tests themselves run in Actions) leaks in.
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            if k.starts_with("GITHUB_") || k.starts_with("INPUT_") || k.starts_with("RUNNER_") {
                c.env_remove(&*k);
            }
        }
        git_env(&mut c);
        let mut defaults: BTreeMap<&str, &str> = [
            ("MODE", "auto"),
            ("PATH", "."),
            ("CONFIG", ""),
            ("BASELINE", ""),
            ("FAIL_ON", "medium"),
            ("SARIF_FILE", ""),
            ("UPLOAD_SARIF", "true"),
            ("TOKEN", "a-token-never-sent-to-a-local-origin"),
        ]
        .into();
        for (k, v) in inputs {
            defaults.insert(k, v);
        }
        for (k, v) in defaults {
            c.env(format!("INPUT_{k}"), v);
        }
        c.current_dir(ws)
            .env("PATH", path_with_keyleak())
            .env("CI", "true")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", event)
            .env("GITHUB_EVENT_PATH", &event_path)
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_WORKSPACE", ws)
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_REPOSITORY", "octo/demo")
            .env("GITHUB_SHA", git_in(ws, &["rev-parse", "HEAD"]).trim())
            .env("RUNNER_TEMP", files.join("temp"));
        let out = c.output().expect("bash runs");
        let outputs = std::fs::read_to_string(&output)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let summary_md = std::fs::read_to_string(&summary).unwrap();
        Run {
            out,
            outputs,
            summary: decode_refs(&summary_md),
            summary_md,
        }
    }
}

fn have_tools() -> bool {
    require_tool("python3", &["--version"])
}

/// The script found exactly the feature's AWS_KEY in config/app.env and asks to fail.
fn assert_found_the_new_key(r: &Run) {
    let log = r.log();
    assert_eq!(
        r.out.status.code(),
        Some(0),
        "scan must not fail before the upload: {log}"
    );
    assert_eq!(r.output("findings"), "1", "{log}");
    assert_eq!(r.output("failed"), "true", "{log}");
    let results = r.sarif_results();
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0]["ruleId"], "aws-access-key-id");
    assert!(
        stdout(&r.out)
            .contains("::error file=config/app.env,line=1,endLine=1,col=19,endColumn=39,"),
        "no annotation on the changed line: {log}"
    );
    assert!(r.summary.contains("config/app.env:1"), "{}", r.summary);
    assert!(r.summary.contains("AKIA…"), "{}", r.summary);
    let everything = format!(
        "{log}{}{}",
        r.summary,
        std::fs::read_to_string(r.output("sarif-file")).unwrap()
    );
    assert!(!everything.contains(AWS_KEY), "secret leaked: {everything}");
    assert!(
        !everything.contains(OLD_KEY),
        "a commit outside the range was scanned: {everything}"
    );
}

#[test]
fn pull_request_adding_a_secret_fails_after_reporting_it() {
    if !have_tools() {
        return;
    }
    let gh = Gh::new(("config/app.env", &format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n")));
    let ws = gh.checkout("feature", false);
    let event = gh.pull_request("main", "feature");
    let r = gh.run(&ws, "scan", "pull_request", &event, &[]);
    assert_found_the_new_key(&r);
    assert_eq!(r.output("upload"), "true");
    assert!(r.summary.contains("pull request #7"), "{}", r.summary);
    assert!(r.summary.contains("the job fails"), "{}", r.summary);
    assert!(
        r.summary.contains(&format!(
            "https://github.com/octo/demo/blob/{}/config/app.env#L1",
            gh.sha("feature")
        )),
        "{}",
        r.summary
    );

    // The action's last step.
    let f = gh.run(&ws, "fail", "pull_request", &event, &[]);
    assert_eq!(f.out.status.code(), Some(1), "{}", f.log());
    assert!(stdout(&f.out).contains("::error"), "{}", f.log());
}

/// The job summary a reviewer reads in the browser: most severe first, each row with the
/// fingerprint (for `.keyleakignore`), a link to the commit and the first sentence of the fix,
/// then how to mark a false positive.
#[test]
fn job_summary_sorts_by_severity_with_fingerprint_commit_and_fix() {
    if !have_tools() {
        return;
    }
    // Line 1: the AWS documentation's example key (known public, low); line 2: a real-looking one.
    let gh = Gh::new((
        "config/app.env",
        &format!("DOC_KEY=AKIAIOSFODNN7EXAMPLE\nAWS_ACCESS_KEY_ID={AWS_KEY}\n"),
    ));
    let ws = gh.checkout("feature", false);
    let event = gh.pull_request("main", "feature");
    let r = gh.run(&ws, "scan", "pull_request", &event, &[]);
    let rows: Vec<&str> = r
        .summary
        .lines()
        .filter(|l| l.starts_with("| high") || l.starts_with("| low"))
        .collect();
    assert_eq!(rows.len(), 2, "{}", r.summary);
    assert!(
        rows[0].starts_with("| high |"),
        "most severe first: {}",
        r.summary
    );
    assert!(
        rows[1].starts_with("| low (known public) |"),
        "{}",
        r.summary
    );
    let sha = gh.sha("feature");
    assert!(
        rows[0].contains(&format!("https://github.com/octo/demo/commit/{sha}")),
        "{}",
        rows[0]
    );
    let fp = r
        .sarif_results()
        .iter()
        .find(|x| x["properties"]["known_public"] == false)
        .map(|x| {
            x["partialFingerprints"]["keyleakFingerprint/v1"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .unwrap();
    assert!(
        rows[0].contains(&format!("<code>{fp}</code>")),
        "{}",
        rows[0]
    );
    // The first sentence of the rule's fix, not the whole paragraph.
    assert!(
        rows[0].contains("Deactivate and delete the key in IAM"),
        "{}",
        rows[0]
    );
    assert!(rows[0].ends_with("since the leak. |"), "{}", rows[0]);
    assert!(r.summary.contains("`keyleak:allow`"), "{}", r.summary);
    assert!(r.summary.contains("`.keyleakignore`"), "{}", r.summary);
    assert!(!r.summary.contains(AWS_KEY));
}

#[test]
fn clean_pull_request_passes() {
    if !have_tools() {
        return;
    }
    let gh = Gh::new(("docs/guide.md", "# Guide\nNothing secret.\n"));
    let ws = gh.checkout("feature", false);
    let r = gh.run(
        &ws,
        "scan",
        "pull_request",
        &gh.pull_request("main", "feature"),
        &[],
    );
    assert_eq!(r.out.status.code(), Some(0), "{}", r.log());
    assert_eq!(r.output("findings"), "0", "{}", r.log());
    assert_eq!(r.output("failed"), "false");
    assert!(r.sarif_results().is_empty());
    assert!(!stdout(&r.out).contains("::error"), "{}", r.log());
    assert!(r.summary.contains("No secrets found"), "{}", r.summary);
}

#[test]
fn fail_on_above_the_finding_reports_without_failing() {
    if !have_tools() {
        return;
    }
    let gh = Gh::new(("config/app.env", &format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n")));
    let ws = gh.checkout("feature", false);
    let event = gh.pull_request("main", "feature");
    let r = gh.run(
        &ws,
        "scan",
        "pull_request",
        &event,
        &[("FAIL_ON", "critical")],
    );
    assert_eq!(r.output("findings"), "1", "{}", r.log());
    assert_eq!(r.output("failed"), "false", "{}", r.log());
    assert!(
        r.summary.contains("none is at or above `critical`"),
        "{}",
        r.summary
    );
}

#[test]
fn pull_request_from_a_fork_skips_the_upload() {
    if !have_tools() {
        return;
    }
    let gh = Gh::new(("docs/guide.md", "Nothing secret.\n"));
    let ws = gh.checkout("feature", false);
    let mut event = gh.pull_request("main", "feature");
    event["pull_request"]["head"]["repo"]["full_name"] = json!("someone/demo");
    let r = gh.run(&ws, "scan", "pull_request", &event, &[]);
    assert_eq!(r.output("upload"), "false", "{}", r.log());
    assert!(stdout(&r.out).contains("fork"), "{}", r.log());
}

#[test]
fn shallow_checkout_fetches_the_base_from_origin() {
    if !have_tools() {
        return;
    }
    let gh = Gh::new(("config/app.env", &format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n")));
    // actions/checkout's default: one commit, no base.
    let ws = gh.checkout("feature", true);
    let base = gh.sha("main");
    assert!(
        git_cmd(&ws)
            .args(["cat-file", "-e", &base])
            .status()
            .is_ok_and(|s| !s.success()),
        "the shallow clone should lack the base"
    );
    let r = gh.run(
        &ws,
        "scan",
        "pull_request",
        &gh.pull_request("main", "feature"),
        &[],
    );
    assert!(r.log().contains("shallow checkout"), "{}", r.log());
    assert_found_the_new_key(&r);
}

#[test]
fn shallow_checkout_without_a_reachable_origin_fails_clearly() {
    if !have_tools() {
        return;
    }
    let gh = Gh::new(("config/app.env", &format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n")));
    let ws = gh.checkout("feature", true);
    let gone = format!("file://{}", gh.dir.path().join("gone.git").display());
    git_in(&ws, &["remote", "set-url", "origin", &gone]);
    let r = gh.run(
        &ws,
        "scan",
        "pull_request",
        &gh.pull_request("main", "feature"),
        &[],
    );
    assert_eq!(r.out.status.code(), Some(2), "{}", r.log());
    let log = r.log();
    assert!(log.contains("::error title=keyleak::"), "{log}");
    assert!(log.contains("fetch-depth: 0"), "{log}");
    assert!(!r.outputs.contains_key("failed"), "{:?}", r.outputs);
}

#[test]
fn push_creating_a_branch_scans_the_commits_not_on_the_default_branch() {
    if !have_tools() {
        return;
    }
    let gh = Gh::new(("config/app.env", &format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n")));
    let ws = gh.checkout("feature", false);
    let event = gh.push("refs/heads/feature", ZERO, &gh.sha("feature"));
    let r = gh.run(&ws, "scan", "push", &event, &[]);
    assert_found_the_new_key(&r);
    assert!(
        r.summary.contains("push to refs/heads/feature"),
        "{}",
        r.summary
    );
}

#[test]
fn push_creating_a_branch_in_a_shallow_checkout() {
    if !have_tools() {
        return;
    }
    let gh = Gh::new(("config/app.env", &format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n")));
    let ws = gh.checkout("feature", true);
    let event = gh.push("refs/heads/feature", ZERO, &gh.sha("feature"));
    let r = gh.run(&ws, "scan", "push", &event, &[]);
    assert_found_the_new_key(&r);
}

#[test]
fn first_push_of_the_default_branch_scans_its_history() {
    if !have_tools() {
        return;
    }
    let gh = Gh::new(("docs/guide.md", "Nothing secret.\n"));
    let ws = gh.checkout("main", false);
    let event = gh.push("refs/heads/main", ZERO, &gh.sha("main"));
    let r = gh.run(&ws, "scan", "push", &event, &[]);
    assert_eq!(r.out.status.code(), Some(0), "{}", r.log());
    assert_eq!(r.output("findings"), "1", "{}", r.log());
    assert!(
        stdout(&r.out).contains("file=old.env,line=1"),
        "{}",
        r.log()
    );
}

#[test]
fn new_branch_without_a_fetchable_default_branch_scans_the_pushed_commit_alone() {
    if !have_tools() {
        return;
    }
    let gh = Gh::new(("docs/guide.md", "Nothing secret.\n"));
    // A secret already in the tree before the pushed commit: not the push's to report.
    gh.git(&["checkout", "-q", "main"]);
    gh.commit("legacy.env", &format!("KEY={OLD_KEY}\n"), "legacy");
    gh.git(&["checkout", "-q", "-b", "topic"]);
    gh.commit(
        "config/app.env",
        &format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n"),
        "topic",
    );
    gh.git(&["push", "-q", "origin", "topic"]);
    let ws = gh.checkout("topic", true);
    let mut event = gh.push("refs/heads/topic", ZERO, &gh.sha("topic"));
    event["repository"]["default_branch"] = json!("trunk");
    let r = gh.run(&ws, "scan", "push", &event, &[]);
    assert!(r.log().contains("cannot be fetched"), "{}", r.log());
    assert_found_the_new_key(&r);
}

#[test]
fn push_scans_the_pushed_commits() {
    if !have_tools() {
        return;
    }
    let gh = Gh::new(("config/app.env", &format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n")));
    let ws = gh.checkout("feature", true);
    let event = gh.push("refs/heads/feature", &gh.sha("main"), &gh.sha("feature"));
    let r = gh.run(&ws, "scan", "push", &event, &[]);
    assert_found_the_new_key(&r);
}

#[test]
fn push_deleting_a_branch_scans_nothing() {
    if !have_tools() {
        return;
    }
    let gh = Gh::new(("docs/guide.md", "Nothing secret.\n"));
    let ws = gh.checkout("main", false);
    let event = gh.push("refs/heads/feature", &gh.sha("feature"), ZERO);
    let r = gh.run(&ws, "scan", "push", &event, &[]);
    assert_eq!(r.out.status.code(), Some(0), "{}", r.log());
    assert_eq!(r.output("findings"), "0");
    assert_eq!(r.output("upload"), "false");
}

#[test]
fn schedule_scans_the_full_history() {
    if !have_tools() {
        return;
    }
    let gh = Gh::new(("config/app.env", &format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n")));
    let ws = gh.checkout("feature", true);
    let r = gh.run(
        &ws,
        "scan",
        "schedule",
        &json!({"schedule": "23 4 * * 1"}),
        &[],
    );
    assert_eq!(r.out.status.code(), Some(0), "{}", r.log());
    assert_eq!(r.output("findings"), "2", "{}", r.log());
    assert!(
        stdout(&r.out).contains("file=old.env,line=1"),
        "{}",
        r.log()
    );
}

#[test]
fn dir_mode_scans_files_with_workspace_relative_paths() {
    if !have_tools() {
        return;
    }
    let gh = Gh::new(("config/app.env", &format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n")));
    let ws = gh.checkout("feature", false);
    let r = gh.run(
        &ws,
        "scan",
        "workflow_dispatch",
        &json!({}),
        &[("MODE", "dir"), ("PATH", "config")],
    );
    assert_found_the_new_key(&r);
}

#[test]
fn bad_inputs_exit_2_with_an_error_annotation() {
    if !have_tools() {
        return;
    }
    let gh = Gh::new(("docs/guide.md", "Nothing secret.\n"));
    let ws = gh.checkout("feature", false);
    let event = gh.pull_request("main", "feature");
    for (input, value) in [
        ("MODE", "everything"),
        ("FAIL_ON", "severe"),
        ("UPLOAD_SARIF", "yes"),
    ] {
        let r = gh.run(&ws, "scan", "pull_request", &event, &[(input, value)]);
        assert_eq!(r.out.status.code(), Some(2), "{input}={value}: {}", r.log());
        assert!(
            stdout(&r.out).contains("::error title=keyleak::"),
            "{}",
            r.log()
        );
    }
    let r = gh.run(&ws, "scan", "schedule", &json!({}), &[("MODE", "range")]);
    assert_eq!(r.out.status.code(), Some(2), "{}", r.log());
}

/// `keyleak-action.sh setup` with `env`; its outputs, and the raw process output.
fn setup(cache: &Path, env: &[(&str, &str)]) -> (BTreeMap<String, String>, Output) {
    let output = cache.with_extension("output");
    std::fs::write(&output, "").unwrap();
    let o = Command::new("bash")
        .arg(source_root().join("action/keyleak-action.sh"))
        .arg("setup")
        .env("GITHUB_ACTION_PATH", source_root())
        .env("GITHUB_OUTPUT", &output)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("KEYLEAK_ACTION_CACHE", cache)
        // Never the real release server: tests that download set a loopback one.
        .env("KEYLEAK_DOWNLOAD_URL", "http://127.0.0.1:9/unused")
        .env_remove("KEYLEAK_ACTION_REF")
        .env_remove("INPUT_VERSION")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let outputs = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (outputs, o)
}

#[test]
fn setup_keys_the_build_cache_on_the_lock_file_and_the_source() {
    let t = TestDir::new();
    let path_file = t.path().join("path");
    std::fs::write(&path_file, "").unwrap();
    let cache = t.path().join("cache");
    let path_env = path_file.display().to_string();
    let run = |extra: &[(&str, &str)]| {
        let mut env = vec![("GITHUB_PATH", path_env.as_str())];
        env.extend_from_slice(extra);
        let (outputs, o) = setup(&cache, &env);
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
        outputs
    };
    let o = run(&[]);
    assert_eq!(o["installed"], "false");
    let (key, restore) = (&o["key"], &o["restore-key"]);
    assert!(key.starts_with("keyleak-action-v1-Linux-X64-"), "{key}");
    assert!(
        key.starts_with(restore.as_str()) && key.len() > restore.len(),
        "{key} / {restore}"
    );
    assert_eq!(run(&[])["key"], *key, "the key must be stable");
    assert_eq!(o["path"], cache.display().to_string());
    let added = std::fs::read_to_string(&path_file).unwrap();
    assert_eq!(
        added.lines().next().unwrap(),
        cache.join("bin").display().to_string()
    );
    // A branch ref builds from source without trying a download.
    let o = run(&[("KEYLEAK_ACTION_REF", "main")]);
    assert_eq!(o["installed"], "false");
    assert_eq!(o["key"], *key);
}

/// The action used at a release tag downloads that release's binary from the (loopback)
/// release server and verifies it; a tampered release is refused, never run; a commit SHA
/// uses the release only when the release was built from that commit; a tag without a
/// release falls back to building.
#[test]
fn setup_downloads_the_verified_release_for_its_tag() {
    if !require_tool("curl", &["--version"]) {
        return;
    }
    let t = TestDir::new();
    let tag = format!("v{}", env!("CARGO_PKG_VERSION"));
    let releases = crate::release::release_tree(t.path(), &tag);
    let server = crate::release::Server::start(&releases);
    let url = server.url.clone();

    let cache = t.path().join("cache");
    let (o, out) = setup(
        &cache,
        &[("KEYLEAK_ACTION_REF", &tag), ("KEYLEAK_DOWNLOAD_URL", &url)],
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(o["installed"], "true", "{}", stderr(&out));
    assert!(
        stderr(&out).contains("checksum verified"),
        "{}",
        stderr(&out)
    );
    assert!(
        !o.contains_key("key"),
        "no build cache when nothing is built: {o:?}"
    );
    let bin = cache.join("bin/keyleak");
    assert_eq!(
        std::fs::read(&bin).unwrap(),
        std::fs::read(assert_cmd::cargo::cargo_bin("keyleak")).unwrap()
    );

    // A commit SHA: the release is used only if it was built from that commit (its --version).
    let version = stdout(&keyleak().arg("--version").output().unwrap());
    let built_from = version
        .split("(commit ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    if built_from.len() == 12 && built_from.bytes().all(|b| b.is_ascii_hexdigit()) {
        let sha = format!("{built_from}{}", "0".repeat(28));
        let cache = t.path().join("cache-sha");
        let (o, out) = setup(
            &cache,
            &[("KEYLEAK_ACTION_REF", &sha), ("KEYLEAK_DOWNLOAD_URL", &url)],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(o["installed"], "true", "{}{}", stdout(&out), stderr(&out));
    }
    let other = "1".repeat(40);
    let cache = t.path().join("cache-other");
    let (o, out) = setup(
        &cache,
        &[
            ("KEYLEAK_ACTION_REF", &other),
            ("KEYLEAK_DOWNLOAD_URL", &url),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(o["installed"], "false");
    assert!(
        stdout(&out).contains("building this commit instead"),
        "{}",
        stdout(&out)
    );
    assert!(!cache.join("bin/keyleak").exists());

    // A tag with no release: build from source, with a notice.
    let cache = t.path().join("cache-norelease");
    let (o, out) = setup(
        &cache,
        &[
            ("KEYLEAK_ACTION_REF", "v0.0.9"),
            ("KEYLEAK_DOWNLOAD_URL", &url),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(o["installed"], "false");
    assert!(
        stdout(&out).contains("building from source"),
        "{}",
        stdout(&out)
    );
    // An explicit `version` that does not exist is an error, not a silent build.
    let (_, out) = setup(
        &cache,
        &[("INPUT_VERSION", "0.0.9"), ("KEYLEAK_DOWNLOAD_URL", &url)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));

    // Tampered: refused, nothing installed, the job stops.
    let archive = releases.join(format!(
        "download/{tag}/keyleak-x86_64-unknown-linux-musl.tar.gz"
    ));
    let mut bytes = std::fs::read(&archive).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0x55;
    std::fs::write(&archive, bytes).unwrap();
    let cache = t.path().join("cache-tampered");
    let (_, out) = setup(
        &cache,
        &[("KEYLEAK_ACTION_REF", &tag), ("KEYLEAK_DOWNLOAD_URL", &url)],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("does not match its SHA256SUMS"),
        "{}",
        stdout(&out)
    );
    assert!(!cache.join("bin/keyleak").exists());
}

// ---- static checks -----------------------------------------------------------------------

fn read(rel: &str) -> String {
    std::fs::read_to_string(source_root().join(rel)).unwrap()
}

#[test]
fn action_yml_declares_and_passes_every_input_the_script_reads() {
    if !require_tool("python3", &["-c", "import yaml"]) {
        return;
    }
    let action = yaml_to_json(&source_root().join("action.yml"));
    assert_eq!(action["runs"]["using"], "composite");
    let inputs = action["inputs"].as_object().unwrap();
    for name in [
        "mode",
        "path",
        "config",
        "baseline",
        "fail-on",
        "sarif-file",
        "upload-sarif",
        "version",
    ] {
        assert!(inputs.contains_key(name), "action.yml lacks input `{name}`");
    }
    for name in ["findings", "sarif-file"] {
        assert!(
            action["outputs"][name]["value"].is_string(),
            "action.yml lacks output `{name}`"
        );
    }
    // Every INPUT_X the script reads is an input `x`, passed by some step as
    // `INPUT_X: ${{ inputs.x }}`.
    let script = read("action/keyleak-action.sh");
    let re = regex::Regex::new(r"INPUT_[A-Z_]+").unwrap();
    let read_vars: std::collections::BTreeSet<&str> =
        re.find_iter(&script).map(|m| m.as_str()).collect();
    assert!(read_vars.len() >= 8, "{read_vars:?}");
    let steps = action["runs"]["steps"].as_array().unwrap();
    for var in read_vars {
        let input = var["INPUT_".len()..].to_lowercase().replace('_', "-");
        assert!(
            inputs.contains_key(&input),
            "the script reads {var} but action.yml has no input `{input}`"
        );
        let expr = format!("${{{{ inputs.{input} }}}}");
        assert!(
            steps.iter().any(|s| s["env"][var] == expr.as_str()),
            "no step of action.yml passes {var}: {expr}"
        );
    }
    // Each script step calls a subcommand the script has.
    for s in steps.iter().filter_map(|s| s["run"].as_str()) {
        let sub = s.rsplit(' ').next().unwrap().trim_matches('\'');
        assert!(
            script.contains(&format!("\n  {sub}) cmd_")),
            "unknown subcommand in `{s}`"
        );
    }
}

#[test]
fn third_party_actions_are_pinned_by_commit_sha() {
    let re = regex::Regex::new(r"(?m)^\s*(?:-\s+)?uses:\s*(\S+)(.*)$").unwrap();
    let mut files = vec!["action.yml".to_string()];
    for e in std::fs::read_dir(source_root().join(".github/workflows")).unwrap() {
        files.push(format!(
            ".github/workflows/{}",
            e.unwrap().file_name().to_string_lossy()
        ));
    }
    let mut seen = 0;
    for file in files {
        for c in re.captures_iter(&read(&file)) {
            let (target, rest) = (&c[1], &c[2]);
            if target.starts_with("./") {
                continue;
            }
            seen += 1;
            let (_, rev) = target
                .split_once('@')
                .unwrap_or_else(|| panic!("{file}: {target} has no @ref"));
            assert!(
                rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()),
                "{file}: {target} is not pinned to a full commit SHA"
            );
            assert!(
                rest.contains("# v"),
                "{file}: {target} lacks a `# vX.Y.Z` comment"
            );
        }
    }
    assert!(seen >= 4);
}

#[test]
fn workflows_use_least_privilege_checkouts() {
    for e in std::fs::read_dir(source_root().join(".github/workflows")).unwrap() {
        let path = e.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("permissions:\n  contents: read"),
            "{}",
            path.display()
        );
        if text.contains("actions/checkout@") {
            assert!(
                text.contains("persist-credentials: false"),
                "{}",
                path.display()
            );
        }
    }
}

#[test]
fn workflows_and_action_pass_actionlint() {
    if !require_tool("actionlint", &["-version"]) {
        return;
    }
    let o = Command::new("actionlint")
        .current_dir(source_root())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "actionlint:\n{}{}",
        stdout(&o),
        stderr(&o)
    );
}

#[test]
fn action_script_passes_shellcheck() {
    if !require_tool("shellcheck", &["--version"]) {
        return;
    }
    let o = Command::new("shellcheck")
        .arg(source_root().join("action/keyleak-action.sh"))
        .output()
        .unwrap();
    assert!(o.status.success(), "shellcheck:\n{}", stdout(&o));
}

// ---- untrusted pull requests ------------------------------------------------------------------

impl Gh {
    /// Adds a commit on `feature` and pushes it.
    fn feature_commit(&self, files: &[(&str, &str)]) {
        for (path, body) in files {
            self.dir.write(&format!("dev/{path}"), body);
            self.git(&["add", path]);
        }
        self.git(&["commit", "-q", "-m", "more"]);
        self.git(&["push", "-q", "origin", "feature"]);
    }
}

/// The keyleak run is wrapped in `::stop-commands::TOKEN` … `::TOKEN::` with a fresh random
/// token, so nothing keyleak prints can be taken for a workflow command.
fn stop_token(r: &Run) -> String {
    let out = stdout(&r.out);
    let lines: Vec<&str> = out.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("::stop-commands::"))
        .unwrap_or_else(|| panic!("no stop-commands: {}", r.log()));
    let token = lines[start]
        .trim_start_matches("::stop-commands::")
        .to_string();
    assert!(
        token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "{token}"
    );
    let end = lines
        .iter()
        .position(|l| *l == format!("::{token}::"))
        .unwrap_or_else(|| panic!("commands never resumed: {}", r.log()));
    let run = lines
        .iter()
        .position(|l| l.starts_with("+ keyleak "))
        .unwrap();
    assert!(start > run && end > start, "{}", r.log());
    // Annotations come after commands resume.
    if let Some(a) = lines.iter().position(|l| l.starts_with("::error file=")) {
        assert!(a > end, "{}", r.log());
    }
    token
}

/// A pull request that adds a secret and a keyleak.toml / .keyleakignore allowing it still
/// fails: the action reads them from the base commit and flags the change to them.
#[test]
fn pull_request_cannot_allow_its_own_secret() {
    if !have_tools() {
        return;
    }
    let gh = Gh::new(("config/app.env", &format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n")));
    gh.feature_commit(&[
        ("keyleak.toml", "[allow]\npaths = [\"**\"]\n"),
        (".keyleakignore", "00112233445566778899aabbccddeeff\n"),
    ]);
    let ws = gh.checkout("feature", false);
    let event = gh.pull_request("main", "feature");
    let r = gh.run(&ws, "scan", "pull_request", &event, &[]);
    assert_eq!(r.out.status.code(), Some(0), "{}", r.log());
    assert_eq!(r.output("failed"), "true", "{}", r.log());
    assert_eq!(r.output("findings"), "1", "{}", r.log());
    assert!(
        r.log()
            .contains(&format!("--trust-from {}", gh.sha("main"))),
        "{}",
        r.log()
    );
    for name in ["keyleak.toml", ".keyleakignore"] {
        assert!(
            stdout(&r.out).contains(&format!(
                "::warning file={name},title=keyleak::this change edits {name}"
            )),
            "no annotation on {name}: {}",
            r.log()
        );
        assert!(
            r.summary
                .contains(&format!("This change edits <code>{name}</code>")),
            "{}",
            r.summary
        );
    }
    let a = stop_token(&r);
    let b = stop_token(&gh.run(&ws, "scan", "pull_request", &event, &[]));
    assert_ne!(a, b, "the stop-commands token must not be predictable");
}

/// A `config:` input inside the repository is taken from the base commit: the pull request's
/// edit of it does not apply.
#[test]
fn config_input_inside_the_repository_comes_from_the_base() {
    if !have_tools() {
        return;
    }
    let gh = Gh::new(("docs/readme.md", "docs\n"));
    gh.git(&["checkout", "-q", "main"]);
    gh.commit("ci/keyleak.toml", "[scan]\n", "ci config");
    gh.git(&["push", "-q", "origin", "HEAD:main"]);
    gh.git(&["checkout", "-q", "feature"]);
    gh.git(&["merge", "-q", "--no-edit", "main"]);
    gh.feature_commit(&[
        ("ci/keyleak.toml", "[allow]\npaths = [\"**\"]\n"),
        ("config/app.env", &format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n")),
    ]);
    let ws = gh.checkout("feature", false);
    let event = gh.pull_request("main", "feature");
    let r = gh.run(
        &ws,
        "scan",
        "pull_request",
        &event,
        &[("CONFIG", "ci/keyleak.toml")],
    );
    assert_eq!(r.output("failed"), "true", "{}", r.log());
    assert!(
        stdout(&r.out).contains("::warning file=ci/keyleak.toml,"),
        "{}",
        r.log()
    );
    // A config input that does not exist in the base cannot be trusted: a clear error.
    let r = gh.run(
        &ws,
        "scan",
        "pull_request",
        &event,
        &[("CONFIG", "ci/new.toml")],
    );
    assert_eq!(r.out.status.code(), Some(2), "{}", r.log());
    assert!(
        r.log().contains("not a regular file in the base commit"),
        "{}",
        r.log()
    );
}

/// A `keyleak:allow` the pull request adds is listed under "Suppressed by this pull request"
/// and annotated; it fails the job only with `fail-on-inline-allow: true`.
#[test]
fn inline_allow_added_by_the_pull_request_is_shown() {
    if !have_tools() {
        return;
    }
    let gh = Gh::new((
        "config/app.env",
        &format!("AWS_ACCESS_KEY_ID={AWS_KEY} # keyleak:allow\n"),
    ));
    let ws = gh.checkout("feature", false);
    let event = gh.pull_request("main", "feature");
    let r = gh.run(&ws, "scan", "pull_request", &event, &[]);
    assert_eq!(r.out.status.code(), Some(0), "{}", r.log());
    assert_eq!(r.output("failed"), "false", "{}", r.log());
    assert_eq!(r.output("findings"), "0", "{}", r.log());
    assert!(
        r.summary.contains("### Suppressed by this pull request"),
        "{}",
        r.summary
    );
    assert!(r.summary.contains("aws-access-key-id"), "{}", r.summary);
    assert!(r.summary.contains("config/app.env:1"), "{}", r.summary);
    assert!(
        stdout(&r.out).contains("::warning file=config/app.env,line=1,endLine=1,title=keyleak%3A suppressed by this change::"),
        "{}",
        r.log()
    );
    assert!(!r.summary.contains(AWS_KEY));
    let r = gh.run(
        &ws,
        "scan",
        "pull_request",
        &event,
        &[("FAIL_ON_INLINE_ALLOW", "true")],
    );
    assert_eq!(r.output("failed"), "true", "{}", r.log());
    let r = gh.run(
        &ws,
        "scan",
        "pull_request",
        &event,
        &[("FAIL_ON_INLINE_ALLOW", "maybe")],
    );
    assert_eq!(r.out.status.code(), Some(2), "{}", r.log());
}

/// Markdown in a secret's line renders as text in the job summary, checked with GitHub's own
/// Markdown engine (cmark-gfm): no image, no link to the attacker's site.
#[test]
fn markdown_in_the_secret_line_is_inert_in_the_summary() {
    if !have_tools() || !require_tool("python3", &["-c", "import cmarkgfm"]) {
        return;
    }
    let line = format!(
        "AWS_ACCESS_KEY_ID={AWS_KEY} ![x](https://evil.example/pixel.png) [Click to re-run](https://evil.example/rerun) www.evil.example <img src=https://evil.example/i.png> | *b* `c`\n"
    );
    let gh = Gh::new(("config/app.env", &line));
    let ws = gh.checkout("feature", false);
    let r = gh.run(
        &ws,
        "scan",
        "pull_request",
        &gh.pull_request("main", "feature"),
        &[],
    );
    assert_eq!(r.output("failed"), "true", "{}", r.log());
    let md = gh.dir.write("summary.md", &r.summary_md);
    let html = Command::new("python3")
        .args([
            "-c",
            "import sys, cmarkgfm\nfrom cmarkgfm.cmark import Options\n\
             print(cmarkgfm.github_flavored_markdown_to_html(open(sys.argv[1]).read(), options=Options.CMARK_OPT_UNSAFE))",
        ])
        .arg(&md)
        .output()
        .unwrap();
    assert!(html.status.success(), "{}", stderr(&html));
    let html = stdout(&html);
    assert!(html.contains("<table>"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("href=\"https://evil"), "{html}");
    assert!(!html.contains("href=\"http://www.evil"), "{html}");
    assert!(
        !html.contains("<em>") && !html.contains("<code>c</code>"),
        "{html}"
    );
    // The text is still there for a reader.
    assert!(
        r.summary
            .contains("[Click to re-run](https://evil.example/rerun)"),
        "{}",
        r.summary
    );
}

/// The action's annotations come from keyleak itself (`keyleak merge SARIF -f github`), so a
/// hostile file name is escaped and a severity mapped exactly as `-f github` does it: the same
/// command, place and title on every line, with the repository's place in the workspace before
/// the path.
#[test]
fn annotations_from_sarif_match_the_github_format() {
    let t = TestDir::new();
    let name = "a,b:c%d.env";
    t.write(name, format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n"));
    // AWS's documentation key: a known public test key, a notice.
    t.write("doc.txt", "AKIAIOSFODNN7EXAMPLE\n");
    let direct = t
        .keyleak()
        .args(["dir", ".", "-f", "github"])
        .output()
        .unwrap();
    assert_eq!(direct.status.code(), Some(1), "{}", stderr(&direct));
    t.keyleak()
        .args(["dir", ".", "-f", "sarif", "-o", "out.sarif"])
        .assert()
        .code(1);
    let merged = t
        .keyleak()
        .args([
            "merge",
            "out.sarif",
            "-f",
            "github",
            "--path-prefix",
            "sub/",
        ])
        .args(["--exit-code", "0", "-q"])
        .output()
        .unwrap();
    assert_eq!(merged.status.code(), Some(0), "{}", stderr(&merged));
    // Everything up to the message: command, file, region, title.
    let heads = |s: String, prefix: &str| -> Vec<String> {
        s.lines()
            .map(|l| {
                let head = &l[..l.find(",title=").unwrap()
                    + l[l.find(",title=").unwrap()..].find("::").unwrap()];
                head.replacen("file=", &format!("file={prefix}"), 1)
            })
            .collect()
    };
    let want = heads(stdout(&direct), "sub/");
    assert_eq!(want.len(), 2, "{want:?}");
    assert!(
        want[0].starts_with("::error file=sub/a%2Cb%3Ac%25d.env,line=1,endLine=1,col=19,"),
        "{want:?}"
    );
    assert!(
        want[1].starts_with("::notice file=sub/doc.txt,"),
        "{want:?}"
    );
    assert_eq!(heads(stdout(&merged), ""), want);
    // Options that would be ignored are refused.
    t.keyleak()
        .args(["merge", "out.sarif", "--path-prefix", "x/"])
        .assert()
        .code(2);
}
