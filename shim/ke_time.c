/* SPDX-License-Identifier: MIT */
/*
 * ke_time.c - system time, interrupt time, performance counter, stalls, and the
 * conversion of WDK timeouts (100 ns units; negative relative, positive absolute) to
 * monotonic deadlines for the dispatcher seam.
 */
#include "kshim_internal.h"

/* 100 ns intervals between 1601-01-01 and 1970-01-01. */
#define EPOCH_DIFFERENCE_100NS 116444736000000000ULL
/* 2026-01-01T00:00:00Z in 100 ns intervals since 1601 (fiber builds' system time base). */
#define FIXED_EPOCH_100NS (EPOCH_DIFFERENCE_100NS + 1767225600ULL * 10000000ULL)

static uint64_t clock_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t kshim_monotonic_ns(void)
{
    return kshim_dispatcher_clock_ns();
}

static LONGLONG system_time_100ns(void)
{
    if (kshim_sched_is_deterministic()) {
        /* Virtual time: a fixed date (2026-01-01) plus the virtual clock, never the wall. */
        return (LONGLONG)(FIXED_EPOCH_100NS + kshim_dispatcher_clock_ns() / 100);
    }
    return (LONGLONG)(clock_ns(CLOCK_REALTIME) / 100 + EPOCH_DIFFERENCE_100NS);
}

bool kshim_timeout_to_deadline(const LARGE_INTEGER *timeout, struct timespec *deadline)
{
    if (timeout == NULL) {
        return false;
    }
    uint64_t now = kshim_monotonic_ns();
    uint64_t at;
    if (timeout->QuadPart <= 0) {
        /* relative (or zero: poll, the deadline is now) */
        uint64_t rel = (uint64_t)0 - (uint64_t)timeout->QuadPart;
        at = rel > (UINT64_MAX / 4) / 100 ? UINT64_MAX / 4 : now + rel * 100;
    } else {
        LONGLONG delta = timeout->QuadPart - system_time_100ns();
        at = delta <= 0 ? now
             : (uint64_t)delta > (UINT64_MAX / 4) / 100 ? UINT64_MAX / 4
                                                         : now + (uint64_t)delta * 100;
    }
    deadline->tv_sec = (time_t)(at / 1000000000ULL);
    deadline->tv_nsec = (long)(at % 1000000000ULL);
    return true;
}

bool kshim_deadline_passed(const struct timespec *deadline)
{
    uint64_t at = (uint64_t)deadline->tv_sec * 1000000000ULL + (uint64_t)deadline->tv_nsec;
    return kshim_monotonic_ns() >= at;
}

VOID KeQuerySystemTime(PLARGE_INTEGER CurrentTime)
{
    CurrentTime->QuadPart = system_time_100ns();
}

VOID KeQuerySystemTimePrecise(PLARGE_INTEGER CurrentTime)
{
    CurrentTime->QuadPart = system_time_100ns();
}

ULONGLONG KeQueryInterruptTime(VOID)
{
    return kshim_monotonic_ns() / 100;
}

ULONGLONG KeQueryInterruptTimePrecise(PULONG64 QpcTimeStamp)
{
    ULONGLONG t = kshim_monotonic_ns() / 100;
    if (QpcTimeStamp) {
        *QpcTimeStamp = t;
    }
    return t;
}

LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency)
{
    LARGE_INTEGER counter;
    if (PerformanceFrequency) {
        PerformanceFrequency->QuadPart = 10000000;
    }
    counter.QuadPart = (LONGLONG)(kshim_monotonic_ns() / 100);
    return counter;
}

ULONG KeQueryTimeIncrement(VOID)
{
    return 156250;
}

VOID KeQueryTickCount(PLARGE_INTEGER CurrentCount)
{
    CurrentCount->QuadPart = (LONGLONG)(kshim_monotonic_ns() / 100 / KeQueryTimeIncrement());
}

VOID KeStallExecutionProcessor(ULONG MicroSeconds)
{
    uint64_t until = kshim_monotonic_ns() + (uint64_t)MicroSeconds * 1000;
    if (kshim_sched_is_deterministic()) {
        /* A busy stall holds the (virtual) processor: time moves, no other thread runs. */
        kshim_dispatcher_advance_clock(until);
        return;
    }
    while (kshim_monotonic_ns() < until) {
    }
}
