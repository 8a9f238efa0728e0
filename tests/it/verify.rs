//! `--verify` against a loopback stand-in of every provider (`tests/standin/providers.py`),
//! which recomputes each signature from the credential it was given and answers with the
//! provider's own response shapes. No test here reaches the internet.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use keyleak::rules::RuleSet;
use keyleak::scan::validate::expand_example;
use keyleak::verify::{TEST_BASE_URL_ENV, providers};

use crate::util::*;

/// The stand-in server, stopped (by closing its stdin, then killing it) on drop.
struct StandIn {
    child: Child,
    url: String,
}

impl StandIn {
    fn start(creds: &[Value], extra: Value) -> StandIn {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = json!({ "creds": creds });
        if let (Some(c), Some(e)) = (cfg.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                c.insert(k.clone(), v.clone());
            }
        }
        let path = dir.keep().join("standin.json");
        std::fs::write(&path, cfg.to_string()).unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/standin/providers.py");
        let mut child = match Command::new("python3")
            .arg(script)
            .arg(&path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => panic!("python3 is needed for the verification stand-in: {e}"),
        };
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .strip_prefix("PORT ")
            .unwrap_or_else(|| {
                panic!("stand-in did not start (needs python3 with `cryptography`): {line:?}")
            })
            .trim()
            .to_string();
        StandIn {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    fn stats(&self) -> Value {
        let o = Command::new("python3")
            .args([
                "-c",
                "import sys,urllib.request;print(urllib.request.urlopen(sys.argv[1]+'/__stats').read().decode())",
                &self.url,
            ])
            .output()
            .unwrap();
        serde_json::from_slice(&o.stdout).unwrap()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One sample credential per verifier, learned by scanning the rules' own examples.
struct Sample {
    provider: &'static str,
    rule_id: String,
    parts: BTreeMap<String, String>,
}

impl Sample {
    fn cred(&self, behavior: &str) -> Value {
        let mut c = json!({ "provider": self.provider, "behavior": behavior });
        for (k, v) in &self.parts {
            c[k] = json!(v);
        }
        c
    }
}

/// Writes every example of each verifier's rule family into `t` and returns, per verifier, the
/// first finding carrying every part the verifier needs.
fn plant_samples(t: &TestDir) -> Vec<Sample> {
    let rules = RuleSet::builtin().unwrap();
    let mut n = 0;
    for p in providers() {
        let families: Vec<&str> = p
            .rules
            .iter()
            .map(|r| r.split('-').next().unwrap())
            .collect();
        for rule in rules.rules() {
            if !families.contains(&rule.id.split('-').next().unwrap()) {
                continue;
            }
            for ex in &rule.examples {
                n += 1;
                t.write(
                    &format!("ex/{}-{n}.txt", rule.id),
                    format!("{}\n", expand_example(ex)),
                );
            }
        }
    }
    // The rule examples' EC keys are not valid P-256 keys (nothing could sign with them), so
    // the Coinbase sample gets a real one.
    // The P-256 key whose scalar is 32 bytes of 7 (SEC1 PEM, JSON-escaped newlines).
    let pem = [
        "-----BEGIN EC PRIVATE KEY-----",
        "MHcCAQEEIAcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHoAoGCCqGSM49",
        "AwEHoUQDQgAEHhhTL9R1TALzBB2cdc6zO4P/2BrHzk/ogsyxyYvFiW6kbDEcTi/0",
        "DdlqNlPm5FRF0y3+SG7O11x6kMahiIHAow==",
        "-----END EC PRIVATE KEY-----",
        "",
    ]
    .join("\\n");
    t.write(
        "ex/aaa-coinbase-valid.json",
        format!(
            "{{\n  \"name\": \"organizations/5b0bd6a4-7c51-4f3e-9a0e-2f6c1d8e9b70/apiKeys/9e2c4a18-3d6f-4b7a-8c1e-0f5d2b6a7c93\",\n  \"privateKey\": \"{pem}\"\n}}\n"
        ),
    );
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json", "--show-secrets", "-q"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for p in providers() {
        let found = report["findings"].as_array().unwrap().iter().find_map(|f| {
            let rule_id = f["rule_id"].as_str()?;
            if !p.rules.contains(&rule_id) {
                return None;
            }
            let mut parts = BTreeMap::new();
            parts.insert("secret".to_string(), f["secret"].as_str()?.to_string());
            for part in f["parts"].as_array().into_iter().flatten() {
                let name = part["name"].as_str()?.to_string();
                parts
                    .entry(name)
                    .or_insert(part["value"].as_str()?.to_string());
            }
            p.needs
                .iter()
                .all(|n| parts.contains_key(*n))
                .then(|| Sample {
                    provider: p.name,
                    rule_id: rule_id.to_string(),
                    parts,
                })
        });
        match found {
            Some(s) => out.push(s),
            None => missing.push(p.name),
        }
    }
    assert!(
        missing.is_empty(),
        "no complete example credential for {missing:?}"
    );
    out
}

fn verify_run(t: &TestDir, s: &StandIn, args: &[&str]) -> std::process::Output {
    // JSON runs show secrets so that findings can be told apart by value (redacted OpenAI
    // keys all read `sk-p…`); the redaction test uses the other formats and JSON without it.
    let show: &[&str] = if args.contains(&"json") && !args.contains(&"-v") {
        &["--show-secrets"]
    } else {
        &[]
    };
    t.keyleak()
        .args(["dir", "."])
        .arg("--verify")
        .args(args)
        .args(show)
        .env(TEST_BASE_URL_ENV, &s.url)
        .output()
        .unwrap()
}

fn json_findings(o: &std::process::Output) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(o), stderr(o)));
    v["findings"].as_array().unwrap().clone()
}

