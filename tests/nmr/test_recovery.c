/* SPDX-License-Identifier: MIT */
/*
 * test_recovery.c - nmr_reset after a verifier stop that a harness caught with the shim's stop
 * trap (kshim_stop_trap_arm): the stop cuts an NMR call short in the middle of a callout, with
 * the registrar lock acquired, or at DISPATCH_LEVEL; nmr_reset must drop every object and
 * bring the lock and the callout bookkeeping back, so that a normal register / attach /
 * deregister / wait sequence works again and every invariant and the pool audit hold.
 *
 * White-box: includes nmr_internal.h to show the state the stop leaves behind (lock held,
 * callouts of gone frames listed) and that nmr_reset clears it.
 */
#include <setjmp.h>

#include "fake_modules.h"
#include "nmr_internal.h"

static kshim_stop_trap_t trap;
static fake_module_t c, p, c2, p2;

/* Whether callouts are listed. After a caught stop the entries are records in stack frames
   that no longer exist: only the list head may be read, never an entry. */
static bool callouts_listed(void)
{
    return !IsListEmpty(&nmr_registrar.callouts);
}

static void check_caught_verifier_stop(const char *rule, ULONG_PTR parameter4,
                                       const char *printed_prefix)
{
    CHECK_STR(trap.record.name, "BUGCHECK");
    CHECK(trap.record.bugcheck);
    CHECK_EQ(trap.record.bugcheck_code, NMR_INVALID_STATE);
    CHECK_STR((const char *)trap.record.bugcheck_parameters[0], rule);
    CHECK_EQ(trap.record.bugcheck_parameters[3], parameter4);
    if (strncmp(trap.record.printed, printed_prefix, strlen(printed_prefix)) != 0) {
        nmr_test_fail(__FILE__, __LINE__, "the verifier printed \"%s\", expected it to start with "
                                          "\"%s\"",
                      trap.record.printed, printed_prefix);
    }
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

/* nmr_reset drops `expected` objects and leaves a registrar with nothing held or listed. */
static void reset_and_check_clean(ULONG expected)
{
    CHECK_EQ(nmr_reset(), expected);
    CHECK(KeTestSpinLock(&nmr_registrar.lock));
    CHECK(nmr_registrar.lock_owner == NULL);
    CHECK(!callouts_listed());
    CHECK_EQ(nmr_live_object_count(), 0);
    nmr_check_invariants();
    CHECK_EQ(kshim_pool_live_count_by_tag(KSHIM_POOL_TAG('N', 'm', 'R', 'g')), 0);
    CHECK_EQ(kshim_pool_live_count_by_tag(KSHIM_POOL_TAG('N', 'm', 'B', 'd')), 0);
    kshim_audit(fake_pool_baseline());
    nmr_verifier_config_t config = fake_config();
    CHECK_EQ(config.hang_timeout_ms, NMR_DEFAULT_HANG_TIMEOUT_MS);
    CHECK(!config.detach_at_dispatch);
    CHECK_EQ(nmr_verifier_warning_count(), 0);
}

/* A full, correct life cycle on the reset registrar, in both registration orders, with a
   pending detach completed later; fake_end audits it. */
static void normal_sequence_works(void)
{
    fake_begin();
    fake_init_named(&FAKE_NPI_A, "c2 p2", &c2, &p2);
    p2.detach_mode = FAKE_DETACH_PENDING;
    fake_register_ok(&c2);
    fake_register_ok(&p2);
    CHECK_EQ(c2.attach_successes, 1);
    CHECK_EQ(p2.attach_calls, 1);
    CHECK_STATUS(fake_deregister(&c2), STATUS_PENDING);
    CHECK_EQ(p2.detach_calls, 1);
    fake_complete(fake_binding_between(&p2, &c2));
    CHECK_EQ(c2.cleanup_calls, 1);
    CHECK_EQ(p2.cleanup_calls, 1);
    CHECK_STATUS(fake_wait(&c2), STATUS_SUCCESS);
    nmr_check_invariants();
    fake_register_ok(&c2);
    CHECK_EQ(c2.attach_successes, 2);
    p2.detach_mode = FAKE_DETACH_SUCCESS;
    fake_unregister_ok(&p2);
    fake_unregister_ok(&c2);
    nmr_check_invariants();
    fake_end();
}

/* ---- a stop inside ProviderAttachClient, nested in ClientAttachProvider ------------------- */

static void deregister_with_own_binding_handle(fake_module_t *module, fake_binding_t *binding,
                                               fake_point_t point)
{
    (void)module;
    if (point == FAKE_AT_ATTACH) {
        NmrDeregisterProvider(binding->handle); /* a binding handle: R9, under the lock */
    }
}

NMR_TEST(stop_in_a_nested_attach_callout_then_reset_leaves_a_working_registrar)
{
    fake_begin();
    fake_init_named(&FAKE_NPI_A, "c1 p1", &c, &p);
    p.hook = deregister_with_own_binding_handle;
    fake_register_ok(&c);
    if (setjmp(trap.jump) == 0) {
        kshim_stop_trap_arm(&trap);
        fake_register(&p);
        kshim_stop_trap_disarm(&trap);
        nmr_test_fail(__FILE__, __LINE__, "no stop");
    }
    check_caught_verifier_stop("R9", 0,
                               "*** NMR VERIFIER STOP R9: NmrDeregisterProvider: passed a "
                               "provider-side binding handle");
    /* What the stop left: the lock held by this thread, two callouts of gone frames. */
    CHECK(!KeTestSpinLock(&nmr_registrar.lock));
    CHECK(nmr_registrar.lock_owner == KeGetCurrentThread());
    CHECK(callouts_listed()); /* ClientAttachProvider and ProviderAttachClient */
    reset_and_check_clean(3); /* c1, p1 and their attaching binding */
    normal_sequence_works();
}

/* ---- the D4 watchdog, raised in a wait with the lock held --------------------------------- */

NMR_TEST(hang_stop_in_a_wait_then_reset_leaves_a_working_registrar)
{
    fake_begin();
    fake_init_named(&FAKE_NPI_A, "c1 p1", &c, &p);
    c.detach_mode = FAKE_DETACH_PENDING; /* never completed: the wait cannot finish */
    fake_register_ok(&p);
    fake_register_ok(&c);
    fake_set_hang_timeout(1);
    CHECK_STATUS(fake_deregister(&c), STATUS_PENDING);
    if (setjmp(trap.jump) == 0) {
        kshim_stop_trap_arm(&trap);
        fake_wait(&c);
        kshim_stop_trap_disarm(&trap);
        nmr_test_fail(__FILE__, __LINE__, "no stop");
    }
    check_caught_verifier_stop("D4", 2,
                               "*** NMR VERIFIER STOP D4: NmrWaitForClientDeregisterComplete");
    CHECK(fake_text_contains(trap.record.printed, "client side: ClientDetachProvider returned "
                                                  "STATUS_PENDING, NmrClientDetachProviderComplete "
                                                  "not called"));
    CHECK(!KeTestSpinLock(&nmr_registrar.lock));
    CHECK(!callouts_listed());
    reset_and_check_clean(3);
    normal_sequence_works();
}

/* ---- a stop inside a detach callout that runs at DISPATCH_LEVEL --------------------------- */

static void wait_inside_detach(fake_module_t *module, fake_binding_t *binding, fake_point_t point)
{
    (void)binding;
    if (point == FAKE_AT_DETACH) {
        NmrWaitForClientDeregisterComplete(module->handle); /* at DISPATCH_LEVEL: R4 */
    }
}

NMR_TEST(stop_in_a_detach_callout_at_dispatch_level_then_reset_leaves_a_working_registrar)
{
    fake_begin();
    fake_init_named(&FAKE_NPI_A, "c1 p1", &c, &p);
    fake_register_ok(&c);
    fake_register_ok(&p);
    fake_turn_on(FAKE_DETACH_AT_DISPATCH);
    c.hook = wait_inside_detach;
    if (setjmp(trap.jump) == 0) {
        kshim_stop_trap_arm(&trap);
        fake_deregister(&c);
        kshim_stop_trap_disarm(&trap);
        nmr_test_fail(__FILE__, __LINE__, "no stop");
    }
    check_caught_verifier_stop("R4", 0,
                               "*** NMR VERIFIER STOP R4: NmrWaitForClientDeregisterComplete: "
                               "called at IRQL 2");
    CHECK_EQ(trap.record.irql_at_stop, DISPATCH_LEVEL);
    CHECK(KeTestSpinLock(&nmr_registrar.lock)); /* R4 is checked before taking the lock */
    CHECK(callouts_listed()); /* ClientDetachProvider */
    reset_and_check_clean(3);
    normal_sequence_works();
}
