/* SPDX-License-Identifier: MIT */
/*
 * test_detach.c - NmrDeregister*, detach callbacks, Nmr*DetachComplete and NmrWaitFor*
 * (spec 1.6, 2.4, 2.5, 5.1, 5.5, 5.7, 5.8; docs/behaviour.md "NmrDeregisterClient /
 * NmrDeregisterProvider", "...DetachComplete", "NmrWaitFor..."): statuses, which detach
 * callbacks run, once, in which order, on which thread and at which IRQL; pending detaches
 * completed later, from another thread or from inside the callback; the peer staying
 * registered.
 */
#include "fake_modules.h"

/* C1 (pair[FAKE_CLIENT]) is the client c1, P1 (pair[FAKE_PROVIDER]) the provider p1
   (fake_init_pair). */
static fake_module_t pair[2];
#define C1 (pair[FAKE_CLIENT])
#define P1 (pair[FAKE_PROVIDER])

/* ---- statuses --------------------------------------------------------------------------- */

NMR_ROLE_TEST(deregister_ROLE_without_bindings_returns_pending_then_wait_succeeds)
{
    fake_begin();
    fake_module_t *module = &pair[role];
    fake_init(module, role, role == FAKE_CLIENT ? "c1" : "p1", &FAKE_NPI_A);
    fake_register_ok(module);
    CHECK_STATUS(fake_deregister(module), STATUS_PENDING);
    CHECK_EQ(nmr_live_object_count(), 1);
    CHECK_STATUS(fake_wait(module), STATUS_SUCCESS);
    CHECK_EQ(nmr_live_object_count(), 0);
    char log[64];
    snprintf(log, sizeof log, "%s.registered %s.deregistered %s.waited", module->name,
             module->name, module->name);
    CHECK_LOG(log);
    fake_end();
}

NMR_ROLE_TEST(deregister_ROLE_with_a_binding_returns_pending_after_detaching_both_sides)
{
    fake_begin();
    fake_bind_pair(pair);
    fake_module_t *module = &pair[role], *peer = &pair[fake_other_role(role)];
    CHECK_STATUS(fake_deregister(module), STATUS_PENDING);
    char log[160];
    snprintf(log, sizeof log, "c1.detach(p1) p1.detach(c1) c1.cleanup(p1) p1.cleanup(c1) "
             "%s.deregistered", module->name);
    CHECK_LOG(log);
    CHECK_STATUS(fake_wait(module), STATUS_SUCCESS);
    CHECK_EQ(nmr_live_object_count(), 1); /* the peer stays */
    fake_unregister_ok(peer);
    snprintf(log, sizeof log, "c1.detach(p1) p1.detach(c1) c1.cleanup(p1) p1.cleanup(c1) "
             "%s.deregistered %s.waited %s.deregistered %s.waited", module->name, module->name,
             peer->name, peer->name);
    CHECK_LOG(log);
    CHECK_EQ(peer->detach_calls, 1);
    fake_end();
}

NMR_TEST(deregister_returns_pending_when_every_detach_is_pending)
{
    fake_begin();
    fake_init_pair(pair);
    C1.detach_mode = FAKE_DETACH_PENDING;
    P1.detach_mode = FAKE_DETACH_PENDING;
    fake_attach_pair(pair);
    CHECK_STATUS(fake_deregister(&C1), STATUS_PENDING);
    CHECK_LOG("c1.detach(p1) p1.detach(c1) c1.deregistered");
    fake_complete(fake_binding_between(&C1, &P1));
    fake_complete(fake_binding_between(&P1, &C1));
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    fake_unregister_ok(&P1);
    fake_end();
}

/* ---- where and how detach runs ---------------------------------------------------------- */

static void deregister_on_thread(void *arg)
{
    CHECK_STATUS(fake_deregister(arg), STATUS_PENDING);
}

NMR_TEST(detach_callbacks_run_on_the_deregistering_thread_at_its_irql)
{
    fake_begin();
    fake_init_pair(pair);
    fake_attach_pair(pair);
    kshim_thread_join(kshim_thread_start("deregisterer", deregister_on_thread, &P1));
    fake_binding_t *cb = fake_binding_between(&C1, &P1);
    fake_binding_t *pb = fake_binding_between(&P1, &C1);
    CHECK_STR(cb->detach_thread, "deregisterer");
    CHECK_STR(pb->detach_thread, "deregisterer");
    CHECK_EQ(cb->detach_irql, PASSIVE_LEVEL);
    CHECK_EQ(pb->detach_irql, PASSIVE_LEVEL);
    CHECK_STATUS(fake_wait(&P1), STATUS_SUCCESS);
    fake_unregister_ok(&C1);
    fake_end();
}

