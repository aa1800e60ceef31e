/* SPDX-License-Identifier: MIT */
/*
 * driver_peers.c - generic peers: for every NPI that a driver of the fuzzer registers in one
 * role and no driver of the fuzzer registers in the other, a module of the other role whose
 * every decision comes from the input's "peer" region, decoded before the operations start
 * as a list of (attach, dispatch, detach) decisions, each callback taking the next one:
 *   attach=accept|decline|fail        (fail: STATUS_INSUFFICIENT_RESOURCES)
 *   dispatch=trap|null                its dispatch table for the binding
 *   detach=success|pending_inline|pending_later|pending_work_item
 *                                     STATUS_SUCCESS, or STATUS_PENDING completed inside the
 *                                     callback, later by the completer thread, or by an Io
 *                                     work item
 * The trap dispatch table has TRAP_SLOTS function pointers, enough for any NPI. Each slot
 * records the call and returns STATUS_SUCCESS, unless the binding's state forbids the call:
 * D1 (called from inside the driver's own detach callback), D2 (after the driver's detach
 * completed), D9 (after cleanup). A peer's binding context is a heap block of its own, used
 * only through its address; after cleanup it is poisoned (ASan builds: any access by the
 * driver is a use-after-poison report) and freed at the end of the input.
 * Peers register NpiSpecificCharacteristics NULL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver_internal.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PEER_HAVE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define PEER_HAVE_ASAN 1
#endif
#ifdef PEER_HAVE_ASAN
void __asan_poison_memory_region(void const volatile *addr, size_t size);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#define POISON(p, n) __asan_poison_memory_region((p), (n))
#define UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define POISON(p, n) memset((p), 0xdd, (n))
#define UNPOISON(p, n) ((void)0)
#endif

#define MAX_PEERS 4u
#define MAX_PEER_BINDINGS 64u
#define TRAP_SLOTS 64u
#define CONTEXT_BYTES 64u

typedef enum peer_binding_state {
    PEER_ATTACHED,
    PEER_DETACHING,
    PEER_PENDING,
    PEER_COMPLETED,
    PEER_CLEANED,
} peer_binding_state_t;

typedef struct peer {
    unsigned index;
    char name[8];             /* "peer0" */
    bool client;              /* the peer's role */
    GUID npi;
    NPI_MODULEID module_id;
    NPI_CLIENT_CHARACTERISTICS client_characteristics;
    NPI_PROVIDER_CHARACTERISTICS provider_characteristics;
    HANDLE handle;
    bool registered;
    bool busy;                /* a cycle is running */
} peer_t;

typedef struct peer_binding {
    peer_t *peer;
    HANDLE handle;            /* the peer's side */
    unsigned char *context;   /* CONTEXT_BYTES, the peer's binding context */
    peer_binding_state_t state;
    bool queued;              /* a later completion is queued for the completer */
    PIO_WORKITEM work_item;
} peer_binding_t;

static struct {
    peer_t peers[MAX_PEERS];
    unsigned count;
    KSPIN_LOCK lock;          /* protects bindings, the decision cursors and the queue flags */
    peer_binding_t bindings[MAX_PEER_BINDINGS];
    unsigned binding_count;
    KEVENT wake;              /* synchronization: a completion was queued, or stop */
    bool stop;
    kshim_thread_t *completer;
    DRIVER_OBJECT driver;     /* owns the device the work items use */
    PDEVICE_OBJECT device;
} peers;

static const char *const attach_names[] = {"accept", "decline", "fail"};
static const char *const dispatch_names[] = {"trap", "null"};
static const char *const detach_names[] = {"success", "pending_inline", "pending_later",
                                           "pending_work_item"};

/* The input's decisions for the peers' callbacks, decoded before any thread starts (so that
   the decoded input is the same whatever order the callbacks come in, with real threads
   too): each callback takes the next one of its kind; once they run out, accept with the
   trap table and detach with STATUS_SUCCESS. */
#define MAX_DECISIONS 32u

typedef struct peer_decisions {
    unsigned attach[MAX_DECISIONS];
    bool null_dispatch[MAX_DECISIONS];
    unsigned detach[MAX_DECISIONS];
    unsigned count;
    unsigned next_attach;  /* under peers.lock */
    unsigned next_detach;  /* under peers.lock */
} peer_decisions_t;

static peer_decisions_t decisions;

