/* SPDX-License-Identifier: MIT */
/*
 * test_pool.c - pool allocation contents, tracking by tag and site, and pool stops.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kshim/kshim.h>
#include <ntddk.h>

#include "nmr_test.h"

#define TAG_A KSHIM_POOL_TAG('T', 's', 't', 'A')
#define TAG_B KSHIM_POOL_TAG('T', 's', 't', 'B')

static bool all_bytes(const void *p, unsigned char value, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != value) {
            return false;
        }
    }
    return true;
}

NMR_TEST(allocate_pool2_returns_zeroed_memory)
{
    void *p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, TAG_A);
    CHECK(p != NULL);
    CHECK(all_bytes(p, 0, 64));
    ExFreePoolWithTag(p, TAG_A);
}

NMR_TEST(allocate_pool2_uninitialized_fills_with_cd)
{
    void *p = ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_UNINITIALIZED, 64, TAG_A);
    CHECK(p != NULL);
    CHECK(all_bytes(p, 0xCD, 64));
    ExFreePoolWithTag(p, TAG_A);
}

NMR_TEST(allocate_pool_with_tag_fills_with_cd_and_pool_zero_zeroes)
{
    void *p = ExAllocatePoolWithTag(NonPagedPoolNx, 32, TAG_A);
    void *z = ExAllocatePoolZero(PagedPool, 32, TAG_A);
    CHECK(p != NULL && z != NULL);
    CHECK(all_bytes(p, 0xCD, 32));
    CHECK(all_bytes(z, 0, 32));
    ExFreePool(p);
    ExFreePool(z);
}

NMR_TEST(cache_aligned_pool_is_64_byte_aligned)
{
    void *p = ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_CACHE_ALIGNED, 10, TAG_A);
    CHECK(p != NULL);
    CHECK_EQ((uintptr_t)p % 64, 0);
    ExFreePoolWithTag(p, TAG_A);
}

NMR_TEST(live_counts_are_kept_per_tag)
{
    size_t base = kshim_pool_live_count();
    void *a1 = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, TAG_A);
    void *a2 = ExAllocatePool2(POOL_FLAG_PAGED, 8, TAG_A);
    void *b1 = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, TAG_B);
    CHECK_EQ(kshim_pool_live_count(), base + 3);
    CHECK_EQ(kshim_pool_live_count_by_tag(TAG_A), 2);
    CHECK_EQ(kshim_pool_live_count_by_tag(TAG_B), 1);
    ExFreePoolWithTag(a1, TAG_A);
    CHECK_EQ(kshim_pool_live_count_by_tag(TAG_A), 1);
    ExFreePoolWithTag(a2, TAG_A);
    ExFreePoolWithTag(b1, TAG_B);
    CHECK_EQ(kshim_pool_live_count(), base);
    CHECK_EQ(kshim_pool_live_count_by_tag(TAG_A), 0);
}

static void leak_one_allocation(void)
{
    CHECK(ExAllocatePool2(POOL_FLAG_NON_PAGED, 48, TAG_A) != NULL);
}
enum { LEAK_LINE = __LINE__ - 2 }; /* the line of the ExAllocatePool2 call above */

NMR_TEST(pool_audit_lists_tag_size_and_allocating_line)
{
    EXPECT_STOP("*** KSHIM STOP AUDIT_FAILED:", {
        leak_one_allocation();
        kshim_audit(0);
    });
    char expected[128];
    snprintf(expected, sizeof expected, "tag 'TstA' size 48 at test_pool.c:%d", (int)LEAK_LINE);
    if (strstr(nmr_test_last_child_output(), expected) == NULL) {
        fprintf(stderr, "missing \"%s\" in:\n%s", expected, nmr_test_last_child_output());
        CHECK(false);
    }
}

NMR_TEST(pool_audit_print_returns_the_number_of_live_allocations)
{
    size_t base = kshim_pool_live_count();
    void *p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 1, TAG_B);
    CHECK_EQ(kshim_pool_audit_print(), base + 1);
    ExFreePoolWithTag(p, TAG_B);
    CHECK_EQ(kshim_pool_audit_print(), base);
}

