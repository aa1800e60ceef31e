/* SPDX-License-Identifier: MIT */
/*
 * kshim_owner.c - owner attribution (kshim.h): the current owner of each simulated thread,
 * the list of owned work (system threads, work items, DPCs, timers) from queuing to the end
 * of its routine, the run hook, and kshim_reset.
 *
 * An owner is a cookie of the harness; nothing here looks inside it. Pool ownership is kept
 * in the pool's own records (ex_pool.c).
 */
#include "kshim_internal.h"

#include <stdlib.h>

/* Owned work, oldest first. Protected by: dispatcher lock. */
static kshim_owned_work_t *work_head;
static kshim_owned_work_t *work_tail;

/* The run hook. Atomic accesses (set by the harness, read by every worker). */
static kshim_owner_run_hook_fn *run_hook;

const void *kshim_owner_swap(const void *owner)
{
    struct _KTHREAD *self = kshim_current_thread();
    const void *previous = self->owner;
    self->owner = owner;
    return previous;
}

const void *kshim_owner_current(void)
{
    struct _KTHREAD *self = kshim_thread_current_raw();
    return self != NULL ? self->owner : NULL;
}

void kshim_owned_work_list_locked(kshim_owned_work_t *work, kshim_work_kind_t kind,
                                  const void *routine)
{
    if (work->listed) {
        return;
    }
    work->owner = kshim_owner_current();
    work->kind = kind;
    work->routine = routine;
    work->running = false;
    work->listed = true;
    work->next = NULL;
    work->prev = work_tail;
    if (work_tail != NULL) {
        work_tail->next = work;
    } else {
        work_head = work;
    }
    work_tail = work;
}

void kshim_owned_work_unlist_locked(kshim_owned_work_t *work)
{
    if (!work->listed) {
        return;
    }
    if (work->prev != NULL) {
        work->prev->next = work->next;
    } else {
        work_head = work->next;
    }
    if (work->next != NULL) {
        work->next->prev = work->prev;
    } else {
        work_tail = work->prev;
    }
    work->next = work->prev = NULL;
    work->listed = false;
    work->running = false;
}

const void *kshim_owned_work_run_begin(const kshim_owned_work_t *work)
{
    kshim_dispatcher_lock();
    const void *owner = work->owner;
    kshim_work_kind_t kind = work->kind;
    const void *routine = work->routine;
    kshim_dispatcher_unlock();
    const void *previous = kshim_owner_swap(owner);
    kshim_owner_run_hook_fn *hook = __atomic_load_n(&run_hook, __ATOMIC_ACQUIRE);
    if (hook != NULL && owner != NULL) {
        hook(owner, kind, routine);
    }
    return previous;
}

void kshim_set_owner_run_hook(kshim_owner_run_hook_fn *hook)
{
    __atomic_store_n(&run_hook, hook, __ATOMIC_RELEASE);
}

typedef struct work_snapshot {
    kshim_work_kind_t kind;
    const void *routine;
    bool running;
} work_snapshot_t;

size_t kshim_owner_live_work(const void *owner, kshim_owner_work_fn *fn, void *context)
{
    kshim_dispatcher_lock();
    size_t count = 0;
    for (kshim_owned_work_t *w = work_head; w != NULL; w = w->next) {
        count += w->owner == owner;
    }
    work_snapshot_t *snapshot = NULL;
    if (fn != NULL && count != 0) {
        snapshot = malloc(count * sizeof *snapshot);
        if (snapshot == NULL) {
            kshim_dispatcher_unlock();
            kshim_stop("POOL_INTERNAL", "kshim_owner_live_work: out of memory");
        }
        size_t i = 0;
        for (kshim_owned_work_t *w = work_head; w != NULL; w = w->next) {
            if (w->owner == owner) {
                snapshot[i++] = (work_snapshot_t){w->kind, w->routine, w->running};
            }
        }
    }
    kshim_dispatcher_unlock();
    for (size_t i = 0; snapshot != NULL && i < count; i++) {
        fn(context, snapshot[i].kind, snapshot[i].routine, snapshot[i].running);
    }
    free(snapshot);
    return count;
}

void kshim_owner_forget_all(void)
{
    kshim_owner_swap(NULL);
    kshim_dispatcher_lock();
    for (kshim_owned_work_t *w = work_head; w != NULL; w = w->next) {
        w->owner = NULL;
    }
    kshim_dispatcher_unlock();
    kshim_pool_forget_owners();
}

void kshim_reset(void)
{
    kshim_owner_forget_all();
    kshim_registry_reset();
    kshim_uuid_reset();
}
