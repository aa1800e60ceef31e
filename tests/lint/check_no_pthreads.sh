#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check_no_pthreads.sh - lint.no_pthreads_outside_shim: OS threads only in the shim.
#
# Threads in nmrkit are kernel threads simulated by the shim (kshim_thread_start, work items,
# system threads); src/, tests/ and fuzz/ never create or synchronise OS threads themselves,
# so the fuzz build can run everything on the shim's scheduler (STYLE.md "Determinism").
# Flags any mention of pthread (pthread.h, pthread_*, -pthread) or of C11 threads
# (<threads.h>, thrd_*, mtx_*, cnd_*) in code, ignoring comments (// and /* */, also
# across lines; a "//" inside a string literal is taken as a comment, which can only hide,
# never invent, a finding).
#
# Usage: check_no_pthreads.sh [--exclude <dir>]... <file-or-directory>...
#        (directories: every *.c and *.h below, except under an excluded directory)
# Prints "<file>:<line>: <text>" per violation.
# Exit status: 0 clean, 1 violations, 2 usage error or nothing to check.
set -euo pipefail

usage() {
    echo "usage: check_no_pthreads.sh [--exclude <dir>]... <file-or-directory>..." >&2
    exit 2
}

main() {
    local excludes=() paths=()
    while (($# > 0)); do
        case $1 in
            --exclude) (($# >= 2)) || usage; excludes+=("${2%/}"); shift 2 ;;
            -*) usage ;;
            *) paths+=("$1"); shift ;;
        esac
    done
    ((${#paths[@]} > 0)) || usage

    local path files=() file excluded dir
    for path in "${paths[@]}"; do
        if [[ -d $path ]]; then
            while IFS= read -r file; do
                excluded=0
                for dir in "${excludes[@]}"; do
                    [[ $file == "$dir"/* ]] && excluded=1
                done
                ((excluded)) || files+=("$file")
            done < <(find "$path" -type f \( -name '*.c' -o -name '*.h' \) -print | LC_ALL=C sort)
        elif [[ -f $path ]]; then
            files+=("$path")
        else
            echo "check_no_pthreads: no such file or directory: $path" >&2
            exit 2
        fi
    done
    if ((${#files[@]} == 0)); then
        echo "check_no_pthreads: no .c or .h files in: ${paths[*]}" >&2
        exit 2
    fi

    local violations
    violations=$(awk '
        FNR == 1 { in_comment = 0 }
        {
            rest = $0; code = ""
            while (rest != "") {
                if (in_comment) {
                    end = index(rest, "*/")
                    if (end == 0) { rest = ""; break }
                    rest = substr(rest, end + 2); in_comment = 0; continue
                }
                block = index(rest, "/*"); line = index(rest, "//")
                if (line > 0 && (block == 0 || line < block)) {
                    code = code substr(rest, 1, line - 1); rest = ""; break
                }
                if (block > 0) {
                    code = code substr(rest, 1, block - 1) " "
                    rest = substr(rest, block + 2); in_comment = 1; continue
                }
                code = code rest; rest = ""
            }
            if (code ~ /(^|[^A-Za-z0-9_])(pthread|threads\.h|thrd_[a-z]|mtx_[a-z]|cnd_[a-z])/)
                print FILENAME ":" FNR ": " $0
        }' "${files[@]}")

    local count=0
    if [[ -n $violations ]]; then
        printf '%s\n' "$violations"
        count=$(wc -l <<<"$violations")
    fi
    echo "check_no_pthreads: $count violation(s) in ${#files[@]} file(s);" \
         "OS threads belong in shim/ (use kshim_thread_start or the shim's primitives)"
    ((count == 0)) || exit 1
}

main "$@"
