/* SPDX-License-Identifier: MIT */
/*
 * ke_mutex.c - KMUTEX: KeInitializeMutex, KeReleaseMutex, KeReadStateMutex. Acquisition is a
 * wait (ke_event.c asks kshim_mutex_* below). SignalState is 1 when free and 1 - depth while
 * owned; OwnerThread is the owner. Both are protected by the dispatcher lock. The first
 * acquisition records a held lock and enters a critical region (normal kernel APCs off), the
 * last release undoes both.
 */
#include "kshim_internal.h"

#define MUTEX_SIZE_IN_LONGS ((UCHAR)(sizeof(KMUTEX) / sizeof(LONG)))

VOID KeInitializeMutex(PRKMUTEX Mutex, ULONG Level)
{
    (void)Level;
    Mutex->Header.Type = MutantObject;
    Mutex->Header.Signalling = 0;
    Mutex->Header.Size = MUTEX_SIZE_IN_LONGS;
    Mutex->Header.Reserved1 = 0;
    Mutex->Header.SignalState = 1;
    Mutex->Header.WaitListHead.Flink = Mutex->Header.WaitListHead.Blink = NULL;
    Mutex->MutantListEntry.Flink = Mutex->MutantListEntry.Blink = NULL;
    Mutex->OwnerThread = NULL;
    Mutex->Abandoned = FALSE;
    Mutex->ApcDisable = 1;
}

bool kshim_mutex_is_valid(const DISPATCHER_HEADER *header)
{
    return header->Type == MutantObject && header->Size == MUTEX_SIZE_IN_LONGS;
}

bool kshim_mutex_can_acquire_locked(const DISPATCHER_HEADER *header, const struct _KTHREAD *self)
{
    const KMUTEX *mutex = (const KMUTEX *)header;
    return header->SignalState > 0 || mutex->OwnerThread == self;
}

void kshim_mutex_acquire_locked(DISPATCHER_HEADER *header, struct _KTHREAD *self, const char *routine)
{
    KMUTEX *mutex = (KMUTEX *)header;
    if (mutex->OwnerThread == NULL) {
        mutex->OwnerThread = self;
        kshim_held_push(self, mutex, KSHIM_LOCK_MUTEX, self->irql, routine);
        self->critical_region_depth++;
    }
    header->SignalState--;
}

LONG KeReleaseMutex(PRKMUTEX Mutex, BOOLEAN Wait)
{
    (void)Wait;
    const char *routine = "KeReleaseMutex";
    kshim_require_irql_at_most(routine, DISPATCH_LEVEL);
    struct _KTHREAD *self = kshim_current_thread();
    kshim_dispatcher_lock();
    if (!kshim_mutex_is_valid(&Mutex->Header)) {
        kshim_dispatcher_unlock();
        kshim_stop("DISPATCHER_OBJECT_INVALID", "%s: %p is not a KMUTEX initialised with KeInitializeMutex",
                   routine, (void *)Mutex);
    }
    if (Mutex->OwnerThread != self) {
        const char *owner = Mutex->OwnerThread != NULL ? Mutex->OwnerThread->name : NULL;
        kshim_dispatcher_unlock();
        kshim_stop("MUTEX_NOT_OWNER",
                   "%s: thread '%s' releases KMUTEX %p owned by %s%s%s (bugcheck THREAD_NOT_MUTEX_OWNER)",
                   routine, self->name, (void *)Mutex, owner ? "thread '" : "no thread", owner ? owner : "",
                   owner ? "'" : "");
    }
    LONG previous = Mutex->Header.SignalState;
    Mutex->Header.SignalState++;
    bool freed = Mutex->Header.SignalState > 0;
    if (freed) {
        Mutex->OwnerThread = NULL;
        kshim_dispatcher_wake_all();
    }
    kshim_dispatcher_unlock();
    if (freed) {
        kshim_held_remove(self, Mutex);
        self->critical_region_depth--;
    }
    kshim_sched_yield_point();
    return previous;
}

LONG KeReadStateMutex(PRKMUTEX Mutex)
{
    kshim_dispatcher_lock();
    LONG state = Mutex->Header.SignalState;
    kshim_dispatcher_unlock();
    return state;
}