static void decode_decisions(fuzz_input_t *in)
{
    decisions.count = 0;
    decisions.next_attach = 0;
    decisions.next_detach = 0;
    while (peers.count != 0 && !fuzz_input_exhausted(in) && decisions.count < MAX_DECISIONS) {
        unsigned i = decisions.count++;
        decisions.attach[i] = fuzz_take_enum_as(in, "attach", attach_names, 3);
        decisions.null_dispatch[i] = fuzz_take_enum_as(in, "dispatch", dispatch_names, 2) == 1;
        decisions.detach[i] = fuzz_take_enum_as(in, "detach", detach_names, 4);
    }
    fuzz_input_finish(in);
}

/* The next attach decision (0 accept, 1 decline, 2 fail) and its dispatch table. */
static unsigned next_attach(bool *null_dispatch)
{
    KIRQL old_irql;
    KeAcquireSpinLock(&peers.lock, &old_irql);
    unsigned i = decisions.next_attach++;
    KeReleaseSpinLock(&peers.lock, old_irql);
    *null_dispatch = i < decisions.count && decisions.null_dispatch[i];
    return i < decisions.count ? decisions.attach[i] : 0;
}

/* The next detach decision (an index of detach_names). */
static unsigned next_detach(void)
{
    KIRQL old_irql;
    KeAcquireSpinLock(&peers.lock, &old_irql);
    unsigned i = decisions.next_detach++;
    KeReleaseSpinLock(&peers.lock, old_irql);
    return i < decisions.count ? decisions.detach[i] : 0;
}

/* ---- the trap dispatch table --------------------------------------------------------------- */

static peer_binding_t *binding_by_context(const void *context)
{
    for (unsigned i = 0; i < peers.binding_count; i++) {
        if (peers.bindings[i].context == context) {
            return &peers.bindings[i];
        }
    }
    return NULL;
}

static NTSTATUS trap_call(unsigned slot, PVOID context)
{
    KIRQL old_irql;
    KeAcquireSpinLock(&peers.lock, &old_irql);
    peer_binding_t *b = binding_by_context(context);
    peer_binding_state_t state = b != NULL ? b->state : PEER_ATTACHED;
    HANDLE handle = b != NULL ? b->handle : NULL;
    KeReleaseSpinLock(&peers.lock, old_irql);
    if (b == NULL) {
        /* The first parameter is not a binding context this peer gave out: an NPI whose
           function takes something else first. Nothing to check. */
        driver_trace("peer dispatch slot %u called", slot);
        return STATUS_SUCCESS;
    }
    const char *function = b->peer->client ? "client dispatch" : "provider dispatch";
    nmr_other_side_progress_t progress =
        state == PEER_CLEANED ? NMR_OTHER_SIDE_GONE : nmr_binding_other_side_progress(handle);
    driver_binding_event(handle, "%s: dispatch slot %u called", b->peer->name, slot);
    switch (progress) {
    case NMR_OTHER_SIDE_IN_OWN_DETACH:
        driver_finding("D1", function, driver_current_driver(),
                       "slot %u of %s's dispatch called from inside the driver's own detach "
                       "callback of binding 0x%llx (a new call into the peer after its detach "
                       "began)",
                       slot, b->peer->name, (unsigned long long)(uintptr_t)handle);
        break;
    case NMR_OTHER_SIDE_DETACHED:
        driver_finding("D2", function, driver_current_driver(),
                       "slot %u of %s's dispatch called after the driver's detach of binding "
                       "0x%llx completed",
                       slot, b->peer->name, (unsigned long long)(uintptr_t)handle);
        break;
    case NMR_OTHER_SIDE_GONE:
        driver_finding("D9", function, driver_current_driver(),
                       "slot %u of %s's dispatch called after binding 0x%llx was cleaned up "
                       "(its binding context and dispatch table are no longer valid)",
                       slot, b->peer->name, (unsigned long long)(uintptr_t)handle);
        break;
    case NMR_OTHER_SIDE_ATTACHED:
    case NMR_OTHER_SIDE_DETACHING:
        break;
    }
    return STATUS_SUCCESS;
}

/* trap_<row><column>: slot (row - 1) * 8 + column of the table. */
#define TRAP(n)                                                                             \
    static NTSTATUS trap_##n(PVOID context)                                                 \
    {                                                                                       \
        return trap_call((n / 10 - 1) * 8 + n % 10, context);                               \
    }
#define TRAP8(n) TRAP(n##0) TRAP(n##1) TRAP(n##2) TRAP(n##3) TRAP(n##4) TRAP(n##5) TRAP(n##6) TRAP(n##7)
TRAP8(1)
TRAP8(2)
TRAP8(3)
TRAP8(4)
TRAP8(5)
TRAP8(6)
TRAP8(7)
TRAP8(8)
#define SLOT8(n) trap_##n##0, trap_##n##1, trap_##n##2, trap_##n##3, trap_##n##4, trap_##n##5, trap_##n##6, trap_##n##7
/* Dispatch tables are structures of function pointers; any NPI's fits in this array. */
static NTSTATUS (*const trap_table[TRAP_SLOTS])(PVOID) = {
    SLOT8(1), SLOT8(2), SLOT8(3), SLOT8(4), SLOT8(5), SLOT8(6), SLOT8(7), SLOT8(8),
};

