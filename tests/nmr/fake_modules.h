/* SPDX-License-Identifier: MIT */
/*
 * fake_modules.h - configurable fake NPI client and provider modules for the NMR contract
 * tests, with an event log, per-module and per-binding counters and behaviour knobs.
 *
 * A fake module embeds its own characteristics (registered by address, so peers receive
 * pointers into it) and is its own registration context. Every accepted or attempted attach
 * gets a binding record (fake_binding_t) from a static array that is never freed, so a test
 * can inspect a record after cleanup and a callback that arrives for a discarded record is
 * counted as a violation instead of touching freed memory. The record is the binding
 * context each side passes to the NMR.
 *
 * Every callback appends one event to a log, e.g. "c1.attach(p1) p1.attach(c1)
 * c1.registered"; fake_register/fake_deregister/fake_wait/fake_complete add
 * "<name>.registered", ".deregistered", ".waited", ".complete(<peer>)" and
 * ".complete_done(<peer>)" around the NMR calls, so tests compare whole orders with
 * CHECK_LOG.
 *
 * This is not a model of a correct module: tests set knobs to make it misbehave on purpose.
 * It includes only the public headers (netioddk.h, nmr_module.h, kshim/kshim.h) and libc.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <ntddk.h>
#include <netioddk.h>
#include <nmr_module.h>
#include <kshim/kshim.h>

#include "nmr_test.h"

#define FAKE_MAX_MODULES 64
#define FAKE_MAX_BINDINGS 8192
#define FAKE_LOG_SIZE 8192

/* NPI ids whose text has no hex letters, so a case-insensitive match is not needed. */
extern const NPIID FAKE_NPI_A;
extern const NPIID FAKE_NPI_B;
extern const NPIID FAKE_NPI_C;
#define FAKE_NPI_A_TEXT "11111111-2222-3333-4444-555555555555"
#define FAKE_NPI_B_TEXT "11111111-2222-3333-4444-666666666666"

/* What fake_register stores in module->handle before calling NmrRegister*. */
#define FAKE_HANDLE_SENTINEL ((HANDLE)(uintptr_t)0x5e5e5e5eu)

/* Dispatch tables: only their addresses matter. */
extern const int FAKE_CLIENT_DISPATCH_V1[4];
extern const int FAKE_CLIENT_DISPATCH_V2[4];
extern const int FAKE_PROVIDER_DISPATCH[4];

/* The roles of nmr_test.h, so that an NMR_ROLE_TEST passes its role straight to fake_init. */
typedef nmr_test_role_t fake_role_t;
#define FAKE_CLIENT NMR_TEST_CLIENT
#define FAKE_PROVIDER NMR_TEST_PROVIDER

typedef enum fake_attach_mode {
    /* Client: NmrClientAttachProvider(dispatch); after STATUS_NOINTERFACE, again with
       retry_dispatch if set; returns the last status. Provider: accepts (writes both out
       params, returns STATUS_SUCCESS) unless accept_only_dispatch is set and differs from
       the client's dispatch (then STATUS_NOINTERFACE). */
    FAKE_ATTACH_ACCEPT,
    /* Return attach_status. Client: without calling NmrClientAttachProvider. Provider:
       without writing the out params. */
    FAKE_ATTACH_RETURN_STATUS,
    /* Provider: write only *ProviderBindingContext, return STATUS_SUCCESS (A8). */
    FAKE_ATTACH_WRITE_CONTEXT_ONLY,
    /* Provider: write only *ProviderDispatch, return STATUS_SUCCESS (A8). */
    FAKE_ATTACH_WRITE_DISPATCH_ONLY,
    /* Provider: decline (STATUS_NOINTERFACE) when the record index is a multiple of 5,
       accept otherwise (churn). */
    FAKE_ATTACH_MIXED,
} fake_attach_mode_t;

