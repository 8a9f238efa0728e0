//! One scan pipeline: every source (dir, git history, `--staged`, `--range`, stdin) feeds the
//! same `scan_input`, so an input is found or skipped the same way whichever source read it;
//! and the module edges that keep it one pipeline (no import cycle between scan, decode and
//! source).

use std::path::Path;

use crate::util::*;

/// `AWS_ACCESS_KEY_ID=…` as BOM-less UTF-16LE: every byte pair has a NUL, so a plain binary
/// check skips it; the scan must transcode it.
fn utf16_env() -> Vec<u8> {
    format!("# settings\r\nAWS_ACCESS_KEY_ID={AWS_KEY}\r\n")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// (path, line, rule, decoded layers) of each finding of a JSON report.
fn summary(o: &std::process::Output) -> Vec<(String, u64, String, String)> {
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(o), stderr(o));
    findings(o)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["rule_id"].as_str().unwrap().to_string(),
                f["decoded"].to_string(),
            )
        })
        .collect()
}

#[test]
fn bomless_utf16_secret_is_found_by_all_five_sources() {
    let t = TestDir::new();
    t.git(&["init", "-q", "-b", "main"]);
    t.write("README.md", "hello\n");
    t.git(&["add", "."]);
    t.git(&["commit", "-qm", "base"]);
    t.write("conf/win.env", utf16_env());
    t.git(&["add", "."]);

    let run = |args: &[&str]| {
        t.keyleak()
            .args(args)
            .args(["-f", "json"])
            .output()
            .unwrap()
    };
    let staged = summary(&run(&["git", "--staged"]));
    t.git(&["commit", "-qm", "add a UTF-16 env file"]);
    let sources = [
        ("dir", summary(&run(&["dir", "."]))),
        ("history", summary(&run(&["git", "."]))),
        ("staged", staged),
        ("range", summary(&run(&["git", "--range", "HEAD~1..HEAD"]))),
        (
            "stdin",
            summary(
                &t.keyleak()
                    .args(["stdin", "--name", "conf/win.env", "-f", "json"])
                    .write_stdin(utf16_env())
                    .output()
                    .unwrap(),
            ),
        ),
    ];
    let want = &sources[0].1;
    assert_eq!(want.len(), 1, "{want:?}");
    assert_eq!(want[0].0, "conf/win.env");
    assert_eq!(want[0].1, 2);
    assert!(want[0].3.contains("utf16le"), "{want:?}");
    for (name, got) in &sources {
        assert_eq!(got, want, "{name} differs from dir");
    }
}

/// A zip added in a pull request is opened by `--range` and `--staged` like by `dir`, and a
/// secret the archive already held before is not reported as added again.
#[test]
fn archives_are_opened_by_the_added_lines_modes() {
    let t = TestDir::new();
    t.git(&["init", "-q", "-b", "main"]);
    let zip = |files: &[(&str, String)]| {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, body) in files {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            std::io::Write::write_all(&mut w, body.as_bytes()).unwrap();
        }
        w.finish().unwrap().into_inner()
    };
    let old = format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n");
    t.write("app.zip", zip(&[("a.env", old.clone())]));
    t.git(&["add", "."]);
    t.git(&["commit", "-qm", "base"]);
    let new_key = "AKIAZ7XQ4RTWYP3MB2KD";
    t.write(
        "app.zip",
        zip(&[
            ("a.env", old),
            ("b.env", format!("AWS_ACCESS_KEY_ID={new_key}\n")),
        ]),
    );
    t.git(&["add", "."]);
    let run = |args: &[&str]| {
        t.keyleak()
            .args(args)
            .args(["-f", "json"])
            .output()
            .unwrap()
    };
    let staged = summary(&run(&["git", "--staged"]));
    t.git(&["commit", "-qm", "more"]);
    let range = summary(&run(&["git", "--range", "HEAD~1..HEAD"]));
    for got in [staged, range] {
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, "app.zip!/b.env");
    }
}

