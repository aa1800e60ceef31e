/* SPDX-License-Identifier: MIT */
/*
 * nmr_binding.c - the binding state machine: attach, detach, completion and cleanup.
 *
 *   PROPOSED --attach starts--> ATTACHING --ClientAttachProvider SUCCESS--> ATTACHED
 *   PROPOSED/ATTACHING --a side deregistering / attach failed--> discarded (no callbacks)
 *   ATTACHED --first deregistration of either side, or late-comer--> DETACHING
 *   DETACHING --both sides complete--> CLEANING_UP --cleanups returned--> destroyed
 *
 * Each side of a DETACHING binding goes DETACH_QUEUED -> IN_DETACH -> (COMPLETE |
 * PENDING -> COMPLETE), with COMPLETED_EARLY for a DetachComplete that arrives while the
 * side's detach callback is still running. Whoever moves the last side to COMPLETE runs
 * the cleanups and destroys the binding, so no other thread touches it afterwards.
 * Every state change happens under the registrar lock; every callout happens without it.
 */
#include "nmr_internal.h"

/* Pre-set into ProviderAttachClient's out parameters to detect unwritten ones (A8). */
static const UCHAR provider_out_unwritten;
#define PROVIDER_OUT_UNWRITTEN ((PVOID)&provider_out_unwritten)

nmr_binding_t *nmr_binding_create(nmr_registration_t *client, nmr_registration_t *provider,
                                  nmr_registration_t *proposer)
{
    nmr_binding_t *binding = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*binding), NMR_TAG_BINDING);
    if (binding == NULL) {
        return NULL;
    }
    binding->client = client;
    binding->provider = provider;
    binding->proposer = proposer;
    binding->state = NMR_BINDING_PROPOSED;
    binding->client_side.state = NMR_SIDE_NOT_DETACHING;
    binding->provider_side.state = NMR_SIDE_NOT_DETACHING;
    InitializeListHead(&binding->detach_link);
    return binding;
}

VOID nmr_binding_free(nmr_binding_t *binding)
{
    ExFreePoolWithTag(binding, NMR_TAG_BINDING);
}

static VOID account_finished_binding(nmr_registration_t *registration)
{
    registration->binding_count--;
    registration->bindings_finished++;
    if (registration->state == NMR_REGISTRATION_DEREGISTERING && registration->binding_count == 0) {
        KeSetEvent(&registration->drained, IO_NO_INCREMENT, FALSE);
    }
}

VOID nmr_binding_unlink(nmr_binding_t *binding)
{
    nmr_note_transition(NMR_OBJECT_BINDING, binding->state, NMR_STATE_NONE);
    RemoveEntryList(&binding->link);
    account_finished_binding(binding->client);
    account_finished_binding(binding->provider);
}

static HANDLE client_handle(const nmr_binding_t *binding)
{
    return nmr_handle_make(binding->client_side.serial, NMR_HANDLE_CLIENT_BINDING);
}

static HANDLE provider_handle(const nmr_binding_t *binding)
{
    return nmr_handle_make(binding->provider_side.serial, NMR_HANDLE_PROVIDER_BINDING);
}

VOID nmr_binding_set_state(nmr_binding_t *binding, nmr_binding_state_t state)
{
    nmr_note_transition(NMR_OBJECT_BINDING, binding->state, state);
    binding->state = state;
}

VOID nmr_side_set_state(nmr_binding_t *binding, nmr_binding_side_t *side, nmr_side_state_t state)
{
    nmr_note_transition(side == &binding->client_side ? NMR_OBJECT_CLIENT_SIDE
                                                      : NMR_OBJECT_PROVIDER_SIDE,
                        side->state, state);
    side->state = state;
}

static BOOLEAN both_sides_complete(const nmr_binding_t *binding)
{
    return (BOOLEAN)(binding->client_side.state == NMR_SIDE_COMPLETE &&
                     binding->provider_side.state == NMR_SIDE_COMPLETE);
}

VOID nmr_binding_queue_detach(nmr_binding_t *binding, PLIST_ENTRY batch)
{
    nmr_binding_set_state(binding, NMR_BINDING_DETACHING);
    nmr_side_set_state(binding, &binding->client_side, NMR_SIDE_DETACH_QUEUED);
    nmr_side_set_state(binding, &binding->provider_side, NMR_SIDE_DETACH_QUEUED);
    InsertTailList(batch, &binding->detach_link);
}

