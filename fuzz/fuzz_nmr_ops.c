/* SPDX-License-Identifier: MIT */
/*
 * fuzz_nmr_ops.c - operation-stream fuzz target of the registrar.
 *
 * The input is a program for a small world of fake NMR modules: up to 4 clients and 4
 * providers over 2 or 3 NPIs, registering, attaching (with input-chosen but contract-
 * abiding behaviour), deregistering, completing pending detaches and waiting, plus an
 * optional pool-allocation fault. Everything runs on one OS thread and deterministically:
 * pending detaches are completed later by operations of the stream itself (legal, since
 * DetachComplete may come from any thread), and an "interleave hook" lets an operation run
 * inside a chosen callback, the way another thread could act at that moment. The harness
 * never blocks: it waits for a deregistration only once its model says every binding of the
 * registration is cleaned up (forcing the pending completions first, or skipping the wait).
 *
 * The modules obey the NMR contract (nmr-spec.md section 3), so every verifier stop is a
 * finding. After every NMR call and every operation a reference model checks the registrar:
 *   - attach happens for exactly the pairs the model predicts (same NpiId, neither side
 *     deregistering), in registration order of the peers, in both registration orders, with
 *     the peer's own registration instance and the module's own context; different NPIs
 *     never bind; the registration handle is written only after the attaches; handles are
 *     never reused; NmrClientAttachProvider returns exactly the provider's status;
 *   - every attached binding gets exactly one detach per side (client first, or provider
 *     first with provider_detach_first), within the deregistration (or the late-comer's
 *     NmrRegister*) that started it; exactly one cleanup per side that has a cleanup
 *     callback, client first, only after both sides completed, inside the call that
 *     completed the last side; no callback for a failed attach; callbacks at the IRQL
 *     docs/behaviour.md gives;
 *   - no callback reaches a module after its wait returned; a wait returns STATUS_SUCCESS
 *     only after its bindings are cleaned up; NmrDeregister* returns STATUS_PENDING;
 *   - NmrRegister* returns STATUS_INSUFFICIENT_RESOURCES if and only if a fault was injected
 *     during the call, and then makes no callback; no other NMR call allocates;
 *   - verifier warnings are exactly the expected ones (A9 for provider errors, R8 for an
 *     early wait); nmr_live_object_count() equals the model's count after every operation.
 *   (After an operation that made no NMR call these checks are not repeated: the registrar
 *   has no thread, work item or timer of its own, so its state changes only inside a call,
 *   and the call-depth and IRQL checks still run.)
 * At the end of the input everything still registered is deregistered and waited for, then
 * nmr_live_object_count() == 0, nmr_check_invariants(), kshim_audit(pool baseline), and
 * nmr_reset() == 0. An oracle failure prints "*** FUZZ ORACLE: <reason>" and the last
 * events, then aborts.
 *
 * Input format (all operands are single bytes; a missing byte reads as 0). Every decision
 * has a label: its name on the input lines of the timeline (replay -print) and in text
 * inputs (replay -text / -encode; fuzz/README.md, "Inputs as text"). Labels are given as
 * label=values below; "no|yes" fields are one bit (1 = yes).
 *   byte 0  configuration: bit0 detach_at_dispatch=no|yes, bit1 cleanup_at_dispatch=no|yes,
 *           bit2 provider_detach_first=no|yes, bit3 three_npis=no|yes (else two NPIs)
 *   byte 1  fault plan: bits0-1 fault=off|transient|persistent|off, bits2-7 fault_after=N:
 *           the (N+1)th pool allocation of the input fails (N = 0..63)
 *   then operations until the input ends (at most 256; bytes after them are unread=): an
 *   opcode byte op=<name> (value % 8) and its operands:
 *   0 register_client   S B M: S: bits0-1 slot=C0..C3, bits2-7 npi=N (NPI N % NPIs);
 *                       B: bits0-1 attach=attach|retry|decline|attach (retry: again with
 *                       the older dispatch after NOINTERFACE), bits2-3
 *                       detach=success|pending|pending_inline|success (pending_inline:
 *                       PENDING completed inside the callback), bit4 cleanup=yes|no (bit
 *                       set: no cleanup callback), bit5 instance_version=0|1, bit6
 *                       npi_data=no|yes (NPI-specific data), bit7 module_id=guid|luid;
 *                       M: bits0-3 decline=<the provider slots declined, P0+P2 style, or
 *                       none> (bit i set = decline provider slot i)
 *   1 register_provider S B E: as above with slot=P0..P3 and bits0-1
 *                       attach=accept|accept_older|decline|fail (accept_older: only the older
 *                       client dispatch; decline: NOINTERFACE; fail: the error E);
 *                       E: error=unsuccessful|insufficient_resources|not_supported (E % 3)
 *   2 deregister_client  A: bits0-1 slot=C0..C3, bit2 at_dispatch=no|yes (DISPATCH_LEVEL)
 *   3 deregister_provider A: as above with slot=P0..P3
 *   4 wait_client        A: bits0-1 slot=C0..C3, bit2 force=no|yes (complete pending
 *                       detaches first, else skip a wait that would block), bit3
 *                       early=no|yes (allow an early wait, before the deregistration:
 *                       STATUS_INVALID_PARAMETER and warning R8)
 *   5 wait_provider      A: as above with slot=P0..P3
 *   6 complete           A: bit0 at_dispatch=no|yes, bits1-7 side=N: complete pending
 *                       detach side number N (mod the count, in binding order, client
 *                       side first)
 *   7 hook               P X: at=client_attach|client_attach_after|provider_attach|
 *                       client_detach|provider_detach|cleanup (P % 6: the next callback of
 *                       that kind: client attach entry, client attach after
 *                       NmrClientAttachProvider, provider attach, client detach, provider
 *                       detach, cleanup); X: action=deregister_client|deregister_provider|
 *                       complete|register_client|register_provider (X % 5) with arg=Y
 *                       (X / 5) run on thread "hook": 0 deregister client slot Y&3,
 *                       1 deregister provider slot Y&3, 2 complete pending side number Y,
 *                       3 register client slot Y&3, 4 register provider slot Y&3 (NPI
 *                       (Y>>2)&3 % NPIs, detach result (Y>>4)&3, attach/accept, cleanup;
 *                       only at PASSIVE_LEVEL); one hook is armed at a time, it fires
 *                       once, hooks do not nest
 * Input lines: "> <byte 0 and 1 fields>", then one line per operation, e.g.
 *     > op=register_client slot=C1 npi=0 attach=retry detach=pending cleanup=yes
 *       instance_version=0 npi_data=no module_id=guid decline=P0+P2   (one line, wrapped here)
 *     > op=hook at=client_detach action=deregister_provider arg=1
 * fuzz/examples/fuzz_nmr_ops-*.txt are hand-written text inputs.
 * Operations that do not apply (slot busy, nothing pending, binding table full) are skipped
 * and traced as such; their operands are still consumed.
 *
 * Standalone (any build, no libFuzzer):
 *     build/<preset>/fuzz/fuzz_nmr_ops_replay [-runs=N] [-print] corpus/fuzz_nmr_ops
 * Text inputs (input lines, as -print shows them; fuzz/README.md, "Inputs as text"):
 *     build/<preset>/fuzz/fuzz_nmr_ops_replay -text [-print] fuzz/examples/fuzz_nmr_ops-*.txt
 *     build/<preset>/fuzz/fuzz_nmr_ops_replay -encode=OUT.bin TEXTFILE
 * Fuzzing (fuzz preset):
 *     build/fuzz/fuzz/fuzz_nmr_ops -max_len=512 -detect_leaks=0 corpus-work/ corpus/fuzz_nmr_ops
 * Target functions: NmrRegisterClient, NmrRegisterProvider, NmrClientAttachProvider,
 * NmrDeregisterClient, NmrDeregisterProvider, NmrWaitForClientDeregisterComplete,
 * NmrWaitForProviderDeregisterComplete, NmrClientDetachProviderComplete,
 * NmrProviderDetachClientComplete, and every callback path of the registrar.
 */
#include <stdarg.h>
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
#include "fuzz_calls.h"
#include "fuzz_handles.h"
#include "fuzz_run.h"
#include "fuzz_warnings.h"

#define MAX_CLIENTS 4
#define MAX_PROVIDERS 4
#define MAX_NPIS 3
#define MAX_OPS 256
#define MAX_RECORDS 192 /* proposals per input; a register needs MAX_PEERS free */
#define MAX_PEERS 4
#define MAX_LIVE 32     /* live bindings: at most one per (client, provider) slot pair */

#define MODULE_MAGIC 0x4d6f644du /* "MdoM" */
#define SIDE_MAGIC 0x53696465u   /* "Side" */
#define DISPATCH_MAGIC 0x44697370u

/* Pre-set into out parameters to see whether they were written. */
static char unwritten_marker;
#define UNWRITTEN ((void *)&unwritten_marker)

/* ------------------------------------------------------------------------------------------ */
/* Model                                                                                      */
/* ------------------------------------------------------------------------------------------ */

typedef enum module_state {
    MODULE_FREE,          /* not registered (never, failed, or its wait returned) */
    MODULE_REGISTERING,   /* inside its NmrRegister* call; no handle yet */
    MODULE_REGISTERED,    /* NmrRegister* returned STATUS_SUCCESS */
    MODULE_DEREGISTERING, /* NmrDeregister* called; wait not yet returned */
} module_state_t;

typedef enum client_policy {
    CLIENT_ATTACH,  /* NmrClientAttachProvider with the newer dispatch, return its status */
    CLIENT_RETRY,   /* newer dispatch; after NOINTERFACE once more with the older one */
    CLIENT_DECLINE, /* return STATUS_NOINTERFACE without attaching */
} client_policy_t;

