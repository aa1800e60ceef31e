# SPDX-License-Identifier: MIT
# engine.sh - sourced by ./nmrkit (not run): runs libFuzzer on targets in parallel, for run,
# fuzz and gate.
#
# Each run has a directory of its own (RUN_DIR: <build>/nmrkit-runs/<UTC time>-<pid>, or the
# one given with --work, which is then locked: a second run in it is refused). Per target it
# holds corpus/ (a scratch copy of the committed corpus, where new entries go), artifacts/
# (crash, timeout, leak and oom inputs: never deleted), fuzz.log and, at the end,
# RUN_DIR/results.tsv. The committed corpus/ is only read.
#
# Verdicts, per target: ok; FINDING (the fuzzer wrote a crash, timeout, leak or oom artifact);
# INTERRUPTED (stopped by Ctrl-C or SIGTERM, ours or sent to the fuzzer); KILLED (ended by a
# signal it could not catch, e.g. the OOM killer); ERROR (exited non-zero without an
# artifact: bad flags, a broken binary); NO BINARY; NOT RUN (the run was interrupted first).
# Ctrl-C stops every running fuzzer at once (they print their final statistics and exit) and
# starts no further target.

# Per-input timeout of libFuzzer unless a target's .options file says otherwise.
readonly DEFAULT_FUZZ_INPUT_TIMEOUT=10
# After Ctrl-C, fuzzers that have not exited after this many seconds are killed.
readonly INTERRUPT_GRACE_SECONDS=10
# Progress lines: redrawn every second on a terminal, printed every this many seconds otherwise.
PROGRESS_INTERVAL=${NMRKIT_PROGRESS_INTERVAL:-10}

RUN_DIR=""

# lock_dir <command> <dir> <advice>: hold DIR/.lock for the rest of this process (fuzzers
# inherit it, so it stays held while any of them lives); refuse if another run holds it.
lock_dir() {
    local command=$1 dir=$2 advice=$3 fd holder
    exec {fd}>>"$dir/.lock"
    if ! flock -n "$fd"; then
        holder=$(cat -- "$dir/.pid" 2>/dev/null || true)
        die "$EXIT_SETUP" "$command: $(show_path "$dir") is in use by another nmrkit run${holder:+ (pid $holder)}: $advice"
    fi
    echo "$$" >"$dir/.pid"
}

# open_run_dir <command> <dir or ""> [parent]: take and lock the run directory: the one given
# (a run there resumes: its scratch corpora are kept and extended), else a new one,
# <parent>/<UTC time>-<pid> (default parent <build>/nmrkit-runs, whose "latest" link is updated).
open_run_dir() {
    local command=$1 dir=$2 parent=${3:-$BUILD_DIR/nmrkit-runs}
    if [[ -z $dir ]]; then
        writable_dir "$parent"
        dir="$parent/$(date -u +%Y%m%d-%H%M%S)-$$"
        mkdir -- "$dir" || die "$EXIT_SETUP" "cannot create the run directory $dir"
        [[ $parent != "$BUILD_DIR/nmrkit-runs" ]] || ln -sfn -- "$(basename -- "$dir")" "$parent/latest"
    else
        writable_dir "$dir"
        dir=$(cd -- "$dir" && pwd)
    fi
    lock_dir "$command" "$dir" "wait for it to end, or leave out --work to get a directory of your own"
    RUN_DIR=$dir
}

# Results, indexed like the manifest (targets.sh).
R_RESULT=() R_DETAIL=() R_EXECS=() R_RATE=() R_FT=() R_INIT_FT=() R_INIT_CORP=() R_CORPUS=()
R_SECONDS=()
E_PID=() E_START=()
ENGINE_SIGNAL=""

# The value of a libFuzzer final statistic ("stat::<name>: <value>") in a log, or "-".
fuzz_stat() {
    local value
    value=$(sed -n "s/^stat::$1:[[:space:]]*//p" "$2" | tail -n 1)
    printf '%s' "${value:--}"
}

# status_field <field> <libFuzzer status line>: "cov", "ft", "exec/s" or "corp" (entries).
status_field() {
    sed -nE "s|.* $1: ([0-9]+).*|\\1|p" <<<"$2"
}

