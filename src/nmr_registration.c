/* SPDX-License-Identifier: MIT */
/*
 * nmr_registration.c - registrations: NmrRegister*, NmrDeregister*, NmrWaitFor*, and the
 * registrar's control functions of nmr_module.h.
 *
 * A registration is ACTIVE from NmrRegister* until NmrDeregister*, then DEREGISTERING
 * until NmrWaitFor* returns, when it is unlinked and freed (docs/behaviour.md). Bindings
 * are in nmr_binding.c.
 */
#include "nmr_internal.h"

nmr_registrar_t nmr_registrar = {
    .clients = {&nmr_registrar.clients, &nmr_registrar.clients},
    .providers = {&nmr_registrar.providers, &nmr_registrar.providers},
    .bindings = {&nmr_registrar.bindings, &nmr_registrar.bindings},
    .callouts = {&nmr_registrar.callouts, &nmr_registrar.callouts},
    .next_serial = 1,
    .config = {.warnings_are_printed = TRUE, .hang_timeout_ms = NMR_DEFAULT_HANG_TIMEOUT_MS},
};

KIRQL nmr_lock(VOID)
{
    KIRQL old_irql;
    KeAcquireSpinLock(&nmr_registrar.lock, &old_irql);
    InterlockedExchangePointer((PVOID volatile *)&nmr_registrar.lock_owner, KeGetCurrentThread());
    return old_irql;
}

VOID nmr_unlock(KIRQL old_irql)
{
    InterlockedExchangePointer((PVOID volatile *)&nmr_registrar.lock_owner, NULL);
    KeReleaseSpinLock(&nmr_registrar.lock, old_irql);
}

static const char *register_function_name(nmr_role_t role)
{
    return role == NMR_ROLE_CLIENT ? "NmrRegisterClient" : "NmrRegisterProvider";
}

static nmr_handle_kind_t registration_handle_kind(nmr_role_t role)
{
    return role == NMR_ROLE_CLIENT ? NMR_HANDLE_CLIENT_REGISTRATION
                                   : NMR_HANDLE_PROVIDER_REGISTRATION;
}

static PLIST_ENTRY registrations_of(nmr_role_t role)
{
    return role == NMR_ROLE_CLIENT ? &nmr_registrar.clients : &nmr_registrar.providers;
}

/*
 * Validate what the NMR needs to work at all (STATUS_INVALID_PARAMETER, R10 warning) and
 * warn about "should" violations (R10) that the real NMR tolerates.
 */
static NTSTATUS validate_characteristics(nmr_role_t role, const VOID *characteristics,
                                         USHORT version, USHORT length, USHORT expected_length,
                                         const VOID *attach, const VOID *detach,
                                         const NPI_REGISTRATION_INSTANCE *instance,
                                         const PHANDLE handle_out)
{
    const char *function = register_function_name(role);
    if (characteristics == NULL) {
        nmr_verifier_warn("R10", function, NULL, NULL, "characteristics pointer is NULL");
        return STATUS_INVALID_PARAMETER;
    }
    if (handle_out == NULL) {
        nmr_verifier_warn("R10", function, NULL, NULL, "handle out pointer is NULL");
        return STATUS_INVALID_PARAMETER;
    }
    if (attach == NULL || detach == NULL) {
        nmr_verifier_warn("R10", function, NULL, NULL, "%s callback is NULL",
                          attach == NULL ? "attach" : "detach");
        return STATUS_INVALID_PARAMETER;
    }
    if (instance->NpiId == NULL || instance->ModuleId == NULL) {
        nmr_verifier_warn("R10", function, NULL, NULL, "registration instance %s is NULL",
                          instance->NpiId == NULL ? "NpiId" : "ModuleId");
        return STATUS_INVALID_PARAMETER;
    }
    if (version != 0) {
        nmr_verifier_warn("R10", function, NULL, NULL, "characteristics Version is %u, not 0",
                          version);
    }
    if (length != expected_length) {
        nmr_verifier_warn("R10", function, NULL, NULL,
                          "characteristics Length is %u, not sizeof (%u)", length,
                          expected_length);
    }
    if (instance->Size != sizeof(NPI_REGISTRATION_INSTANCE)) {
        nmr_verifier_warn("R10", function, NULL, NULL,
                          "registration instance Size is %u, not sizeof (%u)", instance->Size,
                          (unsigned)sizeof(NPI_REGISTRATION_INSTANCE));
    }
    if (instance->ModuleId->Length != sizeof(NPI_MODULEID)) {
        nmr_verifier_warn("R10", function, NULL, NULL, "ModuleId Length is %u, not sizeof (%u)",
                          instance->ModuleId->Length, (unsigned)sizeof(NPI_MODULEID));
    }
    if (instance->ModuleId->Type != MIT_GUID && instance->ModuleId->Type != MIT_IF_LUID) {
        nmr_verifier_warn("R10", function, NULL, NULL,
                          "ModuleId Type is %d, neither MIT_GUID nor MIT_IF_LUID",
                          (int)instance->ModuleId->Type);
    }
    return STATUS_SUCCESS;
}

