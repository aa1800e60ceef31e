/* SPDX-License-Identifier: MIT */
/*
 * fuzz_nmr_schedule.c - concurrency fuzz target of the registrar: simulated threads that
 * register, deregister, wait, complete pending detaches and re-register clients and
 * providers of shared NPIs, with the input choosing both the operations and the
 * interleaving.
 *
 * The world: two clients (C0, C1) and two providers (P0, P1), four "module slots", each
 * owned by one worker thread (slot k of C0 C1 P0 P1 belongs to worker k % T, T = 2 or 3),
 * so each module's own protocol is sequential and legal: a slot registers, deregisters,
 * waits and registers again, and every registration of a slot is one "epoch" with its own
 * characteristics, context and behaviour. Modules obey the NMR contract (nmr-spec.md
 * section 3): a client attaches or declines; a provider accepts or declines; each side's
 * detach returns STATUS_SUCCESS, or STATUS_PENDING completed
 *   - by a work item (IoAllocateWorkItem + IoQueueWorkItem; the routine frees its own item
 *     or the binding context owns it and cleanup frees it),
 *   - from inside the detach callback before it returns, or
 *   - later by another thread, through a completion queue protected by a KSPIN_LOCK that
 *     a dedicated completer thread drains (when the input asks for one) or else every
 *     thread that queued something drains before each wait and when it finishes.
 * A wait never blocks forever on a correct registrar: a module waits only after its own
 * deregistration, work items always run, and every queued completion is drained by a
 * thread that is guaranteed to get there. A "resident" module stays registered past its
 * owner's end and is deregistered by main once every worker has been joined (a module
 * that outlives the others, as a protocol stack outlives its clients).
 *
 * With NMRKIT_SCHEDULER=fibers (the fuzz preset) every simulated thread is a fiber and the
 * schedule bytes of the input choose who runs at every yield point, so libFuzzer mutates
 * interleavings directly and every input replays exactly. With real threads (dev, tsan)
 * the same target replays its corpus with the OS choosing the interleaving.
 *
 * Oracles (any of them aborts, so libFuzzer keeps the input):
 *   - every verifier stop, every shim stop (ASan/UBSan in the fuzz build);
 *   - a deadlock (fibers: no simulated thread can run) runs nmr_report_blocked_waits()
 *     ("*** NMR VERIFIER STOP D4" with every unfinished binding and side) and stops; with
 *     real threads the registrar's own hang watchdog reports the same D4;
 *   - a module-level reference check ("*** FUZZ ORACLE: <reason>"), per registration
 *     epoch and per binding (sequence stamps order the harness's own calls):
 *       attach: only between a client and a provider of the same NPI, never twice for the
 *       same pair of epochs, never for an epoch whose wait returned, never with a peer
 *       that had finished deregistering before this side began registering; when a
 *       NmrRegister* returns, ClientAttachProvider has been called for every peer of the
 *       NPI whose own NmrRegister* had returned and that had not begun deregistering;
 *       detach: exactly one per side of every attached binding, only after its attach
 *       returned and after one of its modules began deregistering;
 *       cleanup: exactly one per side that has a cleanup callback, only once both sides
 *       completed (binding contexts are pool allocations freed in cleanup, so a missing
 *       cleanup is a leak and a second one a double free);
 *       wait: returns STATUS_SUCCESS with no callback of the epoch running, after every
 *       binding of the epoch was detached and (with a cleanup callback) cleaned up; no
 *       callback of any kind arrives for an epoch after its wait returned;
 *   - the end-of-input audit: every registration waited for, no thread left (kshim
 *     stops SCHED_RESET_WITH_THREADS), no pending work, no pool left by tag (binding
 *     contexts, work items, registrar objects), no verifier warning,
 *     nmr_live_object_count() == 0, nmr_check_invariants(), kshim_audit(pool baseline:
 *     IRQL PASSIVE_LEVEL, no lock held), nmr_reset() == 0, kshim_sched_reset().
 *
 * Input format (a missing byte reads as 0, so every byte string is an input). Every
 * decision has a label: its name on the input lines of the timeline (replay -print) and in
 * text inputs (replay -text / -encode; fuzz/README.md, "Inputs as text"). Three regions,
 * read by three readers: the header (the main reader), "ops" and "sched".
 *   byte 0  configuration: bit0 workers=2|3; bit1 npis=1|2; bit2 completer=no|yes (a
 *           completer thread drains the completion queue); bit3 detach_at_dispatch=no|yes;
 *           bit4 cleanup_at_dispatch=no|yes; bit5 provider_detach_first=no|yes; bit6
 *           tail=first_runnable|random (the schedule tail); bit7 unused
 *   byte 1  L: length of the operation section (no label: the encoder writes the length of
 *           the "ops:" lines it encoded)
 *   byte 2  tail_seed=0..255
 *   bytes 3 .. 3+L-1: operations ("ops:" lines; each goes to the worker owning its slot,
 *           in order): an op byte O: bits0-1 slot=C0|C1|P0|P1, bits2-4 op=<kind>,
 *           bits5-7 arg=0..7
 *           register B            register the slot (skipped unless unregistered)
 *           deregister            NmrDeregister* (skipped unless registered)
 *           wait                  NmrWaitFor* (skipped unless deregistering)
 *           reregister B          deregister if registered, wait if deregistering, register
 *           drain                 complete every queued pending detach, on the slot's owner
 *           yield                 kshim_sched_yield() arg+1 times
 *           deregister_at_dispatch  deregister at DISPATCH_LEVEL
 *           unload                deregister if registered, then wait if deregistering
 *           B, the module's behaviour for that registration: bits0-1
 *           attach=accept|accept|decline_slot1|decline (accept every peer; decline the
 *           peer in slot 1 of the other role; decline every peer); bits2-3
 *           detach=success|work_item|inline|queued (STATUS_SUCCESS, or PENDING completed
 *           by a work item, inside the detach callback, or through the queue); bit4
 *           cleanup=yes|no (no: no cleanup callback, the module frees its binding contexts
 *           after its wait returns); bit5 npi=0|1 (NPI 1 with two NPIs); bit6
 *           item_owner=routine|context (the binding context owns the work item, freed in
 *           cleanup, instead of the routine freeing it); bit7 resident=no|yes
 *   bytes 3+L ..: the schedule ("sched:" lines), read by the chooser the target gives the
 *           shim (kshim_sched_set_chooser): at each yield point with more than one
 *           runnable thread, the next byte modulo the number of runnable threads picks the
 *           one that runs, run=<thread> (runnable threads in creation order: main, the
 *           completer, W0, W1, W2, then work items; printed by trace label, or t<n> for the
 *           n-th thread created before it has one; the encoder also takes the index). At
 *           most MAX_SCHEDULE (4096) schedule bytes of an input are used (the rest, and with
 *           real threads all of them, are unread=). After the input's bytes,
 *           SCHEDULE_TAIL (16384) bytes chosen by the tail seed decide (the shim's schedule
 *           bytes): with tail=random pseudo-random, else 0 ("the first runnable thread")
 *           except every fourth, pseudo-random. The tail keeps the shim's own strategies
 *           out of reach: with two threads spinning on a spin lock whose holder has a
 *           higher thread id, the default strategy (and PCT, once its change points are
 *           behind) alternates between the spinners forever (a livelock of the scheduler,
 *           not of the code under test); a pseudo-random byte now and then lets the holder
 *           run.
 * Input lines, e.g.:
 *     > workers=2 npis=1 completer=yes detach_at_dispatch=no cleanup_at_dispatch=no
 *       provider_detach_first=no tail=first_runnable tail_seed=0        (one line, wrapped)
 *     > ops: slot=C0 op=register arg=0 attach=accept detach=queued cleanup=yes npi=0
 *       item_owner=routine resident=no                                  (one line, wrapped)
 *     > sched: run=main run=t3 run=W1 run=W1
 * fuzz/examples/fuzz_nmr_schedule-*.txt are hand-written text inputs (*.fibers.txt hold
 * scheduling decisions, which only fiber builds take).
 * Then each worker, after its operations, deregisters its registered non-resident slots,
 * drains the queue (without a completer) and waits for every slot it deregistered; main
 * joins the workers, deregisters and waits for the residents, stops the completer, drains
 * pending work and audits.
 *
 * Trace: in fiber builds every call, callback, completion and thread switch (with the
 * scheduling decision and schedule byte it came from) is an event (replay -print shows the
 * timeline). With real threads only what the OS cannot reorder is hashed: the decoded
 * program, each worker's own results and main's teardown, so the replay's
 * several-runs-same-hash contract holds in every build.
 *
 * Standalone (any build, no libFuzzer):
 *     build/<preset>/fuzz/fuzz_nmr_schedule_replay [-runs=N] [-print] corpus/fuzz_nmr_schedule
 * Text inputs (input lines, as -print shows them; fuzz/README.md, "Inputs as text"):
 *     build/<preset>/fuzz/fuzz_nmr_schedule_replay -text [-print] fuzz/examples/fuzz_nmr_schedule-*.txt
 *     build/<preset>/fuzz/fuzz_nmr_schedule_replay -encode=OUT.bin TEXTFILE
 * Fuzzing (fuzz preset; fuzz_nmr_schedule.options holds the options):
 *     build/fuzz/fuzz/fuzz_nmr_schedule -max_len=512 work/ corpus/fuzz_nmr_schedule
 * Seeds: fuzz/examples/fuzz_nmr_schedule-*.txt (text inputs; -encode=OUT turns one into bytes).
 * Target functions: NmrRegisterClient, NmrRegisterProvider, NmrClientAttachProvider,
 * NmrDeregisterClient, NmrDeregisterProvider, NmrWaitForClientDeregisterComplete,
 * NmrWaitForProviderDeregisterComplete, NmrClientDetachProviderComplete,
 * NmrProviderDetachClientComplete, concurrently, and the shim's fiber scheduler.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netioddk.h>
#include <nmr_module.h>
#include <kshim/kshim.h>

#include "fuzz_input.h"
#include "fuzz_module.h"
#include "fuzz_run.h"

#define SLOT_COUNT 4        /* C0 C1 P0 P1 */
#define MAX_WORKERS 3
#define HEADER_BYTES 3
#define MAX_OPS 255         /* the operation section is at most 255 bytes */
#define MAX_EPOCHS 128      /* > registrations per input (each takes two op bytes) */
#define MAX_PAIRS 256       /* > attach attempts per input (at most two per registration) */
#define MAX_LABELS 24       /* simulated threads named in the trace at one time */
#define MAX_SCHEDULE 4096   /* schedule bytes of the input used (the rest is ignored) */
#define SCHEDULE_TAIL 16384 /* schedule bytes appended to the input's (see the format) */

