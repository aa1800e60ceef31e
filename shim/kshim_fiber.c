/* SPDX-License-Identifier: MIT */
/*
 * kshim_fiber.c - fibers: stacks, the context switch, sanitizer annotations.
 * See kshim_fiber.h. Stacks are mmap'ed with a guard page below and recycled through a
 * free list, so a fuzz iteration creates no mapping once warm.
 */
#include "kshim_fiber.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <kshim/kshim.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KSHIM_FIBER_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define KSHIM_FIBER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define KSHIM_FIBER_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define KSHIM_FIBER_TSAN 1
#endif

#ifdef KSHIM_FIBER_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef KSHIM_FIBER_TSAN
#include <sanitizer/tsan_interface.h>
#endif

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

/* ASan needs deep stacks (redzones); 256 KiB is ample for driver-style code. */
#define FIBER_STACK_SIZE (256u * 1024u)

struct kshim_fiber {
    void *stack_pointer;        /* saved rsp while not running (x86-64) */
#if !defined(__x86_64__)
    ucontext_t context;
#endif
    void *mapping;              /* guard page + stack; NULL for the main fiber */
    size_t mapping_size;
    const void *stack_bottom;   /* lowest usable stack address (for ASan) */
    size_t stack_size;
    void (*entry)(void *);
    void *arg;
    void *asan_fake_stack;
#ifdef KSHIM_FIBER_TSAN
    void *tsan_fiber;
#endif
    kshim_fiber_t *next_free;   /* in the free list */
};

static kshim_fiber_t main_fiber;
static int main_fiber_ready;
static kshim_fiber_t *free_fibers;
/* The fiber being started: fiber_start reads it (set just before the first switch). */
static kshim_fiber_t *starting_fiber;
static kshim_fiber_t *starting_from;

kshim_fiber_t *kshim_fiber_main(void)
{
    if (!main_fiber_ready) {
        main_fiber_ready = 1;
#ifdef KSHIM_FIBER_TSAN
        main_fiber.tsan_fiber = __tsan_get_current_fiber();
#endif
    }
    return &main_fiber;
}

static void announce_switch(kshim_fiber_t *from, kshim_fiber_t *to, int finishing)
{
#ifdef KSHIM_FIBER_ASAN
    __sanitizer_start_switch_fiber(finishing ? NULL : &from->asan_fake_stack, to->stack_bottom,
                                   to->stack_size);
#else
    (void)from;
    (void)finishing;
#endif
#ifdef KSHIM_FIBER_TSAN
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#else
    (void)to;
#endif
}

#ifdef KSHIM_FIBER_ASAN
/* Out of line: its address-taken locals would give every switch an instrumented frame. */
static __attribute__((noinline)) void arrived_from_main(kshim_fiber_t *self, kshim_fiber_t *main)
{
    const void *main_bottom;
    size_t main_size;
    __sanitizer_finish_switch_fiber(self->asan_fake_stack, &main_bottom, &main_size);
    main->stack_bottom = main_bottom;
    main->stack_size = main_size;
}
#endif

/* Called on `self` right after it was switched to (from: the fiber that switched, when known). */
static void arrived(kshim_fiber_t *self, kshim_fiber_t *from)
{
#ifdef KSHIM_FIBER_ASAN
    if (from != NULL && from->mapping == NULL) {
        /* Learn the main fiber's stack the first time we leave it. */
        arrived_from_main(self, from);
    } else {
        __sanitizer_finish_switch_fiber(self->asan_fake_stack, NULL, NULL);
    }
#else
    (void)self;
    (void)from;
#endif
}

static __attribute__((noreturn)) void fiber_start(void)
{
    kshim_fiber_t *self = starting_fiber;
    arrived(self, starting_from);
    self->entry(self->arg);
    kshim_stop("FIBER_RETURNED", "a fiber's entry function returned instead of finishing");
}

#if defined(__x86_64__)
/* void kshim_context_switch(void **save_sp, void *load_sp): saves the callee-saved
   registers of SysV x86-64 on the current stack, stores rsp, loads the other rsp, pops
   its registers and returns into it. */
