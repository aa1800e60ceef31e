#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# replay_in_two_processes.sh - the ctest fuzz.two_processes.<target>: replays every input of a
# corpus once in each of two processes and requires the same trace hash for every input.
#
#   replay_in_two_processes.sh REPLAY CORPUS_DIR
#
# <target>_replay -runs=N compares runs inside one process; this catches what differs between
# processes instead: a trace that includes an address (which ASLR moves), the time, or state
# left from process start-up. Prints the first input whose hash differs.
set -euo pipefail
(($# == 2)) || { sed -n '6p' "$0" >&2; exit 2; }
replay=$1 corpus=$2
first=$("$replay" -runs=1 "$corpus")
second=$("$replay" -runs=1 "$corpus")
if [[ $first != "$second" ]]; then
    echo "replay_in_two_processes: trace hashes differ between two processes:" >&2
    diff <(echo "$first") <(echo "$second") | head -n 4 >&2
    exit 1
fi
echo "$(grep -c ': ok$' <<<"$first") input(s): the same trace hash in two processes"
