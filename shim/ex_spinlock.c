/* SPDX-License-Identifier: MIT */
/*
 * ex_spinlock.c - EX_SPIN_LOCK, the executive reader/writer spin lock.
 *
 * The lock word is 0 when free, the number of shared holders, or EXCLUSIVE when held
 * exclusive; it is only accessed with __atomic operations. Each thread records its holds
 * (one record per shared acquire) for the mode, recursion and exit checks. A contended
 * acquirer backs off through the dispatcher seam.
 */
#include "kshim_internal.h"

#define EXCLUSIVE ((LONG)0x80000000)

static kshim_held_lock_t *held_in_mode(struct _KTHREAD *self, PEX_SPIN_LOCK lock, kshim_lock_kind_t *kind)
{
    kshim_held_lock_t *h = kshim_held_find(self, (const void *)lock);
    if (h != NULL && kind != NULL) {
        *kind = h->kind;
    }
    return h;
}

static void require_irql(struct _KTHREAD *self, PEX_SPIN_LOCK lock, const char *routine, bool at_dpc)
{
    bool ok = at_dpc ? self->irql == DISPATCH_LEVEL : self->irql <= DISPATCH_LEVEL;
    if (!ok) {
        kshim_stop("SPIN_LOCK_WRONG_IRQL", "%s: EX_SPIN_LOCK %p at IRQL %u (%s)", routine,
                   (void *)lock, (unsigned)self->irql,
                   at_dpc ? "must be DISPATCH_LEVEL" : "must be <= DISPATCH_LEVEL");
    }
}