/*
 * A block shorter than the structure may end at its Length (an older or truncated layout):
 * refuse it before reading past the Version and Length that both structures begin with
 * (R10; Inferred: the documentation only says Length is sizeof).
 */
static NTSTATUS validate_length(nmr_role_t role, const VOID *characteristics,
                                const PHANDLE handle_out)
{
    if (characteristics == NULL || handle_out == NULL) {
        return STATUS_SUCCESS; /* validate_characteristics refuses these */
    }
    USHORT length = role == NMR_ROLE_CLIENT
                        ? ((const NPI_CLIENT_CHARACTERISTICS *)characteristics)->Length
                        : ((const NPI_PROVIDER_CHARACTERISTICS *)characteristics)->Length;
    USHORT expected = role == NMR_ROLE_CLIENT ? sizeof(NPI_CLIENT_CHARACTERISTICS)
                                              : sizeof(NPI_PROVIDER_CHARACTERISTICS);
    if (length < expected) {
        nmr_verifier_warn("R10", register_function_name(role), NULL, NULL,
                          "characteristics Length is %u, less than sizeof (%u): nothing past "
                          "it is read; returns STATUS_INVALID_PARAMETER",
                          length, expected);
        return STATUS_INVALID_PARAMETER;
    }
    return STATUS_SUCCESS;
}

/*
 * Publish the registration and create one PROPOSED binding with every ACTIVE peer of the
 * same NPI, atomically under the lock, so that of two modules registering concurrently
 * exactly one creates their binding. On an allocation failure nothing is published.
 */
static NTSTATUS publish_with_proposed_bindings(nmr_registration_t *registration)
{
    LIST_ENTRY created;
    NTSTATUS status = STATUS_SUCCESS;
    InitializeListHead(&created);

    KIRQL old_irql = nmr_lock();
    registration->serial = nmr_handle_next_serial();
    PLIST_ENTRY peers =
        registrations_of(registration->role == NMR_ROLE_CLIENT ? NMR_ROLE_PROVIDER : NMR_ROLE_CLIENT);
    for (PLIST_ENTRY entry = peers->Flink; entry != peers; entry = entry->Flink) {
        nmr_registration_t *peer = CONTAINING_RECORD(entry, nmr_registration_t, link);
        if (peer->state != NMR_REGISTRATION_ACTIVE ||
            !InlineIsEqualGUID(&peer->npi_id, &registration->npi_id)) {
            continue;
        }
        nmr_binding_t *binding =
            registration->role == NMR_ROLE_CLIENT
                ? nmr_binding_create(registration, peer, registration)
                : nmr_binding_create(peer, registration, registration);
        if (binding == NULL) {
            status = STATUS_INSUFFICIENT_RESOURCES;
            break;
        }
        InsertTailList(&created, &binding->link);
    }
    if (!NT_SUCCESS(status)) {
        nmr_unlock(old_irql);
        while (!IsListEmpty(&created)) {
            nmr_binding_free(CONTAINING_RECORD(RemoveHeadList(&created), nmr_binding_t, link));
        }
        return status;
    }
    InsertTailList(registrations_of(registration->role), &registration->link);
    nmr_note_transition(NMR_OBJECT_REGISTRATION, NMR_STATE_NONE, NMR_REGISTRATION_ACTIVE);
    while (!IsListEmpty(&created)) {
        nmr_binding_t *binding = CONTAINING_RECORD(RemoveHeadList(&created), nmr_binding_t, link);
        binding->client_side.serial = nmr_handle_next_serial();
        binding->provider_side.serial = nmr_handle_next_serial();
        binding->client->binding_count++;
        binding->provider->binding_count++;
        InsertTailList(&nmr_registrar.bindings, &binding->link);
        nmr_note_transition(NMR_OBJECT_BINDING, NMR_STATE_NONE, NMR_BINDING_PROPOSED);
    }
    nmr_unlock(old_irql);
    return STATUS_SUCCESS;
}

