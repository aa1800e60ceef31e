/* SPDX-License-Identifier: MIT */
/*
 * kshim_internal.h - layer 4 of the shim (threads and primitives): the dispatcher seam,
 * thread objects, owners, pending work, time. Never installed, never included outside shim/.
 *
 * Layers of the shim, from the bottom; a layer's header includes only the one below it, and
 * a source file includes the header of its own layer (lint.shim_layers checks both):
 *   1 stops and faults    kshim_stop.h    kshim_stop.c kshim_stack.c kshim_fault.c dbg_print.c
 *                                          rtl_string.c rtl_strsafe.c rtl_ip.c
 *                                          kshim_unchecked.c
 *   2 IRQL                ke_irql.h       ke_irql.c
 *   3 pool                ex_pool.h       ex_pool.c
 *   4 threads and         kshim_internal.h  every other file (ke_dispatcher_threads.c or
 *     primitives                            ke_dispatcher_fibers.c + kshim_fiber.c, threads,
 *                                           locks, events, work, timers, DPCs, registry, audit)
 * A lower layer may call up only through a routine its own header declares and names the
 * implementer of (the stop trap, the pool's yield point, the IRQL layer's current thread).
 *
 * Locks of the shim, in the only order in which they may nest:
 *   fault lock (kshim_fault.c)      never held while taking another lock or calling out
 *   dispatcher lock (ke_dispatcher_*.c) -> pool lock (ex_pool.c)
 *   device lock (io_device.c)         -> pool lock
 *   registry lock (rtl_registry.c)    never held while calling out or allocating pool
 *   recycler lock (kshim_recycle.c)   a leaf (taken under the dispatcher lock)
 * The dispatcher lock protects: every DISPATCHER_HEADER (events, thread objects), push-lock
 * words, the thread-object registry and reference counts, the handle table, work-item
 * queue states and the pending-work count.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ex_pool.h"

/* Create a thread object (one reference, registered). pool_site != NULL: the memory is a
   pool allocation with KSHIM_TAG_THREAD at that site. */
struct _KTHREAD *kshim_thread_object_create(kshim_thread_kind_t kind, const char *name,
                                            const char *pool_site);
/* On a new OS thread of the seam: become a background kernel thread (timers, DPCs) named
   name; returns its object. */
struct _KTHREAD *kshim_background_thread_begin(const char *name);
/* Make object the calling OS thread's current kernel thread (NULL detaches). */
void kshim_thread_set_current(struct _KTHREAD *object);
/* THREAD_EXIT_* checks for a routine of `what` ("system thread", "work item") returning. */
void kshim_thread_exit_checks(struct _KTHREAD *self, const char *what, const char *routine_desc);
/* Mark terminated (signal waiters) and drop one reference. Dispatcher lock held. */
void kshim_thread_terminate_locked(struct _KTHREAD *object, NTSTATUS exit_status);
/* Drop one reference; frees on the last. Dispatcher lock held. */
void kshim_thread_dereference_locked(struct _KTHREAD *object, const char *routine);
/* Is object a live thread object? Dispatcher lock held. */
bool kshim_thread_is_live_locked(const void *object);
/* ---- recyclers (kshim_recycle.c): fixed-size shim objects reused across fuzz inputs ---- */

#define KSHIM_RECYCLER_QUARANTINE 1024 /* freed objects held back within an input */
#define KSHIM_RECYCLER_SPARE 64        /* freed objects kept for reuse */
typedef struct kshim_recycler {
    size_t size;      /* of every object */
    const char *what; /* what an object is, for sanitizer reports ("thread object") */
    /* Protected by: the recycler lock (kshim_recycle.c). */
    void *quarantined[KSHIM_RECYCLER_QUARANTINE]; /* a ring, oldest at quarantine_head */
    unsigned quarantine_head, quarantined_count;
    void *spare[KSHIM_RECYCLER_SPARE];
    unsigned spare_count;
    bool listed;
    struct kshim_recycler *next_recycler;
} kshim_recycler_t;
#define KSHIM_RECYCLER_INIT(object_size, object_what) {.size = (object_size), .what = (object_what)}
/* A zeroed object: a spare one, else from the C heap (NULL if out of memory). */
void *kshim_recycler_take(kshim_recycler_t *recycler);
/* Free object (NULL: nothing): poisoned and quarantined until the next release. */
void kshim_recycler_give(kshim_recycler_t *recycler, void *object);
/* Between inputs (kshim_sched_reset): objects given back since the last call become spares. */
void kshim_recyclers_release_quarantines(void);
/* For a sanitizer report: if address lies in a freed recycled object, one line saying which
   (kshim_sanitizer.c prints it). */
bool kshim_recycler_describe_address(uintptr_t address, char *out, size_t size);

/* ---- the blocking and scheduling seam (ke_dispatcher_threads.c | ke_dispatcher_fibers.c) */

void kshim_dispatcher_lock(void);
void kshim_dispatcher_unlock(void);
/* Dispatcher lock held: sleep until woken or until deadline (CLOCK_MONOTONIC; NULL =
   forever). Returns false once the deadline has passed. Spurious returns are allowed. */