typedef enum provider_policy {
    PROVIDER_ACCEPT,         /* accept any client */
    PROVIDER_ACCEPT_OLDER,   /* accept only the older client dispatch, else NOINTERFACE */
    PROVIDER_DECLINE,        /* STATUS_NOINTERFACE */
    PROVIDER_FAIL,           /* an error status other than NOINTERFACE (warning A9) */
} provider_policy_t;

typedef enum detach_mode {
    DETACH_SUCCESS,        /* detach callback returns STATUS_SUCCESS */
    DETACH_PENDING,        /* returns STATUS_PENDING; an operation completes it later */
    DETACH_PENDING_INLINE, /* calls Nmr*DetachComplete inside, then returns STATUS_PENDING */
} detach_mode_t;

typedef struct dispatch_table {
    uint32_t magic;
    unsigned owner;   /* slot */
    unsigned version; /* 1 older, 2 newer; providers 1 */
} dispatch_table_t;

typedef struct module {
    uint32_t magic;
    bool is_client;
    unsigned index;
    const char *name; /* "C0".."P3": also the logical thread of its operations */
    module_state_t state;
    unsigned gen;           /* registration attempts of this slot in this input */
    unsigned long reg_order; /* order of the successful registration among all */
    unsigned npi;
    unsigned policy;
    detach_mode_t detach_mode;
    bool has_cleanup;
    unsigned decline_mask;  /* client: provider slots it declines */
    NTSTATUS fail_status;   /* provider: status of PROVIDER_FAIL */
    HANDLE handle;          /* out parameter of NmrRegister* */
    unsigned handle_ordinal;
    NPI_MODULEID module_id;
    fuzz_characteristics_t chars;
    dispatch_table_t dispatch[2]; /* client: [0] older, [1] newer; provider: [0] */
} module_t;

typedef enum side_state {
    SIDE_IDLE,      /* detach callback not called */
    SIDE_IN_DETACH, /* detach callback running */
    SIDE_PENDING,   /* detach returned (or will return) STATUS_PENDING, not completed */
    SIDE_DONE,      /* completed (SUCCESS returned, or DetachComplete called) */
} side_state_t;

typedef struct side {
    uint32_t magic;
    unsigned record;
    bool is_client;
    side_state_t state;
    detach_mode_t detach_mode; /* the module's behaviour when the binding attached */
    bool cleanup_expected;     /* the module registered a cleanup callback */
    bool cleaned;
    HANDLE handle;
    unsigned handle_ordinal;
} side_t;

typedef enum record_state {
    RECORD_FREE,
    RECORD_PROPOSED,  /* ClientAttachProvider running */
    RECORD_DISCARDED, /* attach did not succeed: no callback may name it again */
    RECORD_ATTACHED,  /* ClientAttachProvider returned STATUS_SUCCESS */
} record_state_t;

typedef struct record {
    record_state_t state;
    unsigned client, provider;         /* slots */
    unsigned client_gen, provider_gen; /* registrations they belong to */
    bool provider_accepted;            /* ProviderAttachClient returned SUCCESS */
    bool detach_requested;
    unsigned detach_owner;             /* call that must have run both detaches */
    bool both_done;
    unsigned completer;                /* call in which the last side completed */
    bool destroyed;                    /* both done and every expected cleanup ran */
    side_t side[2];                    /* [0] client, [1] provider */
} record_t;

/* The fault accounting of a call frame (fuzz_calls.h), by nesting depth. */
typedef struct call_accounting {
    unsigned long attributed_before; /* w.eligible_attributed before the call */
    bool may_allocate;               /* NmrRegister* only */
} call_accounting_t;

typedef enum hook_point {
    HOOK_CLIENT_ATTACH_ENTRY,
    HOOK_CLIENT_ATTACH_AFTER,
    HOOK_PROVIDER_ATTACH,
    HOOK_CLIENT_DETACH,
    HOOK_PROVIDER_DETACH,
    HOOK_CLEANUP,
    HOOK_POINT_COUNT
} hook_point_t;

typedef enum hook_action {
    HOOK_DEREGISTER_CLIENT,
    HOOK_DEREGISTER_PROVIDER,
    HOOK_COMPLETE,
    HOOK_REGISTER_CLIENT,
    HOOK_REGISTER_PROVIDER,
    HOOK_ACTION_COUNT
} hook_action_t;

static const char *const hook_point_names[HOOK_POINT_COUNT] = {
    "ClientAttachProvider entry", "ClientAttachProvider after NmrClientAttachProvider",
    "ProviderAttachClient",       "ClientDetachProvider",
    "ProviderDetachClient",       "cleanup"};
static const char *const client_policy_names[] = {"attach", "retry", "decline"};
static const char *const provider_policy_names[] = {"accept", "accept-older", "decline", "fail"};
static const char *const detach_mode_names[] = {"success", "pending", "pending-inline"};
static const char *const module_names[2][4] = {{"P0", "P1", "P2", "P3"},
                                               {"C0", "C1", "C2", "C3"}};

static const NPIID npi_ids[MAX_NPIS] = {
    {0x6e6d7201, 0x0001, 0x4e50, {0x49, 0x00, 0x6e, 0x6d, 0x72, 0x6b, 0x69, 0x74}},
    {0x6e6d7202, 0x0002, 0x4e50, {0x49, 0x00, 0x6e, 0x6d, 0x72, 0x6b, 0x69, 0x74}},
    {0x6e6d7203, 0x0003, 0x4e50, {0x49, 0x00, 0x6e, 0x6d, 0x72, 0x6b, 0x69, 0x74}},
};
static const uint32_t npi_specific_data[MAX_NPIS] = {0x5a5a0001u, 0x5a5a0002u, 0x5a5a0003u};
static const NTSTATUS provider_errors[3] = {STATUS_UNSUCCESSFUL, STATUS_INSUFFICIENT_RESOURCES,
                                            STATUS_NOT_SUPPORTED};

/* The whole state of one input. Reset at the start of every input. */
static struct world {
    fuzz_input_t in;
    unsigned op_index;
    unsigned npi_count;
    nmr_verifier_config_t config;
    unsigned long reg_counter;
    unsigned long callbacks;       /* callbacks received, all modules */

    module_t clients[MAX_CLIENTS];
    module_t providers[MAX_PROVIDERS];
    record_t *records; /* binding_records; entries below record_count are valid */
    unsigned record_count;
    /* Records in flight (PROPOSED) or attached and not yet destroyed, in record order: every
       per-call check walks only these. */
    unsigned live[MAX_LIVE];
    unsigned live_count;
    unsigned long live_objects; /* model_live_objects() */

    /* NmrRegister* calls in progress: [0] an operation's, [1] a hook's nested inside it. */
    struct reg_frame {
        module_t *module;
        unsigned call_id;
        module_t *expected[MAX_PEERS]; /* peers in the order attach must reach them */
        unsigned expected_count;
        unsigned next;
    } regs[2];
    unsigned reg_depth;
    unsigned long injected_attributed; /* faults already attributed to nested registers */
    unsigned long eligible_attributed; /* fallible calls already attributed to nested
                                          registers */

    /* NmrClientAttachProvider in progress. */
    struct attach_state {
        record_t *record;
        const dispatch_table_t *dispatch;
        unsigned provider_calls;
        NTSTATUS provider_status;
    } attach;

    call_accounting_t accounting[FUZZ_CALLS_MAX];

    struct {
        bool armed;
        bool running;
        hook_point_t point;
        hook_action_t action;
        unsigned arg;
    } hook;

    bool checked;           /* check_after_operation ran in this input ... */
    unsigned calls_checked; /* ... when fuzz_calls_begun() was this */
} w;

/* Oracle failures name the operation of the input they happened in. */
static void operation_context(char *buffer, size_t size)
{
    snprintf(buffer, size, " (operation %u)", w.op_index);
}

/* Outside `w` so that the per-input reset does not clear them: records are initialised
   when used, handle entries belong to the epoch (input) that wrote them. */
static record_t binding_records[MAX_RECORDS];

/* ------------------------------------------------------------------------------------------ */
/* Oracle failures and tracing                                                                */
/* ------------------------------------------------------------------------------------------ */

static __attribute__((noinline)) module_t *client_slot(unsigned i)
{
    return &w.clients[i % MAX_CLIENTS];
}

static __attribute__((noinline)) module_t *provider_slot(unsigned i)
{
    return &w.providers[i % MAX_PROVIDERS];
}

static unsigned record_index(const record_t *record)
{
    return (unsigned)(record - w.records);
}

/* ------------------------------------------------------------------------------------------ */
/* Handles: never reused within an input; printed as ordinals so traces are deterministic      */
/* ------------------------------------------------------------------------------------------ */

/* Ordinal of a known handle, 0 if unknown. */
/* Record a handle the NMR just issued; it must be non-NULL and never seen before. */
/* ------------------------------------------------------------------------------------------ */
/* Calls into the NMR: frames for IRQL expectations, detach/cleanup deadlines, allocations     */
/* ------------------------------------------------------------------------------------------ */

/* A call frame (fuzz_calls.h) plus what the fault accounting needs of it. */
static __attribute__((noinline)) fuzz_call_t *call_begin(const char *name, bool may_allocate)
{
    fuzz_call_t *frame = fuzz_call_begin(name);
    call_accounting_t *accounting = &w.accounting[fuzz_call_depth() - 1];
    accounting->attributed_before = w.eligible_attributed;
    accounting->may_allocate = may_allocate;
    return frame;
}

