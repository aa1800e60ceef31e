/* SPDX-License-Identifier: MIT */
/*
 * pktmonnpik.h - the types of the Packet Monitor NPIs (PktMon NetEvt) that NPI modules such as
 * packet-event clients refer to: the version header, the packet type, direction and context
 * enumerations, the NetEvt dispatch tables and client context, and the packed event-stream
 * records a NetEvt client receives.
 * [STUBBED]: types and constants only, declared from the WDK reference pages of pktmonnpik.h
 * (member names, types and packing as documented), so that a module's declarations compile and
 * lay out as on Windows. No Packet Monitor provider exists in the kit: a client of the NetEvt NPI
 * is fuzzed against the kit's generic peers.
 * Deviation: the NTDDI_VERSION and USER_MODE conditions of the WDK header are not modelled;
 * everything is declared for a kernel-mode build.
 */
#pragma once

#include <ntdef.h>
#include <ws2ipdef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a reported packet starts with. */
typedef enum _PKTMON_PACKET_TYPE {
    PktMonPayload_Unknown,
    PktMonPayload_Ethernet,
    PktMonPayload_WiFi,
    PktMonPayload_IP,
    PktMonPayload_HTTP,
    PktMonPayload_TCP,
    PktMonPayload_UDP,
    PktMonPayload_ARP,
    PktMonPayload_ICMP,
    PktMonPayload_ESP,
    PktMonPayload_AH,
    PktMonPayload_L4Payload
} PKTMON_PACKET_TYPE;

/* A component reports packets in two directions. */
typedef enum _PKTMON_DIRECTION {
    PktMonDir_In = 1,
    PktMonDir_Out
} PKTMON_DIRECTION;

/* What the Value of a PKTMON_PACKET_CONTEXT_IN identifies. */
typedef enum _PKTMON_PACKET_CONTEXT_ID {
    PktMonPacketContext_Unspecified,
    PktMonPacketContext_HttpRequestId
} PKTMON_PACKET_CONTEXT_ID;

/* Size and version of the structure it heads; version 0 is the only one defined. */
typedef struct _PKTMON_HEADER {
    USHORT Size;
    USHORT Version;
} PKTMON_HEADER;

/* Addresses, protocol and ports of a packet. */
typedef struct _PKTMON_PACKET_HEADER_INFORMATION {
    SOCKADDR_INET SockAddrLocal;
    SOCKADDR_INET SockAddrRemote;
    UCHAR IpProtocol;
    union _PKTMON_TRANSPORT_PROTOCOL {
        struct _PKTMON_TRANSPORT_UDP_PROTOCOL {
            USHORT PortLocal;
            USHORT PortRemote;
        } Udp;
        struct _PKTMON_TRANSPORT_TCP_PROTOCOL {
            USHORT PortLocal;
            USHORT PortRemote;
            UCHAR Flags;
        } Tcp;
        struct _PKTMON_TRANSPORT_ICMP_PROTOCOL {
            UCHAR Type;
            UCHAR Code;
        } Icmp;
    } Transport;
} PKTMON_PACKET_HEADER_INFORMATION;

/* A piece of data meaningful to the reporting component, such as a connection id. */
typedef struct _PKTMON_PACKET_CONTEXT_IN {
    PKTMON_HEADER Header;
    INT Id;
    PVOID Value;
    USHORT Size;
} PKTMON_PACKET_CONTEXT_IN;

/* The NetEvt provider's characteristics (the NPI-specific part of its registration). */
typedef struct _PKTMON_NETEVT_PROVIDER_CHARACTERISTICS {
    PKTMON_HEADER Header;
} PKTMON_NETEVT_PROVIDER_CHARACTERISTICS;

/* Heads both NetEvt dispatch tables. */
typedef struct _PKTMON_NETEVT_DISPATCH_HEADER {
    UINT16 Version;
    SIZE_T Size;
} PKTMON_NETEVT_DISPATCH_HEADER;

/* The provider's dispatch table: HandlerCount function pointers stored as UINT64. */
typedef struct _PKTMON_NETEVT_PROVIDER_DISPATCH {
    PKTMON_NETEVT_DISPATCH_HEADER Header;
    UINT32 HandlerCount;
    UINT64 *Handlers;
} PKTMON_NETEVT_PROVIDER_DISPATCH;

/* The client's dispatch table, passed as ClientDispatch to NmrClientAttachProvider; it must stay
   valid while the binding exists. */
typedef struct _PKTMON_NETEVT_CLIENT_DISPATCH {
    PKTMON_NETEVT_DISPATCH_HEADER Header;
    UINT32 HandlerCount;
    UINT64 *Handlers;
} PKTMON_NETEVT_CLIENT_DISPATCH;

/* The rundown reference of a client context is a cache-aware rundown, which the kit does not
   model: modules declare the pointer type themselves, as they must for the WDK header. */
struct _EX_RUNDOWN_REF_CACHE_AWARE;

/* A NetEvt client's per-binding context. */
typedef struct _PKTMON_NETEVT_CLIENT_CONTEXT {
    HANDLE NmrClientHandle;
    struct _EX_RUNDOWN_REF_CACHE_AWARE *RundownRef;
    BOOLEAN Enabled;
    PVOID ProviderContext;
    PKTMON_NETEVT_PROVIDER_DISPATCH *ProviderDispatch;
} PKTMON_NETEVT_CLIENT_CONTEXT;

/* The NetEvt event types. */
typedef UCHAR PKTMON_NETEVT_EVENT_TYPE;
#define PKTMON_EVENT_TYPE_PACKET_DROP ((PKTMON_NETEVT_EVENT_TYPE)100)
#define PKTMON_EVENT_TYPE_PACKET_FLOW ((PKTMON_NETEVT_EVENT_TYPE)101)

/* The event-stream records are byte-packed, as documented. */
#pragma pack(push, 1)

typedef struct _PKTMON_EVT_STREAM_PACKET_DESCRIPTOR {
    ULONG PacketOriginalLength;
    ULONG PacketLoggedLength;
    ULONG PacketMetaDataLength;
} PKTMON_EVT_STREAM_PACKET_DESCRIPTOR;

typedef struct _PKTMON_EVT_STREAM_METADATA {
    UINT64 PktGroupId;
    UINT16 PktCount;
    UINT16 AppearanceCount;
    UINT16 DirectionName;
    UINT16 PacketType;
    UINT16 ComponentId;
    UINT16 EdgeId;
    UINT16 FilterId;
    UINT32 DropReason;
    UINT32 DropLocation;
    UINT16 ProcNum;
    LARGE_INTEGER TimeStamp;
} PKTMON_EVT_STREAM_METADATA;

typedef struct _PKTMON_EVT_STREAM_PACKET_HEADER {
    UCHAR EventId;
    PKTMON_EVT_STREAM_PACKET_DESCRIPTOR PacketDescriptor;
    PKTMON_EVT_STREAM_METADATA Metadata;
} PKTMON_EVT_STREAM_PACKET_HEADER;

#pragma pack(pop)

/* Where a reported drop's records start and end. */
typedef struct _PKTMON_NETEVT_CLIENT_REPORT_PACKET_DROP_OUT {
    PKTMON_EVT_STREAM_PACKET_HEADER *BufferStart;
    UCHAR *BufferEnd;
} PKTMON_NETEVT_CLIENT_REPORT_PACKET_DROP_OUT;

#ifdef __cplusplus
}
#endif
