/* SPDX-License-Identifier: MIT */
/*
 * test_workitem.c - work items, system threads and thread objects, device objects.
 */
#include <string.h>

#include <kshim/kshim.h>
#include <ntddk.h>

#include "nmr_test.h"

typedef struct work_context {
    KEVENT done;
    LONG runs;
    KIRQL irql;
    BOOLEAN system;
    PIO_WORKITEM item;
} work_context_t;

static void init_context(work_context_t *c)
{
    memset(c, 0, sizeof *c);
    KeInitializeEvent(&c->done, NotificationEvent, FALSE);
}

static VOID count_and_signal(PDEVICE_OBJECT device, PVOID context)
{
    (void)device;
    work_context_t *c = context;
    c->irql = KeGetCurrentIrql();
    c->system = PsIsSystemThread(PsGetCurrentThread());
    InterlockedIncrement(&c->runs);
    KeSetEvent(&c->done, IO_NO_INCREMENT, FALSE);
}

NMR_TEST(io_work_item_runs_once_at_passive_level_on_a_system_thread)
{
    work_context_t c;
    init_context(&c);
    size_t base = kshim_pool_live_count();
    PIO_WORKITEM item = IoAllocateWorkItem(NULL);
    CHECK(item != NULL);
    CHECK_EQ(kshim_pool_live_count_by_tag(KSHIM_TAG_WORK_ITEM), 1);
    IoQueueWorkItem(item, count_and_signal, DelayedWorkQueue, &c);
    KeWaitForSingleObject(&c.done, Executive, KernelMode, FALSE, NULL);
    kshim_drain_pending_work();
    CHECK_EQ(c.runs, 1);
    CHECK_EQ(c.irql, PASSIVE_LEVEL);
    CHECK(c.system);
    IoFreeWorkItem(item);
    kshim_audit(base);
}

static VOID free_own_item(PVOID io_object, PVOID context, PIO_WORKITEM item)
{
    (void)io_object;
    work_context_t *c = context;
    IoFreeWorkItem(item);
    InterlockedIncrement(&c->runs);
}

NMR_TEST(work_item_that_frees_itself_leaves_nothing_behind)
{
    work_context_t c;
    init_context(&c);
    size_t base = kshim_pool_live_count();
    PIO_WORKITEM item = IoAllocateWorkItem(NULL);
    IoQueueWorkItemEx(item, free_own_item, NormalWorkQueue, &c);
    kshim_drain_pending_work();
    CHECK_EQ(c.runs, 1);
    kshim_audit(base);
}

static VOID requeue_once(PVOID io_object, PVOID context, PIO_WORKITEM item)
{
    (void)io_object;
    work_context_t *c = context;
    if (InterlockedIncrement(&c->runs) == 1) {
        IoQueueWorkItemEx(item, requeue_once, DelayedWorkQueue, c);
    }
}

NMR_TEST(work_item_may_requeue_itself_from_its_routine)
{
    work_context_t c;
    init_context(&c);
    PIO_WORKITEM item = IoAllocateWorkItem(NULL);
    IoQueueWorkItemEx(item, requeue_once, DelayedWorkQueue, &c);
    kshim_drain_pending_work();
    CHECK_EQ(c.runs, 2);
    IoFreeWorkItem(item);
}

static VOID do_nothing(PDEVICE_OBJECT device, PVOID context)
{
    (void)device;
    (void)context;
}

NMR_TEST(work_item_queued_twice_stops)
{
    EXPECT_STOP("*** KSHIM STOP WORK_ITEM_QUEUED_TWICE: IoQueueWorkItem", {
        PIO_WORKITEM item = IoAllocateWorkItem(NULL);
        kshim_work_hold(true);
        IoQueueWorkItem(item, do_nothing, DelayedWorkQueue, NULL);
        IoQueueWorkItem(item, do_nothing, DelayedWorkQueue, NULL);
    });
}

NMR_TEST(work_item_freed_while_queued_stops)
{
    EXPECT_STOP("*** KSHIM STOP WORK_ITEM_FREED_WHILE_QUEUED: IoFreeWorkItem", {
        PIO_WORKITEM item = IoAllocateWorkItem(NULL);
        kshim_work_hold(true);
        IoQueueWorkItem(item, do_nothing, DelayedWorkQueue, NULL);
        IoFreeWorkItem(item);
    });
}

