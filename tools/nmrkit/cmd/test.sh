# SPDX-License-Identifier: MIT
#: test [PRESET]
#:     configure, build and run the tests of a preset (default: dev)
#:
#: PRESET is one of dev asan tsan coverage fuzz: `./nmrkit test asan` is
#: `cmake --workflow --preset asan` after the set-up (tools/nmrkit/setup.sh): cmake 3.25+, ninja,
#: a C compiler and, for the clang presets, clang's sanitizer and profile runtimes
#: (libclang-rt-N-dev) and the LLVM tools (llvm-N). Missing Debian packages are installed with
#: apt-get when running as root; otherwise the apt-get line is printed.
#: Exit status: 0 every test passed, 1 a test failed, 2 bad arguments, 3 set-up failed.

# shellcheck source=../setup.sh
source "$TOOLS/setup.sh"

cmd_test() {
    (($# <= 1)) || usage_error test "test: too many arguments ($*)"
    local preset=${1:-dev}
    is_preset "$preset" || usage_error test "test: unknown preset '$preset' (presets: ${PRESETS[*]})"
    ensure_tools "$preset"
    cd "$ROOT"
    say "cmake --workflow --preset $preset"
    # Nothing is printed after the workflow, so the output ends with ctest's summary lines.
    cmake --workflow --preset "$preset" || exit "$EXIT_FAILED"
}
