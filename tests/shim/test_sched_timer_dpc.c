/* SPDX-License-Identifier: MIT */
/*
 * test_sched_timer_dpc.c - timers and DPCs on the fiber scheduler (label sched): a due time
 * is reached only when no thread can run, the schedule decides when a DPC runs, the
 * KeCancelTimer race with a timer's DPC is found by a schedule and closed by
 * KeFlushQueuedDpcs, and a periodic timer neither hides a deadlock nor keeps a run alive.
 */
#include <string.h>

#include <kshim/kshim.h>
#include <ntddk.h>

#include "nmr_test.h"

static LARGE_INTEGER relative_ms(LONGLONG ms)
{
    LARGE_INTEGER due;
    due.QuadPart = -ms * 10000;
    return due;
}

static volatile LONG dpc_runs;

static KDEFERRED_ROUTINE count_run;
static VOID count_run(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(DeferredContext);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);
    InterlockedIncrement(&dpc_runs);
}

NMR_TEST(timer_due_time_is_reached_only_when_no_thread_can_run)
{
    KTIMER timer;
    KDPC dpc;
    KeInitializeTimer(&timer);
    KeInitializeDpc(&dpc, count_run, NULL);
    dpc_runs = 0;
    KeSetTimer(&timer, relative_ms(1), &dpc);
    KeStallExecutionProcessor(5000); /* virtual time passes the due time, nobody else runs */
    for (int i = 0; i < 100; i++) {
        kshim_sched_yield();
    }
    CHECK_EQ(dpc_runs, 0);
    KeWaitForSingleObject(&timer, Executive, KernelMode, FALSE, NULL); /* now nobody can run */
    KeFlushQueuedDpcs();
    CHECK_EQ(dpc_runs, 1);
}

/* ---- the KeCancelTimer race ---------------------------------------------------------------
 * A driver's unload cancels its timer and then frees what the timer's DPC uses. KeCancelTimer
 * returns FALSE once the timer has expired, but its DPC may still be queued or running:
 * "unloaded" stands for the free, and the DPC records whether it ran after it. */

typedef struct driver_state {
    KTIMER timer;
    KDPC dpc;
    volatile BOOLEAN unloaded;
    volatile BOOLEAN dpc_ran_after_unload;
} driver_state_t;

static driver_state_t state;

static KDEFERRED_ROUTINE driver_timer_dpc;
static VOID driver_timer_dpc(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);
    driver_state_t *s = DeferredContext;
    if (s->unloaded) {
        s->dpc_ran_after_unload = TRUE; /* on Windows: a use-after-free of the driver's context */
    }
}

/* One run under the given schedule; returns whether the DPC ran after the "free". */
static bool run_unload_race(const uint8_t *schedule, size_t size, bool flush, uint64_t *hash)
{
    kshim_sched_reset();
    memset(&state, 0, sizeof state);
    kshim_sched_set_schedule(schedule, size);
    KeInitializeTimer(&state.timer);
    KeInitializeDpc(&state.dpc, driver_timer_dpc, &state);
    KeSetTimer(&state.timer, relative_ms(1), &state.dpc);
    LARGE_INTEGER until_due = relative_ms(1);
    KeDelayExecutionThread(KernelMode, FALSE, &until_due); /* wakes together with the timer */
    KeCancelTimer(&state.timer);
    if (flush) {
        KeFlushQueuedDpcs();
    }
    state.unloaded = TRUE;
    /* Let every other thread finish before the next run. */
    LARGE_INTEGER settle = relative_ms(1);
    KeDelayExecutionThread(KernelMode, FALSE, &settle);
    KeFlushQueuedDpcs();
    if (hash != NULL) {
        *hash = kshim_sched_trace_hash();
    }
    kshim_sched_set_schedule(NULL, 0);
    return state.dpc_ran_after_unload;
}

/* Schedule number i as bytes: each decision takes one bit of i (byte % runnable). */
static size_t schedule_of(unsigned i, uint8_t bytes[8])
{
    for (unsigned b = 0; b < 8; b++) {
        bytes[b] = (uint8_t)((i >> b) & 1u);
    }
    return 8;
}

NMR_TEST(cancel_timer_races_its_running_dpc_under_some_schedule)
{
    unsigned racing = 0, first_racing = 0;
    uint8_t bytes[8];
    for (unsigned i = 0; i < 256; i++) {
        if (run_unload_race(bytes, schedule_of(i, bytes), false, NULL)) {
            if (racing++ == 0) {
                first_racing = i;
            }
        }
    }
    CHECK(racing > 0);   /* KeCancelTimer does not wait for the DPC */
    CHECK(racing < 256); /* and not every schedule runs the DPC late */
    /* The finding replays from its schedule: same outcome, same trace. */
    uint64_t hash_a = 0, hash_b = 0;
    schedule_of(first_racing, bytes);
    CHECK(run_unload_race(bytes, sizeof bytes, false, &hash_a));
    CHECK(run_unload_race(bytes, sizeof bytes, false, &hash_b));
    CHECK(hash_a == hash_b);
}

NMR_TEST(flush_queued_dpcs_after_cancel_timer_closes_the_race_under_every_schedule)
{
    uint8_t bytes[8];
    for (unsigned i = 0; i < 256; i++) {
        if (run_unload_race(bytes, schedule_of(i, bytes), true, NULL)) {
            nmr_test_fail(__FILE__, __LINE__, "schedule %u: the DPC ran after the unload despite KeFlushQueuedDpcs", i);
        }
    }
}

/* ---- periodic timers -------------------------------------------------------------------- */

NMR_TEST(periodic_timer_does_not_hide_a_deadlock)
{
    EXPECT_STOP("*** KSHIM STOP DEADLOCK:", {
        static KTIMER timer;
        static KDPC dpc;
        static KEVENT never;
        KeInitializeTimer(&timer);
        KeInitializeDpc(&dpc, count_run, NULL);
        KeInitializeEvent(&never, NotificationEvent, FALSE);
        KeSetTimerEx(&timer, relative_ms(1), 1, &dpc);
        KeWaitForSingleObject(&never, Executive, KernelMode, FALSE, NULL);
    });
    CHECK(strstr(nmr_test_last_child_output(), "periodic timers are set") != NULL);
    CHECK(strstr(nmr_test_last_child_output(), "KeWaitForSingleObject") != NULL);
}

static KEVENT handshake_done;
static volatile BOOLEAN stop_requested;

static KDEFERRED_ROUTINE handshake_dpc;
static VOID handshake_dpc(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(DeferredContext);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);
    if (stop_requested) {
        KeSetEvent(&handshake_done, IO_NO_INCREMENT, FALSE);
    }
}

NMR_TEST(periodic_dpc_that_answers_a_waiter_is_not_a_deadlock)
{
    KTIMER timer;
    KDPC dpc;
    KeInitializeTimer(&timer);
    KeInitializeDpc(&dpc, handshake_dpc, NULL);
    KeInitializeEvent(&handshake_done, NotificationEvent, FALSE);
    KeSetTimerEx(&timer, relative_ms(1), 1, &dpc);
    LARGE_INTEGER pause = relative_ms(20); /* many expiries while nobody waits for them */
    KeDelayExecutionThread(KernelMode, FALSE, &pause);
    stop_requested = TRUE;
    KeWaitForSingleObject(&handshake_done, Executive, KernelMode, FALSE, NULL);
    KeCancelTimer(&timer);
    KeFlushQueuedDpcs();
}