NMR_TEST(executive_work_item_queued_twice_stops)
{
    EXPECT_STOP("*** KSHIM STOP WORK_ITEM_QUEUED_TWICE: ExQueueWorkItem", {
        static WORK_QUEUE_ITEM item;
        ExInitializeWorkItem(&item, (PWORKER_THREAD_ROUTINE)NULL, NULL);
        kshim_work_hold(true);
        ExQueueWorkItem(&item, DelayedWorkQueue);
        ExQueueWorkItem(&item, DelayedWorkQueue);
    });
}

NMR_TEST(held_work_stays_pending_until_released)
{
    work_context_t c;
    init_context(&c);
    PIO_WORKITEM item = IoAllocateWorkItem(NULL);
    kshim_work_hold(true);
    IoQueueWorkItem(item, count_and_signal, DelayedWorkQueue, &c);
    CHECK_EQ(kshim_pending_work_count(), 1);
    LARGE_INTEGER timeout = {.QuadPart = -10 * 10000};
    CHECK_STATUS(KeWaitForSingleObject(&c.done, Executive, KernelMode, FALSE, &timeout), STATUS_TIMEOUT);
    kshim_work_hold(false);
    kshim_drain_pending_work();
    CHECK_EQ(c.runs, 1);
    IoFreeWorkItem(item);
}

NMR_TEST(draining_while_work_is_held_stops)
{
    EXPECT_STOP("*** KSHIM STOP WORK_HELD_DURING_DRAIN:", {
        PIO_WORKITEM item = IoAllocateWorkItem(NULL);
        kshim_work_hold(true);
        IoQueueWorkItem(item, do_nothing, DelayedWorkQueue, NULL);
        kshim_drain_pending_work();
    });
}

static VOID return_at_dispatch(PDEVICE_OBJECT device, PVOID context)
{
    (void)device;
    (void)context;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
}

NMR_TEST(work_item_returning_at_raised_irql_stops)
{
    EXPECT_STOP("*** KSHIM STOP THREAD_EXIT_WITH_IRQL_RAISED: work item", {
        PIO_WORKITEM item = IoAllocateWorkItem(NULL);
        IoQueueWorkItem(item, return_at_dispatch, DelayedWorkQueue, NULL);
        kshim_drain_pending_work();
    });
}

static VOID return_in_critical_region(PVOID parameter)
{
    (void)parameter;
    KeEnterCriticalRegion();
}

NMR_TEST(work_item_returning_inside_a_critical_region_stops)
{
    EXPECT_STOP("*** KSHIM STOP THREAD_EXIT_HOLDING_LOCK: work item", {
        static WORK_QUEUE_ITEM item;
        ExInitializeWorkItem(&item, return_in_critical_region, NULL);
        ExQueueWorkItem(&item, DelayedWorkQueue);
        kshim_drain_pending_work();
    });
}

static VOID executive_work(PVOID parameter)
{
    work_context_t *c = parameter;
    InterlockedIncrement(&c->runs);
}

NMR_TEST(executive_work_item_runs_its_routine_with_the_parameter)
{
    work_context_t c;
    WORK_QUEUE_ITEM item;
    init_context(&c);
    ExInitializeWorkItem(&item, executive_work, &c);
    ExQueueWorkItem(&item, DelayedWorkQueue);
    kshim_drain_pending_work();
    CHECK_EQ(c.runs, 1);
    CHECK(item.List.Flink == NULL);
    CHECK_EQ(kshim_pending_work_count(), 0);
}

NMR_TEST(caller_allocated_work_item_runs_and_uninitializes)
{
    work_context_t c;
    init_context(&c);
    PIO_WORKITEM item = ExAllocatePool2(POOL_FLAG_NON_PAGED, IoSizeofWorkItem(), KSHIM_POOL_TAG('W', 'k', 'I', 't'));
    CHECK(item != NULL);
    IoInitializeWorkItem(NULL, item);
    IoQueueWorkItem(item, count_and_signal, DelayedWorkQueue, &c);
    kshim_drain_pending_work();
    IoUninitializeWorkItem(item);
    ExFreePool(item);
    CHECK_EQ(c.runs, 1);
}

static VOID system_thread_routine(PVOID context)
{
    work_context_t *c = context;
    c->irql = KeGetCurrentIrql();
    c->system = PsIsSystemThread(PsGetCurrentThread());
    InterlockedIncrement(&c->runs);
    PsTerminateSystemThread(STATUS_CANCELLED);
}