/* ---- bindings -------------------------------------------------------------------------------- */

static peer_binding_t *binding_new(peer_t *peer, HANDLE handle)
{
    unsigned char *context = calloc(1, CONTEXT_BYTES);
    if (context == NULL) {
        abort();
    }
    KIRQL old_irql;
    KeAcquireSpinLock(&peers.lock, &old_irql);
    peer_binding_t *b = NULL;
    if (peers.binding_count < MAX_PEER_BINDINGS) {
        b = &peers.bindings[peers.binding_count++];
        memset(b, 0, sizeof *b);
        b->peer = peer;
        b->handle = handle;
        b->state = PEER_ATTACHED;
        b->context = context;
    }
    KeReleaseSpinLock(&peers.lock, old_irql);
    if (b == NULL) {
        free(context);
    }
    return b;
}

static void complete(peer_binding_t *b, const char *how)
{
    KIRQL old_irql;
    KeAcquireSpinLock(&peers.lock, &old_irql);
    b->state = b->state == PEER_CLEANED ? PEER_CLEANED : PEER_COMPLETED;
    KeReleaseSpinLock(&peers.lock, old_irql);
    driver_binding_event(b->handle, "%s: detach completed %s", b->peer->name, how);
    if (b->peer->client) {
        NmrClientDetachProviderComplete(b->handle);
    } else {
        NmrProviderDetachClientComplete(b->handle);
    }
}

static IO_WORKITEM_ROUTINE complete_from_work_item;
static VOID complete_from_work_item(PDEVICE_OBJECT device, PVOID context)
{
    (void)device;
    peer_binding_t *b = context;
    PIO_WORKITEM item = b->work_item;
    complete(b, "by a work item");
    IoFreeWorkItem(item);
}

static NTSTATUS detach(peer_binding_t *b)
{
    if (b == NULL) {
        return STATUS_SUCCESS;
    }
    static const char *const progress_names[] = {"attached", "in its detach callback",
                                                 "detaching", "detached", "gone"};
    unsigned how = next_detach();
    nmr_other_side_progress_t driver_side = nmr_binding_other_side_progress(b->handle);
    driver_binding_event(b->handle, "%s: detach callback, %s (driver side %s)", b->peer->name,
                         detach_names[how], progress_names[driver_side]);
    KIRQL old_irql;
    KeAcquireSpinLock(&peers.lock, &old_irql);
    b->state = how == 0 ? PEER_COMPLETED : PEER_PENDING;
    KeReleaseSpinLock(&peers.lock, old_irql);
    switch (how) {
    case 1:
        complete(b, "inside the callback");
        break;
    case 3:
        b->work_item = IoAllocateWorkItem(peers.device);
        if (b->work_item != NULL) {
            IoQueueWorkItem(b->work_item, complete_from_work_item, DelayedWorkQueue, b);
            break;
        }
        /* No work item (fault injected): the completer does it. */
        /* fall through */
    case 2:
        KeAcquireSpinLock(&peers.lock, &old_irql);
        b->queued = true;
        KeReleaseSpinLock(&peers.lock, old_irql);
        KeSetEvent(&peers.wake, IO_NO_INCREMENT, FALSE);
        break;
    }
    return how == 0 ? STATUS_SUCCESS : STATUS_PENDING;
}

static void cleanup(peer_binding_t *b)
{
    if (b == NULL) {
        return;
    }
    driver_binding_event(b->handle, "%s: cleanup", b->peer->name);
    KIRQL old_irql;
    KeAcquireSpinLock(&peers.lock, &old_irql);
    b->state = PEER_CLEANED;
    KeReleaseSpinLock(&peers.lock, old_irql);
    POISON(b->context, CONTEXT_BYTES);
}

/* The input's decision on an attach: the peer's new binding (and whether its dispatch table
   is NULL), or NULL and the status the attach callback returns. */
static peer_binding_t *decide_attach(peer_t *peer, HANDLE handle, const char *callback,
                                     bool *null_dispatch, NTSTATUS *refusal)
{
    unsigned decision = next_attach(null_dispatch);
    driver_binding_event(handle, "%s: %s, %s", peer->name, callback, attach_names[decision]);
    *refusal = decision == 2 ? STATUS_INSUFFICIENT_RESOURCES : STATUS_NOINTERFACE;
    if (decision != 0) {
        return NULL;
    }
    return binding_new(peer, handle);
}

