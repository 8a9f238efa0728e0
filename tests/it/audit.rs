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
        (vec!["merge", "b.sarif", "-f", "html"], "SARIF only"),
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
