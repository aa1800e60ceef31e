/* SPDX-License-Identifier: MIT */
/*
 * kshim_internal.h - shared internals of the shim's source files (never installed, never
 * included outside shim/).
 *
 * Locks of the shim, in the only order in which they may nest:
 *   fault lock (kshim_fault.c)      never held while taking another lock or calling out
 *   dispatcher lock (ke_dispatcher.c) -> pool lock (ex_pool.c)
 *   device lock (io_device.c)         -> pool lock
 * The dispatcher lock protects: every DISPATCHER_HEADER (events, thread objects), push-lock
 * words, the thread-object registry and reference counts, the handle table, work-item
 * queue states and the pending-work count.
 */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <kshim/kshim.h>
#include <ntddk.h>

/* ---- stops ---------------------------------------------------------------------------- */

/* "<basename>:<line>" view of a KSHIM_SITE string (a pointer into the same literal). */
const char *kshim_site_basename(const char *site);

/* Print the calling thread's stack, symbolized, on stderr (kshim_stack.c), leaving out the
   innermost `skip` frames of the caller (the stop machinery). */
void kshim_stack_print(unsigned skip);

/* Stop trap (kshim_stop.c): DbgPrint* hands every formatted message here first, so that an
   armed trap records what its thread printed before the stop. */
void kshim_stop_trap_note_print(const char *text, size_t length);

/* ---- per-thread kernel state ---------------------------------------------------------- */

#define KSHIM_MAX_HELD_LOCKS 32
#define KSHIM_THREAD_MAGIC 0x6b546872u /* "rhTk" */

typedef enum kshim_lock_kind {
    KSHIM_LOCK_SPIN,           /* KSPIN_LOCK, any acquire form */
    KSHIM_LOCK_PUSH_EXCLUSIVE, /* EX_PUSH_LOCK held exclusive */
    KSHIM_LOCK_PUSH_SHARED,    /* EX_PUSH_LOCK held shared */
} kshim_lock_kind_t;

typedef struct kshim_held_lock {
    const void *lock;
    kshim_lock_kind_t kind;
    KIRQL irql_at_acquire; /* IRQL of the thread when it called the acquiring routine */
    const char *routine;   /* the acquiring routine */
} kshim_held_lock_t;

typedef enum kshim_thread_kind {
    KSHIM_THREAD_ADOPTED, /* an OS thread the shim did not start (main, foreign threads) */
    KSHIM_THREAD_HARNESS, /* kshim_thread_start */
    KSHIM_THREAD_SYSTEM,  /* PsCreateSystemThread */
    KSHIM_THREAD_WORKER,  /* runs one work item */
} kshim_thread_kind_t;

/*
 * The kernel thread object (PKTHREAD and PETHREAD both point here).
 * Fields marked "owner" are touched only by the thread itself (no lock).
 */
struct _KTHREAD {
    DISPATCHER_HEADER Header;  /* Type ThreadObject; SignalState 1 once terminated.
                                  Protected by: dispatcher lock */
    uint32_t magic;            /* KSHIM_THREAD_MAGIC while the object is alive */
    kshim_thread_kind_t kind;
    char name[64];
    ULONG_PTR id;              /* PsGetCurrentThreadId value */
    long references;           /* Protected by: dispatcher lock; the last one frees */
    bool pool_tracked;         /* object memory is a pool allocation (system threads) */
    NTSTATUS exit_status;      /* Protected by: dispatcher lock */
    struct _KTHREAD *registry_next; /* Protected by: dispatcher lock */
    struct _KTHREAD *registry_prev; /* Protected by: dispatcher lock */
    /* owner-only state */
    KIRQL irql;
    int critical_region_depth;
    unsigned held_count;
    kshim_held_lock_t held[KSHIM_MAX_HELD_LOCKS];
    const void *owner;         /* kshim_owner_current: whose work this thread does (NULL:
                                  the harness) */
    jmp_buf *terminate_target; /* PsTerminateSystemThread longjmps here (system threads) */
    NTSTATUS exit_status_request; /* PsTerminateSystemThread's ExitStatus */
};