NMR_TEST(deregister_at_dispatch_level_returns_pending_and_detaches_at_dispatch_level)
{
    fake_begin();
    fake_init_pair(pair);
    fake_attach_pair(pair);
    KIRQL old_irql;
    KeRaiseIrql(DISPATCH_LEVEL, &old_irql);
    NTSTATUS status = fake_deregister(&C1);
    KIRQL irql_after = KeGetCurrentIrql();
    KeLowerIrql(old_irql);
    CHECK_STATUS(status, STATUS_PENDING);
    CHECK_EQ(irql_after, DISPATCH_LEVEL);
    fake_check_pair_irqls(pair, DISPATCH_LEVEL, DISPATCH_LEVEL);
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    fake_unregister_ok(&P1);
    fake_end();
}

NMR_TEST(detach_at_dispatch_runs_detach_callbacks_at_dispatch_level_for_a_passive_caller)
{
    fake_begin();
    fake_turn_on(FAKE_DETACH_AT_DISPATCH);
    /* cleanup keeps the caller's IRQL unless cleanup_at_dispatch */
    fake_check_deregistration_irqls(pair, FAKE_PROVIDER, DISPATCH_LEVEL, PASSIVE_LEVEL);
    fake_end();
}

NMR_TEST(detach_callbacks_run_at_passive_level_by_default_for_a_passive_caller)
{
    fake_begin();
    fake_check_deregistration_irqls(pair, FAKE_CLIENT, PASSIVE_LEVEL, PASSIVE_LEVEL);
    fake_end();
}

NMR_TEST(detach_calls_the_client_side_first_by_default)
{
    fake_begin();
    fake_init_pair(pair);
    fake_attach_pair(pair);
    fake_unregister_ok(&P1);
    CHECK_LOG("c1.detach(p1) p1.detach(c1) c1.cleanup(p1) p1.cleanup(c1) p1.deregistered p1.waited");
    fake_unregister_ok(&C1);
    fake_end();
}

NMR_TEST(provider_detach_first_calls_the_provider_side_first)
{
    fake_begin();
    fake_turn_on(FAKE_PROVIDER_DETACH_FIRST);
    fake_init_pair(pair);
    fake_attach_pair(pair);
    fake_unregister_ok(&C1);
    CHECK_LOG("p1.detach(c1) c1.detach(p1) c1.cleanup(p1) p1.cleanup(c1) c1.deregistered c1.waited");
    fake_unregister_ok(&P1);
    fake_end();
}

NMR_TEST(both_detach_callbacks_run_for_every_binding_of_a_deregistering_provider)
{
    fake_begin();
    fake_module_t c1, c2;
    fake_init_named(&FAKE_NPI_A, "c1 c2 p1", &c1, &c2, &P1);
    fake_register_ok(&c1);
    fake_register_ok(&c2);
    fake_register_ok(&P1);
    fake_log_clear();
    CHECK_STATUS(fake_deregister(&P1), STATUS_PENDING);
    CHECK_EQ(P1.detach_calls, 2);
    CHECK_EQ(c1.detach_calls, 1);
    CHECK_EQ(c2.detach_calls, 1);
    CHECK_EQ(P1.cleanup_calls, 2);
    CHECK_STATUS(fake_wait(&P1), STATUS_SUCCESS);
    fake_unregister_ok(&c1);
    fake_unregister_ok(&c2);
    fake_end();
}

/* ---- pending detach --------------------------------------------------------------------- */

NMR_ROLE_TEST(pending_ROLE_detach_is_finished_by_nmr_ROLE_detach_PEER_complete)
{
    fake_begin();
    fake_init_pair(pair);
    pair[role].detach_mode = FAKE_DETACH_PENDING;
    fake_attach_pair(pair);
    CHECK_STATUS(fake_deregister(&C1), STATUS_PENDING);
    CHECK_LOG("c1.detach(p1) p1.detach(c1) c1.deregistered");
    CHECK_EQ(nmr_live_object_count(), 3);
    fake_complete(fake_pair_side(pair, role));
    const char *self = pair[role].name, *peer = pair[fake_other_role(role)].name;
    char log[192];
    snprintf(log, sizeof log, "c1.detach(p1) p1.detach(c1) c1.deregistered %s.complete(%s) "
             "c1.cleanup(p1) p1.cleanup(c1) %s.complete_done(%s)", self, peer, self, peer);
    CHECK_LOG(log);
    CHECK_EQ(nmr_live_object_count(), 2);
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    fake_unregister_ok(&P1);
    fake_end();
}

