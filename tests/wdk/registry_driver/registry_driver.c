/* SPDX-License-Identifier: MIT */
/*
 * registry_driver.c - a driver whose DriverEntry reads a required value of its registry path
 * with RtlQueryRegistryValues and fails without it, as drivers that read their configuration
 * do. Declared with nmrkit_add_driver(... REGISTRY <fixture>) and without, so the tests see the
 * fixture reach DriverEntry through the driver fuzzer.
 */
#include <ntddk.h>

static ULONG RegistryDriverWindow;

static DRIVER_UNLOAD RegistryDriverUnload;
static VOID RegistryDriverUnload(_In_ PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    DbgPrint("registry_driver: unload, window %lu\n", RegistryDriverWindow);
}

DRIVER_INITIALIZE DriverEntry;
NTSTATUS DriverEntry(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath)
{
    RTL_QUERY_REGISTRY_TABLE table[2];
    RtlZeroMemory(table, sizeof table);
    table[0].Flags = RTL_QUERY_REGISTRY_DIRECT | RTL_QUERY_REGISTRY_REQUIRED | RTL_QUERY_REGISTRY_TYPECHECK;
    table[0].Name = L"Window";
    table[0].EntryContext = &RegistryDriverWindow;
    table[0].DefaultType = (REG_DWORD << RTL_QUERY_REGISTRY_TYPECHECK_SHIFT) | REG_NONE;
    NTSTATUS status = RtlQueryRegistryValues(RTL_REGISTRY_ABSOLUTE, RegistryPath->Buffer, table, NULL, NULL);
    DbgPrint("registry_driver: Window query 0x%08lx, window %lu\n", (ULONG)status, RegistryDriverWindow);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    DriverObject->DriverUnload = RegistryDriverUnload;
    return STATUS_SUCCESS;
}
