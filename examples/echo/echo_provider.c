/* SPDX-License-Identifier: MIT */
/*
 * echo_provider.c - the example NPI provider, written as a careful WDK developer would:
 * binding contexts from nonpaged pool freed in the cleanup callback; notifications to a
 * client counted in flight under the binding's spin lock, none started once the detach
 * callback ran; STATUS_PENDING while any is in flight, completed by the last one;
 * DriverUnload deregisters and waits. NmrkitDriverExercise(Action) notifies a bound client.
 */
#include "echo_npi.h"

#define ECHO_PROVIDER_TAG 'PohE'

typedef struct _ECHO_PROVIDER_BINDING {
    LIST_ENTRY Link;                 /* in EchoProvider.Bindings, under EchoProvider.Lock */
    HANDLE NmrBindingHandle;
    PVOID ClientContext;
    const ECHO_CLIENT_DISPATCH *ClientDispatch;
    KSPIN_LOCK Lock;                 /* protects the three fields below */
    ULONG InFlight;                  /* notifications not yet returned */
    BOOLEAN Detaching;
    BOOLEAN DetachPending;
    volatile LONG Requests;
} ECHO_PROVIDER_BINDING;

static struct {
    HANDLE NmrProviderHandle;
    KSPIN_LOCK Lock;                 /* protects Bindings */
    LIST_ENTRY Bindings;
} EchoProvider;

static NPI_MODULEID EchoProviderModuleId = {
    sizeof(NPI_MODULEID), MIT_GUID, {0x6e6d726b, 0x6563, 0x686f, {0x80, 0x03, 0, 0, 0, 0, 0, 1}}};

static ECHO_REQUEST_FN EchoProviderRequest;
static const ECHO_PROVIDER_DISPATCH EchoProviderDispatch = {EchoProviderRequest};

static NTSTATUS EchoProviderRequest(PVOID ProviderBindingContext, ULONG Value, PULONG Answer)
{
    ECHO_PROVIDER_BINDING *binding = ProviderBindingContext;
    InterlockedIncrement(&binding->Requests);
    *Answer = Value;
    return STATUS_SUCCESS;
}

static NTSTATUS EchoProviderAttachClient(HANDLE NmrBindingHandle, PVOID ProviderContext,
                                         PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
                                         PVOID ClientBindingContext, const VOID *ClientDispatch,
                                         PVOID *ProviderBindingContext,
                                         const VOID **ProviderDispatch)
{
    UNREFERENCED_PARAMETER(ProviderContext);
    UNREFERENCED_PARAMETER(ClientRegistrationInstance);
    ECHO_PROVIDER_BINDING *binding =
        ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*binding), ECHO_PROVIDER_TAG);
    if (binding == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    binding->NmrBindingHandle = NmrBindingHandle;
    binding->ClientContext = ClientBindingContext;
    binding->ClientDispatch = ClientDispatch;
    KeInitializeSpinLock(&binding->Lock);
    KIRQL oldIrql;
    KeAcquireSpinLock(&EchoProvider.Lock, &oldIrql);
    InsertTailList(&EchoProvider.Bindings, &binding->Link);
    KeReleaseSpinLock(&EchoProvider.Lock, oldIrql);
    *ProviderBindingContext = binding;
    *ProviderDispatch = &EchoProviderDispatch;
    return STATUS_SUCCESS;
}

static NTSTATUS EchoProviderDetachClient(PVOID ProviderBindingContext)
{
    ECHO_PROVIDER_BINDING *binding = ProviderBindingContext;
    KIRQL oldIrql;
    KeAcquireSpinLock(&binding->Lock, &oldIrql);
    binding->Detaching = TRUE;
    BOOLEAN idle = binding->InFlight == 0;
    binding->DetachPending = !idle;
    KeReleaseSpinLock(&binding->Lock, oldIrql);
    return idle ? STATUS_SUCCESS : STATUS_PENDING;
}

static VOID EchoProviderCleanupBindingContext(PVOID ProviderBindingContext)
{
    ECHO_PROVIDER_BINDING *binding = ProviderBindingContext;
    KIRQL oldIrql;
    KeAcquireSpinLock(&EchoProvider.Lock, &oldIrql);
    RemoveEntryList(&binding->Link);
    KeReleaseSpinLock(&EchoProvider.Lock, oldIrql);
    ExFreePoolWithTag(binding, ECHO_PROVIDER_TAG);
}

VOID NmrkitDriverExercise(PDRIVER_OBJECT DriverObject, ULONG Action)
{
    UNREFERENCED_PARAMETER(DriverObject);
    ECHO_PROVIDER_BINDING *found = NULL;
    KIRQL oldIrql;
    KeAcquireSpinLock(&EchoProvider.Lock, &oldIrql);
    for (PLIST_ENTRY entry = EchoProvider.Bindings.Flink;
         entry != &EchoProvider.Bindings && found == NULL; entry = entry->Flink) {
        ECHO_PROVIDER_BINDING *binding = CONTAINING_RECORD(entry, ECHO_PROVIDER_BINDING, Link);
        KIRQL bindingIrql;
        KeAcquireSpinLock(&binding->Lock, &bindingIrql);
        if (!binding->Detaching) {
            binding->InFlight++;
            found = binding;
        }
        KeReleaseSpinLock(&binding->Lock, bindingIrql);
    }
    KeReleaseSpinLock(&EchoProvider.Lock, oldIrql);
    if (found == NULL) {
        return;
    }
    if (found->ClientDispatch != NULL) {
        found->ClientDispatch->Notify(found->ClientContext, Action);
    }
    KeAcquireSpinLock(&found->Lock, &oldIrql);
    BOOLEAN complete = --found->InFlight == 0 && found->DetachPending;
    KeReleaseSpinLock(&found->Lock, oldIrql);
    if (complete) {
        NmrProviderDetachClientComplete(found->NmrBindingHandle);
    }
}

static DRIVER_UNLOAD EchoProviderUnload;

static const NPI_PROVIDER_CHARACTERISTICS EchoProviderCharacteristics = {
    0,
    sizeof(NPI_PROVIDER_CHARACTERISTICS),
    EchoProviderAttachClient,
    EchoProviderDetachClient,
    EchoProviderCleanupBindingContext,
    {0, sizeof(NPI_REGISTRATION_INSTANCE), &EchoNpiId, &EchoProviderModuleId, 0, NULL},
};

static VOID EchoProviderUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    if (NT_SUCCESS(NmrDeregisterProvider(EchoProvider.NmrProviderHandle))) {
        NmrWaitForProviderDeregisterComplete(EchoProvider.NmrProviderHandle);
    }
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    KeInitializeSpinLock(&EchoProvider.Lock);
    InitializeListHead(&EchoProvider.Bindings);
    DriverObject->DriverUnload = EchoProviderUnload;
    return NmrRegisterProvider(&EchoProviderCharacteristics, NULL,
                               &EchoProvider.NmrProviderHandle);
}
