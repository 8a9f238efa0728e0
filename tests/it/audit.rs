//! Audits: the HTML and Markdown reports (rendered in a real browser, hostile names escaped),
//! several repositories in one run (local and cloned from a loopback git server), sharding and
//! merging shard reports.

use std::path::Path;

use crate::util::*;

/// A repository whose file names, author and contents are hostile, with findings in two commits.
fn hostile_repo(t: &TestDir) {
    t.git(&["init", "-q", "-b", "main"]);
    t.write(
        "<img src=x onerror=alert(1)>.env",
        format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n"),
    );
    t.write(
        "a\"b'c&d\u{1b}]52;c;Zm9v\u{7}.py",
        format!(
            "key = \"{AWS_KEY}\"  # ![x](https://evil.example/p.png) <script>alert(2)</script>\n"
        ),
    );
    t.git(&["add", "-A"]);
    t.git(&[
        "commit",
        "-qm",
        "first",
        "--author=Eve\" onmouseover=\"alert(3)&amp;x <a@b.c>",
    ]);
    t.write("plain.txt", format!("id: {AWS_KEY}\n"));
    t.git(&["add", "-A"]);
    t.git(&["commit", "-qm", "second"]);
}

/// Every element and attribute of `html`, through Python's HTML parser: what a browser would
/// build, not what a regex would guess.
fn parse_html(html: &Path) -> serde_json::Value {
    const SCRIPT: &str = r#"
import html.parser, json, sys
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = {}; self.attrs = []; self.rows = 0; self.text = []
    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.attrs += [a for a, _ in attrs]
        if tag == "tr" and any(a == "data-sev" for a, _ in attrs): self.rows += 1
    def handle_data(self, d): self.text.append(d)
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read())
print(json.dumps({"tags": p.tags, "attrs": sorted(set(p.attrs)), "rows": p.rows, "text": "".join(p.text)}))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(html)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("parser output")
}