typedef enum fake_detach_mode {
    FAKE_DETACH_SUCCESS,                 /* return STATUS_SUCCESS */
    FAKE_DETACH_PENDING,                 /* return STATUS_PENDING; the test calls fake_complete */
    FAKE_DETACH_PENDING_COMPLETE_INSIDE, /* fake_complete inside the callback, then PENDING */
    FAKE_DETACH_PENDING_COMPLETER,       /* queue to the completer thread, return PENDING */
    FAKE_DETACH_RETURN_STATUS,           /* return detach_status (e.g. STATUS_UNSUCCESSFUL) */
    /* by record index: SUCCESS, PENDING_COMPLETER, PENDING_COMPLETE_INSIDE in turn (churn) */
    FAKE_DETACH_MIXED,
} fake_detach_mode_t;

typedef enum fake_point {
    FAKE_AT_ATTACH,        /* entry of the attach callback (record created) */
    FAKE_AT_ATTACH_RESULT, /* client: after its last NmrClientAttachProvider, before return */
    FAKE_AT_DETACH,        /* entry of the detach callback, before the mode is applied */
    FAKE_AT_CLEANUP,       /* entry of the cleanup callback */
} fake_point_t;

typedef enum fake_binding_state {
    FB_ATTACHING,      /* attach callback running */
    FB_FAILED,         /* this side's attach did not succeed: no further callback allowed */
    FB_ATTACHED,       /* attached; detach allowed */
    FB_DETACHING,      /* detach callback entered */
    FB_DETACH_PENDING, /* detach returned (or will return) STATUS_PENDING; completion awaited */
    FB_DETACH_DONE,    /* this side completed (SUCCESS returned, or DetachComplete called) */
    FB_CLEANED,        /* cleanup callback ran */
} fake_binding_state_t;

typedef struct fake_module fake_module_t;
typedef struct fake_binding fake_binding_t;

typedef void fake_hook_fn(fake_module_t *module, fake_binding_t *binding, fake_point_t point);

struct fake_binding {
    LONG index;                 /* position in the record array */
    fake_module_t *owner;
    fake_module_t *peer;        /* looked up from the instance pointer; NULL if unknown */
    HANDLE handle;              /* the binding handle this side received */
    PVOID registration_context; /* context the attach callback received */
    PNPI_REGISTRATION_INSTANCE peer_instance;
    PVOID peer_binding_context; /* client: out value from NMR; provider: ClientBindingContext */
    const VOID *peer_dispatch;  /* client: out value from NMR; provider: ClientDispatch */
    NTSTATUS attach_status;     /* client: last NmrClientAttachProvider status */
    volatile LONG state;        /* fake_binding_state_t, Interlocked */
    volatile LONG in_nmr_attach_call; /* client: inside NmrClientAttachProvider */
    volatile LONG nested;       /* provider: peer client record was inside its NMR call */
    volatile LONG detach_calls;
    volatile LONG cleanup_calls;
    volatile LONG complete_calls;
    KIRQL attach_irql, detach_irql, cleanup_irql;
    /* names of the threads that ran the callbacks (copied: kshim frees a thread's name) */
    char attach_thread[32], detach_thread[32], cleanup_thread[32];
    /* cleanup observed this flag of the test (e.g. "inside the complete call") */
    LONG cleanup_saw_marker;
    LONG peer_done_at_cleanup; /* the peer's record was complete when cleanup ran */
};

struct fake_module {
    const char *name;
    fake_role_t role;
    NPI_MODULEID module_id;
    NPI_CLIENT_CHARACTERISTICS cchars;   /* registered by address when role == FAKE_CLIENT */
    NPI_PROVIDER_CHARACTERISTICS pchars; /* registered by address when role == FAKE_PROVIDER */
    HANDLE handle;                       /* written by fake_register from the out param */
    NTSTATUS register_status;
    bool registered;                     /* registered and not yet waited */
    bool deregistered;

