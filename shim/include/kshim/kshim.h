/* SPDX-License-Identifier: MIT */
/*
 * kshim.h - the control face of the user-mode kernel shim.
 *
 * This header is for harnesses and tests only (tests/, fuzz/, bench/); code under
 * test (src/, users' drivers) sees only the WDK-named headers (ntddk.h, wdm.h, ...).
 * It starts and joins harness threads, arms the single fault-injection choke point,
 * audits pool, IRQL, locks and pending work, and prints contract-violation stops.
 *
 * It knows nothing of NMR.
 */
#pragma once

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wdm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Stops                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/**
 * @brief Report a kernel-contract violation and abort.
 *
 * Prints one line "*** KSHIM STOP <name>: <message>" on stderr (unbuffered), then the
 * symbolized stack of the offending call ("    #<n> <pc> in <function> <file:line>" lines:
 * the sanitizer runtime's stack printer in sanitizer builds, else backtrace() symbolized by
 * llvm-symbolizer when it is on PATH, else module+offset), and calls abort(), so that a
 * fuzzer keeps the input and a test can expect the stop in a child. With KSHIM_STACK=raw in
 * the environment the stack is not symbolized (module+offset only). Every bugcheck
 * (KeBugCheckEx), and so every NMR verifier stop, goes through here.
 * @param[in] name  Upper-case stop name, e.g. "SPIN_LOCK_DOUBLE_ACQUIRE".
 * @param[in] fmt   printf-style message.
 */
__attribute__((noreturn, format(printf, 2, 3)))
void kshim_stop(const char *name, const char *fmt, ...);

/*
 * Stop names raised by the shim (the message names the routine and the object):
 *   IRQL            IRQL_RAISE_DOWNWARD, IRQL_LOWER_UPWARD, IRQL_INVALID, IRQL_TOO_HIGH
 *                   (a routine above its documented maximum, PAGED_CODE above APC_LEVEL),
 *                   IRQL_NOT_RESTORED (a DPC routine returned at another IRQL)
 *   waits           WAIT_AT_RAISED_IRQL (above APC_LEVEL; a zero-timeout poll is allowed up
 *                   to DISPATCH_LEVEL), WAIT_INVALID_PARAMETER, DISPATCHER_OBJECT_INVALID
 *   spin locks      SPIN_LOCK_DOUBLE_ACQUIRE, SPIN_LOCK_NOT_HELD, SPIN_LOCK_WRONG_IRQL,
 *                   TOO_MANY_LOCKS_HELD
 *   push locks      PUSH_LOCK_RECURSIVE_ACQUIRE, PUSH_LOCK_NOT_HELD,
 *                   PUSH_LOCK_WITHOUT_CRITICAL_REGION; CRITICAL_REGION_UNBALANCED
 *   mutexes         MUTEX_NOT_OWNER (KMUTEX), FAST_MUTEX_RECURSIVE_ACQUIRE,
 *                   FAST_MUTEX_NOT_OWNER, FAST_MUTEX_WRONG_IRQL
 *   EX_SPIN_LOCK    EX_SPIN_LOCK_WRONG_MODE, EX_SPIN_LOCK_NOT_HELD,
 *                   EX_SPIN_LOCK_RECURSIVE_ACQUIRE (and SPIN_LOCK_WRONG_IRQL)
 *   timers, DPCs    TIMER_INVALID, DPC_INVALID
 *   registry        REGISTRY_QUERY_INVALID
 *   rundown         RUNDOWN_RELEASE_UNBALANCED
 *   pool            POOL_DOUBLE_FREE, POOL_FREE_UNKNOWN, POOL_FREE_WRONG_TAG,
 *                   POOL_FLAGS_INVALID (flags, POOL_TYPE or tag 0), POOL_RAISE_ON_FAILURE
 *   work, threads   WORK_ITEM_QUEUED_TWICE, WORK_ITEM_FREED_WHILE_QUEUED, WORK_ITEM_INVALID,
 *                   WORK_HELD_DURING_DRAIN, THREAD_EXIT_WITH_IRQL_RAISED,
 *                   THREAD_EXIT_HOLDING_LOCK (a lock held or a critical region open when a
 *                   system thread, work item or harness thread ends), THREAD_CREATE_FAILED
 *   objects         INVALID_KERNEL_HANDLE, OBJECT_UNKNOWN, OBJECT_REFERENCE_UNDERFLOW,
 *                   DEVICE_OBJECT_UNKNOWN
 *   driver code     ASSERTION_FAILED, LIST_ENTRY_CORRUPTED, BUGCHECK (KeBugCheckEx),
 *                   BREAKPOINT (DbgBreakPoint), STRING_TOO_LONG, FAST_FAIL (RtlFailFast)
 *   harness         AUDIT_FAILED, FAULT_PLAN_MALFORMED, STOP_TRAP_MISUSE
 *   shim itself     POOL_INTERNAL, DBG_PRINT (out of memory), SHIM_LOCK_RECURSIVE (fiber
 *                   scheduler: one of the shim's own locks taken again by its holder)
 */

