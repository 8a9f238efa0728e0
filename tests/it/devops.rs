//! The developer-platform, observability and payment rules on the files those credentials
//! live in: a CI config, registry and tool configs, an agent config, a payments `.env`. Real
//! tokens fail a default scan under the right rule and are redacted; the same files written
//! the way docs and templates write them (references, sandbox keys, look-alikes) pass.

use std::collections::BTreeSet;

use crate::util::*;

/// Tokens are assembled here, never written whole in the source, so the repository itself
/// never holds a push-protection-shaped credential.
fn tok(prefix: &str, body: &str) -> String {
    format!("{prefix}{body}")
}

/// A deterministic alphanumeric run of `n` characters (varied enough to pass entropy gates).
fn run(seed: u32, n: usize, alphabet: &[u8]) -> String {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(12_345);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            alphabet[x as usize % alphabet.len()] as char
        })
        .collect()
}

const HEX: &[u8] = b"0123456789abcdef";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn rule_ids(o: &std::process::Output) -> BTreeSet<String> {
    findings(o)
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect()
}

/// The tree of a project that leaked its CI, tooling and payment credentials.
fn leaky_tree(t: &TestDir) -> Vec<(String, &'static str)> {
    let mut planted = Vec::new();
    let mut plant = |secret: String, rule: &'static str| {
        planted.push((secret.clone(), rule));
        secret
    };
    let sonar = plant(tok("squ_", &run(1, 40, HEX)), "sonar-token");
    let docker = plant(tok("dckr_pat_", &run(2, 27, ALNUM)), "docker-hub-pat");
    let octopus = plant(tok("API-", &run(3, 26, UPPER)), "octopus-deploy-api-key");
    t.write(
        ".circleci/config.yml",
        format!(
            "version: 2.1\njobs:\n  build:\n    docker:\n      - image: cimg/base:stable\n        auth:\n          username: ci-bot\n          password: {docker}\n    steps:\n      - run: mvn sonar:sonar -Dsonar.token={sonar}\n      - run: octo push --apiKey \"{octopus}\" --server https://deploy.example.net\n"
        ),
    );
    let rubygems = plant(tok("rubygems_", &run(4, 48, HEX)), "rubygems-api-key");
    t.write(
        ".gem/credentials",
        format!("---\n:rubygems_api_key: {rubygems}\n"),
    );
    let packagist = plant(tok("packagist_ort_", &run(5, 68, HEX)), "packagist-token");
    t.write(
        "auth.json",
        format!(
            "{{\"http-basic\": {{\"repo.packagist.com\": {{\"username\": \"token\", \"password\": \"{packagist}\"}}}}}}\n"
        ),
    );
    let dd_api = plant(run(6, 32, HEX), "datadog-api-key");
    t.write(
        "datadog.yaml",
        format!("site: datadoghq.eu\napi_key: x\ndatadog:\n  api_key: \"{dd_api}\"\n"),
    );
    let glsa = plant(
        tok(
            "glsa_",
            &format!("{}_{}", run(7, 32, ALNUM), run(8, 8, HEX)),
        ),
        "grafana-service-account-token",
    );
    let sentry = plant(tok("sntryu_", &run(9, 64, HEX)), "sentry-user-token");
    t.write(
        "deploy/monitoring.env",
        format!("GRAFANA_TOKEN={glsa}\nSENTRY_AUTH_TOKEN={sentry}\n"),
    );
    let square = plant(tok("EAAA", &run(10, 60, ALNUM)), "square-access-token");
    let braintree = plant(
        tok(
            "access_token$production$",
            &format!(
                "{}${}",
                run(11, 16, b"abcdefghijklmnopqrstuvwxyz0123456789"),
                run(12, 32, HEX)
            ),
        ),
        "braintree-access-token",
    );
    let flw = plant(
        tok("FLWSECK-", &format!("{}-X", run(13, 32, HEX))),
        "flutterwave-secret-key",
    );
    t.write(
        "payments/.env",
        format!(
            "SQUARE_ACCESS_TOKEN={square}\nBT_ACCESS_TOKEN={braintree}\nFLW_SECRET_KEY={flw}\n"
        ),
    );
    planted
}

