/* SPDX-License-Identifier: MIT */
/*
 * test_pushlock.c - EX_PUSH_LOCK modes and stops, EX_RUNDOWN_REF on one thread.
 */
#include <string.h>

#include <kshim/kshim.h>
#include <ntddk.h>

#include "nmr_test.h"

NMR_TEST(push_lock_exclusive_excludes_try_acquires)
{
    EX_PUSH_LOCK lock;
    ExInitializePushLock(&lock);
    KeEnterCriticalRegion();
    ExAcquirePushLockExclusive(&lock);
    CHECK(lock.Value != 0);
    ExReleasePushLockExclusive(&lock);
    CHECK_EQ(lock.Value, 0);
    CHECK(ExTryAcquirePushLockExclusive(&lock));
    ExReleasePushLockExclusive(&lock);
    KeLeaveCriticalRegion();
    kshim_audit((size_t)-1);
}

NMR_TEST(push_lock_shared_by_one_thread_blocks_exclusive_try)
{
    EX_PUSH_LOCK lock;
    ExInitializePushLock(&lock);
    KeEnterCriticalRegion();
    ExAcquirePushLockShared(&lock);
    CHECK(lock.Value != 0);
    ExReleasePushLockShared(&lock);
    CHECK_EQ(lock.Value, 0);
    CHECK(ExTryAcquirePushLockShared(&lock));
    ExReleasePushLockShared(&lock);
    KeLeaveCriticalRegion();
}

NMR_TEST(push_lock_ex_forms_take_flags)
{
    EX_PUSH_LOCK lock;
    ExInitializePushLock(&lock);
    KeEnterCriticalRegion();
    ExAcquirePushLockExclusiveEx(&lock, EX_DEFAULT_PUSH_LOCK_FLAGS);
    ExReleasePushLockExclusiveEx(&lock, EX_DEFAULT_PUSH_LOCK_FLAGS);
    ExAcquirePushLockSharedEx(&lock, EX_DEFAULT_PUSH_LOCK_FLAGS);
    ExReleasePushLockSharedEx(&lock, EX_DEFAULT_PUSH_LOCK_FLAGS);
    KeLeaveCriticalRegion();
}

NMR_TEST(push_lock_acquired_at_apc_level_needs_no_critical_region)
{
    EX_PUSH_LOCK lock;
    KIRQL old;
    ExInitializePushLock(&lock);
    KeRaiseIrql(APC_LEVEL, &old);
    ExAcquirePushLockExclusive(&lock);
    ExReleasePushLockExclusive(&lock);
    KeLowerIrql(old);
}

NMR_TEST(push_lock_acquired_exclusive_twice_stops)
{
    EXPECT_STOP("*** KSHIM STOP PUSH_LOCK_RECURSIVE_ACQUIRE: ExAcquirePushLockExclusive", {
        EX_PUSH_LOCK lock;
        ExInitializePushLock(&lock);
        KeEnterCriticalRegion();
        ExAcquirePushLockExclusive(&lock);
        ExAcquirePushLockExclusive(&lock);
    });
}

NMR_TEST(push_lock_acquired_shared_twice_stops)
{
    EXPECT_STOP("*** KSHIM STOP PUSH_LOCK_RECURSIVE_ACQUIRE: ExAcquirePushLockShared", {
        EX_PUSH_LOCK lock;
        ExInitializePushLock(&lock);
        KeEnterCriticalRegion();
        ExAcquirePushLockShared(&lock);
        ExAcquirePushLockShared(&lock);
    });
}

NMR_TEST(push_lock_released_without_being_held_stops)
{
    EXPECT_STOP("*** KSHIM STOP PUSH_LOCK_NOT_HELD: ExReleasePushLockExclusive", {
        EX_PUSH_LOCK lock;
        ExInitializePushLock(&lock);
        KeEnterCriticalRegion();
        ExReleasePushLockExclusive(&lock);
    });
}