/* ------------------------------------------------------------------------------------------ */
/* Stop trap and debug-print capture (harnesses only)                                         */
/* ------------------------------------------------------------------------------------------ */

/*
 * [CUSTOMISED] A harness may catch the next stop of one simulated thread instead of letting
 * it abort the process, so that a fuzz target can count a contract stop (a verifier stop is
 * KeBugCheckEx) as the expected outcome of an input and go on with the next one.
 * Deviation: Windows cannot continue after a bug check; nothing in a driver's view changes
 * (the stop still ends the call that raised it), this exists only for harnesses.
 *
 * Use: the harness calls setjmp on the trap's jump buffer in the frame that is to receive
 * the stop, then arms the trap; a caught stop longjmps back there with value 1:
 *
 *     static kshim_stop_trap_t trap;
 *     if (setjmp(trap.jump) == 0) {
 *         kshim_stop_trap_arm(&trap);
 *         ... calls that may stop ...
 *         kshim_stop_trap_disarm(&trap);
 *     } else {
 *         ... trap.record says what stopped; the trap is disarmed ...
 *     }
 *
 * (Locals of that frame changed after setjmp and read after the stop must be volatile.)
 *
 * While armed, every kshim_stop of the arming thread (KeBugCheckEx, ASSERT, IRQL and lock
 * stops, ...) is caught exactly once: the trap records the stop (name, its line, the bug
 * check code and parameters, and what the thread printed with DbgPrint* since arming),
 * disarms itself, puts the thread back at baseline (IRQL PASSIVE_LEVEL; every spin lock and
 * push lock the thread holds and every critical region it is in are forgotten, see below)
 * and longjmps to the jump buffer. The stop's own "*** KSHIM STOP" line is recorded, not
 * printed.
 *
 * Forgetting a held lock clears only the thread's bookkeeping: the lock object itself is left
 * as the stop found it (a spin lock still reads as owned by the thread, a push lock still
 * counts its holder), because the shim cannot know who else uses it. The harness must
 * re-initialise every lock the interrupted code may have held before using it again
 * (nmr_reset does so for the registrar's lock).
 *
 * Not caught (the process stops as without a trap): a stop when nothing is armed; a stop on
 * another simulated thread than the one that armed the trap (a note on stderr says so);
 * DEADLOCK, whose scheduler state cannot be restored; a stop raised while printing a stop.
 * With real threads, a stop raised inside the shim's own dispatcher critical section (an
 * invalid KEVENT or thread object passed to a wait or KeSetEvent, a thread reference
 * underflow) would leave the dispatcher mutex held: such stops are contract violations of the
 * shim's callers, not of code under test, and a harness must not rely on catching them.
 * Arming while a trap is armed, or disarming a trap that is not armed or was armed by another
 * thread, is a stop (STOP_TRAP_MISUSE).
 */

