#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run_fuzz_breakdown.sh - where one input's time goes, per fuzz target: exec/s and the ratio
# to the empty libFuzzer target of the same run, NMR API calls per input and per second,
# and the share of the samples spent in each part of an input.
#
#   bench/run_fuzz_breakdown.sh [-s SECONDS] [-b BUILD_DIR] [-j CPU] [TARGET...]
#
# Needs perf (samples, cpu-clock, frame-pointer call chains) and gdb (NMR call counts); a
# column whose tool is missing prints "-". Builds what it measures like run_fuzz_bench.sh
# (BUILD_DIR default build/fuzz). For the empty target and each TARGET (default: every
# target of fuzz/targets.tsv), runs libFuzzer for SECONDS (default 15) pinned to CPU
# (default 0) on a scratch copy of the corpus under `perf record`. Each sample goes to the
# first of these, walking its call chain from the innermost frame out:
#   trace     the trace recorder and the input reader (harness fuzz_trace_*, fuzz_input_*,
#             fuzz_take_*)
#   sched     the fiber scheduler (kshim_sched_*, kshim_fiber_*, kshim_dispatcher_*)
#   reset     the per-input reset and end-of-input audit (fuzz_run_*, nmr_reset,
#             kshim_audit, kshim_pool_forget_freed)
#   callback  a module callback: target code called by the registrar (src/)
#   nmr       inside a public NMR function (Nmr*), shim work included
#   harness   the rest of the input: decoding, reference model, oracles
#   libfuzzer outside LLVMFuzzerTestOneInput: mutation, feature collection, corpus
#   cut       call chain cut short (a frame without a frame pointer): not attributed
# (A simulated thread's chain ends at its fiber's start, inside the input.)
# NMR calls per input: every public Nmr* function's calls while the replay program runs
# each committed input once (gdb breakpoints), divided by the number of inputs; per second:
# that times the target's exec/s. Not a test; compare rows of one run.
set -euo pipefail

seconds=15
# shellcheck source=bench_options.sh
source "$(dirname "$0")/bench_options.sh"
bench_options 4,29 "$@"
shift $((OPTIND - 1))

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
manifest="$build_dir/fuzz/targets.tsv"
empty="$build_dir/bench/bench_fuzz_empty"
if [[ ! -f $manifest ]]; then
  echo "run_fuzz_breakdown.sh: no $manifest; run bench/run_fuzz_bench.sh -b $build_dir first" >&2
  exit 2
fi
mapfile -t all < <(awk -F'\t' '$2 != "-" {print $1}' "$manifest")
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all[@]}")
replays=()
for t in "${targets[@]}"; do replays+=("${t}_replay"); done
echo "== building ${targets[*]} bench_fuzz_empty in $build_dir" >&2
cmake --build "$build_dir" --target bench_fuzz_empty "${targets[@]}" "${replays[@]}" >&2

have_perf=0; have_gdb=0
command -v perf >/dev/null && perf stat -e cpu-clock true >/dev/null 2>&1 && have_perf=1
command -v gdb >/dev/null && have_gdb=1
pin=()
command -v taskset >/dev/null && pin=(taskset -c "$cpu")
work=$(bench_scratch_dir)
trap 'rm -rf "$work"' EXIT
# shellcheck source=../fuzz/libfuzzer_options.sh
source "$root/fuzz/libfuzzer_options.sh"

