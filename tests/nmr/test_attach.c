/* SPDX-License-Identifier: MIT */
/*
 * test_attach.c - the attach protocol (spec 2.3, 5.2-5.4, 5.9; docs/behaviour.md "Attach"):
 * client-initiated attach in both registration orders, before NmrRegister* returns, on the
 * registering thread at PASSIVE_LEVEL; pointers into the modules' own structures; exact
 * pass-through of contexts, dispatch tables and statuses; declines, retries and failures
 * that never get detach or cleanup.
 */
#include "fake_modules.h"

/* C1 (pair[FAKE_CLIENT]) is the client c1, P1 (pair[FAKE_PROVIDER]) the provider p1
   (fake_init_pair). */
static fake_module_t pair[2];
#define C1 (pair[FAKE_CLIENT])
#define P1 (pair[FAKE_PROVIDER])

/* ---- both orders ------------------------------------------------------------------------ */

/* The later of the two registrations attaches (client first) before it returns. */
static void check_attach_inside_the_later_registration(fake_role_t first)
{
    fake_begin();
    fake_init_pair(pair);
    fake_register_pair_first(pair, first);
    char log[128];
    snprintf(log, sizeof log, "%s.registered c1.attach(p1) p1.attach(c1) %s.registered",
             pair[first].name, pair[fake_other_role(first)].name);
    CHECK_LOG(log);
    CHECK_EQ(C1.attach_successes, 1);
    CHECK_EQ(P1.attach_successes, 1);
    CHECK_EQ(nmr_live_object_count(), 3);
    fake_unregister_pair_first(pair, fake_other_role(first));
    fake_end();
}

NMR_TEST(client_registering_after_a_provider_attaches_before_register_client_returns)
{
    check_attach_inside_the_later_registration(FAKE_PROVIDER);
}

NMR_TEST(provider_registering_after_a_client_attaches_through_the_client_before_returning)
{
    check_attach_inside_the_later_registration(FAKE_CLIENT);
}

NMR_ROLE_TEST(provider_attach_runs_nested_in_nmr_client_attach_provider_when_the_ROLE_registered_first)
{
    fake_begin();
    fake_init_pair(pair);
    fake_register_pair_first(pair, role);
    fake_binding_t *cb = fake_pair_side(pair, FAKE_CLIENT);
    fake_binding_t *pb = fake_pair_side(pair, FAKE_PROVIDER);
    CHECK(cb != NULL);
    CHECK(pb != NULL);
    CHECK_EQ(C1.nmr_attach_calls, 1);
    CHECK_EQ(P1.attach_calls, 1);
    CHECK_EQ(pb->nested, 1);
    CHECK_EQ(P1.not_nested_attaches, 0);
    fake_unbind_pair(pair);
    fake_end();
}

static void register_on_thread(void *arg)
{
    fake_register_ok(arg);
}

NMR_TEST(attach_callbacks_run_at_passive_level_on_the_registering_thread)
{
    fake_begin();
    fake_init_pair(pair);
    fake_register_ok(&C1);
    kshim_thread_join(kshim_thread_start("registrar-of-p1", register_on_thread, &P1));
    fake_binding_t *cb = fake_binding_between(&C1, &P1);
    fake_binding_t *pb = fake_binding_between(&P1, &C1);
    CHECK(cb != NULL && pb != NULL);
    CHECK_STR(cb->attach_thread, "registrar-of-p1");
    CHECK_STR(pb->attach_thread, "registrar-of-p1");
    CHECK_EQ(cb->attach_irql, PASSIVE_LEVEL);
    CHECK_EQ(pb->attach_irql, PASSIVE_LEVEL);
    fake_unbind_pair(pair);
    fake_end();
}

/* ---- the out handle is written after the attaches --------------------------------------- */

typedef struct {
    fake_module_t *watched;
    HANDLE seen;
    int calls;
} handle_watch_t;

static void watch_handle_hook(fake_module_t *module, fake_binding_t *binding, fake_point_t point)
{
    if (point == FAKE_AT_ATTACH) {
        handle_watch_t *watch = module->hook_arg;
        watch->seen = watch->watched->handle;
        watch->calls++;
    }
}

