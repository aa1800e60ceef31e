#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli.gate_*: the gate's verdicts and reports.
#   passes               a healthy target: exit 0; JUnit with a passing testcase per phase,
#                        SARIF 2.1.0 without results
#   canary_fails         the target linked with a canary core (a rule check left out): exit 1;
#                        the replay and fuzz testcases fail; SARIF has one result per unique
#                        finding, ruleId = the rule, the top frame as location, the timeline in
#                        the message
#   silent_fuzzer_fails  a fuzzer that rejects every input, under a real target's name and
#                        corpus: it finds nothing, yet the gate fails on the baseline
# Arguments after the mode: canary fuzzer, canary replay, canary's target, its rule, python3,
# the rejecting fixture.
source "$(dirname -- "${BASH_SOURCE[0]}")/cli_test_lib.sh"
mode=${1:?mode} canary=$2 canary_replay=$3 canary_target=$4 rule=$5 python=$6 rejecting=$7
validate() { "$python" "$(dirname -- "${BASH_SOURCE[0]}")/validate_reports.py" "$@"; }
[[ -n $python && -x $python ]] ||
    fail "python3 is needed to validate the reports: install it (./nmrkit setup fuzz does)"

build="$SCRATCH/build"
out="$SCRATCH/out"
case $mode in
    passes)
        target=fuzz_nmr_characteristics
        make_build_dir "$build" "$target"
        ;;
    canary_fails)
        target=$canary_target
        make_build_dir "$build" "$target"
        awk -F'\t' -v f="$canary" -v r="$canary_replay" 'BEGIN { OFS = "\t" } { $2 = f; $3 = r; print }' \
            "$build/fuzz/targets.tsv" >"$SCRATCH/t" && mv "$SCRATCH/t" "$build/fuzz/targets.tsv"
        ;;
    silent_fuzzer_fails)
        target=fuzz_nmr_ops
        make_build_dir "$build" "$target"
        awk -F'\t' -v f="$rejecting" 'BEGIN { OFS = "\t" } { $2 = f; print }' \
            "$build/fuzz/targets.tsv" >"$SCRATCH/t" && mv "$SCRATCH/t" "$build/fuzz/targets.tsv"
        ;;
esac
status=0
"$NMRKIT" gate --build "$build" --out "$out" --seconds 5 >"$SCRATCH/log" 2>&1 || status=$?
cat "$SCRATCH/log"
validate junit "$out/junit.xml" >"$SCRATCH/junit" || fail "junit.xml is not valid"
validate sarif "$out/results.sarif" >"$SCRATCH/sarif" || fail "results.sarif is not valid"
cat "$SCRATCH/junit"
# expect_case <classname> <name> <verdict>
expect_case() { grep -q -x "$1 $2 $3" "$SCRATCH/junit" || fail "JUnit: expected testcase $1.$2 to $3"; }
case $mode in
    passes)
        expect_status 0 "$status" "gate on a healthy target"
        for phase in replay fuzz baseline; do expect_case "$target" "$phase" pass; done
        expect_case src coverage skip
        [[ ! -s $SCRATCH/sarif ]] || fail "SARIF results for a healthy target: $(cat "$SCRATCH/sarif")"
        ;;
    canary_fails)
        expect_status 1 "$status" "gate on the canary core"
        expect_case "$target" fuzz fail
        # The committed corpus holds inputs that the broken core fails: replay fails too.
        expect_case "$target" replay fail
        head -n 5 "$SCRATCH/sarif"
        grep -q -E "^$rule fuzz/$target\\.c [0-9]+ [0-9]+\$" "$SCRATCH/sarif" ||
            fail "SARIF has no result with ruleId $rule located in fuzz/$target.c"
        # One result per unique finding: every (rule, location) once.
        dups=$(sed -n '/^--- message/q;p' "$SCRATCH/sarif" | cut -d' ' -f1-3 | sort | uniq -d)
        [[ -z $dups ]] || fail "SARIF repeats a finding: $dups"
        # The message holds the timeline of the replay and the replay command.
        grep -q -E '^ *[0-9]+ +C[0-9] +NmrDeregisterClient' "$SCRATCH/sarif" || fail "no timeline in the SARIF message"
        grep -q -E '^replay: \./nmrkit replay' "$SCRATCH/sarif" || fail "no replay command in the SARIF message"
        ;;
    silent_fuzzer_fails)
        expect_status 1 "$status" "gate on a fuzzer that rejects every input"
        expect_case "$target" replay pass
        expect_case "$target" fuzz pass
        expect_case "$target" baseline fail
        expect_grep 'FAIL +fuzz_nmr_ops +baseline +silent fuzzer\? coverage features [0-9]+ < baseline' "$SCRATCH/log" "baseline verdict"
        [[ ! -s $SCRATCH/sarif ]] || fail "a silent fuzzer has no finding to put in SARIF"
        ;;
esac
pass "$mode: exit $status"