#define CONTEXT_MAGIC 0x7a436278u  /* binding context */
#define DISPATCH_MAGIC 0x7a446973u

/* Pool tag of the modules' binding contexts ("FzSc" in memory order). */
#define CONTEXT_TAG 'cSzF'

/* ------------------------------------------------------------------------------------------ */
/* Model                                                                                      */
/* ------------------------------------------------------------------------------------------ */

typedef enum op_kind {
    OP_REGISTER,
    OP_DEREGISTER,
    OP_WAIT,
    OP_REREGISTER,
    OP_DRAIN,
    OP_YIELD,
    OP_DEREGISTER_AT_DISPATCH,
    OP_UNLOAD,
    OP_KIND_COUNT
} op_kind_t;

static const char *const op_names[OP_KIND_COUNT] = {
    "register", "deregister", "wait", "re-register", "drain", "yield",
    "deregister-at-dispatch", "unload"};

typedef struct op {
    uint8_t kind;
    uint8_t slot;
    uint8_t arg;
    uint8_t behaviour; /* register and re-register */
} op_t;

typedef enum attach_policy {
    POLICY_ACCEPT,       /* attach to (accept) every peer */
    POLICY_DECLINE_ONE,  /* decline the peer in slot 1 of the other role */
    POLICY_DECLINE_ALL,  /* decline every peer: STATUS_NOINTERFACE */
} attach_policy_t;

static const char *const policy_names[] = {"accept", "decline-slot1", "decline"};

typedef enum detach_mode {
    DETACH_SUCCESS,   /* the detach callback returns STATUS_SUCCESS */
    DETACH_WORK_ITEM, /* STATUS_PENDING; a work item calls Nmr*DetachComplete */
    DETACH_INLINE,    /* Nmr*DetachComplete inside the callback, then STATUS_PENDING */
    DETACH_QUEUED,    /* STATUS_PENDING; queued for the completer or a draining thread */
} detach_mode_t;

static const char *const detach_names[] = {"success", "work-item", "inline", "queued"};

typedef enum slot_state {
    SLOT_FREE,          /* not registered (never, or its last wait returned) */
    SLOT_REGISTERED,    /* NmrRegister* returned STATUS_SUCCESS */
    SLOT_DEREGISTERING, /* NmrDeregister* returned; wait not yet done */
} slot_state_t;

/* One side of a binding, as the module sees it (index 0 client, 1 provider). */
typedef enum side_state {
    SIDE_NONE,      /* not attached (yet) */
    SIDE_ATTACHED,  /* the module's attach succeeded */
    SIDE_DETACHING, /* the detach callback is running */
    SIDE_PENDING,   /* the detach returns (returned) STATUS_PENDING; completion not yet called */
    SIDE_COMPLETE,  /* detach returned STATUS_SUCCESS, or the module calls DetachComplete */
} side_state_t;

static const char *const side_state_names[] = {"not attached", "attached", "in detach",
                                               "pending", "complete"};

/*
 * One registration of a slot. Written by the owning worker before NmrRegister* (the
 * registrar publishes it to other threads under its lock) and then only read, except the
 * atomics, which any thread's callbacks update.
 */
typedef struct epoch {
    unsigned index;         /* in w.epochs */
    unsigned slot;          /* 0..3 */
    unsigned gen;           /* registrations of this slot so far, this one included */
    bool is_client;
    unsigned npi;
    attach_policy_t policy;
    detach_mode_t detach_mode;
    bool has_cleanup;
    bool item_in_context;
    bool resident;
    NPI_MODULEID module_id;
    fuzz_characteristics_t chars;
    HANDLE handle;          /* owner (or main after the join) only */
    /* Sequence stamps (w.seq) of the owner's calls; 0 = not yet. */
    atomic_ulong reg_start, reg_done, dereg_start, dereg_done;
    atomic_bool waited;     /* NmrWaitFor* returned */
    atomic_uint attached;   /* bindings whose attach succeeded on this module's side */
    atomic_uint detached;   /* detach callbacks received */
    atomic_uint cleaned;    /* cleanup callbacks received */
    atomic_uint in_callback; /* callbacks of this epoch running now */
    _Atomic(struct side_ctx *) unclean; /* contexts to free after the wait (no cleanup cb) */
} epoch_t;

/* A client/provider pair that attempted to attach. The epochs are written by the client's
   ClientAttachProvider before NmrClientAttachProvider (so before anyone else can know the
   pair) and are Immutable afterwards; everything else is Interlocked. */
typedef struct pair {
    unsigned client_epoch, provider_epoch;
    atomic_uchar side[2];       /* side_state_t of the client [0] and provider [1] side */
    atomic_uchar cleaned[2];    /* cleanup callbacks received per side */
    atomic_bool attach_returned; /* ClientAttachProvider returned STATUS_SUCCESS */
} pair_t;

/*
 * A module's binding context: one pool allocation (CONTEXT_TAG) per side of an attached
 * binding, freed in its cleanup callback, or after the module's wait returns when the module
 * has no cleanup callback. Fields are written by the side's attach and detach callbacks
 * before the context is handed to another thread (work item, queue), and only read after.
 */
typedef struct side_ctx {
    uint32_t magic;
    unsigned pair;
    unsigned epoch;
    unsigned side;               /* 0 client, 1 provider */
    HANDLE binding_handle;       /* this side's handle, for Nmr*DetachComplete */
    PIO_WORKITEM item;           /* owned by the context (freed with it), or NULL */
    PIO_WORKITEM routine_item;   /* owned by the work item's routine, which frees it */
    unsigned item_serial;
    LIST_ENTRY queue_link;       /* in w.queue while its completion is queued. Protected
                                    by: w.queue_lock */
    struct side_ctx *next_unclean; /* in its epoch's unclean list (Interlocked push) */
} side_ctx_t;

typedef struct dispatch_table {
    uint32_t magic;
    unsigned slot;
} dispatch_table_t;

typedef struct slot {
    const char *name;       /* "C0".."P1" */
    bool is_client;
    slot_state_t state;     /* owner only (main after the joins) */
    epoch_t *epoch;         /* current registration, if any; owner only */
    unsigned gen;           /* registrations so far; owner only */
    dispatch_table_t dispatch; /* Immutable during the input */
} slot_t;

typedef struct worker {
    unsigned index;
    const char *name;
    op_t ops[MAX_OPS];
    unsigned op_count;
    unsigned ops_done;      /* operations that did something (not skipped) */
    uint64_t results;       /* FNV-1a of the worker's own results (deterministic in every build) */
    kshim_thread_t *thread;
} worker_t;

typedef struct label {
    PKTHREAD thread;        /* NULL: free entry */
    const char *name;
    unsigned depth;
} label_t;

static const char *const worker_names[MAX_WORKERS] = {"W0", "W1", "W2"};
static const char *const slot_names[SLOT_COUNT] = {"C0", "C1", "P0", "P1"};
static const char *const work_item_names[16] = {"wi0", "wi1", "wi2", "wi3", "wi4", "wi5",
                                                "wi6", "wi7", "wi8", "wi9", "wi10", "wi11",
                                                "wi12", "wi13", "wi14", "wi15"};

static const NPIID npi_ids[2] = {
    {0x6e6d7231, 0x5343, 0x4844, {0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01}},
    {0x6e6d7232, 0x5343, 0x4844, {0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02}},
};

static struct world {
    /* Configuration (main, before the threads start; read-only afterwards). */
    bool deterministic;     /* fiber scheduler: every event can be traced */
    bool recording;         /* events are hashed or printed (a replay), not in libFuzzer runs */
    unsigned worker_count;
    unsigned npi_count;
    bool completer;
    nmr_verifier_config_t config;

    worker_t workers[MAX_WORKERS];
    slot_t slots[SLOT_COUNT];

    epoch_t epochs[MAX_EPOCHS];
    atomic_uint epoch_count;    /* epochs handed out (Interlocked) */
    pair_t pairs[MAX_PAIRS];
    atomic_uint pair_count;     /* pairs handed out (Interlocked) */
    /* attach_called[c][p]: ClientAttachProvider was entered for client epoch c, provider p. */
    atomic_uchar attach_called[MAX_EPOCHS][MAX_EPOCHS];
    atomic_ulong seq;           /* sequence stamps (Interlocked) */
    atomic_uint work_items;     /* work items queued (Interlocked) */
    atomic_uint callbacks;      /* callbacks received (Interlocked) */

    /* Completion queue. queue_lock protects queue; queue_event (synchronization) is set
       after every enqueue so the completer wakes; completer_stop tells it to finish. */
    KSPIN_LOCK queue_lock;
    LIST_ENTRY queue;
    KEVENT queue_event;
    atomic_bool completer_stop;
    kshim_thread_t *completer_thread;

    /* Trace labels of the simulated threads (fiber builds only: one OS thread). */
    label_t labels[MAX_LABELS];
    const label_t *last_label;  /* the thread of the previous event */
    label_t *found_label;       /* the last one current_label found (checked before use) */
} w;

