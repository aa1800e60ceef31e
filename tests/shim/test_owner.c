/* SPDX-License-Identifier: MIT */
/*
 * test_owner.c - owner attribution (kshim.h): the current owner, the work and pool an owner
 * has outstanding, routines running with their work's owner, the run hook, kshim_reset.
 */
#include <string.h>

#include <kshim/kshim.h>
#include <ntddk.h>

#include "nmr_test.h"

static const char driver_a[] = "driver A";
static const char driver_b[] = "driver B";

typedef struct seen_work {
    unsigned count;
    kshim_work_kind_t kinds[8];
    const void *routines[8];
    bool running[8];
} seen_work_t;

static void record_work(void *context, kshim_work_kind_t kind, const void *routine, bool running)
{
    seen_work_t *seen = context;
    if (seen->count < 8) {
        seen->kinds[seen->count] = kind;
        seen->routines[seen->count] = routine;
        seen->running[seen->count] = running;
    }
    seen->count++;
}

typedef struct seen_pool {
    unsigned count;
    ULONG tags[8];
    size_t sizes[8];
    char sites[8][64];
} seen_pool_t;

static void record_pool(void *context, ULONG tag, size_t size, const char *site)
{
    seen_pool_t *seen = context;
    if (seen->count < 8) {
        seen->tags[seen->count] = tag;
        seen->sizes[seen->count] = size;
        snprintf(seen->sites[seen->count], sizeof seen->sites[0], "%s", site);
    }
    seen->count++;
}

NMR_TEST(owner_swap_returns_the_previous_owner_and_the_harness_is_null)
{
    CHECK(kshim_owner_current() == NULL);
    CHECK(kshim_owner_swap(driver_a) == NULL);
    CHECK(kshim_owner_current() == driver_a);
    CHECK(kshim_owner_swap(driver_b) == driver_a);
    CHECK(kshim_owner_swap(NULL) == driver_b);
    CHECK(kshim_owner_current() == NULL);
}

NMR_TEST(pool_allocated_under_an_owner_is_listed_for_that_owner_until_freed)
{
    kshim_owner_swap(driver_a);
    void *a = ExAllocatePool2(POOL_FLAG_NON_PAGED, 24, 'AvrD'); int a_line = __LINE__;
    kshim_owner_swap(driver_b);
    void *b = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, 'BvrD');
    kshim_owner_swap(NULL);
    void *harness = ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Hrns');

    seen_pool_t seen = {0};
    CHECK_EQ(kshim_owner_live_pool(driver_a, record_pool, &seen), 1);
    CHECK_EQ(seen.count, 1);
    CHECK_EQ(seen.tags[0], 'AvrD');
    CHECK_EQ(seen.sizes[0], 24);
    char site[64];
    snprintf(site, sizeof site, "test_owner.c:%d", a_line);
    CHECK(strcmp(seen.sites[0], site) == 0);
    CHECK_EQ(kshim_owner_live_pool(driver_b, NULL, NULL), 1);
    CHECK(kshim_owner_live_pool(NULL, NULL, NULL) >= 1);

    ExFreePoolWithTag(a, 'AvrD');
    CHECK_EQ(kshim_owner_live_pool(driver_a, NULL, NULL), 0);
    CHECK_EQ(kshim_owner_live_pool(driver_b, NULL, NULL), 1);
    ExFreePoolWithTag(b, 'BvrD');
    ExFreePoolWithTag(harness, 'Hrns');
    CHECK_EQ(kshim_owner_live_pool(driver_b, NULL, NULL), 0);
}

typedef struct owned_context {
    KEVENT started;
    KEVENT release;
    const void *owner_inside;
    void *allocation;
} owned_context_t;

static void init_owned(owned_context_t *c)
{
    memset(c, 0, sizeof *c);
    KeInitializeEvent(&c->started, NotificationEvent, FALSE);
    KeInitializeEvent(&c->release, NotificationEvent, FALSE);
}

/* Records the owner, allocates (so the pool is attributed), waits to be released. */
static void owned_body(owned_context_t *c)
{
    c->owner_inside = kshim_owner_current();
    c->allocation = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'kroW');
    KeSetEvent(&c->started, IO_NO_INCREMENT, FALSE);
    KeWaitForSingleObject(&c->release, Executive, KernelMode, FALSE, NULL);
}

static VOID io_routine(PDEVICE_OBJECT device, PVOID context)
{
    (void)device;
    owned_body(context);
}

static VOID ex_routine(PVOID context)
{
    owned_body(context);
}

static VOID system_routine(PVOID context)
{
    owned_body(context);
}

/* Runs one kind of work queued under driver_a; checks it is listed, then listed as
   running, runs with driver_a current, attributes its pool, and is gone when it returns. */
static void check_owned_work(kshim_work_kind_t kind, const void *routine, void (*queue)(owned_context_t *))
{
    owned_context_t c;
    init_owned(&c);
    kshim_owner_swap(driver_a);
    queue(&c);
    kshim_owner_swap(NULL);
    CHECK(kshim_owner_current() == NULL);

    KeWaitForSingleObject(&c.started, Executive, KernelMode, FALSE, NULL);
    seen_work_t seen = {0};
    CHECK_EQ(kshim_owner_live_work(driver_a, record_work, &seen), 1);
    CHECK_EQ(seen.count, 1);
    CHECK_EQ(seen.kinds[0], kind);
    CHECK(seen.routines[0] == routine);
    CHECK(seen.running[0]);
    CHECK_EQ(kshim_owner_live_work(driver_b, NULL, NULL), 0);
    CHECK(c.owner_inside == driver_a);
    /* Its allocation, plus the work item or the thread object queued under the owner. */
    CHECK_EQ(kshim_owner_live_pool(driver_a, NULL, NULL), 1 + (kind != KSHIM_WORK_EX_WORK_ITEM));

    KeSetEvent(&c.release, IO_NO_INCREMENT, FALSE);
    kshim_drain_pending_work();
    CHECK_EQ(kshim_owner_live_work(driver_a, NULL, NULL), 0);
    ExFreePoolWithTag(c.allocation, 'kroW');
}

