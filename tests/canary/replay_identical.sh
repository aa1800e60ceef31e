#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# replay_identical.sh - replay one committed input RUNS times; the replay program fails unless
# every run's trace hash (fiber builds: every call, callback and scheduling decision) equals
# the first run's.
#
#   replay_identical.sh REPLAY CORPUS_DIR RUNS
#
# The input is the largest file of CORPUS_DIR (ties: first by name), so the most eventful one.
set -euo pipefail
(($# == 3)) || { sed -n '6p' "$0" >&2; exit 2; }
replay=$1 corpus=$2 runs=$3
input=$(find "$corpus" -maxdepth 1 -type f -printf '%s %p\n' | sort -k1,1nr -k2,2 | head -n 1 |
    cut -d' ' -f2-)
[[ -n $input ]] || { echo "replay_identical: no input in $corpus" >&2; exit 1; }
output=$("$replay" -runs="$runs" "$input")
echo "$output"
grep -q "x$runs: ok" <<<"$output"
