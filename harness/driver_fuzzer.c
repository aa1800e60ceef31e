/* SPDX-License-Identifier: MIT */
/*
 * driver_fuzzer.c - the driver fuzzer: loads, unloads and exercises users' drivers in an order,
 * an interleaving and under a fault plan that the input chooses, and checks the driver-level
 * oracles at every unload.
 *
 * Input (a missing byte reads as 0, so every byte string is an input; replay -print shows the
 * decisions as labelled input lines):
 *   header (main reader): order=client_first|provider_first (which detach callback the NMR
 *     calls first), tail=first_runnable|random, fault_nth=0..255 (0: no fault; else the nth
 *     pool allocation of the run fails), fault_mode=transient|persistent, nmr_fail_nth=0..255
 *     (0: none; else the nth NmrRegister* call of a driver fails with
 *     STATUS_INSUFFICIENT_RESOURCES without reaching the NMR), tail_seed, then the lengths of
 *     the "ops" and "peer" regions;
 *   ops: operations, each run on its own simulated thread in input order:
 *     op=load|unload|exercise|peer_cycle|peer_complete|yield, then driver=<name> (load,
 *     unload, exercise; only with two drivers or more), peer=<n> (peer_cycle; only with two
 *     peers or more), action=0..255 (exercise: the Action argument; yield: yield points);
 *   peer: the generic peers' decisions, decoded before the operations start (driver_peers.c);
 *   sched: the interleaving: at each yield point with a choice, run=<thread>; after these
 *     bytes, the tail (first runnable, every fourth decision pseudo-random from tail_seed; or
 *     all pseudo-random).
 * Before the first input, each driver is loaded and unloaded alone once (the discovery run,
 * outside every timeline) to learn which NPIs it registers in which role: an NPI that no
 * driver of the fuzzer serves in the other role gets a generic peer (driver_peers.c).
 * A load is DriverEntry(DriverObject, RegistryPath) with the driver's globals as the process
 * started (its data sections restored), when the driver is not loaded; an unload
 * is DriverUnload when it is loaded (it waits for the driver's exercise calls in flight, and
 * no exercise starts once it has begun); exercise calls NmrkitDriverExercise(DriverObject,
 * action) when the driver is loaded and defines it. At the end of the operations every loaded
 * driver is unloaded, each on its own thread, then the generic peers deregister, and the
 * audit runs (no thread, work, pool or NMR object left; the registrar's invariants).
 *
 * Driver-level oracles (levels: driver_rules.c), checked when DriverUnload returns:
 *   R6 a registration of the driver was never deregistered; R7 deregistered, but NmrWaitFor*
 *   never called; R5 a wait is still in progress on another thread;
 *   U1 code of the unloaded driver is still queued or running (Ex work item, system thread,
 *   DPC, timer), once its Io work items (which hold the driver, as on Windows) returned; or a
 *   routine of the driver starts after its unload;
 *   U2 pool the driver allocated is outstanding (tag, size, allocating line);
 *   U3 a DriverEntry that failed left a registration or pool behind.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver_internal.h"

#define MAX_OPS 32u
#define HEADER_BYTES 8u
#define MAX_SCHEDULE 4096u
#define SCHEDULE_TAIL 16384u

typedef enum driver_state {
    DRIVER_UNLOADED,
    DRIVER_LOADING,
    DRIVER_LOADED,
    DRIVER_UNLOADING,
} driver_state_t;

typedef struct driver_slot {
    const nmrkit_driver_image_t *image;
    unsigned index;
    DRIVER_OBJECT object;
    DRIVER_EXTENSION extension;
    UNICODE_STRING registry_path;
    WCHAR registry_path_buffer[128];
    KSPIN_LOCK lock;           /* protects state and in_flight */
    driver_state_t state;
    unsigned in_flight;        /* exercise calls running */
    KEVENT idle;               /* notification: set when in_flight drops to 0 while unloading */
    bool gone;                 /* unloaded: none of its code may run any more */
} driver_slot_t;

typedef enum op_kind { OP_LOAD, OP_UNLOAD, OP_EXERCISE, OP_PEER_CYCLE, OP_PEER_COMPLETE, OP_YIELD } op_kind_t;
static const char *const op_names[] = {"load", "unload", "exercise", "peer_cycle", "peer_complete", "yield"};

typedef struct op {
    op_kind_t kind;
    unsigned driver;
    unsigned action;
    unsigned number;           /* position in the input */
    char thread_name[24];
    kshim_thread_t *thread;    /* joined by main only */
    KEVENT done;               /* notification: the operation returned */
} op_t;

/* Names of the threads this file starts, for reports; protected by the fiber scheduler or,
   with real threads, written before the thread starts and read only by reports. */
static struct {
    const nmrkit_driver_fuzzer_t *fuzzer;
    driver_slot_t slots[NMRKIT_MAX_DRIVERS];
    op_t ops[MAX_OPS];
    unsigned op_count;
    kshim_thread_t *finals[NMRKIT_MAX_DRIVERS];
    KSPIN_LOCK table_lock;     /* protects registrations and bindings */
    driver_registration_t registrations[MAX_REGISTRATIONS];
    unsigned registration_count;
    driver_binding_t bindings[MAX_BINDINGS];
    unsigned binding_count;
    unsigned nmr_fail_nth;
    unsigned nmr_register_calls;
    bool deterministic;
    bool discovering;          /* the discovery run of the process's first input */
    bool discovered;
    GUID discovered_npis[MAX_REGISTRATIONS];
    bool discovered_client[MAX_REGISTRATIONS];
    unsigned discovered_count;
    fuzz_input_t schedule_in;
    unsigned schedule_taken;
    const char *last_thread;
    nmr_verifier_config_t config;
    /* The schedule's tail after the input's own bytes, made one decision at a time as the
       shim asks (next_tail_choice): xorshift state, decisions made, all pseudo-random or
       every fourth. */
    uint32_t tail_state;
    unsigned tail_used;
    bool tail_random;
} run;

/* ------------------------------------------------------------------------------------------ */
/* Trace and context                                                                          */
/* ------------------------------------------------------------------------------------------ */

/* Thread names as the trace keeps them: their first THREAD_NAME_KEPT - 1 characters (a system
   thread's "system thread from <file>:<line>" is cut). */
