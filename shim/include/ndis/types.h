/* SPDX-License-Identifier: MIT */
/*
 * ndis/types.h - the basic NDIS types NPI headers refer to (NDIS_HANDLE, NDIS_STATUS,
 * NET_IFINDEX, NET_LUID, NDIS_PORT_NUMBER, the opaque NET_BUFFER_LIST).
 * [STUBBED]: types only, for declarations to compile; no NDIS routine is provided.
 * Freestanding headers only.
 */
#pragma once

#include <ntdef.h>
#include <ntstatus.h>

typedef PVOID NDIS_HANDLE, *PNDIS_HANDLE;
typedef NTSTATUS NDIS_STATUS, *PNDIS_STATUS;
typedef ULONG NET_IFINDEX, *PNET_IFINDEX;
typedef ULONG NDIS_PORT_NUMBER, *PNDIS_PORT_NUMBER;
typedef USHORT NET_IFTYPE, *PNET_IFTYPE;
typedef union _NET_LUID_LH {
    ULONG64 Value;
    struct {
        ULONG64 Reserved : 24;
        ULONG64 NetLuidIndex : 24;
        ULONG64 IfType : 16;
    } Info;
} NET_LUID_LH, *PNET_LUID_LH, NET_LUID, *PNET_LUID, IF_LUID, *PIF_LUID;
typedef struct _NET_BUFFER_LIST NET_BUFFER_LIST, *PNET_BUFFER_LIST;
typedef struct _NET_BUFFER NET_BUFFER, *PNET_BUFFER;

#define NDIS_STATUS_SUCCESS ((NDIS_STATUS)STATUS_SUCCESS)
#define NDIS_STATUS_PENDING ((NDIS_STATUS)STATUS_PENDING)
#define NDIS_STATUS_FAILURE ((NDIS_STATUS)STATUS_UNSUCCESSFUL)
#define NDIS_STATUS_RESOURCES ((NDIS_STATUS)STATUS_INSUFFICIENT_RESOURCES)
