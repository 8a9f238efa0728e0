#!/usr/bin/env bash
# Runs every fuzz target for a bounded time and prints one Markdown table row per target,
# ready for bench/RESULTS-fuzz.md.
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]      (default: 60 s, every target)
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Seeds in fuzz/seeds/
# are copied into the working corpus (fuzz/corpus/, not committed); crashes land in
# fuzz/artifacts/<target>/ and make this script exit non-zero.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(matcher rules config validators report archives simd)
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "run.sh: needs nightly and cargo-fuzz (rustup toolchain install nightly; cargo install cargo-fuzz)" >&2
  exit 2
fi
status=0
echo "| target | seconds | execs | exec/s | corpus | result |"
echo "|---|---|---|---|---|---|"
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true
  dict=()
  [ -f "$t.dict" ] && dict=("-dict=$t.dict")
  log="$(mktemp)"
  # -rss_limit_mb: a leak or an unbounded allocation is a finding too.
  if cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 "${dict[@]}" >"$log" 2>&1; then
    result="ok"
  else
    result="CRASH (see fuzz/artifacts/$t, log $log)"
    status=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  corpus=$(ls "corpus/$t" | wc -l)
  echo "| $t | $secs | ${runs:-?} | ${rate:-?} | $corpus | $result |"
  [ "$result" = ok ] && rm -f "$log"
done
exit $status
