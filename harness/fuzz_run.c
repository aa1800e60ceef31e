/* SPDX-License-Identifier: MIT */
/* fuzz_run.c - per-input reset and end-of-input audit (fuzz_run.h). */
#include "fuzz_run.h"

#include "fuzz_calls.h"
#include "fuzz_handles.h"
#include "fuzz_oracle.h"
#include "fuzz_state_coverage.h"
#include "fuzz_warnings.h"

#include <nmr_module.h>

#include <stdio.h>

static size_t pool_baseline;

void fuzz_run_begin(void)
{
    fuzz_state_coverage_install(); /* registrar states as extra coverage */
    ULONG leftover = nmr_reset();
    if (leftover != 0) {
        fuzz_oracle_fail("nmr_reset() found %lu live object(s) before the input started",
                         (unsigned long)leftover);
    }
    kshim_fault_set_plan(NULL);
    fuzz_handles_reset();
    fuzz_calls_reset();
    fuzz_warnings_reset();
    pool_baseline = kshim_pool_live_count();
}

size_t fuzz_run_pool_baseline(void)
{
    return pool_baseline;
}

/* Names what a tag's leftover allocations are, before kshim_audit stops on them. */
static void name_pool_tag(const fuzz_pool_tag_t *t)
{
    size_t live = kshim_pool_live_count_by_tag(t->tag);
    if (live != 0) {
        fflush(stdout);
        fprintf(stderr, "--- end of input: %zu %s left in pool (tag '%c%c%c%c')\n", live, t->what,
                (char)(t->tag & 0xff), (char)((t->tag >> 8) & 0xff),
                (char)((t->tag >> 16) & 0xff), (char)(t->tag >> 24));
    }
}

void fuzz_run_audit(const fuzz_pool_tag_t *module_tags, size_t module_tag_count)
{
    static const fuzz_pool_tag_t kernel_tags[] = {
        {KSHIM_TAG_WORK_ITEM, "work item(s)"},
        {FUZZ_TAG_NMR_BINDING, "registrar binding(s)"},
        {FUZZ_TAG_NMR_REGISTRATION, "registrar registration(s)"},
    };
    kshim_fault_set_plan(NULL);
    if (kshim_pending_work_count() != 0) {
        fuzz_oracle_fail("end of input: %zu work item(s) or system thread(s) still pending",
                         kshim_pending_work_count());
    }
    ULONG live = nmr_live_object_count();
    if (live != 0) {
        fuzz_oracle_fail("end of input: nmr_live_object_count() is %lu after every wait returned",
                         (unsigned long)live);
    }
    nmr_check_invariants();
    if (kshim_pool_live_count() != pool_baseline) {
        /* Name the culprits by tag (the per-tag count walks every record: only on failure);
           kshim_audit then stops (AUDIT_FAILED) and prints the pool with allocating lines. */
        for (size_t i = 0; i < module_tag_count; i++) {
            name_pool_tag(&module_tags[i]);
        }
        for (size_t i = 0; i < sizeof kernel_tags / sizeof kernel_tags[0]; i++) {
            name_pool_tag(&kernel_tags[i]);
        }
    }
    kshim_audit(pool_baseline);
}

void fuzz_run_end(void)
{
    ULONG leftover = nmr_reset();
    if (leftover != 0) {
        fuzz_oracle_fail("nmr_reset() found %lu live object(s) after the audit",
                         (unsigned long)leftover);
    }
    kshim_pool_forget_freed();
}
