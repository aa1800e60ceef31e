/* SPDX-License-Identifier: MIT */
/*
 * test_registry.c - the registry fixture (kshim_registry_load_fixture, its format in kshim.h)
 * and RtlQueryRegistryValues: DIRECT, routines, subkeys, REQUIRED, defaults, TYPECHECK,
 * REG_MULTI_SZ, DELETE, absent keys, malformed fixtures, the contract stops.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kshim/kshim.h>
#include <ntddk.h>

#include "nmr_test.h"

static const WCHAR driver_path_text[] = {'\\', 'R', 'e', 'g', 'i', 's', 't', 'r', 'y', '\\', 'M', 'a', 'c', 'h', 'i', 'n', 'e', '\\', 'S', 'y', 's', 't', 'e', 'm', '\\', 'C', 'u', 'r', 'r', 'e', 'n', 't', 'C', 'o', 'n', 't', 'r', 'o', 'l', 'S', 'e', 't', '\\', 'S', 'e', 'r', 'v', 'i', 'c', 'e', 's', '\\', 'n', 'p', 'i', 't', 'e', 's', 't', 0};

static UNICODE_STRING driver_path(void)
{
    UNICODE_STRING path;
    RtlInitUnicodeString(&path, driver_path_text);
    return path;
}

/* ASCII to a static UTF-16 string (test helper; one at a time per slot). */
static PWSTR w(int slot, const char *s)
{
    static WCHAR buffers[8][128];
    size_t i = 0;
    for (; s[i] && i < 127; i++) {
        buffers[slot][i] = (WCHAR)s[i];
    }
    buffers[slot][i] = 0;
    return buffers[slot];
}

/* A table of one RTL_QUERY_REGISTRY_DIRECT entry (and its terminator). */
static void direct_entry(RTL_QUERY_REGISTRY_TABLE table[2], ULONG flags, const char *name, PVOID context)
{
    memset(table, 0, 2 * sizeof table[0]);
    table[0].Flags = RTL_QUERY_REGISTRY_DIRECT | flags;
    table[0].Name = w(0, name);
    table[0].EntryContext = context;
}

static NTSTATUS query_npitest(RTL_QUERY_REGISTRY_TABLE *table)
{
    return RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, w(4, "npitest"), table, NULL, NULL);
}

static const char fixture_text[] =
    "# a driver's parameters\n"
    "MaxBindings = REG_DWORD 16\n"
    "Name        = REG_SZ \"npi \\\"test\\\"\"   # trailing comment\n"
    "Limit       = REG_QWORD 0x100000000\n"
    "Peers       = REG_MULTI_SZ \"a\" \"bc\"\n"
    "Blob        = REG_BINARY 01 02 03 04 ff\n"
    "@           = REG_SZ \"default\"\n"
    "[Parameters\\Tuning]\n"
    "Window      = REG_DWORD 0x40\n";

static char fixture_file[64];

static void write_file(const char *text)
{
    snprintf(fixture_file, sizeof fixture_file, "/tmp/kshim-registry-XXXXXX");
    int fd = mkstemp(fixture_file);
    CHECK(fd >= 0);
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
}

static void load_fixture(void)
{
    write_file(fixture_text);
    UNICODE_STRING path = driver_path();
    CHECK_STATUS(kshim_registry_load_fixture(&path, fixture_file), STATUS_SUCCESS);
    unlink(fixture_file);
}

static bool wide_equals(PCWSTR wide, const char *ascii)
{
    size_t i = 0;
    for (; ascii[i]; i++) {
        if (wide[i] != (WCHAR)ascii[i]) {
            return false;
        }
    }
    return wide[i] == 0;
}