/* Both sides are complete: run the cleanups, then destroy. Called without the lock. */
static VOID run_cleanup(nmr_binding_t *binding)
{
    KIRQL old_irql = nmr_lock();
    BOOLEAN raise = nmr_registrar.config.cleanup_at_dispatch;
    PVOID client_context = binding->client_side.binding_context;
    PVOID provider_context = binding->provider_side.binding_context;
    PNPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN client_cleanup =
        binding->client->characteristics.client->ClientCleanupBindingContext;
    PNPI_PROVIDER_CLEANUP_BINDING_CONTEXT_FN provider_cleanup =
        binding->provider->characteristics.provider->ProviderCleanupBindingContext;
    nmr_unlock(old_irql);

    nmr_callout_t callout;
    if (client_cleanup != NULL) {
        nmr_callout_begin(&callout, binding, NMR_CALLOUT_CLIENT_CLEANUP, raise);
        client_cleanup(client_context);
        nmr_callout_end(&callout);
    }
    if (provider_cleanup != NULL) {
        nmr_callout_begin(&callout, binding, NMR_CALLOUT_PROVIDER_CLEANUP, raise);
        provider_cleanup(provider_context);
        nmr_callout_end(&callout);
    }

    old_irql = nmr_lock();
    nmr_binding_unlink(binding);
    nmr_unlock(old_irql);
    nmr_binding_free(binding);
}

/* Call both detach callbacks of a DETACHING binding. Called without the lock. */
static VOID run_detach(nmr_binding_t *binding)
{
    KIRQL old_irql = nmr_lock();
    BOOLEAN provider_first = nmr_registrar.config.provider_detach_first;
    BOOLEAN raise = nmr_registrar.config.detach_at_dispatch;
    nmr_unlock(old_irql);

    for (ULONG turn = 0; turn < 2; turn++) {
        BOOLEAN client_turn = (BOOLEAN)((turn == 0) != provider_first);
        nmr_binding_side_t *side = client_turn ? &binding->client_side : &binding->provider_side;
        nmr_registration_t *module = client_turn ? binding->client : binding->provider;
        const char *callback = client_turn ? "ClientDetachProvider" : "ProviderDetachClient";

        old_irql = nmr_lock();
        nmr_side_set_state(binding, side,
                           side->completed_before_request ? NMR_SIDE_COMPLETED_EARLY
                                                          : NMR_SIDE_IN_DETACH);
        PVOID context = side->binding_context;
        nmr_unlock(old_irql);

        nmr_callout_t callout;
        NTSTATUS status;
        if (client_turn) {
            nmr_callout_begin(&callout, binding, NMR_CALLOUT_CLIENT_DETACH, raise);
            status = module->characteristics.client->ClientDetachProvider(context);
        } else {
            nmr_callout_begin(&callout, binding, NMR_CALLOUT_PROVIDER_DETACH, raise);
            status = module->characteristics.provider->ProviderDetachClient(context);
        }
        nmr_callout_end(&callout);

        old_irql = nmr_lock();
        HANDLE handle = client_turn ? client_handle(binding) : provider_handle(binding);
        if (status != STATUS_SUCCESS && status != STATUS_PENDING) {
            nmr_verifier_stop("D6", callback, handle, module,
                              "returned %s (0x%08lx); only STATUS_SUCCESS or STATUS_PENDING "
                              "are allowed",
                              nmr_status_name(status), (ULONG)status);
        }
        if (status == STATUS_SUCCESS && side->state == NMR_SIDE_COMPLETED_EARLY) {
            nmr_verifier_stop("D5", callback, handle, module,
                              "returned STATUS_SUCCESS after calling %s during the callback; "
                              "DetachComplete must only follow STATUS_PENDING",
                              client_turn ? "NmrClientDetachProviderComplete"
                                          : "NmrProviderDetachClientComplete");
        }
        side->detach_status = status;
        nmr_side_set_state(binding, side,
                           (status == STATUS_SUCCESS || side->state == NMR_SIDE_COMPLETED_EARLY)
                               ? NMR_SIDE_COMPLETE
                               : NMR_SIDE_PENDING);
        BOOLEAN done = both_sides_complete(binding);
        if (done) {
            nmr_binding_set_state(binding, NMR_BINDING_CLEANING_UP);
        }
        nmr_unlock(old_irql);
        if (done) {
            /* Only possible on the second turn: the other side was not yet entered before. */
            run_cleanup(binding);
            return;
        }
    }
}