NMR_ROLE_TEST(register_ROLE_writes_the_out_handle_only_after_the_attaches_returned)
{
    fake_begin();
    fake_init_pair(pair);
    handle_watch_t watch = {&pair[role], NULL, 0};
    pair[role].hook = watch_handle_hook;
    pair[role].hook_arg = &watch;
    fake_register_pair_first(pair, fake_other_role(role));
    CHECK_EQ(watch.calls, 1);
    CHECK(watch.seen == FAKE_HANDLE_SENTINEL);
    CHECK(pair[role].handle != FAKE_HANDLE_SENTINEL);
    fake_unbind_pair(pair);
    fake_end();
}

/* ---- pointers and contexts -------------------------------------------------------------- */

NMR_ROLE_TEST(ROLE_attach_receives_the_address_of_the_PEERs_own_instance)
{
    fake_begin();
    fake_init_pair(pair);
    fake_module_t *peer = &pair[fake_other_role(role)];
    fake_register_pair_first(pair, fake_other_role(role));
    fake_binding_t *binding = fake_pair_side(pair, role);
    CHECK(binding != NULL);
    CHECK(binding->peer_instance == fake_instance(peer));
    CHECK(binding->peer_instance->ModuleId == &peer->module_id);
    CHECK(binding->peer_instance->NpiId == &FAKE_NPI_A);
    fake_unbind_pair(pair);
    fake_end();
}

NMR_TEST(attach_callbacks_receive_the_registration_contexts_unchanged)
{
    fake_begin();
    fake_init_pair(pair);
    fake_register_pair_first(pair, FAKE_CLIENT);
    fake_binding_t *cb = fake_binding_between(&C1, &P1);
    fake_binding_t *pb = fake_binding_between(&P1, &C1);
    CHECK(cb != NULL && pb != NULL);
    CHECK(cb->registration_context == &C1);
    CHECK(pb->registration_context == &P1);
    fake_unbind_pair(pair);
    fake_end();
}

NMR_TEST(binding_contexts_and_dispatch_tables_pass_through_unchanged)
{
    fake_begin();
    fake_init_pair(pair);
    fake_register_pair(pair);
    fake_binding_t *cb = fake_binding_between(&C1, &P1);
    fake_binding_t *pb = fake_binding_between(&P1, &C1);
    CHECK(cb != NULL && pb != NULL);
    /* provider got what the client passed to NmrClientAttachProvider */
    CHECK(pb->peer_binding_context == cb);
    CHECK(pb->peer_dispatch == FAKE_CLIENT_DISPATCH_V1);
    /* client got what the provider wrote to its out parameters */
    CHECK(cb->peer_binding_context == pb);
    CHECK(cb->peer_dispatch == FAKE_PROVIDER_DISPATCH);
    fake_unregister_ok(&P1);
    /* detach and cleanup received each side's own context (else a violation is counted) */
    CHECK_EQ(cb->detach_calls, 1);
    CHECK_EQ(pb->detach_calls, 1);
    CHECK_EQ(cb->cleanup_calls, 1);
    CHECK_EQ(pb->cleanup_calls, 1);
    fake_unregister_ok(&C1);
    fake_end();
}

NMR_TEST(a_null_client_dispatch_reaches_the_provider_as_null)
{
    fake_begin();
    fake_init_pair(pair);
    C1.dispatch = NULL;
    fake_register_pair(pair);
    fake_binding_t *pb = fake_binding_between(&P1, &C1);
    CHECK(pb != NULL);
    CHECK(pb->peer_dispatch == NULL);
    CHECK_EQ(C1.attach_successes, 1);
    fake_unbind_pair(pair);
    fake_end();
}

NMR_TEST(the_two_sides_of_a_binding_get_different_handles)
{
    fake_begin();
    fake_init_pair(pair);
    fake_register_pair(pair);
    fake_binding_t *cb = fake_binding_between(&C1, &P1);
    fake_binding_t *pb = fake_binding_between(&P1, &C1);
    CHECK(cb != NULL && pb != NULL);
    CHECK(cb->handle != NULL);
    CHECK(pb->handle != NULL);
    CHECK(cb->handle != pb->handle);
    CHECK(cb->handle != C1.handle && cb->handle != P1.handle);
    CHECK(pb->handle != C1.handle && pb->handle != P1.handle);
    fake_unbind_pair(pair);
    fake_end();
}

/* Contexts may be NULL: custom modules that keep their state in statics. */
static struct {
    int client_attach, provider_attach, client_detach, provider_detach, cleanups;
    PVOID client_context_seen, provider_context_seen;
    PVOID client_bc_seen_by_provider;
    HANDLE provider_handle;
} null_ctx;
static int null_ctx_client_state;
static int null_ctx_provider_state;