/** Room for a stop name, and for the stop line and the captured DbgPrint output. */
#define KSHIM_STOP_NAME_CHARS 48
#define KSHIM_STOP_TEXT_CHARS 2048

/** What a trap caught. */
typedef struct kshim_stop_record {
    char name[KSHIM_STOP_NAME_CHARS];   /* stop name: "BUGCHECK" for KeBugCheckEx/KeBugCheck */
    char line[KSHIM_STOP_TEXT_CHARS];   /* "*** KSHIM STOP <name>: <message>" (no newline) */
    bool bugcheck;                      /* raised by KeBugCheckEx or KeBugCheck */
    ULONG bugcheck_code;                /* KeBugCheckEx BugCheckCode (0 unless bugcheck) */
    ULONG_PTR bugcheck_parameters[4];   /* KeBugCheckEx parameters 1..4 (0 unless bugcheck) */
    char printed[KSHIM_STOP_TEXT_CHARS]; /* DbgPrint* output of the thread since arming */
    size_t printed_length;              /* bytes in printed (without the terminating NUL) */
    bool printed_truncated;             /* more was printed than printed holds (first kept) */
    KIRQL irql_at_stop;                 /* the thread's IRQL when it stopped */
    unsigned locks_forgotten;           /* spin and push locks the thread held */
    int critical_regions_forgotten;     /* critical/guarded region depth it was in */
} kshim_stop_record_t;

/** A stop trap; the harness owns its memory, which must outlive the armed period. */
typedef struct kshim_stop_trap {
    jmp_buf jump;               /* set with setjmp by the harness before arming */
    kshim_stop_record_t record; /* filled when a stop is caught */
    PKTHREAD owner;             /* private: the arming thread while armed, else NULL */
} kshim_stop_trap_t;

/**
 * @brief Arm trap for the calling simulated thread (see above); its record is cleared (every
 * text empty, every other field zero).
 * Stops (STOP_TRAP_MISUSE) if a trap is already armed.
 */
void kshim_stop_trap_arm(kshim_stop_trap_t *trap);

/**
 * @brief Disarm trap without a stop having happened. Stops (STOP_TRAP_MISUSE) unless trap is
 * the armed trap and the calling thread armed it.
 */
void kshim_stop_trap_disarm(kshim_stop_trap_t *trap);

/** @brief true while some trap is armed (on any thread). */
bool kshim_stop_trap_is_armed(void);

/**
 * @brief [CUSTOMISED] Receives DbgPrint, DbgPrintEx, vDbgPrintEx(WithPrefix) and KdPrint*
 * output instead of stderr: one call per message (the formatted text, possibly several lines,
 * not NUL-terminated). Deviation: Windows sends this output to the kernel debugger.
 * With real threads the sink may be called concurrently by several threads.
 */
typedef void kshim_dbg_print_sink_fn(const char *text, size_t length, void *context);

/**
 * @brief Send debug-print output of every thread to sink (NULL: back to stderr). A fuzz target
 * sets one so that verifier lines go to its timeline instead of stderr. An armed stop trap
 * records its thread's output either way.
 */
void kshim_dbg_print_set_sink(kshim_dbg_print_sink_fn *sink, void *context);

/* ------------------------------------------------------------------------------------------ */
/* Harness threads                                                                            */
/* ------------------------------------------------------------------------------------------ */

typedef struct kshim_thread kshim_thread_t;

/**
 * @brief Start a simulated kernel thread (PASSIVE_LEVEL) that runs fn(arg).
 * @param[in] name  Shown in stops and hang reports; copied.
 * @return The thread; never NULL (resource exhaustion is a stop, not a fault site).
 */
kshim_thread_t *kshim_thread_start(const char *name, void (*fn)(void *arg), void *arg);

