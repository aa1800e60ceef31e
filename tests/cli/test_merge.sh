#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli.merge: `./nmrkit merge TARGET` is the one command that writes a corpus: after a run it
# keeps a minimal set of the committed and the new inputs under their SHA-1 names, keeps
# regress-* files unchanged, and touches neither the run's artifacts nor other targets.
# It works on a copy of a committed corpus (the test's own build directory points there).
source "$(dirname -- "${BASH_SOURCE[0]}")/cli_test_lib.sh"
target=fuzz_nmr_characteristics
build="$SCRATCH/build"
make_build_dir "$build" "$target"
corpus="$SCRATCH/corpus/$target"
mkdir -p "$corpus"
cp -- "$(cut -f4 "$build/fuzz/targets.tsv")"/* "$corpus/"
awk -F'\t' -v c="$corpus" 'BEGIN { OFS = "\t" } { $4 = c; print }' "$build/fuzz/targets.tsv" >"$SCRATCH/t"
mv "$SCRATCH/t" "$build/fuzz/targets.tsv"
# A regression input that adds no coverage of its own: merge must keep it anyway.
cp -- "$(find "$corpus" -type f | head -n 1)" "$corpus/regress-duplicate-of-another"
regress_sum=$(sha1sum <"$corpus/regress-duplicate-of-another")
cp -R -- "$corpus" "$SCRATCH/before"
before=$(find "$corpus" -type f | wc -l)

"$NMRKIT" run --build "$build" --seconds 5 >"$SCRATCH/run.log" 2>&1 || { cat "$SCRATCH/run.log"; fail "run"; }
grep -q -E "$target +ok" "$SCRATCH/run.log" || fail "run did not pass"
"$NMRKIT" merge --build "$build" "$target" >"$SCRATCH/merge.log" 2>&1 || { cat "$SCRATCH/merge.log"; fail "merge"; }
cat "$SCRATCH/merge.log"
after=$(find "$corpus" -type f | wc -l)
expect_grep "merged into .*: [0-9]+ added, [0-9]+ removed, [0-9]+ kept \\($after inputs\\)" "$SCRATCH/merge.log" "the summary"
[[ -f $corpus/regress-duplicate-of-another && $(sha1sum <"$corpus/regress-duplicate-of-another") == "$regress_sum" ]] ||
    fail "the regress-* file was not kept unchanged"
for file in "$corpus"/*; do
    name=$(basename -- "$file")
    [[ $name == regress-* ]] && continue
    [[ $name == "$(sha1sum <"$file" | cut -c1-40)" ]] || fail "$name is not named by its SHA-1"
done
# The merged corpus replays cleanly (what the fuzz.replay test of the target will check).
"$(cut -f3 "$build/fuzz/targets.tsv")" -runs=4 "$corpus" >/dev/null || fail "the merged corpus does not replay"
# The merged corpus reaches the edge coverage of everything it was merged from (the committed
# inputs and the run's): libFuzzer's features without hit counters after loading it (INITED
# ft), within 1%.
fuzzer=$(cut -f2 "$build/fuzz/targets.tsv")
features() { "$fuzzer" -runs=0 -use_counters=0 "$@" 2>&1 | sed -n 's/.*INITED.* ft: \([0-9]*\).*/\1/p' | tail -n 1; }
merged=$(features "$corpus")
union=$(features "$SCRATCH/before" "$build"/nmrkit-runs/2*/"$target"/corpus)
[[ -n $merged && -n $union ]] || fail "could not measure features (merged '$merged', union '$union')"
((merged * 100 >= union * 99)) || fail "the merged corpus lost coverage: $merged features, $union before"
pass "corpus $before -> $after inputs, $merged features (all inputs: $union)"