static NTSTATUS null_ctx_client_attach(HANDLE NmrBindingHandle, PVOID ClientContext,
                                       PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    null_ctx.client_attach++;
    null_ctx.client_context_seen = ClientContext;
    PVOID provider_bc = NULL;
    const VOID *provider_dispatch = NULL;
    return NmrClientAttachProvider(NmrBindingHandle, &null_ctx_client_state, NULL, &provider_bc,
                                   &provider_dispatch);
}

static NTSTATUS null_ctx_client_detach(PVOID ClientBindingContext)
{
    CHECK(ClientBindingContext == &null_ctx_client_state);
    null_ctx.client_detach++;
    return STATUS_SUCCESS;
}

static VOID null_ctx_cleanup(PVOID Context)
{
    null_ctx.cleanups++;
}

static NTSTATUS null_ctx_provider_attach(HANDLE NmrBindingHandle, PVOID ProviderContext,
                                         PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
                                         PVOID ClientBindingContext, const VOID *ClientDispatch,
                                         PVOID *ProviderBindingContext,
                                         const VOID **ProviderDispatch)
{
    null_ctx.provider_attach++;
    null_ctx.provider_context_seen = ProviderContext;
    null_ctx.client_bc_seen_by_provider = ClientBindingContext;
    *ProviderBindingContext = &null_ctx_provider_state;
    *ProviderDispatch = NULL;
    return STATUS_SUCCESS;
}

static NTSTATUS null_ctx_provider_detach(PVOID ProviderBindingContext)
{
    CHECK(ProviderBindingContext == &null_ctx_provider_state);
    null_ctx.provider_detach++;
    return STATUS_SUCCESS;
}

NMR_TEST(null_registration_contexts_are_passed_through_as_null)
{
    fake_begin();
    static const NPI_MODULEID client_id = {sizeof(NPI_MODULEID), MIT_GUID, {{0x1, 0x2, 0x3, {0}}}};
    static const NPI_MODULEID provider_id = {sizeof(NPI_MODULEID), MIT_GUID, {{0x4, 0x5, 0x6, {0}}}};
    static const NPI_CLIENT_CHARACTERISTICS client_chars = {
        0, sizeof(NPI_CLIENT_CHARACTERISTICS), null_ctx_client_attach, null_ctx_client_detach,
        null_ctx_cleanup, {0, sizeof(NPI_REGISTRATION_INSTANCE), &FAKE_NPI_A, &client_id, 0, NULL}};
    static const NPI_PROVIDER_CHARACTERISTICS provider_chars = {
        0, sizeof(NPI_PROVIDER_CHARACTERISTICS), null_ctx_provider_attach, null_ctx_provider_detach,
        null_ctx_cleanup, {0, sizeof(NPI_REGISTRATION_INSTANCE), &FAKE_NPI_A, &provider_id, 0, NULL}};
    HANDLE client = NULL, provider = NULL;
    null_ctx.client_context_seen = &null_ctx;
    null_ctx.provider_context_seen = &null_ctx;
    CHECK_STATUS(NmrRegisterProvider(&provider_chars, NULL, &provider), STATUS_SUCCESS);
    CHECK_STATUS(NmrRegisterClient(&client_chars, NULL, &client), STATUS_SUCCESS);
    CHECK_EQ(null_ctx.client_attach, 1);
    CHECK_EQ(null_ctx.provider_attach, 1);
    CHECK(null_ctx.client_context_seen == NULL);
    CHECK(null_ctx.provider_context_seen == NULL);
    CHECK(null_ctx.client_bc_seen_by_provider == &null_ctx_client_state);
    CHECK_STATUS(NmrDeregisterProvider(provider), STATUS_PENDING);
    CHECK_STATUS(NmrWaitForProviderDeregisterComplete(provider), STATUS_SUCCESS);
    CHECK_EQ(null_ctx.client_detach, 1);
    CHECK_EQ(null_ctx.provider_detach, 1);
    CHECK_EQ(null_ctx.cleanups, 2);
    CHECK_STATUS(NmrDeregisterClient(client), STATUS_PENDING);
    CHECK_STATUS(NmrWaitForClientDeregisterComplete(client), STATUS_SUCCESS);
    CHECK_EQ(null_ctx.client_detach, 1);
    fake_end();
}

