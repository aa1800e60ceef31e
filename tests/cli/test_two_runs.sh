#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli.two_runs_*: two runs in one checkout never share a work directory, log or artifacts.
#   own     two runs at the same time without --work: each gets a directory of its own, and
#           each summary shows its own numbers
#   refuse  a second run with the --work of a running one is refused with one line, exit 3,
#           and the first run is unharmed
source "$(dirname -- "${BASH_SOURCE[0]}")/cli_test_lib.sh"
mode=${1:?mode}
make_build_dir "$SCRATCH/build" fuzz_nmr_characteristics

if [[ $mode == own ]]; then
    start_nmrkit "$SCRATCH/log1" run --build "$SCRATCH/build" --seconds 4
    first=$NMRKIT_PID
    start_nmrkit "$SCRATCH/log2" run --build "$SCRATCH/build" --seconds 4
    second=$NMRKIT_PID
    s1=0 s2=0
    wait "$first" || s1=$?
    wait "$second" || s2=$?
    cat "$SCRATCH/log1" "$SCRATCH/log2"
    expect_status 0 "$s1" "first run"
    expect_status 0 "$s2" "second run"
    d1=$(sed -n 's/^nmrkit: run directory: \([^ ]*\) .*/\1/p' "$SCRATCH/log1")
    d2=$(sed -n 's/^nmrkit: run directory: \([^ ]*\) .*/\1/p' "$SCRATCH/log2")
    [[ -n $d1 && -n $d2 && $d1 != "$d2" ]] || fail "the runs share a directory ('$d1', '$d2')"
    for n in 1 2; do
        dir=$d1
        [[ $n == 1 ]] || dir=$d2
        execs=$(awk -F'\t' '$1 == "fuzz_nmr_characteristics" { print $3 }' "$dir/results.tsv")
        # The execs of each run's summary come from that run's own log.
        grep -q "stat::number_of_executed_units: *$execs\$" "$dir/fuzz_nmr_characteristics/fuzz.log" ||
            fail "run $n: summary execs $execs are not its log's"
        expect_grep "^fuzz_nmr_characteristics +ok +$execs " "$SCRATCH/log$n" "run $n summary"
    done
    pass "two runs: $d1 and $d2"
else
    work="$SCRATCH/work"
    start_nmrkit "$SCRATCH/log1" run --build "$SCRATCH/build" --work "$work" --seconds 6
    wait_for 30 test -f "$work/fuzz_nmr_characteristics/fuzz.log" || fail "the first run did not start"
    status=0
    "$NMRKIT" run --build "$SCRATCH/build" --work "$work" --seconds 2 >"$SCRATCH/log2" 2>&1 || status=$?
    cat "$SCRATCH/log2"
    expect_status 3 "$status" "a second run in a busy --work"
    (($(wc -l <"$SCRATCH/log2") == 1)) || fail "the refusal is not one line"
    expect_grep 'is in use by another nmrkit run \(pid [0-9]+\): wait for it' "$SCRATCH/log2" "refusal"
    s1=0
    wait "$NMRKIT_PID" || s1=$?
    expect_status 0 "$s1" "the first run"
    expect_grep '^fuzz_nmr_characteristics +ok ' "$SCRATCH/log1" "the first run's summary"
    # Once the first run is over, the directory can be used again.
    "$NMRKIT" run --build "$SCRATCH/build" --work "$work" --seconds 1 >"$SCRATCH/log3" 2>&1 ||
        { cat "$SCRATCH/log3"; fail "the free --work directory was refused"; }
    pass "second run refused: $(cat "$SCRATCH/log2")"
fi
