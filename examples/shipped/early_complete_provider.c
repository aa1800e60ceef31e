/* SPDX-License-Identifier: MIT */
/*
 * early_complete_provider.c - an echo provider with the habits of XDP's NMR provider
 * (nmr-spec.md 2.4, 1.2), none of which is a finding by default:
 *   - registers characteristics and instance with Version 1;
 *   - declines a second client with STATUS_NOT_SUPPORTED rather than STATUS_NOINTERFACE;
 *   - DriverUnload completes the detach of every binding *before* NmrDeregisterProvider
 *     requests it, and the detach callback then returns STATUS_PENDING (the real NMR counts
 *     such an early completion; STRICT makes it the D5 stop it is by the letter).
 */
#include "../echo/echo_npi.h"

#define SHIPPED_TAG 'PphS'

typedef struct _BINDING {
    LIST_ENTRY Link;
    HANDLE NmrBindingHandle;
    BOOLEAN CompletedEarly; /* DriverUnload completed the detach before it was requested */
    BOOLEAN DetachRan;      /* the detach callback ran */
} BINDING;

static struct {
    HANDLE NmrProviderHandle;
    KSPIN_LOCK Lock; /* protects Bindings */
    LIST_ENTRY Bindings;
    ULONG Clients;
} Provider;

static NPI_MODULEID ModuleId = {
    sizeof(NPI_MODULEID), MIT_GUID, {0x6e6d726b, 0x6563, 0x686f, {0x80, 0x04, 0, 0, 0, 0, 0, 1}}};

static ECHO_REQUEST_FN Request;
static const ECHO_PROVIDER_DISPATCH Dispatch = {Request};

static NTSTATUS Request(PVOID ProviderBindingContext, ULONG Value, PULONG Answer)
{
    UNREFERENCED_PARAMETER(ProviderBindingContext);
    *Answer = Value;
    return STATUS_SUCCESS;
}

static NTSTATUS AttachClient(HANDLE NmrBindingHandle, PVOID ProviderContext,
                             PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
                             PVOID ClientBindingContext, const VOID *ClientDispatch,
                             PVOID *ProviderBindingContext, const VOID **ProviderDispatch)
{
    UNREFERENCED_PARAMETER(ProviderContext);
    UNREFERENCED_PARAMETER(ClientRegistrationInstance);
    UNREFERENCED_PARAMETER(ClientBindingContext);
    UNREFERENCED_PARAMETER(ClientDispatch);
    KIRQL oldIrql;
    KeAcquireSpinLock(&Provider.Lock, &oldIrql);
    BOOLEAN busy = Provider.Clients != 0;
    KeReleaseSpinLock(&Provider.Lock, oldIrql);
    if (busy) {
        return STATUS_NOT_SUPPORTED; /* one client at a time */
    }
    BINDING *binding = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*binding), SHIPPED_TAG);
    if (binding == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    binding->NmrBindingHandle = NmrBindingHandle;
    KeAcquireSpinLock(&Provider.Lock, &oldIrql);
    Provider.Clients++;
    InsertTailList(&Provider.Bindings, &binding->Link);
    KeReleaseSpinLock(&Provider.Lock, oldIrql);
    *ProviderBindingContext = binding;
    *ProviderDispatch = &Dispatch;
    return STATUS_SUCCESS;
}

static NTSTATUS DetachClient(PVOID ProviderBindingContext)
{
    BINDING *binding = ProviderBindingContext;
    KIRQL oldIrql;
    KeAcquireSpinLock(&Provider.Lock, &oldIrql);
    binding->DetachRan = TRUE;
    BOOLEAN completed = binding->CompletedEarly;
    KeReleaseSpinLock(&Provider.Lock, oldIrql);
    /* Pending when DriverUnload already completed it (the NMR counts that completion). */
    return completed ? STATUS_PENDING : STATUS_SUCCESS;
}

static VOID CleanupBindingContext(PVOID ProviderBindingContext)
{
    BINDING *binding = ProviderBindingContext;
    KIRQL oldIrql;
    KeAcquireSpinLock(&Provider.Lock, &oldIrql);
    RemoveEntryList(&binding->Link);
    Provider.Clients--;
    KeReleaseSpinLock(&Provider.Lock, oldIrql);
    ExFreePoolWithTag(binding, SHIPPED_TAG);
}

static const NPI_PROVIDER_CHARACTERISTICS Characteristics = {
    1,
    sizeof(NPI_PROVIDER_CHARACTERISTICS),
    AttachClient,
    DetachClient,
    CleanupBindingContext,
    {1, sizeof(NPI_REGISTRATION_INSTANCE), &EchoNpiId, &ModuleId, 0, NULL},
};

static DRIVER_UNLOAD Unload;
static VOID Unload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    /* Complete every binding's detach first; clients may still detach on their own (their
       deregistration), which this provider then also answers with STATUS_PENDING. */
    HANDLE handles[8];
    ULONG count = 0;
    KIRQL oldIrql;
    KeAcquireSpinLock(&Provider.Lock, &oldIrql);
    for (PLIST_ENTRY entry = Provider.Bindings.Flink;
         entry != &Provider.Bindings && count < RTL_NUMBER_OF(handles); entry = entry->Flink) {
        BINDING *binding = CONTAINING_RECORD(entry, BINDING, Link);
        if (!binding->DetachRan) {
            binding->CompletedEarly = TRUE;
            handles[count++] = binding->NmrBindingHandle;
        }
    }
    KeReleaseSpinLock(&Provider.Lock, oldIrql);
    /* A binding marked here is cleaned up only after this completion (its detach pends). */
    for (ULONG i = 0; i < count; i++) {
        NmrProviderDetachClientComplete(handles[i]);
    }
    NmrDeregisterProvider(Provider.NmrProviderHandle);
    NmrWaitForProviderDeregisterComplete(Provider.NmrProviderHandle);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    KeInitializeSpinLock(&Provider.Lock);
    InitializeListHead(&Provider.Bindings);
    DriverObject->DriverUnload = Unload;
    return NmrRegisterProvider(&Characteristics, NULL, &Provider.NmrProviderHandle);
}
