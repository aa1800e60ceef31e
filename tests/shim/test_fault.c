/* SPDX-License-Identifier: MIT */
/*
 * test_fault.c - the fault-injection choke point: plans (transient, persistent, site and tag
 * filters), counting with injection off, the observer, KSHIM_FAULT parsing, and every
 * fallible shim routine failing when injected.
 */
#include <stdlib.h>
#include <string.h>

#include <kshim/kshim.h>
#include <ntddk.h>

#include "nmr_test.h"

#define TAG_A KSHIM_POOL_TAG('F', 'l', 't', 'A')
#define TAG_B KSHIM_POOL_TAG('F', 'l', 't', 'B')

/* Allocates count blocks with tag; returns how many failed; frees the others. */
static int allocate_many(int count, ULONG tag)
{
    int failed = 0;
    for (int i = 0; i < count; i++) {
        void *p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, tag);
        if (p == NULL) {
            failed++;
        } else {
            ExFreePoolWithTag(p, tag);
        }
    }
    return failed;
}

static void *allocate_from_line_a(void)
{
    return ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, TAG_A);
}

static void *allocate_from_line_b(void)
{
    return ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, TAG_A);
}
enum { LINE_B = __LINE__ - 2 }; /* the line of the ExAllocatePool2 call above */

NMR_TEST(eligible_calls_are_counted_with_injection_off)
{
    kshim_fault_plan_t plan = {KSHIM_FAULT_OFF, 0, NULL, 0};
    kshim_fault_set_plan(&plan);
    CHECK_EQ(allocate_many(5, TAG_A), 0);
    CHECK_EQ(kshim_fault_eligible_calls(), 5);
    CHECK_EQ(kshim_fault_injected_calls(), 0);
    CHECK(kshim_fault_last_injected_site() == NULL);
}

NMR_TEST(transient_fault_fails_only_the_nth_call)
{
    kshim_fault_plan_t plan = {KSHIM_FAULT_TRANSIENT, 3, NULL, 0};
    kshim_fault_set_plan(&plan);
    void *p[5];
    for (int i = 0; i < 5; i++) {
        p[i] = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, TAG_A);
    }
    CHECK(p[0] && p[1] && !p[2] && p[3] && p[4]);
    CHECK_EQ(kshim_fault_injected_calls(), 1);
    for (int i = 0; i < 5; i++) {
        if (p[i]) {
            ExFreePoolWithTag(p[i], TAG_A);
        }
    }
}

NMR_TEST(persistent_fault_fails_the_nth_and_every_later_call)
{
    kshim_fault_plan_t plan = {KSHIM_FAULT_PERSISTENT, 2, NULL, 0};
    kshim_fault_set_plan(&plan);
    CHECK_EQ(allocate_many(6, TAG_A), 5);
    CHECK_EQ(kshim_fault_eligible_calls(), 6);
    CHECK_EQ(kshim_fault_injected_calls(), 5);
}

NMR_TEST(setting_a_plan_resets_the_counters)
{
    kshim_fault_plan_t plan = {KSHIM_FAULT_PERSISTENT, 1, NULL, 0};
    kshim_fault_set_plan(&plan);
    allocate_many(3, TAG_A);
    kshim_fault_set_plan(NULL);
    CHECK_EQ(kshim_fault_eligible_calls(), 0);
    CHECK_EQ(kshim_fault_injected_calls(), 0);
    CHECK_EQ(allocate_many(3, TAG_A), 0);
}

NMR_TEST(site_filter_makes_only_matching_lines_eligible)
{
    char site[32];
    snprintf(site, sizeof site, "test_fault.c:%d", (int)LINE_B);
    kshim_fault_plan_t plan = {KSHIM_FAULT_TRANSIENT, 1, site, 0};
    kshim_fault_set_plan(&plan);
    site[0] = 'X'; /* the plan keeps its own copy */
    void *a = allocate_from_line_a();
    CHECK(a != NULL);
    CHECK_EQ(kshim_fault_eligible_calls(), 0);
    void *b = allocate_from_line_b();
    CHECK(b == NULL);
    CHECK_EQ(kshim_fault_eligible_calls(), 1);
    snprintf(site, sizeof site, "test_fault.c:%d", (int)LINE_B);
    CHECK(strcmp(kshim_fault_last_injected_site(), site) == 0);
    ExFreePoolWithTag(a, TAG_A);
}

