/* SPDX-License-Identifier: MIT */
/*
 * fuzz_sched_bench.c - a libFuzzer target that measures the fiber scheduler, not the NMR.
 *
 * Three simulated threads (NMRKIT_SCHEDULER=fibers) take turns at yield points chosen by
 * the input (kshim_sched_set_schedule: the whole input is the schedule; once it runs out,
 * the running thread keeps running). Per execution:
 *   - threads A, B and C each take and release a shared KSPIN_LOCK LOCK_ROUNDS times
 *     (two yield points per round; the holder never yields inside, so nobody spins);
 *   - A and B play PING_PONG_ROUNDS rounds of ping-pong over two synchronization events
 *     (A: set ping, wait pong; B: wait ping, set pong: two yield points per call);
 *   - main starts the three threads and joins them (a yield point per start and exit).
 * That is YIELD_POINTS yield points per execution (printed at exit with the measured
 * number that had a choice of thread). The oracle is the counter the lock protects.
 *
 * bench/run_sched_bench.sh runs it beside bench/fuzz_empty.c, both with ASan, UBSan and
 * libFuzzer, on one core, and prints their exec/s and the ratio. Not a fuzz target of the
 * registrar (no corpus, no test).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <ntddk.h>
#include <kshim/kshim.h>

#define LOCK_ROUNDS 8
#define PING_PONG_ROUNDS 4
#define THREADS 3
/* KeAcquireSpinLock, KeReleaseSpinLock, KeSetEvent and KeWaitForSingleObject are one yield
   point each, and so are a thread's start and its exit: 48 + 16 + 6 = 70. */
#define YIELD_POINTS (THREADS * LOCK_ROUNDS * 2 + 2 * PING_PONG_ROUNDS * 2 + THREADS * 2)

static KSPIN_LOCK lock;
static long counter; /* Protected by: lock */
static KEVENT ping, pong;
static unsigned long executions, decisions;

static void lock_rounds(void)
{
    for (int i = 0; i < LOCK_ROUNDS; i++) {
        KIRQL old_irql;
        KeAcquireSpinLock(&lock, &old_irql);
        counter++;
        KeReleaseSpinLock(&lock, old_irql);
    }
}

static void thread_a(void *arg)
{
    (void)arg;
    for (int i = 0; i < PING_PONG_ROUNDS; i++) {
        KeSetEvent(&ping, IO_NO_INCREMENT, FALSE);
        KeWaitForSingleObject(&pong, Executive, KernelMode, FALSE, NULL);
    }
    lock_rounds();
}

static void thread_b(void *arg)
{
    (void)arg;
    for (int i = 0; i < PING_PONG_ROUNDS; i++) {
        KeWaitForSingleObject(&ping, Executive, KernelMode, FALSE, NULL);
        KeSetEvent(&pong, IO_NO_INCREMENT, FALSE);
    }
    lock_rounds();
}

static void thread_c(void *arg)
{
    (void)arg;
    lock_rounds();
}

static void report(void)
{
    if (executions != 0) {
        fprintf(stderr,
                "fuzz_sched_bench: %lu executions, %d threads, %d yield points per execution, "
                "%.1f of them with a choice of thread (average)\n",
                executions, THREADS, YIELD_POINTS, (double)decisions / (double)executions);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (executions++ == 0) {
        atexit(report);
    }
    kshim_sched_reset();
    KeInitializeSpinLock(&lock);
    KeInitializeEvent(&ping, SynchronizationEvent, FALSE);
    KeInitializeEvent(&pong, SynchronizationEvent, FALSE);
    counter = 0;
    kshim_sched_set_schedule(data, size);
    kshim_thread_t *a = kshim_thread_start("A", thread_a, NULL);
    kshim_thread_t *b = kshim_thread_start("B", thread_b, NULL);
    kshim_thread_t *c = kshim_thread_start("C", thread_c, NULL);
    kshim_thread_join(a);
    kshim_thread_join(b);
    kshim_thread_join(c);
    decisions += kshim_sched_decisions();
    kshim_sched_set_schedule(NULL, 0);
    if (counter != THREADS * LOCK_ROUNDS) {
        fprintf(stderr, "fuzz_sched_bench: counter %ld, expected %d\n", counter,
                THREADS * LOCK_ROUNDS);
        abort();
    }
    return 0;
}