VOID nmr_binding_run_detach_batch(PLIST_ENTRY batch)
{
    while (!IsListEmpty(batch)) {
        nmr_binding_t *binding = CONTAINING_RECORD(RemoveHeadList(batch), nmr_binding_t, detach_link);
        run_detach(binding);
    }
}

/* The registering thread runs ClientAttachProvider for one binding it proposed. */
static VOID run_attach(nmr_binding_t *binding)
{
    nmr_registration_t *client = binding->client;
    nmr_registration_t *provider = binding->provider;
    nmr_callout_t callout;
    nmr_callout_begin(&callout, binding, NMR_CALLOUT_CLIENT_ATTACH, FALSE);
    NTSTATUS status = client->characteristics.client->ClientAttachProvider(
        client_handle(binding), client->context, provider->instance);
    nmr_callout_end(&callout);

    LIST_ENTRY batch;
    InitializeListHead(&batch);
    KIRQL old_irql = nmr_lock();
    HANDLE handle = client_handle(binding);
    if (NT_SUCCESS(status) && status != STATUS_SUCCESS) {
        nmr_verifier_stop("A3", "ClientAttachProvider", handle, client,
                          "returned success code %s (0x%08lx); only STATUS_SUCCESS means "
                          "attached",
                          nmr_status_name(status), (ULONG)status);
    }
    if (status == STATUS_SUCCESS && !binding->attach_succeeded) {
        nmr_verifier_stop("A1", "ClientAttachProvider", handle, client,
                          "returned STATUS_SUCCESS without a successful "
                          "NmrClientAttachProvider (%s)",
                          binding->attach_called ? "its last call failed" : "it never called it");
    }
    if (binding->attach_called && status != binding->last_attach_status) {
        nmr_verifier_stop("A2", "ClientAttachProvider", handle, client,
                          "returned %s (0x%08lx) but its last NmrClientAttachProvider returned "
                          "%s (0x%08lx)%s",
                          nmr_status_name(status), (ULONG)status,
                          nmr_status_name(binding->last_attach_status),
                          (ULONG)binding->last_attach_status,
                          binding->attach_succeeded
                              ? ": the provider stays attached to a client that thinks it is not"
                              : "");
    }
    if (status != STATUS_SUCCESS) {
        /* A failed attach gets no detach and no cleanup (spec 2.3). */
        nmr_binding_unlink(binding);
        nmr_unlock(old_irql);
        nmr_binding_free(binding);
        return;
    }
    nmr_binding_set_state(binding, NMR_BINDING_ATTACHED);
    if (client->state != NMR_REGISTRATION_ACTIVE || provider->state != NMR_REGISTRATION_ACTIVE) {
        /* Late-comer: a side began deregistering while the attach was in flight. */
        nmr_binding_queue_detach(binding, &batch);
    }
    nmr_unlock(old_irql);
    nmr_binding_run_detach_batch(&batch);
}

VOID nmr_binding_attach_proposed(nmr_registration_t *proposer)
{
    for (;;) {
        nmr_binding_t *next = NULL;
        KIRQL old_irql = nmr_lock();
        PLIST_ENTRY head = &nmr_registrar.bindings;
        for (PLIST_ENTRY entry = head->Flink; entry != head; entry = entry->Flink) {
            nmr_binding_t *binding = CONTAINING_RECORD(entry, nmr_binding_t, link);
            if (binding->proposer == proposer && binding->state == NMR_BINDING_PROPOSED) {
                next = binding;
                break;
            }
        }
        if (next == NULL) {
            nmr_unlock(old_irql);
            return;
        }
        if (next->client->state != NMR_REGISTRATION_ACTIVE ||
            next->provider->state != NMR_REGISTRATION_ACTIVE) {
            /* A side began deregistering before the attach started: no callbacks at all. */
            nmr_binding_unlink(next);
            nmr_unlock(old_irql);
            nmr_binding_free(next);
            continue;
        }
        nmr_binding_set_state(next, NMR_BINDING_ATTACHING);
        next->attach_thread = KeGetCurrentThread();
        nmr_unlock(old_irql);
        run_attach(next);
    }
}

/*
 * Look up a binding-side handle; R9 for anything that is not an issued binding handle.
 * Lock held. Returns NULL (with *side unset) for a stale binding handle of the right kind.
 */
