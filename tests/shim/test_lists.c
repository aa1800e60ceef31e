/* SPDX-License-Identifier: MIT */
/*
 * test_lists.c - LIST_ENTRY / SINGLE_LIST_ENTRY routines, CONTAINING_RECORD, Interlocked*,
 * Rtl memory and string helpers, GUIDs and base types.
 */
#include <string.h>

#include <kshim/kshim.h>
#include <ntddk.h>

#include "nmr_test.h"

typedef struct item {
    int value;
    LIST_ENTRY link;
} item_t;

NMR_TEST(list_insert_and_remove_keep_fifo_order)
{
    LIST_ENTRY head;
    item_t items[3] = {{1, {0}}, {2, {0}}, {3, {0}}};
    InitializeListHead(&head);
    CHECK(IsListEmpty(&head));
    for (int i = 0; i < 3; i++) {
        InsertTailList(&head, &items[i].link);
    }
    CHECK(!IsListEmpty(&head));
    CHECK_EQ(CONTAINING_RECORD(RemoveHeadList(&head), item_t, link)->value, 1);
    CHECK_EQ(CONTAINING_RECORD(RemoveTailList(&head), item_t, link)->value, 3);
    CHECK(RemoveEntryList(&items[1].link));
    CHECK(IsListEmpty(&head));
}

NMR_TEST(list_insert_head_makes_a_lifo)
{
    LIST_ENTRY head;
    item_t a = {1, {0}}, b = {2, {0}};
    InitializeListHead(&head);
    InsertHeadList(&head, &a.link);
    InsertHeadList(&head, &b.link);
    CHECK_EQ(CONTAINING_RECORD(head.Flink, item_t, link)->value, 2);
    CHECK(!RemoveEntryList(&b.link));
    CHECK(RemoveEntryList(&a.link));
}

NMR_TEST(append_tail_list_joins_two_lists)
{
    LIST_ENTRY head, other;
    item_t a = {1, {0}}, b = {2, {0}}, c = {3, {0}};
    InitializeListHead(&head);
    InitializeListHead(&other);
    InsertTailList(&head, &a.link);
    InsertTailList(&other, &b.link);
    InsertTailList(&other, &c.link);
    /* Append the entries of other (without its head): detach the head first. */
    PLIST_ENTRY first = other.Flink;
    RemoveEntryList(&other);
    AppendTailList(&head, first);
    int expect = 1;
    for (PLIST_ENTRY e = head.Flink; e != &head; e = e->Flink) {
        CHECK_EQ(CONTAINING_RECORD(e, item_t, link)->value, expect++);
    }
    CHECK_EQ(expect, 4);
}

NMR_TEST(remove_entry_list_with_a_broken_neighbour_stops)
{
    EXPECT_STOP("*** KSHIM STOP LIST_ENTRY_CORRUPTED: RemoveEntryList", {
        LIST_ENTRY head;
        item_t a = {1, {0}}, b = {2, {0}};
        InitializeListHead(&head);
        InsertTailList(&head, &a.link);
        InsertTailList(&head, &b.link);
        b.link.Blink = &head; /* corrupt: head.Flink still points to a */
        RemoveEntryList(&b.link);
    });
}

NMR_TEST(remove_entry_list_twice_stops)
{
    EXPECT_STOP("*** KSHIM STOP LIST_ENTRY_CORRUPTED:", {
        LIST_ENTRY head;
        item_t a = {1, {0}}, b = {2, {0}};
        InitializeListHead(&head);
        InsertTailList(&head, &a.link);
        InsertTailList(&head, &b.link);
        RemoveEntryList(&a.link);
        RemoveEntryList(&a.link);
    });
}

NMR_TEST(single_list_push_and_pop_are_lifo)
{
    SINGLE_LIST_ENTRY head = {NULL}, a, b;
    PushEntryList(&head, &a);
    PushEntryList(&head, &b);
    CHECK(PopEntryList(&head) == &b);
    CHECK(PopEntryList(&head) == &a);
    CHECK(PopEntryList(&head) == NULL);
}

NMR_TEST(interlocked_operations_return_the_documented_values)
{
    LONG v = 5;
    CHECK_EQ(InterlockedIncrement(&v), 6);
    CHECK_EQ(InterlockedDecrement(&v), 5);
    CHECK_EQ(InterlockedAdd(&v, 10), 15);
    CHECK_EQ(InterlockedExchangeAdd(&v, 1), 15);
    CHECK_EQ(InterlockedExchange(&v, 3), 16);
    CHECK_EQ(InterlockedCompareExchange(&v, 9, 4), 3); /* no exchange */
    CHECK_EQ(v, 3);
    CHECK_EQ(InterlockedCompareExchange(&v, 9, 3), 3);
    CHECK_EQ(v, 9);
    CHECK_EQ(InterlockedOr(&v, 6), 9);
    CHECK_EQ(v, 15);
    CHECK_EQ(InterlockedAnd(&v, 3), 15);
    CHECK_EQ(v, 3);
    LONG64 w = 1;
    CHECK_EQ(InterlockedIncrement64(&w), 2);
    CHECK_EQ(InterlockedAdd64(&w, 1LL << 40), (1LL << 40) + 2);
    CHECK_EQ(InterlockedCompareExchange64(&w, 7, (1LL << 40) + 2), (1LL << 40) + 2);
    CHECK_EQ(w, 7);
    PVOID p = NULL;
    int x;
    CHECK(InterlockedExchangePointer(&p, &x) == NULL);
    CHECK(InterlockedCompareExchangePointer(&p, NULL, &x) == &x);
    CHECK(p == NULL);
}