    /* knobs */
    fake_attach_mode_t attach_mode;
    NTSTATUS attach_status;              /* for FAKE_ATTACH_RETURN_STATUS */
    const VOID *dispatch;                /* client dispatch / provider dispatch */
    const VOID *retry_dispatch;          /* client: retried after STATUS_NOINTERFACE */
    const VOID *accept_only_dispatch;    /* provider: decline any other client dispatch */
    bool override_return;                /* client: return override_status instead */
    NTSTATUS override_status;
    fake_detach_mode_t detach_mode;
    NTSTATUS detach_status;              /* for FAKE_DETACH_RETURN_STATUS */
    fake_hook_fn *hook;
    void *hook_arg;

    /* counters (Interlocked) */
    volatile LONG attach_calls;          /* attach callback entered */
    volatile LONG nmr_attach_calls;      /* client: NmrClientAttachProvider calls */
    volatile LONG attach_successes;      /* attach callback returned STATUS_SUCCESS */
    volatile LONG detach_calls;
    volatile LONG cleanup_calls;
    volatile LONG complete_calls;        /* fake_complete on one of its records */
    volatile LONG violations;            /* callbacks the contract forbids (see fake_modules.c) */
    volatile LONG not_nested_attaches;   /* provider: attach not inside NmrClientAttachProvider */
};

/* ---- test frame ------------------------------------------------------------------------- */

/** nmr_reset(), clear the log and the module registry, note the pool baseline. */
void fake_begin(void);
/**
 * The end-of-test audit: every fake module that registered has been waited, no violation
 * was counted, nmr_live_object_count() == 0, pool back to the baseline, kshim_audit.
 */
void fake_end(void);
size_t fake_pool_baseline(void);

/* ---- modules ---------------------------------------------------------------------------- */

void fake_client_init(fake_module_t *module, const char *name, PNPIID npi_id);
void fake_provider_init(fake_module_t *module, const char *name, PNPIID npi_id);
/* Initialise several modules of one NPI by name: "c<n>" is a client, "p<n>" a provider,
   e.g. fake_init_named(&FAKE_NPI_A, "c1 c2 p1", &c1, &c2, &p1). */
void fake_init_named(PNPIID npi_id, const char *names, ...);
/* fake_client_init or fake_provider_init, by role. */
void fake_init(fake_module_t *module, fake_role_t role, const char *name, PNPIID npi_id);
fake_role_t fake_other_role(fake_role_t role);
const char *fake_role_name(fake_role_t role); /* "client" or "provider" */

/*
 * The module's characteristics, whichever its role. NPI_CLIENT_CHARACTERISTICS and
 * NPI_PROVIDER_CHARACTERISTICS have the same fields at the same offsets (fake_modules.c
 * checks it), so a test written once for both roles reads and changes them here.
 */
USHORT *fake_version_field(fake_module_t *module);
USHORT *fake_length_field(fake_module_t *module);
NPI_REGISTRATION_INSTANCE *fake_instance_field(fake_module_t *module);
typedef enum fake_callback {
    FAKE_CALLBACK_ATTACH,
    FAKE_CALLBACK_DETACH,
    FAKE_CALLBACK_CLEANUP,
} fake_callback_t;
/* Set one callback pointer to NULL (present false) or back to the fake's own. */
void fake_set_callback(fake_module_t *module, fake_callback_t callback, bool present);

/* Every field of the characteristics and of the embedded instance (padding excluded), as
   offsets into the structure, for tests that change each one. */
typedef struct fake_field {
    const char *name;
    size_t offset, size;
} fake_field_t;
extern const fake_field_t FAKE_CHARACTERISTICS_FIELDS[];
extern const size_t FAKE_CHARACTERISTICS_FIELD_COUNT;
unsigned char *fake_characteristics_bytes(fake_module_t *module);

/* The name of an NMR function or callback of a role, e.g. FAKE_FN_WAIT of the provider is
   "NmrWaitForProviderDeregisterComplete", FAKE_FN_DETACH_CALLBACK of the client
   "ClientDetachProvider". */
