/* SPDX-License-Identifier: MIT */
/*
 * nmr_internal.h - the registrar's objects, states and the functions its files share.
 *
 * Not for drivers, harnesses or fuzz targets (tests/nmr may include it for white-box
 * checks). Everything here is kernel-style C against the shim's WDK headers.
 *
 * Locking: one registrar spin lock (nmr_registrar.lock) protects every list, state and
 * count below; fields that are set once before an object is published are marked
 * "Immutable". No callout into a module is ever made with the lock held: every callout
 * goes through nmr_callout_begin/nmr_callout_end, which check that.
 */
#pragma once

#include <ntddk.h>
#include <netioddk.h>

#include "nmr_module.h"

/* Pool tags of the registrar (read backwards in a debugger: "NmRg", "NmBd"). */
#define NMR_TAG_REGISTRATION 'gRmN' /* nmr_registration_t */
#define NMR_TAG_BINDING 'dBmN'      /* nmr_binding_t */

#ifndef NMR_INVALID_STATE
#define NMR_INVALID_STATE 0x125
#endif

/* ---- handles ---------------------------------------------------------------------------- */

/*
 * A handle is (serial << NMR_HANDLE_KIND_BITS) | kind, where serial comes from one counter
 * that never repeats within a run. So a handle is never reused, its kind is visible even
 * after its object is gone, and "stale" (issued, object gone) is told apart from "unknown"
 * (never issued) without touching freed memory.
 */
#define NMR_HANDLE_KIND_BITS 3
#define NMR_HANDLE_KIND_MASK 7u

typedef enum nmr_handle_kind {
    NMR_HANDLE_NONE = 0,
    NMR_HANDLE_CLIENT_REGISTRATION = 1,
    NMR_HANDLE_PROVIDER_REGISTRATION = 2,
    NMR_HANDLE_CLIENT_BINDING = 3,   /* the client's side of a binding */
    NMR_HANDLE_PROVIDER_BINDING = 4, /* the provider's side of a binding */
} nmr_handle_kind_t;

/* ---- registrations ---------------------------------------------------------------------- */

typedef enum nmr_role {
    NMR_ROLE_CLIENT,
    NMR_ROLE_PROVIDER,
} nmr_role_t;

typedef enum nmr_registration_state {
    /* Entered when NmrRegister* publishes the registration; matched against every present
       and future peer of its NPI. Left by NmrDeregister*. */
    NMR_REGISTRATION_ACTIVE,
    /* Entered by NmrDeregister*: no new bindings; its bindings are being detached. Left when
       NmrWaitFor* returns (the registration is then unlinked and freed). */
    NMR_REGISTRATION_DEREGISTERING,
} nmr_registration_state_t;

/* The characteristics a module must not change while registered (R1), seen as words: client
   and provider characteristics have one layout (checked in nmr_verifier.c), nine 64-bit
   words, three of them with padding. The snapshot holds the module's words at registration
   with the padding bytes cleared (so the module's padding never counts); each check compares
   the module's words, padding masked, with it. Named words, not an array: the sanitizers
   check a member access once per structure, an array element at every index. */
typedef struct __attribute__((may_alias)) nmr_characteristics_words {
    ULONG64 version_length;        /* Version, Length, padding */
    ULONG64 attach;                /* ClientAttachProvider / ProviderAttachClient */
    ULONG64 detach;                /* ClientDetachProvider / ProviderDetachClient */
    ULONG64 cleanup;               /* Client/ProviderCleanupBindingContext */
    ULONG64 instance_version_size; /* registration instance: Version, Size, padding */
    ULONG64 npi_id;                /* NpiId */
    ULONG64 module_id;             /* ModuleId */
    ULONG64 number;                /* Number, padding */
    ULONG64 npi_specific;          /* NpiSpecificCharacteristics */
} nmr_characteristics_words_t;
typedef nmr_characteristics_words_t nmr_characteristics_snapshot_t;