#define THREAD_NAME_KEPT 24

/* Whether copy is name as kept. Not strcmp: under ASan every strcmp call also feeds
   libFuzzer's comparison hook, which made this lookup, at every traced event, a twentieth of
   a driver fuzzer's time and taught the mutator thread names. And a cut name is found again:
   compared in full, each event of a thread with a long name took another slot, until the
   table was full and every new thread was "?". */
static bool kept_as(const char *copy, const char *name)
{
    size_t i = 0;
    while (i < THREAD_NAME_KEPT - 1 && copy[i] != '\0' && copy[i] == name[i]) {
        i++;
    }
    return i == THREAD_NAME_KEPT - 1 || copy[i] == name[i];
}

/* The trace keeps thread names by pointer (fuzz_trace_set_thread), and a simulated thread's
   name dies with it: the names are kept here, for the whole process, and found again by a
   hash of the kept characters (every traced event looks its thread's name up). */
#define THREAD_NAMES 128
static const char *thread_name_interned(const char *name)
{
    static char names[THREAD_NAMES][THREAD_NAME_KEPT];
    static unsigned count;
    /* 1 + the index in names of the name hashed there (0: an empty slot); open addressing,
       at most half full. */
    static unsigned char by_hash[2 * THREAD_NAMES];
    uint32_t hash = 2166136261u;
    for (size_t i = 0; i < THREAD_NAME_KEPT - 1 && name[i] != '\0'; i++) {
        hash = (hash ^ (unsigned char)name[i]) * 16777619u;
    }
    for (unsigned probe = 0; probe < 2 * THREAD_NAMES; probe++) {
        unsigned slot = (hash + probe) % (2 * THREAD_NAMES);
        if (by_hash[slot] == 0) {
            if (count == THREAD_NAMES) {
                return "?";
            }
            snprintf(names[count], sizeof names[count], "%s", name);
            by_hash[slot] = (unsigned char)(count + 1);
            return names[count++];
        }
        if (kept_as(names[by_hash[slot] - 1], name)) {
            return names[by_hash[slot] - 1];
        }
    }
    return "?";
}

/* Record one event (see driver_trace and driver_trace_program). */
static void trace_event(const char *format, va_list arguments)
{
    const char *thread = kshim_thread_current_name();
    thread = thread_name_interned(thread);
    if (thread != run.last_thread) {
        fuzz_trace_set_thread(thread);
        run.last_thread = thread;
    }
    char text[FUZZ_TRACE_LINE_MAX];
    vsnprintf(text, sizeof text, format, arguments);
    fuzz_trace_event("%s", text);
}

void driver_trace(const char *format, ...)
{
    /* With real threads the order of events is the OS's, and so is the nth pool allocation
       a fault plan fails: only the program and the audit are traced (driver_trace_program). */
    if (!run.deterministic) {
        return;
    }
    va_list arguments;
    va_start(arguments, format);
    trace_event(format, arguments);
    va_end(arguments);
}

/* An event of main's that no interleaving changes: traced in every build. */
__attribute__((format(printf, 1, 2))) static void driver_trace_program(const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    trace_event(format, arguments);
    va_end(arguments);
}

const char *driver_name(unsigned driver)
{
    if (driver >= NMRKIT_MAX_DRIVERS || run.slots[driver].image == NULL) {
        return "peer";
    }
    return run.slots[driver].image->name;
}

const char *driver_current_driver(void)
{
    const char *thread = kshim_thread_current_name();
    for (unsigned i = 0; i < run.op_count; i++) {
        if (strcmp(run.ops[i].thread_name, thread) == 0 && run.ops[i].kind <= OP_EXERCISE) {
            return driver_name(run.ops[i].driver);
        }
    }
    if (strncmp(thread, "unload-", 7) == 0) {
        return driver_name((unsigned)atoi(thread + 7));
    }
    return "?";
}

const char *driver_current_context(void)
{
    static char context[160];
    const char *thread = kshim_thread_current_name();
    for (unsigned i = 0; i < run.op_count; i++) {
        const op_t *op = &run.ops[i];
        if (strcmp(op->thread_name, thread) == 0) {
            snprintf(context, sizeof context, "operation %u: %s %s (thread %s)", op->number,
                     op_names[op->kind],
                     op->kind <= OP_EXERCISE ? driver_name(op->driver) : "", thread);
            return context;
        }
    }
    snprintf(context, sizeof context, "thread %s", thread);
    return context;
}

/* ------------------------------------------------------------------------------------------ */
/* Registrations and bindings the drivers made                                                */
/* ------------------------------------------------------------------------------------------ */

typedef enum registration_step { STEP_DEREGISTERED, STEP_WAIT_CALLED, STEP_WAITED } registration_step_t;

/* Record a step of the registration with this handle (none: not a driver's). */
static void registration_step(HANDLE handle, registration_step_t step)
{
    KIRQL old_irql;
    KeAcquireSpinLock(&run.table_lock, &old_irql);
    for (unsigned i = 0; i < run.registration_count; i++) {
        driver_registration_t *r = &run.registrations[i];
        if (r->handle == handle && handle != NULL) {
            r->deregistered |= step == STEP_DEREGISTERED;
            r->wait_called |= step == STEP_WAIT_CALLED;
            r->waited |= step == STEP_WAITED;
        }
    }
    KeReleaseSpinLock(&run.table_lock, old_irql);
}

driver_binding_t *driver_binding_note(HANDLE handle, const char *client, const char *provider)
{
    KIRQL old_irql;
    KeAcquireSpinLock(&run.table_lock, &old_irql);
    driver_binding_t *binding = NULL;
    for (unsigned i = 0; i < run.binding_count && binding == NULL; i++) {
        if (run.bindings[i].handle == handle) {
            binding = &run.bindings[i];
        }
    }
    if (binding == NULL && run.binding_count < MAX_BINDINGS) {
        binding = &run.bindings[run.binding_count++];
        memset(binding, 0, sizeof *binding);
        binding->handle = handle;
    }
    if (binding != NULL) {
        if (client != NULL) {
            snprintf(binding->client, sizeof binding->client, "%s", client);
        }
        if (provider != NULL) {
            snprintf(binding->provider, sizeof binding->provider, "%s", provider);
        }
    }
    KeReleaseSpinLock(&run.table_lock, old_irql);
    return binding;
}

