/* SPDX-License-Identifier: MIT */
/*
 * ke_dpc.c - deferred procedure calls: KeInitialize(Threaded)Dpc, KeInsertQueueDpc,
 * KeRemoveQueueDpc, KeFlushQueuedDpcs.
 *
 * Each queued DPC gets a queue entry (C heap) and a simulated thread of its own (a
 * background thread of the dispatcher seam) that runs the routine at DISPATCH_LEVEL
 * (PASSIVE_LEVEL for a threaded DPC). The KDPC points at its entry (DpcData) while it is
 * queued; when the thread starts the routine it takes the entry off the KDPC first, so the
 * routine may free or re-queue its KDPC, and the shim never touches the KDPC again.
 * Queued and running DPCs count as pending work. Entries, DpcData and the counts are
 * protected by the dispatcher lock.
 */
#include "kshim_internal.h"

#include <stdlib.h>

typedef struct dpc_entry {
    PRKDPC dpc;               /* NULL once dequeued (started) or removed */
    bool removed;             /* KeRemoveQueueDpc took it off before it started */
    bool threaded;
    PKDEFERRED_ROUTINE routine;
    PVOID context;
    PVOID argument1;
    PVOID argument2;
    PKDPC routine_argument;   /* the KDPC pointer passed to the routine (never dereferenced) */
    kshim_owned_work_t owned; /* KSHIM_WORK_DPC, listed from queuing until the routine returns */
} dpc_entry_t;

/* DPCs queued or running. Protected by: dispatcher lock. */
static size_t dpcs_outstanding;

static void check_dpc(const char *routine, PRKDPC Dpc)
{
    if (Dpc == NULL || (Dpc->Type != DpcObject && Dpc->Type != ThreadedDpcObject)) {
        kshim_stop("DPC_INVALID", "%s: %p is not a KDPC initialised with KeInitialize(Threaded)Dpc",
                   routine, (void *)Dpc);
    }
}

static void initialize(PRKDPC Dpc, UCHAR type, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext)
{
    Dpc->Type = type;
    Dpc->Importance = MediumImportance;
    Dpc->Number = 0;
    Dpc->DpcListEntry.Flink = Dpc->DpcListEntry.Blink = NULL;
    Dpc->ProcessorHistory = 0;
    Dpc->DeferredRoutine = DeferredRoutine;
    Dpc->DeferredContext = DeferredContext;
    Dpc->SystemArgument1 = Dpc->SystemArgument2 = NULL;
    Dpc->DpcData = NULL;
}

VOID KeInitializeDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext)
{
    initialize(Dpc, DpcObject, DeferredRoutine, DeferredContext);
}

VOID KeInitializeThreadedDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext)
{
    initialize(Dpc, ThreadedDpcObject, DeferredRoutine, DeferredContext);
}

static void dpc_thread_main(void *p)
{
    dpc_entry_t *entry = p;
    struct _KTHREAD *self = kshim_background_thread_begin("DPC");

    kshim_dispatcher_lock();
    bool run = !entry->removed;
    if (run) {
        /* Dequeued: from here on the KDPC is the driver's again. */
        entry->dpc->DpcData = NULL;
        entry->dpc = NULL;
        entry->owned.running = true;
    }
    kshim_dispatcher_unlock();

    if (run) {
        const void *previous = kshim_owned_work_run_begin(&entry->owned);
        KIRQL level = entry->threaded ? PASSIVE_LEVEL : DISPATCH_LEVEL;
        kshim_set_irql(self, level);
        /* The routine receives its own KDPC pointer, which it may free. */
        entry->routine(entry->routine_argument, entry->context, entry->argument1,
                       entry->argument2);
        if (self->irql != level) {
            kshim_stop("IRQL_NOT_RESTORED", "DPC routine %p returned at IRQL %u (it ran at %u)",
                       (void *)(uintptr_t)entry->routine, (unsigned)self->irql, (unsigned)level);
        }
        kshim_set_irql(self, PASSIVE_LEVEL);
        kshim_thread_exit_checks(self, "DPC", "KDEFERRED_ROUTINE");
        kshim_owner_swap(previous);
    }
    kshim_dispatcher_lock();
    kshim_owned_work_unlist_locked(&entry->owned);
    dpcs_outstanding--;
    kshim_pending_work_done_locked();
    kshim_thread_terminate_locked(self, STATUS_SUCCESS);
    kshim_dispatcher_unlock();
    kshim_thread_set_current(NULL);
    free(entry);
}

BOOLEAN KeInsertQueueDpc(PRKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2)
{
    const char *routine = "KeInsertQueueDpc";
    check_dpc(routine, Dpc);
    dpc_entry_t *entry = calloc(1, sizeof *entry);
    if (entry == NULL) {
        kshim_stop("THREAD_CREATE_FAILED", "%s: out of memory", routine);
    }
    kshim_dispatcher_lock();
    if (Dpc->DpcData != NULL) {
        kshim_dispatcher_unlock();
        free(entry);
        return FALSE;
    }
    entry->dpc = Dpc;
    entry->threaded = Dpc->Type == ThreadedDpcObject;
    entry->routine = Dpc->DeferredRoutine;
    entry->context = Dpc->DeferredContext;
    entry->argument1 = Dpc->SystemArgument1 = SystemArgument1;
    entry->argument2 = Dpc->SystemArgument2 = SystemArgument2;
    entry->routine_argument = Dpc;
    Dpc->DpcData = entry;
    kshim_owned_work_list_locked(&entry->owned, KSHIM_WORK_DPC, (const void *)entry->routine);
    dpcs_outstanding++;
    kshim_pending_work_add_locked();
    kshim_dispatcher_unlock();
    kshim_dispatcher_thread_create(dpc_thread_main, entry, false);
    return TRUE;
}

BOOLEAN KeRemoveQueueDpc(PRKDPC Dpc)
{
    check_dpc("KeRemoveQueueDpc", Dpc);
    kshim_dispatcher_lock();
    dpc_entry_t *entry = Dpc->DpcData;
    if (entry != NULL) {
        entry->removed = true;
        entry->dpc = NULL;
        Dpc->DpcData = NULL;
        kshim_owned_work_unlist_locked(&entry->owned);
    }
    kshim_dispatcher_unlock();
    return entry != NULL;
}

VOID KeFlushQueuedDpcs(VOID)
{
    kshim_require_irql_at_most("KeFlushQueuedDpcs", PASSIVE_LEVEL);
    kshim_sched_yield_point();
    kshim_dispatcher_lock();
    while (dpcs_outstanding != 0) {
        kshim_dispatcher_set_wait_reason("KeFlushQueuedDpcs", NULL);
        kshim_dispatcher_block(NULL);
    }
    kshim_dispatcher_unlock();
}

VOID KeSetImportanceDpc(PRKDPC Dpc, KDPC_IMPORTANCE Importance)
{
    Dpc->Importance = (UCHAR)Importance;
}

VOID KeSetTargetProcessorDpc(PRKDPC Dpc, CCHAR Number)
{
    Dpc->Number = (USHORT)Number;
}
