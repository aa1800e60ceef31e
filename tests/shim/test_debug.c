/* SPDX-License-Identifier: MIT */
/*
 * test_debug.c - DbgPrint formatting (Windows sizes), ASSERT family, KeBugCheckEx,
 * DbgBreakPoint and kshim_stop's line format.
 */
#include <string.h>

#include <kshim/kshim.h>
#include <ntddk.h>

#include "nmr_test.h"

/* Runs the statements in a child that then stops, and leaves its stderr for inspection. */
#define CAPTURE_STDERR(...) EXPECT_STOP("*** KSHIM STOP CAPTURED:", { __VA_ARGS__; kshim_stop("CAPTURED", "done"); })

static void expect_output(const char *text)
{
    if (strstr(nmr_test_last_child_output(), text) == NULL) {
        fprintf(stderr, "missing \"%s\" in:\n%s", text, nmr_test_last_child_output());
        CHECK(false);
    }
}

NMR_TEST(dbg_print_treats_l_as_32_bit_like_windows)
{
    CAPTURE_STDERR(DbgPrint("[%lu %lx %ld]\n", (ULONG)4000000000u, (ULONG)0xdeadbeef, (LONG)-5));
    expect_output("[4000000000 deadbeef -5]");
}

NMR_TEST(dbg_print_formats_64_bit_and_pointer_sized_values)
{
    CAPTURE_STDERR(DbgPrint("[%I64x %llu %Iu %zx %08x]\n", (ULONG64)0x123456789abcULL,
                            (ULONGLONG)18446744073709551615ULL, (SIZE_T)42, (SIZE_T)255, 0x1f));
    expect_output("[123456789abc 18446744073709551615 42 ff 0000001f]");
}

NMR_TEST(dbg_print_formats_counted_and_wide_strings)
{
    static const WCHAR wide[] = {'w', 'i', 'd', 'e', 0};
    CAPTURE_STDERR({
        UNICODE_STRING u;
        ANSI_STRING a;
        RtlInitUnicodeString(&u, wide);
        RtlInitAnsiString(&a, "ansi-and-more");
        a.Length = 4;
        DbgPrint("[%wZ %Z %ws %S %s %c %*d %-3s|]\n", &u, &a, wide, wide, "narrow", 'c', 4, 7, "ab");
    });
    expect_output("[wide ansi wide wide narrow c    7 ab |]");
}

NMR_TEST(dbg_print_ex_prints_every_component_and_level)
{
    CAPTURE_STDERR({
        DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_INFO_LEVEL, "info %d\n", 1);
        KdPrint(("kd %s\n", "print"));
        KdPrintEx((DPFLTR_IHVNETWORK_ID, DPFLTR_ERROR_LEVEL, "kdex %u\n", 2u));
    });
    expect_output("info 1\n");
    expect_output("kd print\n");
    expect_output("kdex 2\n");
}

NMR_TEST(assert_failure_stops_naming_expression_and_line)
{
    EXPECT_STOP("*** KSHIM STOP ASSERTION_FAILED: 1 + 1 == 3 at test_debug.c:", ASSERT(1 + 1 == 3));
}

NMR_TEST(nt_assert_and_nt_verify_pass_when_true)
{
    int evaluated = 0;
    NT_ASSERT(1 == 1);
    CHECK(NT_VERIFY(++evaluated == 1));
    CHECK_EQ(evaluated, 1);
    ASSERTMSG("never", evaluated == 1);
}

NMR_TEST(nt_verify_failure_stops)
{
    EXPECT_STOP("*** KSHIM STOP ASSERTION_FAILED: 2 < 1", NT_VERIFY(2 < 1));
}

NMR_TEST(nt_assertmsg_failure_names_the_message)
{
    EXPECT_STOP("*** KSHIM STOP ASSERTION_FAILED: 0 (\"the message\")", NT_ASSERTMSG("the message", 0));
}

NMR_TEST(bug_check_ex_prints_code_and_parameters)
{
    EXPECT_STOP("*** KSHIM STOP BUGCHECK: KeBugCheckEx(0x125, 0x1, 0x2, 0x3, 0xffffffffffffffff)",
                KeBugCheckEx(NMR_INVALID_STATE, 1, 2, 3, (ULONG_PTR)-1));
}

NMR_TEST(bug_check_prints_zero_parameters)
{
    EXPECT_STOP("*** KSHIM STOP BUGCHECK: KeBugCheckEx(0xe2, 0x0, 0x0, 0x0, 0x0)",
                KeBugCheck(MANUALLY_INITIATED_CRASH));
}

NMR_TEST(dbg_break_point_stops)
{
    EXPECT_STOP("*** KSHIM STOP BREAKPOINT: DbgBreakPoint", DbgBreakPoint());
}

NMR_TEST(kshim_stop_prints_one_line_then_only_stack_frames)
{
    EXPECT_STOP("*** KSHIM STOP SOMETHING: value 42", kshim_stop("SOMETHING", "value %d", 42));
    const char *out = nmr_test_last_child_output();
    const char *first = "*** KSHIM STOP SOMETHING: value 42\n";
    CHECK(strncmp(out, first, strlen(first)) == 0);
    /* The rest is the stack: "    #<n> ..." lines (a sanitizer may add a blank line). */
    for (const char *line = out + strlen(first); *line != '\0';) {
        CHECK(strncmp(line, "    #", 5) == 0 || *line == '\n');
        const char *next = strchr(line, '\n');
        line = next != NULL ? next + 1 : line + strlen(line);
    }
}
