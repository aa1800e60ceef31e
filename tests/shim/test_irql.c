/* SPDX-License-Identifier: MIT */
/*
 * test_irql.c - IRQL routines, PAGED_CODE and critical regions of the shim.
 */
#include <string.h>

#include <kshim/kshim.h>
#include <ntddk.h>

#include "nmr_test.h"

NMR_TEST(a_new_thread_starts_at_passive_level)
{
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

NMR_TEST(the_first_thread_is_named_main)
{
    CHECK(strcmp(kshim_thread_current_name(), "main") == 0);
}

NMR_TEST(raise_irql_returns_the_old_level_and_lower_restores_it)
{
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    CHECK_EQ(old, PASSIVE_LEVEL);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(old);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

NMR_TEST(raise_irql_to_the_same_level_is_allowed)
{
    KIRQL old, old2;
    KeRaiseIrql(APC_LEVEL, &old);
    KeRaiseIrql(APC_LEVEL, &old2);
    CHECK_EQ(old2, APC_LEVEL);
    KeLowerIrql(old);
}

NMR_TEST(raise_irql_to_dpc_level_returns_the_old_level)
{
    KIRQL old = KeRaiseIrqlToDpcLevel();
    CHECK_EQ(old, PASSIVE_LEVEL);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(old);
}

NMR_TEST(raise_irql_to_a_lower_level_stops)
{
    EXPECT_STOP("*** KSHIM STOP IRQL_RAISE_DOWNWARD:", {
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        KeRaiseIrql(APC_LEVEL, &old);
    });
}

NMR_TEST(lower_irql_to_a_higher_level_stops)
{
    EXPECT_STOP("*** KSHIM STOP IRQL_LOWER_UPWARD:", KeLowerIrql(DISPATCH_LEVEL));
}

NMR_TEST(raise_irql_above_high_level_stops)
{
    EXPECT_STOP("*** KSHIM STOP IRQL_INVALID:", {
        KIRQL old;
        KeRaiseIrql(HIGH_LEVEL + 1, &old);
    });
}

NMR_TEST(paged_code_at_dispatch_level_stops)
{
    EXPECT_STOP("*** KSHIM STOP IRQL_TOO_HIGH: PAGED_CODE", {
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        PAGED_CODE();
    });
}

NMR_TEST(paged_code_at_apc_level_is_allowed)
{
    KIRQL old;
    KeRaiseIrql(APC_LEVEL, &old);
    PAGED_CODE();
    KeLowerIrql(old);
}

NMR_TEST(critical_region_disables_apcs_until_left)
{
    CHECK(!KeAreApcsDisabled());
    KeEnterCriticalRegion();
    KeEnterCriticalRegion();
    CHECK(KeAreApcsDisabled());
    KeLeaveCriticalRegion();
    CHECK(KeAreApcsDisabled());
    KeLeaveCriticalRegion();
    CHECK(!KeAreApcsDisabled());
}

NMR_TEST(leaving_a_critical_region_never_entered_stops)
{
    EXPECT_STOP("*** KSHIM STOP CRITICAL_REGION_UNBALANCED:", KeLeaveCriticalRegion());
}

NMR_TEST(entering_a_critical_region_at_dispatch_level_stops)
{
    EXPECT_STOP("*** KSHIM STOP IRQL_TOO_HIGH: KeEnterCriticalRegion", {
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        KeEnterCriticalRegion();
    });
}

NMR_TEST(there_is_one_processor_numbered_zero)
{
    PROCESSOR_NUMBER number;
    CHECK_EQ(KeGetCurrentProcessorNumber(), 0);
    CHECK_EQ(KeGetCurrentProcessorNumberEx(&number), 0);
    CHECK_EQ(number.Group, 0);
    CHECK_EQ(number.Number, 0);
    CHECK_EQ(KeQueryActiveProcessorCount(NULL), 1);
}

NMR_TEST(current_thread_objects_are_stable_per_thread)
{
    PKTHREAD k = KeGetCurrentThread();
    PETHREAD e = PsGetCurrentThread();
    CHECK(k != NULL);
    CHECK((void *)k == (void *)e);
    CHECK(KeGetCurrentThread() == k);
    CHECK(PsGetCurrentThreadId() == PsGetThreadId(e));
    CHECK(!PsIsSystemThread(e));
}
