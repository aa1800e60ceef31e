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

/* The calling thread's own bookkeeping, read and written without AddressSanitizer's shadow
   check: kshim_current_thread_object and the irql, held_count and held[] fields of the object
   it points to, on the lock and IRQL paths (a spin-lock acquire made 7 such checks and a
   release 6). Used only by the helpers below whose `self` is the calling thread's own object
   (kshim_current_thread()'s result; each helper says so). The check is vacuous there:
   - kshim_current_thread_object is a variable of the shim's static storage (ke_thread.c),
     never freed, read and written by its own name;
   - the object it points to is the calling thread's own: created by
     kshim_thread_object_create (memory the recycler or the pool has just unpoisoned for
     exactly struct _ETHREAD); a thread holds one reference of its own until it ends, and
     releasing that one while it runs stops OBJECT_REFERENCE_UNDERFLOW
     (kshim_thread_dereference_locked) before anything is freed; the thread's end
     (kshim_thread_terminate_locked) sets the current object to NULL with nothing between but
     the dispatcher unlock; so no thread runs on a freed object;
   - the fields lie inside that object at constant offsets, and held[] is indexed below
     KSHIM_MAX_HELD_LOCKS: kshim_held_push stops TOO_MANY_LOCKS_HELD before the index reaches
     it (that check, not a sanitizer, is the bound).
   UBSan's checks of the expression stay (null, alignment); only the load or store itself is
   an x86-64 `mov` ASan does not see. Never for memory a driver or the registrar passes in: the
   KSPIN_LOCK word, lock handles and every other object stay checked.
   Only in fiber-scheduler ASan builds (KSHIM_ONE_OS_THREAD: the fuzz preset, where the
   speed counts): there kshim_current_thread_object is a plain global, while with real threads
   it is thread-local, and an asm memory operand on a thread-local variable is fragile. Other
   builds read and write plainly, with ASan's checks where ASan is on. */
#if defined(KSHIM_ASAN) && defined(__x86_64__) && defined(KSHIM_ONE_OS_THREAD)
#define KSHIM_UNCHECKED_OWN_READ(lvalue)                                                         \
    __extension__({                                                                              \
        __typeof__(lvalue) own_value_;                                                           \
        __asm__("mov %1, %0" : "=r"(own_value_) : "m"(lvalue));                                  \
        own_value_;                                                                              \
    })
#define KSHIM_UNCHECKED_OWN_WRITE(lvalue, value)                                                 \
    __asm__("mov %1, %0" : "=m"(lvalue) : "r"((__typeof__(lvalue))(value)))
#else
#define KSHIM_UNCHECKED_OWN_READ(lvalue) (lvalue)
#define KSHIM_UNCHECKED_OWN_WRITE(lvalue, value) ((void)((lvalue) = (value)))
#endif

/* Hot-path helpers below are inlined into every lock routine: a call per check, each with its
   own sanitizer-checked frame, cost more than the checks themselves. Their stops stay out of
   line. */
#define KSHIM_HOT static inline __attribute__((always_inline))

/* The current thread (ke_thread.c, layer 4, owns thread objects and this pointer): the
   calling OS thread's current object, NULL until adopted or set (owner-only). With the
   fiber scheduler there is one OS thread (KSHIM_ONE_OS_THREAD), and a plain global is
   cheaper to reach than a thread-local one (a sanitizer checks both). */
#ifdef KSHIM_ONE_OS_THREAD
#define KSHIM_OS_THREAD_LOCAL
#else
#define KSHIM_OS_THREAD_LOCAL __thread
#endif
extern KSHIM_OS_THREAD_LOCAL struct _KTHREAD *kshim_current_thread_object;
/* Adopt the calling OS thread as a kernel thread (its first shim call); returns its object. */
struct _KTHREAD *kshim_thread_adopt_current(void);

/* The calling OS thread's current object, without adopting (may be NULL). */
KSHIM_HOT struct _KTHREAD *kshim_thread_current_raw(void)
{
    return kshim_current_thread_object;
}

/* The calling thread's object; adopts an ordinary OS thread on first use. */
KSHIM_HOT struct _KTHREAD *kshim_current_thread(void)
{
    struct _KTHREAD *t = KSHIM_UNCHECKED_OWN_READ(kshim_current_thread_object);
    if (__builtin_expect(t != NULL, 1)) {
        return t;
    }
    return kshim_thread_adopt_current();
}

/* Held-lock bookkeeping of the calling thread. */
kshim_held_lock_t *kshim_held_find(struct _KTHREAD *self, const void *lock);
/* Stops TOO_MANY_LOCKS_HELD (kshim_held_push's full list). */
__attribute__((noreturn)) void kshim_held_overflow(struct _KTHREAD *self, const char *routine);

