/* SPDX-License-Identifier: MIT */
/*
 * test_config.c - the verifier configuration of nmr_module.h: warnings counted by default,
 * warnings_are_fatal turning them into stops, nmr_reset restoring the defaults and
 * reporting leftovers, and nmr_live_object_count.
 * (detach_at_dispatch, cleanup_at_dispatch and provider_detach_first are tested with the
 * callbacks they affect, in test_detach.c and test_cleanup.c; hang_timeout_ms with D4 in
 * test_stops.c.)
 */
#include "fake_modules.h"

#define STOP(rule) "*** NMR VERIFIER STOP " rule ":"

static void make_fatal(void)
{
    fake_turn_on(FAKE_WARNINGS_ARE_FATAL);
}

NMR_TEST(warnings_are_not_fatal_by_default)
{
    fake_begin();
    nmr_verifier_config_t config = fake_config();
    CHECK_EQ(config.warnings_are_fatal, FALSE);
    fake_module_t c;
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    c.cchars.Version = 1;
    CHECK_STATUS(fake_register(&c), STATUS_SUCCESS);
    CHECK_EQ(nmr_verifier_warning_count(), 1);
    fake_unregister_ok(&c);
    fake_end();
}

static void register_client_with_version_one(void)
{
    fake_module_t c;
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    c.cchars.Version = 1;
    make_fatal();
    fake_register(&c);
}

NMR_TEST(warnings_are_fatal_turns_an_r10_warning_into_a_stop)
{
    fake_begin();
    EXPECT_STOP(STOP("R10"), register_client_with_version_one());
    CHECK_STOP_MENTIONS("NmrRegisterClient");
    fake_end();
}

static void register_null_characteristics_fatal(void)
{
    HANDLE handle;
    make_fatal();
    NmrRegisterProvider(NULL, NULL, &handle);
}

NMR_TEST(warnings_are_fatal_turns_the_r10_warning_for_null_characteristics_into_a_stop)
{
    fake_begin();
    EXPECT_STOP(STOP("R10"), register_null_characteristics_fatal());
    CHECK_STOP_MENTIONS("NmrRegisterProvider");
    fake_end();
}

static void wait_before_deregister_fatal(void)
{
    fake_module_t c;
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_register(&c);
    make_fatal();
    fake_wait(&c);
}

NMR_TEST(warnings_are_fatal_turns_the_r8_warning_into_a_stop)
{
    fake_begin();
    EXPECT_STOP(STOP("R8"), wait_before_deregister_fatal());
    CHECK_STOP_MENTIONS("NmrWaitForClientDeregisterComplete");
    CHECK_STOP_MENTIONS(FAKE_NPI_A_TEXT);
    fake_end();
}

static void provider_error_fatal(void)
{
    fake_module_t c, p;
    fake_init_named(&FAKE_NPI_A, "c1 p1", &c, &p);
    p.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    p.attach_status = STATUS_UNSUCCESSFUL;
    make_fatal();
    fake_register(&p);
    fake_register(&c);
}

NMR_TEST(warnings_are_fatal_turns_the_a9_warning_into_a_stop)
{
    fake_begin();
    EXPECT_STOP(STOP("A9"), provider_error_fatal());
    fake_end();
}

NMR_TEST(warnings_are_printed_false_still_counts_warnings)
{
    fake_begin();
    nmr_verifier_config_t config = fake_config();
    config.warnings_are_printed = FALSE;
    fake_set_config(&config);
    fake_module_t c;
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    c.cchars.Length = sizeof(NPI_CLIENT_CHARACTERISTICS) + 1;
    fake_register_ok(&c);
    CHECK_EQ(nmr_verifier_warning_count(), 1);
    CHECK_STR(nmr_verifier_last_warning_rule(), "R10");
    fake_unregister_ok(&c);
    fake_end();
}

NMR_TEST(set_config_is_read_back_and_nmr_reset_restores_the_defaults)
{
    fake_begin();
    nmr_verifier_config_t defaults = fake_config();
    nmr_verifier_config_t config = defaults;
    config.warnings_are_fatal = TRUE;
    config.detach_at_dispatch = TRUE;
    config.cleanup_at_dispatch = TRUE;
    config.provider_detach_first = TRUE;
    config.hang_timeout_ms = 1234;
    fake_set_config(&config);
    nmr_verifier_config_t read = fake_config();
    CHECK_EQ(read.warnings_are_fatal, TRUE);
    CHECK_EQ(read.detach_at_dispatch, TRUE);
    CHECK_EQ(read.cleanup_at_dispatch, TRUE);
    CHECK_EQ(read.provider_detach_first, TRUE);
    CHECK_EQ(read.hang_timeout_ms, 1234);
    CHECK_EQ(nmr_reset(), 0);
    read = fake_config();
    CHECK_EQ(read.warnings_are_fatal, FALSE);
    CHECK_EQ(read.detach_at_dispatch, FALSE);
    CHECK_EQ(read.cleanup_at_dispatch, FALSE);
    CHECK_EQ(read.provider_detach_first, FALSE);
    CHECK_EQ(read.hang_timeout_ms, defaults.hang_timeout_ms);
    fake_end();
}

