/* SPDX-License-Identifier: MIT */
/*
 * fuzz_nmr_contract.c - fuzz target whose modules break the NMR contract on purpose.
 *
 * Where fuzz_nmr_ops only has well-behaved modules, here the input may make one module break
 * one rule of nmr-spec.md section 3 at an input-chosen moment, and the oracle is that the
 * registrar answers exactly as docs/behaviour.md says: the documented status, a verifier
 * warning, or a verifier stop of exactly the predicted rule at exactly the predicted moment.
 * A stop is caught with the shim's stop trap (kshim_stop_trap_arm), so it is an expected
 * outcome of the input rather than a crash; afterwards nmr_reset() must recover the registrar.
 *
 * World: one simulated thread (main; no harness threads, no work items, so a caught stop
 * never crosses threads), clients C0 C1 and providers P0 P1 of one or two NPIs. Every call
 * the input makes, at top level or from inside a callback (a hook), goes through one
 * prediction per NMR function (predict_*), which resolves the handle passed (its kind, and
 * whether its object is live or stale, from the handles the modules have seen) against a
 * model of registrations, bindings and binding sides, and the calling context (IRQL, the
 * callouts in progress on the thread), in the order docs/behaviour.md lists the checks:
 *   NmrRegister*       R4 above PASSIVE; R10 warnings (characteristics Version, ModuleId Type)
 *   NmrDeregister*     R4 above DISPATCH; R9 unknown, wrong-kind, stale handle, double
 *                      deregistration; else STATUS_PENDING and detaches
 *   NmrWaitFor*        R4 at DISPATCH or above; STATUS_INVALID_PARAMETER for an unknown
 *                      handle; R9 wrong-kind or stale; STATUS_INVALID_PARAMETER + warning R8
 *                      before the deregistration; D11 inside a callout of one of the
 *                      registration's bindings; D4 when a binding of it can never finish
 *                      (nothing else can run: hang_timeout_ms is 1); R1/R3 after a change;
 *                      else STATUS_SUCCESS
 *   NmrClientAttachProvider  R4 above PASSIVE; R9 unknown, registration, provider-side or
 *                      stale handle; A4 outside that binding's ClientAttachProvider or again
 *                      after a success; STATUS_INVALID_PARAMETER for NULL out parameters;
 *                      else the provider's status
 *   Nmr*DetachComplete R4 above DISPATCH; R9 unknown or registration handle; D5 for the other
 *                      side's handle, a stale handle, a side not detaching yet, detaching but
 *                      not entered yet, completed, or completed early twice; else accepted
 * and when a callback returns: A3 (success code other than STATUS_SUCCESS), A1 (SUCCESS
 * without a successful NmrClientAttachProvider), A2 (a status other than the last
 * NmrClientAttachProvider's), A8 (provider SUCCESS with an out parameter unwritten), A9
 * (provider error other than NOINTERFACE: warning), D6 (detach status other than SUCCESS or
 * PENDING), D5 (SUCCESS after an early completion). A change of the characteristics (R1) or of
 * the NpiId/ModuleId they point to (R3) is a deferred violation: it must stop at the first
 * callout into a binding of that module, or at its wait, and nowhere earlier.
 * With warnings_are_fatal every warning is a stop of its rule instead.
 *
 * One violation per input: the first call predicted to stop ends the input; while a change is
 * pending (deferred), anything else predicted to stop is skipped (calls) or replaced by the
 * well-behaved result (callback returns), and traced as such.
 *
 * Oracles (any failure prints "*** FUZZ ORACLE: <reason>" and the last events, and aborts):
 *   - a predicted stop is caught: KeBugCheckEx(NMR_INVALID_STATE, rule, handle, registration,
 *     0 | 1 for a fatal warning | 2 for D4) with the predicted rule id as parameter 1, inside
 *     the predicted call (or, after a bad callback return, before any further callback and
 *     before the call that made the callback returns); its verifier line starts
 *     "*** NMR VERIFIER STOP <rule>: <function>:" and names the predicted module (or none);
 *     a D4 report lists one line per unfinished binding;
 *   - no other stop (verifier or shim) ever happens, and a call predicted to stop does not
 *     return; every predicted status is returned; warnings are counted exactly as predicted
 *     (count and last rule);
 *   - callbacks (as in a reduced fuzz_nmr_ops model): attach only for predicted proposals, in
 *     order, with the module's own context and the peer's own instance (NmrIsEqualNpiModuleId
 *     agrees); detach only for sides whose detach was requested, each once, within the call
 *     that requested it; cleanup only after both sides completed, client first, within the
 *     call that completed the last side; nmr_live_object_count() and nmr_check_invariants()
 *     agree with the model after every operation;
 *   - after a caught stop: nmr_reset() drops between the model's certainly-live and
 *     possibly-live object counts, the registrar then holds nothing (invariants, live count,
 *     no pool left with the registrar's tags), the modules free their binding contexts, and
 *     kshim_audit passes (IRQL PASSIVE, no lock held, no pending work, pool at baseline);
 *   - without a stop: everything is deregistered and waited for (pending detaches completed),
 *     a pending change must have been caught by then, then the same audit and nmr_reset() == 0.
 *
 * Input format (labelled takes, bit fields from bit 0; replay -print shows every decision as
 * "> label=value" input lines, and -encode turns such lines back into bytes):
 *   byte 0  npis one|two, detach_irql passive|dispatch (detach_at_dispatch), cleanup_irql
 *           passive|dispatch, detach_order client_first|provider_first, warnings
 *           counted|fatal (warnings_are_fatal), 3 unused bits
 *   then at most 64 operations: op (byte % 7) and its operands. Shared fields:
 *     who     3 bits: self peer c0 c1 p0 p1 self peer; in a hook, self is the callback's module
 *             (and binding) and peer the other module of that binding; at top level they are
 *             C0 and P0
 *     handle  3 bits: own (the actor's own handle for the call) stale (an issued handle of the
 *             expected kind whose object is gone) client_reg provider_reg client_side
 *             provider_side (a handle of that kind the modules have seen) null forged (never
 *             an NMR handle: pick bit 3 set, the value pick % 8; else an address of the
 *             harness + pick % 8)
 *     irql    2 bits: passive apc dispatch high (the call is made at that IRQL, or at the
 *             current one if higher)
 *     pick    1 byte: which handle of the kind (most recent first), which binding of the actor
 *             (binding order, among those whose handle it has seen), or the forged offset
 *   0 register    byte: who, npi (1 bit), irql, 2 unused bits; byte: policy (2 bits: accept
 *                 decline fail accept; a client accepts by calling NmrClientAttachProvider and
 *                 fails by returning error E without calling it; a provider that fails returns
 *                 E: warning A9), detach (2 bits: success pending inline success; inline
 *                 completes inside the callback, then returns STATUS_PENDING), cleanup (1 bit:
 *                 yes no), id (2 bits: guid luid bad_type bad_version; the last two are R10
 *                 warnings), 1 unused bit; byte error: E = error table[error % 7]
 *   1 deregister  byte: who, handle, irql; pick
 *   2 wait        as deregister, then byte force (yes: first complete the pending detaches of
 *                 the registration's bindings, as another thread would; no: a wait that can
 *                 never finish is the D4 violation)
 *   3 complete    as deregister: the actor completes its side of the picked binding with its
 *                 own function (a client: NmrClientDetachProviderComplete)
 *   4 attach      as deregister (the actor must be a client), then byte null_outs (% 4: none
 *                 context dispatch both: the out parameters passed as NULL):
 *                 NmrClientAttachProvider from outside ClientAttachProvider
 *   5 change      byte: who, what (2 bits: version number npi module_id; the first two change
 *                 the characteristics (R1), the last two the NpiId/ModuleId they point to
 *                 (R3)), field (3 bits: which field or byte; 0 the what itself, see
 *                 change_characteristics and change_identity: every field of the
 *                 characteristics, pointers included, and every byte of both ids)
 *   6 hook        byte: point (3 bits: client_attach client_attach_after provider_attach
 *                 client_detach provider_detach client_cleanup provider_cleanup any), module
 *                 (3 bits: any c0 c1 p0 p1 any any any), 2 unused bits; byte action (% 7:
 *                 register deregister wait complete attach change return) and that action's
 *                 operands as above (return: byte kind (3 bits), status (4 bits), 1 unused).
 *                 Two hooks may be armed (a third replaces the oldest); each runs once, at the
 *                 next matching callback, never inside another hook's action. "return" changes
 *                 what the callback returns (kind modulo the callback's kinds): client attach
 *                 0 SUCCESS anyway, 1 another failure status, 2 a success code
 *                 (STATUS_PENDING, STATUS_TIMEOUT, 1, 0x40000000), 3 NULL out parameters for
 *                 its NmrClientAttachProvider (status % 3: context, dispatch, both),
 *                 4 NmrClientAttachProvider twice; provider attach
 *                 0 a success code, 1 / 2 / 3 STATUS_SUCCESS with ProviderBindingContext /
 *                 ProviderDispatch / both unwritten, 4 an error other than NOINTERFACE; detach
 *                 0 a status other than SUCCESS and PENDING, 1 complete inside, then return
 *                 SUCCESS, 2 complete inside twice
 * Operations that do not apply (slot busy, no such handle or binding, nested too deep, a stop
 * while a change is pending) are skipped and traced; their operands are read all the same.
 *
 * Standalone (any build, no libFuzzer):
 *     build/<preset>/fuzz/fuzz_nmr_contract_replay [-runs=N] [-print] corpus/fuzz_nmr_contract
 * Fuzzing (fuzz preset):
 *     build/fuzz/fuzz/fuzz_nmr_contract -max_len=256 /tmp/nmr-contract corpus/fuzz_nmr_contract
 * Seeds: fuzz/examples/fuzz_nmr_contract-*.txt (text inputs; -encode=OUT turns one into bytes).
 * Target functions: every NMR function of netioddk.h and every verifier stop and warning a
 * module can cause (src/nmr_*.c: nmr_verifier_stop, nmr_verifier_warn, the D4 report).
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
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

#define SLOTS 2          /* modules per role */
#define MODULES (2 * SLOTS)
#define MAX_OPS 64
#define MAX_RECORDS 96   /* binding records (proposals) per input */
#define MAX_HANDLES 320  /* handles the modules have seen per input (<= 64 + 2 * 96) */
#define MAX_CALLOUTS 16
#define MAX_ATTACHES 8   /* NmrClientAttachProvider calls in progress (nested) */
#define MAX_HOOKS 2       /* hooks armed at a time */
#define HANG_TIMEOUT_MS 1
#define PRINTED_MAX 8192

/* Pool tags of the modules' binding contexts ("FzCb", "FzPb" in a debugger). */
#define TAG_CLIENT_CONTEXT KSHIM_POOL_TAG('F', 'z', 'C', 'b')
#define TAG_PROVIDER_CONTEXT KSHIM_POOL_TAG('F', 'z', 'P', 'b')

#define CONTEXT_MAGIC 0x43747846u /* "FxtC" */

/* ------------------------------------------------------------------------------------------ */
/* Input vocabulary                                                                           */
/* ------------------------------------------------------------------------------------------ */

static const char *const npi_names[2] = {"one", "two"};
static const char *const irql_cfg_names[2] = {"passive", "dispatch"};
static const char *const order_names[2] = {"client_first", "provider_first"};
static const char *const warning_names[2] = {"counted", "fatal"};
static const fuzz_bits_t config_bits[] = {
    {"npis", 1, npi_names},           {"detach_irql", 1, irql_cfg_names},
    {"cleanup_irql", 1, irql_cfg_names}, {"detach_order", 1, order_names},
    {"warnings", 1, warning_names},   {"unused", 3, NULL},
};

typedef enum op_kind {
    OP_REGISTER,
    OP_DEREGISTER,
    OP_WAIT,
    OP_COMPLETE,
    OP_ATTACH,
    OP_CHANGE,
    OP_HOOK,
    OP_COUNT
} op_kind_t;
static const char *const op_names[OP_COUNT] = {"register", "deregister", "wait",   "complete",
                                               "attach",   "change",     "hook"};

typedef enum action_kind {
    ACT_REGISTER,
    ACT_DEREGISTER,
    ACT_WAIT,
    ACT_COMPLETE,
    ACT_ATTACH,
    ACT_CHANGE,
    ACT_RETURN,
    ACT_COUNT
} action_kind_t;
static const char *const action_names[ACT_COUNT] = {"register", "deregister", "wait",  "complete",
                                                    "attach",   "change",     "return"};

/* who: 0 self, 1 peer (in a hook: the callback's module and the other module of its binding;
   at top level: C0 and P0), 2..5 C0 C1 P0 P1, 6 self, 7 peer. */
static const char *const who_names[8] = {"self", "peer", "c0", "c1", "p0", "p1", "self", "peer"};
static const char *const irql_names[4] = {"passive", "apc", "dispatch", "high"};
static const KIRQL irql_levels[4] = {PASSIVE_LEVEL, APC_LEVEL, DISPATCH_LEVEL, HIGH_LEVEL};

typedef enum handle_variant {
    H_OWN,
    H_STALE,
    H_CLIENT_REG,
    H_PROVIDER_REG,
    H_CLIENT_SIDE,
    H_PROVIDER_SIDE,
    H_NULL,
    H_FORGED,
} handle_variant_t;
static const char *const handle_names[8] = {"own",         "stale",         "client_reg",
                                            "provider_reg", "client_side",  "provider_side",
                                            "null",        "forged"};

static const fuzz_bits_t call_bits[] = {
    {"who", 3, who_names}, {"handle", 3, handle_names}, {"irql", 2, irql_names}};
static const char *const policy_names[4] = {"accept", "decline", "fail", "accept"};
static const char *const detach_names[4] = {"success", "pending", "inline", "success"};
static const char *const yes_no[2] = {"yes", "no"};
static const char *const id_names[4] = {"guid", "luid", "bad_type", "bad_version"};
static const fuzz_bits_t register_bits[] = {
    {"who", 3, who_names}, {"npi", 1, NULL}, {"irql", 2, irql_names}, {"unused", 2, NULL}};
static const fuzz_bits_t behaviour_bits[] = {{"policy", 2, policy_names},
                                             {"detach", 2, detach_names},
                                             {"cleanup", 1, yes_no},
                                             {"id", 2, id_names},
                                             {"unused", 1, NULL}};
/* NmrClientAttachProvider's out parameters passed as NULL (bit 0 the context, bit 1 the
   dispatch). */
#define NULL_CONTEXT 1u
#define NULL_DISPATCH 2u
static const char *const null_outs_names[4] = {"none", "context", "dispatch", "both"};
static const char *const what_names[4] = {"version", "number", "npi", "module_id"};
static const fuzz_bits_t change_bits[] = {
    {"who", 3, who_names}, {"what", 2, what_names}, {"field", 3, NULL}};
static const char *const point_names[8] = {"client_attach",   "client_attach_after",
                                           "provider_attach", "client_detach",
                                           "provider_detach", "client_cleanup",
                                           "provider_cleanup", "any"};
static const char *const filter_names[8] = {"any", "c0", "c1", "p0", "p1", "any", "any", "any"};
static const fuzz_bits_t hook_bits[] = {
    {"point", 3, point_names}, {"module", 3, filter_names}, {"unused", 2, NULL}};
static const fuzz_bits_t return_bits[] = {
    {"kind", 3, NULL}, {"status", 4, NULL}, {"unused", 1, NULL}};

