#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check_hang_report.sh - replay the crash artifact that canary.fuzz_nmr_schedule_finds_
# no_late_comer_detach wrote (a deadlock: a late-comer binding that is never detached keeps a
# deregistration wait blocked) and check that the report names the blocked call and the side
# that never completed: stderr must contain "NMR VERIFIER STOP D4", "NmrWaitFor" and "side".
#
#   check_hang_report.sh CANARY_REPLAY ARTIFACT_DIR
set -uo pipefail
(($# == 2)) || { sed -n '8p' "$0" >&2; exit 2; }
replay=$1 artifacts=$2
artifact=$(find "$artifacts" -maxdepth 1 -name 'crash-*' 2>/dev/null | sort | head -n 1)
if [[ -z $artifact ]]; then
    echo "check_hang_report: no crash artifact in $artifacts (run canary.fuzz_nmr_schedule_finds_no_late_comer_detach first)" >&2
    exit 1
fi
stderr=$("$replay" -runs=1 "$artifact" 2>&1 >/dev/null)
status=$?
echo "replayed $artifact: exit $status"
grep -E 'NMR VERIFIER STOP D4|side:|KSHIM STOP|thread "' <<<"$stderr"
missing=0
for needle in "NMR VERIFIER STOP D4" "NmrWaitFor" "side"; do
    if ! grep -qF "$needle" <<<"$stderr"; then
        echo "check_hang_report: '$needle' missing from the report" >&2
        missing=1
    fi
done
((status != 0)) || { echo "check_hang_report: the replay did not stop" >&2; exit 1; }
exit $missing