static NTSTATUS register_module(nmr_role_t role, const VOID *characteristics, PVOID context,
                                PHANDLE handle_out)
{
    const char *function = register_function_name(role);
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        nmr_verifier_stop("R4", function, NULL, NULL, "called at IRQL %u; requires PASSIVE_LEVEL",
                          (unsigned)KeGetCurrentIrql());
    }

    const NPI_CLIENT_CHARACTERISTICS *client = characteristics;
    const NPI_PROVIDER_CHARACTERISTICS *provider = characteristics;
    NTSTATUS status = validate_length(role, characteristics, handle_out);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    if (role == NMR_ROLE_CLIENT) {
        status = validate_characteristics(
            role, characteristics, client ? client->Version : 0, client ? client->Length : 0,
            sizeof(*client), client ? (const VOID *)client->ClientAttachProvider : NULL,
            client ? (const VOID *)client->ClientDetachProvider : NULL,
            client ? &client->ClientRegistrationInstance : NULL, handle_out);
    } else {
        status = validate_characteristics(
            role, characteristics, provider ? provider->Version : 0,
            provider ? provider->Length : 0, sizeof(*provider),
            provider ? (const VOID *)provider->ProviderAttachClient : NULL,
            provider ? (const VOID *)provider->ProviderDetachClient : NULL,
            provider ? &provider->ProviderRegistrationInstance : NULL, handle_out);
    }
    if (!NT_SUCCESS(status)) {
        return status;
    }

    nmr_registration_t *registration =
        ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*registration), NMR_TAG_REGISTRATION);
    if (registration == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    registration->role = role;
    if (role == NMR_ROLE_CLIENT) {
        registration->characteristics.client = client;
        registration->instance = &client->ClientRegistrationInstance;
    } else {
        registration->characteristics.provider = provider;
        registration->instance = &provider->ProviderRegistrationInstance;
    }
    registration->context = context;
    registration->npi_id = *registration->instance->NpiId;
    registration->module_id = *registration->instance->ModuleId;
    nmr_snapshot_characteristics(registration, &registration->characteristics_snapshot);
    registration->state = NMR_REGISTRATION_ACTIVE;
    KeInitializeEvent(&registration->drained, NotificationEvent, FALSE);

    status = publish_with_proposed_bindings(registration);
    if (!NT_SUCCESS(status)) {
        ExFreePoolWithTag(registration, NMR_TAG_REGISTRATION);
        return status;
    }

    /* Attach is client-initiated in both orders; the handle is stored only afterwards
       (Inferred: a module relying on it during attach is caught). */
    nmr_binding_attach_proposed(registration);
    *handle_out = nmr_handle_make(registration->serial, registration_handle_kind(role));
    return STATUS_SUCCESS;
}

NTSTATUS NmrRegisterClient(const NPI_CLIENT_CHARACTERISTICS *ClientCharacteristics,
                           PVOID ClientContext, PHANDLE NmrClientHandle)
{
    return register_module(NMR_ROLE_CLIENT, ClientCharacteristics, ClientContext,
                           NmrClientHandle);
}

NTSTATUS NmrRegisterProvider(const NPI_PROVIDER_CHARACTERISTICS *ProviderCharacteristics,
                             PVOID ProviderContext, PHANDLE NmrProviderHandle)
{
    return register_module(NMR_ROLE_PROVIDER, ProviderCharacteristics, ProviderContext,
                           NmrProviderHandle);
}

/*
 * Look up a registration handle for deregister/wait; every misuse is an R9 stop.
 * Lock held. A wrong-kind handle that names a live registration of the other role names
 * that module in the message.
 */
