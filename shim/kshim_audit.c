/* SPDX-License-Identifier: MIT */
/*
 * kshim_audit.c - the end-of-run audit: the calling thread back at PASSIVE_LEVEL with no
 * lock and no critical region, no pending work, and the expected number of live pool
 * allocations. Problems are listed first, then one AUDIT_FAILED stop line.
 */
#include "kshim_internal.h"

#include <stdio.h>

void kshim_audit(size_t pool_baseline)
{
    struct _KTHREAD *self = kshim_current_thread();
    unsigned problems = 0;
    char first[256]; /* written with the first problem; an initializer would clear all 256
                        bytes on every audit */
    first[0] = '\0';

#define AUDIT_PROBLEM(...)                                                                  \
    do {                                                                                    \
        char line_[256];                                                                    \
        snprintf(line_, sizeof line_, __VA_ARGS__);                                         \
        fprintf(stderr, "kshim audit: %s\n", line_);                                        \
        if (problems++ == 0) {                                                              \
            snprintf(first, sizeof first, "%s", line_);                                     \
        }                                                                                   \
    } while (0)

    if (self->irql != PASSIVE_LEVEL) {
        AUDIT_PROBLEM("thread '%s' is at IRQL %u, not PASSIVE_LEVEL", self->name, (unsigned)self->irql);
    }
    for (unsigned i = 0; i < self->held_count; i++) {
        AUDIT_PROBLEM("thread '%s' holds %s %p (acquired by %s)", self->name,
                      kshim_lock_kind_name(self->held[i].kind), self->held[i].lock,
                      self->held[i].routine);
    }
    if (self->critical_region_depth != 0) {
        AUDIT_PROBLEM("thread '%s' is inside %d critical region(s)", self->name,
                      self->critical_region_depth);
    }
    size_t pending = kshim_pending_work_count();
    if (pending != 0) {
        AUDIT_PROBLEM("%zu work item(s) or system thread(s) have not finished", pending);
    }
    bool pool_wrong = false;
    if (pool_baseline != (size_t)-1) {
        size_t live = kshim_pool_live_count();
        if (live != pool_baseline) {
            pool_wrong = true;
            AUDIT_PROBLEM("%zu live pool allocation(s), expected %zu", live, pool_baseline);
        }
    }
#undef AUDIT_PROBLEM
    if (problems == 0) {
        return;
    }
    if (pool_wrong) {
        kshim_pool_audit_print();
    }
    fflush(stderr);
    kshim_stop("AUDIT_FAILED", "%u problem(s); first: %s", problems, first);
}