/* ---- NmrClientAttachProvider statuses --------------------------------------------------- */

NMR_TEST(nmr_client_attach_provider_returns_success_when_the_provider_accepts)
{
    fake_begin();
    fake_init_pair(pair);
    fake_register_pair(pair);
    fake_binding_t *cb = fake_binding_between(&C1, &P1);
    CHECK(cb != NULL);
    CHECK_STATUS(cb->attach_status, STATUS_SUCCESS);
    CHECK_EQ(nmr_verifier_warning_count(), 0);
    fake_unbind_pair(pair);
    fake_end();
}

NMR_TEST(nmr_client_attach_provider_returns_nointerface_when_the_provider_declines)
{
    fake_begin();
    fake_init_pair(pair);
    P1.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    P1.attach_status = STATUS_NOINTERFACE;
    fake_register_pair(pair);
    fake_binding_t *cb = fake_binding_between(&C1, &P1);
    CHECK(cb != NULL);
    CHECK_STATUS(cb->attach_status, STATUS_NOINTERFACE);
    CHECK_EQ(C1.attach_successes, 0);
    CHECK_EQ(nmr_verifier_warning_count(), 0);
    CHECK_EQ(nmr_live_object_count(), 2);
    fake_unbind_pair(pair);
    CHECK_LOG("p1.registered c1.attach(p1) p1.attach(c1) c1.registered c1.deregistered c1.waited "
              "p1.deregistered p1.waited");
    fake_end();
}

NMR_TEST(nmr_client_attach_provider_passes_an_arbitrary_error_through_and_warns_a9)
{
    fake_begin();
    fake_init_pair(pair);
    P1.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    P1.attach_status = STATUS_UNSUCCESSFUL;
    fake_register_pair(pair);
    fake_binding_t *cb = fake_binding_between(&C1, &P1);
    CHECK(cb != NULL);
    CHECK_STATUS(cb->attach_status, STATUS_UNSUCCESSFUL);
    CHECK_EQ(nmr_verifier_warning_count(), 1);
    CHECK_STR(nmr_verifier_last_warning_rule(), "A9");
    CHECK_EQ(C1.attach_successes, 0);
    fake_unregister_pair_first(pair, FAKE_PROVIDER);
    CHECK_LOG("p1.registered c1.attach(p1) p1.attach(c1) c1.registered p1.deregistered p1.waited "
              "c1.deregistered c1.waited");
    fake_end();
}

typedef struct {
    NTSTATUS null_context_out, null_dispatch_out;
} null_out_result_t;

static void null_out_hook(fake_module_t *module, fake_binding_t *binding, fake_point_t point)
{
    if (point != FAKE_AT_ATTACH) {
        return;
    }
    null_out_result_t *result = module->hook_arg;
    PVOID provider_bc = NULL;
    const VOID *provider_dispatch = NULL;
    result->null_context_out =
        NmrClientAttachProvider(binding->handle, binding, module->dispatch, NULL, &provider_dispatch);
    result->null_dispatch_out =
        NmrClientAttachProvider(binding->handle, binding, module->dispatch, &provider_bc, NULL);
}

NMR_TEST(nmr_client_attach_provider_with_a_null_out_pointer_returns_invalid_parameter_without_calling_the_provider)
{
    fake_begin();
    fake_init_pair(pair);
    null_out_result_t result = {0, 0};
    C1.hook = null_out_hook;
    C1.hook_arg = &result;
    /* the client returns the status of its last call, as it must (A2) */
    C1.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    C1.attach_status = STATUS_INVALID_PARAMETER;
    fake_register_pair(pair);
    CHECK_STATUS(result.null_context_out, STATUS_INVALID_PARAMETER);
    CHECK_STATUS(result.null_dispatch_out, STATUS_INVALID_PARAMETER);
    CHECK_EQ(P1.attach_calls, 0);
    CHECK_EQ(C1.attach_successes, 0);
    fake_unbind_pair(pair);
    CHECK_LOG("p1.registered c1.attach(p1) c1.registered c1.deregistered c1.waited p1.deregistered "
              "p1.waited");
    fake_end();
}

/* ---- declines and failures -------------------------------------------------------------- */