static nmr_registration_t *registration_from_handle(HANDLE handle, nmr_role_t role,
                                                    const char *function)
{
    nmr_handle_kind_t expected = registration_handle_kind(role);
    nmr_handle_kind_t kind = nmr_handle_kind(handle);
    if (!nmr_handle_was_issued(handle)) {
        nmr_verifier_stop("R9", function, handle, NULL, "handle was never issued by the NMR");
    }
    if (kind != expected) {
        nmr_binding_side_t *side;
        nmr_binding_t *binding = nmr_binding_find(handle, &side);
        nmr_registration_t *other = nmr_registration_find(handle);
        if (other == NULL && binding != NULL) {
            other = kind == NMR_HANDLE_CLIENT_BINDING ? binding->client : binding->provider;
        }
        nmr_verifier_stop("R9", function, handle, other, "passed a %s where a %s is required",
                          nmr_handle_kind_name(kind), nmr_handle_kind_name(expected));
    }
    nmr_registration_t *registration = nmr_registration_find(handle);
    if (registration == NULL) {
        nmr_verifier_stop("R9", function, handle, NULL,
                          "stale handle: the registration already ended (its "
                          "NmrWaitFor*DeregisterComplete returned)");
    }
    return registration;
}

static NTSTATUS deregister_module(HANDLE handle, nmr_role_t role)
{
    const char *function = role == NMR_ROLE_CLIENT ? "NmrDeregisterClient" : "NmrDeregisterProvider";
    if (KeGetCurrentIrql() > DISPATCH_LEVEL) {
        nmr_verifier_stop("R4", function, handle, NULL,
                          "called at IRQL %u; requires IRQL <= DISPATCH_LEVEL",
                          (unsigned)KeGetCurrentIrql());
    }
    LIST_ENTRY batch;
    InitializeListHead(&batch);

    KIRQL old_irql = nmr_lock();
    nmr_registration_t *registration = registration_from_handle(handle, role, function);
    if (registration->state != NMR_REGISTRATION_ACTIVE) {
        nmr_verifier_stop("R9", function, handle, registration,
                          "double deregistration: the registration is already deregistering");
    }
    nmr_note_transition(NMR_OBJECT_REGISTRATION, registration->state,
                        NMR_REGISTRATION_DEREGISTERING);
    registration->state = NMR_REGISTRATION_DEREGISTERING;
    PLIST_ENTRY head = &nmr_registrar.bindings;
    for (PLIST_ENTRY entry = head->Flink; entry != head; entry = entry->Flink) {
        nmr_binding_t *binding = CONTAINING_RECORD(entry, nmr_binding_t, link);
        /* PROPOSED and ATTACHING bindings are left to their attaching thread, which
           discards or detaches them (late-comer) when it sees this state. */
        if ((binding->client == registration || binding->provider == registration) &&
            binding->state == NMR_BINDING_ATTACHED) {
            nmr_binding_queue_detach(binding, &batch);
        }
    }
    if (registration->binding_count == 0) {
        KeSetEvent(&registration->drained, IO_NO_INCREMENT, FALSE);
    }
    nmr_unlock(old_irql);

    nmr_binding_run_detach_batch(&batch);
    return STATUS_PENDING;
}

NTSTATUS NmrDeregisterClient(HANDLE NmrClientHandle)
{
    return deregister_module(NmrClientHandle, NMR_ROLE_CLIENT);
}

NTSTATUS NmrDeregisterProvider(HANDLE NmrProviderHandle)
{
    return deregister_module(NmrProviderHandle, NMR_ROLE_PROVIDER);
}

/* Block until the registration is drained; the D4 watchdog fires when no binding of it
   finishes within the hang timeout. Called without the lock held. */
static VOID wait_until_drained(nmr_registration_t *registration, const char *function,
                               HANDLE handle)
{
    for (;;) {
        KIRQL old_irql = nmr_lock();
        ULONG timeout_ms = nmr_registrar.config.hang_timeout_ms;
        ULONG progress = registration->bindings_finished;
        nmr_unlock(old_irql);
        if (timeout_ms == 0) {
            timeout_ms = NMR_DEFAULT_HANG_TIMEOUT_MS;
        }
        LARGE_INTEGER timeout;
        timeout.QuadPart = -(LONGLONG)timeout_ms * 10000;
        NTSTATUS status = KeWaitForSingleObject(&registration->drained, Executive, KernelMode,
                                                FALSE,
                                                timeout_ms == NMR_HANG_TIMEOUT_NONE ? NULL : &timeout);
        if (status == STATUS_SUCCESS) {
            return;
        }
        old_irql = nmr_lock();
        if (registration->bindings_finished == progress && registration->binding_count != 0) {
            nmr_verifier_report_hang(registration, function, handle, timeout_ms);
        }
        nmr_unlock(old_irql);
    }
}