/** @brief Wait for a thread started by kshim_thread_start to finish, and release it. */
void kshim_thread_join(kshim_thread_t *thread);

/** @brief Name of the calling thread ("main" for the process's first thread). */
const char *kshim_thread_current_name(void);

/**
 * @brief Short name of an IRQL for messages and traces: "PASSIVE", "APC", "DISPATCH",
 * "HIGH" (HIGH_LEVEL), "DIRQL" for the levels in between.
 */
const char *kshim_irql_name(KIRQL irql);

/* ------------------------------------------------------------------------------------------ */
/* Owners: whose work and pool this is                                                       */
/* ------------------------------------------------------------------------------------------ */

/*
 * An owner is an opaque cookie a harness chooses (for example the driver under test); the
 * shim never looks inside it. Each simulated thread has a current owner (NULL: the harness).
 * Work queued, set or started while an owner is current belongs to that owner, and its
 * routine runs with that owner current: system threads (PsCreateSystemThread), executive and
 * I/O work items, DPCs (owner taken when queued) and timers (owner taken when set). Pool
 * allocated while an owner is current is that owner's until it is freed. An I/O work item
 * holds its owner until its routine returns, as on Windows an I/O work item holds the driver.
 * kshim_reset() forgets every owner.
 */

/**
 * @brief Make owner the calling simulated thread's current owner.
 * @return The owner that was current before (restore it with another swap).
 */
const void *kshim_owner_swap(const void *owner);

/** @brief The calling simulated thread's current owner (NULL: the harness). */
const void *kshim_owner_current(void);

/** What a piece of owned work is. */
typedef enum kshim_work_kind {
    KSHIM_WORK_SYSTEM_THREAD, /* PsCreateSystemThread: from creation until its routine ends */
    KSHIM_WORK_EX_WORK_ITEM,  /* ExQueueWorkItem: from queuing until its routine returns */
    KSHIM_WORK_IO_WORK_ITEM,  /* IoQueueWorkItem[Ex]: from queuing until its routine returns */
    KSHIM_WORK_DPC,           /* KeInsertQueueDpc: while queued or running */
    KSHIM_WORK_TIMER,         /* KeSetTimer[Ex]: while set (a periodic timer until cancelled)
                                 or while its DPC runs */
} kshim_work_kind_t;

/** Visitor of kshim_owner_live_work: routine is the work's routine (start routine, worker
    routine, deferred routine); running is true once it has started and not yet returned. */
typedef void kshim_owner_work_fn(void *context, kshim_work_kind_t kind, const void *routine,
                                 bool running);

/**
 * @brief Visit each piece of owner's work that is queued, set or running, oldest first.
 * fn is called after the shim's locks are released; it may be NULL (count only).
 * @return How many there were.
 */
size_t kshim_owner_live_work(const void *owner, kshim_owner_work_fn *fn, void *context);

/** Called (when set) on the thread that runs it, just before a routine of an owner's work
    starts, with that owner already current. Not called for work of the NULL owner. */
typedef void kshim_owner_run_hook_fn(const void *owner, kshim_work_kind_t kind, const void *routine);

/** @brief Set the run hook (NULL removes it). The hook must not block. */
void kshim_set_owner_run_hook(kshim_owner_run_hook_fn *hook);

/** Called (when set) after a sanitizer reported a memory error, with the report's text, and
    after the shim's own line about the address (a pool block freed in this input, or the
    bytes past a live block's end: "*** KSHIM POOL ..."). The process dies when it returns. */
typedef void kshim_sanitizer_report_hook_fn(const char *report);

/** @brief Set the sanitizer report hook (NULL removes it). Without AddressSanitizer it is
    never called. */
void kshim_set_sanitizer_report_hook(kshim_sanitizer_report_hook_fn *hook);

