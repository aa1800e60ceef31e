/* SPDX-License-Identifier: MIT */
/*
 * ke_dispatcher_threads.c - the blocking and scheduling seam of the shim on real threads.
 *
 * Every wait and every wake-up of every primitive (event and thread waits, push-lock
 * contention, rundown waits, KeDelayExecutionThread, work drain, harness joins), every
 * spin-lock back-off and every thread creation goes through the few functions of this
 * file; no other file of the shim calls pthreads for blocking or thread creation.
 *
 * This build: one pthread mutex (the dispatcher lock) and one condition variable; waiters
 * re-check their condition after every broadcast. Primitive state lives in the WDK
 * structures themselves (DISPATCHER_HEADER, EX_PUSH_LOCK, EX_RUNDOWN_REF), protected by
 * the dispatcher lock, so an object can be freed as soon as its waiter returns.
 *
 * ke_dispatcher_fibers.c implements the same seam as a deterministic cooperative scheduler
 * (NMRKIT_SCHEDULER=fibers): every simulated kernel thread is a fiber on one OS thread,
 * kshim_dispatcher_block and kshim_dispatcher_spin_wait are yield points, time is virtual.
 * Only these two files know which scheduler runs; keep pthread calls out of the others.
 */
#include "kshim_internal.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* The dispatcher lock. Protects: see kshim_internal.h (all dispatcher state). */
static pthread_mutex_t dispatcher_mutex = PTHREAD_MUTEX_INITIALIZER;
/* Broadcast whenever any dispatcher state changes; waits use CLOCK_MONOTONIC. */
static pthread_cond_t dispatcher_cond;
static pthread_once_t dispatcher_once = PTHREAD_ONCE_INIT;

static void dispatcher_init(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&dispatcher_cond, &attr);
    pthread_condattr_destroy(&attr);
}

void kshim_dispatcher_lock(void)
{
    pthread_once(&dispatcher_once, dispatcher_init);
    pthread_mutex_lock(&dispatcher_mutex);
}

void kshim_dispatcher_unlock(void)
{
    pthread_mutex_unlock(&dispatcher_mutex);
}

bool kshim_dispatcher_block(const struct timespec *deadline)
{
    if (deadline == NULL) {
        pthread_cond_wait(&dispatcher_cond, &dispatcher_mutex);
        return true;
    }
    int rc = pthread_cond_timedwait(&dispatcher_cond, &dispatcher_mutex, deadline);
    return rc != ETIMEDOUT && !kshim_deadline_passed(deadline);
}

void kshim_dispatcher_set_background(void)
{
}

bool kshim_dispatcher_block_periodic(const struct timespec *deadline)
{
    return kshim_dispatcher_block(deadline);
}

void kshim_dispatcher_wake_all(void)
{
    pthread_cond_broadcast(&dispatcher_cond);
}

void kshim_dispatcher_spin_wait(void)
{
    sched_yield();
}

struct kshim_os_thread {
    pthread_t thread;
};

typedef struct thread_start {
    void (*entry)(void *);
    void *arg;
} thread_start_t;

static void *thread_trampoline(void *p)
{
    thread_start_t start = *(thread_start_t *)p;
    free(p);
    start.entry(start.arg);
    return NULL;
}

kshim_os_thread_t *kshim_dispatcher_thread_create(void (*entry)(void *), void *arg, bool joinable)
{
    pthread_once(&dispatcher_once, dispatcher_init);
    thread_start_t *start = malloc(sizeof *start);
    kshim_os_thread_t *handle = malloc(sizeof *handle);
    if (start == NULL || handle == NULL) {
        kshim_stop("THREAD_CREATE_FAILED", "out of memory starting a thread");
    }
    start->entry = entry;
    start->arg = arg;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, joinable ? PTHREAD_CREATE_JOINABLE : PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&handle->thread, &attr, thread_trampoline, start);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        kshim_stop("THREAD_CREATE_FAILED", "pthread_create: %s", strerror(rc));
    }
    if (!joinable) {
        free(handle);
        return NULL;
    }
    return handle;
}

void kshim_dispatcher_thread_join(kshim_os_thread_t *thread)
{
    pthread_join(thread->thread, NULL);
    free(thread);
}

/* ---- scheduling hooks: with real threads the OS schedules ------------------------------- */

void kshim_dispatcher_set_wait_reason(const char *routine, const void *object)
{
    (void)routine;
    (void)object;
}

void kshim_sched_yield_point(void)
{
}

uint64_t kshim_dispatcher_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* 100 ns intervals between 1601-01-01 and 1970-01-01. */
#define EPOCH_DIFFERENCE_100NS 116444736000000000ULL

int64_t kshim_dispatcher_system_time_100ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)(((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec) / 100 +
                     EPOCH_DIFFERENCE_100NS);
}

void kshim_dispatcher_stall_until(uint64_t until)
{
    while (kshim_dispatcher_clock_ns() < until) {
    }
}

bool kshim_sched_is_deterministic(void)
{
    return false;
}

void kshim_sched_set_schedule(const uint8_t *bytes, size_t size)
{
    (void)bytes;
    (void)size;
}

/* Real threads: the OS schedules, there are no yield points with a choice to
   ask a chooser about, so none is ever called (a harness's schedule input then stays
   unread, as the schedule bytes do). */
void kshim_sched_set_chooser(kshim_sched_chooser_t chooser, void *context)
{
    (void)chooser;
    (void)context;
}

/* Real threads: no runnable list to index. */
PKTHREAD kshim_sched_runnable_thread(unsigned index, unsigned *id)
{
    (void)index;
    if (id != NULL) {
        *id = 0;
    }
    return NULL;
}

void kshim_sched_set_strategy(kshim_sched_strategy_t strategy, uint64_t seed, unsigned depth,
                              unsigned long expected_steps)
{
    (void)strategy;
    (void)seed;
    (void)depth;
    (void)expected_steps;
}

void kshim_sched_reset(void)
{
    kshim_recyclers_release_quarantines();
}

size_t kshim_sched_schedule_bytes_used(void)
{
    return 0;
}

unsigned long kshim_sched_decisions(void)
{
    return 0;
}

uint64_t kshim_sched_trace_hash(void)
{
    return 0;
}

void kshim_sched_set_deadlock_hook(void (*hook)(void))
{
    (void)hook;
}

void kshim_sched_yield(void)
{
    sched_yield();
}
