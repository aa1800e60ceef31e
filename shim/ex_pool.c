/* SPDX-License-Identifier: MIT */
/*
 * ex_pool.c - pool allocation with a side table.
 *
 * Every allocation is recorded in a hash table keyed by the user pointer; records are
 * allocated with the C library, never in-band, so freeing checks (double free, unknown
 * pointer, wrong tag) never read freed pool memory. A freed record stays as a tombstone
 * (with the freeing site) until its address is reused or the oldest tombstones are evicted,
 * so a double free is told apart from a pointer that was never allocated.
 *
 * Blocks are reused (the fuzzing fast path: no C heap call, no fresh page, no sanitizer
 * allocation stack per allocation once warm). A block of a size class (sizes up to
 * MAX_CLASS_BYTES, not cache-aligned) is its own C-heap allocation, so the sanitizer's
 * redzones still surround it; freed, it is poisoned for ASan (filled with 0xDD instead without
 * ASan) and quarantined, and
 * it returns to its class only at kshim_pool_forget_freed (between fuzz inputs), so within
 * an input a freed block is never handed out again and every use after free is caught
 * (by ASan as a use-after-poison). A block handed out is unpoisoned for exactly the bytes
 * requested, so an overflow into the rest of its class is caught too. Records are reused
 * the same way.
 */
#include "ex_pool.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOMBSTONES 65536
#define FILL_UNINITIALIZED 0xCD
#define FILL_FREED 0xDD
#define CLASS_BYTES 16         /* size classes: multiples of 16 bytes ... */
#define MAX_CLASS_BYTES 4096   /* ... up to this; larger (and cache-aligned) blocks are not reused */
#define CLASS_COUNT (MAX_CLASS_BYTES / CLASS_BYTES)
#define MAX_QUARANTINE 65536   /* freed blocks held back; beyond, the oldest go to the C heap */


typedef struct pool_record {
    struct pool_record *hash_next; /* bucket chain */
    struct pool_record *tomb_prev; /* tombstone FIFO (oldest at tomb_head) */
    struct pool_record *tomb_next;
    struct pool_record *live_prev; /* live list (allocation order), while live */
    struct pool_record *live_next;
    uintptr_t address;
    size_t size;
    ULONG tag;
    bool live;  /* false: tombstone */
    bool paged; /* POOL_FLAG_PAGED / PagedPool */
    unsigned block_class; /* 1 + size class of a reused block; 0: a C-heap block of its own */
    uint64_t serial;
    const void *owner;      /* kshim_owner_current() of the allocating thread */
    const char *alloc_site; /* "<file>:<line>" as passed (use kshim_site_basename) */
    const char *free_site;
} pool_record_t;

/* The pool lock. Protects: buckets, bucket_count, live_count, tombstone FIFO, serials. */
static kshim_os_mutex_t pool_mutex = KSHIM_OS_MUTEX_INIT;
static pool_record_t **buckets;
static size_t bucket_count;
static size_t record_count; /* live + tombstones */
static size_t live_count;
static size_t tomb_count;
static pool_record_t *tomb_head;
static pool_record_t *tomb_tail;
static pool_record_t *live_head; /* live records, oldest first */
static pool_record_t *live_tail;
static uint64_t next_serial = 1;
/* Reuse (pool lock): free blocks by class (poisoned), the quarantine of blocks freed since
   the last kshim_pool_forget_freed (FIFO, poisoned), and unused records. */
typedef struct block_stack {
    void **blocks;
    size_t count, capacity;
} block_stack_t;
static block_stack_t free_blocks[CLASS_COUNT];
static struct {
    void **blocks;
    unsigned *classes;
    size_t head, count, capacity; /* a ring */
} quarantine;
static pool_record_t *free_records;

void kshim_tag_to_chars(ULONG tag, char out[5])
{
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)(tag >> (8 * i));
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
    }
    out[4] = '\0';
}

