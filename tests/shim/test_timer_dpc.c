/* SPDX-License-Identifier: MIT */
/*
 * test_timer_dpc.c - DPCs and timers on either scheduler (real time with threads, virtual
 * time with fibers): where and at what IRQL a DPC runs, queue and remove, timer expiry,
 * periodic timers, cancel, waits on timers, owners, and the contract stops.
 */
#include <string.h>

#include <kshim/kshim.h>
#include <ntddk.h>

#include "nmr_test.h"

typedef struct dpc_probe {
    KEVENT ran;
    volatile LONG runs;
    KIRQL irql;
    PKTHREAD thread;
    PVOID argument1;
    const void *owner;
    PKDPC dpc_seen;
} dpc_probe_t;

static void probe_init(dpc_probe_t *probe)
{
    memset(probe, 0, sizeof *probe);
    KeInitializeEvent(&probe->ran, NotificationEvent, FALSE);
}

static KDEFERRED_ROUTINE probe_routine;
static VOID probe_routine(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2)
{
    UNREFERENCED_PARAMETER(SystemArgument2);
    dpc_probe_t *probe = DeferredContext;
    probe->irql = KeGetCurrentIrql();
    probe->thread = KeGetCurrentThread();
    probe->argument1 = SystemArgument1;
    probe->owner = kshim_owner_current();
    probe->dpc_seen = Dpc;
    InterlockedIncrement(&probe->runs);
    KeSetEvent(&probe->ran, IO_NO_INCREMENT, FALSE);
}

static LARGE_INTEGER relative_ms(LONGLONG ms)
{
    LARGE_INTEGER due;
    due.QuadPart = -ms * 10000;
    return due;
}

NMR_TEST(dpc_runs_once_at_dispatch_level_on_a_thread_of_its_own)
{
    // The caller's thread object exists before the DPC's thread starts, so the two objects are
    // alive at once and their addresses can be compared (an adopted thread gets its object on
    // first use, and the DPC thread's object may be freed, and its memory reused, by then).
    PKTHREAD self = KeGetCurrentThread();
    dpc_probe_t probe;
    probe_init(&probe);
    KDPC dpc;
    KeInitializeDpc(&dpc, probe_routine, &probe);
    CHECK(KeInsertQueueDpc(&dpc, (PVOID)0x1234, NULL));
    KeWaitForSingleObject(&probe.ran, Executive, KernelMode, FALSE, NULL);
    KeFlushQueuedDpcs();
    CHECK_EQ(probe.runs, 1);
    CHECK_EQ(probe.irql, DISPATCH_LEVEL);
    CHECK(probe.thread != self);
    CHECK(probe.argument1 == (PVOID)0x1234);
    CHECK(probe.dpc_seen == &dpc);
    CHECK_EQ(kshim_pending_work_count(), 0);
    kshim_audit((size_t)-1);
}

NMR_TEST(threaded_dpc_runs_at_passive_level)
{
    dpc_probe_t probe;
    probe_init(&probe);
    KDPC dpc;
    KeInitializeThreadedDpc(&dpc, probe_routine, &probe);
    CHECK(KeInsertQueueDpc(&dpc, NULL, NULL));
    KeFlushQueuedDpcs();
    CHECK_EQ(probe.runs, 1);
    CHECK_EQ(probe.irql, PASSIVE_LEVEL);
}

NMR_TEST(dpc_queued_twice_before_it_runs_runs_once_and_insert_says_so)
{
    dpc_probe_t probe;
    probe_init(&probe);
    KDPC dpc;
    KeInitializeDpc(&dpc, probe_routine, &probe);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old); /* queued from DISPATCH_LEVEL, as from an ISR's DPC */
    CHECK(KeInsertQueueDpc(&dpc, NULL, NULL));
    BOOLEAN second = KeInsertQueueDpc(&dpc, NULL, NULL);
    KeLowerIrql(old);
    KeFlushQueuedDpcs();
    /* With real threads the first may already have started (then the second queues it
       again); with fibers nothing else runs before the flush. */
    CHECK_EQ(probe.runs, second ? 2 : 1);
    if (kshim_sched_is_deterministic()) {
        CHECK(!second);
    }
}

