/* SPDX-License-Identifier: MIT */
/*
 * echo_client.c - the example NPI client, written as a careful WDK developer would:
 *   - every binding has a context from nonpaged pool, freed only in the cleanup callback;
 *   - calls into the provider are counted in flight under the binding's spin lock, and none
 *     starts once the detach callback has run;
 *   - the detach returns STATUS_SUCCESS when nothing is in flight, else STATUS_PENDING, and
 *     the last call to return completes it;
 *   - DriverUnload deregisters and waits before it returns.
 * NmrkitDriverExercise(Action) sends one request to a bound provider.
 *
 * The bug gallery (examples/gallery/) builds this file with ECHO_GALLERY_BUG set to one of the
 * GALLERY_* numbers: each such block is a bug a real driver has had, marked "Gallery".
 */
#include "echo_npi.h"

#define GALLERY_CONTEXT_FREED_IN_DETACH 1
#define GALLERY_PENDING_NEVER_COMPLETED 2
#define GALLERY_DETACH_COMPLETE_TWICE 3
#define GALLERY_USE_AFTER_DETACH_COMPLETE 4
#define GALLERY_WAIT_IN_DETACH 5
#define GALLERY_UNLOAD_WITHOUT_WAIT 6
#define GALLERY_CHARACTERISTICS_ON_STACK 7
#define GALLERY_WORK_ITEM_AFTER_UNLOAD 8
#define GALLERY_NO_ROLLBACK 9
#define GALLERY_CALL_AFTER_DETACH 10
#define GALLERY_THREAD_AFTER_UNLOAD 11
#ifndef ECHO_GALLERY_BUG
#define ECHO_GALLERY_BUG 0
#endif

#define ECHO_CLIENT_TAG 'ClhE'

typedef struct _ECHO_CLIENT_BINDING {
    LIST_ENTRY Link;                 /* in EchoClient.Bindings, under EchoClient.Lock */
    HANDLE NmrBindingHandle;
    PVOID ProviderContext;
    const ECHO_PROVIDER_DISPATCH *ProviderDispatch;
    KSPIN_LOCK Lock;                 /* protects the three fields below */
    ULONG InFlight;                  /* requests into the provider not yet returned */
    BOOLEAN Detaching;               /* the detach callback ran: no new request */
    BOOLEAN DetachPending;           /* it returned STATUS_PENDING: the last request completes */
    ULONG Answers;
} ECHO_CLIENT_BINDING;

static struct {
    HANDLE NmrClientHandle;
    KSPIN_LOCK Lock;                 /* protects Bindings */
    LIST_ENTRY Bindings;
    PDEVICE_OBJECT Device;           /* for work items */
    PULONG Statistics;               /* pool: answers seen */
    ULONG Detaches;                  /* under Lock */
} EchoClient;

static NPI_MODULEID EchoClientModuleId = {
    sizeof(NPI_MODULEID), MIT_GUID, {0x6e6d726b, 0x6563, 0x686f, {0x80, 0x02, 0, 0, 0, 0, 0, 1}}};

static ECHO_NOTIFY_FN EchoClientNotify;
static const ECHO_CLIENT_DISPATCH EchoClientDispatch = {EchoClientNotify};

static NTSTATUS EchoClientNotify(PVOID ClientBindingContext, ULONG Value)
{
    ECHO_CLIENT_BINDING *binding = ClientBindingContext;
    KIRQL oldIrql;
    KeAcquireSpinLock(&binding->Lock, &oldIrql);
    binding->Answers += Value;
    KeReleaseSpinLock(&binding->Lock, oldIrql);
    return STATUS_SUCCESS;
}

static NTSTATUS EchoClientAttachProvider(HANDLE NmrBindingHandle, PVOID ClientContext,
                                         PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    UNREFERENCED_PARAMETER(ClientContext);
    UNREFERENCED_PARAMETER(ProviderRegistrationInstance);
    ECHO_CLIENT_BINDING *binding =
        ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*binding), ECHO_CLIENT_TAG);
    if (binding == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    binding->NmrBindingHandle = NmrBindingHandle;
    KeInitializeSpinLock(&binding->Lock);
    const VOID *dispatch = NULL;
    NTSTATUS status = NmrClientAttachProvider(NmrBindingHandle, binding, &EchoClientDispatch,
                                              &binding->ProviderContext, &dispatch);
    if (status != STATUS_SUCCESS) {
        ExFreePoolWithTag(binding, ECHO_CLIENT_TAG);
        return status;
    }
    binding->ProviderDispatch = dispatch;
    KIRQL oldIrql;
    KeAcquireSpinLock(&EchoClient.Lock, &oldIrql);
    InsertTailList(&EchoClient.Bindings, &binding->Link);
    KeReleaseSpinLock(&EchoClient.Lock, oldIrql);
    return STATUS_SUCCESS;
}

static VOID EchoClientCompleteDetach(ECHO_CLIENT_BINDING *binding)
{
    NmrClientDetachProviderComplete(binding->NmrBindingHandle);
#if ECHO_GALLERY_BUG == GALLERY_USE_AFTER_DETACH_COMPLETE
    /* Gallery: the completion may run the cleanup callback at once, which frees binding. */
    binding->Answers = 0;
#endif
}

