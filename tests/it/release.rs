//! Getting keyleak: the packaging script's archive, `install.sh` against a loopback release
//! server (and a tampered release, which it must refuse), the README's quick start from a
//! fresh install, the Python wheel in a fresh venv, the crate's package list, the Dockerfile
//! (hadolint) and the licences.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::util::*;

/// A static file server on 127.0.0.1 serving `root`, in a thread that stops on drop. It
/// answers GET with the file or 404, one request per connection: enough for curl and wget.
pub struct Server {
    pub url: String,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
    port: u16,
}

impl Server {
    pub fn start(root: &Path) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let root = root.to_path_buf();
        let handle = std::thread::spawn(move || {
            // Bounded: a test makes a handful of requests.
            for stream in listener.incoming().take(500) {
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                if let Ok(s) = stream {
                    let _ = serve(&root, s);
                }
            }
        });
        Server {
            url: format!("http://127.0.0.1:{port}"),
            stop,
            handle: Some(handle),
            port,
        }
    }
}

fn serve(root: &Path, mut s: TcpStream) -> std::io::Result<()> {
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(s.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
    }
    let path = request.split(' ').nth(1).unwrap_or("/");
    let file = (!path.contains(".."))
        .then(|| root.join(path.trim_start_matches('/')))
        .filter(|p| p.is_file());
    match file {
        Some(f) => {
            let body = std::fs::read(f)?;
            write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            s.write_all(&body)?;
        }
        None => s.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?,
    }
    s.flush()
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// The release target `install.sh` picks on this machine.
pub fn host_target() -> &'static str {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => "x86_64-unknown-linux-musl",
        ("linux", "aarch64") => "aarch64-unknown-linux-musl",
        ("macos", "x86_64") => "x86_64-apple-darwin",
        ("macos", "aarch64") => "aarch64-apple-darwin",
        other => panic!("no release target for {other:?}"),
    }
}

/// `dist/package.sh TARGET <the keyleak under test> OUT`.
pub fn package(out: &Path) -> Output {
    let o = Command::new("sh")
        .arg(source_root().join("dist/package.sh"))
        .arg(host_target())
        .arg(assert_cmd::cargo::cargo_bin("keyleak"))
        .arg(out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "package.sh: {}{}",
        stdout(&o),
        stderr(&o)
    );
    o
}

