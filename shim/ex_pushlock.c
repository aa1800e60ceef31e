/* SPDX-License-Identifier: MIT */
/*
 * ex_pushlock.c - EX_PUSH_LOCK (reader/writer lock in one pointer-sized word).
 *
 * Lock word: bit 0 = held exclusive; Value >> 1 = number of shared holders. The word is
 * read and written only under the dispatcher lock; contention blocks through the
 * dispatcher seam. Each thread records which push locks it holds and how.
 */
#include "kshim_internal.h"

#define EXCLUSIVE_BIT ((ULONG_PTR)1)
#define SHARED_ONE ((ULONG_PTR)2)

static struct _KTHREAD *check_acquire(PEX_PUSH_LOCK PushLock, const char *routine)
{
    struct _KTHREAD *self = kshim_current_thread();
    kshim_require_irql_at_most(routine, APC_LEVEL);
    if (self->irql < APC_LEVEL && self->critical_region_depth == 0) {
        kshim_stop("PUSH_LOCK_WITHOUT_CRITICAL_REGION",
                   "%s: push lock %p acquired at IRQL %u by thread '%s' outside "
                   "KeEnterCriticalRegion",
                   routine, (void *)PushLock, (unsigned)self->irql, self->name);
    }
    const kshim_held_lock_t *h = kshim_held_find(self, PushLock);
    if (h) {
        kshim_stop("PUSH_LOCK_RECURSIVE_ACQUIRE", "%s: push lock %p already held by thread '%s' as %s (by %s)",
                   routine, (void *)PushLock, self->name, kshim_lock_kind_name(h->kind), h->routine);
    }
    return self;
}

static void check_release(struct _KTHREAD *self, PEX_PUSH_LOCK PushLock, kshim_lock_kind_t kind,
                          const char *routine)
{
    const kshim_held_lock_t *h = kshim_held_find(self, PushLock);
    if (h == NULL) {
        kshim_stop("PUSH_LOCK_NOT_HELD", "%s: push lock %p is not held by thread '%s'", routine,
                   (void *)PushLock, self->name);
    }
    if (h->kind != kind) {
        kshim_stop("PUSH_LOCK_NOT_HELD", "%s: push lock %p is held by thread '%s' as %s, not as %s",
                   routine, (void *)PushLock, self->name, kshim_lock_kind_name(h->kind),
                   kshim_lock_kind_name(kind));
    }
}

VOID ExInitializePushLock(PEX_PUSH_LOCK PushLock)
{
    PushLock->Value = 0;
}

static bool try_exclusive_locked(PEX_PUSH_LOCK PushLock)
{
    if (PushLock->Value != 0) {
        return false;
    }
    PushLock->Value = EXCLUSIVE_BIT;
    return true;
}

static bool try_shared_locked(PEX_PUSH_LOCK PushLock)
{
    if (PushLock->Value & EXCLUSIVE_BIT) {
        return false;
    }
    PushLock->Value += SHARED_ONE;
    return true;
}

VOID ExAcquirePushLockExclusiveEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    (void)Flags;
    const char *routine = "ExAcquirePushLockExclusive";
    struct _KTHREAD *self = check_acquire(PushLock, routine);
    KIRQL irql = self->irql;
    kshim_sched_yield_point();
    kshim_dispatcher_lock();
    while (!try_exclusive_locked(PushLock)) {
        kshim_dispatcher_set_wait_reason(routine, PushLock);
        kshim_dispatcher_block(NULL);
    }
    kshim_dispatcher_unlock();
    kshim_held_push(self, PushLock, KSHIM_LOCK_PUSH_EXCLUSIVE, irql, routine);
}

VOID ExAcquirePushLockSharedEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    (void)Flags;
    const char *routine = "ExAcquirePushLockShared";
    struct _KTHREAD *self = check_acquire(PushLock, routine);
    KIRQL irql = self->irql;
    kshim_sched_yield_point();
    kshim_dispatcher_lock();
    while (!try_shared_locked(PushLock)) {
        kshim_dispatcher_set_wait_reason(routine, PushLock);
        kshim_dispatcher_block(NULL);
    }
    kshim_dispatcher_unlock();
    kshim_held_push(self, PushLock, KSHIM_LOCK_PUSH_SHARED, irql, routine);
}

BOOLEAN ExTryAcquirePushLockExclusiveEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    (void)Flags;
    const char *routine = "ExTryAcquirePushLockExclusive";
    struct _KTHREAD *self = check_acquire(PushLock, routine);
    kshim_dispatcher_lock();
    bool acquired = try_exclusive_locked(PushLock);
    kshim_dispatcher_unlock();
    if (acquired) {
        kshim_held_push(self, PushLock, KSHIM_LOCK_PUSH_EXCLUSIVE, self->irql, routine);
    }
    return (BOOLEAN)acquired;
}

BOOLEAN ExTryAcquirePushLockSharedEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    (void)Flags;
    const char *routine = "ExTryAcquirePushLockShared";
    struct _KTHREAD *self = check_acquire(PushLock, routine);
    kshim_dispatcher_lock();
    bool acquired = try_shared_locked(PushLock);
    kshim_dispatcher_unlock();
    if (acquired) {
        kshim_held_push(self, PushLock, KSHIM_LOCK_PUSH_SHARED, self->irql, routine);
    }
    return (BOOLEAN)acquired;
}

VOID ExReleasePushLockExclusiveEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    (void)Flags;
    const char *routine = "ExReleasePushLockExclusive";
    struct _KTHREAD *self = kshim_current_thread();
    kshim_require_irql_at_most(routine, APC_LEVEL);
    check_release(self, PushLock, KSHIM_LOCK_PUSH_EXCLUSIVE, routine);
    kshim_held_remove(self, PushLock);
    kshim_dispatcher_lock();
    PushLock->Value = 0;
    kshim_dispatcher_wake_all();
    kshim_dispatcher_unlock();
}

VOID ExReleasePushLockSharedEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    (void)Flags;
    const char *routine = "ExReleasePushLockShared";
    struct _KTHREAD *self = kshim_current_thread();
    kshim_require_irql_at_most(routine, APC_LEVEL);
    check_release(self, PushLock, KSHIM_LOCK_PUSH_SHARED, routine);
    kshim_held_remove(self, PushLock);
    kshim_dispatcher_lock();
    PushLock->Value -= SHARED_ONE;
    if (PushLock->Value == 0) {
        kshim_dispatcher_wake_all();
    }
    kshim_dispatcher_unlock();
}
