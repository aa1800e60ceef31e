#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""validate_reports.py - structural checks of the gate's reports (tests/cli/test_gate.sh).

    validate_reports.py junit FILE
    validate_reports.py sarif FILE

junit: well-formed XML; <testsuites> holding <testsuite>s of <testcase classname= name=>;
the tests/failures/skipped counts agree with the testcases; prints one line per testcase:
"<classname> <name> <pass|fail|skip>".
sarif: JSON with the fields SARIF 2.1.0 requires of what the gate writes (sarifLog: version
"2.1.0", runs; run: tool.driver.name; result: message.text; ruleId and ruleIndex that agree
with tool.driver.rules; level from the enumeration; locations: physicalLocation with
artifactLocation.uri and region.startLine >= 1, uriBaseId defined in originalUriBaseIds);
prints one line per result: "<ruleId> <uri or -> <startLine or -> <inputs>", then the
message texts. Exit status 1 with the first problem found.
"""
import json
import sys
import xml.etree.ElementTree as ET


def fail(message):
    print(f"validate_reports: {message}", file=sys.stderr)
    sys.exit(1)


def junit(path):
    root = ET.parse(path).getroot()
    if root.tag != "testsuites":
        fail(f"root element is <{root.tag}>, not <testsuites>")
    total = failures = skipped = 0
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        f = sum(1 for c in cases if c.find("failure") is not None)
        s = sum(1 for c in cases if c.find("skipped") is not None)
        for attr, want in (("tests", len(cases)), ("failures", f), ("skipped", s)):
            if int(suite.get(attr, -1)) != want:
                fail(f"testsuite {attr}={suite.get(attr)} but {want} counted")
        for case in cases:
            if not case.get("classname") or not case.get("name"):
                fail("a testcase without classname or name")
            verdict = "fail" if case.find("failure") is not None else "skip" if case.find("skipped") is not None else "pass"
            if verdict == "fail" and not case.find("failure").get("message"):
                fail(f"failure of {case.get('classname')}.{case.get('name')} has no message")
            print(case.get("classname"), case.get("name"), verdict)
        total, failures, skipped = total + len(cases), failures + f, skipped + s
    if int(root.get("tests", -1)) != total or int(root.get("failures", -1)) != failures:
        fail("testsuites counts disagree with the testcases")


def sarif(path):
    with open(path, encoding="utf-8") as f:
        log = json.load(f)
    if log.get("version") != "2.1.0":
        fail("version is not 2.1.0")
    runs = log.get("runs")
    if not isinstance(runs, list) or not runs:
        fail("no runs")
    texts = []
    for run in runs:
        driver = run.get("tool", {}).get("driver", {})
        if not isinstance(driver.get("name"), str) or not driver["name"]:
            fail("run.tool.driver.name missing")
        rules = driver.get("rules", [])
        ids = [r.get("id") for r in rules]
        if any(not isinstance(i, str) or not i for i in ids) or len(set(ids)) != len(ids):
            fail("rules need unique string ids")
        bases = run.get("originalUriBaseIds", {})
        results = run.get("results")
        if not isinstance(results, list):
            fail("run.results missing")
        for result in results:
            text = result.get("message", {}).get("text")
            if not isinstance(text, str) or not text:
                fail("result.message.text missing")
            rule = result.get("ruleId")
            if not isinstance(rule, str) or not rule:
                fail("result.ruleId missing")
            index = result.get("ruleIndex")
            if not isinstance(index, int) or not 0 <= index < len(rules) or rules[index]["id"] != rule:
                fail(f"ruleIndex {index} does not name rule {rule}")
            if result.get("level", "warning") not in ("none", "note", "warning", "error"):
                fail(f"level {result.get('level')}")
            uri = line = "-"
            for location in result.get("locations", []):
                physical = location.get("physicalLocation", {})
                artifact = physical.get("artifactLocation", {})
                if not isinstance(artifact.get("uri"), str) or not artifact["uri"]:
                    fail("artifactLocation.uri missing")
                if "uriBaseId" in artifact and artifact["uriBaseId"] not in bases:
                    fail(f"uriBaseId {artifact['uriBaseId']} not in originalUriBaseIds")
                start = physical.get("region", {}).get("startLine")
                if not isinstance(start, int) or start < 1:
                    fail("region.startLine must be an integer >= 1")
                uri, line = artifact["uri"], start
            print(rule, uri, line, result.get("properties", {}).get("inputs", "-"))
            texts.append(text)
    for text in texts:
        print("--- message")
        print(text)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("junit", "sarif"):
        fail("usage: validate_reports.py junit|sarif FILE")
    try:
        (junit if sys.argv[1] == "junit" else sarif)(sys.argv[2])
    except (ET.ParseError, json.JSONDecodeError, OSError) as error:
        fail(f"{sys.argv[2]}: {error}")
