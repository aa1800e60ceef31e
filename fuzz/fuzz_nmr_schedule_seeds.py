#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hand-written seed inputs of fuzz_nmr_schedule, encoded in the target's input format.

Each seed is a small concurrent scenario (see SEEDS below): a header, the operations of the
module slots (C0 C1 P0 P1; slot k is run by worker k % workers) and schedule bytes. The
encoder mirrors the format documented in fuzz/fuzz_nmr_schedule.c. Files are named by the
sha1 of their content, like every minimised corpus input:

    python3 fuzz/fuzz_nmr_schedule_seeds.py corpus/fuzz_nmr_schedule   # write the seeds
    python3 fuzz/fuzz_nmr_schedule_seeds.py --list                     # name, sha1, bytes

Decode any input with: <build>/fuzz/fuzz_nmr_schedule_replay -print FILE
"""
import hashlib
import os
import sys

SLOTS = {"C0": 0, "C1": 1, "P0": 2, "P1": 3}
OPS = {"register": 0, "deregister": 1, "wait": 2, "re-register": 3, "drain": 4, "yield": 5,
       "deregister-at-dispatch": 6, "unload": 7}
POLICY = {"accept": 0, "decline-slot1": 2, "decline": 3}
DETACH = {"success": 0, "work-item": 1, "inline": 2, "queued": 3}


def header(workers=2, npis=1, completer=False, detach_at_dispatch=False,
           cleanup_at_dispatch=False, provider_detach_first=False, pct=False, pct_depth3=False,
           seed=0):
    assert workers in (2, 3) and npis in (1, 2)
    return (((workers == 3) << 0) | ((npis == 2) << 1) | (completer << 2) |
            (detach_at_dispatch << 3) | (cleanup_at_dispatch << 4) |
            (provider_detach_first << 5) | (pct << 6) | (pct_depth3 << 7)), seed


def behaviour(policy="accept", detach="success", cleanup=True, npi=0, item_in_context=False,
              resident=False):
    return (POLICY[policy] | (DETACH[detach] << 2) | ((not cleanup) << 4) | (npi << 5) |
            (item_in_context << 6) | (resident << 7))


def op(kind, slot, arg=0, **b):
    code = bytes([SLOTS[slot] | (OPS[kind] << 2) | (arg << 5)])
    if kind in ("register", "re-register"):
        code += bytes([behaviour(**b)])
    else:
        assert not b, b
    return code


def encode(hdr, ops, schedule=b""):
    config, seed = hdr
    body = b"".join(ops)
    assert len(body) <= 255
    return bytes([config, len(body), seed]) + body + bytes(schedule)


def alternate(n, period=2):
    return bytes(i % period for i in range(n))


SEEDS = {
    # Two workers; a client and a provider attach, both detach synchronously, unload.
    "basic-attach-detach": encode(header(), [
        op("register", "C0"), op("register", "P1"), op("unload", "C0"), op("unload", "P1"),
    ]),
    # The same under an interleaving that alternates between the two workers.
    "basic-interleaved": encode(header(), [
        op("register", "C0"), op("register", "P1"), op("unload", "C0"), op("unload", "P1"),
    ], alternate(64)),
    # Every pending mode: work items (routine frees / context owns), inline, completer queue.
    "pending-modes-completer": encode(header(completer=True), [
        op("register", "P0", detach="work-item"),
        op("register", "P1", detach="queued"),
        op("register", "C0", detach="inline"),
        op("register", "C1", detach="work-item", item_in_context=True),
        op("deregister", "P0"), op("deregister", "C1"), op("wait", "P0"), op("wait", "C1"),
    ], alternate(80, 3)),
    # Queued completions drained by the threads themselves (no completer), no cleanup cb.
    "queued-no-completer": encode(header(), [
        op("register", "C0", detach="queued", cleanup=False),
        op("register", "C1", detach="queued"),
        op("register", "P0", detach="queued"),
        op("register", "P1", detach="work-item", cleanup=False),
        op("drain", "C1"), op("deregister", "P1"), op("unload", "C0"),
    ], alternate(60)),
    # Re-registration churn with declines, three workers and two NPIs.
    "churn-three-workers": encode(header(workers=3, npis=2), [
        op("register", "P0"), op("register", "P1", npi=1),
        op("register", "C0", policy="decline-slot1"), op("register", "C1", npi=1),
        op("re-register", "C0", detach="work-item"), op("re-register", "P1", detach="inline"),
        op("re-register", "C1", policy="decline"), op("yield", "C0", 2),
        op("re-register", "P0", detach="queued"), op("unload", "C1"),
    ], alternate(90, 3)),
    # Detach and cleanup at DISPATCH_LEVEL, provider side first, deregistration at DISPATCH.
    "dispatch-level": encode(header(completer=True, detach_at_dispatch=True,
                                    cleanup_at_dispatch=True, provider_detach_first=True), [
        op("register", "C0", detach="work-item"), op("register", "P1", detach="queued"),
        op("register", "C1", detach="inline"), op("register", "P0"),
        op("deregister-at-dispatch", "C0"), op("deregister-at-dispatch", "P1"),
    ], alternate(40)),
    # A resident provider outlives the clients that come and go (main unloads it).
    "resident-provider": encode(header(), [
        op("register", "P0", resident=True, detach="queued"),
        op("register", "C1", detach="work-item"), op("re-register", "C1", detach="inline"),
        op("register", "C0"), op("re-register", "C1"),
    ], alternate(50)),
    # Late-comer: a provider deregisters while a client's attach to it is in flight.
    "late-comer": encode(header(), [
        op("register", "P1"), op("register", "C0", resident=True), op("deregister", "P1"),
        op("wait", "P1"),
    ], bytes([1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 1] * 4)),
    # PCT once the schedule bytes run out.
    "pct": encode(header(workers=3, completer=True, pct=True, pct_depth3=True, seed=7), [
        op("register", "C0", detach="queued"), op("register", "P0", detach="work-item"),
        op("register", "C1", detach="queued"), op("register", "P1", detach="inline"),
        op("re-register", "C0"), op("re-register", "P0"),
    ]),
}


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        for name, data in SEEDS.items():
            print(f"{name:26} {hashlib.sha1(data).hexdigest()} {len(data)} bytes")
        return 0
    if len(argv) != 2 or argv[1].startswith("-"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    os.makedirs(argv[1], exist_ok=True)
    for data in SEEDS.values():
        with open(os.path.join(argv[1], hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
