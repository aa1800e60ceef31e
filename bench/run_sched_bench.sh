#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run_sched_bench.sh - executions per second of the fiber scheduler's benchmark target
# (bench/fuzz_sched_bench.c: 3 simulated threads, 70 yield points per execution, the schedule
# from the input) beside the empty libFuzzer target (bench/fuzz_empty.c), on one core.
#
#   bench/run_sched_bench.sh [-s SECONDS] [-b BUILD_DIR] [-j CPU] [-t]
#
# Configures BUILD_DIR (default build/sch-fuzz) when it has no cache yet, with the fuzz
# preset's settings: clang, -O1 -g, NMRKIT_FUZZ=ON, NMRKIT_SCHEDULER=fibers, ASan + UBSan +
# fuzzer-no-link; then builds bench_fuzz_empty and bench_fuzz_sched (and fuzz_nmr_schedule
# with -t). Runs each libFuzzer binary for SECONDS (default 20) pinned to CPU (default 0) with
# taskset when available, from an empty scratch corpus, and prints exec/s, the empty target's
# exec/s and the ratio, plus the yield points per execution that the benchmark reports.
# -t also measures fuzz_nmr_schedule (from a scratch copy of its committed corpus).
# Not a test: the numbers depend on the machine; compare rows of one run.
set -euo pipefail

seconds=20
build_dir=build/sch-fuzz
cpu=0
with_target=0
# shellcheck source=bench_options.sh
source "$(dirname "$0")/bench_options.sh"
while getopts ":s:b:j:th" opt; do
  case $opt in
    s) seconds=$OPTARG ;;
    b) build_dir=$OPTARG ;;
    j) cpu=$OPTARG ;;
    t) with_target=1 ;;
    h) sed -n '4,18p' "$0"; exit 0 ;;
    :) bench_refuse "-$OPTARG needs a value" ;;
    *) bench_refuse "unknown option -$OPTARG" ;;
  esac
done
shift $((OPTIND - 1))
if (($# > 0)); then
  bench_refuse "unexpected argument '$1'"
fi
bench_check_values

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  echo "== configuring $build_dir (fibers, ASan + UBSan + libFuzzer)" >&2
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g" \
    -DNMRKIT_FUZZ=ON -DNMRKIT_SCHEDULER=fibers \
    "-DNMRKIT_SANITIZERS=address;undefined;fuzzer-no-link" >&2
fi
if ! grep -q '^NMRKIT_SCHEDULER:STRING=fibers$' "$build_dir/CMakeCache.txt" ||
   ! grep -q '^NMRKIT_FUZZ:BOOL=ON$' "$build_dir/CMakeCache.txt"; then
  echo "run_sched_bench: $build_dir is not configured with NMRKIT_FUZZ=ON and NMRKIT_SCHEDULER=fibers" >&2
  exit 1
fi
targets=(bench_fuzz_empty bench_fuzz_sched)
((with_target)) && targets+=(fuzz_nmr_schedule)
echo "== building ${targets[*]} in $build_dir" >&2
cmake --build "$build_dir" --target "${targets[@]}" >&2

pin=()
if command -v taskset >/dev/null; then
  pin=(taskset -c "$cpu")
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run_one NAME [CORPUS] -- ARGS...: runs the binary for SECONDS; prints "exec/s yield-line".
run_one() {
  local name=$1 corpus=$2
  shift 2
  local scratch="$work/$name" log="$work/$name.log"
  mkdir -p "$scratch"
  if [[ -n $corpus ]]; then
    cp "$corpus"/* "$scratch"/
  fi
  local binary="$build_dir/bench/$name"
  [[ $name == bench_* ]] || binary="$build_dir/fuzz/$name"
  if ! "${pin[@]}" "$binary" "$@" -detect_leaks=0 -max_total_time="$seconds" \
      -print_final_stats=1 "$scratch" >"$log" 2>&1; then
    echo "== $name exited with a failure; last lines of its log:" >&2
    tail -n 20 "$log" >&2
    echo 0
    return
  fi
  awk '/stat::average_exec_per_sec:/ {print $2}' "$log" | tail -n 1
  grep -m1 '^fuzz_sched_bench:' "$log" >&2 || true
}

echo "== $seconds s per binary on CPU $cpu" >&2
bench_conditions
empty=$(run_one bench_fuzz_empty "" -max_len=64)
sched=$(run_one bench_fuzz_sched "" -max_len=128)
printf '%-20s %12s %12s %8s\n' binary exec/s empty-exec/s ratio
printf '%-20s %12s %12s %8s\n' bench_fuzz_empty "$empty" "$empty" 1.000
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.4f", a / b; else print "-" }'; }
printf '%-20s %12s %12s %8s\n' bench_fuzz_sched "$sched" "$empty" "$(ratio "$sched" "$empty")"
if ((with_target)); then
  target=$(run_one fuzz_nmr_schedule "$root/corpus/fuzz_nmr_schedule" -max_len=512)
  printf '%-20s %12s %12s %8s\n' fuzz_nmr_schedule "$target" "$empty" "$(ratio "$target" "$empty")"
fi
