#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli.replay_triage_minimize, on a canary core (a rule check left out of the registrar):
#   replay    a crash input fails with its timeline and stop printed; a good input passes
#   triage    duplicate crashes of one bug (copies, and the crash with bytes the target never
#             reads appended) are one line naming the rule, with the smallest as reproducer;
#             an input that does not fail is counted apart
#   minimize  a padded crash shrinks to an input that fails with the same rule, written beside
#             it as minimized-<name>; the crash itself is unchanged
# Arguments: canary fuzzer, canary replay, the canary's target, its rule, python3 (unused).
source "$(dirname -- "${BASH_SOURCE[0]}")/cli_test_lib.sh"
canary=$1 canary_replay=$2 target=$3 rule=$4

build="$SCRATCH/build"
make_build_dir "$build" "$target"
awk -F'\t' -v f="$canary" -v r="$canary_replay" 'BEGIN { OFS = "\t" } { $2 = f; $3 = r; print }' \
    "$build/fuzz/targets.tsv" >"$SCRATCH/t" && mv "$SCRATCH/t" "$build/fuzz/targets.tsv"
corpus=$(cut -f4 "$build/fuzz/targets.tsv")

# A crash, found by the canary fuzzer itself.
"$NMRKIT" run --build "$build" --work "$SCRATCH/run" --seconds 30 >"$SCRATCH/run.log" 2>&1 &&
    fail "the canary run found nothing"
crash=$(find "$SCRATCH/run/$target/artifacts" -name 'crash-*' | head -n 1)
[[ -n $crash ]] || { cat "$SCRATCH/run.log"; fail "no crash artifact"; }
crash_sum=$(sha1sum <"$crash")

# replay: the crash fails with the rule, its timeline and the stop line; a passing input passes.
good="$SCRATCH/good/$target/good-input"
mkdir -p "$(dirname -- "$good")"
for input in "$corpus"/*; do
    if "$canary_replay" -runs=1 "$input" >/dev/null 2>&1; then cp -- "$input" "$good"; break; fi
done
[[ -f $good ]] || fail "no committed input passes on the canary core"
status=0
"$NMRKIT" replay --build "$build" "$crash" "$good" >"$SCRATCH/replay.log" 2>&1 || status=$?
cat "$SCRATCH/replay.log"
expect_status 1 "$status" "replay of a crash"
expect_grep "^FAIL  $target  .*crash-[0-9a-f]+  crash $rule at .*fuzz/$target\\.c:[0-9]+" "$SCRATCH/replay.log" "the failure line"
expect_grep '^ +[0-9]+ +C[0-9] +Nmr[A-Za-z]+\(' "$SCRATCH/replay.log" "the timeline"
expect_grep '^ +\*\*\* (FUZZ ORACLE|NMR VERIFIER STOP)' "$SCRATCH/replay.log" "the stop line"
expect_grep "^ok    $target  .*good-input" "$SCRATCH/replay.log" "the passing input"

# triage: four files of one bug, one file that passes.
pile="$SCRATCH/pile/$target"
mkdir -p "$pile"
cp -- "$crash" "$pile/crash-copy1"
cp -- "$crash" "$pile/crash-copy2"
cp -- "$crash" "$pile/crash-$(basename -- "$crash" | cut -c7-)"
{ cat -- "$crash"; printf '\377\377\377\377'; } >"$pile/crash-padded"
cp -- "$good" "$pile/crash-not-a-bug"
status=0
"$NMRKIT" triage --build "$build" "$SCRATCH/pile" >"$SCRATCH/triage.log" 2>&1 || status=$?
cat "$SCRATCH/triage.log"
expect_status 1 "$status" "triage of a pile with a bug"
lines=$(grep -c -E '^ +[0-9]+x ' "$SCRATCH/triage.log" || true)
((lines == 1)) || fail "triage printed $lines bug lines for one bug"
expect_grep "^ +4x $target +crash $rule +at fuzz/$target\\.c:[0-9]+" "$SCRATCH/triage.log" "the bug line"
expect_grep "smallest: .*/crash-(copy1|copy2|[0-9a-f]+) \\($(stat -c %s -- "$crash") bytes\\)  replay: \\./nmrkit replay" "$SCRATCH/triage.log" "smallest reproducer"
expect_grep '5 file\(s\): 1 unique bug\(s\), 1 file\(s\) no longer fail' "$SCRATCH/triage.log" "the count"

# minimize: the crash with 64 bytes appended shrinks below its original size, same rule.
big="$SCRATCH/min/$target/crash-big"
mkdir -p "$(dirname -- "$big")"
{ cat -- "$crash"; head -c 64 /dev/urandom; } >"$big"
"$canary_replay" -runs=1 "$big" >/dev/null 2>&1 && fail "the padded crash no longer fails"
before=$(stat -c %s -- "$big")
big_sum=$(sha1sum <"$big")
"$NMRKIT" minimize --build "$build" --seconds 20 "$big" >"$SCRATCH/min.log" 2>&1 ||
    { cat "$SCRATCH/min.log"; fail "minimize failed"; }
cat "$SCRATCH/min.log"
small="$(dirname -- "$big")/minimized-crash-big"
[[ -f $small ]] || fail "no minimized-crash-big"
after=$(stat -c %s -- "$small")
((after < before)) || fail "minimize did not shrink: $after of $before bytes"
"$NMRKIT" replay --build "$build" "$small" >"$SCRATCH/replay-min.log" 2>&1 && fail "the minimized input does not fail"
expect_grep "crash $rule at " "$SCRATCH/replay-min.log" "the minimized input's rule"
expect_grep "^ +[0-9]+ +C[0-9] +Nmr" "$SCRATCH/min.log" "the minimized input as text"
[[ $(sha1sum <"$big") == "$big_sum" && $(sha1sum <"$crash") == "$crash_sum" ]] || fail "a crash file was changed"
pass "replay, triage (4 duplicates -> 1 line) and minimize ($before -> $after bytes)"