/**
 * @brief Kit-internal (the shim, the harness library and the kit's own targets), not an API
 * for a project's harness or driver: memset, memcpy and memmove without AddressSanitizer's
 * checks (kshim_unchecked.c), for the kit's per-input hot paths. Only for memory the kit owns
 * whose bounds the caller has just established, where the check cannot fail: bytes the pool
 * or a recycler has just unpoisoned for exactly this size, or malloc has just returned; a
 * static object, or elements of a static array below a count checked against its size where
 * the count grows, written with their own sizeof; a local variable; a kit buffer just
 * formatted, with the length the formatter returned; a stop trap's record once a checked
 * access of it has passed. One use where the check would fail, on purpose: a driver
 * fuzzer's copy of a driver's writable sections, which the harness restores between inputs
 * (harness/driver_fuzzer.c, copy_image), crossing the redzones ASan keeps between the
 * driver's globals. Never for memory a
 * module, a driver or the registrar passed in, or memory that may have been freed: there the
 * check is what ASan is for. Each call says why its range is one of the former. Under ASan
 * an instrumented memset or memcpy (struct copies and runs of stores the compiler merges
 * into one included) costs a runtime call that reads the range's shadow (and, for memcpy,
 * checks that the ranges do not overlap); these cost the C library's routine only (or an
 * uninstrumented loop, never a checked call). Without ASan they are memset, memcpy and
 * memmove.
 * @param destination The kit's own bytes (see above).
 * @param value The byte to fill with (kshim_unchecked_memset).
 * @param source The kit's own bytes; for kshim_unchecked_memcpy not overlapping destination.
 * @param size Bytes to fill, copy or move.
 */
void kshim_unchecked_memset(void *destination, int value, size_t size);
void kshim_unchecked_memcpy(void *destination, const void *source, size_t size);
void kshim_unchecked_memmove(void *destination, const void *source, size_t size);
/** memmem of the kit's own bytes (as above), past ASan's range check and past a fuzzer's
 *  memmem hook: only to repeat, right after it, a search the caller made through memmem
 *  with the same needle (libFuzzer keeps one slot per needle hash, so with no other memmem
 *  or strstr hook between the two, it sees the same needles). */
void *kshim_unchecked_memmem(const void *haystack, size_t haystack_size, const void *needle,
                             size_t needle_size);

/** Visitor of kshim_owner_live_pool: one outstanding allocation (tag, size, "file.c:line"). */
typedef void kshim_owner_pool_fn(void *context, ULONG tag, size_t size, const char *site);

/**
 * @brief Visit each outstanding pool allocation made while owner was current, oldest first.
 * fn is called after the pool lock is released; it may be NULL (count only).
 * @return The number of such allocations.
 */
size_t kshim_owner_live_pool(const void *owner, kshim_owner_pool_fn *fn, void *context);

/* ------------------------------------------------------------------------------------------ */
/* Registry fixture (RtlQueryRegistryValues reads it)                                         */
/* ------------------------------------------------------------------------------------------ */

/*
 * A registry fixture file declares the values a driver finds under its registry path. Text,
 * one item per line; '#' starts a comment; blank lines are ignored:
 *
 *     # values of the key itself (the RegistryPath the fixture is loaded for)
 *     MaxBindings = REG_DWORD 16
 *     Name        = REG_SZ "tcpip-test"
 *     Limits      = REG_QWORD 0x100000000
 *     Peers       = REG_MULTI_SZ "a" "b c"
 *     Blob        = REG_BINARY 01 02 ff
 *     Empty       = REG_NONE
 *     [Parameters\Tuning]          # a subkey, relative to the RegistryPath
 *     Window      = REG_DWORD 0x40
 *
 * Value names are what stands before '='; "@" is the key's default (unnamed) value. Numbers
 * are decimal or 0x-hex. Strings are in double quotes with " and \ escapes (ASCII). A
 * [section] names a subkey of the RegistryPath for the values below it; "[]" goes back to the
 * key itself. Every key named (the RegistryPath itself included) exists, even with no value.
 */