NMR_TEST(nmr_reset_clears_the_warning_count)
{
    fake_begin();
    CHECK_STATUS(NmrRegisterClient(NULL, NULL, NULL), STATUS_INVALID_PARAMETER);
    CHECK_EQ(nmr_verifier_warning_count(), 1);
    CHECK_EQ(nmr_reset(), 0);
    CHECK_EQ(nmr_verifier_warning_count(), 0);
    CHECK(nmr_verifier_last_warning_rule() == NULL);
    fake_end();
}

NMR_TEST(nmr_reset_reports_and_frees_what_was_still_live_without_calling_modules)
{
    fake_begin();
    fake_module_t c, p;
    fake_init_named(&FAKE_NPI_A, "c1 p1", &c, &p);
    fake_register_ok(&p);
    fake_register_ok(&c);
    CHECK_EQ(nmr_live_object_count(), 3);
    fake_log_clear();
    CHECK_EQ(nmr_reset(), 3);
    CHECK_LOG("");
    CHECK_EQ(nmr_live_object_count(), 0);
    CHECK_EQ(kshim_pool_live_count(), fake_pool_baseline());
    c.registered = false; /* forgotten by the reset, not waited */
    p.registered = false;
    fake_end();
}

NMR_TEST(live_object_count_counts_registrations_and_undestroyed_bindings)
{
    fake_begin();
    fake_module_t c1, c2, p;
    fake_init_named(&FAKE_NPI_A, "c1 c2 p1", &c1, &c2, &p);
    c2.detach_mode = FAKE_DETACH_PENDING;
    CHECK_EQ(nmr_live_object_count(), 0);
    fake_register_ok(&c1);
    CHECK_EQ(nmr_live_object_count(), 1);
    fake_register_ok(&c2);
    fake_register_ok(&p);
    CHECK_EQ(nmr_live_object_count(), 5);
    CHECK_STATUS(fake_deregister(&p), STATUS_PENDING);
    CHECK_EQ(nmr_live_object_count(), 4); /* c1-p destroyed, c2-p pending */
    fake_complete(fake_binding_between(&c2, &p));
    CHECK_EQ(nmr_live_object_count(), 3);
    CHECK_STATUS(fake_wait(&p), STATUS_SUCCESS);
    CHECK_EQ(nmr_live_object_count(), 2);
    fake_unregister_ok(&c1);
    fake_unregister_ok(&c2);
    fake_end();
}

NMR_TEST(check_invariants_passes_in_every_stable_state_of_a_pending_detach)
{
    fake_begin();
    fake_module_t c, p;
    fake_init_named(&FAKE_NPI_A, "c1 p1", &c, &p);
    c.detach_mode = FAKE_DETACH_PENDING;
    p.detach_mode = FAKE_DETACH_PENDING;
    nmr_check_invariants();
    fake_register_ok(&p);
    nmr_check_invariants();
    fake_register_ok(&c);
    nmr_check_invariants();
    CHECK_STATUS(fake_deregister(&c), STATUS_PENDING);
    nmr_check_invariants();
    fake_complete(fake_binding_between(&c, &p));
    nmr_check_invariants();
    CHECK_STATUS(fake_deregister(&p), STATUS_PENDING);
    nmr_check_invariants();
    fake_complete(fake_binding_between(&p, &c));
    nmr_check_invariants();
    CHECK_STATUS(fake_wait(&c), STATUS_SUCCESS);
    CHECK_STATUS(fake_wait(&p), STATUS_SUCCESS);
    nmr_check_invariants();
    fake_end();
}

#define SLOW_PROVIDERS 7
#define SLOW_STEP_MS 100
#define SLOW_HANG_TIMEOUT_MS 500

typedef struct {
    fake_binding_t *records[SLOW_PROVIDERS];
} slow_completions_t;

static void complete_one_by_one(void *arg)
{
    slow_completions_t *slow = arg;
    for (int i = 0; i < SLOW_PROVIDERS; i++) {
        fake_sleep_ms(SLOW_STEP_MS);
        fake_complete(slow->records[i]);
    }
}

NMR_TEST(hang_timeout_measures_progress_not_the_total_wait)
{
    fake_begin();
    fake_set_hang_timeout(SLOW_HANG_TIMEOUT_MS);
    static fake_module_t c, providers[SLOW_PROVIDERS];
    static const char *const names[SLOW_PROVIDERS] = {"p1", "p2", "p3", "p4", "p5", "p6", "p7"};
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    c.detach_mode = FAKE_DETACH_PENDING;
    for (int i = 0; i < SLOW_PROVIDERS; i++) {
        fake_provider_init(&providers[i], names[i], &FAKE_NPI_A);
        fake_register_ok(&providers[i]);
    }
    fake_register_ok(&c);
    CHECK_STATUS(fake_deregister(&c), STATUS_PENDING);
    slow_completions_t slow;
    for (int i = 0; i < SLOW_PROVIDERS; i++) {
        slow.records[i] = fake_binding_between(&c, &providers[i]);
    }
    /* 7 x 100 ms > 500 ms in total, but a binding finishes every 100 ms */
    kshim_thread_t *thread = kshim_thread_start("one-by-one", complete_one_by_one, &slow);
    CHECK_STATUS(fake_wait(&c), STATUS_SUCCESS);
    kshim_thread_join(thread);
    for (int i = 0; i < SLOW_PROVIDERS; i++) {
        fake_unregister_ok(&providers[i]);
    }
    fake_end();
}
