#!/bin/bash -eu
# SPDX-License-Identifier: MIT
# .clusterfuzzlite/build.sh - builds every nmrkit fuzz target for ClusterFuzzLite and OSS-Fuzz.
#
# Reads the OSS-Fuzz build environment: $CC, $CFLAGS (sanitizer and coverage flags),
# $LIB_FUZZING_ENGINE (libFuzzer flags, or a driver library such as AFL++'s libAFLDriver.a),
# $SANITIZER, $FUZZING_ENGINE (libfuzzer, afl, ...), $SRC (where the checkout is), $WORK
# (scratch) and $OUT. Writes into $OUT, for every target of the build's manifest
# (fuzz/targets.tsv, the targets declared with nmrkit_add_fuzz_target):
#   <target>                  the fuzzer
#   <target>_seed_corpus.zip  the committed corpus (corpus/<target>/)
#   <target>.options          libFuzzer options ([libfuzzer] max_len ...), when the target has them
#   <target>.dict             the dictionary, when the target has one
# Run by hand (from the checkout), e.g. for AFL++:
#   CC=afl-clang-fast CFLAGS="-O1 -g -fsanitize=address" LIB_FUZZING_ENGINE=/usr/lib/afl/libAFLDriver.a \
#   FUZZING_ENGINE=afl SANITIZER=address OUT=/tmp/out WORK=/tmp/work .clusterfuzzlite/build.sh
# (tests/cli/test_clusterfuzzlite.sh does that for libFuzzer and AFL++).

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(dirname -- "$here")
: "${CC:?set CC (the compiler OSS-Fuzz gives: clang, afl-clang-fast, ...)}"
: "${OUT:?set OUT (where the fuzzers go)}"
: "${LIB_FUZZING_ENGINE:?set LIB_FUZZING_ENGINE (e.g. -fsanitize=fuzzer)}"
CFLAGS=${CFLAGS:-}
SANITIZER=${SANITIZER:-address}
FUZZING_ENGINE=${FUZZING_ENGINE:-libfuzzer}
WORK=${WORK:-$(mktemp -d)}
build="$WORK/nmrkit-build-$FUZZING_ENGINE-$SANITIZER"

die() { echo "build.sh: $*" >&2; exit 1; }
command -v "$CC" >/dev/null 2>&1 || die "the compiler $CC is not installed (AFL++: apt-get install afl++, or ./nmrkit setup afl)"
if [[ $LIB_FUZZING_ENGINE == /* && ! -f $LIB_FUZZING_ENGINE ]]; then
    die "the fuzzing engine library $LIB_FUZZING_ENGINE is missing (AFL++: apt-get install afl++, or ./nmrkit setup afl)"
fi
mkdir -p "$OUT" && [[ -w $OUT ]] || die "cannot write to \$OUT=$OUT"

flags=$CFLAGS
# Keep code whose branches say nothing about the behaviour under test (the shim, the input
# reader, the registrar's self-checks) out of libFuzzer's coverage, as the fuzz preset does.
if [[ $flags == *fuzzer-no-link* ]]; then
    flags+=" -fsanitize-coverage-ignorelist=$source_dir/cmake/fuzz-coverage-ignorelist.txt"
fi
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)

# The fiber scheduler makes every interleaving a function of the input (as in the fuzz preset);
# NMRKIT_SANITIZERS stays empty: OSS-Fuzz's $CFLAGS carry the sanitizer.
cmake -S "$source_dir" -B "$build" "${generator[@]}" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$flags" \
    -DCMAKE_C_FLAGS_RELEASE="" \
    -DNMRKIT_FUZZ=ON -DNMRKIT_SANITIZERS= -DNMRKIT_SCHEDULER=fibers \
    -DNMRKIT_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE"
manifest="$build/fuzz/targets.tsv"
[[ -s $manifest ]] || die "$manifest lists no fuzz targets"
targets=$(cut -f1 "$manifest" | grep -v '^#')
# shellcheck disable=SC2086 # one target name per word
cmake --build "$build" --parallel "$(nproc)" --target $targets

while IFS=$'\t' read -r name fuzzer _replay corpus options _rest; do
    [[ -n $name && $name != \#* ]] || continue
    [[ -x $fuzzer ]] || die "$name: $fuzzer was not built"
    cp "$fuzzer" "$OUT/$name"
    rm -f "$OUT/${name}_seed_corpus.zip"
    (cd "$corpus" && cmake -E tar cf "$OUT/${name}_seed_corpus.zip" --format=zip -- *)
    if [[ $options != - && -f $options ]]; then
        cp "$options" "$OUT/$name.options"
    fi
    dict="$source_dir/fuzz/$name.dict"
    [[ ! -f $dict ]] || cp "$dict" "$OUT/$name.dict"
    echo "build.sh: $OUT/$name ($(find "$corpus" -maxdepth 1 -type f | wc -l) seed inputs)"
done <"$manifest"
