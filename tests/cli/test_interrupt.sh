#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli.interrupt_*: Ctrl-C stops the whole run at once; an interrupted fuzzer is reported as
# INTERRUPTED (never as a crash or finding), the targets not yet started as NOT RUN, and the
# exit status is 130. Modes:
#   group   SIGINT to the whole process group (a terminal's Ctrl-C)
#   script  SIGINT to the ./nmrkit process alone: it must stop its fuzzers itself
#   fuzzer  SIGINT to one fuzzer alone: the run stops as well
#   kill    SIGKILL to the one fuzzer: reported as KILLED, exit status 4
source "$(dirname -- "${BASH_SOURCE[0]}")/cli_test_lib.sh"
mode=${1:?mode}

make_build_dir "$SCRATCH/build"
work="$SCRATCH/work"
jobs=1
[[ $mode != kill ]] || make_build_dir "$SCRATCH/build" fuzz_nmr_ops
start=$SECONDS
start_nmrkit "$SCRATCH/log" run --build "$SCRATCH/build" --work "$work" --seconds 600 --jobs "$jobs"
# Wait until the first fuzzer has loaded its corpus.
wait_for 60 grep -q -a INITED "$work/fuzz_nmr_ops/fuzz.log" 2>/dev/null ||
    { kill -KILL -- "-$NMRKIT_PID"; cat "$SCRATCH/log" >&2; fail "the first fuzzer did not start"; }
case $mode in
    group) kill -INT -- "-$NMRKIT_PID" ;;
    script) kill -INT "$NMRKIT_PID" ;;
    fuzzer) kill -INT "$(fuzzer_pids "$work/fuzz_nmr_ops/artifacts")" ;;
    kill) kill -KILL "$(fuzzer_pids "$work/fuzz_nmr_ops/artifacts")" ;;
esac
signalled=$SECONDS
status=0
wait "$NMRKIT_PID" || status=$?
took=$((SECONDS - signalled))
cat "$SCRATCH/log"
# At once: well within the 10 s grace after which stragglers are killed, and far from 600 s.
((took <= 8)) || fail "the run took $took s to stop after the signal"
[[ -z $(fuzzer_pids "$work") ]] || fail "fuzzers still running after the run ended"
expect_no_grep 'CRASH|FINDING|ERROR' "$SCRATCH/log" "an interrupted fuzzer is not a finding"
[[ -z $(find "$work" -path '*/artifacts/*' -type f) ]] || fail "artifacts written for an interruption"
if [[ $mode == kill ]]; then
    expect_status 4 "$status" "a fuzzer killed with SIGKILL"
    expect_grep '^fuzz_nmr_ops +KILLED' "$SCRATCH/log" "summary row"
    expect_grep 'killed by SIGKILL' "$SCRATCH/log" "detail"
else
    expect_status 130 "$status" "an interrupted run"
    expect_grep '^fuzz_nmr_ops +INTERRUPTED' "$SCRATCH/log" "the running target"
    for target in fuzz_nmr_schedule fuzz_nmr_characteristics fuzz_nmr_contract; do
        expect_grep "^$target +NOT RUN" "$SCRATCH/log" "a target not started"
    done
fi
pass "$mode: stopped $took s after the signal (run lasted $((SECONDS - start)) s), exit $status"