static NTSTATUS EchoClientDetachProvider(PVOID ClientBindingContext)
{
    ECHO_CLIENT_BINDING *binding = ClientBindingContext;
#if ECHO_GALLERY_BUG == GALLERY_WAIT_IN_DETACH
    /* Gallery: waits for the requests in flight to drain instead of returning
       STATUS_PENDING: shipped drivers do this at PASSIVE_LEVEL (not a finding by default),
       but the NMR may call detach at DISPATCH_LEVEL, where it must not wait (STRICT). */
    LARGE_INTEGER timeout = {.QuadPart = -10000};
    for (;;) {
        KIRQL irql;
        KeAcquireSpinLock(&binding->Lock, &irql);
        binding->Detaching = TRUE;
        ULONG inFlight = binding->InFlight;
        KeReleaseSpinLock(&binding->Lock, irql);
        if (inFlight == 0) {
            return STATUS_SUCCESS;
        }
        KeDelayExecutionThread(KernelMode, FALSE, &timeout);
    }
#endif
    KIRQL oldIrql;
    KeAcquireSpinLock(&binding->Lock, &oldIrql);
    binding->Detaching = TRUE;
    BOOLEAN idle = binding->InFlight == 0;
#if ECHO_GALLERY_BUG == GALLERY_PENDING_NEVER_COMPLETED
    /* Gallery: pends once any request was answered ("flush first"), but only the release
       path of a request completes a pending detach. */
    idle = idle && *EchoClient.Statistics == 0;
#endif
    binding->DetachPending = !idle;
    KeReleaseSpinLock(&binding->Lock, oldIrql);
#if ECHO_GALLERY_BUG == GALLERY_CONTEXT_FREED_IN_DETACH
    /* Gallery: frees the context in detach; the cleanup callback frees it again. */
    if (idle) {
        ExFreePoolWithTag(binding, ECHO_CLIENT_TAG);
    }
#endif
#if ECHO_GALLERY_BUG == GALLERY_DETACH_COMPLETE_TWICE
    /* Gallery: counts the detach under the driver's lock, then re-checks the requests without
       the binding's lock and completes "to be safe": the last request may have completed the
       detach in between. */
    KeAcquireSpinLock(&EchoClient.Lock, &oldIrql);
    EchoClient.Detaches++;
    KeReleaseSpinLock(&EchoClient.Lock, oldIrql);
    if (!idle && binding->InFlight == 0) {
        EchoClientCompleteDetach(binding);
    }
#endif
    return idle ? STATUS_SUCCESS : STATUS_PENDING;
}

static VOID EchoClientCleanupBindingContext(PVOID ClientBindingContext)
{
    ECHO_CLIENT_BINDING *binding = ClientBindingContext;
    KIRQL oldIrql;
    KeAcquireSpinLock(&EchoClient.Lock, &oldIrql);
    RemoveEntryList(&binding->Link);
    KeReleaseSpinLock(&EchoClient.Lock, oldIrql);
    ExFreePoolWithTag(binding, ECHO_CLIENT_TAG);
}

/* A reference on the first bound provider that is not detaching, or NULL. */
static ECHO_CLIENT_BINDING *EchoClientAcquireBinding(VOID)
{
    ECHO_CLIENT_BINDING *found = NULL;
    KIRQL oldIrql;
    KeAcquireSpinLock(&EchoClient.Lock, &oldIrql);
    for (PLIST_ENTRY entry = EchoClient.Bindings.Flink;
         entry != &EchoClient.Bindings && found == NULL; entry = entry->Flink) {
        ECHO_CLIENT_BINDING *binding = CONTAINING_RECORD(entry, ECHO_CLIENT_BINDING, Link);
        KIRQL bindingIrql;
        KeAcquireSpinLock(&binding->Lock, &bindingIrql);
#if ECHO_GALLERY_BUG == GALLERY_CALL_AFTER_DETACH
        /* Gallery: forgets to look at Detaching. */
        BOOLEAN usable = TRUE;
#else
        BOOLEAN usable = !binding->Detaching;
#endif
        if (usable) {
            binding->InFlight++;
            found = binding;
        }
        KeReleaseSpinLock(&binding->Lock, bindingIrql);
    }
    KeReleaseSpinLock(&EchoClient.Lock, oldIrql);
    return found;
}

static VOID EchoClientReleaseBinding(ECHO_CLIENT_BINDING *binding)
{
    KIRQL oldIrql;
    KeAcquireSpinLock(&binding->Lock, &oldIrql);
    BOOLEAN complete = --binding->InFlight == 0 && binding->DetachPending;
    KeReleaseSpinLock(&binding->Lock, oldIrql);
    if (complete) {
        EchoClientCompleteDetach(binding);
    }
}

#if ECHO_GALLERY_BUG == GALLERY_WORK_ITEM_AFTER_UNLOAD
static IO_WORKITEM_ROUTINE EchoClientFlushStatistics;
static VOID EchoClientFlushStatistics(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    /* Gallery: DriverUnload freed the statistics without waiting for this routine. */
    EchoClient.Statistics[0] = 0;
    IoFreeWorkItem(Context);
}
#endif

