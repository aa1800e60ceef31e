# SPDX-License-Identifier: MIT
#: replay PATH... [--target NAME] [--runs N] [--build DIR]
#:     replay inputs (files, or directories of them); print the timeline of each failure
#:
#: Each input runs in a process of its own through its target's replay program, N times
#: (default 4): a crash, verifier stop, oracle failure or hang fails it, and so does a trace
#: hash that differs between runs (nondeterminism). For each failure the decoded timeline
#: (the calls and the input's decisions), the stop line and its stack are printed; a passing
#: input gets one line. The target of an input is found from its path (corpus/<target>/...,
#: <run>/<target>/artifacts/...); --target names it otherwise.
#:   --build DIR   a build tree with DIR/fuzz/targets.tsv (default: the kit's fuzz preset)
#: Exit status: 0 every input passed, 1 an input failed, 2 bad arguments or a path that is
#: missing, 3 set-up.

# shellcheck source=../setup.sh
source "$TOOLS/setup.sh"
# shellcheck source=../targets.sh
source "$TOOLS/targets.sh"
# shellcheck source=../findings.sh
source "$TOOLS/findings.sh"
# shellcheck source=../reproduce.sh
source "$TOOLS/reproduce.sh"

cmd_replay() {
    local build="" target="" runs=4 paths=()
    while (($# > 0)); do
        case $1 in
            --build) need_value replay "$1" $#; build=$2; shift 2 ;;
            --target) need_value replay "$1" $#; target=$2; shift 2 ;;
            --runs)
                need_value replay "$1" $#
                [[ $2 =~ ^[0-9]{1,4}$ ]] && ((10#$2 >= 1)) || usage_error replay "replay: --runs takes a number from 1 to 9999, not '$2'"
                runs=$((10#$2)); shift 2 ;;
            -*) usage_error replay "replay: unknown option '$1'" ;;
            *) paths+=("$1"); shift ;;
        esac
    done
    need_paths replay "files or directories to replay" "${paths[@]}"
    use_build replay "$build"
    local files=() file i log status passed=0 failed=0 finding
    mapfile -t files < <(expand_inputs "${paths[@]}")
    ((${#files[@]} > 0)) || usage_error replay "replay: no input files in ${paths[*]}"
    log=$(mktemp)
    for file in "${files[@]}"; do
        i=$(input_target replay "$file" "$target")
        status=0
        reproduce_input "$i" "$file" "$log" "$runs" || status=$?
        if ((status == 0)); then
            passed=$((passed + 1))
            echo "ok    ${T_NAME[$i]}  $(show_path "$file")"
            continue
        fi
        failed=$((failed + 1))
        finding=$(finding_of_log "$log")
        echo "FAIL  ${T_NAME[$i]}  $(show_path "$file")  ${finding:+$(cut -f1,2 <<<"$finding" | tr '\t' ' ') at $(cut -f4 <<<"$finding")}"
        [[ -n $finding ]] || echo "      (no stop or sanitizer report: exit status $status; nondeterministic or unreadable?)"
        sed 's/^/      /' "$log"
        echo
    done
    rm -f -- "$log"
    say "replayed ${#files[@]} input(s): $passed passed, $failed failed"
    ((failed == 0)) || return "$EXIT_FAILED"
}
