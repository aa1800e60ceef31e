/* SPDX-License-Identifier: MIT */
/*
 * ex_fastmutex.c - FAST_MUTEX (and guarded mutexes, the same here): non-recursive, held at
 * APC_LEVEL. Count (1 free, 0 owned) and Owner are protected by the dispatcher lock; a
 * contended acquirer blocks through the dispatcher seam.
 */
#include "kshim_internal.h"

VOID ExInitializeFastMutex(PFAST_MUTEX FastMutex)
{
    FastMutex->Count = 1;
    FastMutex->Owner = NULL;
    FastMutex->Contention = 0;
    KeInitializeEvent(&FastMutex->Event, SynchronizationEvent, FALSE);
    FastMutex->OldIrql = PASSIVE_LEVEL;
}

static void check_not_recursive(struct _KTHREAD *self, PFAST_MUTEX FastMutex, const char *routine)
{
    kshim_dispatcher_lock();
    bool mine = FastMutex->Owner == self;
    kshim_dispatcher_unlock();
    if (mine) {
        kshim_stop("FAST_MUTEX_RECURSIVE_ACQUIRE",
                   "%s: thread '%s' already owns FAST_MUTEX %p (a deadlock on Windows)", routine,
                   self->name, (void *)FastMutex);
    }
}

/* Take it (waiting unless try_only); false if try_only and it is owned. */
static bool take(struct _KTHREAD *self, PFAST_MUTEX FastMutex, bool try_only, const char *routine)
{
    kshim_sched_yield_point();
    kshim_dispatcher_lock();
    while (FastMutex->Count != 1) {
        if (try_only) {
            kshim_dispatcher_unlock();
            return false;
        }
        FastMutex->Contention++;
        kshim_dispatcher_set_wait_reason(routine, FastMutex);
        kshim_dispatcher_block(NULL);
    }
    FastMutex->Count = 0;
    FastMutex->Owner = self;
    kshim_dispatcher_unlock();
    kshim_held_push(self, FastMutex, KSHIM_LOCK_FAST_MUTEX, self->irql, routine);
    return true;
}

static void give_back(struct _KTHREAD *self, PFAST_MUTEX FastMutex, const char *routine)
{
    kshim_dispatcher_lock();
    if (FastMutex->Owner != self) {
        kshim_dispatcher_unlock();
        kshim_stop("FAST_MUTEX_NOT_OWNER", "%s: thread '%s' does not own FAST_MUTEX %p", routine,
                   self->name, (void *)FastMutex);
    }
    FastMutex->Count = 1;
    FastMutex->Owner = NULL;
    kshim_dispatcher_wake_all();
    kshim_dispatcher_unlock();
    kshim_held_remove(self, FastMutex);
}

static void acquire_raising(PFAST_MUTEX FastMutex, bool try_only, bool *acquired, const char *routine)
{
    kshim_require_irql_at_most(routine, APC_LEVEL);
    struct _KTHREAD *self = kshim_current_thread();
    check_not_recursive(self, FastMutex, routine);
    KIRQL old = self->irql;
    *acquired = take(self, FastMutex, try_only, routine);
    if (*acquired) {
        kshim_set_irql(self, APC_LEVEL);
        FastMutex->OldIrql = old;
    }
}

VOID ExAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    bool acquired;
    acquire_raising(FastMutex, false, &acquired, "ExAcquireFastMutex");
}

BOOLEAN ExTryToAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    bool acquired;
    acquire_raising(FastMutex, true, &acquired, "ExTryToAcquireFastMutex");
    return acquired ? TRUE : FALSE;
}

VOID ExReleaseFastMutex(PFAST_MUTEX FastMutex)
{
    const char *routine = "ExReleaseFastMutex";
    struct _KTHREAD *self = kshim_current_thread();
    if (self->irql != APC_LEVEL) {
        kshim_stop("FAST_MUTEX_WRONG_IRQL", "%s: FAST_MUTEX %p released at IRQL %u (must be APC_LEVEL)",
                   routine, (void *)FastMutex, (unsigned)self->irql);
    }
    KIRQL old = (KIRQL)FastMutex->OldIrql;
    give_back(self, FastMutex, routine);
    kshim_set_irql(self, old);
    kshim_sched_yield_point();
}

static void require_unsafe_context(struct _KTHREAD *self, PFAST_MUTEX FastMutex, const char *routine)
{
    if (self->irql != APC_LEVEL && self->critical_region_depth == 0) {
        kshim_stop("FAST_MUTEX_WRONG_IRQL",
                   "%s: FAST_MUTEX %p used at IRQL %u outside a critical region (must be APC_LEVEL "
                   "or inside KeEnterCriticalRegion)",
                   routine, (void *)FastMutex, (unsigned)self->irql);
    }
}

VOID ExAcquireFastMutexUnsafe(PFAST_MUTEX FastMutex)
{
    const char *routine = "ExAcquireFastMutexUnsafe";
    struct _KTHREAD *self = kshim_current_thread();
    require_unsafe_context(self, FastMutex, routine);
    check_not_recursive(self, FastMutex, routine);
    take(self, FastMutex, false, routine);
}

VOID ExReleaseFastMutexUnsafe(PFAST_MUTEX FastMutex)
{
    const char *routine = "ExReleaseFastMutexUnsafe";
    struct _KTHREAD *self = kshim_current_thread();
    require_unsafe_context(self, FastMutex, routine);
    give_back(self, FastMutex, routine);
    kshim_sched_yield_point();
}
