#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# expect_compile_error.sh <name> <compiler command...>: the command must fail, and its output
# must name <name> (so a missing WDK routine is a build error that says which).
set -uo pipefail
name=$1
shift
output=$("$@" 2>&1)
status=$?
printf '%s\n' "$output"
if ((status == 0)); then
    echo "expect_compile_error: the compile succeeded; expected an error naming $name" >&2
    exit 1
fi
if ! grep -q -- "$name" <<<"$output"; then
    echo "expect_compile_error: the compile failed without naming $name" >&2
    exit 1
fi
echo "expect_compile_error: failed as expected, naming $name"
