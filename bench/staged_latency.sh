#!/usr/bin/env bash
# Pre-commit latency: a repository with 50,000 tracked files and a 10-file staged change;
# times `keyleak git --staged` (what the pre-commit hook runs) over RUNS runs.
#
#   bench/staged_latency.sh            # KEYLEAK=path/to/keyleak, default /work/target-bench/release/keyleak
#   RUNS=20 bench/staged_latency.sh
#   STAGED_REPO=DIR bench/staged_latency.sh   # an existing work tree instead (e.g. the Linux tree
#                                             # committed once: 79k tracked files); its `main`/HEAD
#                                             # commit is restored after each run; it appends
#                                             # to files, so DIR must not share inodes (cp -al)
#                                             # with a corpus
#
# The repository is made once under $KEYLEAK_BENCH_DIR (default /work/bench-corpus)/staged-50k
# with bench/gen_history.py (one commit of 50k files). Exits 0 with a "skipped" line when
# `keyleak git --staged` does not run (the command may not exist yet).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=${KEYLEAK_BENCH_DIR:-/work/bench-corpus}
kl=${KEYLEAK:-${CARGO_TARGET_DIR:-/work/target-bench}/release/keyleak}
runs=${RUNS:-20}
repo=${STAGED_REPO:-$root/staged-50k}

mkdir -p "$root"
if [[ -z ${STAGED_REPO:-} && ! -f $root/staged-50k.ready ]]; then
  rm -rf "$repo" "$repo.manifest.json"
  python3 "$here/gen_history.py" "$repo" --commits 1 --tree-files 50000 --checkout >&2
  touch "$root/staged-50k.ready"
fi

cd "$repo"
git reset -q --hard HEAD
# the staged change: 10 files, one of them with a FAKE AWS key (format-shaped, random)
mapfile -t files < <(git ls-files | awk 'NR % 5000 == 1' | head -10)
for f in "${files[@]}"; do printf 'print("staged change %s")\n' "$f" >> "$f"; done
printf 'AWS_ACCESS_KEY_ID=AKIA%s\n' "$(python3 -c 'import random;r=random.Random(3);print("".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)))')" >> "${files[0]}"
git add -f -- "${files[@]}"
nstaged=$(git diff --cached --name-only | wc -l)
ntracked=$(git ls-files | wc -l)

echo "repo: $repo ($ntracked tracked files, $nstaged staged)"
if [[ ! -x $kl ]]; then
  echo "skipped: $kl not built"
  exit 0
fi
set +e
"$kl" git --staged -f json -o /dev/null --no-progress -q
rc=$?
set -e
if [[ $rc -ne 0 && $rc -ne 1 ]]; then
  echo "skipped: \`keyleak git --staged\` exit $rc: $("$kl" git --staged --no-progress -q 2>&1 | tail -1 | cut -c1-200)"
  exit 0
fi

python3 - "$kl" "$runs" <<'EOF'
import statistics, subprocess, sys, time
kl, runs = sys.argv[1], int(sys.argv[2])
def t(cmd, shell=False):
    w = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, shell=shell, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        w.append(time.perf_counter() - t0)
    return r.returncode, statistics.median(w), min(w), max(w)
rc, med, lo, hi = t([kl, "git", "--staged", "-f", "json", "-o", "/dev/null", "--no-progress", "-q"])
print(f"keyleak git --staged: median {med*1000:.1f} ms, min {lo*1000:.1f}, max {hi*1000:.1f} ms over {runs} runs (exit {rc}: {'finding reported' if rc == 1 else 'no finding'})")
rc, med, lo, hi = t("git diff --cached -U0 | rg -c -i akia", shell=True)
print(f"floor, git diff --cached -U0 | rg: median {med*1000:.1f} ms, min {lo*1000:.1f}, max {hi*1000:.1f} ms")
EOF