typedef struct nmr_registration {
    LIST_ENTRY link;                    /* In nmr_registrar.clients/providers. Protected by: lock */
    ULONG64 serial;                     /* Immutable: handle serial */
    nmr_role_t role;                    /* Immutable */
    union {                             /* Immutable: the module's own structure, not a copy */
        const NPI_CLIENT_CHARACTERISTICS *client;
        const NPI_PROVIDER_CHARACTERISTICS *provider;
    } characteristics;
    const NPI_REGISTRATION_INSTANCE *instance; /* Immutable: inside characteristics */
    PVOID context;                      /* Immutable: the module's registration context */
    NPIID npi_id;                       /* Immutable: *NpiId at registration (matching, messages) */
    NPI_MODULEID module_id;             /* Immutable: *ModuleId at registration (messages) */
    nmr_characteristics_snapshot_t characteristics_snapshot; /* Immutable: R1 reference (R3's
                                           are npi_id and module_id) */
    nmr_registration_state_t state;     /* Protected by: lock */
    ULONG binding_count;                /* Bindings naming this registration that are not yet
                                           destroyed or discarded. Protected by: lock */
    ULONG bindings_finished;            /* Bindings destroyed or discarded so far; the D4
                                           watchdog's progress measure. Protected by: lock */
    BOOLEAN wait_in_progress;           /* A NmrWaitFor* is blocked on it. Protected by: lock */
    KEVENT drained;                     /* Notification event, set (under the lock) once the
                                           registration is DEREGISTERING with binding_count 0 */
    ULONG64 invariant_stamp;            /* nmr_check_invariants' mark: which walk found it on
                                           which list (0: none yet). Protected by: lock */
    ULONG invariant_bindings;           /* nmr_check_invariants' count of the bindings naming
                                           it, in its last walk. Protected by: lock */
} nmr_registration_t;

/* ---- bindings --------------------------------------------------------------------------- */

typedef enum nmr_binding_state {
    /* Created inside the NmrRegister* of `proposer`, together with the registration; the
       attach has not started. Left when the proposer's thread starts the attach
       (ATTACHING) or finds a side deregistering (discarded without callbacks). */
    NMR_BINDING_PROPOSED,
    /* ClientAttachProvider is running on attach_thread. Left when it returns: ATTACHED on
       STATUS_SUCCESS, otherwise discarded without callbacks. */
    NMR_BINDING_ATTACHING,
    /* Both modules attached. Left by the first deregistration of either side, or at once
       by the late-comer rule when a side began deregistering during the attach. */
    NMR_BINDING_ATTACHED,
    /* Detach requested: each side runs through nmr_side_state_t. Left when both sides are
       complete. */
    NMR_BINDING_DETACHING,
    /* Both sides complete; the cleanup callbacks run on the thread that completed the last
       side. Left by destruction (unlinked and freed; its handles are then stale). */
    NMR_BINDING_CLEANING_UP,
} nmr_binding_state_t;

typedef enum nmr_side_state {
    NMR_SIDE_NOT_DETACHING,   /* binding not (yet) detaching */
    NMR_SIDE_DETACH_QUEUED,   /* detach decided, this side's callback not entered yet */
    NMR_SIDE_IN_DETACH,       /* this side's detach callback is running */
    NMR_SIDE_COMPLETED_EARLY, /* DetachComplete arrived while the callback was running;
                                 the callback must return STATUS_PENDING */
    NMR_SIDE_PENDING,         /* callback returned STATUS_PENDING; DetachComplete awaited */
    NMR_SIDE_COMPLETE,        /* detached (callback returned SUCCESS, or completion came) */
} nmr_side_state_t;

typedef struct nmr_binding_side {
    ULONG64 serial;            /* Immutable: this side's handle serial */
    nmr_side_state_t state;    /* Protected by: lock */
    NTSTATUS detach_status;    /* What the detach callback returned. Protected by: lock */
    PVOID binding_context;     /* Set when the attach succeeds. Protected by: lock */
    const VOID *dispatch;      /* Set when the attach succeeds. Protected by: lock */
    BOOLEAN completed_before_request; /* DetachComplete came before the NMR requested this
                                         side's detach, tolerated (rule level D5.early below
                                         stop): its callback counts as completed early.
                                         Protected by: lock */
} nmr_binding_side_t;

typedef struct nmr_binding {
    LIST_ENTRY link;                /* In nmr_registrar.bindings. Protected by: lock */
    LIST_ENTRY detach_link;         /* In the detaching thread's local batch; owned by the
                                       thread that moved the binding to DETACHING */
    nmr_registration_t *client;     /* Immutable */
    nmr_registration_t *provider;   /* Immutable */
    nmr_registration_t *proposer;   /* Immutable: whose NmrRegister* runs the attach */
    nmr_binding_state_t state;      /* Protected by: lock */
    PKTHREAD attach_thread;         /* Thread running ClientAttachProvider. Protected by: lock */
    BOOLEAN attach_called;          /* NmrClientAttachProvider called. Protected by: lock */
    BOOLEAN attach_succeeded;       /* ... and returned STATUS_SUCCESS. Protected by: lock */
    NTSTATUS last_attach_status;    /* Its last status. Protected by: lock */
    nmr_binding_side_t client_side;
    nmr_binding_side_t provider_side;
} nmr_binding_t;

/* ---- callouts --------------------------------------------------------------------------- */