/* A held-lock entry's second 8 bytes (kind, irql_at_acquire and the padding after them) as
   one word, stored whole by kshim_held_push. x86-64 is little-endian: the low ULONG is kind,
   the byte above it the IRQL. */
typedef uint64_t kshim_held_word_t __attribute__((aligned(8), may_alias));
_Static_assert(sizeof(kshim_held_lock_t) == 24 && offsetof(kshim_held_lock_t, kind) == 8 &&
                   sizeof(kshim_lock_kind_t) == 4 &&
                   offsetof(kshim_held_lock_t, irql_at_acquire) == 12 &&
                   sizeof(((kshim_held_lock_t *)0)->irql_at_acquire) == 1 &&
                   offsetof(kshim_held_lock_t, routine) == 16 &&
                   __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "kshim_held_word_t covers kind and irql_at_acquire");

/* List a lock the calling thread has just acquired. self must be the calling thread's own
   object (kshim_current_thread()): its fields are written unchecked (KSHIM_UNCHECKED_OWN_*). */
KSHIM_HOT void kshim_held_push(struct _KTHREAD *self, const void *lock, kshim_lock_kind_t kind,
                               KIRQL irql_at_acquire, const char *routine)
{
    unsigned n = KSHIM_UNCHECKED_OWN_READ(self->held_count);
    if (__builtin_expect(n == KSHIM_MAX_HELD_LOCKS, 0)) {
        kshim_held_overflow(self, routine);
    }
    KSHIM_UNCHECKED_OWN_WRITE(self->held_count, n + 1);
    kshim_held_lock_t *entry = &self->held[n];
    KSHIM_UNCHECKED_OWN_WRITE(entry->lock, lock);
    KSHIM_UNCHECKED_OWN_WRITE(*(kshim_held_word_t *)&entry->kind,
                    (uint64_t)(uint32_t)kind | (uint64_t)irql_at_acquire << 32);
    KSHIM_UNCHECKED_OWN_WRITE(entry->routine, routine);
}

/* Removes a lock that is not the innermost one held (kshim_held_remove's slow path). */
void kshim_held_remove_nested(struct _KTHREAD *self, const void *lock);

/* Forget a lock the calling thread releases: the innermost entry of that lock. Nearly always
   it is the innermost lock held, released without a call. A lock is listed once, except an
   EX_SPIN_LOCK a thread holds shared more than once (ExAcquireSpinLockShared allows it); its
   entries differ only in the acquiring routine's name, and the innermost goes first. self must
   be the calling thread's own object (kshim_current_thread()): read unchecked. */
KSHIM_HOT void kshim_held_remove(struct _KTHREAD *self, const void *lock)
{
    unsigned n = KSHIM_UNCHECKED_OWN_READ(self->held_count);
    if (__builtin_expect(n != 0 && KSHIM_UNCHECKED_OWN_READ(self->held[n - 1].lock) == lock, 1)) {
        KSHIM_UNCHECKED_OWN_WRITE(self->held_count, n - 1);
        return;
    }
    kshim_held_remove_nested(self, lock);
}
const char *kshim_lock_kind_name(kshim_lock_kind_t kind);

/* IRQL checks (ke_irql.c): stop IRQL_TOO_HIGH naming routine if the caller is above
   max_irql. */
void kshim_require_irql_at_most(const char *routine, KIRQL max_irql);

/* Stops IRQL_LOWER_UPWARD (kshim_lower_irql_checked's failure). */
__attribute__((noreturn)) void kshim_lower_irql_upward(struct _KTHREAD *self, KIRQL new_irql,
                                                       const char *routine);

/* The calling thread's IRQL. self must be the calling thread's own object
   (kshim_current_thread()): read unchecked. */
KSHIM_HOT KIRQL kshim_own_irql(struct _KTHREAD *self)
{
    return KSHIM_UNCHECKED_OWN_READ(self->irql);
}

/* Lower the calling thread's IRQL to new_irql as a lock release does; stop IRQL_LOWER_UPWARD
   naming routine if that would raise it. self must be the calling thread's own object
   (kshim_current_thread()): read and written unchecked. */
KSHIM_HOT void kshim_lower_irql_checked(struct _KTHREAD *self, KIRQL new_irql, const char *routine)
{
    if (__builtin_expect(new_irql > kshim_own_irql(self), 0)) {
        kshim_lower_irql_upward(self, new_irql, routine);
    }
    KSHIM_UNCHECKED_OWN_WRITE(self->irql, new_irql);
}

/* Set the calling thread's IRQL without checks (used by lock routines). self must be the
   calling thread's own object (kshim_current_thread()): written unchecked. */
KSHIM_HOT void kshim_set_irql(struct _KTHREAD *self, KIRQL irql)
{
    KSHIM_UNCHECKED_OWN_WRITE(self->irql, irql);
}