/* Everything that must have happened inside the call before it returned. */
static __attribute__((noinline)) void call_end(fuzz_call_t *frame)
{
    const call_accounting_t *accounting = &w.accounting[fuzz_call_depth() - 1];
    fuzz_call_end(frame);
    /* Fallible calls made by this call itself, not by a register nested inside it. */
    unsigned long own = (kshim_fault_eligible_calls() - frame->fallible_before) -
                        (w.eligible_attributed - accounting->attributed_before);
    if (!accounting->may_allocate && own != 0) {
        fuzz_oracle_fail("%s made %lu fallible allocation(s); only NmrRegister* may allocate",
                    frame->name, own);
    }
    if (accounting->may_allocate) {
        w.eligible_attributed += own;
    }
    for (unsigned k = 0; k < w.live_count; k++) {
        record_t *r = &w.records[w.live[k]];
        unsigned i = w.live[k];
        if (r->state != RECORD_ATTACHED) {
            continue;
        }
        if (r->detach_requested && r->detach_owner == frame->id &&
            (r->side[0].state == SIDE_IDLE || r->side[1].state == SIDE_IDLE)) {
            fuzz_oracle_fail("%s returned but binding b%u (%s-%s) was not detached on the %s side",
                        frame->name, i, w.clients[r->client].name, w.providers[r->provider].name,
                        r->side[0].state == SIDE_IDLE ? "client" : "provider");
        }
        if (r->both_done && r->completer == frame->id && !r->destroyed) {
            fuzz_oracle_fail("%s completed the last side of binding b%u (%s-%s) but returned without "
                        "its %s cleanup",
                        frame->name, i, w.clients[r->client].name, w.providers[r->provider].name,
                        r->side[0].cleanup_expected && !r->side[0].cleaned ? "client"
                                                                           : "provider");
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Model updates                                                                              */
/* ------------------------------------------------------------------------------------------ */

static void live_add(record_t *r)
{
    if (w.live_count == MAX_LIVE) {
        fuzz_oracle_fail("harness: more than %d live bindings", MAX_LIVE);
    }
    w.live[w.live_count++] = record_index(r);
}

static __attribute__((noinline)) void live_remove(record_t *r)
{
    unsigned index = record_index(r);
    for (unsigned k = 0; k < w.live_count; k++) {
        if (w.live[k] == index) {
            /* Within the static w.live: k < live_count <= MAX_LIVE. */
            kshim_unchecked_memmove(&w.live[k], &w.live[k + 1],
                                    (w.live_count - k - 1) * sizeof w.live[0]);
            w.live_count--;
            return;
        }
    }
}

static void update_destroyed(record_t *r)
{
    if (!r->destroyed && r->both_done &&
        (!r->side[0].cleanup_expected || r->side[0].cleaned) &&
        (!r->side[1].cleanup_expected || r->side[1].cleaned)) {
        r->destroyed = true; /* it was attached: both sides detached */
        w.live_objects--;
        live_remove(r);
    }
}

/* A side completed inside call `call` (a DetachComplete, or the call that invoked a detach
   callback that returned STATUS_SUCCESS). */
static void side_done(record_t *r, side_t *side, unsigned call)
{
    side->state = SIDE_DONE;
    if (r->side[0].state == SIDE_DONE && r->side[1].state == SIDE_DONE) {
        r->both_done = true;
        r->completer = call;
        update_destroyed(r);
    }
}

/* Bindings of module m (this registration) that are attached and not yet detaching start
   detaching in call `call`. */
static __attribute__((noinline)) void request_detach_of(const module_t *m, unsigned call)
{
    for (unsigned k = 0; k < w.live_count; k++) {
        record_t *r = &w.records[w.live[k]];
        bool mine = m->is_client ? (r->client == m->index && r->client_gen == m->gen)
                                 : (r->provider == m->index && r->provider_gen == m->gen);
        if (mine && r->state == RECORD_ATTACHED && !r->detach_requested) {
            r->detach_requested = true;
            r->detach_owner = call;
        }
    }
}

/* Bindings of this registration not yet destroyed (attached ones and attaches in flight). */
static __attribute__((noinline)) unsigned outstanding_bindings(const module_t *m)
{
    unsigned n = 0;
    for (unsigned k = 0; k < w.live_count; k++) {
        const record_t *r = &w.records[w.live[k]];
        bool mine = m->is_client ? (r->client == m->index && r->client_gen == m->gen)
                                 : (r->provider == m->index && r->provider_gen == m->gen);
        if (mine && (r->state == RECORD_PROPOSED || (r->state == RECORD_ATTACHED && !r->destroyed))) {
            n++;
        }
    }
    return n;
}

/* Modules REGISTERED or DEREGISTERING, and bindings ATTACHED and not yet destroyed: counted
   where they enter and leave those states (a walk at every check was 2% of the run). */
static unsigned long model_live_objects(void)
{
    return w.live_objects;
}

/* ------------------------------------------------------------------------------------------ */
/* Callback-side validation                                                                   */
/* ------------------------------------------------------------------------------------------ */

static __attribute__((noinline))
module_t *module_from_context(PVOID context, bool client, const char *callback)
{
    module_t *array = client ? w.clients : w.providers;
    unsigned count = client ? MAX_CLIENTS : MAX_PROVIDERS;
    for (unsigned i = 0; i < count; i++) {
        if (context == &array[i]) {
            return &array[i];
        }
    }
    fuzz_oracle_fail("%s received a registration context that is not the %s's own", callback,
                client ? "client" : "provider");
}

static __attribute__((noinline)) side_t *side_from_context(PVOID context, unsigned which,
                                                           const char *callback)
{
    uintptr_t address = (uintptr_t)context;
    uintptr_t base = (uintptr_t)binding_records;
    size_t expected_offset = offsetof(record_t, side) + which * sizeof(side_t);
    if (address < base || address >= base + w.record_count * sizeof(record_t) ||
        (address - base) % sizeof(record_t) != expected_offset) {
        fuzz_oracle_fail("%s received a binding context that is not one this %s gave the NMR",
                    callback, which == 0 ? "client" : "provider");
    }
    record_t *r = &w.records[(address - base) / sizeof(record_t)];
    side_t *side = &r->side[which];
    if (r->state == RECORD_FREE || side->magic != SIDE_MAGIC) {
        fuzz_oracle_fail("%s received a binding context that was never attached", callback);
    }
    return side;
}

/* The module of one side of a record must still be the registration the binding belongs to,
   and not past its wait. */
static void check_module_alive(const record_t *r, unsigned which, const char *callback)
{
    const module_t *m = which == 0 ? &w.clients[r->client] : &w.providers[r->provider];
    unsigned gen = which == 0 ? r->client_gen : r->provider_gen;
    if (m->gen != gen || m->state == MODULE_FREE) {
        fuzz_oracle_fail("%s for binding b%u reached %s after its wait returned", callback,
                    record_index(r), m->name);
    }
}

static void check_irql(KIRQL expected, const char *callback)
{
    KIRQL irql = KeGetCurrentIrql();
    if (irql != expected) {
        fuzz_oracle_fail("%s called at IRQL %s, expected %s", callback, kshim_irql_name(irql),
                    kshim_irql_name(expected));
    }
}

static __attribute__((noinline)) void callback_enter(void)
{
    w.callbacks++;
    fuzz_trace_enter();
}

static void run_hook_action(void);

static void maybe_fire_hook(hook_point_t point)
{
    if (!w.hook.armed || w.hook.running || w.hook.point != point) {
        return;
    }
    w.hook.armed = false;
    w.hook.running = true;
    const char *saved_thread = fuzz_trace_thread();
    fuzz_trace_set_thread("hook");
    fuzz_trace_event("interleave at %s (IRQL %s)", hook_point_names[point],
                     kshim_irql_name(KeGetCurrentIrql()));
    fuzz_trace_enter();
    run_hook_action();
    fuzz_trace_leave();
    fuzz_trace_set_thread(saved_thread);
    w.hook.running = false;
}

/* ------------------------------------------------------------------------------------------ */
/* Harness-side NMR calls                                                                     */
/* ------------------------------------------------------------------------------------------ */

static void do_complete(side_t *side, bool at_dispatch);
static void do_register(module_t *m, unsigned npi, uint8_t behaviour, uint8_t extra);

/* Attach attempt from inside ClientAttachProvider. */
static NTSTATUS attach_attempt(record_t *r, const dispatch_table_t *dispatch)
{
    module_t *p = &w.providers[r->provider];
    PVOID provider_context = UNWRITTEN;
    const VOID *provider_dispatch = UNWRITTEN;
    /* A hook may register a module inside this call, whose attaches nest their own. */
    struct attach_state saved = w.attach;

    w.attach.record = r;
    w.attach.dispatch = dispatch;
    w.attach.provider_calls = 0;
    w.attach.provider_status = STATUS_SUCCESS;
    fuzz_trace_event("NmrClientAttachProvider(h%u, b%u, dispatch v%u)", r->side[0].handle_ordinal,
                     record_index(r), dispatch->version);
    fuzz_trace_enter();
    fuzz_call_t *frame = call_begin("NmrClientAttachProvider", false);
    NTSTATUS status = NmrClientAttachProvider(r->side[0].handle, &r->side[0], dispatch,
                                              &provider_context, &provider_dispatch);
    call_end(frame);
    fuzz_trace_leave();
    fuzz_trace_event("NmrClientAttachProvider -> %s", fuzz_status_str(status));
    struct attach_state done = w.attach;
    w.attach = saved;

    if (done.provider_calls != 1) {
        fuzz_oracle_fail("NmrClientAttachProvider called ProviderAttachClient %u times (expected once)",
                    done.provider_calls);
    }
    if (status != done.provider_status) {
        fuzz_oracle_fail("NmrClientAttachProvider returned %s but ProviderAttachClient returned %s",
                    fuzz_status_str(status), fuzz_status_str(done.provider_status));
    }
    if (status == STATUS_SUCCESS) {
        if (provider_context != &r->side[1] || provider_dispatch != &p->dispatch[0]) {
            fuzz_oracle_fail("NmrClientAttachProvider returned STATUS_SUCCESS without the provider's "
                        "binding context and dispatch");
        }
    } else if (provider_context != UNWRITTEN || provider_dispatch != UNWRITTEN) {
        fuzz_oracle_fail("NmrClientAttachProvider wrote its out parameters on %s",
                    fuzz_status_str(status));
    }
    if (!NT_SUCCESS(status) && status != STATUS_NOINTERFACE) {
        fuzz_warning_expect("A9");
    }
    return status;
}

/* A peer whose attach has not started yet is discarded without any callback: the
   registrations in progress no longer expect it (out of line for the coverage ignorelist,
   like predict_attaches). */
static __attribute__((noinline)) void forget_unstarted_attaches(const module_t *m)
{
    for (unsigned d = 0; d < w.reg_depth; d++) {
        struct reg_frame *reg = &w.regs[d];
        for (unsigned i = reg->next; i < reg->expected_count; i++) {
            if (reg->expected[i] == m) {
                memmove(&reg->expected[i], &reg->expected[i + 1],
                        (reg->expected_count - i - 1) * sizeof reg->expected[0]);
                reg->expected_count--;
                break;
            }
        }
    }
}

static __attribute__((noinline)) void do_deregister(module_t *m, bool at_dispatch)
{
    const char *function = m->is_client ? "NmrDeregisterClient" : "NmrDeregisterProvider";
    KIRQL old_irql = PASSIVE_LEVEL;

    if (at_dispatch) {
        KeRaiseIrql(DISPATCH_LEVEL, &old_irql);
    }
    fuzz_trace_event("%s(%s h%u) at %s", function, m->name, m->handle_ordinal,
                     kshim_irql_name(KeGetCurrentIrql()));
    fuzz_trace_enter();
    fuzz_call_t *frame = call_begin(function, false);
    m->state = MODULE_DEREGISTERING;
    request_detach_of(m, frame->id);
    forget_unstarted_attaches(m);
    NTSTATUS status = fuzz_module_deregister(m->is_client, m->handle);
    call_end(frame);
    fuzz_trace_leave();
    fuzz_trace_event("%s -> %s", function, fuzz_status_str(status));
    if (at_dispatch) {
        KeLowerIrql(old_irql);
    }
    if (status != STATUS_PENDING) {
        fuzz_oracle_fail("%s returned %s; it always returns STATUS_PENDING", function,
                    fuzz_status_str(status));
    }
}

static __attribute__((noinline)) void do_complete(side_t *side, bool at_dispatch)
{
    record_t *r = &w.records[side->record];
    const char *function =
        side->is_client ? "NmrClientDetachProviderComplete" : "NmrProviderDetachClientComplete";
    KIRQL old_irql = PASSIVE_LEVEL;

    if (at_dispatch) {
        KeRaiseIrql(DISPATCH_LEVEL, &old_irql);
    }
    fuzz_trace_event("%s(h%u) b%u at %s", function, side->handle_ordinal, side->record,
                     kshim_irql_name(KeGetCurrentIrql()));
    fuzz_trace_enter();
    fuzz_call_t *frame = call_begin(function, false);
    /* A completion from inside the side's own detach callback takes effect when the callback
       returns STATUS_PENDING: the cleanup then runs in the call that invoked the callback,
       not inside this one. */
    if (side->state != SIDE_IN_DETACH) {
        side_done(r, side, frame->id);
    }
    if (side->is_client) {
        NmrClientDetachProviderComplete(side->handle);
    } else {
        NmrProviderDetachClientComplete(side->handle);
    }
    call_end(frame);
    fuzz_trace_leave();
    if (at_dispatch) {
        KeLowerIrql(old_irql);
    }
}

/* Pending sides in binding order, client side first. */
static __attribute__((noinline)) unsigned list_pending(side_t **out, unsigned cap,
                                                       const module_t *only)
{
    unsigned n = 0;
    for (unsigned k = 0; k < w.live_count && n < cap; k++) {
        record_t *r = &w.records[w.live[k]];
        if (r->state != RECORD_ATTACHED) {
            continue;
        }
        if (only) {
            bool mine = only->is_client
                            ? (r->client == only->index && r->client_gen == only->gen)
                            : (r->provider == only->index && r->provider_gen == only->gen);
            if (!mine) {
                continue;
            }
        }
        for (unsigned s = 0; s < 2 && n < cap; s++) {
            if (r->side[s].state == SIDE_PENDING) {
                out[n++] = &r->side[s];
            }
        }
    }
    return n;
}

static void complete_pick(unsigned pick, bool at_dispatch)
{
    side_t *pending[2 * MAX_RECORDS];
    unsigned n = list_pending(pending, 2 * MAX_RECORDS, NULL);
    if (n == 0) {
        fuzz_trace_event("complete: nothing pending");
        return;
    }
    do_complete(pending[pick % n], at_dispatch);
}

static void run_hook_action(void)
{
    switch (w.hook.action) {
    case HOOK_DEREGISTER_CLIENT:
    case HOOK_DEREGISTER_PROVIDER: {
        module_t *m = w.hook.action == HOOK_DEREGISTER_CLIENT ? client_slot(w.hook.arg)
                                                               : provider_slot(w.hook.arg);
        if (m->state != MODULE_REGISTERED) {
            fuzz_trace_event("deregister %s: not registered, skipped", m->name);
            return;
        }
        do_deregister(m, false);
        return;
    }
    case HOOK_COMPLETE:
        complete_pick(w.hook.arg, false);
        return;
    case HOOK_REGISTER_CLIENT:
    case HOOK_REGISTER_PROVIDER: {
        /* arg: bits0-1 slot, bits2-3 NPI, bits4-5 detach result; attach/accept, cleanup. */
        module_t *m = w.hook.action == HOOK_REGISTER_CLIENT ? client_slot(w.hook.arg)
                                                             : provider_slot(w.hook.arg);
        do_register(m, (w.hook.arg >> 2) & 3, (uint8_t)(((w.hook.arg >> 4) & 3) << 2), 0);
        return;
    }
    case HOOK_ACTION_COUNT:
        break;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Client callbacks                                                                           */
/* ------------------------------------------------------------------------------------------ */

static record_t *record_new(module_t *c, module_t *p, HANDLE client_handle)
{
    if (w.record_count == MAX_RECORDS) {
        fuzz_oracle_fail("harness: binding table full (register should have been skipped)");
    }
    record_t *r = &w.records[w.record_count++];
    kshim_unchecked_memset(r, 0, sizeof *r); /* binding_records[], index checked above */
    r->state = RECORD_PROPOSED;
    r->client = c->index;
    r->provider = p->index;
    r->client_gen = c->gen;
    r->provider_gen = p->gen;
    for (unsigned s = 0; s < 2; s++) {
        r->side[s].magic = SIDE_MAGIC;
        r->side[s].record = record_index(r);
        r->side[s].is_client = s == 0;
        r->side[s].state = SIDE_IDLE;
    }
    r->side[0].detach_mode = c->detach_mode;
    r->side[0].cleanup_expected = c->has_cleanup;
    r->side[0].handle = client_handle;
    r->side[0].handle_ordinal = fuzz_handle_issue(client_handle, "ClientAttachProvider binding handle");
    live_add(r);
    return r;
}

/* Pure checks of the callbacks below, out of line for the coverage ignorelist
   (cmake/fuzz-coverage-ignorelist.txt): each passes or fails; what the callbacks do to the
   model stays instrumented. */

/* ClientAttachProvider c <- p: inside the NmrRegister* of one of them (reg, its frame), at
   PASSIVE_LEVEL, the peer the model predicts next, before the registration handle is
   written. */
static __attribute__((noinline)) void check_client_attach_call(
    const module_t *c, const module_t *p, const struct reg_frame *reg,
    const NPI_REGISTRATION_INSTANCE *ProviderRegistrationInstance)
{
    const char *cb = "ClientAttachProvider";
    check_irql(PASSIVE_LEVEL, cb);
    if (!reg || (reg->module != c && reg->module != p)) {
        fuzz_oracle_fail("%s %s-%s outside NmrRegister* of either module", cb, c->name, p->name);
    }
    const module_t *registering = reg->module;
    const module_t *peer = registering == c ? p : c;
    if (registering->state != MODULE_REGISTERING) {
        fuzz_oracle_fail("harness: registering module in state %d", registering->state);
    }
    /* A peer still inside its own NmrRegister* (an outer frame) is already registered. */
    if (peer->state != MODULE_REGISTERED && peer->state != MODULE_REGISTERING) {
        fuzz_oracle_fail("%s %s-%s: %s is %s", cb, c->name, p->name, peer->name,
                    peer->state == MODULE_DEREGISTERING ? "deregistering (no attach may start)"
                                                        : "not registered");
    }
    if (c->npi != p->npi || !IsEqualGUID(ProviderRegistrationInstance->NpiId,
                                         c->chars.client.ClientRegistrationInstance.NpiId)) {
        fuzz_oracle_fail("%s %s-%s: different NPIs bound (NPI %u and %u)", cb, c->name, p->name, c->npi,
                    p->npi);
    }
    if (registering->handle != UNWRITTEN) {
        fuzz_oracle_fail("%s: the registration handle of %s was written before its attaches returned",
                    cb, registering->name);
    }
    if (reg->next >= reg->expected_count || reg->expected[reg->next] != peer) {
        if (reg->next < reg->expected_count) {
            fuzz_oracle_fail("%s %s-%s out of order: expected the attach with %s next", cb, c->name,
                        p->name, reg->expected[reg->next]->name);
        }
        fuzz_oracle_fail("%s %s-%s not expected (already attached, or no such attach predicted)", cb,
                    c->name, p->name);
    }
}

static NTSTATUS client_attach_provider(HANDLE NmrBindingHandle, PVOID ClientContext,
                                       PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    const char *cb = "ClientAttachProvider";
    module_t *c = module_from_context(ClientContext, true, cb);
    module_t *p = NULL;
    for (unsigned i = 0; i < MAX_PROVIDERS; i++) {
        if (ProviderRegistrationInstance == &w.providers[i].chars.provider.ProviderRegistrationInstance) {
            p = &w.providers[i];
        }
    }
    if (!p) {
        fuzz_oracle_fail("%s of %s received a registration instance that is not a provider's own", cb,
                    c->name);
    }
    fuzz_trace_event("%s %s <- %s", cb, c->name, p->name);
    callback_enter();
    struct reg_frame *reg = w.reg_depth ? &w.regs[w.reg_depth - 1] : NULL;
    check_client_attach_call(c, p, reg, ProviderRegistrationInstance);
    reg->next++;
    record_t *r = record_new(c, p, NmrBindingHandle);
    fuzz_trace_event("binding b%u, client handle h%u", record_index(r), r->side[0].handle_ordinal);
    maybe_fire_hook(HOOK_CLIENT_ATTACH_ENTRY);

    NTSTATUS status;
    if (c->policy == CLIENT_DECLINE || (c->decline_mask & (1u << p->index))) {
        status = STATUS_NOINTERFACE;
    } else {
        status = attach_attempt(r, &c->dispatch[1]);
        if (status == STATUS_NOINTERFACE && c->policy == CLIENT_RETRY) {
            status = attach_attempt(r, &c->dispatch[0]);
        }
        maybe_fire_hook(HOOK_CLIENT_ATTACH_AFTER);
    }

    if (status == STATUS_SUCCESS) {
        r->state = RECORD_ATTACHED;
        w.live_objects++;
        if (c->state == MODULE_DEREGISTERING || p->state == MODULE_DEREGISTERING) {
            /* Late-comer: detached by the attaching thread before NmrRegister* returns. */
            r->detach_requested = true;
            r->detach_owner = reg->call_id;
        }
    } else {
        r->state = RECORD_DISCARDED;
        live_remove(r);
    }
    fuzz_trace_leave();
    fuzz_trace_event("%s %s <- %s returns %s%s", cb, c->name, p->name, fuzz_status_str(status),
                     status == STATUS_SUCCESS && r->detach_requested ? " (late-comer)" : "");
    return status;
}

/* The detach callback of side `which` of binding r: attached, both modules still theirs, a
   detach requested within a call still in progress, once, in the configured order, at the
   configured IRQL. */
static __attribute__((noinline)) void check_detach_call(const record_t *r, const side_t *side,
                                                        unsigned which)
{
    const char *cb = which == 0 ? "ClientDetachProvider" : "ProviderDetachClient";
    const side_t *other = &r->side[1 - which];
    if (r->state != RECORD_ATTACHED) {
        fuzz_oracle_fail("%s for binding b%u whose attach %s", cb, side->record,
                    r->state == RECORD_PROPOSED ? "has not returned yet" : "failed");
    }
    check_module_alive(r, 0, cb);
    check_module_alive(r, 1, cb);
    if (!r->detach_requested) {
        fuzz_oracle_fail("%s for binding b%u although neither module is deregistering", cb,
                    side->record);
    }
    if (side->state != SIDE_IDLE) {
        fuzz_oracle_fail("%s called twice for binding b%u", cb, side->record);
    }
    if (!fuzz_call_in_progress(r->detach_owner)) {
        fuzz_oracle_fail("%s for binding b%u after the call that started the detach returned", cb,
                    side->record);
    }
    bool this_goes_first = (which == 0) != (w.config.provider_detach_first != FALSE);
    if (this_goes_first && other->state != SIDE_IDLE) {
        fuzz_oracle_fail("%s for binding b%u after the other side's detach (order: %s first)", cb,
                    side->record, w.config.provider_detach_first ? "provider" : "client");
    }
    if (!this_goes_first && other->state == SIDE_IDLE) {
        fuzz_oracle_fail("%s for binding b%u before the other side's detach (order: %s first)", cb,
                    side->record, w.config.provider_detach_first ? "provider" : "client");
    }
    check_irql(w.config.detach_at_dispatch ? DISPATCH_LEVEL : fuzz_call_current_irql(), cb);
}

static NTSTATUS detach_callback(PVOID context, unsigned which)
{
    const char *cb = which == 0 ? "ClientDetachProvider" : "ProviderDetachClient";
    side_t *side = side_from_context(context, which, cb);
    record_t *r = &w.records[side->record];

    fuzz_trace_event("%s b%u (%s-%s)", cb, side->record, w.clients[r->client].name,
                     w.providers[r->provider].name);
    callback_enter();
    check_detach_call(r, side, which);

    side->state = SIDE_IN_DETACH;
    maybe_fire_hook(which == 0 ? HOOK_CLIENT_DETACH : HOOK_PROVIDER_DETACH);

    NTSTATUS status;
    switch (side->detach_mode) {
    case DETACH_PENDING_INLINE:
        do_complete(side, false);
        side_done(r, side, fuzz_call_current_id());
        status = STATUS_PENDING;
        break;
    case DETACH_PENDING:
        side->state = SIDE_PENDING;
        status = STATUS_PENDING;
        break;
    case DETACH_SUCCESS:
    default:
        side_done(r, side, fuzz_call_current_id());
        status = STATUS_SUCCESS;
        break;
    }
    fuzz_trace_leave();
    fuzz_trace_event("%s b%u returns %s", cb, side->record, fuzz_status_str(status));
    return status;
}

static NTSTATUS client_detach_provider(PVOID ClientBindingContext)
{
    return detach_callback(ClientBindingContext, 0);
}

/* The cleanup callback of side `which` of binding r: attached, its module still its own,
   both sides completed, expected and not yet run, client first, inside the call that
   completed the last side, at the configured IRQL. */
static __attribute__((noinline)) void check_cleanup_call(const record_t *r, const side_t *side,
                                                         unsigned which)
{
    const char *cb = which == 0 ? "ClientCleanupBindingContext" : "ProviderCleanupBindingContext";
    if (r->state != RECORD_ATTACHED) {
        fuzz_oracle_fail("%s for binding b%u that never attached", cb, side->record);
    }
    check_module_alive(r, which, cb);
    if (!r->both_done) {
        fuzz_oracle_fail("%s for binding b%u before both sides completed detach (client %d, provider %d)",
                    cb, side->record, r->side[0].state, r->side[1].state);
    }
    if (!side->cleanup_expected) {
        fuzz_oracle_fail("%s for binding b%u whose module registered no cleanup callback", cb,
                    side->record);
    }
    if (side->cleaned) {
        fuzz_oracle_fail("%s called twice for binding b%u", cb, side->record);
    }
    if (which == 1 && r->side[0].cleanup_expected && !r->side[0].cleaned) {
        fuzz_oracle_fail("%s for binding b%u before ClientCleanupBindingContext", cb, side->record);
    }
    if (!fuzz_call_in_progress(r->completer)) {
        fuzz_oracle_fail("%s for binding b%u outside the call that completed its last side", cb,
                    side->record);
    }
    check_irql(w.config.cleanup_at_dispatch ? DISPATCH_LEVEL : fuzz_call_current_irql(), cb);
}

static void cleanup_callback(PVOID context, unsigned which)
{
    const char *cb = which == 0 ? "ClientCleanupBindingContext" : "ProviderCleanupBindingContext";
    side_t *side = side_from_context(context, which, cb);
    record_t *r = &w.records[side->record];

    fuzz_trace_event("%s b%u", cb, side->record);
    callback_enter();
    check_cleanup_call(r, side, which);
    side->cleaned = true;
    update_destroyed(r);
    maybe_fire_hook(HOOK_CLEANUP);
    fuzz_trace_leave();
}

static VOID client_cleanup_binding_context(PVOID ClientBindingContext)
{
    cleanup_callback(ClientBindingContext, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* Provider callbacks                                                                         */
/* ------------------------------------------------------------------------------------------ */

/* ProviderAttachClient of p inside the NmrClientAttachProvider of binding r (the caller
   checked that): at PASSIVE_LEVEL, the provider the client attaches to, with the client's
   own instance, binding context and dispatch, and a handle of the provider's side. */
static __attribute__((noinline)) void check_provider_attach_call(
    const module_t *p, const record_t *r, HANDLE NmrBindingHandle,
    const NPI_REGISTRATION_INSTANCE *ClientRegistrationInstance, PVOID ClientBindingContext,
    const VOID *ClientDispatch)
{
    const char *cb = "ProviderAttachClient";
    check_irql(PASSIVE_LEVEL, cb);
    if (p->index != r->provider || p->gen != r->provider_gen) {
        fuzz_oracle_fail("%s reached %s; the client is attaching to %s", cb, p->name,
                    w.providers[r->provider].name);
    }
    if (p->state != MODULE_REGISTERED && p->state != MODULE_DEREGISTERING &&
        p->state != MODULE_REGISTERING) {
        fuzz_oracle_fail("%s reached %s, which is not registered", cb, p->name);
    }
    if (ClientRegistrationInstance != &w.clients[r->client].chars.client.ClientRegistrationInstance) {
        fuzz_oracle_fail("%s of %s received a registration instance that is not %s's own", cb, p->name,
                    w.clients[r->client].name);
    }
    if (ClientBindingContext != &r->side[0] || ClientDispatch != w.attach.dispatch) {
        fuzz_oracle_fail("%s of %s did not receive the client's binding context and dispatch", cb,
                    p->name);
    }
    if (NmrBindingHandle == r->side[0].handle) {
        fuzz_oracle_fail("%s received the client-side binding handle; the sides differ", cb);
    }
}

static NTSTATUS provider_attach_client(HANDLE NmrBindingHandle, PVOID ProviderContext,
                                       PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
                                       PVOID ClientBindingContext, const VOID *ClientDispatch,
                                       PVOID *ProviderBindingContext,
                                       const VOID **ProviderDispatch)
{
    const char *cb = "ProviderAttachClient";
    module_t *p = module_from_context(ProviderContext, false, cb);
    record_t *r = w.attach.record;

    fuzz_trace_event("%s %s <- %s", cb, p->name, r ? w.clients[r->client].name : "?");
    callback_enter();
    if (!r || !fuzz_call_innermost_is("NmrClientAttachProvider")) {
        fuzz_oracle_fail("%s of %s outside NmrClientAttachProvider", cb, p->name);
    }
    check_provider_attach_call(p, r, NmrBindingHandle, ClientRegistrationInstance,
                               ClientBindingContext, ClientDispatch);
    if (r->side[1].handle == NULL) {
        r->side[1].handle = NmrBindingHandle;
        r->side[1].handle_ordinal = fuzz_handle_issue(NmrBindingHandle, "ProviderAttachClient binding handle");
    } else if (r->side[1].handle != NmrBindingHandle) {
        fuzz_oracle_fail("%s: the provider-side handle of binding b%u changed between attempts", cb,
                    record_index(r));
    }
    if (ProviderBindingContext == NULL || ProviderDispatch == NULL) {
        fuzz_oracle_fail("%s received NULL out parameters", cb);
    }
    w.attach.provider_calls++;
    fuzz_trace_event("provider handle h%u", r->side[1].handle_ordinal);
    maybe_fire_hook(HOOK_PROVIDER_ATTACH);

    NTSTATUS status;
    switch ((provider_policy_t)p->policy) {
    case PROVIDER_ACCEPT:
        status = STATUS_SUCCESS;
        break;
    case PROVIDER_ACCEPT_OLDER:
        status = w.attach.dispatch->version == 1 ? STATUS_SUCCESS : STATUS_NOINTERFACE;
        break;
    case PROVIDER_DECLINE:
        status = STATUS_NOINTERFACE;
        break;
    case PROVIDER_FAIL:
    default:
        status = p->fail_status;
        break;
    }
    if (status == STATUS_SUCCESS) {
        *ProviderBindingContext = &r->side[1];
        *ProviderDispatch = &p->dispatch[0];
        r->provider_accepted = true;
        r->side[1].detach_mode = p->detach_mode;
        r->side[1].cleanup_expected = p->has_cleanup;
    }
    w.attach.provider_status = status;
    fuzz_trace_leave();
    fuzz_trace_event("%s %s returns %s", cb, p->name, fuzz_status_str(status));
    return status;
}

static NTSTATUS provider_detach_client(PVOID ProviderBindingContext)
{
    return detach_callback(ProviderBindingContext, 1);
}

static VOID provider_cleanup_binding_context(PVOID ProviderBindingContext)
{
    cleanup_callback(ProviderBindingContext, 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Operations                                                                                 */
/* ------------------------------------------------------------------------------------------ */

/* The callbacks of every fake module of this target (fuzz_module.h). */
static const fuzz_module_callbacks_t module_callbacks = FUZZ_MODULE_CALLBACKS;

static void fill_characteristics(module_t *m, uint8_t behaviour)
{
    NPI_REGISTRATION_INSTANCE *instance = fuzz_characteristics_fill(
        &m->chars, m->is_client, &module_callbacks, m->has_cleanup, &npi_ids[m->npi],
        &m->module_id);
    kshim_unchecked_memset(&m->module_id, 0, sizeof m->module_id); /* static (w) */
    m->module_id.Length = sizeof m->module_id;
    if (behaviour & 0x80) {
        m->module_id.Type = MIT_IF_LUID;
        m->module_id.IfLuid.LowPart = 0x100u + m->index;
        m->module_id.IfLuid.HighPart = m->is_client ? 1 : 2;
    } else {
        m->module_id.Type = MIT_GUID;
        /* Static to static, each its own sizeof. */
        kshim_unchecked_memcpy(&m->module_id.Guid, &npi_ids[0], sizeof m->module_id.Guid);
        m->module_id.Guid.Data2 = (USHORT)(0x100u + m->index);
        m->module_id.Guid.Data3 = (USHORT)(m->is_client ? 0xc1 : 0x90);
    }
    instance->Version = (behaviour & 0x20) ? 1 : 0;
    instance->Number = m->index;
    instance->NpiSpecificCharacteristics = (behaviour & 0x40) ? &npi_specific_data[m->npi] : NULL;
}

static bool records_available(void)
{
    /* Room for this registration's proposals and for those of an outer one in progress. */
    return w.record_count + MAX_PEERS * (w.reg_depth + 1) <= MAX_RECORDS;
}

/* The model's reference (out of line for the coverage ignorelist: a search over the fixed
   peer slots whose result the registrar's own attach loop shows). */
static __attribute__((noinline)) struct reg_frame *predict_attaches(module_t *m)
{
    bool client = m->is_client;
    module_t *peers = client ? w.providers : w.clients;
    unsigned peer_count = client ? MAX_PROVIDERS : MAX_CLIENTS;
    struct reg_frame *reg = &w.regs[w.reg_depth];
    reg->module = m;
    reg->expected_count = 0;
    reg->next = 0;
    /* The registered (or registering) peers of m's NPI in registration order: one pass, each
       inserted after every earlier peer whose reg_order is not greater (a tie keeps the
       array's order). */
    for (unsigned i = 0; i < peer_count; i++) {
        module_t *q = &peers[i];
        if ((q->state != MODULE_REGISTERED && q->state != MODULE_REGISTERING) || q->npi != m->npi) {
            continue;
        }
        unsigned k = reg->expected_count++;
        for (; k > 0 && q->reg_order < reg->expected[k - 1]->reg_order; k--) {
            reg->expected[k] = reg->expected[k - 1];
        }
        reg->expected[k] = q;
    }
    return reg;
}

/* The register call's trace event (out of line for the coverage ignorelist: its branches
   only choose the arguments). */
static __attribute__((noinline)) void trace_register_call(const module_t *m, const char *function)
{
    bool client = m->is_client;
    if (client) {
        fuzz_trace_event("%s(%s npi%u %s detach=%s cleanup=%s decline=%x inst.v%u) at %s",
                         function, m->name, m->npi, client_policy_names[m->policy],
                         detach_mode_names[m->detach_mode], m->has_cleanup ? "yes" : "NULL",
                         m->decline_mask, (unsigned)m->chars.client.ClientRegistrationInstance.Version,
                         kshim_irql_name(KeGetCurrentIrql()));
    } else {
        fuzz_trace_event("%s(%s npi%u %s%s%s detach=%s cleanup=%s inst.v%u) at %s", function,
                         m->name, m->npi, provider_policy_names[m->policy],
                         m->policy == PROVIDER_FAIL ? ":" : "",
                         m->policy == PROVIDER_FAIL ? fuzz_status_str(m->fail_status) : "",
                         detach_mode_names[m->detach_mode], m->has_cleanup ? "yes" : "NULL",
                         (unsigned)m->chars.provider.ProviderRegistrationInstance.Version,
                         kshim_irql_name(KeGetCurrentIrql()));
    }
}

/* Register module m with the behaviour bits of the input format; from an operation, or
   nested inside a callback (another thread registering at that moment). */
static void do_register(module_t *m, unsigned npi, uint8_t behaviour, uint8_t extra)
{
    bool client = m->is_client;
    const char *function = client ? "NmrRegisterClient" : "NmrRegisterProvider";

    if (m->state != MODULE_FREE) {
        fuzz_trace_event("%s(%s): already registered, skipped", function, m->name);
        return;
    }
    if (!records_available()) {
        fuzz_trace_event("%s(%s): binding table full, skipped", function, m->name);
        return;
    }
    if (KeGetCurrentIrql() != PASSIVE_LEVEL || w.reg_depth == 2) {
        fuzz_trace_event("%s(%s): not at PASSIVE_LEVEL here, skipped", function, m->name);
        return;
    }
    m->npi = npi % w.npi_count;
    m->policy = behaviour & 3;
    if (client && m->policy == 3) {
        m->policy = CLIENT_ATTACH;
    }
    m->detach_mode = (detach_mode_t)((behaviour >> 2) & 3);
    if (m->detach_mode == 3) {
        m->detach_mode = DETACH_SUCCESS;
    }
    m->has_cleanup = (behaviour & 0x10) == 0;
    m->decline_mask = client ? (extra & 0xfu) : 0;
    m->fail_status = provider_errors[extra % 3];
    m->gen++;
    fill_characteristics(m, behaviour);

    /* Attaches the model predicts: registered peers of the NPI that are not deregistering
       (including one still inside an outer NmrRegister*, which is already published), in
       their registration order. */
    struct reg_frame *reg = predict_attaches(m);
    trace_register_call(m, function);

    unsigned long injected_before = kshim_fault_injected_calls();
    unsigned long attributed_before = w.injected_attributed;
    unsigned long callbacks_before = w.callbacks;
    unsigned long live_before = nmr_live_object_count();
    m->state = MODULE_REGISTERING;
    m->handle = UNWRITTEN;
    m->reg_order = ++w.reg_counter;
    fuzz_trace_enter();
    fuzz_call_t *frame = call_begin(function, true);
    reg->call_id = frame->id;
    w.reg_depth++;
    NTSTATUS status = fuzz_module_register(&m->chars, client, m, &m->handle);
    w.reg_depth--;
    call_end(frame);
    fuzz_trace_leave();
    /* Faults injected in this call itself, not in a register nested inside it. */
    unsigned long own = (kshim_fault_injected_calls() - injected_before) -
                        (w.injected_attributed - attributed_before);
    w.injected_attributed += own;
    bool injected = own != 0;

    if (injected) {
        const char *site = kshim_fault_last_injected_site();
        fuzz_trace_event("fault injected at %s", site ? site : "?");
    }
    if (status == STATUS_SUCCESS) {
        m->handle_ordinal = fuzz_handle_issue(m->handle, function);
        fuzz_trace_event("%s -> %s, handle h%u", function, fuzz_status_str(status),
                         m->handle_ordinal);
    } else {
        fuzz_trace_event("%s -> %s", function, fuzz_status_str(status));
    }
    if (injected != (status == STATUS_INSUFFICIENT_RESOURCES)) {
        fuzz_oracle_fail("%s returned %s although %s", function, fuzz_status_str(status),
                    injected ? "an allocation failure was injected during the call"
                             : "no failure was injected");
    }
    if (injected) {
        if (w.callbacks != callbacks_before) {
            fuzz_oracle_fail("%s failed with STATUS_INSUFFICIENT_RESOURCES after making %lu callback(s)",
                        function, w.callbacks - callbacks_before);
        }
        if (nmr_live_object_count() != live_before) {
            fuzz_oracle_fail("%s failed but left %lu object(s) behind", function,
                        nmr_live_object_count() - live_before);
        }
        m->state = MODULE_FREE;
        return;
    }
    if (status != STATUS_SUCCESS) {
        fuzz_oracle_fail("%s returned %s for valid characteristics", function, fuzz_status_str(status));
    }
    if (reg->next != reg->expected_count) {
        fuzz_oracle_fail("%s returned without attaching to %s (predicted %u attach(es), saw %u)",
                    function, reg->expected[reg->next]->name, reg->expected_count, reg->next);
    }
    m->state = MODULE_REGISTERED;
    w.live_objects++;
}

/* ---- the input's decisions (labels and names of the input lines; header comment) ---- */

static const char *const no_yes[2] = {"no", "yes"};
static const char *const op_names[8] = {"register_client", "register_provider",
                                        "deregister_client", "deregister_provider",
                                        "wait_client", "wait_provider", "complete", "hook"};
/* Client slot of a register or deregister (module_names[1]), provider slot ([0]). */
static const fuzz_bits_t register_slot_bits[2][2] = {
    {{"slot", 2, module_names[0]}, {"npi", 6, NULL}},
    {{"slot", 2, module_names[1]}, {"npi", 6, NULL}},
};
static const char *const client_attach_names[4] = {"attach", "retry", "decline", "attach"};
static const char *const provider_attach_names[4] = {"accept", "accept_older", "decline", "fail"};
static const char *const detach_names[4] = {"success", "pending", "pending_inline", "success"};
static const char *const cleanup_names[2] = {"yes", "no"};
static const char *const module_id_names[2] = {"guid", "luid"};
static const fuzz_bits_t behaviour_bits[2][6] = {
    {{"attach", 2, provider_attach_names}, {"detach", 2, detach_names},
     {"cleanup", 1, cleanup_names}, {"instance_version", 1, NULL}, {"npi_data", 1, no_yes},
     {"module_id", 1, module_id_names}},
    {{"attach", 2, client_attach_names}, {"detach", 2, detach_names},
     {"cleanup", 1, cleanup_names}, {"instance_version", 1, NULL}, {"npi_data", 1, no_yes},
     {"module_id", 1, module_id_names}},
};
/* A client's provider slots to decline, as a set. */
static const char *const decline_names[16] = {
    "none",  "P0",    "P1",    "P0+P1",    "P2",    "P0+P2",    "P1+P2",    "P0+P1+P2",
    "P3",    "P0+P3", "P1+P3", "P0+P1+P3", "P2+P3", "P0+P2+P3", "P1+P2+P3", "P0+P1+P2+P3"};
static const fuzz_bits_t decline_bits[1] = {{"decline", 4, decline_names}};
static const char *const provider_error_names[3] = {"unsuccessful", "insufficient_resources",
                                                    "not_supported"};
static const fuzz_bits_t deregister_bits[2][2] = {
    {{"slot", 2, module_names[0]}, {"at_dispatch", 1, no_yes}},
    {{"slot", 2, module_names[1]}, {"at_dispatch", 1, no_yes}},
};
static const fuzz_bits_t wait_bits[2][3] = {
    {{"slot", 2, module_names[0]}, {"force", 1, no_yes}, {"early", 1, no_yes}},
    {{"slot", 2, module_names[1]}, {"force", 1, no_yes}, {"early", 1, no_yes}},
};
static const fuzz_bits_t complete_bits[2] = {{"at_dispatch", 1, no_yes}, {"side", 7, NULL}};
static const char *const hook_at_names[HOOK_POINT_COUNT] = {
    "client_attach", "client_attach_after", "provider_attach", "client_detach",
    "provider_detach", "cleanup"};
static const char *const hook_action_names[HOOK_ACTION_COUNT] = {
    "deregister_client", "deregister_provider", "complete", "register_client",
    "register_provider"};
static const fuzz_digit_t hook_action_digits[2] = {{"action", HOOK_ACTION_COUNT, hook_action_names},
                                                   {"arg", 0, NULL}};
static const fuzz_bits_t config_bits[4] = {{"detach_at_dispatch", 1, no_yes},
                                           {"cleanup_at_dispatch", 1, no_yes},
                                           {"provider_detach_first", 1, no_yes},
                                           {"three_npis", 1, no_yes}};
static const char *const fault_names[4] = {"off", "transient", "persistent", "off"};
static const fuzz_bits_t fault_bits[2] = {{"fault", 2, fault_names}, {"fault_after", 6, NULL}};

static void op_register(bool client)
{
    unsigned slot_npi[2], b[6];
    fuzz_take_packed_as(&w.in, register_slot_bits[client], 2, slot_npi);
    fuzz_take_packed_as(&w.in, behaviour_bits[client], 6, b);
    uint8_t behaviour = (uint8_t)(b[0] | b[1] << 2 | b[2] << 4 | b[3] << 5 | b[4] << 6 | b[5] << 7);
    uint8_t extra;
    if (client) {
        unsigned decline;
        fuzz_take_packed_as(&w.in, decline_bits, 1, &decline);
        extra = (uint8_t)decline; /* a client uses extra & 0xf only */
    } else {
        extra = (uint8_t)fuzz_take_enum_as(&w.in, "error", provider_error_names, 3);
    }
    module_t *m = client ? client_slot(slot_npi[0]) : provider_slot(slot_npi[0]);
    fuzz_trace_set_thread(m->name);
    do_register(m, slot_npi[1], behaviour, extra);
}

static void op_deregister(bool client)
{
    unsigned a[2];
    fuzz_take_packed_as(&w.in, deregister_bits[client], 2, a);
    module_t *m = client ? client_slot(a[0]) : provider_slot(a[0]);
    fuzz_trace_set_thread(m->name);
    if (m->state != MODULE_REGISTERED) {
        fuzz_trace_event("%s(%s): not registered, skipped",
                         client ? "NmrDeregisterClient" : "NmrDeregisterProvider", m->name);
        return;
    }
    do_deregister(m, a[1] != 0);
}

static __attribute__((noinline)) void do_wait(module_t *m, bool force)
{
    const char *function =
        m->is_client ? "NmrWaitForClientDeregisterComplete" : "NmrWaitForProviderDeregisterComplete";
    if (outstanding_bindings(m) != 0) {
        if (!force) {
            fuzz_trace_event("%s(%s): would block (%u binding(s) not cleaned up), skipped",
                             function, m->name, outstanding_bindings(m));
            return;
        }
        side_t *pending[2 * MAX_RECORDS];
        unsigned n = list_pending(pending, 2 * MAX_RECORDS, m);
        const char *saved = fuzz_trace_thread();
        fuzz_trace_set_thread("worker");
        for (unsigned i = 0; i < n; i++) {
            if (pending[i]->state == SIDE_PENDING) {
                do_complete(pending[i], false);
            }
        }
        fuzz_trace_set_thread(saved);
        if (outstanding_bindings(m) != 0) {
            fuzz_oracle_fail("%s(%s): %u binding(s) still not cleaned up after completing every "
                        "pending detach",
                        function, m->name, outstanding_bindings(m));
        }
    }
    fuzz_trace_event("%s(%s h%u)", function, m->name, m->handle_ordinal);
    unsigned long callbacks_before = w.callbacks;
    fuzz_trace_enter();
    fuzz_call_t *frame = call_begin(function, false);
    NTSTATUS status = fuzz_module_wait(m->is_client, m->handle);
    call_end(frame);
    fuzz_trace_leave();
    fuzz_trace_event("%s -> %s", function, fuzz_status_str(status));
    if (status != STATUS_SUCCESS) {
        fuzz_oracle_fail("%s(%s) returned %s after deregistration with every binding cleaned up",
                    function, m->name, fuzz_status_str(status));
    }
    if (w.callbacks != callbacks_before) {
        fuzz_oracle_fail("%s(%s) made callbacks although every binding was cleaned up", function,
                    m->name);
    }
    m->state = MODULE_FREE;
    w.live_objects--;
}

static void op_wait(bool client)
{
    unsigned bits[3];
    fuzz_take_packed_as(&w.in, wait_bits[client], 3, bits);
    unsigned a = bits[0] | bits[1] << 2 | bits[2] << 3;
    module_t *m = client ? client_slot(a & 3) : provider_slot(a & 3);
    const char *function =
        client ? "NmrWaitForClientDeregisterComplete" : "NmrWaitForProviderDeregisterComplete";
    fuzz_trace_set_thread(m->name);
    if (m->state == MODULE_REGISTERED && (a & 8)) {
        fuzz_trace_event("%s(%s h%u) before deregistration", function, m->name, m->handle_ordinal);
        fuzz_trace_enter();
        fuzz_call_t *frame = call_begin(function, false);
        NTSTATUS status = fuzz_module_wait(client, m->handle);
        call_end(frame);
        fuzz_trace_leave();
        fuzz_trace_event("%s -> %s", function, fuzz_status_str(status));
        if (status != STATUS_INVALID_PARAMETER) {
            fuzz_oracle_fail("%s before NmrDeregister* returned %s, expected STATUS_INVALID_PARAMETER",
                        function, fuzz_status_str(status));
        }
        fuzz_warning_expect("R8");
        return;
    }
    if (m->state != MODULE_DEREGISTERING) {
        fuzz_trace_event("%s(%s): not deregistering, skipped", function, m->name);
        return;
    }
    do_wait(m, (a & 4) != 0);
}

static void op_complete(void)
{
    unsigned a[2];
    fuzz_take_packed_as(&w.in, complete_bits, 2, a);
    fuzz_trace_set_thread("worker");
    complete_pick(a[1], a[0] != 0);
}

static void op_hook(void)
{
    unsigned point = fuzz_take_enum_as(&w.in, "at", hook_at_names, HOOK_POINT_COUNT);
    unsigned action[2];
    fuzz_take_digits_as(&w.in, hook_action_digits, 2, action);
    w.hook.armed = true;
    w.hook.point = (hook_point_t)point;
    w.hook.action = (hook_action_t)action[0];
    w.hook.arg = action[1];
    fuzz_trace_set_thread("hook");
    switch (w.hook.action) {
    case HOOK_DEREGISTER_CLIENT:
        fuzz_trace_event("arm: at %s, deregister C%u", hook_point_names[w.hook.point],
                         w.hook.arg & 3);
        break;
    case HOOK_DEREGISTER_PROVIDER:
        fuzz_trace_event("arm: at %s, deregister P%u", hook_point_names[w.hook.point],
                         w.hook.arg & 3);
        break;
    case HOOK_REGISTER_CLIENT:
    case HOOK_REGISTER_PROVIDER:
        fuzz_trace_event("arm: at %s, register %s%u", hook_point_names[w.hook.point],
                         w.hook.action == HOOK_REGISTER_CLIENT ? "C" : "P", w.hook.arg & 3);
        break;
    default:
        fuzz_trace_event("arm: at %s, complete pending side #%u", hook_point_names[w.hook.point],
                         w.hook.arg);
        break;
    }
}

/* After every operation: the registrar agrees with the model. An operation that made no NMR
   call (skipped, or a hook armed) changed neither the registrar nor the model, which
   changes only in calls and their callbacks: the previous check's verdict stands. */
static void check_after_operation(void)
{
    if (fuzz_call_depth() != 0 || KeGetCurrentIrql() != PASSIVE_LEVEL) {
        fuzz_oracle_fail("harness: operation left %u call frame(s) or IRQL %s", fuzz_call_depth(),
                    kshim_irql_name(KeGetCurrentIrql()));
    }
    if (w.checked && fuzz_calls_begun() == w.calls_checked) {
        return;
    }
    w.checked = true;
    w.calls_checked = fuzz_calls_begun();
    for (unsigned k = 0; k < w.live_count; k++) {
        const record_t *r = &w.records[w.live[k]];
        unsigned i = w.live[k];
        if (r->state == RECORD_PROPOSED) {
            fuzz_oracle_fail("binding b%u: ClientAttachProvider never returned", i);
        }
        if (r->state == RECORD_ATTACHED && (r->side[0].state == SIDE_IN_DETACH ||
                                            r->side[1].state == SIDE_IN_DETACH)) {
            fuzz_oracle_fail("binding b%u: a detach callback never returned", i);
        }
    }
    unsigned long live = nmr_check_invariants(); /* and nmr_live_object_count() */
    if (live != model_live_objects()) {
        fuzz_oracle_fail("nmr_live_object_count() is %lu, the model has %lu live object(s)", live,
                    model_live_objects());
    }
    fuzz_warnings_check();
}

/* Deregister and wait for everything still registered, completing pending detaches. */
static __attribute__((noinline)) void teardown(void)
{
    w.hook.armed = false;
    for (unsigned role = 0; role < 2; role++) {
        module_t *array = role == 0 ? w.clients : w.providers;
        for (unsigned i = 0; i < MAX_PEERS; i++) {
            if (array[i].state == MODULE_REGISTERED) {
                fuzz_trace_set_thread(array[i].name);
                do_deregister(&array[i], false);
                check_after_operation();
            }
        }
    }
    fuzz_trace_set_thread("worker");
    for (;;) {
        side_t *pending[1];
        if (list_pending(pending, 1, NULL) == 0) {
            break;
        }
        do_complete(pending[0], false);
        check_after_operation();
    }
    for (unsigned role = 0; role < 2; role++) {
        module_t *array = role == 0 ? w.clients : w.providers;
        for (unsigned i = 0; i < MAX_PEERS; i++) {
            if (array[i].state == MODULE_DEREGISTERING) {
                fuzz_trace_set_thread(array[i].name);
                do_wait(&array[i], true);
                check_after_operation();
            }
        }
    }
}

static __attribute__((noinline)) void world_reset(void)
{
    kshim_unchecked_memset(&w, 0, sizeof w); /* the static world, its own sizeof */
    w.records = binding_records;
    for (unsigned role = 0; role < 2; role++) {
        module_t *array = role == 0 ? w.clients : w.providers;
        for (unsigned i = 0; i < MAX_PEERS; i++) {
            module_t *m = &array[i]; /* zeroed with w */
            m->magic = MODULE_MAGIC;
            m->is_client = role == 0;
            m->index = i;
            m->name = module_names[m->is_client][i];
            m->state = MODULE_FREE;
            for (unsigned d = 0; d < 2; d++) {
                m->dispatch[d].magic = DISPATCH_MAGIC;
                m->dispatch[d].owner = i;
                m->dispatch[d].version = d + 1;
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_oracle_configure(operation_context, true);
    fuzz_trace_set_recent(false); /* libFuzzer runs: failures point to the replay */
    fuzz_run_begin();
    world_reset();
    fuzz_input_init(&w.in, data, size);
    fuzz_trace_reset();

    fuzz_trace_set_thread("main");
    unsigned config[4], fault[2];
    fuzz_take_packed_as(&w.in, config_bits, 4, config);
    fuzz_take_packed_as(&w.in, fault_bits, 2, fault);
    nmr_verifier_get_config(&w.config);
    w.config.warnings_are_fatal = FALSE;
    w.config.warnings_are_printed = fuzz_trace_output() != NULL;
    w.config.detach_at_dispatch = config[0] != 0;
    w.config.cleanup_at_dispatch = config[1] != 0;
    w.config.provider_detach_first = config[2] != 0;
    nmr_verifier_set_config(&w.config);
    w.npi_count = config[3] ? 3 : 2;

    kshim_fault_plan_t plan = {KSHIM_FAULT_OFF, 0, NULL, 0};
    unsigned fault_mode = fault[0];
    if (fault_mode == 1 || fault_mode == 2) {
        plan.mode = fault_mode == 1 ? KSHIM_FAULT_TRANSIENT : KSHIM_FAULT_PERSISTENT;
        plan.nth = 1u + fault[1];
    }
    kshim_fault_set_plan(&plan);

    fuzz_trace_set_thread("main");
    fuzz_trace_event("config: npis=%u detach_at_dispatch=%u cleanup_at_dispatch=%u "
                     "provider_detach_first=%u; fault plan: %s nth=%u",
                     w.npi_count, (unsigned)w.config.detach_at_dispatch,
                     (unsigned)w.config.cleanup_at_dispatch,
                     (unsigned)w.config.provider_detach_first,
                     plan.mode == KSHIM_FAULT_OFF         ? "off"
                     : plan.mode == KSHIM_FAULT_TRANSIENT ? "transient"
                                                          : "persistent",
                     (unsigned)plan.nth);

    for (w.op_index = 0; w.op_index < MAX_OPS && !fuzz_input_exhausted(&w.in); w.op_index++) {
        fuzz_trace_set_thread("main"); /* the thread of the operation's input line only:
                                          every operation sets its own before its events */
        switch (fuzz_take_enum_as(&w.in, "op", op_names, 8)) {
        case 0:
            op_register(true);
            break;
        case 1:
            op_register(false);
            break;
        case 2:
            op_deregister(true);
            break;
        case 3:
            op_deregister(false);
            break;
        case 4:
            op_wait(true);
            break;
        case 5:
            op_wait(false);
            break;
        case 6:
            op_complete();
            break;
        default:
            op_hook();
            break;
        }
        check_after_operation();
    }
    fuzz_input_finish(&w.in); /* bytes after MAX_OPS operations */

    fuzz_trace_set_thread("main");
    fuzz_trace_event("end of input after %u operation(s): teardown", w.op_index);
    teardown();
    if (w.live_count != 0) {
        fuzz_oracle_fail("teardown: binding b%u was never cleaned up", w.live[0]);
    }
    fuzz_run_audit(NULL, 0);
    fuzz_run_end();
    fuzz_trace_set_thread("main");
    fuzz_trace_event("audit ok: %u callback(s), %u binding record(s), %u warning(s)",
                     (unsigned)w.callbacks, w.record_count, (unsigned)fuzz_warnings_expected());
    return 0;
}