typedef enum nmr_callout_kind {
    NMR_CALLOUT_CLIENT_ATTACH,
    NMR_CALLOUT_PROVIDER_ATTACH,
    NMR_CALLOUT_CLIENT_DETACH,
    NMR_CALLOUT_PROVIDER_DETACH,
    NMR_CALLOUT_CLIENT_CLEANUP,
    NMR_CALLOUT_PROVIDER_CLEANUP,
} nmr_callout_kind_t;

/* One call into a module in progress; lives on the calling thread's stack. */
typedef struct nmr_callout {
    LIST_ENTRY link;             /* In nmr_registrar.callouts. Protected by: lock */
    PKTHREAD thread;             /* Immutable */
    nmr_binding_t *binding;      /* Immutable */
    nmr_callout_kind_t kind;     /* Immutable */
    BOOLEAN raised;              /* IRQL raised to DISPATCH for this callout */
    KIRQL old_irql;
} nmr_callout_t;

/* ---- the registrar ---------------------------------------------------------------------- */

typedef struct nmr_registrar {
    /* Protects every field below and every "Protected by: lock" field of registrations,
       bindings and callouts. Never held across a callout into a module. */
    KSPIN_LOCK lock;
    PKTHREAD lock_owner;          /* Interlocked: the thread holding lock, for the
                                     "no callout under the lock" check */
    LIST_ENTRY clients;           /* nmr_registration_t, in registration order */
    LIST_ENTRY providers;         /* nmr_registration_t, in registration order */
    LIST_ENTRY bindings;          /* nmr_binding_t, in creation order */
    LIST_ENTRY callouts;          /* nmr_callout_t in progress */
    ULONG64 next_serial;          /* next handle serial; starts at 1 */
    nmr_verifier_config_t config;
    nmr_transition_observer_fn *transition_observer; /* set between runs */
    LONG warning_count;           /* Interlocked */
    const char *last_warning_rule; /* Interlocked */
} nmr_registrar_t;

extern nmr_registrar_t nmr_registrar;

/* Acquire/release the registrar lock (raising to DISPATCH_LEVEL). */
KIRQL nmr_lock(VOID);
VOID nmr_unlock(KIRQL old_irql);

/*
 * State transitions (all with the lock held). Every change of a registration, binding or
 * side state goes through these, so the transition observer sees each one. The pseudo
 * state NMR_STATE_NONE stands for "not yet created" and "gone".
 */
#define NMR_STATE_NONE 7u
typedef enum nmr_state_object {
    NMR_OBJECT_REGISTRATION = 0,
    NMR_OBJECT_BINDING = 1,
    NMR_OBJECT_CLIENT_SIDE = 2,
    NMR_OBJECT_PROVIDER_SIDE = 3,
} nmr_state_object_t;
C_ASSERT(NMR_REGISTRATION_DEREGISTERING < NMR_STATE_NONE);
C_ASSERT(NMR_BINDING_CLEANING_UP < NMR_STATE_NONE);
C_ASSERT(NMR_SIDE_COMPLETE < NMR_STATE_NONE);
C_ASSERT(((NMR_OBJECT_PROVIDER_SIDE << 6) | 63u) < NMR_TRANSITION_ID_LIMIT);
VOID nmr_note_transition(nmr_state_object_t object, ULONG from, ULONG to);
VOID nmr_binding_set_state(nmr_binding_t *binding, nmr_binding_state_t state);
VOID nmr_side_set_state(nmr_binding_t *binding, nmr_binding_side_t *side, nmr_side_state_t state);

/* ---- nmr_handle.c ----------------------------------------------------------------------- */

HANDLE nmr_handle_make(ULONG64 serial, nmr_handle_kind_t kind);
nmr_handle_kind_t nmr_handle_kind(HANDLE handle);
ULONG64 nmr_handle_serial(HANDLE handle);
/* TRUE if the handle's serial was issued in this run (the object may be gone). */
BOOLEAN nmr_handle_was_issued(HANDLE handle);
ULONG64 nmr_handle_next_serial(VOID);                        /* lock held */
nmr_registration_t *nmr_registration_find(HANDLE handle);    /* lock held; NULL if none */
/* Finds the binding whose client or provider side has this handle; *side receives it. */
nmr_binding_t *nmr_binding_find(HANDLE handle, nmr_binding_side_t **side); /* lock held */
const char *nmr_handle_kind_name(nmr_handle_kind_t kind);

/* ---- nmr_binding.c ---------------------------------------------------------------------- */

/* Create (unpublished) a binding between two registrations; NULL on allocation failure. */
nmr_binding_t *nmr_binding_create(nmr_registration_t *client, nmr_registration_t *provider,
                                  nmr_registration_t *proposer);