static NTSTATUS wait_for_deregistration(HANDLE handle, nmr_role_t role)
{
    const char *function = role == NMR_ROLE_CLIENT ? "NmrWaitForClientDeregisterComplete"
                                                   : "NmrWaitForProviderDeregisterComplete";
    if (KeGetCurrentIrql() >= DISPATCH_LEVEL) {
        nmr_verifier_stop("R4", function, handle, NULL,
                          "called at IRQL %u; requires IRQL < DISPATCH_LEVEL",
                          (unsigned)KeGetCurrentIrql());
    }
    KIRQL old_irql = nmr_lock();
    if (!nmr_handle_was_issued(handle)) {
        /* Documented (WC, WP): an invalid handle gets STATUS_INVALID_PARAMETER. */
        nmr_unlock(old_irql);
        return STATUS_INVALID_PARAMETER;
    }
    nmr_registration_t *registration = registration_from_handle(handle, role, function);
    if (registration->state == NMR_REGISTRATION_ACTIVE) {
        /* Warned under the lock: another thread may end the registration once it is free. */
        nmr_verifier_warn("R8", function, handle, registration,
                          "called before the matching NmrDeregister*; returns "
                          "STATUS_INVALID_PARAMETER");
        nmr_unlock(old_irql);
        return STATUS_INVALID_PARAMETER;
    }
    if (registration->wait_in_progress) {
        nmr_verifier_stop("R9", function, handle, registration,
                          "a wait for this registration is already in progress");
    }
    if (nmr_callout_active_for(registration)) {
        nmr_verifier_stop("D11", function, handle, registration,
                          "called from inside an NMR callback of one of this registration's "
                          "bindings: the wait can never finish");
    }
    registration->wait_in_progress = TRUE;
    nmr_unlock(old_irql);

    wait_until_drained(registration, function, handle);
    nmr_verifier_check_characteristics(registration, function, handle);

    old_irql = nmr_lock();
    nmr_note_transition(NMR_OBJECT_REGISTRATION, registration->state, NMR_STATE_NONE);
    RemoveEntryList(&registration->link);
    nmr_unlock(old_irql);
    ExFreePoolWithTag(registration, NMR_TAG_REGISTRATION);
    return STATUS_SUCCESS;
}

NTSTATUS NmrWaitForClientDeregisterComplete(HANDLE NmrClientHandle)
{
    return wait_for_deregistration(NmrClientHandle, NMR_ROLE_CLIENT);
}

NTSTATUS NmrWaitForProviderDeregisterComplete(HANDLE NmrProviderHandle)
{
    return wait_for_deregistration(NmrProviderHandle, NMR_ROLE_PROVIDER);
}

VOID nmr_note_transition(nmr_state_object_t object, ULONG from, ULONG to)
{
    nmr_transition_observer_fn *observer = nmr_registrar.transition_observer;
    if (observer != NULL) {
        observer(((ULONG)object << 6) | ((from & 7u) << 3) | (to & 7u));
    }
}

/* ---- nmr_module.h ----------------------------------------------------------------------- */

VOID nmr_set_transition_observer(nmr_transition_observer_fn *observer)
{
    KIRQL old_irql = nmr_lock();
    nmr_registrar.transition_observer = observer;
    nmr_unlock(old_irql);
}

VOID nmr_verifier_get_config(nmr_verifier_config_t *config)
{
    KIRQL old_irql = nmr_lock();
    *config = nmr_registrar.config;
    nmr_unlock(old_irql);
}

VOID nmr_verifier_set_config(const nmr_verifier_config_t *config)
{
    KIRQL old_irql = nmr_lock();
    nmr_registrar.config = *config;
    nmr_unlock(old_irql);
}

ULONG nmr_verifier_warning_count(VOID)
{
    return (ULONG)ReadAcquire(&nmr_registrar.warning_count);
}

const char *nmr_verifier_last_warning_rule(VOID)
{
    return ReadPointerAcquire((PVOID volatile *)&nmr_registrar.last_warning_rule);
}

static ULONG list_length(PLIST_ENTRY head)
{
    ULONG count = 0;
    for (PLIST_ENTRY entry = head->Flink; entry != head; entry = entry->Flink) {
        count++;
    }
    return count;
}

