# SPDX-License-Identifier: MIT
# libfuzzer_options.sh - sourced by ./nmrkit, bench/ and tests/canary/ (not run): the one reader
# of the targets' OSS-Fuzz style .options files.
#
#   libfuzzer_options FILE
# prints one libFuzzer flag per line: every "key = value" line of the file's [libfuzzer] section
# becomes -key=value; '#' and ';' start comments; a relative dict path is relative to the file.
# A missing FILE (or "-") prints nothing; a line that is not "key = value" is reported on
# stderr and skipped.
libfuzzer_options() {
    local file=$1 section="" line key value
    [[ $file != - && -f $file ]] || return 0
    while IFS= read -r line || [[ -n $line ]]; do
        line=${line%%[#;]*}
        line=$(sed -E 's/^[[:space:]]+//; s/[[:space:]]+$//' <<<"$line")
        [[ -n $line ]] || continue
        if [[ $line =~ ^\[(.*)\]$ ]]; then
            section=${BASH_REMATCH[1]}
            continue
        fi
        [[ $section == libfuzzer ]] || continue
        if [[ ! $line =~ ^([A-Za-z_]+)[[:space:]]*=[[:space:]]*(.*)$ ]]; then
            echo "$file: ignoring '$line' (not key = value)" >&2
            continue
        fi
        key=${BASH_REMATCH[1]}
        value=${BASH_REMATCH[2]}
        if [[ $key == dict && $value != /* ]]; then
            value="$(dirname -- "$file")/$value"
        fi
        printf -- '-%s=%s\n' "$key" "$value"
    done <"$file"
}
