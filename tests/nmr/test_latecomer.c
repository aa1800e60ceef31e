/* SPDX-License-Identifier: MIT */
/*
 * test_latecomer.c - deregistration racing an attach (spec 2.3 "IsLateComer", 5.8;
 * docs/behaviour.md "Late-comer"): a binding whose attach was in flight when a side began
 * deregistering is detached by the attaching thread as soon as the attach succeeds, before
 * NmrRegister* returns; a proposed binding whose attach had not started is discarded
 * without any callback.
 */
#include "fake_modules.h"

/* C1 (pair[FAKE_CLIENT]) is the client c1, P1 (pair[FAKE_PROVIDER]) the provider p1
   (fake_init_pair). */
static fake_module_t pair[2];
#define C1 (pair[FAKE_CLIENT])
#define P1 (pair[FAKE_PROVIDER])

/* ---- deregistration from another thread while ProviderAttachClient runs ----------------- */

typedef struct {
    fake_module_t *provider;
    KEVENT attach_entered;   /* set by the provider's attach callback */
    KEVENT deregistered;     /* set by the helper after NmrDeregisterProvider returned */
    NTSTATUS deregister_status;
    LONG detaches_seen_by_helper;
} race_t;

static void race_provider_hook(fake_module_t *module, fake_binding_t *binding, fake_point_t point)
{
    if (point != FAKE_AT_ATTACH) {
        return;
    }
    race_t *race = module->hook_arg;
    KeSetEvent(&race->attach_entered, IO_NO_INCREMENT, FALSE);
    KeWaitForSingleObject(&race->deregistered, Executive, KernelMode, FALSE, NULL);
}

static void race_helper(void *arg)
{
    race_t *race = arg;
    KeWaitForSingleObject(&race->attach_entered, Executive, KernelMode, FALSE, NULL);
    race->deregister_status = fake_deregister(race->provider);
    race->detaches_seen_by_helper = race->provider->detach_calls;
    KeSetEvent(&race->deregistered, IO_NO_INCREMENT, FALSE);
}

NMR_TEST(a_provider_deregistered_by_another_thread_during_its_attach_is_detached_before_register_client_returns)
{
    fake_begin();
    fake_init_pair(pair);
    race_t race;
    race.provider = &P1;
    race.deregister_status = 0;
    race.detaches_seen_by_helper = -1;
    KeInitializeEvent(&race.attach_entered, NotificationEvent, FALSE);
    KeInitializeEvent(&race.deregistered, NotificationEvent, FALSE);
    P1.hook = race_provider_hook;
    P1.hook_arg = &race;
    fake_register_ok(&P1);
    kshim_thread_t *helper = kshim_thread_start("deregister-helper", race_helper, &race);
    fake_register_ok(&C1);
    kshim_thread_join(helper);
    CHECK_STATUS(race.deregister_status, STATUS_PENDING);
    CHECK_EQ(race.detaches_seen_by_helper, 0); /* the in-flight binding was not detached there */
    CHECK_LOG("p1.registered c1.attach(p1) p1.attach(c1) p1.deregistered c1.detach(p1) "
              "p1.detach(c1) c1.cleanup(p1) p1.cleanup(c1) c1.registered");
    fake_binding_t *cb = fake_binding_between(&C1, &P1);
    fake_binding_t *pb = fake_binding_between(&P1, &C1);
    CHECK_STR(cb->detach_thread, "main");
    CHECK_STR(pb->detach_thread, "main");
    CHECK_EQ(nmr_live_object_count(), 2);
    CHECK_STATUS(fake_wait(&P1), STATUS_SUCCESS);
    fake_log_clear();
    fake_unregister_ok(&C1); /* nothing left to detach */
    CHECK_LOG("c1.deregistered c1.waited");
    fake_end();
}

/* ---- deregistration from inside the attach callbacks ------------------------------------ */

typedef struct {
    fake_module_t *victim;
    NTSTATUS status;
    int calls;
} deregister_in_hook_t;