ULONG nmr_live_object_count(VOID)
{
    KIRQL old_irql = nmr_lock();
    ULONG count = list_length(&nmr_registrar.clients) + list_length(&nmr_registrar.providers) +
                  list_length(&nmr_registrar.bindings);
    nmr_unlock(old_irql);
    return count;
}

/*
 * The invariant walk marks every registration it finds on a role's list with a stamp that no
 * earlier walk used, 2 * walk + list (0 clients, 1 providers), so that "listed in its role" is
 * one comparison instead of a walk of the list per binding. Walks are numbered from 1 and never
 * reset, and a registration starts zeroed (ExAllocatePool2), so a registration not found in
 * this walk never carries its stamp. Lock held.
 */
static ULONG64 invariant_walks;

static ULONG64 listed_stamp(ULONG64 walk, nmr_role_t role)
{
    return 2 * walk + (role == NMR_ROLE_CLIENT ? 0 : 1);
}

/* registration, found on the list of role. */
static VOID check_registration_invariants(nmr_registration_t *registration, nmr_role_t role)
{
    if (registration->role != role) {
        nmr_verifier_stop("INTERNAL", "nmr_check_invariants", NULL, registration,
                          "a %s registration is listed among the %s",
                          registration->role == NMR_ROLE_CLIENT ? "client" : "provider",
                          role == NMR_ROLE_CLIENT ? "clients" : "providers");
    }
    if (registration->invariant_bindings != registration->binding_count) {
        nmr_verifier_stop("INTERNAL", "nmr_check_invariants", NULL, registration,
                          "binding_count is %lu but %lu bindings name the registration",
                          registration->binding_count, registration->invariant_bindings);
    }
    if (registration->wait_in_progress && registration->state != NMR_REGISTRATION_DEREGISTERING) {
        nmr_verifier_stop("INTERNAL", "nmr_check_invariants", NULL, registration,
                          "a wait is in progress on an active registration");
    }
}

/* Whether the walk found registration on the list of role, and role is its own. */
static BOOLEAN listed_in_role(const nmr_registration_t *registration, nmr_role_t role,
                              ULONG64 walk)
{
    return registration->role == role &&
           registration->invariant_stamp == listed_stamp(walk, role);
}

static VOID check_binding_invariants(nmr_binding_t *binding, ULONG64 walk)
{
    const char *problem = NULL;
    if (!listed_in_role(binding->client, NMR_ROLE_CLIENT, walk) ||
        !listed_in_role(binding->provider, NMR_ROLE_PROVIDER, walk)) {
        problem = "binding names a registration that is not listed in its role";
    } else if (!nmr_guids_equal(&binding->client->npi_id, &binding->provider->npi_id)) {
        problem = "binding joins registrations of different NPIs";
    } else if (binding->state <= NMR_BINDING_ATTACHED &&
               (binding->client_side.state != NMR_SIDE_NOT_DETACHING ||
                binding->provider_side.state != NMR_SIDE_NOT_DETACHING)) {
        problem = "binding not detaching has a side in detach";
    } else if (binding->state == NMR_BINDING_DETACHING &&
               binding->client_side.state == NMR_SIDE_COMPLETE &&
               binding->provider_side.state == NMR_SIDE_COMPLETE) {
        problem = "binding with both sides complete is still detaching";
    } else if (binding->state == NMR_BINDING_ATTACHED &&
               binding->client->state != NMR_REGISTRATION_ACTIVE &&
               binding->provider->state != NMR_REGISTRATION_ACTIVE) {
        problem = "attached binding between two deregistering registrations";
    }
    if (problem != NULL) {
        nmr_verifier_stop("INTERNAL", "nmr_check_invariants",
                          nmr_handle_make(binding->client_side.serial, NMR_HANDLE_CLIENT_BINDING),
                          binding->client, "%s (state %s)", problem,
                          nmr_binding_state_name(binding->state));
    }
}

/* Counts a binding for a registration the walk found listed (a registration that is not
   fails the binding's check). */
static VOID count_binding_of(nmr_registration_t *registration, ULONG64 walk)
{
    if (registration->invariant_stamp == listed_stamp(walk, NMR_ROLE_CLIENT) ||
        registration->invariant_stamp == listed_stamp(walk, NMR_ROLE_PROVIDER)) {
        registration->invariant_bindings++;
    }
}