NMR_TEST(push_lock_released_in_the_wrong_mode_stops)
{
    EXPECT_STOP("*** KSHIM STOP PUSH_LOCK_NOT_HELD: ExReleasePushLockExclusive", {
        EX_PUSH_LOCK lock;
        ExInitializePushLock(&lock);
        KeEnterCriticalRegion();
        ExAcquirePushLockShared(&lock);
        ExReleasePushLockExclusive(&lock);
    });
    CHECK(strstr(nmr_test_last_child_output(), "as push lock (shared)") != NULL);
}

NMR_TEST(push_lock_acquired_outside_a_critical_region_stops)
{
    EXPECT_STOP("*** KSHIM STOP PUSH_LOCK_WITHOUT_CRITICAL_REGION: ExAcquirePushLockShared", {
        EX_PUSH_LOCK lock;
        ExInitializePushLock(&lock);
        ExAcquirePushLockShared(&lock);
    });
}

NMR_TEST(push_lock_acquired_at_dispatch_level_stops)
{
    EXPECT_STOP("*** KSHIM STOP IRQL_TOO_HIGH: ExAcquirePushLockExclusive", {
        EX_PUSH_LOCK lock;
        KIRQL old;
        ExInitializePushLock(&lock);
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        ExAcquirePushLockExclusive(&lock);
    });
}

NMR_TEST(rundown_acquire_succeeds_until_rundown_starts)
{
    EX_RUNDOWN_REF ref;
    ExInitializeRundownProtection(&ref);
    CHECK(ExAcquireRundownProtection(&ref));
    CHECK(ExAcquireRundownProtection(&ref));
    ExReleaseRundownProtection(&ref);
    ExReleaseRundownProtection(&ref);
    ExWaitForRundownProtectionRelease(&ref);
    CHECK(!ExAcquireRundownProtection(&ref));
}

NMR_TEST(rundown_reinitialised_after_completion_can_be_acquired_again)
{
    EX_RUNDOWN_REF ref;
    ExInitializeRundownProtection(&ref);
    ExWaitForRundownProtectionRelease(&ref);
    ExRundownCompleted(&ref);
    CHECK(!ExAcquireRundownProtection(&ref));
    ExReInitializeRundownProtection(&ref);
    CHECK(ExAcquireRundownProtection(&ref));
    ExReleaseRundownProtection(&ref);
}

NMR_TEST(rundown_ex_forms_count_several_references)
{
    EX_RUNDOWN_REF ref;
    ExInitializeRundownProtection(&ref);
    CHECK(ExAcquireRundownProtectionEx(&ref, 3));
    ExReleaseRundownProtectionEx(&ref, 2);
    ExReleaseRundownProtection(&ref);
    ExWaitForRundownProtectionRelease(&ref);
}

NMR_TEST(rundown_released_more_often_than_acquired_stops)
{
    EXPECT_STOP("*** KSHIM STOP RUNDOWN_RELEASE_UNBALANCED: ExReleaseRundownProtection", {
        EX_RUNDOWN_REF ref;
        ExInitializeRundownProtection(&ref);
        CHECK(ExAcquireRundownProtection(&ref));
        ExReleaseRundownProtection(&ref);
        ExReleaseRundownProtection(&ref);
    });
}

NMR_TEST(rundown_wait_at_dispatch_level_stops)
{
    EXPECT_STOP("*** KSHIM STOP IRQL_TOO_HIGH: ExWaitForRundownProtectionRelease", {
        EX_RUNDOWN_REF ref;
        KIRQL old;
        ExInitializeRundownProtection(&ref);
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        ExWaitForRundownProtectionRelease(&ref);
    });
}

NMR_TEST(rundown_acquire_at_dispatch_level_is_allowed)
{
    EX_RUNDOWN_REF ref;
    KIRQL old;
    ExInitializeRundownProtection(&ref);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    CHECK(ExAcquireRundownProtection(&ref));
    ExReleaseRundownProtection(&ref);
    KeLowerIrql(old);
}
