#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check_bench_arguments.sh ROOT - the benchmark scripts (bench/*.sh) refuse a bad command line
# with exit status 2 and one line naming the option, before they configure, build or run
# anything; -h prints the usage and exits 0.
#
# Each refusal runs with an empty PATH for cmake and taskset (a directory of stubs that fail
# loudly), so a script that went on past its options would fail this check, not build.
set -euo pipefail

root=${1:?usage: check_bench_arguments.sh ROOT}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for tool in cmake taskset perf gdb; do
    printf '#!/bin/sh\necho "%s ran: the script went past its options" >&2\nexit 99\n' "$tool" \
        >"$scratch/$tool"
    chmod +x "$scratch/$tool"
done
failures=0

# refuse SCRIPT PATTERN ARGS...: status 2, one line of output, matching PATTERN.
refuse() {
    local script=$1 pattern=$2 status=0
    shift 2
    PATH="$scratch:$PATH" bash "$root/bench/$script" "$@" >"$scratch/out" 2>&1 || status=$?
    if ((status != 2)) || (($(wc -l <"$scratch/out") != 1)) ||
        ! grep -q -E -e "$pattern" "$scratch/out"; then
        echo "FAIL: bench/$script $*: status $status (want 2), output:" >&2
        sed 's/^/    /' "$scratch/out" >&2
        failures=$((failures + 1))
    fi
}

for script in run_fuzz_bench.sh run_fuzz_breakdown.sh run_sched_bench.sh; do
    refuse "$script" "seconds per target go from 1 to 86400" -s 0
    refuse "$script" "-s takes a whole number of seconds, not '1.5'" -s 1.5
    refuse "$script" "-s takes a whole number of seconds, not '-3'" -s -3
    refuse "$script" "seconds per target go from 1 to 86400" -s 100000
    refuse "$script" "-j takes the number of a CPU from 0 to" -j 4096
    refuse "$script" "-j takes the number of a CPU from 0 to .*'x'" -j x
    refuse "$script" "-s needs a value" -s
    refuse "$script" "unknown option -q" -q
    refuse "$script" "-b needs a build directory" -b ""
    if ! PATH="$scratch:$PATH" bash "$root/bench/$script" -h >"$scratch/out" 2>&1 ||
        ! grep -q "bench/$script" "$scratch/out"; then
        echo "FAIL: bench/$script -h: no usage" >&2
        failures=$((failures + 1))
    fi
done
# The two that take no operands.
refuse run_fuzz_bench.sh "unexpected argument 'fuzz_nmr_ops'" fuzz_nmr_ops
refuse run_sched_bench.sh "unexpected argument 'extra'" -s 5 extra
# compare_builds.sh has options of its own (-r, -n, -j) and its own check.
refuse compare_builds.sh "is not a count" -r x fuzz_nmr_ops build/fuzz build/fuzz

if ((failures > 0)); then
    echo "check_bench_arguments: $failures failure(s)" >&2
    exit 1
fi
echo "check_bench_arguments: every refusal holds"
