#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cli.arguments: bad arguments and bad input get one line saying what to do and exit status 2
# (3 for the environment); every subcommand has --help; ./nmrkit works through a symlink.
source "$(dirname -- "${BASH_SOURCE[0]}")/cli_test_lib.sh"
make_build_dir "$SCRATCH/build" fuzz_nmr_ops

# expect_refusal <status> <pattern> <args...>: exit status, at most 2 lines (the message and
# where to find the usage), the first matching the pattern; nothing else runs.
expect_refusal() {
    local want=$1 pattern=$2 status=0
    shift 2
    "$NMRKIT" "$@" >"$SCRATCH/out" 2>&1 || status=$?
    expect_status "$want" "$status" "./nmrkit $*"
    (($(wc -l <"$SCRATCH/out") <= 2)) || { cat "$SCRATCH/out" >&2; fail "./nmrkit $*: more than 2 lines"; }
    head -n 1 "$SCRATCH/out" | grep -q -E -e "$pattern" ||
        { cat "$SCRATCH/out" >&2; fail "./nmrkit $*: message does not match /$pattern/"; }
}
b=(--build "$SCRATCH/build")
# Seconds: 2^64+1 wrapped to 1 s and 10^20 to a nonsense budget in the first script.
expect_refusal 2 'beyond the limit' fuzz 18446744073709551617
expect_refusal 2 'beyond the limit' fuzz 100000000000000000000
expect_refusal 2 'beyond the limit' run --seconds 2592001 "${b[@]}"
expect_refusal 2 'at least 1' run --seconds 0 "${b[@]}"
expect_refusal 2 'whole number' run --seconds 1.5 "${b[@]}"
expect_refusal 2 'whole number' run --seconds -3 "${b[@]}"
expect_refusal 2 'whole number' gate --seconds 1e3 "${b[@]}"
expect_refusal 2 '--jobs takes' run --jobs 0 "${b[@]}"
expect_refusal 2 'needs a value' run --seconds
expect_refusal 2 "unknown target 'fuzz_nope'.*fuzz_nmr_ops" run fuzz_nope "${b[@]}"
expect_refusal 2 "unknown target 'fuzz_nope'" merge fuzz_nope "${b[@]}"
expect_refusal 2 "unknown command" frobnicate
expect_refusal 2 "not a directory" run --build "$SCRATCH/nowhere"
mkdir -p "$SCRATCH/empty"
expect_refusal 3 'targets.tsv is missing or empty' run --build "$SCRATCH/empty"
# Bad corpus files: oversized, unreadable (not a regular file).
corpus="$SCRATCH/corpus"
mkdir -p "$corpus"
cp "$(awk -F'\t' '{ print $4 }' "$SCRATCH/build/fuzz/targets.tsv")"/* "$corpus/"
awk -F'\t' -v c="$corpus" 'BEGIN { OFS = "\t" } { $4 = c; print }' "$SCRATCH/build/fuzz/targets.tsv" >"$SCRATCH/t"
mv "$SCRATCH/t" "$SCRATCH/build/fuzz/targets.tsv"
head -c 100000 /dev/zero >"$corpus/oversized"
expect_refusal 2 'oversized is 100000 bytes, more than fuzz_nmr_ops.s max_len of 512: shrink it' run "${b[@]}"
rm "$corpus/oversized"
ln -s "$SCRATCH/missing" "$corpus/dangling"
expect_refusal 2 'dangling is not a regular file' run "${b[@]}"
rm "$corpus/dangling"
# Unwritable output directories (as root, a file where a directory should be).
touch "$SCRATCH/file"
expect_refusal 3 'cannot create|not writable' run --work "$SCRATCH/file/work" --seconds 1 "${b[@]}"
expect_refusal 3 'cannot create|not writable' gate --out "$SCRATCH/file/out" --seconds 1 "${b[@]}"
# --help on every subcommand: a usage line naming the command, exit 0.
for command in test fuzz run replay minimize merge triage gate coverage setup; do
    "$NMRKIT" "$command" --help >"$SCRATCH/out" 2>&1 || fail "$command --help failed"
    head -n 1 "$SCRATCH/out" | grep -q "^$command" || fail "$command --help: no synopsis"
    grep -q -i 'exit status' "$SCRATCH/out" || fail "$command --help: exit statuses not documented"
done
# Through a symlink in another directory.
ln -s "$(readlink -f -- "$NMRKIT")" "$SCRATCH/nk"
(cd / && "$SCRATCH/nk" help >"$SCRATCH/out") || fail "help through a symlink"
(cd / && "$SCRATCH/nk" run --build "$SCRATCH/build" --seconds 1 fuzz_nmr_ops >"$SCRATCH/out" 2>&1) ||
    { cat "$SCRATCH/out" >&2; fail "run through a symlink"; }
pass "refusals, --help and the symlink"
