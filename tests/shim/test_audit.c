/* SPDX-License-Identifier: MIT */
/*
 * test_audit.c - kshim_audit: passes at baseline, stops (AUDIT_FAILED) naming each problem.
 */
#include <string.h>

#include <kshim/kshim.h>
#include <ntddk.h>

#include "nmr_test.h"

#define TAG KSHIM_POOL_TAG('A', 'u', 'd', 't')

NMR_TEST(audit_passes_at_baseline)
{
    size_t base = kshim_pool_live_count();
    void *p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, TAG);
    ExFreePoolWithTag(p, TAG);
    kshim_audit(base);
    kshim_audit((size_t)-1);
}

NMR_TEST(audit_with_a_leaked_allocation_stops)
{
    EXPECT_STOP("*** KSHIM STOP AUDIT_FAILED: 1 problem(s); first: 1 live pool allocation(s), expected 0", {
        ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, TAG);
        kshim_audit(0);
    });
    CHECK(strstr(nmr_test_last_child_output(), "tag 'Audt' size 8 at test_audit.c:") != NULL);
}

NMR_TEST(audit_without_pool_baseline_ignores_live_allocations)
{
    void *p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, TAG);
    kshim_audit((size_t)-1);
    ExFreePoolWithTag(p, TAG);
}

NMR_TEST(audit_at_raised_irql_stops)
{
    EXPECT_STOP("*** KSHIM STOP AUDIT_FAILED: 1 problem(s); first: thread 'main' is at IRQL 2", {
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        kshim_audit((size_t)-1);
    });
}

NMR_TEST(audit_holding_a_spin_lock_stops)
{
    EXPECT_STOP("*** KSHIM STOP AUDIT_FAILED:", {
        KSPIN_LOCK lock;
        KIRQL old;
        KeInitializeSpinLock(&lock);
        KeAcquireSpinLock(&lock, &old);
        KeLowerIrql(old);
        kshim_audit((size_t)-1);
    });
    CHECK(strstr(nmr_test_last_child_output(), "holds spin lock") != NULL);
}

NMR_TEST(audit_inside_a_critical_region_stops)
{
    EXPECT_STOP("*** KSHIM STOP AUDIT_FAILED: 1 problem(s); first: thread 'main' is inside 1 critical region", {
        KeEnterCriticalRegion();
        kshim_audit((size_t)-1);
    });
}

static VOID nothing(PDEVICE_OBJECT device, PVOID context)
{
    (void)device;
    (void)context;
}

NMR_TEST(audit_with_pending_work_stops)
{
    EXPECT_STOP("*** KSHIM STOP AUDIT_FAILED: 1 problem(s); first: 1 work item(s)", {
        PIO_WORKITEM item = IoAllocateWorkItem(NULL);
        kshim_work_hold(true);
        IoQueueWorkItem(item, nothing, DelayedWorkQueue, NULL);
        kshim_audit((size_t)-1);
    });
}
