# SPDX-License-Identifier: MIT
#: triage DIR... [--target NAME] [--build DIR]
#:     group crash files by bug: one line per unique bug, its smallest reproducer and replay
#:
#: Replays every crash file under the directories (libFuzzer's crash-*, timeout-*, leak-*,
#: oom-*, and minimize's minimized-*; when there are none, every file) in a process of its
#: own, and groups them by target, kind (crash, hang, leak, oom), rule (the verifier rule,
#: shim stop or sanitizer error type) and top three frames. Prints one line per group, most
#: inputs first: the count, the target, kind and rule, the top frame, the smallest input and
#: the command that replays it; then how many files no longer fail. Files are only read.
#: The target of a file is found from its path (see `./nmrkit replay --help`) or --target.
#: Exit status: 0 no file fails, 1 at least one bug reproduces, 2 bad arguments, 3 set-up.

# shellcheck source=../setup.sh
source "$TOOLS/setup.sh"
# shellcheck source=../targets.sh
source "$TOOLS/targets.sh"
# shellcheck source=../findings.sh
source "$TOOLS/findings.sh"
# shellcheck source=../reproduce.sh
source "$TOOLS/reproduce.sh"

cmd_triage() {
    local build="" target="" dirs=()
    while (($# > 0)); do
        case $1 in
            --build) need_value triage "$1" $#; build=$2; shift 2 ;;
            --target) need_value triage "$1" $#; target=$2; shift 2 ;;
            -*) usage_error triage "triage: unknown option '$1'" ;;
            *) dirs+=("$1"); shift ;;
        esac
    done
    need_paths triage "directories of crash files" "${dirs[@]}"
    use_build triage "$build"
    local files=()
    mapfile -t files < <(expand_inputs "${dirs[@]}" | grep -E '/(crash|timeout|leak|oom|minimized)-[^/]*$' || true)
    ((${#files[@]} > 0)) || mapfile -t files < <(expand_inputs "${dirs[@]}")
    ((${#files[@]} > 0)) || usage_error triage "triage: no files in ${dirs[*]}"

    local table log file i finding size fixed=0 count target_name kind rule top
    table=$(mktemp)
    log=$(mktemp)
    say "triage: replaying ${#files[@]} file(s)"
    for file in "${files[@]}"; do
        i=$(input_target triage "$file" "$target")
        if reproduce_input "$i" "$file" "$log" 1; then
            fixed=$((fixed + 1))
            continue
        fi
        finding=$(finding_of_log "$log")
        [[ -n $finding ]] || finding=$(printf 'crash\tunknown\t(no report)\t-\t-')
        size=$(stat -c %s -- "$file")
        # signature <TAB> size <TAB> file <TAB> target <TAB> kind <TAB> rule <TAB> top frame
        printf '%s|%s|%s|%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${T_NAME[$i]}" "$(cut -f1 <<<"$finding")" \
            "$(cut -f2 <<<"$finding")" "$(cut -f5 <<<"$finding")" "$size" "$file" "${T_NAME[$i]}" \
            "$(cut -f1 <<<"$finding")" "$(cut -f2 <<<"$finding")" "$(cut -f4 <<<"$finding")" >>"$table"
    done
    rm -f -- "$log"
    local bugs=0
    # Per signature: the count and the smallest file (ties: the first name).
    while IFS=$'\t' read -r count size file target_name kind rule top; do
        bugs=$((bugs + 1))
        printf '%4dx %-26s %-5s %-22s at %s\n      smallest: %s (%s bytes)  replay: %s\n' "$count" \
            "$target_name" "$kind" "$rule" "$(show_path "$top")" "$(show_path "$file")" "$size" "$(replay_hint "$file")"
    done < <(sort -t$'\t' -k1,1 -k2,2n -k3,3 "$table" | awk -F'\t' '
        $1 != sig { if (sig != "") print n "\t" best; sig = $1; n = 0; best = $2 "\t" $3 "\t" $4 "\t" $5 "\t" $6 "\t" $7 }
        { n++ }
        END { if (sig != "") print n "\t" best }' | sort -t$'\t' -k1,1nr)
    rm -f -- "$table"
    say "${#files[@]} file(s): $bugs unique bug(s), $fixed file(s) no longer fail"
    ((bugs == 0)) || return "$EXIT_FAILED"
}
