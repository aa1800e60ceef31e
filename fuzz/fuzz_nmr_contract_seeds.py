#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hand-written seed inputs of fuzz_nmr_contract, encoded in the target's input format.

Each seed is a small scenario (see SEEDS below): a clean life cycle, or one module breaking one
rule of nmr-spec.md section 3 (the seed's name says which, and what the registrar must answer).
The encoder mirrors the format documented in fuzz/fuzz_nmr_contract.c. Files are named by the
sha1 of their content, like every minimised corpus input:

    python3 fuzz/fuzz_nmr_contract_seeds.py corpus/fuzz_nmr_contract     # write the seeds
    python3 fuzz/fuzz_nmr_contract_seeds.py --list                       # name, sha1, bytes

Decode any input with: <build>/fuzz/fuzz_nmr_contract_replay -print FILE
"""
import hashlib
import os
import sys

WHO = {"self": 0, "peer": 1, "c0": 2, "c1": 3, "p0": 4, "p1": 5}
HANDLE = {"own": 0, "stale": 1, "client_reg": 2, "provider_reg": 3, "client_side": 4,
          "provider_side": 5, "null": 6, "forged": 7}
IRQL = {"passive": 0, "apc": 1, "dispatch": 2, "high": 3}
POLICY = {"accept": 0, "decline": 1, "fail": 2}
DETACH = {"success": 0, "pending": 1, "inline": 2}
ID = {"guid": 0, "luid": 1, "bad_type": 2, "bad_version": 3}
WHAT = {"version": 0, "number": 1, "npi": 2, "module_id": 3}
POINT = {"client_attach": 0, "client_attach_after": 1, "provider_attach": 2, "client_detach": 3,
         "provider_detach": 4, "client_cleanup": 5, "provider_cleanup": 6, "any": 7}
FILTER = {"any": 0, "c0": 1, "c1": 2, "p0": 3, "p1": 4}
OP = {"register": 0, "deregister": 1, "wait": 2, "complete": 3, "attach": 4, "change": 5,
      "hook": 6}
ACTION = {"register": 0, "deregister": 1, "wait": 2, "complete": 3, "attach": 4, "change": 5,
          "return": 6}
# Return kinds, per callback (fuzz_nmr_contract.c, "hook").
CLIENT_RETURN = {"success_anyway": 0, "other_failure": 1, "success_code": 2, "null_outs": 3,
                 "twice": 4}
PROVIDER_RETURN = {"success_code": 0, "unwritten_context": 1, "unwritten_dispatch": 2,
                   "unwritten_both": 3, "error": 4}
DETACH_RETURN = {"bad_status": 0, "complete_then_success": 1, "complete_twice": 2}


def config(two_npis=False, detach_at_dispatch=False, cleanup_at_dispatch=False,
           provider_first=False, fatal=False):
    return bytes([two_npis | (detach_at_dispatch << 1) | (cleanup_at_dispatch << 2) |
                  (provider_first << 3) | (fatal << 4)])


# ---- actions (operands only; op() and hook() add the op / action byte) --------------------

def a_register(who, npi=0, irql="passive", policy="accept", detach="success", cleanup=True,
               ident="guid", error=0):
    return ("register", bytes([WHO[who] | (npi << 3) | (IRQL[irql] << 4),
                               POLICY[policy] | (DETACH[detach] << 2) | ((not cleanup) << 4) |
                               (ID[ident] << 5),
                               error]))


def _call(name, who, handle, irql, pick, extra=None):
    data = bytes([WHO[who] | (HANDLE[handle] << 3) | (IRQL[irql] << 6), pick])
    if extra is not None:
        data += bytes([extra])
    return (name, data)


def a_deregister(who, handle="own", irql="passive", pick=0):
    return _call("deregister", who, handle, irql, pick)


def a_wait(who, handle="own", irql="passive", pick=0, force=False):
    return _call("wait", who, handle, irql, pick, int(force))


def a_complete(who, handle="own", irql="passive", pick=0):
    return _call("complete", who, handle, irql, pick)


def a_attach(who, handle="own", irql="passive", pick=0, null_outs=False):
    return _call("attach", who, handle, irql, pick, int(null_outs))


def a_change(who, what):
    return ("change", bytes([WHO[who] | (WHAT[what] << 3)]))


def a_return(kind, status=0):
    return ("return", bytes([kind | (status << 3)]))


def op(action):
    name, data = action
    return bytes([OP[name]]) + data


def hook(point, action, module="any"):
    name, data = action
    return bytes([OP["hook"], POINT[point] | (FILTER[module] << 3), ACTION[name]]) + data


def seq(*parts):
    return b"".join(parts)


def reg(who, **kw):
    return op(a_register(who, **kw))


def dereg(who, **kw):
    return op(a_deregister(who, **kw))


def wait(who, **kw):
    return op(a_wait(who, **kw))


def complete(who, **kw):
    return op(a_complete(who, **kw))


def attach(who, **kw):
    return op(a_attach(who, **kw))


def change(who, what):
    return op(a_change(who, what))


def bind_c0_p0(**kw):
    return seq(reg("p0", **kw.get("p0", {})), reg("c0", **kw.get("c0", {})))


SEEDS = {
    # Clean life cycles: every call gets its documented status, no stop.
    "clean-both-orders-pending-completed": seq(
        config(two_npis=True),
        reg("c0", detach="pending"), reg("p0"), reg("p1", npi=1), reg("c1", npi=1, ident="luid"),
        dereg("p0"), complete("c0"), wait("p0"), dereg("c1"), wait("c1", force=True),
        dereg("c0"), wait("c0"), dereg("p1"), wait("p1")),
    "clean-inline-completion-at-dispatch": seq(
        config(detach_at_dispatch=True, cleanup_at_dispatch=True, provider_first=True),
        reg("c0", detach="inline"), reg("p0", detach="inline", cleanup=False),
        dereg("c0", irql="dispatch"), wait("c0", irql="apc")),
    "clean-declines-and-client-error": seq(
        config(),
        reg("p0", policy="decline"), reg("c0"), reg("c1", policy="fail", error=3), reg("p1")),
    "wait-unknown-handles-get-invalid-parameter": seq(
        config(),
        reg("c0"), wait("c0", handle="null"), wait("c0", handle="forged", pick=3),
        wait("p1", handle="forged", pick=0), dereg("c0"), wait("c0")),
    "late-comer-deregisters-in-its-attach": seq(
        config(),
        reg("c0", detach="pending"),
        hook("client_attach_after", a_deregister("self"), module="c0"),
        reg("p0"), complete("c0"), wait("c0")),
    "register-inside-attach": seq(
        config(),
        reg("c0"), hook("client_attach", a_register("p1")), reg("p0")),
    # D11 is for a wait inside a callout of one of the waited registration's own bindings: a
    # drained registration waited for inside another binding's callback just ends.
    "wait-for-drained-registration-inside-another-binding-detach": seq(
        config(),
        reg("c1"), dereg("c1"), bind_c0_p0(),
        hook("client_detach", a_wait("c1"), module="c0"), dereg("c0"), wait("c0")),
    "re-registration-gets-a-new-luid": seq(
        config(),
        reg("p0", ident="luid"), reg("c0"), dereg("p0"), wait("p0"),
        reg("p0", ident="luid"), dereg("c0"), wait("c0")),
    # Warnings: counted, or stops with warnings_are_fatal.
    "R8-wait-before-deregister-warns": seq(
        config(), reg("c0"), wait("c0"), reg("p0"), wait("p0"), dereg("c0"), wait("c0")),
    "R8-fatal-stops": seq(config(fatal=True), reg("c0"), wait("c0")),
    "R10-bad-module-id-type-and-version-warn": seq(
        config(), reg("c0", ident="bad_type"), reg("p0", ident="bad_version"),
        dereg("c0"), wait("c0")),
    "R10-fatal-stops": seq(config(fatal=True), reg("p0", ident="bad_type")),
    "A9-provider-error-warns": seq(
        config(), reg("p0", policy="fail", error=2), reg("c0"), reg("p1", policy="fail", error=5)),
    "A9-fatal-stops": seq(config(fatal=True), reg("p0", policy="fail"), reg("c0")),
    # R4: calls above their IRQL.
    "R4-register-at-dispatch": seq(config(), reg("c0", irql="dispatch")),
    "R4-register-at-apc-inside-detach": seq(
        config(), bind_c0_p0(), hook("client_detach", a_register("c1", irql="apc")), dereg("p0")),
    "R4-deregister-at-high": seq(config(), reg("c0"), dereg("c0", irql="high")),
    "R4-wait-at-dispatch": seq(config(), reg("c0"), dereg("c0"), wait("c0", irql="dispatch")),
    "R4-complete-at-high": seq(
        config(), bind_c0_p0(c0={"detach": "pending"}), dereg("p0"), complete("c0", irql="high")),
    "R4-attach-at-apc": seq(
        config(), reg("p0"), hook("client_attach", a_attach("self", irql="apc")), reg("c0")),
    "R4-attach-in-detach-at-dispatch": seq(
        config(detach_at_dispatch=True), bind_c0_p0(),
        hook("client_detach", a_attach("self")), dereg("c0")),
    # R9: handle misuse.
    "R9-double-deregistration": seq(config(), reg("c0"), dereg("c0"), dereg("c0")),
    "R9-deregister-after-wait": seq(config(), reg("c0"), dereg("c0"), wait("c0"), dereg("c0")),
    "R9-wait-after-wait": seq(config(), reg("p0"), dereg("p0"), wait("p0"), wait("p0")),
    "R9-deregister-never-issued": seq(config(), reg("c0"), dereg("c0", handle="forged", pick=1)),
    "R9-deregister-null": seq(config(), reg("p1"), dereg("p1", handle="null")),
    "R9-deregister-client-with-provider-handle": seq(
        config(), bind_c0_p0(), dereg("c0", handle="provider_reg")),
    "R9-deregister-with-binding-handle": seq(
        config(), bind_c0_p0(), dereg("p0", handle="client_side")),
    "R9-wait-with-binding-handle": seq(
        config(), bind_c0_p0(), wait("c0", handle="provider_side")),
    "R9-attach-with-provider-side-handle": seq(
        config(), bind_c0_p0(), attach("c0", handle="provider_side")),
    "R9-attach-with-registration-handle": seq(
        config(), bind_c0_p0(), attach("c0", handle="client_reg")),
    "R9-attach-with-stale-handle": seq(
        config(), bind_c0_p0(), dereg("c0"), wait("c0"), attach("c0", handle="stale")),
    "R9-complete-with-registration-handle": seq(
        config(), bind_c0_p0(c0={"detach": "pending"}), dereg("p0"),
        complete("c0", handle="provider_reg")),
    "R9-complete-never-issued": seq(
        config(), bind_c0_p0(p0={"detach": "pending"}), dereg("c0"),
        complete("p0", handle="forged", pick=4)),
    # A1-A4, A8: attach misbehaviour.
    "A1-success-without-attach": seq(
        config(), reg("p0"),
        hook("client_attach_after", a_return(CLIENT_RETURN["success_anyway"]), module="c0"),
        reg("c0", policy="decline")),
    "A1-success-after-declined-attach": seq(
        config(), reg("p0", policy="decline"),
        hook("client_attach_after", a_return(CLIENT_RETURN["success_anyway"])), reg("c0")),
    "A2-failure-after-successful-attach": seq(
        config(), reg("p0"),
        hook("client_attach_after", a_return(CLIENT_RETURN["other_failure"], 7)), reg("c0")),
    "A3-client-returns-pending": seq(
        config(), reg("p0"),
        hook("client_attach_after", a_return(CLIENT_RETURN["success_code"], 0)), reg("c0")),
    "A3-provider-returns-timeout": seq(
        config(), reg("c0"),
        hook("provider_attach", a_return(PROVIDER_RETURN["success_code"], 1)), reg("p0")),
    "A8-provider-leaves-context-unwritten": seq(
        config(), reg("c0"),
        hook("provider_attach", a_return(PROVIDER_RETURN["unwritten_context"])), reg("p0")),
    "A8-provider-leaves-both-unwritten": seq(
        config(), reg("p0"),
        hook("provider_attach", a_return(PROVIDER_RETURN["unwritten_both"])), reg("c0")),
    "attach-null-out-parameters-invalid-parameter": seq(
        config(), reg("p0"),
        hook("client_attach", a_return(CLIENT_RETURN["null_outs"])), reg("c0"),
        dereg("c0"), wait("c0")),
    "A4-attach-twice-after-success": seq(
        config(), reg("p0"),
        hook("client_attach", a_return(CLIENT_RETURN["twice"])), reg("c0")),
    "A4-attach-after-attach-returned": seq(config(), bind_c0_p0(), attach("c0")),
    "A4-attach-in-detach": seq(
        config(), bind_c0_p0(), hook("client_detach", a_attach("self")), dereg("p0")),
    "A4-attach-in-cleanup": seq(
        config(), bind_c0_p0(), hook("client_cleanup", a_attach("self")), dereg("c0")),
    # D4, D5, D6, D11: detach misbehaviour.
    "D6-detach-returns-unsuccessful": seq(
        config(), bind_c0_p0(),
        hook("provider_detach", a_return(DETACH_RETURN["bad_status"], 1)), dereg("c0")),
    "D5-complete-inside-then-success": seq(
        config(provider_first=True), bind_c0_p0(),
        hook("client_detach", a_return(DETACH_RETURN["complete_then_success"])), dereg("c0")),
    "D5-complete-twice-inside": seq(
        config(), bind_c0_p0(),
        hook("provider_detach", a_return(DETACH_RETURN["complete_twice"])), dereg("p0")),
    "D5-complete-before-detach": seq(config(), bind_c0_p0(), complete("c0")),
    "D5-complete-after-success": seq(
        config(), bind_c0_p0(p0={"detach": "pending"}), dereg("c0"), complete("c0")),
    "D5-complete-twice-after-pending": seq(
        config(), bind_c0_p0(c0={"detach": "pending"}, p0={"detach": "pending"}), dereg("c0"),
        complete("c0"), complete("c0")),
    "D5-complete-stale": seq(
        config(), bind_c0_p0(c0={"detach": "pending"}), dereg("c0"), complete("c0"),
        complete("c0")),
    "D5-complete-for-the-other-side": seq(
        config(), bind_c0_p0(p0={"detach": "pending"}), dereg("c0"),
        complete("c0", handle="provider_side")),
    "D5-complete-queued-side": seq(
        config(), bind_c0_p0(), hook("client_detach", a_complete("peer")), dereg("c0")),
    "D11-wait-inside-own-detach": seq(
        config(), bind_c0_p0(), hook("client_detach", a_wait("self")), dereg("c0")),
    "D4-pending-detach-never-completed": seq(
        config(), bind_c0_p0(c0={"detach": "pending"}), dereg("c0"), wait("c0")),
    "D4-queued-binding-waited-inside-another-detach": seq(
        config(), reg("p0"), reg("c0"), reg("c1"),
        hook("client_detach", a_deregister("c1"), module="c0"),
        hook("client_detach", a_wait("c1"), module="c0"), dereg("p0")),
    "D4-proposed-binding-waited-inside-attach": seq(
        config(), reg("c0"), reg("c1"),
        hook("client_attach", a_deregister("c1"), module="c0"),
        hook("client_attach", a_wait("c1"), module="c0"), reg("p0")),
    # R1, R3: deferred detection.
    "R1-version-changed-stops-at-next-attach": seq(
        config(), reg("c0"), change("c0", "version"), reg("p1"), reg("p0")),
    "R1-number-changed-stops-at-wait": seq(
        config(), reg("p1"), change("p1", "number"), dereg("p1"), wait("p1")),
    "R3-npi-changed-stops-at-detach": seq(
        config(), bind_c0_p0(), change("p0", "npi"), dereg("c0")),
    "R3-module-id-changed-stops-at-cleanup": seq(
        config(), bind_c0_p0(p0={"detach": "pending"}), dereg("c0"), change("c0", "module_id"),
        complete("p0")),
}


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        for name, data in SEEDS.items():
            print(f"{hashlib.sha1(data).hexdigest()}  {len(data):3d}  {name}")
        return 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        digest = hashlib.sha1(data).hexdigest()
        with open(os.path.join(out, digest), "wb") as f:
            f.write(data)
        print(f"{digest}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