static size_t hash_address(uintptr_t address, size_t count)
{
    uint64_t h = (uint64_t)address;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)h & (count - 1);
}

/* Pool lock held. */
static pool_record_t *find_record(uintptr_t address)
{
    if (bucket_count == 0) {
        return NULL;
    }
    for (pool_record_t *r = buckets[hash_address(address, bucket_count)]; r; r = r->hash_next) {
        if (r->address == address) {
            return r;
        }
    }
    return NULL;
}

/* Pool lock held. */
static void grow_table(void)
{
    size_t new_count = bucket_count ? bucket_count * 2 : 1024;
    pool_record_t **new_buckets = calloc(new_count, sizeof *new_buckets);
    if (new_buckets == NULL) {
        kshim_stop("POOL_INTERNAL", "out of memory growing the pool table");
    }
    for (size_t i = 0; i < bucket_count; i++) {
        pool_record_t *r = buckets[i];
        while (r) {
            pool_record_t *next = r->hash_next;
            size_t b = hash_address(r->address, new_count);
            r->hash_next = new_buckets[b];
            new_buckets[b] = r;
            r = next;
        }
    }
    free(buckets);
    buckets = new_buckets;
    bucket_count = new_count;
}

/* Pool lock held. */
static void unlink_record(pool_record_t *record)
{
    pool_record_t **p = &buckets[hash_address(record->address, bucket_count)];
    while (*p != record) {
        p = &(*p)->hash_next;
    }
    *p = record->hash_next;
    record_count--;
}

/* Pool lock held. */
static KSHIM_NO_MERGED_MEMSET void tomb_unlink(pool_record_t *r)
{
    if (r->tomb_prev) {
        r->tomb_prev->tomb_next = r->tomb_next;
    } else {
        tomb_head = r->tomb_next;
    }
    if (r->tomb_next) {
        r->tomb_next->tomb_prev = r->tomb_prev;
    } else {
        tomb_tail = r->tomb_prev;
    }
    r->tomb_prev = r->tomb_next = NULL;
    tomb_count--;
}

/* Pool lock held. */
static void live_append(pool_record_t *r)
{
    r->live_next = NULL;
    r->live_prev = live_tail;
    if (live_tail) {
        live_tail->live_next = r;
    } else {
        live_head = r;
    }
    live_tail = r;
}

/* Pool lock held. */
static KSHIM_NO_MERGED_MEMSET void live_unlink(pool_record_t *r)
{
    if (r->live_prev) {
        r->live_prev->live_next = r->live_next;
    } else {
        live_head = r->live_next;
    }
    if (r->live_next) {
        r->live_next->live_prev = r->live_prev;
    } else {
        live_tail = r->live_prev;
    }
    r->live_prev = r->live_next = NULL;
}

/* Pool lock held. */
static void release_record(pool_record_t *r)
{
    r->hash_next = free_records;
    free_records = r;
}

/* Pool lock held. */
static bool push_block(block_stack_t *stack, void *block)
{
    if (stack->count == stack->capacity) {
        size_t capacity = stack->capacity ? 2 * stack->capacity : 64;
        void **blocks = realloc(stack->blocks, capacity * sizeof *blocks);
        if (blocks == NULL) {
            return false;
        }
        stack->blocks = blocks;
        stack->capacity = capacity;
    }
    stack->blocks[stack->count++] = block;
    return true;
}

/* Pool lock held: a freed block (filled without ASan) of class block_class (1-based) is poisoned and
   quarantined until the next kshim_pool_forget_freed; the oldest beyond MAX_QUARANTINE
   goes back to the C heap. */
