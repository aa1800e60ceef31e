/* SPDX-License-Identifier: MIT */
/*
 * ke_pending_work.c - the count of queued work items and running system threads, and
 * kshim_drain_pending_work, over the dispatcher seam (so it serves real threads and
 * fibers alike: with fibers the dispatcher lock is a no-op and blocking is a yield).
 */
#include "kshim_internal.h"

/* Queued work items not yet finished plus running system threads.
   Protected by: dispatcher lock. */
static size_t pending_work;

void kshim_pending_work_add_locked(void)
{
    pending_work++;
}

void kshim_pending_work_done_locked(void)
{
    pending_work--;
    kshim_dispatcher_wake_all();
}

size_t kshim_pending_work_count(void)
{
    kshim_dispatcher_lock();
    size_t n = pending_work;
    kshim_dispatcher_unlock();
    return n;
}

void kshim_drain_pending_work(void)
{
    kshim_require_irql_at_most("kshim_drain_pending_work", APC_LEVEL);
    kshim_dispatcher_lock();
    while (pending_work != 0) {
        if (kshim_work_is_held_locked()) {
            kshim_dispatcher_unlock();
            kshim_stop("WORK_HELD_DURING_DRAIN",
                       "kshim_drain_pending_work: %zu item(s) pending while kshim_work_hold(true)",
                       pending_work);
        }
        kshim_dispatcher_set_wait_reason("kshim_drain_pending_work", NULL);
        kshim_dispatcher_block(NULL);
    }
    kshim_dispatcher_unlock();
}
