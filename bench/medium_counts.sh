#!/usr/bin/env bash
# Counts findings at medium or above, per rule, on one corpus: `dir` for a directory, `git` for a
# bare repository (its whole history). Used for the false-positive figures of the generic
# `generic-secret-named` rule and the SDK-context exchange rules (bench/RESULTS.md).
#   bench/medium_counts.sh KEYLEAK CORPUS [extra keyleak args…]
set -euo pipefail
bin=$1; corpus=$2; shift 2
if [ -d "$corpus/objects" ] || [ -f "$corpus/HEAD" ] && [ ! -d "$corpus/.git" ] && [ -d "$corpus/refs" ]; then
  cmd=(git "$corpus")
else
  cmd=(dir "$corpus" --no-ignore)
fi
"$bin" "${cmd[@]}" -f jsonl --no-progress -q --exit-code 0 "$@" |
  python3 -c '
import json, sys, collections
c = collections.Counter()
for line in sys.stdin:
    f = json.loads(line)
    if f["severity"] in ("medium", "high", "critical") and not f.get("known_public"):
        c[f["rule_id"]] += 1
print("total", sum(c.values()))
for r, n in c.most_common():
    print(f"  {r} {n}")
'
