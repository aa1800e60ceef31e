/* SPDX-License-Identifier: MIT */
/*
 * ws2ipdef.h - the IP-specific socket definitions network modules use: IN6_ADDR,
 * SOCKADDR_IN6, SOCKADDR_INET. [DUPLICATED]: Windows layouts. Freestanding headers only.
 */
#pragma once

#include <in6addr.h>
#include <ws2def.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sockaddr_in6 {
    ADDRESS_FAMILY sin6_family;
    USHORT sin6_port;    /* network byte order */
    ULONG sin6_flowinfo;
    IN6_ADDR sin6_addr;
    union {
        ULONG sin6_scope_id;
        SCOPE_ID sin6_scope_struct;
    };
} SOCKADDR_IN6_LH, *PSOCKADDR_IN6_LH, SOCKADDR_IN6, *PSOCKADDR_IN6;

typedef union _SOCKADDR_INET {
    SOCKADDR_IN Ipv4;
    SOCKADDR_IN6 Ipv6;
    ADDRESS_FAMILY si_family;
} SOCKADDR_INET, *PSOCKADDR_INET;

#define INET_ADDRSTRLEN 22
#define INET6_ADDRSTRLEN 65

#ifdef __cplusplus
}
#endif
