/* SPDX-License-Identifier: MIT */
/*
 * driver_internal.h - what the driver fuzzer's files share: the run's drivers, registrations
 * and bindings (driver_fuzzer.c), generic peers (driver_peers.c), rule levels
 * (driver_rules.c) and reports (driver_report.c).
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <kshim/kshim.h>
#include <nmr_module.h>

#include "driver_fuzzer.h"
#include "fuzz_input.h"
#include "fuzz_oracle.h"
#include "fuzz_run.h"
#include "fuzz_status.h"
#include "fuzz_trace.h"

/* ---- rule levels (driver_rules.c) -------------------------------------------------------- */

typedef enum driver_level { LEVEL_OFF, LEVEL_WARN, LEVEL_STOP } driver_level_t;

/** Set the levels of this fuzzer: calibrated defaults, STRICT, RULES, then NMRKIT_RULES from
    the environment (a malformed entry exits 2 with a message). Once per process. */
void driver_rules_configure(const nmrkit_driver_fuzzer_t *fuzzer);
/** At the first input (the report hooks in place): hand the verifier the levels it applies
    itself. Once per process: nmr_reset keeps them. */
void driver_rules_offer_to_verifier(void);
/** Before each input: the verifier configuration's part of the levels (D8: the IRQL of
    detach and cleanup callbacks). */
void driver_rules_apply(nmr_verifier_config_t *config);
driver_level_t driver_rule_level(const char *rule);
/** "R5=stop D5.early=warn ..." of every rule, for the report. */
const char *driver_rules_summary(void);

/**
 * A driver-level finding in the verifier's format:
 *   *** NMR VERIFIER STOP <rule>: <function>: <what>; driver <name> [level <rule>=stop]
 * At level stop it prints the report and bug-checks; at warn it prints a WARNING line and
 * returns; off: nothing.
 */
__attribute__((format(printf, 4, 5))) void driver_finding(const char *rule, const char *function,
                                                          const char *driver, const char *format,
                                                          ...);

/* ---- run state (driver_fuzzer.c) --------------------------------------------------------- */

#define MAX_REGISTRATIONS 32u
#define MAX_BINDINGS 64u
#define BINDING_HISTORY 12u

typedef struct driver_registration {
    unsigned driver;          /* driver number; ~0u for a generic peer */
    bool client;
    HANDLE handle;
    GUID npi;
    bool deregistered;
    bool wait_called;
    bool waited;              /* NmrWaitFor* returned */
} driver_registration_t;

typedef struct driver_binding {
    HANDLE handle;            /* one side's binding handle seen by the harness */
    char client[40];          /* who: a driver's name or "peer" */
    char provider[40];
    unsigned history_count;
    char history[BINDING_HISTORY][80];
} driver_binding_t;

/** The driver whose operation the calling thread runs ("?" when none). */
const char *driver_current_driver(void);
/** The calling thread's driver context, for reports ("" when none). */
const char *driver_current_context(void);
/** A binding record for handle (created on first sight), or NULL when the table is full. */
driver_binding_t *driver_binding_note(HANDLE handle, const char *client, const char *provider);
/** Append one line to a binding's history (and the timeline). */
__attribute__((format(printf, 2, 3))) void driver_binding_event(HANDLE handle, const char *format,
                                                                ...);
/** Name of driver number i ("peer" for ~0u). */
const char *driver_name(unsigned driver);
/** Which driver registered the NPI in the given role in the discovery run. */
bool driver_npi_served_by_a_driver(const GUID *npi, bool client_role);

/** Trace one event of the calling thread (only where the interleaving is deterministic). */
__attribute__((format(printf, 1, 2))) void driver_trace(const char *format, ...);

/* ---- generic peers (driver_peers.c) ------------------------------------------------------ */

/** Once per process, before the first input's baseline: the peers' device. */
void driver_peers_prepare(void);
/** Before each input: forget every peer; the peer reader gives their behaviour. */
void driver_peers_reset(fuzz_input_t *peer_input, bool deterministic);
/** Register the generic peers this input needs (main thread, before the operations). */
void driver_peers_start(void);
/** Deregister and wait for every peer (after every driver is unloaded). */
void driver_peers_stop(void);
/** Operation: the peer of NPI number `which` deregisters, waits and registers again. */
void driver_peers_cycle(unsigned which);
/** Operation: complete every pending detach the peers queued for later. */
void driver_peers_complete_queued(void);
/** The completer thread (started and stopped by the fuzzer). */
void driver_peers_completer_start(void);
void driver_peers_completer_stop(void);
/** Free the peers' binding contexts (end of input). */
void driver_peers_release(void);
/** Number of NPIs that get a generic peer. */
unsigned driver_peers_count(void);
/** Note an NPI that needs a generic peer (discovery). */
void driver_peers_need(const GUID *npi, bool peer_is_client);
