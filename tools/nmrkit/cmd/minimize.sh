# SPDX-License-Identifier: MIT
#: minimize CRASH [--target NAME] [--seconds N] [--build DIR]
#:     the smallest input that still fails with the same stop or sanitizer error, as text
#:
#: Replays CRASH to learn its kind and rule (verifier rule, shim stop or sanitizer error type),
#: then lets libFuzzer shrink it (-minimize_crash) for up to N seconds in all (default 60),
#: keeping a smaller input only when it fails with the same kind and rule: a shrink that
#: turns the bug into another is thrown away. The result is written beside CRASH as
#: minimized-<name> (CRASH itself is never changed) and printed as text: its replayed
#: timeline, which `<target>_replay -encode=OUT` turns back into bytes.
#: Exit status: 0 minimized (or already minimal), 1 CRASH does not fail, 2 bad arguments,
#: 3 set-up or an unwritable directory, 130 interrupted.

# shellcheck source=../setup.sh
source "$TOOLS/setup.sh"
# shellcheck source=../targets.sh
source "$TOOLS/targets.sh"
# shellcheck source=../findings.sh
source "$TOOLS/findings.sh"
# shellcheck source=../reproduce.sh
source "$TOOLS/reproduce.sh"

readonly DEFAULT_MINIMIZE_SECONDS=60
# Each libFuzzer -minimize_crash round gets this share of the budget, so that a round that
# changed the bug can be retried with another seed.
readonly MINIMIZE_ROUNDS=4

cmd_minimize() {
    local build="" target="" seconds=$DEFAULT_MINIMIZE_SECONDS crash=""
    while (($# > 0)); do
        case $1 in
            --build) need_value minimize "$1" $#; build=$2; shift 2 ;;
            --target) need_value minimize "$1" $#; target=$2; shift 2 ;;
            --seconds) need_value minimize "$1" $#; seconds=$(parse_seconds minimize "$2"); shift 2 ;;
            -*) usage_error minimize "minimize: unknown option '$1'" ;;
            *) [[ -z $crash ]] || usage_error minimize "minimize: one crash file at a time"; crash=$1; shift ;;
        esac
    done
    [[ -n $crash ]] || usage_error minimize "minimize: give the crash file"
    [[ -f $crash ]] || usage_error minimize "minimize: $crash is not a file"
    use_build minimize "$build"
    local i
    i=$(input_target minimize "$crash" "$target")
    [[ ${T_FUZZER[$i]} != - && -x ${T_FUZZER[$i]} ]] ||
        die "$EXIT_SETUP" "minimize: ${T_NAME[$i]} has no libFuzzer binary in $(show_path "$BUILD_DIR"): use a fuzz build"
    local out
    out="$(dirname -- "$crash")/minimized-$(basename -- "$crash" | sed 's/^minimized-//')"
    touch -- "$out" 2>/dev/null && rm -f -- "$out" ||
        die "$EXIT_SETUP" "minimize: cannot write beside $crash: copy it into a writable directory"

    local work log want got
    work=$(mktemp -d)
    log="$work/replay.log"
    reproduce_input "$i" "$crash" "$log" 1 && { rm -rf -- "$work"; die "$EXIT_FAILED" "minimize: $crash does not fail: nothing to minimize"; }
    want=$(finding_of_log "$log" | cut -f1,2)
    [[ -n $want ]] || want=$'crash\tunknown'
    say "minimize: $(show_path "$crash") ($(stat -c %s -- "$crash") bytes): ${want/$'\t'/ }"

    local best="$work/best" candidate="$work/candidate" round flags=() line start=$SECONDS
    cp -- "$crash" "$best"
    while IFS= read -r line; do flags+=("$line"); done < <(target_flags "$i" | grep -v -e '^-max_len=' -e '^-dict=')
    local per_round=$(((seconds + MINIMIZE_ROUNDS - 1) / MINIMIZE_ROUNDS))
    for ((round = 1; round <= MINIMIZE_ROUNDS && SECONDS - start < seconds; round++)); do
        rm -f -- "$candidate"
        (cd -- "$work" && "${T_FUZZER[$i]}" "${flags[@]}" -minimize_crash=1 -seed="$round" \
            -max_total_time="$per_round" -exact_artifact_path="$candidate" "$best") >"$work/round-$round.log" 2>&1 </dev/null || true
        [[ -s $candidate ]] || continue
        (($(stat -c %s -- "$candidate") < $(stat -c %s -- "$best"))) || continue
        if reproduce_input "$i" "$candidate" "$log" 1; then continue; fi
        got=$(finding_of_log "$log" | cut -f1,2)
        if [[ $got == "$want" ]]; then
            cp -- "$candidate" "$best"
            say "  round $round: $(stat -c %s -- "$best") bytes, same ${want/$'\t'/ }"
        else
            say "  round $round: a smaller input fails differently (${got/$'\t'/ }); kept the previous one"
        fi
    done
    cp -- "$best" "$out"
    reproduce_input "$i" "$out" "$log" 1 || true
    say "minimized: $(show_path "$out") ($(stat -c %s -- "$out") of $(stat -c %s -- "$crash") bytes); as text:"
    cat -- "$log"
    say "replay: $(replay_hint "$out")"
    rm -rf -- "$work"
}