/**
 * @brief Load a fixture file's values under RegistryPath (for example the RegistryPath a
 * harness passes to DriverEntry), adding to what is loaded already (a value set twice keeps
 * the last).
 * @retval STATUS_SUCCESS
 * @retval STATUS_OBJECT_NAME_NOT_FOUND  the file cannot be opened (a line on stderr says why)
 * @retval STATUS_INVALID_PARAMETER      a malformed line ("<file>:<line>: <what>" on stderr);
 *         nothing of that file is loaded
 */
NTSTATUS kshim_registry_load_fixture(PCUNICODE_STRING RegistryPath, const char *fixture_file);

/**
 * @brief Set one value (the C-table form of a fixture): KeyPath is a full key path, Name the
 * value name ("" for the default value), Data is copied.
 */
NTSTATUS kshim_registry_set_value(PCUNICODE_STRING KeyPath, const char *Name, ULONG Type,
                                  const void *Data, ULONG Length);

/**
 * @brief Between runs: forget every owner (the calling thread's current owner, the owners of
 * listed work and of live pool allocations all become NULL, the harness), empty the
 * registry fixture and restart ExUuidCreate's sequence. The run hook stays set. Call it when no other simulated thread runs.
 */
void kshim_reset(void);

/* ------------------------------------------------------------------------------------------ */
/* Fault injection: the one choke point every fallible shim call consults                     */
/* ------------------------------------------------------------------------------------------ */

typedef enum kshim_fault_mode {
    KSHIM_FAULT_OFF = 0,       /* nothing fails; eligible calls are still counted */
    KSHIM_FAULT_TRANSIENT,     /* the nth eligible call fails, later ones succeed */
    KSHIM_FAULT_PERSISTENT,    /* the nth eligible call and every later one fail */
} kshim_fault_mode_t;

typedef struct kshim_fault_plan {
    kshim_fault_mode_t mode;
    unsigned long nth;         /* 1-based index among eligible calls */
    const char *site;          /* if non-NULL: only calls whose site contains this substring
                                  are eligible (sites are "file.c:line" of the caller) */
    ULONG tag;                 /* if non-zero: only allocations with this pool tag are eligible */
} kshim_fault_plan_t;

/**
 * @brief Arm a fault plan (NULL disarms) and reset the eligible/injected counters.
 * The plan's site string is copied.
 */
void kshim_fault_set_plan(const kshim_fault_plan_t *plan);

/**
 * @brief Read a plan from the environment variable KSHIM_FAULT and arm it.
 * Format: "nth=N,mode=transient|persistent[,site=SUBSTR][,tag=ABCD]". Also done once,
 * automatically, before the first fallible call of the process. A malformed value is a
 * stop (FAULT_PLAN_MALFORMED) naming the bad field.
 * @return true if the variable was set.
 */
bool kshim_fault_plan_from_environment(void);

/** @brief Eligible fallible calls since the plan was last set. */
unsigned long kshim_fault_eligible_calls(void);

/** @brief Failures injected since the plan was last set. */
unsigned long kshim_fault_injected_calls(void);

/** @brief Site ("file.c:line") of the last injected failure, or NULL if none. */
const char *kshim_fault_last_injected_site(void);

typedef void kshim_fault_observer_fn(const char *site, ULONG tag, bool injected, void *context);

/** @brief Called for every eligible call (NULL removes); lets sweeps enumerate sites. */
void kshim_fault_set_observer(kshim_fault_observer_fn *observer, void *context);

/**
 * @brief The choke point. Counts the call and says whether it must fail.
 * Every fallible shim routine (pool allocation, work-item and device allocation, system
 * thread creation) calls this first; module-facing code never calls it directly.
 */
bool kshim_fault_should_fail(const char *site, ULONG tag);

