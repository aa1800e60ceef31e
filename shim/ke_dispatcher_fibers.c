/* SPDX-License-Identifier: MIT */
/*
 * ke_dispatcher_fibers.c - the deterministic implementation of the dispatcher seam.
 *
 * Built instead of ke_dispatcher_threads.c when NMRKIT_SCHEDULER=fibers (the fuzz preset). Every
 * simulated kernel thread (the process's main thread, harness threads, system threads,
 * work-item routines) is a fiber on the one OS thread that runs the process; exactly one
 * runs at a time and control changes hands only at yield points: every block and wake of
 * a primitive, every spin-lock back-off, every explicit kshim_sched_yield_point (spin lock
 * and push lock acquire/release, event set, rundown, pool allocation), thread start and
 * thread exit. At each yield point with more than one runnable thread, the schedule
 * source picks who runs: the harness's chooser (kshim_sched_set_chooser) while it decides,
 * then the schedule bytes, then PCT or the fixed default.
 *
 * Time is virtual: it advances only when no thread can run and one waits with a timeout
 * (its deadline becomes "now"), so a timeout never fires while any thread could still
 * make progress, and no wall clock is read. When no thread can run and none waits with a
 * timeout, the process is deadlocked: the deadlock hook (the harness's: e.g. the NMR's
 * description of blocked waits) runs, every blocked thread is listed with what it waits
 * for, and the process aborts.
 *
 * The dispatcher "lock" is a no-op here: fibers switch only inside block and at yield
 * points, never inside a dispatcher critical section.
 */
#include "kshim_internal.h"
#include "kshim_fiber.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum sched_state {
    SCHED_RUNNABLE, /* may be picked */
    SCHED_BLOCKED,  /* in kshim_dispatcher_block until a wake (or its deadline) */
    SCHED_SPINNING, /* backed off a busy spin lock; runnable again once another thread ran */
    SCHED_FINISHED, /* entry returned; awaiting join (joinable) or reaping */
} sched_state_t;
#define SCHED_STATE_COUNT (SCHED_FINISHED + 1)

struct kshim_os_thread {
    kshim_fiber_t *fiber;
    unsigned id;                  /* creation order; 0 is the main thread */
    sched_state_t state;
    bool joinable;
    bool has_deadline;
    bool periodic;                /* the deadline is a periodic timer's next expiry */
    bool background;              /* serves timers or DPCs: its steps are not progress */
    bool timed_out;
    uint64_t deadline_ns;
    struct _KTHREAD *kthread;     /* the kernel thread running on this fiber */
    const char *wait_routine;     /* what it blocks in (for the deadlock report) */
    const void *wait_object;
    void (*entry)(void *);
    void *arg;
    unsigned priority;            /* PCT priority; higher runs first */
    struct kshim_os_thread *next; /* in all_threads, by id */
};

static struct kshim_os_thread main_thread = {.state = SCHED_RUNNABLE};
static struct kshim_os_thread *all_threads = &main_thread;
/* How many threads of all_threads are in each state (set_state keeps it), so that a yield
   point knows the runnable count and whether anyone spins without walking the list. */
static unsigned threads_in_state[SCHED_STATE_COUNT] = {[SCHED_RUNNABLE] = 1};
static struct kshim_os_thread *running = &main_thread;
/* What every yield point asks, kept in plain globals so that it follows no pointer: how many
   threads all_threads holds (thread create and unlink keep it), whether the running thread
   is runnable (set_state and arrive keep it) and whether it is background (arrive and
   kshim_dispatcher_set_background keep it). */
static unsigned thread_count = 1;
static bool running_runnable = true;
static bool running_background;
static unsigned running_id; /* running->id (arrive keeps it): half the decisions keep it */
static struct kshim_os_thread *to_reap;  /* finished detached thread whose fiber to free */
static unsigned next_thread_id = 1;
static struct kshim_os_thread *spare_threads; /* freed records, reused (linked by next) */

/* The runnable threads as a bitmap by id, so that a decision finds the n-th runnable thread
   without walking the list: bit id of runnable_map is set while thread `id` (by_id[id]) is
   runnable. Ids grow along all_threads (a new thread goes to the tail with the next id), so
   the map's order is the list's. Valid while every id is below RUNNABLE_MAP_IDS; ids restart
   at each kshim_sched_reset, and an id beyond the map turns it off until then. */