NMR_TEST(system_thread_runs_and_its_thread_object_can_be_waited_on)
{
    work_context_t c;
    HANDLE handle;
    PVOID thread;
    OBJECT_ATTRIBUTES attributes;
    init_context(&c);
    size_t base = kshim_pool_live_count();
    InitializeObjectAttributes(&attributes, NULL, OBJ_KERNEL_HANDLE, NULL, NULL);
    CHECK_STATUS(PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, &attributes, NULL, NULL,
                                      system_thread_routine, &c),
                 STATUS_SUCCESS);
    CHECK_STATUS(ObReferenceObjectByHandle(handle, SYNCHRONIZE, *PsThreadType, KernelMode, &thread, NULL),
                 STATUS_SUCCESS);
    CHECK_STATUS(ZwClose(handle), STATUS_SUCCESS);
    CHECK_STATUS(KeWaitForSingleObject(thread, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    CHECK_STATUS(PsGetThreadExitStatus(thread), STATUS_CANCELLED);
    ObDereferenceObject(thread);
    CHECK_EQ(c.runs, 1);
    CHECK_EQ(c.irql, PASSIVE_LEVEL);
    CHECK(c.system);
    kshim_audit(base);
}

NMR_TEST(system_thread_handle_not_closed_shows_in_the_pool_audit)
{
    work_context_t c;
    HANDLE handle;
    init_context(&c);
    size_t base = kshim_pool_live_count();
    CHECK_STATUS(PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, NULL, NULL, NULL,
                                      system_thread_routine, &c),
                 STATUS_SUCCESS);
    kshim_drain_pending_work();
    CHECK_EQ(kshim_pool_live_count(), base + 1);
    CHECK_EQ(kshim_pool_live_count_by_tag(KSHIM_TAG_THREAD), 1);
    ZwClose(handle);
    CHECK_EQ(kshim_pool_live_count(), base);
}

NMR_TEST(terminate_system_thread_on_another_thread_is_rejected)
{
    CHECK_STATUS(PsTerminateSystemThread(STATUS_SUCCESS), STATUS_INVALID_PARAMETER);
}

NMR_TEST(closing_a_handle_twice_stops)
{
    EXPECT_STOP("*** KSHIM STOP INVALID_KERNEL_HANDLE: ZwClose", {
        work_context_t c;
        HANDLE handle;
        init_context(&c);
        PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, system_thread_routine, &c);
        ZwClose(handle);
        ZwClose(handle);
    });
}

NMR_TEST(reference_by_an_unknown_handle_fails)
{
    PVOID object = (PVOID)1;
    CHECK_STATUS(ObReferenceObjectByHandle((HANDLE)(ULONG_PTR)0x1234, 0, *PsThreadType, KernelMode,
                                           &object, NULL),
                 STATUS_INVALID_HANDLE);
    CHECK(object == NULL);
}

NMR_TEST(current_thread_handle_references_the_calling_thread)
{
    PVOID object;
    CHECK_STATUS(ObReferenceObjectByHandle(NtCurrentThread(), 0, *PsThreadType, KernelMode, &object, NULL),
                 STATUS_SUCCESS);
    CHECK(object == (PVOID)KeGetCurrentThread());
    ObDereferenceObject(object);
}

NMR_TEST(create_system_thread_at_dispatch_level_stops)
{
    EXPECT_STOP("*** KSHIM STOP IRQL_TOO_HIGH: PsCreateSystemThread", {
        HANDLE handle;
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, system_thread_routine, NULL);
    });
}

static VOID return_holding_spin_lock(PVOID context)
{
    static KSPIN_LOCK lock;
    KIRQL old;
    (void)context;
    KeInitializeSpinLock(&lock);
    KeAcquireSpinLock(&lock, &old);
    KeLowerIrql(old);
}

NMR_TEST(system_thread_returning_with_a_spin_lock_held_stops)
{
    EXPECT_STOP("*** KSHIM STOP THREAD_EXIT_HOLDING_LOCK: system thread", {
        HANDLE handle;
        PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, return_holding_spin_lock, NULL);
        kshim_drain_pending_work();
    });
}