NMR_TEST(tag_filter_makes_only_matching_tags_eligible)
{
    kshim_fault_plan_t plan = {KSHIM_FAULT_PERSISTENT, 1, NULL, TAG_B};
    kshim_fault_set_plan(&plan);
    CHECK_EQ(allocate_many(3, TAG_A), 0);
    CHECK_EQ(allocate_many(2, TAG_B), 2);
    CHECK_EQ(kshim_fault_eligible_calls(), 2);
}

typedef struct observed {
    int calls;
    int injected;
    ULONG last_tag;
    char last_site[64];
} observed_t;

static void observe(const char *site, ULONG tag, bool injected, void *context)
{
    observed_t *o = context;
    o->calls++;
    o->injected += injected;
    o->last_tag = tag;
    snprintf(o->last_site, sizeof o->last_site, "%s", site);
}

NMR_TEST(observer_sees_every_eligible_call_with_its_site_and_tag)
{
    observed_t o = {0};
    kshim_fault_plan_t plan = {KSHIM_FAULT_TRANSIENT, 2, NULL, TAG_B};
    kshim_fault_set_plan(&plan);
    kshim_fault_set_observer(observe, &o);
    allocate_many(2, TAG_A);
    allocate_many(3, TAG_B);
    kshim_fault_set_observer(NULL, NULL);
    allocate_many(1, TAG_B);
    CHECK_EQ(o.calls, 3);
    CHECK_EQ(o.injected, 1);
    CHECK_EQ(o.last_tag, TAG_B);
    CHECK(strncmp(o.last_site, "test_fault.c:", 13) == 0);
}

NMR_TEST(count_then_inject_sweep_fails_each_call_once)
{
    kshim_fault_plan_t plan = {KSHIM_FAULT_OFF, 0, NULL, TAG_A};
    kshim_fault_set_plan(&plan);
    allocate_many(4, TAG_A);
    unsigned long total = kshim_fault_eligible_calls();
    CHECK_EQ(total, 4);
    for (unsigned long n = 1; n <= total; n++) {
        kshim_fault_plan_t inject = {KSHIM_FAULT_TRANSIENT, n, NULL, TAG_A};
        kshim_fault_set_plan(&inject);
        CHECK_EQ(allocate_many(4, TAG_A), 1);
        CHECK_EQ(kshim_fault_injected_calls(), 1);
    }
}

NMR_TEST(injected_failure_of_io_allocate_work_item_returns_null)
{
    kshim_fault_plan_t plan = {KSHIM_FAULT_TRANSIENT, 1, NULL, KSHIM_TAG_WORK_ITEM};
    kshim_fault_set_plan(&plan);
    size_t base = kshim_pool_live_count();
    CHECK(IoAllocateWorkItem(NULL) == NULL);
    CHECK_EQ(kshim_pool_live_count(), base);
}

NMR_TEST(injected_failure_of_io_create_device_returns_insufficient_resources)
{
    DRIVER_OBJECT driver;
    PDEVICE_OBJECT device = (PDEVICE_OBJECT)1;
    memset(&driver, 0, sizeof driver);
    kshim_fault_plan_t plan = {KSHIM_FAULT_TRANSIENT, 1, NULL, KSHIM_TAG_DEVICE};
    kshim_fault_set_plan(&plan);
    CHECK_STATUS(IoCreateDevice(&driver, 16, NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &device),
                 STATUS_INSUFFICIENT_RESOURCES);
    CHECK(device == NULL);
    CHECK(driver.DeviceObject == NULL);
}

static VOID never_runs(PVOID context)
{
    (void)context;
}

NMR_TEST(injected_failure_of_create_system_thread_returns_insufficient_resources)
{
    HANDLE handle = NULL;
    kshim_fault_plan_t plan = {KSHIM_FAULT_TRANSIENT, 1, NULL, KSHIM_TAG_THREAD};
    kshim_fault_set_plan(&plan);
    CHECK_STATUS(PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, never_runs, NULL),
                 STATUS_INSUFFICIENT_RESOURCES);
    CHECK_EQ(kshim_pending_work_count(), 0);
}