/* Marks the registrations listed on role's list as found there in this walk; returns how
   many there are. */
static ULONG stamp_registrations(nmr_role_t role, ULONG64 walk)
{
    ULONG count = 0;
    PLIST_ENTRY head = registrations_of(role);
    for (PLIST_ENTRY entry = head->Flink; entry != head; entry = entry->Flink) {
        nmr_registration_t *registration = CONTAINING_RECORD(entry, nmr_registration_t, link);
        registration->invariant_stamp = listed_stamp(walk, role);
        registration->invariant_bindings = 0;
        count++;
    }
    return count;
}

static VOID check_registrations(nmr_role_t role)
{
    PLIST_ENTRY head = registrations_of(role);
    for (PLIST_ENTRY entry = head->Flink; entry != head; entry = entry->Flink) {
        check_registration_invariants(CONTAINING_RECORD(entry, nmr_registration_t, link), role);
    }
}

/* In linear time: one pass stamps the registrations, one counts the bindings naming each,
   then the registrations' checks and the bindings' checks, in the order of the lists. (No
   local arrays: a sanitized stack frame was a fifth of the walk's cost.) */
ULONG nmr_check_invariants(VOID)
{
    KIRQL old_irql = nmr_lock();
    ULONG64 walk = ++invariant_walks;
    ULONG live = stamp_registrations(NMR_ROLE_CLIENT, walk) +
                 stamp_registrations(NMR_ROLE_PROVIDER, walk);
    PLIST_ENTRY bindings = &nmr_registrar.bindings;
    for (PLIST_ENTRY entry = bindings->Flink; entry != bindings; entry = entry->Flink) {
        nmr_binding_t *binding = CONTAINING_RECORD(entry, nmr_binding_t, link);
        count_binding_of(binding->client, walk);
        if (binding->provider != binding->client) {
            count_binding_of(binding->provider, walk);
        }
        live++;
    }
    check_registrations(NMR_ROLE_CLIENT);
    check_registrations(NMR_ROLE_PROVIDER);
    for (PLIST_ENTRY entry = bindings->Flink; entry != bindings; entry = entry->Flink) {
        check_binding_invariants(CONTAINING_RECORD(entry, nmr_binding_t, link), walk);
    }
    nmr_unlock(old_irql);
    return live;
}

ULONG nmr_reset(VOID)
{
    ULONG dropped = 0;
    /* No NMR call is in flight (the caller's guarantee), but one may have been cut short by a
       stop a harness caught (kshim stop trap): it may have left the lock acquired, its owner
       recorded, and callouts listed whose frames are gone. Start the lock and the per-call
       bookkeeping afresh before using them; the objects are dropped below either way. */
    KeInitializeSpinLock(&nmr_registrar.lock);
    InterlockedExchangePointer((PVOID volatile *)&nmr_registrar.lock_owner, NULL);
    InitializeListHead(&nmr_registrar.callouts);
    KIRQL old_irql = nmr_lock();
    while (!IsListEmpty(&nmr_registrar.bindings)) {
        nmr_binding_free(CONTAINING_RECORD(RemoveHeadList(&nmr_registrar.bindings), nmr_binding_t,
                                           link));
        dropped++;
    }
    PLIST_ENTRY heads[] = {&nmr_registrar.clients, &nmr_registrar.providers};
    for (ULONG i = 0; i < RTL_NUMBER_OF(heads); i++) {
        while (!IsListEmpty(heads[i])) {
            ExFreePoolWithTag(CONTAINING_RECORD(RemoveHeadList(heads[i]), nmr_registration_t, link),
                              NMR_TAG_REGISTRATION);
            dropped++;
        }
    }
    nmr_registrar.next_serial = 1;
    RtlZeroMemory(&nmr_registrar.config, sizeof(nmr_registrar.config));
    nmr_registrar.config.warnings_are_printed = TRUE;
    nmr_registrar.config.hang_timeout_ms = NMR_DEFAULT_HANG_TIMEOUT_MS;
    InterlockedExchange(&nmr_registrar.warning_count, 0);
    InterlockedExchangePointer((PVOID volatile *)&nmr_registrar.last_warning_rule, NULL);
    nmr_unlock(old_irql);
    return dropped;
}
