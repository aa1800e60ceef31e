/* SPDX-License-Identifier: MIT */
/*
 * ke_thread.c - kernel threads: lazy adoption of OS threads, thread objects and their
 * references, held-lock bookkeeping, harness threads (kshim_thread_start/join), thread and
 * processor queries. IRQL and critical regions are in ke_irql.c.
 *
 * Per-thread state lives in the thread object (struct _KTHREAD, kshim_internal.h); the
 * calling thread's object is found through a thread-local pointer. An OS thread the shim
 * did not start becomes a PASSIVE_LEVEL kernel thread on its first shim call ("main" for
 * the process's first thread).
 */
#include "kshim_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The calling OS thread's kernel thread (owner-only; ke_irql.h reads it inline). */
KSHIM_OS_THREAD_LOCAL struct _KTHREAD *kshim_current_thread_object;

/* Registry of live thread objects (head). Protected by: dispatcher lock. */
static struct _KTHREAD *registry_head;
/* Next thread id. Interlocked. */
static ULONG_PTR next_thread_id = 4;

/* Thread objects not in pool (every kind but system threads) and harness thread handles are
   recycled (kshim_recycle.c): within an input a freed one is poisoned, never reused. */
static kshim_recycler_t object_recycler = KSHIM_RECYCLER_INIT(sizeof(struct _ETHREAD), "thread object (KTHREAD)");

/* Destructor key: lets an adopted OS thread's object be terminated when the OS thread ends. */
static pthread_key_t adopted_key;
static pthread_once_t adopted_key_once = PTHREAD_ONCE_INIT;

static void adopted_thread_ended(void *p)
{
    struct _KTHREAD *self = p;
    kshim_dispatcher_lock();
    kshim_thread_terminate_locked(self, STATUS_SUCCESS);
    kshim_dispatcher_unlock();
    kshim_current_thread_object = NULL;
}

static void adopted_key_create(void)
{
    pthread_key_create(&adopted_key, adopted_thread_ended);
}

struct _KTHREAD *kshim_thread_object_create(kshim_thread_kind_t kind, const char *name,
                                            const char *pool_site)
{
    struct _ETHREAD *e;
    if (pool_site) {
        e = kshim_pool_alloc_internal(sizeof *e, KSHIM_TAG_THREAD, pool_site, true);
    } else {
        e = kshim_recycler_take(&object_recycler);
        if (e == NULL) {
            kshim_stop("THREAD_CREATE_FAILED", "out of memory for a thread object");
        }
    }
    struct _KTHREAD *t = &e->Tcb;
    t->Header.Type = ThreadObject;
    t->Header.Size = 0;
    t->Header.SignalState = 0;
    t->magic = KSHIM_THREAD_MAGIC;
    t->kind = kind;
    kshim_copy_text(t->name, sizeof t->name, name ? name : "thread");
    t->id = __atomic_fetch_add(&next_thread_id, 4, __ATOMIC_SEQ_CST);
    t->references = 1;
    t->pool_tracked = pool_site != NULL;
    t->exit_status = STATUS_PENDING;
    t->irql = PASSIVE_LEVEL;
    kshim_dispatcher_lock();
    t->registry_prev = NULL;
    t->registry_next = registry_head;
    if (registry_head) {
        registry_head->registry_prev = t;
    }
    registry_head = t;
    kshim_dispatcher_unlock();
    return t;
}

bool kshim_thread_is_live_locked(const void *object)
{
    for (struct _KTHREAD *t = registry_head; t; t = t->registry_next) {
        if ((const void *)t == object) {
            return true;
        }
    }
    return false;
}

void kshim_thread_dereference_locked(struct _KTHREAD *object, const char *routine)
{
    if (object->references <= 0) {
        kshim_stop("OBJECT_REFERENCE_UNDERFLOW", "%s: thread object %p ('%s') has no reference left",
                   routine, (void *)object, object->name);
    }
    /* A thread holds one reference of its own until it ends, and kshim_thread_terminate_locked
       marks it ended (SignalState) before releasing that one: the last reference of a thread
       that has not ended released by anyone else is one dereference more than was taken, and
       would free the object under the running thread (whose own IRQL and held-lock accesses
       are not ASan-checked: ke_irql.h, KSHIM_UNCHECKED_OWN_READ). */
    if (object->references == 1 && object->Header.SignalState == 0) {
        kshim_stop("OBJECT_REFERENCE_UNDERFLOW",
                   "%s: thread object %p ('%s') still runs and holds its last reference "
                   "(one dereference more than references taken)",
                   routine, (void *)object, object->name);
    }
    if (--object->references > 0) {
        return;
    }
    if (object->registry_prev) {
        object->registry_prev->registry_next = object->registry_next;
    } else {
        registry_head = object->registry_next;
    }
    if (object->registry_next) {
        object->registry_next->registry_prev = object->registry_prev;
    }
    object->magic = 0;
    if (object->pool_tracked) {
        kshim_pool_free_internal(object, routine, NULL);
    } else {
        kshim_recycler_give(&object_recycler, object);
    }
}