static void quarantine_block(void *block, unsigned block_class)
{
    KSHIM_POISON(block, (size_t)block_class * CLASS_BYTES);
    if (quarantine.count == MAX_QUARANTINE) {
        void *oldest = quarantine.blocks[quarantine.head];
        KSHIM_UNPOISON(oldest, (size_t)quarantine.classes[quarantine.head] * CLASS_BYTES);
        free(oldest);
        quarantine.head = (quarantine.head + 1) % quarantine.capacity;
        quarantine.count--;
    }
    if (quarantine.count == quarantine.capacity) {
        size_t capacity = quarantine.capacity ? 2 * quarantine.capacity : 256;
        void **blocks = malloc(capacity * sizeof *blocks);
        unsigned *classes = malloc(capacity * sizeof *classes);
        if (blocks == NULL || classes == NULL) {
            free(blocks);
            free(classes);
            KSHIM_UNPOISON(block, (size_t)block_class * CLASS_BYTES);
            free(block);
            return;
        }
        for (size_t i = 0; i < quarantine.count; i++) {
            size_t from = (quarantine.head + i) % quarantine.capacity;
            blocks[i] = quarantine.blocks[from];
            classes[i] = quarantine.classes[from];
        }
        free(quarantine.blocks);
        free(quarantine.classes);
        quarantine.blocks = blocks;
        quarantine.classes = classes;
        quarantine.head = 0;
        quarantine.capacity = capacity;
    }
    size_t tail = (quarantine.head + quarantine.count) % quarantine.capacity;
    quarantine.blocks[tail] = block;
    quarantine.classes[tail] = block_class;
    quarantine.count++;
}

/* Pool lock held: the quarantined blocks become free blocks of their classes. */
static void release_quarantine(void)
{
    for (; quarantine.count > 0; quarantine.count--) {
        void *block = quarantine.blocks[quarantine.head];
        unsigned block_class = quarantine.classes[quarantine.head];
        quarantine.head = (quarantine.head + 1) % quarantine.capacity;
        if (!push_block(&free_blocks[block_class - 1], block)) {
            KSHIM_UNPOISON(block, (size_t)block_class * CLASS_BYTES);
            free(block);
        }
    }
    quarantine.head = 0;
}

/* Pool lock held. */
static void tomb_append(pool_record_t *r)
{
    r->tomb_next = NULL;
    r->tomb_prev = tomb_tail;
    if (tomb_tail) {
        tomb_tail->tomb_next = r;
    } else {
        tomb_head = r;
    }
    tomb_tail = r;
    tomb_count++;
    if (tomb_count > MAX_TOMBSTONES) {
        pool_record_t *oldest = tomb_head;
        tomb_unlink(oldest);
        unlink_record(oldest);
        release_record(oldest);
    }
}

void kshim_pool_forget_freed(void)
{
    kshim_os_mutex_lock(&pool_mutex);
    while (tomb_head != NULL) {
        pool_record_t *oldest = tomb_head;
        tomb_unlink(oldest);
        unlink_record(oldest);
        release_record(oldest);
    }
    release_quarantine();
    kshim_os_mutex_unlock(&pool_mutex);
}

