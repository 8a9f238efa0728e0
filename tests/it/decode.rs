//! Secrets one layer down: base64 (k8s Secret, .npmrc), notebooks, percent-encoding, UTF-16,
//! and archives (zip, tar.gz, nested, bombs). Text fixtures live in `fixtures/decode/`;
//! archives are generated here with the same crates the scanner reads them with.

use std::io::{Cursor, Write};
use std::path::Path;

use crate::util::*;
use serde_json::Value;

fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/decode")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn scan_json(t: &TestDir, extra: &[&str]) -> (std::process::Output, Vec<Value>, Vec<Value>) {
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json", "--no-progress"])
        .args(extra)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", stdout(&o), stderr(&o)));
    let f = v["findings"].as_array().cloned().unwrap_or_default();
    let s = v["skipped"].as_array().cloned().unwrap_or_default();
    (o, f, s)
}

fn decoded(f: &Value) -> Vec<String> {
    f["decoded"]
        .as_array()
        .map(|a| a.iter().map(|d| d.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// The fingerprint of the finding a plain file with `text` gives.
fn plain_fingerprint(text: &str) -> String {
    let t = TestDir::new();
    t.write("plain.txt", format!("{text}\n"));
    let (_, f, _) = scan_json(&t, &[]);
    assert_eq!(f.len(), 1, "{f:#?}");
    f[0]["fingerprint"].as_str().unwrap().to_string()
}

const AWS_SECRET: &str = "Xq7vR2mK9pL4wT8nB3cZ/dF6hJ1sG5yU0eA+iO3k";

#[test]
fn kubernetes_secret_base64_values() {
    let t = TestDir::new();
    let text = fixture("k8s-secret.yaml");
    t.write("deploy/secret.yaml", &text);
    let (o, f, _) = scan_json(&t, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // Key id and secret, each base64 under its own key, make one AWS credential.
    assert_eq!(f.len(), 1, "{f:#?}");
    let x = &f[0];
    assert_eq!(x["path"], "deploy/secret.yaml");
    assert_eq!(x["rule_id"], "aws-secret-access-key");
    assert_eq!(decoded(x), ["base64"]);
    // The span is the encoded value, on its line of the manifest.
    let (line8, line9) = (text.lines().nth(7).unwrap(), text.lines().nth(8).unwrap());
    let enc = line9.split(": ").nth(1).unwrap().trim_end_matches('=');
    assert_eq!(x["line"], 9);
    assert_eq!(x["column"], line9.find(enc).unwrap() + 1);
    assert_eq!(x["end_column"], line9.find(enc).unwrap() + enc.len() + 1);
    let key = x["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "key")
        .expect("key id part");
    assert_eq!(key["line"], 8);
    assert_eq!(key["column"], line8.find("QUtJ").unwrap() + 1);
    // The decoded secret is the value: same identity as the plain one.
    assert_eq!(
        x["fingerprint"].as_str().unwrap(),
        plain_fingerprint(&format!("aws_secret_access_key = {AWS_SECRET}"))
    );
    // Neither the secrets nor their encodings reach the report.
    let out = stdout(&o);
    for leak in [AWS_KEY, AWS_SECRET, enc, "QUtJQVEzRUdUUjdISktMMk1OT1A"] {
        assert!(!out.contains(leak), "{leak} in {out}");
    }
}

#[test]
fn npmrc_auth_is_decoded() {
    let t = TestDir::new();
    t.write(".npmrc", fixture("npmrc"));
    t.write("keyleak.toml", fixture("keyleak.toml"));
    let (o, f, _) = scan_json(&t, &["--show-secrets"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["path"], ".npmrc");
    assert_eq!(f[0]["rule_id"], "fixture-npm-password");
    assert_eq!(f[0]["line"], 3);
    assert_eq!(f[0]["secret"], "Xq7vR2mK9pL4wT8nB3cZ");
    assert_eq!(decoded(&f[0]), ["base64"]);
}

#[test]
fn two_layers_of_base64() {
    let t = TestDir::new();
    t.write("pull-secret.yaml", fixture("dockerconfig-secret.yaml"));
    t.write("keyleak.toml", fixture("keyleak.toml"));
    let (o, f, _) = scan_json(&t, &["--show-secrets"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["line"], 6);
    assert_eq!(f[0]["secret"], "Xq7vR2mK9pL4wT8nB3cZ");
    assert_eq!(decoded(&f[0]), ["base64", "base64"]);
}

#[test]
fn notebook_cells_and_outputs() {
    let t = TestDir::new();
    t.write("analysis.ipynb", fixture("notebook.ipynb"));
    let (o, f, _) = scan_json(&t, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(f.len(), 2, "{f:#?}");
    // Source cell 2: `\u0041KIA…` is only a key once the JSON string is unescaped.
    assert_eq!(f[0]["rule_id"], "aws-access-key-id");
    assert_eq!(f[0]["line"], 17);
    assert_eq!(decoded(&f[0]), ["notebook-cell:2"]);
    assert_eq!(
        f[0]["fingerprint"],
        plain_fingerprint("AKIAZ7XQ4RTWYP3MB2KD")
    );
    assert!(!stdout(&o).contains("\\u0041KIAZ7XQ4"));
    // A connection string printed in the output of cell 3, at its line in the JSON file.
    assert_eq!(f[1]["rule_id"], "database-connection-string");
    assert_eq!(f[1]["line"], 29);
    assert_eq!(f[1]["column"], 42);
    assert_eq!(decoded(&f[1]), ["notebook-cell:3"]);
}

/// The cell is where a finding is, not an encoding: it comes first in `decoded`, before the
/// layers the secret was found under, in every report.
#[test]
fn notebook_cell_then_encoding_layers() {
    let t = TestDir::new();
    let nb = r##"{"cells": [
 {"cell_type": "markdown", "metadata": {}, "source": ["# Notes\n"]},
 {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1,
  "source": ["blob = \"QUtJQVo3WFE0UlRXWVAzTUIyS0Q=\"\n"]}
 ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
"##;
    t.write("n.ipynb", nb);
    let (o, f, _) = scan_json(&t, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(decoded(&f[0]), ["notebook-cell:2", "base64"]);
    assert_eq!(f[0]["line"], 4);
    assert_eq!(
        f[0]["fingerprint"],
        plain_fingerprint("AKIAZ7XQ4RTWYP3MB2KD")
    );
    let o = t
        .keyleak()
        .args(["dir", ".", "--no-progress"])
        .output()
        .unwrap();
    assert!(
        stdout(&o).contains("notebook-cell:2 → base64"),
        "{}",
        stdout(&o)
    );
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "sarif", "--no-progress"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = &v["runs"][0]["results"][0];
    assert_eq!(
        r["properties"]["decoded"],
        serde_json::json!(["notebook-cell:2", "base64"])
    );
    assert!(
        r["message"]["text"]
            .as_str()
            .unwrap()
            .contains("found after decoding notebook-cell:2, base64"),
        "{r}"
    );
}

#[test]
fn no_decode_turns_it_off() {
    let t = TestDir::new();
    t.write("secret.yaml", fixture("k8s-secret.yaml"));
    let (_, f, _) = scan_json(&t, &["--no-decode"]);
    // Only the generic rule's view of the opaque base64 value is left.
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["rule_id"], "generic-secret-named");
    assert!(decoded(&f[0]).is_empty());
}

#[test]
fn plain_and_encoded_at_one_place_is_one_finding() {
    let t = TestDir::new();
    t.write(
        "urls.txt",
        format!("https://example.com/upload?key={AWS_KEY}&sig=a%2Fb%3D%3D\n"),
    );
    // The password as written (`%40` and all) is the finding; its decoded form is not another.
    t.write(
        "db.env",
        "DATABASE_URL=postgres://app:Xq7v%40R2mK9pL4@db.internal/app\n",
    );
    let (_, f, _) = scan_json(&t, &["--show-secrets"]);
    assert_eq!(f.len(), 2, "{f:#?}");
    assert_eq!(f[0]["path"], "db.env");
    assert_eq!(f[0]["secret"], "Xq7v%40R2mK9pL4");
    assert_eq!(f[1]["path"], "urls.txt");
    assert_eq!(f[1]["column"], 32);
    assert!(f.iter().all(|x| decoded(x).is_empty()), "{f:#?}");
}

#[test]
fn percent_escape_and_utf16_layers() {
    let t = TestDir::new();
    // AKIA… percent-encoded byte by byte, and as \x escapes.
    let pct: String = AWS_KEY.bytes().map(|b| format!("%{b:02X}")).collect();
    let esc: String = AWS_KEY.bytes().map(|b| format!("\\x{b:02x}")).collect();
    t.write("a.txt", format!("url = \"https://h/?k={pct}\"\n"));
    t.write("b.js", format!("const k = \"{esc}\";\n"));
    // BOM-less UTF-16LE: binary by the NUL rule, but text.
    let le: Vec<u8> = format!("line one\r\nkey = {AWS_KEY}\r\n")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    t.write("w.txt", le);
    let (_, f, skipped) = scan_json(&t, &[]);
    assert!(skipped.is_empty(), "{skipped:?}");
    let got: Vec<(String, u64, u64, Vec<String>)> = f
        .iter()
        .map(|x| {
            (
                x["path"].as_str().unwrap().to_string(),
                x["line"].as_u64().unwrap(),
                x["column"].as_u64().unwrap(),
                decoded(x),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("a.txt".into(), 1, 21, vec!["percent".to_string()]),
            ("b.js".into(), 1, 12, vec!["escape".to_string()]),
            ("w.txt".into(), 2, 7, vec!["utf16le".to_string()]),
        ]
    );
    for x in &f {
        assert_eq!(
            x["fingerprint"].as_str().unwrap(),
            plain_fingerprint(AWS_KEY)
        );
    }
}

/// A line of escapes far longer than one decoding piece (a minified bundle, or an attack:
/// 19 MB of them once took 1.1 GB) is decoded piece by piece: an escaped key at the start,
/// at the end, and straddling each kind of cut between pieces is found exactly once, at its
/// place.
#[test]
fn a_long_line_of_escapes_loses_no_secret_at_the_cuts() {
    use keyleak::decode::inline::{ESCAPE_OVERLAP, MAX_ESCAPE_PIECE};
    let key: String = AWS_KEY.bytes().map(|b| format!("\\x{b:02x}")).collect();
    let (piece, half) = (MAX_ESCAPE_PIECE, ESCAPE_OVERLAP / 2);
    let step = piece - ESCAPE_OVERLAP;
    // Where the second piece starts owning, where the first ends, and the same one piece on.
    let cuts = [piece - half, piece, step + piece - half, step + piece];
    let mut line = String::new();
    let mut at = Vec::new();
    for target in std::iter::once(0).chain(cuts.iter().flat_map(|&c| [c - 50, c - 3])) {
        while line.len() + 2 < target {
            line.push_str(r"\x41%41\u{41}");
        }
        line.push_str(", ");
        at.push(line.len() as u64 + 1);
        line.push_str(&key);
        line.push_str(", ");
    }
    while line.len() < 3 * piece {
        line.push_str(r"\x41%41\u{41}");
    }
    line.push_str(", ");
    at.push(line.len() as u64 + 1);
    line.push_str(&key);
    let t = TestDir::new();
    t.write("bundle.min.js", format!("{line}\n"));
    let (_, f, _) = scan_json(&t, &[]);
    let got: Vec<(u64, Vec<String>)> = f
        .iter()
        .map(|x| (x["column"].as_u64().unwrap(), decoded(x)))
        .collect();
    let want: Vec<(u64, Vec<String>)> = at.iter().map(|&c| (c, vec!["escape".into()])).collect();
    assert_eq!(got, want);
}

// ---------------------------------------------------------------------------------------------
// archives

fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn tar_gz_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut b = tar::Builder::new(gz);
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

fn env_file() -> Vec<u8> {
    format!("# settings\nDEBUG=false\nAWS_ACCESS_KEY_ID={AWS_KEY}\n").into_bytes()
}

fn paths_lines(f: &[Value]) -> Vec<(String, u64)> {
    f.iter()
        .map(|x| {
            (
                x["path"].as_str().unwrap().to_string(),
                x["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn zip_and_tar_gz_members() {
    let t = TestDir::new();
    t.write(
        "dist/bundle.zip",
        zip_of(&[("README.md", b"hello\n"), ("config/.env", &env_file())]),
    );
    t.write("release.tar.gz", tar_gz_of(&[("app/.env", &env_file())]));
    t.write("notes.env.gz", {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&env_file()).unwrap();
        gz.finish().unwrap()
    });
    let (o, f, skipped) = scan_json(&t, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(
        paths_lines(&f),
        [
            ("dist/bundle.zip!/config/.env".to_string(), 3),
            ("notes.env.gz!/notes.env".to_string(), 3),
            ("release.tar.gz!/app/.env".to_string(), 3),
        ]
    );
    for x in &f {
        assert_eq!(x["column"], 19);
        assert!(decoded(x).is_empty());
    }

    // --no-archives: they are binary files again.
    let (o, f, skipped) = scan_json(&t, &["--no-archives"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(f.is_empty());
    assert_eq!(skipped.len(), 3);
    assert!(
        skipped.iter().all(|s| s["reason"] == "binary"),
        "{skipped:?}"
    );
}

#[test]
fn nested_archives_and_depth_limit() {
    let t = TestDir::new();
    let c = zip_of(&[("deep/.env", &env_file())]);
    let b = tar_gz_of(&[("c.zip", &c)]);
    let a = zip_of(&[("b.tgz", &b)]);
    t.write("a.zip", &a);
    // Four levels: the innermost is not opened.
    t.write("too-deep.zip", zip_of(&[("a.zip", &a)]));
    let (o, f, skipped) = scan_json(&t, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        paths_lines(&f),
        [("a.zip!/b.tgz!/c.zip!/deep/.env".to_string(), 3)]
    );
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0]["path"], "too-deep.zip!/a.zip!/b.tgz!/c.zip");
    assert!(
        skipped[0]["reason"].as_str().unwrap().contains("nested"),
        "{skipped:?}"
    );
}

#[test]
fn zip_bomb_is_skipped_not_fatal() {
    // 1 GiB of zeros, streamed into the compressor 1 MiB at a time: ~1 MiB on disk.
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file(".env", opts).unwrap();
    w.write_all(&env_file()).unwrap();
    w.start_file("zeros.bin", opts).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        w.write_all(&chunk).unwrap();
    }
    let bomb = w.finish().unwrap().into_inner();
    assert!(bomb.len() < 4 << 20, "{}", bomb.len());

    let t = TestDir::new();
    t.write("bomb.zip", &bomb);
    let start = std::time::Instant::now();
    let (o, f, skipped) = scan_json(&t, &[]);
    assert!(start.elapsed().as_secs() < 60);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // What came before the bomb is still reported.
    assert_eq!(paths_lines(&f), [("bomb.zip!/.env".to_string(), 3)]);
    let reasons: Vec<String> = skipped
        .iter()
        .map(|s| {
            format!(
                "{}: {}",
                s["path"].as_str().unwrap(),
                s["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].starts_with("bomb.zip!/zeros.bin: ") && reasons[0].contains("bomb"),
        "{reasons:?}"
    );
}

#[test]
fn member_count_limit() {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..10_001 {
        w.start_file(format!("f{i}.txt"), opts).unwrap();
    }
    let t = TestDir::new();
    t.write("many.zip", w.finish().unwrap().into_inner());
    let (o, f, skipped) = scan_json(&t, &[]);
    assert_eq!(o.status.code(), Some(0));
    assert!(f.is_empty());
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["path"], "many.zip");
    assert!(skipped[0]["reason"].as_str().unwrap().contains("10000"));
}

#[test]
fn corrupt_archives_are_skipped() {
    let t = TestDir::new();
    let mut z = zip_of(&[("a/.env", &env_file())]);
    z.truncate(z.len() / 2);
    t.write("half.zip", z);
    let mut g = tar_gz_of(&[("a/.env", &env_file())]);
    g.truncate(20);
    t.write("half.tgz", g);
    let (o, f, skipped) = scan_json(&t, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(f.is_empty());
    assert_eq!(skipped.len(), 2, "{skipped:?}");
}

#[test]
fn archives_in_git_history_and_on_stdin() {
    let t = TestDir::new();
    t.git(&["init", "-q", "-b", "main"]);
    let env = format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n");
    let zip = zip_of(&[("conf/.env", env.as_bytes())]);
    t.write("dist/app.zip", &zip);
    t.git(&["add", "."]);
    t.git(&["commit", "-qm", "ship a zip"]);
    // Deleted later: still in history.
    t.git(&["rm", "-q", "dist/app.zip"]);
    t.git(&["commit", "-qm", "remove it"]);
    let o = t
        .keyleak()
        .args(["git", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let f = findings(&o);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["path"], "dist/app.zip!/conf/.env");
    assert_eq!(f[0]["line"], 1);
    assert!(f[0]["commit"].is_string());

    keyleak()
        .args(["stdin", "--name", "app.zip", "-f", "jsonl"])
        .write_stdin(zip)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("\"path\":\"app.zip!/conf/.env\""));
}