void driver_binding_event(HANDLE handle, const char *format, ...)
{
    char text[80];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(text, sizeof text, format, arguments);
    va_end(arguments);
    driver_binding_t *binding = driver_binding_note(handle, NULL, NULL);
    if (binding != NULL) {
        KIRQL old_irql;
        KeAcquireSpinLock(&run.table_lock, &old_irql);
        unsigned slot = binding->history_count++ % BINDING_HISTORY;
        snprintf(binding->history[slot], sizeof binding->history[slot], "%.20s: %.56s",
                 kshim_thread_current_name(), text);
        KeReleaseSpinLock(&run.table_lock, old_irql);
    }
    driver_trace("%s", text);
}

bool driver_npi_served_by_a_driver(const GUID *npi, bool client_role)
{
    for (unsigned i = 0; i < run.discovered_count; i++) {
        if (run.discovered_client[i] == client_role &&
            memcmp(&run.discovered_npis[i], npi, sizeof *npi) == 0) {
            return true;
        }
    }
    return false;
}

static void discover(const GUID *npi, bool client)
{
    if (!run.discovering || driver_npi_served_by_a_driver(npi, client) ||
        run.discovered_count >= MAX_REGISTRATIONS) {
        return;
    }
    run.discovered_npis[run.discovered_count] = *npi;
    run.discovered_client[run.discovered_count] = client;
    run.discovered_count++;
}

static void remember_registration(unsigned driver, bool client, HANDLE handle, const GUID *npi)
{
    KIRQL old_irql;
    KeAcquireSpinLock(&run.table_lock, &old_irql);
    if (run.registration_count < MAX_REGISTRATIONS) {
        driver_registration_t *r = &run.registrations[run.registration_count++];
        memset(r, 0, sizeof *r);
        r->driver = driver;
        r->client = client;
        r->handle = handle;
        r->npi = *npi;
    }
    KeReleaseSpinLock(&run.table_lock, old_irql);
}

static bool fail_this_registration(void)
{
    unsigned call = __atomic_add_fetch(&run.nmr_register_calls, 1, __ATOMIC_RELAXED);
    return run.nmr_fail_nth != 0 && call == run.nmr_fail_nth;
}