/* Run the attaches of every binding `proposer` proposed. Called without the lock held. */
VOID nmr_binding_attach_proposed(nmr_registration_t *proposer);
/* Move an ATTACHED binding to DETACHING and append it to batch. Lock held. */
VOID nmr_binding_queue_detach(nmr_binding_t *binding, PLIST_ENTRY batch);
/* Run the detach callbacks of every binding in batch. Called without the lock held. */
VOID nmr_binding_run_detach_batch(PLIST_ENTRY batch);
/* Unlink and account a binding that is gone (discarded or cleaned up). Lock held. */
VOID nmr_binding_unlink(nmr_binding_t *binding);
VOID nmr_binding_free(nmr_binding_t *binding);
const char *nmr_binding_state_name(nmr_binding_state_t state);
const char *nmr_side_state_name(nmr_side_state_t state, BOOLEAN client_side);

/* ---- nmr_verifier.c --------------------------------------------------------------------- */

/*
 * Print "*** NMR VERIFIER STOP <rule>: <function>: <message>; handle ..; module ..; NPI .."
 * and bug-check. registration may be NULL (then module and NPI are omitted).
 */
DECLSPEC_NORETURN VOID nmr_verifier_stop(const char *rule, const char *function, HANDLE handle,
                                         const nmr_registration_t *registration,
                                         const char *format, ...);
/*
 * A finding of a calibratable rule (nmr_module.h, rule levels): reported as level_key's level
 * says; returns FALSE (the caller continues with the rule's tolerated behaviour) unless the
 * level is stop (or left at the default), which prints the STOP line and bug-checks.
 */
BOOLEAN nmr_verifier_calibrated(const char *level_key, const char *rule, const char *function,
                                HANDLE handle, const nmr_registration_t *registration,
                                const char *format, ...);
/* Same line with WARNING; continues unless warnings are fatal. */
VOID nmr_verifier_warn(const char *rule, const char *function, HANDLE handle,
                       const nmr_registration_t *registration, const char *format, ...);
VOID nmr_snapshot_characteristics(const nmr_registration_t *registration,
                                  nmr_characteristics_snapshot_t *snapshot);
/*
 * Whether two GUIDs hold the same 16 bytes (the invariant walk; NPI matching keeps
 * InlineIsEqualGUID, whose lines the canary patches quote). As four ULONGs (a GUID is
 * ULONG-aligned; the WDK's InlineIsEqualGUID reads it so too), without short-circuits: a
 * check has one outcome to cover, not one per word; and without the shim's
 * InlineIsEqualGUID, whose memcmp of Data4 goes through ASan's and libFuzzer's memcmp
 * interceptors. Inline: a call per GUID was 1% of fuzz_nmr_schedule. (R3 compares the ids
 * in nmr_verifier.c, reading each word of the module's once.)
 */
typedef ULONG __attribute__((may_alias)) nmr_guid_word_t;
C_ASSERT(sizeof(GUID) == 4 * sizeof(ULONG));

static FORCEINLINE BOOLEAN nmr_guids_equal(const GUID *a, const GUID *b)
{
    const nmr_guid_word_t *x = (const nmr_guid_word_t *)a;
    const nmr_guid_word_t *y = (const nmr_guid_word_t *)b;
    return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) == 0;
}
/* R1/R3: stop if the module changed its characteristics, NpiId or ModuleId; the stop names
   handle (the one NmrWaitFor* was passed; NULL before a callout, which names the module). */
VOID nmr_verifier_check_characteristics(const nmr_registration_t *registration,
                                        const char *function, HANDLE handle);
/*
 * Every call into a module goes between these two. begin: checks the lock is not held by
 * this thread and R1/R3 of both registrations, records the callout (for A4/D11) and
 * raises IRQL if the configuration asks (raise_to_dispatch). end: undoes both.
 */
VOID nmr_callout_begin(nmr_callout_t *callout, nmr_binding_t *binding, nmr_callout_kind_t kind,
                       BOOLEAN raise_to_dispatch);
VOID nmr_callout_end(nmr_callout_t *callout);
/* TRUE if this thread is inside a callout of a binding that names registration. */
BOOLEAN nmr_callout_active_for(const nmr_registration_t *registration); /* lock held */
/* D4: print every unfinished binding of registration, then stop. Lock held. */
DECLSPEC_NORETURN VOID nmr_verifier_report_hang(const nmr_registration_t *registration,
                                                const char *function, HANDLE handle,
                                                ULONG timeout_ms);
const char *nmr_status_name(NTSTATUS status);