static void *allocate_tracked(size_t size, ULONG tag, const char *site, bool zero, bool paged,
                              bool cache_aligned)
{
    size_t bytes = size ? size : 1;
    unsigned block_class = !cache_aligned && bytes <= MAX_CLASS_BYTES
                               ? (unsigned)((bytes + CLASS_BYTES - 1) / CLASS_BYTES)
                               : 0;
    void *p = NULL;
    /* A block taken from its class has no record: it became free at kshim_pool_forget_freed,
       which removed every tombstone, and has not been handed out since. */
    bool reused = false;
    if (block_class != 0) {
        kshim_os_mutex_lock(&pool_mutex);
        block_stack_t *stack = &free_blocks[block_class - 1];
        if (stack->count > 0) {
            p = stack->blocks[--stack->count];
            reused = true;
        }
        kshim_os_mutex_unlock(&pool_mutex);
        if (p != NULL) {
            KSHIM_UNPOISON(p, bytes); /* the rest of the class stays poisoned */
        } else {
            p = malloc((size_t)block_class * CLASS_BYTES);
            if (p != NULL) {
                KSHIM_POISON((char *)p + bytes, (size_t)block_class * CLASS_BYTES - bytes);
            }
        }
    } else if (cache_aligned) {
        p = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    } else {
        p = malloc(bytes);
    }
    if (p == NULL) {
        return NULL;
    }
    /* Bytes the pool has just unpoisoned for exactly this size (a reused block) or the C heap
       has just returned: ASan's range check of a memset cannot fail here. */
    kshim_unchecked_memset(p, zero ? 0 : FILL_UNINITIALIZED, bytes);
    const void *owner = kshim_owner_current();

    kshim_os_mutex_lock(&pool_mutex);
    pool_record_t *r = reused ? NULL : find_record((uintptr_t)p);
    if (r) {
        /* The C heap reused a freed address: the tombstone is cleared. */
        if (r->live) {
            kshim_os_mutex_unlock(&pool_mutex);
            kshim_stop("POOL_INTERNAL", "address %p returned twice by the C heap", p);
        }
        tomb_unlink(r);
    } else {
        r = free_records;
        if (r != NULL) {
            free_records = r->hash_next;
            r->tomb_prev = r->tomb_next = NULL; /* every other field is set below */
        } else {
            r = calloc(1, sizeof *r);
        }
        if (r == NULL) {
            kshim_os_mutex_unlock(&pool_mutex);
            kshim_stop("POOL_INTERNAL", "out of memory for a pool record");
        }
        if (record_count + 1 > bucket_count * 2) {
            grow_table();
        }
        r->address = (uintptr_t)p;
        size_t b = hash_address(r->address, bucket_count);
        r->hash_next = buckets[b];
        buckets[b] = r;
        record_count++;
    }
    r->size = size;
    r->tag = tag;
    r->live = true;
    r->paged = paged;
    r->block_class = block_class;
    r->serial = next_serial++;
    r->owner = owner;
    r->alloc_site = site;
    r->free_site = NULL;
    live_append(r);
    live_count++;
    kshim_os_mutex_unlock(&pool_mutex);
    return p;
}

/* Pool lock held: stops on a free of a tombstone (double free) or with the wrong tag (out of
   line: the tag buffers would give every free an instrumented stack frame). */
static __attribute__((noinline)) void stop_bad_free(const pool_record_t *r, ULONG check_tag,
                                                    const char *routine, const char *site,
                                                    void *p)
{
    char want[5], have[5];
    kshim_tag_to_chars(r->tag, have);
    const char *alloc_site = kshim_site_basename(r->alloc_site);
    if (!r->live) {
        const char *free_site = kshim_site_basename(r->free_site);
        kshim_os_mutex_unlock(&pool_mutex);
        kshim_stop("POOL_DOUBLE_FREE",
                   "%s at %s: %p (tag '%s', allocated at %s) was already freed at %s", routine,
                   kshim_site_basename(site), p, have, alloc_site, free_site);
    }
    kshim_tag_to_chars(check_tag, want);
    kshim_os_mutex_unlock(&pool_mutex);
    kshim_stop("POOL_FREE_WRONG_TAG", "%s at %s: %p has tag '%s' (allocated at %s), freed with tag '%s'",
               routine, kshim_site_basename(site), p, have, alloc_site, want);
}