void kshim_context_switch(void **save_sp, void *load_sp);
__asm__(".text\n"
        ".globl kshim_context_switch\n"
        ".hidden kshim_context_switch\n"
        ".type kshim_context_switch,@function\n"
        "kshim_context_switch:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        ".size kshim_context_switch, .-kshim_context_switch\n");
#endif

static void prepare_stack(kshim_fiber_t *fiber)
{
#if defined(__x86_64__)
    uintptr_t top = ((uintptr_t)fiber->stack_bottom + fiber->stack_size) & ~(uintptr_t)15;
    void **sp = (void **)top;
    *--sp = NULL;                    /* fake return address of fiber_start: keeps rsp%16==8 */
    *--sp = (void *)fiber_start;     /* popped by ret */
    for (int i = 0; i < 6; i++) {
        *--sp = NULL;                /* rbp rbx r12 r13 r14 r15 */
    }
    fiber->stack_pointer = sp;
#else
    getcontext(&fiber->context);
    fiber->context.uc_stack.ss_sp = (void *)fiber->stack_bottom;
    fiber->context.uc_stack.ss_size = fiber->stack_size;
    fiber->context.uc_link = NULL;
    makecontext(&fiber->context, (void (*)(void))fiber_start, 0);
#endif
}

kshim_fiber_t *kshim_fiber_create(void (*entry)(void *arg), void *arg)
{
    kshim_fiber_t *fiber = free_fibers;
    if (fiber != NULL) {
        free_fibers = fiber->next_free;
#ifdef KSHIM_FIBER_ASAN
        /* Frames that never returned left poisoned redzones behind, all of them above the
           stack pointer of the fiber's last switch away (when it finished; a longjmp out
           of a fiber has ASan unpoison the stack itself). Only that part is unpoisoned,
           not the whole stack: the stack's top is what a fuzz input uses. */
        uintptr_t top = (uintptr_t)fiber->stack_bottom + fiber->stack_size;
        uintptr_t low = ((uintptr_t)fiber->stack_pointer & ~(uintptr_t)4095) - 4096;
        if (low < (uintptr_t)fiber->stack_bottom || low >= top) {
            low = (uintptr_t)fiber->stack_bottom;
        }
        ASAN_UNPOISON_MEMORY_REGION((void *)low, top - low);
#endif
    } else {
        fiber = calloc(1, sizeof(*fiber));
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        size_t size = FIBER_STACK_SIZE + page;
        void *mapping = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (fiber == NULL || mapping == MAP_FAILED) {
            kshim_stop("FIBER_CREATE_FAILED", "out of memory for a fiber stack");
        }
        mprotect(mapping, page, PROT_NONE); /* guard page: overflow faults at once */
        fiber->mapping = mapping;
        fiber->mapping_size = size;
        fiber->stack_bottom = (char *)mapping + page;
        fiber->stack_size = FIBER_STACK_SIZE;
    }
    fiber->entry = entry;
    fiber->arg = arg;
    fiber->asan_fake_stack = NULL;
#ifdef KSHIM_FIBER_TSAN
    fiber->tsan_fiber = __tsan_create_fiber(0);
#endif
    prepare_stack(fiber);
    fiber->next_free = (kshim_fiber_t *)1; /* marks "not started" for kshim_fiber_switch */
    return fiber;
}

void kshim_fiber_switch(kshim_fiber_t *from, kshim_fiber_t *to, int finishing)
{
    int first_start = to->next_free == (kshim_fiber_t *)1;
    if (first_start) {
        to->next_free = NULL;
        starting_fiber = to;
        starting_from = from;
    }
    announce_switch(from, to, finishing);
#if defined(__x86_64__)
    kshim_context_switch(&from->stack_pointer, to->stack_pointer);
#else
    swapcontext(&from->context, &to->context);
#endif
    /* Back on `from` (never reached when finishing). The fiber that switched here is not
       known; ASan only needs it for the main stack, which arrived() learns on start. */
    arrived(from, NULL);
}

void kshim_fiber_destroy(kshim_fiber_t *fiber)
{
    if (fiber == &main_fiber) {
        return;
    }
#ifdef KSHIM_FIBER_TSAN
    __tsan_destroy_fiber(fiber->tsan_fiber);
    fiber->tsan_fiber = NULL;
#endif
    fiber->next_free = free_fibers;
    free_fibers = fiber;
}
