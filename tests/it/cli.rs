//! The command line a newcomer meets: `--version`, hints for other scanners' habits and typos
//! (snapshots), completions, man pages, `init DIR`, `baseline` and the `baseline` config key.

use crate::util::*;

/// stderr of a rejected command line, which must exit 2.
fn rejected(args: &[&str]) -> String {
    let out = keyleak().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    stderr(&out)
}

#[test]
fn version_names_commit_and_rule_count() {
    let out = keyleak().arg("--version").output().unwrap();
    assert!(out.status.success());
    let v = stdout(&out);
    let rules = keyleak()
        .args(["rules", "list", "--json"])
        .output()
        .unwrap();
    let n = serde_json::from_slice::<serde_json::Value>(&rules.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .len();
    let expected_tail = format!(", {n} built-in rules)\n");
    assert!(
        v.starts_with(&format!("keyleak {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
    assert!(
        v.ends_with(&expected_tail),
        "{v} should end with {expected_tail:?}"
    );
    let commit = v
        .split("(commit ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    // This test runs from a git checkout: the commit is HEAD's (or what KEYLEAK_COMMIT says).
    let head = git_in(source_root(), &["rev-parse", "HEAD"]);
    match std::env::var("KEYLEAK_COMMIT") {
        Ok(c) if !c.is_empty() => assert!(c.starts_with(commit), "{commit} vs {c}"),
        _ => assert!(
            head.starts_with(commit) && commit.len() == 12,
            "{commit} vs {head}"
        ),
    }
}

#[test]
fn other_scanners_habits_get_the_keyleak_equivalent() {
    let mut text = String::new();
    for line in [
        "detect --source .",
        "protect --staged",
        "filesystem .",
        "scan .",
        "dri .",
        "gti",
        "frobnicate",
        "dir . --redact",
        "dir . --report-format sarif",
        "git . --report-path out.sarif",
        "dir --no-git .",
        "git --log-opts=--all",
        "dir . --json",
    ] {
        let args: Vec<&str> = line.split(' ').collect();
        text.push_str(&format!("$ keyleak {line}\n{}\n", rejected(&args)));
    }
    insta::assert_snapshot!(text);
}

#[test]
fn unknown_rule_ids_suggest_the_nearest() {
    let t = TestDir::new();
    let e = stderr(
        &t.keyleak()
            .args(["rules", "show", "githubpat"])
            .output()
            .unwrap(),
    );
    assert!(e.contains("did you mean `github-pat`?"), "{e}");
    t.write(
        "keyleak.toml",
        "[rules]\ndisable = [\"aws-acess-key-id\"]\n",
    );
    let out = t.keyleak().args(["dir", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(stderr(&out));
}

#[test]
fn completions_for_every_shell_and_man_pages() {
    for (shell, marker) in [
        ("bash", "complete -F _keyleak"),
        ("zsh", "#compdef keyleak"),
        ("fish", "complete -c keyleak"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[keyleak]"),
    ] {
        let out = keyleak().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let s = stdout(&out);
        assert!(s.contains(marker), "{shell}: {marker} missing");
        assert!(
            s.contains("fail-on") && s.contains("min-severity"),
            "{shell}"
        );
    }
    if require_tool("bash", &["--version"]) {
        // The bash script is valid bash and completes subcommands.
        let t = TestDir::new();
        let script = t.write(
            "c.bash",
            stdout(&keyleak().args(["completions", "bash"]).output().unwrap()),
        );
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source {}; COMP_WORDS=(keyleak di); COMP_CWORD=1; _keyleak keyleak di keyleak; \
                 printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                script.display()
            ))
            .output()
            .unwrap();
        assert!(stdout(&out).lines().any(|l| l == "dir"), "{}", stdout(&out));
    }
    let page = stdout(&keyleak().arg("man").output().unwrap());
    assert!(page.contains(".TH keyleak 1"), "{page}");
    assert!(page.contains("keyleak\\-dir(1)"), "{page}");
    let t = TestDir::new();
    let out = keyleak()
        .args(["man", "--dir"])
        .arg(t.path().join("man"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    for page in [
        "keyleak.1",
        "keyleak-dir.1",
        "keyleak-git.1",
        "keyleak-baseline.1",
    ] {
        let text = std::fs::read_to_string(t.path().join("man").join(page)).unwrap();
        assert!(text.starts_with(".ie"), "{page}");
    }
    if require_tool("man", &["--version"]) {
        let out = std::process::Command::new("man")
            .arg("-l")
            .arg(t.path().join("man/keyleak-dir.1"))
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .unwrap();
        assert!(stdout(&out).contains("--no-ignore"), "{}", stdout(&out));
    }
}

#[test]
fn init_into_a_directory() {
    let t = TestDir::new();
    std::fs::create_dir(t.path().join("sub")).unwrap();
    let out = t.keyleak().args(["init", "sub"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let written = std::fs::read_to_string(t.path().join("sub/keyleak.toml")).unwrap();
    assert!(written.contains("[scan]"));
    // The written file is a valid config.
    let out = t.keyleak().args(["dir", "sub"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // Never overwrites.
    let out = t.keyleak().args(["init", "sub"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("already exists"));
}

/// The README's baseline recipe, as a script under `set -e`: record, then only new secrets fail.
#[test]
fn baseline_recipe_works_under_set_e() {
    let t = TestDir::new();
    t.git(&["init", "-q"]);
    t.write("old.env", format!("KEY={AWS_KEY}\n"));
    t.git(&["add", "."]);
    t.git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@e",
        "commit",
        "-qm",
        "old",
    ]);
    let script = "set -eu\n\
        keyleak baseline --git\n\
        keyleak git . --baseline .keyleak-baseline.json\n\
        keyleak dir . --baseline .keyleak-baseline.json\n\
        printf '[scan]\\nbaseline = \".keyleak-baseline.json\"\\n' > keyleak.toml\n\
        keyleak dir .\n\
        echo ALL-CLEAN\n";
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(t.path())
        .env("PATH", path_with_keyleak())
        .env("HOME", t.path())
        .output()
        .unwrap();
    assert!(
        stdout(&out).contains("ALL-CLEAN"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let base: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join(".keyleak-baseline.json")).unwrap())
            .unwrap();
    assert_eq!(base["findings"].as_array().unwrap().len(), 1);
    // A new secret still fails, with the baseline from keyleak.toml in force.
    t.write("new.env", "KEY=AKIAZ7XQ4RTWYP3MB2KD\n");
    let out = t
        .keyleak()
        .args(["dir", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let f = findings(&out);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["path"], "new.env");
    // --no-baseline ignores it; re-recording keeps both (the old baseline is not applied).
    let out = t
        .keyleak()
        .args(["dir", ".", "--no-baseline", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(findings(&out).len(), 2);
    let out = t.keyleak().args(["baseline"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let base: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join(".keyleak-baseline.json")).unwrap())
            .unwrap();
    assert_eq!(base["findings"].as_array().unwrap().len(), 2);
}

#[test]
fn config_baseline_that_does_not_exist_is_an_error() {
    let t = TestDir::new();
    t.write("keyleak.toml", "[scan]\nbaseline = \"missing.json\"\n");
    let out = t.keyleak().args(["dir", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("keyleak baseline"),
        "{}",
        stderr(&out)
    );
}
