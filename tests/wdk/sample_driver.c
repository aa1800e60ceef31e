/* SPDX-License-Identifier: MIT */
/*
 * sample_driver.c - a WDK-style driver that uses every routine and type the shim's WDK
 * surface added for real NPI modules, written as the WDK documentation shows them. It is a
 * compile fixture (built with the driver dialect, -Werror) and is run by
 * sample_driver_test.c in every preset.
 */
#include "sample_driver.h"

#include <TraceLoggingProvider.h>
#include <basetsd.h>
#include <ip2string.h>
#include <minwindef.h>
#include <ndis/types.h>
#include <ws2ipdef.h>

#pragma warning(push)
#pragma warning(disable : 4201) /* nameless struct/union */
#pragma warning(pop)

TRACELOGGING_DEFINE_PROVIDER(SampleTraceProvider, "Sample.Npi.Driver",
                             (0x1a2b3c4d, 0x1111, 0x2222, 0x33, 0x33, 0x44, 0x44, 0x55, 0x55, 0x66, 0x66));

static KDEFERRED_ROUTINE SampleTimerDpc;
static RTL_QUERY_REGISTRY_ROUTINE SampleQueryName;
static IO_WORKITEM_ROUTINE SampleUnusedWorkItem;
static WORKER_THREAD_ROUTINE SampleUnusedWorker;

#pragma alloc_text(INIT, SampleDriverEntry)
#pragma alloc_text(PAGE, SamplePagedRoutine)

typedef struct _SAMPLE_CONTEXT {
    KTIMER Timer;
    KDPC Dpc;
    KEVENT TimerDone;
    volatile LONG DpcRuns;
    KIRQL DpcIrql;
    KSPIN_LOCK Lock;
    EX_SPIN_LOCK TableLock;
    FAST_MUTEX ConfigMutex;
    KMUTEX SlowMutex;
    SAMPLE_COUNTERS Counters;
    ULONG MaxBindings;
    UNICODE_STRING Name;
    SAMPLE_FLAGS Flags;
} SAMPLE_CONTEXT;

static SAMPLE_CONTEXT *Sample;

static const UNICODE_STRING SampleDefaultName = RTL_CONSTANT_STRING(L"sample");

C_ASSERT(FIELD_OFFSET(SAMPLE_CONTEXT, Timer) == 0);
C_ASSERT(RTL_SIZEOF_THROUGH_FIELD(SAMPLE_COUNTERS, Packets) == sizeof(LONG64));
C_ASSERT(sizeof(SAMPLE_COUNTERS) % SYSTEM_CACHE_ALIGNMENT_SIZE == 0);
C_ASSERT(MAXUINT8 == 0xff && MAXUINT16 == 0xffff && MAXUINT32 == 0xffffffffu && MAXUINT64 == ~0ull);
C_ASSERT(sizeof(L"ab") == 3 * sizeof(WCHAR));

static VOID SampleTimerDpc(_In_ PKDPC Dpc, _In_opt_ PVOID DeferredContext, _In_opt_ PVOID SystemArgument1,
                           _In_opt_ PVOID SystemArgument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);
    SAMPLE_CONTEXT *context = (SAMPLE_CONTEXT *)DeferredContext;
    KLOCK_QUEUE_HANDLE handle;
    context->DpcIrql = KeGetCurrentIrql();
    KeAcquireInStackQueuedSpinLockAtDpcLevel(&context->Lock, &handle);
    InterlockedIncrement64(&context->Counters.Packets);
    KeReleaseInStackQueuedSpinLockFromDpcLevel(&handle);
    ExAcquireSpinLockSharedAtDpcLevel(&context->TableLock);
    ExReleaseSpinLockSharedFromDpcLevel(&context->TableLock);
    if (InterlockedIncrement(&context->DpcRuns) == 2) {
        KeSetEvent(&context->TimerDone, IO_NO_INCREMENT, FALSE);
    }
}

