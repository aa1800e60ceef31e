/* SPDX-License-Identifier: MIT */
/*
 * ke_event.c - KEVENT, KeWaitForSingleObject / KeWaitForMultipleObjects (events and thread
 * objects) and KeDelayExecutionThread. All state is in the DISPATCHER_HEADER of the object,
 * protected by the dispatcher lock; all blocking goes through kshim_dispatcher_block.
 */
#include "kshim_internal.h"

#define EVENT_SIZE_IN_LONGS ((UCHAR)(sizeof(KEVENT) / sizeof(LONG)))

static void check_event(const char *routine, PRKEVENT Event)
{
    if (Event == NULL ||
        (Event->Header.Type != EventNotificationObject &&
         Event->Header.Type != EventSynchronizationObject) ||
        Event->Header.Size != EVENT_SIZE_IN_LONGS) {
        kshim_stop("DISPATCHER_OBJECT_INVALID", "%s: %p is not an initialised KEVENT", routine,
                   (void *)Event);
    }
}

VOID KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State)
{
    /* Initialisation happens before the event is shared: no lock, as on Windows. */
    Event->Header.Type = Type == SynchronizationEvent ? EventSynchronizationObject
                                                      : EventNotificationObject;
    Event->Header.Signalling = 0;
    Event->Header.Size = EVENT_SIZE_IN_LONGS;
    Event->Header.Reserved1 = 0;
    Event->Header.SignalState = State ? 1 : 0;
    InitializeListHead(&Event->Header.WaitListHead);
}

LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)
{
    (void)Increment;
    (void)Wait;
    kshim_require_irql_at_most("KeSetEvent", DISPATCH_LEVEL);
    kshim_dispatcher_lock();
    check_event("KeSetEvent", Event);
    LONG previous = Event->Header.SignalState;
    Event->Header.SignalState = 1;
    kshim_dispatcher_wake_all();
    /* Not touched after unlocking: a waiter may free the event as soon as it returns. */
    kshim_dispatcher_unlock();
    kshim_sched_yield_point();
    return previous;
}

LONG KeResetEvent(PRKEVENT Event)
{
    kshim_require_irql_at_most("KeResetEvent", DISPATCH_LEVEL);
    kshim_dispatcher_lock();
    check_event("KeResetEvent", Event);
    LONG previous = Event->Header.SignalState;
    Event->Header.SignalState = 0;
    kshim_dispatcher_unlock();
    return previous;
}

VOID KeClearEvent(PRKEVENT Event)
{
    kshim_require_irql_at_most("KeClearEvent", DISPATCH_LEVEL);
    kshim_dispatcher_lock();
    check_event("KeClearEvent", Event);
    Event->Header.SignalState = 0;
    kshim_dispatcher_unlock();
}

LONG KeReadStateEvent(PRKEVENT Event)
{
    kshim_require_irql_at_most("KeReadStateEvent", DISPATCH_LEVEL);
    kshim_dispatcher_lock();
    check_event("KeReadStateEvent", Event);
    LONG state = Event->Header.SignalState;
    kshim_dispatcher_unlock();
    return state;
}

/* Dispatcher lock held: stop unless object can be waited on. */
static void check_waitable(const char *routine, PVOID object)
{
    DISPATCHER_HEADER *header = object;
    /* The registry walk only for what claims to be a thread: waits are mostly on events. */
    if (object != NULL && header->Type == ThreadObject && kshim_thread_is_live_locked(object)) {
        return;
    }
    bool event = object != NULL &&
                 (header->Type == EventNotificationObject || header->Type == EventSynchronizationObject) &&
                 header->Size == EVENT_SIZE_IN_LONGS;
    bool timer = object != NULL &&
                 (header->Type == TimerNotificationObject || header->Type == TimerSynchronizationObject) &&
                 header->Size == (UCHAR)(sizeof(KTIMER) / sizeof(LONG));
    if (!event && !timer && !(object != NULL && kshim_mutex_is_valid(header))) {
        kshim_stop("DISPATCHER_OBJECT_INVALID",
                   "%s: %p is neither an initialised KEVENT, KTIMER or KMUTEX nor a live thread "
                   "object",
                   routine, object);
    }
}

static bool signalled(const DISPATCHER_HEADER *header, const struct _KTHREAD *self)
{
    if (header->Type == MutantObject) {
        return kshim_mutex_can_acquire_locked(header, self);
    }
    return header->SignalState > 0;
}

static void consume(DISPATCHER_HEADER *header, struct _KTHREAD *self, const char *routine)
{
    if (header->Type == MutantObject) {
        kshim_mutex_acquire_locked(header, self, routine);
        return;
    }
    if (header->Type == EventSynchronizationObject || header->Type == TimerSynchronizationObject) {
        header->SignalState = 0;
    }
}

