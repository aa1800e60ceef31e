# SPDX-License-Identifier: MIT
# report.sh - sourced by ./nmrkit (not run): the gate's reports for CI systems, written from
# two tab-separated files the gate fills as it goes (no tab or newline inside a field):
#   checks.tsv    one line per check:  target <TAB> phase <TAB> pass|fail|skip <TAB> seconds <TAB> message <TAB> details file or -
#   findings.tsv  one line per failing input: target <TAB> phase <TAB> kind <TAB> rule <TAB> first report line
#                 <TAB> top frame file:line or - <TAB> top functions <TAB> input file <TAB> replay output file
#
# write_junit <checks.tsv> <out.xml>: JUnit XML, one testcase per target and phase (classname
# = target, name = phase), the details file's text inside <failure> and <skipped>.
write_junit() {
    awk -F'\t' '
    function xml(s) {
        gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s)
        gsub(/"/, "\\&quot;", s); gsub(/\047/, "\\&apos;", s)
        # Control characters other than tab and newline are not allowed in XML 1.0.
        gsub(/[\001-\010\013\014\016-\037]/, "?", s)
        return s
    }
    function body(file,    line, text, n) {
        if (file == "-" || file == "") return ""
        while ((getline line < file) > 0 && n < 400) { text = text line "\n"; n++ }
        close(file)
        return text
    }
    {
        n++; target[n] = $1; phase[n] = $2; result[n] = $3; secs[n] = $4; msg[n] = $5; det[n] = $6
        total_time += $4
        if ($3 == "fail") failures++
        if ($3 == "skip") skipped++
    }
    END {
        printf "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        printf "<testsuites name=\"nmrkit gate\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"%d\">\n", n, failures, skipped, total_time
        printf "  <testsuite name=\"nmrkit.gate\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"%d\">\n", n, failures, skipped, total_time
        for (i = 1; i <= n; i++) {
            printf "    <testcase classname=\"%s\" name=\"%s\" time=\"%d\">", xml(target[i]), xml(phase[i]), secs[i]
            if (result[i] == "fail")
                printf "\n      <failure type=\"%s\" message=\"%s\">%s</failure>\n    ", xml(phase[i]), xml(msg[i]), xml(body(det[i]))
            else if (result[i] == "skip")
                printf "\n      <skipped message=\"%s\"/>\n    ", xml(msg[i])
            else if (msg[i] != "")
                printf "\n      <system-out>%s</system-out>\n    ", xml(msg[i])
            printf "</testcase>\n"
        }
        printf "  </testsuite>\n</testsuites>\n"
    }' "$1" >"$2"
}

# write_sarif <findings.tsv> <out.sarif> <source root> <version>: SARIF 2.1.0, one result per
# unique finding (same target, kind, rule and top functions: the smallest input stands for
# the others, which are counted). ruleId is the verifier rule or the sanitizer's error type;
# the location is the top frame (relative to the source root when inside it); the message
# holds the report line, the timeline of the replay and the replay command.
write_sarif() {
    awk -F'\t' -v root="$3" -v version="$4" '
    function js(s) {
        gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s); gsub(/\r/, "\\r", s)
        gsub(/\n/, "\\n", s)
        gsub(/[\001-\010\013\014\016-\037]/, "?", s)
        return s
    }
    function file_text(file, limit,    line, lines, n, i, text, start) {
        if (file == "-" || file == "") return ""
        while ((getline line < file) > 0) lines[++n] = line
        close(file)
        start = n > limit ? n - limit + 1 : 1
        if (start > 1) text = "(" (start - 1) " earlier lines left out)\n"
        for (i = start; i <= n; i++) text = text lines[i] "\n"
        return text
    }
    {
        key = $1 SUBSEP $3 SUBSEP $4 SUBSEP $7
        size = 0
        cmd = "stat -c %s \"" $8 "\" 2>/dev/null"; cmd | getline size; close(cmd)
        if (!(key in count)) { order[++n] = key; rule_of[key] = $4 }
        count[key]++
        if (!(key in best) || size < best_size[key]) {
            best[key] = $0; best_size[key] = size
        }
        if (!($4 in rule_index)) { rules[++nrules] = $4; rule_index[$4] = nrules - 1; rule_kind[$4] = $3; rule_example[$4] = $5 }
    }
    END {
        if (root !~ /\/$/) root = root "/"
        printf "{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n  \"version\": \"2.1.0\",\n  \"runs\": [\n    {\n"
        printf "      \"tool\": {\n        \"driver\": {\n          \"name\": \"nmrkit\",\n          \"version\": \"%s\",\n          \"rules\": [", js(version)
        for (r = 1; r <= nrules; r++) {
            printf "%s\n            { \"id\": \"%s\", \"name\": \"%s\", \"shortDescription\": { \"text\": \"%s\" } }", (r > 1 ? "," : ""), js(rules[r]), js(rules[r]), js(rule_kind[rules[r]] " " rules[r] ": " rule_example[rules[r]])
        }
        printf "\n          ]\n        }\n      },\n"
        printf "      \"originalUriBaseIds\": { \"SRCROOT\": { \"uri\": \"file://%s\" } },\n", js(root)
        printf "      \"results\": ["
        for (k = 1; k <= n; k++) {
            split(best[order[k]], f, "\t")
            text = f[5] "\n\n" f[1] " (" f[2] "): " f[3] ", " count[order[k]] " input(s); smallest: " f[8] " (" best_size[order[k]] " bytes)\nreplay: ./nmrkit replay " f[8] "\n\ntimeline and report of the replay:\n" file_text(f[9], 80)
            printf "%s\n        {\n          \"ruleId\": \"%s\",\n          \"ruleIndex\": %d,\n          \"level\": \"error\",\n", (k > 1 ? "," : ""), js(f[4]), rule_index[f[4]]
            printf "          \"message\": { \"text\": \"%s\" },\n", js(text)
            loc = f[6]
            if (loc != "-" && match(loc, /:[0-9]+(:[0-9]+)?$/)) {
                path = substr(loc, 1, RSTART - 1); pos = substr(loc, RSTART + 1)
                split(pos, lc, ":")
                if (index(path, root) == 1) uri = "\"uri\": \"" js(substr(path, length(root) + 1)) "\", \"uriBaseId\": \"SRCROOT\""
                else uri = "\"uri\": \"file://" js(path) "\""
                printf "          \"locations\": [ { \"physicalLocation\": { \"artifactLocation\": { %s }, \"region\": { \"startLine\": %d%s } } } ],\n", uri, lc[1], (lc[2] != "" ? ", \"startColumn\": " lc[2] : "")
            } else {
                printf "          \"locations\": [],\n"
            }
            printf "          \"partialFingerprints\": { \"nmrkitSignature/v1\": \"%s\" },\n", js(f[1] "|" f[3] "|" f[4] "|" f[7])
            printf "          \"properties\": { \"target\": \"%s\", \"phase\": \"%s\", \"kind\": \"%s\", \"topFunctions\": \"%s\", \"input\": \"%s\", \"inputs\": %d }\n        }", js(f[1]), js(f[2]), js(f[3]), js(f[7]), js(f[8]), count[order[k]]
        }
        printf "\n      ]\n    }\n  ]\n}\n"
    }' "$1" >"$2"
}
