/* SPDX-License-Identifier: MIT */
/*
 * kshim_recycle.c - recyclers: the shim's own fixed-size objects (thread objects, harness
 * thread handles, work-item jobs) reused instead of going back to the C heap, so that a fuzz
 * input's threads and work items cost no heap call, no fresh page and no sanitizer
 * allocation stack once warm.
 *
 * Within an input a freed object is never handed out again: it is poisoned for ASan and
 * quarantined until kshim_recyclers_release_quarantines (kshim_sched_reset, between inputs),
 * so a use after free is still caught (as a use after poison). Beyond
 * KSHIM_RECYCLER_QUARANTINE objects the oldest goes back to the C heap (runs that never reset
 * the scheduler), and beyond KSHIM_RECYCLER_SPARE spare objects the rest do too.
 */
#include "kshim_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The recycler lock. Protects every recycler's rings and the list of recyclers. A leaf: taken
   under the dispatcher lock, never held while taking another lock. */
static kshim_os_mutex_t recycler_mutex = KSHIM_OS_MUTEX_INIT;
static kshim_recycler_t *recyclers; /* every recycler used so far */

void *kshim_recycler_take(kshim_recycler_t *recycler)
{
    void *object = NULL;
    kshim_os_mutex_lock(&recycler_mutex);
    if (recycler->spare_count > 0) {
        object = recycler->spare[--recycler->spare_count];
    }
    kshim_os_mutex_unlock(&recycler_mutex);
    if (object == NULL) {
        return calloc(1, recycler->size);
    }
    KSHIM_UNPOISON(object, recycler->size);
    /* Unpoisoned for exactly its size just above: ASan's range check cannot fail. */
    kshim_unchecked_memset(object, 0, recycler->size);
    return object;
}

void kshim_recycler_give(kshim_recycler_t *recycler, void *object)
{
    if (object == NULL) {
        return;
    }
    void *oldest = NULL;
    KSHIM_POISON(object, recycler->size);
    kshim_os_mutex_lock(&recycler_mutex);
    if (!recycler->listed) {
        recycler->listed = true;
        recycler->next_recycler = recyclers;
        recyclers = recycler;
    }
    if (recycler->quarantined_count == KSHIM_RECYCLER_QUARANTINE) {
        oldest = recycler->quarantined[recycler->quarantine_head];
        recycler->quarantine_head = (recycler->quarantine_head + 1) % KSHIM_RECYCLER_QUARANTINE;
        recycler->quarantined_count--;
    }
    recycler->quarantined[(recycler->quarantine_head + recycler->quarantined_count) %
                          KSHIM_RECYCLER_QUARANTINE] = object;
    recycler->quarantined_count++;
    kshim_os_mutex_unlock(&recycler_mutex);
    if (oldest != NULL) {
        KSHIM_UNPOISON(oldest, recycler->size);
        free(oldest);
    }
}

void kshim_recyclers_release_quarantines(void)
{
    kshim_os_mutex_lock(&recycler_mutex);
    for (kshim_recycler_t *r = recyclers; r != NULL; r = r->next_recycler) {
        while (r->quarantined_count > 0) {
            void *object = r->quarantined[r->quarantine_head];
            r->quarantine_head = (r->quarantine_head + 1) % KSHIM_RECYCLER_QUARANTINE;
            r->quarantined_count--;
            if (r->spare_count < KSHIM_RECYCLER_SPARE) {
                r->spare[r->spare_count++] = object; /* stays poisoned until taken */
            } else {
                KSHIM_UNPOISON(object, r->size);
                free(object);
            }
        }
    }
    kshim_os_mutex_unlock(&recycler_mutex);
}

/* The object of r's ring (count entries from head, capacity slots) that holds address, if any. */
static const void *find_in(void *const *ring, unsigned head, unsigned count, unsigned capacity,
                           size_t size, uintptr_t address)
{
    for (unsigned i = 0; i < count; i++) {
        uintptr_t start = (uintptr_t)ring[(head + i) % capacity];
        if (address >= start && address - start < size) {
            return (const void *)start;
        }
    }
    return NULL;
}

bool kshim_recycler_describe_address(uintptr_t address, char *out, size_t size)
{
    if (!kshim_os_mutex_trylock(&recycler_mutex)) {
        return false; /* the report came from inside a recycler */
    }
    bool found = false;
    for (kshim_recycler_t *r = recyclers; r != NULL && !found; r = r->next_recycler) {
        const void *object = find_in(r->quarantined, r->quarantine_head, r->quarantined_count,
                                     KSHIM_RECYCLER_QUARANTINE, r->size, address);
        bool this_input = object != NULL;
        if (object == NULL) {
            object = find_in(r->spare, 0, r->spare_count, KSHIM_RECYCLER_SPARE, r->size, address);
        }
        if (object != NULL) {
            snprintf(out, size,
                     "*** KSHIM USE AFTER FREE: address %#lx is %zu bytes into a %s at %p (%zu "
                     "bytes) freed %s; the shim recycles them and keeps a freed one poisoned (a "
                     "sanitizer calls that use-after-poison)",
                     (unsigned long)address, (size_t)(address - (uintptr_t)object), r->what,
                     object, r->size, this_input ? "in this input" : "in an earlier input");
            found = true;
        }
    }
    kshim_os_mutex_unlock(&recycler_mutex);
    return found;
}
