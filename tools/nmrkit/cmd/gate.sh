# SPDX-License-Identifier: MIT
#: gate [TARGET...] [--seconds N] [--out DIR] [--jobs N] [--build DIR] [OPTIONS]
#:     the merge gate: replay, fuzz, baseline and coverage checks; JUnit XML and SARIF 2.1.0
#:
#: OPTIONS: --baseline FILE, --update-baseline, --no-coverage (below).
#: Checks, per target (a JUnit testcase each, classname = target):
#:   replay    every committed input and regression file (corpus/<target>/, regress-* included)
#:             replays 4 times without a finding and with the same trace hash each time
#:             (a difference is replay nondeterminism)
#:   fuzz      N seconds of libFuzzer from the committed corpus (default 60; --jobs at a time,
#:             default every core) without a crash, stop, oracle failure, hang, leak or oom
#:   baseline  the silent-fuzzer check: after loading the committed corpus, libFuzzer's
#:             coverage features and the number of inputs that still reach distinct coverage
#:             must not fall below the target's line in the baseline file by more than its
#:             tolerance, and every committed input must have been executed. A target whose
#:             inputs are all rejected early (a changed input format) fails here while it
#:             finds nothing. Baseline file: --baseline FILE, default gate-baseline.tsv beside
#:             each target's corpus directory (corpus/gate-baseline.tsv for the kit's);
#:             --update-baseline rewrites the measured targets' lines after the run.
#: and once (classname "src"): coverage, src/ line coverage from the committed corpora alone
#: must not fall below corpus/coverage-floor.txt (`./nmrkit coverage --check-floor`; skipped
#: with --no-coverage or --build).
#: Writes DIR/junit.xml, DIR/results.sarif (one result per unique finding: ruleId = the
#: verifier rule or sanitizer error type, location = the top frame, the timeline in the
#: message), DIR/summary.txt, and DIR/runs/<time>-<pid>/ (each gate's fuzz run: logs, artifacts, new corpus
#: entries). Default DIR: <build>/nmrkit-gate. Crash inputs are kept there.
#: Exit status: 0 every check passed, 1 a check failed, 2 bad arguments or input, 3 set-up
#: (or DIR unwritable or in use by another gate), 130 interrupted.

# shellcheck source=../setup.sh
source "$TOOLS/setup.sh"
# shellcheck source=../targets.sh
source "$TOOLS/targets.sh"
# shellcheck source=../findings.sh
source "$TOOLS/findings.sh"
# shellcheck source=../engine.sh
source "$TOOLS/engine.sh"
# shellcheck source=../reproduce.sh
source "$TOOLS/reproduce.sh"
# shellcheck source=../report.sh
source "$TOOLS/report.sh"

readonly DEFAULT_GATE_SECONDS=60
readonly DEFAULT_BASELINE_TOLERANCE=10
readonly GATE_REPLAY_RUNS=4

GATE_OUT=""

# gate_check <target> <phase> <pass|fail|skip> <seconds> <message> [details file]
gate_check() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$(tr '\t\n' '  ' <<<"$5")" "${6:--}" >>"$GATE_OUT/checks.tsv"
    local mark=PASS
    [[ $3 == pass ]] || mark=${3^^}
    printf '  %-5s %-28s %-9s %s\n' "$mark" "$1" "$2" "$5" | tee -a "$GATE_OUT/summary.txt"
}

# gate_finding <index> <phase> <input file>: replay a failing input, record it for SARIF; print
# its one-line description.
gate_finding() {
    local i=$1 phase=$2 file=$3 log finding
    log="$GATE_OUT/replays/${T_NAME[$i]}-$phase-$(basename -- "$file").txt"
    mkdir -p -- "$GATE_OUT/replays"
    reproduce_input "$i" "$file" "$log" "$GATE_REPLAY_RUNS" || true
    finding=$(finding_of_log "$log")
    if [[ -z $finding ]] && grep -q -a 'NONDETERMINISTIC' "$log"; then
        finding=$(printf 'nondeterminism\tnondeterminism\t%s\t-\t-' "$(grep -a -m1 NONDETERMINISTIC "$log")")
    fi
    if [[ -z $finding ]]; then
        # The fuzz log still has the report when the input does not fail on its own.
        finding=$(finding_of_log "$RUN_DIR/${T_NAME[$i]}/fuzz.log" 2>/dev/null || true)
        [[ -n $finding ]] || finding=$(printf 'crash\tunreproducible\tfailed in the fuzzer but not on replay\t-\t-')
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' "${T_NAME[$i]}" "$phase" "$finding" "$file" "$log" >>"$GATE_OUT/findings.tsv"
    printf '%s %s at %s: %s' "$(cut -f1 <<<"$finding")" "$(cut -f2 <<<"$finding")" "$(cut -f4 <<<"$finding")" "$(show_path "$file")"
}

