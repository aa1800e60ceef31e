/* SPDX-License-Identifier: MIT */
/*
 * ke_time.c - system time, interrupt time, performance counter, stalls, and the
 * conversion of WDK timeouts (100 ns units; negative relative, positive absolute) to
 * monotonic deadlines for the dispatcher seam. Which clock runs (wall or virtual) is the
 * seam's business: this file only asks it.
 */
#include "kshim_internal.h"

uint64_t kshim_monotonic_ns(void)
{
    return kshim_dispatcher_clock_ns();
}

static LONGLONG system_time_100ns(void)
{
    return (LONGLONG)kshim_dispatcher_system_time_100ns();
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
    kshim_dispatcher_stall_until(kshim_monotonic_ns() + (uint64_t)MicroSeconds * 1000);
}