/* The tail that follows the input's schedule bytes (see the header comment): the shim's
   schedule bytes, used once the chooser (choose_from_input) has no more input bytes. */
#define TAIL_TABLE_BYTES (SCHEDULE_TAIL + 255 * 64)
static uint8_t random_tail[TAIL_TABLE_BYTES]; /* every byte pseudo-random */
static uint8_t sticky_tail[TAIL_TABLE_BYTES]; /* 0 (first runnable thread) but every 4th */
static bool tails_ready;

/* The input's schedule region, read by the chooser at every scheduling decision (fiber
   builds; main sets it up before the threads start, and only the running fiber of the one
   OS thread touches it). */
#define MAX_NAMED_RUNNABLE 32 /* decisions among more threads print numbers */
static struct {
    fuzz_input_t in;  /* reader "sched" */
    unsigned taken;   /* decisions it made: at most MAX_SCHEDULE */
    char names[MAX_NAMED_RUNNABLE][16];
    const char *name_of[MAX_NAMED_RUNNABLE];
} schedule_input;

static __attribute__((noinline)) const uint8_t *schedule_tail(uint8_t seed, bool random)
{
    if (!tails_ready) {
        uint64_t state = 0x6e6d726b6974ull; /* splitmix64 with a fixed seed: runs agree */
        for (size_t i = 0; i < TAIL_TABLE_BYTES; i++) {
            uint64_t z = (state += 0x9e3779b97f4a7c15ull);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            random_tail[i] = (uint8_t)(z ^ (z >> 31));
            sticky_tail[i] = i % 4 == 3 ? random_tail[i] : 0;
        }
        tails_ready = true;
    }
    return (random ? random_tail : sticky_tail) + (size_t)seed * 64;
}

/* Schedule bytes used so far: the input's (the chooser's decisions), then the tail's. */
static unsigned schedule_bytes_used(void)
{
    return schedule_input.taken + (unsigned)kshim_sched_schedule_bytes_used();
}

/* One device object for the work items, created once per process (pool baseline). */
static DRIVER_OBJECT fuzz_driver;
static PDEVICE_OBJECT fuzz_device;
static unsigned previous_epoch_count;

/* ------------------------------------------------------------------------------------------ */
/* Oracle failures and tracing                                                                */
/* ------------------------------------------------------------------------------------------ */

static const char *label_name(void);

/* Oracle failures name the simulated thread they happened on; with real threads the
   recent-event ring is not a consistent picture, so it is left out, and a libFuzzer run
   records no events (w.recording): its failures point to the replay. */
static void thread_context(char *buffer, size_t size)
{
    snprintf(buffer, size, " (thread %s%s)", label_name(),
             w.deterministic && !w.recording ? "; replay the input to see its last events" : "");
}

static unsigned long stamp(void)
{
    return atomic_fetch_add(&w.seq, 1) + 1;
}

/* The trace label of the calling simulated thread (fiber builds), created on first use. */
static __attribute__((noinline)) label_t *current_label(void)
{
    PKTHREAD self = KeGetCurrentThread();
    if (w.found_label != NULL && w.found_label->thread == self) {
        return w.found_label; /* events come in runs of one thread */
    }
    label_t *free_entry = NULL;
    for (unsigned i = 0; i < MAX_LABELS; i++) {
        if (w.labels[i].thread == self) {
            w.found_label = &w.labels[i];
            return w.found_label;
        }
        if (w.labels[i].thread == NULL && free_entry == NULL) {
            free_entry = &w.labels[i];
        }
    }
    if (free_entry == NULL) {
        fuzz_oracle_fail("harness: more than %d simulated threads at once", MAX_LABELS);
    }
    free_entry->thread = self;
    free_entry->name = "?";
    free_entry->depth = 0;
    w.found_label = free_entry;
    return free_entry;
}

static __attribute__((noinline)) void label_set(const char *name)
{
    if (w.deterministic) {
        current_label()->name = name;
    }
}

static __attribute__((noinline)) void label_release(void)
{
    if (w.deterministic) {
        label_t *l = current_label();
        if (w.last_label == l) {
            for (unsigned d = 0; d < l->depth; d++) {
                fuzz_trace_leave();
            }
            w.last_label = NULL;
        }
        l->thread = NULL;
    }
}

static __attribute__((noinline)) const char *label_name(void)
{
    if (w.deterministic) {
        for (unsigned i = 0; i < MAX_LABELS; i++) {
            if (w.labels[i].thread == KeGetCurrentThread()) {
                return w.labels[i].name;
            }
        }
    }
    return kshim_thread_current_name();
}

/* The display name of the index-th runnable thread: its trace label once it has one, else
   "t<creation number>"; a name already used in this decision also becomes "t<n>". */
static __attribute__((noinline)) const char *runnable_name(unsigned index)
{
    unsigned id = 0;
    PKTHREAD thread = kshim_sched_runnable_thread(index, &id);
    const char *name = NULL;
    for (unsigned i = 0; thread != NULL && i < MAX_LABELS && name == NULL; i++) {
        if (w.labels[i].thread == thread && strcmp(w.labels[i].name, "?") != 0) {
            name = w.labels[i].name;
        }
    }
    for (unsigned j = 0; name != NULL && j < index; j++) {
        if (strcmp(schedule_input.name_of[j], name) == 0) {
            name = NULL;
        }
    }
    char *buf = schedule_input.names[index];
    snprintf(buf, sizeof schedule_input.names[index], "%s", name ? name : "");
    if (name == NULL) {
        snprintf(buf, sizeof schedule_input.names[index], "t%u", id);
    }
    return buf;
}

/*
 * The chooser (kshim_sched_set_chooser): at each scheduling decision, while the input has
 * schedule bytes (at most MAX_SCHEDULE), one byte modulo the number of runnable threads
 * picks the one that runs (labelled "run", printed with the thread's name); then
 * KSHIM_SCHED_CHOOSER_DONE hands this and every later decision to the tail (the shim stops
 * asking: the input's bytes never come back).
 */
/* The names of the runnable threads for a decision's input line (text mode only; out of line,
   so that the chooser's fuzzing path has no instrumented stack frame). */
static __attribute__((noinline)) const char *const *runnable_names(unsigned runnable)
{
    if (runnable > MAX_NAMED_RUNNABLE) {
        return NULL;
    }
    for (unsigned i = 0; i < runnable; i++) {
        schedule_input.name_of[i] = runnable_name(i);
    }
    return schedule_input.name_of;
}

static unsigned choose_from_input(void *context, unsigned runnable)
{
    (void)context;
    if (schedule_input.taken >= MAX_SCHEDULE || fuzz_input_exhausted(&schedule_input.in)) {
        return KSHIM_SCHED_CHOOSER_DONE;
    }
    schedule_input.taken++;
    const char *const *names = fuzz_input_text_mode() ? runnable_names(runnable) : NULL;
    return fuzz_take_enum_as(&schedule_input.in, "run", names, runnable);
}

/*
 * Before an event: make the trace's thread and depth those of the calling simulated thread,
 * and record a thread switch (with the scheduling decision count and the schedule bytes
 * used so far) whenever the thread differs from the previous event's.
 */
static __attribute__((noinline)) void trace_prepare(void)
{
    label_t *l = current_label();
    if (l == w.last_label) {
        return;
    }
    if (w.last_label != NULL) {
        for (unsigned d = 0; d < w.last_label->depth; d++) {
            fuzz_trace_leave();
        }
    }
    fuzz_trace_set_thread(l->name);
    fuzz_trace_event("~ %s runs (scheduling decision %u, schedule bytes used %u)", l->name,
                     (unsigned)kshim_sched_decisions(), schedule_bytes_used());
    for (unsigned d = 0; d < l->depth; d++) {
        fuzz_trace_enter();
    }
    w.last_label = l;
}

/* Events of simulated threads: traced only where the interleaving is deterministic, and
   only when something reads them (w.recording). */
#define TRACE(...)                                                                          \
    do {                                                                                    \
        if (w.deterministic && w.recording) {                                               \
            trace_prepare();                                                                \
            fuzz_trace_event(__VA_ARGS__);                                                  \
        }                                                                                   \
    } while (0)

/* Events of main while no other thread runs (before the start, after the joins). */
#define TRACE_MAIN(...)                                                                     \
    do {                                                                                    \
        if (!w.recording) {                                                                 \
        } else if (w.deterministic) {                                                       \
            trace_prepare();                                                                \
            fuzz_trace_event(__VA_ARGS__);                                                  \
        } else {                                                                            \
            fuzz_trace_set_thread("main");                                                  \
            fuzz_trace_event(__VA_ARGS__);                                                  \
        }                                                                                   \
    } while (0)

static __attribute__((noinline)) void trace_enter(void)
{
    if (w.deterministic && w.recording) {
        trace_prepare();
        current_label()->depth++;
        fuzz_trace_enter();
    }
}

static __attribute__((noinline)) void trace_leave(void)
{
    if (w.deterministic && w.recording) {
        trace_prepare();
        label_t *l = current_label();
        if (l->depth > 0) {
            l->depth--;
            fuzz_trace_leave();
        }
    }
}

