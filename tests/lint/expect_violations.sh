#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# expect_violations.sh - self-test of a lint checker: run it on a fixture and require that it
# fails (exit 1) reporting exactly the expected number of violations, so a checker that
# silently passes everything, or flags allowed lines, fails its self-test.
#
# Usage: expect_violations.sh <count> <checker> <checker-arguments>...
set -euo pipefail

if (($# < 3)); then
    echo "usage: expect_violations.sh <count> <checker> <checker-arguments>..." >&2
    exit 2
fi
expected=$1
shift

status=0
output=$("$@" 2>&1) || status=$?
printf '%s\n' "$output"

if ((status != 1)); then
    echo "expect_violations: the checker exited with $status, expected 1 (violations found)" >&2
    exit 1
fi
if ! grep -qE "^[a-z_]+: $expected violation\(s\)" <<<"$output"; then
    echo "expect_violations: expected exactly $expected violation(s) on the fixture" >&2
    exit 1
fi
echo "expect_violations: the checker rejected the fixture as expected"
