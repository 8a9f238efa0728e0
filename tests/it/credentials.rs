//! Credentials in generic structures end to end: connection URLs with percent-encoded or raw `@`
//! in the password, tool credential files, keys split across string concatenation and wrapped in
//! base64, and the placeholders that must stay quiet.

use crate::util::*;

fn scan(files: &[(&str, &str)]) -> (Option<i32>, Vec<serde_json::Value>) {
    let t = TestDir::new();
    for (name, text) in files {
        t.write(name, text);
    }
    let o = t
        .keyleak()
        .args(["dir", ".", "-f", "json", "--show-secrets"])
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(2), "{}", stderr(&o));
    (o.status.code(), findings(&o))
}

fn secrets_of<'a>(f: &'a [serde_json::Value], rule: &str) -> Vec<&'a str> {
    f.iter()
        .filter(|x| x["rule_id"] == rule)
        .map(|x| x["secret"].as_str().unwrap())
        .collect()
}

#[test]
fn percent_encoded_and_raw_at_signs_stay_inside_the_password() {
    let text = "\
MONGO=mongodb://ops:Wq7pL2%40vR9xZ@%2Ftmp%2Fmongodb-27017.sock
PG=postgresql://app:Tn4%40kQ8%2Fz@db.prod.internal:5432/orders
LEGACY=mongodb+srv://ingest:k8Rt@ve2041!@ingest-prod.x1y2z.mongodb.net/events
";
    let (code, f) = scan(&[("settings.env", text)]);
    assert_eq!(code, Some(1));
    // One finding per line: the percent-decoded layer must not add a copy cut at the decoded `@`.
    assert_eq!(
        secrets_of(&f, "database-connection-string"),
        ["Wq7pL2%40vR9xZ", "Tn4%40kQ8%2Fz", "k8Rt@ve2041!"],
        "{f:#?}"
    );
    assert_eq!(f.len(), 3, "{f:#?}");
}

#[test]
fn tool_credential_files() {
    let (code, f) = scan(&[
        (
            ".netrc",
            "machine api.wandb.ai\n  login ci\n  password 7cc938e45e63e9014f88f811be240ba0395c02dd\n",
        ),
        (
            ".pgpass",
            "db.internal:5432:orders:orders_rw:Xv8kQ2mN7pL4\n",
        ),
        (
            ".git-credentials",
            "https://release-bot:gk7Pq2xV9mLw3@git.corp.example.net\n",
        ),
        (
            ".pypirc",
            "[pypi]\nusername = release-bot\npassword = Tq8vL2xZ9mKw\n",
        ),
    ]);
    assert_eq!(code, Some(1));
    let mut got: Vec<(&str, &str)> = f
        .iter()
        .map(|x| (x["path"].as_str().unwrap(), x["rule_id"].as_str().unwrap()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (".git-credentials", "http-basic-auth-url"),
            (".netrc", "netrc-password"),
            (".pgpass", "pgpass-password"),
            (".pypirc", "pypirc-password"),
        ],
        "{f:#?}"
    );
}

