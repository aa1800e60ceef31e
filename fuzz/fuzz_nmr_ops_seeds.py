#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hand-written seed inputs of fuzz_nmr_ops, encoded in the target's input format.

Each seed is a small scenario (see SEEDS below); the encoder mirrors the format documented
in fuzz/fuzz_nmr_ops.c, so a seed reads as the operation stream it is. Files are named by
the sha1 of their content, like every minimised corpus input:

    python3 fuzz/fuzz_nmr_ops_seeds.py corpus/fuzz_nmr_ops     # write the seeds
    python3 fuzz/fuzz_nmr_ops_seeds.py --list                  # name, sha1, bytes

Decode any input with: <build>/fuzz/fuzz_nmr_ops_replay -print FILE
"""
import hashlib
import os
import sys

CLIENT_POLICY = {"attach": 0, "retry": 1, "decline": 2}
PROVIDER_POLICY = {"accept": 0, "accept-older": 1, "decline": 2, "fail": 3}
DETACH = {"success": 0, "pending": 1, "inline": 2}
PROVIDER_ERROR = {"unsuccessful": 0, "insufficient-resources": 1, "not-supported": 2}
HOOK_POINT = {"client-attach": 0, "client-attach-after": 1, "provider-attach": 2,
              "client-detach": 3, "provider-detach": 4, "cleanup": 5}
FAULT = {"off": 0, "transient": 1, "persistent": 2}


def header(detach_at_dispatch=False, cleanup_at_dispatch=False, provider_detach_first=False,
           three_npis=False, fault="off", nth=1):
    config = (detach_at_dispatch << 0) | (cleanup_at_dispatch << 1) | \
        (provider_detach_first << 2) | (three_npis << 3)
    assert 1 <= nth <= 64
    return bytes([config, FAULT[fault] | ((nth - 1) << 2)])


def _behaviour(policy, detach, cleanup, inst_v1, npi_specific, luid):
    return policy | (DETACH[detach] << 2) | ((not cleanup) << 4) | (inst_v1 << 5) | \
        (npi_specific << 6) | (luid << 7)


def reg_client(slot, npi=0, policy="attach", detach="success", cleanup=True, inst_v1=False,
               npi_specific=False, luid=False, decline=()):
    mask = 0
    for p in decline:
        mask |= 1 << p
    return bytes([0, slot | (npi << 2),
                  _behaviour(CLIENT_POLICY[policy], detach, cleanup, inst_v1, npi_specific, luid),
                  mask])


def reg_provider(slot, npi=0, policy="accept", detach="success", cleanup=True, inst_v1=False,
                 npi_specific=False, luid=False, error="unsuccessful"):
    return bytes([1, slot | (npi << 2),
                  _behaviour(PROVIDER_POLICY[policy], detach, cleanup, inst_v1, npi_specific, luid),
                  PROVIDER_ERROR[error]])


def dereg_client(slot, at_dispatch=False):
    return bytes([2, slot | (at_dispatch << 2)])


def dereg_provider(slot, at_dispatch=False):
    return bytes([3, slot | (at_dispatch << 2)])


def wait_client(slot, force=False, early=False):
    return bytes([4, slot | (force << 2) | (early << 3)])


def wait_provider(slot, force=False, early=False):
    return bytes([5, slot | (force << 2) | (early << 3)])


def complete(pick=0, at_dispatch=False):
    return bytes([6, (pick << 1) | at_dispatch])


def hook(point, action, arg=0):
    """arg: slot (deregister), pending side number (complete), or for register
    slot | npi << 2 | detach << 4 (attach/accept policy, cleanup callback)."""
    actions = {"dereg-client": 0, "dereg-provider": 1, "complete": 2,
               "reg-client": 3, "reg-provider": 4}
    assert 5 * arg + actions[action] < 256
    return bytes([7, HOOK_POINT[point], actions[action] + 5 * arg])


def seq(*parts):
    return b"".join(parts)


SEEDS = {
    "client-first-attach-detach": seq(
        header(),
        reg_client(0), reg_provider(0),
        dereg_client(0), wait_client(0), dereg_provider(0), wait_provider(0)),
    "provider-first-attach-detach": seq(
        header(),
        reg_provider(1), reg_client(2, luid=True),
        dereg_provider(1), wait_provider(1), dereg_client(2), wait_client(2)),
    "several-peers-two-npis": seq(
        header(),
        reg_provider(0), reg_client(0), reg_client(1), reg_provider(1),
        reg_client(2, npi=1), reg_provider(2, npi=1), reg_client(3),
        dereg_provider(0), wait_provider(0), dereg_client(1), wait_client(1)),
    "three-npis-instance-variants": seq(
        header(three_npis=True),
        reg_provider(0, npi=2, inst_v1=True, npi_specific=True),
        reg_client(0, npi=2, npi_specific=True), reg_client(1, npi=1, inst_v1=True),
        reg_provider(1, npi=1, luid=True), reg_provider(2, npi=0)),
    "declines": seq(
        header(),
        reg_provider(0, policy="decline"), reg_provider(1),
        reg_client(0, policy="decline"), reg_client(1, decline=(1,)),
        reg_client(2)),
    "retry-older-dispatch": seq(
        header(),
        reg_provider(0, policy="accept-older"), reg_provider(1, policy="accept-older"),
        reg_client(0, policy="retry"), reg_client(1, policy="attach"),
        dereg_provider(0), wait_provider(0)),
    "provider-fails-with-error": seq(
        header(),
        reg_client(0), reg_provider(0, policy="fail", error="insufficient-resources"),
        reg_provider(1, policy="fail", error="not-supported"),
        reg_client(1, policy="retry")),
    "client-pending-late-completion": seq(
        header(),
        reg_client(0, detach="pending"), reg_provider(0),
        dereg_provider(0), wait_provider(0),
        reg_provider(1), reg_client(1),
        complete(0), wait_provider(0), dereg_client(0), wait_client(0)),
    "provider-pending-complete-at-dispatch": seq(
        header(),
        reg_provider(0, detach="pending"), reg_client(0), reg_client(1),
        dereg_client(0), wait_client(0),
        complete(0, at_dispatch=True), wait_client(0),
        dereg_client(1, at_dispatch=True), complete(0), wait_client(1)),
    "both-pending-forced-wait": seq(
        header(provider_detach_first=True),
        reg_client(0, detach="pending"), reg_provider(0, detach="pending"),
        reg_provider(1, detach="pending"),
        dereg_client(0), wait_client(0), wait_client(0, force=True)),
    "inline-completion-at-dispatch": seq(
        header(detach_at_dispatch=True, cleanup_at_dispatch=True, provider_detach_first=True),
        reg_client(0, detach="inline"), reg_provider(0, detach="inline"),
        reg_provider(1), reg_client(1, detach="inline", cleanup=False),
        dereg_provider(0), wait_provider(0), dereg_client(1), wait_client(1)),
    "null-cleanup-callbacks": seq(
        header(cleanup_at_dispatch=True),
        reg_client(0, cleanup=False), reg_provider(0, cleanup=False, detach="pending"),
        reg_client(1, detach="pending"),
        dereg_provider(0, at_dispatch=True), complete(1), complete(0), wait_provider(0)),
    "early-wait-warning": seq(
        header(),
        reg_client(0), wait_client(0, early=True), reg_provider(0),
        wait_provider(0, early=True), dereg_client(0), wait_client(0)),
    "fault-transient-second-allocation": seq(
        header(fault="transient", nth=2),
        reg_client(0), reg_provider(0), reg_provider(0), reg_client(1)),
    "fault-persistent-from-fourth": seq(
        header(fault="persistent", nth=4),
        reg_provider(0), reg_client(0), reg_client(1), reg_provider(1),
        dereg_client(0), wait_client(0)),
    "late-comer-client-deregisters-during-attach": seq(
        header(),
        reg_client(0, detach="pending"), reg_client(1),
        hook("client-attach-after", "dereg-client", 0),
        reg_provider(0),
        complete(0), wait_client(0)),
    "proposal-discarded-before-attach": seq(
        header(),
        reg_client(0), reg_client(1),
        hook("client-attach", "dereg-client", 1),
        reg_provider(0),
        wait_client(1)),
    "deregister-inside-detach-and-cleanup": seq(
        header(),
        reg_client(0), reg_provider(0), reg_provider(1, detach="pending"),
        hook("client-detach", "dereg-provider", 0),
        dereg_provider(1), hook("cleanup", "complete", 0), complete(0)),
    "register-during-peer-attach": seq(
        header(),
        reg_client(0), reg_client(1, detach="pending"),
        hook("provider-attach", "reg-client", 2 | (DETACH["pending"] << 4)),
        reg_provider(0),
        hook("client-attach-after", "reg-provider", 1),
        reg_client(3),
        dereg_provider(0), complete(0), complete(0)),
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
