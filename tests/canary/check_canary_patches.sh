#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check_canary_patches.sh - lint of the oracle canaries (tests/canary/patches): every patch still
# applies to src/, and changes the compiled core. Run by lint.canary_patches_apply_and_change_the_core
# (and, on tests/lint/fixtures/canary_patches, by its self-test).
#
# Usage: check_canary_patches.sh CMAKE BUILD_DIR GIT SRC_DIR SCRATCH PATCH_DIR LIST
#   LIST (written by tests/canary/CMakeLists.txt) has one line per core, name|patch|target|objects:
#   the line named "real" is the unpatched copy; the objects of each other line are the files its
#   patch changes, compiled like the real ones with debug information, paths and line numbers
#   neutralised (so they equal the real objects exactly when the patch changed no code or data).
# 1. Every PATCH_DIR/*.patch is applied to a fresh copy of SRC_DIR (the build step's script).
# 2. The lint objects of the patches that applied, and the real ones, are built in BUILD_DIR.
# 3. Each patch's objects are compared with the real objects of the same files.
# Prints one line per violation, naming the patch, then "canary_patches: N violation(s)" and
# exits 1; exits 0 when there is none, 2 on a usage or build error.
set -uo pipefail

if (($# != 7)); then
    echo "usage: check_canary_patches.sh CMAKE BUILD_DIR GIT SRC_DIR SCRATCH PATCH_DIR LIST" >&2
    exit 2
fi
cmake=$1 build_dir=$2 git=$3 src_dir=$4 scratch=$5 patch_dir=$6 list=$7
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ -f $list ]] || { echo "check_canary_patches: $list not found (configure first)" >&2; exit 2; }
shopt -s nullglob
patches=("$patch_dir"/*.patch)
((${#patches[@]})) || { echo "check_canary_patches: no patches in $patch_dir" >&2; exit 2; }

violations=0
violation() {
    echo "check_canary_patches: $*"
    violations=$((violations + 1))
}

# 1. apply
declare -A applies=()
for patch in "${patches[@]}"; do
    name=$(basename "$patch" .patch)
    if output=$("$cmake" "-DSOURCE_DIR=$src_dir" "-DDESTINATION=$scratch/$name/src" \
                "-DPATCH=$patch" "-DGIT=$git" -P "$here/apply_canary_patch.cmake" 2>&1); then
        applies[$patch]=1
    else
        violation "$patch no longer applies to src/:"
        sed 's/^/    /' <<<"$output"
    fi
done

# 2. build the lint objects of the real core and of every patch that applied
declare -A objects_of=() target_of=()
real_objects=""
while IFS='|' read -r name patch target objects; do
    [[ -n $name ]] || continue
    if [[ $name == real ]]; then
        real_objects=$objects
        target_of[real]=$target
    else
        objects_of[$patch]=$objects
        target_of[$patch]=$target
    fi
done <"$list"
[[ -n $real_objects ]] || { echo "check_canary_patches: no 'real' line in $list" >&2; exit 2; }
targets=("${target_of[real]}")
for patch in "${patches[@]}"; do
    [[ -n ${applies[$patch]:-} ]] || continue
    if [[ -z ${target_of[$patch]:-} ]]; then
        violation "$patch has no lint objects (reconfigure: cmake -S . -B $build_dir)"
        unset 'applies[$patch]'
        continue
    fi
    targets+=("${target_of[$patch]}")
done
if ! output=$("$cmake" --build "$build_dir" -j 2 --target "${targets[@]}" 2>&1); then
    printf '%s\n' "$output" | tail -n 40
    echo "check_canary_patches: building the lint objects failed" >&2
    exit 2
fi

# 3. compare, file by file
declare -A real_object=()
IFS=';' read -r -a list_objects <<<"$real_objects"
for object in "${list_objects[@]}"; do
    real_object[$(basename "$object")]=$object
done
checked=0
for patch in "${patches[@]}"; do
    [[ -n ${applies[$patch]:-} ]] || continue
    IFS=';' read -r -a list_objects <<<"${objects_of[$patch]}"
    changed=()
    for object in "${list_objects[@]}"; do
        real=${real_object[$(basename "$object")]:-}
        if [[ -z $real ]]; then
            violation "$patch: no real object to compare $(basename "$object") with"
            continue
        fi
        cmp -s "$object" "$real" || changed+=("$(basename "$object" .o)")
    done
    if ((${#changed[@]} == 0)); then
        violation "$patch applies but changes nothing in the compiled core (its files compile to the same objects as src/)"
    fi
    checked=$((checked + 1))
done

if ((violations)); then
    echo "canary_patches: $violations violation(s)"
    exit 1
fi
echo "canary_patches: all $checked patch(es) apply to src/ and change the compiled core"
