/* SPDX-License-Identifier: MIT */
/*
 * teardown_client.c - an echo client with the habits of MsQuic's kernel NMR client helper
 * (nmr-spec.md 2.4): its detach callback always returns STATUS_PENDING and the detach is
 * completed only in its own teardown, DriverUnload, after NmrDeregisterClient. A provider
 * that unloads first therefore waits until this client unloads: not a hang, and not a
 * finding by default.
 */
#include "../echo/echo_npi.h"

#define SHIPPED_TAG 'CphS'

typedef struct _BINDING {
    LIST_ENTRY Link;
    HANDLE NmrBindingHandle;
    BOOLEAN DetachPending;  /* the detach callback returned STATUS_PENDING */
    BOOLEAN Completed;      /* DriverUnload completed it */
} BINDING;

static struct {
    HANDLE NmrClientHandle;
    KSPIN_LOCK Lock; /* protects Bindings, DetachPending, Completed and TearingDown */
    LIST_ENTRY Bindings;
    BOOLEAN TearingDown; /* DriverUnload began: a detach from now on completes at once */
} Client;

static NPI_MODULEID ModuleId = {
    sizeof(NPI_MODULEID), MIT_GUID, {0x6e6d726b, 0x6563, 0x686f, {0x80, 0x05, 0, 0, 0, 0, 0, 1}}};

static NTSTATUS AttachProvider(HANDLE NmrBindingHandle, PVOID ClientContext,
                               PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    UNREFERENCED_PARAMETER(ClientContext);
    UNREFERENCED_PARAMETER(ProviderRegistrationInstance);
    BINDING *binding = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*binding), SHIPPED_TAG);
    if (binding == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    binding->NmrBindingHandle = NmrBindingHandle;
    PVOID providerContext;
    const VOID *providerDispatch;
    NTSTATUS status = NmrClientAttachProvider(NmrBindingHandle, binding, NULL, &providerContext,
                                              &providerDispatch);
    if (status != STATUS_SUCCESS) {
        ExFreePoolWithTag(binding, SHIPPED_TAG);
        return status;
    }
    KIRQL oldIrql;
    KeAcquireSpinLock(&Client.Lock, &oldIrql);
    InsertTailList(&Client.Bindings, &binding->Link);
    KeReleaseSpinLock(&Client.Lock, oldIrql);
    return STATUS_SUCCESS;
}

static NTSTATUS DetachProvider(PVOID ClientBindingContext)
{
    BINDING *binding = ClientBindingContext;
    KIRQL oldIrql;
    KeAcquireSpinLock(&Client.Lock, &oldIrql);
    BOOLEAN tearingDown = Client.TearingDown;
    binding->DetachPending = !tearingDown;
    KeReleaseSpinLock(&Client.Lock, oldIrql);
    /* Pending until DriverUnload, unless it already began (a late attach detached at once). */
    return tearingDown ? STATUS_SUCCESS : STATUS_PENDING;
}

static VOID CleanupBindingContext(PVOID ClientBindingContext)
{
    BINDING *binding = ClientBindingContext;
    KIRQL oldIrql;
    KeAcquireSpinLock(&Client.Lock, &oldIrql);
    RemoveEntryList(&binding->Link);
    KeReleaseSpinLock(&Client.Lock, oldIrql);
    ExFreePoolWithTag(binding, SHIPPED_TAG);
}

static const NPI_CLIENT_CHARACTERISTICS Characteristics = {
    0,
    sizeof(NPI_CLIENT_CHARACTERISTICS),
    AttachProvider,
    DetachProvider,
    CleanupBindingContext,
    {0, sizeof(NPI_REGISTRATION_INSTANCE), &EchoNpiId, &ModuleId, 0, NULL},
};

static DRIVER_UNLOAD Unload;
static VOID Unload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    KIRQL oldIrql;
    KeAcquireSpinLock(&Client.Lock, &oldIrql);
    Client.TearingDown = TRUE;
    KeReleaseSpinLock(&Client.Lock, oldIrql);
    NmrDeregisterClient(Client.NmrClientHandle);
    /* Every detach that pended ran before TearingDown was set: complete them. Only this
       routine completes, so no binding is cleaned up before its completion. */
    HANDLE handles[8];
    ULONG count = 0;
    KeAcquireSpinLock(&Client.Lock, &oldIrql);
    for (PLIST_ENTRY entry = Client.Bindings.Flink;
         entry != &Client.Bindings && count < RTL_NUMBER_OF(handles); entry = entry->Flink) {
        BINDING *binding = CONTAINING_RECORD(entry, BINDING, Link);
        if (binding->DetachPending && !binding->Completed) {
            binding->Completed = TRUE;
            handles[count++] = binding->NmrBindingHandle;
        }
    }
    KeReleaseSpinLock(&Client.Lock, oldIrql);
    for (ULONG i = 0; i < count; i++) {
        NmrClientDetachProviderComplete(handles[i]);
    }
    NmrWaitForClientDeregisterComplete(Client.NmrClientHandle);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    KeInitializeSpinLock(&Client.Lock);
    InitializeListHead(&Client.Bindings);
    DriverObject->DriverUnload = Unload;
    return NmrRegisterClient(&Characteristics, NULL, &Client.NmrClientHandle);
}