NMR_TEST(io_create_device_allocates_a_zeroed_extension_and_links_the_device)
{
    DRIVER_OBJECT driver;
    PDEVICE_OBJECT device, second;
    memset(&driver, 0, sizeof driver);
    size_t base = kshim_pool_live_count();
    CHECK_STATUS(IoCreateDevice(&driver, 40, NULL, FILE_DEVICE_NETWORK, FILE_DEVICE_SECURE_OPEN, FALSE, &device),
                 STATUS_SUCCESS);
    CHECK(device != NULL);
    CHECK(driver.DeviceObject == device);
    CHECK(device->DriverObject == &driver);
    CHECK(device->Flags & DO_DEVICE_INITIALIZING);
    CHECK(device->DeviceExtension != NULL);
    CHECK_EQ(((unsigned char *)device->DeviceExtension)[39], 0);
    CHECK_EQ(kshim_pool_live_count_by_tag(KSHIM_TAG_DEVICE), 1);
    CHECK_STATUS(IoCreateDevice(&driver, 0, NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &second), STATUS_SUCCESS);
    CHECK(driver.DeviceObject == second && second->NextDevice == device);
    IoDeleteDevice(device);
    CHECK(driver.DeviceObject == second && second->NextDevice == NULL);
    IoDeleteDevice(second);
    CHECK(driver.DeviceObject == NULL);
    kshim_audit(base);
}

NMR_TEST(io_create_device_with_a_name_in_use_fails_with_collision)
{
    static const WCHAR name_text[] = {'\\', 'D', 'e', 'v', 'i', 'c', 'e', '\\', 'N', 0};
    DRIVER_OBJECT driver;
    UNICODE_STRING name;
    PDEVICE_OBJECT device, other;
    memset(&driver, 0, sizeof driver);
    RtlInitUnicodeString(&name, name_text);
    CHECK_STATUS(IoCreateDevice(&driver, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &device), STATUS_SUCCESS);
    CHECK_STATUS(IoCreateDevice(&driver, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &other),
                 STATUS_OBJECT_NAME_COLLISION);
    CHECK(other == NULL);
    IoDeleteDevice(device);
}

NMR_TEST(io_create_device_at_dispatch_level_stops)
{
    EXPECT_STOP("*** KSHIM STOP IRQL_TOO_HIGH: IoCreateDevice", {
        DRIVER_OBJECT driver;
        PDEVICE_OBJECT device;
        KIRQL old;
        memset(&driver, 0, sizeof driver);
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        IoCreateDevice(&driver, 0, NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
    });
}

NMR_TEST(io_delete_device_of_an_unknown_object_stops)
{
    EXPECT_STOP("*** KSHIM STOP DEVICE_OBJECT_UNKNOWN: IoDeleteDevice", {
        DEVICE_OBJECT fake;
        IoDeleteDevice(&fake);
    });
}

static void end_at_dispatch(void *arg)
{
    KIRQL old;
    (void)arg;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
}

NMR_TEST(harness_thread_ending_at_raised_irql_stops)
{
    EXPECT_STOP("*** KSHIM STOP THREAD_EXIT_WITH_IRQL_RAISED: harness thread 'late'", {
        kshim_thread_join(kshim_thread_start("late", end_at_dispatch, NULL));
    });
}

static void end_holding_push_lock(void *arg)
{
    KeEnterCriticalRegion();
    ExAcquirePushLockShared((PEX_PUSH_LOCK)arg);
}

NMR_TEST(harness_thread_ending_with_a_push_lock_held_stops)
{
    EXPECT_STOP("*** KSHIM STOP THREAD_EXIT_HOLDING_LOCK: harness thread 'reader'", {
        static EX_PUSH_LOCK lock;
        ExInitializePushLock(&lock);
        kshim_thread_join(kshim_thread_start("reader", end_holding_push_lock, &lock));
    });
}

NMR_TEST(dereferencing_a_thread_object_too_often_stops)
{
    EXPECT_STOP("*** KSHIM STOP OBJECT_", {
        work_context_t c;
        HANDLE handle;
        PVOID thread;
        init_context(&c);
        PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, system_thread_routine, &c);
        ObReferenceObjectByHandle(handle, SYNCHRONIZE, *PsThreadType, KernelMode, &thread, NULL);
        ZwClose(handle);
        KeWaitForSingleObject(thread, Executive, KernelMode, FALSE, NULL);
        kshim_drain_pending_work();
        ObDereferenceObject(thread); /* the last reference: the object is gone */
        ObDereferenceObject(thread);
    });
}

