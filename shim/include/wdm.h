/* SPDX-License-Identifier: MIT */
/*
 * wdm.h - the kernel routines of the WDK's wdm.h that nmrkit's driver-style code uses,
 * implemented in user mode by the shim (library kshim, sources in shim/).
 *
 * What this is: declarations with the WDK's names, types and calling shapes, plus inline
 * helpers (lists, Interlocked*, Rtl*Memory) written with compiler builtins only, so this
 * header compiles under kshim/banned.h, on its own, as C and as C++.
 * What this is not: the control API for harnesses (kshim/kshim.h), nor a complete WDK.
 *
 * Every symbol says [DUPLICATED] (same contract as Windows), [STUBBED] (no-op) or
 * [CUSTOMISED] (behaves differently, and how), gives the Windows contract in one sentence,
 * and has a "Deviation:" line where the model differs from the WDK documentation.
 * Every contract violation the shim can see is a stop: one line
 *     *** KSHIM STOP <NAME>: <routine>: <what, naming the object>
 * on stderr, then abort().
 *
 * Model, in short: each OS thread is a kernel thread with its own IRQL (starting at
 * PASSIVE_LEVEL; raising IRQL only changes that number), critical-region depth and list of
 * held spin locks and push locks. There is one processor: KeGetCurrentProcessorNumber is 0.
 * Work items and system threads run on real threads.
 *
 * Allocation-site macros: ExAllocatePool2, ExAllocatePoolWithTag, ExAllocatePoolZero,
 * ExAllocatePool, ExFreePoolWithTag, ExFreePool, IoAllocateWorkItem, IoCreateDevice and
 * PsCreateSystemThread are macros that pass "<file>:<line>" of the caller to the shim, so
 * pool audits and fault plans can name the calling line. The real functions stay callable
 * ("(ExAllocatePool2)(...)" or through a function pointer), with the site "unknown:0".
 */
#pragma once

#include <stdarg.h>

#include <ntdef.h>
#include <ntstatus.h>

#ifdef __cplusplus
#include <string.h> /* memcpy and friends, declared by the WDK headers */
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define KSHIM_STRINGIFY_(x) #x
#define KSHIM_STRINGIFY(x) KSHIM_STRINGIFY_(x)
/* The calling line as a string literal; the shim reports it as "<basename>:<line>". */
#define KSHIM_SITE (__FILE__ ":" KSHIM_STRINGIFY(__LINE__))

/* =========================================================================================
 * Stops raised from inline code of this header
 * ========================================================================================= */

/* [CUSTOMISED] Internal: stops ASSERTION_FAILED naming the expression and file:line. */
DECLSPEC_NORETURN void kshim_assertion_failed(const char *expression, const char *message,
                                              const char *file, int line);
/* [CUSTOMISED] Internal: the same stop, typed BOOLEAN so NT_VERIFY can be an expression. */
DECLSPEC_NORETURN BOOLEAN kshim_verify_failed(const char *expression, const char *message,
                                              const char *file, int line);
/* [CUSTOMISED] Internal: stops LIST_ENTRY_CORRUPTED (Windows: FastFail, bugcheck 0x139). */
DECLSPEC_NORETURN void kshim_list_entry_corrupted(const char *routine, const void *entry,
                                                  const void *neighbour);
/* [CUSTOMISED] Internal: PAGED_CODE() check; stops IRQL_TOO_HIGH above APC_LEVEL. */
void kshim_paged_code_check(const char *function, const char *file, int line);

/* =========================================================================================
 * IRQL
 * ========================================================================================= */

/* [DUPLICATED] IRQL values of x64 Windows. */
#define PASSIVE_LEVEL 0
#define LOW_LEVEL 0
#define APC_LEVEL 1
#define DISPATCH_LEVEL 2
#define CMCI_LEVEL 5
#define CLOCK_LEVEL 13
#define IPI_LEVEL 14
#define DRS_LEVEL 14
#define POWER_LEVEL 14
#define PROFILE_LEVEL 15
#define HIGH_LEVEL 15
#define SYNCH_LEVEL 12

/* [CUSTOMISED] KeGetCurrentIrql: the calling thread's IRQL. Any IRQL.
   Deviation: IRQL is a per-thread number; raising it does not mask preemption or
   interrupts (other threads keep running), it only enables the shim's IRQL checks. */
NTKERNELAPI KIRQL KeGetCurrentIrql(VOID);

/* [DUPLICATED] KfRaiseIrql / KeRaiseIrql(NewIrql, &OldIrql): raise to NewIrql (must be >= the
   current IRQL, else stop IRQL_RAISE_DOWNWARD; above HIGH_LEVEL: stop IRQL_INVALID). */
NTKERNELAPI KIRQL KfRaiseIrql(_In_ KIRQL NewIrql);
#define KeRaiseIrql(NewIrql, OldIrql) (*(OldIrql) = KfRaiseIrql(NewIrql))

/* [DUPLICATED] KeLowerIrql: lower to NewIrql (must be <= the current IRQL, else stop
   IRQL_LOWER_UPWARD). */
NTKERNELAPI VOID KeLowerIrql(_In_ KIRQL NewIrql);

/* [DUPLICATED] KeRaiseIrqlToDpcLevel: raise to DISPATCH_LEVEL, return the old IRQL; called
   above DISPATCH_LEVEL: stop IRQL_RAISE_DOWNWARD. */
NTKERNELAPI KIRQL KeRaiseIrqlToDpcLevel(VOID);

/* [DUPLICATED] KeRaiseIrqlToSynchLevel: raise to SYNCH_LEVEL, return the old IRQL. */
NTKERNELAPI KIRQL KeRaiseIrqlToSynchLevel(VOID);

/* [DUPLICATED] KeAreApcsDisabled / KeAreAllApcsDisabled: TRUE inside a critical region or at
   APC_LEVEL and above (resp. at APC_LEVEL and above). */
NTKERNELAPI BOOLEAN KeAreApcsDisabled(VOID);
NTKERNELAPI BOOLEAN KeAreAllApcsDisabled(VOID);

/* [CUSTOMISED] PAGED_CODE(): stop IRQL_TOO_HIGH if IRQL > APC_LEVEL (always checked, not only
   in checked builds). Deviation: active in every build. PAGED_CODE_LOCKED: [STUBBED]. */
#define PAGED_CODE() kshim_paged_code_check(__func__, __FILE__, __LINE__)
#define PAGED_CODE_LOCKED() ((void)0)
#define NON_PAGED_CODE() ((void)0)

/* =========================================================================================
 * Debug output, assertions, bug checks
 * ========================================================================================= */

/* [DUPLICATED] Component ids (DPFLTR_TYPE) and levels, WDK values. */
#define DPFLTR_SYSTEM_ID 0
#define DPFLTR_DEFAULT_ID 101
#define DPFLTR_IHVDRIVER_ID 77
#define DPFLTR_IHVVIDEO_ID 78
#define DPFLTR_IHVAUDIO_ID 79
#define DPFLTR_IHVNETWORK_ID 80
#define DPFLTR_IHVSTREAMING_ID 81
#define DPFLTR_IHVBUS_ID 82
#define DPFLTR_ERROR_LEVEL 0
#define DPFLTR_WARNING_LEVEL 1
#define DPFLTR_TRACE_LEVEL 2
#define DPFLTR_INFO_LEVEL 3
#define DPFLTR_MASK 0x80000000

/*
 * [CUSTOMISED] DbgPrint / DbgPrintEx / vDbgPrintEx / vDbgPrintExWithPrefix: format with the
 * Windows (LLP64) rules and write the text to stderr with one write() (or hand it to the
 * harness's sink, kshim_dbg_print_set_sink). Any IRQL (%wZ and
 * %ws only at PASSIVE_LEVEL on Windows). Returns STATUS_SUCCESS.
 * Formats: %d %i %u %x %X %o %c %s %p %%, flags/width/precision (also *), "l" = 32-bit
 * (as on Windows), "ll"/"I64" = 64-bit, "I"/"z" = pointer-sized, "h"/"hh", %wZ (PUNICODE_STRING),
 * %Z (PANSI_STRING), %ws/%S/%ls (PWSTR), %C/%wc (WCHAR).
 * Deviation: nothing is filtered (every component and level is printed); no 512-byte limit;
 * non-ASCII WCHARs print as '?'; %wZ/%ws are accepted at any IRQL.
 */
NTSYSAPI ULONG DbgPrint(_In_z_ _Printf_format_string_ PCSTR Format, ...);
NTSYSAPI ULONG DbgPrintEx(_In_ ULONG ComponentId, _In_ ULONG Level,
                          _In_z_ _Printf_format_string_ PCSTR Format, ...);
NTSYSAPI ULONG vDbgPrintEx(_In_ ULONG ComponentId, _In_ ULONG Level, _In_z_ PCCH Format,
                           _In_ va_list arglist);
NTSYSAPI ULONG vDbgPrintExWithPrefix(_In_z_ PCCH Prefix, _In_ ULONG ComponentId, _In_ ULONG Level,
                                     _In_z_ PCCH Format, _In_ va_list arglist);
/* [DUPLICATED] DbgPrompt is not provided. KdPrint((...)) / KdPrintEx((...)): DbgPrint[Ex]. */
#define KdPrint(_x_) DbgPrint _x_
#define KdPrintEx(_x_) DbgPrintEx _x_
#define vKdPrintEx(_x_) vDbgPrintEx _x_
#define KdBreakPoint() DbgBreakPoint()
/* [DUPLICATED] KD_DEBUGGER_NOT_PRESENT-style queries: no debugger is ever present. */
#define KdRefreshDebuggerNotPresent() TRUE

/* [CUSTOMISED] DbgBreakPoint / DbgBreakPointWithStatus: stop BREAKPOINT.
   Deviation: there is no debugger to break into; the breakpoint ends the process. */
NTSYSAPI DECLSPEC_NORETURN VOID DbgBreakPoint(VOID);
NTSYSAPI DECLSPEC_NORETURN VOID DbgBreakPointWithStatus(_In_ ULONG Status);

/*
 * [CUSTOMISED] ASSERT / ASSERTMSG / NT_ASSERT / NT_ASSERTMSG / NT_VERIFY / NT_VERIFYMSG /
 * NT_ASSERT_ACTION: a false expression stops ASSERTION_FAILED naming the expression (and
 * message) and file:line. Deviation: always on (as a checked build), never continuable;
 * NT_VERIFY evaluates its expression exactly once and yields its truth value.
 * As in the WDK, the NT_ASSERT* and NT_VERIFY* macros are BOOLEAN expressions that do not go
 * through ASSERT, so a driver may redefine ASSERT in terms of them.
 */
