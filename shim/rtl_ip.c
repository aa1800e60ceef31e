/* SPDX-License-Identifier: MIT */
/*
 * rtl_ip.c - ip2string.h: IPv4/IPv6 addresses to and from strings. Everything is done on
 * ASCII; the wide forms convert at the edges (no libc wide-character function is used, so
 * WCHAR means the same with and without -fshort-wchar).
 */
#include "kshim_stop.h"

#include <ip2string.h>
#include <stdio.h>
#include <string.h>

/* ---- to strings -------------------------------------------------------------------------- */

static size_t ipv4_format(const IN_ADDR *a, char *out)
{
    const UCHAR *b = (const UCHAR *)&a->S_un.S_addr;
    return (size_t)sprintf(out, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}

static size_t ipv6_format(const IN6_ADDR *a, char *out)
{
    USHORT words[8];
    for (int i = 0; i < 8; i++) {
        words[i] = (USHORT)(a->u.Byte[2 * i] << 8 | a->u.Byte[2 * i + 1]);
    }
    bool mapped = words[0] == 0 && words[1] == 0 && words[2] == 0 && words[3] == 0 &&
                  words[4] == 0 && words[5] == 0xffff;
    int hex_words = mapped ? 6 : 8;
    int best = -1, best_length = 1;
    for (int i = 0; i < hex_words;) {
        int j = i;
        while (j < hex_words && words[j] == 0) {
            j++;
        }
        if (j - i > best_length) {
            best = i;
            best_length = j - i;
        }
        i = j == i ? i + 1 : j;
    }
    size_t n = 0;
    for (int i = 0; i < hex_words; i++) {
        if (i == best) {
            n += (size_t)sprintf(out + n, "::");
            i += best_length - 1;
            continue;
        }
        if (i != 0 && i != best + best_length) {
            out[n++] = ':';
        }
        n += (size_t)sprintf(out + n, "%x", words[i]);
    }
    if (mapped) {
        if (n == 0 || out[n - 1] != ':') {
            out[n++] = ':';
        }
        n += (size_t)sprintf(out + n, "%u.%u.%u.%u", a->u.Byte[12], a->u.Byte[13], a->u.Byte[14],
                             a->u.Byte[15]);
    }
    out[n] = '\0';
    return n;
}

static void widen_into(const char *s, PWSTR out)
{
    size_t i = 0;
    for (; s[i]; i++) {
        out[i] = (WCHAR)(unsigned char)s[i];
    }
    out[i] = 0;
}

PSTR NTAPI RtlIpv4AddressToStringA(const IN_ADDR *Addr, PSTR S)
{
    return S + ipv4_format(Addr, S);
}

PWSTR NTAPI RtlIpv4AddressToStringW(const IN_ADDR *Addr, PWSTR S)
{
    char text[16];
    size_t n = ipv4_format(Addr, text);
    widen_into(text, S);
    return S + n;
}

PSTR NTAPI RtlIpv6AddressToStringA(const IN6_ADDR *Addr, PSTR S)
{
    return S + ipv6_format(Addr, S);
}

PWSTR NTAPI RtlIpv6AddressToStringW(const IN6_ADDR *Addr, PWSTR S)
{
    char text[64];
    size_t n = ipv6_format(Addr, text);
    widen_into(text, S);
    return S + n;
}

static USHORT port_host_order(USHORT network)
{
    return (USHORT)((network >> 8) | (network << 8));
}

/* The Ex forms: text (with its NUL) into a buffer of *length characters. */
static NTSTATUS deliver(const char *text, void *out, bool wide, PULONG length)
{
    ULONG needed = (ULONG)strlen(text) + 1;
    if (out == NULL || *length < needed) {
        *length = needed;
        return STATUS_INVALID_PARAMETER;
    }
    if (wide) {
        widen_into(text, out);
    } else {
        memcpy(out, text, needed);
    }
    *length = needed;
    return STATUS_SUCCESS;
}

static NTSTATUS ipv4_ex(const IN_ADDR *Address, USHORT Port, void *out, bool wide, PULONG length)
{
    char text[32];
    size_t n = ipv4_format(Address, text);
    if (Port != 0) {
        sprintf(text + n, ":%u", port_host_order(Port));
    }
    return deliver(text, out, wide, length);
}

static NTSTATUS ipv6_ex(const IN6_ADDR *Address, ULONG ScopeId, USHORT Port, void *out, bool wide,
                        PULONG length)
{
    char text[80];
    size_t n = 0;
    if (Port != 0) {
        text[n++] = '[';
    }
    n += ipv6_format(Address, text + n);
    if (ScopeId != 0) {
        n += (size_t)sprintf(text + n, "%%%u", ScopeId);
    }
    if (Port != 0) {
        sprintf(text + n, "]:%u", port_host_order(Port));
    }
    return deliver(text, out, wide, length);
}

NTSTATUS NTAPI RtlIpv4AddressToStringExA(const IN_ADDR *Address, USHORT Port, PSTR AddressString,
                                        PULONG AddressStringLength)
{
    return ipv4_ex(Address, Port, AddressString, false, AddressStringLength);
}

NTSTATUS NTAPI RtlIpv4AddressToStringExW(const IN_ADDR *Address, USHORT Port, PWSTR AddressString,
                                        PULONG AddressStringLength)
{
    return ipv4_ex(Address, Port, AddressString, true, AddressStringLength);
}

NTSTATUS NTAPI RtlIpv6AddressToStringExA(const IN6_ADDR *Address, ULONG ScopeId, USHORT Port,
                                        PSTR AddressString, PULONG AddressStringLength)
{
    return ipv6_ex(Address, ScopeId, Port, AddressString, false, AddressStringLength);
}

NTSTATUS NTAPI RtlIpv6AddressToStringExW(const IN6_ADDR *Address, ULONG ScopeId, USHORT Port,
                                        PWSTR AddressString, PULONG AddressStringLength)
{
    return ipv6_ex(Address, ScopeId, Port, AddressString, true, AddressStringLength);
}

/* ---- from strings ------------------------------------------------------------------------ */

static int digit_value(char c, unsigned base)
{
    int v = c >= '0' && c <= '9' ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : 99;
    return v < (int)base ? v : -1;
}

/* Parse an IPv4 address at s; *end is where parsing stopped. */
static bool ipv4_parse(const char *s, bool strict, const char **end, UCHAR out[4])
{
    uint64_t parts[4];
    int count = 0;
    const char *p = s;
    for (;;) {
        unsigned base = 10;
        if (!strict && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
            base = 16;
            p += 2;
        } else if (!strict && p[0] == '0' && digit_value(p[1], 8) >= 0) {
            base = 8;
            p++;
        }
        const char *digits = p;
        uint64_t value = 0;
        while (digit_value(*p, base) >= 0) {
            value = value * base + (uint64_t)digit_value(*p, base);
            if (value > 0xffffffffu) {
                *end = p;
                return false;
            }
            p++;
        }
        if (p == digits && base != 8) {
            *end = p;
            return false;
        }
        parts[count++] = value;
        if (*p != '.' || count == 4 || digit_value(p[1], 16) < 0) {
            break;
        }
        p++;
    }
    *end = p;
    if (strict && count != 4) {
        return false;
    }
    uint64_t limits[4] = {0xffffffffu, 0xffffff, 0xffff, 0xff};
    for (int i = 0; i < count - 1; i++) {
        if (parts[i] > 0xff) {
            return false;
        }
    }
    if (parts[count - 1] > limits[count - 1]) {
        return false;
    }
    uint32_t host = 0;
    for (int i = 0; i < count - 1; i++) {
        host |= (uint32_t)parts[i] << (24 - 8 * i);
    }
    host |= (uint32_t)parts[count - 1];
    out[0] = (UCHAR)(host >> 24);
    out[1] = (UCHAR)(host >> 16);
    out[2] = (UCHAR)(host >> 8);
    out[3] = (UCHAR)host;
    return true;
}

static bool ipv6_parse(const char *s, const char **end, UCHAR out[16])
{
    USHORT words[8] = {0};
    int count = 0, gap = -1;
    const char *p = s;
    if (p[0] == ':' && p[1] == ':') {
        gap = 0;
        p += 2;
    } else if (p[0] == ':') {
        *end = p;
        return false;
    }
    while (count < 8) {
        const char *start = p;
        /* An embedded IPv4 tail? */
        const char *q = p;
        while (digit_value(*q, 10) >= 0) {
            q++;
        }
        if (*q == '.' && count <= 6) {
            UCHAR v4[4];
            if (!ipv4_parse(p, true, &p, v4)) {
                *end = p;
                return false;
            }
            words[count++] = (USHORT)(v4[0] << 8 | v4[1]);
            words[count++] = (USHORT)(v4[2] << 8 | v4[3]);
            break;
        }
        unsigned value = 0;
        int digits = 0;
        while (digit_value(*p, 16) >= 0 && digits < 5) {
            value = value * 16 + (unsigned)digit_value(*p, 16);
            p++;
            digits++;
        }
        if (digits == 0) {
            if (gap == count && p == start) {
                break; /* "::" at the end */
            }
            *end = p;
            return false;
        }
        if (digits > 4) {
            *end = p;
            return false;
        }
        words[count++] = (USHORT)value;
        if (p[0] == ':' && p[1] == ':') {
            if (gap >= 0) {
                *end = p;
                return false; /* "::" may appear once */
            }
            gap = count;
            p += 2;
            continue;
        }
        if (p[0] == ':' && digit_value(p[1], 16) >= 0) {
            p++;
            continue;
        }
        break;
    }
    *end = p;
    if (gap < 0 ? count != 8 : count > 7) {
        return false;
    }
    USHORT full[8] = {0};
    int tail = gap < 0 ? 0 : count - gap;
    for (int i = 0; i < (gap < 0 ? count : gap); i++) {
        full[i] = words[i];
    }
    for (int i = 0; i < tail; i++) {
        full[8 - tail + i] = words[gap + i];
    }
    for (int i = 0; i < 8; i++) {
        out[2 * i] = (UCHAR)(full[i] >> 8);
        out[2 * i + 1] = (UCHAR)full[i];
    }
    return true;
}

/* ASCII copy of a wide string (a non-ASCII character ends it, so parsing stops there). */
static size_t narrow_copy(PCWSTR s, char *out, size_t size)
{
    size_t n = 0;
    while (n + 1 < size && s[n] != 0 && s[n] < 0x80) {
        out[n] = (char)s[n];
        n++;
    }
    out[n] = '\0';
    return n;
}

NTSTATUS NTAPI RtlIpv4StringToAddressA(PCSTR S, BOOLEAN Strict, PCSTR *Terminator, IN_ADDR *Addr)
{
    UCHAR bytes[4];
    bool ok = ipv4_parse(S, Strict != FALSE, Terminator, bytes);
    if (ok) {
        memcpy(&Addr->S_un.S_addr, bytes, 4);
    }
    return ok ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
}

NTSTATUS NTAPI RtlIpv4StringToAddressW(PCWSTR S, BOOLEAN Strict, PCWSTR *Terminator, IN_ADDR *Addr)
{
    char text[64];
    narrow_copy(S, text, sizeof text);
    PCSTR end;
    NTSTATUS status = RtlIpv4StringToAddressA(text, Strict, &end, Addr);
    *Terminator = S + (end - text);
    return status;
}

NTSTATUS NTAPI RtlIpv6StringToAddressA(PCSTR S, PCSTR *Terminator, IN6_ADDR *Addr)
{
    UCHAR bytes[16];
    bool ok = ipv6_parse(S, Terminator, bytes);
    if (ok) {
        memcpy(Addr->u.Byte, bytes, 16);
    }
    return ok ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
}

NTSTATUS NTAPI RtlIpv6StringToAddressW(PCWSTR S, PCWSTR *Terminator, IN6_ADDR *Addr)
{
    char text[96];
    narrow_copy(S, text, sizeof text);
    PCSTR end;
    NTSTATUS status = RtlIpv6StringToAddressA(text, &end, Addr);
    *Terminator = S + (end - text);
    return status;
}

static bool parse_decimal(const char **p, uint64_t max, uint64_t *out)
{
    uint64_t value = 0;
    const char *start = *p;
    while (digit_value(**p, 10) >= 0) {
        value = value * 10 + (uint64_t)digit_value(**p, 10);
        if (value > max) {
            return false;
        }
        (*p)++;
    }
    *out = value;
    return *p != start;
}

NTSTATUS NTAPI RtlIpv4StringToAddressExA(PCSTR AddressString, BOOLEAN Strict, IN_ADDR *Address, PUSHORT Port)
{
    PCSTR end;
    IN_ADDR address;
    if (!NT_SUCCESS(RtlIpv4StringToAddressA(AddressString, Strict, &end, &address))) {
        return STATUS_INVALID_PARAMETER;
    }
    uint64_t port = 0;
    if (*end == ':' && !(end++, parse_decimal(&end, 0xffff, &port))) {
        return STATUS_INVALID_PARAMETER;
    }
    if (*end != '\0') {
        return STATUS_INVALID_PARAMETER;
    }
    *Address = address;
    *Port = port_host_order((USHORT)port);
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI RtlIpv4StringToAddressExW(PCWSTR AddressString, BOOLEAN Strict, IN_ADDR *Address, PUSHORT Port)
{
    char text[64];
    if (narrow_copy(AddressString, text, sizeof text) == sizeof text - 1) {
        return STATUS_INVALID_PARAMETER;
    }
    return RtlIpv4StringToAddressExA(text, Strict, Address, Port);
}

NTSTATUS NTAPI RtlIpv6StringToAddressExA(PCSTR AddressString, IN6_ADDR *Address, PULONG ScopeId, PUSHORT Port)
{
    const char *p = AddressString;
    bool bracketed = *p == '[';
    p += bracketed;
    IN6_ADDR address;
    PCSTR end;
    if (!NT_SUCCESS(RtlIpv6StringToAddressA(p, &end, &address))) {
        return STATUS_INVALID_PARAMETER;
    }
    uint64_t scope = 0, port = 0;
    if (*end == '%' && !(end++, parse_decimal(&end, 0xffffffffu, &scope))) {
        return STATUS_INVALID_PARAMETER;
    }
    if (bracketed) {
        if (*end++ != ']') {
            return STATUS_INVALID_PARAMETER;
        }
        if (*end == ':' && !(end++, parse_decimal(&end, 0xffff, &port))) {
            return STATUS_INVALID_PARAMETER;
        }
    }
    if (*end != '\0') {
        return STATUS_INVALID_PARAMETER;
    }
    *Address = address;
    *ScopeId = (ULONG)scope;
    *Port = port_host_order((USHORT)port);
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI RtlIpv6StringToAddressExW(PCWSTR AddressString, IN6_ADDR *Address, PULONG ScopeId, PUSHORT Port)
{
    char text[128];
    if (narrow_copy(AddressString, text, sizeof text) == sizeof text - 1) {
        return STATUS_INVALID_PARAMETER;
    }
    return RtlIpv6StringToAddressExA(text, Address, ScopeId, Port);
}
