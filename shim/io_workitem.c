/* SPDX-License-Identifier: MIT */
/*
 * io_workitem.c - I/O work items (IoAllocateWorkItem, IoQueueWorkItem[Ex], ...) and
 * executive work items (ExQueueWorkItem).
 *
 * Each queued item runs once on its own worker thread (created through the dispatcher
 * seam) at PASSIVE_LEVEL. The item is marked dequeued before its routine is called and
 * is never touched after the routine returns, so the routine may free or re-queue it.
 * Queue states and the pending-work count are protected by the dispatcher lock.
 */
#include "kshim_internal.h"

#include <stdlib.h>

#define WORK_ITEM_MAGIC 0x6b57496fu /* "oIWk" */

typedef enum work_item_state {
    WORK_ITEM_IDLE,   /* allocated/initialised or already started: may be queued or freed */
    WORK_ITEM_QUEUED, /* queued and not yet started: entered by IoQueueWorkItem[Ex], left when
                         the worker starts the routine */
} work_item_state_t;

struct _IO_WORKITEM {
    uint32_t magic;          /* WORK_ITEM_MAGIC while initialised */
    bool allocated;          /* from IoAllocateWorkItem (else IoInitializeWorkItem storage) */
    work_item_state_t state; /* Protected by: dispatcher lock */
    PVOID io_object;
    const char *site;        /* allocation site, for messages */
};

/* True while kshim_work_hold(true) is in effect. Protected by: dispatcher lock. */
static bool work_held;

void kshim_work_hold(bool hold)
{
    kshim_dispatcher_lock();
    work_held = hold;
    kshim_dispatcher_wake_all();
    kshim_dispatcher_unlock();
}

bool kshim_work_is_held_locked(void)
{
    return work_held;
}

typedef struct work_job {
    PIO_WORKITEM io_item;          /* Io forms */
    PWORK_QUEUE_ITEM ex_item;      /* ExQueueWorkItem */
    PIO_WORKITEM_ROUTINE routine;
    PIO_WORKITEM_ROUTINE_EX routine_ex;
    PWORKER_THREAD_ROUTINE ex_routine;
    PVOID io_object;
    PVOID context;
    kshim_owned_work_t owned; /* listed from queuing until the routine returns */
} work_job_t;

/* Jobs are recycled (kshim_recycle.c): no heap call per queued item once warm. */
static kshim_recycler_t job_recycler = KSHIM_RECYCLER_INIT(sizeof(work_job_t), "queued work item's job");

static void check_item(const char *routine, PIO_WORKITEM item)
{
    if (item == NULL || item->magic != WORK_ITEM_MAGIC) {
        kshim_stop("WORK_ITEM_INVALID", "%s: %p is not an allocated or initialised work item",
                   routine, (void *)item);
    }
}

static void worker_main(void *p)
{
    work_job_t *job = p;
    struct _KTHREAD *self = kshim_thread_object_create(KSHIM_THREAD_WORKER, "work item", NULL);
    kshim_thread_set_current(self);

    kshim_dispatcher_lock();
    while (work_held) {
        kshim_dispatcher_set_wait_reason("work item (held by kshim_work_hold)", NULL);
        kshim_dispatcher_block(NULL);
    }
    if (job->io_item) {
        job->io_item->state = WORK_ITEM_IDLE;
    } else {
        job->ex_item->List.Flink = NULL;
    }
    job->owned.running = true;
    kshim_dispatcher_unlock();

    kshim_owned_work_run_begin(&job->owned);
    if (job->routine) {
        job->routine((PDEVICE_OBJECT)job->io_object, job->context);
    } else if (job->routine_ex) {
        job->routine_ex(job->io_object, job->context, job->io_item);
    } else {
        job->ex_routine(job->context);
    }
    kshim_thread_exit_checks(self, "work item", job->ex_routine ? "ExQueueWorkItem routine"
                                                                : "IoQueueWorkItem routine");
    kshim_owner_swap(NULL);
    kshim_dispatcher_lock();
    kshim_owned_work_unlist_locked(&job->owned);
    kshim_pending_work_done_locked();
    kshim_thread_terminate_locked(self, STATUS_SUCCESS);
    kshim_dispatcher_unlock();
    kshim_thread_set_current(NULL);
    kshim_recycler_give(&job_recycler, job);
}

/* A heap copy of job for its worker (freed by the worker). */
static work_job_t *job_copy(const char *routine, const work_job_t *job)
{
    work_job_t *copy = kshim_recycler_take(&job_recycler);
    if (copy == NULL) {
        kshim_stop("THREAD_CREATE_FAILED", "%s: out of memory", routine);
    }
    /* copy: just taken (sizeof *copy, unpoisoned or fresh from the C heap); job: the
       caller's local. */
    kshim_unchecked_memcpy(copy, job, sizeof *copy);
    kshim_unchecked_memset(&copy->owned, 0, sizeof copy->owned);
    return copy;
}

static void queue_io(const char *routine, PIO_WORKITEM IoWorkItem, work_job_t *job)
{
    kshim_require_irql_at_most(routine, DISPATCH_LEVEL);
    check_item(routine, IoWorkItem);
    work_job_t *copy = job_copy(routine, job);
    copy->io_item = IoWorkItem;
    copy->io_object = IoWorkItem->io_object;
    kshim_dispatcher_lock();
    if (IoWorkItem->state == WORK_ITEM_QUEUED) {
        kshim_dispatcher_unlock();
        kshim_recycler_give(&job_recycler, copy);
        kshim_stop("WORK_ITEM_QUEUED_TWICE", "%s: work item %p (allocated at %s) is already queued",
                   routine, (void *)IoWorkItem, kshim_site_basename(IoWorkItem->site));
    }
    IoWorkItem->state = WORK_ITEM_QUEUED;
    kshim_owned_work_list_locked(&copy->owned, KSHIM_WORK_IO_WORK_ITEM,
                                 copy->routine != NULL ? (const void *)copy->routine
                                                       : (const void *)copy->routine_ex);
    kshim_pending_work_add_locked();
    kshim_dispatcher_unlock();
    kshim_dispatcher_thread_create(worker_main, copy, false);
}

