/* SPDX-License-Identifier: MIT */
/*
 * test_cleanup.c - when, where, in which order and with which contexts the cleanup
 * callbacks run (spec 2.4, 5.6; docs/behaviour.md "NmrClientDetachProviderComplete /
 * NmrProviderDetachClientComplete" and "NmrWaitFor..."): only after both sides completed,
 * inside the call that completed the last side, client then provider, NULL callbacks
 * skipped, and always before NmrWaitFor* returns.
 */
#include "fake_modules.h"

/* C1 (pair[FAKE_CLIENT]) is the client c1, P1 (pair[FAKE_PROVIDER]) the provider p1
   (fake_init_pair). */
static fake_module_t pair[2];
#define C1 (pair[FAKE_CLIENT])
#define P1 (pair[FAKE_PROVIDER])

NMR_TEST(cleanup_runs_inside_deregister_when_both_detach_callbacks_return_success)
{
    fake_begin();
    fake_init_pair(pair);
    fake_attach_pair(pair);
    fake_set_marker(1);
    CHECK_STATUS(fake_deregister(&C1), STATUS_PENDING);
    fake_set_marker(0);
    fake_binding_t *cb = fake_binding_between(&C1, &P1);
    fake_binding_t *pb = fake_binding_between(&P1, &C1);
    CHECK_EQ(cb->cleanup_calls, 1);
    CHECK_EQ(pb->cleanup_calls, 1);
    CHECK_EQ(cb->cleanup_saw_marker, 1);
    CHECK_EQ(pb->cleanup_saw_marker, 1);
    CHECK_LOG("c1.detach(p1) p1.detach(c1) c1.cleanup(p1) p1.cleanup(c1) c1.deregistered");
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    fake_unregister_ok(&P1);
    fake_end();
}

/* Both detaches pending; the peer deregisters and completes first, ROLE completes last. */
NMR_ROLE_TEST(cleanup_waits_for_both_sides_and_runs_inside_the_last_ROLE_completion)
{
    fake_begin();
    fake_init_pair(pair);
    C1.detach_mode = FAKE_DETACH_PENDING;
    P1.detach_mode = FAKE_DETACH_PENDING;
    fake_attach_pair(pair);
    fake_module_t *last = &pair[role], *first = &pair[fake_other_role(role)];
    CHECK_STATUS(fake_deregister(first), STATUS_PENDING);
    fake_set_marker(1);
    fake_complete(fake_pair_side(pair, fake_other_role(role)));
    CHECK_EQ(C1.cleanup_calls + P1.cleanup_calls, 0);
    fake_set_marker(2);
    fake_complete(fake_pair_side(pair, role));
    fake_set_marker(0);
    CHECK_EQ(fake_pair_side(pair, FAKE_CLIENT)->cleanup_saw_marker, 2);
    CHECK_EQ(fake_pair_side(pair, FAKE_PROVIDER)->cleanup_saw_marker, 2);
    char log[256];
    snprintf(log, sizeof log, "c1.detach(p1) p1.detach(c1) %s.deregistered %s.complete(%s) "
             "%s.complete_done(%s) %s.complete(%s) c1.cleanup(p1) p1.cleanup(c1) "
             "%s.complete_done(%s)", first->name, first->name, last->name, first->name,
             last->name, last->name, first->name, last->name, first->name);
    CHECK_LOG(log);
    CHECK_STATUS(fake_wait(first), STATUS_SUCCESS);
    fake_unregister_ok(last);
    fake_end();
}

NMR_TEST(cleanup_does_not_run_while_the_only_pending_side_has_not_completed)
{
    fake_begin();
    fake_init_pair(pair);
    P1.detach_mode = FAKE_DETACH_PENDING;
    fake_attach_pair(pair);
    CHECK_STATUS(fake_deregister(&C1), STATUS_PENDING);
    CHECK_STATUS(fake_deregister(&P1), STATUS_PENDING);
    CHECK_EQ(C1.cleanup_calls + P1.cleanup_calls, 0);
    CHECK_EQ(nmr_live_object_count(), 3);
    fake_complete(fake_binding_between(&P1, &C1));
    CHECK_EQ(C1.cleanup_calls, 1);
    CHECK_EQ(P1.cleanup_calls, 1);
    CHECK_EQ(nmr_live_object_count(), 2);
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    CHECK_STATUS(fake_wait(&P1), STATUS_SUCCESS);
    fake_end();
}