NMR_TEST(pending_detach_on_both_sides_needs_both_completions)
{
    fake_begin();
    fake_init_pair(pair);
    C1.detach_mode = FAKE_DETACH_PENDING;
    P1.detach_mode = FAKE_DETACH_PENDING;
    fake_attach_pair(pair);
    CHECK_STATUS(fake_deregister(&P1), STATUS_PENDING);
    fake_complete(fake_binding_between(&C1, &P1));
    CHECK_EQ(C1.cleanup_calls + P1.cleanup_calls, 0);
    fake_complete(fake_binding_between(&P1, &C1));
    CHECK_LOG("c1.detach(p1) p1.detach(c1) p1.deregistered c1.complete(p1) c1.complete_done(p1) "
              "p1.complete(c1) c1.cleanup(p1) p1.cleanup(c1) p1.complete_done(c1)");
    CHECK_STATUS(fake_wait(&P1), STATUS_SUCCESS);
    fake_unregister_ok(&C1);
    fake_end();
}

NMR_TEST(pending_detach_completed_from_another_thread_lets_the_wait_succeed)
{
    fake_begin();
    fake_init_pair(pair);
    C1.detach_mode = FAKE_DETACH_PENDING;
    fake_attach_pair(pair);
    CHECK_STATUS(fake_deregister(&C1), STATUS_PENDING);
    fake_binding_t *cb = fake_binding_between(&C1, &P1);
    fake_complete_on_other_thread(cb);
    CHECK_EQ(cb->cleanup_calls, 1);
    CHECK_STR(cb->cleanup_thread, "fake-complete");
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    fake_unregister_ok(&P1);
    fake_end();
}

NMR_TEST(pending_detach_completed_inside_the_detach_callback_before_returning_pending)
{
    fake_begin();
    fake_init_pair(pair);
    C1.detach_mode = FAKE_DETACH_PENDING_COMPLETE_INSIDE;
    fake_attach_pair(pair);
    CHECK_STATUS(fake_deregister(&C1), STATUS_PENDING);
    CHECK_LOG("c1.detach(p1) c1.complete(p1) c1.complete_done(p1) p1.detach(c1) c1.cleanup(p1) "
              "p1.cleanup(c1) c1.deregistered");
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    fake_unregister_ok(&P1);
    fake_end();
}

NMR_TEST(pending_detach_completed_by_the_completer_thread_lets_both_waits_succeed)
{
    fake_begin();
    fake_completer_start();
    fake_init_pair(pair);
    C1.detach_mode = FAKE_DETACH_PENDING_COMPLETER;
    P1.detach_mode = FAKE_DETACH_PENDING_COMPLETER;
    fake_attach_pair(pair);
    CHECK_STATUS(fake_deregister(&C1), STATUS_PENDING);
    CHECK_STATUS(fake_deregister(&P1), STATUS_PENDING);
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    CHECK_STATUS(fake_wait(&P1), STATUS_SUCCESS);
    fake_completer_stop();
    CHECK_EQ(fake_completer_completed(), 2);
    CHECK_EQ(C1.cleanup_calls, 1);
    CHECK_EQ(P1.cleanup_calls, 1);
    fake_end();
}

/* ROLE deregisters first with its detach pending; the peer's deregistration detaches nothing
   again. */
NMR_ROLE_TEST(detach_runs_once_per_binding_when_the_PEER_deregisters_after_the_ROLE)
{
    fake_begin();
    fake_init_pair(pair);
    fake_module_t *first = &pair[role], *second = &pair[fake_other_role(role)];
    first->detach_mode = FAKE_DETACH_PENDING;
    fake_attach_pair(pair);
    CHECK_STATUS(fake_deregister(first), STATUS_PENDING);
    CHECK_STATUS(fake_deregister(second), STATUS_PENDING);
    char log[128];
    snprintf(log, sizeof log, "c1.detach(p1) p1.detach(c1) %s.deregistered %s.deregistered",
             first->name, second->name);
    CHECK_LOG(log);
    fake_complete(fake_pair_side(pair, role));
    CHECK_STATUS(fake_wait(second), STATUS_SUCCESS);
    CHECK_STATUS(fake_wait(first), STATUS_SUCCESS);
    CHECK_EQ(C1.detach_calls, 1);
    CHECK_EQ(P1.detach_calls, 1);
    CHECK_EQ(C1.cleanup_calls, 1);
    CHECK_EQ(P1.cleanup_calls, 1);
    fake_end();
}