NMR_TEST(injected_failure_with_raise_on_failure_stops)
{
    EXPECT_STOP("*** KSHIM STOP POOL_RAISE_ON_FAILURE: ExAllocatePool2", {
        kshim_fault_plan_t plan = {KSHIM_FAULT_TRANSIENT, 1, NULL, 0};
        kshim_fault_set_plan(&plan);
        ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_RAISE_ON_FAILURE, 8, TAG_A);
    });
}

NMR_TEST(environment_plan_is_read_before_the_first_fallible_call)
{
    setenv("KSHIM_FAULT", "nth=2,mode=transient,tag=FltA", 1);
    void *p1 = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, TAG_B); /* not eligible */
    void *p2 = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, TAG_A);
    void *p3 = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, TAG_A);
    CHECK(p1 != NULL && p2 != NULL && p3 == NULL);
    CHECK_EQ(kshim_fault_injected_calls(), 1);
    ExFreePoolWithTag(p1, TAG_B);
    ExFreePoolWithTag(p2, TAG_A);
}

NMR_TEST(environment_plan_with_site_filter_and_persistent_mode)
{
    setenv("KSHIM_FAULT", "mode=persistent,nth=1,site=test_fault.c", 1);
    CHECK(kshim_fault_plan_from_environment());
    CHECK_EQ(allocate_many(2, TAG_A), 2);
    setenv("KSHIM_FAULT", "mode=persistent,nth=1,site=other_file.c", 1);
    CHECK(kshim_fault_plan_from_environment());
    CHECK_EQ(allocate_many(2, TAG_A), 0);
}

NMR_TEST(environment_without_kshim_fault_arms_nothing)
{
    unsetenv("KSHIM_FAULT");
    CHECK(!kshim_fault_plan_from_environment());
    CHECK_EQ(allocate_many(2, TAG_A), 0);
}

NMR_TEST(environment_tag_may_be_hexadecimal)
{
    char text[64];
    snprintf(text, sizeof text, "nth=1,mode=persistent,tag=0x%08x", (unsigned)TAG_B);
    setenv("KSHIM_FAULT", text, 1);
    CHECK(kshim_fault_plan_from_environment());
    CHECK_EQ(allocate_many(2, TAG_A), 0);
    CHECK_EQ(allocate_many(2, TAG_B), 2);
}

NMR_TEST(malformed_environment_mode_stops)
{
    EXPECT_STOP("*** KSHIM STOP FAULT_PLAN_MALFORMED: KSHIM_FAULT field mode", {
        setenv("KSHIM_FAULT", "nth=1,mode=sometimes", 1);
        kshim_fault_plan_from_environment();
    });
}

NMR_TEST(malformed_environment_nth_stops)
{
    EXPECT_STOP("*** KSHIM STOP FAULT_PLAN_MALFORMED: KSHIM_FAULT field nth", {
        setenv("KSHIM_FAULT", "nth=zero,mode=transient", 1);
        kshim_fault_plan_from_environment();
    });
}

NMR_TEST(malformed_environment_unknown_field_stops)
{
    EXPECT_STOP("*** KSHIM STOP FAULT_PLAN_MALFORMED: KSHIM_FAULT field \"when\"", {
        setenv("KSHIM_FAULT", "nth=1,mode=transient,when=now", 1);
        kshim_fault_plan_from_environment();
    });
}

NMR_TEST(malformed_environment_tag_stops)
{
    EXPECT_STOP("*** KSHIM STOP FAULT_PLAN_MALFORMED: KSHIM_FAULT field tag", {
        setenv("KSHIM_FAULT", "nth=1,mode=transient,tag=TOOLONG", 1);
        kshim_fault_plan_from_environment();
    });
}

NMR_TEST(malformed_environment_is_caught_at_the_first_fallible_call)
{
    EXPECT_STOP("*** KSHIM STOP FAULT_PLAN_MALFORMED:", {
        setenv("KSHIM_FAULT", "garbage", 1);
        ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, TAG_A);
    });
}

NMR_TEST(environment_missing_nth_for_an_active_mode_stops)
{
    EXPECT_STOP("*** KSHIM STOP FAULT_PLAN_MALFORMED: KSHIM_FAULT field nth: missing", {
        setenv("KSHIM_FAULT", "mode=transient", 1);
        kshim_fault_plan_from_environment();
    });
}
