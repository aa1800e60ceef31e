/* SPDX-License-Identifier: MIT */
/*
 * sample_driver_test.c - runs the compile fixture (sample_driver.c, built with the driver
 * dialect) against the shim, as a harness would: its registry fixture, DriverEntry, every
 * routine it exercises, unload, and the audit.
 */
#include <string.h>

#include <kshim/kshim.h>
#include <ntddk.h>

#include "nmr_test.h"
#include "sample_driver.h"

VOID SampleFailFast(VOID);

static const WCHAR registry_path_text[] = {'\\', 'R', 'e', 'g', 'i', 's', 't', 'r', 'y', '\\', 'S', 'a', 'm', 'p', 'l', 'e', 0};

static UNICODE_STRING registry_path(void)
{
    UNICODE_STRING path;
    RtlInitUnicodeString(&path, registry_path_text);
    return path;
}

NMR_TEST(sample_driver_built_with_the_driver_dialect_runs_every_routine_it_uses)
{
    UNICODE_STRING path = registry_path();
    CHECK_STATUS(kshim_registry_load_fixture(&path, SAMPLE_REGISTRY_FIXTURE), STATUS_SUCCESS);
    size_t pool = kshim_pool_live_count();
    DRIVER_OBJECT driver;
    memset(&driver, 0, sizeof driver);
    CHECK_STATUS(SampleDriverEntry(&driver, &path), STATUS_SUCCESS);
    CHECK(driver.DriverUnload == SampleDriverUnload);

    SAMPLE_RESULTS results;
    CHECK_STATUS(SampleExercise(&results), STATUS_SUCCESS);
    CHECK_EQ(results.MaxBindings, 16);
    static const char expected_name[] = "npi-sample";
    CHECK_EQ(results.NameLength, strlen(expected_name));
    for (size_t i = 0; i < strlen(expected_name); i++) {
        CHECK_EQ(results.Name[i], (WCHAR)expected_name[i]);
    }
    CHECK(results.TimerDpcRuns >= 2);
    CHECK_EQ(results.DpcIrql, DISPATCH_LEVEL);
    CHECK(results.IntsafeOverflowCaught);
    CHECK_EQ(results.RoundedUp, 8 + 8 + 0); /* 5 up to 4, 5 up to 8, low 32 bits of 2^32 - 1 + 1 */
    CHECK(strcmp(results.Ipv4Text, "192.0.2.1") == 0);
    CHECK(strcmp(results.Ipv6Text, "2001:db8::1") == 0);
    CHECK_EQ(results.ProcessorCount, 1);
    CHECK_EQ(results.Uuid.Data3 >> 12, 4); /* version 4 */
    CHECK(results.Handle != NULL);

    driver.DriverUnload(&driver);
    kshim_audit(pool);
    kshim_reset();
}

NMR_TEST(sample_driver_entry_fails_without_its_required_registry_value)
{
    UNICODE_STRING path = registry_path();
    ULONG sixteen = 16;
    CHECK_STATUS(kshim_registry_set_value(&path, "MaxBindings", REG_DWORD, &sixteen, sizeof sixteen),
                 STATUS_SUCCESS);
    size_t pool = kshim_pool_live_count();
    DRIVER_OBJECT driver;
    memset(&driver, 0, sizeof driver);
    CHECK_STATUS(SampleDriverEntry(&driver, &path), STATUS_OBJECT_NAME_NOT_FOUND);
    kshim_audit(pool);
}

NMR_TEST(sample_driver_fail_fast_is_a_named_stop)
{
    EXPECT_STOP("*** KSHIM STOP FAST_FAIL: RtlFailFast(5) at sample_driver.c:", SampleFailFast());
}
