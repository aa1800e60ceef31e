/* SPDX-License-Identifier: MIT */
/*
 * test_event.c - KEVENT, KeWaitForSingleObject / KeWaitForMultipleObjects timeouts and IRQL
 * rules, KeDelayExecutionThread, time queries.
 */
#include <string.h>

#include <kshim/kshim.h>
#include <ntddk.h>

#include "nmr_test.h"

static LARGE_INTEGER relative_ms(LONGLONG ms)
{
    LARGE_INTEGER t;
    t.QuadPart = -ms * 10000;
    return t;
}

NMR_TEST(notification_event_stays_signalled_for_every_waiter)
{
    KEVENT event;
    LARGE_INTEGER zero = {.QuadPart = 0};
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    CHECK_EQ(KeReadStateEvent(&event), 0);
    CHECK_EQ(KeSetEvent(&event, IO_NO_INCREMENT, FALSE), 0);
    CHECK_STATUS(KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    CHECK_STATUS(KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, &zero), STATUS_SUCCESS);
    CHECK_EQ(KeReadStateEvent(&event), 1);
}

NMR_TEST(synchronization_event_is_reset_by_a_satisfied_wait)
{
    KEVENT event;
    LARGE_INTEGER zero = {.QuadPart = 0};
    KeInitializeEvent(&event, SynchronizationEvent, TRUE);
    CHECK_STATUS(KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, &zero), STATUS_SUCCESS);
    CHECK_EQ(KeReadStateEvent(&event), 0);
    CHECK_STATUS(KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, &zero), STATUS_TIMEOUT);
}

NMR_TEST(set_event_returns_the_previous_state)
{
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    CHECK_EQ(KeSetEvent(&event, IO_NO_INCREMENT, FALSE), 0);
    CHECK_EQ(KeSetEvent(&event, IO_NO_INCREMENT, FALSE), 1);
}

NMR_TEST(reset_event_returns_the_previous_state_and_clear_clears)
{
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, TRUE);
    CHECK_EQ(KeResetEvent(&event), 1);
    CHECK_EQ(KeResetEvent(&event), 0);
    KeSetEvent(&event, IO_NO_INCREMENT, FALSE);
    KeClearEvent(&event);
    CHECK_EQ(KeReadStateEvent(&event), 0);
}

NMR_TEST(event_wait_with_relative_timeout_times_out)
{
    KEVENT event;
    LARGE_INTEGER timeout = relative_ms(20);
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    ULONGLONG before = KeQueryInterruptTime();
    CHECK_STATUS(KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, &timeout), STATUS_TIMEOUT);
    ULONGLONG elapsed_100ns = KeQueryInterruptTime() - before;
    CHECK(elapsed_100ns >= 20 * 10000);
}

NMR_TEST(event_wait_with_absolute_timeout_times_out)
{
    KEVENT event;
    LARGE_INTEGER deadline;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    KeQuerySystemTime(&deadline);
    deadline.QuadPart += 10 * 10000; /* 10 ms from now */
    CHECK_STATUS(KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, &deadline), STATUS_TIMEOUT);
    LARGE_INTEGER now;
    KeQuerySystemTime(&now);
    CHECK(now.QuadPart >= deadline.QuadPart);
}

NMR_TEST(event_wait_with_zero_timeout_polls)
{
    KEVENT event;
    LARGE_INTEGER zero = {.QuadPart = 0};
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    CHECK_STATUS(KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, &zero), STATUS_TIMEOUT);
}

NMR_TEST(event_poll_at_dispatch_level_is_allowed)
{
    KEVENT event;
    KIRQL old;
    LARGE_INTEGER zero = {.QuadPart = 0};
    KeInitializeEvent(&event, NotificationEvent, TRUE);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    CHECK_STATUS(KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, &zero), STATUS_SUCCESS);
    KeLowerIrql(old);
}

NMR_TEST(event_wait_at_dispatch_level_stops)
{
    EXPECT_STOP("*** KSHIM STOP WAIT_AT_RAISED_IRQL: KeWaitForSingleObject", {
        KEVENT event;
        KIRQL old;
        KeInitializeEvent(&event, NotificationEvent, TRUE);
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, NULL);
    });
}

