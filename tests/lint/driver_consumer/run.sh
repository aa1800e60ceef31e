#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh BUILD_DIR NMRKIT_SOURCE_DIR: the checks of lint.driver_consumer_libfuzzer once the
# consumer is built: the careful pair runs clean (default and STRICT), and the two gallery bugs
# it declares are found from an empty corpus and replay from their crash files.
set -u
build=$1 source=$2
fail() { echo "FAIL: $*"; exit 1; }
work="$build/work"
rm -rf -- "$work"
mkdir -p -- "$work/pair" "$work/strict"
"$build/fuzz_pair" -runs=3000 "$work/pair" >"$work/pair.log" 2>&1 || { tail -n 30 "$work/pair.log"; fail "fuzz_pair found something"; }
"$build/fuzz_pair_strict" -runs=3000 "$work/strict" >"$work/strict.log" 2>&1 || { tail -n 30 "$work/strict.log"; fail "fuzz_pair_strict found something"; }
bash "$source/tests/lint/driver_consumer/find_gallery_bugs.sh" "$build" "$source" || fail "gallery bugs"
echo "ok"
