#!/usr/bin/env bash
# A multi-repository audit split into shards, one after another on this machine: wall time and
# peak RSS of each shard, and a check that the merged shard reports equal the single run.
# Usage: bench/audit_shards.sh KEYLEAK REPO... (local repositories, e.g. bare mirrors)
set -euo pipefail
keyleak=$1
shift
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$keyleak" git "$@" -q --no-progress -f json -o "$out/single.json" || [ $? -eq 1 ]
echo "| shards | shard | wall s | peak RSS MiB | findings |"
echo "|---|---|---|---|---|"
for n in 1 2 4; do
  for k in $(seq 1 "$n"); do
    /usr/bin/time -f "%e %M" -o "$out/time" \
      "$keyleak" git "$@" --shard "$k/$n" -q --no-progress -f json -o "$out/s$n-$k.json" ||
      [ $? -eq 1 ]
    # time(1) writes "Command exited with non-zero status 1" first when there are findings.
    read -r wall rss < <(tail -n 1 "$out/time")
    found=$(grep -c '"rule_id"' "$out/s$n-$k.json" || true)
    echo "| $n | $k | $wall | $((rss / 1024)) | $found |"
  done
  "$keyleak" merge "$out"/s"$n"-*.json -q -o "$out/merged-$n.json" || [ $? -eq 1 ]
  if cmp -s "$out/single.json" "$out/merged-$n.json"; then
    echo "| $n | merged | | | identical to the single run |"
  else
    echo "| $n | merged | | | DIFFERS from the single run |"
  fi
done
