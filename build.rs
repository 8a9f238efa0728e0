//! Embeds every `patterns/*.toml` into the binary: writes a sorted list of
//! `(file name, include_str!(...))` pairs into OUT_DIR so that adding a rule
//! file needs no Rust change. Also records, for `keyleak --version`, the commit
//! the binary was built from and the number of built-in rules.
use std::{env, fs, path::Path, process::Command};

fn main() {
    // The manifest directory of this build, read at run time: `env!` would bake in the path the
    // build script was compiled for, wrong when a shared target directory reuses the script for
    // another checkout (pre-commit's clones, maturin), which then failed on a deleted clone.
    let root = manifest_dir();
    let dir = root.join("patterns");
    println!("cargo:rerun-if-changed={}", dir.display());
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
        // A rule block starts with this header line; tests/it/release.rs checks the count
        // against the rules the binary actually loads.
        rules += fs::read_to_string(f)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.trim() == "[[rule]]")
            .count();
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy();
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    out.push_str("]\n");
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("builtin_patterns.rs");
    fs::write(dest, out).expect("write builtin_patterns.rs");
    println!("cargo:rustc-env=KEYLEAK_RULE_COUNT={rules}");
    println!("cargo:rustc-env=KEYLEAK_COMMIT={}", commit());
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