NMR_TEST(direct_query_reads_dword_string_qword_and_binary_values)
{
    load_fixture();
    ULONG max_bindings = 0;
    UNICODE_STRING name = {0};
    ULONG64 limit = 0; /* its first LONG: minus the buffer size (data only, over it) */
    LONG data_only = -(LONG)sizeof limit;
    memcpy(&limit, &data_only, sizeof data_only);
    struct {
        ULONG length, type;
        UCHAR data[8];
    } blob = {sizeof blob, 0, {0}};
    RTL_QUERY_REGISTRY_TABLE table[5];
    memset(table, 0, sizeof table);
    table[0].Flags = RTL_QUERY_REGISTRY_DIRECT | RTL_QUERY_REGISTRY_REQUIRED;
    table[0].Name = w(0, "MaxBindings");
    table[0].EntryContext = &max_bindings;
    table[1].Flags = RTL_QUERY_REGISTRY_DIRECT;
    table[1].Name = w(1, "NAME"); /* names compare without case */
    table[1].EntryContext = &name;
    table[2].Flags = RTL_QUERY_REGISTRY_DIRECT;
    table[2].Name = w(2, "Limit");
    table[2].EntryContext = &limit;
    table[3].Flags = RTL_QUERY_REGISTRY_DIRECT;
    table[3].Name = w(3, "Blob");
    table[3].EntryContext = &blob;
    size_t pool = kshim_pool_live_count();
    CHECK_STATUS(query_npitest(table),
                 STATUS_SUCCESS);
    CHECK_EQ(max_bindings, 16);
    CHECK(wide_equals(name.Buffer, "npi \"test\""));
    CHECK_EQ(name.Length, 10 * sizeof(WCHAR));
    CHECK_EQ(kshim_pool_live_count(), pool + 1); /* the string buffer, from pool */
    RtlFreeUnicodeString(&name);
    CHECK(name.Buffer == NULL);
    CHECK_EQ(kshim_pool_live_count(), pool);
    CHECK(limit == 0x100000000ULL);
    CHECK_EQ(blob.length, 5); /* over sizeof(ULONG): length, type, then the data */
    CHECK_EQ(blob.type, REG_BINARY);
    CHECK_EQ(blob.data[4], 0xff);
}

typedef struct collected {
    unsigned calls;
    ULONG types[8];
    WCHAR strings[8][16];
} collected_t;

static RTL_QUERY_REGISTRY_ROUTINE collect;
static NTSTATUS collect(PWSTR ValueName, ULONG ValueType, PVOID ValueData, ULONG ValueLength,
                        PVOID Context, PVOID EntryContext)
{
    UNREFERENCED_PARAMETER(ValueName);
    UNREFERENCED_PARAMETER(EntryContext);
    collected_t *c = Context;
    if (c->calls < 8) {
        c->types[c->calls] = ValueType;
        if (ValueType == REG_SZ && ValueLength <= sizeof c->strings[0]) {
            memcpy(c->strings[c->calls], ValueData, ValueLength);
        }
    }
    c->calls++;
    return STATUS_SUCCESS;
}

NMR_TEST(routine_gets_a_multi_string_one_string_at_a_time_unless_noexpand)
{
    load_fixture();
    UNICODE_STRING path = driver_path();
    collected_t c;
    memset(&c, 0, sizeof c);
    RTL_QUERY_REGISTRY_TABLE table[3];
    memset(table, 0, sizeof table);
    table[0].QueryRoutine = collect;
    table[0].Name = w(0, "Peers");
    table[1].QueryRoutine = collect;
    table[1].Flags = RTL_QUERY_REGISTRY_NOEXPAND;
    table[1].Name = w(1, "Peers");
    CHECK_STATUS(RtlQueryRegistryValues(RTL_REGISTRY_ABSOLUTE, path.Buffer, table, &c, NULL), STATUS_SUCCESS);
    CHECK_EQ(c.calls, 3);
    CHECK_EQ(c.types[0], REG_SZ);
    CHECK(wide_equals(c.strings[0], "a"));
    CHECK(wide_equals(c.strings[1], "bc"));
    CHECK_EQ(c.types[2], REG_MULTI_SZ);
}

