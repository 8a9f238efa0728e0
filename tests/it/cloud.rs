//! Cloud and identity rules, and the catalogue bugs found by the peers' examples: long JWTs,
//! Firebase SDK sample keys, low-entropy GitLab runner tokens.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::util::*;

/// `keyleak stdin -f jsonl` over `input`: the rule ids and severities found.
fn scan(input: &str) -> Vec<(String, String)> {
    let out = keyleak()
        .args(["stdin", "-f", "jsonl"])
        .write_stdin(input)
        .output()
        .expect("run");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("jsonl");
            (
                v["rule_id"].as_str().unwrap().to_string(),
                v["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A JWT of about `len` characters: RS256-shaped, with a valid JSON header and payload, and an
/// `exp` in 2100, so it still authenticates (`jwt-live`, the rule that fails a scan).
fn jwt(len: usize) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#);
    let groups: Vec<String> = (0..len / 12).map(|i| format!("\"grp{i}\"")).collect();
    let payload = URL_SAFE_NO_PAD.encode(
        format!(
            r#"{{"iss":"https://idp.test","sub":"u81","groups":[{}],"exp":4102444800}}"#,
            groups.join(",")
        )
        .as_bytes(),
    );
    let sig: Vec<u8> = (0..256u32)
        .map(|i| (i.wrapping_mul(151) ^ 0x5a) as u8)
        .collect();
    format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(sig))
}

#[test]
fn long_jwts_are_found_whole() {
    for len in [300, 600, 1_500, 5_000, 20_000] {
        let token = jwt(len);
        for input in [
            format!("id_token = \"{token}\"\n"),
            format!("Authorization: Bearer {token}"),
        ] {
            let found = scan(&input);
            assert_eq!(
                found,
                [("jwt-live".to_string(), "medium".to_string())],
                "JWT of {} chars",
                token.len()
            );
        }
        // The whole token is the secret: the snippet redacts all of it.
        let out = keyleak()
            .args(["stdin", "-f", "jsonl", "--show-secrets"])
            .write_stdin(format!("t={token}\n"))
            .output()
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap())
                .unwrap();
        assert_eq!(v["secret"].as_str().unwrap(), token);
    }
}

/// Google API keys: a bare key blocks; Firebase web config and the SDK's published sample keys
/// are reported at `low`, so they never fail a default scan.
#[test]
fn google_api_keys_block_except_firebase_web_config_and_sdk_samples() {
    let key = format!("AIza{}", "Sy9fQ2mWc7LbT4xKp8RvN3zH1dJg6EaYuUo");
    assert_eq!(
        scan(&format!("GEMINI_API_KEY={key}\n")),
        [("google-api-key".to_string(), "medium".to_string())]
    );
    let web = format!(
        "const firebaseConfig = {{\n  apiKey: \"{key}\",\n  authDomain: \"acme-7.firebaseapp.com\",\n}};\n"
    );
    assert_eq!(
        scan(&web),
        [("firebase-web-api-key".to_string(), "low".to_string())]
    );
    // A sample key from firebase-android-sdk (held as a digest in known_public.rs).
    let sample = format!("AIza{}", "SyDMAScliyLx7F0NPDEJi1QmyCgHIAODrlU");
    assert_eq!(
        scan(&format!("apiKey = \"{sample}\"\n")),
        [("google-api-key".to_string(), "low".to_string())]
    );
    let out = keyleak()
        .args(["stdin"])
        .write_stdin(format!("apiKey = \"{sample}\"\n{web}"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "low findings must not fail a default scan"
    );
}

#[test]
fn low_entropy_gitlab_runner_registration_tokens_do_not_block() {
    assert!(scan("registration-token: GR134894112312312312312312312\n").is_empty());
    assert!(scan("registration-token: GR1348941999999999999999999999\n").is_empty());
    assert_eq!(
        scan("registration-token: GR1348941iWRHqfema8eth1flI0p1\n"),
        [(
            "gitlab-runner-registration-token".to_string(),
            "high".to_string()
        )]
    );
}

/// A few cloud and identity credentials in the files they live in, through `dir`: each blocks
/// (exit 1) with its own rule; the same files with references instead of values are clean.
#[test]
fn cloud_credentials_in_their_files_block() {
    let t = TestDir::new();
    let cat = |a: &str, b: &str| format!("{a}{b}");
    let b64 = |n: usize| -> String {
        (0..n)
            .map(|i| b"Qm7xK2pZ9wR4tV8nL3cF6hJ1sD5gB0yE+/aT"[(i * 7 + i / 3) % 36] as char)
            .collect()
    };
    let files = [
        (
            "local.settings.json",
            format!(
                "{{\"Values\": {{\"AzureWebJobsStorage\": \"DefaultEndpointsProtocol=https;AccountName=acmefn;AccountKey={}==;EndpointSuffix=core.windows.net\"}}}}\n",
                b64(86)
            ),
            "azure-storage-account-key",
        ),
        (
            "wg0.conf",
            format!(
                "[Interface]\nAddress = 10.0.0.2/32\nPrivateKey = {}Y=\n",
                b64(42)
            ),
            "wireguard-private-key",
        ),
        (
            ".env",
            format!(
                "VAULT_TOKEN={}\n",
                cat(
                    "hvs",
                    ".CAESIJ7pQ2mWc7LbT4xKp8RvN3zH1dJg6EaYuUoQm7xK2pZ9wR4tV8nL3cF6hJ1sD5gB0yEGh4KHGh2cy5iVjJtSm5UeUZrWFhOZlFpb0xyRnA"
                )
            ),
            "vault-token",
        ),
        (
            "keys.txt",
            format!(
                "# public key: age1xyz\n{}\n",
                cat(
                    "AGE-SECRET-KEY-",
                    "1QZ3K7J0N9XRW2PV8GTFQ6LHC5D4MS0YEAU7P3QZKXJ9RWNT2V8FGLH6CDA"
                )
            ),
            "age-secret-key",
        ),
        (
            "deploy.sh",
            format!(
                "export DATABRICKS_TOKEN={}\n",
                cat("dapi", "3f9c2a7e1b8d4f6a0c5e9b2d7a1f3c8e")
            ),
            "databricks-token",
        ),
    ];
    for (name, body, rule) in &files {
        t.write(&format!("repo/{name}"), body);
        let out = t
            .keyleak()
            .args(["dir", "-f", "jsonl"])
            .arg(t.path().join("repo").join(name))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{name}: {text}");
        assert!(
            text.contains(&format!("\"rule_id\":\"{rule}\"")),
            "{name}: {text}"
        );
    }
    t.write(
        "clean/.env",
        "VAULT_TOKEN=${VAULT_TOKEN}\nDATABRICKS_TOKEN=$DATABRICKS_TOKEN\n",
    );
    t.write("clean/wg0.conf", "[Interface]\nPrivateKey = ${WG_KEY}\n");
    t.keyleak()
        .args(["dir"])
        .arg(t.path().join("clean"))
        .assert()
        .code(0);
}