static PIO_WORKITEM io_item;

static void queue_io(owned_context_t *c)
{
    io_item = IoAllocateWorkItem(NULL);
    IoQueueWorkItem(io_item, io_routine, DelayedWorkQueue, c);
}

NMR_TEST(io_work_item_belongs_to_the_owner_that_queued_it_until_its_routine_returns)
{
    check_owned_work(KSHIM_WORK_IO_WORK_ITEM, (const void *)io_routine, queue_io);
    IoFreeWorkItem(io_item);
    CHECK_EQ(kshim_owner_live_pool(driver_a, NULL, NULL), 0);
}

static WORK_QUEUE_ITEM ex_item;

static void queue_ex(owned_context_t *c)
{
    ExInitializeWorkItem(&ex_item, ex_routine, c);
    ExQueueWorkItem(&ex_item, DelayedWorkQueue);
}

NMR_TEST(ex_work_item_belongs_to_the_owner_that_queued_it_until_its_routine_returns)
{
    check_owned_work(KSHIM_WORK_EX_WORK_ITEM, (const void *)ex_routine, queue_ex);
}

static HANDLE system_handle;

static void start_system(owned_context_t *c)
{
    CHECK_STATUS(PsCreateSystemThread(&system_handle, THREAD_ALL_ACCESS, NULL, NULL, NULL,
                                      system_routine, c),
                 STATUS_SUCCESS);
}

NMR_TEST(system_thread_belongs_to_the_owner_that_created_it_until_it_ends)
{
    check_owned_work(KSHIM_WORK_SYSTEM_THREAD, (const void *)system_routine, start_system);
    /* The thread object is the owner's pool until the handle is closed. */
    CHECK_EQ(kshim_owner_live_pool(driver_a, NULL, NULL), 1);
    ZwClose(system_handle);
    CHECK_EQ(kshim_owner_live_pool(driver_a, NULL, NULL), 0);
}

NMR_TEST(queued_work_is_listed_as_not_running_before_it_starts)
{
    owned_context_t c;
    init_owned(&c);
    kshim_work_hold(true);
    kshim_owner_swap(driver_b);
    queue_ex(&c);
    kshim_owner_swap(NULL);
    seen_work_t seen = {0};
    CHECK_EQ(kshim_owner_live_work(driver_b, record_work, &seen), 1);
    CHECK_EQ(seen.kinds[0], KSHIM_WORK_EX_WORK_ITEM);
    CHECK(!seen.running[0]);
    kshim_work_hold(false);
    KeSetEvent(&c.release, IO_NO_INCREMENT, FALSE);
    kshim_drain_pending_work();
    CHECK_EQ(kshim_owner_live_work(driver_b, NULL, NULL), 0);
    ExFreePoolWithTag(c.allocation, 'kroW');
}

static struct {
    unsigned calls;
    const void *owner;
    kshim_work_kind_t kind;
    const void *routine;
    const void *current_in_hook;
} hook_seen;

static void run_hook(const void *owner, kshim_work_kind_t kind, const void *routine)
{
    hook_seen.calls++;
    hook_seen.owner = owner;
    hook_seen.kind = kind;
    hook_seen.routine = routine;
    hook_seen.current_in_hook = kshim_owner_current();
}

NMR_TEST(run_hook_is_called_with_the_owner_current_before_an_owned_routine_starts)
{
    kshim_set_owner_run_hook(run_hook);
    owned_context_t c;
    init_owned(&c);
    KeSetEvent(&c.release, IO_NO_INCREMENT, FALSE);
    queue_ex(&c); /* the harness's own work: no hook */
    kshim_drain_pending_work();
    CHECK_EQ(hook_seen.calls, 0);
    ExFreePoolWithTag(c.allocation, 'kroW');

    kshim_owner_swap(driver_a);
    queue_ex(&c);
    kshim_owner_swap(NULL);
    kshim_drain_pending_work();
    CHECK_EQ(hook_seen.calls, 1);
    CHECK(hook_seen.owner == driver_a);
    CHECK_EQ(hook_seen.kind, KSHIM_WORK_EX_WORK_ITEM);
    CHECK(hook_seen.routine == (const void *)ex_routine);
    CHECK(hook_seen.current_in_hook == driver_a);
    ExFreePoolWithTag(c.allocation, 'kroW');
    kshim_set_owner_run_hook(NULL);
}

NMR_TEST(reset_forgets_every_owner)
{
    owned_context_t c;
    init_owned(&c);
    kshim_work_hold(true);
    kshim_owner_swap(driver_a);
    void *p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, 'AvrD');
    queue_ex(&c);
    CHECK_EQ(kshim_owner_live_work(driver_a, NULL, NULL), 1);
    CHECK_EQ(kshim_owner_live_pool(driver_a, NULL, NULL), 1);
    kshim_reset();
    CHECK(kshim_owner_current() == NULL);
    CHECK_EQ(kshim_owner_live_work(driver_a, NULL, NULL), 0);
    CHECK_EQ(kshim_owner_live_pool(driver_a, NULL, NULL), 0);
    kshim_work_hold(false);
    KeSetEvent(&c.release, IO_NO_INCREMENT, FALSE);
    kshim_drain_pending_work();
    CHECK(c.owner_inside == NULL);
    ExFreePoolWithTag(c.allocation, 'kroW');
    ExFreePoolWithTag(p, 'AvrD');
}
