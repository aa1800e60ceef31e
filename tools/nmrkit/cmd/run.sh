# SPDX-License-Identifier: MIT
#: run [TARGET...] [--seconds N] [--jobs N] [--build DIR] [--work DIR]
#:     fuzz targets in parallel, with live progress and a summary table
#:
#: Fuzzes every target of the build (or the named ones) for N seconds each (default 60, at most
#: 30 days), --jobs at a time (default: every core). Each target starts from a scratch copy of
#: its committed corpus; new corpus entries and crash inputs go to the run's own directory,
#: <build>/nmrkit-runs/<UTC time>-<pid>/<target>/{corpus,artifacts,fuzz.log} (the newest is
#: also <build>/nmrkit-runs/latest), never into corpus/ (`./nmrkit merge` does that). Two runs
#: never share a directory; --work DIR names one, locked while the run lasts (a second run in
#: it is refused).
#: Progress: one line per running target (elapsed/budget, exec/s, corpus entries, coverage
#: features, findings), redrawn every second on a terminal, every 10 s otherwise
#: (NMRKIT_PROGRESS_INTERVAL). Ctrl-C stops every fuzzer at once and prints the summary.
#:   --build DIR   a build tree whose fuzzers were declared with the kit's CMake functions
#:                 (read from DIR/fuzz/targets.tsv; rebuilt first if it is a CMake tree);
#:                 default: the kit's own fuzz preset, set up and built first
#: Exit status: 0 no finding, 1 a finding or a fuzzer error, 2 bad arguments or input,
#: 3 set-up, 4 a fuzzer was killed from outside, 130 interrupted (Ctrl-C, SIGTERM).

# shellcheck source=../setup.sh
source "$TOOLS/setup.sh"
# shellcheck source=../targets.sh
source "$TOOLS/targets.sh"
# shellcheck source=../findings.sh
source "$TOOLS/findings.sh"
# shellcheck source=../engine.sh
source "$TOOLS/engine.sh"

readonly DEFAULT_RUN_SECONDS=60

cmd_run() {
    local command=${RUN_COMMAND:-run}
    local seconds=$DEFAULT_RUN_SECONDS jobs build="" work="" names=()
    jobs=$(nproc)
    while (($# > 0)); do
        case $1 in
            --seconds) need_value "$command" "$1" $#; seconds=$(parse_seconds "$command" "$2"); shift 2 ;;
            --jobs) need_value "$command" "$1" $#; jobs=$(parse_jobs "$command" "$2"); shift 2 ;;
            --build) need_value "$command" "$1" $#; build=$2; shift 2 ;;
            --work) need_value "$command" "$1" $#; work=$2; shift 2 ;;
            -*) usage_error "$command" "$command: unknown option '$1'" ;;
            *) names+=("$1"); shift ;;
        esac
    done
    use_build "$command" "$build"
    select_targets "$command" "${names[@]}"
    local i
    for i in "${SELECTED[@]}"; do
        [[ ! -d ${T_CORPUS[$i]} ]] || check_inputs "$command" "$i" "${T_CORPUS[$i]}"
    done
    open_run_dir "$command" "$work"
    engine_run "$seconds" "$jobs" "${SELECTED[@]}"
    local status=0
    engine_summary "${SELECTED[@]}" || status=$?
    return "$status"
}
