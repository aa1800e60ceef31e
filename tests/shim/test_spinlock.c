/* SPDX-License-Identifier: MIT */
/*
 * test_spinlock.c - KSPIN_LOCK and in-stack queued spin locks: IRQL effects and stops.
 */
#include <string.h>

#include <kshim/kshim.h>
#include <ntddk.h>

#include "nmr_test.h"

NMR_TEST(spin_lock_acquire_raises_to_dispatch_and_release_restores)
{
    KSPIN_LOCK lock;
    KIRQL old;
    KeInitializeSpinLock(&lock);
    CHECK(KeTestSpinLock(&lock));
    KeAcquireSpinLock(&lock, &old);
    CHECK_EQ(old, PASSIVE_LEVEL);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK(!KeTestSpinLock(&lock));
    KeReleaseSpinLock(&lock, old);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(KeTestSpinLock(&lock));
}

NMR_TEST(spin_lock_acquired_twice_stops)
{
    EXPECT_STOP("*** KSHIM STOP SPIN_LOCK_DOUBLE_ACQUIRE: KeAcquireSpinLock: spin lock", {
        KSPIN_LOCK lock;
        KIRQL old, old2;
        KeInitializeSpinLock(&lock);
        KeAcquireSpinLock(&lock, &old);
        KeAcquireSpinLock(&lock, &old2);
    });
    CHECK(strstr(nmr_test_last_child_output(), "acquired by KeAcquireSpinLock at IRQL 0") != NULL);
}

NMR_TEST(spin_lock_acquired_twice_at_dpc_level_stops)
{
    EXPECT_STOP("*** KSHIM STOP SPIN_LOCK_DOUBLE_ACQUIRE:", {
        KSPIN_LOCK lock;
        KIRQL old;
        KeInitializeSpinLock(&lock);
        KeAcquireSpinLock(&lock, &old);
        KeAcquireSpinLockAtDpcLevel(&lock);
    });
}

NMR_TEST(spin_lock_released_without_being_held_stops)
{
    EXPECT_STOP("*** KSHIM STOP SPIN_LOCK_NOT_HELD: KeReleaseSpinLock", {
        KSPIN_LOCK lock;
        KIRQL old;
        KeInitializeSpinLock(&lock);
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        KeReleaseSpinLock(&lock, old);
    });
}

NMR_TEST(spin_lock_released_at_passive_level_stops)
{
    EXPECT_STOP("*** KSHIM STOP SPIN_LOCK_WRONG_IRQL: KeReleaseSpinLock", {
        KSPIN_LOCK lock;
        KIRQL old;
        KeInitializeSpinLock(&lock);
        KeAcquireSpinLock(&lock, &old);
        KeLowerIrql(PASSIVE_LEVEL);
        KeReleaseSpinLock(&lock, old);
    });
}

NMR_TEST(spin_lock_acquired_above_dispatch_level_stops)
{
    EXPECT_STOP("*** KSHIM STOP SPIN_LOCK_WRONG_IRQL: KeAcquireSpinLock", {
        KSPIN_LOCK lock;
        KIRQL old;
        KeInitializeSpinLock(&lock);
        KeRaiseIrql(HIGH_LEVEL, &old);
        KeAcquireSpinLock(&lock, &old);
    });
}

NMR_TEST(spin_lock_acquired_at_dpc_level_form_below_dispatch_stops)
{
    EXPECT_STOP("*** KSHIM STOP SPIN_LOCK_WRONG_IRQL: KeAcquireSpinLockAtDpcLevel", {
        KSPIN_LOCK lock;
        KeInitializeSpinLock(&lock);
        KeAcquireSpinLockAtDpcLevel(&lock);
    });
}

NMR_TEST(spin_lock_at_dpc_level_forms_keep_the_irql)
{
    KSPIN_LOCK lock;
    KIRQL old;
    KeInitializeSpinLock(&lock);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeAcquireSpinLockAtDpcLevel(&lock);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeReleaseSpinLockFromDpcLevel(&lock);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(old);
}

NMR_TEST(try_to_acquire_a_free_spin_lock_succeeds)
{
    KSPIN_LOCK lock;
    KIRQL old;
    KeInitializeSpinLock(&lock);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    CHECK(KeTryToAcquireSpinLockAtDpcLevel(&lock));
    KeReleaseSpinLockFromDpcLevel(&lock);
    KeLowerIrql(old);
}

NMR_TEST(queued_spin_lock_raises_and_restores_through_the_handle)
{
    KSPIN_LOCK lock;
    KLOCK_QUEUE_HANDLE handle;
    KeInitializeSpinLock(&lock);
    KeAcquireInStackQueuedSpinLock(&lock, &handle);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_EQ(handle.OldIrql, PASSIVE_LEVEL);
    CHECK(!KeTestSpinLock(&lock));
    KeReleaseInStackQueuedSpinLock(&handle);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(KeTestSpinLock(&lock));
}

NMR_TEST(queued_spin_lock_released_twice_stops)
{
    EXPECT_STOP("*** KSHIM STOP SPIN_LOCK_NOT_HELD: KeReleaseInStackQueuedSpinLock", {
        KSPIN_LOCK lock;
        KLOCK_QUEUE_HANDLE handle;
        KIRQL old;
        KeInitializeSpinLock(&lock);
        KeAcquireInStackQueuedSpinLock(&lock, &handle);
        KeReleaseInStackQueuedSpinLock(&handle);
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        KeReleaseInStackQueuedSpinLock(&handle);
    });
}

NMR_TEST(queued_spin_lock_acquired_over_a_held_spin_lock_stops)
{
    EXPECT_STOP("*** KSHIM STOP SPIN_LOCK_DOUBLE_ACQUIRE: KeAcquireInStackQueuedSpinLockAtDpcLevel", {
        KSPIN_LOCK lock;
        KLOCK_QUEUE_HANDLE handle;
        KIRQL old;
        KeInitializeSpinLock(&lock);
        KeAcquireSpinLock(&lock, &old);
        KeAcquireInStackQueuedSpinLockAtDpcLevel(&lock, &handle);
    });
}

NMR_TEST(two_spin_locks_nest_and_release_in_any_order)
{
    KSPIN_LOCK a, b;
    KIRQL old_a, old_b;
    KeInitializeSpinLock(&a);
    KeInitializeSpinLock(&b);
    KeAcquireSpinLock(&a, &old_a);
    KeAcquireSpinLock(&b, &old_b);
    CHECK_EQ(old_b, DISPATCH_LEVEL);
    KeReleaseSpinLockFromDpcLevel(&a);
    KeReleaseSpinLock(&b, old_a);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    kshim_audit((size_t)-1);
}
