/* SPDX-License-Identifier: MIT */
/*
 * ke_spinlock.c - KSPIN_LOCK and in-stack queued spin locks.
 *
 * The lock word holds 0 when free and the owner's KTHREAD address when held; it is only
 * accessed through the lock_word_* helpers below. A contended acquirer backs off through the
 * dispatcher seam (kshim_dispatcher_spin_wait).
 * Each thread also records the locks it holds (for double-acquire reports, exit checks and
 * kshim_audit).
 */
#include "kshim_internal.h"

/* With real threads the lock word is only accessed with __atomic operations (ThreadSanitizer
   sees acquire/release). With the fiber scheduler (KSHIM_ONE_OS_THREAD) every simulated thread
   is a fiber of one OS thread and switches only inside a call (a yield point, a spin wait), so
   plain loads and stores see exactly what the atomics would, without a locked instruction on
   every acquire. */
#ifdef KSHIM_ONE_OS_THREAD
KSHIM_HOT ULONG_PTR lock_word_read(PKSPIN_LOCK SpinLock)
{
    return *SpinLock;
}

KSHIM_HOT bool lock_word_take(PKSPIN_LOCK SpinLock, ULONG_PTR me)
{
    if (*SpinLock != 0) {
        return false;
    }
    *SpinLock = me;
    return true;
}

KSHIM_HOT void lock_word_clear(PKSPIN_LOCK SpinLock)
{
    *SpinLock = 0;
}
#else
KSHIM_HOT ULONG_PTR lock_word_read(PKSPIN_LOCK SpinLock)
{
    return __atomic_load_n(SpinLock, __ATOMIC_RELAXED);
}

KSHIM_HOT bool lock_word_take(PKSPIN_LOCK SpinLock, ULONG_PTR me)
{
    ULONG_PTR expected = 0;
    return __atomic_compare_exchange_n(SpinLock, &expected, me, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_RELAXED);
}

KSHIM_HOT void lock_word_clear(PKSPIN_LOCK SpinLock)
{
    __atomic_store_n(SpinLock, (ULONG_PTR)0, __ATOMIC_SEQ_CST);
}
#endif

static __attribute__((noinline, noreturn)) void stop_double_acquire(struct _KTHREAD *self,
                                                                    PKSPIN_LOCK SpinLock,
                                                                    const char *routine)
{
    const kshim_held_lock_t *h = kshim_held_find(self, SpinLock);
    kshim_stop("SPIN_LOCK_DOUBLE_ACQUIRE",
               "%s: spin lock %p already held by this thread '%s' (acquired by %s at IRQL %u)",
               routine, (void *)SpinLock, self->name, h ? h->routine : "?",
               h ? (unsigned)h->irql_at_acquire : 0u);
}

static __attribute__((noinline, noreturn)) void stop_not_held(struct _KTHREAD *self,
                                                              PKSPIN_LOCK SpinLock, ULONG_PTR owner,
                                                              const char *routine)
{
    if (owner == 0) {
        kshim_stop("SPIN_LOCK_NOT_HELD", "%s: spin lock %p is not held (thread '%s')", routine,
                   (void *)SpinLock, self->name);
    }
    kshim_stop("SPIN_LOCK_NOT_HELD", "%s: spin lock %p is held by another thread, not by '%s'",
               routine, (void *)SpinLock, self->name);
}

static __attribute__((noinline, noreturn)) void stop_wrong_irql(struct _KTHREAD *self,
                                                                const void *lock,
                                                                const char *routine,
                                                                const char *use,
                                                                const char *rule)
{
    kshim_stop("SPIN_LOCK_WRONG_IRQL", "%s: spin lock %p %s at IRQL %u (%s)", routine, lock, use,
               (unsigned)self->irql, rule);
}

KSHIM_HOT void spin_acquire(struct _KTHREAD *self, PKSPIN_LOCK SpinLock, KIRQL irql_at_acquire,
                            const char *routine)
{
    ULONG_PTR me = (ULONG_PTR)self;
    if (__builtin_expect(lock_word_read(SpinLock) == me, 0)) {
        stop_double_acquire(self, SpinLock, routine);
    }
    kshim_sched_yield_point();
    for (;;) {
        if (lock_word_take(SpinLock, me)) {
            break;
        }
        kshim_dispatcher_set_wait_reason(routine, SpinLock);
        kshim_dispatcher_spin_wait();
    }
    kshim_held_push(self, SpinLock, KSHIM_LOCK_SPIN, irql_at_acquire, routine);
}

KSHIM_HOT void spin_release(struct _KTHREAD *self, PKSPIN_LOCK SpinLock, const char *routine)
{
    ULONG_PTR me = (ULONG_PTR)self;
    ULONG_PTR owner = lock_word_read(SpinLock);
    if (__builtin_expect(owner != me, 0)) {
        stop_not_held(self, SpinLock, owner, routine);
    }
    kshim_held_remove(self, SpinLock);
    lock_word_clear(SpinLock);
    kshim_sched_yield_point();
}

KSHIM_HOT void require_at_most_dispatch(struct _KTHREAD *self, const void *lock, const char *routine)
{
    if (__builtin_expect(kshim_own_irql(self) > DISPATCH_LEVEL, 0)) {
        stop_wrong_irql(self, lock, routine, "acquired", "> DISPATCH_LEVEL");
    }
}

KSHIM_HOT void require_at_least_dispatch(struct _KTHREAD *self, const void *lock, const char *routine)
{
    if (__builtin_expect(kshim_own_irql(self) < DISPATCH_LEVEL, 0)) {
        stop_wrong_irql(self, lock, routine, "used", "< DISPATCH_LEVEL");
    }
}