static __attribute__((noinline)) void fold(worker_t *wk, uint64_t value)
{
    for (unsigned i = 0; i < 8; i++) {
        wk->results = (wk->results ^ ((value >> (8 * i)) & 0xff)) * 0x100000001b3ull;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Epochs, pairs, contexts                                                                    */
/* ------------------------------------------------------------------------------------------ */

static const char *epoch_role(const epoch_t *e)
{
    return e->is_client ? "C" : "P";
}

/* The epoch whose characteristics embed this registration instance; NULL if none does. */
static __attribute__((noinline))
epoch_t *epoch_from_instance(PNPI_REGISTRATION_INSTANCE instance, bool client)
{
    size_t offset = client ? offsetof(epoch_t, chars.client.ClientRegistrationInstance)
                           : offsetof(epoch_t, chars.provider.ProviderRegistrationInstance);
    uintptr_t base = (uintptr_t)&w.epochs[0];
    uintptr_t p = (uintptr_t)instance;
    if (p < base + offset) {
        return NULL;
    }
    uintptr_t index = (p - base - offset) / sizeof(epoch_t);
    if (index >= atomic_load(&w.epoch_count) || (uintptr_t)&w.epochs[index] + offset != p ||
        w.epochs[index].is_client != client) {
        return NULL;
    }
    return &w.epochs[index];
}

static __attribute__((noinline))
epoch_t *epoch_from_context(PVOID context, bool client, const char *callback)
{
    epoch_t *e = context;
    uintptr_t base = (uintptr_t)&w.epochs[0], p = (uintptr_t)context;
    if (p < base || p >= base + sizeof(w.epochs) || (p - base) % sizeof(epoch_t) != 0 ||
        e->index >= atomic_load(&w.epoch_count) || e->is_client != client) {
        fuzz_oracle_fail("%s: context %p is not a %s registration context of this input", callback,
                    context, client ? "client" : "provider");
    }
    return e;
}

static __attribute__((noinline))
side_ctx_t *side_from_context(PVOID context, unsigned side, const char *callback)
{
    side_ctx_t *ctx = context;
    if (ctx == NULL || ctx->magic != CONTEXT_MAGIC || ctx->side != side ||
        ctx->pair >= atomic_load(&w.pair_count)) {
        fuzz_oracle_fail("%s: %p is not a live %s binding context (freed, or another side's)",
                    callback, context, side == 0 ? "client" : "provider");
    }
    return ctx;
}

/* Every callback starts here: no callback may reach an epoch whose wait returned. */
static __attribute__((noinline)) void callback_enter(epoch_t *e, const char *callback)
{
    atomic_fetch_add(&w.callbacks, 1);
    if (atomic_load(&e->waited)) {
        fuzz_oracle_fail("%s reached %s%u (registration #%u of the slot) after its "
                    "NmrWaitFor*DeregisterComplete returned",
                    callback, epoch_role(e), e->slot & 1, e->gen);
    }
    atomic_fetch_add(&e->in_callback, 1);
}

static void callback_leave(epoch_t *e)
{
    atomic_fetch_sub(&e->in_callback, 1);
}

static __attribute__((noinline)) unsigned pair_new(unsigned client_epoch, unsigned provider_epoch)
{
    unsigned index = atomic_fetch_add(&w.pair_count, 1);
    if (index >= MAX_PAIRS) {
        atomic_store(&w.pair_count, MAX_PAIRS);
        return MAX_PAIRS;
    }
    pair_t *p = &w.pairs[index];
    p->client_epoch = client_epoch;
    p->provider_epoch = provider_epoch;
    atomic_store(&p->side[0], SIDE_NONE);
    atomic_store(&p->side[1], SIDE_NONE);
    atomic_store(&p->cleaned[0], 0);
    atomic_store(&p->cleaned[1], 0);
    atomic_store(&p->attach_returned, false);
    return index;
}

static __attribute__((noinline)) side_ctx_t *context_new(unsigned pair, unsigned epoch,
                                                         unsigned side)
{
    side_ctx_t *ctx = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*ctx), CONTEXT_TAG);
    if (ctx != NULL) {
        ctx->magic = CONTEXT_MAGIC;
        ctx->pair = pair;
        ctx->epoch = epoch;
        ctx->side = side;
        InitializeListHead(&ctx->queue_link);
    }
    return ctx;
}

static __attribute__((noinline)) void context_free(side_ctx_t *ctx)
{
    if (ctx->item != NULL) {
        IoFreeWorkItem(ctx->item);
    }
    ctx->magic = 0;
    ExFreePoolWithTag(ctx, CONTEXT_TAG);
}

/* A module without a cleanup callback keeps its contexts until its wait returns. */
static __attribute__((noinline)) void keep_unclean(epoch_t *e, side_ctx_t *ctx)
{
    side_ctx_t *head = atomic_load(&e->unclean);
    do {
        ctx->next_unclean = head;
    } while (!atomic_compare_exchange_weak(&e->unclean, &head, ctx));
}

/* ------------------------------------------------------------------------------------------ */
/* Completions                                                                                */
/* ------------------------------------------------------------------------------------------ */

/* Mark the side complete and call Nmr*DetachComplete; ctx may be gone when this returns. */
static __attribute__((noinline)) void complete_side(side_ctx_t *ctx, const char *by)
{
    pair_t *p = &w.pairs[ctx->pair];
    unsigned side = ctx->side;
    HANDLE handle = ctx->binding_handle;
    unsigned pair = ctx->pair;
    unsigned char expected = SIDE_PENDING;
    if (!atomic_compare_exchange_strong(&p->side[side], &expected, SIDE_COMPLETE)) {
        fuzz_oracle_fail("pair b%u: completing the %s side (%s) found it %s, not pending", pair,
                    side == 0 ? "client" : "provider", by, side_state_names[expected]);
    }
    TRACE("%s(b%u %s side) [%s]",
          side == 0 ? "NmrClientDetachProviderComplete" : "NmrProviderDetachClientComplete", pair,
          side == 0 ? "client" : "provider", by);
    trace_enter();
    if (side == 0) {
        NmrClientDetachProviderComplete(handle);
    } else {
        NmrProviderDetachClientComplete(handle);
    }
    trace_leave();
}

static __attribute__((noinline)) void drain_queue(const char *by)
{
    for (;;) {
        KIRQL old_irql;
        KeAcquireSpinLock(&w.queue_lock, &old_irql);
        if (IsListEmpty(&w.queue)) {
            KeReleaseSpinLock(&w.queue_lock, old_irql);
            return;
        }
        side_ctx_t *ctx = CONTAINING_RECORD(RemoveHeadList(&w.queue), side_ctx_t, queue_link);
        KeReleaseSpinLock(&w.queue_lock, old_irql);
        complete_side(ctx, by);
    }
}

static void enqueue_completion(side_ctx_t *ctx)
{
    KIRQL old_irql;
    KeAcquireSpinLock(&w.queue_lock, &old_irql);
    InsertTailList(&w.queue, &ctx->queue_link);
    KeReleaseSpinLock(&w.queue_lock, old_irql);
    if (w.completer) {
        KeSetEvent(&w.queue_event, IO_NO_INCREMENT, FALSE);
    }
}

static VOID work_item_routine(PDEVICE_OBJECT device, PVOID context)
{
    side_ctx_t *ctx = context;
    if (ctx == NULL || ctx->magic != CONTEXT_MAGIC) {
        fuzz_oracle_fail("work item: %p is not a live binding context", context);
    }
    unsigned serial = ctx->item_serial;
    label_set(work_item_names[serial % 16]);
    TRACE("work item wi%u runs", serial);
    PIO_WORKITEM own_item = ctx->routine_item;
    if (own_item != NULL) {
        /* The routine owns its item: freeing it inside the routine is allowed. */
        ctx->routine_item = NULL;
        IoFreeWorkItem(own_item);
    }
    complete_side(ctx, "work item"); /* ctx may be freed from here on */
    label_release();
}

/* ------------------------------------------------------------------------------------------ */
/* Callbacks                                                                                  */
/* ------------------------------------------------------------------------------------------ */

static __attribute__((noinline)) const dispatch_table_t *dispatch_of(const epoch_t *e)
{
    return &w.slots[e->slot].dispatch;
}

static bool declines(const epoch_t *self, const epoch_t *peer)
{
    return self->policy == POLICY_DECLINE_ALL ||
           (self->policy == POLICY_DECLINE_ONE && (peer->slot & 1) == 1);
}

/* Checks common to both attach callbacks. */
static __attribute__((noinline)) void check_attach_pair(const epoch_t *c, const epoch_t *p,
                                                        const char *callback)
{
    if (c->npi != p->npi) {
        fuzz_oracle_fail("%s: C%u#%u (NPI %u) and P%u#%u (NPI %u) bind across NPIs", callback,
                    c->slot & 1, c->gen, c->npi, p->slot & 1, p->gen, p->npi);
    }
    if (atomic_load(&p->waited) || atomic_load(&c->waited)) {
        fuzz_oracle_fail("%s: C%u#%u with P%u#%u, one of which already ended its registration",
                    callback, c->slot & 1, c->gen, p->slot & 1, p->gen);
    }
    unsigned long c_dereg = atomic_load(&c->dereg_done), p_dereg = atomic_load(&p->dereg_done);
    if ((p_dereg != 0 && p_dereg < atomic_load(&c->reg_start)) ||
        (c_dereg != 0 && c_dereg < atomic_load(&p->reg_start))) {
        fuzz_oracle_fail("%s: C%u#%u with P%u#%u, but one had finished NmrDeregister* before the "
                    "other began NmrRegister*",
                    callback, c->slot & 1, c->gen, p->slot & 1, p->gen);
    }
}