NMR_TEST(referencing_something_that_is_not_an_object_stops)
{
    EXPECT_STOP("*** KSHIM STOP OBJECT_UNKNOWN: ObReferenceObject", {
        static int not_an_object;
        ObReferenceObject(&not_an_object);
    });
}

NMR_TEST(wait_for_multiple_objects_above_the_maximum_stops)
{
    EXPECT_STOP("*** KSHIM STOP WAIT_INVALID_PARAMETER: KeWaitForMultipleObjects", {
        static PVOID objects[MAXIMUM_WAIT_OBJECTS + 1];
        static KWAIT_BLOCK blocks[MAXIMUM_WAIT_OBJECTS + 1];
        KeWaitForMultipleObjects(MAXIMUM_WAIT_OBJECTS + 1, objects, WaitAny, Executive, KernelMode,
                                 FALSE, NULL, blocks);
    });
}

NMR_TEST(wait_on_a_system_thread_with_a_timeout_succeeds_when_it_ends)
{
    work_context_t c;
    HANDLE handle;
    PVOID thread;
    init_context(&c);
    CHECK_STATUS(PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, system_thread_routine, &c),
                 STATUS_SUCCESS);
    CHECK_STATUS(ObReferenceObjectByHandle(handle, SYNCHRONIZE, NULL, KernelMode, &thread, NULL), STATUS_SUCCESS);
    ZwClose(handle);
    LARGE_INTEGER timeout = {.QuadPart = -5000LL * 10000};
    CHECK_STATUS(KeWaitForSingleObject(thread, Executive, KernelMode, FALSE, &timeout), STATUS_SUCCESS);
    CHECK(PsIsSystemThread(thread));
    ObDereferenceObject(thread);
}

/* ---- recycled thread objects (kshim_recycle.c) ---------------------------------------- */

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_WORKITEM_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TEST_WORKITEM_ASAN 1
#endif
#ifdef TEST_WORKITEM_ASAN
#include <sanitizer/asan_interface.h>
#endif

static void record_current_thread(void *arg)
{
    *(PKTHREAD *)arg = KeGetCurrentThread();
}

/* Thread objects are reused across fuzz inputs, never within one: until kshim_sched_reset a
   finished thread's object goes to no other thread, and under ASan it stays poisoned, so a
   stale PKTHREAD is caught. */
NMR_TEST(finished_thread_object_is_not_reused_before_the_scheduler_resets)
{
    PKTHREAD first = NULL;
    kshim_thread_join(kshim_thread_start("first", record_current_thread, &first));
    CHECK(first != NULL);
#ifdef TEST_WORKITEM_ASAN
    CHECK(__asan_address_is_poisoned(first));
#endif
    for (int i = 0; i < 8; i++) {
        PKTHREAD other = NULL;
        kshim_thread_join(kshim_thread_start("other", record_current_thread, &other));
        CHECK(other != NULL);
        CHECK(other != first);
    }
    kshim_sched_reset();
    PKTHREAD next = NULL;
    kshim_thread_join(kshim_thread_start("next", record_current_thread, &next));
    CHECK(next != NULL);
}

/* The harness's hook runs after the shim's line; here it ends the child the way
   EXPECT_STOP expects (a sanitizer alone would exit with its own status). */
static void abort_after_use_after_poison(const char *report)
{
    CHECK(strstr(report, "use-after-poison") != NULL);
    abort();
}

/* A recycled object's use after free is a "use-after-poison" to ASan: the shim says what the
   object was. */
NMR_TEST(asan_report_of_a_stale_thread_object_names_it)
{
#ifndef TEST_WORKITEM_ASAN
    nmr_test_skip("needs AddressSanitizer (the asan and fuzz presets)");
#endif
    EXPECT_STOP("*** KSHIM USE AFTER FREE: ", {
        kshim_set_sanitizer_report_hook(abort_after_use_after_poison);
        PKTHREAD stale = NULL;
        kshim_thread_join(kshim_thread_start("stale", record_current_thread, &stale));
        (void)*(volatile char *)stale;
    });
    const char *line = strstr(nmr_test_last_child_output(), "*** KSHIM USE AFTER FREE: ");
    CHECK(strstr(line, "is 0 bytes into a thread object (KTHREAD)") != NULL);
    CHECK(strstr(line, "freed in this input") != NULL);
}
