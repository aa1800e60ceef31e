/* SPDX-License-Identifier: MIT */
/*
 * echo_npi.h - the example NPI: a provider answers Request(value) with the value; a client
 * receives Notify(value). Dispatch tables hold function pointers only.
 */
#pragma once

#include <ntddk.h>
#include <netioddk.h>

/* {6e6d726b-6563-686f-8001-000000000001} */
static const NPIID EchoNpiId = {0x6e6d726b, 0x6563, 0x686f, {0x80, 0x01, 0, 0, 0, 0, 0, 1}};

typedef NTSTATUS ECHO_REQUEST_FN(_In_ PVOID ProviderBindingContext, _In_ ULONG Value,
                                 _Out_ PULONG Answer);
typedef NTSTATUS ECHO_NOTIFY_FN(_In_ PVOID ClientBindingContext, _In_ ULONG Value);

typedef struct _ECHO_PROVIDER_DISPATCH {
    ECHO_REQUEST_FN *Request;
} ECHO_PROVIDER_DISPATCH;

typedef struct _ECHO_CLIENT_DISPATCH {
    ECHO_NOTIFY_FN *Notify;
} ECHO_CLIENT_DISPATCH;