static void deregister_after_attach_hook(fake_module_t *module, fake_binding_t *binding,
                                         fake_point_t point)
{
    deregister_in_hook_t *arg = module->hook_arg;
    if (point == FAKE_AT_ATTACH_RESULT && arg->calls == 0) {
        arg->calls++;
        arg->status = fake_deregister(arg->victim);
    }
}

NMR_TEST(a_provider_deregistered_inside_the_client_attach_is_detached_before_register_client_returns)
{
    fake_begin();
    fake_init_pair(pair);
    deregister_in_hook_t arg = {&P1, 0, 0};
    C1.hook = deregister_after_attach_hook;
    C1.hook_arg = &arg;
    fake_register_pair(pair);
    CHECK_STATUS(arg.status, STATUS_PENDING);
    CHECK_LOG("p1.registered c1.attach(p1) p1.attach(c1) p1.deregistered c1.detach(p1) p1.detach(c1) "
              "c1.cleanup(p1) p1.cleanup(c1) c1.registered");
    CHECK_STATUS(fake_wait(&P1), STATUS_SUCCESS);
    fake_unregister_ok(&C1);
    CHECK_EQ(C1.detach_calls, 1);
    fake_end();
}

NMR_TEST(a_client_deregistered_inside_its_own_attach_is_detached_before_register_provider_returns)
{
    fake_begin();
    fake_init_pair(pair);
    deregister_in_hook_t arg = {&C1, 0, 0};
    C1.hook = deregister_after_attach_hook;
    C1.hook_arg = &arg;
    fake_register_pair_first(pair, FAKE_CLIENT);
    CHECK_STATUS(arg.status, STATUS_PENDING);
    CHECK_LOG("c1.registered c1.attach(p1) p1.attach(c1) c1.deregistered c1.detach(p1) p1.detach(c1) "
              "c1.cleanup(p1) p1.cleanup(c1) p1.registered");
    CHECK_EQ(nmr_live_object_count(), 2);
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    fake_unregister_ok(&P1);
    CHECK_EQ(P1.detach_calls, 1);
    fake_end();
}

NMR_TEST(a_latecomer_detach_that_is_pending_is_completed_later_and_both_waits_succeed)
{
    fake_begin();
    fake_init_pair(pair);
    deregister_in_hook_t arg = {&P1, 0, 0};
    C1.hook = deregister_after_attach_hook;
    C1.hook_arg = &arg;
    C1.detach_mode = FAKE_DETACH_PENDING;
    P1.detach_mode = FAKE_DETACH_PENDING;
    fake_register_pair(pair);
    CHECK_LOG("p1.registered c1.attach(p1) p1.attach(c1) p1.deregistered c1.detach(p1) p1.detach(c1) "
              "c1.registered");
    CHECK_EQ(C1.cleanup_calls + P1.cleanup_calls, 0);
    fake_complete(fake_binding_between(&P1, &C1));
    fake_complete(fake_binding_between(&C1, &P1));
    CHECK_EQ(C1.cleanup_calls, 1);
    CHECK_EQ(P1.cleanup_calls, 1);
    CHECK_STATUS(fake_wait(&P1), STATUS_SUCCESS);
    fake_unregister_ok(&C1);
    fake_end();
}

static void deregister_on_attach_entry_hook(fake_module_t *module, fake_binding_t *binding,
                                            fake_point_t point)
{
    deregister_in_hook_t *arg = module->hook_arg;
    if (point == FAKE_AT_ATTACH && arg->calls == 0) {
        arg->calls++;
        arg->status = fake_deregister(arg->victim);
    }
}