static NTSTATUS client_attach_provider(HANDLE NmrBindingHandle, PVOID ClientContext,
                                       PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    const char *callback = "ClientAttachProvider";
    epoch_t *c = epoch_from_context(ClientContext, true, callback);
    callback_enter(c, callback);
    epoch_t *p = epoch_from_instance(ProviderRegistrationInstance, false);
    if (p == NULL) {
        fuzz_oracle_fail("%s: C%u#%u received a provider instance %p that is no provider "
                    "registration's own",
                    callback, c->slot & 1, c->gen, (const void *)ProviderRegistrationInstance);
    }
    TRACE("%s C%u#%u <- P%u#%u", callback, c->slot & 1, c->gen, p->slot & 1, p->gen);
    trace_enter();
    unsigned char was = atomic_exchange(&w.attach_called[c->index][p->index], 1);
    if (was) {
        fuzz_oracle_fail("%s: C%u#%u and P%u#%u attach a second time", callback, c->slot & 1, c->gen,
                    p->slot & 1, p->gen);
    }
    check_attach_pair(c, p, callback);

    NTSTATUS status = STATUS_NOINTERFACE;
    unsigned pair = MAX_PAIRS;
    if (!declines(c, p)) {
        pair = pair_new(c->index, p->index);
    }
    if (pair == MAX_PAIRS) {
        TRACE("declines%s", declines(c, p) ? "" : " (pair table full)");
        trace_leave();
        callback_leave(c);
        return STATUS_NOINTERFACE;
    }
    side_ctx_t *ctx = context_new(pair, c->index, 0);
    if (ctx == NULL) {
        fuzz_oracle_fail("%s: binding context allocation failed without a fault plan", callback);
    }
    PVOID provider_context = NULL;
    const VOID *provider_dispatch = NULL;
    ctx->binding_handle = NmrBindingHandle;
    TRACE("NmrClientAttachProvider(b%u)", pair);
    trace_enter();
    status = NmrClientAttachProvider(NmrBindingHandle, ctx, dispatch_of(c), &provider_context,
                                     &provider_dispatch);
    trace_leave();
    TRACE("-> %s", fuzz_status_str(status));
    pair_t *pr = &w.pairs[pair];
    if (status == STATUS_SUCCESS) {
        side_ctx_t *pctx = side_from_context(provider_context, 1, "NmrClientAttachProvider");
        const dispatch_table_t *pd = provider_dispatch;
        if (pctx->pair != pair || pd != dispatch_of(p) || pd->magic != DISPATCH_MAGIC) {
            fuzz_oracle_fail("NmrClientAttachProvider: b%u returned another binding's provider "
                        "context or dispatch",
                        pair);
        }
        atomic_store(&pr->side[0], SIDE_ATTACHED);
        atomic_fetch_add(&c->attached, 1);
        if (!c->has_cleanup) {
            keep_unclean(c, ctx);
        }
    } else if (status == STATUS_NOINTERFACE) {
        if (!declines(p, c)) {
            fuzz_oracle_fail("NmrClientAttachProvider: STATUS_NOINTERFACE but P%u#%u accepts C%u#%u",
                        p->slot & 1, p->gen, c->slot & 1, c->gen);
        }
        context_free(ctx);
    } else {
        fuzz_oracle_fail("NmrClientAttachProvider returned %s; the provider only accepts or declines",
                    fuzz_status_str(status));
    }
    trace_leave();
    if (status == STATUS_SUCCESS) {
        /* The last statement before returning: a detach may follow at once. */
        atomic_store(&pr->attach_returned, true);
    }
    callback_leave(c);
    return status;
}

static NTSTATUS provider_attach_client(HANDLE NmrBindingHandle, PVOID ProviderContext,
                                       PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
                                       PVOID ClientBindingContext, const VOID *ClientDispatch,
                                       PVOID *ProviderBindingContext,
                                       const VOID **ProviderDispatch)
{
    const char *callback = "ProviderAttachClient";
    epoch_t *p = epoch_from_context(ProviderContext, false, callback);
    callback_enter(p, callback);
    epoch_t *c = epoch_from_instance(ClientRegistrationInstance, true);
    if (c == NULL) {
        fuzz_oracle_fail("%s: P%u#%u received a client instance that is no client registration's own",
                    callback, p->slot & 1, p->gen);
    }
    side_ctx_t *cctx = side_from_context(ClientBindingContext, 0, callback);
    const pair_t *pr = &w.pairs[cctx->pair];
    if (pr->client_epoch != c->index || pr->provider_epoch != p->index ||
        ClientDispatch != dispatch_of(c)) {
        fuzz_oracle_fail("%s: P%u#%u got C%u#%u's instance with another binding's client context or "
                    "dispatch",
                    callback, p->slot & 1, p->gen, c->slot & 1, c->gen);
    }
    TRACE("%s P%u#%u <- C%u#%u (b%u)", callback, p->slot & 1, p->gen, c->slot & 1, c->gen,
          cctx->pair);
    check_attach_pair(c, p, callback);
    if (declines(p, c)) {
        TRACE("declines");
        callback_leave(p);
        return STATUS_NOINTERFACE;
    }
    side_ctx_t *ctx = context_new(cctx->pair, p->index, 1);
    if (ctx == NULL) {
        fuzz_oracle_fail("%s: binding context allocation failed without a fault plan", callback);
    }
    ctx->binding_handle = NmrBindingHandle;
    atomic_store(&w.pairs[cctx->pair].side[1], SIDE_ATTACHED);
    atomic_fetch_add(&p->attached, 1);
    if (!p->has_cleanup) {
        keep_unclean(p, ctx);
    }
    *ProviderBindingContext = ctx;
    *ProviderDispatch = dispatch_of(p);
    TRACE("accepts");
    callback_leave(p);
    return STATUS_SUCCESS;
}

static NTSTATUS detach_callback(PVOID context, unsigned side)
{
    const char *callback = side == 0 ? "ClientDetachProvider" : "ProviderDetachClient";
    side_ctx_t *ctx = side_from_context(context, side, callback);
    epoch_t *e = &w.epochs[ctx->epoch];
    pair_t *pr = &w.pairs[ctx->pair];
    unsigned pair = ctx->pair;
    callback_enter(e, callback);
    TRACE("%s %s%u#%u (b%u) at IRQL %u", callback, epoch_role(e), e->slot & 1, e->gen, pair,
          (unsigned)KeGetCurrentIrql());
    trace_enter();
    if (!atomic_load(&pr->attach_returned)) {
        fuzz_oracle_fail("%s: b%u detached before its ClientAttachProvider returned", callback, pair);
    }
    const epoch_t *c = &w.epochs[pr->client_epoch], *p = &w.epochs[pr->provider_epoch];
    if (atomic_load(&c->dereg_start) == 0 && atomic_load(&p->dereg_start) == 0) {
        fuzz_oracle_fail("%s: b%u detached while neither C%u#%u nor P%u#%u began deregistering",
                    callback, pair, c->slot & 1, c->gen, p->slot & 1, p->gen);
    }
    unsigned char expected = SIDE_ATTACHED;
    if (!atomic_compare_exchange_strong(&pr->side[side], &expected, SIDE_DETACHING)) {
        fuzz_oracle_fail("%s: b%u's %s side is %s: a second detach, or one for a binding that never "
                    "attached",
                    callback, pair, side == 0 ? "client" : "provider",
                    side_state_names[expected]);
    }
    atomic_fetch_add(&e->detached, 1);

    NTSTATUS status = STATUS_PENDING;
    detach_mode_t mode = e->detach_mode;
    if (mode == DETACH_WORK_ITEM) {
        PIO_WORKITEM item = IoAllocateWorkItem(fuzz_device);
        if (item == NULL) {
            fuzz_oracle_fail("%s: IoAllocateWorkItem failed without a fault plan", callback);
        }
        unsigned serial = atomic_fetch_add(&w.work_items, 1);
        ctx->item_serial = serial;
        if (e->item_in_context) {
            ctx->item = item;
        } else {
            ctx->routine_item = item;
        }
        atomic_store(&pr->side[side], SIDE_PENDING);
        TRACE("queue work item wi%u (%s frees it), return STATUS_PENDING", serial,
              e->item_in_context ? "the context" : "its routine");
        /* From here on the routine may complete the side and free ctx at any time. */
        IoQueueWorkItem(item, work_item_routine, DelayedWorkQueue, ctx);
        trace_leave();
        callback_leave(e);
        return STATUS_PENDING;
    }
    if (mode == DETACH_QUEUED) {
        atomic_store(&pr->side[side], SIDE_PENDING);
        TRACE("queue the completion, return STATUS_PENDING");
        enqueue_completion(ctx); /* ctx may be freed from here on */
        trace_leave();
        callback_leave(e);
        return STATUS_PENDING;
    }
    if (mode == DETACH_INLINE) {
        atomic_store(&pr->side[side], SIDE_PENDING);
        complete_side(ctx, "inside the detach callback");
    } else {
        atomic_store(&pr->side[side], SIDE_COMPLETE);
        status = STATUS_SUCCESS;
    }
    TRACE("return %s", fuzz_status_str(status));
    trace_leave();
    callback_leave(e);
    return status;
}

static NTSTATUS client_detach_provider(PVOID ClientBindingContext)
{
    return detach_callback(ClientBindingContext, 0);
}

static NTSTATUS provider_detach_client(PVOID ProviderBindingContext)
{
    return detach_callback(ProviderBindingContext, 1);
}

static void cleanup_callback(PVOID context, unsigned side)
{
    const char *callback = side == 0 ? "ClientCleanupBindingContext" : "ProviderCleanupBindingContext";
    side_ctx_t *ctx = side_from_context(context, side, callback);
    epoch_t *e = &w.epochs[ctx->epoch];
    pair_t *pr = &w.pairs[ctx->pair];
    callback_enter(e, callback);
    TRACE("%s %s%u#%u (b%u)", callback, epoch_role(e), e->slot & 1, e->gen, ctx->pair);
    if (!e->has_cleanup) {
        fuzz_oracle_fail("%s: called for %s%u#%u, which registered no cleanup callback", callback,
                    epoch_role(e), e->slot & 1, e->gen);
    }
    unsigned char client = atomic_load(&pr->side[0]), provider = atomic_load(&pr->side[1]);
    if (client != SIDE_COMPLETE || provider != SIDE_COMPLETE) {
        fuzz_oracle_fail("%s: b%u cleaned up while its client side is %s and its provider side %s",
                    callback, ctx->pair, side_state_names[client], side_state_names[provider]);
    }
    if (atomic_fetch_add(&pr->cleaned[side], 1) != 0) {
        fuzz_oracle_fail("%s: b%u's %s side cleaned up twice", callback, ctx->pair,
                    side == 0 ? "client" : "provider");
    }
    atomic_fetch_add(&e->cleaned, 1);
    context_free(ctx);
    callback_leave(e);
}