# fuzz NAME BINARY CORPUS OPTIONS: runs libFuzzer for SECONDS (under perf when present);
# prints the average exec/s.
fuzz() {
  local name=$1 binary=$2 corpus=$3 options_file=$4
  local -a extra=() record=()
  mapfile -t extra < <(libfuzzer_options "$options_file")
  mkdir -p "$work/$name"
  [[ -d $corpus ]] && cp "$corpus"/* "$work/$name"/ 2>/dev/null || true
  [[ $have_perf == 1 ]] && record=(perf record -q -e cpu-clock -F 2000 -g -o "$work/$name.perf" --)
  "${record[@]}" "${pin[@]}" "$binary" "${extra[@]}" -max_total_time="$seconds" \
    -print_final_stats=1 "$work/$name" >"$work/$name.log" 2>&1 || true
  awk '/stat::average_exec_per_sec:/ {r=$2} END {print r+0}' "$work/$name.log"
}

# shares NAME BINARY: the percentage of samples in each part (see the header), one line.
shares() {
  local name=$1 binary=$2
  if [[ $have_perf == 0 || ! -f $work/$name.perf ]]; then
    echo "- - - - - - - -"
    return
  fi
  # Which source directory each function comes from (src, shim, harness, fuzz, other: the
  # last of these in its file's path, so a build of another checkout is classified too).
  nm -l --defined-only "$binary" 2>/dev/null |
    awk '$2 ~ /^[tTwW]$/ && NF >= 4 {
      file = $4; dir = "other"; n = split(file, p, "/")
      for (i = n - 1; i >= 1; i--) if (p[i] ~ /^(src|shim|harness|fuzz)$/) { dir = p[i]; break }
      print $3, dir }' >"$work/$name.dirs"
  perf script -i "$work/$name.perf" -F comm,ip,sym 2>/dev/null |
    awk -v dirs="$work/$name.dirs" '
      BEGIN { while ((getline line < dirs) > 0) { split(line, f, " "); dir[f[1]] = f[2] } }
      function classify(   i, s, d) {
        if (!seen_main) return "cut"
        if (!seen_input) return "libfuzzer"
        for (i = 1; i <= n; i++) {
          s = frame[i]; d = dir[s]
          if (s ~ /^(fuzz_trace_|fuzz_input_|fuzz_take_)/) return "trace"
          if (s ~ /^(kshim_sched_|kshim_fiber_|kshim_dispatcher_|kshim_context_switch)/) return "sched"
          if (s ~ /^(fuzz_run_|nmr_reset|kshim_audit|kshim_pool_forget_freed)/) return "reset"
          if (d == "fuzz" && i < n && dir[frame[i + 1]] == "src") return "callback"
          if (d == "src" && s ~ /^Nmr[A-Z]/) return "nmr"
        }
        return "harness"
      }
      function flush() { if (n > 0) { count[classify()]++; total++ }; n = 0; seen_main = 0; seen_input = 0 }
      /^\t/ { s = $2; sub(/\+0x[0-9a-f]+$/, "", s); frame[++n] = s
              if (s == "LLVMFuzzerTestOneInput") seen_input = 1
              if (s == "fiber_start") { seen_input = 1; seen_main = 1 } # a simulated thread
              if (s == "main" || s == "__libc_start_call_main") seen_main = 1; next }
      /^$/ { flush(); next }
      { flush() }
      END { flush()
            split("libfuzzer reset nmr callback sched trace harness cut", parts, " ")
            for (i = 1; i <= 8; i++) printf "%s%.0f", (i > 1 ? " " : ""), total ? 100 * count[parts[i]] / total : 0
            printf "\n" }'
}

# nmr_calls REPLAY CORPUS: public Nmr* calls per committed input (replayed once each).
nmr_calls() {
  local replay=$1 corpus=$2
  if [[ $have_gdb == 0 ]]; then echo "-"; return; fi
  local inputs
  inputs=$(find "$corpus" -maxdepth 1 -type f | wc -l)
  gdb -nx -batch -ex 'set breakpoint pending on' -ex 'rbreak ^Nmr[A-Z][A-Za-z]*$' \
    -ex 'python [b.__setattr__("ignore_count", 1 << 30) for b in gdb.breakpoints()]' \
    -ex run -ex 'python print("nmr-calls", sum(b.hit_count for b in gdb.breakpoints()))' \
    --args "$replay" -runs=1 "$corpus" 2>/dev/null |
    awk -v inputs="$inputs" '/^nmr-calls/ {printf "%.1f", inputs ? $2 / inputs : 0; found = 1}
                             END {if (!found) printf "-"}'
  echo
}

echo "== $seconds s per target on CPU $cpu" >&2
bench_conditions
empty_rate=$(fuzz bench_fuzz_empty "$empty" "" -)
printf '%-26s %9s %7s %10s %9s | %s\n' target exec/s ratio nmr/input nmr/s \
  "% libfuzzer reset nmr callback sched trace harness cut"
printf '%-26s %9s %7s %10s %9s |\n' bench_fuzz_empty "$empty_rate" 1.000 - -
while IFS=$'\t' read -r name fuzzer replay corpus options; do
  [[ -n $name && $fuzzer != - ]] || continue
  [[ " ${targets[*]} " == *" $name "* ]] || continue
  rate=$(fuzz "$name" "$fuzzer" "$corpus" "$options")
  ratio=$(awk -v a="$rate" -v b="$empty_rate" 'BEGIN { if (b > 0) printf "%.4f", a / b; else print "-" }')
  calls=$(nmr_calls "$replay" "$corpus")
  per_second=$(awk -v c="$calls" -v r="$rate" 'BEGIN { if (c == "-") print "-"; else printf "%.0f", c * r }')
  printf '%-26s %9s %7s %10s %9s | %s\n' "$name" "$rate" "$ratio" "$calls" "$per_second" \
    "$(shares "$name" "$fuzzer" | awk '{printf "%9s %5s %3s %8s %5s %5s %7s %3s", $1, $2, $3, $4, $5, $6, $7, $8}')"
done <"$manifest"