/* ---- the peer as a provider ------------------------------------------------------------------ */

static NTSTATUS provider_attach(HANDLE handle, PVOID provider_context,
                                PNPI_REGISTRATION_INSTANCE client, PVOID client_context,
                                const VOID *client_dispatch, PVOID *binding_context,
                                const VOID **dispatch)
{
    (void)client;
    (void)client_context;
    (void)client_dispatch;
    peer_t *peer = provider_context;
    driver_binding_note(handle, NULL, peer->name);
    bool null_dispatch;
    NTSTATUS refusal;
    peer_binding_t *b = decide_attach(peer, handle, "ProviderAttachClient", &null_dispatch,
                                      &refusal);
    if (b == NULL) {
        return refusal;
    }
    *binding_context = b->context;
    *dispatch = null_dispatch ? NULL : (const VOID *)trap_table;
    return STATUS_SUCCESS;
}

static peer_binding_t *binding_by_context_locked(const void *context)
{
    KIRQL old_irql;
    KeAcquireSpinLock(&peers.lock, &old_irql);
    peer_binding_t *b = binding_by_context(context);
    KeReleaseSpinLock(&peers.lock, old_irql);
    return b;
}

static NTSTATUS provider_detach(PVOID binding_context)
{
    return detach(binding_by_context_locked(binding_context));
}

static VOID provider_cleanup(PVOID binding_context)
{
    cleanup(binding_by_context_locked(binding_context));
}

/* ---- the peer as a client -------------------------------------------------------------------- */

static NTSTATUS client_attach(HANDLE handle, PVOID client_context,
                              PNPI_REGISTRATION_INSTANCE provider)
{
    (void)provider;
    peer_t *peer = client_context;
    driver_binding_note(handle, peer->name, NULL);
    bool null_dispatch;
    NTSTATUS refusal;
    peer_binding_t *b = decide_attach(peer, handle, "ClientAttachProvider", &null_dispatch,
                                      &refusal);
    if (b == NULL) {
        return refusal;
    }
    PVOID provider_context = NULL;
    const VOID *provider_dispatch = NULL;
    NTSTATUS status = NmrClientAttachProvider(handle, b->context,
                                              null_dispatch ? NULL : (const VOID *)trap_table,
                                              &provider_context, &provider_dispatch);
    driver_binding_event(handle, "%s: NmrClientAttachProvider -> %s", peer->name,
                         fuzz_status_str(status));
    if (status != STATUS_SUCCESS) {
        cleanup(b); /* never attached: the context is the peer's to drop */
    }
    return status;
}

static NTSTATUS client_detach(PVOID binding_context)
{
    return detach(binding_by_context_locked(binding_context));
}

static VOID client_cleanup(PVOID binding_context)
{
    cleanup(binding_by_context_locked(binding_context));
}

/* ---- registration ---------------------------------------------------------------------------- */

static void peer_register(peer_t *peer)
{
    NTSTATUS status;
    if (peer->client) {
        status = NmrRegisterClient(&peer->client_characteristics, peer, &peer->handle);
    } else {
        status = NmrRegisterProvider(&peer->provider_characteristics, peer, &peer->handle);
    }
    driver_trace("%s: NmrRegister%s -> %s", peer->name, peer->client ? "Client" : "Provider",
                 fuzz_status_str(status));
    peer->registered = status == STATUS_SUCCESS;
}

static void peer_deregister(peer_t *peer)
{
    if (!peer->registered) {
        return;
    }
    driver_trace("%s: deregisters", peer->name);
    if (peer->client) {
        NmrDeregisterClient(peer->handle);
        NmrWaitForClientDeregisterComplete(peer->handle);
    } else {
        NmrDeregisterProvider(peer->handle);
        NmrWaitForProviderDeregisterComplete(peer->handle);
    }
    driver_trace("%s: deregistered", peer->name);
    peer->registered = false;
}

