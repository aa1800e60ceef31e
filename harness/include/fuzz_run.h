/* SPDX-License-Identifier: MIT */
/*
 * fuzz_run.h - the per-input reset and end-of-input audit of the harness library: what
 * every harness does around one input, so that each input starts from a clean kernel and
 * registrar and leaves nothing behind that the next one would inherit.
 *
 *     fuzz_run_begin();            first thing of LLVMFuzzerTestOneInput
 *     ... set-up, operations, teardown (every registration deregistered and waited for) ...
 *     fuzz_run_audit(tags, n);     the kernel and the registrar are back to the baseline
 *     fuzz_run_end();              the registrar is empty; freed pool is forgotten
 *
 * A finding is an oracle failure (fuzz_oracle.h) or a shim stop (kshim_audit). Nothing here
 * records a trace event, so the pieces do not change any input's trace hash.
 *
 * Single-threaded: called by the harness's main thread, with no simulated thread running.
 * Reaches the registrar only through nmr_module.h (and the pool by tag, as a debugger does).
 */
#pragma once

#include <stddef.h>

#include <kshim/kshim.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The registrar's pool tags (docs/behaviour.md, "Pool tags"). */
#define FUZZ_TAG_NMR_REGISTRATION KSHIM_POOL_TAG('N', 'm', 'R', 'g')
#define FUZZ_TAG_NMR_BINDING KSHIM_POOL_TAG('N', 'm', 'B', 'd')

/* A pool tag the audit names when allocations of it are left over. */
typedef struct fuzz_pool_tag {
    ULONG tag;
    const char *what; /* plural noun phrase: "binding context(s)" */
} fuzz_pool_tag_t;

/**
 * @brief Start of an input: registrar state transitions count as libFuzzer coverage
 * (fuzz_state_coverage.h), nmr_reset() must find nothing live (else the previous input
 * skipped its audit: an oracle failure), no fault plan is armed, the handle ledger is
 * empty (fuzz_handles.h), no call frame is left (fuzz_calls.h), no warning is predicted
 * (fuzz_warnings.h), and the pool baseline of
 * the audit is what is live now (the harness's own long-lived objects). Call it after any
 * such object is created (a device made once, for instance).
 */
void fuzz_run_begin(void);

/** @brief The live pool allocations fuzz_run_begin found (the audit's baseline). */
size_t fuzz_run_pool_baseline(void);

/**
 * @brief End-of-input audit, after the teardown: no fault plan any more, no pending work
 * item or system thread, no live registrar object, the registrar's invariants hold, and
 * the pool back at the baseline with IRQL PASSIVE_LEVEL and no lock held (kshim_audit).
 * Before kshim_audit stops on leftover pool, a "--- end of input: ..." line names it by
 * tag: the module tags given here, then the shim's work items and the registrar's objects.
 */
void fuzz_run_audit(const fuzz_pool_tag_t *module_tags, size_t module_tag_count);

/**
 * @brief After the audit: nmr_reset() must find nothing, and the shim forgets freed pool
 * records (so malloc and free balance per input and libFuzzer's leak check stays cheap).
 */
void fuzz_run_end(void);

#ifdef __cplusplus
}
#endif
