/* SPDX-License-Identifier: MIT */
/*
 * nmr_handle.c - typed, never-reused handles and their lookup.
 *
 * Handles are not pointers: a handle is (serial << 3) | kind, so a stale or forged handle
 * is recognised by looking it up in the registrar's lists, never by dereferencing it.
 * Lookups are linear; registrations and bindings are few.
 */
#include "nmr_internal.h"

HANDLE nmr_handle_make(ULONG64 serial, nmr_handle_kind_t kind)
{
    return (HANDLE)(ULONG_PTR)((serial << NMR_HANDLE_KIND_BITS) | (ULONG64)kind);
}

nmr_handle_kind_t nmr_handle_kind(HANDLE handle)
{
    ULONG kind = (ULONG)((ULONG_PTR)handle & NMR_HANDLE_KIND_MASK);
    if (kind < NMR_HANDLE_CLIENT_REGISTRATION || kind > NMR_HANDLE_PROVIDER_BINDING) {
        return NMR_HANDLE_NONE;
    }
    return (nmr_handle_kind_t)kind;
}

ULONG64 nmr_handle_serial(HANDLE handle)
{
    return (ULONG64)(ULONG_PTR)handle >> NMR_HANDLE_KIND_BITS;
}

BOOLEAN nmr_handle_was_issued(HANDLE handle)
{
    ULONG64 serial = nmr_handle_serial(handle);
    return (BOOLEAN)(nmr_handle_kind(handle) != NMR_HANDLE_NONE && serial != 0 &&
                     serial < nmr_registrar.next_serial);
}

ULONG64 nmr_handle_next_serial(VOID)
{
    return nmr_registrar.next_serial++;
}

nmr_registration_t *nmr_registration_find(HANDLE handle)
{
    nmr_handle_kind_t kind = nmr_handle_kind(handle);
    PLIST_ENTRY head;
    if (kind == NMR_HANDLE_CLIENT_REGISTRATION) {
        head = &nmr_registrar.clients;
    } else if (kind == NMR_HANDLE_PROVIDER_REGISTRATION) {
        head = &nmr_registrar.providers;
    } else {
        return NULL;
    }
    ULONG64 serial = nmr_handle_serial(handle);
    for (PLIST_ENTRY entry = head->Flink; entry != head; entry = entry->Flink) {
        nmr_registration_t *registration = CONTAINING_RECORD(entry, nmr_registration_t, link);
        if (registration->serial == serial) {
            return registration;
        }
    }
    return NULL;
}

nmr_binding_t *nmr_binding_find(HANDLE handle, nmr_binding_side_t **side)
{
    nmr_handle_kind_t kind = nmr_handle_kind(handle);
    if (kind != NMR_HANDLE_CLIENT_BINDING && kind != NMR_HANDLE_PROVIDER_BINDING) {
        return NULL;
    }
    ULONG64 serial = nmr_handle_serial(handle);
    PLIST_ENTRY head = &nmr_registrar.bindings;
    for (PLIST_ENTRY entry = head->Flink; entry != head; entry = entry->Flink) {
        nmr_binding_t *binding = CONTAINING_RECORD(entry, nmr_binding_t, link);
        nmr_binding_side_t *candidate =
            kind == NMR_HANDLE_CLIENT_BINDING ? &binding->client_side : &binding->provider_side;
        if (candidate->serial == serial) {
            *side = candidate;
            return binding;
        }
    }
    return NULL;
}

const char *nmr_handle_kind_name(nmr_handle_kind_t kind)
{
    switch (kind) {
    case NMR_HANDLE_CLIENT_REGISTRATION:
        return "client registration handle";
    case NMR_HANDLE_PROVIDER_REGISTRATION:
        return "provider registration handle";
    case NMR_HANDLE_CLIENT_BINDING:
        return "client-side binding handle";
    case NMR_HANDLE_PROVIDER_BINDING:
        return "provider-side binding handle";
    case NMR_HANDLE_NONE:
        break;
    }
    return "value that is no NMR handle";
}
