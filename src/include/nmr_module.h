/* SPDX-License-Identifier: MIT */
/*
 * nmr_module.h - control of the registrar for harnesses, tests and fuzz targets.
 *
 * Drivers never include this. It configures the verifier (which "should" rules are
 * fatal, the hang watchdog, at which IRQL detach and cleanup callbacks run), checks the
 * registrar's internal invariants and resets it between fuzz inputs.
 *
 * Verifier output. A broken "must" rule prints one line on stderr
 *     *** NMR VERIFIER STOP <rule>: <call>: <what>; handle 0x..; module {..}; NPI {..}
 * and then bug-checks (abort), so a fuzzer keeps the input. A broken "should" rule
 * prints "*** NMR VERIFIER WARNING <rule>: ..." and continues, unless warnings are fatal.
 * Rule ids are those of nmr-spec.md section 3.
 */
#pragma once

#include <netioddk.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nmr_verifier_config {
    /* Treat warnings (R8, R10, A9, D11-style re-entry warnings) as stops. */
    BOOLEAN warnings_are_fatal;
    /* Print warnings at all (they are always counted). */
    BOOLEAN warnings_are_printed;
    /* D4 watchdog: a deregistration wait that makes no progress for this long is reported
       as a hang (every unfinished binding and side) and stops. 0 selects the default;
       NMR_HANG_TIMEOUT_NONE waits forever (for schedulers that detect deadlock exactly). */
    ULONG hang_timeout_ms;
    /* Run detach callbacks at DISPATCH_LEVEL (Windows may; drivers often assume PASSIVE). */
    BOOLEAN detach_at_dispatch;
    /* Run cleanup callbacks at DISPATCH_LEVEL. */
    BOOLEAN cleanup_at_dispatch;
    /* Call ProviderDetachClient before ClientDetachProvider (the order is undocumented). */
    BOOLEAN provider_detach_first;
} nmr_verifier_config_t;

/** Default hang watchdog of the real-thread build, in milliseconds. */
#define NMR_DEFAULT_HANG_TIMEOUT_MS 10000u
/** hang_timeout_ms value that disables the watchdog. */
#define NMR_HANG_TIMEOUT_NONE 0xFFFFFFFFu

/** @brief Current verifier configuration. */
VOID nmr_verifier_get_config(_Out_ nmr_verifier_config_t *config);

/** @brief Replace the verifier configuration (takes effect for later calls). */
VOID nmr_verifier_set_config(_In_ const nmr_verifier_config_t *config);

/** @brief Warnings reported since the last nmr_reset (printed or not). */
ULONG nmr_verifier_warning_count(VOID);

/** @brief Rule id of the most recent warning ("R10", ...), or NULL if none. */
const char *nmr_verifier_last_warning_rule(VOID);

/**
 * @brief Registrations (client or provider) whose NmrWaitFor* has not returned yet,
 * plus bindings not yet destroyed.
 */
ULONG nmr_live_object_count(VOID);

/** Number of distinct state-transition ids (see nmr_set_transition_observer). */
#define NMR_TRANSITION_ID_LIMIT 256u

typedef VOID nmr_transition_observer_fn(ULONG transition_id);

/**
 * @brief Report every state transition of a registration, a binding or a binding side.
 *
 * The observer gets one id < NMR_TRANSITION_ID_LIMIT per (object, from-state, to-state),
 * creation and destruction included, so fuzz targets can count reaching a new registrar
 * state as progress (libFuzzer extra counters). It is called with the registrar lock held:
 * it must only record, never call the NMR. NULL removes it; nmr_reset keeps it.
 */
VOID nmr_set_transition_observer(_In_opt_ nmr_transition_observer_fn *observer);

/**
 * @brief Describe every blocked NmrWaitFor* as a D4 hang: prints
 * "*** NMR VERIFIER STOP D4: ..." and one entry per unfinished binding (its handles, the
 * two modules, and which side has not completed). Does not stop; a deadlock detector
 * calls it before aborting.
 * @return The number of registrations whose wait is in progress.
 */