#define RUNNABLE_MAP_WORDS 4
#define RUNNABLE_MAP_IDS (64u * RUNNABLE_MAP_WORDS)
static uint64_t runnable_map[RUNNABLE_MAP_WORDS] = {1}; /* the main thread, id 0 */
static struct kshim_os_thread *by_id[RUNNABLE_MAP_IDS] = {&main_thread};
static bool runnable_map_valid = true;

static void map_runnable(const struct kshim_os_thread *thread, bool runnable)
{
    if (thread->id < RUNNABLE_MAP_IDS) {
        uint64_t bit = 1ULL << (thread->id % 64);
        if (runnable) {
            runnable_map[thread->id / 64] |= bit;
        } else {
            runnable_map[thread->id / 64] &= ~bit;
        }
    }
}

static void set_state(struct kshim_os_thread *thread, sched_state_t state)
{
    threads_in_state[thread->state]--;
    threads_in_state[state]++;
    if ((thread->state == SCHED_RUNNABLE) != (state == SCHED_RUNNABLE)) {
        map_runnable(thread, state == SCHED_RUNNABLE);
    }
    thread->state = state;
    if (thread == running) {
        running_runnable = state == SCHED_RUNNABLE;
    }
}

static void release_thread_record(struct kshim_os_thread *thread)
{
    thread->next = spare_threads;
    spare_threads = thread;
}

/* Virtual monotonic time; starts at one second so that "0" is never a valid deadline. */
#define VIRTUAL_TIME_START_NS 1000000000ULL
static uint64_t virtual_now_ns = VIRTUAL_TIME_START_NS;

/* The schedule source. */
static kshim_sched_chooser_t chooser;
static void *chooser_context;
static const uint8_t *schedule_bytes;
static size_t schedule_size, schedule_used;
static kshim_sched_strategy_t strategy = KSHIM_SCHED_DEFAULT;
static uint64_t pct_state;
static unsigned pct_depth;
static unsigned long pct_change_points[16];
static unsigned long decisions;          /* yield points with a choice */
static unsigned long steps;              /* yield points */
static uint64_t trace_hash = 1469598103934665603ULL;
static void (*deadlock_hook)(void);
/* Periodic-timer expiries since a foreground thread last made progress (passed a yield point
   or ended); at KSHIM_PERIODIC_IDLE_EXPIRIES periodic deadlines stop moving the clock. */
static unsigned idle_periodic_expiries;

static void hash_step(uint64_t value)
{
    trace_hash = (trace_hash ^ value) * 1099511628211ULL;
}

