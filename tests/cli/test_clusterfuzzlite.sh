#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli.clusterfuzzlite_{libfuzzer,afl}: .clusterfuzzlite/build.sh, run here with OSS-Fuzz style
# variables, puts every target of the manifest into $OUT with its seed corpus (and options),
# and each fuzzer runs every input of its seed corpus without a finding.
#   libfuzzer  CC=clang, CFLAGS with ASan + UBSan + fuzzer-no-link, LIB_FUZZING_ENGINE=-fsanitize=fuzzer
#   afl        CC=afl-clang-fast with ASan, LIB_FUZZING_ENGINE=AFL++'s libAFLDriver.a; AFL++ comes
#              from Debian's afl++ package through `./nmrkit setup afl` (installed if missing, as
#              root); then afl-fuzz itself fuzzes one target for a few seconds
# Label slow (not in .ci/run): two full builds of every target.
source "$(dirname -- "${BASH_SOURCE[0]}")/cli_test_lib.sh"
engine=${1:?engine}
root=$(dirname -- "$(readlink -f -- "$NMRKIT")")
out="$SCRATCH/out"
export OUT=$out WORK="$SCRATCH/work" SRC=$root
case $engine in
    libfuzzer)
        export CC=clang FUZZING_ENGINE=libfuzzer SANITIZER=address LIB_FUZZING_ENGINE=-fsanitize=fuzzer
        export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,undefined -fsanitize-address-use-after-scope -fno-sanitize-recover=all -fsanitize=fuzzer-no-link"
        ;;
    afl)
        "$NMRKIT" setup afl || fail "AFL++ is not installed and could not be (see above)"
        export CC=afl-clang-fast FUZZING_ENGINE=afl SANITIZER=address LIB_FUZZING_ENGINE=/usr/lib/afl/libAFLDriver.a
        export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope"
        export AFL_QUIET=1
        ;;
    *) fail "engine $engine" ;;
esac
start=$SECONDS
"$root/.clusterfuzzlite/build.sh" >"$SCRATCH/build.log" 2>&1 || { tail -n 40 "$SCRATCH/build.log"; fail "build.sh failed"; }
built=$((SECONDS - start))
targets=$(cut -f1 "$FUZZ_BUILD/fuzz/targets.tsv")
for target in $targets; do
    [[ -x $out/$target ]] || fail "$target: no fuzzer in \$OUT"
    [[ -s $out/${target}_seed_corpus.zip ]] || fail "$target: no seed corpus"
    options=$(awk -F'\t' -v t="$target" '$1 == t { print $5 }' "$FUZZ_BUILD/fuzz/targets.tsv")
    [[ $options == - || -f $out/$target.options ]] || fail "$target: no .options"
    seeds="$SCRATCH/seeds/$target"
    mkdir -p "$seeds"
    (cd "$seeds" && cmake -E tar xf "$out/${target}_seed_corpus.zip")
    committed=$(awk -F'\t' -v t="$target" '$1 == t { print $4 }' "$FUZZ_BUILD/fuzz/targets.tsv")
    [[ $(find "$seeds" -type f | wc -l) == $(find "$committed" -maxdepth 1 -type f | wc -l) ]] ||
        fail "$target: the seed corpus does not hold every committed input"
    # Every seed runs: libFuzzer and AFL++'s driver both execute the files given as arguments.
    mapfile -t inputs < <(find "$seeds" -type f | sort)
    (cd "$SCRATCH" && "$out/$target" "${inputs[@]}") >"$SCRATCH/$target.log" 2>&1 ||
        { tail -n 30 "$SCRATCH/$target.log"; fail "$target ($engine) fails on its seed corpus"; }
    if [[ $engine == libfuzzer ]]; then
        ran=$(grep -c '^Executed .* in [0-9]* ms$' "$SCRATCH/$target.log" || true)
    else
        ran=$(grep -c '^Execution successful' "$SCRATCH/$target.log" || true)
    fi
    ((ran == ${#inputs[@]})) || fail "$target ($engine): $ran of ${#inputs[@]} seeds reported as run"
    echo "$target ($engine): ${#inputs[@]} seeds run"
done
if [[ $engine == afl ]]; then
    # afl-fuzz itself, on one target, for a few seconds: it must start and execute inputs.
    target=$(head -n 1 <<<"$targets")
    AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 \
        timeout 60 afl-fuzz -V 8 -m none -i "$SCRATCH/seeds/$target" -o "$SCRATCH/afl" -- "$out/$target" \
        >"$SCRATCH/afl.log" 2>&1 || { tail -n 30 "$SCRATCH/afl.log"; fail "afl-fuzz did not run $target"; }
    execs=$(sed -n 's/^execs_done *: *//p' "$SCRATCH"/afl/default/fuzzer_stats)
    ((execs > 0)) || fail "afl-fuzz executed nothing"
    echo "afl-fuzz $target: $execs executions in 8 s"
fi
pass "$engine: build.sh in $built s, every target ran its seeds"
