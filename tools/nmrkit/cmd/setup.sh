# SPDX-License-Identifier: MIT
#: setup [PRESET|afl]
#:     install what a preset (default: fuzz) or AFL++ (afl) needs, and nothing else
#:
#: The set-up every command does first, on its own: useful before going offline, and for AFL++
#: (Debian's afl++ package: afl-clang-fast, afl-fuzz, /usr/lib/afl/libAFLDriver.a), which
#: only .clusterfuzzlite/build.sh with FUZZING_ENGINE=afl uses.
#: Exit status: 0 everything is there, 2 bad arguments, 3 something is missing and could not be
#: installed (not root: the apt-get line is printed).

# shellcheck source=../setup.sh
source "$TOOLS/setup.sh"

cmd_setup() {
    (($# <= 1)) || usage_error setup "setup: too many arguments ($*)"
    local what=${1:-fuzz}
    [[ $what == afl ]] || is_preset "$what" ||
        usage_error setup "setup: unknown preset '$what' (presets: ${PRESETS[*]}, or afl)"
    ensure_tools "$what"
    say "set-up for $what: complete"
}
