# SPDX-License-Identifier: MIT
# setup.sh - sourced by ./nmrkit (not run): find what a preset (or AFL++) needs and install what
# is missing. On a Debian machine that has only the distribution's clang and cmake it installs
# the rest with apt-get when run as root; otherwise it prints the apt-get command line and
# exits EXIT_SETUP.

readonly PRESETS=(dev asan tsan coverage fuzz)

APT_UPDATED=0

is_preset() {
    local preset
    for preset in "${PRESETS[@]}"; do
        [[ $1 == "$preset" ]] && return 0
    done
    return 1
}

clang_major() { clang -dumpversion 2>/dev/null | cut -d. -f1; }

# Print the path of an LLVM tool of clang's version (llvm-cov-14, /usr/lib/llvm-14/bin/llvm-cov,
# then llvm-cov); fail if there is none.
find_llvm_tool() {
    local tool=$1 major candidate
    major=$(clang_major) || major=""
    for candidate in ${major:+"$tool-$major" "/usr/lib/llvm-$major/bin/$tool"} "$tool"; do
        if have "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# Does clang compile and link a trivial program with these flags? A missing sanitizer or
# profile runtime (libclang-rt-N-dev) shows up here as a link error.
clang_links() {
    local dir status=0 source='int main(void) { return 0; }'
    if [[ " $* " == *fuzzer* ]]; then
        source='int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return (int)(n - n) + (d == 0); }'
    fi
    dir=$(mktemp -d)
    clang -x c - -o "$dir/probe" "$@" <<<"$source" >/dev/null 2>&1 || status=1
    rm -rf "$dir"
    return "$status"
}

# Does the default C compiler build a program that uses the C library's headers?
c_compiles() {
    local compiler dir status=0
    for compiler in cc gcc clang; do
        have "$compiler" && break
    done
    dir=$(mktemp -d)
    "$compiler" -x c - -o "$dir/probe" >/dev/null 2>&1 <<<'#include <stdio.h>
int main(void) { return puts("") < 0; }' || status=1
    rm -rf "$dir"
    return "$status"
}

# Compiler flags that need clang's runtimes, per clang preset.
runtime_flags() {
    case $1 in
        asan) echo "-fsanitize=address,undefined" ;;
        tsan) echo "-fsanitize=thread" ;;
        fuzz) echo "-fsanitize=fuzzer,address,undefined" ;;
        coverage) echo "-fprofile-instr-generate -fcoverage-mapping" ;;
    esac
}

# Print the Debian packages missing for a preset, one per line.
missing_packages() {
    local preset=$1 major tool
    have cmake || echo cmake
    have ninja || echo ninja-build
    if [[ $preset == dev ]]; then
        # CMake's default compiler: the first of cc, gcc, ..., clang; it needs the C headers.
        if have cc || have gcc || have clang; then
            c_compiles || echo libc6-dev
        else
            echo clang
        fi
        return 0
    fi
    if ! have clang; then
        # The unversioned packages follow the distribution's default clang.
        echo clang
        echo libclang-rt-dev
        echo llvm
        return 0
    fi
    major=$(clang_major)
    # shellcheck disable=SC2046 # the flags are meant to split
    clang_links $(runtime_flags "$preset") || echo "libclang-rt-$major-dev"
    # llvm-symbolizer turns sanitizer reports into file:line stacks; llvm-cov/-profdata: coverage.
    for tool in llvm-symbolizer llvm-cov llvm-profdata; do
        if [[ $tool == llvm-symbolizer || $preset == coverage ]]; then
            find_llvm_tool "$tool" >/dev/null || echo "llvm-$major"
        fi
    done
}

install_packages() {
    local packages=("$@")
    if ! have apt-get; then
        die "$EXIT_SETUP" "missing tools; install the Debian packages ${packages[*]} (or their equivalents) and rerun"
    fi
    if [[ $(id -u) -ne 0 ]]; then
        warn "missing Debian packages: ${packages[*]}; install them as root with"
        warn "  apt-get update && apt-get install -y --no-install-recommends ${packages[*]}"
        exit "$EXIT_SETUP"
    fi
    say "installing missing Debian packages: ${packages[*]}"
    local log status=0
    log=$(mktemp)
    # Quiet: the output of apt-get and dpkg is shown only if something goes wrong.
    {
        if ((APT_UPDATED == 0)); then
            DEBIAN_FRONTEND=noninteractive apt-get update -qq && APT_UPDATED=1
        fi &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                -o Dpkg::Use-Pty=0 "${packages[@]}"
    } </dev/null >"$log" 2>&1 || status=$?
    if ((status != 0)); then
        cat "$log" >&2
        rm -f -- "$log"
        die "$EXIT_SETUP" "apt-get failed (status $status) installing: ${packages[*]}"
    fi
    rm -f -- "$log"
}

check_cmake_version() {
    local version
    version=$(cmake --version | sed -n '1s/^cmake version \([0-9.]*\).*/\1/p')
    if ! printf '%s\n%s\n' 3.25 "$version" | sort -V -C; then
        die "$EXIT_SETUP" "cmake $version is too old: presets version 6 and 'cmake --workflow' need 3.25 or later"
    fi
}

# Make sure everything the preset needs is installed, and that sanitizers find an
# llvm-symbolizer (Debian's llvm-N ships only llvm-symbolizer-N): a link to it goes in
# build/.tools, which is put first on PATH. Only that link: putting /usr/lib/llvm-N/bin on
# PATH would change where "clang" resolves, and CMake would then discard the build trees'
# caches whenever cmake is run without nmrkit.
ensure_tools() {
    local preset=$1 missing symbolizer
    mapfile -t missing < <(missing_packages "$preset" | sort -u)
    if ((${#missing[@]} > 0)); then
        install_packages "${missing[@]}"
        mapfile -t missing < <(missing_packages "$preset" | sort -u)
        if ((${#missing[@]} > 0)); then
            die "$EXIT_SETUP" "still missing after installing: ${missing[*]}"
        fi
    fi
    [[ $preset == afl ]] || check_cmake_version
    if ! have llvm-symbolizer && symbolizer=$(find_llvm_tool llvm-symbolizer); then
        mkdir -p -- "$ROOT/build/.tools"
        ln -sfn -- "$symbolizer" "$ROOT/build/.tools/llvm-symbolizer"
        PATH="$ROOT/build/.tools:$PATH"
        export PATH
    fi
}