NMR_TEST(cleanup_calls_the_client_then_the_provider_each_with_its_own_binding_context)
{
    fake_begin();
    fake_init_pair(pair);
    fake_attach_pair(pair);
    fake_unregister_ok(&P1);
    fake_binding_t *cb = fake_binding_between(&C1, &P1);
    fake_binding_t *pb = fake_binding_between(&P1, &C1);
    /* a context of the wrong record or role would have been counted as a violation */
    CHECK_EQ(cb->cleanup_calls, 1);
    CHECK_EQ(pb->cleanup_calls, 1);
    CHECK_EQ(cb->state, FB_CLEANED);
    CHECK_EQ(pb->state, FB_CLEANED);
    CHECK_LOG("c1.detach(p1) p1.detach(c1) c1.cleanup(p1) p1.cleanup(c1) p1.deregistered p1.waited");
    fake_unregister_ok(&C1);
    fake_end();
}

NMR_TEST(cleanup_order_stays_client_then_provider_with_provider_detach_first)
{
    fake_begin();
    fake_turn_on(FAKE_PROVIDER_DETACH_FIRST);
    fake_init_pair(pair);
    fake_attach_pair(pair);
    fake_unregister_ok(&P1);
    CHECK_LOG("p1.detach(c1) c1.detach(p1) c1.cleanup(p1) p1.cleanup(c1) p1.deregistered p1.waited");
    fake_unregister_ok(&C1);
    fake_end();
}

NMR_TEST(cleanup_of_several_bindings_uses_each_bindings_own_contexts)
{
    fake_begin();
    fake_module_t p1, p2;
    fake_init_named(&FAKE_NPI_A, "c1 p1 p2", &C1, &p1, &p2);
    fake_register_ok(&p1);
    fake_register_ok(&p2);
    fake_register_ok(&C1);
    fake_log_clear();
    fake_unregister_ok(&C1);
    CHECK_EQ(fake_binding_between(&C1, &p1)->cleanup_calls, 1);
    CHECK_EQ(fake_binding_between(&C1, &p2)->cleanup_calls, 1);
    CHECK_EQ(fake_binding_between(&p1, &C1)->cleanup_calls, 1);
    CHECK_EQ(fake_binding_between(&p2, &C1)->cleanup_calls, 1);
    CHECK(strstr(fake_log(), "c1.cleanup(p1)") != NULL);
    CHECK(strstr(fake_log(), "c1.cleanup(p2)") != NULL);
    CHECK(strstr(fake_log(), "p1.cleanup(c1)") != NULL);
    CHECK(strstr(fake_log(), "p2.cleanup(c1)") != NULL);
    fake_unregister_ok(&p1);
    fake_unregister_ok(&p2);
    fake_end();
}

/* ---- NULL cleanup callbacks ------------------------------------------------------------- */

NMR_ROLE_TEST(a_null_ROLE_cleanup_callback_skips_only_the_ROLE_cleanup)
{
    fake_begin();
    fake_init_pair(pair);
    fake_set_callback(&pair[role], FAKE_CALLBACK_CLEANUP, false);
    fake_attach_pair(pair);
    fake_unregister_ok(&C1);
    CHECK_LOG(role == FAKE_CLIENT
                  ? "c1.detach(p1) p1.detach(c1) p1.cleanup(c1) c1.deregistered c1.waited"
                  : "c1.detach(p1) p1.detach(c1) c1.cleanup(p1) c1.deregistered c1.waited");
    CHECK_EQ(pair[role].cleanup_calls, 0);
    CHECK_EQ(pair[fake_other_role(role)].cleanup_calls, 1);
    fake_unregister_ok(&P1);
    fake_end();
}