struct _ETHREAD {
    struct _KTHREAD Tcb;
};

/* The calling OS thread's current object, without adopting (may be NULL). */
struct _KTHREAD *kshim_thread_current_raw(void);
/* The calling thread's object; adopts an ordinary OS thread on first use. */
struct _KTHREAD *kshim_current_thread(void);

/* Create a thread object (one reference, registered). pool_site != NULL: the memory is a
   pool allocation with KSHIM_TAG_THREAD at that site. */
struct _KTHREAD *kshim_thread_object_create(kshim_thread_kind_t kind, const char *name,
                                            const char *pool_site);
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

/* Held-lock bookkeeping of the calling thread. */
kshim_held_lock_t *kshim_held_find(struct _KTHREAD *self, const void *lock);
void kshim_held_push(struct _KTHREAD *self, const void *lock, kshim_lock_kind_t kind,
                     KIRQL irql_at_acquire, const char *routine);
void kshim_held_remove(struct _KTHREAD *self, const void *lock);
const char *kshim_lock_kind_name(kshim_lock_kind_t kind);

/* IRQL checks: stop IRQL_TOO_HIGH naming routine if the caller is above max_irql. */
void kshim_require_irql_at_most(const char *routine, KIRQL max_irql);
/* Set the calling thread's IRQL without checks (used by lock routines). */
void kshim_set_irql(struct _KTHREAD *self, KIRQL irql);

/* ---- the blocking and scheduling seam (ke_dispatcher.c) -------------------------------- */

void kshim_dispatcher_lock(void);
void kshim_dispatcher_unlock(void);
/* Dispatcher lock held: sleep until woken or until deadline (CLOCK_MONOTONIC; NULL =
   forever). Returns false once the deadline has passed. Spurious returns are allowed. */
bool kshim_dispatcher_block(const struct timespec *deadline);
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
/* A yield point: with fibers, the schedule source may switch to another thread here;
   with real threads, nothing. Never call it inside a dispatcher-lock region. */
void kshim_sched_yield_point(void);
/* Monotonic nanoseconds: the wall clock with real threads, virtual time with fibers. */
uint64_t kshim_dispatcher_clock_ns(void);
/* Fibers: move virtual time forward to at least `until` (a busy stall). Threads: no-op. */
void kshim_dispatcher_advance_clock(uint64_t until);

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
void kshim_pool_forget_owners(void);

/* ---- formatting (dbg_print.c) --------------------------------------------------------- */

/* Format with the WDK's rules (LLP64: %lx is 32-bit, %I64x/%llx 64-bit, %wZ, %ws, %Z)
   into destination (always NUL-terminated when size != 0). Returns the full length. */
size_t kshim_vformat_windows(char *destination, size_t size, const char *format, va_list ap);

/* ---- time ----------------------------------------------------------------------------- */

uint64_t kshim_monotonic_ns(void);
/* A WDK timeout (NULL forever, <0 relative, >0 absolute, 0 poll) as a monotonic deadline.
   Returns false for "forever". */
bool kshim_timeout_to_deadline(const LARGE_INTEGER *timeout, struct timespec *deadline);
bool kshim_deadline_passed(const struct timespec *deadline);

/* ---- pool ----------------------------------------------------------------------------- */

/* A tracked allocation for the shim's own objects: no fault check, no IRQL check. */
void *kshim_pool_alloc_internal(size_t size, ULONG tag, const char *site, bool zero);
/* Free a tracked allocation (stops like ExFreePoolWithTag with no tag check). */
void kshim_pool_free_internal(void *p, const char *routine, const char *site);
/* Print the tag as 4 characters in memory order into out[5]. */
void kshim_tag_to_chars(ULONG tag, char out[5]);
