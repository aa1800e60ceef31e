/* SPDX-License-Identifier: MIT */
/*
 * ip2string.h - IPv4 and IPv6 addresses to and from strings (RtlIpv4AddressToString...,
 * RtlIpv6StringToAddress...), ANSI and wide forms. Implemented in shim/rtl_ip.c.
 *
 * [CUSTOMISED] Output: IPv4 dotted decimal; IPv6 lowercase hex with the longest run of two or
 * more zero words written "::" (RFC 5952), and the last 32 bits dotted for v4-mapped
 * (::ffff:a.b.c.d) addresses; the Ex forms add "%scope" and "[...]:port" (IPv6) or ":port"
 * (IPv4). Input: Strict IPv4 is four decimal parts 0..255; non-strict also takes 1 to 3
 * parts and octal (0...) or hex (0x...) parts, as inet_aton does. IPv6 input takes "::", an
 * embedded dotted IPv4 tail, and for the Ex form "%scope" and "[...]:port".
 * @retval STATUS_SUCCESS, STATUS_INVALID_PARAMETER (not an address; *Terminator points at the
 * first character that does not fit). Deviation: scope names (non-numeric) are not parsed.
 * Any IRQL.
 */
#pragma once

#include <in6addr.h>
#include <inaddr.h>
#include <ntdef.h>

#ifdef __cplusplus
extern "C" {
#endif

NTSYSAPI PSTR NTAPI RtlIpv4AddressToStringA(_In_ const IN_ADDR *Addr, _Out_writes_(16) PSTR S);
NTSYSAPI PWSTR NTAPI RtlIpv4AddressToStringW(_In_ const IN_ADDR *Addr, _Out_writes_(16) PWSTR S);
NTSYSAPI NTSTATUS NTAPI RtlIpv4AddressToStringExA(_In_ const IN_ADDR *Address, _In_ USHORT Port,
                                                 _Out_writes_to_(*AddressStringLength, *AddressStringLength) PSTR AddressString,
                                                 _Inout_ PULONG AddressStringLength);
NTSYSAPI NTSTATUS NTAPI RtlIpv4AddressToStringExW(_In_ const IN_ADDR *Address, _In_ USHORT Port,
                                                 _Out_writes_to_(*AddressStringLength, *AddressStringLength) PWSTR AddressString,
                                                 _Inout_ PULONG AddressStringLength);
NTSYSAPI NTSTATUS NTAPI RtlIpv4StringToAddressA(_In_ PCSTR S, _In_ BOOLEAN Strict, _Out_ PCSTR *Terminator,
                                               _Out_ IN_ADDR *Addr);
NTSYSAPI NTSTATUS NTAPI RtlIpv4StringToAddressW(_In_ PCWSTR S, _In_ BOOLEAN Strict, _Out_ PCWSTR *Terminator,
                                               _Out_ IN_ADDR *Addr);
NTSYSAPI NTSTATUS NTAPI RtlIpv4StringToAddressExA(_In_ PCSTR AddressString, _In_ BOOLEAN Strict,
                                                 _Out_ IN_ADDR *Address, _Out_ PUSHORT Port);
NTSYSAPI NTSTATUS NTAPI RtlIpv4StringToAddressExW(_In_ PCWSTR AddressString, _In_ BOOLEAN Strict,
                                                 _Out_ IN_ADDR *Address, _Out_ PUSHORT Port);
NTSYSAPI PSTR NTAPI RtlIpv6AddressToStringA(_In_ const IN6_ADDR *Addr, _Out_writes_(46) PSTR S);
NTSYSAPI PWSTR NTAPI RtlIpv6AddressToStringW(_In_ const IN6_ADDR *Addr, _Out_writes_(46) PWSTR S);
NTSYSAPI NTSTATUS NTAPI RtlIpv6AddressToStringExA(_In_ const IN6_ADDR *Address, _In_ ULONG ScopeId, _In_ USHORT Port,
                                                 _Out_writes_to_(*AddressStringLength, *AddressStringLength) PSTR AddressString,
                                                 _Inout_ PULONG AddressStringLength);
NTSYSAPI NTSTATUS NTAPI RtlIpv6AddressToStringExW(_In_ const IN6_ADDR *Address, _In_ ULONG ScopeId, _In_ USHORT Port,
                                                 _Out_writes_to_(*AddressStringLength, *AddressStringLength) PWSTR AddressString,
                                                 _Inout_ PULONG AddressStringLength);
NTSYSAPI NTSTATUS NTAPI RtlIpv6StringToAddressA(_In_ PCSTR S, _Out_ PCSTR *Terminator, _Out_ IN6_ADDR *Addr);
NTSYSAPI NTSTATUS NTAPI RtlIpv6StringToAddressW(_In_ PCWSTR S, _Out_ PCWSTR *Terminator, _Out_ IN6_ADDR *Addr);
NTSYSAPI NTSTATUS NTAPI RtlIpv6StringToAddressExA(_In_ PCSTR AddressString, _Out_ IN6_ADDR *Address,
                                                 _Out_ PULONG ScopeId, _Out_ PUSHORT Port);
NTSYSAPI NTSTATUS NTAPI RtlIpv6StringToAddressExW(_In_ PCWSTR AddressString, _Out_ IN6_ADDR *Address,
                                                 _Out_ PULONG ScopeId, _Out_ PUSHORT Port);

#ifdef UNICODE
#define RtlIpv4AddressToString RtlIpv4AddressToStringW
#define RtlIpv4StringToAddress RtlIpv4StringToAddressW
#define RtlIpv6AddressToString RtlIpv6AddressToStringW
#define RtlIpv6StringToAddress RtlIpv6StringToAddressW
#else
#define RtlIpv4AddressToString RtlIpv4AddressToStringA
#define RtlIpv4StringToAddress RtlIpv4StringToAddressA
#define RtlIpv6AddressToString RtlIpv6AddressToStringA
#define RtlIpv6StringToAddress RtlIpv6StringToAddressA
#endif

#ifdef __cplusplus
}
#endif