/* ------------------------------------------------------------------------------------------ */
/* Pool audit                                                                                 */
/* ------------------------------------------------------------------------------------------ */

/**
 * @brief A pool tag from its four characters in memory order, the order in which debuggers,
 * the pool audit and KSHIM_FAULT's "tag=" print and read tags: KSHIM_POOL_TAG('N','m','R','b')
 * equals the driver literal 'bRmN'.
 */
#define KSHIM_POOL_TAG(a, b, c, d)                                                          \
    ((ULONG)(unsigned char)(a) | ((ULONG)(unsigned char)(b) << 8) |                         \
     ((ULONG)(unsigned char)(c) << 16) | ((ULONG)(unsigned char)(d) << 24))

/** Tags of the pool allocations the shim makes for drivers' objects (and fault-plan tags of
    the corresponding fallible calls). */
#define KSHIM_TAG_WORK_ITEM KSHIM_POOL_TAG('I', 'o', 'W', 'k') /* IoAllocateWorkItem */
#define KSHIM_TAG_DEVICE KSHIM_POOL_TAG('D', 'e', 'v', 'i')    /* IoCreateDevice */
#define KSHIM_TAG_THREAD KSHIM_POOL_TAG('T', 'h', 'r', 'e')    /* PsCreateSystemThread */

/** @brief Number of live pool allocations (all tags). */
size_t kshim_pool_live_count(void);

/** @brief Number of live pool allocations with this tag. */
size_t kshim_pool_live_count_by_tag(ULONG tag);

/**
 * @brief Drop the records of freed allocations (kept to tell a double free from a free of
 * an unknown pointer). Fuzz harnesses call it between inputs so that the C heap's malloc
 * and free counts balance per input (libFuzzer's leak check then stays cheap); a later
 * free of such an address is reported as POOL_FREE_UNKNOWN instead of POOL_DOUBLE_FREE.
 */
void kshim_pool_forget_freed(void);

/**
 * @brief Print every live allocation (tag, size, allocating site) to stderr.
 * @return The number of live allocations printed.
 */
size_t kshim_pool_audit_print(void);

/* ------------------------------------------------------------------------------------------ */
/* End-of-run audit                                                                           */
/* ------------------------------------------------------------------------------------------ */

/**
 * @brief Wait until every queued work item and every system thread has finished.
 * Work items and system threads run on real threads in this build.
 */
void kshim_drain_pending_work(void);

/** @brief Work items queued and system threads started that have not yet finished. */
size_t kshim_pending_work_count(void);

/**
 * @brief Hold (true) or release (false) the start of queued work items. While held, a queued
 * work item stays queued (not started), so tests can observe queue states deterministically
 * (e.g. queue twice, free while queued). kshim_drain_pending_work while held stops
 * (WORK_HELD_DURING_DRAIN) instead of waiting forever. Released at process start.
 */
void kshim_work_hold(bool hold);

/**
 * @brief Check that the calling thread is back to baseline: IRQL PASSIVE_LEVEL, no spin
 * lock or push lock held, not inside a critical region; no pending work; and (if
 * pool_baseline is not (size_t)-1) exactly pool_baseline live allocations.
 * On failure prints what is wrong (and the pool audit) and stops (AUDIT_FAILED).
 */
void kshim_audit(size_t pool_baseline);

/* ------------------------------------------------------------------------------------------ */
/* Scheduling: deterministic fibers (NMRKIT_SCHEDULER=fibers) or real threads                 */
/* ------------------------------------------------------------------------------------------ */

/*
 * With fibers (the fuzz preset), every simulated kernel thread runs on the process's one
 * OS thread and control changes hands only at yield points (every synchronization
 * primitive, every pool allocation, thread start and exit, kshim_sched_yield); at each
 * yield point with a choice, the schedule source picks the next thread: the schedule
 * bytes while they last, then the strategy. Time is virtual. A deadlock (no thread can
 * run) runs the deadlock hook, lists every blocked thread and stops (DEADLOCK).
 * With real threads (every other build) these functions do nothing, or say so.
 */

