/* SPDX-License-Identifier: MIT */
/*
 * ex_rundown.c - EX_RUNDOWN_REF run-down protection.
 *
 * Count = 2 x references | rundown-active bit (bit 0), changed only with __atomic
 * operations. The waiter blocks through the dispatcher seam until Count == 1 (active, no
 * reference); the releaser that brings it there wakes it under the dispatcher lock and
 * never touches the EX_RUNDOWN_REF afterwards (the waiter may free it at once).
 */
#include "kshim_internal.h"

#define ACTIVE ((ULONG_PTR)1)
#define ONE_REF ((ULONG_PTR)2)

static volatile ULONG_PTR *count_of(PEX_RUNDOWN_REF RunRef)
{
    return (volatile ULONG_PTR *)&RunRef->Count;
}

VOID ExInitializeRundownProtection(PEX_RUNDOWN_REF RunRef)
{
    __atomic_store_n(count_of(RunRef), (ULONG_PTR)0, __ATOMIC_SEQ_CST);
}

VOID ExReInitializeRundownProtection(PEX_RUNDOWN_REF RunRef)
{
    __atomic_store_n(count_of(RunRef), (ULONG_PTR)0, __ATOMIC_SEQ_CST);
}

VOID ExRundownCompleted(PEX_RUNDOWN_REF RunRef)
{
    __atomic_store_n(count_of(RunRef), ACTIVE, __ATOMIC_SEQ_CST);
}

BOOLEAN ExAcquireRundownProtectionEx(PEX_RUNDOWN_REF RunRef, ULONG Count)
{
    kshim_require_irql_at_most("ExAcquireRundownProtection", DISPATCH_LEVEL);
    ULONG_PTR old = __atomic_load_n(count_of(RunRef), __ATOMIC_SEQ_CST);
    for (;;) {
        if (old & ACTIVE) {
            return FALSE;
        }
        if (__atomic_compare_exchange_n(count_of(RunRef), &old, old + ONE_REF * Count, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            return TRUE;
        }
    }
}

BOOLEAN ExAcquireRundownProtection(PEX_RUNDOWN_REF RunRef)
{
    return ExAcquireRundownProtectionEx(RunRef, 1);
}

VOID ExReleaseRundownProtectionEx(PEX_RUNDOWN_REF RunRef, ULONG Count)
{
    kshim_require_irql_at_most("ExReleaseRundownProtection", DISPATCH_LEVEL);
    ULONG_PTR old = __atomic_load_n(count_of(RunRef), __ATOMIC_SEQ_CST);
    ULONG_PTR new_value;
    for (;;) {
        if ((old >> 1) < Count) {
            kshim_stop("RUNDOWN_RELEASE_UNBALANCED",
                       "ExReleaseRundownProtection: rundown ref %p has %lu reference(s), releasing %lu",
                       (void *)RunRef, (unsigned long)(old >> 1), (unsigned long)Count);
        }
        new_value = old - ONE_REF * Count;
        if (__atomic_compare_exchange_n(count_of(RunRef), &old, new_value, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST)) {
            break;
        }
    }
    if (new_value == ACTIVE) {
        kshim_dispatcher_lock();
        kshim_dispatcher_wake_all();
        kshim_dispatcher_unlock();
    }
}

VOID ExReleaseRundownProtection(PEX_RUNDOWN_REF RunRef)
{
    ExReleaseRundownProtectionEx(RunRef, 1);
}

VOID ExWaitForRundownProtectionRelease(PEX_RUNDOWN_REF RunRef)
{
    kshim_require_irql_at_most("ExWaitForRundownProtectionRelease", APC_LEVEL);
    __atomic_fetch_or(count_of(RunRef), ACTIVE, __ATOMIC_SEQ_CST);
    kshim_dispatcher_lock();
    while (__atomic_load_n(count_of(RunRef), __ATOMIC_SEQ_CST) != ACTIVE) {
        kshim_dispatcher_set_wait_reason("ExWaitForRundownProtectionRelease", RunRef);
        kshim_dispatcher_block(NULL);
    }
    kshim_dispatcher_unlock();
}