void kshim_thread_terminate_locked(struct _KTHREAD *object, NTSTATUS exit_status)
{
    object->exit_status = exit_status;
    object->Header.SignalState = 1;
    kshim_dispatcher_wake_all();
    kshim_thread_dereference_locked(object, "thread exit");
}

void kshim_thread_set_current(struct _KTHREAD *object)
{
    kshim_current_thread_object = object;
}

/* The first shim call of an OS thread adopts it (kept out of line: the name buffer would
   give every call an instrumented stack frame). */
__attribute__((noinline)) struct _KTHREAD *kshim_thread_adopt_current(void)
{
    char name[32];
    if (getpid() == gettid()) {
        snprintf(name, sizeof name, "main");
    } else {
        snprintf(name, sizeof name, "os-thread-%ld", (long)gettid());
    }
    struct _KTHREAD *t = kshim_thread_object_create(KSHIM_THREAD_ADOPTED, name, NULL);
    kshim_current_thread_object = t;
    pthread_once(&adopted_key_once, adopted_key_create);
    pthread_setspecific(adopted_key, t);
    return t;
}

struct _KTHREAD *kshim_background_thread_begin(const char *name)
{
    struct _KTHREAD *self = kshim_thread_object_create(KSHIM_THREAD_WORKER, name, NULL);
    kshim_thread_set_current(self);
    kshim_dispatcher_set_background();
    return self;
}

const char *kshim_thread_current_name(void)
{
    return kshim_current_thread()->name;
}

/* ---- held locks ------------------------------------------------------------------------- */

const char *kshim_lock_kind_name(kshim_lock_kind_t kind)
{
    switch (kind) {
    case KSHIM_LOCK_SPIN:
        return "spin lock";
    case KSHIM_LOCK_PUSH_EXCLUSIVE:
        return "push lock (exclusive)";
    case KSHIM_LOCK_PUSH_SHARED:
        return "push lock (shared)";
    case KSHIM_LOCK_EX_SPIN_SHARED:
        return "EX_SPIN_LOCK (shared)";
    case KSHIM_LOCK_EX_SPIN_EXCLUSIVE:
        return "EX_SPIN_LOCK (exclusive)";
    case KSHIM_LOCK_MUTEX:
        return "KMUTEX";
    case KSHIM_LOCK_FAST_MUTEX:
        return "FAST_MUTEX";
    }
    return "lock";
}

kshim_held_lock_t *kshim_held_find(struct _KTHREAD *self, const void *lock)
{
    for (unsigned i = 0; i < self->held_count; i++) {
        if (self->held[i].lock == lock) {
            return &self->held[i];
        }
    }
    return NULL;
}

void kshim_held_overflow(struct _KTHREAD *self, const char *routine)
{
    kshim_stop("TOO_MANY_LOCKS_HELD", "%s: thread '%s' already holds %d locks", routine,
               self->name, KSHIM_MAX_HELD_LOCKS);
}

void kshim_held_remove_nested(struct _KTHREAD *self, const void *lock)
{
    for (unsigned i = 0; i < self->held_count; i++) {
        if (self->held[i].lock == lock) {
            self->held_count--;
            if (i < self->held_count) { /* not the innermost lock (no memmove: ASan checks it) */
                memmove(&self->held[i], &self->held[i + 1],
                        (self->held_count - i) * sizeof self->held[0]);
            }
            return;
        }
    }
}

void kshim_thread_exit_checks(struct _KTHREAD *self, const char *what, const char *routine_desc)
{
    if (self->irql != PASSIVE_LEVEL) {
        kshim_stop("THREAD_EXIT_WITH_IRQL_RAISED", "%s '%s' (%s) ended at IRQL %u (must be PASSIVE_LEVEL)",
                   what, self->name, routine_desc, (unsigned)self->irql);
    }
    if (self->held_count) {
        const kshim_held_lock_t *h = &self->held[0];
        kshim_stop("THREAD_EXIT_HOLDING_LOCK", "%s '%s' (%s) ended holding %s %p (acquired by %s)",
                   what, self->name, routine_desc, kshim_lock_kind_name(h->kind), h->lock,
                   h->routine);
    }
    if (self->critical_region_depth) {
        kshim_stop("THREAD_EXIT_HOLDING_LOCK",
                   "%s '%s' (%s) ended inside a critical region (depth %d: KeEnterCriticalRegion "
                   "without KeLeaveCriticalRegion)",
                   what, self->name, routine_desc, self->critical_region_depth);
    }
}

