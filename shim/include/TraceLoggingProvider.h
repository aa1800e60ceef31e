/* SPDX-License-Identifier: MIT */
/*
 * TraceLoggingProvider.h - TraceLogging as drivers write it, compiled to nothing checkable.
 *
 * [STUBBED] TRACELOGGING_DECLARE_PROVIDER / TRACELOGGING_DEFINE_PROVIDER declare and define a
 * provider handle; TraceLoggingRegister returns STATUS_SUCCESS; TraceLoggingUnregister does
 * nothing; TraceLoggingWrite evaluates none of its arguments, but names every expression in
 * a sizeof so that a variable used only for tracing draws no unused-variable warning. The
 * value macros (TraceLoggingValue, TraceLoggingUInt32, TraceLoggingString, ...) and the
 * event options (TraceLoggingLevel, TraceLoggingKeyword, TraceLoggingOpcode, ...) take part
 * only in that. Deviation: nothing is logged anywhere (ETW does not exist here).
 * Freestanding headers only.
 */
#pragma once

#include <ntdef.h>
#include <ntstatus.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kshim_tracelogging_provider {
    int unused;
} kshim_tracelogging_provider_t;
typedef const kshim_tracelogging_provider_t *TraceLoggingHProvider;

#define TRACELOGGING_DECLARE_PROVIDER(hProvider) extern TraceLoggingHProvider const hProvider
#define TRACELOGGING_DEFINE_PROVIDER(hProvider, providerName, providerId, ...)                 \
    static const kshim_tracelogging_provider_t hProvider##_kshim_storage = {0};               \
    TraceLoggingHProvider const hProvider = &hProvider##_kshim_storage
#define TRACELOGGING_DEFINE_PROVIDER_STORAGE(storageVariable, providerName, providerId, ...)   \
    static const kshim_tracelogging_provider_t storageVariable = {0}

static __inline__ NTSTATUS TraceLoggingRegister(TraceLoggingHProvider hProvider)
{
    (void)hProvider;
    return STATUS_SUCCESS;
}
static __inline__ NTSTATUS TraceLoggingRegisterEx(TraceLoggingHProvider hProvider, PVOID pEnableCallback,
                                                  PVOID pCallbackContext)
{
    (void)hProvider;
    (void)pEnableCallback;
    (void)pCallbackContext;
    return STATUS_SUCCESS;
}
static __inline__ void TraceLoggingUnregister(TraceLoggingHProvider hProvider)
{
    (void)hProvider;
}
static __inline__ BOOLEAN TraceLoggingProviderEnabled(TraceLoggingHProvider hProvider, UCHAR level,
                                                      ULONGLONG keyword)
{
    (void)hProvider;
    (void)level;
    (void)keyword;
    return FALSE;
}

/* Each argument becomes an unevaluated (void)sizeof(...) operand. */
#define TraceLoggingWrite(hProvider, eventName, ...)                                         \
    ((void)sizeof(hProvider), (void)sizeof(eventName), ##__VA_ARGS__, (void)0)
#define TraceLoggingWriteActivity(hProvider, eventName, pActivityId, pRelatedActivityId, ...) \
    ((void)sizeof(hProvider), (void)sizeof(pActivityId), (void)sizeof(pRelatedActivityId),   \
     ##__VA_ARGS__, (void)0)

#define KSHIM_TLG_VALUE(value, ...) ((void)sizeof(value))
#define KSHIM_TLG_OPTION(...) ((void)0)

#define TraceLoggingValue KSHIM_TLG_VALUE
#define TraceLoggingString KSHIM_TLG_VALUE
#define TraceLoggingWideString KSHIM_TLG_VALUE
#define TraceLoggingUnicodeString KSHIM_TLG_VALUE
#define TraceLoggingCountedString(value, length, ...) ((void)sizeof(value), (void)sizeof(length))
#define TraceLoggingBoolean KSHIM_TLG_VALUE
#define TraceLoggingInt8 KSHIM_TLG_VALUE
#define TraceLoggingUInt8 KSHIM_TLG_VALUE
#define TraceLoggingInt16 KSHIM_TLG_VALUE
#define TraceLoggingUInt16 KSHIM_TLG_VALUE
#define TraceLoggingInt32 KSHIM_TLG_VALUE
#define TraceLoggingUInt32 KSHIM_TLG_VALUE
#define TraceLoggingInt64 KSHIM_TLG_VALUE
#define TraceLoggingUInt64 KSHIM_TLG_VALUE
#define TraceLoggingHexUInt8 KSHIM_TLG_VALUE
#define TraceLoggingHexUInt16 KSHIM_TLG_VALUE
#define TraceLoggingHexUInt32 KSHIM_TLG_VALUE
#define TraceLoggingHexUInt64 KSHIM_TLG_VALUE
#define TraceLoggingIntPtr KSHIM_TLG_VALUE
#define TraceLoggingUIntPtr KSHIM_TLG_VALUE
#define TraceLoggingLong KSHIM_TLG_VALUE
#define TraceLoggingULong KSHIM_TLG_VALUE
#define TraceLoggingHexULong KSHIM_TLG_VALUE
#define TraceLoggingPointer KSHIM_TLG_VALUE
#define TraceLoggingGuid KSHIM_TLG_VALUE
#define TraceLoggingNTStatus KSHIM_TLG_VALUE
#define TraceLoggingHResult KSHIM_TLG_VALUE
#define TraceLoggingWinError KSHIM_TLG_VALUE
#define TraceLoggingChar KSHIM_TLG_VALUE
#define TraceLoggingWChar KSHIM_TLG_VALUE
#define TraceLoggingFloat32 KSHIM_TLG_VALUE
#define TraceLoggingFloat64 KSHIM_TLG_VALUE
#define TraceLoggingSocketAddress(value, length, ...) ((void)sizeof(value), (void)sizeof(length))
#define TraceLoggingBinary(value, length, ...) ((void)sizeof(value), (void)sizeof(length))
#define TraceLoggingLevel KSHIM_TLG_OPTION
#define TraceLoggingKeyword KSHIM_TLG_OPTION
#define TraceLoggingOpcode KSHIM_TLG_OPTION
#define TraceLoggingChannel KSHIM_TLG_OPTION
#define TraceLoggingEventTag KSHIM_TLG_OPTION
#define TraceLoggingDescription KSHIM_TLG_OPTION
#define TraceLoggingOptionGroup(...) ((void)0)

#ifdef __cplusplus
}
#endif
