//! `keyleak rules …`: filters, the generated README catalogue, rule-file syntax (fragments,
//! verbose regexes, checked parts, case-sensitive keywords, provider).

use crate::util::*;

const START: &str = "<!-- catalogue:start -->\n";
const END: &str = "<!-- catalogue:end -->";

fn stdout(args: &[&str]) -> String {
    let out = keyleak().args(args).output().expect("run");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn readme_catalogue() {
    let generated = stdout(&["rules", "list", "--format", "markdown"]);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let a = readme
        .find(START)
        .expect("README has the catalogue start marker")
        + START.len();
    let b = readme
        .find(END)
        .expect("README has the catalogue end marker");
    if readme[a..b] == generated {
        return;
    }
    if std::env::var_os("KEYLEAK_UPDATE_README").is_some() {
        let updated = format!("{}{generated}{}", &readme[..a], &readme[b..]);
        std::fs::write(&path, updated).expect("write README.md");
        return;
    }
    panic!(
        "README.md's rule catalogue is out of date; regenerate it with:\n  \
         KEYLEAK_UPDATE_README=1 cargo test --test it rules::readme_catalogue"
    );
}

#[test]
fn catalogue_has_one_line_per_provider() {
    let md = stdout(&["rules", "list", "--format", "markdown"]);
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| provider"))
        .collect();
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&["rules", "list", "--format", "json"])).unwrap();
    let rules = json.as_array().unwrap();
    let mut providers: Vec<String> = rules
        .iter()
        .map(|r| r["provider"].as_str().unwrap().to_ascii_lowercase())
        .collect();
    providers.sort();
    providers.dedup();
    assert_eq!(rows.len(), providers.len());
    let total: usize = rows
        .iter()
        .map(|r| {
            r.split(" | ")
                .nth(1)
                .unwrap()
                .trim()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    assert_eq!(total, rules.len());
    assert!(rows.iter().any(|r| r.starts_with("| AWS | ")), "{md}");
}

#[test]
fn list_filters_by_provider_and_tag() {
    let aws = stdout(&["rules", "list", "--provider", "aws"]);
    assert!(aws.contains("aws-access-key-id"), "{aws}");
    assert!(!aws.contains("github-pat"), "{aws}");
    let json: serde_json::Value = serde_json::from_str(&stdout(&[
        "rules", "list", "--format", "json", "--tag", "jwt",
    ]))
    .unwrap();
    let ids: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"jwt"), "{ids:?}");
    assert!(
        json.as_array().unwrap().iter().all(|r| r["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "jwt"))
    );
    let none = stdout(&["rules", "list", "--provider", "no-such-provider"]);
    assert!(none.ends_with("0 rules\n"), "{none}");
}

const CUSTOM: &str = r#"
provider = "Acme Cloud"

[fragments]
acme_body = '''[A-Za-z0-9]{32}'''

[[rule]]
id = "acme-verbose-token"
name = "Acme token"
keywords = ["ACME_"]
keywords_case_sensitive = true
regex = '''(?x)
    \b (?P<secret> (?i:ACME_) {{acme_body}} )   # the keyword gate, not the regex, is case-sensitive
    (?: [^A-Za-z0-9] | $ )
'''
severity = "high"
confidence = "high"
remediation = "Revoke it at https://acme.example/tokens."
examples = ["t = ACME_Zq3nP8sLk2Vx7RbT4mWc9YfH1dJg6NaE", "x: 'ACME_p4Rt8ZkQ2wXn7LbV3cMs9HdF1gJy6TeA'"]
negative_examples = ["t = acme_Zq3nP8sLk2Vx7RbT4mWc9YfH1dJg6NaE", "t = ACME_short"]

[[rule]]
id = "acme-secret"
name = "Acme secret"
provider = "Acme Identity"
keywords = ["acme_secret"]
regex = '''(?i:acme_secret){{assign}}(?P<secret>[a-f0-9]{40})\b'''
severity = "high"
confidence = "medium"
examples = ["acme_secret = 'd41d8cd98f00b204e9800998ecf8427e3a5b9c1f'", "ACME_SECRET: d41d8cd98f00b204e9800998ecf8427e3a5b9c1f"]
negative_examples = ["acme_secret = ${ACME}", "acme_secret = d41d8cd98f00"]
"#;

#[test]
fn rule_files_take_fragments_verbose_regexes_and_case_sensitive_keywords() {
    let t = TestDir::new();
    let f = t.write("acme.toml", CUSTOM);
    let out = t
        .keyleak()
        .args(["rules", "test"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Through a scan: the verbose regex finds the token; the lower-case spelling matches the
    // regex but not the case-sensitive keyword, so it is not reported.
    t.write(
        "keyleak.toml",
        CUSTOM
            .replace("provider = \"Acme Cloud\"\n", "")
            .replace("[fragments]\nacme_body = '''[A-Za-z0-9]{32}'''\n", "")
            .replace("{{acme_body}}", "[A-Za-z0-9]{32}"),
    );
    t.write(
        "src/a.txt",
        "token = ACME_Zq3nP8sLk2Vx7RbT4mWc9YfH1dJg6NaE\n",
    );
    t.write(
        "src/b.txt",
        "token = acme_Rq3nP8sLk2Vx7RbT4mWc9YfH1dJg6NaE\n",
    );
    let out = t
        .keyleak()
        .args(["dir", "src", "-c", "keyleak.toml", "-f", "jsonl"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("acme-verbose-token").count(), 1, "{text}");
    assert!(text.contains("a.txt") && !text.contains("b.txt"), "{text}");
}

#[test]
fn bad_part_and_unknown_fragment_are_load_errors_with_positions() {
    let t = TestDir::new();
    let bad_part = t.write(
        "p.toml",
        CUSTOM.replace("severity = \"high\"\nconfidence = \"medium\"", "severity = \"high\"\nconfidence = \"medium\"\ncredential = \"acme\"\npart = \"sekret\""),
    );
    let out = t
        .keyleak()
        .args(["rules", "test"])
        .arg(&bad_part)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("p.toml:") && err.contains("unknown part `sekret`"),
        "{err}"
    );
    let bad_frag = t.write("f.toml", CUSTOM.replace("{{assign}}", "{{asign}}"));
    let out = t
        .keyleak()
        .args(["rules", "test"])
        .arg(&bad_frag)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("f.toml:") && err.contains("unknown fragment `{{asign}}`"),
        "{err}"
    );
}
