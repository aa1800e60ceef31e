# SPDX-License-Identifier: MIT
#: coverage [--corpus|--check-floor]
#:     coverage report of src/ (of the tests, or of the committed corpora alone)
#:
#: Builds the coverage preset, runs the tests (--corpus: only the replays of the committed
#: corpora, ctest label fuzz) with one raw profile per process, and writes an HTML report
#: (src/ and shim/) and a text summary of src/ into build/coverage/report[-corpus]/.
#: --check-floor also fails when corpus coverage of src/ lines falls below
#: corpus/coverage-floor.txt.
#: Exit status: 0 done (and above the floor), 1 a test failed or coverage is below the floor,
#: 2 bad arguments, 3 set-up failed.

# shellcheck source=../setup.sh
source "$TOOLS/setup.sh"

readonly COVERAGE_BUILD="$ROOT/build/coverage"
# The test executables of the coverage build (the programs ctest runs that were built there).
coverage_objects() {
    ctest --preset coverage -N -V 2>/dev/null |
        sed -n 's/^[0-9]*: Test command: //p' |
        sed -E 's/^"([^"]*)".*/\1/; s/^([^" ]+).*/\1/' |
        LC_ALL=C sort -u |
        while IFS= read -r program; do
            [[ $program == "$COVERAGE_BUILD"/* && -x $program ]] && printf '%s\n' "$program"
        done
}

# The floor that corpus coverage of src/ must not fall below (percent of lines), kept in the
# repository so that a change that loses coverage fails CI.
readonly COVERAGE_FLOOR_FILE="$ROOT/corpus/coverage-floor.txt"

# Percent of src/ lines covered, from the TOTAL row of an llvm-cov report.
total_line_percent() {
    # Columns with a % sign: regions, functions, lines, branches.
    awk '$1 == "TOTAL" { for (i = 2; i <= NF; i++) if ($i ~ /%$/) p[++n] = $i; sub(/%/, "", p[3]); print p[3] }' "$1"
}

cmd_coverage() {
    local corpus_only=0 check_floor=0 arg
    for arg in "$@"; do
        case $arg in
            --corpus) corpus_only=1 ;;
            --check-floor) corpus_only=1 check_floor=1 ;;
            *) usage_error "coverage takes --corpus or --check-floor, not '$arg'" ;;
        esac
    done
    ensure_tools coverage
    cd "$ROOT"
    local profdata llvm_cov
    profdata=$(find_llvm_tool llvm-profdata) || die "llvm-profdata not found"
    llvm_cov=$(find_llvm_tool llvm-cov) || die "$EXIT_SETUP" "llvm-cov not found: run ./nmrkit setup coverage"

    cmake --preset coverage
    cmake --build --preset coverage

    local raw="$COVERAGE_BUILD/profraw" report="$COVERAGE_BUILD/report" tests_status=0
    local selection=()
    if ((corpus_only)); then
        report="$COVERAGE_BUILD/report-corpus"
        selection=(-L fuzz) # fuzz.replay.<target>: the committed corpora alone
    fi
    rm -rf -- "$raw" "$report"
    mkdir -p -- "$raw" "$report"
    # One raw profile per process (%p) and binary (%m); the coverage test preset sets the same.
    LLVM_PROFILE_FILE="$raw/%p-%m.profraw" ctest --preset coverage "${selection[@]}" || tests_status=$?

    local profiles=("$raw"/*.profraw)
    [[ -e ${profiles[0]} ]] || die "no raw profiles in $(show_path "$raw"): did any test run?"
    "$profdata" merge -sparse -o "$report/nmrkit.profdata" "${profiles[@]}"

    local objects=() object
    while IFS= read -r object; do objects+=(-object "$object"); done < <(coverage_objects)
    ((${#objects[@]} > 0)) || die "no test programs found in $(show_path "$COVERAGE_BUILD")"
    objects=("${objects[@]:1}") # the first binary is positional, the rest follow -object

    "$llvm_cov" show "${objects[@]}" -instr-profile="$report/nmrkit.profdata" \
        -format=html -output-dir="$report/html" -show-line-counts-or-regions \
        "$ROOT/src" "$ROOT/shim"
    "$llvm_cov" report "${objects[@]}" -instr-profile="$report/nmrkit.profdata" \
        "$ROOT/src" >"$report/summary.txt"

    cat "$report/summary.txt"
    say "coverage of src/$( ((corpus_only)) && echo " from the committed corpora"): $(show_path "$report/summary.txt")"
    say "HTML report (src/ and shim/): $(show_path "$report/html/index.html")"
    if ((tests_status != 0)); then
        die "some tests failed (ctest exit status $tests_status); the report covers what ran"
    fi
    if ((check_floor)); then
        local percent floor
        percent=$(total_line_percent "$report/summary.txt")
        [[ -n $percent ]] || die "could not read the TOTAL line coverage from $(show_path "$report/summary.txt")"
        floor=$(sed -n 's/^lines[[:space:]]*//p' "$COVERAGE_FLOOR_FILE")
        [[ $floor =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "$(show_path "$COVERAGE_FLOOR_FILE") has no 'lines <percent>' line"
        if awk -v p="$percent" -v f="$floor" 'BEGIN { exit !(p + 0 < f + 0) }'; then
            die "corpus coverage of src/ lines is $percent%, below the floor of $floor% ($(show_path "$COVERAGE_FLOOR_FILE"))"
        fi
        say "corpus coverage of src/ lines: $percent% (floor $floor%)"
    fi
}