NMR_TEST(removed_dpc_does_not_run)
{
    dpc_probe_t probe;
    probe_init(&probe);
    KDPC dpc;
    KeInitializeDpc(&dpc, probe_routine, &probe);
    kshim_work_hold(true); /* nothing to do with DPCs: shows they are not work items */
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old); /* no thread switch while at DISPATCH_LEVEL code */
    CHECK(KeInsertQueueDpc(&dpc, NULL, NULL));
    BOOLEAN removed = KeRemoveQueueDpc(&dpc);
    KeLowerIrql(old);
    kshim_work_hold(false);
    KeFlushQueuedDpcs();
    CHECK_EQ(probe.runs, removed ? 0 : 1);
    CHECK(!KeRemoveQueueDpc(&dpc));
    if (kshim_sched_is_deterministic()) {
        CHECK(removed);
    }
}

static KDEFERRED_ROUTINE free_own_dpc;
static VOID free_own_dpc(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2)
{
    UNREFERENCED_PARAMETER(DeferredContext);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);
    ExFreePoolWithTag(Dpc, 'cpDT');
}

NMR_TEST(dpc_routine_may_free_its_own_kdpc)
{
    size_t base = kshim_pool_live_count();
    PKDPC dpc = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof *dpc, 'cpDT');
    KeInitializeDpc(dpc, free_own_dpc, NULL);
    CHECK(KeInsertQueueDpc(dpc, NULL, NULL));
    KeFlushQueuedDpcs();
    kshim_audit(base);
}

NMR_TEST(dpc_belongs_to_the_owner_that_queued_it_and_runs_with_it)
{
    static const char driver[] = "driver";
    dpc_probe_t probe;
    probe_init(&probe);
    KDPC dpc;
    KeInitializeDpc(&dpc, probe_routine, &probe);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    kshim_owner_swap(driver);
    KeInsertQueueDpc(&dpc, NULL, NULL);
    kshim_owner_swap(NULL);
    size_t listed = kshim_owner_live_work(driver, NULL, NULL);
    KeLowerIrql(old);
    KeFlushQueuedDpcs();
    CHECK(probe.owner == driver);
    CHECK(listed <= 1); /* 0 only if, with real threads, it already finished */
    if (kshim_sched_is_deterministic()) {
        CHECK_EQ(listed, 1);
    }
    CHECK_EQ(kshim_owner_live_work(driver, NULL, NULL), 0);
}

NMR_TEST(flush_queued_dpcs_above_passive_level_stops)
{
    EXPECT_STOP("*** KSHIM STOP IRQL_TOO_HIGH: KeFlushQueuedDpcs", {
        KIRQL old;
        KeRaiseIrql(APC_LEVEL, &old);
        KeFlushQueuedDpcs();
    });
}

NMR_TEST(uninitialised_dpc_stops)
{
    static KDPC zeroed;
    EXPECT_STOP("*** KSHIM STOP DPC_INVALID: KeInsertQueueDpc", KeInsertQueueDpc(&zeroed, NULL, NULL));
}

static KDEFERRED_ROUTINE lowers_irql;
static VOID lowers_irql(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(DeferredContext);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);
    KeLowerIrql(PASSIVE_LEVEL);
}

NMR_TEST(dpc_returning_at_another_irql_stops)
{
    EXPECT_STOP("*** KSHIM STOP IRQL_NOT_RESTORED: DPC routine", {
        KDPC dpc;
        KeInitializeDpc(&dpc, lowers_irql, NULL);
        KeInsertQueueDpc(&dpc, NULL, NULL);
        KeFlushQueuedDpcs();
    });
}

/* ---- timers ------------------------------------------------------------------------------ */

