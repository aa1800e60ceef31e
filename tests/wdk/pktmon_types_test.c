// SPDX-License-Identifier: MIT
// pktmonnpik.h as a Packet Monitor NetEvt client sees it: the types compile under the driver
// dialect and lay out as documented (the event-stream records are byte-packed), and a client
// context and dispatch table are filled the way a NetEvt client fills them in its attach callback.
// clang-format off
#include <ntddk.h>
#include <netioddk.h>
// clang-format on
// As a NetEvt client does before including the header (the cache-aware rundown type is not in
// the WDK's public headers).
typedef struct _EX_RUNDOWN_REF_CACHE_AWARE *PEX_RUNDOWN_REF_CACHE_AWARE;
#include <pktmonnpik.h>

#include <stddef.h>
#include <stdio.h>

_Static_assert(sizeof(PKTMON_HEADER) == 4, "PKTMON_HEADER is two USHORTs");
_Static_assert(sizeof(PKTMON_EVT_STREAM_PACKET_DESCRIPTOR) == 12, "packed: three ULONGs");
_Static_assert(sizeof(PKTMON_EVT_STREAM_METADATA) == 8 + 7 * 2 + 2 * 4 + 2 + 8,
               "packed metadata: no padding before the time stamp");
_Static_assert(offsetof(PKTMON_EVT_STREAM_PACKET_HEADER, PacketDescriptor) == 1,
               "packed: the descriptor follows the one-byte event id");
_Static_assert(offsetof(PKTMON_EVT_STREAM_PACKET_HEADER, Metadata) == 13, "packed header");
_Static_assert(offsetof(PKTMON_NETEVT_DISPATCH_HEADER, Size) == 8, "SIZE_T is aligned");
_Static_assert(PKTMON_EVENT_TYPE_PACKET_DROP == 100 && PKTMON_EVENT_TYPE_PACKET_FLOW == 101,
               "event type values");
_Static_assert(PktMonPayload_IP == 3 && PktMonDir_Out == 2, "enumeration values");

static UINT64 client_handlers[2];

static const PKTMON_NETEVT_CLIENT_DISPATCH client_dispatch = {
    .Header = {.Version = 0, .Size = sizeof(PKTMON_NETEVT_CLIENT_DISPATCH)},
    .HandlerCount = RTL_NUMBER_OF(client_handlers),
    .Handlers = client_handlers,
};

int main(void)
{
    UINT64 provider_handlers[1] = {0};
    PKTMON_NETEVT_PROVIDER_DISPATCH provider_dispatch = {
        .Header = {.Version = 0, .Size = sizeof provider_dispatch},
        .HandlerCount = 1,
        .Handlers = provider_handlers,
    };
    PKTMON_NETEVT_CLIENT_CONTEXT context;
    RtlZeroMemory(&context, sizeof context);
    context.NmrClientHandle = (HANDLE)&context;
    context.ProviderDispatch = &provider_dispatch;
    context.Enabled = TRUE;

    UCHAR record[sizeof(PKTMON_EVT_STREAM_PACKET_HEADER) + 4];
    RtlZeroMemory(record, sizeof record);
    PKTMON_EVT_STREAM_PACKET_HEADER *header = (PKTMON_EVT_STREAM_PACKET_HEADER *)record;
    header->EventId = PKTMON_EVENT_TYPE_PACKET_DROP;
    header->PacketDescriptor.PacketLoggedLength = 4;
    PKTMON_NETEVT_CLIENT_REPORT_PACKET_DROP_OUT out = {header, record + sizeof record};

    if (context.ProviderDispatch->HandlerCount != 1 || client_dispatch.HandlerCount != 2 ||
        (size_t)(out.BufferEnd - (UCHAR *)out.BufferStart) != sizeof record || record[1] != 0 ||
        record[5] != 4) {
        fprintf(stderr, "pktmon types: unexpected layout\n");
        return 1;
    }
    printf("ok pktmonnpik.h types compile under the driver dialect and lay out as documented\n");
    return 0;
}