/* check_tag: 0 = no tag check. check_irql: apply the IRQL rule of the record's pool. */
static void free_tracked(void *p, ULONG check_tag, const char *routine, const char *site,
                         bool check_irql)
{
    /* Read before taking the pool lock: the first shim call of a thread adopts it, which
       takes the dispatcher lock (ordered before the pool lock). */
    KIRQL irql = check_irql ? KeGetCurrentIrql() : PASSIVE_LEVEL;
    if (p == NULL) {
        kshim_stop("POOL_FREE_UNKNOWN", "%s at %s: NULL pointer", routine, kshim_site_basename(site));
    }
    kshim_os_mutex_lock(&pool_mutex);
    pool_record_t *r = find_record((uintptr_t)p);
    if (r == NULL) {
        kshim_os_mutex_unlock(&pool_mutex);
        kshim_stop("POOL_FREE_UNKNOWN", "%s at %s: %p was never allocated from pool", routine,
                   kshim_site_basename(site), p);
    }
    if (!r->live || (check_tag != 0 && check_tag != r->tag)) {
        stop_bad_free(r, check_tag, routine, site, p);
    }
    if (check_irql) {
        KIRQL max = r->paged ? APC_LEVEL : DISPATCH_LEVEL;
        if (irql > max) {
            bool paged = r->paged;
            kshim_os_mutex_unlock(&pool_mutex);
            kshim_stop("IRQL_TOO_HIGH", "%s at %s: freeing %s pool %p at IRQL %u (maximum %u)",
                       routine, kshim_site_basename(site), paged ? "paged" : "nonpaged", p,
                       (unsigned)irql, (unsigned)max);
        }
    }
    size_t size = r->size;
    r->live = false;
    r->free_site = site ? site : routine;
    live_unlink(r);
    live_count--;
    tomb_append(r);
    /* Fill and release while holding the lock, so no other thread can be handed this
       address (and find the tombstone) before the fill is done. Under AddressSanitizer no
       read can see the fill (a class block is poisoned below, any other goes back to ASan's
       heap, which reports every access to freed memory), so it is left out. */
#ifndef KSHIM_ASAN
    memset(p, FILL_FREED, size);
#else
    (void)size;
#endif
    if (r->block_class != 0) {
        quarantine_block(p, r->block_class);
    } else {
        free(p);
    }
    kshim_os_mutex_unlock(&pool_mutex);
}

void *kshim_pool_alloc_internal(size_t size, ULONG tag, const char *site, bool zero)
{
    void *p = allocate_tracked(size, tag, site, zero, false, false);
    if (p == NULL) {
        kshim_stop("POOL_INTERNAL", "out of memory for a shim object of %zu bytes", size);
    }
    return p;
}

void kshim_pool_free_internal(void *p, const char *routine, const char *site)
{
    free_tracked(p, 0, routine, site, false);
}

/* ---- ExAllocatePool2 and friends ----------------------------------------------------------- */

#define KNOWN_POOL_FLAGS                                                                    \
    (POOL_FLAG_USE_QUOTA | POOL_FLAG_UNINITIALIZED | POOL_FLAG_SESSION | POOL_FLAG_CACHE_ALIGNED | \
     POOL_FLAG_RAISE_ON_FAILURE | POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE |         \
     POOL_FLAG_PAGED | POOL_FLAG_SPECIAL_POOL)

static void check_tag_valid(const char *routine, ULONG tag, const char *site)
{
    if (tag == 0) {
        kshim_stop("POOL_FLAGS_INVALID", "%s at %s: pool tag 0 (tags must be non-zero)", routine,
                   kshim_site_basename(site));
    }
}

static void *pool_allocate(const char *routine, SIZE_T size, ULONG tag, const char *site,
                           bool zero, bool paged, bool cache_aligned, bool raise_on_failure)
{
    KIRQL irql = KeGetCurrentIrql();
    KIRQL max = paged ? APC_LEVEL : DISPATCH_LEVEL;
    if (irql > max) {
        kshim_stop("IRQL_TOO_HIGH", "%s at %s: %s pool allocation at IRQL %u (maximum %u)", routine,
                   kshim_site_basename(site), paged ? "paged" : "nonpaged", (unsigned)irql,
                   (unsigned)max);
    }
    kshim_sched_yield_point(); /* every pool allocation is a yield point */
    if (kshim_fault_should_fail(site, tag)) {
        if (raise_on_failure) {
            kshim_stop("POOL_RAISE_ON_FAILURE",
                       "%s at %s: injected failure with POOL_FLAG_RAISE_ON_FAILURE (Windows raises "
                       "STATUS_INSUFFICIENT_RESOURCES; the shim cannot)",
                       routine, kshim_site_basename(site));
        }
        return NULL;
    }
    return allocate_tracked(size, tag, site, zero, paged, cache_aligned);
}

