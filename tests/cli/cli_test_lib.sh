# SPDX-License-Identifier: MIT
# cli_test_lib.sh - sourced by the tests of ./nmrkit (tests/cli/test_*.sh), not run.
#
# Every test gets FUZZ_BUILD (the fuzz build tree whose binaries it runs), NMRKIT (the entry
# point) and a scratch directory SCRATCH (removed at exit unless the test failed). The tests
# never run the kit's own build step: they hand ./nmrkit a build directory of their own
# (make_build_dir) that lists the real binaries in fuzz/targets.tsv, so runs, locks and
# artifacts stay in SCRATCH.
set -euo pipefail

(($# >= 2)) || { echo "usage: $0 NMRKIT FUZZ_BUILD_DIR [args]" >&2; exit 2; }
NMRKIT=$1 FUZZ_BUILD=$2
shift 2
TEST_NAME=$(basename -- "$0" .sh)
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/nmrkit-$TEST_NAME.XXXXXX")
KEEP_SCRATCH=0
trap '((KEEP_SCRATCH)) || rm -rf -- "$SCRATCH"' EXIT

fail() {
    KEEP_SCRATCH=1
    echo "$TEST_NAME: FAIL: $*" >&2
    echo "$TEST_NAME: scratch directory kept: $SCRATCH" >&2
    exit 1
}
pass() { echo "$TEST_NAME: $*"; }

# make_build_dir <dir> [target...]: a build directory whose manifest lists the named targets
# (default: all) of FUZZ_BUILD, with their real binaries, corpora and options.
make_build_dir() {
    local dir=$1 name
    shift
    mkdir -p -- "$dir/fuzz"
    if (($# == 0)); then
        cp -- "$FUZZ_BUILD/fuzz/targets.tsv" "$dir/fuzz/targets.tsv"
        return 0
    fi
    : >"$dir/fuzz/targets.tsv"
    for name in "$@"; do
        grep -P "^$name\t" "$FUZZ_BUILD/fuzz/targets.tsv" >>"$dir/fuzz/targets.tsv" ||
            fail "$name is not in $FUZZ_BUILD/fuzz/targets.tsv"
    done
}

# expect_status <want> <got> <what>
expect_status() { [[ $2 == "$1" ]] || fail "$3: exit status $2, expected $1"; }

# expect_grep <pattern> <file> <what>: an extended regular expression must match a line.
expect_grep() { grep -q -E -e "$1" -- "$2" || { cat -- "$2" >&2; fail "$3: no line matches /$1/ in $2"; }; }
expect_no_grep() { ! grep -q -E -e "$1" -- "$2" || { cat -- "$2" >&2; fail "$3: a line matches /$1/ in $2"; }; }

# wait_for <seconds> <command...>: poll until the command succeeds.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# start_nmrkit <log> <args...>: ./nmrkit in the background in a process group of its own, with
# SIGINT at its default (a background job of a script ignores it, and bash then cannot trap
# it: a terminal's Ctrl-C is what the tests imitate). Sets NMRKIT_PID (= its process group).
start_nmrkit() {
    local log=$1
    shift
    setsid env --default-signal=INT "$NMRKIT" "$@" >"$log" 2>&1 </dev/null &
    NMRKIT_PID=$!
}

# The fuzzer processes under a run directory (by their -artifact_prefix).
fuzzer_pids() { pgrep -f -- "-artifact_prefix=$1/" || true; }