static uint64_t pct_random(void)
{
    /* splitmix64: seeded, no global libc state. */
    uint64_t z = (pct_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* ---- choosing -------------------------------------------------------------------------- */

static struct kshim_os_thread *nth_runnable(unsigned index)
{
    if (next_thread_id <= 64) {
        /* Every id so far is in the map's first word (the usual case): no counting. */
        uint64_t bits = runnable_map[0];
        for (; index > 0; index--) {
            bits &= bits - 1;
        }
        if (bits == 0) {
            return NULL;
        }
        unsigned id = (unsigned)__builtin_ctzll(bits);
        return id == running_id ? running : by_id[id];
    }
    if (runnable_map_valid) {
        for (unsigned w = 0; w < RUNNABLE_MAP_WORDS; w++) {
            uint64_t bits = runnable_map[w];
            unsigned count = (unsigned)__builtin_popcountll(bits);
            if (index < count) {
                for (; index > 0; index--) {
                    bits &= bits - 1;
                }
                return by_id[w * 64 + (unsigned)__builtin_ctzll(bits)];
            }
            index -= count;
        }
        return NULL;
    }
    for (struct kshim_os_thread *t = all_threads; t; t = t->next) {
        if (t->state == SCHED_RUNNABLE && index-- == 0) {
            return t;
        }
    }
    return NULL;
}

/* byte % runnable, with the usual counts divided by a constant (a multiplication). */
static unsigned byte_modulo(unsigned byte, unsigned runnable)
{
    switch (runnable) {
    case 2:
        return byte % 2;
    case 3:
        return byte % 3;
    case 4:
        return byte % 4;
    default:
        return byte % runnable;
    }
}

/* A decision among `runnable` (> 1) threads: the chooser, else the schedule bytes, else the
   strategy. Every decision counts and goes into the trace hash. */
static struct kshim_os_thread *decide(unsigned runnable)
{
    decisions++;
    struct kshim_os_thread *chosen = NULL;
    unsigned index = KSHIM_SCHED_NO_CHOICE;
    if (chooser != NULL) {
        index = chooser(chooser_context, runnable);
        if (index == KSHIM_SCHED_CHOOSER_DONE) {
            chooser = NULL;
            index = KSHIM_SCHED_NO_CHOICE;
        }
    }
    if (index != KSHIM_SCHED_NO_CHOICE) {
        chosen = nth_runnable(index < runnable ? index : index % runnable);
    } else if (schedule_used < schedule_size) {
        chosen = nth_runnable(byte_modulo(schedule_bytes[schedule_used++], runnable));
    } else if (strategy == KSHIM_SCHED_PCT) {
        for (unsigned i = 0; i < pct_depth; i++) {
            if (pct_change_points[i] == steps && running->state == SCHED_RUNNABLE) {
                running->priority = i; /* below every initial priority */
            }
        }
        for (struct kshim_os_thread *t = all_threads; t; t = t->next) {
            if (t->state == SCHED_RUNNABLE && (chosen == NULL || t->priority > chosen->priority)) {
                chosen = t;
            }
        }
    } else {
        /* Default: keep the running thread as long as it can run (fewest switches). */
        chosen = running->state == SCHED_RUNNABLE ? running : nth_runnable(0);
    }
    hash_step(chosen == running ? running_id : chosen->id);
    return chosen;
}

/* The next thread to run once the running one cannot (it blocks, spins or ends): one step. */
static struct kshim_os_thread *choose_other(unsigned runnable)
{
    steps++;
    return runnable == 1 ? nth_runnable(0) : decide(runnable);
}

/* ---- deadlock --------------------------------------------------------------------------- */

static const char *state_name(sched_state_t state)
{
    switch (state) {
    case SCHED_RUNNABLE:
        return "runnable";
    case SCHED_BLOCKED:
        return "blocked";
    case SCHED_SPINNING:
        return "spinning on a lock whose holder cannot run";
    case SCHED_FINISHED:
        return "finished";
    }
    return "?";
}

static __attribute__((noreturn)) void report_deadlock(void)
{
    running->kthread = kshim_thread_current_raw(); /* only switches record it otherwise */
    unsigned blocked = threads_in_state[SCHED_BLOCKED] + threads_in_state[SCHED_SPINNING];
    if (deadlock_hook != NULL) {
        deadlock_hook();
    }
    char line[256];
    int n = snprintf(line, sizeof line,
                     "*** KSHIM DEADLOCK: no simulated thread can run; %u blocked (virtual time "
                     "%llu ns, %lu scheduling steps):\n",
                     blocked, (unsigned long long)(virtual_now_ns - VIRTUAL_TIME_START_NS), steps);
    if (write(STDERR_FILENO, line, (size_t)n) < 0) {
        /* nothing more to do */
    }
    for (struct kshim_os_thread *t = all_threads; t; t = t->next) {
        if (t->state == SCHED_FINISHED) {
            continue;
        }
        n = snprintf(line, sizeof line, "    thread \"%s\": %s in %s (object %p)\n",
                     t->kthread ? t->kthread->name : "?", state_name(t->state),
                     t->wait_routine ? t->wait_routine : "an unnamed wait", t->wait_object);
        if (write(STDERR_FILENO, line, (size_t)n) < 0) {
            break;
        }
    }
    kshim_stop("DEADLOCK", "no simulated thread can run (see the blocked threads above)");
}

/* ---- switching -------------------------------------------------------------------------- */

static void unlink_thread(struct kshim_os_thread *thread);

static void reap(void)
{
    if (to_reap != NULL) {
        unlink_thread(to_reap);
        kshim_fiber_destroy(to_reap->fiber);
        release_thread_record(to_reap);
        to_reap = NULL;
    }
}

static void arrive(struct kshim_os_thread *self)
{
    running = self;
    running_runnable = self->state == SCHED_RUNNABLE;
    running_background = self->background;
    running_id = self->id;
    kshim_thread_set_current(self->kthread);
    if (to_reap != NULL) {
        reap();
    }
}

static void switch_to(struct kshim_os_thread *next, bool finishing)
{
    struct kshim_os_thread *self = running;
    if (next == self) {
        return;
    }
    self->kthread = kshim_thread_current_raw();
    if (self->fiber == NULL) {
        self->fiber = kshim_fiber_main(); /* only the main thread gets here without one */
    }
    hash_step(((uint64_t)self->id << 32) | next->id);
    kshim_fiber_switch(self->fiber, next->fiber, finishing);
    arrive(self);
}

/* Spinners become runnable again only when a thread that is not spinning makes progress
   (passes a yield point, wakes waiters or ends): otherwise two threads spinning on a lock
   whose holder was preempted could take turns forever while the holder never runs. */
static void release_spinners(void)
{
    for (struct kshim_os_thread *t = all_threads; t && threads_in_state[SCHED_SPINNING]; t = t->next) {
        if (t->state == SCHED_SPINNING) {
            set_state(t, SCHED_RUNNABLE);
        }
    }
}

/* Pick any runnable thread (advancing virtual time if needed) and run it. */
static void run_another(bool finishing)
{
    unsigned runnable = threads_in_state[SCHED_RUNNABLE];
    if (runnable == 0) {
        bool periodic_idle = idle_periodic_expiries >= KSHIM_PERIODIC_IDLE_EXPIRIES;
        struct kshim_os_thread *earliest = NULL;
        for (struct kshim_os_thread *t = all_threads; t; t = t->next) {
            if (t->state == SCHED_BLOCKED && t->has_deadline && !(periodic_idle && t->periodic) &&
                (earliest == NULL || t->deadline_ns < earliest->deadline_ns)) {
                earliest = t;
            }
        }
        if (earliest == NULL) {
            if (periodic_idle) {
                static const char note[] = "kshim: periodic timers are set, but nothing but timers "
                                           "and DPCs ran for their last expiries: not waiting for more\n";
                if (write(STDERR_FILENO, note, sizeof note - 1) < 0) {
                    /* the deadlock report follows anyway */
                }
            }
            report_deadlock();
        }
        if (earliest->deadline_ns > virtual_now_ns) {
            virtual_now_ns = earliest->deadline_ns;
        }
        if (earliest->periodic) {
            idle_periodic_expiries++;
        }
        for (struct kshim_os_thread *t = all_threads; t; t = t->next) {
            if (t->state == SCHED_BLOCKED && t->has_deadline && t->deadline_ns <= virtual_now_ns &&
                !(periodic_idle && t->periodic)) {
                set_state(t, SCHED_RUNNABLE);
                t->timed_out = true;
            }
        }
        runnable = threads_in_state[SCHED_RUNNABLE];
    }
    switch_to(choose_other(runnable), finishing);
}

/* ---- the seam --------------------------------------------------------------------------- */

void kshim_dispatcher_lock(void)
{
}

void kshim_dispatcher_unlock(void)
{
}

bool kshim_dispatcher_block(const struct timespec *deadline)
{
    struct kshim_os_thread *self = running;
    set_state(self, SCHED_BLOCKED);
    self->timed_out = false;
    self->has_deadline = deadline != NULL;
    if (deadline != NULL) {
        self->deadline_ns = (uint64_t)deadline->tv_sec * 1000000000ULL + (uint64_t)deadline->tv_nsec;
    }
    run_another(false);
    self->has_deadline = false;
    self->periodic = false;
    self->wait_routine = NULL;
    self->wait_object = NULL;
    return !self->timed_out;
}

bool kshim_dispatcher_block_periodic(const struct timespec *deadline)
{
    running->periodic = true;
    return kshim_dispatcher_block(deadline);
}

void kshim_dispatcher_set_background(void)
{
    running->background = true;
    running_background = true;
}

/* The running thread made progress (a yield point or its end), unless it is background. */
static void note_progress(void)
{
    if (!running_background) {
        idle_periodic_expiries = 0;
    }
}

void kshim_dispatcher_set_wait_reason(const char *routine, const void *object)
{
    running->wait_routine = routine;
    running->wait_object = object;
}

void kshim_dispatcher_wake_all(void)
{
    for (struct kshim_os_thread *t = all_threads;
         t && threads_in_state[SCHED_BLOCKED] + threads_in_state[SCHED_SPINNING] != 0; t = t->next) {
        if (t->state == SCHED_BLOCKED || t->state == SCHED_SPINNING) {
            set_state(t, SCHED_RUNNABLE);
        }
    }
}

void kshim_dispatcher_spin_wait(void)
{
    set_state(running, SCHED_SPINNING);
    run_another(false);
}

void kshim_sched_yield_point(void)
{
    if (!running_runnable) {
        return;
    }
    steps++;
    if (thread_count == 1) {
        return; /* the main thread alone: no choice */
    }
    note_progress();
    if (threads_in_state[SCHED_SPINNING] != 0) {
        release_spinners();
    }
    unsigned runnable = threads_in_state[SCHED_RUNNABLE];
    if (runnable > 1) { /* else the running thread is the only one that can run */
        struct kshim_os_thread *next = decide(runnable);
        if (next != running) {
            switch_to(next, false);
        }
    }
}

static void fiber_main(void *p)
{
    struct kshim_os_thread *self = p;
    arrive(self);
    self->entry(self->arg);
    note_progress();
    set_state(self, SCHED_FINISHED);
    self->kthread = NULL;
    kshim_dispatcher_wake_all(); /* joiners re-check */
    if (!self->joinable) {
        to_reap = self; /* freed by whoever runs next */
    }
    run_another(true);
    kshim_stop("FIBER_RESUMED", "a finished fiber was scheduled again");
}

kshim_os_thread_t *kshim_dispatcher_thread_create(void (*entry)(void *), void *arg, bool joinable)
{
    if (running == &main_thread && main_thread.kthread == NULL) {
        main_thread.kthread = kshim_current_thread();
    }
    struct kshim_os_thread *t = spare_threads;
    if (t != NULL) {
        spare_threads = t->next;
    } else {
        t = malloc(sizeof *t);
    }
    if (t == NULL) {
        kshim_stop("THREAD_CREATE_FAILED", "out of memory for a fiber");
    }
    /* Every field set one by one (a reused record is not cleared first: a memset of it was a
       sanitizer-checked call per thread). */
    t->id = next_thread_id++;
    t->state = SCHED_RUNNABLE;
    t->joinable = joinable;
    t->has_deadline = false;
    t->periodic = false;
    t->background = false;
    t->timed_out = false;
    t->deadline_ns = 0;
    t->kthread = NULL;
    t->wait_routine = NULL;
    t->wait_object = NULL;
    t->entry = entry;
    t->arg = arg;
    t->priority = strategy == KSHIM_SCHED_PCT ? (unsigned)(pct_depth + 1 + pct_random() % 1000000) : 0;
    t->next = NULL;
    thread_count++;
    threads_in_state[SCHED_RUNNABLE]++;
    if (t->id < RUNNABLE_MAP_IDS) {
        by_id[t->id] = t;
        map_runnable(t, true);
    } else {
        runnable_map_valid = false;
    }
    t->fiber = kshim_fiber_create(fiber_main, t);
    struct kshim_os_thread **tail = &all_threads;
    while (*tail) {
        tail = &(*tail)->next;
    }
    *tail = t;
    kshim_sched_yield_point(); /* thread start is a yield point */
    return joinable ? t : NULL;
}

static void unlink_thread(struct kshim_os_thread *thread)
{
    for (struct kshim_os_thread **link = &all_threads; *link; link = &(*link)->next) {
        if (*link == thread) {
            *link = thread->next;
            thread_count--;
            threads_in_state[thread->state]--;
            map_runnable(thread, false);
            return;
        }
    }
}

void kshim_dispatcher_thread_join(kshim_os_thread_t *thread)
{
    kshim_dispatcher_set_wait_reason("kshim_thread_join", thread);
    while (thread->state != SCHED_FINISHED) {
        kshim_dispatcher_block(NULL);
    }
    unlink_thread(thread);
    kshim_fiber_destroy(thread->fiber);
    release_thread_record(thread);
}

uint64_t kshim_dispatcher_clock_ns(void)
{
    return virtual_now_ns;
}

/* 2026-01-01T00:00:00Z in 100 ns intervals since 1601: virtual time's system time base, so
   that system time replays exactly, never the wall clock. */
#define VIRTUAL_EPOCH_100NS (116444736000000000ULL + 1767225600ULL * 10000000ULL)

int64_t kshim_dispatcher_system_time_100ns(void)
{
    return (int64_t)(VIRTUAL_EPOCH_100NS + virtual_now_ns / 100);
}

/* A busy stall holds the (virtual) processor: time moves, no other thread runs. */
void kshim_dispatcher_stall_until(uint64_t until)
{
    if (until > virtual_now_ns) {
        virtual_now_ns = until;
    }
}

/* ---- control (kshim.h) ------------------------------------------------------------------ */

bool kshim_sched_is_deterministic(void)
{
    return true;
}

/* The chooser is asked first at every decision (decide). */
void kshim_sched_set_chooser(kshim_sched_chooser_t new_chooser, void *context)
{
    chooser = new_chooser;
    chooser_context = context;
}

/* The running thread's KTHREAD is the current one;
   another thread's is the one recorded when it last switched away (NULL before its first
   run: its entry has not set one yet). */
PKTHREAD kshim_sched_runnable_thread(unsigned index, unsigned *id)
{
    struct kshim_os_thread *t = nth_runnable(index);
    if (id != NULL) {
        *id = t != NULL ? t->id : 0;
    }
    if (t == NULL) {
        return NULL;
    }
    return t == running ? kshim_thread_current_raw() : t->kthread;
}

void kshim_sched_set_schedule(const uint8_t *bytes, size_t size)
{
    schedule_bytes = bytes;
    schedule_size = size;
    schedule_used = 0;
}

void kshim_sched_set_strategy(kshim_sched_strategy_t new_strategy, uint64_t seed, unsigned depth,
                              unsigned long expected_steps)
{
    strategy = new_strategy;
    pct_state = seed;
    pct_depth = depth > 16 ? 16 : depth;
    for (unsigned i = 0; i < pct_depth; i++) {
        pct_change_points[i] = expected_steps ? 1 + pct_random() % expected_steps : 0;
    }
    main_thread.priority = strategy == KSHIM_SCHED_PCT ? (unsigned)(pct_depth + 1 + pct_random() % 1000000) : 0;
}

void kshim_sched_reset(void)
{
    if (running != &main_thread || all_threads != &main_thread || main_thread.next != NULL) {
        unsigned alive = 0;
        for (struct kshim_os_thread *t = all_threads; t; t = t->next) {
            alive += t != &main_thread;
        }
        kshim_stop("SCHED_RESET_WITH_THREADS",
                   "kshim_sched_reset: %u simulated thread(s) still exist (join or drain them "
                   "first)",
                   alive);
    }
    reap();
    kshim_recyclers_release_quarantines();
    next_thread_id = 1;
    kshim_unchecked_memset(runnable_map, 0, sizeof runnable_map); /* static, its own sizeof */
    map_runnable(&main_thread, main_thread.state == SCHED_RUNNABLE);
    runnable_map_valid = true;
    virtual_now_ns = VIRTUAL_TIME_START_NS;
    schedule_bytes = NULL;
    schedule_size = schedule_used = 0;
    chooser = NULL;
    chooser_context = NULL;
    strategy = KSHIM_SCHED_DEFAULT;
    decisions = steps = 0;
    idle_periodic_expiries = 0;
    trace_hash = 1469598103934665603ULL;
}

size_t kshim_sched_schedule_bytes_used(void)
{
    return schedule_used;
}

unsigned long kshim_sched_decisions(void)
{
    return decisions;
}

uint64_t kshim_sched_trace_hash(void)
{
    return trace_hash;
}

void kshim_sched_set_deadlock_hook(void (*hook)(void))
{
    deadlock_hook = hook;
}

void kshim_sched_yield(void)
{
    kshim_sched_yield_point();
}
