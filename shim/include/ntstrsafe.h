/* SPDX-License-Identifier: MIT */
/*
 * ntstrsafe.h - bounded string formatting and copying for kernel code (ANSI forms).
 *
 * [DUPLICATED] Same contract as the WDK's ntstrsafe.h for the functions below: the
 * destination is always NUL-terminated when its size is non-zero; truncation returns
 * STATUS_BUFFER_OVERFLOW; a zero size or a size above NTSTRSAFE_MAX_CCH returns
 * STATUS_INVALID_PARAMETER. Callable at any IRQL here.
 * Formats follow the WDK (LLP64) rules, as DbgPrint does: %lx/%lu take a 32-bit ULONG,
 * %llx/%I64x a 64-bit value, %wZ a PUNICODE_STRING; so no printf format attribute.
 * Deviation: only the ANSI (A) forms exist; the wide (W) forms are not provided yet.
 */
#pragma once

#include <stdarg.h>

#include <ntdef.h>
#include <ntstatus.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef STATUS_BUFFER_OVERFLOW
#define STATUS_BUFFER_OVERFLOW ((NTSTATUS)0x80000005L)
#endif

#define NTSTRSAFE_MAX_CCH 2147483647

typedef char *NTSTRSAFE_PSTR;
typedef const char *NTSTRSAFE_PCSTR;

NTSTATUS RtlStringCbVPrintfA(NTSTRSAFE_PSTR Destination, size_t DestinationSize,
                             NTSTRSAFE_PCSTR Format, va_list ArgList);
NTSTATUS RtlStringCbPrintfA(NTSTRSAFE_PSTR Destination, size_t DestinationSize,
                            NTSTRSAFE_PCSTR Format, ...);
NTSTATUS RtlStringCchPrintfA(NTSTRSAFE_PSTR Destination, size_t DestinationChars,
                             NTSTRSAFE_PCSTR Format, ...);
NTSTATUS RtlStringCbCopyA(NTSTRSAFE_PSTR Destination, size_t DestinationSize,
                          NTSTRSAFE_PCSTR Source);
NTSTATUS RtlStringCbCatA(NTSTRSAFE_PSTR Destination, size_t DestinationSize,
                         NTSTRSAFE_PCSTR Source);
NTSTATUS RtlStringCbLengthA(NTSTRSAFE_PCSTR String, size_t MaxSize, size_t *Length);

#ifdef __cplusplus
}
#endif
