/* SPDX-License-Identifier: MIT */
/*
 * fuzz_state_coverage.h - registrar state transitions as libFuzzer coverage.
 *
 * Private to the harness library: fuzz_run.c, the one file that includes it, installs it in
 * fuzz_run_begin at the start of every input, so a harness needs nothing else. Every
 * (object, from-state, to-state) transition the registrar reports
 * (nmr_set_transition_observer) bumps one 8-bit counter in the section libFuzzer scans for
 * extra counters on Linux, so reaching a new registrar state, or reaching one more often,
 * counts as progress even where the code is already covered. In the replay programs (no
 * libFuzzer) the counters are simply unused.
 */
#pragma once

#include <stdint.h>

#include <nmr_module.h>

__attribute__((section("__libfuzzer_extra_counters"), used)) static uint8_t
    fuzz_state_counters[NMR_TRANSITION_ID_LIMIT];

static VOID fuzz_state_coverage_observe(ULONG transition_id)
{
    if (transition_id < NMR_TRANSITION_ID_LIMIT && fuzz_state_counters[transition_id] != 0xff) {
        fuzz_state_counters[transition_id]++;
    }
}

static inline void fuzz_state_coverage_install(void)
{
    nmr_set_transition_observer(fuzz_state_coverage_observe);
}
