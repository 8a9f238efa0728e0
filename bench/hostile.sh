#!/usr/bin/env bash
# Resource bounds on hostile input, measured on a release build (bench/RESULTS-fuzz.md):
#   1. pathological keyword floods (`akia`, `AKIA`, `-----BEGIN` repeated): 10 MB vs 100 MB
#      must scale linearly;
#   2. a 200 MB real (non-sparse) file over --max-file-size: peak RSS stays at the baseline,
#      i.e. the file is never read;
#   3. 100k empty files and a 50 MB single line: wall time;
#   4. untrusted repositories (issue 13): one 0.9 MB blob of 20k `api_key = "…"` lines committed
#      at 500 paths (history and --range), `.gitignore -> /dev/zero`, a FIFO `.gitignore`,
#      19 MB / 100 MB of mixed `\x41%41\u{41}` escapes, files of nothing but keys (plain and
#      escaped) and 100 MB of BOM-less UTF-16: all must stay under 500 MB RSS.
# Usage: bench/hostile.sh [KEYLEAK_BINARY] [untrusted]
#   (default binary: builds target/release/keyleak; `untrusted` runs only part 4)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-}"
only="${2:-}"
if [ -z "$bin" ]; then
  cargo build --release --quiet
  bin="${CARGO_TARGET_DIR:-target}/release/keyleak"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
timeit() { # timeit LABEL ARGS… → "| LABEL | seconds | peak RSS MiB | exit |"
  local label="$1"; shift
  local rc=0
  /usr/bin/time -f '%e %M' -o "$work/time" "$bin" "$@" -q -f json >/dev/null 2>&1 || rc=$?
  read -r secs kb < <(tail -n 1 "$work/time")
  echo "| $label | $secs | $((kb / 1024)) | $rc |"
}
gen() { # gen FILE PIECE MB
  python3 -c "import sys; p=sys.argv[2].encode(); n=int(sys.argv[3])*1024*1024//len(p); open(sys.argv[1],'wb').write(p*n)" "$@"
}
echo "| input | seconds | peak RSS MiB | exit |"
echo "|---|---|---|---|"
untrusted() {
  local repo="$work/flood" i blob
  git init -q -b main "$repo"
  git -C "$repo" -c user.name=b -c user.email=b@example.com commit -q --allow-empty -m base
  python3 -c "
import random, string, sys
r = random.Random(7)
a = string.ascii_letters + string.digits
with open(sys.argv[1], 'w') as f:
    for _ in range(20000):
        f.write('api_key = \"%s\"\n' % ''.join(r.choice(a) for _ in range(40)))" "$work/gen.txt"
  blob=$(git -C "$repo" hash-object -w "$work/gen.txt")
  for i in $(seq 500); do echo "100644 $blob	d$i/gen.txt"; done |
    git -C "$repo" update-index --add --index-info
  git -C "$repo" -c user.name=b -c user.email=b@example.com commit -q -m flood
  timeit "one 0.9 MB blob of 20k findings at 500 paths: git (history)" git "$repo"
  timeit "same: git --range HEAD~1..HEAD" git "$repo" --range HEAD~1..HEAD
  rm -rf "$repo" "$work/gen.txt"
  mkdir -p "$work/zero"
  ln -s /dev/zero "$work/zero/.gitignore"
  echo "AKIAQ3EGTR7HJKL2MNOP" >"$work/zero/a.txt"
  timeit ".gitignore -> /dev/zero" dir "$work/zero"
  rm "$work/zero/.gitignore"
  mkfifo "$work/zero/.gitignore"
  timeit "FIFO .gitignore" dir "$work/zero"
  rm -rf "$work/zero"
  for mb in 19 100; do
    gen "$work/esc-$mb" '\x41%41\u{41}' "$mb"
    timeit "\`\\x41%41\\u{41}\` × $mb MB" dir "$work/esc-$mb" --max-file-size 200MiB
    rm -f "$work/esc-$mb"
    gen "$work/keys-$mb" $'AKIAQ3EGTR7HJKL2MNOP\n' "$mb"
    timeit "\`AKIAQ3EGTR7HJKL2MNOP\\n\` × $mb MB (a key per line)" dir "$work/keys-$mb" --max-file-size 200MiB
    rm -f "$work/keys-$mb"
  done
  gen "$work/esc-keys" '\x41KIAQ3EGTR7HJKL2MNOP ' 100
  timeit "\`\\x41KIAQ3EGTR7HJKL2MNOP \` × 100 MB (escaped keys, one line)" dir "$work/esc-keys" --max-file-size 200MiB
  rm -f "$work/esc-keys"
  python3 -c "
import sys
line = 'key = value number one two three\r\n'
open(sys.argv[1], 'wb').write((line * (50 * 1024 * 1024 // len(line))).encode('utf-16-le'))" "$work/utf16"
  timeit "100 MB of BOM-less UTF-16 text" dir "$work/utf16" --max-file-size 200MiB
  rm -f "$work/utf16"
}
if [ "$only" = untrusted ]; then
  untrusted
  exit 0
fi
for piece in akia AKIA -----BEGIN 'secret=' 'abandon ' 0x eyJ '[1,' 'apiKey: '; do
  for mb in 10 100; do
    f="$work/flood-$mb"
    gen "$f" "$piece" "$mb"
    timeit "\`$piece\` × $mb MB" dir "$f" --max-file-size 200MiB
    rm -f "$f"
  done
done
head -c $((200 * 1024 * 1024)) /dev/urandom >"$work/big.bin"
timeit "200 MB file over --max-file-size 25MiB (skipped)" dir "$work/big.bin"
rm -f "$work/big.bin"
printf 'x' >"$work/tiny.txt"
timeit "baseline: one 1-byte file" dir "$work/tiny.txt"
python3 -c "
import sys
open(sys.argv[1],'w').write('var a=1;'*(50*1024*1024//8) + 'AKIAQ3EGTR7HJKL2MNOP;\n')" "$work/line.js"
timeit "50 MB single line" dir "$work/line.js" --max-file-size 64MiB
rm -f "$work/line.js"
mkdir "$work/many"
python3 -c "
import os, sys
for d in range(100):
    os.mkdir(f'{sys.argv[1]}/{d}')
    for i in range(1000):
        open(f'{sys.argv[1]}/{d}/{i}', 'w').close()" "$work/many"
timeit "100k empty files" dir "$work/many"
untrusted
