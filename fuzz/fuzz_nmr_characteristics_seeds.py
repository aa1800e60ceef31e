#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hand-written seed inputs of fuzz_nmr_characteristics, encoded in the target's input format.

Each seed is a small scenario (see SEEDS below); the encoder mirrors the format documented
in fuzz/fuzz_nmr_characteristics.c. Files are named by the sha1 of their content:

    python3 fuzz/fuzz_nmr_characteristics_seeds.py corpus/fuzz_nmr_characteristics
    python3 fuzz/fuzz_nmr_characteristics_seeds.py --list

Decode any input with: <build>/fuzz/fuzz_nmr_characteristics_replay -print FILE
"""
import hashlib
import os
import sys

NULLS = {"chars": 0, "handle": 1, "attach": 2, "detach": 3, "npi": 4, "module_id": 5}
WRONG = {"version": 0, "length": 1, "size": 2, "id_length": 3, "id_type": 4}


def header(clients, providers, order_bits=0, reverse=False, provider_detach_first=False,
           detach_at_dispatch=False, cleanup_at_dispatch=False):
    assert 0 <= clients <= 3 and 0 <= providers <= 3
    return bytes([clients | (providers << 2) | (reverse << 4) | (provider_detach_first << 5) |
                  (detach_at_dispatch << 6) | (cleanup_at_dispatch << 7), order_bits])


def module(npi=0, nulls=(), wrong=(), x=0, copy=False, luid=False, cleanup=True,
           npi_specific=False, inst_version=0, id_value=1, number=0, data=0):
    p = (0x80 | sum(1 << NULLS[n] for n in nulls)) if nulls else 0
    v = (0x80 | sum(1 << WRONG[n] for n in wrong)) if wrong else 0
    ident = npi | (copy << 2) | (luid << 3) | ((not cleanup) << 4) | (npi_specific << 5) | \
        (inst_version << 6)
    return bytes([p, v, x, ident, id_value, number, data])


def seed(h, *modules):
    return h + b"".join(modules)


SEEDS = {
    "one-pair-valid": seed(header(1, 1), module(), module()),
    "provider-first": seed(header(1, 1, order_bits=1), module(), module()),
    "three-npis-full": seed(header(3, 3, order_bits=0b101010),
                            module(npi=0), module(npi=0), module(npi=1, luid=True),
                            module(npi=1), module(npi=2, copy=True), module(npi=2)),
    "all-same-npi": seed(header(3, 3, order_bits=0b010101, reverse=True),
                         module(), module(copy=True), module(number=7),
                         module(npi_specific=True, data=9), module(inst_version=1), module()),
    "equal-guid-other-address": seed(header(1, 2), module(copy=True), module(),
                                     module(npi=1, copy=True)),
    "different-npis": seed(header(2, 1), module(npi=0), module(npi=1), module(npi=2)),
    "no-cleanup": seed(header(2, 2, order_bits=0b0110, provider_detach_first=True),
                       module(cleanup=False), module(), module(cleanup=False), module()),
    "dispatch-callbacks": seed(header(2, 2, detach_at_dispatch=True, cleanup_at_dispatch=True),
                               module(), module(), module(), module()),
    "null-chars": seed(header(1, 1), module(nulls=["chars"]), module()),
    "null-handle": seed(header(1, 1), module(), module(nulls=["handle"])),
    "null-attach": seed(header(1, 1), module(nulls=["attach"]), module()),
    "null-detach": seed(header(1, 1), module(), module(nulls=["detach"])),
    "null-npi": seed(header(1, 1), module(nulls=["npi"]), module()),
    "null-module-id": seed(header(1, 1), module(), module(nulls=["module_id"])),
    "all-nulls": seed(header(1, 1), module(nulls=list(NULLS)), module(nulls=list(NULLS))),
    "wrong-sizes": seed(header(1, 1), module(wrong=["version", "length"], x=3),
                        module(wrong=["size", "id_length"], x=200)),
    "invalid-id-types": seed(header(2, 1), module(wrong=["id_type"], x=0),
                             module(wrong=["id_type"], x=1), module(wrong=list(WRONG), x=5)),
    "luid-ids-same-value": seed(header(2, 2), module(luid=True, id_value=4),
                                module(luid=True, id_value=4), module(id_value=4),
                                module(luid=True, id_value=4)),
    "instance-extras": seed(header(1, 1), module(inst_version=3, npi_specific=True, data=0x55,
                                                 number=0xff),
                            module(inst_version=2, number=0x80)),
}


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        for name, data in SEEDS.items():
            print(f"{name}\t{hashlib.sha1(data).hexdigest()}\t{len(data)}")
        return 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    os.makedirs(argv[1], exist_ok=True)
    for data in SEEDS.values():
        with open(os.path.join(argv[1], hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