/// The `crate::…` modules a source file imports (first path segment after `crate::`, and the
/// second for `crate::scan`-style parts), from `use` lines and inline paths alike.
fn imports(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.push(name);
        }
        // `use crate::{a, b}`
        if rest.starts_with('{') {
            let inner = &rest[1..rest.find('}').unwrap_or(rest.len())];
            for item in inner.split(',') {
                let n: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !n.is_empty() {
                    out.push(n);
                }
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The parts' one-way edges (README, "Architecture"): decode imports nothing of keyleak but
/// the model; scan never imports sources or the CLI; the model imports nothing; reports never
/// import sources. Checked on the text of every file, tests included, so a cycle cannot creep
/// back in through a `#[cfg(test)]` helper.
#[test]
fn no_import_cycle_between_scan_decode_and_source() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let forbidden: &[(&str, &[&str])] = &[
        (
            "decode",
            &[
                "scan", "source", "rules", "report", "filter", "config", "baseline", "cli",
            ],
        ),
        (
            "scan",
            &["source", "cli", "report", "filter", "config", "baseline"],
        ),
        (
            "model.rs",
            &[
                "scan", "source", "decode", "rules", "report", "filter", "config", "cli",
            ],
        ),
        (
            "finding.rs",
            &[
                "scan", "source", "decode", "rules", "report", "filter", "config", "cli",
            ],
        ),
        ("report", &["source", "scan", "decode"]),
    ];
    let mut bad = Vec::new();
    let mut checked = 0;
    for (part, never) in forbidden {
        let root = src.join(part);
        let mut files = Vec::new();
        if root.is_dir() {
            rust_files(&root, &mut files);
        } else {
            files.push(root);
        }
        for f in files {
            checked += 1;
            let text = std::fs::read_to_string(&f).unwrap();
            for m in imports(&text) {
                if never.contains(&m.as_str()) {
                    bad.push(format!("{} imports crate::{m}", f.display()));
                }
            }
        }
    }
    assert!(
        checked > 20,
        "the source tree was not found ({checked} files)"
    );
    assert!(bad.is_empty(), "forbidden edges:\n{}", bad.join("\n"));
    // The check itself sees an edge when there is one.
    assert_eq!(
        imports(
            "use crate::scan::{Engine};\nlet x = crate::source::dir::scan;\nuse crate::{a, b};"
        ),
        ["scan", "source", "a", "b"]
    );
}

/// `n` Binance credentials, a key line then a secret line each, with values no placeholder or
/// entropy filter rejects (no vowels, so no `fake`/`test`/`xxxx`-like words).
fn binance_flood(n: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjkmnpqrstvwzBCDFGHJKLMNPQRSTVWZ23456789";
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut value = || -> String {
        (0..64)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ALPHABET[(x % ALPHABET.len() as u64) as usize] as char
            })
            .collect()
    };
    let mut s = String::with_capacity(n * 170);
    for _ in 0..n {
        s.push_str(&format!("BINANCE_API_KEY={}\n", value()));
        s.push_str(&format!("BINANCE_API_SECRET={}\n", value()));
    }
    s
}

/// A flood of grouped credentials in one input: every pair kept becomes one finding with its
/// two parts (the pairwise grouping took 8.7 s for 40k such lines; its linear scaling is
/// checked by counting work in `scan::group`'s unit test, at 100k credentials). One input
/// keeps its first 1,000 pairs and says so.
#[test]
fn a_flood_of_grouped_credentials_is_grouped_pair_by_pair() {
    let n = 10_000;
    let o = keyleak()
        .args(["stdin", "--name", "flood.env", "-f", "json"])
        .write_stdin(binance_flood(n))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1 input(s) had more than 1000 findings each; up to "),
        "{}",
        stderr(&o)
    );
    let f = findings(&o);
    assert_eq!(f.len(), 1_000);
    for (i, x) in f.iter().enumerate() {
        let line = 2 * i as u64 + 2;
        assert_eq!(x["rule_id"], "binance-api-secret", "{x}");
        assert_eq!(x["line"], line);
        let parts: Vec<(String, u64)> = x["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_string(),
                    p["line"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            parts,
            [("key".to_string(), line - 1), ("secret".to_string(), line)]
        );
    }
}

