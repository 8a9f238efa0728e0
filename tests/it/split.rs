//! Large files matched by several threads: a file past the split size is reported exactly as a
//! scan on one thread reports it (byte for byte), with secrets placed across the seams between
//! the pieces the work is divided into, multi-line secrets and grouped credentials spanning
//! them, and a flood past the per-file cap.

use crate::util::*;
use keyleak::scan::validate::expand_example;
use keyleak::scan::{SPLIT_SIZE, piece_starts};

/// Threads of the split run (more than the machine has is fine: the pieces stay the same).
const THREADS: usize = 4;

/// Lines of minified-looking code full of keywords (`secret`, `token`, `binance`, `aws`,
/// `private key`) and no secret.
fn filler(len: usize) -> Vec<u8> {
    let lines = [
        "t.binance.fetch({apiKey:o.apiKey,secret:o.secret,token:n.token});\n",
        "var aws_region=e.region||\"us-east-1\",secretName=r.secretName;\n",
        "if(!this.privateKey)throw new AuthError(\"private key missing\");\n",
        "n.headers[\"X-MBX-APIKEY\"]=this.apiKey;return this.sign(n,secret);\n",
    ];
    let mut out = Vec::with_capacity(len + 100);
    let mut k = 0;
    while out.len() < len {
        out.extend_from_slice(lines[k % lines.len()].as_bytes());
        k += 1;
    }
    out.truncate(len);
    out
}

/// A deterministic stream of characters from `alphabet`, different for every `seed`.
fn chars(seed: u64, n: usize, alphabet: &[u8]) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            alphabet[(x % alphabet.len() as u64) as usize] as char
        })
        .collect()
}

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A made-up AWS access key id (the format, not a real key).
fn aws_key(seed: u64) -> String {
    format!("AKIA{}", chars(seed, 16, BASE32))
}

/// A file under construction: filler, with secrets written over it at chosen offsets.
struct Canvas {
    bytes: Vec<u8>,
    /// (rule id, byte offset) of each finding placed.
    expected: Vec<(String, usize)>,
}

impl Canvas {
    fn new(len: usize) -> Canvas {
        Canvas {
            bytes: filler(len),
            expected: Vec::new(),
        }
    }

    /// Writes `text` (its own lines: it starts and ends with a newline) so that the byte
    /// `anchor` bytes into it lands on offset `at`.
    fn put(&mut self, at: usize, anchor: usize, text: &str) -> usize {
        assert!(text.starts_with('\n') && text.ends_with('\n'));
        let start = at - anchor;
        self.bytes[start..start + text.len()].copy_from_slice(text.as_bytes());
        start
    }

    fn expect(&mut self, rule: &str, offset: usize) {
        self.expected.push((rule.to_string(), offset));
    }

    /// (line, column) of each of `offsets` (ascending), both from 1, in one pass.
    fn positions(&self, offsets: &[usize]) -> Vec<(u64, u64)> {
        let (mut line, mut line_start, mut at) = (1, 0, 0);
        offsets
            .iter()
            .map(|&o| {
                for (i, &b) in self.bytes[at..o].iter().enumerate() {
                    if b == b'\n' {
                        line += 1;
                        line_start = at + i + 1;
                    }
                }
                at = o;
                (line, (o - line_start + 1) as u64)
            })
            .collect()
    }

    /// (rule id, line, column) of the findings placed, sorted.
    fn expected(&self) -> Vec<(String, u64, u64)> {
        let mut e = self.expected.clone();
        e.sort_by_key(|x| x.1);
        let offsets: Vec<usize> = e.iter().map(|x| x.1).collect();
        let mut v: Vec<_> = e
            .into_iter()
            .zip(self.positions(&offsets))
            .map(|((rule, _), (line, col))| (rule, line, col))
            .collect();
        v.sort();
        v
    }
}

/// The seams (piece starts after the first) of a file of `len` bytes.
fn seams(len: usize) -> Vec<usize> {
    piece_starts(len, THREADS)[1..].to_vec()
}

/// Runs `keyleak dir . -f json` on `threads` threads, returning stdout (whole) and findings.
fn scan(t: &TestDir, threads: usize) -> (Vec<u8>, Vec<serde_json::Value>) {
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json", "--threads", &threads.to_string()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let f = findings(&o);
    (o.stdout, f)
}