static nmr_binding_t *binding_from_handle(HANDLE handle, nmr_handle_kind_t expected,
                                          const char *function, nmr_binding_side_t **side)
{
    nmr_handle_kind_t kind = nmr_handle_kind(handle);
    if (!nmr_handle_was_issued(handle)) {
        nmr_verifier_stop("R9", function, handle, NULL, "handle was never issued by the NMR");
    }
    if (kind == NMR_HANDLE_CLIENT_REGISTRATION || kind == NMR_HANDLE_PROVIDER_REGISTRATION) {
        nmr_verifier_stop("R9", function, handle, nmr_registration_find(handle),
                          "passed a %s where a %s is required", nmr_handle_kind_name(kind),
                          nmr_handle_kind_name(expected));
    }
    return nmr_binding_find(handle, side);
}

NTSTATUS NmrClientAttachProvider(HANDLE NmrBindingHandle, PVOID ClientBindingContext,
                                 const VOID *ClientDispatch, PVOID *ProviderBindingContext,
                                 const VOID **ProviderDispatch)
{
    const char *function = "NmrClientAttachProvider";
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        nmr_verifier_stop("R4", function, NmrBindingHandle, NULL,
                          "called at IRQL %u; requires PASSIVE_LEVEL", (unsigned)KeGetCurrentIrql());
    }
    KIRQL old_irql = nmr_lock();
    nmr_binding_side_t *side;
    nmr_binding_t *binding =
        binding_from_handle(NmrBindingHandle, NMR_HANDLE_CLIENT_BINDING, function, &side);
    if (nmr_handle_kind(NmrBindingHandle) != NMR_HANDLE_CLIENT_BINDING) {
        nmr_verifier_stop("R9", function, NmrBindingHandle, binding ? binding->provider : NULL,
                          "passed a %s; only the client-side binding handle given to "
                          "ClientAttachProvider is accepted",
                          nmr_handle_kind_name(nmr_handle_kind(NmrBindingHandle)));
    }
    if (binding == NULL) {
        nmr_verifier_stop("R9", function, NmrBindingHandle, NULL,
                          "stale handle: the binding no longer exists (its attach failed or it "
                          "was detached and cleaned up)");
    }
    if (binding->state != NMR_BINDING_ATTACHING || binding->attach_thread != KeGetCurrentThread()) {
        nmr_verifier_stop("A4", function, NmrBindingHandle, binding->client,
                          "not called from inside this binding's ClientAttachProvider (binding "
                          "is %s%s)",
                          nmr_binding_state_name(binding->state),
                          binding->state == NMR_BINDING_ATTACHING ? " on another thread" : "");
    }
    if (binding->attach_succeeded) {
        nmr_verifier_stop("A4", function, NmrBindingHandle, binding->client,
                          "called again after it returned STATUS_SUCCESS for this binding");
    }
    binding->attach_called = TRUE;
    if (ProviderBindingContext == NULL || ProviderDispatch == NULL) {
        binding->last_attach_status = STATUS_INVALID_PARAMETER;
        nmr_unlock(old_irql);
        return STATUS_INVALID_PARAMETER;
    }
    nmr_registration_t *client = binding->client;
    nmr_registration_t *provider = binding->provider;
    nmr_unlock(old_irql);

    PVOID provider_context = PROVIDER_OUT_UNWRITTEN;
    const VOID *provider_dispatch = PROVIDER_OUT_UNWRITTEN;
    nmr_callout_t callout;
    nmr_callout_begin(&callout, binding, NMR_CALLOUT_PROVIDER_ATTACH, FALSE);
    NTSTATUS status = provider->characteristics.provider->ProviderAttachClient(
        provider_handle(binding), provider->context, client->instance, ClientBindingContext,
        ClientDispatch, &provider_context, &provider_dispatch);
    nmr_callout_end(&callout);

    if (NT_SUCCESS(status) && status != STATUS_SUCCESS) {
        nmr_verifier_stop("A3", "ProviderAttachClient", provider_handle(binding), provider,
                          "returned success code %s (0x%08lx); only STATUS_SUCCESS means "
                          "attached",
                          nmr_status_name(status), (ULONG)status);
    }
    if (status == STATUS_SUCCESS &&
        (provider_context == PROVIDER_OUT_UNWRITTEN || provider_dispatch == PROVIDER_OUT_UNWRITTEN)) {
        nmr_verifier_stop("A8", "ProviderAttachClient", provider_handle(binding), provider,
                          "returned STATUS_SUCCESS without writing %s",
                          provider_context == PROVIDER_OUT_UNWRITTEN
                              ? (provider_dispatch == PROVIDER_OUT_UNWRITTEN
                                     ? "ProviderBindingContext and ProviderDispatch"
                                     : "ProviderBindingContext")
                              : "ProviderDispatch");
    }
    if (!NT_SUCCESS(status) && status != STATUS_NOINTERFACE) {
        nmr_verifier_warn("A9", "ProviderAttachClient", provider_handle(binding), provider,
                          "declined with %s (0x%08lx); a provider that does not want the client "
                          "returns STATUS_NOINTERFACE",
                          nmr_status_name(status), (ULONG)status);
    }

    old_irql = nmr_lock();
    binding->last_attach_status = status;
    if (status == STATUS_SUCCESS) {
        binding->attach_succeeded = TRUE;
        binding->client_side.binding_context = ClientBindingContext;
        binding->client_side.dispatch = ClientDispatch;
        binding->provider_side.binding_context = provider_context;
        binding->provider_side.dispatch = provider_dispatch;
    }
    nmr_unlock(old_irql);
    if (status == STATUS_SUCCESS) {
        *ProviderBindingContext = provider_context;
        *ProviderDispatch = provider_dispatch;
    }
    return status;
}

