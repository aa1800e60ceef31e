/* SPDX-License-Identifier: MIT */
/*
 * test_threads.c - the primitives across real threads (harness threads, work items, system
 * threads): wake-ups, contention, rundown waits, and a 4-thread hammer that must be clean
 * under ThreadSanitizer.
 */
#include <string.h>

#include <kshim/kshim.h>
#include <ntddk.h>

#include "nmr_test.h"

#define TAG KSHIM_POOL_TAG('T', 'h', 'r', 'T')

static LARGE_INTEGER relative_ms(LONGLONG ms)
{
    LARGE_INTEGER t;
    t.QuadPart = -ms * 10000;
    return t;
}

static void record_name(void *arg)
{
    char *out = arg;
    snprintf(out, 32, "%s", kshim_thread_current_name());
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

NMR_TEST(harness_threads_are_named_passive_kernel_threads)
{
    char name[32] = "";
    kshim_thread_t *t = kshim_thread_start("worker-one", record_name, name);
    kshim_thread_join(t);
    CHECK(strcmp(name, "worker-one") == 0);
    CHECK(strcmp(kshim_thread_current_name(), "main") == 0);
}

static void record_thread_object(void *arg)
{
    PKTHREAD *out = arg;
    *out = KeGetCurrentThread();
}

NMR_TEST(each_thread_has_its_own_thread_object)
{
    PKTHREAD self = KeGetCurrentThread();
    PKTHREAD other = NULL;
    kshim_thread_t *t = kshim_thread_start("object", record_thread_object, &other);
    kshim_thread_join(t);
    CHECK(other != NULL);
    CHECK(other != self);
    CHECK(KeGetCurrentThread() == self);
}

typedef struct wake_test {
    KEVENT go;
    KEVENT done;
    LONG woken;
} wake_test_t;

static void wait_then_signal(void *arg)
{
    wake_test_t *w = arg;
    CHECK_STATUS(KeWaitForSingleObject(&w->go, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    InterlockedIncrement(&w->woken);
    KeSetEvent(&w->done, IO_NO_INCREMENT, FALSE);
}

NMR_TEST(set_event_wakes_a_waiter_on_another_thread)
{
    wake_test_t w;
    memset(&w, 0, sizeof w);
    KeInitializeEvent(&w.go, NotificationEvent, FALSE);
    KeInitializeEvent(&w.done, NotificationEvent, FALSE);
    kshim_thread_t *t = kshim_thread_start("waiter", wait_then_signal, &w);
    LARGE_INTEGER short_wait = relative_ms(20);
    CHECK_STATUS(KeWaitForSingleObject(&w.done, Executive, KernelMode, FALSE, &short_wait), STATUS_TIMEOUT);
    KeSetEvent(&w.go, IO_NO_INCREMENT, FALSE);
    CHECK_STATUS(KeWaitForSingleObject(&w.done, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    kshim_thread_join(t);
    CHECK_EQ(w.woken, 1);
}

typedef struct sync_test {
    KEVENT gate;
    LONG passed;
} sync_test_t;

static void pass_gate(void *arg)
{
    sync_test_t *s = arg;
    KeWaitForSingleObject(&s->gate, Executive, KernelMode, FALSE, NULL);
    InterlockedIncrement(&s->passed);
}

NMR_TEST(synchronization_event_releases_one_waiter_per_set)
{
    sync_test_t s;
    kshim_thread_t *threads[3];
    memset(&s, 0, sizeof s);
    KeInitializeEvent(&s.gate, SynchronizationEvent, FALSE);
    for (int i = 0; i < 3; i++) {
        threads[i] = kshim_thread_start("gate", pass_gate, &s);
    }
    for (int i = 1; i <= 3; i++) {
        KeSetEvent(&s.gate, IO_NO_INCREMENT, FALSE);
        LARGE_INTEGER step = relative_ms(1);
        while (ReadNoFence(&s.passed) < i) {
            KeDelayExecutionThread(KernelMode, FALSE, &step);
        }
        LARGE_INTEGER settle = relative_ms(10);
        KeDelayExecutionThread(KernelMode, FALSE, &settle);
        CHECK_EQ(ReadNoFence(&s.passed), i);
    }
    for (int i = 0; i < 3; i++) {
        kshim_thread_join(threads[i]);
    }
}

typedef struct event_in_pool {
    KEVENT event;
} event_in_pool_t;

static VOID set_pool_event(PDEVICE_OBJECT device, PVOID context)
{
    (void)device;
    KeSetEvent(&((event_in_pool_t *)context)->event, IO_NO_INCREMENT, FALSE);
}

NMR_TEST(an_event_may_be_freed_as_soon_as_its_waiter_wakes)
{
    PIO_WORKITEM item = IoAllocateWorkItem(NULL);
    for (int i = 0; i < 200; i++) {
        event_in_pool_t *e = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof *e, TAG);
        KeInitializeEvent(&e->event, NotificationEvent, FALSE);
        IoQueueWorkItem(item, set_pool_event, DelayedWorkQueue, e);
        KeWaitForSingleObject(&e->event, Executive, KernelMode, FALSE, NULL);
        ExFreePoolWithTag(e, TAG);
        kshim_drain_pending_work();
    }
    IoFreeWorkItem(item);
}

typedef struct contention {
    EX_PUSH_LOCK lock;
    KEVENT holding;
    LONG inside;
    LONG waiter_entered;
} contention_t;

static void take_exclusive(void *arg)
{
    contention_t *c = arg;
    KeEnterCriticalRegion();
    ExAcquirePushLockExclusive(&c->lock);
    InterlockedExchange(&c->waiter_entered, 1);
    CHECK_EQ(InterlockedIncrement(&c->inside), 1);
    InterlockedDecrement(&c->inside);
    ExReleasePushLockExclusive(&c->lock);
    KeLeaveCriticalRegion();
}

NMR_TEST(push_lock_exclusive_waits_for_shared_holders)
{
    contention_t c;
    memset(&c, 0, sizeof c);
    ExInitializePushLock(&c.lock);
    KeEnterCriticalRegion();
    ExAcquirePushLockShared(&c.lock);
    kshim_thread_t *t = kshim_thread_start("writer", take_exclusive, &c);
    LARGE_INTEGER wait = relative_ms(20);
    KeDelayExecutionThread(KernelMode, FALSE, &wait);
    CHECK_EQ(ReadNoFence(&c.waiter_entered), 0);
    ExReleasePushLockShared(&c.lock);
    KeLeaveCriticalRegion();
    kshim_thread_join(t);
    CHECK_EQ(c.waiter_entered, 1);
}

typedef struct rundown_test {
    EX_RUNDOWN_REF ref;
    KEVENT acquired;
    KEVENT release;
    LONG released;
} rundown_test_t;

static void hold_rundown(void *arg)
{
    rundown_test_t *r = arg;
    CHECK(ExAcquireRundownProtection(&r->ref));
    KeSetEvent(&r->acquired, IO_NO_INCREMENT, FALSE);
    KeWaitForSingleObject(&r->release, Executive, KernelMode, FALSE, NULL);
    InterlockedExchange(&r->released, 1);
    ExReleaseRundownProtection(&r->ref);
}

NMR_TEST(rundown_wait_blocks_until_the_last_reference_is_released)
{
    rundown_test_t r;
    memset(&r, 0, sizeof r);
    ExInitializeRundownProtection(&r.ref);
    KeInitializeEvent(&r.acquired, NotificationEvent, FALSE);
    KeInitializeEvent(&r.release, NotificationEvent, FALSE);
    kshim_thread_t *t = kshim_thread_start("holder", hold_rundown, &r);
    KeWaitForSingleObject(&r.acquired, Executive, KernelMode, FALSE, NULL);
    KeSetEvent(&r.release, IO_NO_INCREMENT, FALSE);
    ExWaitForRundownProtectionRelease(&r.ref);
    CHECK_EQ(ReadNoFence(&r.released), 1);
    CHECK(!ExAcquireRundownProtection(&r.ref));
    kshim_thread_join(t);
}

/* ---- hammer ------------------------------------------------------------------------------ */

#define HAMMER_THREADS 4
#define HAMMER_ROUNDS 2000

typedef struct hammer {
    KSPIN_LOCK spin;
    long spin_counter; /* protected by spin */
    EX_PUSH_LOCK push;
    long push_counter; /* protected by push (exclusive writes, shared reads) */
    KEVENT ping;       /* synchronization event, set by every round */
    EX_RUNDOWN_REF rundown;
    LONG interlocked;
    LONG64 interlocked64;
    LONG rundown_failures;
} hammer_t;

static void hammer_thread(void *arg)
{
    hammer_t *h = arg;
    LARGE_INTEGER zero = {.QuadPart = 0};
    for (int i = 0; i < HAMMER_ROUNDS; i++) {
        KIRQL old;
        KeAcquireSpinLock(&h->spin, &old);
        h->spin_counter++;
        KeReleaseSpinLock(&h->spin, old);

        KLOCK_QUEUE_HANDLE queued;
        KeAcquireInStackQueuedSpinLock(&h->spin, &queued);
        h->spin_counter++;
        KeReleaseInStackQueuedSpinLock(&queued);

        KeEnterCriticalRegion();
        if (i % 4 == 0) {
            ExAcquirePushLockExclusive(&h->push);
            h->push_counter++;
            ExReleasePushLockExclusive(&h->push);
        } else {
            ExAcquirePushLockShared(&h->push);
            volatile long seen = h->push_counter;
            (void)seen;
            ExReleasePushLockShared(&h->push);
        }
        KeLeaveCriticalRegion();

        KeSetEvent(&h->ping, IO_NO_INCREMENT, FALSE);
        KeWaitForSingleObject(&h->ping, Executive, KernelMode, FALSE, &zero);

        if (ExAcquireRundownProtection(&h->rundown)) {
            InterlockedIncrement(&h->interlocked);
            ExReleaseRundownProtection(&h->rundown);
        } else {
            InterlockedIncrement(&h->rundown_failures);
        }
        InterlockedAdd64(&h->interlocked64, 3);
    }
}

NMR_TEST(four_threads_hammer_every_primitive)
{
    static hammer_t h;
    kshim_thread_t *threads[HAMMER_THREADS];
    memset(&h, 0, sizeof h);
    KeInitializeSpinLock(&h.spin);
    ExInitializePushLock(&h.push);
    KeInitializeEvent(&h.ping, SynchronizationEvent, FALSE);
    ExInitializeRundownProtection(&h.rundown);
    for (int i = 0; i < HAMMER_THREADS; i++) {
        threads[i] = kshim_thread_start("hammer", hammer_thread, &h);
    }
    for (int i = 0; i < HAMMER_THREADS; i++) {
        kshim_thread_join(threads[i]);
    }
    ExWaitForRundownProtectionRelease(&h.rundown);
    CHECK_EQ(h.spin_counter, 2L * HAMMER_THREADS * HAMMER_ROUNDS);
    CHECK_EQ(h.push_counter, (long)HAMMER_THREADS * HAMMER_ROUNDS / 4);
    CHECK_EQ(h.interlocked, HAMMER_THREADS * HAMMER_ROUNDS);
    CHECK_EQ(h.rundown_failures, 0);
    CHECK_EQ(h.interlocked64, 3LL * HAMMER_THREADS * HAMMER_ROUNDS);
    kshim_audit((size_t)-1);
}

typedef struct pool_hammer {
    LONG failures;
} pool_hammer_t;

static void pool_thread(void *arg)
{
    pool_hammer_t *p = arg;
    void *blocks[16];
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 16; i++) {
            blocks[i] = ExAllocatePool2(POOL_FLAG_NON_PAGED, (SIZE_T)(8 + i * 8), TAG);
            if (blocks[i] == NULL) {
                InterlockedIncrement(&p->failures);
            }
        }
        for (int i = 0; i < 16; i++) {
            if (blocks[i]) {
                ExFreePoolWithTag(blocks[i], TAG);
            }
        }
    }
}

NMR_TEST(pool_and_fault_counting_are_thread_safe)
{
    pool_hammer_t p;
    kshim_thread_t *threads[HAMMER_THREADS];
    memset(&p, 0, sizeof p);
    size_t base = kshim_pool_live_count();
    kshim_fault_plan_t plan = {KSHIM_FAULT_OFF, 0, NULL, TAG};
    kshim_fault_set_plan(&plan);
    for (int i = 0; i < HAMMER_THREADS; i++) {
        threads[i] = kshim_thread_start("pool", pool_thread, &p);
    }
    for (int i = 0; i < HAMMER_THREADS; i++) {
        kshim_thread_join(threads[i]);
    }
    CHECK_EQ(p.failures, 0);
    CHECK_EQ(kshim_fault_eligible_calls(), HAMMER_THREADS * 200 * 16);
    kshim_audit(base);
}

static VOID system_worker(PVOID context)
{
    InterlockedIncrement((LONG *)context);
}

NMR_TEST(many_system_threads_and_work_items_all_finish)
{
    static LONG runs;
    HANDLE handles[8];
    size_t base = kshim_pool_live_count();
    for (int i = 0; i < 8; i++) {
        CHECK_STATUS(PsCreateSystemThread(&handles[i], THREAD_ALL_ACCESS, NULL, NULL, NULL, system_worker, &runs),
                     STATUS_SUCCESS);
    }
    WORK_QUEUE_ITEM items[8];
    for (int i = 0; i < 8; i++) {
        ExInitializeWorkItem(&items[i], system_worker, &runs);
        ExQueueWorkItem(&items[i], DelayedWorkQueue);
    }
    for (int i = 0; i < 8; i++) {
        PVOID thread;
        CHECK_STATUS(ObReferenceObjectByHandle(handles[i], SYNCHRONIZE, *PsThreadType, KernelMode, &thread, NULL),
                     STATUS_SUCCESS);
        ZwClose(handles[i]);
        KeWaitForSingleObject(thread, Executive, KernelMode, FALSE, NULL);
        ObDereferenceObject(thread);
    }
    kshim_drain_pending_work();
    CHECK_EQ(runs, 16);
    kshim_audit(base);
}

/* A running thread's own reference: releasing it (one dereference more than references taken)
   stops at once, before the object is freed under the thread. */
NMR_TEST(dereferencing_the_running_threads_own_reference_stops)
{
    PKTHREAD self = KeGetCurrentThread();
    EXPECT_STOP("*** KSHIM STOP OBJECT_REFERENCE_UNDERFLOW: ObDereferenceObject: thread object", {
        ObDereferenceObject(self);
    });
}

/* Waits until the creator has closed its handle (with real threads it may run first), then
   releases the one reference left: the thread's own. */
static VOID extra_dereference_of_self(PVOID context)
{
    KeWaitForSingleObject(context, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(KeGetCurrentThread());
}

NMR_TEST(a_system_thread_dereferencing_itself_once_too_often_stops)
{
    EXPECT_STOP("*** KSHIM STOP OBJECT_REFERENCE_UNDERFLOW: ObDereferenceObject: thread object", {
        static KEVENT handle_closed;
        KeInitializeEvent(&handle_closed, NotificationEvent, FALSE);
        HANDLE handle;
        CHECK_STATUS(PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, NULL, NULL, NULL,
                                          extra_dereference_of_self, &handle_closed),
                     STATUS_SUCCESS);
        ZwClose(handle); /* the handle's reference: the thread's own is its last */
        KeSetEvent(&handle_closed, IO_NO_INCREMENT, FALSE);
        kshim_drain_pending_work();
    });
}

/* Balanced references on a running thread stay legal: a reference taken and released, and the
   handle closed before the thread ends. */
NMR_TEST(balanced_references_on_a_running_thread_do_not_stop)
{
    PKTHREAD self = KeGetCurrentThread();
    ObReferenceObject(self);
    ObDereferenceObject(self);
    static LONG runs;
    HANDLE handle;
    CHECK_STATUS(PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, system_worker,
                                      &runs),
                 STATUS_SUCCESS);
    ZwClose(handle);
    kshim_drain_pending_work();
    CHECK_EQ(runs, 1);
}
