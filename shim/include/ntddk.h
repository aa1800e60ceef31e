/* SPDX-License-Identifier: MIT */
/*
 * ntddk.h - the WDK's ntddk.h: everything of wdm.h plus the few ntddk-only routines the
 * shim provides. Driver-style code includes this (or wdm.h) exactly as on Windows.
 * Like every WDK-named header of the shim it includes only freestanding headers and
 * its siblings, so it compiles under kshim/banned.h, alone, as C and as C++.
 */
#pragma once

#include <wdm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* [DUPLICATED] PsGetThreadId: the id of Thread (the same value PsGetCurrentThreadId gives
   on that thread). Any IRQL. */
NTKERNELAPI HANDLE PsGetThreadId(_In_ PETHREAD Thread);

/* [CUSTOMISED] PsGetThreadExitStatus: the status passed to PsTerminateSystemThread
   (STATUS_SUCCESS if the routine returned), or STATUS_PENDING while the thread runs.
   Deviation: defined for system threads only; other threads report STATUS_PENDING. */
NTKERNELAPI NTSTATUS PsGetThreadExitStatus(_In_ PETHREAD Thread);

#ifdef __cplusplus
}
#endif