#if ECHO_GALLERY_BUG == GALLERY_THREAD_AFTER_UNLOAD
static KSTART_ROUTINE EchoClientReportThread;
static VOID EchoClientReportThread(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    /* Gallery: a reporting thread DriverUnload neither stops nor waits for. */
    LARGE_INTEGER interval = {.QuadPart = -10 * 10000};
    KeDelayExecutionThread(KernelMode, FALSE, &interval);
    PsTerminateSystemThread(STATUS_SUCCESS);
}
#endif

VOID NmrkitDriverExercise(PDRIVER_OBJECT DriverObject, ULONG Action)
{
#if ECHO_GALLERY_BUG == GALLERY_THREAD_AFTER_UNLOAD
    HANDLE thread;
    if (NT_SUCCESS(PsCreateSystemThread(&thread, THREAD_ALL_ACCESS, NULL, NULL, NULL,
                                        EchoClientReportThread, NULL))) {
        ZwClose(thread);
    }
#endif
    UNREFERENCED_PARAMETER(DriverObject);
    ECHO_CLIENT_BINDING *binding = EchoClientAcquireBinding();
    if (binding == NULL) {
        return;
    }
    ULONG answer = 0;
    if (binding->ProviderDispatch != NULL &&
        binding->ProviderDispatch->Request(binding->ProviderContext, Action, &answer) ==
            STATUS_SUCCESS) {
        InterlockedAdd((volatile LONG *)EchoClient.Statistics, 1);
    }
#if ECHO_GALLERY_BUG == GALLERY_WORK_ITEM_AFTER_UNLOAD
    PIO_WORKITEM item = IoAllocateWorkItem(EchoClient.Device);
    if (item != NULL) {
        IoQueueWorkItem(item, EchoClientFlushStatistics, DelayedWorkQueue, item);
    }
#endif
    EchoClientReleaseBinding(binding);
}

static DRIVER_UNLOAD EchoClientUnload;

static const NPI_CLIENT_CHARACTERISTICS EchoClientCharacteristics = {
    0,
    sizeof(NPI_CLIENT_CHARACTERISTICS),
    EchoClientAttachProvider,
    EchoClientDetachProvider,
    EchoClientCleanupBindingContext,
    {0, sizeof(NPI_REGISTRATION_INSTANCE), &EchoNpiId, &EchoClientModuleId, 0, NULL},
};

static VOID EchoClientUnload(PDRIVER_OBJECT DriverObject)
{
    NTSTATUS status = NmrDeregisterClient(EchoClient.NmrClientHandle);
#if ECHO_GALLERY_BUG == GALLERY_UNLOAD_WITHOUT_WAIT
    /* Gallery: waits only when the deregistration "is pending" and treats anything else as
       done; the real NMR always returns STATUS_PENDING, but the wait is what the contract
       requires, and this code skips it for STATUS_SUCCESS from a wrapper. */
    if (status != STATUS_PENDING) {
        NmrWaitForClientDeregisterComplete(EchoClient.NmrClientHandle);
    }
#else
    if (NT_SUCCESS(status)) {
        NmrWaitForClientDeregisterComplete(EchoClient.NmrClientHandle);
    }
#endif
    IoDeleteDevice(EchoClient.Device);
    ExFreePoolWithTag(EchoClient.Statistics, ECHO_CLIENT_TAG);
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    KeInitializeSpinLock(&EchoClient.Lock);
    InitializeListHead(&EchoClient.Bindings);
    EchoClient.Statistics = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(ULONG), ECHO_CLIENT_TAG);
    if (EchoClient.Statistics == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    NTSTATUS status = IoCreateDevice(DriverObject, 0, NULL, FILE_DEVICE_NETWORK, 0, FALSE,
                                     &EchoClient.Device);
    if (!NT_SUCCESS(status)) {
        ExFreePoolWithTag(EchoClient.Statistics, ECHO_CLIENT_TAG);
        return status;
    }
    DriverObject->DriverUnload = EchoClientUnload;
#if ECHO_GALLERY_BUG == GALLERY_CHARACTERISTICS_ON_STACK
    /* Gallery: the NMR keeps a pointer to the characteristics until the wait returns. */
    NPI_CLIENT_CHARACTERISTICS characteristics = EchoClientCharacteristics;
    status = NmrRegisterClient(&characteristics, NULL, &EchoClient.NmrClientHandle);
#else
    status = NmrRegisterClient(&EchoClientCharacteristics, NULL, &EchoClient.NmrClientHandle);
#endif
    if (!NT_SUCCESS(status)) {
#if ECHO_GALLERY_BUG != GALLERY_NO_ROLLBACK
        /* (Gallery GALLERY_NO_ROLLBACK forgets these two lines.) */
        IoDeleteDevice(EchoClient.Device);
        ExFreePoolWithTag(EchoClient.Statistics, ECHO_CLIENT_TAG);
#endif
        return status;
    }
    return STATUS_SUCCESS;
}
