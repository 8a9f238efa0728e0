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

/// A JWT of about `len` characters: RS256-shaped, with a valid JSON header and payload.
fn jwt(len: usize) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#);
    let groups: Vec<String> = (0..len / 12).map(|i| format!("\"grp{i}\"")).collect();
    let payload = URL_SAFE_NO_PAD.encode(
        format!(
            r#"{{"iss":"https://idp.test","sub":"u81","groups":[{}],"exp":1918000000}}"#,
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
                [("jwt".to_string(), "low".to_string())],
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
