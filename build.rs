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
    let mut out = Out::default();
    let mut file_items = String::new();
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let text = fs::read_to_string(f).unwrap_or_else(|e| panic!("patterns/{name}: {e}"));
        // A TOML or shape error in a built-in file stops the build with its position; the
        // checks of the fields' values run when the binary loads the rules (and in `cargo test`).
        let parsed: RuleFile =
            toml::from_str(&text).unwrap_or_else(|e| panic!("patterns/{name}: {e}"));
        let item = out.file(&name, text, &parsed);
        file_items.push_str(&item);
    }
    let rules = out.rules.len();
    let mut code = format!("const EXTRA: u32 = {};\n", out.blob.len());
    out.blob.push_str(&out.extra_blob);
    assert!(
        u32::try_from(out.blob.len()).is_ok(),
        "built-in rules over 4 GB"
    );
    let dest = std::path::PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::write(dest.join("builtin_rules.txt"), &out.blob).expect("write builtin_rules.txt");
    let _ = writeln!(
        code,
        "/// Every built-in pattern file, sorted by name.\npub static FILES: [File; {}] = [\n{file_items}];",
        files.len()
    );
    for (name, ty, items) in [
        ("STRS", "S", &out.strs),
        ("FRAGMENTS", "(S, At)", &out.fragments),
        ("RULES", "(u32, u32, Rule)", &out.rules),
    ] {
        let _ = writeln!(
            code,
            "static {name}: [{ty}; {}] = [\n{}];",
            items.len(),
            items.join(",\n")
        );
    }
    fs::write(dest.join("builtin_rules.rs"), code).expect("write builtin_rules.rs");
    // tests/it/release.rs checks the count against the rules the binary actually loads.
    println!("cargo:rustc-env=KEYLEAK_RULE_COUNT={rules}");
    println!("cargo:rustc-env=KEYLEAK_COMMIT={}", commit());
}

/// The statics being written. Every string is `S(offset, length)` into one text (the blob:
/// every file's text, then the values not spelt in their file as they read, e.g. with escapes),
/// and every list `L(start, length)` of `STRS`: integers only, where `&'static str`s would be
/// pointers, each a relocation the loader applies at every start (14k of them, ~100 page
/// faults) and 24 bytes of the binary.
#[derive(Default)]
struct Out {
    blob: String,
    /// Values not found in their file's text, by value.
    extra: std::collections::HashMap<String, usize>,
    extra_blob: String,
    strs: Vec<String>,
    fragments: Vec<String>,
    rules: Vec<String>,
    /// The current file's text in the blob, and where the current rule starts in it.
    file: std::ops::Range<usize>,
    from: usize,
}

impl Out {
    /// One `File` literal.
    fn file(&mut self, name: &str, text: String, parsed: &RuleFile) -> String {
        let RuleFile {
            provider,
            fragments,
            rule,
        } = parsed;
        let start = self.blob.len();
        self.blob.push_str(&text);
        self.file = start..self.blob.len();
        self.from = 0;
        let name = self.extra_s(name);
        let text = format!("S({start}, {})", text.len());
        let provider = self.opt(provider.as_deref());
        let f0 = self.fragments.len();
        for (k, v) in fragments {
            self.from = v.span().start;
            let k = self.s(k);
            let v = self.at(v);
            self.fragments.push(format!("({k}, {v})"));
        }
        let r0 = self.rules.len();
        for r in rule {
            self.from = r.span().start;
            let lit = self.rule(r.get_ref());
            self.rules
                .push(format!("({}, {}, {lit})", r.span().start, r.span().end));
        }
        format!(
            "File {{ name: {name}, text: {text}, provider: {provider}, fragments: ({f0}, {}), rules: ({r0}, {}) }},\n",
            fragments.len(),
            rule.len()
        )
    }

    /// A value: where it is spelt as it reads in the current file (searched from the current
    /// rule on, then in the whole file), else in the extra strings.
    fn s(&mut self, v: &str) -> String {
        let text = &self.blob[self.file.clone()];
        let found = text[self.from.min(text.len())..]
            .find(v)
            .map(|i| i + self.from)
            .or_else(|| text.find(v));
        match found {
            Some(i) => format!("S({}, {})", self.file.start + i, v.len()),
            None => self.extra_s(v),
        }
    }

    fn extra_s(&mut self, v: &str) -> String {
        let at = match self.extra.get(v) {
            Some(&at) => at,
            None => {
                let at = self.extra_blob.len();
                self.extra_blob.push_str(v);
                self.extra.insert(v.to_string(), at);
                at
            }
        };
        // The extra strings follow the texts, which end at `EXTRA`.
        match at {
            0 => format!("S(EXTRA, {})", v.len()),
            _ => format!("S(EXTRA + {at}, {})", v.len()),
        }
    }

    fn opt(&mut self, v: Option<&str>) -> String {
        match v {
            Some(v) => format!("Some({})", self.s(v)),
            None => "None".to_string(),
        }
    }

    fn list(&mut self, v: &[String]) -> String {
        let items: Vec<String> = v.iter().map(|x| self.s(x)).collect();
        let start = self.strs.len();
        self.strs.extend(items);
        format!("L({start}, {})", v.len())
    }

    /// A value with its position in the file: `At(start, end, value)`.
    fn at(&mut self, v: &Spanned<String>) -> String {
        let s = self.s(v.get_ref());
        format!("At({}, {}, {s})", v.span().start, v.span().end)
    }

    fn opt_at(&mut self, v: &Option<Spanned<String>>) -> String {
        match v {
            Some(v) => format!("Some({})", self.at(v)),
            None => "None".to_string(),
        }
    }

    /// One `Rule` literal.
    fn rule(&mut self, r: &RuleSyntax) -> String {
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
        // As bits: exact, and a `nan` in the TOML stays what the loader rejects.
        let entropy = match entropy {
            Some(e) => format!("Some(f64::from_bits({:#x}))", e.to_bits()),
            None => "None".to_string(),
        };
        format!(
            "Rule {{ id: {}, name: {}, provider: {}, keywords: {}, \
             keywords_case_sensitive: {keywords_case_sensitive}, regex: {}, detector: {}, \
             entropy: {entropy}, validator: {}, severity: {}, confidence: {}, tags: {}, \
             references: {}, remediation: {}, examples: {}, negative_examples: {}, \
             prefilter: {prefilter:?}, window: {window:?}, window_before: {window_before:?}, \
             window_after: {window_after:?}, stopwords: {}, \
             placeholder_filter: {placeholder_filter:?}, credential: {}, part: {}, \
             shadows: {}, skip_paths: {} }}",
            self.at(id),
            self.s(name),
            self.opt(provider.as_deref()),
            self.list(keywords),
            self.opt_at(regex),
            self.opt_at(detector),
            self.opt_at(validator),
            self.at(severity),
            self.at(confidence),
            self.list(tags),
            self.list(references),
            self.s(remediation),
            self.list(examples),
            self.list(negative_examples),
            self.list(stopwords),
            self.opt(credential.as_deref()),
            self.opt_at(part),
            self.list(shadows),
            self.list(skip_paths),
        )
    }
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
