# SPDX-License-Identifier: MIT
# common.sh - sourced by ./nmrkit (not run): messages, exit statuses, argument checks and paths
# shared by every subcommand. Expects ROOT (the top of the checkout, symlinks resolved).

# Exit statuses of every subcommand (README "Exit status"; `./nmrkit help`).
readonly EXIT_OK=0          # passed: no finding, every check green
readonly EXIT_FAILED=1      # a finding (crash, stop, hang, leak), a failed test or gate check
readonly EXIT_USAGE=2       # bad arguments or bad input files (unknown target, oversized input)
readonly EXIT_SETUP=3       # the environment: tools missing, build failed, directory busy or unwritable
readonly EXIT_KILLED=4      # a fuzzer was killed by a signal from outside (OOM killer, kill -9)
readonly EXIT_INTERRUPTED=130 # Ctrl-C (SIGINT) or SIGTERM: the run was stopped before its budget

# The longest budget accepted by --seconds (30 days): anything larger is a typo, and bash
# arithmetic on 20-digit numbers wraps silently.
readonly MAX_SECONDS=2592000

say() { printf 'nmrkit: %s\n' "$*"; }
warn() { printf 'nmrkit: %s\n' "$*" >&2; }
# die [status] message: one line on stderr, then exit (default status: EXIT_FAILED).
die() {
    local status=$EXIT_FAILED
    if [[ $1 =~ ^[0-9]+$ ]] && (($# > 1)); then
        status=$1
        shift
    fi
    warn "$*"
    exit "$status"
}
# usage_error <command> <message>: the message and where to find the command's usage.
usage_error() {
    warn "$2"
    if [[ -n $1 ]]; then
        warn "usage: ./nmrkit $1 --help"
    else
        warn "usage: ./nmrkit help"
    fi
    exit "$EXIT_USAGE"
}
# A path relative to the current directory's checkout top when it is inside it.
show_path() { printf '%s' "${1#"$ROOT"/}"; }

have() { command -v "$1" >/dev/null 2>&1; }

# parse_seconds <command> <value>: print the value as a number of seconds, or refuse it.
parse_seconds() {
    local command=$1 value=$2
    [[ $value =~ ^[0-9]+$ ]] ||
        usage_error "$command" "$command: seconds must be a whole number of seconds, not '$value'"
    # Length first: bash arithmetic on more than 18 digits overflows.
    value=$(sed 's/^0*//' <<<"$value")
    if ((${#value} > ${#MAX_SECONDS})) || ((${value:-0} > MAX_SECONDS)); then
        usage_error "$command" "$command: $2 seconds is beyond the limit of $MAX_SECONDS (30 days); give a smaller budget"
    fi
    ((${value:-0} >= 1)) || usage_error "$command" "$command: seconds must be at least 1"
    printf '%s' "$value"
}

# parse_jobs <command> <value>
parse_jobs() {
    local command=$1 value=$2
    [[ $value =~ ^[0-9]{1,4}$ ]] && ((10#$value >= 1 && 10#$value <= 1024)) ||
        usage_error "$command" "$command: --jobs takes a number from 1 to 1024, not '$value'"
    printf '%d' "$((10#$value))"
}

# need_value <command> <option> <remaining argument count>: an option's value must follow it.
need_value() { (($3 >= 2)) || usage_error "$1" "$1: $2 needs a value"; }

# writable_dir <dir>: create it if needed and check that files can be written in it.
writable_dir() {
    local dir=$1 probe
    mkdir -p -- "$dir" 2>/dev/null || die "$EXIT_SETUP" "cannot create $dir: choose a writable directory"
    probe=$(mktemp -p "$dir" .nmrkit-probe.XXXXXX 2>/dev/null) ||
        die "$EXIT_SETUP" "$dir is not writable: fix its permissions or choose another directory"
    rm -f -- "$probe"
}

# print_help_of <file>: the usage block at the top of a command file (its "#:" lines).
print_help_of() { sed -n 's/^#: \{0,1\}//p' "$1"; }

# need_paths <command> <what is wanted> <path...>: at least one path, and each must exist.
need_paths() {
    local command=$1 wanted=$2 path
    shift 2
    (($# > 0)) || usage_error "$command" "$command: give the $wanted"
    for path in "$@"; do
        [[ -e $path ]] || usage_error "$command" "$command: $path does not exist"
    done
}