typedef enum fake_function {
    FAKE_FN_REGISTER,
    FAKE_FN_DEREGISTER,
    FAKE_FN_WAIT,
    FAKE_FN_DETACH_COMPLETE,
    FAKE_FN_ATTACH_CALLBACK,
    FAKE_FN_DETACH_CALLBACK,
    FAKE_FN_CLEANUP_CALLBACK,
} fake_function_t;
const char *fake_function_name(fake_role_t role, fake_function_t function);
/* The role's NmrDeregister*, NmrWaitFor*, Nmr*DetachComplete with any handle (no log). */
NTSTATUS fake_deregister_handle(fake_role_t role, HANDLE handle);
NTSTATUS fake_wait_handle(fake_role_t role, HANDLE handle);
void fake_complete_handle(fake_role_t role, HANDLE handle);

/* ---- a bound pair ----------------------------------------------------------------------- */

/*
 * The client c1 and the provider p1 of FAKE_NPI_A: pair[FAKE_CLIENT] is the client,
 * pair[FAKE_PROVIDER] the provider, so a test written for a role takes pair[role] and its
 * peer pair[fake_other_role(role)]. fake_init_pair only initialises them (set knobs, then
 * fake_register_pair: provider first, then client, each CHECKed).
 */
void fake_init_pair(fake_module_t pair[2]);
void fake_register_pair(fake_module_t pair[2]);
/* fake_register_ok of pair[first], then of the other. */
void fake_register_pair_first(fake_module_t pair[2], fake_role_t first);
/* fake_register_pair, CHECK that both attached once, then clear the log. */
void fake_attach_pair(fake_module_t pair[2]);
void fake_bind_pair(fake_module_t pair[2]); /* fake_init_pair, then fake_attach_pair */
/* Deregister and wait for both (client first); CHECKs every result. */
void fake_unbind_pair(fake_module_t pair[2]);
/* fake_unregister_ok of pair[first], then of the other. */
void fake_unregister_pair_first(fake_module_t pair[2], fake_role_t first);
/* CHECK the IRQL both detach callbacks and both cleanup callbacks of the pair's binding ran at. */
void fake_check_pair_irqls(fake_module_t pair[2], KIRQL detach_irql, KIRQL cleanup_irql);
/* Bind the pair, let pair[role] deregister at PASSIVE_LEVEL, CHECK the IRQLs of the
   callbacks (fake_check_pair_irqls) and that the caller is back at PASSIVE_LEVEL, then both
   leave. */
void fake_check_deregistration_irqls(fake_module_t pair[2], fake_role_t role, KIRQL detach_irql,
                                     KIRQL cleanup_irql);
/* This side's binding record of the pair's binding: pair[role] toward its peer. */
fake_binding_t *fake_pair_side(fake_module_t pair[2], fake_role_t role);
/* NmrRegisterClient/Provider(&chars, module, &module->handle); logs "<name>.registered". */
NTSTATUS fake_register(fake_module_t *module);
/* NmrDeregister*(module->handle); logs "<name>.deregistered". */
NTSTATUS fake_deregister(fake_module_t *module);
/* NmrWaitFor*DeregisterComplete(module->handle); logs "<name>.waited" on success. */
NTSTATUS fake_wait(fake_module_t *module);
/* CHECK that register returns STATUS_SUCCESS. */
void fake_register_ok(fake_module_t *module);
/* CHECK deregister == STATUS_PENDING and wait == STATUS_SUCCESS. */
void fake_unregister_ok(fake_module_t *module);
/* The registered characteristics of the module (client or provider). */
const NPI_REGISTRATION_INSTANCE *fake_instance(const fake_module_t *module);

/* Call this side's Nmr*DetachComplete for the record; logs complete/complete_done. */
void fake_complete(fake_binding_t *binding);
/* The most recent record of module whose peer is peer (NULL if none). */
fake_binding_t *fake_binding_between(const fake_module_t *module, const fake_module_t *peer);
/* Number of records (all modules) created so far. */
LONG fake_binding_record_count(void);
fake_binding_t *fake_binding_record(LONG index);

/* The test's marker, copied into cleanup_saw_marker by every cleanup callback. */
void fake_set_marker(LONG value);

/* ---- log -------------------------------------------------------------------------------- */