NMR_TEST(null_cleanup_callbacks_on_both_sides_still_end_the_binding_after_pending_detaches)
{
    fake_begin();
    fake_init_pair(pair);
    C1.cchars.ClientCleanupBindingContext = NULL;
    P1.pchars.ProviderCleanupBindingContext = NULL;
    C1.detach_mode = FAKE_DETACH_PENDING;
    P1.detach_mode = FAKE_DETACH_PENDING;
    fake_attach_pair(pair);
    CHECK_STATUS(fake_deregister(&C1), STATUS_PENDING);
    fake_complete(fake_binding_between(&P1, &C1));
    CHECK_EQ(nmr_live_object_count(), 3);
    fake_complete(fake_binding_between(&C1, &P1));
    CHECK_EQ(nmr_live_object_count(), 2);
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    fake_unregister_ok(&P1);
    CHECK_EQ(C1.cleanup_calls + P1.cleanup_calls, 0);
    fake_end();
}

/* ---- cleanup and the wait --------------------------------------------------------------- */

typedef struct {
    volatile LONG finished;
} slow_cleanup_t;

static void slow_cleanup_hook(fake_module_t *module, fake_binding_t *binding, fake_point_t point)
{
    if (point == FAKE_AT_CLEANUP) {
        slow_cleanup_t *slow = module->hook_arg;
        fake_sleep_ms(150);
        InterlockedIncrement(&slow->finished);
    }
}

static void complete_after_a_while(void *arg)
{
    fake_sleep_ms(30);
    fake_complete(arg);
}

/* The client's detach is pending and completed late by another thread, while the other
   module's cleanup is slow: ROLE's wait returns only after that cleanup finished. */
NMR_ROLE_TEST(ROLE_wait_returns_only_after_the_cleanup_callbacks_finished)
{
    fake_begin();
    fake_init_pair(pair);
    slow_cleanup_t slow = {0};
    fake_module_t *slow_module = &pair[fake_other_role(role)];
    slow_module->hook = slow_cleanup_hook;
    slow_module->hook_arg = &slow;
    C1.detach_mode = FAKE_DETACH_PENDING;
    fake_attach_pair(pair);
    CHECK_STATUS(fake_deregister(&C1), STATUS_PENDING);
    if (role == FAKE_PROVIDER) {
        CHECK_STATUS(fake_deregister(&P1), STATUS_PENDING);
    }
    kshim_thread_t *thread = kshim_thread_start("slow-completer", complete_after_a_while,
                                                fake_pair_side(pair, FAKE_CLIENT));
    CHECK_STATUS(fake_wait(&pair[role]), STATUS_SUCCESS);
    CHECK_EQ(InterlockedCompareExchange(&slow.finished, 0, 0), 1);
    kshim_thread_join(thread);
    if (role == FAKE_CLIENT) {
        fake_unregister_ok(&P1);
    } else {
        CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    }
    fake_end();
}

NMR_TEST(no_callback_reaches_a_module_after_its_wait_returned)
{
    fake_begin();
    fake_init_pair(pair);
    slow_cleanup_t slow = {0};
    C1.hook = slow_cleanup_hook; /* the client cleanup sleeps: the provider cleanup comes later */
    C1.hook_arg = &slow;
    P1.detach_mode = FAKE_DETACH_PENDING;
    fake_attach_pair(pair);
    CHECK_STATUS(fake_deregister(&P1), STATUS_PENDING);
    fake_binding_t *cb = fake_binding_between(&C1, &P1);
    fake_binding_t *pb = fake_binding_between(&P1, &C1);
    kshim_thread_t *thread = kshim_thread_start("slow-completer", complete_after_a_while, pb);
    CHECK_STATUS(fake_wait(&P1), STATUS_SUCCESS);
    fake_set_marker(3); /* any cleanup reading this ran after the wait returned */
    kshim_thread_join(thread);
    CHECK_EQ(cb->cleanup_calls, 1);
    CHECK_EQ(pb->cleanup_calls, 1);
    CHECK_EQ(cb->cleanup_saw_marker, 0);
    CHECK_EQ(pb->cleanup_saw_marker, 0);
    CHECK_EQ(P1.detach_calls, 1);
    fake_unregister_ok(&C1);
    fake_end();
}

/* ---- thread and IRQL of cleanup --------------------------------------------------------- */