/* ---- the peer stays --------------------------------------------------------------------- */

NMR_ROLE_TEST(the_ROLE_stays_registered_and_reattaches_to_a_later_PEER)
{
    fake_begin();
    fake_role_t other = fake_other_role(role);
    fake_module_t *module = &pair[role], peers[2];
    fake_init(module, role, role == FAKE_CLIENT ? "c1" : "p1", &FAKE_NPI_A);
    fake_init(&peers[0], other, other == FAKE_CLIENT ? "c1" : "p1", &FAKE_NPI_A);
    fake_init(&peers[1], other, other == FAKE_CLIENT ? "c2" : "p2", &FAKE_NPI_A);
    fake_register_ok(module);
    fake_register_ok(&peers[0]);
    fake_unregister_ok(&peers[0]);
    CHECK_EQ(nmr_live_object_count(), 1);
    fake_register_ok(&peers[1]);
    CHECK_EQ(module->attach_successes, 2);
    fake_binding_t *binding = fake_binding_between(module, &peers[1]);
    CHECK(binding != NULL);
    CHECK(binding->peer_instance == fake_instance(&peers[1]));
    fake_log_clear();
    fake_unregister_ok(module);
    const fake_module_t *client = role == FAKE_CLIENT ? module : &peers[1];
    const fake_module_t *provider = role == FAKE_CLIENT ? &peers[1] : module;
    char log[160];
    snprintf(log, sizeof log, "%s.detach(%s) %s.detach(%s) %s.cleanup(%s) %s.cleanup(%s) "
             "%s.deregistered %s.waited", client->name, provider->name, provider->name,
             client->name, client->name, provider->name, provider->name, client->name,
             module->name, module->name);
    CHECK_LOG(log);
    fake_unregister_ok(&peers[1]);
    fake_end();
}

NMR_TEST(the_same_client_module_can_register_again_after_its_wait)
{
    fake_begin();
    fake_init_pair(pair);
    fake_register_pair(pair);
    HANDLE first = C1.handle;
    fake_unregister_ok(&C1);
    fake_register_ok(&C1);
    CHECK(C1.handle != first);
    CHECK_EQ(C1.attach_successes, 2);
    CHECK_EQ(P1.attach_successes, 2);
    fake_unregister_pair_first(pair, FAKE_PROVIDER);
    CHECK_EQ(C1.detach_calls, 2);
    fake_end();
}

/* ---- NmrWaitFor* statuses --------------------------------------------------------------- */

NMR_ROLE_TEST(wait_for_ROLE_before_deregister_returns_invalid_parameter_warns_r8_and_keeps_it_usable)
{
    fake_begin();
    fake_role_t other = fake_other_role(role);
    fake_module_t *module = &pair[role], peers[2];
    fake_init(module, role, "m1", &FAKE_NPI_A);
    fake_init(&peers[0], other, "peer1", &FAKE_NPI_A);
    fake_init(&peers[1], other, "peer2", &FAKE_NPI_A);
    fake_register_ok(&peers[0]);
    fake_register_ok(module);
    fake_log_clear();
    CHECK_STATUS(fake_wait(module), STATUS_INVALID_PARAMETER);
    CHECK_EQ(nmr_verifier_warning_count(), 1);
    CHECK_STR(nmr_verifier_last_warning_rule(), "R8");
    CHECK_LOG("");
    CHECK_EQ(nmr_live_object_count(), 3);
    CHECK_EQ(module->detach_calls, 0);
    /* still registered: binds a new peer, then deregisters normally */
    fake_register_ok(&peers[1]);
    CHECK_EQ(module->attach_successes, 2);
    fake_unregister_ok(module);
    CHECK_EQ(module->detach_calls, 2);
    fake_unregister_ok(&peers[0]);
    fake_unregister_ok(&peers[1]);
    fake_end();
}