const char *fake_log(void);
void fake_log_clear(void);
void fake_log_note(const char *text);
/* Logging takes a spin lock, which orders the threads that log; the churn test turns it
   off so that only the registrar's own synchronization orders the callbacks (TSan). */
void fake_log_set_enabled(bool enabled);

#define CHECK_STR(actual, expected)                                                        \
    do {                                                                                   \
        const char *check_str_a_ = (actual), *check_str_e_ = (expected);                  \
        if (check_str_a_ == NULL || strcmp(check_str_a_, check_str_e_) != 0) {            \
            nmr_test_fail(__FILE__, __LINE__, "%s is \"%s\", expected \"%s\"", #actual,     \
                          check_str_a_ ? check_str_a_ : "(null)", check_str_e_);          \
        }                                                                                  \
    } while (0)

#define CHECK_LOG(expected) CHECK_STR(fake_log(), (expected))

/*
 * Run fn(arg) in this process with the shim's stop trap armed (kshim.h): returns the stop line
 * and what the thread printed since (the verifier's STOP line among it), or NULL if fn
 * returned without a stop. For tests that expect many stops, where a forked child per stop
 * (EXPECT_STOP) is slow. A caught stop leaves the registrar in the middle of a call: start
 * afresh with fake_begin (nmr_reset) before using it again.
 */
const char *fake_catch_stop(void (*fn)(void *arg), void *arg);

/* Case-insensitive: the last EXPECT_STOP child's stderr contains text. */
bool fake_stop_output_contains(const char *text);
#define CHECK_STOP_MENTIONS(text)                                                          \
    do {                                                                                   \
        if (!fake_stop_output_contains(text)) {                                            \
            nmr_test_fail(__FILE__, __LINE__, "the stop output does not mention \"%s\":\n%s", \
                          (text), nmr_test_last_child_output());                           \
        }                                                                                  \
    } while (0)

#define CHECK_STOP_MENTIONS_EITHER(text1, text2)                                           \
    do {                                                                                   \
        if (!fake_stop_output_contains(text1) && !fake_stop_output_contains(text2)) {      \
            nmr_test_fail(__FILE__, __LINE__,                                              \
                          "the stop output mentions neither \"%s\" nor \"%s\":\n%s", (text1), \
                          (text2), nmr_test_last_child_output());                          \
        }                                                                                  \
    } while (0)

/* The first line of the last EXPECT_STOP child's stderr that contains needle
   (case-insensitive), copied into a static buffer; NULL if there is none. */
const char *fake_stop_line(const char *needle);
/* Case-insensitive substring search. */
bool fake_text_contains(const char *text, const char *needle);

/* ---- threads, time, configuration ------------------------------------------------------ */

void fake_sleep_ms(ULONG milliseconds);

/* A thread that completes queued pending detaches (FAKE_DETACH_PENDING_COMPLETER). */
void fake_completer_start(void);
/* Complete everything queued, then stop and join the thread. */
void fake_completer_stop(void);
/* Completions delivered by the completer so far. */
LONG fake_completer_completed(void);

/* Start a kshim thread that calls fake_complete(binding), and join it. */
void fake_complete_on_other_thread(fake_binding_t *binding);

nmr_verifier_config_t fake_config(void);
void fake_set_config(const nmr_verifier_config_t *config);
/* Turn on switches of the verifier configuration (the rest stays as it is). */
typedef enum fake_switch {
    FAKE_DETACH_AT_DISPATCH = 1,
    FAKE_CLEANUP_AT_DISPATCH = 2,
    FAKE_PROVIDER_DETACH_FIRST = 4,
    FAKE_WARNINGS_ARE_FATAL = 8,
} fake_switch_t;
void fake_turn_on(unsigned switches);
void fake_set_hang_timeout(ULONG milliseconds);

/* Format a handle as lowercase hex without prefix (for matching stop output). */
const char *fake_handle_text(HANDLE handle, char buffer[32]);
/* Format a GUID as {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx} (lowercase). */
const char *fake_guid_text(const GUID *guid, char buffer[40]);