PVOID kshim_ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag, const char *site)
{
    const char *routine = "ExAllocatePool2";
    POOL_FLAGS kinds = Flags & (POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED);
    if ((Flags & ~KNOWN_POOL_FLAGS) != 0) {
        kshim_stop("POOL_FLAGS_INVALID", "%s at %s: unknown flag bits 0x%llx in 0x%llx", routine,
                   kshim_site_basename(site), (unsigned long long)(Flags & ~KNOWN_POOL_FLAGS),
                   (unsigned long long)Flags);
    }
    if (kinds != POOL_FLAG_NON_PAGED && kinds != POOL_FLAG_NON_PAGED_EXECUTE &&
        kinds != POOL_FLAG_PAGED) {
        kshim_stop("POOL_FLAGS_INVALID",
                   "%s at %s: flags 0x%llx must name exactly one of POOL_FLAG_NON_PAGED, "
                   "POOL_FLAG_NON_PAGED_EXECUTE, POOL_FLAG_PAGED",
                   routine, kshim_site_basename(site), (unsigned long long)Flags);
    }
    check_tag_valid(routine, Tag, site);
    return pool_allocate(routine, NumberOfBytes, Tag, site, (Flags & POOL_FLAG_UNINITIALIZED) == 0,
                         kinds == POOL_FLAG_PAGED, (Flags & POOL_FLAG_CACHE_ALIGNED) != 0,
                         (Flags & POOL_FLAG_RAISE_ON_FAILURE) != 0);
}

static void *allocate_pool_type(const char *routine, POOL_TYPE PoolType, SIZE_T NumberOfBytes,
                                ULONG Tag, const char *site, bool zero)
{
    int type = (int)PoolType;
    bool raise = (type & POOL_RAISE_IF_ALLOCATION_FAILURE) != 0;
    type &= ~POOL_RAISE_IF_ALLOCATION_FAILURE;
    bool paged, aligned;
    switch (type) {
    case NonPagedPool:
    case NonPagedPoolNx:
        paged = false, aligned = false;
        break;
    case NonPagedPoolCacheAligned:
    case NonPagedPoolNxCacheAligned:
        paged = false, aligned = true;
        break;
    case PagedPool:
        paged = true, aligned = false;
        break;
    case PagedPoolCacheAligned:
        paged = true, aligned = true;
        break;
    default:
        kshim_stop("POOL_FLAGS_INVALID", "%s at %s: unsupported POOL_TYPE %d", routine,
                   kshim_site_basename(site), (int)PoolType);
    }
    check_tag_valid(routine, Tag, site);
    return pool_allocate(routine, NumberOfBytes, Tag, site, zero, paged, aligned, raise);
}

PVOID kshim_ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag, const char *site)
{
    return allocate_pool_type("ExAllocatePoolWithTag", PoolType, NumberOfBytes, Tag, site, false);
}

PVOID kshim_ExAllocatePoolZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag, const char *site)
{
    return allocate_pool_type("ExAllocatePoolZero", PoolType, NumberOfBytes, Tag, site, true);
}

VOID kshim_ExFreePoolWithTag(PVOID P, ULONG Tag, const char *site)
{
    free_tracked(P, Tag, Tag ? "ExFreePoolWithTag" : "ExFreePool", site, true);
}

/* The real (non-macro) entry points: no caller site is known. */
#undef ExAllocatePool2
#undef ExAllocatePoolWithTag
#undef ExAllocatePoolZero
#undef ExAllocatePool
#undef ExFreePoolWithTag
#undef ExFreePool

