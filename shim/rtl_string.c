/* SPDX-License-Identifier: MIT */
/*
 * rtl_string.c - counted-string routines (RtlInitUnicodeString, RtlEqualUnicodeString, ...).
 */
#include "kshim_stop.h"

VOID RtlInitUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString)
{
    size_t n = 0;
    if (SourceString) {
        while (SourceString[n]) {
            n++;
        }
    }
    if (n * sizeof(WCHAR) > MAXUSHORT - sizeof(WCHAR)) {
        kshim_stop("STRING_TOO_LONG", "RtlInitUnicodeString: %zu characters do not fit a UNICODE_STRING", n);
    }
    DestinationString->Buffer = (PWCH)SourceString;
    DestinationString->Length = (USHORT)(n * sizeof(WCHAR));
    DestinationString->MaximumLength = SourceString ? (USHORT)((n + 1) * sizeof(WCHAR)) : 0;
}

VOID RtlInitAnsiString(PANSI_STRING DestinationString, PCSTR SourceString)
{
    size_t n = 0;
    if (SourceString) {
        while (SourceString[n]) {
            n++;
        }
    }
    if (n > MAXUSHORT - 1) {
        kshim_stop("STRING_TOO_LONG", "RtlInitAnsiString: %zu characters do not fit an ANSI_STRING", n);
    }
    DestinationString->Buffer = (PCHAR)SourceString;
    DestinationString->Length = (USHORT)n;
    DestinationString->MaximumLength = SourceString ? (USHORT)(n + 1) : 0;
}

VOID RtlInitString(PSTRING DestinationString, PCSTR SourceString)
{
    RtlInitAnsiString(DestinationString, SourceString);
}

static WCHAR ascii_upcase(WCHAR c)
{
    return (c >= 'a' && c <= 'z') ? (WCHAR)(c - 'a' + 'A') : c;
}

BOOLEAN RtlEqualUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2, BOOLEAN CaseInSensitive)
{
    if (String1->Length != String2->Length) {
        return FALSE;
    }
    size_t n = String1->Length / sizeof(WCHAR);
    for (size_t i = 0; i < n; i++) {
        WCHAR a = String1->Buffer[i], b = String2->Buffer[i];
        if (CaseInSensitive) {
            a = ascii_upcase(a);
            b = ascii_upcase(b);
        }
        if (a != b) {
            return FALSE;
        }
    }
    return TRUE;
}

VOID RtlCopyUnicodeString(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString)
{
    if (SourceString == NULL) {
        DestinationString->Length = 0;
        return;
    }
    USHORT n = SourceString->Length;
    if (n > DestinationString->MaximumLength) {
        n = DestinationString->MaximumLength;
    }
    __builtin_memmove(DestinationString->Buffer, SourceString->Buffer, n);
    DestinationString->Length = n;
    if (n + sizeof(WCHAR) <= DestinationString->MaximumLength) {
        DestinationString->Buffer[n / sizeof(WCHAR)] = 0;
    }
}