NMR_TEST(cleanup_runs_on_the_thread_that_completed_the_last_side)
{
    fake_begin();
    fake_init_pair(pair);
    P1.detach_mode = FAKE_DETACH_PENDING;
    fake_attach_pair(pair);
    CHECK_STATUS(fake_deregister(&C1), STATUS_PENDING);
    fake_complete_on_other_thread(fake_binding_between(&P1, &C1));
    CHECK_STR(fake_binding_between(&C1, &P1)->cleanup_thread, "fake-complete");
    CHECK_STR(fake_binding_between(&P1, &C1)->cleanup_thread, "fake-complete");
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    fake_unregister_ok(&P1);
    fake_end();
}

NMR_TEST(cleanup_runs_at_the_irql_of_the_completing_caller)
{
    fake_begin();
    fake_init_pair(pair);
    C1.detach_mode = FAKE_DETACH_PENDING;
    fake_attach_pair(pair);
    CHECK_STATUS(fake_deregister(&C1), STATUS_PENDING);
    KIRQL old_irql;
    KeRaiseIrql(DISPATCH_LEVEL, &old_irql);
    fake_complete(fake_binding_between(&C1, &P1));
    KeLowerIrql(old_irql);
    CHECK_EQ(fake_binding_between(&C1, &P1)->cleanup_irql, DISPATCH_LEVEL);
    CHECK_EQ(fake_binding_between(&P1, &C1)->cleanup_irql, DISPATCH_LEVEL);
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    fake_unregister_ok(&P1);
    fake_end();
}

NMR_TEST(cleanup_at_dispatch_runs_cleanup_callbacks_at_dispatch_level_for_a_passive_caller)
{
    fake_begin();
    fake_turn_on(FAKE_CLEANUP_AT_DISPATCH);
    fake_check_deregistration_irqls(pair, FAKE_CLIENT, PASSIVE_LEVEL, DISPATCH_LEVEL);
    fake_end();
}

NMR_TEST(cleanup_at_dispatch_also_applies_inside_a_detach_complete_call)
{
    fake_begin();
    fake_turn_on(FAKE_CLEANUP_AT_DISPATCH);
    fake_init_pair(pair);
    P1.detach_mode = FAKE_DETACH_PENDING;
    fake_attach_pair(pair);
    CHECK_STATUS(fake_deregister(&P1), STATUS_PENDING);
    fake_complete(fake_binding_between(&P1, &C1));
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_EQ(fake_binding_between(&C1, &P1)->cleanup_irql, DISPATCH_LEVEL);
    CHECK_EQ(fake_binding_between(&P1, &C1)->cleanup_irql, DISPATCH_LEVEL);
    CHECK_STATUS(fake_wait(&P1), STATUS_SUCCESS);
    fake_unregister_ok(&C1);
    fake_end();
}

/* ---- callbacks run without the registrar lock ------------------------------------------- */

typedef struct {
    fake_module_t *other;
    fake_point_t at;
    NTSTATUS status;
    int calls;
} call_out_t;

static void deregister_other_hook(fake_module_t *module, fake_binding_t *binding, fake_point_t point)
{
    call_out_t *arg = module->hook_arg;
    if (point == arg->at && arg->calls++ == 0) {
        arg->status = fake_deregister(arg->other);
    }
}

static void nmr_call_from_callback(fake_point_t at)
{
    static fake_module_t c2; /* outlives this call: fake_end audits every module */
    fake_init_pair(pair);
    fake_client_init(&c2, "c2", &FAKE_NPI_B);
    static call_out_t arg;
    arg.other = &c2;
    arg.at = at;
    arg.status = 0;
    arg.calls = 0;
    P1.hook = deregister_other_hook;
    P1.hook_arg = &arg;
    fake_register_ok(&c2);
    fake_attach_pair(pair);
    CHECK_STATUS(fake_deregister(&C1), STATUS_PENDING);
    CHECK_EQ(arg.calls, 1);
    CHECK_STATUS(arg.status, STATUS_PENDING);
    CHECK_STATUS(fake_wait(&c2), STATUS_SUCCESS);
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    fake_unregister_ok(&P1);
}

NMR_TEST(a_cleanup_callback_can_call_the_nmr)
{
    fake_begin();
    nmr_call_from_callback(FAKE_AT_CLEANUP);
    fake_end();
}

NMR_TEST(a_detach_callback_can_call_the_nmr)
{
    fake_begin();
    nmr_call_from_callback(FAKE_AT_DETACH);
    fake_end();
}