void driver_peers_need(const GUID *npi, bool peer_is_client)
{
    if (peers.count >= MAX_PEERS) {
        return;
    }
    peer_t *peer = &peers.peers[peers.count];
    memset(peer, 0, sizeof *peer);
    peer->index = peers.count;
    snprintf(peer->name, sizeof peer->name, "peer%u", peers.count);
    peer->client = peer_is_client;
    peer->npi = *npi;
    peer->module_id.Length = sizeof peer->module_id;
    peer->module_id.Type = MIT_GUID;
    peer->module_id.Guid.Data1 = 0x6e6d726bu; /* "nmrk" */
    peer->module_id.Guid.Data2 = 0x7065;      /* "pe" */
    peer->module_id.Guid.Data3 = (USHORT)peers.count;
    NPI_REGISTRATION_INSTANCE instance = {0, sizeof(NPI_REGISTRATION_INSTANCE), &peer->npi,
                                          &peer->module_id, 0, NULL};
    NPI_CLIENT_CHARACTERISTICS *c = &peer->client_characteristics;
    c->Length = sizeof *c;
    c->ClientAttachProvider = client_attach;
    c->ClientDetachProvider = client_detach;
    c->ClientCleanupBindingContext = client_cleanup;
    c->ClientRegistrationInstance = instance;
    NPI_PROVIDER_CHARACTERISTICS *p = &peer->provider_characteristics;
    p->Length = sizeof *p;
    p->ProviderAttachClient = provider_attach;
    p->ProviderDetachClient = provider_detach;
    p->ProviderCleanupBindingContext = provider_cleanup;
    p->ProviderRegistrationInstance = instance;
    peers.count++;
}

unsigned driver_peers_count(void)
{
    return peers.count;
}

void driver_peers_prepare(void)
{
    if (peers.device == NULL) {
        peers.driver.Type = 4;
        peers.driver.Size = (CSHORT)sizeof peers.driver;
        NTSTATUS status = IoCreateDevice(&peers.driver, 0, NULL, FILE_DEVICE_UNKNOWN, 0, FALSE,
                                         &peers.device);
        if (status != STATUS_SUCCESS) {
            fuzz_oracle_fail("the generic peers' device: IoCreateDevice returned %s",
                             fuzz_status_str(status));
        }
    }
}

void driver_peers_reset(fuzz_input_t *peer_input, bool deterministic)
{
    (void)deterministic;
    KeInitializeSpinLock(&peers.lock);
    KeInitializeEvent(&peers.wake, SynchronizationEvent, FALSE);
    peers.binding_count = 0;
    peers.stop = false;
    decode_decisions(peer_input);
    for (unsigned i = 0; i < peers.count; i++) {
        peers.peers[i].registered = false;
        peers.peers[i].busy = false;
    }
}

void driver_peers_start(void)
{
    for (unsigned i = 0; i < peers.count; i++) {
        peer_register(&peers.peers[i]);
    }
}

void driver_peers_stop(void)
{
    for (unsigned i = 0; i < peers.count; i++) {
        peer_deregister(&peers.peers[i]);
    }
}

void driver_peers_cycle(unsigned which)
{
    if (which >= peers.count) {
        return;
    }
    peer_t *peer = &peers.peers[which];
    KIRQL old_irql;
    KeAcquireSpinLock(&peers.lock, &old_irql);
    bool busy = peer->busy;
    peer->busy = true;
    KeReleaseSpinLock(&peers.lock, old_irql);
    if (busy) {
        return;
    }
    peer_deregister(peer);
    peer_register(peer);
    KeAcquireSpinLock(&peers.lock, &old_irql);
    peer->busy = false;
    KeReleaseSpinLock(&peers.lock, old_irql);
}

void driver_peers_complete_queued(void)
{
    for (;;) {
        peer_binding_t *next = NULL;
        KIRQL old_irql;
        KeAcquireSpinLock(&peers.lock, &old_irql);
        for (unsigned i = 0; i < peers.binding_count && next == NULL; i++) {
            if (peers.bindings[i].queued) {
                next = &peers.bindings[i];
                next->queued = false;
            }
        }
        KeReleaseSpinLock(&peers.lock, old_irql);
        if (next == NULL) {
            return;
        }
        complete(next, "later, by another thread");
    }
}

static void completer_main(void *argument)
{
    (void)argument;
    for (;;) {
        KeWaitForSingleObject(&peers.wake, Executive, KernelMode, FALSE, NULL);
        driver_peers_complete_queued();
        if (peers.stop) {
            return;
        }
    }
}

void driver_peers_completer_start(void)
{
    peers.completer = kshim_thread_start("completer", completer_main, NULL);
}

void driver_peers_completer_stop(void)
{
    peers.stop = true;
    KeSetEvent(&peers.wake, IO_NO_INCREMENT, FALSE);
    kshim_thread_join(peers.completer);
    peers.completer = NULL;
}

void driver_peers_release(void)
{
    for (unsigned i = 0; i < peers.binding_count; i++) {
        UNPOISON(peers.bindings[i].context, CONTEXT_BYTES);
        free(peers.bindings[i].context);
        peers.bindings[i].context = NULL;
    }
    peers.binding_count = 0;
}
