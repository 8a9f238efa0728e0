#!/bin/sh
# The `keyleak-prebuilt` pre-commit hook (language: script): runs the released keyleak binary of
# this hook repository's version (Cargo.toml at the pinned rev; pin `rev:` to a release tag),
# downloaded and verified against the release's SHA256SUMS by install.sh on first use and kept in
# ${KEYLEAK_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/keyleak}/vVERSION/. No Rust toolchain, no build.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$here/Cargo.toml" | head -n 1)
[ -n "$version" ] || {
  echo "keyleak-prebuilt: no version in $here/Cargo.toml" >&2
  exit 2
}
cache=${KEYLEAK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/keyleak}/v$version
if [ ! -x "$cache/keyleak" ]; then
  sh "$here/install.sh" --version "v$version" --to "$cache" >&2 || {
    echo "keyleak-prebuilt: could not install keyleak v$version; use the \`keyleak\` hook (builds from source) instead" >&2
    exit 2
  }
fi
exec "$cache/keyleak" "$@"