KSHIM_HOT void require_dispatch(struct _KTHREAD *self, const void *lock, const char *routine)
{
    if (__builtin_expect(kshim_own_irql(self) != DISPATCH_LEVEL, 0)) {
        stop_wrong_irql(self, lock, routine, "released", "must be DISPATCH_LEVEL");
    }
}

VOID KeInitializeSpinLock(PKSPIN_LOCK SpinLock)
{
    __atomic_store_n(SpinLock, (ULONG_PTR)0, __ATOMIC_SEQ_CST);
}

BOOLEAN KeTestSpinLock(PKSPIN_LOCK SpinLock)
{
    return (BOOLEAN)(__atomic_load_n(SpinLock, __ATOMIC_SEQ_CST) == 0);
}

KIRQL KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock)
{
    struct _KTHREAD *self = kshim_current_thread();
    require_at_most_dispatch(self, SpinLock, "KeAcquireSpinLock");
    KIRQL old = kshim_own_irql(self);
    spin_acquire(self, SpinLock, old, "KeAcquireSpinLock");
    kshim_set_irql(self, DISPATCH_LEVEL);
    return old;
}

VOID KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql)
{
    struct _KTHREAD *self = kshim_current_thread();
    require_dispatch(self, SpinLock, "KeReleaseSpinLock");
    spin_release(self, SpinLock, "KeReleaseSpinLock");
    kshim_lower_irql_checked(self, NewIrql, "KeReleaseSpinLock");
}

VOID KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    struct _KTHREAD *self = kshim_current_thread();
    require_at_least_dispatch(self, SpinLock, "KeAcquireSpinLockAtDpcLevel");
    spin_acquire(self, SpinLock, kshim_own_irql(self), "KeAcquireSpinLockAtDpcLevel");
}

VOID KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock)
{
    struct _KTHREAD *self = kshim_current_thread();
    require_at_least_dispatch(self, SpinLock, "KeReleaseSpinLockFromDpcLevel");
    spin_release(self, SpinLock, "KeReleaseSpinLockFromDpcLevel");
}

BOOLEAN KeTryToAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    struct _KTHREAD *self = kshim_current_thread();
    const char *routine = "KeTryToAcquireSpinLockAtDpcLevel";
    require_at_least_dispatch(self, SpinLock, routine);
    ULONG_PTR me = (ULONG_PTR)self;
    if (lock_word_read(SpinLock) == me) {
        kshim_stop("SPIN_LOCK_DOUBLE_ACQUIRE", "%s: spin lock %p already held by this thread '%s'",
                   routine, (void *)SpinLock, self->name);
    }
    if (!lock_word_take(SpinLock, me)) {
        return FALSE;
    }
    kshim_held_push(self, SpinLock, KSHIM_LOCK_SPIN, self->irql, routine);
    return TRUE;
}

VOID KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle)
{
    struct _KTHREAD *self = kshim_current_thread();
    require_at_most_dispatch(self, SpinLock, "KeAcquireInStackQueuedSpinLock");
    KIRQL old = kshim_own_irql(self);
    spin_acquire(self, SpinLock, old, "KeAcquireInStackQueuedSpinLock");
    kshim_set_irql(self, DISPATCH_LEVEL);
    LockHandle->LockQueue.Next = NULL;
    LockHandle->LockQueue.Lock = SpinLock;
    LockHandle->OldIrql = old;
}

static PKSPIN_LOCK handle_lock(struct _KTHREAD *self, PKLOCK_QUEUE_HANDLE LockHandle,
                               const char *routine)
{
    PKSPIN_LOCK lock = LockHandle->LockQueue.Lock;
    if (lock == NULL) {
        kshim_stop("SPIN_LOCK_NOT_HELD", "%s: lock handle %p holds no spin lock (thread '%s')",
                   routine, (void *)LockHandle, self->name);
    }
    return lock;
}

VOID KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE LockHandle)
{
    struct _KTHREAD *self = kshim_current_thread();
    const char *routine = "KeReleaseInStackQueuedSpinLock";
    PKSPIN_LOCK lock = handle_lock(self, LockHandle, routine);
    require_dispatch(self, lock, routine);
    spin_release(self, lock, routine);
    LockHandle->LockQueue.Lock = NULL;
    kshim_lower_irql_checked(self, LockHandle->OldIrql, routine);
}

VOID KeAcquireInStackQueuedSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle)
{
    struct _KTHREAD *self = kshim_current_thread();
    const char *routine = "KeAcquireInStackQueuedSpinLockAtDpcLevel";
    require_at_least_dispatch(self, SpinLock, routine);
    spin_acquire(self, SpinLock, kshim_own_irql(self), routine);
    LockHandle->LockQueue.Next = NULL;
    LockHandle->LockQueue.Lock = SpinLock;
    LockHandle->OldIrql = self->irql;
}

VOID KeReleaseInStackQueuedSpinLockFromDpcLevel(PKLOCK_QUEUE_HANDLE LockHandle)
{
    struct _KTHREAD *self = kshim_current_thread();
    const char *routine = "KeReleaseInStackQueuedSpinLockFromDpcLevel";
    PKSPIN_LOCK lock = handle_lock(self, LockHandle, routine);
    require_at_least_dispatch(self, lock, routine);
    spin_release(self, lock, routine);
    LockHandle->LockQueue.Lock = NULL;
}