#define ASSERT(exp)                                                                         \
    ((void)((exp) ? 0 : (kshim_assertion_failed(#exp, NULL, __FILE__, __LINE__), 0)))
#define ASSERTMSG(msg, exp)                                                                 \
    ((void)((exp) ? 0 : (kshim_assertion_failed(#exp, (msg), __FILE__, __LINE__), 0)))
#define RTL_SOFT_ASSERT(exp) ASSERT(exp)
#define RTL_SOFT_ASSERTMSG(msg, exp) ASSERTMSG(msg, exp)
#define NT_ASSERT(exp) NT_VERIFY(exp)
#define NT_ASSERTMSG(msg, exp) NT_VERIFYMSG(msg, exp)
#define NT_ASSERTMSGW(msg, exp) NT_VERIFY(exp)
#define NT_ASSERT_ACTION(exp) NT_VERIFY(exp)
#define NT_ASSERTMSG_ACTION(msg, exp) NT_VERIFYMSG(msg, exp)
#define NT_ASSERT_ASSUME(exp) NT_VERIFY(exp)
#define NT_ASSERTMSG_ASSUME(msg, exp) NT_VERIFYMSG(msg, exp)
#define NT_ASSERT_NOASSUME(exp) NT_VERIFY(exp)
#define NT_FRE_ASSERT(exp) NT_VERIFY(exp)
#define NT_FRE_ASSERTMSG(msg, exp) NT_VERIFYMSG(msg, exp)
/* NT_VERIFY yields TRUE (or stops); usable as a statement or in an expression. */
/* (An inline function, so that a statement NT_ASSERT(constant) draws no unused-value warning.) */
KSHIM_INLINE BOOLEAN kshim_verify(BOOLEAN value, const char *expression, const char *message,
                                  const char *file, int line)
{
    return value ? TRUE : kshim_verify_failed(expression, message, file, line);
}
#define NT_VERIFY(exp) kshim_verify((exp) ? TRUE : FALSE, #exp, NULL, __FILE__, __LINE__)
#define NT_VERIFYMSG(msg, exp) kshim_verify((exp) ? TRUE : FALSE, #exp, (msg), __FILE__, __LINE__)
#define NT_VERIFYMSGW(msg, exp) NT_VERIFY(exp)
#define NT_ANALYSIS_ASSUME(exp) ((void)0)

/* [DUPLICATED] Bug check codes for KeBugCheckEx, WDK values. */
#define IRQL_NOT_LESS_OR_EQUAL 0x0000000AUL
#define IRQL_NOT_GREATER_OR_EQUAL 0x00000009UL
#define APC_INDEX_MISMATCH 0x00000001UL
#define SPIN_LOCK_ALREADY_OWNED 0x0000000FUL
#define SPIN_LOCK_NOT_OWNED 0x00000010UL
#define THREAD_NOT_MUTEX_OWNER 0x00000011UL
#define INVALID_KERNEL_HANDLE 0x00000093UL
#define BAD_POOL_CALLER 0x000000C2UL
#define DRIVER_VERIFIER_DETECTED_VIOLATION 0x000000C4UL
#define DRIVER_IRQL_NOT_LESS_OR_EQUAL 0x000000D1UL
#define MANUALLY_INITIATED_CRASH 0x000000E2UL
#define NMR_INVALID_STATE 0x00000125UL
#define KERNEL_SECURITY_CHECK_FAILURE 0x00000139UL
#define DRIVER_VERIFIER_IOMANAGER_VIOLATION 0x000000C9UL

/*
 * [CUSTOMISED] KeBugCheckEx / KeBugCheck: print
 *     *** KSHIM STOP BUGCHECK: KeBugCheckEx(0x<code>, 0x<p1>, 0x<p2>, 0x<p3>, 0x<p4>)
 * and abort. Any IRQL; never returns. Deviation: no crash dump; the process ends (unless a
 * harness armed a stop trap, kshim.h: then the call ends with a longjmp to the harness).
 */
NTKERNELAPI DECLSPEC_NORETURN VOID KeBugCheckEx(_In_ ULONG BugCheckCode,
                                                _In_ ULONG_PTR BugCheckParameter1,
                                                _In_ ULONG_PTR BugCheckParameter2,
                                                _In_ ULONG_PTR BugCheckParameter3,
                                                _In_ ULONG_PTR BugCheckParameter4);
NTKERNELAPI DECLSPEC_NORETURN VOID KeBugCheck(_In_ ULONG BugCheckCode);

/* =========================================================================================
 * Rtl memory and strings
 * ========================================================================================= */

/* [DUPLICATED] RtlCopyMemory (no overlap), RtlMoveMemory (overlap allowed), RtlZeroMemory,
   RtlFillMemory, RtlEqualMemory (nonzero iff equal), RtlSecureZeroMemory. Any IRQL for
   nonpaged memory. Implemented with compiler builtins. */
#define RtlCopyMemory(Destination, Source, Length)                                          \
    ((void)__builtin_memcpy((Destination), (Source), (Length)))
#define RtlMoveMemory(Destination, Source, Length)                                          \
    ((void)__builtin_memmove((Destination), (Source), (Length)))
#define RtlFillMemory(Destination, Length, Fill)                                            \
    ((void)__builtin_memset((Destination), (int)(Fill), (Length)))
#define RtlZeroMemory(Destination, Length) ((void)__builtin_memset((Destination), 0, (Length)))
#define RtlEqualMemory(Source1, Source2, Length)                                            \
    (__builtin_memcmp((Source1), (Source2), (Length)) == 0)
#define RtlCopyBytes RtlCopyMemory
#define RtlZeroBytes RtlZeroMemory
#define RtlFillBytes RtlFillMemory

KSHIM_INLINE PVOID RtlSecureZeroMemory(_Out_writes_bytes_all_(cnt) PVOID ptr, _In_ SIZE_T cnt)
{
    volatile char *vptr = (volatile char *)ptr;
    while (cnt) {
        *vptr = 0;
        vptr++;
        cnt--;
    }
    return ptr;
}

/* [DUPLICATED] RtlCompareMemory: the number of leading bytes that are equal. */
KSHIM_INLINE SIZE_T RtlCompareMemory(_In_ const VOID *Source1, _In_ const VOID *Source2,
                                     _In_ SIZE_T Length)
{
    const UCHAR *a = (const UCHAR *)Source1;
    const UCHAR *b = (const UCHAR *)Source2;
    SIZE_T i = 0;
    while (i < Length && a[i] == b[i]) {
        i++;
    }
    return i;
}

/* [DUPLICATED] RtlInitUnicodeString / RtlInitAnsiString / RtlInitString: point the counted
   string at a NUL-terminated source (NULL gives an empty string). IRQL <= DISPATCH_LEVEL. */
NTSYSAPI VOID RtlInitUnicodeString(_Out_ PUNICODE_STRING DestinationString,
                                   _In_opt_z_ PCWSTR SourceString);
NTSYSAPI VOID RtlInitAnsiString(_Out_ PANSI_STRING DestinationString, _In_opt_z_ PCSTR SourceString);
NTSYSAPI VOID RtlInitString(_Out_ PSTRING DestinationString, _In_opt_z_ PCSTR SourceString);
/* [CUSTOMISED] RtlEqualUnicodeString: TRUE iff equal. Deviation: case folding is ASCII only. */
NTSYSAPI BOOLEAN RtlEqualUnicodeString(_In_ PCUNICODE_STRING String1, _In_ PCUNICODE_STRING String2,
                                       _In_ BOOLEAN CaseInSensitive);
/* [DUPLICATED] RtlCopyUnicodeString: copy as much as fits in the destination. */
NTSYSAPI VOID RtlCopyUnicodeString(_Inout_ PUNICODE_STRING DestinationString,
                                   _In_opt_ PCUNICODE_STRING SourceString);

/* =========================================================================================
 * Lists [DUPLICATED] (with the WDK's FastFail integrity checks, as without
 * NO_KERNEL_LIST_ENTRY_CHECKS: a broken neighbour link stops LIST_ENTRY_CORRUPTED).
 * ========================================================================================= */

KSHIM_INLINE VOID InitializeListHead(_Out_ PLIST_ENTRY ListHead)
{
    ListHead->Flink = ListHead->Blink = ListHead;
}

KSHIM_INLINE BOOLEAN IsListEmpty(_In_ const LIST_ENTRY *ListHead)
{
    return (BOOLEAN)(ListHead->Flink == ListHead);
}

/* Returns TRUE if the list is empty after the removal. */
KSHIM_INLINE BOOLEAN RemoveEntryList(_In_ PLIST_ENTRY Entry)
{
    PLIST_ENTRY PrevEntry;
    PLIST_ENTRY NextEntry;

    NextEntry = Entry->Flink;
    PrevEntry = Entry->Blink;
    if (NextEntry->Blink != Entry || PrevEntry->Flink != Entry) {
        kshim_list_entry_corrupted("RemoveEntryList", Entry,
                                   NextEntry->Blink != Entry ? (const void *)NextEntry
                                                             : (const void *)PrevEntry);
    }
    PrevEntry->Flink = NextEntry;
    NextEntry->Blink = PrevEntry;
    return (BOOLEAN)(PrevEntry == NextEntry);
}

KSHIM_INLINE PLIST_ENTRY RemoveHeadList(_Inout_ PLIST_ENTRY ListHead)
{
    PLIST_ENTRY Entry = ListHead->Flink;
    PLIST_ENTRY NextEntry = Entry->Flink;
    if (Entry->Blink != ListHead || NextEntry->Blink != Entry) {
        kshim_list_entry_corrupted("RemoveHeadList", ListHead, Entry);
    }
    ListHead->Flink = NextEntry;
    NextEntry->Blink = ListHead;
    return Entry;
}

KSHIM_INLINE PLIST_ENTRY RemoveTailList(_Inout_ PLIST_ENTRY ListHead)
{
    PLIST_ENTRY Entry = ListHead->Blink;
    PLIST_ENTRY PrevEntry = Entry->Blink;
    if (Entry->Flink != ListHead || PrevEntry->Flink != Entry) {
        kshim_list_entry_corrupted("RemoveTailList", ListHead, Entry);
    }
    ListHead->Blink = PrevEntry;
    PrevEntry->Flink = ListHead;
    return Entry;
}

KSHIM_INLINE VOID InsertTailList(_Inout_ PLIST_ENTRY ListHead, _Out_ PLIST_ENTRY Entry)
{
    PLIST_ENTRY PrevEntry = ListHead->Blink;
    if (PrevEntry->Flink != ListHead) {
        kshim_list_entry_corrupted("InsertTailList", ListHead, PrevEntry);
    }
    Entry->Flink = ListHead;
    Entry->Blink = PrevEntry;
    PrevEntry->Flink = Entry;
    ListHead->Blink = Entry;
}

KSHIM_INLINE VOID InsertHeadList(_Inout_ PLIST_ENTRY ListHead, _Out_ PLIST_ENTRY Entry)
{
    PLIST_ENTRY NextEntry = ListHead->Flink;
    if (NextEntry->Blink != ListHead) {
        kshim_list_entry_corrupted("InsertHeadList", ListHead, NextEntry);
    }
    Entry->Flink = NextEntry;
    Entry->Blink = ListHead;
    NextEntry->Blink = Entry;
    ListHead->Flink = Entry;
}

/* Appends the list whose first entry is ListToAppend (a list without a separate head). */
KSHIM_INLINE VOID AppendTailList(_Inout_ PLIST_ENTRY ListHead, _Inout_ PLIST_ENTRY ListToAppend)
{
    PLIST_ENTRY ListEnd = ListHead->Blink;
    ListHead->Blink->Flink = ListToAppend;
    ListHead->Blink = ListToAppend->Blink;
    ListToAppend->Blink->Flink = ListHead;
    ListToAppend->Blink = ListEnd;
}

KSHIM_INLINE PSINGLE_LIST_ENTRY PopEntryList(_Inout_ PSINGLE_LIST_ENTRY ListHead)
{
    PSINGLE_LIST_ENTRY FirstEntry = ListHead->Next;
    if (FirstEntry != NULL) {
        ListHead->Next = FirstEntry->Next;
    }
    return FirstEntry;
}

KSHIM_INLINE VOID PushEntryList(_Inout_ PSINGLE_LIST_ENTRY ListHead, _Inout_ PSINGLE_LIST_ENTRY Entry)
{
    Entry->Next = ListHead->Next;
    ListHead->Next = Entry;
}

/* =========================================================================================
 * Interlocked operations [DUPLICATED]: full barriers (sequentially consistent __atomic
 * builtins, which ThreadSanitizer understands). Names and return values as in the WDK:
 * Increment/Decrement/Add return the new value; ExchangeAdd/Exchange/CompareExchange/Or/
 * And/Xor return the initial value. Any IRQL.
 * ========================================================================================= */

#define KSHIM_SC __ATOMIC_SEQ_CST

KSHIM_INLINE LONG InterlockedIncrement(_Inout_ _Interlocked_operand_ LONG volatile *Addend)
{
    return __atomic_add_fetch(Addend, 1, KSHIM_SC);
}
KSHIM_INLINE LONG InterlockedDecrement(_Inout_ _Interlocked_operand_ LONG volatile *Addend)
{
    return __atomic_sub_fetch(Addend, 1, KSHIM_SC);
}
KSHIM_INLINE LONG InterlockedAdd(_Inout_ _Interlocked_operand_ LONG volatile *Addend, _In_ LONG Value)
{
    return __atomic_add_fetch(Addend, Value, KSHIM_SC);
}
KSHIM_INLINE LONG InterlockedExchangeAdd(_Inout_ _Interlocked_operand_ LONG volatile *Addend,
                                         _In_ LONG Value)
{
    return __atomic_fetch_add(Addend, Value, KSHIM_SC);
}
KSHIM_INLINE LONG InterlockedExchange(_Inout_ _Interlocked_operand_ LONG volatile *Target,
                                      _In_ LONG Value)
{
    return __atomic_exchange_n(Target, Value, KSHIM_SC);
}
KSHIM_INLINE LONG InterlockedCompareExchange(_Inout_ _Interlocked_operand_ LONG volatile *Destination,
                                             _In_ LONG ExChange, _In_ LONG Comperand)
{
    LONG expected = Comperand;
    __atomic_compare_exchange_n(Destination, &expected, ExChange, 0, KSHIM_SC, KSHIM_SC);
    return expected;
}
KSHIM_INLINE LONG InterlockedOr(_Inout_ _Interlocked_operand_ LONG volatile *Destination, _In_ LONG Value)
{
    return __atomic_fetch_or(Destination, Value, KSHIM_SC);
}
KSHIM_INLINE LONG InterlockedAnd(_Inout_ _Interlocked_operand_ LONG volatile *Destination, _In_ LONG Value)
{
    return __atomic_fetch_and(Destination, Value, KSHIM_SC);
}
KSHIM_INLINE LONG InterlockedXor(_Inout_ _Interlocked_operand_ LONG volatile *Destination, _In_ LONG Value)
{
    return __atomic_fetch_xor(Destination, Value, KSHIM_SC);
}
KSHIM_INLINE LONG64 InterlockedIncrement64(_Inout_ _Interlocked_operand_ LONG64 volatile *Addend)
{
    return __atomic_add_fetch(Addend, 1, KSHIM_SC);
}
KSHIM_INLINE LONG64 InterlockedDecrement64(_Inout_ _Interlocked_operand_ LONG64 volatile *Addend)
{
    return __atomic_sub_fetch(Addend, 1, KSHIM_SC);
}
KSHIM_INLINE LONG64 InterlockedAdd64(_Inout_ _Interlocked_operand_ LONG64 volatile *Addend,
                                     _In_ LONG64 Value)
{
    return __atomic_add_fetch(Addend, Value, KSHIM_SC);
}
KSHIM_INLINE LONG64 InterlockedExchangeAdd64(_Inout_ _Interlocked_operand_ LONG64 volatile *Addend,
                                             _In_ LONG64 Value)
{
    return __atomic_fetch_add(Addend, Value, KSHIM_SC);
}
KSHIM_INLINE LONG64 InterlockedExchange64(_Inout_ _Interlocked_operand_ LONG64 volatile *Target,
                                          _In_ LONG64 Value)
{
    return __atomic_exchange_n(Target, Value, KSHIM_SC);
}
KSHIM_INLINE LONG64 InterlockedCompareExchange64(
    _Inout_ _Interlocked_operand_ LONG64 volatile *Destination, _In_ LONG64 ExChange,
    _In_ LONG64 Comperand)
{
    LONG64 expected = Comperand;
    __atomic_compare_exchange_n(Destination, &expected, ExChange, 0, KSHIM_SC, KSHIM_SC);
    return expected;
}
KSHIM_INLINE LONG64 InterlockedOr64(_Inout_ _Interlocked_operand_ LONG64 volatile *Destination,
                                    _In_ LONG64 Value)
{
    return __atomic_fetch_or(Destination, Value, KSHIM_SC);
}
KSHIM_INLINE LONG64 InterlockedAnd64(_Inout_ _Interlocked_operand_ LONG64 volatile *Destination,
                                     _In_ LONG64 Value)
{
    return __atomic_fetch_and(Destination, Value, KSHIM_SC);
}
KSHIM_INLINE LONG64 InterlockedXor64(_Inout_ _Interlocked_operand_ LONG64 volatile *Destination,
                                     _In_ LONG64 Value)
{
    return __atomic_fetch_xor(Destination, Value, KSHIM_SC);
}
KSHIM_INLINE PVOID InterlockedExchangePointer(_Inout_ _Interlocked_operand_ PVOID volatile *Target,
                                              _In_opt_ PVOID Value)
{
    return __atomic_exchange_n(Target, Value, KSHIM_SC);
}
KSHIM_INLINE PVOID InterlockedCompareExchangePointer(
    _Inout_ _Interlocked_operand_ PVOID volatile *Destination, _In_opt_ PVOID ExChange,
    _In_opt_ PVOID Comperand)
{
    PVOID expected = Comperand;
    __atomic_compare_exchange_n(Destination, &expected, ExChange, 0, KSHIM_SC, KSHIM_SC);
    return expected;
}
KSHIM_INLINE SIZE_T InterlockedIncrementSizeT(_Inout_ SIZE_T volatile *Addend)
{
    return __atomic_add_fetch(Addend, 1, KSHIM_SC);
}
KSHIM_INLINE SIZE_T InterlockedDecrementSizeT(_Inout_ SIZE_T volatile *Addend)
{
    return __atomic_sub_fetch(Addend, 1, KSHIM_SC);
}
KSHIM_INLINE SIZE_T InterlockedExchangeAddSizeT(_Inout_ SIZE_T volatile *Addend, _In_ SIZE_T Value)
{
    return __atomic_fetch_add(Addend, Value, KSHIM_SC);
}
KSHIM_INLINE char InterlockedOr8(_Inout_ char volatile *Destination, _In_ char Value)
{
    return __atomic_fetch_or(Destination, Value, KSHIM_SC);
}
KSHIM_INLINE char InterlockedAnd8(_Inout_ char volatile *Destination, _In_ char Value)
{
    return __atomic_fetch_and(Destination, Value, KSHIM_SC);
}
KSHIM_INLINE char InterlockedExchange8(_Inout_ char volatile *Target, _In_ char Value)
{
    return __atomic_exchange_n(Target, Value, KSHIM_SC);
}
KSHIM_INLINE SHORT InterlockedIncrement16(_Inout_ SHORT volatile *Addend)
{
    return __atomic_add_fetch(Addend, 1, KSHIM_SC);
}
KSHIM_INLINE SHORT InterlockedDecrement16(_Inout_ SHORT volatile *Addend)
{
    return __atomic_sub_fetch(Addend, 1, KSHIM_SC);
}
KSHIM_INLINE SHORT InterlockedCompareExchange16(_Inout_ SHORT volatile *Destination,
                                                _In_ SHORT ExChange, _In_ SHORT Comperand)
{
    SHORT expected = Comperand;
    __atomic_compare_exchange_n(Destination, &expected, ExChange, 0, KSHIM_SC, KSHIM_SC);
    return expected;
}
#define InterlockedIncrementAcquire InterlockedIncrement
#define InterlockedIncrementRelease InterlockedIncrement
#define InterlockedIncrementNoFence InterlockedIncrement
#define InterlockedDecrementAcquire InterlockedDecrement
#define InterlockedDecrementRelease InterlockedDecrement
#define InterlockedDecrementNoFence InterlockedDecrement
#define InterlockedCompareExchangeAcquire InterlockedCompareExchange
#define InterlockedCompareExchangeRelease InterlockedCompareExchange
#define InterlockedCompareExchangeNoFence InterlockedCompareExchange
#define InterlockedExchangeAcquire InterlockedExchange
#define InterlockedExchangeNoFence InterlockedExchange
#define InterlockedOrNoFence InterlockedOr
#define InterlockedAndNoFence InterlockedAnd
#define InterlockedCompareExchangePointerAcquire InterlockedCompareExchangePointer
#define InterlockedCompareExchangePointerRelease InterlockedCompareExchangePointer
#define InterlockedCompareExchangePointerNoFence InterlockedCompareExchangePointer
#define InterlockedExchangePointerAcquire InterlockedExchangePointer
#define InterlockedExchangePointerNoFence InterlockedExchangePointer

/* [DUPLICATED] ReadNoFence/ReadAcquire/WriteNoFence/WriteRelease and friends: atomic loads
   and stores (relaxed, acquire, release), so ThreadSanitizer sees them as synchronisation. */
KSHIM_INLINE LONG ReadNoFence(_In_ LONG const volatile *Source)
{
    return __atomic_load_n(Source, __ATOMIC_RELAXED);
}
KSHIM_INLINE LONG ReadAcquire(_In_ LONG const volatile *Source)
{
    return __atomic_load_n(Source, __ATOMIC_ACQUIRE);
}
KSHIM_INLINE VOID WriteNoFence(_Out_ LONG volatile *Destination, _In_ LONG Value)
{
    __atomic_store_n(Destination, Value, __ATOMIC_RELAXED);
}
KSHIM_INLINE VOID WriteRelease(_Out_ LONG volatile *Destination, _In_ LONG Value)
{
    __atomic_store_n(Destination, Value, __ATOMIC_RELEASE);
}
KSHIM_INLINE LONG64 ReadNoFence64(_In_ LONG64 const volatile *Source)
{
    return __atomic_load_n(Source, __ATOMIC_RELAXED);
}
KSHIM_INLINE LONG64 ReadAcquire64(_In_ LONG64 const volatile *Source)
{
    return __atomic_load_n(Source, __ATOMIC_ACQUIRE);
}
KSHIM_INLINE VOID WriteNoFence64(_Out_ LONG64 volatile *Destination, _In_ LONG64 Value)
{
    __atomic_store_n(Destination, Value, __ATOMIC_RELAXED);
}
KSHIM_INLINE VOID WriteRelease64(_Out_ LONG64 volatile *Destination, _In_ LONG64 Value)
{
    __atomic_store_n(Destination, Value, __ATOMIC_RELEASE);
}
KSHIM_INLINE PVOID ReadPointerNoFence(_In_ PVOID const volatile *Source)
{
    return __atomic_load_n(Source, __ATOMIC_RELAXED);
}
KSHIM_INLINE PVOID ReadPointerAcquire(_In_ PVOID const volatile *Source)
{
    return __atomic_load_n(Source, __ATOMIC_ACQUIRE);
}
KSHIM_INLINE VOID WritePointerNoFence(_Out_ PVOID volatile *Destination, _In_opt_ PVOID Value)
{
    __atomic_store_n(Destination, Value, __ATOMIC_RELAXED);
}
KSHIM_INLINE VOID WritePointerRelease(_Out_ PVOID volatile *Destination, _In_opt_ PVOID Value)
{
    __atomic_store_n(Destination, Value, __ATOMIC_RELEASE);
}
KSHIM_INLINE BOOLEAN ReadBooleanNoFence(_In_ BOOLEAN const volatile *Source)
{
    return __atomic_load_n(Source, __ATOMIC_RELAXED);
}
KSHIM_INLINE VOID WriteBooleanNoFence(_Out_ BOOLEAN volatile *Destination, _In_ BOOLEAN Value)
{
    __atomic_store_n(Destination, Value, __ATOMIC_RELAXED);
}
#define ReadULongNoFence(p) ((ULONG)ReadNoFence((LONG const volatile *)(p)))
#define ReadULongAcquire(p) ((ULONG)ReadAcquire((LONG const volatile *)(p)))
#define WriteULongNoFence(p, v) WriteNoFence((LONG volatile *)(p), (LONG)(v))
#define WriteULongRelease(p, v) WriteRelease((LONG volatile *)(p), (LONG)(v))

/* [DUPLICATED] KeMemoryBarrier / MemoryBarrier: full fence. YieldProcessor: a pause. */
#define KeMemoryBarrier() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define KeMemoryBarrierWithoutFence() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#define MemoryBarrier() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define _ReadWriteBarrier() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#define YieldProcessor() ((void)0)

/* =========================================================================================
 * Spin locks
 * ========================================================================================= */

/* [CUSTOMISED] KSPIN_LOCK: pointer-sized as in the WDK; holds 0 when free and the owning
   thread's KTHREAD address when held (Interlocked). Deviation: waiting for a held lock
   yields the processor instead of spinning with interrupts masked. */
typedef ULONG_PTR KSPIN_LOCK, *PKSPIN_LOCK;

/* [DUPLICATED] KeInitializeSpinLock: set to the free state. Any IRQL. */
NTKERNELAPI VOID KeInitializeSpinLock(_Out_ PKSPIN_LOCK SpinLock);

/* [DUPLICATED] KeTestSpinLock: TRUE if the lock is free right now. */
NTKERNELAPI BOOLEAN KeTestSpinLock(_In_ PKSPIN_LOCK SpinLock);

/*
 * [DUPLICATED] KeAcquireSpinLock(SpinLock, &OldIrql): IRQL <= DISPATCH_LEVEL (else stop
 * SPIN_LOCK_WRONG_IRQL); raises to DISPATCH_LEVEL and stores the previous IRQL.
 * Stops SPIN_LOCK_DOUBLE_ACQUIRE if the calling thread already holds the lock (Windows
 * deadlocks). KeAcquireSpinLockRaiseToDpc is the same routine.
 */
NTKERNELAPI KIRQL KeAcquireSpinLockRaiseToDpc(_Inout_ PKSPIN_LOCK SpinLock);
#define KeAcquireSpinLock(SpinLock, OldIrql) (*(OldIrql) = KeAcquireSpinLockRaiseToDpc(SpinLock))

/* [DUPLICATED] KeReleaseSpinLock: IRQL == DISPATCH_LEVEL (else stop SPIN_LOCK_WRONG_IRQL);
   the calling thread must hold the lock (else stop SPIN_LOCK_NOT_HELD); lowers to NewIrql. */
NTKERNELAPI VOID KeReleaseSpinLock(_Inout_ PKSPIN_LOCK SpinLock, _In_ KIRQL NewIrql);

/* [DUPLICATED] KeAcquireSpinLockAtDpcLevel / KeReleaseSpinLockFromDpcLevel: IRQL >=
   DISPATCH_LEVEL (else stop SPIN_LOCK_WRONG_IRQL); IRQL unchanged. Same ownership stops. */
NTKERNELAPI VOID KeAcquireSpinLockAtDpcLevel(_Inout_ PKSPIN_LOCK SpinLock);
NTKERNELAPI VOID KeReleaseSpinLockFromDpcLevel(_Inout_ PKSPIN_LOCK SpinLock);
#define KefAcquireSpinLockAtDpcLevel KeAcquireSpinLockAtDpcLevel
#define KefReleaseSpinLockFromDpcLevel KeReleaseSpinLockFromDpcLevel

/* [DUPLICATED] KeTryToAcquireSpinLockAtDpcLevel: IRQL >= DISPATCH_LEVEL; TRUE if acquired,
   FALSE if another thread holds it. Held by the caller already: SPIN_LOCK_DOUBLE_ACQUIRE. */
NTKERNELAPI BOOLEAN KeTryToAcquireSpinLockAtDpcLevel(_Inout_ PKSPIN_LOCK SpinLock);

/* [DUPLICATED] In-stack queued spin locks over an ordinary KSPIN_LOCK.
   Deviation: not FIFO among waiters (the lock word is the same as for KeAcquireSpinLock). */
typedef struct _KSPIN_LOCK_QUEUE {
    struct _KSPIN_LOCK_QUEUE *volatile Next;
    PKSPIN_LOCK volatile Lock;
} KSPIN_LOCK_QUEUE, *PKSPIN_LOCK_QUEUE;

typedef struct _KLOCK_QUEUE_HANDLE {
    KSPIN_LOCK_QUEUE LockQueue;
    KIRQL OldIrql;
} KLOCK_QUEUE_HANDLE, *PKLOCK_QUEUE_HANDLE;

/* [DUPLICATED] KeAcquireInStackQueuedSpinLock: IRQL <= DISPATCH_LEVEL; raises to DISPATCH. */
NTKERNELAPI VOID KeAcquireInStackQueuedSpinLock(_Inout_ PKSPIN_LOCK SpinLock,
                                                _Out_ PKLOCK_QUEUE_HANDLE LockHandle);
/* [DUPLICATED] KeReleaseInStackQueuedSpinLock: IRQL == DISPATCH_LEVEL; restores OldIrql. */
NTKERNELAPI VOID KeReleaseInStackQueuedSpinLock(_In_ PKLOCK_QUEUE_HANDLE LockHandle);
/* [DUPLICATED] ...AtDpcLevel / ...FromDpcLevel forms: IRQL >= DISPATCH_LEVEL, unchanged. */
NTKERNELAPI VOID KeAcquireInStackQueuedSpinLockAtDpcLevel(_Inout_ PKSPIN_LOCK SpinLock,
                                                          _Out_ PKLOCK_QUEUE_HANDLE LockHandle);
NTKERNELAPI VOID KeReleaseInStackQueuedSpinLockFromDpcLevel(_In_ PKLOCK_QUEUE_HANDLE LockHandle);

/* =========================================================================================
 * Dispatcher objects: events and waits
 * ========================================================================================= */

/* [DUPLICATED] Dispatcher object types (KOBJECTS), WDK values. */
#define EventNotificationObject 0
#define EventSynchronizationObject 1
#define MutantObject 2
#define ThreadObject 6
#define TimerNotificationObject 8
#define TimerSynchronizationObject 9
#define DpcObject 19
#define ThreadedDpcObject 24

/*
 * [CUSTOMISED] DISPATCHER_HEADER: the state of a waitable object, kept in the object itself
 * (no OS resources), so an object may be freed as soon as its last waiter has returned.
 * Protected by: the shim's dispatcher lock (shim/ke_dispatcher_*.c).
 * Deviation: a simplified layout (Type, Size, SignalState); WaitListHead is unused.
 */
typedef struct _DISPATCHER_HEADER {
    UCHAR Type;           /* EventNotificationObject, EventSynchronizationObject, ThreadObject */
    UCHAR Signalling;
    UCHAR Size;           /* object size in LONGs, set by the initialising routine */
    UCHAR Reserved1;
    volatile LONG SignalState; /* > 0: signalled */
    LIST_ENTRY WaitListHead;
} DISPATCHER_HEADER, *PDISPATCHER_HEADER;

typedef struct _KEVENT {
    DISPATCHER_HEADER Header;
} KEVENT, *PKEVENT, *PRKEVENT;

/* [DUPLICATED] Wait reasons and processor modes (accepted; the shim does not use them). */
typedef enum _KWAIT_REASON {
    Executive,
    FreePage,
    PageIn,
    PoolAllocation,
    DelayExecution,
    Suspended,
    UserRequest,
    WrExecutive,
    WrFreePage,
    WrPageIn,
    WrPoolAllocation,
    WrDelayExecution,
    WrSuspended,
    WrUserRequest,
    MaximumWaitReason = 40
} KWAIT_REASON;

typedef enum _MODE { KernelMode, UserMode, MaximumMode } MODE;

/* [STUBBED] Priority increments (accepted and ignored) and wait-object limits [DUPLICATED]. */
#define EVENT_INCREMENT 1
#define IO_NO_INCREMENT 0
#define IO_NETWORK_INCREMENT 2
#define SEMAPHORE_INCREMENT 1
#define THREAD_WAIT_OBJECTS 3
#define MAXIMUM_WAIT_OBJECTS 64

/* [CUSTOMISED] KWAIT_BLOCK: storage only; Deviation: the shim keeps no wait blocks. */
typedef struct _KWAIT_BLOCK {
    PVOID Object; /* unused by the shim; WaitBlockArray storage only */
    ULONG_PTR Reserved[5];
} KWAIT_BLOCK, *PKWAIT_BLOCK, *PRKWAIT_BLOCK;

/* [DUPLICATED] KeInitializeEvent: Type NotificationEvent (stays signalled until reset) or
   SynchronizationEvent (a satisfied wait resets it); State TRUE = signalled. Any IRQL. */
NTKERNELAPI VOID KeInitializeEvent(_Out_ PRKEVENT Event, _In_ EVENT_TYPE Type, _In_ BOOLEAN State);

/* [CUSTOMISED] KeSetEvent: signal the event, wake waiters; returns the previous signal state.
   IRQL <= DISPATCH_LEVEL. Deviation: Wait == TRUE is accepted but does not keep the
   dispatcher locked (the caller's next KeWait* is an ordinary wait). */
NTKERNELAPI LONG KeSetEvent(_Inout_ PRKEVENT Event, _In_ KPRIORITY Increment, _In_ BOOLEAN Wait);

/* [DUPLICATED] KeClearEvent: set not-signalled. KeResetEvent: same, returns the previous
   state. KeReadStateEvent: current state. IRQL <= DISPATCH_LEVEL. */
NTKERNELAPI VOID KeClearEvent(_Inout_ PRKEVENT Event);
NTKERNELAPI LONG KeResetEvent(_Inout_ PRKEVENT Event);
NTKERNELAPI LONG KeReadStateEvent(_In_ PRKEVENT Event);

/*
 * [CUSTOMISED] KeWaitForSingleObject: wait for an event or a thread object. Timeout NULL =
 * forever, negative = relative in 100 ns units, positive = absolute system time (100 ns since
 * 1601), zero = poll. IRQL <= APC_LEVEL, or <= DISPATCH_LEVEL with a zero timeout (else stop
 * WAIT_AT_RAISED_IRQL). Returns STATUS_SUCCESS (STATUS_WAIT_0) or STATUS_TIMEOUT.
 * A satisfied wait on a synchronization event resets it.
 * Deviation: Alertable and UserMode waits are never alerted (no STATUS_ALERTED/USER_APC);
 * an object that is not an initialised event or live thread stops DISPATCHER_OBJECT_INVALID.
 */
NTKERNELAPI NTSTATUS KeWaitForSingleObject(_In_ PVOID Object, _In_ KWAIT_REASON WaitReason,
                                           _In_ KPROCESSOR_MODE WaitMode, _In_ BOOLEAN Alertable,
                                           _In_opt_ PLARGE_INTEGER Timeout);

/*
 * [CUSTOMISED] KeWaitForMultipleObjects: WaitAny returns STATUS_WAIT_0 + index of the first
 * signalled object; WaitAll returns STATUS_SUCCESS when all are signalled at once; or
 * STATUS_TIMEOUT. Count > THREAD_WAIT_OBJECTS needs WaitBlockArray; Count >
 * MAXIMUM_WAIT_OBJECTS stops. Same IRQL rule and deviations as KeWaitForSingleObject.
 */
NTKERNELAPI NTSTATUS KeWaitForMultipleObjects(_In_ ULONG Count, _In_reads_(Count) PVOID Object[],
                                              _In_ WAIT_TYPE WaitType, _In_ KWAIT_REASON WaitReason,
                                              _In_ KPROCESSOR_MODE WaitMode, _In_ BOOLEAN Alertable,
                                              _In_opt_ PLARGE_INTEGER Timeout,
                                              _Out_opt_ PKWAIT_BLOCK WaitBlockArray);

/* [DUPLICATED] KeDelayExecutionThread: sleep for Interval (negative relative, positive
   absolute, 100 ns units). IRQL <= APC_LEVEL (else stop IRQL_TOO_HIGH). STATUS_SUCCESS.
   Deviation: never alerted. */
NTKERNELAPI NTSTATUS KeDelayExecutionThread(_In_ KPROCESSOR_MODE WaitMode, _In_ BOOLEAN Alertable,
                                            _In_ PLARGE_INTEGER Interval);

/* =========================================================================================
 * Critical regions, push locks, rundown protection
 * ========================================================================================= */

/* [DUPLICATED] KeEnterCriticalRegion / KeLeaveCriticalRegion: disable / re-enable normal
   kernel APCs (a per-thread depth). IRQL <= APC_LEVEL (else stop IRQL_TOO_HIGH). Leaving
   more often than entering stops CRITICAL_REGION_UNBALANCED. KeEnterGuardedRegion /
   KeLeaveGuardedRegion count in the same depth. */
NTKERNELAPI VOID KeEnterCriticalRegion(VOID);
NTKERNELAPI VOID KeLeaveCriticalRegion(VOID);
NTKERNELAPI VOID KeEnterGuardedRegion(VOID);
NTKERNELAPI VOID KeLeaveGuardedRegion(VOID);

/*
 * [CUSTOMISED] EX_PUSH_LOCK: pointer-sized reader/writer lock without an owner; the state is
 * in the lock word (bit 0 exclusive, the rest 2 x shared count). Protected by: the shim's
 * dispatcher lock. Deviation: no writer preference; recursive acquisition (shared or
 * exclusive) stops PUSH_LOCK_RECURSIVE_ACQUIRE instead of deadlocking sometimes.
 */
typedef struct _EX_PUSH_LOCK {
    union {
        ULONG_PTR Value;
        PVOID Ptr;
    };
} EX_PUSH_LOCK, *PEX_PUSH_LOCK;

#define EX_DEFAULT_PUSH_LOCK_FLAGS 0

/* [DUPLICATED] ExInitializePushLock: set free. Any IRQL. */
NTKERNELAPI VOID ExInitializePushLock(_Out_ PEX_PUSH_LOCK PushLock);

/* [DUPLICATED] ExAcquirePushLockExclusiveEx / ExAcquirePushLockSharedEx: IRQL <= APC_LEVEL
   (else stop IRQL_TOO_HIGH); below APC_LEVEL the caller must be in a critical region (else
   stop PUSH_LOCK_WITHOUT_CRITICAL_REGION). Flags must be 0. Blocks while incompatible. */
NTKERNELAPI VOID ExAcquirePushLockExclusiveEx(_Inout_ PEX_PUSH_LOCK PushLock, _In_ ULONG Flags);
NTKERNELAPI VOID ExAcquirePushLockSharedEx(_Inout_ PEX_PUSH_LOCK PushLock, _In_ ULONG Flags);
/* [DUPLICATED] ExReleasePushLockExclusiveEx / ExReleasePushLockSharedEx: the calling thread
   must hold the lock in that mode (else stop PUSH_LOCK_NOT_HELD). */
NTKERNELAPI VOID ExReleasePushLockExclusiveEx(_Inout_ PEX_PUSH_LOCK PushLock, _In_ ULONG Flags);
NTKERNELAPI VOID ExReleasePushLockSharedEx(_Inout_ PEX_PUSH_LOCK PushLock, _In_ ULONG Flags);
/* [DUPLICATED] ExTryAcquirePushLockExclusiveEx / SharedEx: TRUE if acquired without waiting. */
NTKERNELAPI BOOLEAN ExTryAcquirePushLockExclusiveEx(_Inout_ PEX_PUSH_LOCK PushLock, _In_ ULONG Flags);
NTKERNELAPI BOOLEAN ExTryAcquirePushLockSharedEx(_Inout_ PEX_PUSH_LOCK PushLock, _In_ ULONG Flags);
#define ExAcquirePushLockExclusive(Lock) ExAcquirePushLockExclusiveEx((Lock), EX_DEFAULT_PUSH_LOCK_FLAGS)
#define ExAcquirePushLockShared(Lock) ExAcquirePushLockSharedEx((Lock), EX_DEFAULT_PUSH_LOCK_FLAGS)
#define ExReleasePushLockExclusive(Lock) ExReleasePushLockExclusiveEx((Lock), EX_DEFAULT_PUSH_LOCK_FLAGS)
#define ExReleasePushLockShared(Lock) ExReleasePushLockSharedEx((Lock), EX_DEFAULT_PUSH_LOCK_FLAGS)
#define ExTryAcquirePushLockExclusive(Lock) ExTryAcquirePushLockExclusiveEx((Lock), EX_DEFAULT_PUSH_LOCK_FLAGS)
#define ExTryAcquirePushLockShared(Lock) ExTryAcquirePushLockSharedEx((Lock), EX_DEFAULT_PUSH_LOCK_FLAGS)

/*
 * [DUPLICATED] EX_RUNDOWN_REF: Count holds 2 x references, bit 0 set once rundown started
 * (Interlocked). ExAcquireRundownProtection: TRUE and one more reference unless rundown has
 * started. ExReleaseRundownProtection: drop one (none held: stop RUNDOWN_RELEASE_UNBALANCED).
 * Both at IRQL <= DISPATCH_LEVEL. ExWaitForRundownProtectionRelease: start rundown and wait
 * for the references to drain; IRQL <= APC_LEVEL (else stop IRQL_TOO_HIGH).
 * ExReInitializeRundownProtection: back to 0 after a completed rundown. ExRundownCompleted:
 * mark the rundown complete (acquires keep failing).
 */
typedef struct _EX_RUNDOWN_REF {
    union {
        volatile ULONG_PTR Count;
        PVOID Ptr;
    };
} EX_RUNDOWN_REF, *PEX_RUNDOWN_REF;

NTKERNELAPI VOID ExInitializeRundownProtection(_Out_ PEX_RUNDOWN_REF RunRef);
NTKERNELAPI VOID ExReInitializeRundownProtection(_Inout_ PEX_RUNDOWN_REF RunRef);
NTKERNELAPI BOOLEAN ExAcquireRundownProtection(_Inout_ PEX_RUNDOWN_REF RunRef);
NTKERNELAPI BOOLEAN ExAcquireRundownProtectionEx(_Inout_ PEX_RUNDOWN_REF RunRef, _In_ ULONG Count);
NTKERNELAPI VOID ExReleaseRundownProtection(_Inout_ PEX_RUNDOWN_REF RunRef);
NTKERNELAPI VOID ExReleaseRundownProtectionEx(_Inout_ PEX_RUNDOWN_REF RunRef, _In_ ULONG Count);
NTKERNELAPI VOID ExWaitForRundownProtectionRelease(_Inout_ PEX_RUNDOWN_REF RunRef);
NTKERNELAPI VOID ExRundownCompleted(_Out_ PEX_RUNDOWN_REF RunRef);

/* =========================================================================================
 * Pool
 * ========================================================================================= */

/* [DUPLICATED] POOL_FLAGS (ExAllocatePool2) and POOL_TYPE (the older routines), WDK values. */
typedef ULONG64 POOL_FLAGS;

#define POOL_FLAG_REQUIRED_START 0x0000000000000001ULL
#define POOL_FLAG_USE_QUOTA 0x0000000000000001ULL
#define POOL_FLAG_UNINITIALIZED 0x0000000000000002ULL
#define POOL_FLAG_SESSION 0x0000000000000004ULL
#define POOL_FLAG_CACHE_ALIGNED 0x0000000000000008ULL
#define POOL_FLAG_RESERVED1 0x0000000000000010ULL
#define POOL_FLAG_RAISE_ON_FAILURE 0x0000000000000020ULL
#define POOL_FLAG_NON_PAGED 0x0000000000000040ULL
#define POOL_FLAG_NON_PAGED_EXECUTE 0x0000000000000080ULL
#define POOL_FLAG_PAGED 0x0000000000000100ULL
#define POOL_FLAG_RESERVED2 0x0000000000000200ULL
#define POOL_FLAG_RESERVED3 0x0000000000000400ULL
#define POOL_FLAG_REQUIRED_END 0x0000000080000000ULL
#define POOL_FLAG_OPTIONAL_START 0x0000000100000000ULL
#define POOL_FLAG_SPECIAL_POOL 0x0000000100000000ULL
#define POOL_FLAG_OPTIONAL_END 0x8000000000000000ULL

typedef enum _POOL_TYPE {
    NonPagedPool = 0,
    NonPagedPoolExecute = 0,
    PagedPool = 1,
    NonPagedPoolMustSucceed = 2,
    DontUseThisType = 3,
    NonPagedPoolCacheAligned = 4,
    PagedPoolCacheAligned = 5,
    NonPagedPoolCacheAlignedMustS = 6,
    MaxPoolType = 7,
    NonPagedPoolBase = 0,
    NonPagedPoolNx = 512,
    NonPagedPoolNxCacheAligned = 516,
    NonPagedPoolSessionNx = 544
} POOL_TYPE;

#define POOL_RAISE_IF_ALLOCATION_FAILURE 16
#define POOL_NX_ALLOCATION 512
#define POOL_ZERO_ALLOCATION 1024

/*
 * [CUSTOMISED] ExAllocatePool2: allocate NumberOfBytes from the pool named by Flags (exactly
 * one of POOL_FLAG_NON_PAGED, POOL_FLAG_NON_PAGED_EXECUTE, POOL_FLAG_PAGED; other known bits
 * optional; else stop POOL_FLAGS_INVALID); Tag must be non-zero (else stop POOL_FLAGS_INVALID).
 * Zeroed unless POOL_FLAG_UNINITIALIZED (then filled with 0xCD). Returns NULL on failure.
 * IRQL <= DISPATCH_LEVEL for nonpaged, <= APC_LEVEL for paged (else stop IRQL_TOO_HIGH).
 * Deviation: memory comes from the C heap, tracked by tag and call site; failures happen only
 * when a fault plan injects one (kshim_fault_should_fail); an injected failure with
 * POOL_FLAG_RAISE_ON_FAILURE stops POOL_RAISE_ON_FAILURE (no SEH to raise into).
 */
NTKERNELAPI PVOID ExAllocatePool2(_In_ POOL_FLAGS Flags, _In_ SIZE_T NumberOfBytes, _In_ ULONG Tag);
PVOID kshim_ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag, const char *site);
#define ExAllocatePool2(Flags, NumberOfBytes, Tag)                                          \
    kshim_ExAllocatePool2((Flags), (NumberOfBytes), (Tag), KSHIM_SITE)

/* [CUSTOMISED] ExAllocatePoolWithTag (deprecated in the WDK): uninitialised memory, filled
   with 0xCD. PoolType NonPagedPool[Nx][CacheAligned] or PagedPool[CacheAligned] (else stop
   POOL_FLAGS_INVALID). Same IRQL rule, failures and deviations as ExAllocatePool2. */
NTKERNELAPI PVOID ExAllocatePoolWithTag(_In_ POOL_TYPE PoolType, _In_ SIZE_T NumberOfBytes, _In_ ULONG Tag);
PVOID kshim_ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag, const char *site);
#define ExAllocatePoolWithTag(PoolType, NumberOfBytes, Tag)                                 \
    kshim_ExAllocatePoolWithTag((PoolType), (NumberOfBytes), (Tag), KSHIM_SITE)

/* [CUSTOMISED] ExAllocatePoolZero: as ExAllocatePoolWithTag, but zeroed. */
NTKERNELAPI PVOID ExAllocatePoolZero(_In_ POOL_TYPE PoolType, _In_ SIZE_T NumberOfBytes, _In_ ULONG Tag);
PVOID kshim_ExAllocatePoolZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag, const char *site);
#define ExAllocatePoolZero(PoolType, NumberOfBytes, Tag)                                    \
    kshim_ExAllocatePoolZero((PoolType), (NumberOfBytes), (Tag), KSHIM_SITE)

/* [CUSTOMISED] ExAllocatePool (deprecated): ExAllocatePoolWithTag with the tag 'None'. */
NTKERNELAPI PVOID ExAllocatePool(_In_ POOL_TYPE PoolType, _In_ SIZE_T NumberOfBytes);
#define ExAllocatePool(PoolType, NumberOfBytes)                                             \
    kshim_ExAllocatePoolWithTag((PoolType), (NumberOfBytes), 0x656E6F4EUL, KSHIM_SITE)

/*
 * [DUPLICATED] ExFreePoolWithTag: free P, which must be a live pool allocation (freed
 * before: stop POOL_DOUBLE_FREE; never allocated, or NULL: stop POOL_FREE_UNKNOWN) with this
 * Tag (0 = do not check; else stop POOL_FREE_WRONG_TAG). IRQL <= DISPATCH_LEVEL (paged
 * memory: <= APC_LEVEL; else stop IRQL_TOO_HIGH). ExFreePool: no tag check.
 * Deviation: the memory is filled with 0xDD before it is returned to the C heap (under
 * AddressSanitizer it is poisoned instead: every read of it is reported).
 */
NTKERNELAPI VOID ExFreePoolWithTag(_Pre_notnull_ __drv_freesMem(Mem) PVOID P, _In_ ULONG Tag);
NTKERNELAPI VOID ExFreePool(_Pre_notnull_ __drv_freesMem(Mem) PVOID P);
VOID kshim_ExFreePoolWithTag(PVOID P, ULONG Tag, const char *site);
#define ExFreePoolWithTag(P, Tag) kshim_ExFreePoolWithTag((P), (Tag), KSHIM_SITE)
#define ExFreePool(P) kshim_ExFreePoolWithTag((P), 0, KSHIM_SITE)

/* =========================================================================================
 * Time
 * ========================================================================================= */

/* [DUPLICATED] KeQuerySystemTime / KeQuerySystemTimePrecise: 100 ns units since 1601-01-01
   UTC (from CLOCK_REALTIME). Any IRQL. */
NTKERNELAPI VOID KeQuerySystemTime(_Out_ PLARGE_INTEGER CurrentTime);
NTKERNELAPI VOID KeQuerySystemTimePrecise(_Out_ PLARGE_INTEGER CurrentTime);
/* [CUSTOMISED] KeQueryInterruptTime / KeQueryInterruptTimePrecise: 100 ns units since an
   arbitrary start (CLOCK_MONOTONIC). Deviation: the origin is not boot. */
NTKERNELAPI ULONGLONG KeQueryInterruptTime(VOID);
NTKERNELAPI ULONGLONG KeQueryInterruptTimePrecise(_Out_ PULONG64 QpcTimeStamp);
/* [CUSTOMISED] KeQueryPerformanceCounter: monotonic ticks; frequency 10 MHz (100 ns). */
NTKERNELAPI LARGE_INTEGER KeQueryPerformanceCounter(_Out_opt_ PLARGE_INTEGER PerformanceFrequency);
/* [CUSTOMISED] KeQueryTickCount(&Count): ticks of KeQueryTimeIncrement() (156250 x 100 ns). */
NTKERNELAPI VOID KeQueryTickCount(_Out_ PLARGE_INTEGER CurrentCount);
NTKERNELAPI ULONG KeQueryTimeIncrement(VOID);
/* [DUPLICATED] KeStallExecutionProcessor: busy-wait MicroSeconds. Any IRQL. */
NTKERNELAPI VOID KeStallExecutionProcessor(_In_ ULONG MicroSeconds);

/* =========================================================================================
 * Processors
 * ========================================================================================= */

/* [DUPLICATED] PROCESSOR_NUMBER. */
typedef struct _PROCESSOR_NUMBER {
    USHORT Group;
    UCHAR Number;
    UCHAR Reserved;
} PROCESSOR_NUMBER, *PPROCESSOR_NUMBER;

#define ALL_PROCESSOR_GROUPS 0xffff

/* [CUSTOMISED] One processor: KeGetCurrentProcessorNumber(Ex) is 0, the active count is 1.
   Deviation: real threads run concurrently although they all report processor 0. */
NTKERNELAPI ULONG KeGetCurrentProcessorNumber(VOID);
NTKERNELAPI ULONG KeGetCurrentProcessorNumberEx(_Out_opt_ PPROCESSOR_NUMBER ProcNumber);
NTKERNELAPI ULONG KeQueryActiveProcessorCount(_Out_opt_ PKAFFINITY ActiveProcessors);
NTKERNELAPI ULONG KeQueryActiveProcessorCountEx(_In_ USHORT GroupNumber);
NTKERNELAPI ULONG KeQueryMaximumProcessorCount(VOID);
NTKERNELAPI ULONG KeQueryMaximumProcessorCountEx(_In_ USHORT GroupNumber);

/* =========================================================================================
 * Objects, handles, threads
 * ========================================================================================= */

/* [CUSTOMISED] Opaque object types as in the WDK. Deviation: KTHREAD and ETHREAD are the same
   object (PsGetCurrentThread and KeGetCurrentThread return the same address). */
typedef struct _KTHREAD *PKTHREAD, *PRKTHREAD;
typedef struct _ETHREAD *PETHREAD;
typedef struct _KPROCESS *PKPROCESS, *PRKPROCESS;
typedef struct _EPROCESS *PEPROCESS;
typedef struct _OBJECT_TYPE *POBJECT_TYPE;

/* [DUPLICATED] OBJECT_HANDLE_INFORMATION (filled by ObReferenceObjectByHandle). */
typedef struct _OBJECT_HANDLE_INFORMATION {
    ULONG HandleAttributes;
    ACCESS_MASK GrantedAccess;
} OBJECT_HANDLE_INFORMATION, *POBJECT_HANDLE_INFORMATION;

/* [DUPLICATED] Access rights and pseudo handles. Deviation: access is never checked. */
#define DELETE 0x00010000L
#define SYNCHRONIZE 0x00100000L
#define STANDARD_RIGHTS_REQUIRED 0x000F0000L
#define STANDARD_RIGHTS_ALL 0x001F0000L
#define GENERIC_READ 0x80000000L
#define GENERIC_WRITE 0x40000000L
#define GENERIC_EXECUTE 0x20000000L
#define GENERIC_ALL 0x10000000L
#define THREAD_ALL_ACCESS (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0xFFFF)
#define NtCurrentProcess() ((HANDLE)(LONG_PTR)-1)
#define ZwCurrentProcess() NtCurrentProcess()
#define NtCurrentThread() ((HANDLE)(LONG_PTR)-2)
#define ZwCurrentThread() NtCurrentThread()

/* [DUPLICATED] Object type of threads, for ObReferenceObjectByHandle. */
extern POBJECT_TYPE *PsThreadType;

/* [DUPLICATED] System thread start routine. */
typedef VOID KSTART_ROUTINE(_In_ PVOID StartContext);
typedef KSTART_ROUTINE *PKSTART_ROUTINE;

/*
 * [CUSTOMISED] PsCreateSystemThread: start StartRoutine(StartContext) on a new system thread
 * at PASSIVE_LEVEL and return a kernel handle to it. IRQL == PASSIVE_LEVEL (else stop
 * IRQL_TOO_HIGH). Returns STATUS_SUCCESS or STATUS_INSUFFICIENT_RESOURCES (fault injected).
 * The thread object is signalled when the routine returns or calls PsTerminateSystemThread;
 * returning at raised IRQL, holding a lock or inside a critical region stops
 * THREAD_EXIT_WITH_IRQL_RAISED / THREAD_EXIT_HOLDING_LOCK.
 * Deviation: ProcessHandle and ClientId are ignored (always the system process); the thread
 * object is a pool allocation with tag 'Thre' until its last reference (handle, object
 * reference, the running thread) is gone, so a handle never closed shows in pool audits.
 */
NTKERNELAPI NTSTATUS PsCreateSystemThread(_Out_ PHANDLE ThreadHandle, _In_ ULONG DesiredAccess,
                                          _In_opt_ POBJECT_ATTRIBUTES ObjectAttributes,
                                          _In_opt_ HANDLE ProcessHandle, _Out_opt_ PCLIENT_ID ClientId,
                                          _In_ PKSTART_ROUTINE StartRoutine,
                                          _In_opt_ PVOID StartContext);
NTSTATUS kshim_PsCreateSystemThread(PHANDLE ThreadHandle, ULONG DesiredAccess,
                                    POBJECT_ATTRIBUTES ObjectAttributes, HANDLE ProcessHandle,
                                    PCLIENT_ID ClientId, PKSTART_ROUTINE StartRoutine,
                                    PVOID StartContext, const char *site);
#define PsCreateSystemThread(ThreadHandle, DesiredAccess, ObjectAttributes, ProcessHandle,   \
                             ClientId, StartRoutine, StartContext)                           \
    kshim_PsCreateSystemThread((ThreadHandle), (DesiredAccess), (ObjectAttributes),          \
                               (ProcessHandle), (ClientId), (StartRoutine), (StartContext),  \
                               KSHIM_SITE)

/* [DUPLICATED] PsTerminateSystemThread: end the calling system thread with ExitStatus.
   IRQL == PASSIVE_LEVEL. Called on a thread not created by PsCreateSystemThread: returns
   STATUS_INVALID_PARAMETER (as Windows does for non-system threads). */
NTKERNELAPI NTSTATUS PsTerminateSystemThread(_In_ NTSTATUS ExitStatus);

/* [DUPLICATED] ZwClose / NtClose: close a kernel handle (here: thread handles). IRQL ==
   PASSIVE_LEVEL. Unknown or already closed handle: stop INVALID_KERNEL_HANDLE (Windows
   bugchecks 0x93 for kernel handles). */
NTSYSAPI NTSTATUS ZwClose(_In_ HANDLE Handle);
#define NtClose ZwClose

/* [DUPLICATED] ObReferenceObjectByHandle: a referenced object pointer for a thread handle.
   IRQL <= APC_LEVEL. STATUS_SUCCESS, STATUS_INVALID_HANDLE, STATUS_OBJECT_TYPE_MISMATCH.
   NtCurrentThread() gives the calling thread. */
NTKERNELAPI NTSTATUS ObReferenceObjectByHandle(_In_ HANDLE Handle, _In_ ACCESS_MASK DesiredAccess,
                                               _In_opt_ POBJECT_TYPE ObjectType,
                                               _In_ KPROCESSOR_MODE AccessMode,
                                               _Out_ PVOID *Object,
                                               _Out_opt_ POBJECT_HANDLE_INFORMATION HandleInformation);

/* [DUPLICATED] ObReferenceObject / ObDereferenceObject: add / drop one reference to a thread
   object; the last one frees it. IRQL <= DISPATCH_LEVEL. An object the shim does not know
   stops OBJECT_UNKNOWN; dropping more references than taken stops
   OBJECT_REFERENCE_UNDERFLOW. */
NTKERNELAPI LONG_PTR ObfReferenceObject(_In_ PVOID Object);
NTKERNELAPI LONG_PTR ObfDereferenceObject(_In_ PVOID Object);
#define ObReferenceObject(Object) ObfReferenceObject(Object)
#define ObDereferenceObject(Object) ObfDereferenceObject(Object)

/* [DUPLICATED] KeGetCurrentThread / PsGetCurrentThread: the calling thread's object (an
   ordinary OS thread gets one on first use). Any IRQL. PsGetCurrentThreadId: a unique id. */
NTKERNELAPI PKTHREAD KeGetCurrentThread(VOID);
NTKERNELAPI PETHREAD PsGetCurrentThread(VOID);
NTKERNELAPI HANDLE PsGetCurrentThreadId(VOID);
NTKERNELAPI HANDLE PsGetCurrentProcessId(VOID);
/* [DUPLICATED] PsIsSystemThread: TRUE for threads created by PsCreateSystemThread (and the
   shim's work-item threads). */
NTKERNELAPI BOOLEAN PsIsSystemThread(_In_ PETHREAD Thread);
/* [STUBBED] KeSetPriorityThread returns the old priority (8) and changes nothing;
   KeQueryPriorityThread returns 8. */
NTKERNELAPI KPRIORITY KeSetPriorityThread(_Inout_ PKTHREAD Thread, _In_ KPRIORITY Priority);
NTKERNELAPI KPRIORITY KeQueryPriorityThread(_In_ PKTHREAD Thread);

/* =========================================================================================
 * Driver and device objects
 * ========================================================================================= */

/* [CUSTOMISED] IRPs are opaque (no I/O manager); the driver callback types are as in the WDK. */
typedef struct _IRP *PIRP;
typedef struct _DRIVER_OBJECT *PDRIVER_OBJECT;
typedef struct _DEVICE_OBJECT *PDEVICE_OBJECT;

typedef NTSTATUS DRIVER_INITIALIZE(_In_ struct _DRIVER_OBJECT *DriverObject,
                                   _In_ PUNICODE_STRING RegistryPath);
typedef DRIVER_INITIALIZE *PDRIVER_INITIALIZE;
typedef VOID DRIVER_UNLOAD(_In_ struct _DRIVER_OBJECT *DriverObject);
typedef DRIVER_UNLOAD *PDRIVER_UNLOAD;
typedef NTSTATUS DRIVER_ADD_DEVICE(_In_ struct _DRIVER_OBJECT *DriverObject,
                                   _In_ struct _DEVICE_OBJECT *PhysicalDeviceObject);
typedef DRIVER_ADD_DEVICE *PDRIVER_ADD_DEVICE;
typedef NTSTATUS DRIVER_DISPATCH(_In_ struct _DEVICE_OBJECT *DeviceObject, _Inout_ struct _IRP *Irp);
typedef DRIVER_DISPATCH *PDRIVER_DISPATCH;
typedef VOID DRIVER_STARTIO(_Inout_ struct _DEVICE_OBJECT *DeviceObject, _Inout_ struct _IRP *Irp);
typedef DRIVER_STARTIO *PDRIVER_STARTIO;

/* [DUPLICATED] Major function codes (MajorFunction indices). */
#define IRP_MJ_CREATE 0x00
#define IRP_MJ_CLOSE 0x02
#define IRP_MJ_READ 0x03
#define IRP_MJ_WRITE 0x04
#define IRP_MJ_DEVICE_CONTROL 0x0e
#define IRP_MJ_INTERNAL_DEVICE_CONTROL 0x0f
#define IRP_MJ_SHUTDOWN 0x10
#define IRP_MJ_CLEANUP 0x12
#define IRP_MJ_POWER 0x16
#define IRP_MJ_SYSTEM_CONTROL 0x17
#define IRP_MJ_PNP 0x1b
#define IRP_MJ_MAXIMUM_FUNCTION 0x1b

/* [DUPLICATED] DRIVER_EXTENSION: the fields drivers touch. */
typedef struct _DRIVER_EXTENSION {
    struct _DRIVER_OBJECT *DriverObject;
    PDRIVER_ADD_DEVICE AddDevice;
    ULONG Count;
    UNICODE_STRING ServiceKeyName;
} DRIVER_EXTENSION, *PDRIVER_EXTENSION;

/* [DUPLICATED] DRIVER_OBJECT: the fields drivers touch. A harness may declare one zeroed
   (and point DriverExtension at a zeroed DRIVER_EXTENSION) before calling DriverEntry. */
typedef struct _DRIVER_OBJECT {
    CSHORT Type;
    CSHORT Size;
    PDEVICE_OBJECT DeviceObject; /* first device created by IoCreateDevice (newest first) */
    ULONG Flags;
    PVOID DriverStart;
    ULONG DriverSize;
    PVOID DriverSection;
    PDRIVER_EXTENSION DriverExtension;
    UNICODE_STRING DriverName;
    PUNICODE_STRING HardwareDatabase;
    PVOID FastIoDispatch;
    PDRIVER_INITIALIZE DriverInit;
    PDRIVER_STARTIO DriverStartIo;
    PDRIVER_UNLOAD DriverUnload;
    PDRIVER_DISPATCH MajorFunction[IRP_MJ_MAXIMUM_FUNCTION + 1];
} DRIVER_OBJECT;

/* [DUPLICATED] Device types, characteristics and DO_* flags, WDK values. */
#define FILE_DEVICE_UNKNOWN 0x00000022
#define FILE_DEVICE_NETWORK 0x00000012
#define FILE_DEVICE_NETWORK_FILE_SYSTEM 0x00000014
#define FILE_DEVICE_TRANSPORT 0x00000021
#define FILE_DEVICE_SECURE_OPEN 0x00000100
#define FILE_AUTOGENERATED_DEVICE_NAME 0x00000080
#define DO_VERIFY_VOLUME 0x00000002
#define DO_BUFFERED_IO 0x00000004
#define DO_EXCLUSIVE 0x00000008
#define DO_DIRECT_IO 0x00000010
#define DO_MAP_IO_BUFFER 0x00000020
#define DO_DEVICE_INITIALIZING 0x00000080
#define DO_POWER_PAGABLE 0x00002000

/* [DUPLICATED] DEVICE_OBJECT: the fields drivers touch. */
typedef struct _DEVICE_OBJECT {
    CSHORT Type;
    USHORT Size;
    LONG ReferenceCount;
    struct _DRIVER_OBJECT *DriverObject;
    struct _DEVICE_OBJECT *NextDevice;
    struct _DEVICE_OBJECT *AttachedDevice;
    PIRP CurrentIrp;
    ULONG Flags;
    ULONG Characteristics;
    PVOID DeviceExtension;
    ULONG DeviceType;
    CCHAR StackSize;
    ULONG AlignmentRequirement;
} DEVICE_OBJECT;

/*
 * [CUSTOMISED] IoCreateDevice: create a device object with a zeroed extension of
 * DeviceExtensionSize bytes, link it first in DriverObject->DeviceObject, Flags =
 * DO_DEVICE_INITIALIZING. IRQL == PASSIVE_LEVEL (else stop IRQL_TOO_HIGH).
 * STATUS_SUCCESS, STATUS_INSUFFICIENT_RESOURCES (fault injected), STATUS_OBJECT_NAME_COLLISION
 * (a live device has the same name). Deviation: no object namespace beyond the name check;
 * the object is a pool allocation with tag 'Devi' (shows in pool audits until deleted).
 */
NTKERNELAPI NTSTATUS IoCreateDevice(_In_ PDRIVER_OBJECT DriverObject, _In_ ULONG DeviceExtensionSize,
                                    _In_opt_ PUNICODE_STRING DeviceName, _In_ ULONG DeviceType,
                                    _In_ ULONG DeviceCharacteristics, _In_ BOOLEAN Exclusive,
                                    _Outptr_result_nullonfailure_ PDEVICE_OBJECT *DeviceObject);
NTSTATUS kshim_IoCreateDevice(PDRIVER_OBJECT DriverObject, ULONG DeviceExtensionSize,
                              PUNICODE_STRING DeviceName, ULONG DeviceType,
                              ULONG DeviceCharacteristics, BOOLEAN Exclusive,
                              PDEVICE_OBJECT *DeviceObject, const char *site);
#define IoCreateDevice(DriverObject, DeviceExtensionSize, DeviceName, DeviceType,            \
                       DeviceCharacteristics, Exclusive, DeviceObject)                       \
    kshim_IoCreateDevice((DriverObject), (DeviceExtensionSize), (DeviceName), (DeviceType),  \
                         (DeviceCharacteristics), (Exclusive), (DeviceObject), KSHIM_SITE)

/* [DUPLICATED] IoDeleteDevice: unlink and free a device from IoCreateDevice. IRQL ==
   PASSIVE_LEVEL. Not a live device: stop DEVICE_OBJECT_UNKNOWN. */
NTKERNELAPI VOID IoDeleteDevice(_In_ __drv_freesMem(Mem) PDEVICE_OBJECT DeviceObject);

/* =========================================================================================
 * Work items
 * ========================================================================================= */

/* [DUPLICATED] Opaque work item and the routine types of IoQueueWorkItem[Ex]; WORK_QUEUE_TYPE
   values as in the WDK (accepted; Deviation: every queue behaves the same). */
typedef struct _IO_WORKITEM *PIO_WORKITEM;

typedef VOID IO_WORKITEM_ROUTINE(_In_ PDEVICE_OBJECT DeviceObject, _In_opt_ PVOID Context);
typedef IO_WORKITEM_ROUTINE *PIO_WORKITEM_ROUTINE;
typedef VOID IO_WORKITEM_ROUTINE_EX(_In_ PVOID IoObject, _In_opt_ PVOID Context,
                                    _In_ PIO_WORKITEM IoWorkItem);
typedef IO_WORKITEM_ROUTINE_EX *PIO_WORKITEM_ROUTINE_EX;

typedef enum _WORK_QUEUE_TYPE {
    CriticalWorkQueue,
    DelayedWorkQueue,
    HyperCriticalWorkQueue,
    NormalWorkQueue,
    BackgroundWorkQueue,
    RealTimeWorkQueue,
    SuperCriticalWorkQueue,
    MaximumWorkQueue,
    CustomPriorityWorkQueue = 32
} WORK_QUEUE_TYPE;

/*
 * [CUSTOMISED] IoAllocateWorkItem: a work item for IoObject (a device object, or any object
 * with the Ex forms). IRQL <= DISPATCH_LEVEL. NULL on failure (fault injected).
 * Deviation: the item is a pool allocation with tag 'IoWk' and the caller's site.
 */
NTKERNELAPI PIO_WORKITEM IoAllocateWorkItem(_In_ PDEVICE_OBJECT DeviceObject);
PIO_WORKITEM kshim_IoAllocateWorkItem(PVOID IoObject, const char *site);
#define IoAllocateWorkItem(DeviceObject) kshim_IoAllocateWorkItem((DeviceObject), KSHIM_SITE)

/* [DUPLICATED] IoFreeWorkItem: free an item from IoAllocateWorkItem; allowed inside its own
   routine. Still queued (not yet started): stop WORK_ITEM_FREED_WHILE_QUEUED. */
NTKERNELAPI VOID IoFreeWorkItem(_In_ __drv_freesMem(Mem) PIO_WORKITEM IoWorkItem);

/*
 * [CUSTOMISED] IoQueueWorkItem / IoQueueWorkItemEx: run the routine once at PASSIVE_LEVEL
 * on a worker thread. IRQL <= DISPATCH_LEVEL. Queuing an item that is queued and has not
 * started yet stops WORK_ITEM_QUEUED_TWICE; re-queuing from inside the routine is allowed.
 * The routine returning at raised IRQL, holding a lock or in a critical region stops
 * THREAD_EXIT_WITH_IRQL_RAISED / THREAD_EXIT_HOLDING_LOCK.
 * Deviation: each queued item runs on its own new thread; QueueType is ignored; no
 * reference is taken on the device object.
 */
NTKERNELAPI VOID IoQueueWorkItem(_Inout_ PIO_WORKITEM IoWorkItem, _In_ PIO_WORKITEM_ROUTINE WorkerRoutine,
                                 _In_ WORK_QUEUE_TYPE QueueType, _In_opt_ PVOID Context);
NTKERNELAPI VOID IoQueueWorkItemEx(_Inout_ PIO_WORKITEM IoWorkItem,
                                   _In_ PIO_WORKITEM_ROUTINE_EX WorkerRoutine,
                                   _In_ WORK_QUEUE_TYPE QueueType, _In_opt_ PVOID Context);

/* [DUPLICATED] IoSizeofWorkItem / IoInitializeWorkItem / IoUninitializeWorkItem: a work item
   in caller-allocated storage of IoSizeofWorkItem() bytes. Uninitialising a queued item
   stops WORK_ITEM_FREED_WHILE_QUEUED. */
NTKERNELAPI ULONG IoSizeofWorkItem(VOID);
NTKERNELAPI VOID IoInitializeWorkItem(_In_ PVOID IoObject, _Out_ PIO_WORKITEM IoWorkItem);
NTKERNELAPI VOID IoUninitializeWorkItem(_Inout_ PIO_WORKITEM IoWorkItem);

/* [DUPLICATED] WORK_QUEUE_ITEM + ExInitializeWorkItem / ExQueueWorkItem: the executive work
   item in caller storage (which the routine may free). ExQueueWorkItem: IRQL <=
   DISPATCH_LEVEL; queued twice before it started: stop WORK_ITEM_QUEUED_TWICE. Same
   execution model and deviations as IoQueueWorkItem. */
typedef VOID WORKER_THREAD_ROUTINE(_In_ PVOID Parameter);
typedef WORKER_THREAD_ROUTINE *PWORKER_THREAD_ROUTINE;

typedef struct _WORK_QUEUE_ITEM {
    LIST_ENTRY List; /* Flink is non-NULL while queued (Protected by: the shim's work lock) */
    PWORKER_THREAD_ROUTINE WorkerRoutine;
    volatile PVOID Parameter;
} WORK_QUEUE_ITEM, *PWORK_QUEUE_ITEM;

#define ExInitializeWorkItem(Item, Routine, Context)                                        \
    do {                                                                                    \
        (Item)->WorkerRoutine = (Routine);                                                  \
        (Item)->Parameter = (Context);                                                      \
        (Item)->List.Flink = NULL;                                                          \
    } while (0)

NTKERNELAPI VOID ExQueueWorkItem(_Inout_ PWORK_QUEUE_ITEM WorkItem, _In_ WORK_QUEUE_TYPE QueueType);


/* =========================================================================================
 * C library memory routines, fail-fast, bit scans, UUIDs
 * ========================================================================================= */

/* [DUPLICATED] memcpy, memmove, memset, memcmp: the WDK's headers declare them (drivers call
   them directly). The names are parenthesised so that a function-like macro of the same
   name (src/'s banned.h) still wins in the code that uses them. */
#ifndef __cplusplus /* C++: <string.h>, included above */
void *(memcpy)(void *destination, const void *source, size_t count);
void *(memmove)(void *destination, const void *source, size_t count);
void *(memset)(void *destination, int value, size_t count);
int(memcmp)(const void *a, const void *b, size_t count);
#endif

/* [DUPLICATED] FAST_FAIL_* codes of RtlFailFast / __fastfail, WDK values (a selection). */
#define FAST_FAIL_LEGACY_GS_VIOLATION 0
#define FAST_FAIL_VTGUARD_CHECK_FAILURE 1
#define FAST_FAIL_STACK_COOKIE_CHECK_FAILURE 2
#define FAST_FAIL_CORRUPT_LIST_ENTRY 3
#define FAST_FAIL_INCORRECT_STACK 4
#define FAST_FAIL_INVALID_ARG 5
#define FAST_FAIL_GS_COOKIE_INIT 6
#define FAST_FAIL_FATAL_APP_EXIT 7
#define FAST_FAIL_RANGE_CHECK_FAILURE 8
#define FAST_FAIL_UNSAFE_REGISTRY_ACCESS 9
#define FAST_FAIL_GUARD_ICALL_CHECK_FAILURE 10
#define FAST_FAIL_INVALID_BUFFER_ACCESS 28
#define FAST_FAIL_INVALID_REFERENCE_COUNT 38
#define FAST_FAIL_INVALID_FAST_FAIL_CODE 0xFFFFFFFF

/* [CUSTOMISED] RtlFailFast(Code) / __fastfail(Code): a named finding, the stop
   FAST_FAIL naming the code (Windows: bugcheck KERNEL_SECURITY_CHECK_FAILURE 0x139). */
DECLSPEC_NORETURN void kshim_fail_fast(ULONG code, const char *file, int line);
#define RtlFailFast(Code) kshim_fail_fast((ULONG)(Code), __FILE__, __LINE__)
#ifndef __fastfail
#define __fastfail(Code) kshim_fail_fast((ULONG)(Code), __FILE__, __LINE__)
#endif

/* [DUPLICATED] RtlFindMostSignificantBit / RtlFindLeastSignificantBit: the index (0..63) of
   the highest / lowest set bit of Set, or -1 if Set is 0. */
KSHIM_INLINE CCHAR RtlFindMostSignificantBit(_In_ ULONGLONG Set)
{
    return Set == 0 ? (CCHAR)-1 : (CCHAR)(63 - __builtin_clzll(Set));
}
KSHIM_INLINE CCHAR RtlFindLeastSignificantBit(_In_ ULONGLONG Set)
{
    return Set == 0 ? (CCHAR)-1 : (CCHAR)__builtin_ctzll(Set);
}

/* [DUPLICATED] UUID (the GUID layout). */
typedef GUID UUID;
/* [CUSTOMISED] ExUuidCreate: a version-4 UUID. Returns STATUS_SUCCESS (never
   RPC_NT_UUID_LOCAL_ONLY, which callers must also accept). IRQL == PASSIVE_LEVEL.
   Deviation: the UUIDs are a fixed sequence from kshim_reset on, so that runs replay. */
NTKERNELAPI NTSTATUS ExUuidCreate(_Out_ UUID *Uuid);

/* =========================================================================================
 * Mutexes and executive spin locks (ke_mutex.c, ex_fastmutex.c, ex_spinlock.c)
 * ========================================================================================= */

/* [CUSTOMISED] KMUTEX: a waitable, recursive mutex in caller storage; SignalState 1 when
   free, 1 - depth while owned. Protected by: the shim's dispatcher lock.
   Deviation: Level (KeInitializeMutex) is ignored; abandonment is not modelled (a thread
   that ends holding one stops THREAD_EXIT_HOLDING_LOCK instead). */
typedef struct _KMUTANT {
    DISPATCHER_HEADER Header; /* Type MutantObject */
    LIST_ENTRY MutantListEntry;
    PKTHREAD OwnerThread;
    BOOLEAN Abandoned;
    UCHAR ApcDisable;
} KMUTANT, *PKMUTANT, *PRKMUTANT, KMUTEX, *PKMUTEX, *PRKMUTEX;

/* [DUPLICATED] KeInitializeMutex: free. Acquire with KeWaitForSingleObject (recursive for the
   owner; while held, normal kernel APCs are disabled: KeAreApcsDisabled is TRUE). Any IRQL. */
NTKERNELAPI VOID KeInitializeMutex(_Out_ PRKMUTEX Mutex, _In_ ULONG Level);
/* [DUPLICATED] KeReleaseMutex: release one level; returns the previous signal state. A
   release by a thread that does not own the mutex stops MUTEX_NOT_OWNER (Windows: bugcheck
   THREAD_NOT_MUTEX_OWNER). IRQL <= DISPATCH_LEVEL. */
NTKERNELAPI LONG KeReleaseMutex(_Inout_ PRKMUTEX Mutex, _In_ BOOLEAN Wait);
/* [DUPLICATED] KeReadStateMutex: the signal state (1: free). */
NTKERNELAPI LONG KeReadStateMutex(_In_ PRKMUTEX Mutex);

/* [CUSTOMISED] FAST_MUTEX: a non-recursive mutex in caller storage; Count 1 when free.
   Protected by: the shim's dispatcher lock. Deviation: the embedded event is unused. */
typedef struct _FAST_MUTEX {
    volatile LONG Count;
    PVOID Owner; /* the owning KTHREAD */
    ULONG Contention;
    KEVENT Event;
    ULONG OldIrql;
} FAST_MUTEX, *PFAST_MUTEX, KGUARDED_MUTEX, *PKGUARDED_MUTEX;

/* [DUPLICATED] ExInitializeFastMutex: free. Any IRQL. */
NTKERNELAPI VOID ExInitializeFastMutex(_Out_ PFAST_MUTEX FastMutex);
/* [DUPLICATED] ExAcquireFastMutex: IRQL <= APC_LEVEL; waits, then raises to APC_LEVEL.
   Acquiring a fast mutex the thread already owns stops FAST_MUTEX_RECURSIVE_ACQUIRE (on
   Windows: a deadlock). */
NTKERNELAPI VOID ExAcquireFastMutex(_Inout_ PFAST_MUTEX FastMutex);
/* [DUPLICATED] ExTryToAcquireFastMutex: as ExAcquireFastMutex without waiting; TRUE if acquired. */
NTKERNELAPI BOOLEAN ExTryToAcquireFastMutex(_Inout_ PFAST_MUTEX FastMutex);
/* [DUPLICATED] ExReleaseFastMutex: the owner, at APC_LEVEL, releases and returns to the IRQL
   of the acquire. Else stop FAST_MUTEX_NOT_OWNER or FAST_MUTEX_WRONG_IRQL. */
NTKERNELAPI VOID ExReleaseFastMutex(_Inout_ PFAST_MUTEX FastMutex);
/* [DUPLICATED] ExAcquireFastMutexUnsafe / ExReleaseFastMutexUnsafe: the caller is already at
   APC_LEVEL or in a critical region (else stop FAST_MUTEX_WRONG_IRQL); IRQL unchanged. */
NTKERNELAPI VOID ExAcquireFastMutexUnsafe(_Inout_ PFAST_MUTEX FastMutex);
NTKERNELAPI VOID ExReleaseFastMutexUnsafe(_Inout_ PFAST_MUTEX FastMutex);
/* [CUSTOMISED] Guarded mutexes: fast mutexes here (KeInitializeGuardedMutex, ...). */
#define KeInitializeGuardedMutex ExInitializeFastMutex
#define KeAcquireGuardedMutex ExAcquireFastMutex
#define KeReleaseGuardedMutex ExReleaseFastMutex
#define KeTryToAcquireGuardedMutex ExTryToAcquireFastMutex

/* [CUSTOMISED] EX_SPIN_LOCK: a reader/writer spin lock, one LONG (0 free, the number of
   shared holders, or 0x80000000 when held exclusive); only __atomic accesses. */
typedef volatile LONG EX_SPIN_LOCK, *PEX_SPIN_LOCK;

/*
 * [DUPLICATED] ExAcquireSpinLockShared / ExAcquireSpinLockExclusive: IRQL <= DISPATCH_LEVEL;
 * raise to DISPATCH_LEVEL and return the old IRQL. The ...AtDpcLevel forms: IRQL ==
 * DISPATCH_LEVEL, unchanged. ExRelease...: the holder in the same mode releases (at
 * DISPATCH_LEVEL); the FromDpcLevel forms leave IRQL unchanged.
 * Stops: EX_SPIN_LOCK_WRONG_MODE (released in the other mode), EX_SPIN_LOCK_NOT_HELD,
 * EX_SPIN_LOCK_RECURSIVE_ACQUIRE (an exclusive acquire by a thread that holds the lock in any
 * mode: a deadlock on Windows), SPIN_LOCK_WRONG_IRQL. Shared acquires may nest.
 */
NTKERNELAPI KIRQL ExAcquireSpinLockShared(_Inout_ PEX_SPIN_LOCK SpinLock);
NTKERNELAPI KIRQL ExAcquireSpinLockExclusive(_Inout_ PEX_SPIN_LOCK SpinLock);
NTKERNELAPI VOID ExReleaseSpinLockShared(_Inout_ PEX_SPIN_LOCK SpinLock, _In_ KIRQL OldIrql);
NTKERNELAPI VOID ExReleaseSpinLockExclusive(_Inout_ PEX_SPIN_LOCK SpinLock, _In_ KIRQL OldIrql);
NTKERNELAPI VOID ExAcquireSpinLockSharedAtDpcLevel(_Inout_ PEX_SPIN_LOCK SpinLock);
NTKERNELAPI VOID ExAcquireSpinLockExclusiveAtDpcLevel(_Inout_ PEX_SPIN_LOCK SpinLock);
NTKERNELAPI VOID ExReleaseSpinLockSharedFromDpcLevel(_Inout_ PEX_SPIN_LOCK SpinLock);
NTKERNELAPI VOID ExReleaseSpinLockExclusiveFromDpcLevel(_Inout_ PEX_SPIN_LOCK SpinLock);
/* [DUPLICATED] ExTryConvertSharedSpinLockExclusive: the only shared holder becomes the
   exclusive one (TRUE); otherwise nothing changes (FALSE). IRQL == DISPATCH_LEVEL. */
NTKERNELAPI LOGICAL ExTryConvertSharedSpinLockExclusive(_Inout_ PEX_SPIN_LOCK SpinLock);
/* [DUPLICATED] ExTryAcquireSpinLockSharedAtDpcLevel / ...ExclusiveAtDpcLevel: TRUE if acquired
   without spinning. */
NTKERNELAPI LOGICAL ExTryAcquireSpinLockSharedAtDpcLevel(_Inout_ PEX_SPIN_LOCK SpinLock);
NTKERNELAPI LOGICAL ExTryAcquireSpinLockExclusiveAtDpcLevel(_Inout_ PEX_SPIN_LOCK SpinLock);

/* =========================================================================================
 * DPCs and timers (ke_dpc.c, ke_timer.c)
 * ========================================================================================= */

struct _KDPC;
/* [DUPLICATED] The deferred routine of a DPC (KDEFERRED_ROUTINE role type). */
typedef VOID KDEFERRED_ROUTINE(_In_ struct _KDPC *Dpc, _In_opt_ PVOID DeferredContext,
                               _In_opt_ PVOID SystemArgument1, _In_opt_ PVOID SystemArgument2);
typedef KDEFERRED_ROUTINE *PKDEFERRED_ROUTINE;

/* [DUPLICATED] DPC importance and the DPC object, in caller storage.
   Protected by: the shim's dispatcher lock (DpcData is non-NULL while queued). */
typedef enum _KDPC_IMPORTANCE { LowImportance, MediumImportance, HighImportance, MediumHighImportance } KDPC_IMPORTANCE;
typedef struct _KDPC {
    UCHAR Type;       /* DpcObject or ThreadedDpcObject once initialised */
    UCHAR Importance;
    volatile USHORT Number;
    LIST_ENTRY DpcListEntry;
    ULONG_PTR ProcessorHistory;
    PKDEFERRED_ROUTINE DeferredRoutine;
    PVOID DeferredContext;
    PVOID SystemArgument1;
    PVOID SystemArgument2;
    volatile PVOID DpcData; /* the shim's queue entry while queued, else NULL */
} KDPC, *PKDPC, *PRKDPC;

/* [DUPLICATED] KeInitializeDpc: set up Dpc to run DeferredRoutine(Dpc, DeferredContext, ...)
   at DISPATCH_LEVEL. Any IRQL. */
NTKERNELAPI VOID KeInitializeDpc(_Out_ PRKDPC Dpc, _In_ PKDEFERRED_ROUTINE DeferredRoutine,
                                 _In_opt_ PVOID DeferredContext);
/* [CUSTOMISED] KeInitializeThreadedDpc: as KeInitializeDpc, for a threaded DPC. Deviation:
   its routine runs at PASSIVE_LEVEL, as when threaded DPCs are enabled (the Windows
   default), so a routine that assumes DISPATCH_LEVEL (KeAcquireSpinLockAtDpcLevel) stops. */
NTKERNELAPI VOID KeInitializeThreadedDpc(_Out_ PRKDPC Dpc, _In_ PKDEFERRED_ROUTINE DeferredRoutine,
                                         _In_opt_ PVOID DeferredContext);
/* [CUSTOMISED] KeInsertQueueDpc: queue Dpc with the two arguments; FALSE if it is already
   queued (nothing changes). Any IRQL. The routine runs later at DISPATCH_LEVEL on a simulated
   thread of its own (with fibers, when the schedule picks it); the shim never touches the KDPC
   after its routine has started, so the routine may free it. An uninitialised KDPC stops
   DPC_INVALID. Deviation: one processor's DPC queue is modelled as one thread per queued DPC,
   so two different DPCs may run concurrently (as on a multiprocessor). Importance, target
   processor and KeSetTargetProcessorDpc are accepted and ignored. */
NTKERNELAPI BOOLEAN KeInsertQueueDpc(_Inout_ PRKDPC Dpc, _In_opt_ PVOID SystemArgument1,
                                     _In_opt_ PVOID SystemArgument2);
/* [DUPLICATED] KeRemoveQueueDpc: take Dpc off the queue before it runs; TRUE if it was
   queued. Does not wait for a routine that is already running. Any IRQL. */
NTKERNELAPI BOOLEAN KeRemoveQueueDpc(_Inout_ PRKDPC Dpc);
/* [DUPLICATED] KeFlushQueuedDpcs: return once every DPC queued before the call, and every
   DPC routine running at the call, has finished (the shim waits for all queued and running
   DPCs). IRQL == PASSIVE_LEVEL, else stop IRQL_TOO_HIGH. This, not KeCancelTimer, is what
   makes it safe to free what a timer's DPC uses. */
NTKERNELAPI VOID KeFlushQueuedDpcs(VOID);
/* [STUBBED] KeSetImportanceDpc / KeSetTargetProcessorDpc(Ex): recorded, no effect. */
NTKERNELAPI VOID KeSetImportanceDpc(_Inout_ PRKDPC Dpc, _In_ KDPC_IMPORTANCE Importance);
NTKERNELAPI VOID KeSetTargetProcessorDpc(_Inout_ PRKDPC Dpc, _In_ CCHAR Number);

/*
 * [CUSTOMISED] KTIMER: a waitable timer in caller storage (a dispatcher object: a wait on
 * it returns once it has expired). Protected by: the shim's dispatcher lock.
 * Deviation: DueTime holds the shim's monotonic expiry in ns while set; the shim's private
 * fields follow the WDK's.
 */
typedef struct _KTIMER {
    DISPATCHER_HEADER Header; /* TimerNotificationObject or TimerSynchronizationObject */
    ULARGE_INTEGER DueTime;
    LIST_ENTRY TimerListEntry;
    struct _KDPC *Dpc;
    ULONG Processor;
    LONG Period;              /* ms; 0: one-shot */
    PVOID KshimSetting;       /* the shim's record of the current setting while set, else NULL */
} KTIMER, *PKTIMER, *PRKTIMER;

/* [DUPLICATED] KeInitializeTimer(Ex): a not-signalled, not-set timer of Type
   (NotificationTimer by default). Any IRQL. */
NTKERNELAPI VOID KeInitializeTimer(_Out_ PKTIMER Timer);
NTKERNELAPI VOID KeInitializeTimerEx(_Out_ PKTIMER Timer, _In_ TIMER_TYPE Type);
/*
 * [CUSTOMISED] KeSetTimerEx: (re)set Timer to expire at DueTime (100 ns units: negative
 * relative, positive absolute system time) and then every Period ms (0: once); at each
 * expiry the timer is signalled and Dpc (if any) queued. Returns TRUE if the timer was
 * already set (that setting is cancelled). IRQL <= DISPATCH_LEVEL. An uninitialised timer
 * stops TIMER_INVALID.
 * Deviation: with real threads, expiry follows the monotonic clock; with fibers, time is
 * virtual and a due time is reached only when no simulated thread can run (as for every
 * timeout). A periodic timer never hides a deadlock: with fibers, after
 * 8 expiries in a row during which no thread other than timer and DPC threads made progress,
 * its due times no longer advance the clock, so a deadlock is reported instead. A set timer is
 * not pending work (kshim_drain_pending_work does not wait for it); its queued DPCs are.
 */
NTKERNELAPI BOOLEAN KeSetTimerEx(_Inout_ PKTIMER Timer, _In_ LARGE_INTEGER DueTime,
                                 _In_ LONG Period, _In_opt_ PKDPC Dpc);
/* [CUSTOMISED] KeSetTimer: KeSetTimerEx with Period 0. */
NTKERNELAPI BOOLEAN KeSetTimer(_Inout_ PKTIMER Timer, _In_ LARGE_INTEGER DueTime, _In_opt_ PKDPC Dpc);
/* [DUPLICATED] KeCancelTimer: un-set Timer; TRUE if it was set. Does NOT wait for, or remove,
   a DPC the timer has already queued or that is running: that takes KeFlushQueuedDpcs (a
   driver that frees the DPC's context after KeCancelTimer alone has a use-after-free).
   IRQL <= DISPATCH_LEVEL. */
NTKERNELAPI BOOLEAN KeCancelTimer(_Inout_ PKTIMER Timer);
/* [DUPLICATED] KeReadStateTimer: TRUE if the timer has expired since it was last set. */
NTKERNELAPI BOOLEAN KeReadStateTimer(_In_ PKTIMER Timer);

/* =========================================================================================
 * Registry (rtl_registry.c): RtlQueryRegistryValues over the harness's registry fixture
 * ========================================================================================= */

/* [DUPLICATED] Registry value types, WDK values. */
#define REG_NONE 0
#define REG_SZ 1
#define REG_EXPAND_SZ 2
#define REG_BINARY 3
#define REG_DWORD 4
#define REG_DWORD_LITTLE_ENDIAN 4
#define REG_DWORD_BIG_ENDIAN 5
#define REG_LINK 6
#define REG_MULTI_SZ 7
#define REG_RESOURCE_LIST 8
#define REG_QWORD 11
#define REG_QWORD_LITTLE_ENDIAN 11

/* [DUPLICATED] RelativeTo values of the Rtl registry routines. */
#define RTL_REGISTRY_ABSOLUTE 0
#define RTL_REGISTRY_SERVICES 1
#define RTL_REGISTRY_CONTROL 2
#define RTL_REGISTRY_WINDOWS_NT 3
#define RTL_REGISTRY_DEVICEMAP 4
#define RTL_REGISTRY_USER 5
#define RTL_REGISTRY_MAXIMUM 6
#define RTL_REGISTRY_HANDLE 0x40000000
#define RTL_REGISTRY_OPTIONAL 0x80000000

/* [DUPLICATED] Flags of an RTL_QUERY_REGISTRY_TABLE entry. */
#define RTL_QUERY_REGISTRY_SUBKEY 0x00000001
#define RTL_QUERY_REGISTRY_TOPKEY 0x00000002
#define RTL_QUERY_REGISTRY_REQUIRED 0x00000004
#define RTL_QUERY_REGISTRY_NOVALUE 0x00000008
#define RTL_QUERY_REGISTRY_NOEXPAND 0x00000010
#define RTL_QUERY_REGISTRY_DIRECT 0x00000020
#define RTL_QUERY_REGISTRY_DELETE 0x00000040
#define RTL_QUERY_REGISTRY_NOSTRING 0x00000080
#define RTL_QUERY_REGISTRY_TYPECHECK 0x00000100
#define RTL_QUERY_REGISTRY_TYPECHECK_SHIFT 24
#define RTL_QUERY_REGISTRY_TYPECHECK_MASK (0xffu << RTL_QUERY_REGISTRY_TYPECHECK_SHIFT)

/* [DUPLICATED] The per-value callback of RtlQueryRegistryValues (RTL_QUERY_REGISTRY_ROUTINE
   role type). Returning an error stops the query with that status. */
typedef NTSTATUS RTL_QUERY_REGISTRY_ROUTINE(_In_z_ PWSTR ValueName, _In_ ULONG ValueType,
                                            _In_reads_bytes_opt_(ValueLength) PVOID ValueData,
                                            _In_ ULONG ValueLength, _In_opt_ PVOID Context,
                                            _In_opt_ PVOID EntryContext);
typedef RTL_QUERY_REGISTRY_ROUTINE *PRTL_QUERY_REGISTRY_ROUTINE;

typedef struct _RTL_QUERY_REGISTRY_TABLE {
    PRTL_QUERY_REGISTRY_ROUTINE QueryRoutine;
    ULONG Flags;
    PWSTR Name;
    PVOID EntryContext;
    ULONG DefaultType;
    PVOID DefaultData;
    ULONG DefaultLength;
} RTL_QUERY_REGISTRY_TABLE, *PRTL_QUERY_REGISTRY_TABLE;

/*
 * [CUSTOMISED] RtlQueryRegistryValues: run QueryTable (ended by an entry whose QueryRoutine
 * and Name are both NULL) against the key RelativeTo\Path (RTL_REGISTRY_ABSOLUTE or
 * RTL_REGISTRY_SERVICES, optionally | RTL_REGISTRY_OPTIONAL). Every documented flag is
 * honoured: SUBKEY/TOPKEY, REQUIRED, NOVALUE, NOEXPAND (else REG_MULTI_SZ is passed one
 * string at a time), DIRECT (DWORD, QWORD and binary into EntryContext as documented,
 * strings into the UNICODE_STRING at EntryContext, allocating its buffer from pool when it
 * is NULL), DELETE, TYPECHECK, and defaults (DefaultType/Data/Length).
 * @retval STATUS_SUCCESS
 * @retval STATUS_OBJECT_NAME_NOT_FOUND  the key does not exist (unless OPTIONAL), or a
 *         REQUIRED value is missing and has no default
 * @retval STATUS_OBJECT_TYPE_MISMATCH   TYPECHECK and the value has another type
 * @retval STATUS_BUFFER_TOO_SMALL       DIRECT into a buffer that is too small
 * @retval STATUS_INSUFFICIENT_RESOURCES a DIRECT string buffer could not be allocated
 * @retval the first error a QueryRoutine returns
 * IRQL == PASSIVE_LEVEL. A DIRECT entry without EntryContext, or RTL_REGISTRY_HANDLE and
 * the other RelativeTo roots, stop REGISTRY_QUERY_INVALID.
 * Deviation: the registry is the harness's fixture (kshim_registry_load_fixture in kshim.h);
 * keys and value names compare case-insensitively in ASCII only; REG_EXPAND_SZ is not
 * expanded; Environment is ignored.
 */
NTSYSAPI NTSTATUS RtlQueryRegistryValues(_In_ ULONG RelativeTo, _In_ PCWSTR Path,
                                         _Inout_ PRTL_QUERY_REGISTRY_TABLE QueryTable,
                                         _In_opt_ PVOID Context, _In_opt_ PVOID Environment);

/* [DUPLICATED] RtlFreeUnicodeString: free a string whose buffer the system allocated from
   pool (as RtlQueryRegistryValues does for DIRECT strings), and clear it. */
NTSYSAPI VOID RtlFreeUnicodeString(_Inout_ PUNICODE_STRING UnicodeString);

#ifdef __cplusplus
}
#endif
