#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check_shim_layers.sh - lint.shim_layers: the shim's layers (kshim_internal.h) have no
# include cycle, and only the dispatcher seam knows which scheduler runs.
#
# Layers, from the bottom (a header of layer N may include only headers of layers < N; a
# source file of layer N only headers of layers <= N):
#   1 stops and faults   kshim_stop.h;  kshim_stop.c kshim_stack.c kshim_fault.c dbg_print.c
#                                       rtl_string.c rtl_strsafe.c
#   2 IRQL               ke_irql.h;     ke_irql.c
#   3 pool               ex_pool.h;     ex_pool.c
#   4 threads and primitives: kshim_internal.h, kshim_fiber.h and every other file
# Outside ke_dispatcher_threads.c, ke_dispatcher_fibers.c and kshim_fiber.c no shim file may
# ask which scheduler runs (kshim_sched_is_deterministic, NMRKIT_SCHEDULER, kshim_fiber_*).
#
# Usage: check_shim_layers.sh <shim-directory>
# Prints "<file>:<line>: <text>" per violation, then "check_shim_layers: N violation(s)".
# Exit status: 0 clean, 1 violations, 2 usage error.
set -euo pipefail

(($# == 1)) && [[ -d $1 ]] || { echo "usage: check_shim_layers.sh <shim-directory>" >&2; exit 2; }
dir=${1%/}

layer_of() {
    case $1 in
        kshim_stop.h|kshim_stop.c|kshim_stack.c|kshim_fault.c|dbg_print.c|rtl_string.c|rtl_strsafe.c|rtl_ip.c) echo 1 ;;
        ke_irql.h|ke_irql.c) echo 2 ;;
        ex_pool.h|ex_pool.c) echo 3 ;;
        *) echo 4 ;;
    esac
}

violations=0
report() {
    echo "$1"
    violations=$((violations + 1))
}

shopt -s nullglob
for file in "$dir"/*.c "$dir"/*.h; do
    name=${file##*/}
    own=$(layer_of "$name")
    while IFS= read -r hit; do
        line=${hit%%:*}
        included=$(sed -E 's/^[^"]*"([^"]+)".*/\1/' <<<"${hit#*:}")
        [[ -f $dir/$included ]] || continue # not a shim-internal header
        theirs=$(layer_of "$included")
        if [[ $name == *.h ]] && ((theirs >= own)) && [[ $included != "$name" ]] && ((own < 4)); then
            report "$file:$line: layer-$own header includes \"$included\" (layer $theirs): headers include only lower layers"
        elif ((theirs > own)); then
            report "$file:$line: layer-$own file includes \"$included\" (layer $theirs): a layer never includes one above it"
        fi
    done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" || true)

    case $name in
        ke_dispatcher_threads.c|ke_dispatcher_fibers.c|kshim_fiber.c|kshim_fiber.h) continue ;;
    esac
    while IFS= read -r hit; do
        report "$file:${hit%%:*}: asks which scheduler runs (only the dispatcher seam may): ${hit#*:}"
    done < <(grep -nE 'kshim_sched_is_deterministic|NMRKIT_SCHEDULER|kshim_fiber_|"kshim_fiber\.h"' "$file" || true)
done

if ((violations > 0)); then
    echo "check_shim_layers: $violations violation(s)"
    exit 1
fi
echo "check_shim_layers: no violation"