#[test]
fn leaked_devops_and_payment_credentials_fail_the_scan_redacted() {
    let t = TestDir::new();
    let planted = leaky_tree(&t);
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let found = rule_ids(&o);
    for (_, rule) in &planted {
        assert!(found.contains(*rule), "{rule} not found in {found:?}");
    }
    let out = stdout(&o);
    for (secret, rule) in &planted {
        assert!(
            !out.contains(secret.as_str()),
            "{rule}: secret printed whole"
        );
    }
    // With --show-secrets each finding carries exactly the planted value.
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json", "--show-secrets"])
        .output()
        .unwrap();
    let secrets: BTreeSet<String> = findings(&o)
        .iter()
        .map(|f| f["secret"].as_str().unwrap().to_string())
        .collect();
    for (secret, rule) in &planted {
        assert!(
            secrets.contains(secret),
            "{rule}: {secret} not reported whole"
        );
    }
}

#[test]
fn templates_references_and_sandbox_keys_pass_a_default_scan() {
    let t = TestDir::new();
    t.write(
        ".circleci/config.yml",
        "jobs:\n  build:\n    steps:\n      - run: mvn sonar:sonar -Dsonar.token=${SONAR_TOKEN}\n      - run: docker login -u ci -p $DOCKERHUB_TOKEN\n",
    );
    t.write(
        ".github/workflows/ci.yml",
        "env:\n  CODECOV_TOKEN: ${{ secrets.CODECOV_TOKEN }}\n  DD_API_KEY: ${{ secrets.DD_API_KEY }}\n  SNYK_TOKEN: ${{ secrets.SNYK_TOKEN }}\n",
    );
    t.write(
        "docs/setup.md",
        "Set `DATADOG_API_KEY=<your api key>` and `SENTRY_AUTH_TOKEN=sntryu_...`.\nOctopus keys look like API-XXXXXXXXXXXXXXXXXXXXXXXXXX.\n",
    );
    // A Plaid sandbox token is useless without the client secret: reported low, so it does not
    // fail the scan (test-mode secret keys do; see `test_mode_secret_keys_fail_a_default_scan`).
    let sandbox = tok(
        "access-sandbox-",
        &format!(
            "{}-{}-{}-{}-{}",
            run(20, 8, HEX),
            run(21, 4, HEX),
            run(22, 4, HEX),
            run(23, 4, HEX),
            run(24, 12, HEX)
        ),
    );
    t.write(
        "payments/.env.test",
        format!("PLAID_ACCESS_TOKEN={sandbox}\n"),
    );
    // A build checksum next to a provider's name is not a token.
    t.write(
        "build/versions.txt",
        format!(
            "circleci_build_sha = \"{}\"\nsonar.projectKey={}\n",
            run(26, 40, HEX),
            run(27, 40, HEX)
        ),
    );
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let found = rule_ids(&o);
    assert!(found.contains("plaid-sandbox-access-token"), "{found:?}");
    for f in findings(&o) {
        assert_eq!(f["severity"], "low", "{f}");
    }
}

#[test]
fn test_mode_secret_keys_fail_a_default_scan() {
    // A test-mode secret key still authenticates as the account (its test customers, webhooks,
    // settings): each is `medium`, so a default scan fails on it; Stripe's documentation key is
    // known public and does not.
    let t = TestDir::new();
    let flw_test = tok("FLWSECK_TEST-", &format!("{}-X", run(25, 32, HEX)));
    let stripe_test = tok("sk_test_", &run(28, 24, ALNUM));
    let shippo_test = tok("shippo_test_", &run(29, 40, HEX));
    t.write(
        "payments/.env.test",
        format!(
            "FLW_SECRET_KEY={flw_test}\nSTRIPE_SECRET_KEY={stripe_test}\nSHIPPO_KEY={shippo_test}\n"
        ),
    );
    t.write(
        "docs/stripe.md",
        "curl https://api.stripe.com/v1/charges -u sk_test_4eC39HqLyjWDarjtT1zdp7dc:\n\
         curl https://api.stripe.com/v1/customers -u sk_test_BQokikJOvBiI2HlWgH4olfQ2:\n\
         stripe.api_key = 'sk_test_26PHem9AhJZvU623DfE1x4sd'\n",
    );
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let by_rule: Vec<(String, String)> = findings(&o)
        .iter()
        .filter(|f| f["known_public"] != true && f["severity"] != "low")
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for id in [
        "flutterwave-test-key",
        "stripe-test-secret-key",
        "shippo-test-api-token",
    ] {
        assert!(
            by_rule.iter().any(|(r, s)| r == id && s == "medium"),
            "{id}: {by_rule:?}"
        );
    }
    assert_eq!(by_rule.len(), 3, "{by_rule:?}");
}
