#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# expect_timeline.sh REPLAY TEXT BIN [-runs=N] PATTERN...: encode the text input, replay it
# with -print (N times in one process with -runs=N: every run must have the first run's trace
# hash), and require every PATTERN (fixed strings) in the timeline.
set -euo pipefail
replay=$1 text=$2 bin=$3
shift 3
runs=()
if [[ ${1:-} == -runs=* ]]; then
    runs=("$1")
    shift
fi
"$replay" -encode="$bin" "$text" >/dev/null
out=$("$replay" ${runs[@]+"${runs[@]}"} -print "$bin" 2>&1) || { printf '%s\n' "$out"; echo "FAIL: the replay failed"; exit 1; }
for pattern in "$@"; do
    if ! grep -qF -- "$pattern" <<<"$out"; then
        printf '%s\n' "$out"
        echo "FAIL: no '$pattern' in the timeline"
        exit 1
    fi
done
echo "ok: $*"
