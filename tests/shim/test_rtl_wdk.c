/* SPDX-License-Identifier: MIT */
/*
 * test_rtl_wdk.c - the Rtl and Ex helpers of the WDK surface added for NPI modules:
 * ip2string conversions, ntintsafe, bit scans, ExUuidCreate, RtlFailFast, NT_ASSERT*.
 */
#include <string.h>

#include <ip2string.h>
#include <kshim/kshim.h>
#include <ntddk.h>
#include <ntintsafe.h>
#include <ws2ipdef.h>

#include "nmr_test.h"

static void check_ipv6_round_trip(const char *text, const char *canonical)
{
    IN6_ADDR address;
    PCSTR end;
    char out[64];
    CHECK_STATUS(RtlIpv6StringToAddressA(text, &end, &address), STATUS_SUCCESS);
    CHECK(*end == '\0');
    RtlIpv6AddressToStringA(&address, out);
    if (strcmp(out, canonical) != 0) {
        nmr_test_fail(__FILE__, __LINE__, "%s printed as %s, expected %s", text, out, canonical);
    }
}

NMR_TEST(ipv6_addresses_print_in_canonical_form_and_parse_back)
{
    check_ipv6_round_trip("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
    check_ipv6_round_trip("::", "::");
    check_ipv6_round_trip("::1", "::1");
    check_ipv6_round_trip("fe80::1:0:0:2", "fe80::1:0:0:2");
    check_ipv6_round_trip("1:0:0:2:0:0:0:3", "1:0:0:2::3");
    check_ipv6_round_trip("::ffff:192.0.2.7", "::ffff:192.0.2.7");
    check_ipv6_round_trip("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8");
    IN6_ADDR address;
    PCSTR end;
    CHECK_STATUS(RtlIpv6StringToAddressA("1::2::3", &end, &address), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(RtlIpv6StringToAddressA("12345::", &end, &address), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(RtlIpv6StringToAddressA("1:2:3:4:5:6:7", &end, &address), STATUS_INVALID_PARAMETER);
}

NMR_TEST(ipv4_strict_and_lenient_parsing_and_terminator)
{
    IN_ADDR address;
    PCSTR end;
    char out[16];
    CHECK_STATUS(RtlIpv4StringToAddressA("10.1.2.3:80", TRUE, &end, &address), STATUS_SUCCESS);
    CHECK(*end == ':');
    RtlIpv4AddressToStringA(&address, out);
    CHECK(strcmp(out, "10.1.2.3") == 0);
    CHECK_STATUS(RtlIpv4StringToAddressA("10.1", TRUE, &end, &address), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(RtlIpv4StringToAddressA("10.1", FALSE, &end, &address), STATUS_SUCCESS);
    RtlIpv4AddressToStringA(&address, out);
    CHECK(strcmp(out, "10.0.0.1") == 0);
    CHECK_STATUS(RtlIpv4StringToAddressA("0x7f.1", FALSE, &end, &address), STATUS_SUCCESS);
    RtlIpv4AddressToStringA(&address, out);
    CHECK(strcmp(out, "127.0.0.1") == 0);
    CHECK_STATUS(RtlIpv4StringToAddressA("256.1.1.1", TRUE, &end, &address), STATUS_INVALID_PARAMETER);
}

NMR_TEST(ex_forms_carry_port_and_scope_and_wide_forms_match)
{
    IN6_ADDR address;
    ULONG scope;
    USHORT port;
    CHECK_STATUS(RtlIpv6StringToAddressExA("[fe80::1%7]:443", &address, &scope, &port), STATUS_SUCCESS);
    CHECK_EQ(scope, 7);
    CHECK_EQ(port, (443 >> 8) | ((443 & 0xff) << 8)); /* network byte order */
    char text[80];
    ULONG length = sizeof text;
    CHECK_STATUS(RtlIpv6AddressToStringExA(&address, scope, port, text, &length), STATUS_SUCCESS);
    CHECK(strcmp(text, "[fe80::1%7]:443") == 0);
    CHECK_EQ(length, strlen(text) + 1);
    ULONG small = 4;
    CHECK_STATUS(RtlIpv6AddressToStringExA(&address, scope, port, text, &small), STATUS_INVALID_PARAMETER);
    CHECK_EQ(small, strlen("[fe80::1%7]:443") + 1);

    static const WCHAR wide[] = {'1', '9', '2', '.', '0', '.', '2', '.', '9', 0};
    IN_ADDR v4;
    PCWSTR end;
    CHECK_STATUS(RtlIpv4StringToAddressW(wide, TRUE, &end, &v4), STATUS_SUCCESS);
    CHECK(end == wide + 9);
    WCHAR out[16];
    PWSTR out_end = RtlIpv4AddressToStringW(&v4, out);
    CHECK(out_end == out + 9);
    CHECK(memcmp(out, wide, sizeof wide) == 0);
}

NMR_TEST(intsafe_routines_report_overflow_with_the_error_result)
{
    ULONG u;
    SIZE_T size;
    USHORT small;
    LONG l;
    CHECK_STATUS(RtlULongAdd(1, 2, &u), STATUS_SUCCESS);
    CHECK_EQ(u, 3);
    CHECK_STATUS(RtlULongAdd(MAXULONG, 1, &u), STATUS_INTEGER_OVERFLOW);
    CHECK_EQ(u, MAXULONG);
    CHECK_STATUS(RtlSizeTMult(MAXSIZE_T / 2, 3, &size), STATUS_INTEGER_OVERFLOW);
    CHECK_STATUS(RtlULongSub(1, 2, &u), STATUS_INTEGER_OVERFLOW);
    CHECK_STATUS(RtlULongToUShort(70000, &small), STATUS_INTEGER_OVERFLOW);
    CHECK_STATUS(RtlULongToUShort(7, &small), STATUS_SUCCESS);
    CHECK_EQ(small, 7);
    CHECK_STATUS(RtlLongAdd(MAXLONG, 1, &l), STATUS_INTEGER_OVERFLOW);
    CHECK_STATUS(RtlLongToULong(-1, &u), STATUS_INTEGER_OVERFLOW);
}

NMR_TEST(bit_scans_and_32x32_products)
{
    CHECK_EQ(RtlFindMostSignificantBit(1), 0);
    CHECK_EQ(RtlFindMostSignificantBit(0x8000000000000000ULL), 63);
    CHECK_EQ(RtlFindLeastSignificantBit(0x8000000000000000ULL), 63);
    CHECK_EQ(RtlFindLeastSignificantBit(0x18), 3);
    CHECK_EQ(RtlFindMostSignificantBit(0), -1);
    CHECK_EQ(RtlFindLeastSignificantBit(0), -1);
    CHECK(UInt32x32To64(0xffffffffu, 0xffffffffu) == 0xfffffffe00000001ULL);
    CHECK(Int32x32To64(-2, 3) == -6);
}

NMR_TEST(uuids_are_version_4_distinct_and_replay_after_reset)
{
    UUID a, b, again;
    CHECK_STATUS(ExUuidCreate(&a), STATUS_SUCCESS);
    CHECK_STATUS(ExUuidCreate(&b), STATUS_SUCCESS);
    CHECK(memcmp(&a, &b, sizeof a) != 0);
    CHECK_EQ(a.Data3 >> 12, 4);
    CHECK_EQ(a.Data4[0] >> 6, 2);
    kshim_reset();
    CHECK_STATUS(ExUuidCreate(&again), STATUS_SUCCESS);
    CHECK(memcmp(&a, &again, sizeof a) == 0);
}

NMR_TEST(fail_fast_is_a_named_stop)
{
    EXPECT_STOP("*** KSHIM STOP FAST_FAIL: RtlFailFast(3)", RtlFailFast(FAST_FAIL_CORRUPT_LIST_ENTRY));
}

#undef ASSERT
#define ASSERT(e) NT_ASSERT_ASSUME(e) /* as XDP does: must not recurse */

NMR_TEST(nt_assert_family_are_boolean_expressions_independent_of_assert)
{
    BOOLEAN ok = NT_ASSERT(1 + 1 == 2);
    CHECK(ok);
    CHECK(NT_VERIFY(TRUE));
    ASSERT(ok);
    EXPECT_STOP("*** KSHIM STOP ASSERTION_FAILED: ok == 0 at test_rtl_wdk.c:", ASSERT(ok == 0));
}