last_status_line() { { tail -c 8192 "$1" 2>/dev/null | grep -a -E '^#[0-9]+' | tail -n 1; } || true; }

fuzz_start() {
    local i=$1 seconds=$2
    local dir="$RUN_DIR/${T_NAME[$1]}" flags=() line
    mkdir -p -- "$dir/corpus" "$dir/artifacts"
    E_START[i]=$SECONDS
    if [[ ${T_FUZZER[$i]} == - || ! -x ${T_FUZZER[$i]} ]]; then
        R_RESULT[i]="NO BINARY"
        R_DETAIL[i]="${T_FUZZER[$i]} is not a libFuzzer binary: build the tree with clang and NMRKIT_FUZZ=ON (the fuzz preset)"
        return 1
    fi
    [[ ! -d ${T_CORPUS[$i]} ]] || cp -R -- "${T_CORPUS[$i]}/." "$dir/corpus/"
    R_CORPUS[i]=$(find "$dir/corpus" -type f | wc -l)
    while IFS= read -r line; do flags+=("$line"); done < <(target_flags "$i")
    [[ " ${flags[*]}" == *" -timeout="* ]] || flags=(-timeout="$DEFAULT_FUZZ_INPUT_TIMEOUT" "${flags[@]}")
    # Last, so that an options file cannot change where results go or how long the run is.
    flags+=(-max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$dir/artifacts/")
    printf '%q ' "${T_FUZZER[$i]}" "${flags[@]}" "$dir/corpus" >"$dir/command"
    (cd -- "$dir" && exec "${T_FUZZER[$i]}" "${flags[@]}" "$dir/corpus") >"$dir/fuzz.log" 2>&1 </dev/null &
    E_PID[i]=$!
}

# The findings of a target so far: its artifacts other than slow-unit reports.
findings_of() {
    find "$RUN_DIR/${T_NAME[$1]}/artifacts" -maxdepth 1 -type f \
        \( -name 'crash-*' -o -name 'timeout-*' -o -name 'leak-*' -o -name 'oom-*' \) 2>/dev/null | LC_ALL=C sort
}

fuzz_finish() {
    local i=$1 status=$2 dir="$RUN_DIR/${T_NAME[$1]}" log artifacts finding
    log="$dir/fuzz.log"
    artifacts=$(findings_of "$i")
    R_SECONDS[i]=$((SECONDS - E_START[i]))
    R_EXECS[i]=$(fuzz_stat number_of_executed_units "$log")
    R_RATE[i]=$(fuzz_stat average_exec_per_sec "$log")
    local done_line init_line
    done_line=$(last_status_line "$log")
    init_line=$(grep -a -m1 -E '^#[0-9]+[[:space:]]+INITED' "$log" || true)
    R_FT[i]=$(status_field ft "$done_line")
    R_INIT_FT[i]=$(status_field ft "$init_line")
    R_INIT_CORP[i]=$(status_field corp "$init_line")
    R_CORPUS[i]="${R_CORPUS[$i]} -> $(find "$dir/corpus" -type f | wc -l)"
    if [[ -n $artifacts ]]; then
        R_RESULT[i]=FINDING
        finding=$(finding_of_log "$log")
        R_DETAIL[i]="$(cut -f3 <<<"$finding")"
        [[ -n ${R_DETAIL[$i]} ]] || R_DETAIL[i]="libFuzzer exited with status $status; see $(show_path "$log")"
    elif ((status == 72)) || grep -a -q 'libFuzzer: run interrupted' "$log"; then
        R_RESULT[i]=INTERRUPTED
        if [[ -n $ENGINE_SIGNAL ]]; then
            R_DETAIL[i]="stopped by SIG$ENGINE_SIGNAL after ${R_SECONDS[$i]} s"
        else
            # A Ctrl-C reaches the fuzzers even where it cannot reach this script (a shell that
            # started it in the background ignores SIGINT for it): stop the whole run as well.
            R_DETAIL[i]="the fuzzer got SIGINT or SIGTERM (Ctrl-C) after ${R_SECONDS[$i]} s; stopping the run"
            ENGINE_SIGNAL=INT
        fi
    elif ((status > 128)); then
        R_RESULT[i]=KILLED
        R_DETAIL[i]="killed by SIG$(kill -l $((status - 128)) 2>/dev/null || echo "#$((status - 128))") after ${R_SECONDS[$i]} s (out of memory? see dmesg)"
    elif ((status != 0)); then
        R_RESULT[i]=ERROR
        R_DETAIL[i]="exited with status $status without a finding: see $(show_path "$log")"
    else
        R_RESULT[i]=ok
        R_DETAIL[i]=""
    fi
}

progress_line() {
    local i=$1 line elapsed findings
    line=$(last_status_line "$RUN_DIR/${T_NAME[$i]}/fuzz.log")
    elapsed=$((SECONDS - E_START[i]))
    # libFuzzer checks its budget between inputs and may run a moment past it.
    ((elapsed <= ENGINE_SECONDS)) || elapsed=$ENGINE_SECONDS
    findings=$(findings_of "$i" | wc -l)
    printf '  %-28s %5ss/%-5s exec/s %-7s corpus %-6s features %-7s findings %s' "${T_NAME[$i]}" \
        "$elapsed" "$ENGINE_SECONDS" "$(status_field 'exec/s' "$line")" "$(status_field corp "$line")" \
        "$(status_field ft "$line")" "$findings"
}

# engine_run <seconds> <jobs> <index...>: fuzz the targets, at most <jobs> at a time.
ENGINE_SECONDS=0
engine_run() {
    local seconds=$1 jobs=$2 i
    shift 2
    local queue=("$@") running=() finished_pid status tty=0 drawn=0 last_print=$SECONDS
    local forwarded=0 kill_at=0 sleeper=""
    ENGINE_SECONDS=$seconds ENGINE_SIGNAL=""
    [[ -t 1 ]] && tty=1
    trap 'ENGINE_SIGNAL=INT' INT
    trap 'ENGINE_SIGNAL=TERM' TERM
    say "run directory: $(show_path "$RUN_DIR") (${#queue[@]} target(s), ${seconds}s each, $jobs at a time)"
    while ((${#queue[@]} > 0 || ${#running[@]} > 0)); do
        if [[ -n $ENGINE_SIGNAL ]]; then
            if ((!forwarded)); then
                forwarded=1 kill_at=$((SECONDS + INTERRUPT_GRACE_SECONDS))
                ((tty && drawn)) && echo
                warn "SIG$ENGINE_SIGNAL: stopping ${#running[@]} running fuzzer(s); ${#queue[@]} target(s) not started"
                for i in "${running[@]}"; do kill -INT "${E_PID[$i]}" 2>/dev/null || true; done
                for i in "${queue[@]}"; do
                    R_RESULT[i]="NOT RUN" R_DETAIL[i]="the run was interrupted before it started"
                done
                queue=()
                drawn=0
            elif ((SECONDS >= kill_at)); then
                for i in "${running[@]}"; do kill -KILL "${E_PID[$i]}" 2>/dev/null || true; done
            fi
        fi
        while [[ -z $ENGINE_SIGNAL ]] && ((${#running[@]} < jobs && ${#queue[@]} > 0)); do
            i=${queue[0]}
            queue=("${queue[@]:1}")
            if fuzz_start "$i" "$seconds"; then running+=("$i"); fi
        done
        ((${#running[@]} > 0)) || continue
        sleep 1 &
        sleeper=$!
        finished_pid=""
        status=0
        local pids=()
        for i in "${running[@]}"; do pids+=("${E_PID[$i]}"); done
        wait -n -p finished_pid "${pids[@]}" "$sleeper" 2>/dev/null || status=$?
        local still=() ended
        for i in "${running[@]}"; do
            ended=""
            if [[ ${finished_pid:-} == "${E_PID[$i]}" ]]; then
                ended=$status
            elif ! kill -0 "${E_PID[$i]}" 2>/dev/null; then
                ended=0
                wait "${E_PID[$i]}" 2>/dev/null || ended=$?
            fi
            if [[ -n $ended ]]; then
                fuzz_finish "$i" "$ended"
                ((tty && drawn)) && printf '\033[%dA\033[J' "$drawn"
                drawn=0
                say "$(printf '%-28s %s%s' "${T_NAME[$i]}" "${R_RESULT[$i]}" "${R_DETAIL[$i]:+: ${R_DETAIL[$i]}}")"
            else
                still+=("$i")
            fi
        done
        running=("${still[@]}")
        [[ ${finished_pid:-} == "$sleeper" ]] || kill "$sleeper" 2>/dev/null || true
        wait "$sleeper" 2>/dev/null || true
        if ((tty)) && [[ -z $ENGINE_SIGNAL ]]; then
            ((drawn)) && printf '\033[%dA' "$drawn"
            drawn=0
            for i in "${running[@]}"; do
                printf '%s\033[K\n' "$(progress_line "$i")"
                drawn=$((drawn + 1))
            done
        elif ((SECONDS - last_print >= PROGRESS_INTERVAL)) && [[ -z $ENGINE_SIGNAL ]]; then
            last_print=$SECONDS
            for i in "${running[@]}"; do progress_line "$i"; echo; done
        fi
    done
    trap - INT TERM
    write_results "$@"
}

# RUN_DIR/results.tsv: one line per target, for scripts (and the gate).
write_results() {
    local i
    {
        printf '#target\tresult\texecs\texec_per_sec\tfeatures\tinited_features\tinited_corpus\tcorpus\tdetail\n'
        for i in "$@"; do
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${T_NAME[$i]}" "${R_RESULT[$i]}" \
                "${R_EXECS[$i]:--}" "${R_RATE[$i]:--}" "${R_FT[$i]:--}" "${R_INIT_FT[$i]:--}" \
                "${R_INIT_CORP[$i]:--}" "${R_CORPUS[$i]:--}" "${R_DETAIL[$i]:-}"
        done
    } >"$RUN_DIR/results.tsv"
}

# engine_summary <index...>: the closing table and, per finding, its artifacts and replay
# commands. Returns the run's exit status (see common.sh): findings and errors first, then an
# interruption, then a killed fuzzer.
engine_summary() {
    local i failed=0 interrupted=0 killed=0 artifact
    echo
    printf '%-28s %-11s %10s %8s %9s %14s\n' target result execs exec/s features corpus
    for i in "$@"; do
        printf '%-28s %-11s %10s %8s %9s %14s\n' "${T_NAME[$i]}" "${R_RESULT[$i]}" "${R_EXECS[$i]:--}" \
            "${R_RATE[$i]:--}" "${R_FT[$i]:--}" "${R_CORPUS[$i]:--}"
    done
    for i in "$@"; do
        case ${R_RESULT[$i]} in
            ok) continue ;;
            INTERRUPTED | "NOT RUN") interrupted=1 ;;
            KILLED) killed=1 ;;
            *) failed=1 ;;
        esac
        echo
        echo "${T_NAME[$i]}: ${R_RESULT[$i]}${R_DETAIL[$i]:+: ${R_DETAIL[$i]}}"
        [[ ! -f $RUN_DIR/${T_NAME[$i]}/fuzz.log ]] || echo "  log:      $(show_path "$RUN_DIR/${T_NAME[$i]}/fuzz.log")"
        while IFS= read -r artifact; do
            [[ -n $artifact ]] || continue
            echo "  artifact: $(show_path "$artifact")"
            echo "  replay:   $(replay_hint "$artifact")"
        done < <(findings_of "$i")
    done
    echo
    if ((failed)); then
        say "$(grep -c -v -e '^#' -e $'\tok\t' "$RUN_DIR/results.tsv") of $# target(s) did not pass; results: $(show_path "$RUN_DIR/results.tsv")"
        return "$EXIT_FAILED"
    elif ((interrupted)); then
        say "interrupted; the results so far: $(show_path "$RUN_DIR/results.tsv")"
        return "$EXIT_INTERRUPTED"
    elif ((killed)); then
        say "a fuzzer was killed from outside; no finding: $(show_path "$RUN_DIR/results.tsv")"
        return "$EXIT_KILLED"
    fi
    say "$# target(s), no finding; new corpus entries are in $(show_path "$RUN_DIR")/<target>/corpus (./nmrkit merge <target> keeps them)"
    return "$EXIT_OK"
}