typedef enum hook_point {
    HP_CLIENT_ATTACH,
    HP_CLIENT_ATTACH_AFTER,
    HP_PROVIDER_ATTACH,
    HP_CLIENT_DETACH,
    HP_PROVIDER_DETACH,
    HP_CLIENT_CLEANUP,
    HP_PROVIDER_CLEANUP,
    HP_ANY,
} hook_point_t;

/* Statuses a misbehaving module returns (the NMR names each in its message). */
static const NTSTATUS error_statuses[8] = {
    STATUS_UNSUCCESSFUL,      STATUS_INVALID_PARAMETER, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_NO_MEMORY,         STATUS_NOT_SUPPORTED,     (NTSTATUS)0xC0001234,
    (NTSTATUS)0x80000005,     STATUS_NOINTERFACE, /* last: not for A9/provider "fail" */
};
static const NTSTATUS success_codes[4] = {STATUS_PENDING, STATUS_TIMEOUT, (NTSTATUS)0x00000001,
                                          (NTSTATUS)0x40000000};

/* ------------------------------------------------------------------------------------------ */
/* Model                                                                                      */
/* ------------------------------------------------------------------------------------------ */

typedef enum role { ROLE_CLIENT, ROLE_PROVIDER } role_t;

typedef enum module_state {
    M_FREE,          /* not registered (never, stopped before publishing, or its wait returned) */
    M_REGISTERING,   /* inside its NmrRegister*; no handle yet */
    M_REGISTERED,    /* NmrRegister* returned STATUS_SUCCESS */
    M_DEREGISTERING, /* NmrDeregister* returned; its wait has not */
} module_state_t;

typedef enum policy { POLICY_ACCEPT, POLICY_DECLINE, POLICY_FAIL } policy_t;
typedef enum detach_mode { DETACH_SUCCESS, DETACH_PENDING, DETACH_INLINE } detach_mode_t;
typedef enum id_kind { ID_GUID, ID_LUID, ID_BAD_TYPE, ID_BAD_VERSION } id_kind_t;

typedef struct module {
    role_t role;
    unsigned slot;
    const char *name;
    module_state_t state;
    unsigned gen;             /* registrations of this slot in this input */
    unsigned long reg_order;  /* order of its registration among all */
    unsigned npi;
    policy_t policy;
    NTSTATUS fail_status;
    detach_mode_t detach_mode;
    bool has_cleanup;
    id_kind_t id_kind;
    HANDLE handle;            /* NmrRegister*'s out parameter */
    bool has_handle;          /* handle holds a handle the NMR issued (live or stale) */
    NPIID npi_id;             /* the module's own NpiId (R3 may change it) */
    NPI_MODULEID module_id;   /* the module's own ModuleId (R3 may change it) */
    NPI_MODULEID registered_id; /* ModuleId at registration: what the verifier prints */
    NPI_MODULEID previous_id; /* ModuleId of the slot's previous registration (each differs) */
    NPIID npi_id_copy;        /* R1: an equal NpiId at another address (change field) */
    NPI_MODULEID module_id_copy; /* R1: an equal ModuleId at another address */
    fuzz_characteristics_t chars;
    int dispatch;             /* its dispatch table: only the address matters */
} module_t;

typedef enum record_state {
    R_PROPOSED,  /* created by a registration; its attach has not started */
    R_ATTACHING, /* ClientAttachProvider running (on this thread) */
    R_ATTACHED,
    R_DETACHING, /* detach requested; not both sides complete */
    R_CLEANING,  /* both sides complete; cleanups due or running */
    R_GONE,      /* destroyed: its handles are stale */
    R_DISCARDED, /* attach failed or never started: its handles are stale */
} record_state_t;

typedef enum side_state {
    S_NOT_DETACHING,
    S_QUEUED,    /* detach requested, callback not entered */
    S_IN_DETACH, /* callback running */
    S_EARLY,     /* completed while the callback runs */
    S_PENDING,   /* callback returned STATUS_PENDING */
    S_DONE,
} side_state_t;

typedef struct module_context {
    uint32_t magic;
    unsigned record;
    unsigned which;
} module_context_t;

typedef struct side {
    side_state_t state;
    bool returned_success;  /* its detach returned STATUS_SUCCESS */
    HANDLE handle;
    unsigned handle_ordinal; /* 0: the module has not seen it */
    void *context;          /* the binding context this side gave the NMR, or NULL */
    bool context_pooled;    /* a pool allocation of the module (freed in cleanup) */
    bool context_freed;
    bool cleanup_expected;  /* the module registered a cleanup callback */
    bool cleaned;
} side_t;

typedef struct record {
    record_state_t state;
    unsigned module[2];     /* [0] client slot, [1] provider slot */
    unsigned gen[2];        /* their registrations */
    bool attach_called;     /* NmrClientAttachProvider called for it */
    bool attach_succeeded;
    NTSTATUS last_attach_status;
    const void *client_dispatch;
    unsigned detach_owner;  /* call in which both detach callbacks must run */
    unsigned completer;     /* call in which the cleanups must run */
    side_t side[2];
} record_t;

typedef enum entity_kind {
    E_CLIENT_REG,
    E_PROVIDER_REG,
    E_CLIENT_SIDE,
    E_PROVIDER_SIDE,
} entity_kind_t;

typedef struct handle_entry {
    HANDLE handle;
    entity_kind_t kind;
    unsigned index; /* registration: module index (role * SLOTS + slot); binding: record */
    unsigned gen;   /* registration: its generation */
} handle_entry_t;

/* A callback in progress on the thread (for D11). */
typedef struct callout {
    unsigned record;
} callout_t;

typedef struct reg_frame {
    module_t *module;
    unsigned call_id;
    unsigned first, count; /* its proposals: records first .. first+count-1 */
    unsigned next;         /* proposals processed so far */
} reg_frame_t;

/* An action: an NMR call by a module (or a callback's return), decoded from the input. */
typedef struct action {
    action_kind_t kind;
    unsigned who, handle, irql, pick;
    bool flag;              /* wait: force */
    unsigned null_outs;     /* attach: NULL_CONTEXT | NULL_DISPATCH */
    unsigned npi;           /* register */
    unsigned behaviour[5];  /* register: policy detach cleanup id unused */
    unsigned error_pick;    /* register */
    unsigned what, field;   /* change */
    unsigned ret_kind, ret_status; /* return */
} action_t;

/* Callback context of a hook's action. */
typedef struct context {
    bool in_callback;
    hook_point_t point;
    unsigned record;
    unsigned which; /* side of the callback's module in record */
} context_t;

/* What the registrar must do with a call (or a callback's return). */
typedef struct outcome {
    bool stop;              /* a verifier stop of rule */
    const char *rule;       /* stop or warning rule */
    const char *function;   /* function the verifier line names (NULL: not checked) */
    bool named;             /* the line names `module` (else "module -") */
    const module_t *module;
    ULONG_PTR parameter4;   /* 0 stop, 1 fatal warning, 2 D4 */
    bool warn;              /* a warning (not a stop) */
    bool detects_change;    /* the stop is the detection of the pending change */
    NTSTATUS status;        /* the status when it does not stop */
    const char *why;        /* short reason, for the timeline */
} outcome_t;

typedef enum return_kind_client {
    RC_SUCCESS_ANYWAY,
    RC_OTHER_FAILURE,
    RC_SUCCESS_CODE,
    RC_NULL_OUTS,
    RC_TWICE,
    RC_COUNT
} return_kind_client_t;
typedef enum return_kind_provider {
    RP_SUCCESS_CODE,
    RP_UNWRITTEN_CONTEXT,
    RP_UNWRITTEN_DISPATCH,
    RP_UNWRITTEN_BOTH,
    RP_ERROR,
    RP_COUNT
} return_kind_provider_t;
typedef enum return_kind_detach {
    RD_BAD_STATUS,
    RD_COMPLETE_THEN_SUCCESS,
    RD_COMPLETE_TWICE,
    RD_COUNT
} return_kind_detach_t;

static const NPIID npi_ids[2] = {
    {0x6e6d7211, 0x0001, 0x4e50, {0x49, 0x00, 0x63, 0x6f, 0x6e, 0x74, 0x72, 0x61}},
    {0x6e6d7212, 0x0002, 0x4e50, {0x49, 0x00, 0x63, 0x6f, 0x6e, 0x74, 0x72, 0x61}},
};
static const char *const module_names[MODULES] = {"C0", "C1", "P0", "P1"};

/* Never an NMR handle: the NMR does not hand out addresses of the harness's own data. */
static uint64_t forged_anchor[2];
/* A forged handle that looks like a heap address (8-aligned; its serial is far above any
   the NMR issues), fixed rather than taken from forged_anchor so traces do not depend on
   the address layout. */
#define FORGED_HANDLE_ADDRESS ((uintptr_t)0x00007f5a1c0de000u)

/* The whole state of one input; reset at the start of every input. */
static struct world {
    fuzz_input_t in;
    unsigned op_index;
    unsigned npi_count;
    nmr_verifier_config_t config;
    unsigned long reg_counter;

    module_t modules[MODULES]; /* C0 C1 P0 P1 */
    record_t records[MAX_RECORDS];
    unsigned record_count;
    handle_entry_t handles[MAX_HANDLES];
    unsigned handle_count;

    callout_t callouts[MAX_CALLOUTS];
    unsigned callout_count;
    reg_frame_t regs[2];
    unsigned reg_depth;
    unsigned attaches[MAX_ATTACHES]; /* records of NmrClientAttachProvider calls in progress */
    struct {
        unsigned record;
        bool called;
        NTSTATUS status;
    } provider_result[MAX_ATTACHES];
    unsigned attach_depth;
    unsigned trace_depth; /* fuzz_trace_enter calls not yet left (unwound after a stop) */

    /* Armed hooks, in arming order; each fires once. Two may fire in one callback (e.g.
       deregister, then wait). Hooks never fire inside a hook's action. */
    struct hook {
        bool armed;
        hook_point_t point;
        unsigned filter;
        action_t action;
    } hooks[MAX_HOOKS];
    bool hook_running;
    /* A "return" action of a hook, for the callback that ran it. */
    struct {
        bool set;
        unsigned kind, status;
    } ret;

    /* The stop predicted for the call or callback return in progress. */
    struct {
        bool armed;
        bool in_call;     /* inside call `call_id`; else before the next callback or frame end */
        unsigned call_id;
        outcome_t outcome;
    } expect;
    /* A pending deferred violation (R1/R3), caught at the module's next checkpoint. */
    struct {
        bool pending;
        const char *rule;
        module_t *module;
        unsigned gen;
    } change;

    char printed[PRINTED_MAX]; /* DbgPrint output since the operation began */
    size_t printed_length;
} w;

/* Oracle failures name the operation of the input they happened in. */
static void operation_context(char *buffer, size_t size)
{
    snprintf(buffer, size, " (operation %u)", w.op_index);
}

static kshim_stop_trap_t trap;

/* ------------------------------------------------------------------------------------------ */
/* Oracle failures, tracing                                                                   */
/* ------------------------------------------------------------------------------------------ */

static void enter(void)
{
    fuzz_trace_enter();
    w.trace_depth++;
}

static void leave(void)
{
    fuzz_trace_leave();
    w.trace_depth--;
}

/* DbgPrint sink: every verifier line goes to the timeline (and to w.printed, for the oracle)
   instead of stderr. The lines hold handle values and module ids, which are the same in every
   run of an input. A run that records no events (libFuzzer's) keeps w.printed only. */
