# SPDX-License-Identifier: MIT
# targets.sh - sourced by ./nmrkit (not run): the build tree and its fuzz targets.
#
# Every fuzzing subcommand works on a build tree whose fuzz targets were declared through the
# kit's CMake functions: the kit's own build/fuzz (built first with the fuzz preset), or any
# tree given with --build DIR (an outside project's driver fuzzers). Such a tree lists its
# targets in DIR/fuzz/targets.tsv (cmake/NmrkitFuzz.cmake), one line per target:
#   name <TAB> fuzzer binary or - <TAB> replay binary or - <TAB> corpus dir <TAB> options or - [<TAB> ...]
# Columns may be added at the end; they are ignored here.

# shellcheck source=../../fuzz/libfuzzer_options.sh
source "$ROOT/fuzz/libfuzzer_options.sh"

BUILD_DIR=""
MANIFEST=""
T_NAME=() T_FUZZER=() T_REPLAY=() T_CORPUS=() T_OPTIONS=()

# A manifest path: absolute, or relative to the top of the checkout; "-" (none) stays "-".
manifest_path() {
    if [[ -z $1 || $1 == /* || $1 == - ]]; then printf '%s' "${1:--}"; else printf '%s' "$ROOT/$1"; fi
}

# use_build <command> <dir or "">: build and select the tree whose targets the command runs.
# Without a directory: the kit's fuzz preset (set up and built here). With one: that tree,
# rebuilt first when it is a CMake build tree.
use_build() {
    local command=$1 dir=$2 log
    if [[ -z $dir ]]; then
        ensure_tools fuzz
        BUILD_DIR="$ROOT/build/fuzz"
        mkdir -p -- "$ROOT/build"
        log="$ROOT/build/nmrkit-fuzz-build.log"
        say "building the fuzz preset (log: $(show_path "$log"))"
        if ! (cd "$ROOT" && cmake --preset fuzz && cmake --build --preset fuzz) >"$log" 2>&1 </dev/null; then
            tail -n 30 "$log" >&2
            die "$EXIT_SETUP" "the fuzz preset did not build (above; full log $(show_path "$log")): fix the build and rerun"
        fi
    else
        [[ -d $dir ]] || usage_error "$command" "$command: --build $dir is not a directory"
        BUILD_DIR=$(cd -- "$dir" && pwd)
        if [[ -f $BUILD_DIR/CMakeCache.txt ]]; then
            log="$BUILD_DIR/nmrkit-build.log"
            if ! cmake --build "$BUILD_DIR" >"$log" 2>&1 </dev/null; then
                tail -n 30 "$log" >&2
                die "$EXIT_SETUP" "$BUILD_DIR did not build (above; full log $log): fix the build and rerun"
            fi
        fi
    fi
    MANIFEST="$BUILD_DIR/fuzz/targets.tsv"
    [[ -s $MANIFEST ]] || die "$EXIT_SETUP" "$(show_path "$MANIFEST") is missing or empty: declare fuzz targets with nmrkit_add_fuzz_target (cmake/NmrkitFuzz.cmake) and configure $(show_path "$BUILD_DIR") again"
    load_targets
}

load_targets() {
    local name fuzzer replay corpus options rest line=0
    T_NAME=() T_FUZZER=() T_REPLAY=() T_CORPUS=() T_OPTIONS=()
    while IFS=$'\t' read -r name fuzzer replay corpus options rest || [[ -n $name ]]; do
        line=$((line + 1))
        [[ -n $name && $name != \#* ]] || continue
        if [[ -z $fuzzer || -z $replay || -z $corpus || -z $options || ! $name =~ ^[A-Za-z0-9_]+$ ]]; then
            die "$EXIT_SETUP" "$(show_path "$MANIFEST"):$line: malformed (want name, fuzzer, replay, corpus, options separated by tabs): configure the build again"
        fi
        T_NAME+=("$name")
        T_FUZZER+=("$(manifest_path "$fuzzer")")
        T_REPLAY+=("$(manifest_path "$replay")")
        T_CORPUS+=("$(manifest_path "$corpus")")
        T_OPTIONS+=("$(manifest_path "$options")")
    done <"$MANIFEST"
    ((${#T_NAME[@]} > 0)) || die "$EXIT_SETUP" "$(show_path "$MANIFEST") lists no targets: declare some with nmrkit_add_fuzz_target"
}

# target_index <name>: print the index of a target in the manifest, or fail.
target_index() {
    local i
    for i in "${!T_NAME[@]}"; do
        [[ ${T_NAME[$i]} == "$1" ]] && { printf '%s' "$i"; return 0; }
    done
    return 1
}

# select_targets <command> [name...]: SELECTED = indices of the named targets (all when none).
SELECTED=()
select_targets() {
    local command=$1 name index
    shift
    SELECTED=()
    if (($# == 0)); then
        SELECTED=("${!T_NAME[@]}")
        return 0
    fi
    for name in "$@"; do
        index=$(target_index "$name") ||
            usage_error "$command" "$command: unknown target '$name' (targets of $(show_path "$MANIFEST"): ${T_NAME[*]})"
        [[ " ${SELECTED[*]} " == *" $index "* ]] || SELECTED+=("$index")
    done
}

# target_flags <index>: the target's libFuzzer flags from its .options file (one per line), and
# its dictionary fuzz/<name>.dict when the options file names none.
target_flags() {
    local i=$1 flags
    flags=$(libfuzzer_options "${T_OPTIONS[$i]}")
    [[ -z $flags ]] || printf '%s\n' "$flags"
    local dict="${T_OPTIONS[$i]%.options}.dict"
    if [[ $flags != *-dict=* && ${T_OPTIONS[$i]} != - && -f $dict ]]; then
        printf -- '-dict=%s\n' "$dict"
    fi
}

# The largest input a target reads: max_len of its .options, else libFuzzer's limit for
# corpus files (1 MiB).
target_max_len() {
    local value
    value=$(target_flags "$1" | sed -n 's/^-max_len=//p' | tail -n 1)
    [[ $value =~ ^[0-9]+$ ]] && printf '%s' "$value" || printf '%s' 1048576
}

# check_inputs <command> <index> <path...>: every input file must be a readable regular file no
# larger than the target's max_len (libFuzzer would silently cut it, so its replay would not
# be the input that was committed). One line per problem; exits EXIT_USAGE on the first.
check_inputs() {
    local command=$1 i=$2 max type size path
    shift 2
    max=$(target_max_len "$i")
    # One find per path: type (following links; N = dangling), size and name of each input.
    while IFS=$'\t' read -r type size path; do
        case $type in
            f) ;;
            d) die "$EXIT_USAGE" "$command: $(show_path "$path") is a directory inside a corpus: move it out (corpora are flat)" ;;
            *) die "$EXIT_USAGE" "$command: $(show_path "$path") is not a regular file (a broken link or a device?): remove or replace it" ;;
        esac
        [[ -r $path ]] || die "$EXIT_USAGE" "$command: $(show_path "$path") is not readable: fix its permissions"
        ((size <= max)) || die "$EXIT_USAGE" "$command: $(show_path "$path") is $size bytes, more than ${T_NAME[$i]}'s max_len of $max: shrink it (./nmrkit minimize) or raise max_len in its .options"
    done < <(for path in "$@"; do
        if [[ -d $path ]]; then
            find "$path" -mindepth 1 -maxdepth 1 -printf '%Y\t%s\t%p\n'
        else
            find "$path" -maxdepth 0 -printf '%Y\t%s\t%p\n'
        fi
    done)
}

# replay_hint <artifact>: the command that replays an artifact of this build.
replay_hint() {
    local build=""
    [[ $BUILD_DIR == "$ROOT/build/fuzz" ]] || build=" --build $(show_path "$BUILD_DIR")"
    printf './nmrkit replay%s %s' "$build" "$(show_path "$1")"
}