NMR_TEST(timer_expires_signals_and_queues_its_dpc_once)
{
    dpc_probe_t probe;
    probe_init(&probe);
    KTIMER timer;
    KDPC dpc;
    KeInitializeTimer(&timer);
    KeInitializeDpc(&dpc, probe_routine, &probe);
    CHECK(!KeReadStateTimer(&timer));
    CHECK(!KeSetTimer(&timer, relative_ms(5), &dpc));
    CHECK_STATUS(KeWaitForSingleObject(&timer, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    CHECK(KeReadStateTimer(&timer));
    KeWaitForSingleObject(&probe.ran, Executive, KernelMode, FALSE, NULL);
    KeFlushQueuedDpcs();
    CHECK_EQ(probe.runs, 1);
    CHECK_EQ(probe.irql, DISPATCH_LEVEL);
    CHECK(!KeCancelTimer(&timer)); /* a one-shot timer that expired is no longer set */
}

NMR_TEST(timer_wait_times_out_before_the_due_time)
{
    KTIMER timer;
    KeInitializeTimerEx(&timer, SynchronizationTimer);
    KeSetTimer(&timer, relative_ms(10000), NULL);
    LARGE_INTEGER timeout = relative_ms(5);
    CHECK_STATUS(KeWaitForSingleObject(&timer, Executive, KernelMode, FALSE, &timeout), STATUS_TIMEOUT);
    CHECK(KeCancelTimer(&timer));
    CHECK(!KeCancelTimer(&timer));
}

NMR_TEST(synchronization_timer_wait_consumes_the_expiry)
{
    KTIMER timer;
    KeInitializeTimerEx(&timer, SynchronizationTimer);
    KeSetTimer(&timer, relative_ms(1), NULL);
    CHECK_STATUS(KeWaitForSingleObject(&timer, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    CHECK(!KeReadStateTimer(&timer));
}

NMR_TEST(set_timer_again_replaces_the_setting_and_says_it_was_set)
{
    KTIMER timer;
    KeInitializeTimer(&timer);
    CHECK(!KeSetTimer(&timer, relative_ms(10000), NULL));
    CHECK(KeSetTimer(&timer, relative_ms(1), NULL));
    KeWaitForSingleObject(&timer, Executive, KernelMode, FALSE, NULL);
    CHECK(KeReadStateTimer(&timer));
}

typedef struct periodic_context {
    KTIMER timer;
    KDPC dpc;
    KEVENT third;
    volatile LONG expiries;
} periodic_context_t;

static KDEFERRED_ROUTINE count_expiries;
static VOID count_expiries(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);
    periodic_context_t *c = DeferredContext;
    if (InterlockedIncrement(&c->expiries) == 3) {
        KeSetEvent(&c->third, IO_NO_INCREMENT, FALSE);
    }
}

NMR_TEST(periodic_timer_queues_its_dpc_every_period_until_cancelled)
{
    periodic_context_t c;
    memset(&c, 0, sizeof c);
    KeInitializeTimer(&c.timer);
    KeInitializeDpc(&c.dpc, count_expiries, &c);
    KeInitializeEvent(&c.third, NotificationEvent, FALSE);
    KeSetTimerEx(&c.timer, relative_ms(1), 2, &c.dpc);
    /* A waiter that only a periodic DPC can release is released (no false deadlock). */
    KeWaitForSingleObject(&c.third, Executive, KernelMode, FALSE, NULL);
    CHECK(KeCancelTimer(&c.timer));
    KeFlushQueuedDpcs();
    LONG after_cancel = c.expiries;
    CHECK(after_cancel >= 3);
    LARGE_INTEGER pause = relative_ms(10);
    KeDelayExecutionThread(KernelMode, FALSE, &pause);
    KeFlushQueuedDpcs();
    CHECK_EQ(c.expiries, after_cancel);
}

NMR_TEST(set_periodic_timer_is_not_pending_work)
{
    KTIMER timer;
    KeInitializeTimer(&timer);
    KeSetTimerEx(&timer, relative_ms(1000), 1000, NULL);
    CHECK_EQ(kshim_pending_work_count(), 0);
    kshim_drain_pending_work(); /* returns: a periodic timer never keeps a run alive */
    static const char driver[] = "driver";
    CHECK_EQ(kshim_owner_live_work(NULL, NULL, NULL), 1); /* the harness set it */
    CHECK_EQ(kshim_owner_live_work(driver, NULL, NULL), 0);
    CHECK(KeCancelTimer(&timer));
    CHECK_EQ(kshim_owner_live_work(NULL, NULL, NULL), 0);
}

NMR_TEST(cancelled_timer_may_be_freed_at_once)
{
    size_t base = kshim_pool_live_count();
    PKTIMER timer = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof *timer, 'miTT');
    KeInitializeTimer(timer);
    KeSetTimerEx(timer, relative_ms(1), 1, NULL);
    CHECK(KeCancelTimer(timer));
    ExFreePoolWithTag(timer, 'miTT');
    LARGE_INTEGER pause = relative_ms(5);
    KeDelayExecutionThread(KernelMode, FALSE, &pause); /* the old setting's thread ends */
    kshim_audit(base);
}

NMR_TEST(uninitialised_timer_stops)
{
    static KTIMER zeroed;
    EXPECT_STOP("*** KSHIM STOP TIMER_INVALID: KeSetTimerEx", KeSetTimer(&zeroed, relative_ms(1), NULL));
}

NMR_TEST(set_timer_above_dispatch_level_stops)
{
    EXPECT_STOP("*** KSHIM STOP IRQL_TOO_HIGH: KeSetTimerEx", {
        KTIMER timer;
        KIRQL old;
        KeInitializeTimer(&timer);
        KeRaiseIrql(HIGH_LEVEL, &old);
        KeSetTimer(&timer, relative_ms(1), NULL);
    });
}
