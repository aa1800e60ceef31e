# SPDX-License-Identifier: MIT
#: merge TARGET [--from DIR...] [--build DIR]
#:     minimize the work corpora of a target into its committed corpus (libFuzzer -merge=1)
#:
#: The only command that changes corpus/: it takes the committed inputs of TARGET and the
#: scratch corpora of every run (<build>/nmrkit-runs/*/TARGET/corpus, and each --from DIR),
#: and keeps the smallest set that reaches the same edge coverage (-use_counters=0 unless the
#: target's .options say otherwise), named by the SHA-1 of their
#: content. regress-* files (regression inputs of fixed bugs) are always kept, unchanged.
#: Before corpus/TARGET is touched, every input of the new set must replay 4 times with the
#: same trace hash and without a finding; otherwise nothing changes. Crash artifacts are
#: never read or moved. Prints what was added and removed; commit the result.
#: Exit status: 0 merged, 1 the new set does not replay cleanly (corpus unchanged),
#: 2 bad arguments or input, 3 set-up or the corpus is being merged by another run.

# shellcheck source=../setup.sh
source "$TOOLS/setup.sh"
# shellcheck source=../targets.sh
source "$TOOLS/targets.sh"
# shellcheck source=../engine.sh
source "$TOOLS/engine.sh"

cmd_merge() {
    local build="" name="" from=()
    while (($# > 0)); do
        case $1 in
            --build) need_value merge "$1" $#; build=$2; shift 2 ;;
            --from)
                need_value merge "$1" $#
                [[ -d $2 ]] || usage_error merge "merge: --from $2 is not a directory"
                from+=("$(cd -- "$2" && pwd)"); shift 2 ;;
            -*) usage_error merge "merge: unknown option '$1'" ;;
            *) [[ -z $name ]] || usage_error merge "merge: one target at a time"; name=$1; shift ;;
        esac
    done
    [[ -n $name ]] || usage_error merge "merge: give the target whose corpus to merge"
    use_build merge "$build"
    select_targets merge "$name"
    local i=${SELECTED[0]} corpus
    corpus=${T_CORPUS[$i]}
    [[ ${T_FUZZER[$i]} != - && -x ${T_FUZZER[$i]} ]] ||
        die "$EXIT_SETUP" "merge: $name has no libFuzzer binary in $(show_path "$BUILD_DIR"): use a fuzz build"
    [[ -d $corpus ]] || die "$EXIT_USAGE" "merge: the corpus directory $(show_path "$corpus") does not exist: create it"
    writable_dir "$corpus"
    writable_dir "$BUILD_DIR/nmrkit-runs"
    # One merge of a target at a time (the lock lives in the build tree, not in corpus/).
    mkdir -p -- "$BUILD_DIR/nmrkit-runs/.merge-$name"
    lock_dir merge "$BUILD_DIR/nmrkit-runs/.merge-$name" "another merge of $name is running: wait for it"

    local dir sources=()
    for dir in "$BUILD_DIR"/nmrkit-runs/*/"$name"/corpus "${from[@]}"; do
        [[ $dir != "$BUILD_DIR/nmrkit-runs/latest/"* ]] || continue
        [[ -d $dir ]] && sources+=("$dir")
    done
    check_inputs merge "$i" "$corpus" "${sources[@]}"

    local work
    work=$(mktemp -d -p "$BUILD_DIR/nmrkit-runs" ".merge-$name.XXXXXX")
    mkdir -p -- "$work/new" "$work/committed"
    # regress-* start the new set (kept whatever their coverage); the rest competes.
    find "$corpus" -maxdepth 1 -type f -name 'regress-*' -exec cp -- {} "$work/new/" \;
    find "$corpus" -maxdepth 1 -type f ! -name 'regress-*' -exec cp -- {} "$work/committed/" \;
    local flags=() line
    while IFS= read -r line; do flags+=("$line"); done < <(target_flags "$i")
    # Edge coverage alone decides (fuzz/README.md): with hit counters a merge keeps ten times
    # the inputs for the same lines. An options file may still say otherwise.
    [[ " ${flags[*]}" == *" -use_counters="* ]] || flags+=(-use_counters=0)
    say "merge: $(show_path "$corpus") with ${#sources[@]} work corpus(es)"
    if ! (cd -- "$work" && "${T_FUZZER[$i]}" "${flags[@]}" -merge=1 "$work/new" "$work/committed" "${sources[@]}") \
        >"$work/merge.log" 2>&1 </dev/null; then
        tail -n 20 "$work/merge.log" >&2
        die "$EXIT_FAILED" "merge: libFuzzer -merge=1 failed (above; log $work/merge.log); corpus unchanged"
    fi
    # Content-hash names (libFuzzer's are already; inputs from --from may not be).
    local file sum
    for file in "$work/new"/*; do
        [[ -f $file && $(basename -- "$file") != regress-* ]] || continue
        sum=$(sha1sum -- "$file" | cut -c1-40)
        [[ $file == "$work/new/$sum" ]] || mv -f -- "$file" "$work/new/$sum"
    done
    if [[ ${T_REPLAY[$i]} != - && -x ${T_REPLAY[$i]} ]] &&
        ! "${T_REPLAY[$i]}" -runs=4 "$work/new" >"$work/replay.log" 2>&1 </dev/null; then
        tail -n 20 "$work/replay.log" >&2
        die "$EXIT_FAILED" "merge: the merged set does not replay cleanly (above; log $work/replay.log); corpus unchanged: fix or drop the input"
    fi
    local added=0 removed=0 kept=0
    for file in "$corpus"/*; do
        [[ -f $file ]] || continue
        if [[ $(basename -- "$file") == regress-* ]] || [[ -f $work/new/$(basename -- "$file") ]]; then
            kept=$((kept + 1))
        else
            rm -f -- "$file"
            removed=$((removed + 1))
        fi
    done
    for file in "$work/new"/*; do
        [[ -f $file && ! -e $corpus/$(basename -- "$file") ]] || continue
        cp -- "$file" "$corpus/"
        added=$((added + 1))
    done
    rm -rf -- "$work"
    say "merged into $(show_path "$corpus"): $added added, $removed removed, $kept kept ($(find "$corpus" -maxdepth 1 -type f | wc -l) inputs); review with git status and commit"
}