#[test]
fn placeholders_in_credential_shapes_are_quiet() {
    let (code, f) = scan(&[
        (
            "README.md",
            "curl -u \"${USER}:${PASSWORD}\" https://api.example.com\n\
             git clone https://user:password@github.com/org/repo.git\n\
             Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\n\
             Server=myServerAddress;Database=db;User Id=myUsername;Password=myPassword;\n\
             hostname:5432:database:username:password\n",
        ),
        (".npmrc", "//registry.npmjs.org/:_auth=${NPM_AUTH}\n"),
    ]);
    assert_eq!(code, Some(0), "{f:#?}");
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn private_key_split_across_string_concatenation() {
    let body = [
        "MHcCAQEEIF3wq8Xk2VbN7mR4tLp9ZcY1sJ6hQ0dGaE5uWfTyKoIvoAoGCCqGSM49",
        "AwEHoUQDQgAE7nXr2Lq9Pk4sVw1YzB8cT3mH6jF0dGaE5uWfTyKoIvRb2Lq9Pk4s",
        "Vw1YzB8cT3mH6jF0dGaE5uWfTyKoIvRb2Lq9Pk4sVw1YzB8cT3mH6jF0dQ==",
    ];
    let mut js = String::from("const key = \"-----BEGIN EC PRIVATE KEY-----\\n\" +\n");
    for line in body {
        js.push_str(&format!("  \"{line}\\n\" +\n"));
    }
    js.push_str("  \"-----END EC PRIVATE KEY-----\";\n");
    let (code, f) = scan(&[("signer.js", &js)]);
    assert_eq!(code, Some(1));
    assert_eq!(
        f.iter()
            .map(|x| x["rule_id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["pem-private-key-concatenated"],
        "{f:#?}"
    );
    assert_eq!(
        (f[0]["line"].as_i64(), f[0]["end_line"].as_i64()),
        (Some(1), Some(5))
    );
}

/// `keyleak git .` in `t` (it must fail): the paths of its `password-literal-setting` findings.
fn password_paths_in_history(t: &TestDir) -> Vec<String> {
    let o = t
        .keyleak()
        .args(["git", ".", "-f", "json", "--show-secrets"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    findings(&o)
        .iter()
        .filter(|x| x["rule_id"] == "password-literal-setting")
        .map(|x| x["path"].as_str().unwrap().to_string())
        .collect()
}

/// A weak password in a settings file fails the scan; the same line in a README, a docs page,
/// an example config or a test directory is a sample and stays quiet (the rule's `skip_paths`),
/// also when it comes from git history or an archive-free nested path.
#[test]
fn password_literals_in_settings_but_not_in_docs_examples_or_tests() {
    let line = "smtp_password: \"Kest9!rel\"\n";
    let (code, f) = scan(&[
        ("deploy/mail.yml", line),
        ("config/.env", "DB_PASS=ferr0us!gate\n"),
        ("README.md", line),
        ("docs/site/search_index.json", line),
        ("config/app.example.yml", line),
        ("tests/fixtures.yml", line),
        ("docs/mail.yml", line),
    ]);
    assert_eq!(code, Some(1));
    let mut got: Vec<(&str, &str)> = f
        .iter()
        .filter(|x| {
            x["rule_id"]
                .as_str()
                .unwrap()
                .starts_with("password-literal-setting")
        })
        .map(|x| (x["path"].as_str().unwrap(), x["secret"].as_str().unwrap()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("config/.env", "ferr0us!gate"),
            ("deploy/mail.yml", "Kest9!rel")
        ],
        "{f:#?}"
    );
    // A reference or a hex address under the same label is not a password.
    let (code, f) = scan(&[(
        "settings.yml",
        "password: \"$DB_PASS1\"\n  \"PASS\": \"0x5b1e2a9c4d7f08e3b6a1c92d5e4f7a0b3c6d9e21\",\n",
    )]);
    assert_eq!(code, Some(0), "{f:#?}");

    // History: the blob's path decides (a blob committed at several paths is scanned once).
    let t = TestDir::new();
    t.git(&["init", "-q", "-b", "main"]);
    t.write("deploy/mail.yml", line);
    t.write("docs/guide.md", format!("Set up mail:\n\n    {line}"));
    t.git(&["add", "."]);
    t.git(&["commit", "-qm", "settings"]);
    assert_eq!(password_paths_in_history(&t), ["deploy/mail.yml"]);

    // The same blob committed first as a sample and later as a real settings file: the sample
    // copy does not hide the real one, and stays quiet itself.
    let t = TestDir::new();
    t.git(&["init", "-q", "-b", "main"]);
    t.write("docs/mail.yml", line);
    t.git(&["add", "."]);
    t.git(&["commit", "-qm", "document the settings"]);
    t.write("deploy/mail.yml", line);
    t.git(&["add", "."]);
    t.git(&["commit", "-qm", "deploy them"]);
    assert_eq!(password_paths_in_history(&t), ["deploy/mail.yml"]);
}

/// Maven's settings.xml keeps repository passwords as element text: a literal fails the scan,
/// Maven's own references and encrypted form stay quiet, and the same file under docs/ or in a
/// test directory is a sample.
#[test]
fn xml_password_elements_in_maven_settings_but_not_references_or_docs() {
    let settings = "<settings>\n  <servers>\n    <server>\n      <id>releases</id>\n      \
                    <username>deployer</username>\n      <password>Tr4ns1t!Gr0ve</password>\n    \
                    </server>\n    <server>\n      <id>snapshots</id>\n      \
                    <password>${env.SNAPSHOT_PASSWORD}</password>\n    </server>\n    <server>\n      \
                    <id>thirdparty</id>\n      <password>{jSMOWnoPFgsHVpMvz5VrIt5kRbzGpI8u+9EF1iFQyJQ=}</password>\n    \
                    </server>\n  </servers>\n</settings>\n";
    let (code, f) = scan(&[
        (".mvn/settings.xml", settings),
        ("docs/settings.xml", settings),
        ("src/test/resources/settings.xml", settings),
        (
            "src/main/resources/hibernate.cfg.xml",
            "<property name=\"hibernate.connection.password\">qL9mx2Rv_w</property>\n",
        ),
    ]);
    assert_eq!(code, Some(1));
    let mut got: Vec<(&str, &str)> = f
        .iter()
        .filter(|x| x["rule_id"] == "xml-password-element")
        .map(|x| (x["path"].as_str().unwrap(), x["secret"].as_str().unwrap()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (".mvn/settings.xml", "Tr4ns1t!Gr0ve"),
            ("src/main/resources/hibernate.cfg.xml", "qL9mx2Rv_w")
        ],
        "{f:#?}"
    );
}

/// Command lines found in scripts: a password or token that ends its line (followed by a
/// newline or CRLF, as in every real file) is found as it is mid-line.
#[test]
fn command_line_credentials_at_the_end_of_a_line() {
    let (code, f) = scan(&[
        (
            "vsphere.ps1",
            "Connect-VIServer vc01.corp.lan -User ops -Password 'Lk7!mQ2vTz'\r\nGet-VM\r\n",
        ),
        (
            "join.sh",
            "kubeadm join 10.0.0.5:6443 --token q3v8zk.t1m4xw9c2rh7pn0d\n\
             kubeadm join 10.0.0.5:6443 --token abcdef.0123456789abcdef\n",
        ),
    ]);
    assert_eq!(code, Some(1));
    assert_eq!(
        secrets_of(&f, "vmware-powercli-password"),
        ["Lk7!mQ2vTz"],
        "{f:#?}"
    );
    assert_eq!(
        secrets_of(&f, "kubernetes-bootstrap-token"),
        ["q3v8zk.t1m4xw9c2rh7pn0d"],
        "{f:#?}"
    );
}
