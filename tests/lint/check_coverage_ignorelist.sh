#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check_coverage_ignorelist.sh - lint.coverage_ignorelist: every function the fuzz coverage
# ignorelist names is the one it means.
#
# A "fun:NAME" line of cmake/fuzz-coverage-ignorelist.txt takes every function called NAME in
# the tree out of libFuzzer's edge coverage. The list names two kinds: the registrar's
# self-checks (defined in src/) and the fuzz targets' oracle checks and bookkeeping (defined
# in fuzz/). A name that no function has any more is a stale entry; a name that is also a
# function of another area (harness/, examples/, or src/ for a target's name and fuzz/ for a
# registrar's) would silently take that function's edges out too. Each is a violation.
# Definitions are found by shape: a line that starts at column 0 and holds "NAME(" without
# ending in ";" (the return type on the same line or the line before, as STYLE.md lays out
# functions).
#
# Usage: check_coverage_ignorelist.sh <ignorelist> <root>
#        (root: the tree holding src/, fuzz/, harness/ and examples/)
# Prints "<ignorelist>: fun:<name>: <reason>" per violation.
# Exit status: 0 clean, 1 violations, 2 usage error.
set -euo pipefail

if (($# != 2)) || [[ ! -f $1 || ! -d $2 ]]; then
    echo "usage: check_coverage_ignorelist.sh <ignorelist> <root>" >&2
    exit 2
fi
list=$1
root=${2%/}

# defined_in NAME: the areas (src, fuzz, harness, examples) with a definition of NAME, one per
# line.
defined_in() {
    local name=$1 area
    for area in src fuzz harness examples; do
        [[ -d $root/$area ]] || continue
        if grep -rqE --include='*.c' --include='*.h' \
            "^([A-Za-z_][^;]*[ *])?${name}\(([^;]*[^;[:space:]])?[[:space:]]*$" "$root/$area"; then
            echo "$area"
        fi
    done
}

violations=0
while IFS= read -r name; do
    mapfile -t areas < <(defined_in "$name")
    if ((${#areas[@]} == 0)); then
        echo "$list: fun:$name: no function of that name in src/, fuzz/, harness/ or examples/ (a stale entry)"
        violations=$((violations + 1))
    elif ((${#areas[@]} > 1)) || [[ ${areas[0]} != src && ${areas[0]} != fuzz ]]; then
        echo "$list: fun:$name: defined in ${areas[*]}: the entry would take more than the one function it means out of coverage"
        violations=$((violations + 1))
    fi
done < <(sed -n 's/^fun:\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*$/\1/p' "$list")

if ((violations > 0)); then
    echo "coverage_ignorelist: $violations violation(s)"
    exit 1
fi
echo "coverage_ignorelist: every fun: entry names functions of src/ or of fuzz/ only"