NMR_TEST(wait_with_a_null_handle_returns_invalid_parameter)
{
    fake_begin();
    CHECK_STATUS(NmrWaitForClientDeregisterComplete(NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(NmrWaitForProviderDeregisterComplete(NULL), STATUS_INVALID_PARAMETER);
    fake_end();
}

NMR_TEST(wait_with_a_never_issued_handle_returns_invalid_parameter)
{
    fake_begin();
    fake_init_pair(pair);
    fake_attach_pair(pair);
    int local = 0;
    HANDLE never_issued[] = {(HANDLE)(uintptr_t)0x7ffffff8u, (HANDLE)(uintptr_t)0x7ffffff9u,
                             (HANDLE)(uintptr_t)0x7ffffffau, (HANDLE)&local};
    for (size_t i = 0; i < sizeof never_issued / sizeof never_issued[0]; i++) {
        CHECK_STATUS(NmrWaitForClientDeregisterComplete(never_issued[i]), STATUS_INVALID_PARAMETER);
        CHECK_STATUS(NmrWaitForProviderDeregisterComplete(never_issued[i]), STATUS_INVALID_PARAMETER);
    }
    CHECK_EQ(nmr_live_object_count(), 3);
    fake_unbind_pair(pair);
    fake_end();
}

static void sleep_then_complete(void *arg)
{
    fake_sleep_ms(100);
    fake_complete(arg);
}

NMR_TEST(wait_blocks_until_a_pending_detach_is_completed_from_another_thread)
{
    fake_begin();
    fake_init_pair(pair);
    C1.detach_mode = FAKE_DETACH_PENDING;
    fake_attach_pair(pair);
    CHECK_STATUS(fake_deregister(&C1), STATUS_PENDING);
    fake_binding_t *cb = fake_binding_between(&C1, &P1);
    kshim_thread_t *thread = kshim_thread_start("late-completer", sleep_then_complete, cb);
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    kshim_thread_join(thread);
    const char *log = fake_log();
    const char *cleanup = strstr(log, "p1.cleanup(c1)");
    const char *waited = strstr(log, "c1.waited");
    CHECK(cleanup != NULL && waited != NULL);
    CHECK(cleanup < waited);
    fake_unregister_ok(&P1);
    fake_end();
}

/* ---- completion racing the callback, re-entry, NULL contexts --------------------------- */

static void complete_on_thread_inside_detach_hook(fake_module_t *module, fake_binding_t *binding,
                                                  fake_point_t point)
{
    if (point == FAKE_AT_DETACH) {
        /* the completion arrives from another thread while this callback still runs; the
           callback then returns STATUS_PENDING (detach_mode) */
        fake_complete_on_other_thread(binding);
    }
}

NMR_TEST(completion_from_another_thread_while_the_detach_callback_still_runs_is_accepted)
{
    fake_begin();
    fake_init_pair(pair);
    P1.hook = complete_on_thread_inside_detach_hook;
    P1.detach_mode = FAKE_DETACH_PENDING;
    fake_attach_pair(pair);
    CHECK_STATUS(fake_deregister(&C1), STATUS_PENDING);
    CHECK_EQ(C1.cleanup_calls, 1);
    CHECK_EQ(P1.cleanup_calls, 1);
    CHECK_EQ(P1.complete_calls, 1);
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    fake_unregister_ok(&P1);
    fake_end();
}

typedef struct {
    int calls;
    NTSTATUS status;
} self_deregister_t;

static void deregister_self_in_detach_hook(fake_module_t *module, fake_binding_t *binding,
                                           fake_point_t point)
{
    self_deregister_t *arg = module->hook_arg;
    if (point == FAKE_AT_DETACH && arg->calls++ == 0) {
        arg->status = fake_deregister(module);
    }
}

NMR_TEST(a_provider_deregistering_itself_inside_its_detach_callback_gets_no_second_detach)
{
    fake_begin();
    fake_init_pair(pair);
    self_deregister_t arg = {0, 0};
    P1.hook = deregister_self_in_detach_hook;
    P1.hook_arg = &arg;
    fake_attach_pair(pair);
    CHECK_STATUS(fake_deregister(&C1), STATUS_PENDING);
    CHECK_STATUS(arg.status, STATUS_PENDING);
    CHECK_LOG("c1.detach(p1) p1.detach(c1) p1.deregistered c1.cleanup(p1) p1.cleanup(c1) "
              "c1.deregistered");
    CHECK_EQ(P1.detach_calls, 1);
    CHECK_STATUS(fake_wait(&P1), STATUS_SUCCESS);
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    fake_end();
}

/* Modules whose binding contexts are NULL on both sides. */
static struct {
    int client_detach, provider_detach, client_cleanup, provider_cleanup;
    PVOID client_detach_context, provider_detach_context;
    NTSTATUS attach_status;
} nullbc;

static NTSTATUS nullbc_client_attach(HANDLE NmrBindingHandle, PVOID ClientContext,
                                     PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    PVOID provider_bc = (PVOID)&nullbc;
    const VOID *provider_dispatch = &nullbc;
    nullbc.attach_status =
        NmrClientAttachProvider(NmrBindingHandle, NULL, NULL, &provider_bc, &provider_dispatch);
    return nullbc.attach_status;
}

static NTSTATUS nullbc_client_detach(PVOID ClientBindingContext)
{
    nullbc.client_detach++;
    nullbc.client_detach_context = ClientBindingContext;
    return STATUS_SUCCESS;
}

static VOID nullbc_client_cleanup(PVOID ClientBindingContext)
{
    nullbc.client_cleanup++;
}

static NTSTATUS nullbc_provider_attach(HANDLE NmrBindingHandle, PVOID ProviderContext,
                                       PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
                                       PVOID ClientBindingContext, const VOID *ClientDispatch,
                                       PVOID *ProviderBindingContext,
                                       const VOID **ProviderDispatch)
{
    *ProviderBindingContext = NULL;
    *ProviderDispatch = NULL;
    return STATUS_SUCCESS;
}

static NTSTATUS nullbc_provider_detach(PVOID ProviderBindingContext)
{
    nullbc.provider_detach++;
    nullbc.provider_detach_context = ProviderBindingContext;
    return STATUS_SUCCESS;
}

static VOID nullbc_provider_cleanup(PVOID ProviderBindingContext)
{
    nullbc.provider_cleanup++;
}

static const NPI_MODULEID nullbc_client_id = {sizeof(NPI_MODULEID), MIT_GUID, {{0x10, 0x20, 0x30, {0}}}};
static const NPI_MODULEID nullbc_provider_id = {sizeof(NPI_MODULEID), MIT_GUID, {{0x40, 0x50, 0x60, {0}}}};
static const NPI_CLIENT_CHARACTERISTICS nullbc_client_chars = {
    0, sizeof(NPI_CLIENT_CHARACTERISTICS), nullbc_client_attach, nullbc_client_detach,
    nullbc_client_cleanup, {0, sizeof(NPI_REGISTRATION_INSTANCE), &FAKE_NPI_A, &nullbc_client_id, 0, NULL}};
static const NPI_PROVIDER_CHARACTERISTICS nullbc_provider_chars = {
    0, sizeof(NPI_PROVIDER_CHARACTERISTICS), nullbc_provider_attach, nullbc_provider_detach,
    nullbc_provider_cleanup, {0, sizeof(NPI_REGISTRATION_INSTANCE), &FAKE_NPI_A, &nullbc_provider_id, 0, NULL}};

static void nullbc_bind_and_deregister_client(void)
{
    HANDLE client = NULL, provider = NULL;
    nullbc.client_detach_context = nullbc.provider_detach_context = &nullbc;
    CHECK_STATUS(NmrRegisterProvider(&nullbc_provider_chars, NULL, &provider), STATUS_SUCCESS);
    CHECK_STATUS(NmrRegisterClient(&nullbc_client_chars, NULL, &client), STATUS_SUCCESS);
    CHECK_STATUS(nullbc.attach_status, STATUS_SUCCESS);
    CHECK_STATUS(NmrDeregisterClient(client), STATUS_PENDING);
    CHECK_STATUS(NmrWaitForClientDeregisterComplete(client), STATUS_SUCCESS);
    CHECK_STATUS(NmrDeregisterProvider(provider), STATUS_PENDING);
    CHECK_STATUS(NmrWaitForProviderDeregisterComplete(provider), STATUS_SUCCESS);
}

NMR_TEST(null_binding_contexts_still_get_both_detach_callbacks)
{
    fake_begin();
    nullbc_bind_and_deregister_client();
    CHECK_EQ(nullbc.client_detach, 1);
    CHECK_EQ(nullbc.provider_detach, 1);
    CHECK(nullbc.client_detach_context == NULL);
    CHECK(nullbc.provider_detach_context == NULL);
    fake_end();
}

NMR_TEST(null_binding_contexts_still_get_both_cleanup_callbacks)
{
    /* spec 4.3 #3: NULL contexts are not forbidden; the real NMR calls the callbacks */
    fake_begin();
    nullbc_bind_and_deregister_client();
    CHECK_EQ(nullbc.client_cleanup, 1);
    CHECK_EQ(nullbc.provider_cleanup, 1);
    fake_end();
}