/// package.sh's output for the binary under test, made once per test process (the debug
/// binary is large: compressing it is the slow part) and copied by each test that needs it.
fn packaged() -> &'static Path {
    static OUT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    OUT.get_or_init(|| {
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        remove_stale_packages(&tmp);
        let out = tmp.join(format!("release-pkg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        package(&out);
        out
    })
}

/// A static cannot be dropped, so each test process leaves its ~50 MB package behind; the next
/// one removes those of processes that no longer run (a concurrent run keeps its own).
fn remove_stale_packages(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("release-pkg-") else {
            continue;
        };
        let alive = Path::new("/proc").join(pid).exists() || !Path::new("/proc/self").exists();
        if !alive {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// A release directory as GitHub serves it: `download/TAG/…` and `latest/download/…`, holding
/// the archive built by package.sh and SHA256SUMS made the way the release workflow makes it.
pub fn release_tree(dir: &Path, tag: &str) -> PathBuf {
    let out = packaged();
    let archive = format!("keyleak-{}.tar.gz", host_target());
    let sums = std::fs::read_to_string(out.join(format!("{archive}.sha256"))).unwrap();
    let root = dir.join("releases");
    for sub in [format!("download/{tag}"), "latest/download".to_string()] {
        let d = root.join(sub);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(out.join(&archive), d.join(&archive)).unwrap();
        // Another platform's line first: the installer must pick its own.
        std::fs::write(
            d.join("SHA256SUMS"),
            format!(
                "{}  keyleak-x86_64-pc-windows-msvc.zip\n{sums}",
                "0".repeat(64)
            ),
        )
        .unwrap();
        std::fs::copy(source_root().join("install.sh"), d.join("install.sh")).unwrap();
    }
    root
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn tar_list(archive: &Path) -> Vec<String> {
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(archive).unwrap());
    let mut t = tar::Archive::new(gz);
    t.entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let mode = e.header().mode().unwrap();
            let p = e.path().unwrap().to_string_lossy().into_owned();
            format!("{p} {:o}", mode & 0o777)
        })
        .collect()
}

#[test]
fn package_script_builds_the_release_archive() {
    let t = TestDir::new();
    let o = package(&t.path().join("out"));
    let target = host_target();
    let archive = t.path().join(format!("out/keyleak-{target}.tar.gz"));
    // Layout: one top directory; the binary executable; docs, licences, completions, man.
    let names = tar_list(&archive);
    let top = format!("keyleak-{target}");
    for want in [
        format!("{top}/keyleak 755"),
        format!("{top}/README.md 644"),
        format!("{top}/CHANGELOG.md 644"),
        format!("{top}/LICENSE-MIT 644"),
        format!("{top}/LICENSE-APACHE 644"),
        format!("{top}/completions/keyleak.bash 644"),
        format!("{top}/completions/_keyleak 644"),
        format!("{top}/completions/keyleak.fish 644"),
        format!("{top}/completions/_keyleak.ps1 644"),
        format!("{top}/completions/keyleak.elv 644"),
        format!("{top}/man/keyleak.1 644"),
        format!("{top}/man/keyleak-git.1 644"),
    ] {
        assert!(
            names.iter().any(|n| n == &want),
            "{want} missing from {names:#?}"
        );
    }
    assert!(
        names
            .iter()
            .all(|n| n.starts_with(&format!("{top}/")) || n.starts_with(&format!("{top} "))),
        "{names:#?}"
    );
    // The checksum file is `sha256sum` format for exactly this archive, and correct.
    let sums =
        std::fs::read_to_string(t.path().join(format!("out/keyleak-{target}.tar.gz.sha256")))
            .unwrap();
    assert_eq!(
        sums,
        format!(
            "{}  keyleak-{target}.tar.gz\n",
            sha256_hex(&std::fs::read(&archive).unwrap())
        )
    );
    // The script smoke-tested the binary.
    assert!(stdout(&o).contains("built-in rules)"), "{}", stdout(&o));
    // The shipped binary is the one under test.
    let x = t.path().join("x");
    std::fs::create_dir(&x).unwrap();
    let un = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&x)
        .status()
        .unwrap();
    assert!(un.success());
    assert_eq!(
        std::fs::read(x.join(format!("{top}/keyleak"))).unwrap(),
        std::fs::read(assert_cmd::cargo::cargo_bin("keyleak")).unwrap()
    );
    // Bad arguments are refused.
    let o = Command::new("sh")
        .arg(source_root().join("dist/package.sh"))
        .args(["x86_64;rm", "/nonexistent"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

fn install(releases: &Path, server: &Server, dest: &Path, extra: &[&str]) -> Output {
    let _ = releases;
    Command::new("sh")
        .arg(source_root().join("install.sh"))
        .arg("--to")
        .arg(dest)
        .args(extra)
        .env("KEYLEAK_DOWNLOAD_URL", &server.url)
        .env("HOME", dest.parent().unwrap())
        .env_remove("KEYLEAK_VERSION")
        .env_remove("KEYLEAK_TARGET")
        .env_remove("KEYLEAK_INSTALL_DIR")
        .output()
        .unwrap()
}

/// From nothing to a first real finding without a compiler: install.sh fetches the release
/// from a loopback server, verifies it, installs it; the README's quick start then finds the key.
#[test]
fn install_script_installs_a_verified_release_and_the_quick_start_finds_a_key() {
    if !require_tool("curl", &["--version"]) {
        return;
    }
    let t = TestDir::new();
    let releases = release_tree(t.path(), "v9.8.7");
    let server = Server::start(&releases);

    // Pinned version.
    let bin = t.path().join("bin");
    let o = install(&releases, &server, &bin, &["--version", "v9.8.7"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("checksum verified"), "{}", stderr(&o));
    assert!(stderr(&o).contains("/download/v9.8.7"), "{}", stderr(&o));
    let installed = bin.join("keyleak");
    assert_eq!(
        std::fs::read(&installed).unwrap(),
        std::fs::read(assert_cmd::cargo::cargo_bin("keyleak")).unwrap()
    );

    // Latest, through `curl … | sh` as the README says.
    let bin2 = t.path().join("bin2");
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "curl -fsSL {}/latest/download/install.sh | sh -s -- --to '{}'",
            server.url,
            bin2.display()
        ))
        .env("KEYLEAK_DOWNLOAD_URL", &server.url)
        .env("HOME", t.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(bin2.join("keyleak").is_file());

    // The README's quick start, run with only the installed binary on PATH.
    let quick = quick_start();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let o = Command::new("sh")
        .arg("-c")
        .arg(&quick)
        .current_dir(t.path())
        .env("PATH", path)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{quick}\n{}{}",
        stdout(&o),
        stderr(&o)
    );
    assert!(stdout(&o).contains("AWS access key ID"), "{}", stdout(&o));
    assert!(stdout(&o).contains("How to fix"), "{}", stdout(&o));
}

/// The shell commands of the README's quick-start block.
pub fn quick_start() -> String {
    let readme = std::fs::read_to_string(source_root().join("README.md")).unwrap();
    let start = readme
        .find("<!-- quick-start -->")
        .expect("README marks its quick start with <!-- quick-start -->");
    let block = &readme[start..];
    let body = block
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    body.to_string()
}

#[test]
fn install_script_refuses_a_tampered_release() {
    if !require_tool("curl", &["--version"]) {
        return;
    }
    let t = TestDir::new();
    let releases = release_tree(t.path(), "v9.8.7");
    let archive = releases.join(format!("download/v9.8.7/keyleak-{}.tar.gz", host_target()));
    // One flipped byte in the middle of the archive.
    let mut bytes = std::fs::read(&archive).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&archive, bytes).unwrap();
    let server = Server::start(&releases);
    let bin = t.path().join("bin");
    let o = install(&releases, &server, &bin, &["--version", "v9.8.7"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("checksum mismatch"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("nothing was installed"),
        "{}",
        stderr(&o)
    );
    assert!(!bin.join("keyleak").exists());

    // An archive missing from SHA256SUMS is refused too.
    let sums = releases.join("download/v9.8.7/SHA256SUMS");
    std::fs::write(&sums, format!("{}  keyleak-other.tar.gz\n", "1".repeat(64))).unwrap();
    let o = install(&releases, &server, &bin, &["--version", "v9.8.7"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("not listed in SHA256SUMS"),
        "{}",
        stderr(&o)
    );
    // A release that does not exist.
    let o = install(&releases, &server, &bin, &["--version", "v0.0.1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("download failed"), "{}", stderr(&o));
    assert!(!bin.join("keyleak").exists());
}

#[test]
fn installer_and_packaging_scripts_pass_shellcheck() {
    if !require_tool("shellcheck", &["--version"]) {
        return;
    }
    for script in [
        "install.sh",
        "dist/package.sh",
        "dist/pre-commit-prebuilt.sh",
    ] {
        let o = Command::new("shellcheck")
            .args(["--shell=sh", "--severity=style"])
            .arg(source_root().join(script))
            .output()
            .unwrap();
        assert!(o.status.success(), "shellcheck {script}:\n{}", stdout(&o));
    }
}

#[test]
fn dockerfile_passes_hadolint() {
    // No Docker engine here: the image is not built; hadolint checks the file.
    if !require_tool("hadolint", &["--version"]) {
        return;
    }
    let o = Command::new("hadolint")
        .arg(source_root().join("Dockerfile"))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "hadolint:\n{}{}",
        stdout(&o),
        stderr(&o)
    );
    let docker = std::fs::read_to_string(source_root().join("Dockerfile")).unwrap();
    assert!(
        docker.contains("distroless/static"),
        "static binary on distroless"
    );
    let ignore = std::fs::read_to_string(source_root().join(".dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "target"));
}

#[test]
fn crate_package_ships_rules_and_licences_not_tests_bench_or_fuzz() {
    let o = Command::new(env!("CARGO"))
        .args(["package", "--list", "--allow-dirty", "--offline"])
        .current_dir(source_root())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let files: Vec<String> = stdout(&o).lines().map(String::from).collect();
    for want in [
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
        "src/main.rs",
        "README.md",
        "CHANGELOG.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
        "src/scan/validate/wordlists/english.txt",
    ] {
        assert!(files.iter().any(|f| f == want), "{want} not packaged");
    }
    // Every built-in rule file is packaged (the binary embeds them at build time).
    for e in std::fs::read_dir(source_root().join("patterns")).unwrap() {
        let name = format!("patterns/{}", e.unwrap().file_name().to_string_lossy());
        assert!(files.contains(&name), "{name} not packaged");
    }
    for f in &files {
        for bad in [
            "tests/",
            "bench/",
            "benches/",
            "fuzz/",
            "fixtures/",
            ".github/",
            "dist/",
            "action/",
        ] {
            assert!(!f.starts_with(bad), "{f} should not be packaged");
        }
    }
}

#[test]
fn licence_files_match_cargo_toml() {
    let manifest = std::fs::read_to_string(source_root().join("Cargo.toml")).unwrap();
    assert!(manifest.contains("license = \"MIT OR Apache-2.0\""));
    let mit = std::fs::read_to_string(source_root().join("LICENSE-MIT")).unwrap();
    assert!(mit.starts_with("MIT License") && mit.contains("WITHOUT WARRANTY OF ANY KIND"));
    let apache = std::fs::read_to_string(source_root().join("LICENSE-APACHE")).unwrap();
    assert!(apache.contains("Apache License") && apache.contains("Version 2.0, January 2004"));
    assert!(apache.contains("END OF TERMS AND CONDITIONS"));
    let py = std::fs::read_to_string(source_root().join("pyproject.toml")).unwrap();
    assert!(py.contains("license = \"MIT OR Apache-2.0\""));
    let changelog = std::fs::read_to_string(source_root().join("CHANGELOG.md")).unwrap();
    let version = format!("## [{}]", env!("CARGO_PKG_VERSION"));
    assert!(
        changelog.contains(&version),
        "CHANGELOG.md has no {version} section"
    );
}

#[test]
fn release_workflow_builds_every_platform_and_attests() {
    let wf = std::fs::read_to_string(source_root().join(".github/workflows/release.yml")).unwrap();
    for target in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        assert!(wf.contains(&format!("target: {target}")), "{target}");
    }
    for step in [
        "dist/package.sh",
        "SHA256SUMS",
        "actions/attest-build-provenance@",
        "maturin build --release --locked",
        "install.sh",
        "cargo publish --locked",
    ] {
        assert!(wf.contains(step), "{step} missing from release.yml");
    }
}

/// The Python wheel (maturin, `bindings = "bin"`) installs into a fresh venv and its `keyleak`
/// scans. Built with a fast release profile in the cargo target directory the pre-commit tests
/// share (tests/it/hooks.rs), so CI compiles keyleak for both once, not twice.
#[test]
fn wheel_installs_into_a_fresh_venv_and_runs() {
    if !require_tool("maturin", &["--version"])
        || !require_tool("python3", &["-m", "venv", "--help"])
    {
        return;
    }
    let t = TestDir::new();
    let shared = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pre-commit");
    let start = std::time::Instant::now();
    let o = Command::new("maturin")
        .args([
            "build",
            "--release",
            "--locked",
            "--compatibility",
            "linux",
            "--out",
        ])
        .arg(t.path().join("wheels"))
        .current_dir(source_root())
        .env("CARGO_TARGET_DIR", shared.join("cargo-target"))
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256")
        .env("CARGO_PROFILE_RELEASE_INCREMENTAL", "true")
        .env("CARGO_TERM_COLOR", "never")
        .output()
        .unwrap();
    eprintln!("maturin build: {:.1}s", start.elapsed().as_secs_f64());
    assert!(o.status.success(), "maturin: {}{}", stdout(&o), stderr(&o));
    let wheel = std::fs::read_dir(t.path().join("wheels"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .expect("a wheel");
    let name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!("keyleak-{}-py3-none-", env!("CARGO_PKG_VERSION"))),
        "{name}"
    );
    // The wheel holds the binary as a script, the licences and the metadata.
    let zip = zip::ZipArchive::new(std::fs::File::open(&wheel).unwrap()).unwrap();
    let names: Vec<&str> = zip.file_names().collect();
    assert!(
        names.iter().any(|n| n.ends_with(".data/scripts/keyleak")),
        "{names:?}"
    );

    let venv = t.path().join("venv");
    let ok = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(ok.success());
    let o = Command::new(venv.join("bin/pip"))
        .args([
            "install",
            "--quiet",
            "--no-index",
            "--disable-pip-version-check",
        ])
        .arg(&wheel)
        .output()
        .unwrap();
    assert!(o.status.success(), "pip: {}", stderr(&o));
    let exe = venv.join("bin/keyleak");
    let o = Command::new(&exe).arg("--version").output().unwrap();
    assert!(stdout(&o).starts_with(&format!("keyleak {} (commit", env!("CARGO_PKG_VERSION"))));
    t.write("scan/app.env", format!("KEY={AWS_KEY}\n"));
    let o = Command::new(&exe)
        .args(["dir", "scan", "-f", "json"])
        .current_dir(t.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(findings(&o)[0]["rule_id"], "aws-access-key-id");
}