static NTSTATUS SampleQueryName(_In_z_ PWSTR ValueName, _In_ ULONG ValueType, _In_reads_bytes_opt_(ValueLength) PVOID ValueData,
                                _In_ ULONG ValueLength, _In_opt_ PVOID Context, _In_opt_ PVOID EntryContext)
{
    UNREFERENCED_PARAMETER(ValueName);
    UNREFERENCED_PARAMETER(Context);
    PUNICODE_STRING name = (PUNICODE_STRING)EntryContext;
    if (ValueType != REG_SZ || ValueLength > name->MaximumLength) {
        return STATUS_INVALID_PARAMETER;
    }
    RtlCopyMemory(name->Buffer, ValueData, ValueLength);
    name->Length = (USHORT)(ValueLength - sizeof(WCHAR));
    return STATUS_SUCCESS;
}

static VOID SampleUnusedWorkItem(_In_ PDEVICE_OBJECT DeviceObject, _In_opt_ PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Context);
}

static VOID SampleUnusedWorker(_In_ PVOID Parameter)
{
    UNREFERENCED_PARAMETER(Parameter);
}

VOID SamplePagedRoutine(VOID)
{
    PAGED_CODE();
}

_Use_decl_annotations_
NTSTATUS SampleDriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    NTSTATUS status;
    static WCHAR nameBuffer[32];
    RTL_QUERY_REGISTRY_TABLE table[3];

    PAGED_CODE();
    UNREFERENCED_PARAMETER(SampleUnusedWorkItem);
    UNREFERENCED_PARAMETER(SampleUnusedWorker);
    status = TraceLoggingRegister(SampleTraceProvider);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    Sample = (SAMPLE_CONTEXT *)ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*Sample), 'pmaS');
    if (Sample == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    KeInitializeTimerEx(&Sample->Timer, NotificationTimer);
    KeInitializeDpc(&Sample->Dpc, SampleTimerDpc, Sample);
    KeInitializeEvent(&Sample->TimerDone, NotificationEvent, FALSE);
    KeInitializeSpinLock(&Sample->Lock);
    Sample->TableLock = 0;
    ExInitializeFastMutex(&Sample->ConfigMutex);
    KeInitializeMutex(&Sample->SlowMutex, 0);
    Sample->Flags = SampleFlagTimer | SampleFlagDpc;
    Sample->Flags &= ~SampleFlagDpc;

    Sample->MaxBindings = 4;
    Sample->Name.Buffer = nameBuffer;
    Sample->Name.MaximumLength = sizeof(nameBuffer);
    RtlCopyUnicodeString(&Sample->Name, &SampleDefaultName);
    RtlZeroMemory(table, sizeof(table));
    table[0].Flags = RTL_QUERY_REGISTRY_DIRECT | RTL_QUERY_REGISTRY_TYPECHECK;
    table[0].Name = (PWSTR)L"MaxBindings";
    table[0].EntryContext = &Sample->MaxBindings;
    table[0].DefaultType = (REG_DWORD << RTL_QUERY_REGISTRY_TYPECHECK_SHIFT) | REG_NONE;
    table[1].QueryRoutine = SampleQueryName;
    table[1].Flags = RTL_QUERY_REGISTRY_REQUIRED;
    table[1].Name = (PWSTR)L"Name";
    table[1].EntryContext = &Sample->Name;
    status = RtlQueryRegistryValues(RTL_REGISTRY_ABSOLUTE, RegistryPath->Buffer, table, NULL, NULL);
    TraceLoggingWrite(SampleTraceProvider, "DriverEntry", TraceLoggingNTStatus(status, "Status"),
                      TraceLoggingUInt32(Sample->MaxBindings, "MaxBindings"),
                      TraceLoggingLevel(4));
    if (!NT_SUCCESS(status)) {
        ExFreePoolWithTag(Sample, 'pmaS');
        Sample = NULL;
        return status;
    }
    DriverObject->DriverUnload = SampleDriverUnload;
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
VOID SampleDriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    PAGED_CODE();
    KeCancelTimer(&Sample->Timer);
    KeFlushQueuedDpcs(); /* KeCancelTimer alone does not wait for a running DPC */
    TraceLoggingUnregister(SampleTraceProvider);
    ExFreePoolWithTag(Sample, 'pmaS');
    Sample = NULL;
}

static __forceinline ULONG SampleLowBits(_In_ ULONG64 Value)
{
    return (ULONG)(Value & MAXULONG);
}

