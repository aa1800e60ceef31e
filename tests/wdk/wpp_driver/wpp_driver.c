/* SPDX-License-Identifier: MIT */
/*
 * wpp_driver.c - a WPP-traced driver unit as the WDK shows one: its trace header, then the
 * `.tmh` the WPP preprocessor would generate (generated here by nmrkit_driver_wpp), then trace
 * calls with WPP's format extensions. Built with the driver dialect and -Werror.
 */
#include <ntddk.h>

#include "trace.h"
#include "wpp_driver.tmh"

ULONG WppFixtureArgumentsEvaluated;

/* Named in trace.h after a FUNC outside the WPP configuration block: an ordinary function. */
static NTSTATUS NotATraceFunction(NTSTATUS status)
{
    return status;
}

NTSTATUS WppFixtureDriverEntry(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath)
{
    WPP_INIT_TRACING(DriverObject, RegistryPath);
    TraceEvents(TRACE_LEVEL_INFORMATION, TRACE_DRIVER, "%!FUNC! loading %wZ", RegistryPath);
    TraceBinding(TRACE_BINDING, "binding %p status %!STATUS!", DriverObject, STATUS_SUCCESS);
    DoTraceMessage(TRACE_DRIVER, "loaded, %d", ++WppFixtureArgumentsEvaluated);
    return NotATraceFunction(STATUS_SUCCESS);
}

VOID WppFixtureDriverUnload(_In_ PDRIVER_OBJECT DriverObject)
{
    TraceEvents(TRACE_LEVEL_ERROR, TRACE_DRIVER, "unloading %d", ++WppFixtureArgumentsEvaluated);
    WPP_CLEANUP(DriverObject);
}
