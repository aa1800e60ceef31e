/* SPDX-License-Identifier: MIT */
/*
 * test_mutex.c - KMUTEX, FAST_MUTEX (and guarded mutexes) and EX_SPIN_LOCK: what each does
 * and the stop for each contract violation.
 */
#include <string.h>

#include <kshim/kshim.h>
#include <ntddk.h>

#include "nmr_test.h"

/* ---- KMUTEX ---------------------------------------------------------------------------- */

NMR_TEST(kmutex_is_recursive_for_its_owner_and_disables_apcs_while_held)
{
    KMUTEX mutex;
    KeInitializeMutex(&mutex, 0);
    CHECK_EQ(KeReadStateMutex(&mutex), 1);
    CHECK_STATUS(KeWaitForSingleObject(&mutex, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    CHECK_STATUS(KeWaitForSingleObject(&mutex, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    CHECK_EQ(KeReadStateMutex(&mutex), -1);
    CHECK(KeAreApcsDisabled());
    CHECK_EQ(KeReleaseMutex(&mutex, FALSE), -1);
    CHECK_EQ(KeReleaseMutex(&mutex, FALSE), 0);
    CHECK(!KeAreApcsDisabled());
    kshim_audit((size_t)-1);
}

typedef struct contender {
    KMUTEX *mutex;
    FAST_MUTEX *fast;
    volatile LONG got;
} contender_t;

static void wait_for_kmutex(void *arg)
{
    contender_t *c = arg;
    LARGE_INTEGER poll = {.QuadPart = 0};
    c->got = KeWaitForSingleObject(c->mutex, Executive, KernelMode, FALSE, &poll) == STATUS_SUCCESS;
    if (c->got) {
        KeReleaseMutex(c->mutex, FALSE);
    }
}

NMR_TEST(kmutex_held_by_one_thread_is_not_available_to_another)
{
    KMUTEX mutex;
    KeInitializeMutex(&mutex, 0);
    KeWaitForSingleObject(&mutex, Executive, KernelMode, FALSE, NULL);
    contender_t c = {.mutex = &mutex};
    kshim_thread_join(kshim_thread_start("contender", wait_for_kmutex, &c));
    CHECK_EQ(c.got, 0);
    KeReleaseMutex(&mutex, FALSE);
    kshim_thread_join(kshim_thread_start("contender", wait_for_kmutex, &c));
    CHECK_EQ(c.got, 1);
}

NMR_TEST(kmutex_released_by_a_thread_that_does_not_own_it_stops)
{
    EXPECT_STOP("*** KSHIM STOP MUTEX_NOT_OWNER: KeReleaseMutex", {
        KMUTEX mutex;
        KeInitializeMutex(&mutex, 0);
        KeReleaseMutex(&mutex, FALSE);
    });
}

static void hold_kmutex_and_end(void *arg)
{
    KeWaitForSingleObject(arg, Executive, KernelMode, FALSE, NULL);
}

NMR_TEST(thread_ending_with_a_kmutex_held_stops)
{
    EXPECT_STOP("*** KSHIM STOP THREAD_EXIT_HOLDING_LOCK:", {
        static KMUTEX mutex;
        KeInitializeMutex(&mutex, 0);
        kshim_thread_join(kshim_thread_start("holder", hold_kmutex_and_end, &mutex));
    });
}

/* ---- FAST_MUTEX -------------------------------------------------------------------------- */

NMR_TEST(fast_mutex_raises_to_apc_level_and_restores_on_release)
{
    FAST_MUTEX fast;
    ExInitializeFastMutex(&fast);
    ExAcquireFastMutex(&fast);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    ExReleaseFastMutex(&fast);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(ExTryToAcquireFastMutex(&fast));
    ExReleaseFastMutex(&fast);
    KeEnterCriticalRegion();
    ExAcquireFastMutexUnsafe(&fast);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    ExReleaseFastMutexUnsafe(&fast);
    KeLeaveCriticalRegion();
    kshim_audit((size_t)-1);
}

static void try_fast(void *arg)
{
    contender_t *c = arg;
    c->got = ExTryToAcquireFastMutex(c->fast);
    if (c->got) {
        ExReleaseFastMutex(c->fast);
    }
}

NMR_TEST(fast_mutex_owned_by_one_thread_is_not_available_to_another)
{
    FAST_MUTEX fast;
    ExInitializeFastMutex(&fast);
    ExAcquireFastMutex(&fast);
    contender_t c = {.fast = &fast};
    kshim_thread_join(kshim_thread_start("contender", try_fast, &c));
    CHECK_EQ(c.got, 0);
    ExReleaseFastMutex(&fast);
    kshim_thread_join(kshim_thread_start("contender", try_fast, &c));
    CHECK_EQ(c.got, 1);
}

NMR_TEST(fast_mutex_acquired_recursively_stops)
{
    EXPECT_STOP("*** KSHIM STOP FAST_MUTEX_RECURSIVE_ACQUIRE: ExAcquireFastMutex", {
        FAST_MUTEX fast;
        ExInitializeFastMutex(&fast);
        ExAcquireFastMutex(&fast);
        ExAcquireFastMutex(&fast);
    });
}

NMR_TEST(fast_mutex_released_by_a_non_owner_stops)
{
    EXPECT_STOP("*** KSHIM STOP FAST_MUTEX_NOT_OWNER: ExReleaseFastMutex", {
        FAST_MUTEX fast;
        KIRQL old;
        ExInitializeFastMutex(&fast);
        KeRaiseIrql(APC_LEVEL, &old);
        ExReleaseFastMutex(&fast);
    });
}

NMR_TEST(fast_mutex_unsafe_outside_a_critical_region_stops)
{
    EXPECT_STOP("*** KSHIM STOP FAST_MUTEX_WRONG_IRQL: ExAcquireFastMutexUnsafe", {
        FAST_MUTEX fast;
        ExInitializeFastMutex(&fast);
        ExAcquireFastMutexUnsafe(&fast);
    });
}

NMR_TEST(fast_mutex_acquired_at_dispatch_level_stops)
{
    EXPECT_STOP("*** KSHIM STOP IRQL_TOO_HIGH: ExAcquireFastMutex", {
        FAST_MUTEX fast;
        KIRQL old;
        ExInitializeFastMutex(&fast);
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        ExAcquireFastMutex(&fast);
    });
}

/* ---- EX_SPIN_LOCK ------------------------------------------------------------------------- */

NMR_TEST(ex_spin_lock_shared_nests_and_exclusive_excludes)
{
    EX_SPIN_LOCK lock = 0;
    KIRQL a = ExAcquireSpinLockShared(&lock);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    ExAcquireSpinLockSharedAtDpcLevel(&lock);
    CHECK(!ExTryAcquireSpinLockExclusiveAtDpcLevel(&lock));
    CHECK(!ExTryConvertSharedSpinLockExclusive(&lock)); /* two shared holds */
    ExReleaseSpinLockSharedFromDpcLevel(&lock);
    CHECK(ExTryConvertSharedSpinLockExclusive(&lock));
    ExReleaseSpinLockExclusive(&lock, a);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_EQ(lock, 0);
    KIRQL b = ExAcquireSpinLockExclusive(&lock);
    ExReleaseSpinLockExclusive(&lock, b);
    kshim_audit((size_t)-1);
}

NMR_TEST(ex_spin_lock_released_in_the_wrong_mode_stops)
{
    EXPECT_STOP("*** KSHIM STOP EX_SPIN_LOCK_WRONG_MODE: ExReleaseSpinLockExclusive", {
        EX_SPIN_LOCK lock = 0;
        KIRQL old = ExAcquireSpinLockShared(&lock);
        ExReleaseSpinLockExclusive(&lock, old);
    });
}

NMR_TEST(ex_spin_lock_acquired_exclusive_while_held_stops)
{
    EXPECT_STOP("*** KSHIM STOP EX_SPIN_LOCK_RECURSIVE_ACQUIRE: ExAcquireSpinLockExclusiveAtDpcLevel", {
        EX_SPIN_LOCK lock = 0;
        ExAcquireSpinLockShared(&lock);
        ExAcquireSpinLockExclusiveAtDpcLevel(&lock);
    });
}

NMR_TEST(ex_spin_lock_released_when_not_held_stops)
{
    EXPECT_STOP("*** KSHIM STOP EX_SPIN_LOCK_NOT_HELD: ExReleaseSpinLockShared", {
        EX_SPIN_LOCK lock = 0;
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        ExReleaseSpinLockShared(&lock, old);
    });
}

NMR_TEST(ex_spin_lock_at_dpc_level_form_below_dispatch_stops)
{
    EXPECT_STOP("*** KSHIM STOP SPIN_LOCK_WRONG_IRQL: ExAcquireSpinLockSharedAtDpcLevel", {
        EX_SPIN_LOCK lock = 0;
        ExAcquireSpinLockSharedAtDpcLevel(&lock);
    });
}