NMR_TEST(base_types_have_windows_sizes)
{
    CHECK_EQ(sizeof(ULONG), 4);
    CHECK_EQ(sizeof(LONG), 4);
    CHECK_EQ(sizeof(NTSTATUS), 4);
    CHECK_EQ(sizeof(ULONG64), 8);
    CHECK_EQ(sizeof(LONGLONG), 8);
    CHECK_EQ(sizeof(ULONG_PTR), sizeof(void *));
    CHECK_EQ(sizeof(WCHAR), 2);
    CHECK_EQ(sizeof(BOOLEAN), 1);
    CHECK_EQ(sizeof(GUID), 16);
    CHECK_EQ(sizeof(LUID), 8);
    CHECK_EQ(sizeof(KSPIN_LOCK), sizeof(void *));
    CHECK_EQ(sizeof(EX_PUSH_LOCK), sizeof(void *));
    CHECK_EQ(sizeof(EX_RUNDOWN_REF), sizeof(void *));
    LARGE_INTEGER li;
    li.QuadPart = 0x1122334455667788LL;
    CHECK_EQ(li.LowPart, 0x55667788u);
    CHECK_EQ(li.HighPart, 0x11223344);
    CHECK_EQ(li.u.LowPart, 0x55667788u);
}

NMR_TEST(nt_status_classes_follow_the_severity_bits)
{
    CHECK(NT_SUCCESS(STATUS_SUCCESS));
    CHECK(NT_SUCCESS(STATUS_PENDING));
    CHECK(NT_INFORMATION(STATUS_OBJECT_NAME_EXISTS));
    CHECK(NT_WARNING(STATUS_BUFFER_OVERFLOW));
    CHECK(NT_ERROR(STATUS_INSUFFICIENT_RESOURCES));
    CHECK(!NT_SUCCESS(STATUS_NOINTERFACE));
    CHECK_EQ(STATUS_TIMEOUT, 0x102);
    CHECK_EQ(NMR_INVALID_STATE, 0x125);
}

NMR_TEST(rtl_memory_macros_copy_move_fill_and_compare)
{
    char a[8] = "abcdefg", b[8];
    RtlCopyMemory(b, a, 8);
    CHECK(RtlEqualMemory(a, b, 8));
    RtlMoveMemory(a + 1, a, 4);
    CHECK(memcmp(a, "aabcdfg", 7) == 0);
    RtlFillMemory(b, 3, 'x');
    CHECK(memcmp(b, "xxxdefg", 7) == 0);
    CHECK_EQ(RtlCompareMemory(a, "aabzz", 5), 3);
    RtlZeroMemory(b, 8);
    CHECK(b[0] == 0 && b[7] == 0);
    CHECK_EQ(RTL_NUMBER_OF(a), 8);
    CHECK_EQ(ARRAYSIZE(b), 8);
    CHECK_EQ(FIELD_OFFSET(item_t, link), offsetof(item_t, link));
}

NMR_TEST(unicode_strings_are_counted_in_bytes)
{
    static const WCHAR text[] = {'N', 'm', 'r', 0};
    UNICODE_STRING s, t;
    RtlInitUnicodeString(&s, text);
    CHECK_EQ(s.Length, 6);
    CHECK_EQ(s.MaximumLength, 8);
    RtlInitUnicodeString(&t, NULL);
    CHECK_EQ(t.Length, 0);
    static const WCHAR upper[] = {'N', 'M', 'R', 0};
    UNICODE_STRING u = RTL_CONSTANT_STRING(upper);
    CHECK_EQ(u.Length, 6);
    CHECK(!RtlEqualUnicodeString(&s, &u, FALSE));
    CHECK(RtlEqualUnicodeString(&s, &u, TRUE));
    ANSI_STRING a;
    RtlInitAnsiString(&a, "hello");
    CHECK_EQ(a.Length, 5);
    CHECK_EQ(a.MaximumLength, 6);
}

DEFINE_GUID(TEST_GUID_DECLARED, 0x12345678, 0x1234, 0x5678, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x02, 0x03,
            0x04);
#include <initguid.h>
DEFINE_GUID(TEST_GUID_DEFINED, 0x12345678, 0x1234, 0x5678, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x02, 0x03,
            0x04);

NMR_TEST(guids_compare_by_value)
{
    GUID copy = TEST_GUID_DEFINED;
    CHECK(IsEqualGUID(&copy, &TEST_GUID_DEFINED));
    CHECK(InlineIsEqualGUID(&copy, &TEST_GUID_DEFINED));
    copy.Data4[7] ^= 1;
    CHECK(!IsEqualGUID(&copy, &TEST_GUID_DEFINED));
    CHECK_EQ(TEST_GUID_DEFINED.Data1, 0x12345678u);
}