static void check_wait_irql(const char *routine, const LARGE_INTEGER *timeout)
{
    struct _KTHREAD *self = kshim_current_thread();
    bool poll = timeout != NULL && timeout->QuadPart == 0;
    KIRQL max = poll ? DISPATCH_LEVEL : APC_LEVEL;
    if (self->irql > max) {
        kshim_stop("WAIT_AT_RAISED_IRQL", "%s: thread '%s' waits at IRQL %u (maximum %s)", routine,
                   self->name, (unsigned)self->irql,
                   poll ? "DISPATCH_LEVEL for a zero timeout" : "APC_LEVEL");
    }
}

static NTSTATUS wait_for_objects(const char *routine, ULONG count, PVOID objects[], bool wait_all,
                                 PLARGE_INTEGER timeout)
{
    check_wait_irql(routine, timeout);
    kshim_sched_yield_point();
    struct timespec deadline;
    bool has_deadline = kshim_timeout_to_deadline(timeout, &deadline);
    /* Each object is its own header once validated (no copy: a big array on the stack costs
       every wait its ASan redzones). */
    DISPATCHER_HEADER **headers = (DISPATCHER_HEADER **)objects;
    struct _KTHREAD *self = kshim_current_thread();

    kshim_dispatcher_lock();
    for (;;) {
        /* Re-validated after every wake: an object must stay alive while waited on. */
        for (ULONG i = 0; i < count; i++) {
            check_waitable(routine, objects[i]);
        }
        if (wait_all) {
            bool all = true;
            for (ULONG i = 0; i < count; i++) {
                all = all && signalled(headers[i], self);
            }
            if (all) {
                for (ULONG i = 0; i < count; i++) {
                    consume(headers[i], self, routine);
                }
                kshim_dispatcher_unlock();
                return STATUS_SUCCESS;
            }
        } else {
            for (ULONG i = 0; i < count; i++) {
                if (signalled(headers[i], self)) {
                    consume(headers[i], self, routine);
                    kshim_dispatcher_unlock();
                    return STATUS_WAIT_0 + (NTSTATUS)i;
                }
            }
        }
        if (has_deadline && kshim_deadline_passed(&deadline)) {
            kshim_dispatcher_unlock();
            return STATUS_TIMEOUT;
        }
        kshim_dispatcher_set_wait_reason(routine, objects[0]);
        kshim_dispatcher_block(has_deadline ? &deadline : NULL);
    }
}

NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                               BOOLEAN Alertable, PLARGE_INTEGER Timeout)
{
    (void)WaitReason;
    (void)WaitMode;
    (void)Alertable;
    PVOID objects[1] = {Object};
    return wait_for_objects("KeWaitForSingleObject", 1, objects, false, Timeout);
}

NTSTATUS KeWaitForMultipleObjects(ULONG Count, PVOID Object[], WAIT_TYPE WaitType,
                                  KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                                  BOOLEAN Alertable, PLARGE_INTEGER Timeout,
                                  PKWAIT_BLOCK WaitBlockArray)
{
    (void)WaitReason;
    (void)WaitMode;
    (void)Alertable;
    if (Count == 0 || Count > MAXIMUM_WAIT_OBJECTS) {
        kshim_stop("WAIT_INVALID_PARAMETER", "KeWaitForMultipleObjects: Count %lu (0 or above MAXIMUM_WAIT_OBJECTS; Windows bugchecks MAXIMUM_WAIT_OBJECTS_EXCEEDED)",
                   (unsigned long)Count);
    }
    if (Count > THREAD_WAIT_OBJECTS && WaitBlockArray == NULL) {
        kshim_stop("WAIT_INVALID_PARAMETER",
                   "KeWaitForMultipleObjects: Count %lu > THREAD_WAIT_OBJECTS without a WaitBlockArray",
                   (unsigned long)Count);
    }
    if (WaitType != WaitAll && WaitType != WaitAny) {
        kshim_stop("WAIT_INVALID_PARAMETER", "KeWaitForMultipleObjects: WaitType %d is neither WaitAll nor WaitAny",
                   (int)WaitType);
    }
    return wait_for_objects("KeWaitForMultipleObjects", Count, Object, WaitType == WaitAll, Timeout);
}

NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Interval)
{
    (void)WaitMode;
    (void)Alertable;
    kshim_require_irql_at_most("KeDelayExecutionThread", APC_LEVEL);
    struct timespec deadline;
    if (!kshim_timeout_to_deadline(Interval, &deadline)) {
        kshim_stop("WAIT_INVALID_PARAMETER", "KeDelayExecutionThread: NULL Interval");
    }
    kshim_dispatcher_lock();
    while (!kshim_deadline_passed(&deadline)) {
        kshim_dispatcher_set_wait_reason("KeDelayExecutionThread", NULL);
        kshim_dispatcher_block(&deadline);
    }
    kshim_dispatcher_unlock();
    return STATUS_SUCCESS;
}