#[test]
fn html_report_escapes_every_hostile_field() {
    let t = TestDir::new();
    hostile_repo(&t);
    let report = t.path().join("report.html");
    t.keyleak()
        .args(["git", ".", "-f", "html", "-o"])
        .arg(&report)
        .assert()
        .code(1);
    let parsed = parse_html(&report);
    let tags: Vec<&str> = parsed["tags"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let allowed = [
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "header",
        "h1",
        "h2",
        "p",
        "section",
        "div",
        "b",
        "span",
        "figure",
        "figcaption",
        "svg",
        "text",
        "rect",
        "input",
        "select",
        "option",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "code",
        "br",
        "details",
        "summary",
        "ul",
        "li",
        "script",
    ];
    for tag in &tags {
        assert!(
            allowed.contains(tag),
            "unexpected element <{tag}> in {tags:?}"
        );
    }
    assert_eq!(parsed["tags"]["script"], 1, "exactly one (our) script");
    assert!(parsed["tags"].get("img").is_none() && parsed["tags"].get("a").is_none());
    for a in parsed["attrs"].as_array().unwrap() {
        let a = a.as_str().unwrap();
        assert!(
            !a.starts_with("on") && a != "src" && a != "href" && a != "style",
            "attribute {a}"
        );
    }
    // Three findings (one per path), all with their hostile names shown as text.
    assert_eq!(parsed["rows"], 3);
    let text = parsed["text"].as_str().unwrap();
    assert!(text.contains("<img src=x onerror=alert(1)>.env"), "{text}");
    assert!(
        text.contains("Eve\" onmouseover=\"alert(3)&amp;x"),
        "{text}"
    );
    assert!(
        text.contains("\\x1B]52;c;Zm9v\\x07"),
        "control characters made visible"
    );
    assert!(!text.contains('\u{1b}'));
    // Redacted as everywhere else.
    let raw = std::fs::read_to_string(&report).unwrap();
    assert!(!raw.contains(AWS_KEY) && raw.contains("AKIA…"));
}

#[test]
fn html_report_renders_in_a_real_browser_under_its_csp() {
    if !require_tool("chromium", &["--version"]) {
        return;
    }
    let t = TestDir::new();
    hostile_repo(&t);
    let report = t.path().join("report.html");
    t.keyleak()
        .args(["git", ".", "-f", "html", "-o"])
        .arg(&report)
        .assert()
        .code(1);
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let chromium = |extra: &[&str], profile: &str| {
        std::process::Command::new("timeout")
            .arg("120")
            .arg("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!(
                "--user-data-dir={}",
                t.path().join(profile).display()
            ))
            .args(extra)
            .arg(format!("file://{}", report.display()))
            .output()
            .expect("chromium runs")
    };
    let dom = chromium(&["--dump-dom"], "profile-dom");
    assert!(dom.status.success(), "{}", stderr(&dom));
    let rendered = stdout(&dom);
    let log = stderr(&dom);
    // The script ran (the CSP allowed it by hash) and reached its end without an exception.
    assert!(
        rendered.contains("data-ready=\"1\""),
        "script did not run: {log}"
    );
    assert_eq!(rendered.matches("<tr data-sev=").count(), 3);
    assert!(rendered.matches("<rect ").count() >= 4, "charts drawn");
    for bad in ["Uncaught", "Refused to", "Content Security Policy", "ERR_"] {
        assert!(!log.contains(bad), "browser console: {log}");
    }
    let shot = artifacts.join("keyleak-report.png");
    let _ = std::fs::remove_file(&shot);
    let out = chromium(
        &[
            "--window-size=1280,900",
            &format!("--screenshot={}", shot.display()),
        ],
        "profile-shot",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
    eprintln!("screenshot: {}", shot.display());
}

#[test]
fn markdown_report_keeps_hostile_text_inert() {
    let t = TestDir::new();
    hostile_repo(&t);
    let out = t
        .keyleak()
        .args(["git", ".", "-f", "markdown"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let md = stdout(&out);
    assert!(md.starts_with("# keyleak report"));
    assert!(md.contains("**3 findings**"));
    // Attacker text only ever inside code spans: never a live image, link or HTML tag.
    for line in md
        .lines()
        .filter(|l| l.contains("evil.example") || l.contains("onerror"))
    {
        let outside: String = line.split('`').step_by(2).collect::<Vec<_>>().join("");
        assert!(
            !outside.contains("](") && !outside.contains("<img") && !outside.contains("<script"),
            "live markup outside code spans: {line}"
        );
    }
    assert!(!md.contains('\u{1b}') && !md.contains(AWS_KEY));
    // One table row per finding, each with as many cells as the header.
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| high")).collect();
    assert_eq!(rows.len(), 3, "{md}");
    for r in rows {
        let cells = r.replace("\\|", "").matches('|').count();
        assert_eq!(cells, 8, "{r}");
    }
}

/// Three files in two directories, each with a finding.
fn two_dirs(t: &TestDir) {
    t.write("a/x.env", format!("AWS={AWS_KEY}\n"));
    t.write("a/z z.txt", format!("k {AWS_KEY}\n"));
    t.write("b/y.txt", format!("id: {AWS_KEY}\n"));
}

fn run_ok(t: &TestDir, args: &[&str]) -> std::process::Output {
    let out = t.keyleak().args(args).output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        stderr(&out)
    );
    out
}

#[test]
fn merge_restores_the_single_run_report() {
    let t = TestDir::new();
    two_dirs(&t);
    for f in ["json", "jsonl", "sarif"] {
        let all = run_ok(&t, &["dir", "a", "b", "-q", "-f", f]);
        run_ok(&t, &["dir", "b", "-q", "-f", f, "-o", &format!("b.{f}")]);
        run_ok(&t, &["dir", "a", "-q", "-f", f, "-o", &format!("a.{f}")]);
        // Shards in any order.
        let merged = t
            .keyleak()
            .args(["merge", &format!("b.{f}"), &format!("a.{f}")])
            .output()
            .unwrap();
        assert_eq!(merged.status.code(), Some(1), "{}", stderr(&merged));
        if f == "sarif" {
            // The same log; objects may list their keys in another order.
            let a: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
            let m: serde_json::Value = serde_json::from_slice(&merged.stdout).unwrap();
            assert_eq!(a, m);
            assert_eq!(m["runs"][0]["results"].as_array().unwrap().len(), 3);
        } else {
            assert_eq!(stdout(&all), stdout(&merged), "{f}");
        }
    }
}

#[test]
fn merge_refuses_what_it_cannot_combine() {
    let t = TestDir::new();
    two_dirs(&t);
    run_ok(&t, &["dir", "a", "-q", "-f", "json", "-o", "a.json"]);
    run_ok(&t, &["dir", "b", "-q", "-f", "sarif", "-o", "b.sarif"]);
    t.write("junk.json", "{\"hello\": [1, 2");
    for (args, msg) in [
        (vec!["merge", "a.json", "b.sarif"], "mix"),
        (vec!["merge", "junk.json"], "not a keyleak"),
        (
            vec!["merge", "b.sarif", "-f", "html"],
            "SARIF or github annotations only",
        ),
        (vec!["merge", "missing.json"], "missing.json"),
    ] {
        let out = t.keyleak().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(msg), "{args:?}: {}", stderr(&out));
    }
    // A merged report renders as HTML too, and a clean merge exits 0.
    let out = t
        .keyleak()
        .args(["merge", "a.json", "-f", "html"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("<tr data-sev=\"high\""));
    let out = t
        .keyleak()
        .args(["merge", "a.json", "--fail-on", "critical"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// A repository with `n` commits, each adding a file with a finding (and a shared one).
fn history_repo(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir).unwrap();
    git_in(dir, &["init", "-q", "-b", "main"]);
    for i in 0..n {
        std::fs::write(dir.join(format!("f{i}.txt")), format!("k{i} = {AWS_KEY}\n")).unwrap();
        std::fs::write(
            dir.join("shared.env"),
            format!("AWS={AWS_KEY} # v{}\n", i % 3),
        )
        .unwrap();
        git_in(dir, &["add", "-A"]);
        git_in(dir, &["commit", "-qm", &format!("c{i}")]);
    }
}

/// Runs `args` + `--shard k/n` for every k, merges the shard reports, and checks the result
/// against the single run: byte for byte in JSON, the same log in SARIF.
fn assert_shards_merge(t: &TestDir, args: &[&str]) {
    for format in ["json", "sarif"] {
        let mut single: Vec<&str> = args.to_vec();
        single.extend(["-q", "-f", format]);
        let all = run_ok(t, &single);
        assert!(
            stdout(&all).contains("837ccea308481031b41fd97d7d73e863"),
            "the single run finds something"
        );
        for n in [1, 2, 3, 7] {
            let mut reports = Vec::new();
            for k in 1..=n {
                let file = format!("shard-{k}-of-{n}.{format}");
                let mut a: Vec<String> = single.iter().map(|s| s.to_string()).collect();
                a.extend([
                    "--shard".into(),
                    format!("{k}/{n}"),
                    "-o".into(),
                    file.clone(),
                ]);
                let a: Vec<&str> = a.iter().map(String::as_str).collect();
                run_ok(t, &a);
                reports.push(file);
            }
            let mut m = t.keyleak();
            m.arg("merge").args(&reports).arg("-q");
            let merged = m.output().unwrap();
            assert!(
                matches!(merged.status.code(), Some(0 | 1)),
                "{}",
                stderr(&merged)
            );
            if format == "json" {
                assert_eq!(stdout(&all), stdout(&merged), "{args:?} in {n} shards");
            } else {
                let a: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
                let b: serde_json::Value = serde_json::from_slice(&merged.stdout).unwrap();
                assert_eq!(a, b, "{args:?} in {n} shards (SARIF)");
            }
        }
    }
}

#[test]
fn history_shards_merge_into_the_single_run() {
    let t = TestDir::new();
    history_repo(&t.path().join("repo"), 12);
    assert_shards_merge(&t, &["git", "repo"]);
}

#[test]
fn dir_shards_merge_into_the_single_run() {
    let t = TestDir::new();
    for i in 0..20 {
        t.write(
            &format!("tree/d{}/f{i}.env", i % 4),
            format!("AWS={AWS_KEY}\n"),
        );
    }
    assert_shards_merge(&t, &["dir", "tree"]);
}

#[test]
fn many_repository_shards_merge_into_the_single_run() {
    let t = TestDir::new();
    for (name, n) in [("r1", 3), ("r2", 5), ("r3", 2)] {
        history_repo(&t.path().join(name), n);
    }
    // 2 shards deal out whole repositories, 7 split each repository's blobs.
    assert_shards_merge(&t, &["git", "r1", "r2", "r3"]);
}

#[test]
fn shard_arguments_are_checked() {
    let t = TestDir::new();
    history_repo(&t.path().join("repo"), 1);
    for bad in ["0/2", "3/2", "x", "1/0"] {
        let out = t
            .keyleak()
            .args(["git", "repo", "--shard", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(stderr(&out).contains("--shard"), "{}", stderr(&out));
    }
    let out = t
        .keyleak()
        .args(["git", "repo", "--staged", "--shard", "1/2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `git daemon` serving `base` on a free loopback port; killed on drop.
struct GitDaemon {
    child: std::process::Child,
    port: u16,
}

impl GitDaemon {
    fn start(base: &Path) -> GitDaemon {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // `git daemon` runs `git-daemon` as a child of its own, which killing `git` would leave
        // behind (holding the test harness's output pipe open); run it directly.
        let exec_path = git_in(base, &["--exec-path"]);
        let mut c = std::process::Command::new(Path::new(exec_path.trim()).join("git-daemon"));
        git_env(&mut c);
        let child = c
            .args([
                "--export-all",
                "--reuseaddr",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", base.display()),
            ])
            .arg(base)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("git daemon starts");
        let mut daemon = GitDaemon { child, port };
        // Wait until it accepts connections (bounded: a daemon that never listens fails here,
        // not later as a confusing clone error).
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return daemon;
            }
            if let Ok(Some(status)) = daemon.child.try_wait() {
                panic!("git-daemon exited before listening: {status}");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = daemon.child.kill();
        panic!("git-daemon did not listen on 127.0.0.1:{port} within 10 s");
    }

    fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn remote_repositories_are_cloned_scanned_and_removed() {
    let t = TestDir::new();
    history_repo(&t.path().join("work/one"), 2);
    history_repo(&t.path().join("work/two"), 3);
    history_repo(&t.path().join("local"), 1);
    let srv = t.path().join("srv");
    std::fs::create_dir_all(&srv).unwrap();
    for name in ["one", "two"] {
        git_in(
            t.path(),
            &[
                "clone",
                "-q",
                "--bare",
                &format!("work/{name}"),
                &format!("srv/{name}.git"),
            ],
        );
    }
    let daemon = GitDaemon::start(&srv);
    let tmp = t.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    t.write(
        "repos.txt",
        format!("# the organisation\n{}\n\nlocal\n", daemon.url("two.git")),
    );
    let leaky = format!(
        "http://auditor:s3cr3t-pw@127.0.0.1:{}/nothing.git",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    );
    let out = t
        .keyleak()
        .env("TMPDIR", &tmp)
        .env("GIT_TERMINAL_PROMPT", "0")
        .args([
            "git",
            &daemon.url("one.git"),
            &leaky,
            "--repos",
            "repos.txt",
            "-f",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let fs = findings(&out);
    let repos: std::collections::BTreeSet<String> = fs
        .iter()
        .map(|f| {
            f["repository"]
                .as_str()
                .expect("every finding names its repository")
                .to_string()
        })
        .collect();
    assert_eq!(
        repos,
        [
            daemon.url("one.git"),
            daemon.url("two.git"),
            "local".to_string()
        ]
        .into_iter()
        .collect()
    );
    // 2 + 3 + 1 files, plus shared.env at each of its versions.
    assert_eq!(
        fs.iter()
            .filter(|f| f["path"].as_str().unwrap().starts_with('f'))
            .count(),
        6
    );
    // The unreachable one is reported, with its credentials hidden everywhere.
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(all.contains("http://***@127.0.0.1"), "{all}");
    assert!(!all.contains("s3cr3t-pw"), "{all}");
    // Clones are gone afterwards.
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "temporary clones removed"
    );

    // Only failures: never a clean pass.
    let out = t
        .keyleak()
        .env("TMPDIR", &tmp)
        .args(["git", &daemon.url("missing.git"), "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    // --keep-clones keeps (and the next run reuses) the mirror.
    let keep = t.path().join("clones");
    for _ in 0..2 {
        let out = t
            .keyleak()
            .args(["git", &daemon.url("one.git"), "-q", "--keep-clones"])
            .arg(&keep)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    }
    let kept: Vec<_> = std::fs::read_dir(&keep)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0].join("HEAD").is_file() && kept[0].to_string_lossy().ends_with("-one.git"));
}

#[test]
fn hostile_repository_urls_never_become_options_or_commands() {
    let t = TestDir::new();
    let marker = t.path().join("pwned");
    for url in [
        format!("--upload-pack=touch {}", marker.display()),
        format!("ext::sh -c touch% {}", marker.display()),
    ] {
        let out = t
            .keyleak()
            .args(["git", "-q", "--", &url])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{url}: {}", stderr(&out));
        assert!(!marker.exists(), "{url} ran a command");
    }
}

#[test]
fn audit_recipes_lint() {
    let recipes = source_root().join("docs/recipes");
    let k8s = std::fs::read_to_string(recipes.join("org-audit-k8s-job.yaml")).unwrap();
    assert!(k8s.contains("completionMode: Indexed") && k8s.contains("JOB_COMPLETION_INDEX + 1"));
    // YAML that parses (PyYAML comes with pre-commit, which .ci/run installs).
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys, yaml; yaml.safe_load(open(sys.argv[1]))"])
        .arg(recipes.join("org-audit-k8s-job.yaml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    if !require_tool("actionlint", &["-version"]) {
        return;
    }
    let out = std::process::Command::new("actionlint")
        .arg(recipes.join("org-audit-matrix.yml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "actionlint: {}", stdout(&out));
}

/// The timeline says which leaks are still in their file at HEAD (delete from the code and
/// rotate) and which were deleted since (rotate; the history still holds them): a card, a red
/// part of the month's bar, the row's commit cell, and the Markdown month table.
#[test]
fn reports_show_which_secrets_are_still_at_head() {
    let t = TestDir::new();
    t.git(&["init", "-q", "-b", "main"]);
    t.write("gone.env", format!("KEY={AWS_KEY}\n"));
    t.write("kept.env", format!("KEY={AWS_KEY_2}\n"));
    t.git(&["add", "-A"]);
    t.git(&["commit", "-qm", "add"]);
    t.write("gone.env", "KEY=\n");
    t.git(&["commit", "-qam", "remove one"]);
    let report = t.path().join("r.html");
    t.keyleak()
        .args(["git", ".", "-f", "html", "-o"])
        .arg(&report)
        .assert()
        .code(1);
    let page = std::fs::read_to_string(&report).unwrap();
    let parsed = parse_html(&report);
    let text = parsed["text"].as_str().unwrap();
    assert!(text.contains("1still at HEAD"), "card: {text}");
    assert_eq!(page.matches("class=\"bar head\"").count(), 1, "{page}");
    assert!(page.contains("2 committed, 1 still at HEAD"), "{page}");
    assert_eq!(text.matches("deleted since (still in history)").count(), 1);
    let md = stdout(
        &t.keyleak()
            .args(["git", ".", "-f", "markdown"])
            .output()
            .unwrap(),
    );
    let row = md
        .lines()
        .find(|l| l.starts_with("| ` 20"))
        .unwrap_or_else(|| panic!("month row: {md}"));
    assert!(row.ends_with("| 2 | 1 |"), "{row}");
    assert_eq!(md.matches("<br>still at HEAD").count(), 1, "{md}");
}
