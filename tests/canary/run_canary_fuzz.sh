#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run_canary_fuzz.sh - run a libFuzzer binary for a fixed time and judge what it found.
#
#   run_canary_fuzz.sh find    FUZZER OPTIONS_FILE ARTIFACT_DIR SECONDS [CORPUS [EXPECT]]
#   run_canary_fuzz.sh survive FUZZER OPTIONS_FILE ARTIFACT_DIR SECONDS [CORPUS]
#
# ARTIFACT_DIR (under the build tree) is emptied, then receives libFuzzer's log (fuzzer.log)
# and its artifacts (crash-<sha1>, timeout-<sha1>, ...). The fuzzer starts from a fresh empty
# scratch corpus inside ARTIFACT_DIR, plus CORPUS (read-only: listed second, never written)
# when given, with the [libfuzzer] options of OPTIONS_FILE, -timeout=10 and
# -max_total_time=SECONDS.
#   find:    passes iff libFuzzer stopped on a finding (crash, stop, oracle, deadlock) and wrote
#            a crash artifact; prints the time it took and the first stop line. With EXPECT
#            (an extended regular expression, grep -E), the first stop line must also match
#            it: a finding for another reason (an unrelated stop, a sanitizer report with no
#            stop line) fails, so a canary counts only when the oracle meant for it caught it.
#            CORPUS may be "" to give EXPECT without a corpus.
#   survive: passes iff libFuzzer ran the whole time without a finding or an artifact.
# Exit status: 0 pass, 1 fail, 2 usage.
set -uo pipefail

usage() {
    sed -n '5,6p' "$0" >&2
    exit 2
}
(($# >= 5 && $# <= 7)) || usage
mode=$1 fuzzer=$2 options_file=$3 artifacts=$4 seconds=$5 corpus=${6:-} expect=${7:-}
[[ $mode == find || $mode == survive ]] || usage
[[ $mode == find || -z $expect ]] || usage
[[ -x $fuzzer ]] || { echo "run_canary_fuzz: $fuzzer is not an executable" >&2; exit 2; }
# Absolute paths: the fuzzer runs inside ARTIFACT_DIR, so stray files land there too.
fuzzer=$(realpath "$fuzzer")
options_file=$(realpath "$options_file")
artifacts=$(realpath -m "$artifacts")
[[ -z $corpus ]] || corpus=$(realpath "$corpus")
[[ -z $corpus || -d $corpus ]] || { echo "run_canary_fuzz: $corpus is not a directory" >&2; exit 2; }

# libfuzzer_options FILE: the target's libFuzzer flags (the one .options reader).
# shellcheck source=../../fuzz/libfuzzer_options.sh
source "$(dirname -- "$(realpath -- "${BASH_SOURCE[0]}")")/../../fuzz/libfuzzer_options.sh"

rm -rf "$artifacts"
mkdir -p "$artifacts"
scratch="$artifacts/scratch-corpus"
mkdir -p "$scratch"
mapfile -t extra < <(libfuzzer_options "$options_file")
corpora=("$scratch")
[[ -n $corpus ]] && corpora+=("$corpus")
log="$artifacts/fuzzer.log"
name=$(basename "$fuzzer")

start=$(date +%s.%N)
(cd "$artifacts" && "$fuzzer" "${extra[@]}" -timeout=10 -max_total_time="$seconds" \
    -artifact_prefix="$artifacts/" -print_final_stats=1 "${corpora[@]}") >"$log" 2>&1
status=$?
end=$(date +%s.%N)
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
rm -rf "$scratch"

first_stop=$(grep -m1 -E '^\*\*\* (NMR VERIFIER STOP|FUZZ ORACLE|KSHIM STOP|KSHIM DEADLOCK)' "$log")
sanitizer=$(grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY): ' "$log")
runs=$(awk '/stat::number_of_executed_units:/ {print $2}' "$log" | tail -n 1)
crash=$(find "$artifacts" -maxdepth 1 -name 'crash-*' | head -n 1)
other=$(find "$artifacts" -maxdepth 1 \( -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \
    -o -name 'slow-unit-*' \) | head -n 1)

if [[ $mode == find ]]; then
    if ((status != 0)) && [[ -n $crash ]]; then
        if [[ -n $expect ]] && ! grep -qE -e "$expect" <<<"$first_stop"; then
            echo "$name: found in ${elapsed} s, but by another reason than expected" >&2
            echo "  first stop: ${first_stop:-${sanitizer:-(none printed)}}" >&2
            echo "  expected:   $expect" >&2
            echo "  artifact:   $crash" >&2
            tail -n 40 "$log" >&2
            exit 1
        fi
        echo "$name: found in ${elapsed} s (libFuzzer exit $status, ${runs:-?} runs)"
        echo "  first stop: ${first_stop:-${sanitizer:-(none printed)}}"
        echo "  artifact:   $crash"
        exit 0
    fi
    echo "$name: NOT found in ${elapsed} s (libFuzzer exit $status, ${runs:-?} runs${other:+, other artifact $other})" >&2
    tail -n 30 "$log" >&2
    exit 1
fi

if ((status == 0)) && [[ -z $crash && -z $other ]]; then
    echo "$name: no finding in ${elapsed} s (${runs:-?} runs)"
    exit 0
fi
echo "$name: FINDING after ${elapsed} s (libFuzzer exit $status): ${first_stop:-$sanitizer}" >&2
echo "  artifact: ${crash:-$other}" >&2
tail -n 40 "$log" >&2
exit 1