gate_replay() {
    local i=$1 start=$SECONDS log status=0 file failures=() described=""
    log="$GATE_OUT/replay-${T_NAME[$i]}.log"
    if [[ ${T_REPLAY[$i]} == - || ! -x ${T_REPLAY[$i]} ]]; then
        gate_check "${T_NAME[$i]}" replay fail 0 "no replay program (${T_REPLAY[$i]}): build it"
        return 0
    fi
    if [[ ! -d ${T_CORPUS[$i]} ]]; then
        gate_check "${T_NAME[$i]}" replay fail 0 "no corpus directory ${T_CORPUS[$i]}"
        return 0
    fi
    (timeout -k 5 1800 "${T_REPLAY[$i]}" -runs="$GATE_REPLAY_RUNS" "${T_CORPUS[$i]}"; exit $?) >"$log" 2>&1 </dev/null || status=$?
    local count
    count=$(find "${T_CORPUS[$i]}" -maxdepth 1 -type f | wc -l)
    if ((status == 0)); then
        gate_check "${T_NAME[$i]}" replay pass $((SECONDS - start)) "$count input(s) replayed x$GATE_REPLAY_RUNS, same trace hash every run"
        return 0
    fi
    # The replay program stops at the first crash: find every failing input, one at a time.
    local one
    one=$(mktemp)
    while IFS= read -r file; do
        reproduce_input "$i" "$file" "$one" "$GATE_REPLAY_RUNS" || failures+=("$file")
    done < <(find "${T_CORPUS[$i]}" -maxdepth 1 -type f | LC_ALL=C sort)
    rm -f -- "$one"
    for file in "${failures[@]}"; do
        described+="$(gate_finding "$i" replay "$file")"$'\n'
    done
    printf '%s\n(replay program output:)\n' "$described" >"$log.details"
    tail -n 60 "$log" >>"$log.details"
    gate_check "${T_NAME[$i]}" replay fail $((SECONDS - start)) \
        "${#failures[@]} of $count committed input(s) fail or replay nondeterministically: $(head -n 1 <<<"$described")" "$log.details"
}

# baseline_file <index> <--baseline or "">: the file with a target's baseline line: the one
# given, else gate-baseline.tsv beside the target's corpus directory (corpus/ for the kit's).
baseline_file() {
    if [[ -n $2 ]]; then printf '%s' "$2"; else printf '%s/gate-baseline.tsv' "$(dirname -- "${T_CORPUS[$1]}")"; fi
}