ULONG nmr_report_blocked_waits(VOID);

/*
 * Rule levels: a harness calibrates the rules whose finding a shipped driver may legitimately
 * trigger. Each calibratable rule has a level: off (not reported, not counted), warn (the
 * WARNING line, counted; execution continues), stop (the STOP line and a bug check). A level
 * that was set is printed at the end of the rule's line ("[level D5.early=warn]"); rules left
 * at NMR_RULE_LEVEL_DEFAULT behave as they always did (no suffix). Levels are kept by
 * nmr_reset. The calibratable rules:
 *   "R8", "R10", "A9"  the "should" rules the verifier warns about (default: warn, or stop
 *                      with warnings_are_fatal);
 *   "D5.early"         a DetachComplete for a side whose detach the NMR has not requested
 *                      yet (default: stop). Below stop the completion is counted, as the
 *                      real NMR does for XDP's provider (nmr-spec.md 2.4): when the detach
 *                      callback later returns STATUS_PENDING the side is already complete.
 * Every other verifier stop leaves the registrar no defined way to continue; its level is
 * always stop.
 */
typedef enum nmr_rule_level {
    NMR_RULE_LEVEL_DEFAULT = 0,
    NMR_RULE_LEVEL_OFF,
    NMR_RULE_LEVEL_WARN,
    NMR_RULE_LEVEL_STOP,
} nmr_rule_level_t;

/** @brief Set a calibratable rule's level; STATUS_NOT_SUPPORTED for any other rule id. */
NTSTATUS nmr_verifier_set_rule_level(_In_z_ const char *rule, _In_ nmr_rule_level_t level);

/** @brief A rule's level as set (NMR_RULE_LEVEL_DEFAULT if never set or not calibratable). */
nmr_rule_level_t nmr_verifier_rule_level(_In_z_ const char *rule);

/** How far the other side of a binding is in its detach, as seen from one side's handle. */
typedef enum nmr_other_side_progress {
    NMR_OTHER_SIDE_ATTACHED,         /* its detach callback has not been entered */
    NMR_OTHER_SIDE_IN_OWN_DETACH,    /* the calling thread is inside its detach callback */
    NMR_OTHER_SIDE_DETACHING,        /* its detach callback entered (or pending), not complete */
    NMR_OTHER_SIDE_DETACHED,         /* its detach completed; cleanup not finished */
    NMR_OTHER_SIDE_GONE,             /* the binding was cleaned up (or never existed) */
} nmr_other_side_progress_t;

/**
 * @brief For a harness peer checking a call it receives (D1, D2, D9): how far the other side
 * of the binding whose handle (one side's NmrBindingHandle) is given has got in its detach.
 * Never stops, whatever the handle.
 */
nmr_other_side_progress_t nmr_binding_other_side_progress(_In_ HANDLE NmrBindingHandle);

/**
 * @brief Check the registrar's internal consistency (lists, counts, states); stop with
 * "*** NMR VERIFIER STOP INTERNAL:" on any inconsistency. Returns the objects it walked,
 * what nmr_live_object_count() returns at that moment (so a harness checking both takes
 * the registrar lock once).
 */
ULONG nmr_check_invariants(VOID);

/**
 * @brief Forget every registration and binding (freeing the registrar's memory without
 * calling any module), reset handle numbering, warning counters and configuration, so
 * that the next fuzz input starts from the same state. Call with no NMR call in flight.
 * This includes a call cut short by a stop the harness caught (kshim stop trap, kshim.h):
 * nmr_reset re-initialises the registrar lock and its per-call bookkeeping (lock owner,
 * callouts in progress) whatever state the stop left them in, so that afterwards the
 * registrar behaves exactly as after process start (module memory the harness gave it is the
 * harness's to free; no module callback is made).
 * @return The number of objects that were still live (0 after a clean run).
 */
ULONG nmr_reset(VOID);

#ifdef __cplusplus
}
#endif