typedef enum kshim_sched_strategy {
    KSHIM_SCHED_DEFAULT = 0, /* keep running the current thread while it can run */
    KSHIM_SCHED_PCT,         /* random priorities with `depth` change points (Burckhardt et al.) */
} kshim_sched_strategy_t;

/** @brief true in fiber builds (schedules and time are deterministic). */
bool kshim_sched_is_deterministic(void);

/** @brief Choices are taken from these bytes (byte % runnable threads) until they run out.
 *  The bytes are not copied; NULL/0 clears. */
void kshim_sched_set_schedule(const uint8_t *bytes, size_t size);

/** A chooser's answer meaning "no decision": the schedule bytes, then the strategy decide. */
#define KSHIM_SCHED_NO_CHOICE (~0u)
/** A chooser's answer meaning "no decision, now or at any later yield point": as
    KSHIM_SCHED_NO_CHOICE, and the chooser is not asked again until the next
    kshim_sched_set_chooser (a chooser whose input ran out saves every later decision a call). */
#define KSHIM_SCHED_CHOOSER_DONE (~0u - 1)

/**
 * @brief A harness's scheduling decisions, asked before the schedule bytes.
 *
 * Called at each yield point with a choice (runnable > 1), on the simulated thread that
 * yields or blocks there, with the number of runnable threads (indexed in creation order:
 * the process's main thread first when it is runnable). Returns
 * the index of the thread to run (taken modulo runnable), or KSHIM_SCHED_NO_CHOICE to
 * leave this decision to the schedule bytes and then the strategy (KSHIM_SCHED_CHOOSER_DONE:
 * this one and every later one, until a chooser is installed again). A decision counts in
 * kshim_sched_decisions and kshim_sched_trace_hash as any other; it consumes no schedule
 * byte. The chooser must not block or yield.
 */
typedef unsigned (*kshim_sched_chooser_t)(void *context, unsigned runnable);
/* (The two answers above are reserved: an index is taken modulo runnable only below
   KSHIM_SCHED_CHOOSER_DONE.) */

/** @brief Install a chooser (NULL: none). Cleared by kshim_sched_reset.
 *  With real threads this does nothing: the OS decides, no chooser is ever called. */
void kshim_sched_set_chooser(kshim_sched_chooser_t chooser, void *context);

/**
 * @brief For a chooser that names its decisions: the index-th runnable thread.
 * @param[out] id  Its creation number (0 is the process's main thread); may be NULL.
 * @return The kernel thread it runs, or NULL if it has not run yet (or with real threads).
 */
PKTHREAD kshim_sched_runnable_thread(unsigned index, unsigned *id);

/** @brief What decides once the schedule bytes are used up. */
void kshim_sched_set_strategy(kshim_sched_strategy_t strategy, uint64_t seed, unsigned depth,
                              unsigned long expected_steps);

/** @brief Between fuzz inputs: virtual time, thread numbering, schedule and trace hash
 *  back to their initial state. Stops (SCHED_RESET_WITH_THREADS) if a simulated thread
 *  other than the caller still exists. */
void kshim_sched_reset(void);

/** @brief Schedule bytes consumed so far. */
size_t kshim_sched_schedule_bytes_used(void);

/** @brief Yield points that had a choice of more than one runnable thread. */
unsigned long kshim_sched_decisions(void);

/** @brief Hash of every scheduling decision and switch since the last reset. */
uint64_t kshim_sched_trace_hash(void);

/** @brief Called first when a deadlock is detected (e.g. nmr_report_blocked_waits). */
void kshim_sched_set_deadlock_hook(void (*hook)(void));

/** @brief An explicit yield point for harnesses. */
void kshim_sched_yield(void);

#ifdef __cplusplus
}
#endif
