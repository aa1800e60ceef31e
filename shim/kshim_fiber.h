/* SPDX-License-Identifier: MIT */
/*
 * kshim_fiber.h - stackful fibers for the deterministic scheduler (shim-internal).
 *
 * A fiber is a stack plus a saved stack pointer. Switching saves the callee-saved
 * registers on the old stack and restores them from the new one: on x86-64 a few
 * instructions of our own (no signal-mask system call as in swapcontext, no longjmp that
 * ASan intercepts); elsewhere ucontext. Every switch is announced to ASan
 * (__sanitizer_start/finish_switch_fiber) so reports and stack-use checks stay exact.
 *
 * Not thread-safe: all fibers of a process run on the one OS thread that runs the
 * scheduler.
 */
#pragma once

#include <stddef.h>

typedef struct kshim_fiber kshim_fiber_t;

/* The fiber of the calling OS thread's own stack (created on first use). */
kshim_fiber_t *kshim_fiber_main(void);

/*
 * A new fiber that will run entry(arg) when first switched to. entry must never return:
 * it ends by switching away for the last time (kshim_fiber_switch with finishing = 1).
 * Stacks are recycled. Stops (FIBER_CREATE_FAILED) if memory runs out.
 */
kshim_fiber_t *kshim_fiber_create(void (*entry)(void *arg), void *arg);

/*
 * Switch from the running fiber `from` to `to`. finishing = 1 when `from` will never run
 * again (its ASan fake stack is released); the caller then destroys it from another fiber.
 */
void kshim_fiber_switch(kshim_fiber_t *from, kshim_fiber_t *to, int finishing);

/* Release a fiber that has finished (never the running one, never the main fiber). */
void kshim_fiber_destroy(kshim_fiber_t *fiber);