#define NO_SITE "unknown:0"

PVOID ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag)
{
    return kshim_ExAllocatePool2(Flags, NumberOfBytes, Tag, NO_SITE);
}

PVOID ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return kshim_ExAllocatePoolWithTag(PoolType, NumberOfBytes, Tag, NO_SITE);
}

PVOID ExAllocatePoolZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return kshim_ExAllocatePoolZero(PoolType, NumberOfBytes, Tag, NO_SITE);
}

PVOID ExAllocatePool(POOL_TYPE PoolType, SIZE_T NumberOfBytes)
{
    return kshim_ExAllocatePoolWithTag(PoolType, NumberOfBytes, 0x656E6F4EUL, NO_SITE);
}

VOID ExFreePoolWithTag(PVOID P, ULONG Tag)
{
    kshim_ExFreePoolWithTag(P, Tag, NO_SITE);
}

VOID ExFreePool(PVOID P)
{
    kshim_ExFreePoolWithTag(P, 0, NO_SITE);
}

/* ---- audit ------------------------------------------------------------------------------- */

size_t kshim_pool_live_count(void)
{
    kshim_os_mutex_lock(&pool_mutex);
    size_t n = live_count;
    kshim_os_mutex_unlock(&pool_mutex);
    return n;
}

size_t kshim_pool_live_count_by_tag(ULONG tag)
{
    size_t n = 0;
    kshim_os_mutex_lock(&pool_mutex);
    for (pool_record_t *r = live_head; r; r = r->live_next) {
        n += r->tag == tag;
    }
    kshim_os_mutex_unlock(&pool_mutex);
    return n;
}

/* Pool lock held: the live records (of owner only, if only_owner), oldest first, in a C-heap
   array the caller frees; *count is set. */
static pool_record_t **live_records_locked(bool only_owner, const void *owner, size_t *count)
{
    pool_record_t **live = calloc(live_count ? live_count : 1, sizeof *live);
    size_t k = 0;
    for (pool_record_t *r = live_head; live && r; r = r->live_next) {
        if (!only_owner || r->owner == owner) {
            live[k++] = r;
        }
    }
    *count = k;
    return live;
}

typedef struct owned_allocation {
    ULONG tag;
    size_t size;
    const char *site;
} owned_allocation_t;

size_t kshim_owner_live_pool(const void *owner, kshim_owner_pool_fn *fn, void *context)
{
    kshim_os_mutex_lock(&pool_mutex);
    size_t k;
    pool_record_t **live = live_records_locked(true, owner, &k);
    owned_allocation_t *copy = fn != NULL && k != 0 ? malloc(k * sizeof *copy) : NULL;
    if (live == NULL || (fn != NULL && k != 0 && copy == NULL)) {
        kshim_os_mutex_unlock(&pool_mutex);
        kshim_stop("POOL_INTERNAL", "kshim_owner_live_pool: out of memory");
    }
    for (size_t i = 0; copy != NULL && i < k; i++) {
        copy[i] = (owned_allocation_t){live[i]->tag, live[i]->size,
                                       kshim_site_basename(live[i]->alloc_site)};
    }
    kshim_os_mutex_unlock(&pool_mutex);
    free(live);
    for (size_t i = 0; copy != NULL && i < k; i++) {
        fn(context, copy[i].tag, copy[i].size, copy[i].site);
    }
    free(copy);
    return k;
}

/* Pool lock taken with trylock: this runs inside a sanitizer's report, which may interrupt a
   thread that holds the lock, or come while another real thread holds it (the report then
   says nothing about the pool). Reads only the records (C heap, never poisoned), never the
   reported memory. */
