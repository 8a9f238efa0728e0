#!/bin/sh
# keyleak installer: downloads the prebuilt binary for this machine from a GitHub release,
# verifies it against the release's SHA256SUMS, and installs it.
#
#   curl -fsSL https://github.com/keyleak/keyleak/releases/latest/download/install.sh | sh
#   curl -fsSL …/install.sh | sh -s -- --version v0.2.0 --to /usr/local/bin
#
# Options (or the environment variable in brackets):
#   --version TAG   a release tag such as v0.2.0 (KEYLEAK_VERSION; default: the latest release)
#   --to DIR        where to put the binary (KEYLEAK_INSTALL_DIR; default: ~/.local/bin)
#   --target TRIPLE override the platform detection (KEYLEAK_TARGET)
#
# KEYLEAK_DOWNLOAD_URL replaces https://github.com/keyleak/keyleak/releases: a mirror, or
# the loopback server the test suite serves a freshly built release from. Files are fetched
# from $KEYLEAK_DOWNLOAD_URL/latest/download/NAME or $KEYLEAK_DOWNLOAD_URL/download/TAG/NAME.
#
# Nothing is installed unless the archive's SHA-256 matches its line in SHA256SUMS.
# Exit codes: 0 installed; 1 could not (no such release, no network, unsupported platform);
# 3 refused: the download does not match SHA256SUMS (or is not listed in it).
set -eu

base=${KEYLEAK_DOWNLOAD_URL:-https://github.com/keyleak/keyleak/releases}
version=${KEYLEAK_VERSION:-latest}
dest=${KEYLEAK_INSTALL_DIR:-${HOME:-.}/.local/bin}
target=${KEYLEAK_TARGET:-}

say() { printf 'keyleak-install: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

while [ $# -gt 0 ]; do
  case $1 in
    --version) [ $# -ge 2 ] || die "--version needs a tag"; version=$2; shift 2 ;;
    --to) [ $# -ge 2 ] || die "--to needs a directory"; dest=$2; shift 2 ;;
    --target) [ $# -ge 2 ] || die "--target needs a target triple"; target=$2; shift 2 ;;
    -h | --help)
      sed -n '2,18p' "$0" 2>/dev/null | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

if [ -z "$target" ]; then
  os=$(uname -s)
  arch=$(uname -m)
  case $arch in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) die "no prebuilt keyleak for $arch; install with: cargo install keyleak --locked (or pip install keyleak)" ;;
  esac
  case $os in
    Linux) target=$arch-unknown-linux-musl ;;
    Darwin) target=$arch-apple-darwin ;;
    MINGW* | MSYS* | CYGWIN*) die "on Windows, download keyleak-x86_64-pc-windows-msvc.zip from the release page (or pip install keyleak)" ;;
    *) die "no prebuilt keyleak for $os; install with: cargo install keyleak --locked (or pip install keyleak)" ;;
  esac
fi
case $version in
  latest) url=$base/latest/download ;;
  v[0-9]*) url=$base/download/$version ;;
  [0-9]*) version=v$version url=$base/download/v$version ;;
  *) die "invalid version '$version' (a tag such as v0.2.0, or latest)" ;;
esac
case $target in
  *[!A-Za-z0-9_.-]*) die "invalid target '$target'" ;;
esac
archive=keyleak-$target.tar.gz

# Plain http only for a KEYLEAK_DOWNLOAD_URL the user chose (a loopback test server).
proto='=https'
[ -z "${KEYLEAK_DOWNLOAD_URL:-}" ] || proto='=https,http'

fetch() { # URL FILE
  if command -v curl >/dev/null 2>&1; then
    curl --proto "$proto" -fsSL --retry 2 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1"
  else
    die "neither curl nor wget is installed"
  fi
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    die "neither sha256sum nor shasum is installed: cannot verify the download"
  fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

say "downloading $archive ($version) from $url"
fetch "$url/$archive" "$tmp/$archive" || die "download failed: $url/$archive"
fetch "$url/SHA256SUMS" "$tmp/SHA256SUMS" || die "download failed: $url/SHA256SUMS"

# The line for exactly this file name; any other line (or none) is not ours.
expected=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1; exit }' "$tmp/SHA256SUMS")
refuse() {
  say "error: $*; nothing was installed"
  exit 3
}
[ -n "$expected" ] || refuse "$archive is not listed in SHA256SUMS"
actual=$(sha256 "$tmp/$archive")
if [ "$actual" != "$expected" ]; then
  refuse "checksum mismatch for $archive: expected $expected, got $actual"
fi
say "checksum verified ($actual)"

mkdir "$tmp/x"
tar -xzf "$tmp/$archive" -C "$tmp/x"
bin=$tmp/x/keyleak-$target/keyleak
[ -f "$bin" ] || die "the archive holds no keyleak-$target/keyleak"
mkdir -p "$dest"
# Copy then rename: a running keyleak (a hook mid-commit) is never overwritten in place.
cp "$bin" "$dest/.keyleak.install.$$"
chmod 755 "$dest/.keyleak.install.$$"
mv -f "$dest/.keyleak.install.$$" "$dest/keyleak"
say "installed $dest/keyleak: $("$dest/keyleak" --version)"
case :${PATH:-}: in
  *:"$dest":*) ;;
  *) say "note: $dest is not on PATH; add it, e.g. export PATH=\"$dest:\$PATH\"" ;;
esac