NMR_TEST(pool_freed_twice_stops)
{
    EXPECT_STOP("*** KSHIM STOP POOL_DOUBLE_FREE: ExFreePoolWithTag at test_pool.c:", {
        void *p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, TAG_A);
        ExFreePoolWithTag(p, TAG_A);
        ExFreePoolWithTag(p, TAG_A);
    });
    CHECK(strstr(nmr_test_last_child_output(), "already freed at test_pool.c:") != NULL);
}

NMR_TEST(pool_free_of_a_pointer_never_allocated_stops)
{
    EXPECT_STOP("*** KSHIM STOP POOL_FREE_UNKNOWN:", {
        static char not_pool[16];
        ExFreePoolWithTag(not_pool, TAG_A);
    });
}

NMR_TEST(pool_free_of_null_stops)
{
    EXPECT_STOP("*** KSHIM STOP POOL_FREE_UNKNOWN:", ExFreePool(NULL));
}

NMR_TEST(pool_freed_with_another_tag_stops)
{
    EXPECT_STOP("*** KSHIM STOP POOL_FREE_WRONG_TAG:", {
        void *p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, TAG_A);
        ExFreePoolWithTag(p, TAG_B);
    });
    CHECK(strstr(nmr_test_last_child_output(), "has tag 'TstA'") != NULL);
}

NMR_TEST(pool_flags_without_a_pool_type_stop)
{
    EXPECT_STOP("*** KSHIM STOP POOL_FLAGS_INVALID:", ExAllocatePool2(POOL_FLAG_UNINITIALIZED, 16, TAG_A));
}

NMR_TEST(pool_flags_naming_two_pool_types_stop)
{
    EXPECT_STOP("*** KSHIM STOP POOL_FLAGS_INVALID:",
                ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_PAGED, 16, TAG_A));
}

NMR_TEST(pool_flags_with_unknown_bits_stop)
{
    EXPECT_STOP("*** KSHIM STOP POOL_FLAGS_INVALID:",
                ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_RESERVED2, 16, TAG_A));
}

NMR_TEST(pool_tag_zero_stops)
{
    EXPECT_STOP("*** KSHIM STOP POOL_FLAGS_INVALID:", ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 0));
}

NMR_TEST(paged_pool_at_dispatch_level_stops)
{
    EXPECT_STOP("*** KSHIM STOP IRQL_TOO_HIGH: ExAllocatePool2", {
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        ExAllocatePool2(POOL_FLAG_PAGED, 16, TAG_A);
    });
}

NMR_TEST(nonpaged_pool_at_dispatch_level_is_allowed)
{
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    void *p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, TAG_A);
    CHECK(p != NULL);
    ExFreePoolWithTag(p, TAG_A);
    KeLowerIrql(old);
}

NMR_TEST(freeing_paged_pool_at_dispatch_level_stops)
{
    EXPECT_STOP("*** KSHIM STOP IRQL_TOO_HIGH: ExFreePoolWithTag", {
        KIRQL old;
        void *p = ExAllocatePool2(POOL_FLAG_PAGED, 16, TAG_A);
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        ExFreePoolWithTag(p, TAG_A);
    });
}

NMR_TEST(a_freed_address_reused_by_a_new_allocation_can_be_freed)
{
    /* Whatever address the heap hands out, the new allocation is live (a tombstone at a
       reused address is cleared), so freeing it is not a double free. */
    for (int i = 0; i < 64; i++) {
        void *p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 24, TAG_A);
        CHECK(p != NULL);
        ExFreePoolWithTag(p, TAG_A);
    }
    CHECK_EQ(kshim_pool_live_count_by_tag(TAG_A), 0);
}