PIO_WORKITEM kshim_IoAllocateWorkItem(PVOID IoObject, const char *site)
{
    kshim_require_irql_at_most("IoAllocateWorkItem", DISPATCH_LEVEL);
    if (kshim_fault_should_fail(site, KSHIM_TAG_WORK_ITEM)) {
        return NULL;
    }
    PIO_WORKITEM item = kshim_pool_alloc_internal(sizeof *item, KSHIM_TAG_WORK_ITEM, site, true);
    item->magic = WORK_ITEM_MAGIC;
    item->allocated = true;
    item->state = WORK_ITEM_IDLE;
    item->io_object = IoObject;
    item->site = site;
    return item;
}

#undef IoAllocateWorkItem
PIO_WORKITEM IoAllocateWorkItem(PDEVICE_OBJECT DeviceObject)
{
    return kshim_IoAllocateWorkItem(DeviceObject, "unknown:0");
}

static void check_not_queued(const char *routine, PIO_WORKITEM IoWorkItem)
{
    kshim_dispatcher_lock();
    bool queued = IoWorkItem->state == WORK_ITEM_QUEUED;
    kshim_dispatcher_unlock();
    if (queued) {
        kshim_stop("WORK_ITEM_FREED_WHILE_QUEUED",
                   "%s: work item %p (allocated at %s) is queued and has not run yet", routine,
                   (void *)IoWorkItem, kshim_site_basename(IoWorkItem->site));
    }
}

VOID IoFreeWorkItem(PIO_WORKITEM IoWorkItem)
{
    const char *routine = "IoFreeWorkItem";
    kshim_require_irql_at_most(routine, DISPATCH_LEVEL);
    check_item(routine, IoWorkItem);
    if (!IoWorkItem->allocated) {
        kshim_stop("WORK_ITEM_INVALID", "%s: work item %p was initialised with IoInitializeWorkItem "
                   "(use IoUninitializeWorkItem)", routine, (void *)IoWorkItem);
    }
    check_not_queued(routine, IoWorkItem);
    IoWorkItem->magic = 0;
    kshim_pool_free_internal(IoWorkItem, routine, NULL);
}

VOID IoQueueWorkItem(PIO_WORKITEM IoWorkItem, PIO_WORKITEM_ROUTINE WorkerRoutine,
                     WORK_QUEUE_TYPE QueueType, PVOID Context)
{
    (void)QueueType;
    work_job_t job;
    kshim_unchecked_memset(&job, 0, sizeof job); /* a local, its own sizeof */
    job.routine = WorkerRoutine;
    job.context = Context;
    queue_io("IoQueueWorkItem", IoWorkItem, &job);
}

VOID IoQueueWorkItemEx(PIO_WORKITEM IoWorkItem, PIO_WORKITEM_ROUTINE_EX WorkerRoutine,
                       WORK_QUEUE_TYPE QueueType, PVOID Context)
{
    (void)QueueType;
    work_job_t job;
    kshim_unchecked_memset(&job, 0, sizeof job); /* a local, its own sizeof */
    job.routine_ex = WorkerRoutine;
    job.context = Context;
    queue_io("IoQueueWorkItemEx", IoWorkItem, &job);
}

ULONG IoSizeofWorkItem(VOID)
{
    return (ULONG)sizeof(struct _IO_WORKITEM);
}

VOID IoInitializeWorkItem(PVOID IoObject, PIO_WORKITEM IoWorkItem)
{
    IoWorkItem->magic = WORK_ITEM_MAGIC;
    IoWorkItem->allocated = false;
    IoWorkItem->state = WORK_ITEM_IDLE;
    IoWorkItem->io_object = IoObject;
    IoWorkItem->site = "IoInitializeWorkItem";
}

VOID IoUninitializeWorkItem(PIO_WORKITEM IoWorkItem)
{
    const char *routine = "IoUninitializeWorkItem";
    check_item(routine, IoWorkItem);
    check_not_queued(routine, IoWorkItem);
    IoWorkItem->magic = 0;
}

VOID ExQueueWorkItem(PWORK_QUEUE_ITEM WorkItem, WORK_QUEUE_TYPE QueueType)
{
    (void)QueueType;
    const char *routine = "ExQueueWorkItem";
    kshim_require_irql_at_most(routine, DISPATCH_LEVEL);
    work_job_t *job = job_copy(routine, &(work_job_t){.ex_item = WorkItem,
                                                     .ex_routine = WorkItem->WorkerRoutine,
                                                     .context = WorkItem->Parameter});
    kshim_dispatcher_lock();
    if (WorkItem->List.Flink != NULL) {
        kshim_dispatcher_unlock();
        kshim_recycler_give(&job_recycler, job);
        kshim_stop("WORK_ITEM_QUEUED_TWICE",
                   "%s: work queue item %p is already queued (or was not set up with ExInitializeWorkItem)",
                   routine, (void *)WorkItem);
    }
    WorkItem->List.Flink = &WorkItem->List;
    kshim_owned_work_list_locked(&job->owned, KSHIM_WORK_EX_WORK_ITEM, (const void *)job->ex_routine);
    kshim_pending_work_add_locked();
    kshim_dispatcher_unlock();
    kshim_dispatcher_thread_create(worker_main, job, false);
}
