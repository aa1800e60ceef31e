/* SPDX-License-Identifier: MIT */
/*
 * ke_irql.h - layer 2 of the shim (IRQL): the kernel thread object's per-thread state (IRQL,
 * critical regions, held locks) and the IRQL checks every routine above makes. Includes only
 * layer 1.
 */
#pragma once

#include <setjmp.h>
#include <stdint.h>

#include "kshim_stop.h"

/* ---- per-thread kernel state ---------------------------------------------------------- */

#define KSHIM_MAX_HELD_LOCKS 32
#define KSHIM_THREAD_MAGIC 0x6b546872u /* "rhTk" */

typedef enum kshim_lock_kind {
    KSHIM_LOCK_SPIN,           /* KSPIN_LOCK, any acquire form */
    KSHIM_LOCK_PUSH_EXCLUSIVE, /* EX_PUSH_LOCK held exclusive */
    KSHIM_LOCK_PUSH_SHARED,    /* EX_PUSH_LOCK held shared */
    KSHIM_LOCK_EX_SPIN_SHARED,    /* EX_SPIN_LOCK held shared */
    KSHIM_LOCK_EX_SPIN_EXCLUSIVE, /* EX_SPIN_LOCK held exclusive */
    KSHIM_LOCK_MUTEX,          /* KMUTEX (once, however deep the recursion) */
    KSHIM_LOCK_FAST_MUTEX,     /* FAST_MUTEX */
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

/* The current thread (implemented by ke_thread.c, layer 4, which owns thread objects). */
/* The calling OS thread's current object, without adopting (may be NULL). */
struct _KTHREAD *kshim_thread_current_raw(void);
/* The calling thread's object; adopts an ordinary OS thread on first use. */
struct _KTHREAD *kshim_current_thread(void);

/* Held-lock bookkeeping of the calling thread. */
kshim_held_lock_t *kshim_held_find(struct _KTHREAD *self, const void *lock);
void kshim_held_push(struct _KTHREAD *self, const void *lock, kshim_lock_kind_t kind,
                     KIRQL irql_at_acquire, const char *routine);
void kshim_held_remove(struct _KTHREAD *self, const void *lock);
const char *kshim_lock_kind_name(kshim_lock_kind_t kind);

/* IRQL checks (ke_irql.c): stop IRQL_TOO_HIGH naming routine if the caller is above
   max_irql. */
void kshim_require_irql_at_most(const char *routine, KIRQL max_irql);
/* Lower the calling thread's IRQL to new_irql as a lock release does; stop IRQL_LOWER_UPWARD
   naming routine if that would raise it. */
void kshim_lower_irql_checked(struct _KTHREAD *self, KIRQL new_irql, const char *routine);
/* Set the calling thread's IRQL without checks (used by lock routines). */
void kshim_set_irql(struct _KTHREAD *self, KIRQL irql);

