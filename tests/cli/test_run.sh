#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli.run_uses_every_core: `./nmrkit run` without --jobs runs one fuzzer per core at the same
# time, prints progress lines (elapsed/budget, exec/s, corpus, features, findings) while they
# run and a summary table at the end.
source "$(dirname -- "${BASH_SOURCE[0]}")/cli_test_lib.sh"
make_build_dir "$SCRATCH/build"
cores=$(nproc)
targets=$(wc -l <"$SCRATCH/build/fuzz/targets.tsv")
want=$((cores < targets ? cores : targets))
work="$SCRATCH/work"
NMRKIT_PROGRESS_INTERVAL=1 start_nmrkit "$SCRATCH/log" run --build "$SCRATCH/build" --work "$work" --seconds 6
most=0
while kill -0 "$NMRKIT_PID" 2>/dev/null; do
    # Children of ./nmrkit only: at exit LeakSanitizer clones a tracer with the fuzzer's
    # command line.
    n=$({ pgrep -P "$NMRKIT_PID" -f -- "-artifact_prefix=$work/" || true; } | wc -l)
    ((n <= most)) || most=$n
    sleep 0.5
done
status=0
wait "$NMRKIT_PID" || status=$?
cat "$SCRATCH/log"
expect_status 0 "$status" "run"
((most == want)) || fail "at most $most fuzzers ran at once; expected $want ($cores cores, $targets targets)"
expect_grep "\\($targets target\\(s\\), 6s each, $cores at a time\\)" "$SCRATCH/log" "the plan"
expect_grep '^  fuzz_nmr_[a-z_]+ +[0-9]+s/6 +exec/s [0-9]+ +corpus [0-9]+ +features [0-9]+ +findings 0' "$SCRATCH/log" "progress lines"
expect_grep '^target +result +execs +exec/s +features +corpus' "$SCRATCH/log" "summary header"
for target in $(cut -f1 "$SCRATCH/build/fuzz/targets.tsv"); do
    expect_grep "^$target +ok +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ -> [0-9]+\$" "$SCRATCH/log" "summary row of $target"
done
pass "$most fuzzers at once on $cores cores"
