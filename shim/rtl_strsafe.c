/* SPDX-License-Identifier: MIT */
/* rtl_strsafe.c - the ntstrsafe.h ANSI functions. Formats with the WDK's rules (as
   DbgPrint does: %lx is a 32-bit ULONG), not the C library's. */
#include <string.h>

#include <ntstrsafe.h>

#include "kshim_stop.h"

static NTSTATUS check_size(NTSTRSAFE_PSTR destination, size_t size)
{
    if (destination == NULL || size == 0 || size > NTSTRSAFE_MAX_CCH) {
        return STATUS_INVALID_PARAMETER;
    }
    return STATUS_SUCCESS;
}

NTSTATUS RtlStringCbVPrintfA(NTSTRSAFE_PSTR Destination, size_t DestinationSize,
                             NTSTRSAFE_PCSTR Format, va_list ArgList)
{
    NTSTATUS status = check_size(Destination, DestinationSize);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    size_t written = kshim_vformat_windows(Destination, DestinationSize, Format, ArgList);
    return written >= DestinationSize ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

NTSTATUS RtlStringCbPrintfA(NTSTRSAFE_PSTR Destination, size_t DestinationSize,
                            NTSTRSAFE_PCSTR Format, ...)
{
    va_list arguments;
    va_start(arguments, Format);
    NTSTATUS status = RtlStringCbVPrintfA(Destination, DestinationSize, Format, arguments);
    va_end(arguments);
    return status;
}

NTSTATUS RtlStringCchPrintfA(NTSTRSAFE_PSTR Destination, size_t DestinationChars,
                             NTSTRSAFE_PCSTR Format, ...)
{
    va_list arguments;
    va_start(arguments, Format);
    NTSTATUS status = RtlStringCbVPrintfA(Destination, DestinationChars, Format, arguments);
    va_end(arguments);
    return status;
}

NTSTATUS RtlStringCbLengthA(NTSTRSAFE_PCSTR String, size_t MaxSize, size_t *Length)
{
    if (String == NULL || MaxSize == 0 || MaxSize > NTSTRSAFE_MAX_CCH) {
        return STATUS_INVALID_PARAMETER;
    }
    size_t length = strnlen(String, MaxSize);
    if (length == MaxSize) {
        return STATUS_INVALID_PARAMETER;
    }
    if (Length != NULL) {
        *Length = length;
    }
    return STATUS_SUCCESS;
}

NTSTATUS RtlStringCbCopyA(NTSTRSAFE_PSTR Destination, size_t DestinationSize,
                          NTSTRSAFE_PCSTR Source)
{
    NTSTATUS status = check_size(Destination, DestinationSize);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    size_t length = strlen(Source);
    if (length >= DestinationSize) {
        memcpy(Destination, Source, DestinationSize - 1);
        Destination[DestinationSize - 1] = '\0';
        return STATUS_BUFFER_OVERFLOW;
    }
    memcpy(Destination, Source, length + 1);
    return STATUS_SUCCESS;
}

NTSTATUS RtlStringCbCatA(NTSTRSAFE_PSTR Destination, size_t DestinationSize,
                         NTSTRSAFE_PCSTR Source)
{
    size_t used;
    NTSTATUS status = RtlStringCbLengthA(Destination, DestinationSize, &used);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    return RtlStringCbCopyA(Destination + used, DestinationSize - used, Source);
}
