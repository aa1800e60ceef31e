/* SPDX-License-Identifier: MIT */
/*
 * ke_timer.c - kernel timers: KeInitializeTimer(Ex), KeSetTimer(Ex), KeCancelTimer,
 * KeReadStateTimer, and the expiry of a timer (signal, queue its DPC, re-arm if periodic).
 *
 * Each setting of a timer is a record (C heap) served by a simulated background thread of
 * its own that sleeps until the due time through the dispatcher seam (real time with
 * threads, virtual time with fibers; a periodic timer's sleep is the seam's periodic block,
 * which cannot hide a deadlock). The KTIMER points at its current setting (KshimSetting);
 * KeCancelTimer and a new KeSetTimer(Ex) detach the setting, whose thread then ends without
 * touching the KTIMER again, so a cancelled timer may be freed at once. A set timer is not
 * pending work. KTIMER fields, settings and their states are protected by the dispatcher lock.
 */
#include "kshim_internal.h"

#include <stdlib.h>

#define TIMER_SIZE_IN_LONGS ((UCHAR)(sizeof(KTIMER) / sizeof(LONG)))

typedef struct timer_setting {
    PKTIMER timer;            /* NULL once cancelled or replaced */
    uint64_t due_ns;          /* next expiry, monotonic */
    uint64_t period_ns;       /* 0: one-shot */
    PKDPC dpc;
    kshim_owned_work_t owned; /* KSHIM_WORK_TIMER while set */
} timer_setting_t;

static void check_timer(const char *routine, PKTIMER Timer)
{
    if (Timer == NULL ||
        (Timer->Header.Type != TimerNotificationObject &&
         Timer->Header.Type != TimerSynchronizationObject) ||
        Timer->Header.Size != TIMER_SIZE_IN_LONGS) {
        kshim_stop("TIMER_INVALID", "%s: %p is not a KTIMER initialised with KeInitializeTimer(Ex)",
                   routine, (void *)Timer);
    }
}

VOID KeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type)
{
    Timer->Header.Type = Type == SynchronizationTimer ? TimerSynchronizationObject
                                                      : TimerNotificationObject;
    Timer->Header.Signalling = 0;
    Timer->Header.Size = TIMER_SIZE_IN_LONGS;
    Timer->Header.Reserved1 = 0;
    Timer->Header.SignalState = 0;
    Timer->Header.WaitListHead.Flink = Timer->Header.WaitListHead.Blink = NULL;
    Timer->DueTime.QuadPart = 0;
    Timer->TimerListEntry.Flink = Timer->TimerListEntry.Blink = NULL;
    Timer->Dpc = NULL;
    Timer->Processor = 0;
    Timer->Period = 0;
    Timer->KshimSetting = NULL;
}

VOID KeInitializeTimer(PKTIMER Timer)
{
    KeInitializeTimerEx(Timer, NotificationTimer);
}

static struct timespec as_timespec(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL)};
    return ts;
}

/* Dispatcher lock held: detach the timer's current setting (its thread will end). */
static bool detach_setting_locked(PKTIMER Timer)
{
    timer_setting_t *setting = Timer->KshimSetting;
    if (setting == NULL) {
        return false;
    }
    setting->timer = NULL;
    kshim_owned_work_unlist_locked(&setting->owned);
    Timer->KshimSetting = NULL;
    kshim_dispatcher_wake_all(); /* its thread re-checks and ends */
    return true;
}

static void timer_thread_main(void *p)
{
    timer_setting_t *setting = p;
    struct _KTHREAD *self = kshim_background_thread_begin("timer");

    kshim_dispatcher_lock();
    while (setting->timer != NULL) {
        struct timespec due = as_timespec(setting->due_ns);
        kshim_dispatcher_set_wait_reason("timer (waits for its due time)", setting->timer);
        if (setting->period_ns != 0) {
            kshim_dispatcher_block_periodic(&due);
        } else {
            kshim_dispatcher_block(&due);
        }
        if (setting->timer == NULL || !kshim_deadline_passed(&due)) {
            continue; /* cancelled, or woken early: re-check */
        }
        /* Expiry: signal, then queue the DPC with the timer's owner current. */
        PKTIMER timer = setting->timer;
        PKDPC dpc = setting->dpc;
        timer->Header.SignalState = 1;
        if (setting->period_ns != 0) {
            setting->due_ns += setting->period_ns;
            timer->DueTime.QuadPart = setting->due_ns;
        } else {
            timer->KshimSetting = NULL;
            setting->timer = NULL;
            kshim_owned_work_unlist_locked(&setting->owned);
        }
        kshim_dispatcher_wake_all();
        const void *owner = setting->owned.owner;
        kshim_dispatcher_unlock();
        if (dpc != NULL) {
            const void *previous = kshim_owner_swap(owner);
            KeInsertQueueDpc(dpc, NULL, NULL);
            kshim_owner_swap(previous);
        }
        kshim_dispatcher_lock();
    }
    kshim_thread_terminate_locked(self, STATUS_SUCCESS);
    kshim_dispatcher_unlock();
    kshim_thread_set_current(NULL);
    free(setting);
}

BOOLEAN KeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc)
{
    const char *routine = "KeSetTimerEx";
    kshim_require_irql_at_most(routine, DISPATCH_LEVEL);
    check_timer(routine, Timer);
    if (Period < 0) {
        kshim_stop("TIMER_INVALID", "%s: negative Period %ld ms", routine, (long)Period);
    }
    struct timespec deadline;
    kshim_timeout_to_deadline(&DueTime, &deadline);
    timer_setting_t *setting = calloc(1, sizeof *setting);
    if (setting == NULL) {
        kshim_stop("THREAD_CREATE_FAILED", "%s: out of memory", routine);
    }
    setting->due_ns = (uint64_t)deadline.tv_sec * 1000000000ULL + (uint64_t)deadline.tv_nsec;
    setting->period_ns = (uint64_t)Period * 1000000ULL;
    setting->dpc = Dpc;
    setting->timer = Timer;

    kshim_dispatcher_lock();
    bool was_set = detach_setting_locked(Timer);
    Timer->Header.SignalState = 0;
    Timer->DueTime.QuadPart = setting->due_ns;
    Timer->Period = Period;
    Timer->Dpc = Dpc;
    Timer->KshimSetting = setting;
    kshim_owned_work_list_locked(&setting->owned, KSHIM_WORK_TIMER,
                                 Dpc != NULL ? (const void *)Dpc->DeferredRoutine : NULL);
    kshim_dispatcher_unlock();
    kshim_dispatcher_thread_create(timer_thread_main, setting, false);
    return was_set ? TRUE : FALSE;
}

BOOLEAN KeSetTimer(PKTIMER Timer, LARGE_INTEGER DueTime, PKDPC Dpc)
{
    return KeSetTimerEx(Timer, DueTime, 0, Dpc);
}

BOOLEAN KeCancelTimer(PKTIMER Timer)
{
    const char *routine = "KeCancelTimer";
    kshim_require_irql_at_most(routine, DISPATCH_LEVEL);
    check_timer(routine, Timer);
    kshim_dispatcher_lock();
    bool was_set = detach_setting_locked(Timer);
    kshim_dispatcher_unlock();
    kshim_sched_yield_point();
    return was_set ? TRUE : FALSE;
}

BOOLEAN KeReadStateTimer(PKTIMER Timer)
{
    check_timer("KeReadStateTimer", Timer);
    kshim_dispatcher_lock();
    BOOLEAN state = Timer->Header.SignalState > 0 ? TRUE : FALSE;
    kshim_dispatcher_unlock();
    return state;
}
