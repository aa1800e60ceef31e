/* SPDX-License-Identifier: MIT */
/*
 * fuzz_calls.h - call frames of the harness library: the stack of NMR calls a harness has
 * made and that have not returned yet (on the harness's one thread of operations; a
 * callback that calls the NMR again pushes a nested frame). Oracles use it to tell which
 * call a callback happens inside ("a detach during the NmrDeregisterClient that requested
 * it"), at which IRQL the caller made it, and how many fallible allocations the call made.
 *
 *     fuzz_call_t *call = fuzz_call_begin("NmrDeregisterClient");
 *     NTSTATUS status = NmrDeregisterClient(handle);
 *     fuzz_call_end(call);   // innermost, back at the caller's IRQL; then popped
 *
 * Reset at the start of every input by fuzz_run_begin. Single-threaded by design: the
 * targets with simulated threads racing each other (fuzz_nmr_schedule) keep no frames.
 */
#pragma once

#include <stdbool.h>

#include <wdm.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Calls nested inside each other at the most (more is a harness failure). */
#define FUZZ_CALLS_MAX 24u

typedef struct fuzz_call {
    unsigned id;                    /* from 1 in call order in this input; 0 names no call */
    const char *name;               /* the NMR function called */
    KIRQL irql;                     /* the caller's IRQL: the call must return at it */
    unsigned long fallible_before;  /* kshim_fault_eligible_calls() when it was made */
} fuzz_call_t;

/** @brief Forget every frame; the next call gets id 1. */
void fuzz_calls_reset(void);

/** @brief Push a frame for a call about to be made. */
fuzz_call_t *fuzz_call_begin(const char *name);

/**
 * @brief The call returned: an oracle failure if it is not the innermost frame or the IRQL
 * is not the caller's; then the frame is popped. The frame stays readable (for the
 * caller's own end-of-call checks) until the next fuzz_call_begin.
 */
void fuzz_call_end(fuzz_call_t *call);

/** @brief Calls in progress. */
unsigned fuzz_call_depth(void);

/** @brief The innermost call in progress, or NULL. */
const fuzz_call_t *fuzz_call_innermost(void);

/** @brief True when the innermost call in progress is the NMR function `name` (a
 *  callback checks that it runs inside the call that may make it). */
bool fuzz_call_innermost_is(const char *name);

/** @brief The id of the innermost call in progress, or 0. */
unsigned fuzz_call_current_id(void);

/** @brief The caller's IRQL of the innermost call in progress (PASSIVE_LEVEL with none). */
KIRQL fuzz_call_current_irql(void);

/** @brief True while the call with this id has not returned. */
bool fuzz_call_in_progress(unsigned id);

/**
 * @brief Calls begun in this input (the id the last one got). The registrar has no work of
 * its own (no threads, work items, DPCs or timers), so its state changes only inside an NMR
 * call: while this count stands still, a harness whose every NMR call has a frame may take
 * the registrar for unchanged (a check after an operation that made no call finds what the
 * previous one found).
 */
unsigned fuzz_calls_begun(void);

#ifdef __cplusplus
}
#endif