#[test]
fn secrets_across_the_seams_of_a_split_file_are_found_once() {
    let len = 3 * SPLIT_SIZE + 12_345;
    let seams = seams(len);
    assert!(seams.len() >= 8, "{seams:?}");
    let mut c = Canvas::new(len);

    // 1. A keyword cut by a seam: `AKIA` starts two bytes before it.
    let s = seams[0];
    let start = c.put(s, 8, &format!("\nid = {}\n", aws_key(1)));
    c.expect("aws-access-key-id", start + 6);

    // 2. A keyword ending exactly at a seam, and one starting exactly at the next.
    let s = seams[1];
    let start = c.put(s, 10, &format!("\nkey: {}\n", aws_key(2)));
    c.expect("aws-access-key-id", start + 6);
    let s = seams[2];
    let start = c.put(s, 6, &format!("\nkey: {}\n", aws_key(3)));
    c.expect("aws-access-key-id", start + 6);

    // 3. An AWS key id and its secret a line apart, the seam inside the secret's label: one
    //    finding with both parts.
    let s = seams[3];
    let secret = chars(4, 40, ALNUM);
    let text = format!(
        "\naws_access_key_id = {}\naws_secret_access_key = {secret}\n",
        aws_key(4)
    );
    let label = text.find("aws_secret").unwrap();
    let start = c.put(s, label + 8, &text);
    c.expect("aws-secret-access-key", start + label + 24);

    // 4. A PEM block with a seam in its BEGIN line's keyword, and one with a seam in its body.
    let body = (0..4)
        .map(|k| chars(50 + k, 64, ALNUM))
        .collect::<Vec<_>>()
        .join("\n");
    let pem = format!("\n-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n");
    let start = c.put(seams[4], 20, &pem);
    c.expect("pem-private-key", start + 1);
    let start = c.put(seams[5], 150, &pem.replace("RSA ", "EC "));
    c.expect("pem-private-key", start + 1);

    // 5. A BIP39 phrase (checksum-valid, assembled here) with a seam between its words.
    let phrase = expand_example("{{bip39:9e885d952ad362caeb4efe34a8e91bd2}}");
    let text = format!("\nWALLET_MNEMONIC=\"{phrase}\"\n");
    let start = c.put(seams[6], 40, &text);
    c.expect("bip39-mnemonic", start + 18);

    // 6. An exchange's key and secret grouped across a seam that cuts the secret's value.
    let key = chars(60, 64, ALNUM);
    let secret = chars(61, 64, ALNUM);
    let text = format!(
        "\n\"exchange\": {{\n    \"name\": \"binance\",\n    \"key\": \"{key}\",\n    \"secret\": \"{secret}\",\n}}\n"
    );
    let value = text.find(&secret).unwrap();
    let start = c.put(seams[7], value + 30, &text);
    c.expect("binance-api-secret", start + value);

    let t = TestDir::new();
    t.write("bundle.min.js", &c.bytes);
    let (one, found) = scan(&t, 1);
    let (split, _) = scan(&t, THREADS);
    assert!(
        one == split,
        "the split scan differs from the one-thread scan:\n{}\n---\n{}",
        String::from_utf8_lossy(&one),
        String::from_utf8_lossy(&split)
    );
    let mut got: Vec<(String, u64, u64)> = found
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, c.expected());
    let parts = |rule: &str| -> Vec<String> {
        let f = found.iter().find(|f| f["rule_id"] == rule).unwrap();
        f["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(parts("aws-secret-access-key"), ["key", "secret"]);
    assert_eq!(parts("binance-api-secret"), ["key", "secret"]);
}

#[test]
fn a_flood_in_a_split_file_is_capped_as_in_one_pass() {
    // 1,500 distinct key ids spread over every piece: past the matcher's per-rule bound and
    // the per-file cap, whose cuts must fall where a one-thread scan puts them.
    let len = 2 * SPLIT_SIZE + 777;
    assert!(seams(len).len() >= 7, "{:?}", seams(len));
    let mut c = Canvas::new(len);
    let n = 1_500;
    let step = (len - 100) / n;
    let mut keys = Vec::new();
    for k in 0..n {
        let start = c.put(
            50 + k * step,
            0,
            &format!("\n{}\n", aws_key(1_000 + k as u64)),
        );
        keys.push(start + 1);
    }
    let lines: Vec<u64> = c.positions(&keys).into_iter().map(|p| p.0).collect();
    let t = TestDir::new();
    t.write("keys.min.js", &c.bytes);
    let (one, found) = scan(&t, 1);
    let (split, _) = scan(&t, THREADS);
    assert!(
        one == split,
        "the split scan differs from the one-thread scan"
    );
    assert!(found.iter().all(|f| f["rule_id"] == "aws-access-key-id"));
    // The first thousand, each once: the matcher keeps the first matches of a rule and
    // counts the others.
    let got: Vec<u64> = found.iter().map(|f| f["line"].as_u64().unwrap()).collect();
    assert_eq!(got, lines[..1_000]);
    let v: serde_json::Value = serde_json::from_slice(&split).unwrap();
    let notes = v["notes"].to_string();
    assert!(notes.contains("up to 500 more"), "{notes}");
}