NTSTATUS nmrkit_driver_register_client(unsigned driver, const NPI_CLIENT_CHARACTERISTICS *c,
                                       PVOID context, PHANDLE handle)
{
    if (c != NULL && c->ClientRegistrationInstance.NpiId != NULL) {
        discover(c->ClientRegistrationInstance.NpiId, true);
    }
    if (fail_this_registration()) {
        driver_trace("%s: NmrRegisterClient -> STATUS_INSUFFICIENT_RESOURCES (injected)",
                     driver_name(driver));
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    driver_trace("%s: NmrRegisterClient", driver_name(driver));
    const void *owner = kshim_owner_swap(NULL); /* the registrar's pool is its own */
    NTSTATUS status = NmrRegisterClient(c, context, handle);
    kshim_owner_swap(owner);
    driver_trace("%s: NmrRegisterClient -> %s", driver_name(driver), fuzz_status_str(status));
    if (status == STATUS_SUCCESS && handle != NULL) {
        remember_registration(driver, true, *handle, c->ClientRegistrationInstance.NpiId);
    }
    return status;
}

NTSTATUS nmrkit_driver_register_provider(unsigned driver, const NPI_PROVIDER_CHARACTERISTICS *c,
                                         PVOID context, PHANDLE handle)
{
    if (c != NULL && c->ProviderRegistrationInstance.NpiId != NULL) {
        discover(c->ProviderRegistrationInstance.NpiId, false);
    }
    if (fail_this_registration()) {
        driver_trace("%s: NmrRegisterProvider -> STATUS_INSUFFICIENT_RESOURCES (injected)",
                     driver_name(driver));
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    driver_trace("%s: NmrRegisterProvider", driver_name(driver));
    const void *owner = kshim_owner_swap(NULL);
    NTSTATUS status = NmrRegisterProvider(c, context, handle);
    kshim_owner_swap(owner);
    driver_trace("%s: NmrRegisterProvider -> %s", driver_name(driver), fuzz_status_str(status));
    if (status == STATUS_SUCCESS && handle != NULL) {
        remember_registration(driver, false, *handle, c->ProviderRegistrationInstance.NpiId);
    }
    return status;
}

NTSTATUS nmrkit_driver_deregister(unsigned driver, HANDLE handle, bool client)
{
    registration_step(handle, STEP_DEREGISTERED);
    driver_trace("%s: NmrDeregister%s", driver_name(driver), client ? "Client" : "Provider");
    const void *owner = kshim_owner_swap(NULL);
    NTSTATUS status = client ? NmrDeregisterClient(handle) : NmrDeregisterProvider(handle);
    kshim_owner_swap(owner);
    driver_trace("%s: NmrDeregister%s -> %s", driver_name(driver), client ? "Client" : "Provider",
                 fuzz_status_str(status));
    return status;
}

NTSTATUS nmrkit_driver_wait(unsigned driver, HANDLE handle, bool client)
{
    registration_step(handle, STEP_WAIT_CALLED);
    driver_trace("%s: NmrWaitFor%sDeregisterComplete", driver_name(driver),
                 client ? "Client" : "Provider");
    const void *owner = kshim_owner_swap(NULL);
    NTSTATUS status = client ? NmrWaitForClientDeregisterComplete(handle)
                             : NmrWaitForProviderDeregisterComplete(handle);
    kshim_owner_swap(owner);
    driver_trace("%s: NmrWaitFor%sDeregisterComplete -> %s", driver_name(driver),
                 client ? "Client" : "Provider", fuzz_status_str(status));
    if (status == STATUS_SUCCESS) {
        registration_step(handle, STEP_WAITED);
    }
    return status;
}

NTSTATUS nmrkit_driver_client_attach_provider(unsigned driver, HANDLE binding, PVOID context,
                                              const VOID *dispatch, PVOID *provider_context,
                                              const VOID **provider_dispatch)
{
    driver_binding_note(binding, driver_name(driver), NULL);
    const void *owner = kshim_owner_swap(NULL);
    NTSTATUS status = NmrClientAttachProvider(binding, context, dispatch, provider_context,
                                              provider_dispatch);
    kshim_owner_swap(owner);
    driver_binding_event(binding, "%s: NmrClientAttachProvider -> %s", driver_name(driver),
                         fuzz_status_str(status));
    return status;
}

VOID nmrkit_driver_detach_complete(unsigned driver, HANDLE binding, bool client)
{
    driver_binding_event(binding, "%s: Nmr%sComplete", driver_name(driver),
                         client ? "ClientDetachProvider" : "ProviderDetachClient");
    const void *owner = kshim_owner_swap(NULL);
    if (client) {
        NmrClientDetachProviderComplete(binding);
    } else {
        NmrProviderDetachClientComplete(binding);
    }
    kshim_owner_swap(owner);
}

/* ------------------------------------------------------------------------------------------ */
/* Owners                                                                                     */
/* ------------------------------------------------------------------------------------------ */

const void *nmrkit_driver_owner(unsigned driver)
{
    return &run.slots[driver];
}

const void *nmrkit_driver_owner_enter(unsigned driver)
{
    return kshim_owner_swap(&run.slots[driver]);
}

void nmrkit_driver_owner_leave(const void *previous)
{
    kshim_owner_swap(previous);
}

static const char *work_kind_name(kshim_work_kind_t kind)
{
    switch (kind) {
    case KSHIM_WORK_SYSTEM_THREAD:
        return "system thread";
    case KSHIM_WORK_EX_WORK_ITEM:
        return "Ex work item";
    case KSHIM_WORK_IO_WORK_ITEM:
        return "Io work item";
    case KSHIM_WORK_DPC:
        return "DPC";
    case KSHIM_WORK_TIMER:
        return "timer";
    }
    return "work";
}

/* The sanitizer runtime's symbolizer, in sanitizer builds. */
__attribute__((weak)) void __sanitizer_symbolize_pc(void *pc, const char *format, char *out,
                                                    size_t size);

/* "EchoClientReportThread (0x...)" where the symbolizer knows the routine, else "0x...". */
static const char *routine_name(const void *routine, char *buffer, size_t size)
{
    char symbol[96] = "";
    if (__sanitizer_symbolize_pc != NULL) {
        /* It takes a return address and looks one byte back: give it the routine's second. */
        __sanitizer_symbolize_pc((void *)((uintptr_t)routine + 1), "%f", symbol, sizeof symbol);
    }
    if (symbol[0] != '\0' && strcmp(symbol, "??") != 0 && strcmp(symbol, "<null>") != 0) {
        snprintf(buffer, size, "%s (%p)", symbol, routine);
    } else {
        snprintf(buffer, size, "%p", routine);
    }
    return buffer;
}

static void owner_run_hook(const void *owner, kshim_work_kind_t kind, const void *routine)
{
    for (unsigned i = 0; i < NMRKIT_MAX_DRIVERS; i++) {
        const driver_slot_t *slot = &run.slots[i];
        if (owner == slot && __atomic_load_n(&slot->gone, __ATOMIC_ACQUIRE)) {
            char name[128];
            driver_finding("U1", "DriverUnload", driver_name(i),
                           "a %s routine %s of the driver starts after its unload finished",
                           work_kind_name(kind), routine_name(routine, name, sizeof name));
        }
    }
}

typedef struct work_count {
    unsigned io_items;
    unsigned others;
    char first_other[192];
} work_count_t;

static void count_work(void *context, kshim_work_kind_t kind, const void *routine, bool running)
{
    work_count_t *count = context;
    if (kind == KSHIM_WORK_IO_WORK_ITEM) {
        count->io_items++;
    } else if (count->others++ == 0) {
        char name[128];
        snprintf(count->first_other, sizeof count->first_other, "a %s (routine %s, %s)",
                 work_kind_name(kind), routine_name(routine, name, sizeof name),
                 running ? "running" : "queued");
    }
}

typedef struct pool_list {
    unsigned count;
    char text[512];
} pool_list_t;

static void list_pool(void *context, ULONG tag, size_t size, const char *site)
{
    pool_list_t *list = context;
    size_t used = strlen(list->text);
    if (list->count++ < 6 && used < sizeof list->text - 80) {
        snprintf(list->text + used, sizeof list->text - used, "%s'%c%c%c%c' %zu bytes from %s",
                 list->count > 1 ? ", " : "", (char)(tag & 0xff), (char)((tag >> 8) & 0xff),
                 (char)((tag >> 16) & 0xff), (char)(tag >> 24), size, site);
    }
}

/* U1 and U2 at the end of an unload (or a failed load: U3 for the pool). */
static void check_unloaded_driver_resources(unsigned driver, const char *rule_pool)
{
    const void *owner = &run.slots[driver];
    for (;;) {
        work_count_t count = {0};
        kshim_owner_live_work(owner, count_work, &count);
        if (count.others != 0) {
            driver_finding("U1", "DriverUnload", driver_name(driver),
                           "%u piece(s) of the driver's work still queued or running after its "
                           "unload returned, first %s",
                           count.others, count.first_other);
            break;
        }
        if (count.io_items == 0) {
            break;
        }
        /* An Io work item holds its driver until its routine returns (as on Windows). */
        LARGE_INTEGER interval = {.QuadPart = -10000};
        KeDelayExecutionThread(KernelMode, FALSE, &interval);
    }
    pool_list_t pool = {0};
    if (kshim_owner_live_pool(owner, list_pool, &pool) != 0) {
        driver_finding(rule_pool, "DriverUnload", driver_name(driver),
                       "%u pool allocation(s) of the driver outstanding after its %s: %s%s",
                       pool.count, strcmp(rule_pool, "U3") == 0 ? "failed DriverEntry" : "unload",
                       pool.text, pool.count > 6 ? ", ..." : "");
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Load, unload, exercise                                                                     */
/* ------------------------------------------------------------------------------------------ */

/* R5-R7 for every registration of the driver; U3 flavour for a failed DriverEntry. */
static void check_registrations_ended(unsigned driver, const char *function, bool failed_load)
{
    driver_registration_t registrations[MAX_REGISTRATIONS];
    KIRQL old_irql;
    KeAcquireSpinLock(&run.table_lock, &old_irql);
    unsigned count = run.registration_count;
    memcpy(registrations, run.registrations, count * sizeof registrations[0]);
    for (unsigned i = 0; i < count; i++) {
        if (run.registrations[i].driver == driver) {
            run.registrations[i].waited = true; /* each is reported once */
        }
    }
    KeReleaseSpinLock(&run.table_lock, old_irql);
    for (unsigned i = 0; i < count; i++) {
        const driver_registration_t *r = &registrations[i];
        if (r->driver != driver || r->waited) {
            continue;
        }
        const char *kind = r->client ? "Client" : "Provider";
        if (failed_load) {
            driver_finding("U3", function, driver_name(driver),
                           "DriverEntry failed but left registration 0x%llx (%s) %s",
                           (unsigned long long)(uintptr_t)r->handle, kind,
                           !r->deregistered ? "registered" : "not waited for");
        } else if (!r->deregistered) {
            driver_finding("R6", function, driver_name(driver),
                           "returned without calling NmrDeregister%s for registration 0x%llx",
                           kind, (unsigned long long)(uintptr_t)r->handle);
        } else if (!r->wait_called) {
            driver_finding("R7", function, driver_name(driver),
                           "returned after NmrDeregister%s without NmrWaitFor%sDeregisterComplete "
                           "for registration 0x%llx",
                           kind, kind, (unsigned long long)(uintptr_t)r->handle);
        } else {
            driver_finding("R5", function, driver_name(driver),
                           "returned while NmrWaitFor%sDeregisterComplete for registration "
                           "0x%llx is still waiting on another thread",
                           kind, (unsigned long long)(uintptr_t)r->handle);
        }
    }
}

/* The initial image of every driver's writable data (taken at the first input). */
static char *initial_images[NMRKIT_MAX_DRIVERS][NMRKIT_DRIVER_SECTION_COUNT];

/* ASan builds keep redzones between a driver's globals, inside these sections, and the
   image is copied redzones included: the unchecked copies (kshim/kshim.h) do that at the C
   library's speed. Every input restores each driver's image, and the byte loop that did it
   before (uninstrumented by ASan, but with libFuzzer's comparison hook called twice per
   byte) was a third of a driver fuzzer's time. */
static void copy_image(char *to, const char *from, size_t size, bool zero)
{
    if (zero) {
        kshim_unchecked_memset(to, 0, size);
    } else {
        kshim_unchecked_memcpy(to, from, size);
    }
}

static void snapshot_images(void)
{
    for (unsigned i = 0; i < run.fuzzer->driver_count; i++) {
        const nmrkit_driver_image_t *image = &run.fuzzer->drivers[i];
        for (unsigned j = 0; j < NMRKIT_DRIVER_SECTION_COUNT; j++) {
            const nmrkit_driver_section_t *section = &image->sections[j];
            size_t size = section->start != NULL ? (size_t)(section->stop - section->start) : 0;
            if (size != 0 && !section->zero) {
                initial_images[i][j] = malloc(size);
                if (initial_images[i][j] == NULL) {
                    abort();
                }
                copy_image(initial_images[i][j], section->start, size, false);
            }
        }
    }
}

/* A fresh image of the driver's globals, as a load on Windows gives. */
static void restore_image(unsigned driver)
{
    const nmrkit_driver_image_t *image = &run.fuzzer->drivers[driver];
    for (unsigned j = 0; j < NMRKIT_DRIVER_SECTION_COUNT; j++) {
        const nmrkit_driver_section_t *section = &image->sections[j];
        size_t size = section->start != NULL ? (size_t)(section->stop - section->start) : 0;
        if (size != 0) {
            copy_image(section->start, initial_images[driver][j], size, section->zero);
        }
    }
}

static void prepare_driver_object(driver_slot_t *slot)
{
    restore_image(slot->index);
    memset(&slot->object, 0, sizeof slot->object);
    memset(&slot->extension, 0, sizeof slot->extension);
    slot->object.Type = 4; /* IO_TYPE_DRIVER */
    slot->object.Size = (CSHORT)sizeof slot->object;
    slot->object.DriverExtension = &slot->extension;
    slot->extension.DriverObject = &slot->object;
    slot->object.DriverInit = slot->image->entry;
    char path[128];
    snprintf(path, sizeof path, "\\Registry\\Machine\\System\\CurrentControlSet\\Services\\%s",
             slot->image->name);
    size_t length = strlen(path);
    for (size_t i = 0; i <= length; i++) {
        slot->registry_path_buffer[i] = (WCHAR)path[i];
    }
    slot->registry_path.Buffer = slot->registry_path_buffer;
    slot->registry_path.Length = (USHORT)(length * sizeof(WCHAR));
    slot->registry_path.MaximumLength = (USHORT)sizeof slot->registry_path_buffer;
    slot->extension.ServiceKeyName.Buffer = slot->registry_path_buffer + length - strlen(slot->image->name);
    slot->extension.ServiceKeyName.Length = (USHORT)(strlen(slot->image->name) * sizeof(WCHAR));
    slot->extension.ServiceKeyName.MaximumLength = slot->extension.ServiceKeyName.Length;
    if (slot->image->registry_fixture &&
        !NT_SUCCESS(kshim_registry_load_fixture(&slot->registry_path, slot->image->registry_fixture))) {
        /* The fixture is part of the fuzzer's configuration, not of the input: stop the run. */
        fprintf(stderr, "nmrkit: driver %s: registry fixture %s cannot be loaded (see above)\n",
                slot->image->name, slot->image->registry_fixture);
        exit(2);
    }
}

static bool slot_transition(driver_slot_t *slot, driver_state_t from, driver_state_t to)
{
    KIRQL old_irql;
    KeAcquireSpinLock(&slot->lock, &old_irql);
    bool ok = slot->state == from;
    if (ok) {
        slot->state = to;
        if (to == DRIVER_UNLOADING && slot->in_flight == 0) {
            KeSetEvent(&slot->idle, IO_NO_INCREMENT, FALSE);
        }
    }
    KeReleaseSpinLock(&slot->lock, old_irql);
    return ok;
}

static void load_driver(unsigned driver)
{
    driver_slot_t *slot = &run.slots[driver];
    if (!slot_transition(slot, DRIVER_UNLOADED, DRIVER_LOADING)) {
        driver_trace("load %s: skipped (not unloaded)", slot->image->name);
        return;
    }
    prepare_driver_object(slot);
    __atomic_store_n(&slot->gone, false, __ATOMIC_RELEASE);
    driver_trace("%s: DriverEntry", slot->image->name);
    const void *previous = nmrkit_driver_owner_enter(driver);
    NTSTATUS status = slot->image->entry(&slot->object, &slot->registry_path);
    nmrkit_driver_owner_leave(previous);
    driver_trace("%s: DriverEntry -> %s", slot->image->name, fuzz_status_str(status));
    if (!NT_SUCCESS(status)) {
        check_registrations_ended(driver, "DriverEntry", true);
        check_unloaded_driver_resources(driver, "U3");
        slot_transition(slot, DRIVER_LOADING, DRIVER_UNLOADED);
        return;
    }
    if (slot->object.DriverUnload == NULL) {
        fprintf(stderr,
                "nmrkit: driver %s: DriverEntry returned %s without setting "
                "DriverObject->DriverUnload; a driver fuzzer needs an unloadable driver\n",
                slot->image->name, fuzz_status_str(status));
        exit(2);
    }
    KeClearEvent(&slot->idle);
    slot_transition(slot, DRIVER_LOADING, DRIVER_LOADED);
}

static void unload_driver(unsigned driver)
{
    driver_slot_t *slot = &run.slots[driver];
    if (!slot_transition(slot, DRIVER_LOADED, DRIVER_UNLOADING)) {
        driver_trace("unload %s: skipped (not loaded)", slot->image->name);
        return;
    }
    /* As on Windows, the unload waits for the driver's requests in flight. */
    KeWaitForSingleObject(&slot->idle, Executive, KernelMode, FALSE, NULL);
    driver_trace("%s: DriverUnload", slot->image->name);
    const void *previous = nmrkit_driver_owner_enter(driver);
    slot->object.DriverUnload(&slot->object);
    nmrkit_driver_owner_leave(previous);
    driver_trace("%s: DriverUnload returned", slot->image->name);
    check_registrations_ended(driver, "DriverUnload", false);
    check_unloaded_driver_resources(driver, "U2");
    __atomic_store_n(&slot->gone, true, __ATOMIC_RELEASE);
    slot_transition(slot, DRIVER_UNLOADING, DRIVER_UNLOADED);
}

static void exercise_driver(unsigned driver, unsigned action)
{
    driver_slot_t *slot = &run.slots[driver];
    if (slot->image->exercise == NULL) {
        return;
    }
    KIRQL old_irql;
    KeAcquireSpinLock(&slot->lock, &old_irql);
    bool loaded = slot->state == DRIVER_LOADED;
    if (loaded) {
        slot->in_flight++;
    }
    KeReleaseSpinLock(&slot->lock, old_irql);
    if (!loaded) {
        driver_trace("exercise %s: skipped (not loaded)", slot->image->name);
        return;
    }
    driver_trace("%s: NmrkitDriverExercise(%u)", slot->image->name, action);
    const void *previous = nmrkit_driver_owner_enter(driver);
    slot->image->exercise(&slot->object, (ULONG)action);
    nmrkit_driver_owner_leave(previous);
    driver_trace("%s: NmrkitDriverExercise(%u) returned", slot->image->name, action);
    KeAcquireSpinLock(&slot->lock, &old_irql);
    if (--slot->in_flight == 0 && slot->state == DRIVER_UNLOADING) {
        KeSetEvent(&slot->idle, IO_NO_INCREMENT, FALSE);
    }
    KeReleaseSpinLock(&slot->lock, old_irql);
}

static void op_run(op_t *op)
{
    switch (op->kind) {
    case OP_LOAD:
        load_driver(op->driver);
        break;
    case OP_UNLOAD:
        unload_driver(op->driver);
        break;
    case OP_EXERCISE:
        exercise_driver(op->driver, op->action);
        break;
    case OP_PEER_CYCLE:
        driver_peers_cycle(op->driver);
        break;
    case OP_PEER_COMPLETE:
        driver_peers_complete_queued();
        break;
    case OP_YIELD:
        for (unsigned i = 0; i <= op->action % 8; i++) {
            kshim_sched_yield();
        }
        break;
    }
}

static void op_main(void *argument)
{
    op_t *op = argument;
    op_run(op);
    KeSetEvent(&op->done, IO_NO_INCREMENT, FALSE);
}

/* The end of the run: each driver's last unload waits for the operations that name it. */
static void final_unload_main(void *argument)
{
    unsigned driver = (unsigned)(uintptr_t)argument;
    for (unsigned i = 0; i < run.op_count; i++) {
        op_t *op = &run.ops[i];
        if (op->kind <= OP_EXERCISE && op->driver == driver) {
            KeWaitForSingleObject(&op->done, Executive, KernelMode, FALSE, NULL);
        }
    }
    unload_driver(driver);
}

/* ------------------------------------------------------------------------------------------ */
/* Schedule                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* The tail's next decision, the same sequence for a given seed whether one decision or all
   SCHEDULE_TAIL are used: made when asked, so an input pays only for the decisions it reaches
   (a tail made whole up front was half of a driver fuzzer's time). */
static unsigned next_tail_choice(void)
{
    if (run.tail_used >= SCHEDULE_TAIL) {
        return KSHIM_SCHED_NO_CHOICE; /* the shim's default: keep the running thread */
    }
    uint32_t x = run.tail_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    run.tail_state = x;
    bool pseudo_random = run.tail_random || run.tail_used % 4 == 3;
    run.tail_used++;
    return pseudo_random ? (uint8_t)(x >> 24) : 0;
}

static unsigned choose_from_input(void *context, unsigned runnable)
{
    (void)context;
    if (run.schedule_taken >= MAX_SCHEDULE || fuzz_input_exhausted(&run.schedule_in)) {
        return next_tail_choice();
    }
    run.schedule_taken++;
    return fuzz_take_choice_as(&run.schedule_in, "run", runnable);
}

static void start_tail(uint8_t seed, bool random)
{
    run.tail_state = 0x9e3779b9u ^ ((uint32_t)seed * 0x01000193u);
    run.tail_used = 0;
    run.tail_random = random;
}

static void on_deadlock(void)
{
    nmr_report_blocked_waits();
    fprintf(stderr, "nmrkit: every simulated thread is blocked; drivers:");
    for (unsigned i = 0; i < run.fuzzer->driver_count; i++) {
        static const char *const states[] = {"unloaded", "loading", "loaded", "unloading"};
        fprintf(stderr, " %s %s%s", driver_name(i), states[run.slots[i].state],
                i + 1 < run.fuzzer->driver_count ? "," : "\n");
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Reports                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static void print_bindings(FILE *out)
{
    for (unsigned i = 0; i < run.binding_count; i++) {
        const driver_binding_t *b = &run.bindings[i];
        fprintf(out, "nmrkit: binding 0x%llx (client %s, provider %s), history:\n",
                (unsigned long long)(uintptr_t)b->handle, b->client[0] ? b->client : "?",
                b->provider[0] ? b->provider : "?");
        unsigned first = b->history_count > BINDING_HISTORY ? b->history_count - BINDING_HISTORY : 0;
        for (unsigned j = first; j < b->history_count; j++) {
            fprintf(out, "    %s\n", b->history[j % BINDING_HISTORY]);
        }
    }
}

static void print_report(void)
{
    static volatile sig_atomic_t printed;
    if (printed || run.fuzzer == NULL) {
        return;
    }
    printed = 1;
    fprintf(stderr, "nmrkit: driver fuzzer %s, %s\n", run.fuzzer->target,
            driver_current_context());
    fprintf(stderr, "nmrkit: rule levels: %s\n", driver_rules_summary());
    print_bindings(stderr);
    fprintf(stderr, "nmrkit: last events of the input:\n");
    fuzz_trace_print_recent(stderr);
}

static void oracle_context(char *buffer, size_t size)
{
    snprintf(buffer, size, " (driver fuzzer %s, %s)", run.fuzzer->target,
             driver_current_context());
}

static struct sigaction previous_abort;

static void on_abort(int signal_number, siginfo_t *info, void *context)
{
    print_report();
    sigaction(SIGABRT, &previous_abort, NULL);
    if ((previous_abort.sa_flags & SA_SIGINFO) && previous_abort.sa_sigaction != NULL) {
        previous_abort.sa_sigaction(signal_number, info, context);
    } else if (previous_abort.sa_handler != SIG_DFL && previous_abort.sa_handler != SIG_IGN) {
        previous_abort.sa_handler(signal_number);
    }
    raise(SIGABRT);
}

static void on_sanitizer_report(const char *report)
{
    (void)report;
    print_report();
}

/* Debug output (the verifier's lines and the drivers' DbgPrint): a stop goes to stderr, the
   rest to the timeline, so warnings cost no terminal output while fuzzing. */
static void dbg_print_sink(const char *text, size_t length, void *context)
{
    (void)context;
    static bool stopping; /* after a stop line, the rest of its report goes to stderr too */
    if (stopping ||
        (length >= 3 && memcmp(text, "***", 3) == 0 && memmem(text, length, " STOP ", 6) != NULL)) {
        stopping = true;
        fwrite(text, 1, length, stderr);
        return;
    }
    while (length > 0 && (text[length - 1] == '\n' || text[length - 1] == '\r')) {
        length--;
    }
    driver_trace("%.*s", (int)(length < 190 ? length : 190), text);
}

static void install_report_hooks(void)
{
    kshim_dbg_print_set_sink(dbg_print_sink, NULL);
    /* Installed at the first input, after libFuzzer's own handler, which it then chains to
       (so the crash file is still written). */
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_abort;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    sigaction(SIGABRT, &action, &previous_abort);
    kshim_set_sanitizer_report_hook(on_sanitizer_report);
}

/* ------------------------------------------------------------------------------------------ */
/* One input                                                                                  */
/* ------------------------------------------------------------------------------------------ */

static const char *const order_names[] = {"client_first", "provider_first"};
static const char *const tail_names[] = {"first_runnable", "random"};
static const char *const mode_names[] = {"transient", "persistent"};

static void reset_run_tables(void)
{
    run.registration_count = 0;
    run.binding_count = 0;
    run.op_count = 0;
    run.nmr_register_calls = 0;
    run.last_thread = NULL;
    KeInitializeSpinLock(&run.table_lock);
    for (unsigned i = 0; i < run.fuzzer->driver_count; i++) {
        driver_slot_t *slot = &run.slots[i];
        slot->image = &run.fuzzer->drivers[i];
        slot->index = i;
        slot->state = DRIVER_UNLOADED;
        slot->in_flight = 0;
        slot->gone = false;
        KeInitializeSpinLock(&slot->lock);
        KeInitializeEvent(&slot->idle, NotificationEvent, FALSE);
    }
}

/* The process's first input: each driver alone, loaded and unloaded, to learn which NPIs
   it registers in which role (which NPIs need a generic peer). */
static void discover_npis(void)
{
    run.discovering = true;
    FILE *timeline = fuzz_trace_output(); /* not part of any input's timeline */
    fuzz_trace_set_output(NULL);
    for (unsigned i = 0; i < run.fuzzer->driver_count; i++) {
        reset_run_tables();
        load_driver(i);
        unload_driver(i);
        kshim_drain_pending_work();
        nmr_reset();
    }
    run.discovering = false;
    fuzz_trace_set_output(timeline);
    for (unsigned i = 0; i < run.discovered_count; i++) {
        if (!driver_npi_served_by_a_driver(&run.discovered_npis[i], !run.discovered_client[i])) {
            driver_peers_need(&run.discovered_npis[i], !run.discovered_client[i]);
        }
    }
}

static void decode_ops(const uint8_t *data, size_t size)
{
    fuzz_input_t in;
    fuzz_input_init(&in, data, size);
    fuzz_input_set_name(&in, "ops");
    const char *names[NMRKIT_MAX_DRIVERS];
    for (unsigned i = 0; i < run.fuzzer->driver_count; i++) {
        names[i] = run.fuzzer->drivers[i].name;
    }
    while (!fuzz_input_exhausted(&in) && run.op_count < MAX_OPS) {
        op_t *op = &run.ops[run.op_count];
        memset(op, 0, sizeof *op);
        op->number = run.op_count;
        op->kind = (op_kind_t)fuzz_take_enum_as(&in, "op", op_names, 6);
        if (op->kind <= OP_EXERCISE) {
            op->driver = fuzz_take_enum_as(&in, "driver", names, run.fuzzer->driver_count);
        } else if (op->kind == OP_PEER_CYCLE) {
            op->driver = fuzz_take_choice_as(&in, "peer", driver_peers_count());
        }
        if (op->kind == OP_EXERCISE || op->kind == OP_YIELD) {
            op->action = fuzz_take_u8_as(&in, "action");
        }
        snprintf(op->thread_name, sizeof op->thread_name, "op%u", op->number);
        KeInitializeEvent(&op->done, NotificationEvent, FALSE);
        run.op_count++;
    }
    fuzz_input_finish(&in);
}

int nmrkit_driver_fuzz_one_input(const nmrkit_driver_fuzzer_t *fuzzer, const uint8_t *data,
                                 size_t size)
{
    if (run.fuzzer == NULL) {
        if (fuzzer->driver_count == 0 || fuzzer->driver_count > NMRKIT_MAX_DRIVERS) {
            fprintf(stderr, "nmrkit: %s: %u drivers; a fuzzer takes 1 to %u\n", fuzzer->target,
                    fuzzer->driver_count, NMRKIT_MAX_DRIVERS);
            exit(2);
        }
        run.fuzzer = fuzzer;
        snapshot_images();
        driver_rules_configure(fuzzer);
        install_report_hooks();
        fuzz_oracle_configure(oracle_context, true);
        kshim_set_owner_run_hook(owner_run_hook);
    }
    run.deterministic = kshim_sched_is_deterministic();
    kshim_sched_reset();
    kshim_reset();
    kshim_fault_set_plan(NULL);
    kshim_sched_set_deadlock_hook(on_deadlock);
    nmr_verifier_get_config(&run.config);
    run.config.warnings_are_fatal = FALSE;
    run.config.warnings_are_printed = TRUE;
    run.config.hang_timeout_ms = run.deterministic ? NMR_HANG_TIMEOUT_NONE : 0;
    driver_rules_apply(&run.config);
    if (!run.discovered) {
        /* Once per process (their lookups by name were 3% of a driver fuzzer per input). */
        driver_rules_offer_to_verifier();
        nmr_verifier_set_config(&run.config);
        discover_npis();
        driver_peers_prepare();
        run.discovered = true;
    }
    fuzz_run_begin();
    fuzz_trace_reset();
    reset_run_tables();

    /* Header. */
    size_t header = size < HEADER_BYTES ? size : HEADER_BYTES;
    fuzz_input_t in;
    fuzz_input_init(&in, data, header);
    run.config.provider_detach_first = fuzz_take_enum_as(&in, "order", order_names, 2) == 1;
    bool random_tail = fuzz_take_enum_as(&in, "tail", tail_names, 2) == 1;
    unsigned fault_nth = fuzz_take_u8_as(&in, "fault_nth");
    bool persistent = fuzz_take_enum_as(&in, "fault_mode", mode_names, 2) == 1;
    run.nmr_fail_nth = fuzz_take_u8_as(&in, "nmr_fail_nth");
    uint8_t seed = fuzz_take_u8_as(&in, "tail_seed");
    size_t op_bytes = fuzz_take_length_u8(&in, "ops");
    size_t peer_bytes = fuzz_take_length_u8(&in, "peer");
    fuzz_input_finish(&in);
    size_t rest = size - header;
    op_bytes = op_bytes < rest ? op_bytes : rest;
    rest -= op_bytes;
    peer_bytes = peer_bytes < rest ? peer_bytes : rest;
    rest -= peer_bytes;
    const uint8_t *ops = data + header;
    const uint8_t *peers = ops + op_bytes;
    const uint8_t *schedule = peers + peer_bytes;
    nmr_verifier_set_config(&run.config);

    decode_ops(ops, op_bytes);
    fuzz_input_t peer_in;
    fuzz_input_init(&peer_in, peers, peer_bytes);
    fuzz_input_set_name(&peer_in, "peer");
    driver_peers_reset(&peer_in, run.deterministic);
    fuzz_input_init(&run.schedule_in, schedule, rest);
    fuzz_input_set_name(&run.schedule_in, "sched");
    run.schedule_taken = 0;
    start_tail(seed, random_tail);
    kshim_sched_set_chooser(choose_from_input, NULL);
    driver_trace_program("%s: %u driver(s), %u operation(s), %u generic peer(s); rule levels %s",
                 fuzzer->target, fuzzer->driver_count, run.op_count, driver_peers_count(),
                 driver_rules_summary());

    if (fault_nth != 0) {
        kshim_fault_plan_t plan = {persistent ? KSHIM_FAULT_PERSISTENT : KSHIM_FAULT_TRANSIENT,
                                   fault_nth, NULL, 0};
        kshim_fault_set_plan(&plan);
    }
    driver_peers_completer_start();
    driver_peers_start();
    for (unsigned i = 0; i < run.op_count; i++) {
        run.ops[i].thread = kshim_thread_start(run.ops[i].thread_name, op_main, &run.ops[i]);
    }
    for (unsigned i = 0; i < fuzzer->driver_count; i++) {
        char name[24];
        snprintf(name, sizeof name, "unload-%u", i);
        run.finals[i] = kshim_thread_start(name, final_unload_main, (void *)(uintptr_t)i);
    }
    for (unsigned i = 0; i < fuzzer->driver_count; i++) {
        kshim_thread_join(run.finals[i]);
    }
    for (unsigned i = 0; i < run.op_count; i++) {
        kshim_thread_join(run.ops[i].thread);
        run.ops[i].thread = NULL;
    }
    driver_peers_stop();
    driver_peers_completer_stop();
    kshim_drain_pending_work();
    kshim_fault_set_plan(NULL);
    kshim_sched_set_chooser(NULL, NULL);
    fuzz_input_finish(&run.schedule_in);

    fuzz_run_audit(NULL, 0);
    driver_trace_program("audit ok");
    driver_peers_release();
    fuzz_run_end();
    kshim_sched_reset();
    return 0;
}