/// `n` lines of one AWS key id, alternately plain inside a percent-encoded URL (found plain and
/// again decoded over the same bytes) and base64-encoded (found one layer down).
fn repeated_key_flood(n: usize) -> String {
    const B64: &str = "QUtJQVo3WFE0UlRXWVAzTUIyS0Q="; // AKIAZ7XQ4RTWYP3MB2KD
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                format!("https://example.com/u{i}?key=AKIAZ7XQ4RTWYP3MB2KD&sig=a%2Fb%3D%3D\n")
            } else {
                format!("v{i}: {B64}\n")
            }
        })
        .collect()
}

/// A flood of one secret repeated plain and encoded in one input: each place is reported once
/// (the plain and decoded copies over the same bytes are one finding), in line order, the same
/// way for 600 lines and for 40,000 (past the per-input cap, which says so). The pairwise
/// repeat check looked at every earlier finding of the same secret for each new one
/// (`scan::repeats` now sorts and sweeps).
#[test]
fn a_flood_of_one_repeated_secret_is_one_finding_per_place() {
    let scan = |n: usize| {
        let o = keyleak()
            .args(["stdin", "--name", "flood.txt", "-f", "json"])
            .write_stdin(repeated_key_flood(n))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let lines: Vec<(u64, usize)> = findings(&o)
            .iter()
            .map(|f| {
                assert_eq!(f["rule_id"], "aws-access-key-id", "{f}");
                let depth = f["decoded"].as_array().map_or(0, |d| d.len());
                (f["line"].as_u64().unwrap(), depth)
            })
            .collect();
        (lines, stderr(&o))
    };
    let want = |n: usize| -> Vec<(u64, usize)> {
        (0..n)
            .map(|i| (i as u64 + 1, usize::from(i % 2 == 1)))
            .collect()
    };
    let (small, err) = scan(600);
    assert!(
        small == want(600),
        "{err}: {:?}",
        &small[..small.len().min(20)]
    );
    assert!(!err.contains("more than 1000 findings"), "{err}");
    // Past the cap the most severe are kept, the earlier first among equals: the plain ones,
    // found before the decoding pass. Still one finding per place, in line order.
    let (large, err) = scan(40_000);
    let plain: Vec<(u64, usize)> = (0..1_000).map(|i| (2 * i + 1, 0)).collect();
    assert!(large == plain, "{err}: {:?}", &large[..large.len().min(20)]);
    assert!(
        err.contains("1 input(s) had more than 1000 findings each"),
        "{err}"
    );
}

/// The vector kernels (AVX2, SSE2) and the portable ones a non-x86 build runs give the same
/// report, byte for byte, over this repository's rules, sources, tests and fixtures (keywords
/// in every case, token runs, seed phrases, encoded secrets). `KEYLEAK_SIMD` caps the level;
/// `-v` says which one ran, so the comparison is known to cover each.
#[test]
fn every_simd_level_gives_the_same_report() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = |level: Option<&str>| {
        let mut c = keyleak();
        c.args(["dir", "-f", "jsonl", "--no-ignore", "--no-config", "-v"]);
        for d in ["patterns", "src", "tests", "fixtures"] {
            c.arg(root.join(d));
        }
        if let Some(l) = level {
            c.env("KEYLEAK_SIMD", l);
        }
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let kernels = stderr(&o)
            .lines()
            .find_map(|l| l.strip_prefix("keyleak: scan kernels: "))
            .map(|l| l.split(' ').next().unwrap().to_string())
            .unwrap_or_else(|| panic!("-v names no kernels: {}", stderr(&o)));
        (o.stdout, kernels)
    };
    let (portable, k) = run(Some("portable"));
    assert_eq!(k, "portable");
    assert!(portable.split(|&b| b == b'\n').count() > 500);
    let (sse2, k) = run(Some("sse2"));
    let (best, best_k) = run(None);
    if cfg!(target_arch = "x86_64") {
        assert_eq!(k, "sse2");
        let avx2 = std::arch::is_x86_feature_detected!("avx2");
        assert_eq!(best_k, if avx2 { "avx2" } else { "sse2" });
    }
    assert!(sse2 == portable, "sse2 and portable reports differ");
    assert!(best == portable, "{best_k} and portable reports differ");
}
