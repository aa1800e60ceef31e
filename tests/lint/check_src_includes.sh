#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check_src_includes.sh - lint.src_includes: every #include line of src/ is on the allow-list.
#
# src/ is driver-style code: it may include the shim's WDK-named headers and its own headers,
# nothing else (no libc, no pthreads, no kshim/kshim.h; STYLE.md "Module boundaries").
# This checks the #include lines textually; banned.h (force-included into src/) catches the
# use of libc names at compile time. #include_next and computed includes are violations.
#
# Usage: check_src_includes.sh <file-or-directory>...   (directories: every *.c and *.h below)
# Prints "<file>:<line>: <include> is not allowed in src/" per violation.
# Exit status: 0 clean, 1 violations, 2 usage error or nothing to check.
set -euo pipefail

readonly ALLOWED=(
    '<ntddk.h>' '<wdm.h>' '<ntdef.h>' '<ntstatus.h>' '<ntstrsafe.h>' '<netioddk.h>'
    '<ws2def.h>' '<ws2ipdef.h>' # for include/wsk.h, which modules include instead of netioddk.h
    '"nmr_module.h"' '<nmr_module.h>' '"nmr_internal.h"'
)

is_allowed() {
    local include=$1 entry
    for entry in "${ALLOWED[@]}"; do
        [[ $include == "$entry" ]] && return 0
    done
    return 1
}

# Print the C sources and headers named by the arguments, one per line, sorted.
list_files() {
    local path
    for path in "$@"; do
        if [[ -d $path ]]; then
            find "$path" -type f \( -name '*.c' -o -name '*.h' \) -print
        elif [[ -f $path ]]; then
            printf '%s\n' "$path"
        else
            echo "check_src_includes: no such file or directory: $path" >&2
            return 2
        fi
    done | LC_ALL=C sort
}

main() {
    if (($# == 0)); then
        echo "usage: check_src_includes.sh <file-or-directory>..." >&2
        exit 2
    fi
    local files
    files=$(list_files "$@") || exit 2
    if [[ -z $files ]]; then
        echo "check_src_includes: no .c or .h files in: $*" >&2
        exit 2
    fi

    local file number text directive include violations=0 checked=0
    while IFS= read -r file; do
        checked=$((checked + 1))
        # "<line>:<text>" for every preprocessor include line (any spacing around '#').
        while IFS=: read -r number text; do
            include=$(sed -E 's/^[[:space:]]*#[[:space:]]*include(_next)?[[:space:]]*//;
                              s/[[:space:]]*(\/\/.*|\/\*.*)?$//' <<<"$text")
            directive=include
            [[ $text =~ include_next ]] && directive=include_next
            if [[ $directive == include_next ]] || ! is_allowed "$include"; then
                echo "$file:$number: #$directive ${include:-?} is not allowed in src/"
                violations=$((violations + 1))
            fi
        done < <(grep -nE '^[[:space:]]*#[[:space:]]*include' "$file" || true)
    done <<<"$files"

    echo "check_src_includes: $violations violation(s) in $checked file(s)"
    if ((violations > 0)); then
        echo "check_src_includes: src/ is kernel-style code; it may include only ${ALLOWED[*]}"
        exit 1
    fi
}

main "$@"
