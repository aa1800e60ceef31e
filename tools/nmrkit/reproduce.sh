# SPDX-License-Identifier: MIT
# reproduce.sh - sourced by ./nmrkit (not run): run one input of a target again, for replay,
# triage, minimize and the gate.

# Inputs that hang are given up after the target's per-input timeout plus this margin.
readonly REPRODUCE_MARGIN_SECONDS=20

# input_target <command> <path> <target or "">: print the index of the target an input belongs
# to: the one given, else the first directory name on its path that is a target's name
# (corpus/<target>/..., <run>/<target>/artifacts/..., artifacts/<target>/<canary>/...).
input_target() {
    local command=$1 path=$2 given=$3 index part
    if [[ -n $given ]]; then
        index=$(target_index "$given") ||
            usage_error "$command" "$command: unknown target '$given' (targets of $(show_path "$MANIFEST"): ${T_NAME[*]})"
        printf '%s' "$index"
        return 0
    fi
    local parts
    IFS=/ read -r -a parts <<<"$(realpath -m -- "$path")"
    for part in "${parts[@]}"; do
        if index=$(target_index "$part"); then
            printf '%s' "$index"
            return 0
        fi
    done
    usage_error "$command" "$command: cannot tell which target $(show_path "$path") is for: give --target NAME (targets: ${T_NAME[*]})"
}

# The per-input timeout of a target, in seconds.
target_input_timeout() {
    local value
    value=$(target_flags "$1" | sed -n 's/^-timeout=//p' | tail -n 1)
    [[ $value =~ ^[0-9]+$ ]] && printf '%s' "$value" || printf '%s' "${DEFAULT_FUZZ_INPUT_TIMEOUT:-10}"
}

# reproduce_input <index> <file> <log> [runs]: replay one input with the target's replay program
# (its timeline with -print, the stop and the stack of the abort, and the trace hash of every
# run), or with
# its fuzzer when there is no replay program. Returns the program's status; a hang is cut
# off and reported as "nmrkit-replay: hang" in the log (status 124).
reproduce_input() {
    local i=$1 file=$2 log=$3 runs=${4:-1} limit status=0
    limit=$(($(target_input_timeout "$i") + REPRODUCE_MARGIN_SECONDS))
    file=$(realpath -- "$file")
    # A stop or oracle failure aborts: with handle_abort, ASan prints the stack of the abort.
    # (The subshells end with "exit" so that the shell's "Aborted" notice goes to the log.)
    local -x ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_abort=1"
    if [[ ${T_REPLAY[$i]} != - && -x ${T_REPLAY[$i]} ]]; then
        (timeout -k 5 "$limit" "${T_REPLAY[$i]}" -runs="$runs" -print "$file"; exit $?) >"$log" 2>&1 </dev/null || status=$?
    elif [[ ${T_FUZZER[$i]} != - && -x ${T_FUZZER[$i]} ]]; then
        (timeout -k 5 "$limit" "${T_FUZZER[$i]}" -timeout="$(target_input_timeout "$i")" "$file"; exit $?) >"$log" 2>&1 </dev/null || status=$?
    else
        die "$EXIT_SETUP" "${T_NAME[$i]} has neither a replay program nor a fuzzer in $(show_path "$BUILD_DIR"): build it"
    fi
    if ((status == 124 || status == 137)); then
        echo "nmrkit-replay: hang: no result after $limit s" >>"$log"
        status=124
    fi
    return "$status"
}

# expand_inputs <path...>: every regular file of the paths (directories: recursively, hidden
# files and the kit's own run files left out), one per line.
expand_inputs() {
    local path
    for path in "$@"; do
        if [[ -d $path ]]; then
            find "$path" -type f ! -name '.*' ! -name '*.log' ! -name 'results.tsv' ! -name command \
                ! -path '*/.*' | LC_ALL=C sort
        else
            printf '%s\n' "$path"
        fi
    done
}