NTSTATUS SampleExercise(SAMPLE_RESULTS *Results)
{
    LARGE_INTEGER due;
    KIRQL oldIrql;
    ULONG sum = 0;
    SIZE_T bytes = 0;
    IN_ADDR v4;
    IN6_ADDR v6;
    PCSTR terminator;
    SOCKADDR_INET address;
    ADDRESS_FAMILY family = AF_INET6;
    NET_LUID luid;
    NDIS_HANDLE ndis = NULL;

    RtlZeroMemory(Results, sizeof(*Results));
    ASSERT(Sample != NULL);
    NT_ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    SamplePagedRoutine();

    /* Timers and DPCs: a periodic timer whose DPC runs twice. */
    due.QuadPart = -10000; /* 1 ms */
    KeSetTimerEx(&Sample->Timer, due, 1, &Sample->Dpc);
    KeWaitForSingleObject(&Sample->TimerDone, Executive, KernelMode, FALSE, NULL);
    KeCancelTimer(&Sample->Timer);
    KeFlushQueuedDpcs();
    Results->TimerDpcRuns = Sample->DpcRuns;
    Results->DpcIrql = Sample->DpcIrql;

    /* Locks. */
    ExAcquireFastMutex(&Sample->ConfigMutex);
    ExReleaseFastMutex(&Sample->ConfigMutex);
    KeWaitForSingleObject(&Sample->SlowMutex, Executive, KernelMode, FALSE, NULL);
    KeReleaseMutex(&Sample->SlowMutex, FALSE);
    oldIrql = ExAcquireSpinLockExclusive(&Sample->TableLock);
    ExReleaseSpinLockExclusive(&Sample->TableLock, oldIrql);
    oldIrql = KeAcquireSpinLockRaiseToDpc(&Sample->Lock);
    KeReleaseSpinLock(&Sample->Lock, oldIrql);
    oldIrql = KeRaiseIrqlToDpcLevel();
    KeLowerIrql(oldIrql);

    /* Integers. */
    Results->IntsafeOverflowCaught = RtlULongAdd(MAXULONG, 1, &sum) == STATUS_INTEGER_OVERFLOW &&
                                     sum == MAXULONG && NT_SUCCESS(RtlSizeTMult(3, 4, &bytes)) &&
                                     bytes == 12;
    Results->RoundedUp = SampleRoundUp(5, 4) + SampleRoundUpFromOtherUnit(5) +
                         SampleLowBits(UInt32x32To64(0x10000, 0x10000) + (ULONG64)Int32x32To64(-1, 1) + 1);
#if defined(__clang__)
    Results->RoundedUp += (ULONG)(0ui32 + 0i64); /* MSVC integer suffixes */
#endif
    if (RtlFindMostSignificantBit(0x80) != 7 || RtlFindLeastSignificantBit(0x80) != 7 ||
        RtlFindMostSignificantBit(0) != -1) {
        return STATUS_INTERNAL_ERROR;
    }

    /* Addresses. */
    if (!NT_SUCCESS(RtlIpv4StringToAddressA("192.0.2.1", TRUE, &terminator, &v4)) ||
        !NT_SUCCESS(RtlIpv6StringToAddressA("2001:db8::1", &terminator, &v6))) {
        return STATUS_INTERNAL_ERROR;
    }
    RtlIpv4AddressToStringA(&v4, Results->Ipv4Text);
    RtlIpv6AddressToStringA(&v6, Results->Ipv6Text);
    RtlZeroMemory(&address, sizeof(address));
    address.si_family = family;
    address.Ipv6.sin6_addr = v6;
    luid.Value = 0;
    UNREFERENCED_PARAMETER(ndis);
    UNREFERENCED_PARAMETER(luid);

    /* The rest. */
    ExUuidCreate(&Results->Uuid);
    Results->ProcessorCount = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
    Results->MaxBindings = Sample->MaxBindings;
    memcpy(Results->Name, Sample->Name.Buffer, Sample->Name.Length);
    Results->NameLength = Sample->Name.Length / sizeof(WCHAR);
    if (memcmp(Results->Name, Sample->Name.Buffer, Sample->Name.Length) != 0) {
        return STATUS_INTERNAL_ERROR;
    }
    memset(&Sample->Counters.LastError, 0, sizeof(Sample->Counters.LastError));
    Results->Handle = (SAMPLE_BINDING_HANDLE)Sample;
    return STATUS_SUCCESS;
}

VOID SampleFailFast(VOID);
VOID SampleFailFast(VOID)
{
    RtlFailFast(FAST_FAIL_INVALID_ARG);
}