/* ---- harness threads ---------------------------------------------------------------------- */

struct kshim_thread {
    kshim_os_thread_t *os_thread;
    struct _KTHREAD *object; /* one reference held by this handle */
    void (*fn)(void *arg);
    void *arg;
};

static kshim_recycler_t handle_recycler = KSHIM_RECYCLER_INIT(sizeof(struct kshim_thread), "harness thread handle (kshim_thread_t)");

static void harness_thread_main(void *p)
{
    kshim_thread_t *thread = p;
    struct _KTHREAD *self = thread->object;
    kshim_thread_set_current(self);
    thread->fn(thread->arg);
    kshim_thread_exit_checks(self, "harness thread", "kshim_thread_start routine");
    kshim_dispatcher_lock();
    kshim_thread_terminate_locked(self, STATUS_SUCCESS);
    kshim_dispatcher_unlock();
    kshim_thread_set_current(NULL);
}

kshim_thread_t *kshim_thread_start(const char *name, void (*fn)(void *arg), void *arg)
{
    kshim_thread_t *thread = kshim_recycler_take(&handle_recycler);
    if (thread == NULL) {
        kshim_stop("THREAD_CREATE_FAILED", "kshim_thread_start: out of memory");
    }
    thread->fn = fn;
    thread->arg = arg;
    thread->object = kshim_thread_object_create(KSHIM_THREAD_HARNESS, name, NULL);
    kshim_dispatcher_lock();
    thread->object->references++; /* the handle's reference */
    kshim_dispatcher_unlock();
    thread->os_thread = kshim_dispatcher_thread_create(harness_thread_main, thread, true);
    return thread;
}

void kshim_thread_join(kshim_thread_t *thread)
{
    kshim_dispatcher_thread_join(thread->os_thread);
    kshim_dispatcher_lock();
    kshim_thread_dereference_locked(thread->object, "kshim_thread_join");
    kshim_dispatcher_unlock();
    kshim_recycler_give(&handle_recycler, thread);
}

/* ---- thread queries ------------------------------------------------------------------- */

PKTHREAD KeGetCurrentThread(VOID)
{
    return kshim_current_thread();
}

PETHREAD PsGetCurrentThread(VOID)
{
    return (PETHREAD)kshim_current_thread();
}

HANDLE PsGetCurrentThreadId(VOID)
{
    return (HANDLE)kshim_current_thread()->id;
}

HANDLE PsGetCurrentProcessId(VOID)
{
    return (HANDLE)(ULONG_PTR)4;
}

HANDLE PsGetThreadId(PETHREAD Thread)
{
    return (HANDLE)Thread->Tcb.id;
}

BOOLEAN PsIsSystemThread(PETHREAD Thread)
{
    return (BOOLEAN)(Thread->Tcb.kind == KSHIM_THREAD_SYSTEM || Thread->Tcb.kind == KSHIM_THREAD_WORKER);
}

NTSTATUS PsGetThreadExitStatus(PETHREAD Thread)
{
    kshim_dispatcher_lock();
    NTSTATUS status = Thread->Tcb.exit_status;
    kshim_dispatcher_unlock();
    return status;
}

KPRIORITY KeSetPriorityThread(PKTHREAD Thread, KPRIORITY Priority)
{
    (void)Thread;
    (void)Priority;
    return 8;
}

KPRIORITY KeQueryPriorityThread(PKTHREAD Thread)
{
    (void)Thread;
    return 8;
}

/* ---- processors ----------------------------------------------------------------------- */

ULONG KeGetCurrentProcessorNumber(VOID)
{
    return 0;
}

ULONG KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER ProcNumber)
{
    if (ProcNumber) {
        ProcNumber->Group = 0;
        ProcNumber->Number = 0;
        ProcNumber->Reserved = 0;
    }
    return 0;
}

ULONG KeQueryActiveProcessorCount(PKAFFINITY ActiveProcessors)
{
    if (ActiveProcessors) {
        *ActiveProcessors = 1;
    }
    return 1;
}

ULONG KeQueryActiveProcessorCountEx(USHORT GroupNumber)
{
    (void)GroupNumber;
    return 1;
}

ULONG KeQueryMaximumProcessorCount(VOID)
{
    return 1;
}

ULONG KeQueryMaximumProcessorCountEx(USHORT GroupNumber)
{
    (void)GroupNumber;
    return 1;
}