/* One attempt: a shared take needs no exclusive holder, an exclusive take a free word. */
static bool try_take(PEX_SPIN_LOCK lock, bool exclusive)
{
    LONG seen = __atomic_load_n(lock, __ATOMIC_RELAXED);
    if (exclusive ? seen != 0 : seen == EXCLUSIVE) {
        return false;
    }
    LONG next = exclusive ? EXCLUSIVE : seen + 1;
    return __atomic_compare_exchange_n(lock, &seen, next, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
}

static void acquire(struct _KTHREAD *self, PEX_SPIN_LOCK lock, bool exclusive, KIRQL irql_at_acquire,
                    const char *routine)
{
    kshim_lock_kind_t kind;
    if (exclusive && held_in_mode(self, lock, &kind) != NULL) {
        kshim_stop("EX_SPIN_LOCK_RECURSIVE_ACQUIRE",
                   "%s: thread '%s' already holds EX_SPIN_LOCK %p (%s): an exclusive acquire "
                   "would deadlock",
                   routine, self->name, (void *)lock, kshim_lock_kind_name(kind));
    }
    kshim_sched_yield_point();
    while (!try_take(lock, exclusive)) {
        kshim_dispatcher_set_wait_reason(routine, (const void *)lock);
        kshim_dispatcher_spin_wait();
    }
    kshim_held_push(self, (const void *)lock,
                    exclusive ? KSHIM_LOCK_EX_SPIN_EXCLUSIVE : KSHIM_LOCK_EX_SPIN_SHARED,
                    irql_at_acquire, routine);
}

static void release(struct _KTHREAD *self, PEX_SPIN_LOCK lock, bool exclusive, const char *routine)
{
    kshim_lock_kind_t kind;
    if (held_in_mode(self, lock, &kind) == NULL) {
        kshim_stop("EX_SPIN_LOCK_NOT_HELD", "%s: thread '%s' does not hold EX_SPIN_LOCK %p", routine,
                   self->name, (void *)lock);
    }
    kshim_lock_kind_t want = exclusive ? KSHIM_LOCK_EX_SPIN_EXCLUSIVE : KSHIM_LOCK_EX_SPIN_SHARED;
    if (kind != want) {
        kshim_stop("EX_SPIN_LOCK_WRONG_MODE", "%s: EX_SPIN_LOCK %p is held %s by thread '%s'",
                   routine, (void *)lock, exclusive ? "shared" : "exclusive", self->name);
    }
    kshim_held_remove(self, (const void *)lock);
    if (exclusive) {
        __atomic_store_n(lock, 0, __ATOMIC_SEQ_CST);
    } else {
        __atomic_fetch_sub(lock, 1, __ATOMIC_SEQ_CST);
    }
    kshim_sched_yield_point();
}

static KIRQL raise_to_dispatch(struct _KTHREAD *self)
{
    KIRQL old = self->irql;
    kshim_set_irql(self, DISPATCH_LEVEL);
    return old;
}

KIRQL ExAcquireSpinLockShared(PEX_SPIN_LOCK SpinLock)
{
    struct _KTHREAD *self = kshim_current_thread();
    require_irql(self, SpinLock, "ExAcquireSpinLockShared", false);
    KIRQL old = self->irql;
    acquire(self, SpinLock, false, old, "ExAcquireSpinLockShared");
    raise_to_dispatch(self);
    return old;
}

KIRQL ExAcquireSpinLockExclusive(PEX_SPIN_LOCK SpinLock)
{
    struct _KTHREAD *self = kshim_current_thread();
    require_irql(self, SpinLock, "ExAcquireSpinLockExclusive", false);
    KIRQL old = self->irql;
    acquire(self, SpinLock, true, old, "ExAcquireSpinLockExclusive");
    raise_to_dispatch(self);
    return old;
}

VOID ExReleaseSpinLockShared(PEX_SPIN_LOCK SpinLock, KIRQL OldIrql)
{
    struct _KTHREAD *self = kshim_current_thread();
    require_irql(self, SpinLock, "ExReleaseSpinLockShared", true);
    release(self, SpinLock, false, "ExReleaseSpinLockShared");
    kshim_lower_irql_checked(self, OldIrql, "ExReleaseSpinLockShared");
}

VOID ExReleaseSpinLockExclusive(PEX_SPIN_LOCK SpinLock, KIRQL OldIrql)
{
    struct _KTHREAD *self = kshim_current_thread();
    require_irql(self, SpinLock, "ExReleaseSpinLockExclusive", true);
    release(self, SpinLock, true, "ExReleaseSpinLockExclusive");
    kshim_lower_irql_checked(self, OldIrql, "ExReleaseSpinLockExclusive");
}

VOID ExAcquireSpinLockSharedAtDpcLevel(PEX_SPIN_LOCK SpinLock)
{
    struct _KTHREAD *self = kshim_current_thread();
    require_irql(self, SpinLock, "ExAcquireSpinLockSharedAtDpcLevel", true);
    acquire(self, SpinLock, false, self->irql, "ExAcquireSpinLockSharedAtDpcLevel");
}

VOID ExAcquireSpinLockExclusiveAtDpcLevel(PEX_SPIN_LOCK SpinLock)
{
    struct _KTHREAD *self = kshim_current_thread();
    require_irql(self, SpinLock, "ExAcquireSpinLockExclusiveAtDpcLevel", true);
    acquire(self, SpinLock, true, self->irql, "ExAcquireSpinLockExclusiveAtDpcLevel");
}

VOID ExReleaseSpinLockSharedFromDpcLevel(PEX_SPIN_LOCK SpinLock)
{
    struct _KTHREAD *self = kshim_current_thread();
    require_irql(self, SpinLock, "ExReleaseSpinLockSharedFromDpcLevel", true);
    release(self, SpinLock, false, "ExReleaseSpinLockSharedFromDpcLevel");
}

VOID ExReleaseSpinLockExclusiveFromDpcLevel(PEX_SPIN_LOCK SpinLock)
{
    struct _KTHREAD *self = kshim_current_thread();
    require_irql(self, SpinLock, "ExReleaseSpinLockExclusiveFromDpcLevel", true);
    release(self, SpinLock, true, "ExReleaseSpinLockExclusiveFromDpcLevel");
}

LOGICAL ExTryConvertSharedSpinLockExclusive(PEX_SPIN_LOCK SpinLock)
{
    const char *routine = "ExTryConvertSharedSpinLockExclusive";
    struct _KTHREAD *self = kshim_current_thread();
    require_irql(self, SpinLock, routine, true);
    kshim_lock_kind_t kind;
    kshim_held_lock_t *h = held_in_mode(self, SpinLock, &kind);
    if (h == NULL || kind != KSHIM_LOCK_EX_SPIN_SHARED) {
        kshim_stop("EX_SPIN_LOCK_NOT_HELD", "%s: thread '%s' does not hold EX_SPIN_LOCK %p shared",
                   routine, self->name, (void *)SpinLock);
    }
    LONG one = 1;
    if (!__atomic_compare_exchange_n(SpinLock, &one, EXCLUSIVE, false, __ATOMIC_SEQ_CST,
                                     __ATOMIC_RELAXED)) {
        return FALSE;
    }
    h->kind = KSHIM_LOCK_EX_SPIN_EXCLUSIVE;
    return TRUE;
}

static LOGICAL try_at_dpc(PEX_SPIN_LOCK SpinLock, bool exclusive, const char *routine)
{
    struct _KTHREAD *self = kshim_current_thread();
    require_irql(self, SpinLock, routine, true);
    if (exclusive && held_in_mode(self, SpinLock, NULL) != NULL) {
        return FALSE;
    }
    kshim_sched_yield_point();
    if (!try_take(SpinLock, exclusive)) {
        return FALSE;
    }
    kshim_held_push(self, (const void *)SpinLock,
                    exclusive ? KSHIM_LOCK_EX_SPIN_EXCLUSIVE : KSHIM_LOCK_EX_SPIN_SHARED, self->irql,
                    routine);
    return TRUE;
}

LOGICAL ExTryAcquireSpinLockSharedAtDpcLevel(PEX_SPIN_LOCK SpinLock)
{
    return try_at_dpc(SpinLock, false, "ExTryAcquireSpinLockSharedAtDpcLevel");
}

LOGICAL ExTryAcquireSpinLockExclusiveAtDpcLevel(PEX_SPIN_LOCK SpinLock)
{
    return try_at_dpc(SpinLock, true, "ExTryAcquireSpinLockExclusiveAtDpcLevel");
}
