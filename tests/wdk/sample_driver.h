/* SPDX-License-Identifier: MIT */
/*
 * sample_driver.h - the compile fixture's own header, written as WDK drivers write theirs:
 * non-static inline helpers (MSVC links them once), flag enums, handles, role typedefs, and
 * an ASSERT redefined in terms of NT_ASSERT (as XDP does).
 */
#pragma once

#include <ntddk.h>
#include <ntintsafe.h>
#include <wsk.h>

#undef ASSERT
#define ASSERT(e) NT_ASSERT_ASSUME(e)

typedef enum _SAMPLE_FLAGS {
    SampleFlagNone = 0,
    SampleFlagTimer = 0x1,
    SampleFlagDpc = 0x2,
} SAMPLE_FLAGS;
DEFINE_ENUM_FLAG_OPERATORS(SAMPLE_FLAGS)

DECLARE_HANDLE(SAMPLE_BINDING_HANDLE);

typedef struct DECLSPEC_CACHEALIGN _SAMPLE_COUNTERS {
    volatile LONG64 Packets;
    ULONG LastError;
} SAMPLE_COUNTERS;

/* A non-static inline function of a header, used by two translation units. */
inline ULONG SampleRoundUp(_In_ ULONG Value, _In_ ULONG Alignment)
{
    return (Value + Alignment - 1) & ~(Alignment - 1);
}

/* What the harness (sample_driver_test.c) reads back after each step. */
typedef struct _SAMPLE_RESULTS {
    ULONG MaxBindings;
    WCHAR Name[32];
    ULONG NameLength;
    LONG TimerDpcRuns;
    KIRQL DpcIrql;
    ULONG RoundedUp;
    CHAR Ipv4Text[16];
    CHAR Ipv6Text[46];
    BOOLEAN IntsafeOverflowCaught;
    UUID Uuid;
    ULONG ProcessorCount;
    SAMPLE_BINDING_HANDLE Handle;
} SAMPLE_RESULTS;

DRIVER_INITIALIZE SampleDriverEntry;
DRIVER_UNLOAD SampleDriverUnload;
NTSTATUS SampleExercise(_Out_ SAMPLE_RESULTS *Results);
ULONG SampleRoundUpFromOtherUnit(_In_ ULONG Value);
_IRQL_requires_max_(PASSIVE_LEVEL) VOID SamplePagedRoutine(VOID);