bool kshim_dispatcher_block(const struct timespec *deadline);
/* The calling thread serves timers or DPCs: with fibers, what it does is not progress of the
   run (see kshim_dispatcher_block_periodic). Threads: no-op. */
void kshim_dispatcher_set_background(void);
/* As kshim_dispatcher_block, for a periodic timer waiting for its next expiry. With fibers,
   virtual time moves to such a deadline only while the run makes progress: after
   KSHIM_PERIODIC_IDLE_EXPIRIES periodic expiries in a row without any other than a background
   thread passing a yield point or ending, these deadlines are ignored, so a deadlock is
   reported instead of hidden. Threads: the same as kshim_dispatcher_block. */
#define KSHIM_PERIODIC_IDLE_EXPIRIES 8
bool kshim_dispatcher_block_periodic(const struct timespec *deadline);
/* Dispatcher lock held: wake every blocked thread (each re-checks its condition). */
void kshim_dispatcher_wake_all(void);
/* Back-off of a spinning acquirer (spin locks): let another thread run. */
void kshim_dispatcher_spin_wait(void);
/* Start an OS thread that runs entry(arg); joinable or detached. Stops on failure. */
typedef struct kshim_os_thread kshim_os_thread_t;
kshim_os_thread_t *kshim_dispatcher_thread_create(void (*entry)(void *), void *arg, bool joinable);
/* Wait for a joinable thread to end and release it. */
void kshim_dispatcher_thread_join(kshim_os_thread_t *thread);

/* Record what the calling thread is about to block on (deadlock reports of the fiber
   scheduler); a no-op with real threads. */
void kshim_dispatcher_set_wait_reason(const char *routine, const void *object);
/* Monotonic nanoseconds: the wall clock with real threads, virtual time with fibers. */
uint64_t kshim_dispatcher_clock_ns(void);
/* System time in 100 ns units since 1601: the wall clock with real threads; with fibers a
   fixed date plus virtual time, so that runs replay exactly. */
int64_t kshim_dispatcher_system_time_100ns(void);
/* A busy stall until the monotonic clock reads `until`: spins with real threads; with
   fibers, moves virtual time forward without letting another thread run. */
void kshim_dispatcher_stall_until(uint64_t until);

/* KMUTEX as a waitable object (ke_mutex.c, for the waits of ke_event.c). Dispatcher lock held
   for the _locked ones. */
bool kshim_mutex_is_valid(const DISPATCHER_HEADER *header);
bool kshim_mutex_can_acquire_locked(const DISPATCHER_HEADER *header, const struct _KTHREAD *self);
void kshim_mutex_acquire_locked(DISPATCHER_HEADER *header, struct _KTHREAD *self, const char *routine);

/* Pending work (queued work items not finished, system threads running). */
void kshim_pending_work_add_locked(void);
void kshim_pending_work_done_locked(void);
/* kshim_work_hold in effect? Dispatcher lock held. */
bool kshim_work_is_held_locked(void);

/* ---- owner attribution (kshim_owner.c) ------------------------------------------------- */

/*
 * One piece of work (a system thread, a queued work item, a set timer, a queued DPC) and its
 * owner, listed from the moment it is queued, set or started until its routine has returned
 * (or, for a timer or DPC, until it is neither pending nor running). Embedded in the object
 * that carries the work. Every field: Protected by: dispatcher lock.
 */
typedef struct kshim_owned_work {
    struct kshim_owned_work *next;
    struct kshim_owned_work *prev;
    const void *owner;
    kshim_work_kind_t kind;
    const void *routine;
    bool listed;
    bool running;
} kshim_owned_work_t;

/* Dispatcher lock held: list work for the calling thread's current owner (no-op if listed). */
void kshim_owned_work_list_locked(kshim_owned_work_t *work, kshim_work_kind_t kind,
                                  const void *routine);
/* Dispatcher lock held: take work off the list (no-op if not listed). */
void kshim_owned_work_unlist_locked(kshim_owned_work_t *work);
/* On the thread about to run work's routine (dispatcher lock not held): make its owner
   current and call the run hook. Returns the owner that was current before. */
const void *kshim_owned_work_run_begin(const kshim_owned_work_t *work);
/* Forget every owner (kshim_reset). */
void kshim_owner_forget_all(void);
/* Empty the registry fixture (kshim_reset; rtl_registry.c). */
void kshim_registry_reset(void);
/* Restart ExUuidCreate's sequence (kshim_reset; ex_uuid.c). */
void kshim_uuid_reset(void);

/* ---- time ----------------------------------------------------------------------------- */

uint64_t kshim_monotonic_ns(void);
/* A WDK timeout (NULL forever, <0 relative, >0 absolute, 0 poll) as a monotonic deadline.
   Returns false for "forever". */
bool kshim_timeout_to_deadline(const LARGE_INTEGER *timeout, struct timespec *deadline);
bool kshim_deadline_passed(const struct timespec *deadline);