gate_baseline() {
    local i=$1 file=$2 line tolerance features inputs committed problems=()
    if [[ ${R_RESULT[$i]} != ok ]]; then
        gate_check "${T_NAME[$i]}" baseline skip 0 "the fuzz run did not complete (${R_RESULT[$i]}): nothing to compare"
        return 0
    fi
    committed=$(find "${T_CORPUS[$i]}" -maxdepth 1 -type f 2>/dev/null | wc -l)
    line=$(awk -F'\t' -v t="${T_NAME[$i]}" '$1 == t { print; exit }' "$file" 2>/dev/null || true)
    if [[ -z $line ]]; then
        gate_check "${T_NAME[$i]}" baseline fail 0 "no baseline line in $(show_path "$file"): measured features ${R_INIT_FT[$i]:--}, inputs ${R_INIT_CORP[$i]:--}; record them with ./nmrkit gate --update-baseline"
        return 0
    fi
    tolerance=$(awk -F'\t' '$1 == "tolerance" { print $2; exit }' "$file")
    [[ $tolerance =~ ^[0-9]+$ ]] || tolerance=$DEFAULT_BASELINE_TOLERANCE
    features=$(cut -f2 <<<"$line")
    inputs=$(cut -f3 <<<"$line")
    local got_ft=${R_INIT_FT[$i]:-0} got_inputs=${R_INIT_CORP[$i]:-0} execs=${R_EXECS[$i]:-0}
    [[ $execs =~ ^[0-9]+$ ]] || execs=0
    if ((got_ft * 100 < features * (100 - tolerance))); then
        problems+=("coverage features $got_ft < baseline $features - $tolerance%")
    fi
    if ((got_inputs * 100 < inputs * (100 - tolerance))); then
        problems+=("inputs reaching distinct coverage $got_inputs < baseline $inputs - $tolerance%")
    fi
    if ((execs < committed)); then
        problems+=("$execs input(s) executed, fewer than the $committed committed")
    fi
    if ((${#problems[@]} > 0)); then
        local IFS=';'
        gate_check "${T_NAME[$i]}" baseline fail 0 "silent fuzzer? ${problems[*]} ($(show_path "$file")); if the drop is intended: ./nmrkit gate --update-baseline"
    else
        gate_check "${T_NAME[$i]}" baseline pass 0 "features $got_ft (baseline $features), inputs $got_inputs (baseline $inputs), executed $execs"
    fi
}

# update_baseline <index> <file>: replace the target's line in its baseline file (created
# with its header if missing) with what this run measured.
update_baseline() {
    local i=$1 file=$2 tmp
    [[ ${R_INIT_FT[$i]:-} =~ ^[0-9]+$ && ${R_INIT_CORP[$i]:-} =~ ^[0-9]+$ ]] || return 0
    tmp=$(mktemp)
    if [[ -f $file ]]; then
        awk -F'\t' -v t="${T_NAME[$i]}" '$1 != t' "$file" >"$tmp"
    else
        cat >"$tmp" <<EOF2
# nmrkit gate baseline (./nmrkit gate --help): per fuzz target, what libFuzzer reports after
# loading the committed corpus: coverage features (ft) and inputs that reach distinct coverage
# (corp). The gate fails when a target measures less than (100 - tolerance)% of either: the
# sign of a fuzzer that stopped testing. Rewritten by ./nmrkit gate --update-baseline.
tolerance	$DEFAULT_BASELINE_TOLERANCE
#target	features	inputs
EOF2
    fi
    printf '%s\t%s\t%s\n' "${T_NAME[$i]}" "${R_INIT_FT[$i]}" "${R_INIT_CORP[$i]}" >>"$tmp"
    mv -- "$tmp" "$file"
    say "baseline of ${T_NAME[$i]} written: $(show_path "$file")"
}

gate_coverage() {
    local start=$SECONDS log="$GATE_OUT/coverage.log" status=0
    ("$ROOT/nmrkit" coverage --check-floor) >"$log" 2>&1 </dev/null || status=$?
    local last
    last=$(grep -E '^nmrkit: ' "$log" | tail -n 1 | sed 's/^nmrkit: //')
    if ((status == 0)); then
        gate_check src coverage pass $((SECONDS - start)) "$last"
    else
        gate_check src coverage fail $((SECONDS - start)) "${last:-coverage failed (exit $status)}" "$log"
    fi
}

cmd_gate() {
    local seconds=$DEFAULT_GATE_SECONDS jobs build="" out="" baseline="" update=0 coverage=1 names=()
    jobs=$(nproc)
    while (($# > 0)); do
        case $1 in
            --seconds) need_value gate "$1" $#; seconds=$(parse_seconds gate "$2"); shift 2 ;;
            --jobs) need_value gate "$1" $#; jobs=$(parse_jobs gate "$2"); shift 2 ;;
            --build) need_value gate "$1" $#; build=$2; shift 2 ;;
            --out) need_value gate "$1" $#; out=$2; shift 2 ;;
            --baseline) need_value gate "$1" $#; baseline=$2; shift 2 ;;
            --update-baseline) update=1; shift ;;
            --no-coverage) coverage=0; shift ;;
            -*) usage_error gate "gate: unknown option '$1'" ;;
            *) names+=("$1"); shift ;;
        esac
    done
    [[ -z $out ]] || writable_dir "$out"
    use_build gate "$build"
    select_targets gate "${names[@]}"
    [[ -n $out ]] || out="$BUILD_DIR/nmrkit-gate"
    writable_dir "$out"
    GATE_OUT=$(cd -- "$out" && pwd)
    local i
    for i in "${SELECTED[@]}"; do
        [[ ! -d ${T_CORPUS[$i]} ]] || check_inputs gate "$i" "${T_CORPUS[$i]}"
    done
    # Locked, so that two gates cannot mix their reports; each gate fuzzes in a new run
    # directory under it (earlier runs, and their crash inputs, are kept).
    lock_dir gate "$GATE_OUT" "wait for it to end, or give another --out"
    open_run_dir gate "" "$GATE_OUT/runs"
    rm -rf -- "$GATE_OUT/replays" "$GATE_OUT/checks.tsv" "$GATE_OUT/findings.tsv" "$GATE_OUT/summary.txt"
    : >"$GATE_OUT/checks.tsv"
    : >"$GATE_OUT/findings.tsv"
    : >"$GATE_OUT/summary.txt"

    say "gate: ${#SELECTED[@]} target(s), ${seconds}s of fuzzing each, reports in $(show_path "$GATE_OUT")"
    for i in "${SELECTED[@]}"; do gate_replay "$i"; done

    engine_run "$seconds" "$jobs" "${SELECTED[@]}"
    local interrupted=0 artifact described
    for i in "${SELECTED[@]}"; do
        case ${R_RESULT[$i]} in
            ok) gate_check "${T_NAME[$i]}" fuzz pass "${R_SECONDS[$i]:-0}" "${R_EXECS[$i]} inputs in ${seconds}s, ${R_RATE[$i]} exec/s, features ${R_FT[$i]:--}" ;;
            FINDING)
                described=""
                while IFS= read -r artifact; do
                    described+="$(gate_finding "$i" fuzz "$artifact")"$'\n'
                done < <(findings_of "$i")
                printf '%s\n(end of the fuzz log:)\n' "$described" >"$GATE_OUT/fuzz-${T_NAME[$i]}.details"
                tail -n 60 "$RUN_DIR/${T_NAME[$i]}/fuzz.log" >>"$GATE_OUT/fuzz-${T_NAME[$i]}.details"
                gate_check "${T_NAME[$i]}" fuzz fail "${R_SECONDS[$i]:-0}" "$(head -n 1 <<<"$described")" "$GATE_OUT/fuzz-${T_NAME[$i]}.details"
                ;;
            INTERRUPTED | "NOT RUN")
                interrupted=1
                gate_check "${T_NAME[$i]}" fuzz skip "${R_SECONDS[$i]:-0}" "${R_RESULT[$i]}: ${R_DETAIL[$i]}"
                ;;
            *) gate_check "${T_NAME[$i]}" fuzz fail "${R_SECONDS[$i]:-0}" "${R_RESULT[$i]}: ${R_DETAIL[$i]}" "$RUN_DIR/${T_NAME[$i]}/fuzz.log" ;;
        esac
    done
    if ((!interrupted)); then
        for i in "${SELECTED[@]}"; do
            gate_baseline "$i" "$(baseline_file "$i" "$baseline")"
            ((update == 0)) || update_baseline "$i" "$(baseline_file "$i" "$baseline")"
        done
        if ((coverage)) && [[ $BUILD_DIR == "$ROOT/build/fuzz" ]]; then
            gate_coverage
        else
            gate_check src coverage skip 0 "$( ((coverage)) && echo "no coverage floor for --build trees" || echo "--no-coverage")"
        fi
    fi

    write_junit "$GATE_OUT/checks.tsv" "$GATE_OUT/junit.xml"
    write_sarif "$GATE_OUT/findings.tsv" "$GATE_OUT/results.sarif" "$ROOT" "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
    local failed
    failed=$(awk -F'\t' '$3 == "fail"' "$GATE_OUT/checks.tsv" | wc -l)
    echo
    say "JUnit: $(show_path "$GATE_OUT/junit.xml"); SARIF: $(show_path "$GATE_OUT/results.sarif") ($(cut -f1,3,4,7 "$GATE_OUT/findings.tsv" | sort -u | wc -l) unique finding(s))"
    if ((interrupted)); then
        say "gate interrupted: no verdict"
        return "$EXIT_INTERRUPTED"
    fi
    if ((failed > 0)); then
        say "gate FAILED: $failed check(s) failed (README, \"Gate verdicts\", says what each means)"
        return "$EXIT_FAILED"
    fi
    say "gate passed: $(wc -l <"$GATE_OUT/checks.tsv") check(s)"
}
