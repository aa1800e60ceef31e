/* SPDX-License-Identifier: MIT */
/*
 * test_unchecked.c - kshim_unchecked_memset/memcpy/memmove/memmem: what they compute, and,
 * under AddressSanitizer, that they cross poisoned bytes without a report (a driver fuzzer
 * restores a driver's image across the redzones between its globals with them).
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include <kshim/kshim.h>

#include "nmr_test.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_UNCHECKED_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TEST_UNCHECKED_ASAN 1
#endif
#ifdef TEST_UNCHECKED_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* Aligned to ASan's 8-byte granules, so that poisoning [16, 32) poisons exactly those. */
static _Alignas(64) unsigned char source[64];
static _Alignas(64) unsigned char destination[64];

static void poison_middle(void)
{
#ifdef TEST_UNCHECKED_ASAN
    ASAN_POISON_MEMORY_REGION(source + 16, 16);
    ASAN_POISON_MEMORY_REGION(destination + 16, 16);
    CHECK(__asan_address_is_poisoned(source + 16));
    CHECK(__asan_address_is_poisoned(destination + 31));
#endif
}

static void unpoison_all(void)
{
#ifdef TEST_UNCHECKED_ASAN
    ASAN_UNPOISON_MEMORY_REGION(source, sizeof source);
    ASAN_UNPOISON_MEMORY_REGION(destination, sizeof destination);
#endif
}

NMR_TEST(unchecked_copy_and_fill_cross_poisoned_bytes_without_a_report)
{
    for (size_t i = 0; i < sizeof source; i++) {
        source[i] = (unsigned char)(i + 1);
    }
    memset(destination, 0, sizeof destination);
    poison_middle();
    kshim_unchecked_memcpy(destination, source, sizeof destination);
    kshim_unchecked_memmove(destination + 8, destination, 40);
    kshim_unchecked_memset(source, 0xAB, sizeof source);
#ifdef TEST_UNCHECKED_ASAN
    CHECK(__asan_address_is_poisoned(destination + 16)); /* the shadow is left as it was */
#endif
    unpoison_all();
    for (size_t i = 0; i < 8; i++) {
        CHECK_EQ(destination[i], (unsigned char)(i + 1));
    }
    for (size_t i = 8; i < 48; i++) {
        CHECK_EQ(destination[i], (unsigned char)(i - 8 + 1));
    }
    for (size_t i = 48; i < sizeof destination; i++) {
        CHECK_EQ(destination[i], (unsigned char)(i + 1));
    }
    for (size_t i = 0; i < sizeof source; i++) {
        CHECK_EQ(source[i], 0xAB);
    }
}

NMR_TEST(unchecked_memmove_copies_overlapping_ranges_both_ways)
{
    unsigned char bytes[16];
    for (size_t i = 0; i < sizeof bytes; i++) {
        bytes[i] = (unsigned char)i;
    }
    kshim_unchecked_memmove(bytes + 2, bytes, 10); /* forwards over itself */
    CHECK_EQ(bytes[2], 0);
    CHECK_EQ(bytes[11], 9);
    CHECK_EQ(bytes[12], 12);
    kshim_unchecked_memmove(bytes, bytes + 2, 10); /* and back */
    for (size_t i = 0; i < 10; i++) {
        CHECK_EQ(bytes[i], (unsigned char)i);
    }
}

NMR_TEST(unchecked_memmem_finds_what_memmem_finds)
{
    static const char text[] = "*** KSHIM STOP X: a STOP line";
    size_t size = sizeof text - 1;
    CHECK(kshim_unchecked_memmem(text, size, " STOP ", 6) == memmem(text, size, " STOP ", 6));
    CHECK(kshim_unchecked_memmem(text, size, "line", 4) == text + size - 4);
    CHECK(kshim_unchecked_memmem(text, size, "absent", 6) == NULL);
    CHECK(kshim_unchecked_memmem(text, 3, "***X", 4) == NULL); /* needle longer than the text */
    CHECK(kshim_unchecked_memmem(text, size, "", 0) == text);
}