NMR_TEST(client_declining_without_calling_gets_no_provider_attach_detach_or_cleanup)
{
    fake_begin();
    fake_init_pair(pair);
    C1.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    C1.attach_status = STATUS_NOINTERFACE;
    fake_register_pair(pair);
    CHECK_EQ(C1.attach_calls, 1);
    CHECK_EQ(C1.nmr_attach_calls, 0);
    CHECK_EQ(P1.attach_calls, 0);
    CHECK_EQ(nmr_live_object_count(), 2);
    CHECK_EQ(nmr_verifier_warning_count(), 0);
    fake_unregister_pair_first(pair, FAKE_PROVIDER);
    CHECK_LOG("p1.registered c1.attach(p1) c1.registered p1.deregistered p1.waited c1.deregistered "
              "c1.waited");
    CHECK_EQ(C1.detach_calls + P1.detach_calls + C1.cleanup_calls + P1.cleanup_calls, 0);
    fake_end();
}

NMR_TEST(client_failing_without_calling_stays_unbound_and_gets_no_detach_or_cleanup)
{
    fake_begin();
    fake_init_pair(pair);
    C1.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    C1.attach_status = STATUS_INSUFFICIENT_RESOURCES;
    fake_register_pair(pair);
    CHECK_EQ(P1.attach_calls, 0);
    CHECK_EQ(nmr_live_object_count(), 2);
    fake_unbind_pair(pair);
    CHECK_EQ(C1.detach_calls + P1.detach_calls + C1.cleanup_calls + P1.cleanup_calls, 0);
    fake_end();
}

NMR_TEST(provider_declining_gets_no_detach_and_no_cleanup_on_either_side)
{
    fake_begin();
    fake_init_pair(pair);
    P1.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    P1.attach_status = STATUS_NOINTERFACE;
    fake_register_pair_first(pair, FAKE_CLIENT);
    fake_unbind_pair(pair);
    CHECK_LOG("c1.registered c1.attach(p1) p1.attach(c1) p1.registered c1.deregistered c1.waited "
              "p1.deregistered p1.waited");
    CHECK_EQ(C1.detach_calls + P1.detach_calls + C1.cleanup_calls + P1.cleanup_calls, 0);
    fake_end();
}

NMR_TEST(a_failed_attach_gets_no_detach_and_no_cleanup_even_when_both_deregister)
{
    fake_begin();
    fake_init_pair(pair);
    P1.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    P1.attach_status = STATUS_UNSUCCESSFUL;
    C1.detach_mode = FAKE_DETACH_PENDING; /* a stray detach would also hang the wait */
    fake_register_pair_first(pair, FAKE_CLIENT);
    CHECK_STATUS(fake_deregister(&P1), STATUS_PENDING);
    CHECK_STATUS(fake_deregister(&C1), STATUS_PENDING);
    CHECK_STATUS(fake_wait(&P1), STATUS_SUCCESS);
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    CHECK_LOG("c1.registered c1.attach(p1) p1.attach(c1) p1.registered p1.deregistered "
              "c1.deregistered p1.waited c1.waited");
    CHECK_EQ(C1.detach_calls + P1.detach_calls + C1.cleanup_calls + P1.cleanup_calls, 0);
    fake_end();
}

NMR_TEST(nointerface_retry_with_another_dispatch_succeeds_inside_the_same_callback)
{
    fake_begin();
    fake_init_pair(pair);
    P1.accept_only_dispatch = FAKE_CLIENT_DISPATCH_V2;
    C1.dispatch = FAKE_CLIENT_DISPATCH_V1;
    C1.retry_dispatch = FAKE_CLIENT_DISPATCH_V2;
    fake_register_pair(pair);
    CHECK_LOG("p1.registered c1.attach(p1) p1.attach(c1) p1.attach(c1) c1.registered");
    CHECK_EQ(C1.attach_calls, 1);
    CHECK_EQ(C1.nmr_attach_calls, 2);
    CHECK_EQ(C1.attach_successes, 1);
    CHECK_EQ(P1.attach_calls, 2);
    CHECK_EQ(P1.attach_successes, 1);
    fake_binding_t *cb = fake_binding_between(&C1, &P1);
    fake_binding_t *pb = fake_binding_between(&P1, &C1); /* the latest: the accepted attempt */
    CHECK(cb != NULL && pb != NULL);
    CHECK_STATUS(cb->attach_status, STATUS_SUCCESS);
    CHECK(pb->peer_dispatch == FAKE_CLIENT_DISPATCH_V2);
    CHECK(cb->peer_binding_context == pb);
    /* both attempts were made with the same binding handle */
    CHECK(fake_binding_record(pb->index - 1)->handle == pb->handle);
    fake_log_clear();
    fake_unregister_ok(&C1);
    CHECK_LOG("c1.detach(p1) p1.detach(c1) c1.cleanup(p1) p1.cleanup(c1) c1.deregistered c1.waited");
    CHECK_EQ(pb->cleanup_calls, 1);
    CHECK_EQ(fake_binding_record(pb->index - 1)->cleanup_calls, 0);
    fake_unregister_ok(&P1);
    fake_end();
}

