#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# compare_builds.sh - is a change faster? CPU microseconds per execution of a fuzz target in
# two (or more) fuzz builds, on the same fixed libFuzzer run.
#
#   bench/compare_builds.sh [-r REPEATS] [-n RUNS] [-j CPU] TARGET BUILD_DIR BUILD_DIR...
#
# Each build runs TARGET (a name of its fuzz/targets.tsv) with -seed=1 and -runs=RUNS
# (default 30000) from a scratch copy of the target's committed corpus (in memory, see
# bench_scratch_dir), with the target's .options, pinned to CPU (default 0); the builds take
# turns, REPEATS times (default 5), and each build's minimum CPU time (user + sys) per
# execution is printed. Timed exec/s moves with how the corpus grows during the run; a fixed
# run does not. Runs have address randomization off (setarch -R) when the machine allows it,
# so one binary's runs repeat exactly. Builds that instrument the same edges execute nearly
# the same inputs (libFuzzer's comparison tables are indexed by the caller's address, which
# any code change moves), so the difference is the code's speed. (A change to what
# libFuzzer's coverage sees, such as the coverage ignorelist, changes the inputs much more:
# compare such builds on bench/run_fuzz_bench.sh instead.) Taking turns and the minimum keep
# most of a busy machine's noise out, which on the project's machine was up to 25% between
# identical runs.
# A BUILD_DIR may be a copy of a build directory (cp -a build/fuzz base): its own binaries
# are measured, though its manifest names the original's.
# Not a test; compare the rows of one run.
set -euo pipefail

repeats=5
runs=30000
cpu=0
usage() { sed -n 4,24p "$0"; }
OPTIND=1
while getopts "r:n:j:h" opt; do
  case $opt in
    r) repeats=$OPTARG ;;
    n) runs=$OPTARG ;;
    j) cpu=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [[ $# -lt 2 ]]; then
  usage >&2
  exit 2
fi
for value in "$repeats" "$runs" "$cpu"; do
  if [[ ! $value =~ ^[0-9]+$ ]] || ((value > 100000000)); then
    echo "compare_builds.sh: '$value' is not a count (-r, -n, -j take whole numbers)" >&2
    exit 2
  fi
done
if ((repeats == 0 || runs == 0)); then
  echo "compare_builds.sh: -r and -n must be at least 1" >&2
  exit 2
fi
target=$1
shift
builds=("$@")

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench_options.sh
source "$root/bench/bench_options.sh"
# shellcheck source=../fuzz/libfuzzer_options.sh
source "$root/fuzz/libfuzzer_options.sh"

# binary_in_build BUILD PATH: the manifest's binary PATH as found in BUILD ("-" when BUILD has
# none). A manifest names the binaries of the tree it was configured in, so in a copy of a
# build directory (cp -a build/fuzz base) it still names the original's: the copy's own
# binary is the one at the same place under BUILD (the shortest tail of PATH that is an
# executable there). Never the original's: that would measure one program twice.
binary_in_build() {
  local build=$1 path=$2 tail="" k
  local real_build real_path
  real_build=$(realpath -- "$build")
  real_path=$(realpath -m -- "$path")
  if [[ $path == - || $real_path == "$real_build"/* ]]; then
    echo "$path"
    return
  fi
  local -a parts
  IFS=/ read -r -a parts <<<"$path"
  for ((k = ${#parts[@]} - 1; k > 0; k--)); do
    tail=${parts[$k]}${tail:+/$tail}
    if [[ -x $build/$tail && ! -d $build/$tail ]]; then
      echo "compare_builds.sh: $build is a copy of the build in which ${path%"/$tail"} was" \
           "configured; measuring its own $build/$tail" >&2
      echo "$build/$tail"
      return
    fi
  done
  echo -
}

# The target's fuzzer, corpus and .options in each build's manifest.
fuzzer=() corpus=() options=()
for b in "${!builds[@]}"; do
  build=${builds[$b]}
  manifest="$build/fuzz/targets.tsv"
  if [[ ! -f $manifest ]]; then
    echo "compare_builds.sh: $build has no fuzz/targets.tsv (not a fuzz build?)" >&2
    exit 2
  fi
  line=$(awk -F'\t' -v t="$target" '$1 == t' "$manifest")
  if [[ -z $line ]]; then
    echo "compare_builds.sh: $build has no target $target" >&2
    exit 2
  fi
  IFS=$'\t' read -r _ "fuzzer[$b]" _ "corpus[$b]" "options[$b]" <<<"$line"
  fuzzer[b]=$(binary_in_build "$build" "${fuzzer[$b]}")
  if [[ ${fuzzer[$b]} == - || ! -x ${fuzzer[$b]} ]]; then
    echo "compare_builds.sh: $build has no fuzzer binary for $target (build it first)" >&2
    exit 2
  fi
done

pin=()
command -v taskset >/dev/null && pin=(taskset -c "$cpu")
# Address randomization off (setarch -R) where the machine allows it: with it on, one binary's
# fixed runs did not repeat. libFuzzer's stack-depth feature sees the stack's address, and
# fuzz_nmr_contract's printed lines hold handle values (heap addresses) that reach its
# comparison tables through memcmp and memmem, so each run mutated towards other inputs.
norandom=()
if command -v setarch >/dev/null && setarch "$(uname -m)" -R true 2>/dev/null; then
  norandom=(setarch "$(uname -m)" -R)
else
  echo "compare_builds.sh: setarch -R is not available here; runs keep address randomization" \
       "and may execute different inputs from one run to the next" >&2
fi
work=$(bench_scratch_dir)
trap 'rm -rf "$work"' EXIT

# cpu_us INDEX: CPU microseconds per execution of one fixed run of the INDEX-th build.
cpu_us() {
  local b=$1 scratch="$work/corpus" times="$work/times"
  local -a extra=()
  mapfile -t extra < <(libfuzzer_options "${options[$b]}")
  rm -rf "$scratch"
  mkdir -p "$scratch"
  cp "${corpus[$b]}"/* "$scratch"/ 2>/dev/null || true
  local status=0 TIMEFORMAT='%U %S'
  # bash's own time keyword: the user and system CPU seconds of the run.
  { time "${pin[@]}" "${norandom[@]}" "${fuzzer[$b]}" "${extra[@]}" -seed=1 -runs="$runs" \
      "$scratch" >"$work/log" 2>&1 || status=$?; } 2>"$times"
  if ((status != 0)); then
    echo "compare_builds.sh: $target of ${builds[$b]} failed (exit $status); last lines of its log:" >&2
    tail -n 20 "$work/log" >&2
    exit 1
  fi
  awk -v n="$runs" '{ printf "%.2f", ($1 + $2) * 1e6 / n }' "$times"
}

best=()
echo "== $target: $repeats x $runs executions per build, seed 1, CPU $cpu" >&2
for ((i = 0; i < repeats; i++)); do
  for b in "${!builds[@]}"; do
    us=$(cpu_us "$b")
    if [[ -z ${best[$b]:-} ]] || awk -v a="$us" -v m="${best[$b]}" 'BEGIN { exit !(a < m) }'; then
      best[b]=$us
    fi
  done
done
printf '%-40s %16s\n' build "min us/exec"
for b in "${!builds[@]}"; do
  printf '%-40s %16s\n' "${builds[$b]}" "${best[$b]}"
done