NMR_TEST(subkey_entries_read_below_the_key_and_topkey_returns)
{
    load_fixture();
    ULONG window = 0, max_bindings = 0;
    RTL_QUERY_REGISTRY_TABLE table[5];
    memset(table, 0, sizeof table);
    table[0].Flags = RTL_QUERY_REGISTRY_SUBKEY;
    table[0].Name = w(0, "Parameters\\Tuning");
    table[1].Flags = RTL_QUERY_REGISTRY_DIRECT | RTL_QUERY_REGISTRY_REQUIRED;
    table[1].Name = w(1, "Window");
    table[1].EntryContext = &window;
    table[2].Flags = RTL_QUERY_REGISTRY_TOPKEY;
    table[2].Name = w(2, "ignored");
    table[3].Flags = RTL_QUERY_REGISTRY_DIRECT | RTL_QUERY_REGISTRY_REQUIRED;
    table[3].Name = w(3, "MaxBindings");
    table[3].EntryContext = &max_bindings;
    CHECK_STATUS(query_npitest(table),
                 STATUS_SUCCESS);
    CHECK_EQ(window, 0x40);
    CHECK_EQ(max_bindings, 16);
}

NMR_TEST(missing_value_takes_its_default_or_fails_when_required)
{
    load_fixture();
    ULONG value = 7, fallback = 42;
    RTL_QUERY_REGISTRY_TABLE table[2];
    direct_entry(table, 0, "Absent", &value);
    CHECK_STATUS(query_npitest(table),
                 STATUS_SUCCESS);
    CHECK_EQ(value, 7); /* untouched */
    table[0].DefaultType = REG_DWORD;
    table[0].DefaultData = &fallback;
    table[0].DefaultLength = sizeof fallback;
    CHECK_STATUS(query_npitest(table),
                 STATUS_SUCCESS);
    CHECK_EQ(value, 42);
    table[0].DefaultType = REG_NONE;
    table[0].Flags |= RTL_QUERY_REGISTRY_REQUIRED;
    CHECK_STATUS(query_npitest(table),
                 STATUS_OBJECT_NAME_NOT_FOUND);
}

NMR_TEST(typecheck_rejects_a_value_of_another_type)
{
    load_fixture();
    ULONG value = 0;
    RTL_QUERY_REGISTRY_TABLE table[2];
    direct_entry(table, RTL_QUERY_REGISTRY_TYPECHECK, "Name", &value); /* a REG_SZ */
    table[0].DefaultType = (REG_DWORD << RTL_QUERY_REGISTRY_TYPECHECK_SHIFT) | REG_NONE;
    CHECK_STATUS(query_npitest(table),
                 STATUS_OBJECT_TYPE_MISMATCH);
    table[0].Name = w(0, "MaxBindings");
    CHECK_STATUS(query_npitest(table),
                 STATUS_SUCCESS);
    CHECK_EQ(value, 16);
}

NMR_TEST(absent_key_gives_object_name_not_found_unless_optional)
{
    load_fixture();
    ULONG value = 0;
    RTL_QUERY_REGISTRY_TABLE table[2];
    direct_entry(table, 0, "MaxBindings", &value);
    CHECK_STATUS(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, w(4, "otherdriver"), table, NULL, NULL),
                 STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_STATUS(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES | RTL_REGISTRY_OPTIONAL,
                                        w(4, "otherdriver"), table, NULL, NULL),
                 STATUS_SUCCESS);
}

NMR_TEST(direct_string_into_a_small_buffer_is_buffer_too_small)
{
    load_fixture();
    WCHAR small[4];
    UNICODE_STRING name = {0, sizeof small, small};
    RTL_QUERY_REGISTRY_TABLE table[2];
    direct_entry(table, 0, "Name", &name);
    CHECK_STATUS(query_npitest(table),
                 STATUS_BUFFER_TOO_SMALL);
}