NMR_TEST(nointerface_retry_declined_again_leaves_the_pair_unbound)
{
    fake_begin();
    fake_init_pair(pair);
    P1.accept_only_dispatch = FAKE_PROVIDER_DISPATCH; /* accepts neither client table */
    C1.retry_dispatch = FAKE_CLIENT_DISPATCH_V2;
    fake_register_pair(pair);
    CHECK_EQ(C1.nmr_attach_calls, 2);
    CHECK_EQ(P1.attach_calls, 2);
    CHECK_EQ(C1.attach_successes + P1.attach_successes, 0);
    CHECK_EQ(nmr_live_object_count(), 2);
    fake_unbind_pair(pair);
    CHECK_EQ(C1.detach_calls + P1.detach_calls + C1.cleanup_calls + P1.cleanup_calls, 0);
    fake_end();
}

NMR_TEST(a_provider_declining_one_client_still_binds_another)
{
    fake_begin();
    fake_module_t c1, c2;
    fake_init_named(&FAKE_NPI_A, "c1 c2 p1", &c1, &c2, &P1);
    c2.dispatch = FAKE_CLIENT_DISPATCH_V2;
    P1.accept_only_dispatch = FAKE_CLIENT_DISPATCH_V2;
    fake_register_ok(&c1);
    fake_register_ok(&c2);
    fake_register_ok(&P1);
    CHECK_EQ(c1.attach_successes, 0);
    CHECK_EQ(c2.attach_successes, 1);
    CHECK_EQ(P1.attach_successes, 1);
    fake_log_clear();
    fake_unregister_ok(&P1);
    CHECK_LOG("c2.detach(p1) p1.detach(c2) c2.cleanup(p1) p1.cleanup(c2) p1.deregistered p1.waited");
    fake_unregister_ok(&c1);
    fake_unregister_ok(&c2);
    fake_end();
}

/* ---- several peers: order ---------------------------------------------------------------- */

/* "c1.attach(p1) p1.attach(c1)" for a client and a provider, whichever is which. */
static void append_attach(char *log, size_t size, const fake_module_t *a, const fake_module_t *b)
{
    const fake_module_t *client = a->role == FAKE_CLIENT ? a : b;
    const fake_module_t *provider = a->role == FAKE_CLIENT ? b : a;
    size_t used = strlen(log);
    snprintf(log + used, size - used, "%s.attach(%s) %s.attach(%s) ", client->name,
             provider->name, provider->name, client->name);
}

NMR_ROLE_TEST(a_new_ROLE_attaches_to_the_PEERs_in_their_registration_order)
{
    fake_begin();
    static const char *const names[2][3] = {{"c1", "c2", "c3"}, {"p1", "p2", "p3"}};
    static const int order[3] = {1, 0, 2}; /* registered second, first, third */
    fake_role_t other = fake_other_role(role);
    fake_module_t peers[3];
    char log[512] = "";
    for (int i = 0; i < 3; i++) {
        fake_init(&peers[i], other, names[other][i], &FAKE_NPI_A);
    }
    fake_init(&pair[role], role, names[role][0], &FAKE_NPI_A);
    for (int i = 0; i < 3; i++) {
        fake_register_ok(&peers[order[i]]);
        size_t used = strlen(log);
        snprintf(log + used, sizeof log - used, "%s.registered ", peers[order[i]].name);
    }
    fake_register_ok(&pair[role]);
    for (int i = 0; i < 3; i++) {
        append_attach(log, sizeof log, &pair[role], &peers[order[i]]);
    }
    size_t used = strlen(log);
    snprintf(log + used, sizeof log - used, "%s.registered", pair[role].name);
    CHECK_LOG(log);
    fake_unregister_ok(&pair[role]);
    for (int i = 0; i < 3; i++) {
        fake_unregister_ok(&peers[i]);
    }
    fake_end();
}