NMR_TEST(a_provider_deregistering_itself_inside_its_attach_is_detached_before_register_client_returns)
{
    fake_begin();
    fake_init_pair(pair);
    deregister_in_hook_t arg = {&P1, 0, 0};
    /* the provider deregisters itself on entry of its attach callback, then accepts */
    P1.hook = deregister_on_attach_entry_hook;
    P1.hook_arg = &arg;
    fake_register_pair(pair);
    CHECK_STATUS(arg.status, STATUS_PENDING);
    CHECK_LOG("p1.registered c1.attach(p1) p1.attach(c1) p1.deregistered c1.detach(p1) p1.detach(c1) "
              "c1.cleanup(p1) p1.cleanup(c1) c1.registered");
    CHECK_STATUS(fake_wait(&P1), STATUS_SUCCESS);
    fake_unregister_ok(&C1);
    fake_end();
}

/* ---- proposed but not started ----------------------------------------------------------- */

NMR_TEST(a_proposed_binding_whose_attach_had_not_started_is_discarded_without_callbacks)
{
    fake_begin();
    fake_module_t p1, p2;
    fake_init_named(&FAKE_NPI_A, "p1 p2 c1", &p1, &p2, &C1);
    deregister_in_hook_t arg = {&p2, 0, 0};
    C1.hook = deregister_after_attach_hook; /* during the attach to p1, p2 leaves */
    C1.hook_arg = &arg;
    fake_register_ok(&p1);
    fake_register_ok(&p2);
    fake_register_ok(&C1);
    CHECK_STATUS(arg.status, STATUS_PENDING);
    CHECK_LOG("p1.registered p2.registered c1.attach(p1) p1.attach(c1) p2.deregistered c1.registered");
    CHECK_EQ(C1.attach_calls, 1);
    CHECK_EQ(p2.attach_calls + p2.detach_calls + p2.cleanup_calls, 0);
    CHECK_STATUS(fake_wait(&p2), STATUS_SUCCESS);
    fake_log_clear();
    fake_unregister_ok(&C1);
    CHECK_LOG("c1.detach(p1) p1.detach(c1) c1.cleanup(p1) p1.cleanup(c1) c1.deregistered c1.waited");
    fake_unregister_ok(&p1);
    fake_end();
}

NMR_TEST(a_proposed_binding_of_a_client_that_left_during_an_earlier_attach_is_discarded)
{
    fake_begin();
    fake_module_t c1, c2;
    fake_init_named(&FAKE_NPI_A, "c1 c2 p1", &c1, &c2, &P1);
    deregister_in_hook_t arg = {&c2, 0, 0};
    c1.hook = deregister_after_attach_hook; /* c1's attach makes c2 leave before its turn */
    c1.hook_arg = &arg;
    fake_register_ok(&c1);
    fake_register_ok(&c2);
    fake_register_ok(&P1);
    CHECK_STATUS(arg.status, STATUS_PENDING);
    CHECK_LOG("c1.registered c2.registered c1.attach(p1) p1.attach(c1) c2.deregistered p1.registered");
    CHECK_EQ(c2.attach_calls, 0);
    CHECK_EQ(P1.attach_calls, 1);
    CHECK_STATUS(fake_wait(&c2), STATUS_SUCCESS);
    fake_unregister_ok(&P1);
    fake_unregister_ok(&c1);
    fake_end();
}

NMR_TEST(a_latecomer_detach_honours_detach_at_dispatch_and_returns_to_passive)
{
    fake_begin();
    fake_turn_on(FAKE_DETACH_AT_DISPATCH);
    fake_init_pair(pair);
    deregister_in_hook_t arg = {&P1, 0, 0};
    C1.hook = deregister_after_attach_hook;
    C1.hook_arg = &arg;
    fake_register_pair(pair);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    fake_binding_t *cb = fake_binding_between(&C1, &P1);
    fake_binding_t *pb = fake_binding_between(&P1, &C1);
    CHECK_EQ(cb->detach_calls, 1);
    CHECK_EQ(cb->detach_irql, DISPATCH_LEVEL);
    CHECK_EQ(pb->detach_irql, DISPATCH_LEVEL);
    CHECK_EQ(cb->cleanup_irql, PASSIVE_LEVEL);
    CHECK_STATUS(fake_wait(&P1), STATUS_SUCCESS);
    fake_unregister_ok(&C1);
    fake_end();
}
