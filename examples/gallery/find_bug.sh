#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# find_bug.sh FUZZER REPLAY EXPECTED WORKDIR SECONDS
# Fuzzes from an empty corpus for at most SECONDS; passes when the fuzzer stops with a crash
# file whose report matches EXPECTED (an extended regular expression) and the replay program
# reproduces the same report from that file. Prints the time to find.
set -u
fuzzer=$1 replay=$2 expected=$3 work=$4 seconds=$5
rm -rf -- "$work"
mkdir -p -- "$work/corpus" "$work/artifacts"
start=$(date +%s.%N)
"$fuzzer" -max_total_time="$seconds" -timeout=10 -artifact_prefix="$work/artifacts/" \
    "$work/corpus" >"$work/fuzz.log" 2>&1
status=$?
end=$(date +%s.%N)
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
artifact=$(ls -1 "$work/artifacts" 2>/dev/null | head -n 1)
if [[ $status -eq 0 || -z $artifact ]]; then
    echo "FAIL: no finding in ${seconds} s (exit $status); log: $work/fuzz.log"
    tail -n 20 "$work/fuzz.log"
    exit 1
fi
if ! grep -Eq -- "$expected" "$work/fuzz.log"; then
    echo "FAIL: a finding after ${elapsed} s, but not the expected one ($expected):"
    grep -E -m 5 -- '\*\*\*|ERROR|SUMMARY' "$work/fuzz.log"
    exit 1
fi
{ "$replay" -runs=1 "$work/artifacts/$artifact"; } >"$work/replay.log" 2>&1
if ! grep -Eq -- "$expected" "$work/replay.log"; then
    echo "FAIL: $artifact does not reproduce the report with the replay program:"
    tail -n 20 "$work/replay.log"
    exit 1
fi
echo "found in ${elapsed} s: $(grep -E -m 1 -- "$expected" "$work/fuzz.log")"
echo "artifact: $work/artifacts/$artifact (replays with $(basename "$replay"))"
