# SPDX-License-Identifier: MIT
#: fuzz [SECONDS] [TARGET...]
#:     the main job: build the fuzz preset and fuzz every target (or the named ones)
#:
#: The same as `./nmrkit run --seconds SECONDS [TARGET...]` (default 60 s per target), in the
#: form the README's first command has always had: every target on its own core, progress
#: lines, a summary table, crash inputs kept in build/fuzz/nmrkit-runs/<run>/<target>/artifacts/.
#: Exit status: as `./nmrkit run --help` says.

# shellcheck source=run.sh
source "$TOOLS/cmd/run.sh"

cmd_fuzz() {
    local run_args=()
    if (($# > 0)) && [[ $1 =~ ^[-+]?[0-9.]+$ ]]; then
        run_args=(--seconds "$1")
        shift
    fi
    local target
    for target in "$@"; do
        [[ $target =~ ^[A-Za-z0-9_]+$ ]] || usage_error fuzz "fuzz: '$target' is not a target name"
    done
    RUN_COMMAND=fuzz cmd_run "${run_args[@]}" "$@"
}