static void print_sink(const char *text, size_t length, void *context)
{
    (void)context;
    if (w.printed_length + length < sizeof w.printed) {
        /* Unchecked: text is the shim's own formatting buffer (print_message's, just written),
           and the bytes written are the static w.printed's, bounded by its sizeof above. */
        kshim_unchecked_memcpy(w.printed + w.printed_length, text, length);
        w.printed_length += length;
        w.printed[w.printed_length] = '\0';
    }
    if (!fuzz_trace_recording()) {
        return;
    }
    while (length > 0) {
        const char *end = memchr(text, '\n', length);
        size_t n = end ? (size_t)(end - text) : length;
        size_t skip = 0;
        while (skip < n && text[skip] == ' ') {
            skip++;
        }
        char line[FUZZ_TRACE_LINE_MAX];
        size_t copy = n - skip < sizeof line - 1 ? n - skip : sizeof line - 1;
        memcpy(line, text + skip, copy);
        line[copy] = '\0';
        if (copy > 0) {
            fuzz_trace_event("nmr: %s", line);
        }
        n += end ? 1 : 0;
        text += n;
        length -= n;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Model helpers                                                                              */
/* ------------------------------------------------------------------------------------------ */

static __attribute__((noinline)) module_t *module_at(role_t role, unsigned slot)
{
    return &w.modules[role * SLOTS + slot % SLOTS];
}

static unsigned module_index(const module_t *m)
{
    return m->role * SLOTS + m->slot;
}

static unsigned record_index(const record_t *r)
{
    return (unsigned)(r - w.records);
}

static module_t *record_module(const record_t *r, unsigned which)
{
    return module_at(which == 0 ? ROLE_CLIENT : ROLE_PROVIDER, r->module[which]);
}

/* The record's module of side `which` is still the registration the binding belongs to. */
static bool record_module_current(const record_t *r, unsigned which)
{
    const module_t *m = record_module(r, which);
    return m->gen == r->gen[which] && m->state != M_FREE;
}

static __attribute__((noinline)) bool record_names(const record_t *r, const module_t *m)
{
    unsigned which = m->role == ROLE_CLIENT ? 0 : 1;
    return r->module[which] == m->slot && r->gen[which] == m->gen;
}

static bool record_live(const record_t *r)
{
    return r->state != R_GONE && r->state != R_DISCARDED;
}

/* Bindings of m's registration the registrar still counts: its wait cannot return before
   they are gone. */
static unsigned outstanding(const module_t *m)
{
    unsigned n = 0;
    for (unsigned i = 0; i < w.record_count; i++) {
        n += record_names(&w.records[i], m) && record_live(&w.records[i]);
    }
    return n;
}

static __attribute__((noinline)) bool module_active(const module_t *m)
{
    return m->state == M_REGISTERED || m->state == M_REGISTERING;
}

/* Objects the registrar certainly still holds, and possibly holds, in the middle of a call
   (nmr_live_object_count's definition; at an operation boundary the two agree). */
static unsigned long model_live(bool possibly)
{
    unsigned long n = 0;
    for (unsigned i = 0; i < MODULES; i++) {
        n += w.modules[i].state == M_REGISTERED || w.modules[i].state == M_DEREGISTERING ||
             (possibly && w.modules[i].state == M_REGISTERING);
    }
    for (unsigned i = 0; i < w.record_count; i++) {
        record_state_t s = w.records[i].state;
        n += s == R_ATTACHED || s == R_DETACHING ||
             (possibly && (s == R_PROPOSED || s == R_ATTACHING || s == R_CLEANING));
    }
    return n;
}

/* ---- handles ------------------------------------------------------------------------------ */

/* What a module knows of each handle it was given, by ledger ordinal (fuzz_handles.h). */
static __attribute__((noinline)) handle_entry_t *handle_find(HANDLE handle)
{
    unsigned ordinal = fuzz_handle_ordinal(handle);
    return ordinal != 0 ? &w.handles[ordinal - 1] : NULL;
}

/* A handle the NMR just gave a module: entered in the ledger, which checks it. */
static unsigned handle_new(HANDLE handle, entity_kind_t kind, unsigned index, unsigned gen,
                           const char *what)
{
    unsigned ordinal = fuzz_handle_issue(handle, what);
    if (ordinal > MAX_HANDLES) {
        fuzz_oracle_fail("harness: more than %u handles in one input", MAX_HANDLES);
    }
    handle_entry_t *e = &w.handles[ordinal - 1];
    e->handle = handle;
    e->kind = kind;
    e->index = index;
    e->gen = gen;
    w.handle_count = ordinal;
    return ordinal;
}

static __attribute__((noinline)) bool entry_live(const handle_entry_t *e)
{
    if (e->kind == E_CLIENT_REG || e->kind == E_PROVIDER_REG) {
        const module_t *m = &w.modules[e->index];
        return m->gen == e->gen && (m->state == M_REGISTERED || m->state == M_DEREGISTERING);
    }
    return record_live(&w.records[e->index]);
}

/* ------------------------------------------------------------------------------------------ */
/* Calls: frames, callouts and expected stops                                                 */
/* ------------------------------------------------------------------------------------------ */

static __attribute__((noinline)) void call_end(fuzz_call_t *frame)
{
    fuzz_call_end(frame);
    if (w.expect.armed) {
        fuzz_oracle_fail("%s returned, but STOP %s was predicted (%s)", frame->name,
                    w.expect.outcome.rule, w.expect.outcome.why);
    }
    for (unsigned i = 0; i < w.record_count; i++) {
        const record_t *r = &w.records[i];
        if (r->state == R_DETACHING && r->detach_owner == frame->id &&
            (r->side[0].state == S_QUEUED || r->side[1].state == S_QUEUED)) {
            fuzz_oracle_fail("%s returned without calling the %s detach of binding b%u", frame->name,
                        r->side[0].state == S_QUEUED ? "client" : "provider", i);
        }
        if (r->state == R_CLEANING && r->completer == frame->id) {
            fuzz_oracle_fail("%s completed binding b%u but returned without its cleanup", frame->name,
                        i);
        }
    }
}

/* A predicted stop: it must come before anything else happens. */
static void expect_stop(const outcome_t *o, bool in_call, unsigned call_id)
{
    w.expect.armed = true;
    w.expect.in_call = in_call;
    w.expect.call_id = call_id;
    /* The caller's own outcome into the static world, its own sizeof: unchecked. */
    kshim_unchecked_memcpy(&w.expect.outcome, o, sizeof w.expect.outcome);
    fuzz_trace_event("expect STOP %s (%s)", o->rule, o->why);
}

/* A stop of `o` may happen now: none is pending (a change is the only violation that does
   not stop at once), or it is the detection of the pending change itself. */
static __attribute__((noinline)) bool stop_allowed(const outcome_t *o)
{
    return !o->stop || !w.change.pending || o->detects_change;
}

static __attribute__((noinline)) void callout_push(unsigned record)
{
    if (w.callout_count == MAX_CALLOUTS) {
        fuzz_oracle_fail("harness: callbacks nested too deeply");
    }
    w.callouts[w.callout_count++] = (callout_t){record};
}

static void callout_pop(void)
{
    w.callout_count--;
}

/* Every callback starts here: no stop may be pending, and a changed module is checked before
   any callout into one of its bindings. */
static __attribute__((noinline)) void callback_entry(const char *callback, const record_t *r)
{
    if (w.expect.armed) {
        fuzz_oracle_fail("the NMR called %s (binding b%u) although STOP %s was predicted first (%s)",
                    callback, record_index(r), w.expect.outcome.rule, w.expect.outcome.why);
    }
    if (w.change.pending && w.change.module->gen == w.change.gen &&
        record_names(r, w.change.module)) {
        fuzz_oracle_fail("the NMR called %s of binding b%u although %s changed its %s: STOP %s was "
                    "due before any callout into its bindings",
                    callback, record_index(r), w.change.module->name,
                    strcmp(w.change.rule, "R1") == 0 ? "characteristics" : "NpiId/ModuleId",
                    w.change.rule);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Outcomes                                                                                   */
/* ------------------------------------------------------------------------------------------ */

static outcome_t ok(NTSTATUS status)
{
    outcome_t o = {0};
    o.status = status;
    o.why = "";
    return o;
}

static outcome_t stop(const char *rule, const char *function, const module_t *named,
                      const char *why)
{
    outcome_t o = {0};
    o.stop = true;
    o.rule = rule;
    o.function = function;
    o.named = named != NULL;
    o.module = named;
    o.why = why;
    return o;
}

/* A "should" rule: a warning, or a stop with warnings_are_fatal. */
static outcome_t warning(const char *rule, const char *function, const module_t *named,
                         NTSTATUS status, const char *why)
{
    if (w.config.warnings_are_fatal) {
        outcome_t o = stop(rule, function, named, why);
        o.parameter4 = 1;
        return o;
    }
    outcome_t o = ok(status);
    o.warn = true;
    o.rule = rule;
    o.why = why;
    return o;
}

/* The registration a handle names while its object is live, for the verifier's message. */
static __attribute__((noinline)) const module_t *live_registration(const handle_entry_t *e)
{
    if (e && (e->kind == E_CLIENT_REG || e->kind == E_PROVIDER_REG) && entry_live(e)) {
        return &w.modules[e->index];
    }
    return NULL;
}

/* The module holding a live binding handle's side. */
static __attribute__((noinline)) const module_t *live_binding_holder(const handle_entry_t *e)
{
    if (e && (e->kind == E_CLIENT_SIDE || e->kind == E_PROVIDER_SIDE) && entry_live(e)) {
        return record_module(&w.records[e->index], e->kind == E_CLIENT_SIDE ? 0 : 1);
    }
    return NULL;
}

static __attribute__((noinline)) bool in_callout_of(const module_t *m)
{
    for (unsigned i = 0; i < w.callout_count; i++) {
        if (record_names(&w.records[w.callouts[i].record], m)) {
            return true;
        }
    }
    return false;
}

static __attribute__((noinline)) outcome_t predict_register(role_t role, KIRQL irql,
                                                            const module_t *m)
{
    const char *function = role == ROLE_CLIENT ? "NmrRegisterClient" : "NmrRegisterProvider";
    if (irql != PASSIVE_LEVEL) {
        return stop("R4", function, NULL, "register above PASSIVE_LEVEL");
    }
    if (m->id_kind == ID_BAD_TYPE || m->id_kind == ID_BAD_VERSION) {
        return warning("R10", function, NULL, STATUS_SUCCESS,
                       m->id_kind == ID_BAD_TYPE ? "ModuleId Type invalid"
                                                 : "characteristics Version 1");
    }
    return ok(STATUS_SUCCESS);
}

static __attribute__((noinline))
outcome_t predict_deregister(role_t role, HANDLE handle, KIRQL irql)
{
    const char *function = role == ROLE_CLIENT ? "NmrDeregisterClient" : "NmrDeregisterProvider";
    entity_kind_t expected = role == ROLE_CLIENT ? E_CLIENT_REG : E_PROVIDER_REG;
    const handle_entry_t *e = handle_find(handle);
    if (irql > DISPATCH_LEVEL) {
        return stop("R4", function, NULL, "deregister above DISPATCH_LEVEL");
    }
    if (e == NULL) {
        return stop("R9", function, NULL, "handle never issued");
    }
    if (e->kind != expected) {
        const module_t *named = live_registration(e);
        return stop("R9", function, named ? named : live_binding_holder(e), "wrong-kind handle");
    }
    if (!entry_live(e)) {
        return stop("R9", function, NULL, "stale registration handle");
    }
    const module_t *m = &w.modules[e->index];
    if (m->state == M_DEREGISTERING) {
        return stop("R9", function, m, "double deregistration");
    }
    return ok(STATUS_PENDING);
}

static __attribute__((noinline)) outcome_t predict_wait(role_t role, HANDLE handle, KIRQL irql)
{
    const char *function = role == ROLE_CLIENT ? "NmrWaitForClientDeregisterComplete"
                                               : "NmrWaitForProviderDeregisterComplete";
    entity_kind_t expected = role == ROLE_CLIENT ? E_CLIENT_REG : E_PROVIDER_REG;
    const handle_entry_t *e = handle_find(handle);
    if (irql >= DISPATCH_LEVEL) {
        return stop("R4", function, NULL, "wait at DISPATCH_LEVEL or above");
    }
    if (e == NULL) {
        return ok(STATUS_INVALID_PARAMETER);
    }
    if (e->kind != expected) {
        const module_t *named = live_registration(e);
        return stop("R9", function, named ? named : live_binding_holder(e), "wrong-kind handle");
    }
    if (!entry_live(e)) {
        return stop("R9", function, NULL, "stale registration handle");
    }
    const module_t *m = &w.modules[e->index];
    if (m->state == M_REGISTERED) {
        return warning("R8", function, m, STATUS_INVALID_PARAMETER, "wait before deregister");
    }
    if (in_callout_of(m)) {
        return stop("D11", function, m, "wait inside a callout of its binding");
    }
    if (outstanding(m) != 0) {
        outcome_t o = stop("D4", function, m, "a binding can never finish");
        o.parameter4 = 2;
        return o;
    }
    if (w.change.pending && w.change.module == m && w.change.gen == m->gen) {
        outcome_t o = stop(w.change.rule, function, m, "changed while registered");
        o.detects_change = true;
        return o;
    }
    return ok(STATUS_SUCCESS);
}

static __attribute__((noinline)) outcome_t predict_attach(HANDLE handle, KIRQL irql,
                                                          unsigned null_outs, record_t **record)
{
    const char *function = "NmrClientAttachProvider";
    const handle_entry_t *e = handle_find(handle);
    *record = NULL;
    if (irql != PASSIVE_LEVEL) {
        return stop("R4", function, NULL, "attach above PASSIVE_LEVEL");
    }
    if (e == NULL) {
        return stop("R9", function, NULL, "handle never issued");
    }
    if (e->kind == E_CLIENT_REG || e->kind == E_PROVIDER_REG) {
        return stop("R9", function, live_registration(e), "registration handle");
    }
    if (e->kind == E_PROVIDER_SIDE) {
        return stop("R9", function, live_binding_holder(e), "provider-side handle");
    }
    if (!entry_live(e)) {
        return stop("R9", function, NULL, "stale binding handle");
    }
    record_t *r = &w.records[e->index];
    *record = r;
    if (r->state != R_ATTACHING) {
        return stop("A4", function, record_module(r, 0), "outside the binding's attach");
    }
    if (r->attach_succeeded) {
        return stop("A4", function, record_module(r, 0), "again after a success");
    }
    if (null_outs) {
        return ok(STATUS_INVALID_PARAMETER);
    }
    return ok(STATUS_SUCCESS); /* the provider decides the status */
}

static __attribute__((noinline)) outcome_t predict_complete(bool client_function, HANDLE handle,
                                                            KIRQL irql, side_t **side_out,
                                                            record_t **record_out)
{
    const char *function =
        client_function ? "NmrClientDetachProviderComplete" : "NmrProviderDetachClientComplete";
    entity_kind_t expected = client_function ? E_CLIENT_SIDE : E_PROVIDER_SIDE;
    const handle_entry_t *e = handle_find(handle);
    *side_out = NULL;
    *record_out = NULL;
    if (irql > DISPATCH_LEVEL) {
        return stop("R4", function, NULL, "complete above DISPATCH_LEVEL");
    }
    if (e == NULL) {
        return stop("R9", function, NULL, "handle never issued");
    }
    if (e->kind == E_CLIENT_REG || e->kind == E_PROVIDER_REG) {
        return stop("R9", function, live_registration(e), "registration handle");
    }
    if (e->kind != expected) {
        return stop("D5", function, live_binding_holder(e), "the other side's handle");
    }
    if (!entry_live(e)) {
        return stop("D5", function, NULL, "stale binding handle");
    }
    record_t *r = &w.records[e->index];
    unsigned which = client_function ? 0 : 1;
    side_t *side = &r->side[which];
    const module_t *m = record_module(r, which);
    *side_out = side;
    *record_out = r;
    switch (side->state) {
    case S_NOT_DETACHING:
    case S_QUEUED:
        return stop("D5", function, m, "detach not requested or not entered");
    case S_EARLY:
        return stop("D5", function, m, "completed twice during the callback");
    case S_DONE:
        return stop("D5", function, m,
                    side->returned_success ? "after STATUS_SUCCESS" : "completed twice");
    case S_IN_DETACH:
    case S_PENDING:
        break;
    }
    return ok(STATUS_SUCCESS);
}

/* ------------------------------------------------------------------------------------------ */
/* Binding contexts                                                                           */
/* ------------------------------------------------------------------------------------------ */

/* The context a side gives the NMR: a pool allocation when the module has a cleanup callback
   (freed there), else the harness's side record itself. */
static void context_create(record_t *r, unsigned which)
{
    side_t *side = &r->side[which];
    if (side->context != NULL && !side->context_freed) {
        return;
    }
    const module_t *m = record_module(r, which);
    side->context_freed = false;
    side->context_pooled = m->has_cleanup;
    if (!m->has_cleanup) {
        side->context = side;
        return;
    }
    module_context_t *c =
        ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof *c,
                        which == 0 ? TAG_CLIENT_CONTEXT : TAG_PROVIDER_CONTEXT);
    if (c == NULL) {
        fuzz_oracle_fail("harness: a binding context allocation failed (no fault plan is armed)");
    }
    c->magic = CONTEXT_MAGIC;
    c->record = record_index(r);
    c->which = which;
    side->context = c;
}

static __attribute__((noinline)) void context_free(side_t *side, unsigned which)
{
    if (side->context != NULL && side->context_pooled && !side->context_freed) {
        ExFreePoolWithTag(side->context, which == 0 ? TAG_CLIENT_CONTEXT : TAG_PROVIDER_CONTEXT);
    }
    side->context_freed = true;
}

/* The side whose context the NMR passed to a callback. Found by address (nothing freed is
   read). */
static record_t *record_from_context(PVOID context, unsigned which, const char *callback)
{
    for (unsigned i = 0; i < w.record_count; i++) {
        side_t *side = &w.records[i].side[which];
        if (side->context == context && context != NULL && !side->context_freed) {
            const module_context_t *c = context;
            if (side->context_pooled &&
                (c->magic != CONTEXT_MAGIC || c->record != i || c->which != which)) {
                fuzz_oracle_fail("%s: the binding context of b%u was overwritten", callback, i);
            }
            return &w.records[i];
        }
    }
    for (unsigned i = 0; i < w.record_count; i++) {
        if (w.records[i].side[which].context == context && context != NULL) {
            fuzz_oracle_fail("%s received the binding context of b%u, which its module freed",
                        callback, i);
        }
    }
    fuzz_oracle_fail("%s received a binding context that no %s gave the NMR", callback,
                which == 0 ? "client" : "provider");
}

/* ------------------------------------------------------------------------------------------ */
/* Model: detach and cleanup                                                                  */
/* ------------------------------------------------------------------------------------------ */

static void record_done_check(record_t *r)
{
    if (r->side[0].state == S_DONE && r->side[1].state == S_DONE && r->state == R_DETACHING) {
        r->state = R_CLEANING;
        r->completer = fuzz_call_current_id();
        if ((!r->side[0].cleanup_expected || r->side[0].cleaned) &&
            (!r->side[1].cleanup_expected || r->side[1].cleaned)) {
            r->state = R_GONE;
        }
    }
}

static void request_detach(record_t *r, unsigned call)
{
    r->state = R_DETACHING;
    r->detach_owner = call;
    r->side[0].state = S_QUEUED;
    r->side[1].state = S_QUEUED;
}

/* ------------------------------------------------------------------------------------------ */
/* The actions: NMR calls by a module                                                         */
/* ------------------------------------------------------------------------------------------ */

static void run_action(const action_t *a, const context_t *ctx);
static void do_register(module_t *m, const action_t *a);

/* Raise to the action's IRQL (or stay at the current one if higher). */
static __attribute__((noinline)) KIRQL raise_for(unsigned variant)
{
    KIRQL old = KeGetCurrentIrql();
    KIRQL target = irql_levels[variant & 3];
    if (target > old) {
        KIRQL ignored;
        KeRaiseIrql(target, &ignored);
    }
    return old;
}

static __attribute__((noinline)) void lower_to(KIRQL old)
{
    if (KeGetCurrentIrql() != old) {
        KeLowerIrql(old);
    }
}

static __attribute__((noinline)) void check_status(const char *function, NTSTATUS status,
                                                   const outcome_t *o)
{
    if (status != o->status) {
        fuzz_oracle_fail("%s returned %s, predicted %s", function, fuzz_status_str(status),
                    fuzz_status_str(o->status));
    }
    if (o->warn) {
        fuzz_warning_expect(o->rule);
    }
}

/* Resolve `who`: in a callback, self and peer are its module and the other module of its
   binding; at top level C0 and P0. */
static module_t *resolve_who(unsigned who, const context_t *ctx)
{
    who &= 7;
    if (who >= 2 && who <= 5) {
        return &w.modules[who - 2];
    }
    bool self = who == 0 || who == 6;
    if (!ctx->in_callback) {
        return self ? module_at(ROLE_CLIENT, 0) : module_at(ROLE_PROVIDER, 0);
    }
    const record_t *r = &w.records[ctx->record];
    return record_module(r, self ? ctx->which : 1 - ctx->which);
}

/* The handle an action passes: the actor's own (own_handle, own_known), or another of the
   variant's kind (pick-th most recent), NULL, or a forged address. Returns false if the
   variant has no candidate. */
static bool choose_handle(unsigned variant, unsigned pick, entity_kind_t expected,
                          HANDLE own_handle, bool own_known, HANDLE *out)
{
    switch ((handle_variant_t)(variant & 7)) {
    case H_OWN:
        *out = own_handle;
        return own_known;
    case H_NULL:
        *out = NULL;
        return true;
    case H_FORGED:
        /* An address-like value, or a value below 8 (the NULL page): never a handle. Not a
           real address of the harness: the verifier prints the handle, and the trace (and
           its hash) must be the same in every process, whatever the address layout. */
        *out = pick & 8 ? (HANDLE)(uintptr_t)(pick & 7)
                        : (HANDLE)(FORGED_HANDLE_ADDRESS + (pick & 7));
        return true;
    default:
        break;
    }
    entity_kind_t kind = expected;
    bool stale_only = false;
    switch ((handle_variant_t)(variant & 7)) {
    case H_STALE:
        stale_only = true;
        break;
    case H_CLIENT_REG:
        kind = E_CLIENT_REG;
        break;
    case H_PROVIDER_REG:
        kind = E_PROVIDER_REG;
        break;
    case H_CLIENT_SIDE:
        kind = E_CLIENT_SIDE;
        break;
    default:
        kind = E_PROVIDER_SIDE;
        break;
    }
    unsigned count = 0;
    for (unsigned i = 0; i < w.handle_count; i++) {
        count += w.handles[i].kind == kind && (!stale_only || !entry_live(&w.handles[i]));
    }
    if (count == 0) {
        return false;
    }
    unsigned skip = pick % count;
    for (unsigned i = w.handle_count; i-- > 0;) {
        if (w.handles[i].kind == kind && (!stale_only || !entry_live(&w.handles[i])) &&
            skip-- == 0) {
            *out = w.handles[i].handle;
            return true;
        }
    }
    return false;
}

static __attribute__((noinline)) void trace_handle_call(const char *function, const module_t *actor,
                                                        HANDLE handle)
{
    unsigned ordinal = fuzz_handle_ordinal(handle);
    if (ordinal != 0) {
        fuzz_trace_event("%s(h%u) by %s at %s", function, ordinal, actor->name,
                         kshim_irql_name(KeGetCurrentIrql()));
    } else {
        fuzz_trace_event("%s(%s) by %s at %s", function,
                         handle == NULL ? "NULL" : "forged handle", actor->name,
                         kshim_irql_name(KeGetCurrentIrql()));
    }
}

static __attribute__((noinline)) void do_deregister(module_t *actor, HANDLE handle,
                                                    unsigned irql_variant)
{
    const char *function =
        actor->role == ROLE_CLIENT ? "NmrDeregisterClient" : "NmrDeregisterProvider";
    KIRQL old = raise_for(irql_variant);
    outcome_t o = predict_deregister(actor->role, handle, KeGetCurrentIrql());
    if (!stop_allowed(&o)) {
        lower_to(old);
        fuzz_trace_event("%s by %s skipped: STOP %s while a change is pending", function,
                         actor->name, o.rule);
        return;
    }
    trace_handle_call(function, actor, handle);
    enter();
    fuzz_call_t *frame = fuzz_call_begin(function);
    if (o.stop) {
        expect_stop(&o, true, frame->id);
    } else {
        module_t *m = &w.modules[handle_find(handle)->index];
        m->state = M_DEREGISTERING;
        for (unsigned i = 0; i < w.record_count; i++) {
            record_t *r = &w.records[i];
            if (record_names(r, m) && r->state == R_ATTACHED) {
                request_detach(r, frame->id);
            }
        }
    }
    NTSTATUS status = fuzz_module_deregister(actor->role == ROLE_CLIENT, handle);
    call_end(frame);
    leave();
    lower_to(old);
    fuzz_trace_event("%s -> %s", function, fuzz_status_str(status));
    check_status(function, status, &o);
}

/* Complete every pending side of m's bindings (another thread would). */
static void complete_pending_of(const module_t *m);

static __attribute__((noinline)) void do_wait(module_t *actor, HANDLE handle, unsigned irql_variant,
                                              bool force)
{
    const char *function = actor->role == ROLE_CLIENT ? "NmrWaitForClientDeregisterComplete"
                                                      : "NmrWaitForProviderDeregisterComplete";
    const handle_entry_t *e = handle_find(handle);
    if (force && e && entry_live(e) && (e->kind == E_CLIENT_REG || e->kind == E_PROVIDER_REG)) {
        complete_pending_of(&w.modules[e->index]);
    }
    KIRQL old = raise_for(irql_variant);
    outcome_t o = predict_wait(actor->role, handle, KeGetCurrentIrql());
    if (!stop_allowed(&o)) {
        lower_to(old);
        fuzz_trace_event("%s by %s skipped: STOP %s while a change is pending", function,
                         actor->name, o.rule);
        return;
    }
    trace_handle_call(function, actor, handle);
    enter();
    fuzz_call_t *frame = fuzz_call_begin(function);
    if (o.stop) {
        expect_stop(&o, true, frame->id);
    }
    NTSTATUS status = fuzz_module_wait(actor->role == ROLE_CLIENT, handle);
    call_end(frame);
    leave();
    lower_to(old);
    fuzz_trace_event("%s -> %s", function, fuzz_status_str(status));
    check_status(function, status, &o);
    if (status == STATUS_SUCCESS) {
        w.modules[e->index].state = M_FREE;
    }
}

static void do_complete(bool client_function, const module_t *actor, HANDLE handle,
                        unsigned irql_variant)
{
    const char *function =
        client_function ? "NmrClientDetachProviderComplete" : "NmrProviderDetachClientComplete";
    KIRQL old = raise_for(irql_variant);
    side_t *side;
    record_t *r;
    outcome_t o = predict_complete(client_function, handle, KeGetCurrentIrql(), &side, &r);
    if (!stop_allowed(&o)) {
        lower_to(old);
        fuzz_trace_event("%s by %s skipped: STOP %s while a change is pending", function,
                         actor->name, o.rule);
        return;
    }
    trace_handle_call(function, actor, handle);
    enter();
    fuzz_call_t *frame = fuzz_call_begin(function);
    if (o.stop) {
        expect_stop(&o, true, frame->id);
    } else if (side->state == S_IN_DETACH) {
        side->state = S_EARLY; /* takes effect when the callback returns STATUS_PENDING */
    } else {
        side->state = S_DONE;
        record_done_check(r);
    }
    if (client_function) {
        NmrClientDetachProviderComplete(handle);
    } else {
        NmrProviderDetachClientComplete(handle);
    }
    call_end(frame);
    leave();
    lower_to(old);
}

static void complete_pending_of(const module_t *m)
{
    for (unsigned i = 0; i < w.record_count; i++) {
        record_t *r = &w.records[i];
        if (!record_names(r, m) || r->state != R_DETACHING) {
            continue;
        }
        for (unsigned which = 0; which < 2; which++) {
            if (r->side[which].state == S_PENDING && r->state == R_DETACHING) {
                do_complete(which == 0, record_module(r, which), r->side[which].handle, 0);
            }
        }
    }
}

/* NmrClientAttachProvider for record r's client side (or whatever binding `handle` names). */
static NTSTATUS do_attach(const module_t *actor, HANDLE handle, unsigned irql_variant,
                          unsigned null_outs, bool *skipped)
{
    const char *function = "NmrClientAttachProvider";
    KIRQL old = raise_for(irql_variant);
    record_t *r;
    outcome_t o = predict_attach(handle, KeGetCurrentIrql(), null_outs, &r);
    *skipped = false;
    if (!stop_allowed(&o) || (!o.stop && w.attach_depth == MAX_ATTACHES)) {
        lower_to(old);
        fuzz_trace_event("%s by %s skipped: %s", function, actor->name,
                         o.stop ? "a stop while a change is pending" : "nested too deeply");
        *skipped = true;
        return STATUS_NOINTERFACE;
    }
    PVOID provider_context = (PVOID)&forged_anchor[1];
    const VOID *provider_dispatch = (const VOID *)&forged_anchor[1];
    if (r != NULL && !o.stop) {
        context_create(r, 0);
        r->client_dispatch = &record_module(r, 0)->dispatch;
    }
    trace_handle_call(function, actor, handle);
    enter();
    fuzz_call_t *frame = fuzz_call_begin(function);
    unsigned depth = w.attach_depth;
    if (o.stop) {
        expect_stop(&o, true, frame->id);
    } else {
        w.attaches[depth] = record_index(r);
        w.provider_result[depth].record = record_index(r);
        w.provider_result[depth].called = false;
        w.attach_depth++;
    }
    NTSTATUS status = NmrClientAttachProvider(
        handle, r && !o.stop ? r->side[0].context : NULL,
        r && !o.stop ? r->client_dispatch : NULL,
        null_outs & NULL_CONTEXT ? NULL : &provider_context,
        null_outs & NULL_DISPATCH ? NULL : &provider_dispatch);
    call_end(frame); /* a predicted stop never gets past this */
    leave();
    lower_to(old);
    w.attach_depth--;
    fuzz_trace_event("%s -> %s", function, fuzz_status_str(status));
    bool provider_called = w.provider_result[depth].called;
    if (null_outs) {
        check_status(function, status, &o);
        if (provider_called) {
            fuzz_oracle_fail("%s with NULL out parameters called ProviderAttachClient", function);
        }
    } else {
        if (!provider_called) {
            fuzz_oracle_fail("%s returned %s without calling ProviderAttachClient", function,
                        fuzz_status_str(status));
        }
        if (status != w.provider_result[depth].status) {
            fuzz_oracle_fail("%s returned %s, but ProviderAttachClient returned %s", function,
                        fuzz_status_str(status), fuzz_status_str(w.provider_result[depth].status));
        }
        if (status == STATUS_SUCCESS) {
            if (provider_context != r->side[1].context ||
                provider_dispatch != &record_module(r, 1)->dispatch) {
                fuzz_oracle_fail("%s returned STATUS_SUCCESS without the provider's context and "
                            "dispatch",
                            function);
            }
        } else if (provider_context != (PVOID)&forged_anchor[1] ||
                   provider_dispatch != (const VOID *)&forged_anchor[1]) {
            fuzz_oracle_fail("%s wrote its out parameters on %s", function, fuzz_status_str(status));
        }
    }
    r->attach_called = true;
    r->last_attach_status = status;
    if (status == STATUS_SUCCESS) {
        r->attach_succeeded = true;
    }
    return status;
}

/* ------------------------------------------------------------------------------------------ */
/* Registration                                                                               */
/* ------------------------------------------------------------------------------------------ */

static NTSTATUS client_attach_provider(HANDLE, PVOID, PNPI_REGISTRATION_INSTANCE);
static NTSTATUS client_detach_provider(PVOID);
static VOID client_cleanup_binding_context(PVOID);
static NTSTATUS provider_attach_client(HANDLE, PVOID, PNPI_REGISTRATION_INSTANCE, PVOID,
                                       const VOID *, PVOID *, const VOID **);
static NTSTATUS provider_detach_client(PVOID);
static VOID provider_cleanup_binding_context(PVOID);

/* The callbacks of every fake module of this target (fuzz_module.h). */
static const fuzz_module_callbacks_t module_callbacks = FUZZ_MODULE_CALLBACKS;

static void fill_module(module_t *m, const action_t *a)
{
    m->npi = a->npi % w.npi_count;
    m->policy = a->behaviour[0] == 3 ? POLICY_ACCEPT : (policy_t)a->behaviour[0];
    m->detach_mode = a->behaviour[1] == 3 ? DETACH_SUCCESS : (detach_mode_t)a->behaviour[1];
    m->has_cleanup = a->behaviour[2] == 0;
    m->id_kind = (id_kind_t)a->behaviour[3];
    m->fail_status = error_statuses[a->error_pick % 7];
    fuzz_copy_guid(&m->npi_id, &npi_ids[m->npi]);

    /* The module's own ids in the static world, each with its own sizeof: unchecked. */
    kshim_unchecked_memcpy(&m->previous_id, &m->module_id, sizeof m->previous_id);
    kshim_unchecked_memset(&m->module_id, 0, sizeof m->module_id);
    m->module_id.Length = sizeof m->module_id;
    switch (m->id_kind) {
    case ID_LUID:
        m->module_id.Type = MIT_IF_LUID;
        m->module_id.IfLuid.LowPart = 0x100u + module_index(m);
        m->module_id.IfLuid.HighPart = (LONG)m->gen;
        break;
    case ID_BAD_TYPE:
        m->module_id.Type = (NPI_MODULEID_TYPE)(3 + module_index(m));
        break;
    default:
        m->module_id.Type = MIT_GUID;
        fuzz_copy_guid(&m->module_id.Guid, &npi_ids[0]);
        m->module_id.Guid.Data2 = (USHORT)(0x100u + module_index(m));
        m->module_id.Guid.Data3 = (USHORT)m->gen;
        break;
    }
    NPI_REGISTRATION_INSTANCE *instance =
        fuzz_characteristics_fill(&m->chars, m->role == ROLE_CLIENT, &module_callbacks,
                                  m->has_cleanup, &m->npi_id, &m->module_id);
    if (m->id_kind == ID_BAD_VERSION) {
        if (m->role == ROLE_CLIENT) {
            m->chars.client.Version = 1;
        } else {
            m->chars.provider.Version = 1;
        }
    }
    instance->Number = m->slot;
    instance->NpiSpecificCharacteristics = NULL;
    kshim_unchecked_memcpy(&m->registered_id, &m->module_id, sizeof m->registered_id);
}

static const NPI_REGISTRATION_INSTANCE *instance_of(const module_t *m)
{
    return m->role == ROLE_CLIENT ? &m->chars.client.ClientRegistrationInstance
                                  : &m->chars.provider.ProviderRegistrationInstance;
}

/* The register's proposals, as records: every registered peer of the NPI that is not
   deregistering (one still inside an outer NmrRegister* is published already), in
   registration order; none when the register stops. Out of line for the coverage ignorelist:
   a search over the fixed peer slots, which the registrar's own proposal loop shows. */
static __attribute__((noinline)) reg_frame_t *propose_bindings(module_t *m, const outcome_t *o)
{
    reg_frame_t *reg = &w.regs[w.reg_depth];
    reg->module = m;
    reg->first = w.record_count;
    reg->count = 0;
    reg->next = 0;
    if (!o->stop) {
        role_t peer_role = m->role == ROLE_CLIENT ? ROLE_PROVIDER : ROLE_CLIENT;
        bool taken[SLOTS] = {false};
        for (;;) {
            module_t *best = NULL;
            for (unsigned s = 0; s < SLOTS; s++) {
                module_t *q = module_at(peer_role, s);
                if (!taken[s] && module_active(q) && q->npi == m->npi &&
                    (!best || q->reg_order < best->reg_order)) {
                    best = q;
                }
            }
            if (!best) {
                break;
            }
            taken[best->slot] = true;
            record_t *r = &w.records[w.record_count++];
            memset(r, 0, sizeof *r);
            r->state = R_PROPOSED;
            const module_t *client = m->role == ROLE_CLIENT ? m : best;
            const module_t *provider = m->role == ROLE_CLIENT ? best : m;
            r->module[0] = client->slot;
            r->gen[0] = client->gen;
            r->module[1] = provider->slot;
            r->gen[1] = provider->gen;
            r->side[0].cleanup_expected = client->has_cleanup;
            r->side[1].cleanup_expected = provider->has_cleanup;
            reg->count++;
        }
    }
    return reg;
}

/* The register call's trace event (out of line for the coverage ignorelist: its branches
   only choose the arguments). */
static __attribute__((noinline)) void trace_register_call(const module_t *m, const char *function,
                                                          unsigned proposals)
{
    if (!fuzz_trace_recording()) {
        /* Nothing reads the event's text (libFuzzer runs): count it without computing its
           arguments. */
        fuzz_trace_event("%s", function);
        return;
    }
    if (m->role == ROLE_CLIENT) {
        fuzz_trace_event("%s(%s npi%u %s detach=%s cleanup=%s id=%s) at %s: %u proposal(s)",
                         function, m->name, m->npi, policy_names[m->policy],
                         detach_names[m->detach_mode], m->has_cleanup ? "yes" : "NULL",
                         id_names[m->id_kind], kshim_irql_name(KeGetCurrentIrql()), proposals);
    } else {
        fuzz_trace_event("%s(%s npi%u %s%s%s detach=%s cleanup=%s id=%s) at %s: %u proposal(s)",
                         function, m->name, m->npi, policy_names[m->policy],
                         m->policy == POLICY_FAIL ? ":" : "",
                         m->policy == POLICY_FAIL ? fuzz_status_str(m->fail_status) : "",
                         detach_names[m->detach_mode], m->has_cleanup ? "yes" : "NULL",
                         id_names[m->id_kind], kshim_irql_name(KeGetCurrentIrql()), proposals);
    }
}

static void do_register(module_t *m, const action_t *a)
{
    const char *function = m->role == ROLE_CLIENT ? "NmrRegisterClient" : "NmrRegisterProvider";
    if (m->state != M_FREE) {
        fuzz_trace_event("%s(%s): already registered, skipped", function, m->name);
        return;
    }
    if (w.reg_depth == 2 || w.record_count + SLOTS > MAX_RECORDS) {
        fuzz_trace_event("%s(%s): nested too deeply or binding table full, skipped", function,
                         m->name);
        return;
    }
    KIRQL old = raise_for(a->irql);
    /* A fatal R10 while a change is pending: register with clean characteristics instead. */
    action_t clean; /* a's copy, only where it changes */
    const action_t *use = a;
    m->id_kind = (id_kind_t)a->behaviour[3];
    outcome_t o = predict_register(m->role, KeGetCurrentIrql(), m);
    if (!stop_allowed(&o) && strcmp(o.rule, "R10") == 0) {
        clean = *a;
        clean.behaviour[3] = ID_GUID;
        use = &clean;
        m->id_kind = ID_GUID;
        o = predict_register(m->role, KeGetCurrentIrql(), m);
        fuzz_trace_event("%s(%s): a change is pending, so valid characteristics", function,
                         m->name);
    }
    if (!stop_allowed(&o)) {
        lower_to(old);
        fuzz_trace_event("%s(%s) skipped: STOP %s while a change is pending", function, m->name,
                         o.rule);
        return;
    }
    m->gen++;
    fill_module(m, use);

    reg_frame_t *reg = propose_bindings(m, &o);
    trace_register_call(m, function, reg->count);
    m->state = M_REGISTERING;
    m->reg_order = ++w.reg_counter;
    enter();
    fuzz_call_t *frame = fuzz_call_begin(function);
    reg->call_id = frame->id;
    w.reg_depth++;
    if (o.stop) {
        expect_stop(&o, true, frame->id);
    }
    if (o.warn) {
        fuzz_warning_expect(o.rule); /* R10 comes before any attach callback and its warnings */
        o.warn = false;
    }
    HANDLE out = (HANDLE)&forged_anchor[0];
    NTSTATUS status = fuzz_module_register(&m->chars, m->role == ROLE_CLIENT, m, &out);
    w.reg_depth--;
    /* Proposals not reached by an attach: discarded (a side began deregistering). */
    for (; reg->next < reg->count; reg->next++) {
        record_t *r = &w.records[reg->first + reg->next];
        if (record_module_current(r, 0) && record_module(r, 0)->state != M_DEREGISTERING &&
            record_module_current(r, 1) && record_module(r, 1)->state != M_DEREGISTERING) {
            fuzz_oracle_fail("%s(%s) returned without the attach of proposal b%u (%s-%s)", function,
                        m->name, reg->first + reg->next, record_module(r, 0)->name,
                        record_module(r, 1)->name);
        }
        r->state = R_DISCARDED;
    }
    call_end(frame);
    leave();
    lower_to(old);
    check_status(function, status, &o);
    m->handle = out;
    m->has_handle = true;
    unsigned ordinal = handle_new(out, m->role == ROLE_CLIENT ? E_CLIENT_REG : E_PROVIDER_REG,
                                  module_index(m), m->gen, function);
    fuzz_trace_event("%s -> %s, handle h%u", function, fuzz_status_str(status), ordinal);
    m->state = M_REGISTERED;
}

/* ------------------------------------------------------------------------------------------ */
/* Hooks and return overrides                                                                 */
/* ------------------------------------------------------------------------------------------ */

static void maybe_fire_hook(hook_point_t point, const module_t *m, unsigned record,
                            unsigned which)
{
    if (w.hook_running) {
        return;
    }
    w.ret.set = false;
    for (unsigned i = 0; i < MAX_HOOKS; i++) {
        struct hook *hook = &w.hooks[i];
        if (!hook->armed || (hook->point != HP_ANY && hook->point != point)) {
            continue;
        }
        if (hook->filter >= 1 && hook->filter <= 4 && &w.modules[hook->filter - 1] != m) {
            continue;
        }
        hook->armed = false;
        w.hook_running = true;
        fuzz_trace_event("hook at %s of %s (b%u, IRQL %s): %s", point_names[point], m->name,
                         record, kshim_irql_name(KeGetCurrentIrql()), action_names[hook->action.kind]);
        enter();
        context_t ctx = {true, point, record, which};
        const char *thread = fuzz_trace_thread();
        run_action(&hook->action, &ctx);
        fuzz_trace_set_thread(thread);
        leave();
        w.hook_running = false;
    }
}

/* The "return" override set by a hook inside this callback, consumed. */
static bool take_return(unsigned *kind, unsigned *status)
{
    if (!w.ret.set) {
        return false;
    }
    w.ret.set = false;
    *kind = w.ret.kind;
    *status = w.ret.status;
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Client callbacks                                                                           */
/* ------------------------------------------------------------------------------------------ */

static __attribute__((noinline))
module_t *module_from_registration_context(PVOID context, role_t role, const char *callback)
{
    for (unsigned i = 0; i < MODULES; i++) {
        if (context == &w.modules[i] && w.modules[i].role == role) {
            return &w.modules[i];
        }
    }
    fuzz_oracle_fail("%s received a registration context that is not the %s's own", callback,
                role == ROLE_CLIENT ? "client" : "provider");
}

/* The peer's module id as the module sees it: equal to that module's own id by
   NmrIsEqualNpiModuleId exactly when the type is valid, and unequal to the other slot's. */
static __attribute__((noinline)) void check_module_id(const NPI_REGISTRATION_INSTANCE *instance,
                                                      module_t *peer, const char *callback)
{
    PNPI_MODULEID seen = (PNPI_MODULEID)instance->ModuleId;
    bool valid = peer->module_id.Type == MIT_GUID || peer->module_id.Type == MIT_IF_LUID;
    if ((bool)NmrIsEqualNpiModuleId(seen, &peer->module_id) != valid) {
        fuzz_oracle_fail("%s: NmrIsEqualNpiModuleId of %s's module id with itself is %s", callback,
                    peer->name, valid ? "FALSE" : "TRUE");
    }
    module_t *other = module_at(peer->role, peer->slot + 1);
    if (other->gen != 0 && NmrIsEqualNpiModuleId(seen, &other->module_id)) {
        fuzz_oracle_fail("%s: %s's module id equals %s's", callback, peer->name, other->name);
    }
    if (peer->gen > 1 && NmrIsEqualNpiModuleId(seen, &peer->previous_id)) {
        fuzz_oracle_fail("%s: %s's module id equals the one of its previous registration", callback,
                    peer->name);
    }
}

/* What ClientAttachProvider's return leads to (docs/behaviour.md, "When ClientAttachProvider
   returns"). */
static __attribute__((noinline)) outcome_t predict_client_return(const record_t *r, NTSTATUS status)
{
    const module_t *c = record_module(r, 0);
    if (NT_SUCCESS(status) && status != STATUS_SUCCESS) {
        return stop("A3", "ClientAttachProvider", c, "client returned a success code");
    }
    if (status == STATUS_SUCCESS && !r->attach_succeeded) {
        return stop("A1", "ClientAttachProvider", c, "SUCCESS without a successful attach");
    }
    if (r->attach_called && status != r->last_attach_status) {
        return stop("A2", "ClientAttachProvider", c, "not the status of its last attach");
    }
    return ok(status);
}

static NTSTATUS client_attach_provider(HANDLE NmrBindingHandle, PVOID ClientContext,
                                       PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    const char *cb = "ClientAttachProvider";
    module_t *c = module_from_registration_context(ClientContext, ROLE_CLIENT, cb);
    module_t *p = NULL;
    for (unsigned s = 0; s < SLOTS; s++) {
        if (ProviderRegistrationInstance == instance_of(module_at(ROLE_PROVIDER, s))) {
            p = module_at(ROLE_PROVIDER, s);
        }
    }
    if (p == NULL) {
        fuzz_oracle_fail("%s of %s received a registration instance that is not a provider's own", cb,
                    c->name);
    }
    /* The attach belongs to the innermost NmrRegister* in progress: its next proposal whose
       sides are both still active. */
    reg_frame_t *reg = w.reg_depth ? &w.regs[w.reg_depth - 1] : NULL;
    if (reg == NULL || (reg->module != c && reg->module != p)) {
        fuzz_oracle_fail("%s %s-%s outside NmrRegister* of either module", cb, c->name, p->name);
    }
    record_t *r = NULL;
    while (reg->next < reg->count) {
        record_t *candidate = &w.records[reg->first + reg->next];
        if (record_module(candidate, 0)->state == M_DEREGISTERING ||
            record_module(candidate, 1)->state == M_DEREGISTERING) {
            candidate->state = R_DISCARDED; /* a side deregistered before its attach started */
            reg->next++;
            continue;
        }
        r = candidate;
        break;
    }
    if (r == NULL || record_module(r, 0) != c || record_module(r, 1) != p) {
        fuzz_oracle_fail("%s %s-%s not predicted here (next proposal: %s)", cb, c->name, p->name,
                    r ? "another pair" : "none");
    }
    reg->next++;
    fuzz_trace_event("%s %s <- %s: binding b%u", cb, c->name, p->name, record_index(r));
    callback_entry(cb, r);
    enter();
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        fuzz_oracle_fail("%s called at IRQL %s", cb, kshim_irql_name(KeGetCurrentIrql()));
    }
    check_module_id(ProviderRegistrationInstance, p, cb);
    r->state = R_ATTACHING;
    r->side[0].handle = NmrBindingHandle;
    r->side[0].handle_ordinal =
        handle_new(NmrBindingHandle, E_CLIENT_SIDE, record_index(r), 0, cb);
    fuzz_trace_event("client handle h%u", r->side[0].handle_ordinal);
    callout_push(record_index(r));
    maybe_fire_hook(HP_CLIENT_ATTACH, c, record_index(r), 0);

    unsigned kind = 0, status_pick = 0;
    bool override = take_return(&kind, &status_pick);
    kind %= RC_COUNT;
    NTSTATUS status;
    if (c->policy == POLICY_DECLINE) {
        status = STATUS_NOINTERFACE;
    } else if (c->policy == POLICY_FAIL) {
        status = c->fail_status;
    } else {
        bool skipped;
        status = do_attach(c, NmrBindingHandle, 0,
                           override && kind == RC_NULL_OUTS ? 1 + status_pick % 3 : 0, &skipped);
        if (override && kind == RC_TWICE && status == STATUS_SUCCESS) {
            status = do_attach(c, NmrBindingHandle, 0, 0, &skipped);
        }
        if (r->attach_called) {
            status = r->last_attach_status;
        }
    }
    maybe_fire_hook(HP_CLIENT_ATTACH_AFTER, c, record_index(r), 0);
    if (!override) {
        override = take_return(&kind, &status_pick);
        kind %= RC_COUNT;
    }
    NTSTATUS final = status;
    if (override) {
        switch ((return_kind_client_t)kind) {
        case RC_SUCCESS_ANYWAY:
            final = STATUS_SUCCESS;
            break;
        case RC_OTHER_FAILURE:
            final = error_statuses[status_pick % 8];
            if (final == status) {
                final = error_statuses[(status_pick + 1) % 8];
            }
            break;
        case RC_SUCCESS_CODE:
            final = success_codes[status_pick % 4];
            break;
        default:
            break; /* NULL outs and twice changed the attach calls above */
        }
    }
    outcome_t o = predict_client_return(r, final);
    if (!stop_allowed(&o)) {
        fuzz_trace_event("%s would return %s: STOP %s while a change is pending; returns %s",
                         cb, fuzz_status_str(final), o.rule, fuzz_status_str(status));
        final = status;
        o = predict_client_return(r, final);
    }
    callout_pop();
    leave();
    fuzz_trace_event("%s %s <- %s returns %s", cb, c->name, p->name, fuzz_status_str(final));
    if (o.stop) {
        expect_stop(&o, false, 0);
        return final;
    }
    if (final == STATUS_SUCCESS) {
        r->state = R_ATTACHED;
        if (!module_active(c) || !module_active(p)) {
            /* Late-comer: detached by this thread before NmrRegister* returns. */
            request_detach(r, reg->call_id);
        }
    } else {
        r->state = R_DISCARDED;
        context_free(&r->side[0], 0);
    }
    return final;
}

/* What a detach callback's return leads to. */
static __attribute__((noinline))
outcome_t predict_detach_return(const record_t *r, unsigned which, NTSTATUS status)
{
    const char *cb = which == 0 ? "ClientDetachProvider" : "ProviderDetachClient";
    const module_t *m = record_module(r, which);
    if (status != STATUS_SUCCESS && status != STATUS_PENDING) {
        return stop("D6", cb, m, "detach returned another status");
    }
    if (status == STATUS_SUCCESS && r->side[which].state == S_EARLY) {
        return stop("D5", cb, m, "SUCCESS after completing inside");
    }
    return ok(status);
}

static NTSTATUS detach_callback(PVOID context, unsigned which)
{
    const char *cb = which == 0 ? "ClientDetachProvider" : "ProviderDetachClient";
    record_t *r = record_from_context(context, which, cb);
    side_t *side = &r->side[which];
    module_t *m = record_module(r, which);
    fuzz_trace_event("%s b%u (%s-%s) at %s", cb, record_index(r), record_module(r, 0)->name,
                     record_module(r, 1)->name, kshim_irql_name(KeGetCurrentIrql()));
    callback_entry(cb, r);
    enter();
    if (r->state != R_DETACHING || side->state != S_QUEUED) {
        fuzz_oracle_fail("%s for binding b%u whose detach was not requested or already entered", cb,
                    record_index(r));
    }
    if (!fuzz_call_in_progress(r->detach_owner)) {
        fuzz_oracle_fail("%s for binding b%u outside the call that requested its detach", cb,
                    record_index(r));
    }
    if (!record_module_current(r, 0) || !record_module_current(r, 1)) {
        fuzz_oracle_fail("%s for binding b%u reached a module after its wait returned", cb,
                    record_index(r));
    }
    side->state = S_IN_DETACH;
    callout_push(record_index(r));
    maybe_fire_hook(which == 0 ? HP_CLIENT_DETACH : HP_PROVIDER_DETACH, m, record_index(r), which);

    NTSTATUS status = m->detach_mode == DETACH_SUCCESS ? STATUS_SUCCESS : STATUS_PENDING;
    if (m->detach_mode == DETACH_INLINE && side->state == S_IN_DETACH) {
        do_complete(which == 0, m, side->handle, 0);
    }
    unsigned kind, status_pick;
    if (take_return(&kind, &status_pick)) {
        switch ((return_kind_detach_t)(kind % RD_COUNT)) {
        case RD_BAD_STATUS:
            status = status_pick % 2 ? error_statuses[status_pick / 2 % 8]
                                     : success_codes[1 + status_pick / 2 % 3];
            break;
        case RD_COMPLETE_THEN_SUCCESS:
            if (side->state == S_IN_DETACH) {
                do_complete(which == 0, m, side->handle, 0);
            }
            status = STATUS_SUCCESS;
            break;
        case RD_COMPLETE_TWICE:
            do_complete(which == 0, m, side->handle, 0);
            do_complete(which == 0, m, side->handle, 0);
            status = STATUS_PENDING;
            break;
        case RD_COUNT:
            break;
        }
    }
    if (side->state == S_EARLY && status == STATUS_SUCCESS && w.change.pending) {
        status = STATUS_PENDING; /* the only legal return after an early completion */
    }
    outcome_t o = predict_detach_return(r, which, status);
    if (!stop_allowed(&o)) {
        fuzz_trace_event("%s would return %s: STOP %s while a change is pending", cb,
                         fuzz_status_str(status), o.rule);
        status = side->state == S_EARLY ? STATUS_PENDING : STATUS_SUCCESS;
        o = predict_detach_return(r, which, status);
    }
    callout_pop();
    leave();
    fuzz_trace_event("%s b%u returns %s", cb, record_index(r), fuzz_status_str(status));
    if (o.stop) {
        expect_stop(&o, false, 0);
        return status;
    }
    if (status == STATUS_SUCCESS) {
        side->returned_success = true;
        side->state = S_DONE;
    } else {
        side->state = side->state == S_EARLY ? S_DONE : S_PENDING;
    }
    record_done_check(r);
    return status;
}

static void cleanup_callback(PVOID context, unsigned which)
{
    const char *cb = which == 0 ? "ClientCleanupBindingContext" : "ProviderCleanupBindingContext";
    record_t *r = record_from_context(context, which, cb);
    side_t *side = &r->side[which];
    module_t *m = record_module(r, which);
    fuzz_trace_event("%s b%u at %s", cb, record_index(r), kshim_irql_name(KeGetCurrentIrql()));
    callback_entry(cb, r);
    enter();
    if (r->state != R_CLEANING || !side->cleanup_expected || side->cleaned) {
        fuzz_oracle_fail("%s for binding b%u: not due (both sides complete, once per side with a "
                    "cleanup callback)",
                    cb, record_index(r));
    }
    if (which == 1 && r->side[0].cleanup_expected && !r->side[0].cleaned) {
        fuzz_oracle_fail("%s for binding b%u before ClientCleanupBindingContext", cb, record_index(r));
    }
    if (!fuzz_call_in_progress(r->completer)) {
        fuzz_oracle_fail("%s for binding b%u outside the call that completed its last side", cb,
                    record_index(r));
    }
    callout_push(record_index(r));
    maybe_fire_hook(which == 0 ? HP_CLIENT_CLEANUP : HP_PROVIDER_CLEANUP, m, record_index(r),
                    which);
    unsigned kind, status_pick;
    if (take_return(&kind, &status_pick)) {
        fuzz_trace_event("(a cleanup callback returns nothing)");
    }
    callout_pop();
    context_free(side, which);
    side->cleaned = true;
    if ((!r->side[0].cleanup_expected || r->side[0].cleaned) &&
        (!r->side[1].cleanup_expected || r->side[1].cleaned)) {
        r->state = R_GONE;
    }
    leave();
}

static NTSTATUS client_detach_provider(PVOID ClientBindingContext)
{
    return detach_callback(ClientBindingContext, 0);
}

static VOID client_cleanup_binding_context(PVOID ClientBindingContext)
{
    cleanup_callback(ClientBindingContext, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* Provider callbacks                                                                         */
/* ------------------------------------------------------------------------------------------ */

static __attribute__((noinline))
outcome_t predict_provider_return(const record_t *r, NTSTATUS status, bool context_written,
                                  bool dispatch_written)
{
    const module_t *p = record_module(r, 1);
    const char *cb = "ProviderAttachClient";
    if (NT_SUCCESS(status) && status != STATUS_SUCCESS) {
        return stop("A3", cb, p, "provider returned a success code");
    }
    if (status == STATUS_SUCCESS && (!context_written || !dispatch_written)) {
        return stop("A8", cb, p, "SUCCESS with an out parameter unwritten");
    }
    if (!NT_SUCCESS(status) && status != STATUS_NOINTERFACE) {
        return warning("A9", cb, p, status, "provider declined with an error");
    }
    return ok(status);
}

static NTSTATUS provider_attach_client(HANDLE NmrBindingHandle, PVOID ProviderContext,
                                       PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
                                       PVOID ClientBindingContext, const VOID *ClientDispatch,
                                       PVOID *ProviderBindingContext,
                                       const VOID **ProviderDispatch)
{
    const char *cb = "ProviderAttachClient";
    module_t *p = module_from_registration_context(ProviderContext, ROLE_PROVIDER, cb);
    if (w.attach_depth == 0 || !fuzz_call_innermost_is("NmrClientAttachProvider")) {
        fuzz_oracle_fail("%s of %s outside NmrClientAttachProvider", cb, p->name);
    }
    unsigned depth = w.attach_depth - 1;
    record_t *r = &w.records[w.attaches[depth]];
    module_t *c = record_module(r, 0);
    fuzz_trace_event("%s %s <- %s (b%u)", cb, p->name, c->name, record_index(r));
    callback_entry(cb, r);
    enter();
    if (record_module(r, 1) != p || KeGetCurrentIrql() != PASSIVE_LEVEL) {
        fuzz_oracle_fail("%s reached %s at %s; the attach is for b%u (%s)", cb, p->name,
                    kshim_irql_name(KeGetCurrentIrql()), record_index(r), record_module(r, 1)->name);
    }
    if (ClientRegistrationInstance != instance_of(c) ||
        ClientBindingContext != r->side[0].context || ClientDispatch != r->client_dispatch) {
        fuzz_oracle_fail("%s of %s did not receive %s's instance, binding context and dispatch", cb,
                    p->name, c->name);
    }
    check_module_id(ClientRegistrationInstance, c, cb);
    if (ProviderBindingContext == NULL || ProviderDispatch == NULL) {
        fuzz_oracle_fail("%s received NULL out parameters", cb);
    }
    if (r->side[1].handle_ordinal == 0) {
        r->side[1].handle = NmrBindingHandle;
        r->side[1].handle_ordinal =
            handle_new(NmrBindingHandle, E_PROVIDER_SIDE, record_index(r), 0, cb);
    } else if (r->side[1].handle != NmrBindingHandle) {
        fuzz_oracle_fail("%s: the provider-side handle of b%u changed between attempts", cb,
                    record_index(r));
    }
    if (NmrBindingHandle == r->side[0].handle) {
        fuzz_oracle_fail("%s received the client-side handle; the sides differ", cb);
    }
    fuzz_trace_event("provider handle h%u", r->side[1].handle_ordinal);
    callout_push(record_index(r));
    maybe_fire_hook(HP_PROVIDER_ATTACH, p, record_index(r), 1);

    NTSTATUS status = p->policy == POLICY_ACCEPT    ? STATUS_SUCCESS
                      : p->policy == POLICY_DECLINE ? STATUS_NOINTERFACE
                                                    : p->fail_status;
    bool write_context = status == STATUS_SUCCESS, write_dispatch = status == STATUS_SUCCESS;
    unsigned kind, status_pick;
    if (take_return(&kind, &status_pick)) {
        switch ((return_kind_provider_t)(kind % RP_COUNT)) {
        case RP_SUCCESS_CODE:
            status = success_codes[status_pick % 4];
            write_context = write_dispatch = false;
            break;
        case RP_UNWRITTEN_CONTEXT:
        case RP_UNWRITTEN_DISPATCH:
        case RP_UNWRITTEN_BOTH:
            status = STATUS_SUCCESS;
            write_context = kind % RP_COUNT == RP_UNWRITTEN_DISPATCH;
            write_dispatch = kind % RP_COUNT == RP_UNWRITTEN_CONTEXT;
            break;
        case RP_ERROR:
            status = error_statuses[status_pick % 7];
            write_context = write_dispatch = false;
            break;
        case RP_COUNT:
            break;
        }
    }
    outcome_t o = predict_provider_return(r, status, write_context, write_dispatch);
    if (!stop_allowed(&o)) {
        fuzz_trace_event("%s would return %s: STOP %s while a change is pending; declines", cb,
                         fuzz_status_str(status), o.rule);
        status = STATUS_NOINTERFACE;
        write_context = write_dispatch = false;
        o = predict_provider_return(r, status, false, false);
    }
    if (write_context) {
        context_create(r, 1);
        *ProviderBindingContext = r->side[1].context;
    }
    if (write_dispatch) {
        *ProviderDispatch = &p->dispatch;
    }
    callout_pop();
    leave();
    fuzz_trace_event("%s %s returns %s%s", cb, p->name, fuzz_status_str(status),
                     status == STATUS_SUCCESS && !(write_context && write_dispatch)
                         ? " (out parameter unwritten)"
                         : "");
    w.provider_result[depth].called = true;
    w.provider_result[depth].status = status;
    if (o.stop) {
        expect_stop(&o, false, 0);
        return status;
    }
    if (o.warn) {
        fuzz_warning_expect(o.rule);
    }
    if (status != STATUS_SUCCESS) {
        context_free(&r->side[1], 1);
    }
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
/* Actions                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* The bindings `m` has a handle of (its own side), in binding order; the pick-th, or with a
   callback context and self/peer, the callback's binding. */
static record_t *pick_record(const module_t *m, unsigned who, unsigned pick, const context_t *ctx)
{
    unsigned which = m->role == ROLE_CLIENT ? 0 : 1;
    who &= 7;
    if (ctx->in_callback && (who == 0 || who == 1 || who == 6 || who == 7)) {
        return &w.records[ctx->record];
    }
    unsigned count = 0;
    for (unsigned i = 0; i < w.record_count; i++) {
        const record_t *r = &w.records[i];
        count += r->module[which] == m->slot && r->side[which].handle_ordinal != 0;
    }
    if (count == 0) {
        return NULL;
    }
    unsigned skip = pick % count;
    for (unsigned i = 0; i < w.record_count; i++) {
        record_t *r = &w.records[i];
        if (r->module[which] == m->slot && r->side[which].handle_ordinal != 0 && skip-- == 0) {
            return r;
        }
    }
    return NULL;
}

/*
 * R1 for every field of the characteristics: the fields a "change" reaches through its
 * what and field operands. Field 0 is the original change of each what (Version, Number),
 * so inputs written before the field operand existed keep their meaning: whichever field
 * changes, the stop and the moment it comes are the same (the verifier compares every
 * field before any callout, so no changed pointer is ever called or dereferenced).
 */
typedef enum chars_field {
    CF_VERSION, CF_LENGTH, CF_ATTACH, CF_DETACH, CF_CLEANUP, CF_INSTANCE_VERSION,
    CF_INSTANCE_SIZE, CF_NPI_ID_POINTER, CF_MODULE_ID_POINTER, CF_NUMBER, CF_NPI_SPECIFIC,
} chars_field_t;
static const chars_field_t version_fields[8] = {
    CF_VERSION, CF_LENGTH, CF_ATTACH, CF_DETACH, CF_CLEANUP, CF_INSTANCE_VERSION,
    CF_INSTANCE_SIZE, CF_NPI_ID_POINTER};
static const chars_field_t number_fields[8] = {
    CF_NUMBER, CF_NPI_SPECIFIC, CF_MODULE_ID_POINTER, CF_LENGTH, CF_ATTACH, CF_DETACH,
    CF_CLEANUP, CF_INSTANCE_SIZE};

/* A pointer value that differs from p and is never called or dereferenced. */
#define CHANGED_POINTER(p) ((void *)((uintptr_t)(p) ^ 0x10u))

static void change_characteristics(module_t *m, chars_field_t field)
{
    NPI_CLIENT_CHARACTERISTICS *c = &m->chars.client;
    NPI_PROVIDER_CHARACTERISTICS *p = &m->chars.provider;
    bool client = m->role == ROLE_CLIENT;
    NPI_REGISTRATION_INSTANCE *instance = (NPI_REGISTRATION_INSTANCE *)instance_of(m);
    /* A NULL cleanup made non-NULL would add a callout the module never asked for: such a
       module changes its detach pointer instead. */
    if (field == CF_CLEANUP && !m->has_cleanup) {
        field = CF_DETACH;
    }
    switch (field) {
    case CF_VERSION:
        *(client ? &c->Version : &p->Version) ^= 2;
        break;
    case CF_LENGTH:
        *(client ? &c->Length : &p->Length) ^= 8;
        break;
    case CF_ATTACH:
        if (client) {
            c->ClientAttachProvider = CHANGED_POINTER(c->ClientAttachProvider);
        } else {
            p->ProviderAttachClient = CHANGED_POINTER(p->ProviderAttachClient);
        }
        break;
    case CF_DETACH:
        if (client) {
            c->ClientDetachProvider = CHANGED_POINTER(c->ClientDetachProvider);
        } else {
            p->ProviderDetachClient = CHANGED_POINTER(p->ProviderDetachClient);
        }
        break;
    case CF_CLEANUP:
        if (client) {
            c->ClientCleanupBindingContext = CHANGED_POINTER(c->ClientCleanupBindingContext);
        } else {
            p->ProviderCleanupBindingContext = CHANGED_POINTER(p->ProviderCleanupBindingContext);
        }
        break;
    case CF_INSTANCE_VERSION:
        instance->Version ^= 1;
        break;
    case CF_INSTANCE_SIZE:
        instance->Size ^= 8;
        break;
    case CF_NPI_ID_POINTER:
        m->npi_id_copy = *instance->NpiId;
        instance->NpiId = &m->npi_id_copy;
        break;
    case CF_MODULE_ID_POINTER:
        m->module_id_copy = *instance->ModuleId;
        instance->ModuleId = &m->module_id_copy;
        break;
    case CF_NUMBER:
        instance->Number ^= 0x100;
        break;
    case CF_NPI_SPECIFIC:
        instance->NpiSpecificCharacteristics =
            CHANGED_POINTER(instance->NpiSpecificCharacteristics);
        break;
    }
}

/*
 * R3 for every byte of the NpiId and of the ModuleId's GUID (or LUID): field 0 is the
 * original change (NpiId byte 15; ModuleId byte 2); field f > 0 flips byte
 * ((f - 1) * 4 + module index) % 16 (C0 C1 P0 P1 = 0..3), so fields 1-4 reach all 16.
 */
static void change_identity(module_t *m, bool npi, unsigned field)
{
    unsigned index = m->role * SLOTS + m->slot;
    if (npi) {
        unsigned char *bytes = (unsigned char *)&m->npi_id;
        bytes[field == 0 ? 15 : ((field - 1) * 4 + index) % 16] ^= 0x80;
        return;
    }
    if (field == 0) {
        if (m->module_id.Type == MIT_IF_LUID) {
            m->module_id.IfLuid.LowPart ^= 0x10000;
        } else {
            m->module_id.Guid.Data1 ^= 0x10000; /* also an invalid Type's bytes: still R3 */
        }
        return;
    }
    unsigned byte = ((field - 1) * 4 + index) % 16;
    unsigned char *bytes = m->module_id.Type == MIT_IF_LUID
                               ? (unsigned char *)&m->module_id.IfLuid
                               : (unsigned char *)&m->module_id.Guid;
    bytes[m->module_id.Type == MIT_IF_LUID ? byte % sizeof m->module_id.IfLuid : byte] ^= 0x80;
}

static void apply_change(module_t *m, unsigned what, unsigned field)
{
    if (w.change.pending) {
        fuzz_trace_event("change %s: a change is already pending, skipped", m->name);
        return;
    }
    if (m->state != M_REGISTERED && m->state != M_DEREGISTERING && m->state != M_REGISTERING) {
        fuzz_trace_event("change %s: not registered, skipped", m->name);
        return;
    }
    const char *rule = "R1";
    switch (what & 3) {
    case 0:
        change_characteristics(m, version_fields[field & 7]);
        break;
    case 1:
        change_characteristics(m, number_fields[field & 7]);
        break;
    default:
        change_identity(m, (what & 3) == 2, field & 7);
        rule = "R3";
        break;
    }
    w.change.pending = true;
    w.change.rule = rule;
    w.change.module = m;
    w.change.gen = m->gen;
    fuzz_trace_event("%s changes its %s while registered: STOP %s due at its next callout or "
                     "wait",
                     m->name, what_names[what & 3], rule);
}

static void run_action(const action_t *a, const context_t *ctx)
{
    module_t *actor = resolve_who(a->who, ctx);
    fuzz_trace_set_thread(ctx->in_callback ? fuzz_trace_thread() : actor->name);
    switch (a->kind) {
    case ACT_REGISTER:
        do_register(actor, a);
        return;
    case ACT_DEREGISTER:
    case ACT_WAIT: {
        entity_kind_t expected = actor->role == ROLE_CLIENT ? E_CLIENT_REG : E_PROVIDER_REG;
        HANDLE h;
        if (!choose_handle(a->handle, a->pick, expected, actor->handle, actor->has_handle, &h)) {
            fuzz_trace_event("%s by %s: no %s handle, skipped", action_names[a->kind], actor->name,
                             handle_names[a->handle & 7]);
            return;
        }
        if (a->kind == ACT_DEREGISTER) {
            do_deregister(actor, h, a->irql);
        } else {
            do_wait(actor, h, a->irql, a->flag);
        }
        return;
    }
    case ACT_COMPLETE:
    case ACT_ATTACH: {
        bool client = actor->role == ROLE_CLIENT;
        if (a->kind == ACT_ATTACH && !client) {
            fuzz_trace_event("attach by %s: not a client, skipped", actor->name);
            return;
        }
        record_t *r = pick_record(actor, a->who, a->pick, ctx);
        unsigned which = client ? 0 : 1;
        bool own_known = r != NULL && r->side[which].handle_ordinal != 0;
        entity_kind_t expected = client ? E_CLIENT_SIDE : E_PROVIDER_SIDE;
        HANDLE h;
        if (!choose_handle(a->handle, a->pick, expected, own_known ? r->side[which].handle : NULL,
                           own_known, &h)) {
            fuzz_trace_event("%s by %s: no %s handle, skipped", action_names[a->kind], actor->name,
                             handle_names[a->handle & 7]);
            return;
        }
        if (a->kind == ACT_COMPLETE) {
            do_complete(client, actor, h, a->irql);
        } else {
            bool skipped;
            do_attach(actor, h, a->irql, a->null_outs, &skipped);
        }
        return;
    }
    case ACT_CHANGE:
        apply_change(actor, a->what, a->field);
        return;
    case ACT_RETURN:
        if (!ctx->in_callback) {
            fuzz_trace_event("return: not inside a callback, skipped");
            return;
        }
        w.ret.set = true;
        w.ret.kind = a->ret_kind;
        w.ret.status = a->ret_status;
        fuzz_trace_event("the callback will return differently (kind %u, status %u)", a->ret_kind,
                         a->ret_status);
        return;
    case ACT_COUNT:
        break;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Decoding                                                                                   */
/* ------------------------------------------------------------------------------------------ */

static void decode_call_operands(action_t *a)
{
    unsigned v[3];
    fuzz_take_packed_as(&w.in, call_bits, 3, v);
    a->who = v[0];
    a->handle = v[1];
    a->irql = v[2];
    a->pick = fuzz_take_u8_as(&w.in, "pick");
}

static void decode_action(action_kind_t kind, action_t *a)
{
    kshim_unchecked_memset(a, 0, sizeof *a); /* the caller's local, or a static hook's */
    a->kind = kind;
    switch (kind) {
    case ACT_REGISTER: {
        unsigned v[4];
        fuzz_take_packed_as(&w.in, register_bits, 4, v);
        a->who = v[0];
        a->npi = v[1];
        a->irql = v[2];
        fuzz_take_packed_as(&w.in, behaviour_bits, 5, a->behaviour);
        a->error_pick = fuzz_take_u8_as(&w.in, "error");
        return;
    }
    case ACT_DEREGISTER:
        decode_call_operands(a);
        return;
    case ACT_WAIT:
        decode_call_operands(a);
        a->flag = fuzz_take_bool_as(&w.in, "force");
        return;
    case ACT_COMPLETE:
        decode_call_operands(a);
        return;
    case ACT_ATTACH:
        decode_call_operands(a);
        a->null_outs = fuzz_take_enum_as(&w.in, "null_outs", null_outs_names, 4);
        return;
    case ACT_CHANGE: {
        unsigned v[3];
        fuzz_take_packed_as(&w.in, change_bits, 3, v);
        a->who = v[0];
        a->what = v[1];
        a->field = v[2];
        return;
    }
    case ACT_RETURN: {
        unsigned v[3];
        fuzz_take_packed_as(&w.in, return_bits, 3, v);
        a->ret_kind = v[0];
        a->ret_status = v[1];
        return;
    }
    case ACT_COUNT:
        break;
    }
}

static void op_hook(void)
{
    unsigned v[3];
    fuzz_take_packed_as(&w.in, hook_bits, 3, v);
    action_kind_t kind = (action_kind_t)fuzz_take_enum_as(&w.in, "action", action_names, ACT_COUNT);
    /* The first free slot; with none free, the oldest hook is replaced. */
    unsigned slot = 0;
    while (slot < MAX_HOOKS && w.hooks[slot].armed) {
        slot++;
    }
    if (slot == MAX_HOOKS) {
        memmove(&w.hooks[0], &w.hooks[1], (MAX_HOOKS - 1) * sizeof w.hooks[0]);
        slot = MAX_HOOKS - 1;
    }
    struct hook *hook = &w.hooks[slot];
    decode_action(kind, &hook->action);
    hook->armed = true;
    hook->point = (hook_point_t)v[0];
    hook->filter = v[1];
    fuzz_trace_set_thread("hook");
    fuzz_trace_event("arm: at %s of %s, %s", point_names[v[0]], filter_names[v[1]],
                     action_names[kind]);
}

static void run_operation(void)
{
    fuzz_trace_set_thread("main");
    op_kind_t op = (op_kind_t)fuzz_take_enum_as(&w.in, "op", op_names, OP_COUNT);
    if (op == OP_HOOK) {
        op_hook();
        return;
    }
    action_t a;
    decode_action((action_kind_t)op, &a);
    context_t top; /* field by field: an initializer was an __asan_memcpy per operation */
    top.in_callback = false;
    top.point = HP_ANY;
    top.record = 0;
    top.which = 0;
    run_action(&a, &top);
}

/* ------------------------------------------------------------------------------------------ */
/* Per-operation checks, teardown, stop handling                                              */
/* ------------------------------------------------------------------------------------------ */

static void check_after_operation(void)
{
    if (fuzz_call_depth() != 0 || w.callout_count != 0 || w.reg_depth != 0 ||
        KeGetCurrentIrql() != PASSIVE_LEVEL) {
        fuzz_oracle_fail("harness: operation left %u frame(s), %u callout(s) or IRQL %s", fuzz_call_depth(),
                    w.callout_count, kshim_irql_name(KeGetCurrentIrql()));
    }
    unsigned long live = nmr_check_invariants(); /* and nmr_live_object_count() */
    if (live != model_live(false)) {
        fuzz_oracle_fail("nmr_live_object_count() is %lu, the model has %lu", live, model_live(false));
    }
    fuzz_warnings_check();
}

static __attribute__((noinline)) void teardown(void)
{
    memset(w.hooks, 0, sizeof w.hooks);
    for (unsigned i = 0; i < MODULES; i++) {
        module_t *m = &w.modules[i];
        if (m->state == M_REGISTERED) {
            fuzz_trace_set_thread(m->name);
            do_deregister(m, m->handle, 0);
            check_after_operation();
        }
    }
    for (unsigned i = 0; i < MODULES; i++) {
        module_t *m = &w.modules[i];
        if (m->state == M_DEREGISTERING) {
            fuzz_trace_set_thread(m->name);
            do_wait(m, m->handle, 0, true);
            check_after_operation();
        }
    }
}

/* Every run_* below runs with the stop trap armed; a caught stop returns true. */
static bool run_trapped(void (*fn)(void))
{
    w.printed_length = 0;
    w.printed[0] = '\0';
    if (setjmp(trap.jump) != 0) {
        return true;
    }
    kshim_stop_trap_arm(&trap);
    fn();
    kshim_stop_trap_disarm(&trap);
    return false;
}

static void one_operation(void)
{
    run_operation();
    check_after_operation();
}

/* The oracle's text helpers below replace single snprintf and strcmp calls of the stop
   checks, which formatted or compared the same text with far more work (a GUID's eleven
   conversions, a copy of the line through "%.*s"). They stay outside libFuzzer's coverage
   (and are not inlined into code inside it): their branches and checks follow the printed
   text, and the target's edges stay those of the calls they replace. */
#if defined(__clang__)
#define ORACLE_TEXT_HELPER __attribute__((noinline, no_sanitize("coverage")))
#else
#define ORACLE_TEXT_HELPER __attribute__((noinline)) /* libFuzzer builds are clang's */
#endif

/* Appends text to buffer (size bytes, its first used written), cut to what fits with the
   NUL the caller adds; returns the new length. */
static inline size_t append_text(char *buffer, size_t size, size_t used, const char *text)
{
    size_t n = strnlen(text, size - 1 - used);
    memcpy(buffer + used, text, n);
    return used + n;
}

/* The first length bytes of text (cut to size - 1), NUL-terminated, at buffer; returns how
   many were copied. */
ORACLE_TEXT_HELPER static size_t copy_text(char *buffer, size_t size, const char *text,
                                           size_t length)
{
    size_t n = length < size - 1 ? length : size - 1;
    /* Unchecked: the only caller copies from the sink's text (the static w.printed, within
       w.printed_length) into its own local of size bytes. */
    kshim_unchecked_memcpy(buffer, text, n);
    buffer[n] = '\0';
    return n;
}

/* text (cut to size - 1), NUL-terminated, at buffer. */
ORACLE_TEXT_HELPER static void copy_string(char *buffer, size_t size, const char *text)
{
    size_t used = append_text(buffer, size, 0, text);
    buffer[used] = '\0';
}

/* "h<ordinal>" (snprintf's "h%u") at buffer (size >= 12). */
ORACLE_TEXT_HELPER static void format_ordinal(char *buffer, size_t size, unsigned ordinal)
{
    char digits[10];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + ordinal % 10);
        ordinal /= 10;
    } while (ordinal != 0);
    size_t used = 0;
    buffer[used++] = 'h';
    while (n > 0 && used < size - 1) {
        buffer[used++] = digits[--n];
    }
    buffer[used] = '\0';
}

/* "<role> module {%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}" at buffer, from the
   GUID's fields (read by the caller, as they were for snprintf). */
ORACLE_TEXT_HELPER static void format_guid_module(char *buffer, size_t size, const char *role,
                                                  unsigned data1, unsigned data2, unsigned data3,
                                                  unsigned d0, unsigned d1, unsigned d2,
                                                  unsigned d3, unsigned d4, unsigned d5,
                                                  unsigned d6, unsigned d7)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char bytes[16] = {
        (unsigned char)(data1 >> 24), (unsigned char)(data1 >> 16), (unsigned char)(data1 >> 8),
        (unsigned char)data1,         (unsigned char)(data2 >> 8),  (unsigned char)data2,
        (unsigned char)(data3 >> 8),  (unsigned char)data3,         (unsigned char)d0,
        (unsigned char)d1,            (unsigned char)d2,            (unsigned char)d3,
        (unsigned char)d4,            (unsigned char)d5,            (unsigned char)d6,
        (unsigned char)d7};
    /* Where each byte's two digits go: after the brace, skipping the dashes. */
    static const unsigned char at[16] = {1,  3,  5,  7,  10, 12, 15, 17,
                                         20, 22, 25, 27, 29, 31, 33, 35};
    char guid[] = "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}";
    for (size_t i = 0; i < 16; i++) {
        guid[at[i]] = digits[bytes[i] >> 4];
        guid[at[i] + 1] = digits[bytes[i] & 0xf];
    }
    size_t used = append_text(buffer, size, 0, role);
    used = append_text(buffer, size, used, " module ");
    used = append_text(buffer, size, used, guid);
    buffer[used] = '\0';
}

/* "*** NMR VERIFIER STOP <rule>: <function><separator>" at prefix; returns its length. */
ORACLE_TEXT_HELPER static size_t format_stop_prefix(char *prefix, size_t size, const char *rule,
                                                    const char *function, const char *separator)
{
    size_t used = append_text(prefix, size, 0, "*** NMR VERIFIER STOP ");
    used = append_text(prefix, size, used, rule);
    used = append_text(prefix, size, used, ": ");
    used = append_text(prefix, size, used, function);
    used = append_text(prefix, size, used, separator);
    prefix[used] = '\0';
    return used;
}

/* Whether the trap's record holds other output than the DbgPrint sink's (strcmp's verdict:
   neither text holds a NUL). */
ORACLE_TEXT_HELPER static bool printed_differs(const kshim_stop_record_t *record)
{
    size_t shorter = record->printed_length < w.printed_length ? record->printed_length
                                                               : w.printed_length;
    return memcmp(record->printed, w.printed, shorter + 1) != 0;
}

/* The next "*** NMR VERIFIER STOP " of the DbgPrint sink's text at or after p, or NULL: what
   strstr finds, without its ASan interceptor's byte-by-byte strlen of the rest of the text
   at every call (the sink's text holds no NUL). */
ORACLE_TEXT_HELPER static const char *next_stop_line(const char *p)
{
    static const char head[] = "*** NMR VERIFIER STOP ";
    size_t rest = (size_t)(w.printed + w.printed_length - p);
    if (p == w.printed) {
        return memmem(p, rest, head, sizeof head - 1);
    }
    /* A search after one found (check_caught_stop's loop): of the same static w.printed,
       within its length, for the same needle, so past memmem's interceptor (a range check of
       the rest of the text at every search) and libFuzzer's memmem hook, which the first
       search of the text called with this needle (it keeps one slot per needle hash, and
       check_caught_stop's loop makes no other memmem or strstr call between the searches). */
    return kshim_unchecked_memmem(p, rest, head, sizeof head - 1);
}

/* Whether text (length bytes, no NUL) holds part: strstr's verdict. */
ORACLE_TEXT_HELPER static bool text_holds(const char *text, size_t length, const char *part)
{
    return memmem(text, length, part, strlen(part)) != NULL;
}

/* Whether the sink's text at line starts with prefix (length bytes): strncmp's verdict, with
   memcmp (ASan's strncmp interceptor compares byte by byte). */
ORACLE_TEXT_HELPER static bool line_starts_with(const char *line, const char *prefix,
                                                size_t length)
{
    size_t available = (size_t)(w.printed + w.printed_length - line);
    return available >= length && memcmp(line, prefix, length) == 0;
}

/* The text of the registrar's module name in its messages (docs/behaviour.md). */
static void format_module(char *buffer, size_t size, const module_t *m)
{
    const NPI_MODULEID *id = &m->registered_id;
    const char *role = m->role == ROLE_CLIENT ? "client" : "provider";
    if (id->Type == MIT_GUID) {
        const GUID *g = &id->Guid;
        format_guid_module(buffer, size, role, (unsigned)g->Data1, g->Data2, g->Data3,
                           g->Data4[0], g->Data4[1], g->Data4[2], g->Data4[3], g->Data4[4],
                           g->Data4[5], g->Data4[6], g->Data4[7]);
    } else if (id->Type == MIT_IF_LUID) {
        snprintf(buffer, size, "%s module luid:%x:%x", role, (unsigned)id->IfLuid.HighPart,
                 (unsigned)id->IfLuid.LowPart);
    } else {
        snprintf(buffer, size, "%s module type%d", role, (int)id->Type);
    }
}

/* The stop the trap caught is the predicted one (or the pending change's detection). */
static void check_caught_stop(void)
{
    const kshim_stop_record_t *rec = &trap.record;
    if (!rec->bugcheck || rec->bugcheck_code != NMR_INVALID_STATE) {
        fuzz_oracle_fail("unexpected stop: %s", rec->line);
    }
    const char *rule = (const char *)rec->bugcheck_parameters[0];
    outcome_t o;
    if (w.expect.armed) {
        o = w.expect.outcome;
    } else if (w.change.pending) {
        o = stop(w.change.rule, NULL, w.change.module, "changed while registered");
    } else {
        fuzz_oracle_fail("unexpected verifier stop %s: %s", rule, w.printed);
    }
    if (strcmp(rule, o.rule) != 0) {
        fuzz_oracle_fail("verifier stop %s, predicted %s (%s): %s", rule, o.rule, o.why, w.printed);
    }
    if (o.parameter4 == 1) {
        fuzz_warning_expect(o.rule); /* a fatal warning is counted before it stops */
    }
    if (rec->bugcheck_parameters[3] != o.parameter4) {
        fuzz_oracle_fail("STOP %s with parameter 4 = %lu, predicted %lu", rule,
                    (unsigned long)rec->bugcheck_parameters[3], (unsigned long)o.parameter4);
    }
    /* The trap recorded what this thread printed since the operation began: what the sink
       put in the timeline. */
    if (!rec->printed_truncated && printed_differs(rec)) {
        fuzz_oracle_fail("the stop trap recorded other output than the DbgPrint sink: %.200s",
                    rec->printed);
    }
    /* The verifier's line: the last "*** NMR VERIFIER STOP" of the operation's output. */
    const char *line = NULL;
    for (const char *p = w.printed; (p = next_stop_line(p)) != NULL; p++) {
        line = p;
    }
    if (line == NULL) {
        fuzz_oracle_fail("STOP %s printed no verifier line", rule);
    }
    char prefix[160];
    size_t prefix_length = format_stop_prefix(prefix, sizeof prefix, rule,
                                              o.function ? o.function : "", o.function ? ": " : "");
    if (!line_starts_with(line, prefix, prefix_length)) {
        fuzz_oracle_fail("the verifier line does not start with \"%s\": %.200s", prefix, line);
    }
    if (o.function == NULL) {
        /* A change is detected at a callout into one of the module's bindings or at its
           wait, nowhere else. */
        static const char *const checkpoints[] = {
            "ClientAttachProvider", "ProviderAttachClient", "ClientDetachProvider",
            "ProviderDetachClient", "ClientCleanupBindingContext",
            "ProviderCleanupBindingContext", "NmrWaitForClientDeregisterComplete",
            "NmrWaitForProviderDeregisterComplete"};
        const char *function = line + strlen(prefix);
        bool known = false;
        for (size_t i = 0; i < sizeof checkpoints / sizeof checkpoints[0]; i++) {
            size_t n = strlen(checkpoints[i]);
            known |= strncmp(function, checkpoints[i], n) == 0 && function[n] == ':';
        }
        const char *own_wait = o.module->role == ROLE_CLIENT
                                   ? "NmrWaitForClientDeregisterComplete"
                                   : "NmrWaitForProviderDeregisterComplete";
        if (!known || (strncmp(function, "NmrWait", 7) == 0 &&
                       strncmp(function, own_wait, strlen(own_wait)) != 0)) {
            fuzz_oracle_fail("STOP %s for %s's change detected in %.60s, not at one of its callouts "
                        "or its wait",
                        rule, o.module->name, function);
        }
    }
    const char *end = strchr(line, '\n');
    size_t line_length = end ? (size_t)(end - line) : strlen(line);
    char named[128];
    if (o.named) {
        format_module(named, sizeof named, o.module);
    } else {
        copy_string(named, sizeof named, "; module -;");
    }
    char first[1024];
    size_t first_length =
        copy_text(first, sizeof first, line, line_length < 1000 ? line_length : 1000);
    if (!text_holds(first, first_length, named)) {
        fuzz_oracle_fail("the verifier line of STOP %s does not name \"%s\": %s", rule, named, first);
    }
    if (strcmp(rule, "D4") == 0) {
        unsigned listed = 0;
        const char *entry = "    binding (client-side handle ";
        for (const char *p = line; (p = strstr(p, entry)) != NULL; p++) {
            listed++;
        }
        if (listed != outstanding(o.module)) {
            fuzz_oracle_fail("the D4 report lists %u binding(s), %s has %u unfinished", listed,
                        o.module->name, outstanding(o.module));
        }
    }
    fuzz_trace_set_thread("main");
    /* Parameters 2 and 3 as ordinals or words: their values differ between runs. */
    char handle_text[32];
    unsigned ordinal = fuzz_handle_ordinal((HANDLE)rec->bugcheck_parameters[1]);
    if (ordinal != 0) {
        format_ordinal(handle_text, sizeof handle_text, ordinal);
    } else {
        copy_string(handle_text, sizeof handle_text,
                    rec->bugcheck_parameters[1] ? "an unknown handle" : "NULL");
    }
    fuzz_trace_event("trap caught KeBugCheckEx(NMR_INVALID_STATE, \"%s\", %s, %s, %u): the "
                     "predicted STOP %s",
                     rule, handle_text, rec->bugcheck_parameters[2] ? "registration" : "NULL",
                     (unsigned)rec->bugcheck_parameters[3], rule);
}

/* After a caught stop: the registrar recovers with nmr_reset, the modules free what they own. */
static void recover_after_stop(void)
{
    while (w.trace_depth > 0) {
        leave();
    }
    check_caught_stop();
    fuzz_warnings_check();
    unsigned long lower = model_live(false), upper = model_live(true);
    ULONG dropped = nmr_reset();
    if (dropped < lower || dropped > upper) {
        fuzz_oracle_fail("nmr_reset() after STOP dropped %lu object(s); the model has %lu certainly "
                    "and %lu possibly live",
                    (unsigned long)dropped, lower, upper);
    }
    if (nmr_live_object_count() != 0 || kshim_pool_live_count_by_tag(FUZZ_TAG_NMR_REGISTRATION) != 0 ||
        kshim_pool_live_count_by_tag(FUZZ_TAG_NMR_BINDING) != 0) {
        fuzz_oracle_fail("nmr_reset() left registrar objects behind");
    }
    nmr_check_invariants();
    for (unsigned i = 0; i < w.record_count; i++) {
        context_free(&w.records[i].side[0], 0);
        context_free(&w.records[i].side[1], 1);
    }
    fuzz_trace_event("nmr_reset() dropped %u object(s)", (unsigned)dropped);
}

static __attribute__((noinline)) void world_reset(void)
{
    /* Everything but the big tables and the DbgPrint text, which the previous input used
       only in part: its records and handles lie below their counts (the counts only grow
       within an input and nothing is written past them, so the rest is still zero), and
       the text is a string. */
    unsigned records = w.record_count, handles = w.handle_count;
    /* Parts of the static world: the counts are at most the tables' sizes (do_register skips
       a registration when record_count + SLOTS > MAX_RECORDS; handle_new stops the input
       before a handle ordinal above MAX_HANDLES becomes handle_count). */
    kshim_unchecked_memset(w.records, 0, records * sizeof w.records[0]);
    kshim_unchecked_memset(w.handles, 0, handles * sizeof w.handles[0]);
    kshim_unchecked_memset(&w, 0, offsetof(struct world, records));
    kshim_unchecked_memset(&w.record_count, 0,
                           offsetof(struct world, handles) - offsetof(struct world, record_count));
    kshim_unchecked_memset(&w.handle_count, 0,
                           offsetof(struct world, printed) - offsetof(struct world, handle_count));
    w.printed[0] = '\0';
    w.printed_length = 0;
    for (unsigned i = 0; i < MODULES; i++) {
        module_t *m = &w.modules[i];
        m->role = i < SLOTS ? ROLE_CLIENT : ROLE_PROVIDER;
        m->slot = i % SLOTS;
        m->name = module_names[i];
        m->state = M_FREE;
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
    kshim_dbg_print_set_sink(print_sink, NULL);

    unsigned cfg[6];
    fuzz_take_packed_as(&w.in, config_bits, 6, cfg);
    nmr_verifier_get_config(&w.config);
    w.npi_count = cfg[0] ? 2 : 1;
    w.config.detach_at_dispatch = cfg[1] != 0;
    w.config.cleanup_at_dispatch = cfg[2] != 0;
    w.config.provider_detach_first = cfg[3] != 0;
    w.config.warnings_are_fatal = cfg[4] != 0;
    w.config.warnings_are_printed = TRUE; /* to the sink: the timeline */
    w.config.hang_timeout_ms = HANG_TIMEOUT_MS;
    nmr_verifier_set_config(&w.config);
    fuzz_trace_set_thread("main");
    fuzz_trace_event("config: npis=%u detach_at_dispatch=%u cleanup_at_dispatch=%u "
                     "provider_detach_first=%u warnings_are_fatal=%u",
                     w.npi_count, (unsigned)w.config.detach_at_dispatch,
                     (unsigned)w.config.cleanup_at_dispatch,
                     (unsigned)w.config.provider_detach_first,
                     (unsigned)w.config.warnings_are_fatal);

    bool stopped = false;
    for (w.op_index = 0; w.op_index < MAX_OPS && !fuzz_input_exhausted(&w.in) && !stopped;
         w.op_index++) {
        stopped = run_trapped(one_operation);
    }
    if (!stopped) {
        fuzz_trace_set_thread("main");
        fuzz_trace_event("end of input after %u operation(s): teardown", w.op_index);
        stopped = run_trapped(teardown);
    }
    if (stopped) {
        recover_after_stop();
    } else {
        if (w.change.pending) {
            fuzz_oracle_fail("%s changed its %s, but no STOP %s came by the end of its registration",
                        w.change.module->name, strcmp(w.change.rule, "R1") == 0
                                                   ? "characteristics"
                                                   : "NpiId or ModuleId",
                        w.change.rule);
        }
        fuzz_warnings_check();
    }
    static const fuzz_pool_tag_t module_tags[] = {
        {TAG_CLIENT_CONTEXT, "client binding context(s)"},
        {TAG_PROVIDER_CONTEXT, "provider binding context(s)"},
    };
    fuzz_run_audit(module_tags, sizeof module_tags / sizeof module_tags[0]);
    fuzz_run_end();
    kshim_dbg_print_set_sink(NULL, NULL);
    fuzz_input_finish(&w.in);
    fuzz_trace_set_thread("main");
    fuzz_trace_event("audit ok: %u binding record(s), %u warning(s)%s", w.record_count,
                     (unsigned)fuzz_warnings_expected(), stopped ? ", after a caught stop" : "");
    return 0;
}
