# SPDX-License-Identifier: MIT
# findings.sh - sourced by ./nmrkit (not run): what a fuzzer's or a replay's output says went
# wrong. One reader for the run summary, replay, minimize, triage and the gate's SARIF.
#
#   finding_of_log LOG
# prints one tab-separated line, or nothing when the output shows no finding:
#   kind <TAB> rule <TAB> first report line <TAB> top frame "file:line" or - <TAB> top functions
# kind:  crash (a verifier stop, oracle failure, shim stop, sanitizer error or deadly signal),
#        hang (a libFuzzer timeout or the registrar's hang report), leak, oom
# rule:  the verifier rule (R1..R11, A1..A12, D1..D11) of the first "*** NMR VERIFIER STOP"
#        line, or the rule a "*** FUZZ ORACLE" line says was predicted; KSHIM-<NAME> for a
#        shim stop; FUZZ-ORACLE for another oracle failure; else the sanitizer's error type
#        (heap-use-after-free, memory-leak, undefined-behavior, ...) or libFuzzer's (timeout,
#        out-of-memory, deadly-signal).
# top frame: the first frame of the first stack with a source file that is not the reporting
#        machinery (abort, the oracle and stop reporters, sanitizer and libFuzzer runtimes).
# top functions: up to three such frames' functions, ">"-separated: with kind and rule, the
#        signature by which triage groups the crashes of one bug.
finding_of_log() {
    awk '
    function set_rule(r) { if (rule == "") rule = r }
    !stop && /^\*\*\* (NMR VERIFIER STOP|FUZZ ORACLE|KSHIM STOP|KSHIM DEADLOCK)/ {
        stop = $0
        if (match($0, /^\*\*\* NMR VERIFIER STOP [A-Z]+[0-9]*/)) {
            r = substr($0, RSTART + 23, RLENGTH - 23); set_rule(r)
            if (r == "D4") hang = 1
        } else if (/^\*\*\* FUZZ ORACLE/ && match($0, /(STOP|stop) [ARD][0-9]+/)) {
            set_rule(substr($0, RSTART + 5, RLENGTH - 5))
        } else if (/^\*\*\* FUZZ ORACLE/) {
            set_rule("FUZZ-ORACLE")
        } else if (match($0, /^\*\*\* KSHIM STOP [A-Z_]+/)) {
            set_rule("KSHIM-" substr($0, RSTART + 16, RLENGTH - 16))
        } else if (/^\*\*\* KSHIM DEADLOCK/) {
            set_rule("D4"); hang = 1
        }
    }
    !san && /ERROR: AddressSanitizer: / {
        s = $0; sub(/.*ERROR: AddressSanitizer: /, "", s); split(s, w, " "); san = w[1]; if (!msg) msg = $0
    }
    !san && /ERROR: LeakSanitizer: detected memory leaks/ { san = "memory-leak"; leak = 1; if (!msg) msg = $0 }
    !san && /runtime error: / { san = "undefined-behavior"; if (!msg) msg = $0 }
    /^SUMMARY: UndefinedBehaviorSanitizer: / && san == "undefined-behavior" { split($0, w, " "); san = w[3] }
    !san && /ERROR: libFuzzer: timeout after/ { san = "timeout"; hang = 1; if (!msg) msg = $0 }
    !san && /ERROR: libFuzzer: out-of-memory/ { san = "out-of-memory"; oom = 1; if (!msg) msg = $0 }
    !san && /ERROR: libFuzzer: deadly signal/ { san = "deadly-signal"; if (!msg) msg = $0 }
    !san && /ERROR: libFuzzer: fuzz target exited/ { san = "target-exited"; if (!msg) msg = $0 }
    !san && /^nmrkit-replay: hang/ { san = "timeout"; hang = 1; if (!msg) msg = $0 }
    /^ *#[0-9]+ 0x[0-9a-f]+ in / {
        if (stack_done) next
        in_stack = 1
        fn = $4; loc = $5
        if (loc ~ /^\// && loc !~ /^\/usr\// && loc !~ /compiler-rt|libfuzzer|sanitizer_common/ &&
            fn !~ /^(abort|raise|__|fuzz_oracle_fail|oracle_fail|kshim_stop|kshim_bugcheck|KeBugCheck|nmr_verifier_stop|nmr_stop|report_stop|print_stop)/) {
            n++
            if (n == 1) { top = loc; sub(/:[0-9]+$/, "", top) }
            if (n <= 3) fns = fns (n > 1 ? ">" : "") fn
        }
        next
    }
    in_stack { stack_done = (n > 0); in_stack = 0 }
    END {
        if (stop == "" && san == "") exit
        kind = hang ? "hang" : leak ? "leak" : oom ? "oom" : "crash"
        if (rule == "") rule = san
        line = stop != "" ? stop : msg
        gsub(/\t/, " ", line)
        printf "%s\t%s\t%s\t%s\t%s\n", kind, rule, line, top == "" ? "-" : top, fns == "" ? "-" : fns
    }' "$1"
}