static VOID client_cleanup_binding_context(PVOID ClientBindingContext)
{
    cleanup_callback(ClientBindingContext, 0);
}

static VOID provider_cleanup_binding_context(PVOID ProviderBindingContext)
{
    cleanup_callback(ProviderBindingContext, 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Operations (on the slot's owner)                                                           */
/* ------------------------------------------------------------------------------------------ */

/* The callbacks of every fake module of this target (fuzz_module.h). */
static const fuzz_module_callbacks_t module_callbacks = FUZZ_MODULE_CALLBACKS;

static void fill_epoch(epoch_t *e, slot_t *s, unsigned slot_index, uint8_t behaviour)
{
    unsigned index = e->index;
    kshim_unchecked_memset(e, 0, offsetof(epoch_t, reg_start)); /* w.epochs[], index checked */
    e->index = index;
    e->slot = slot_index;
    e->gen = ++s->gen;
    e->is_client = s->is_client;
    e->npi = w.npi_count == 2 ? (behaviour >> 5) & 1 : 0;
    unsigned policy = behaviour & 3;
    e->policy = policy <= 1 ? POLICY_ACCEPT : policy == 2 ? POLICY_DECLINE_ONE : POLICY_DECLINE_ALL;
    e->detach_mode = (detach_mode_t)((behaviour >> 2) & 3);
    e->has_cleanup = (behaviour & 0x10) == 0;
    e->item_in_context = (behaviour & 0x40) != 0;
    e->resident = (behaviour & 0x80) != 0;
    e->module_id.Length = sizeof(NPI_MODULEID);
    e->module_id.Type = MIT_GUID;
    e->module_id.Guid.Data1 = 0x46757a7a; /* "Fuzz" */
    e->module_id.Guid.Data2 = (USHORT)slot_index;
    e->module_id.Guid.Data3 = (USHORT)e->gen;
    fuzz_characteristics_fill(&e->chars, e->is_client, &module_callbacks, e->has_cleanup,
                              &npi_ids[e->npi], &e->module_id);
    atomic_store(&e->reg_start, 0);
    atomic_store(&e->reg_done, 0);
    atomic_store(&e->dereg_start, 0);
    atomic_store(&e->dereg_done, 0);
    atomic_store(&e->waited, false);
    atomic_store(&e->attached, 0);
    atomic_store(&e->detached, 0);
    atomic_store(&e->cleaned, 0);
    atomic_store(&e->in_callback, 0);
    atomic_store(&e->unclean, NULL);
}

/*
 * Reference check when NmrRegister* returns: every peer of the NPI whose own NmrRegister*
 * had returned and which has not begun deregistering got ClientAttachProvider (whichever of
 * the two published later proposed the binding and attached it inside its call).
 */
static __attribute__((noinline)) void check_attaches_after_register(const epoch_t *e)
{
    unsigned count = atomic_load(&w.epoch_count);
    for (unsigned i = 0; i < count && i < MAX_EPOCHS; i++) {
        const epoch_t *f = &w.epochs[i];
        /* reg_done first: its owner wrote the plain fields before storing it. */
        if (f == e || atomic_load(&f->reg_done) == 0 || f->is_client == e->is_client ||
            f->npi != e->npi) {
            continue;
        }
        if (atomic_load(&f->dereg_start) != 0) {
            continue;
        }
        const epoch_t *c = e->is_client ? e : f, *p = e->is_client ? f : e;
        if (!atomic_load(&w.attach_called[c->index][p->index])) {
            fuzz_oracle_fail("%s returned, but C%u#%u and P%u#%u (same NPI, both registered, "
                        "neither deregistering) never got ClientAttachProvider",
                        e->is_client ? "NmrRegisterClient" : "NmrRegisterProvider", c->slot & 1,
                        c->gen, p->slot & 1, p->gen);
        }
    }
}

static __attribute__((noinline)) void do_register(worker_t *wk, unsigned slot_index,
                                                  uint8_t behaviour)
{
    slot_t *s = &w.slots[slot_index];
    unsigned index = atomic_fetch_add(&w.epoch_count, 1);
    if (index >= MAX_EPOCHS) {
        atomic_store(&w.epoch_count, MAX_EPOCHS);
        TRACE("%s: register skipped (epoch table full)", s->name);
        return;
    }
    epoch_t *e = &w.epochs[index];
    e->index = index;
    fill_epoch(e, s, slot_index, behaviour);
    const char *function = s->is_client ? "NmrRegisterClient" : "NmrRegisterProvider";
    TRACE("%s(%s#%u npi%u %s detach=%s cleanup=%s%s%s)", function, s->name, e->gen, e->npi,
          policy_names[e->policy], detach_names[e->detach_mode], e->has_cleanup ? "yes" : "no",
          e->detach_mode == DETACH_WORK_ITEM && e->item_in_context ? " item-in-context" : "",
          e->resident ? " resident" : "");
    trace_enter();
    atomic_store(&e->reg_start, stamp());
    HANDLE handle = NULL;
    NTSTATUS status = fuzz_module_register(&e->chars, s->is_client, e, &handle);
    atomic_store(&e->reg_done, stamp());
    trace_leave();
    TRACE("-> %s", fuzz_status_str(status));
    if (status != STATUS_SUCCESS || handle == NULL) {
        fuzz_oracle_fail("%s(%s#%u) returned %s (handle %p) without a fault plan", function, s->name,
                    e->gen, fuzz_status_str(status), (void *)handle);
    }
    e->handle = handle;
    s->epoch = e;
    s->state = SLOT_REGISTERED;
    check_attaches_after_register(e);
    fold(wk, ((uint64_t)slot_index << 40) | ((uint64_t)OP_REGISTER << 32) | (uint32_t)status);
}

static __attribute__((noinline)) void do_deregister(worker_t *wk, unsigned slot_index,
                                                    bool at_dispatch)
{
    slot_t *s = &w.slots[slot_index];
    epoch_t *e = s->epoch;
    const char *function = s->is_client ? "NmrDeregisterClient" : "NmrDeregisterProvider";
    TRACE("%s(%s#%u)%s", function, s->name, e->gen, at_dispatch ? " at DISPATCH_LEVEL" : "");
    trace_enter();
    atomic_store(&e->dereg_start, stamp());
    KIRQL old_irql = PASSIVE_LEVEL;
    if (at_dispatch) {
        KeRaiseIrql(DISPATCH_LEVEL, &old_irql);
    }
    NTSTATUS status = fuzz_module_deregister(s->is_client, e->handle);
    if (at_dispatch) {
        KeLowerIrql(old_irql);
    }
    atomic_store(&e->dereg_done, stamp());
    trace_leave();
    TRACE("-> %s", fuzz_status_str(status));
    if (status != STATUS_PENDING) {
        fuzz_oracle_fail("%s(%s#%u) returned %s, not STATUS_PENDING", function, s->name, e->gen,
                    fuzz_status_str(status));
    }
    s->state = SLOT_DEREGISTERING;
    if (wk != NULL) {
        fold(wk, ((uint64_t)slot_index << 40) | ((uint64_t)OP_DEREGISTER << 32) | (uint32_t)status);
    }
}

/* The wait returned: the epoch is over; check its books and free what the module kept. */
static __attribute__((noinline)) void wait_returned(epoch_t *e)
{
    atomic_store(&e->waited, true);
    unsigned attached = atomic_load(&e->attached), detached = atomic_load(&e->detached);
    unsigned cleaned = atomic_load(&e->cleaned), running = atomic_load(&e->in_callback);
    const char *name = slot_names[e->slot];
    if (running != 0) {
        fuzz_oracle_fail("NmrWaitFor*(%s#%u) returned while %u of its callbacks still run", name,
                    e->gen, running);
    }
    if (detached != attached) {
        fuzz_oracle_fail("NmrWaitFor*(%s#%u) returned after %u detach(es) for %u attached binding(s)",
                    name, e->gen, detached, attached);
    }
    if (cleaned != (e->has_cleanup ? attached : 0)) {
        fuzz_oracle_fail("NmrWaitFor*(%s#%u) returned after %u cleanup(s) for %u attached binding(s) "
                    "(cleanup callback %s)",
                    name, e->gen, cleaned, attached, e->has_cleanup ? "registered" : "absent");
    }
    for (side_ctx_t *ctx = atomic_exchange(&e->unclean, NULL), *next; ctx != NULL; ctx = next) {
        next = ctx->next_unclean;
        unsigned char state = atomic_load(&w.pairs[ctx->pair].side[ctx->side]);
        if (state != SIDE_COMPLETE) {
            fuzz_oracle_fail("NmrWaitFor*(%s#%u) returned while b%u's %s side is %s", name, e->gen,
                        ctx->pair, ctx->side == 0 ? "client" : "provider",
                        side_state_names[state]);
        }
        context_free(ctx);
    }
}

static __attribute__((noinline)) void do_wait(worker_t *wk, unsigned slot_index)
{
    slot_t *s = &w.slots[slot_index];
    epoch_t *e = s->epoch;
    if (!w.completer) {
        drain_queue("drained before the wait");
    }
    const char *function =
        s->is_client ? "NmrWaitForClientDeregisterComplete" : "NmrWaitForProviderDeregisterComplete";
    TRACE("%s(%s#%u)", function, s->name, e->gen);
    trace_enter();
    NTSTATUS status = fuzz_module_wait(s->is_client, e->handle);
    trace_leave();
    TRACE("-> %s", fuzz_status_str(status));
    if (status != STATUS_SUCCESS) {
        fuzz_oracle_fail("%s(%s#%u) returned %s after the deregistration", function, s->name, e->gen,
                    fuzz_status_str(status));
    }
    wait_returned(e);
    s->state = SLOT_FREE;
    s->epoch = NULL;
    if (wk != NULL) {
        fold(wk, ((uint64_t)slot_index << 40) | ((uint64_t)OP_WAIT << 32) | (uint32_t)status);
    }
}

static void run_op(worker_t *wk, const op_t *op)
{
    slot_t *s = &w.slots[op->slot];
    bool done = true;
    switch ((op_kind_t)op->kind) {
    case OP_REGISTER:
        if (s->state == SLOT_FREE) {
            do_register(wk, op->slot, op->behaviour);
        } else {
            done = false;
        }
        break;
    case OP_DEREGISTER:
    case OP_DEREGISTER_AT_DISPATCH:
        if (s->state == SLOT_REGISTERED) {
            do_deregister(wk, op->slot, op->kind == OP_DEREGISTER_AT_DISPATCH);
        } else {
            done = false;
        }
        break;
    case OP_WAIT:
        if (s->state == SLOT_DEREGISTERING) {
            do_wait(wk, op->slot);
        } else {
            done = false;
        }
        break;
    case OP_REREGISTER:
    case OP_UNLOAD:
        if (s->state == SLOT_REGISTERED) {
            do_deregister(wk, op->slot, false);
        }
        if (s->state == SLOT_DEREGISTERING) {
            do_wait(wk, op->slot);
        }
        if (op->kind == OP_REREGISTER) {
            do_register(wk, op->slot, op->behaviour);
        }
        break;
    case OP_DRAIN:
        TRACE("drain the completion queue");
        trace_enter();
        drain_queue("drained by an operation");
        trace_leave();
        break;
    case OP_YIELD:
        for (unsigned i = 0; i <= op->arg; i++) {
            kshim_sched_yield();
        }
        break;
    default:
        done = false;
        break;
    }
    if (!done) {
        TRACE("%s %s: skipped (slot %s)", s->name, op_names[op->kind],
              s->state == SLOT_FREE ? "unregistered" : s->state == SLOT_REGISTERED
                                                           ? "registered"
                                                           : "deregistering");
    } else {
        wk->ops_done++;
    }
    fold(wk, ((uint64_t)done << 16) | ((uint64_t)op->kind << 8) | op->slot);
}

static void worker_unload(worker_t *wk);

static void worker_main(void *arg)
{
    worker_t *wk = arg;
    label_set(wk->name);
    TRACE("%s starts: %u operation(s)", wk->name, wk->op_count);
    for (unsigned i = 0; i < wk->op_count; i++) {
        run_op(wk, &wk->ops[i]);
    }
    worker_unload(wk);
}

/* The end of a worker: deregister every registered slot of its own except residents, then
   wait for them all, drain the queue without a completer, and check the IRQL. Bookkeeping
   over the fixed slots: the NMR calls it makes (do_deregister, do_wait, complete_side) show
   their own edges. */
static __attribute__((noinline)) void worker_unload(worker_t *wk)
{
    TRACE("%s: end of operations, unload", wk->name);
    for (unsigned k = wk->index; k < SLOT_COUNT; k += w.worker_count) {
        slot_t *s = &w.slots[k];
        if (s->state == SLOT_REGISTERED && !s->epoch->resident) {
            do_deregister(wk, k, false);
        }
    }
    for (unsigned k = wk->index; k < SLOT_COUNT; k += w.worker_count) {
        if (w.slots[k].state == SLOT_DEREGISTERING) {
            do_wait(wk, k);
        }
    }
    if (!w.completer) {
        drain_queue("drained at the end of the thread");
    }
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        fuzz_oracle_fail("%s ends at IRQL %u", wk->name, (unsigned)KeGetCurrentIrql());
    }
    TRACE("%s ends", wk->name);
    label_release();
}

static void completer_main(void *arg)
{
    (void)arg;
    label_set("completer");
    for (;;) {
        NTSTATUS status =
            KeWaitForSingleObject(&w.queue_event, Executive, KernelMode, FALSE, NULL);
        if (status != STATUS_SUCCESS) {
            fuzz_oracle_fail("completer: KeWaitForSingleObject returned %s", fuzz_status_str(status));
        }
        drain_queue("completer");
        if (atomic_load(&w.completer_stop)) {
            drain_queue("completer");
            break;
        }
    }
    TRACE("completer ends");
    label_release();
}

/* ------------------------------------------------------------------------------------------ */
/* One input                                                                                  */
/* ------------------------------------------------------------------------------------------ */

static void on_deadlock(void)
{
    nmr_report_blocked_waits();
    fflush(stdout);
    if (w.recording) {
        fprintf(stderr, "--- last events of the input:\n");
        fuzz_trace_print_recent(stderr);
    } else {
        fprintf(stderr, "--- replay the input to see its last events\n");
    }
    fflush(stderr);
}

static __attribute__((noinline)) void world_reset(void)
{
    /* Only the part of the big tables that the previous input used. */
    unsigned used = previous_epoch_count;
    for (unsigned i = 0; i < used; i++) {
        kshim_unchecked_memset(w.attach_called[i], 0, used); /* static, used <= MAX_EPOCHS */
        /* Another worker may look at an epoch between its allocation and its filling:
           reg_done == 0 must then say "not registered", not the previous input's stamp. */
        atomic_store(&w.epochs[i].reg_done, 0);
    }
    /* Static arrays, each with its own sizeof. */
    kshim_unchecked_memset(w.workers, 0, sizeof w.workers);
    kshim_unchecked_memset(w.slots, 0, sizeof w.slots);
    kshim_unchecked_memset(w.labels, 0, sizeof w.labels);
    atomic_store(&w.epoch_count, 0);
    atomic_store(&w.pair_count, 0);
    atomic_store(&w.seq, 0);
    atomic_store(&w.work_items, 0);
    atomic_store(&w.callbacks, 0);
    atomic_store(&w.completer_stop, false);
    w.completer_thread = NULL;
    w.last_label = NULL;
    w.found_label = NULL;
    for (unsigned k = 0; k < SLOT_COUNT; k++) {
        slot_t *s = &w.slots[k];
        s->name = slot_names[k];
        s->is_client = k < 2;
        s->state = SLOT_FREE;
        s->dispatch.magic = DISPATCH_MAGIC;
        s->dispatch.slot = k;
    }
    KeInitializeSpinLock(&w.queue_lock);
    InitializeListHead(&w.queue);
    KeInitializeEvent(&w.queue_event, SynchronizationEvent, FALSE);
}

/* ---- the input's decisions (labels and names of the input lines; header comment) ---- */

static const char *const no_yes[2] = {"no", "yes"};
static const fuzz_bits_t config_bits[7] = {
    {"workers", 1, (const char *const[]){"2", "3"}},
    {"npis", 1, (const char *const[]){"1", "2"}},
    {"completer", 1, no_yes},
    {"detach_at_dispatch", 1, no_yes},
    {"cleanup_at_dispatch", 1, no_yes},
    {"provider_detach_first", 1, no_yes},
    {"tail", 1, (const char *const[]){"first_runnable", "random"}},
};
static const fuzz_bits_t op_bits[3] = {
    {"slot", 2, slot_names},
    {"op", 3,
     (const char *const[]){"register", "deregister", "wait", "reregister", "drain", "yield",
                           "deregister_at_dispatch", "unload"}},
    {"arg", 3, NULL},
};
static const fuzz_bits_t behaviour_bits[6] = {
    {"attach", 2, (const char *const[]){"accept", "accept", "decline_slot1", "decline"}},
    {"detach", 2, (const char *const[]){"success", "work_item", "inline", "queued"}},
    {"cleanup", 1, (const char *const[]){"yes", "no"}},
    {"npi", 1, NULL},
    {"item_owner", 1, (const char *const[]){"routine", "context"}},
    {"resident", 1, no_yes},
};

static void trace_plan(void);

static void decode_program(const uint8_t *ops, size_t size)
{
    fuzz_input_t in;
    fuzz_input_init(&in, ops, size);
    fuzz_input_set_name(&in, "ops");
    while (!fuzz_input_exhausted(&in)) {
        unsigned o[3];
        fuzz_take_packed_as(&in, op_bits, 3, o);
        op_t op = {(uint8_t)o[1], (uint8_t)o[0], (uint8_t)o[2], 0};
        if (op.kind == OP_REGISTER || op.kind == OP_REREGISTER) {
            unsigned b[6];
            op.behaviour = (uint8_t)fuzz_take_packed_as(&in, behaviour_bits, 6, b);
        }
        worker_t *wk = &w.workers[op.slot % w.worker_count];
        if (wk->op_count < MAX_OPS) {
            wk->ops[wk->op_count++] = op;
        }
    }
    fuzz_input_finish(&in);
    trace_plan();
}

/* The decoded program as trace events, one per operation of each worker. */
static __attribute__((noinline)) void trace_plan(void)
{
    if (!w.recording) {
        return;
    }
    for (unsigned i = 0; i < w.worker_count; i++) {
        const worker_t *wk = &w.workers[i];
        for (unsigned j = 0; j < wk->op_count; j++) {
            const op_t *op = &wk->ops[j];
            if (op->kind == OP_REGISTER || op->kind == OP_REREGISTER) {
                uint8_t b = op->behaviour;
                unsigned policy = b & 3;
                TRACE_MAIN("plan %s #%u: %s %s npi%u %s detach=%s cleanup=%s%s%s", wk->name, j,
                           slot_names[op->slot], op_names[op->kind],
                           w.npi_count == 2 ? (b >> 5) & 1u : 0u,
                           policy_names[policy <= 1 ? 0 : policy - 1], detach_names[(b >> 2) & 3],
                           (b & 0x10) ? "no" : "yes",
                           ((b >> 2) & 3) == DETACH_WORK_ITEM && (b & 0x40) ? " item-in-context"
                                                                             : "",
                           (b & 0x80) ? " resident" : "");
            } else if (op->kind == OP_YIELD) {
                TRACE_MAIN("plan %s #%u: yield x%u", wk->name, j, op->arg + 1u);
            } else {
                TRACE_MAIN("plan %s #%u: %s %s", wk->name, j, slot_names[op->slot],
                           op_names[op->kind]);
            }
        }
    }
}

/* After the joins: main deregisters and waits for the residents. */
static __attribute__((noinline)) void unload_residents(void)
{
    for (unsigned k = 0; k < SLOT_COUNT; k++) {
        if (w.slots[k].state == SLOT_REGISTERED) {
            do_deregister(NULL, k, false);
        }
    }
    for (unsigned k = 0; k < SLOT_COUNT; k++) {
        if (w.slots[k].state == SLOT_DEREGISTERING) {
            do_wait(NULL, k);
        }
    }
}

static __attribute__((noinline)) void end_of_input_audit(void)
{
    unsigned epochs = atomic_load(&w.epoch_count);
    for (unsigned i = 0; i < epochs; i++) {
        const epoch_t *e = &w.epochs[i];
        if (!atomic_load(&e->waited)) {
            fuzz_oracle_fail("end of input: %s#%u was never waited for", slot_names[e->slot], e->gen);
        }
    }
    unsigned pairs = atomic_load(&w.pair_count);
    unsigned attached = 0;
    for (unsigned i = 0; i < pairs; i++) {
        const pair_t *p = &w.pairs[i];
        unsigned char c = atomic_load(&p->side[0]), v = atomic_load(&p->side[1]);
        if (c == SIDE_NONE && v == SIDE_NONE) {
            continue; /* declined */
        }
        attached++;
        if (c != SIDE_COMPLETE || v != SIDE_COMPLETE) {
            fuzz_oracle_fail("end of input: b%u has its client side %s and its provider side %s", i,
                        side_state_names[c], side_state_names[v]);
        }
        for (unsigned side = 0; side < 2; side++) {
            const epoch_t *e = &w.epochs[side == 0 ? p->client_epoch : p->provider_epoch];
            if (atomic_load(&p->cleaned[side]) != (e->has_cleanup ? 1u : 0u)) {
                fuzz_oracle_fail("end of input: b%u's %s side got %u cleanup(s)", i,
                            side == 0 ? "client" : "provider",
                            (unsigned)atomic_load(&p->cleaned[side]));
            }
        }
    }
    if (nmr_verifier_warning_count() != 0) {
        const char *rule = nmr_verifier_last_warning_rule();
        fuzz_oracle_fail("end of input: %lu verifier warning(s) (last %s) from contract-abiding modules",
                    (unsigned long)nmr_verifier_warning_count(), rule ? rule : "?");
    }
    static const fuzz_pool_tag_t module_tags[] = {{CONTEXT_TAG, "binding context(s)"}};
    fuzz_run_audit(module_tags, 1);
    if (w.deterministic) {
        uint64_t sched = kshim_sched_trace_hash();
        TRACE_MAIN("audit ok: %u binding(s) attached of %u attempt(s), %u callback(s), %u work "
                   "item(s); %u scheduling decision(s), %u schedule byte(s) used, schedule "
                   "hash %x%x",
                   attached, pairs, (unsigned)atomic_load(&w.callbacks),
                   (unsigned)atomic_load(&w.work_items), (unsigned)kshim_sched_decisions(),
                   schedule_bytes_used(), (unsigned)(sched >> 32), (unsigned)sched);
    } else {
        TRACE_MAIN("audit ok: %u registration(s)", epochs);
    }
}

/*
 * The input's frame: begin_input (the per-input reset), join_workers and end_input (main's
 * unload, the completer's stop and the end-of-input audit) do the same in every input, or
 * follow what the threads did, which the NMR's own edges show: out of line for the coverage
 * ignorelist.
 */
static __attribute__((noinline)) void begin_input(void)
{
    /* A libFuzzer run records no events (see w.recording), so its oracle failures show none:
       the replay of the input it saved shows them. */
    fuzz_trace_set_recent(false);
    w.recording = fuzz_trace_recording();
    fuzz_oracle_configure(thread_context, kshim_sched_is_deterministic() && w.recording);
    kshim_sched_reset();
    if (fuzz_device == NULL) {
        NTSTATUS status = IoCreateDevice(&fuzz_driver, 0, NULL, FILE_DEVICE_UNKNOWN, 0, FALSE,
                                         &fuzz_device);
        if (status != STATUS_SUCCESS) {
            fuzz_oracle_fail("harness: IoCreateDevice returned %s", fuzz_status_str(status));
        }
    }
    fuzz_run_begin(); /* after the device: it lives as long as the process */
    kshim_sched_set_deadlock_hook(on_deadlock);
    schedule_input.taken = 0; /* counted in every "~ X runs" event, the first one included */
    w.deterministic = kshim_sched_is_deterministic();
    world_reset();
    fuzz_trace_reset();
    label_set("main");
}

static __attribute__((noinline)) void join_workers(void)
{
    for (unsigned i = 0; i < w.worker_count; i++) {
        kshim_thread_join(w.workers[i].thread);
        w.workers[i].thread = NULL;
    }
    for (unsigned i = 0; i < w.worker_count; i++) {
        const worker_t *wk = &w.workers[i];
        TRACE_MAIN("%s joined: %u of %u operation(s) applied, results %x%x", wk->name,
                   wk->ops_done, wk->op_count, (unsigned)(wk->results >> 32),
                   (unsigned)wk->results);
    }
}

static __attribute__((noinline)) void end_input(void)
{
    unload_residents();
    if (w.completer) {
        atomic_store(&w.completer_stop, true);
        KeSetEvent(&w.queue_event, IO_NO_INCREMENT, FALSE);
        kshim_thread_join(w.completer_thread);
        w.completer_thread = NULL;
    } else {
        drain_queue("drained by main");
    }
    kshim_drain_pending_work();
    previous_epoch_count = atomic_load(&w.epoch_count);

    end_of_input_audit();
    kshim_sched_set_chooser(NULL, NULL);
    kshim_sched_set_schedule(NULL, 0);
    fuzz_input_finish(&schedule_input.in);
    fuzz_run_end();
    label_release();
    kshim_sched_reset();
}

/* The header's configuration: the verifier's settings (their effect is the NMR's own edges),
   the workers, and the completer (their effect is the threads' edges). */
static __attribute__((noinline)) void configure(uint8_t config, size_t op_bytes)
{
    w.worker_count = (config & 1) ? 3 : 2;
    w.npi_count = (config & 2) ? 2 : 1;
    w.completer = (config & 4) != 0;
    nmr_verifier_get_config(&w.config);
    w.config.warnings_are_fatal = FALSE;
    w.config.warnings_are_printed = TRUE;
    w.config.detach_at_dispatch = (config & 8) != 0;
    w.config.cleanup_at_dispatch = (config & 0x10) != 0;
    w.config.provider_detach_first = (config & 0x20) != 0;
    /* Fibers detect a deadlock exactly (no thread can run); real threads need the watchdog. */
    w.config.hang_timeout_ms = w.deterministic ? NMR_HANG_TIMEOUT_NONE : 0;
    nmr_verifier_set_config(&w.config);
    for (unsigned i = 0; i < w.worker_count; i++) {
        w.workers[i].index = i;
        w.workers[i].name = worker_names[i];
        w.workers[i].results = 0xcbf29ce484222325ull;
    }

    TRACE_MAIN("config: workers=%u npis=%u completer=%s detach_at_dispatch=%u "
               "cleanup_at_dispatch=%u provider_detach_first=%u; %u operation byte(s)",
               w.worker_count, w.npi_count, w.completer ? "yes" : "no",
               (unsigned)w.config.detach_at_dispatch, (unsigned)w.config.cleanup_at_dispatch,
               (unsigned)w.config.provider_detach_first, (unsigned)op_bytes);
}

static __attribute__((noinline)) void trace_schedule(size_t schedule_size, uint8_t config,
                                                     uint8_t seed)
{
    if (w.deterministic) {
        TRACE_MAIN("schedule: %u byte(s), then a %s tail (seed %u)", (unsigned)schedule_size,
                   (config & 0x40) ? "pseudo-random" : "first-runnable", (unsigned)seed);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    begin_input();

    /* The header (the main reader): configuration, operation section length, tail seed. */
    size_t header = size < HEADER_BYTES ? size : HEADER_BYTES;
    fuzz_input_t header_in;
    fuzz_input_init(&header_in, data, header);
    unsigned config_values[7];
    uint8_t config = (uint8_t)fuzz_take_packed_as(&header_in, config_bits, 7, config_values);
    size_t op_bytes = fuzz_take_length_u8(&header_in, "ops");
    uint8_t seed = fuzz_take_u8_as(&header_in, "tail_seed");
    fuzz_input_finish(&header_in);
    if (op_bytes > size - header) {
        op_bytes = size - header;
    }
    const uint8_t *ops = data + header;
    const uint8_t *schedule = ops + op_bytes;
    size_t schedule_rest = size - header - op_bytes;
    size_t schedule_size = schedule_rest < MAX_SCHEDULE ? schedule_rest : MAX_SCHEDULE;

    configure(config, op_bytes);
    decode_program(ops, op_bytes);
    trace_schedule(schedule_size, config, seed);
    /* The whole rest is the schedule region (the chooser uses at most MAX_SCHEDULE bytes;
       the text shows the others as unread). With real threads no chooser is called. */
    fuzz_input_init(&schedule_input.in, schedule, schedule_rest);
    fuzz_input_set_name(&schedule_input.in, "sched");
    kshim_sched_set_chooser(choose_from_input, NULL);
    kshim_sched_set_schedule(schedule_tail(seed, (config & 0x40) != 0), SCHEDULE_TAIL);

    if (w.completer) {
        w.completer_thread = kshim_thread_start("completer", completer_main, NULL);
    }
    for (unsigned i = 0; i < w.worker_count; i++) {
        w.workers[i].thread = kshim_thread_start(w.workers[i].name, worker_main, &w.workers[i]);
    }
    join_workers();
    end_input();
    return 0;
}
