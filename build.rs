//! Embeds every `patterns/*.toml` into the binary, parsed: the files are read with the same
//! serde structs as a user's rule file (`src/rules/syntax.rs`) and written into OUT_DIR as Rust
//! statics (`builtin_rules.rs`), so that start-up parses no TOML and adding a rule file needs no
//! Rust change. Also records, for `keyleak --version`, the commit the binary was built from and
//! the number of built-in rules.
use std::fmt::Write as _;
use std::{env, fs, path::Path, process::Command};

// The rule file's serde shape, shared with the binary: a field added there must be written
// below (the destructuring in `rule` does not compile until it is).
#[path = "src/rules/syntax.rs"]
#[allow(dead_code)]
mod syntax;

use syntax::{RuleFile, RuleSyntax};
use toml::Spanned;

fn main() {
    // The manifest directory of this build, read at run time: `env!` would bake in the path the
    // build script was compiled for, wrong when a shared target directory reuses the script for
    // another checkout (pre-commit's clones, maturin), which then failed on a deleted clone.
    let root = manifest_dir();
    let dir = root.join("patterns");
    println!("cargo:rerun-if-changed={}", dir.display());
    println!(
        "cargo:rerun-if-changed={}",
        root.join("src/rules/syntax.rs").display()
    );
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("patterns/ directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut out = String::from("&[\n");
    let mut rules = 0;
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy();
        let text = fs::read_to_string(f).unwrap_or_else(|e| panic!("patterns/{name}: {e}"));
        // A TOML or shape error in a built-in file stops the build with its position; the
        // checks of the fields' values run when the binary loads the rules (and in `cargo test`).
        let parsed: RuleFile =
            toml::from_str(&text).unwrap_or_else(|e| panic!("patterns/{name}: {e}"));
        // tests/it/release.rs checks the count against the rules the binary actually loads.
        rules += parsed.rule.len();
        file(&mut out, &name, f, &parsed);
    }
    out.push_str("]\n");
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("builtin_rules.rs");
    fs::write(dest, out).expect("write builtin_rules.rs");
    println!("cargo:rustc-env=KEYLEAK_RULE_COUNT={rules}");
    println!("cargo:rustc-env=KEYLEAK_COMMIT={}", commit());
}

/// One `builtin::File` literal. Strings are written with `{:?}`, whose escapes are Rust's.
fn file(out: &mut String, name: &str, path: &Path, parsed: &RuleFile) {
    let RuleFile {
        provider,
        fragments,
        rule,
    } = parsed;
    let _ = write!(
        out,
        "File {{ name: {name:?}, text: include_str!({:?}), provider: {provider:?}, fragments: &[",
        path.display().to_string()
    );
    for (k, v) in fragments {
        let _ = write!(out, "({k:?}, {}), ", at(v));
    }
    out.push_str("], rules: &[\n");
    for r in rule {
        let _ = write!(out, "({}, {}, ", r.span().start, r.span().end);
        self::rule(out, r.get_ref());
        out.push_str("),\n");
    }
    out.push_str("] },\n");
}

/// One `builtin::Rule` literal.
fn rule(out: &mut String, r: &RuleSyntax) {
    let RuleSyntax {
        id,
        name,
        provider,
        keywords,
        keywords_case_sensitive,
        regex,
        detector,
        entropy,
        validator,
        severity,
        confidence,
        tags,
        references,
        remediation,
        examples,
        negative_examples,
        prefilter,
        window,
        window_before,
        window_after,
        stopwords,
        placeholder_filter,
        credential,
        part,
        shadows,
        skip_paths,
    } = r;
    let opt_at = |v: &Option<Spanned<String>>| match v {
        Some(v) => format!("Some({})", at(v)),
        None => "None".to_string(),
    };
    // As bits: exact, and a `nan` in the TOML stays what the loader rejects.
    let entropy = match entropy {
        Some(e) => format!("Some(f64::from_bits({:#x}))", e.to_bits()),
        None => "None".to_string(),
    };
    let _ = write!(
        out,
        "Rule {{ id: {}, name: {name:?}, provider: {provider:?}, keywords: &{keywords:?}, \
         keywords_case_sensitive: {keywords_case_sensitive}, regex: {}, detector: {}, \
         entropy: {entropy}, validator: {}, severity: {}, confidence: {}, tags: &{tags:?}, \
         references: &{references:?}, remediation: {remediation:?}, examples: &{examples:?}, \
         negative_examples: &{negative_examples:?}, prefilter: {prefilter:?}, \
         window: {window:?}, window_before: {window_before:?}, window_after: {window_after:?}, \
         stopwords: &{stopwords:?}, placeholder_filter: {placeholder_filter:?}, \
         credential: {credential:?}, part: {}, shadows: &{shadows:?}, \
         skip_paths: &{skip_paths:?} }}",
        at(id),
        opt_at(regex),
        opt_at(detector),
        opt_at(validator),
        at(severity),
        at(confidence),
        opt_at(part),
    );
}

/// A string with its position in the file: `At(start, end, "value")`.
fn at(v: &Spanned<String>) -> String {
    format!(
        "At({}, {}, {:?})",
        v.span().start,
        v.span().end,
        v.get_ref()
    )
}

fn manifest_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"))
}

/// The commit being built: `KEYLEAK_COMMIT` when the builder sets it (release jobs, distro
/// packages), else the work tree's HEAD, else the commit `cargo package` recorded in
/// `.cargo_vcs_info.json` (a crates.io download), else `unknown`.
fn commit() -> String {
    println!("cargo:rerun-if-env-changed=KEYLEAK_COMMIT");
    if let Ok(c) = env::var("KEYLEAK_COMMIT")
        && !c.trim().is_empty()
    {
        return c.trim().chars().take(40).collect();
    }
    let root = manifest_dir();
    let root = root.as_path();
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()?;
        let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (out.status.success() && !s.is_empty()).then_some(s)
    };
    if root.join(".git").exists()
        && let Some(sha) = git(&["rev-parse", "--short=12", "HEAD"])
    {
        // Rebuild when HEAD moves: HEAD itself, the branch it names, and packed refs.
        let mut watch = vec!["HEAD".to_string(), "packed-refs".to_string()];
        if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watch.push(r);
        }
        for w in watch {
            if let Some(p) = git(&["rev-parse", "--path-format=absolute", "--git-path", &w])
                && Path::new(&p).exists()
            {
                println!("cargo:rerun-if-changed={p}");
            }
        }
        return sha;
    }
    let vcs = root.join(".cargo_vcs_info.json");
    if let Ok(text) = fs::read_to_string(vcs)
        && let Some(i) = text.find("\"sha1\"")
    {
        let hex: String = text[i + 6..]
            .chars()
            .skip_while(|c| !c.is_ascii_hexdigit())
            .take_while(|c| c.is_ascii_hexdigit())
            .collect();
        if hex.len() >= 12 {
            return hex[..12].to_string();
        }
    }
    "unknown".to_string()
}
