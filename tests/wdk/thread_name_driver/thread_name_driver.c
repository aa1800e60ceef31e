/* SPDX-License-Identifier: MIT */
/*
 * thread_name_driver.c - a driver whose DriverEntry starts a system thread that prints a few
 * DbgPrint lines, and whose DriverUnload waits for that thread to end, as drivers with a worker
 * thread do. The shim names the thread "system thread from thread_name_driver.c:<line>",
 * longer than the name a driver fuzzer's timeline keeps, so wdk.long_thread_name_replays_alike
 * sees every run of an input name the thread the same way.
 */
#include <ntddk.h>

static PVOID ThreadNameDriverWorker; /* the worker's thread object, referenced */

static KSTART_ROUTINE ThreadNameDriverWork;
static VOID ThreadNameDriverWork(_In_ PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    for (ULONG i = 0; i < 3; i++) {
        DbgPrint("thread_name_driver: worker line %lu\n", i);
    }
    PsTerminateSystemThread(STATUS_SUCCESS);
}

static DRIVER_UNLOAD ThreadNameDriverUnload;
static VOID ThreadNameDriverUnload(_In_ PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    KeWaitForSingleObject(ThreadNameDriverWorker, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(ThreadNameDriverWorker);
    ThreadNameDriverWorker = NULL;
}

DRIVER_INITIALIZE DriverEntry;
NTSTATUS DriverEntry(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    HANDLE thread;
    NTSTATUS status = PsCreateSystemThread(&thread, THREAD_ALL_ACCESS, NULL, NULL, NULL,
                                           ThreadNameDriverWork, NULL);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    status = ObReferenceObjectByHandle(thread, SYNCHRONIZE, *PsThreadType, KernelMode,
                                       &ThreadNameDriverWorker, NULL);
    ZwClose(thread);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    DriverObject->DriverUnload = ThreadNameDriverUnload;
    return STATUS_SUCCESS;
}