static VOID detach_complete(HANDLE handle, nmr_handle_kind_t expected, const char *function)
{
    if (KeGetCurrentIrql() > DISPATCH_LEVEL) {
        nmr_verifier_stop("R4", function, handle, NULL,
                          "called at IRQL %u; requires IRQL <= DISPATCH_LEVEL",
                          (unsigned)KeGetCurrentIrql());
    }
    KIRQL old_irql = nmr_lock();
    nmr_binding_side_t *side = NULL;
    nmr_binding_t *binding = binding_from_handle(handle, expected, function, &side);
    if (nmr_handle_kind(handle) != expected) {
        nmr_registration_t *holder = NULL;
        if (binding != NULL) {
            holder = nmr_handle_kind(handle) == NMR_HANDLE_CLIENT_BINDING ? binding->client
                                                                           : binding->provider;
        }
        nmr_verifier_stop("D5", function, handle, holder,
                          "called for the other side: passed a %s; each side completes only "
                          "its own detach with its own handle",
                          nmr_handle_kind_name(nmr_handle_kind(handle)));
    }
    if (binding == NULL) {
        nmr_verifier_stop("D5", function, handle, NULL,
                          "the binding is already detached on both sides and cleaned up: "
                          "called twice, or after the detach callback returned STATUS_SUCCESS");
    }
    nmr_registration_t *module =
        expected == NMR_HANDLE_CLIENT_BINDING ? binding->client : binding->provider;
    switch (side->state) {
    case NMR_SIDE_NOT_DETACHING:
    case NMR_SIDE_DETACH_QUEUED:
        if (side->completed_before_request) {
            nmr_verifier_stop("D5", function, handle, module,
                              "called twice before the NMR requested detach");
        }
        nmr_verifier_calibrated("D5.early", "D5", function, handle, module,
                                "called before the NMR requested detach (binding %s)",
                                nmr_binding_state_name(binding->state));
        side->completed_before_request = TRUE;
        nmr_unlock(old_irql);
        return;
    case NMR_SIDE_IN_DETACH:
        /* Legal race: the completion overtook the detach callback's return. */
        nmr_side_set_state(binding, side, NMR_SIDE_COMPLETED_EARLY);
        nmr_unlock(old_irql);
        return;
    case NMR_SIDE_COMPLETED_EARLY:
        nmr_verifier_stop("D5", function, handle, module,
                          "called twice (the first call came while the detach callback was "
                          "still running)");
    case NMR_SIDE_COMPLETE:
        nmr_verifier_stop("D5", function, handle, module,
                          side->detach_status == STATUS_SUCCESS
                              ? "the detach callback returned STATUS_SUCCESS; DetachComplete "
                                "must only follow STATUS_PENDING"
                              : "called twice");
    case NMR_SIDE_PENDING:
        break;
    }
    nmr_side_set_state(binding, side, NMR_SIDE_COMPLETE);
    BOOLEAN done = both_sides_complete(binding);
    if (done) {
        nmr_binding_set_state(binding, NMR_BINDING_CLEANING_UP);
    }
    nmr_unlock(old_irql);
    if (done) {
        run_cleanup(binding);
    }
}