/// The verification of the finding holding the sample's credential (every location of it has
/// the same one).
fn verification_of<'a>(findings: &'a [Value], sample: &Sample) -> &'a Value {
    findings
        .iter()
        .find(|f| {
            f["rule_id"] == sample.rule_id.as_str()
                && f["secret"] == sample.parts["secret"].as_str()
                && sample.parts.iter().all(|(name, value)| {
                    name == "secret"
                        || f["parts"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .any(|p| p["name"] == name.as_str() && p["value"] == value.as_str())
                })
        })
        .map(|f| &f["verification"])
        .unwrap_or_else(|| panic!("no verified finding for {}", sample.provider))
}

#[test]
fn every_verifier_signs_correctly_and_reads_live_answers() {
    let t = TestDir::new();
    let samples = plant_samples(&t);
    assert!(samples.len() >= 25, "{} verifiers", samples.len());
    let creds: Vec<Value> = samples.iter().map(|s| s.cred("live")).collect();
    let s = StandIn::start(&creds, json!({}));
    let o = verify_run(&t, &s, &["-f", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let findings = json_findings(&o);
    for sample in &samples {
        let v = verification_of(&findings, sample);
        assert_eq!(v["status"], "live", "{}: {v}", sample.provider);
    }
    let stats = s.stats();
    assert_eq!(stats["bad_signatures"], json!([]), "{stats}");
    // Each credential was asked about once, however many files hold it.
    for (i, sample) in samples.iter().enumerate() {
        assert_eq!(
            stats["by_cred"][i.to_string()],
            1,
            "{}: {stats}",
            sample.provider
        );
    }
    for ua in stats["user_agents"].as_array().unwrap() {
        assert!(
            ua.as_str().unwrap().starts_with("keyleak/"),
            "user agent {ua}"
        );
    }
    // What the exchanges report about their keys.
    let perms = |name: &str| {
        let sample = samples.iter().find(|s| s.provider == name).unwrap();
        verification_of(&findings, sample)["permissions"].clone()
    };
    assert_eq!(
        perms("binance"),
        json!({"read": true, "trade": true, "withdraw": true, "ip_restricted": false})
    );
    assert_eq!(
        perms("okx"),
        json!({"read": true, "trade": true, "withdraw": false, "ip_restricted": true})
    );
    assert_eq!(
        perms("bybit"),
        json!({"read": true, "trade": true, "withdraw": true, "ip_restricted": false})
    );
    assert_eq!(
        perms("kucoin"),
        json!({"read": true, "trade": true, "withdraw": true, "ip_restricted": true})
    );
    assert_eq!(
        perms("coinbase"),
        json!({"read": true, "trade": true, "withdraw": false, "ip_restricted": null})
    );
    assert_eq!(
        perms("bitfinex"),
        json!({"read": true, "trade": true, "withdraw": true, "ip_restricted": null})
    );
    assert_eq!(
        perms("gemini"),
        json!({"read": true, "trade": true, "withdraw": true, "ip_restricted": null})
    );
    assert_eq!(perms("bitget")["trade"], true);
    assert_eq!(perms("gate")["ip_restricted"], false);
    assert_eq!(perms("kraken")["read"], true);
    let of = |name: &str| {
        let sample = samples.iter().find(|s| s.provider == name).unwrap();
        verification_of(&findings, sample).clone()
    };
    assert_eq!(of("github")["account"], "octocat");
    assert_eq!(of("github")["scopes"], json!(["repo", "workflow"]));
    assert_eq!(
        of("aws")["account"],
        "arn:aws:iam::123456789012:user/ci-deployer"
    );
    assert_eq!(of("slack")["account"], "deploybot in Acme");
    assert_eq!(of("gitlab")["expires"], "2027-01-01");
    assert_eq!(of("telegram")["account"], "@acme_deploy_bot");
}

#[test]
fn a_wrong_secret_fails_the_stand_ins_signature_check() {
    let t = TestDir::new();
    let samples = plant_samples(&t);
    // The stand-in knows each key with a different secret than the one in the files, so
    // only a correctly computed signature over the file's secret could have passed before.
    let signing = [
        "binance", "gemini", "mexc", "okx", "bybit", "bitget", "kucoin", "kraken", "gate",
        "bitfinex", "aws",
    ];
    let creds: Vec<Value> = samples
        .iter()
        .filter(|s| signing.contains(&s.provider))
        .map(|s| {
            let mut c = s.cred("live");
            let secret = &s.parts["secret"];
            // Same length and alphabet, one character changed.
            let mut other: Vec<char> = secret.chars().collect();
            other[1] = if other[1] == 'A' { 'B' } else { 'A' };
            c["secret"] = json!(other.into_iter().collect::<String>());
            c
        })
        .collect();
    assert_eq!(creds.len(), signing.len());
    let s = StandIn::start(&creds, json!({}));
    let o = verify_run(&t, &s, &["-f", "json"]);
    let findings = json_findings(&o);
    for sample in samples.iter().filter(|s| signing.contains(&s.provider)) {
        let v = verification_of(&findings, sample);
        assert_eq!(v["status"], "revoked", "{}: {v}", sample.provider);
        assert!(
            v["reason"].as_str().unwrap().contains("signature"),
            "{}: {v}",
            sample.provider
        );
    }
    let stats = s.stats();
    assert_eq!(
        stats["bad_signatures"].as_array().unwrap().len(),
        signing.len(),
        "{stats}"
    );
}

#[test]
fn revoked_rate_limited_slow_and_malformed_answers() {
    let t = TestDir::new();
    let samples = plant_samples(&t);
    let behavior = |name: &str| match name {
        "github" | "kucoin" | "aws" => "revoked",
        "slack" | "bybit" => "ratelimit",
        "openai" => "ratelimit-long",
        "stripe" | "okx" => "malformed",
        "anthropic" | "telegram" => "slow",
        _ => "live",
    };
    let creds: Vec<Value> = samples
        .iter()
        .map(|s| s.cred(behavior(s.provider)))
        .collect();
    let s = StandIn::start(&creds, json!({"slow_seconds": 12}));
    let start = std::time::Instant::now();
    // 3 s leaves room for a loaded machine; the slow answers take 12 s.
    let o = verify_run(&t, &s, &["-f", "json", "--verify-timeout", "3"]);
    let elapsed = start.elapsed();
    let findings = json_findings(&o);
    for sample in &samples {
        let v = verification_of(&findings, sample);
        let (status, reason) = match behavior(sample.provider) {
            "revoked" => ("revoked", ""),
            "ratelimit" | "live" => ("live", ""),
            "ratelimit-long" => ("error", "rate limited"),
            "malformed" => ("error", ""),
            _ => ("error", "timed out"),
        };
        assert_eq!(v["status"], status, "{}: {v}", sample.provider);
        assert!(
            v["reason"].as_str().unwrap_or("").contains(reason),
            "{}: {v}",
            sample.provider
        );
    }
    let stats = s.stats();
    // One retry after the 429 with Retry-After: 1, none after Retry-After: 3600.
    let requests = |name: &str| {
        let i = samples.iter().position(|s| s.provider == name).unwrap();
        stats["by_cred"][i.to_string()].clone()
    };
    assert_eq!(requests("slack"), 2, "{stats}");
    assert_eq!(requests("bybit"), 2, "{stats}");
    assert_eq!(requests("openai"), 1, "{stats}");
    // Slow answers were abandoned after the 3 s timeout, not awaited for 12 s.
    assert!(elapsed.as_secs() < 12, "took {elapsed:?}");
    // A verification result never changes the scan's own exit code.
    assert_eq!(o.status.code(), Some(1));
}

/// Secrets appear in no output, summary or error of a verifying run (redaction holds for
/// provider answers and network errors, including a token that travels in the URL path).
#[test]
fn verification_output_and_errors_never_hold_a_secret() {
    let t = TestDir::new();
    let samples = plant_samples(&t);
    let behavior = |name: &str| match name {
        "telegram" | "github" => "slow",
        "slack" => "ratelimit-long",
        "stripe" => "revoked",
        _ => "live",
    };
    let creds: Vec<Value> = samples
        .iter()
        .map(|s| s.cred(behavior(s.provider)))
        .collect();
    let s = StandIn::start(&creds, json!({"slow_seconds": 3}));
    let secrets: Vec<String> = samples
        .iter()
        .flat_map(|s| s.parts.values().cloned())
        .filter(|v| v.len() >= 8)
        .collect();
    for format in ["text", "json", "sarif", "github", "html", "markdown"] {
        let o = verify_run(&t, &s, &["-f", format, "-v", "--verify-timeout", "1"]);
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(all.contains("live"), "{format}: {all}");
        for secret in &secrets {
            // Part values such as key names or account SIDs may legitimately be short ids;
            // every value is a credential part here, so none may appear.
            assert!(!all.contains(secret.as_str()), "{format} leaks {secret}");
        }
    }
}

#[test]
fn sarif_and_text_and_github_outputs_carry_the_verification() {
    let t = TestDir::new();
    let samples = plant_samples(&t);
    let creds: Vec<Value> = samples.iter().map(|s| s.cred("live")).collect();
    let s = StandIn::start(&creds, json!({}));
    let o = verify_run(&t, &s, &["-f", "sarif"]);
    let sarif: Value = serde_json::from_slice(&o.stdout).unwrap();
    let errors = crate::sarif::schema_errors(&crate::sarif::schema_validator(), &sarif);
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let binance = results
        .iter()
        .find(|r| r["properties"]["verification"]["provider"] == "binance")
        .expect("a binance result with a verification property");
    assert_eq!(binance["properties"]["verification"]["status"], "live");
    let msg = binance["message"]["text"].as_str().unwrap();
    assert!(
        msg.contains("provider check: live (binance; read, trade, WITHDRAW, any IP)"),
        "{msg}"
    );
    let o = verify_run(&t, &s, &["-f", "text", "--color", "never"]);
    assert!(
        stdout(&o).contains("verified     live (github; account octocat; scopes repo workflow)"),
        "{}",
        stdout(&o)
    );
    assert!(stderr(&o).contains("keyleak: verified"), "{}", stderr(&o));
    let o = verify_run(&t, &s, &["-f", "html"]);
    assert!(
        stdout(&o).contains("verified: live (gitlab; account user 3; scopes api read_repository; expires 2027-01-01)"),
        "{}",
        stdout(&o)
    );
    let o = verify_run(&t, &s, &["-f", "markdown"]);
    assert!(
        stdout(&o).contains("(verified: live (kucoin; account 165111215; scopes General Spot Transfer; read, trade, WITHDRAW, IP-restricted))"),
        "{}",
        stdout(&o)
    );
    let o = verify_run(&t, &s, &["-f", "github"]);
    assert!(
        stdout(&o).contains("[verified: live (aws; account arn%3Aaws")
            || stdout(&o).contains("[verified: live (aws; account arn:aws"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn binance_us_keys_are_asked_to_binance_us() {
    let t = TestDir::new();
    let samples = plant_samples(&t);
    let creds: Vec<Value> = samples
        .iter()
        .map(|s| {
            let mut c = s.cred("live");
            if s.provider == "binance" {
                c["us"] = json!(true);
            }
            c
        })
        .collect();
    let s = StandIn::start(&creds, json!({}));
    let o = verify_run(&t, &s, &["-f", "json"]);
    let findings = json_findings(&o);
    let sample = samples.iter().find(|s| s.provider == "binance").unwrap();
    let v = verification_of(&findings, sample);
    assert_eq!(v["status"], "live", "{v}");
    assert_eq!(v["scopes"], json!(["binance.us"]), "{v}");
    assert_eq!(
        v["permissions"],
        json!({"read": true, "trade": true, "withdraw": false, "ip_restricted": null})
    );
    let stats = s.stats();
    let i = samples
        .iter()
        .position(|s| s.provider == "binance")
        .unwrap();
    // Refused by binance.com as unknown, then accepted by binance.us.
    assert_eq!(stats["by_cred"][i.to_string()], 1, "{stats}");
    assert!(
        stats["paths"]
            .as_array()
            .unwrap()
            .contains(&json!("GET api.binance.us/api/v3/account"))
    );
    assert_eq!(stats["bad_signatures"], json!([]), "{stats}");
}

#[test]
fn only_live_and_fail_on_live() {
    let t = TestDir::new();
    let samples = plant_samples(&t);
    let all_revoked: Vec<Value> = samples.iter().map(|s| s.cred("revoked")).collect();
    let s = StandIn::start(&all_revoked, json!({}));
    let o = verify_run(&t, &s, &["-f", "json", "--fail-on-live"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = verify_run(&t, &s, &["-f", "json", "--only-live"]);
    assert_eq!(json_findings(&o), Vec::<Value>::new());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    drop(s);
    let one_live: Vec<Value> = samples
        .iter()
        .map(|s| {
            s.cred(if s.provider == "github" {
                "live"
            } else {
                "revoked"
            })
        })
        .collect();
    let s = StandIn::start(&one_live, json!({}));
    let o = verify_run(&t, &s, &["-f", "json", "--only-live", "--fail-on-live"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let findings = json_findings(&o);
    assert!(!findings.is_empty());
    for f in &findings {
        assert_eq!(f["verification"]["status"], "live", "{f}");
        assert_eq!(f["verification"]["provider"], "github", "{f}");
    }
}

/// Flags that only make sense with --verify are refused without it; a non-loopback test URL
/// is refused; --staged refuses --verify unless the config allows it.
#[test]
fn refusals() {
    let t = TestDir::new();
    t.write("a.txt", "nothing\n");
    for flag in ["--only-live", "--fail-on-live"] {
        t.keyleak().args(["dir", ".", flag]).assert().code(2);
    }
    let o = t
        .keyleak()
        .args(["dir", ".", "--verify"])
        .env(TEST_BASE_URL_ENV, "http://198.51.100.7:80")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("loopback"), "{}", stderr(&o));

    let repo = TestDir::new();
    repo.git(&["init", "-q"]);
    repo.write("x.txt", "hello\n");
    repo.git(&["add", "x.txt"]);
    let o = repo
        .keyleak()
        .args(["git", ".", "--staged", "--verify"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("allow_staged"), "{}", stderr(&o));
    repo.write("keyleak.toml", "[verify]\nallow_staged = true\n");
    let s = StandIn::start(&[], json!({}));
    let o = repo
        .keyleak()
        .args(["git", ".", "--staged", "--verify"])
        .env(TEST_BASE_URL_ENV, &s.url)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// `n` pseudo-random alphanumerics (a distinct, high-entropy token body per `seed`).
fn alnum(seed: u64, n: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            A[(x % A.len() as u64) as usize] as char
        })
        .collect()
}

/// 1,000 findings of 100 distinct tokens: 100 requests, never more than the caps in flight,
/// done within the time the caps allow (the stand-in adds 100 ms of latency per request).
#[test]
fn dedup_and_concurrency_caps() {
    let t = TestDir::new();
    let mut creds = Vec::new();
    for i in 0..50 {
        let gh = expand_example(&format!("{{{{crc32:ghp_{}}}}}", alnum(i, 30)));
        let slack = format!(
            "xoxb-{}-{}-{}",
            7_041_000_000u64 + i * 7_919,
            8_052_000_000u64 + i * 6_143,
            alnum(i + 1000, 24)
        );
        creds.push(json!({"provider": "github", "secret": gh, "behavior": "live"}));
        creds.push(json!({"provider": "slack", "secret": slack, "behavior": "live"}));
        for copy in 0..10 {
            t.write(
                &format!("gh/{i}/{copy}.env"),
                format!("GITHUB_TOKEN={gh}\n"),
            );
            t.write(
                &format!("sl/{i}/{copy}.env"),
                format!("SLACK_BOT_TOKEN={slack}\n"),
            );
        }
    }
    let s = StandIn::start(&creds, json!({"delay": 0.1}));
    let start = std::time::Instant::now();
    let o = verify_run(&t, &s, &["-f", "json", "--verify-concurrency", "3"]);
    let elapsed = start.elapsed();
    let findings = json_findings(&o);
    assert_eq!(findings.len(), 1000, "{}", stderr(&o));
    assert!(
        findings
            .iter()
            .all(|f| f["verification"]["status"] == "live"),
        "{}",
        stderr(&o)
    );
    let stats = s.stats();
    assert_eq!(stats["requests"], 100, "{stats}");
    assert_eq!(stats["max_in_flight"], 3, "{stats}");
    assert_eq!(stats["max_in_flight_by_provider"]["github"], 2, "{stats}");
    assert_eq!(stats["max_in_flight_by_provider"]["slack"], 2, "{stats}");
    // 100 requests × 0.1 s over 3 lanes ≈ 3.4 s; serial would be 10 s.
    assert!(elapsed.as_secs_f64() < 9.0, "took {elapsed:?}");
    assert!(
        stderr(&o).contains("verified 100 distinct credentials: 1000 findings live"),
        "{}",
        stderr(&o)
    );
}

/// Without --verify nothing touches the network, even with verifiable secrets in the tree and
/// the test URL set; with it, the trace does show the connection (so the check can fail).
#[cfg(target_os = "linux")]
#[test]
fn no_socket_without_verify() {
    let t = TestDir::new();
    let samples = plant_samples(&t);
    let creds: Vec<Value> = samples.iter().map(|s| s.cred("live")).collect();
    let s = StandIn::start(&creds, json!({}));
    let bin = assert_cmd::cargo::cargo_bin("keyleak");
    let trace_dir = tempfile::tempdir().unwrap();
    let trace = trace_dir.path().join("strace.out");
    let run = |extra: &[&str]| {
        std::process::Command::new("strace")
            .args([
                "-f",
                "-qq",
                "-e",
                "trace=%network",
                "-e",
                "signal=none",
                "-o",
            ])
            .arg(&trace)
            .arg(&bin)
            .args(["dir", ".", "-f", "json", "-q"])
            .args(extra)
            .env(TEST_BASE_URL_ENV, &s.url)
            .current_dir(t.path())
            .output()
    };
    match run(&[]) {
        Ok(o) if o.status.code() == Some(1) => {
            let calls = std::fs::read_to_string(&trace).unwrap();
            assert!(calls.trim().is_empty(), "network system calls:\n{calls}");
            let o = run(&["--verify"]).unwrap();
            assert_eq!(o.status.code(), Some(1));
            let calls = std::fs::read_to_string(&trace).unwrap();
            assert!(calls.contains("connect("), "{calls}");
        }
        other => {
            assert!(
                std::env::var_os("CI").is_none(),
                "strace is needed in CI: {other:?}"
            );
            eprintln!("notice: strace unavailable here: {other:?}");
        }
    }
}

/// `stdin` and `git` (history) verify as `dir` does.
#[test]
fn stdin_and_git_history_verify_too() {
    let gh = expand_example(&format!("{{{{crc32:ghp_{}}}}}", alnum(77, 30)));
    let s = StandIn::start(
        &[json!({"provider": "github", "secret": gh, "behavior": "live"})],
        json!({}),
    );
    let o = keyleak()
        .args(["stdin", "-f", "json", "--verify"])
        .env(TEST_BASE_URL_ENV, &s.url)
        .write_stdin(format!("GITHUB_TOKEN={gh}\n"))
        .output()
        .unwrap();
    let findings = json_findings(&o);
    assert_eq!(findings.len(), 1, "{}", stderr(&o));
    assert_eq!(findings[0]["verification"]["status"], "live");
    let repo = TestDir::new();
    repo.git(&["init", "-q"]);
    repo.write("ci.env", format!("GITHUB_TOKEN={gh}\n"));
    repo.git(&["add", "ci.env"]);
    repo.git(&["commit", "-qm", "ci"]);
    let o = repo
        .keyleak()
        .args(["git", ".", "-f", "json", "--verify"])
        .env(TEST_BASE_URL_ENV, &s.url)
        .output()
        .unwrap();
    let findings = json_findings(&o);
    assert_eq!(findings.len(), 1, "{}", stderr(&o));
    assert_eq!(findings[0]["verification"]["account"], "octocat");
    assert_eq!(s.stats()["requests"], 2);
}