NMR_TEST(event_wait_with_timeout_while_holding_a_spin_lock_stops)
{
    EXPECT_STOP("*** KSHIM STOP WAIT_AT_RAISED_IRQL:", {
        KEVENT event;
        KSPIN_LOCK lock;
        KIRQL old;
        LARGE_INTEGER timeout = relative_ms(1);
        KeInitializeEvent(&event, NotificationEvent, FALSE);
        KeInitializeSpinLock(&lock);
        KeAcquireSpinLock(&lock, &old);
        KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, &timeout);
    });
}

NMR_TEST(event_wait_at_apc_level_is_allowed)
{
    KEVENT event;
    KIRQL old;
    KeInitializeEvent(&event, NotificationEvent, TRUE);
    KeRaiseIrql(APC_LEVEL, &old);
    CHECK_STATUS(KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    KeLowerIrql(old);
}

NMR_TEST(wait_on_an_uninitialised_event_stops)
{
    EXPECT_STOP("*** KSHIM STOP DISPATCHER_OBJECT_INVALID:", {
        KEVENT event;
        memset(&event, 0, sizeof event);
        KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, NULL);
    });
}

NMR_TEST(wait_for_any_returns_the_index_of_the_signalled_object)
{
    KEVENT events[3];
    PVOID objects[3];
    for (int i = 0; i < 3; i++) {
        KeInitializeEvent(&events[i], SynchronizationEvent, FALSE);
        objects[i] = &events[i];
    }
    KeSetEvent(&events[2], IO_NO_INCREMENT, FALSE);
    CHECK_STATUS(KeWaitForMultipleObjects(3, objects, WaitAny, Executive, KernelMode, FALSE, NULL, NULL),
                 STATUS_WAIT_2);
    CHECK_EQ(KeReadStateEvent(&events[2]), 0);
}

NMR_TEST(wait_for_all_times_out_until_every_object_is_signalled)
{
    KEVENT events[2];
    PVOID objects[2] = {&events[0], &events[1]};
    LARGE_INTEGER timeout = relative_ms(5);
    KeInitializeEvent(&events[0], NotificationEvent, TRUE);
    KeInitializeEvent(&events[1], NotificationEvent, FALSE);
    CHECK_STATUS(KeWaitForMultipleObjects(2, objects, WaitAll, Executive, KernelMode, FALSE, &timeout, NULL),
                 STATUS_TIMEOUT);
    KeSetEvent(&events[1], IO_NO_INCREMENT, FALSE);
    CHECK_STATUS(KeWaitForMultipleObjects(2, objects, WaitAll, Executive, KernelMode, FALSE, &timeout, NULL),
                 STATUS_SUCCESS);
}

NMR_TEST(delay_execution_sleeps_for_the_relative_interval)
{
    LARGE_INTEGER interval = relative_ms(10);
    ULONGLONG before = KeQueryInterruptTime();
    CHECK_STATUS(KeDelayExecutionThread(KernelMode, FALSE, &interval), STATUS_SUCCESS);
    CHECK(KeQueryInterruptTime() - before >= 10 * 10000);
}

NMR_TEST(delay_execution_at_dispatch_level_stops)
{
    EXPECT_STOP("*** KSHIM STOP IRQL_TOO_HIGH: KeDelayExecutionThread", {
        LARGE_INTEGER interval = relative_ms(1);
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        KeDelayExecutionThread(KernelMode, FALSE, &interval);
    });
}

NMR_TEST(system_time_is_in_100ns_units_since_1601)
{
    LARGE_INTEGER now, precise;
    KeQuerySystemTime(&now);
    KeQuerySystemTimePrecise(&precise);
    /* 2020-01-01 is 132223104000000000 in these units. */
    CHECK(now.QuadPart > 132223104000000000LL);
    CHECK(precise.QuadPart >= now.QuadPart);
}

NMR_TEST(performance_counter_is_monotonic_at_10_mhz)
{
    LARGE_INTEGER frequency;
    LARGE_INTEGER a = KeQueryPerformanceCounter(&frequency);
    KeStallExecutionProcessor(100);
    LARGE_INTEGER b = KeQueryPerformanceCounter(NULL);
    CHECK_EQ(frequency.QuadPart, 10000000);
    CHECK(b.QuadPart - a.QuadPart >= 1000);
}
