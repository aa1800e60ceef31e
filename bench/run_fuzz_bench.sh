#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run_fuzz_bench.sh - executions per second of every fuzz target, beside an empty libFuzzer
# target measured in the same run, on one core.
#
#   bench/run_fuzz_bench.sh [-s SECONDS] [-b BUILD_DIR] [-j CPU]
#
# Uses BUILD_DIR (default build/fuzz, the fuzz preset's directory); if it holds no
# fuzz/targets.tsv or no fuzzer binaries yet, configures it (the fuzz preset, or the same
# settings for another directory), then builds just the fuzzers. Then, for the empty target
# (bench_fuzz_empty) and every target of fuzz/targets.tsv, runs libFuzzer for SECONDS
# (default 30) pinned to CPU (default 0) with taskset, starting from a scratch copy of the
# target's corpus in memory (/dev/shm when there is one: bench_scratch_dir in
# bench_options.sh says why; the committed corpus is never written), and reads the final
# exec/s.
# Prints a comment line with the time, machine and load average (bench_conditions), one row
# per target: exec/s, the empty target's exec/s and the ratio, and the load average at the
# end. Not a test: the numbers depend on the machine and on how busy it is; compare rows of
# one run, not runs of different days.
set -euo pipefail

seconds=30
# shellcheck source=bench_options.sh
source "$(dirname "$0")/bench_options.sh"
bench_options 4,20 "$@"
shift $((OPTIND - 1))
if (($# > 0)); then
  bench_refuse "unexpected argument '$1'"
fi

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
manifest="$build_dir/fuzz/targets.tsv"
empty="$build_dir/bench/bench_fuzz_empty"

# Configure when the tree has no fuzzer binaries yet (the fuzz preset for its own directory,
# the same settings by hand for any other).
if [[ ! -f $manifest ]] || awk -F'\t' '$2 == "-" {bad=1} END {exit !bad}' "$manifest"; then
  echo "== configuring $build_dir (NMRKIT_FUZZ=ON, clang)" >&2
  if [[ $build_dir == build/fuzz ]]; then
    cmake --preset fuzz >&2
  else
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g" \
      -DNMRKIT_FUZZ=ON "-DNMRKIT_SANITIZERS=address;undefined;fuzzer-no-link" >&2
  fi
fi
# Build only what is measured: the empty target and every fuzzer of the manifest.
mapfile -t targets < <(awk -F'\t' '$2 != "-" {print $1}' "$manifest")
echo "== building ${targets[*]} bench_fuzz_empty in $build_dir" >&2
cmake --build "$build_dir" --target bench_fuzz_empty "${targets[@]}" >&2

pin=()
if command -v taskset >/dev/null; then
  pin=(taskset -c "$cpu")
fi
work=$(bench_scratch_dir)
trap 'rm -rf "$work"' EXIT

# libfuzzer_options FILE: the target's libFuzzer flags (the one .options reader).
# shellcheck source=../fuzz/libfuzzer_options.sh
source "$root/fuzz/libfuzzer_options.sh"

# run_one NAME BINARY CORPUS [OPTIONS-FILE]: prints the average exec/s of a SECONDS run.
run_one() {
  local name=$1 binary=$2 corpus=$3 options_file=${4:--}
  local -a extra=()
  mapfile -t extra < <(libfuzzer_options "$options_file")
  local scratch="$work/$name"
  mkdir -p "$scratch"
  if [[ -d $corpus ]]; then
    cp "$corpus"/* "$scratch"/ 2>/dev/null || true
  fi
  local log="$work/$name.log"
  "${pin[@]}" "$binary" "${extra[@]}" -max_total_time="$seconds" -print_final_stats=1 "$scratch" >"$log" 2>&1 || {
    echo "== $name exited with a failure; last lines of its log:" >&2
    tail -n 20 "$log" >&2
    echo 0
    return
  }
  # Final stats line: "stat::number_of_executed_units: N" and "stat::average_exec_per_sec: R".
  local rate
  rate=$(awk '/stat::average_exec_per_sec:/ {print $2}' "$log" | tail -n 1)
  echo "${rate:-0}"
}

echo "== $seconds s per target on CPU $cpu" >&2
bench_conditions
echo "# $seconds s per target from its committed corpus, pinned to CPU $cpu, $build_dir"
empty_rate=$(run_one bench_fuzz_empty "$empty" "")
printf '%-24s %12s %12s %8s\n' target exec/s empty-exec/s ratio
printf '%-24s %12s %12s %8s\n' bench_fuzz_empty "$empty_rate" "$empty_rate" 1.000
while IFS=$'\t' read -r name fuzzer replay corpus options; do
  [[ -n $name ]] || continue
  if [[ $fuzzer == - ]]; then
    printf '%-24s %12s\n' "$name" "no-fuzzer"
    continue
  fi
  rate=$(run_one "$name" "$fuzzer" "$corpus" "$options")
  ratio=$(awk -v a="$rate" -v b="$empty_rate" 'BEGIN { if (b > 0) printf "%.4f", a / b; else print "-" }')
  printf '%-24s %12s %12s %8s\n' "$name" "$rate" "$empty_rate" "$ratio"
done <"$manifest"
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