bool kshim_pool_describe_address(uintptr_t address, char *out, size_t size)
{
    if (!kshim_os_mutex_trylock(&pool_mutex)) {
        return false;
    }
    bool found = false;
    char tag[5];
    for (pool_record_t *r = tomb_head; r != NULL && !found; r = r->tomb_next) {
        /* A block of no class went back to the C heap when freed: ASan names it itself
           (heap-use-after-free, with its freeing stack), and its range may now be another
           allocation's. */
        if (r->block_class == 0) {
            continue;
        }
        size_t extent = (size_t)r->block_class * CLASS_BYTES;
        if (address >= r->address && address - r->address < extent) {
            kshim_tag_to_chars(r->tag, tag);
            snprintf(out, size,
                     "*** KSHIM POOL USE AFTER FREE: address %#lx is %zu bytes into pool block %#lx "
                     "(%zu bytes, tag '%s', allocated at %s) freed at %s in this input; freed pool "
                     "stays poisoned until the input ends (a sanitizer calls that use-after-poison)",
                     (unsigned long)address, (size_t)(address - r->address),
                     (unsigned long)r->address, r->size, tag, kshim_site_basename(r->alloc_site),
                     kshim_site_basename(r->free_site));
            found = true;
        }
    }
    for (pool_record_t *r = live_head; r != NULL && !found; r = r->live_next) {
        size_t extent = r->block_class ? (size_t)r->block_class * CLASS_BYTES : r->size;
        if (address >= r->address + r->size && address < r->address + extent) {
            kshim_tag_to_chars(r->tag, tag);
            snprintf(out, size,
                     "*** KSHIM POOL OVERRUN: address %#lx is %zu bytes past the end of live pool "
                     "block %#lx (%zu bytes, tag '%s', allocated at %s)",
                     (unsigned long)address, (size_t)(address - r->address - r->size),
                     (unsigned long)r->address, r->size, tag, kshim_site_basename(r->alloc_site));
            found = true;
        }
    }
    kshim_os_mutex_unlock(&pool_mutex);
    return found;
}

void kshim_pool_forget_owners(void)
{
    kshim_os_mutex_lock(&pool_mutex);
    /* Every record is live or a tombstone: the two lists hold them all, without a walk of the
       hash table's buckets (which never shrink, so that walk cost every reset as much as the
       largest input ever allocated). */
    for (pool_record_t *r = live_head; r != NULL; r = r->live_next) {
        r->owner = NULL;
    }
    for (pool_record_t *r = tomb_head; r != NULL; r = r->tomb_next) {
        r->owner = NULL;
    }
    kshim_os_mutex_unlock(&pool_mutex);
}

size_t kshim_pool_audit_print(void)
{
    kshim_os_mutex_lock(&pool_mutex);
    size_t n = live_count;
    size_t k;
    pool_record_t **live = live_records_locked(false, NULL, &k);
    fprintf(stderr, "kshim pool audit: %zu live allocation(s)\n", n);
    for (size_t i = 0; i < k; i++) {
        char tag[5];
        kshim_tag_to_chars(live[i]->tag, tag);
        fprintf(stderr, "  tag '%s' size %zu at %s (%p)\n", tag, live[i]->size,
                kshim_site_basename(live[i]->alloc_site), (void *)live[i]->address);
    }
    /* Per-tag totals, in the order each tag first appears above. */
    for (size_t i = 0; i < k; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) {
            seen = live[j]->tag == live[i]->tag;
        }
        if (seen) {
            continue;
        }
        size_t count = 0, bytes = 0;
        for (size_t j = i; j < k; j++) {
            if (live[j]->tag == live[i]->tag) {
                count++;
                bytes += live[j]->size;
            }
        }
        char tag[5];
        kshim_tag_to_chars(live[i]->tag, tag);
        fprintf(stderr, "  tag '%s': %zu live, %zu bytes\n", tag, count, bytes);
    }
    fflush(stderr);
    kshim_os_mutex_unlock(&pool_mutex);
    free(live);
    return n;
}