NMR_TEST(delete_flag_removes_the_value_after_the_query)
{
    load_fixture();
    ULONG value = 0;
    RTL_QUERY_REGISTRY_TABLE table[2];
    direct_entry(table, RTL_QUERY_REGISTRY_DELETE | RTL_QUERY_REGISTRY_REQUIRED, "MaxBindings", &value);
    CHECK_STATUS(query_npitest(table),
                 STATUS_SUCCESS);
    CHECK_EQ(value, 16);
    CHECK_STATUS(query_npitest(table),
                 STATUS_OBJECT_NAME_NOT_FOUND);
}

NMR_TEST(reset_empties_the_registry)
{
    load_fixture();
    kshim_reset();
    RTL_QUERY_REGISTRY_TABLE table[2];
    ULONG value = 0;
    memset(table, 0, sizeof table);
    table[0].Flags = RTL_QUERY_REGISTRY_DIRECT;
    table[0].Name = w(0, "MaxBindings");
    table[0].EntryContext = &value;
    CHECK_STATUS(query_npitest(table),
                 STATUS_OBJECT_NAME_NOT_FOUND);
}

NMR_TEST(set_value_is_the_c_table_form_of_a_fixture)
{
    UNICODE_STRING path = driver_path();
    ULONG sixteen = 16, value = 0;
    CHECK_STATUS(kshim_registry_set_value(&path, "MaxBindings", REG_DWORD, &sixteen, sizeof sixteen),
                 STATUS_SUCCESS);
    RTL_QUERY_REGISTRY_TABLE table[2];
    direct_entry(table, RTL_QUERY_REGISTRY_REQUIRED, "MaxBindings", &value);
    CHECK_STATUS(RtlQueryRegistryValues(RTL_REGISTRY_ABSOLUTE, path.Buffer, table, NULL, NULL),
                 STATUS_SUCCESS);
    CHECK_EQ(value, 16);
}

NMR_TEST(malformed_fixture_is_rejected_naming_file_and_line)
{
    EXPECT_STOP("*** KSHIM STOP CAPTURED:", {
        write_file("Good = REG_DWORD 1\nBad = REG_DWORD nope\n");
        UNICODE_STRING path = driver_path();
        NTSTATUS status = kshim_registry_load_fixture(&path, fixture_file);
        unlink(fixture_file);
        kshim_stop("CAPTURED", "status 0x%lx", (unsigned long)(ULONG)status);
    });
    const char *out = nmr_test_last_child_output();
    CHECK(strstr(out, ":2: expected a number") != NULL);
    CHECK(strstr(out, "status 0xc000000d") != NULL);
}

NMR_TEST(missing_fixture_file_is_object_name_not_found)
{
    UNICODE_STRING path = driver_path();
    CHECK_STATUS(kshim_registry_load_fixture(&path, "/nonexistent/registry.txt"),
                 STATUS_OBJECT_NAME_NOT_FOUND);
}

NMR_TEST(direct_entry_without_entry_context_stops)
{
    load_fixture();
    EXPECT_STOP("*** KSHIM STOP REGISTRY_QUERY_INVALID: RtlQueryRegistryValues: QueryTable[0]", {
        RTL_QUERY_REGISTRY_TABLE table[2];
        memset(table, 0, sizeof table);
        table[0].Flags = RTL_QUERY_REGISTRY_DIRECT;
        table[0].Name = w(0, "MaxBindings");
        query_npitest(table);
    });
}

NMR_TEST(query_above_passive_level_stops)
{
    EXPECT_STOP("*** KSHIM STOP IRQL_TOO_HIGH: RtlQueryRegistryValues", {
        RTL_QUERY_REGISTRY_TABLE table[1];
        memset(table, 0, sizeof table);
        KIRQL old;
        KeRaiseIrql(APC_LEVEL, &old);
        query_npitest(table);
    });
}