VOID NmrClientDetachProviderComplete(HANDLE NmrBindingHandle)
{
    detach_complete(NmrBindingHandle, NMR_HANDLE_CLIENT_BINDING, "NmrClientDetachProviderComplete");
}

VOID NmrProviderDetachClientComplete(HANDLE NmrBindingHandle)
{
    detach_complete(NmrBindingHandle, NMR_HANDLE_PROVIDER_BINDING, "NmrProviderDetachClientComplete");
}

const char *nmr_binding_state_name(nmr_binding_state_t state)
{
    switch (state) {
    case NMR_BINDING_PROPOSED:
        return "PROPOSED (attach not started)";
    case NMR_BINDING_ATTACHING:
        return "ATTACHING (ClientAttachProvider running)";
    case NMR_BINDING_ATTACHED:
        return "ATTACHED";
    case NMR_BINDING_DETACHING:
        return "DETACHING";
    case NMR_BINDING_CLEANING_UP:
        return "CLEANING_UP";
    }
    return "?";
}

const char *nmr_side_state_name(nmr_side_state_t state, BOOLEAN client_side)
{
    switch (state) {
    case NMR_SIDE_NOT_DETACHING:
        return "not detaching";
    case NMR_SIDE_DETACH_QUEUED:
        return client_side ? "ClientDetachProvider not yet called"
                           : "ProviderDetachClient not yet called";
    case NMR_SIDE_IN_DETACH:
        return client_side ? "ClientDetachProvider still running"
                           : "ProviderDetachClient still running";
    case NMR_SIDE_COMPLETED_EARLY:
        return client_side ? "NmrClientDetachProviderComplete called while ClientDetachProvider "
                             "still runs"
                           : "NmrProviderDetachClientComplete called while ProviderDetachClient "
                             "still runs";
    case NMR_SIDE_PENDING:
        return client_side ? "ClientDetachProvider returned STATUS_PENDING, "
                             "NmrClientDetachProviderComplete not called"
                           : "ProviderDetachClient returned STATUS_PENDING, "
                             "NmrProviderDetachClientComplete not called";
    case NMR_SIDE_COMPLETE:
        return "complete";
    }
    return "?";
}
nmr_other_side_progress_t nmr_binding_other_side_progress(HANDLE NmrBindingHandle)
{
    nmr_other_side_progress_t progress = NMR_OTHER_SIDE_GONE;
    KIRQL old_irql = nmr_lock();
    nmr_binding_side_t *side = NULL;
    nmr_binding_t *binding = nmr_binding_find(NmrBindingHandle, &side);
    if (binding != NULL) {
        BOOLEAN client_asks = side == &binding->client_side;
        const nmr_binding_side_t *other = client_asks ? &binding->provider_side
                                                      : &binding->client_side;
        nmr_callout_kind_t other_detach =
            client_asks ? NMR_CALLOUT_PROVIDER_DETACH : NMR_CALLOUT_CLIENT_DETACH;
        switch (other->state) {
        case NMR_SIDE_NOT_DETACHING:
        case NMR_SIDE_DETACH_QUEUED:
            progress = NMR_OTHER_SIDE_ATTACHED;
            break;
        case NMR_SIDE_IN_DETACH:
        case NMR_SIDE_PENDING:
            progress = NMR_OTHER_SIDE_DETACHING;
            break;
        case NMR_SIDE_COMPLETED_EARLY:
        case NMR_SIDE_COMPLETE:
            progress = NMR_OTHER_SIDE_DETACHED;
            break;
        }
        PKTHREAD self = KeGetCurrentThread();
        PLIST_ENTRY head = &nmr_registrar.callouts;
        for (PLIST_ENTRY entry = head->Flink; entry != head; entry = entry->Flink) {
            nmr_callout_t *callout = CONTAINING_RECORD(entry, nmr_callout_t, link);
            if (callout->thread == self && callout->binding == binding &&
                callout->kind == other_detach) {
                progress = NMR_OTHER_SIDE_IN_OWN_DETACH;
            }
        }
    }
    nmr_unlock(old_irql);
    return progress;
}