NMR_TEST(the_real_allocation_functions_are_callable_through_pointers)
{
    PVOID (*allocate)(POOL_FLAGS, SIZE_T, ULONG) = ExAllocatePool2;
    VOID (*release)(PVOID, ULONG) = ExFreePoolWithTag;
    void *p = allocate(POOL_FLAG_NON_PAGED, 8, TAG_B);
    CHECK(p != NULL);
    release(p, TAG_B);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_POOL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TEST_POOL_ASAN 1
#endif
#ifdef TEST_POOL_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* Freed pool is reused only after kshim_pool_forget_freed (between fuzz inputs): within an
   input a freed block is never handed out again, so a use after free reads freed (and, under
   ASan, poisoned) memory, never a new allocation. */
NMR_TEST(freed_pool_is_not_handed_out_again_before_forget_freed)
{
    enum { N = 64 };
    void *first[N], *second[N];
    for (int i = 0; i < N; i++) {
        first[i] = ExAllocatePool2(POOL_FLAG_NON_PAGED, 40, TAG_A);
        CHECK(first[i] != NULL);
    }
    for (int i = 0; i < N; i++) {
        ExFreePoolWithTag(first[i], TAG_A);
    }
#ifdef TEST_POOL_ASAN
    CHECK(__asan_address_is_poisoned(first[0]));
    CHECK(__asan_address_is_poisoned((char *)first[N - 1] + 39));
#endif
    for (int i = 0; i < N; i++) {
        second[i] = ExAllocatePool2(POOL_FLAG_NON_PAGED, 40, TAG_A);
        CHECK(second[i] != NULL);
        for (int j = 0; j < N; j++) {
            CHECK(second[i] != first[j]);
        }
    }
    for (int i = 0; i < N; i++) {
        ExFreePoolWithTag(second[i], TAG_A);
    }
    kshim_pool_forget_freed();
    /* Now the blocks are free for the next input, still poisoned until handed out; one
       handed out is addressable for exactly the bytes asked for. */
    void *p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 36, TAG_A);
    CHECK(p != NULL);
    CHECK(all_bytes(p, 0, 36));
#ifdef TEST_POOL_ASAN
    CHECK(!__asan_address_is_poisoned((char *)p + 35));
    CHECK(__asan_address_is_poisoned((char *)p + 36));
#endif
    ExFreePoolWithTag(p, TAG_A);
    kshim_pool_forget_freed();
}

/* The harness's hook runs after the shim's line; here it ends the child the way
   EXPECT_STOP expects (a sanitizer alone would exit with its own status). */
static void abort_after_sanitizer_report(const char *report)
{
    CHECK(strstr(report, "use-after-poison") != NULL);
    abort();
}

/* A use after free of reused pool is a "use-after-poison" to ASan, which knows nothing of
   the pool: the shim names the block, its tag and where it was allocated and freed. */
NMR_TEST(asan_report_of_freed_pool_names_the_block_and_where_it_was_freed)
{
#ifndef TEST_POOL_ASAN
    nmr_test_skip("needs AddressSanitizer (the asan and fuzz presets)");
#endif
    EXPECT_STOP("*** KSHIM POOL USE AFTER FREE: ", {
        kshim_set_sanitizer_report_hook(abort_after_sanitizer_report);
        volatile char *p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 40, TAG_A);
        ExFreePoolWithTag((void *)p, TAG_A);
        (void)p[8];
    });
    const char *line = strstr(nmr_test_last_child_output(), "*** KSHIM POOL USE AFTER FREE: ");
    CHECK(strstr(line, "is 8 bytes into pool block") != NULL);
    CHECK(strstr(line, "(40 bytes, tag 'TstA', allocated at test_pool.c:") != NULL);
    CHECK(strstr(line, ") freed at test_pool.c:") != NULL);
}

NMR_TEST(asan_report_past_the_end_of_live_pool_names_the_block)
{
#ifndef TEST_POOL_ASAN
    nmr_test_skip("needs AddressSanitizer (the asan and fuzz presets)");
#endif
    EXPECT_STOP("*** KSHIM POOL OVERRUN: ", {
        kshim_set_sanitizer_report_hook(abort_after_sanitizer_report);
        volatile char *p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 36, TAG_B);
        (void)p[37];
    });
    const char *line = strstr(nmr_test_last_child_output(), "*** KSHIM POOL OVERRUN: ");
    CHECK(strstr(line, "is 1 bytes past the end of live pool block") != NULL);
    CHECK(strstr(line, "(36 bytes, tag 'TstB', allocated at test_pool.c:") != NULL);
}
