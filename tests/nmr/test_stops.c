/* SPDX-License-Identifier: MIT */
/*
 * test_stops.c - every verifier stop of docs/behaviour.md, one per test (spec section 3
 * rule ids). The misuse runs in a forked child (EXPECT_STOP), which must abort after
 * printing "*** NMR VERIFIER STOP <rule>: <Function>: ...". Where the setup is legal it
 * runs in the parent, which afterwards finishes the scenario correctly and audits, so
 * each test also shows that the state before the misuse was sound.
 */
#include "fake_modules.h"

#define STOP(rule) "*** NMR VERIFIER STOP " rule ":"

static fake_module_t c, p, p2;

static void bind_pair(void)
{
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    fake_register_ok(&p);
    fake_register_ok(&c);
    CHECK_EQ(c.attach_successes, 1);
}

static void unbind_pair(void)
{
    fake_unregister_ok(&c);
    fake_unregister_ok(&p);
}

static fake_binding_t *client_side(void)
{
    return fake_binding_between(&c, &p);
}

static fake_binding_t *provider_side(void)
{
    return fake_binding_between(&p, &c);
}

static void raise_to(KIRQL irql)
{
    KIRQL old_irql;
    KeRaiseIrql(irql, &old_irql);
    (void)old_irql;
}

/* ---- R1: characteristics changed while registered --------------------------------------- */

static void change_client_number_then_register_provider(void)
{
    c.cchars.ClientRegistrationInstance.Number = 99;
    fake_register(&p);
}

NMR_TEST(r1_client_characteristics_changed_while_registered_stop_at_the_next_callout)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    fake_register_ok(&c);
    EXPECT_STOP(STOP("R1"), change_client_number_then_register_provider());
    CHECK_STOP_MENTIONS(FAKE_NPI_A_TEXT);
    fake_unregister_ok(&c);
    fake_end();
}

static void change_client_version_then_wait(void)
{
    c.cchars.Version = 5;
    fake_wait(&c);
}

NMR_TEST(r1_client_characteristics_changed_while_registered_stop_at_the_wait)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_register_ok(&c);
    CHECK_STATUS(fake_deregister(&c), STATUS_PENDING);
    EXPECT_STOP(STOP("R1"), change_client_version_then_wait());
    CHECK_STOP_MENTIONS("NmrWaitForClientDeregisterComplete");
    CHECK_STOP_MENTIONS(FAKE_NPI_A_TEXT);
    CHECK_STATUS(fake_wait(&c), STATUS_SUCCESS);
    fake_end();
}

static void change_provider_number_then_deregister_client(void)
{
    p.pchars.ProviderRegistrationInstance.Number = 3;
    fake_deregister(&c);
}

NMR_TEST(r1_provider_characteristics_changed_while_registered_stop_before_a_detach_callout)
{
    fake_begin();
    bind_pair();
    EXPECT_STOP(STOP("R1"), change_provider_number_then_deregister_client());
    unbind_pair();
    fake_end();
}

static void change_provider_callback_then_wait(void)
{
    p.pchars.ProviderCleanupBindingContext = NULL;
    fake_wait(&p);
}

NMR_TEST(r1_provider_characteristics_changed_while_registered_stop_at_the_wait)
{
    fake_begin();
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    fake_register_ok(&p);
    CHECK_STATUS(fake_deregister(&p), STATUS_PENDING);
    EXPECT_STOP(STOP("R1"), change_provider_callback_then_wait());
    CHECK_STOP_MENTIONS("NmrWaitForProviderDeregisterComplete");
    CHECK_STATUS(fake_wait(&p), STATUS_SUCCESS);
    fake_end();
}

/* ---- R3: NpiId / ModuleId changed -------------------------------------------------------- */

static NPIID mutable_npi;

static void change_npi_then_deregister(void)
{
    mutable_npi.Data2 ^= 0x0101;
    fake_deregister(&c);
}

NMR_TEST(r3_npi_id_changed_while_registered_stops)
{
    fake_begin();
    mutable_npi = FAKE_NPI_A;
    fake_client_init(&c, "c1", &mutable_npi);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    fake_register_ok(&p);
    fake_register_ok(&c);
    CHECK_EQ(c.attach_successes, 1);
    EXPECT_STOP(STOP("R3"), change_npi_then_deregister());
    unbind_pair();
    fake_end();
}

static void change_module_id_then_deregister(void)
{
    c.module_id.Guid.Data3 ^= 0x0101;
    fake_deregister(&c);
}

NMR_TEST(r3_module_id_changed_while_registered_stops)
{
    fake_begin();
    bind_pair();
    EXPECT_STOP(STOP("R3"), change_module_id_then_deregister());
    unbind_pair();
    fake_end();
}

static void change_npi_then_wait(void)
{
    mutable_npi.Data1 ^= 1;
    fake_wait(&c);
}

NMR_TEST(r3_npi_id_changed_while_registered_stops_at_the_wait)
{
    fake_begin();
    mutable_npi = FAKE_NPI_A;
    fake_client_init(&c, "c1", &mutable_npi);
    fake_register_ok(&c);
    CHECK_STATUS(fake_deregister(&c), STATUS_PENDING);
    EXPECT_STOP(STOP("R3"), change_npi_then_wait());
    CHECK_STOP_MENTIONS("NmrWaitForClientDeregisterComplete");
    CHECK_STATUS(fake_wait(&c), STATUS_SUCCESS);
    fake_end();
}

/* ---- R4: wrong IRQL ---------------------------------------------------------------------- */

static void register_client_at_dispatch(void)
{
    raise_to(DISPATCH_LEVEL);
    fake_register(&c);
}

NMR_TEST(r4_register_client_above_passive_level_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    EXPECT_STOP(STOP("R4"), register_client_at_dispatch());
    CHECK_STOP_MENTIONS("NmrRegisterClient");
    fake_end();
}

static void register_provider_at_apc(void)
{
    raise_to(APC_LEVEL);
    fake_register(&p);
}

NMR_TEST(r4_register_provider_above_passive_level_stops)
{
    fake_begin();
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    EXPECT_STOP(STOP("R4"), register_provider_at_apc());
    CHECK_STOP_MENTIONS("NmrRegisterProvider");
    fake_end();
}

static void raise_before_nmr_attach_hook(fake_module_t *module, fake_binding_t *binding,
                                         fake_point_t point)
{
    if (point == FAKE_AT_ATTACH) {
        raise_to(APC_LEVEL);
    }
}

static void register_client_that_attaches_at_apc(void)
{
    c.hook = raise_before_nmr_attach_hook;
    fake_register(&c);
}

NMR_TEST(r4_nmr_client_attach_provider_above_passive_level_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    fake_register_ok(&p);
    EXPECT_STOP(STOP("R4"), register_client_that_attaches_at_apc());
    CHECK_STOP_MENTIONS("NmrClientAttachProvider");
    fake_unregister_ok(&p);
    fake_end();
}

static void deregister_client_at_high(void)
{
    raise_to(HIGH_LEVEL);
    fake_deregister(&c);
}

NMR_TEST(r4_deregister_client_above_dispatch_level_stops)
{
    fake_begin();
    bind_pair();
    EXPECT_STOP(STOP("R4"), deregister_client_at_high());
    CHECK_STOP_MENTIONS("NmrDeregisterClient");
    unbind_pair();
    fake_end();
}

static void deregister_provider_above_dispatch(void)
{
    raise_to(DISPATCH_LEVEL + 1);
    fake_deregister(&p);
}

NMR_TEST(r4_deregister_provider_above_dispatch_level_stops)
{
    fake_begin();
    bind_pair();
    EXPECT_STOP(STOP("R4"), deregister_provider_above_dispatch());
    CHECK_STOP_MENTIONS("NmrDeregisterProvider");
    unbind_pair();
    fake_end();
}

static void wait_client_at_dispatch(void)
{
    raise_to(DISPATCH_LEVEL);
    fake_wait(&c);
}

NMR_TEST(r4_wait_for_client_at_dispatch_level_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_register_ok(&c);
    CHECK_STATUS(fake_deregister(&c), STATUS_PENDING);
    EXPECT_STOP(STOP("R4"), wait_client_at_dispatch());
    CHECK_STOP_MENTIONS("NmrWaitForClientDeregisterComplete");
    CHECK_STATUS(fake_wait(&c), STATUS_SUCCESS);
    fake_end();
}

static void wait_provider_at_dispatch(void)
{
    raise_to(DISPATCH_LEVEL);
    fake_wait(&p);
}

NMR_TEST(r4_wait_for_provider_at_dispatch_level_stops)
{
    fake_begin();
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    fake_register_ok(&p);
    CHECK_STATUS(fake_deregister(&p), STATUS_PENDING);
    EXPECT_STOP(STOP("R4"), wait_provider_at_dispatch());
    CHECK_STOP_MENTIONS("NmrWaitForProviderDeregisterComplete");
    CHECK_STATUS(fake_wait(&p), STATUS_SUCCESS);
    fake_end();
}

static void client_complete_at_high(void)
{
    raise_to(HIGH_LEVEL);
    NmrClientDetachProviderComplete(client_side()->handle);
}

NMR_TEST(r4_client_detach_provider_complete_above_dispatch_level_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    c.detach_mode = FAKE_DETACH_PENDING;
    fake_register_ok(&p);
    fake_register_ok(&c);
    CHECK_STATUS(fake_deregister(&c), STATUS_PENDING);
    EXPECT_STOP(STOP("R4"), client_complete_at_high());
    CHECK_STOP_MENTIONS("NmrClientDetachProviderComplete");
    fake_complete(client_side());
    CHECK_STATUS(fake_wait(&c), STATUS_SUCCESS);
    fake_unregister_ok(&p);
    fake_end();
}

static void provider_complete_above_dispatch(void)
{
    raise_to(DISPATCH_LEVEL + 1);
    NmrProviderDetachClientComplete(provider_side()->handle);
}

NMR_TEST(r4_provider_detach_client_complete_above_dispatch_level_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    p.detach_mode = FAKE_DETACH_PENDING;
    fake_register_ok(&p);
    fake_register_ok(&c);
    CHECK_STATUS(fake_deregister(&p), STATUS_PENDING);
    EXPECT_STOP(STOP("R4"), provider_complete_above_dispatch());
    CHECK_STOP_MENTIONS("NmrProviderDetachClientComplete");
    fake_complete(provider_side());
    CHECK_STATUS(fake_wait(&p), STATUS_SUCCESS);
    fake_unregister_ok(&c);
    fake_end();
}

/* ---- R9: handle misuse ------------------------------------------------------------------- */

NMR_TEST(r9_deregister_client_with_a_never_issued_handle_stops)
{
    fake_begin();
    bind_pair();
    EXPECT_STOP(STOP("R9"), NmrDeregisterClient((HANDLE)(uintptr_t)0x7ffffff9u));
    CHECK_STOP_MENTIONS("NmrDeregisterClient");
    unbind_pair();
    fake_end();
}

NMR_TEST(r9_deregister_provider_with_a_null_handle_stops)
{
    fake_begin();
    EXPECT_STOP(STOP("R9"), NmrDeregisterProvider(NULL));
    CHECK_STOP_MENTIONS("NmrDeregisterProvider");
    fake_end();
}

NMR_TEST(r9_double_deregister_of_a_client_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_register_ok(&c);
    CHECK_STATUS(fake_deregister(&c), STATUS_PENDING);
    EXPECT_STOP(STOP("R9"), NmrDeregisterClient(c.handle));
    CHECK_STOP_MENTIONS("NmrDeregisterClient");
    CHECK_STOP_MENTIONS(FAKE_NPI_A_TEXT);
    char text[40], line[64];
    snprintf(line, sizeof line, "handle 0x%s", fake_handle_text(c.handle, text));
    CHECK_STOP_MENTIONS(line);
    CHECK_STOP_MENTIONS(fake_guid_text(&c.module_id.Guid, text));
    CHECK_STATUS(fake_wait(&c), STATUS_SUCCESS);
    fake_end();
}

NMR_TEST(r9_double_deregister_of_a_provider_with_a_pending_binding_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    p.detach_mode = FAKE_DETACH_PENDING;
    fake_register_ok(&c);
    fake_register_ok(&p);
    CHECK_STATUS(fake_deregister(&p), STATUS_PENDING);
    EXPECT_STOP(STOP("R9"), NmrDeregisterProvider(p.handle));
    CHECK_STOP_MENTIONS("NmrDeregisterProvider");
    fake_complete(provider_side());
    CHECK_STATUS(fake_wait(&p), STATUS_SUCCESS);
    fake_unregister_ok(&c);
    fake_end();
}

NMR_TEST(r9_deregister_with_a_stale_handle_after_the_wait_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_register_ok(&c);
    fake_unregister_ok(&c);
    EXPECT_STOP(STOP("R9"), NmrDeregisterClient(c.handle));
    CHECK_STOP_MENTIONS("NmrDeregisterClient");
    fake_end();
}

NMR_TEST(r9_wait_with_a_stale_handle_after_the_wait_stops)
{
    fake_begin();
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    fake_register_ok(&p);
    fake_unregister_ok(&p);
    EXPECT_STOP(STOP("R9"), NmrWaitForProviderDeregisterComplete(p.handle));
    CHECK_STOP_MENTIONS("NmrWaitForProviderDeregisterComplete");
    fake_end();
}

NMR_TEST(r9_client_handle_passed_to_deregister_provider_stops)
{
    fake_begin();
    bind_pair();
    EXPECT_STOP(STOP("R9"), NmrDeregisterProvider(c.handle));
    CHECK_STOP_MENTIONS("NmrDeregisterProvider");
    unbind_pair();
    fake_end();
}

NMR_TEST(r9_provider_handle_passed_to_deregister_client_stops)
{
    fake_begin();
    bind_pair();
    EXPECT_STOP(STOP("R9"), NmrDeregisterClient(p.handle));
    CHECK_STOP_MENTIONS("NmrDeregisterClient");
    unbind_pair();
    fake_end();
}

NMR_TEST(r9_client_handle_passed_to_wait_for_provider_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_register_ok(&c);
    CHECK_STATUS(fake_deregister(&c), STATUS_PENDING);
    EXPECT_STOP(STOP("R9"), NmrWaitForProviderDeregisterComplete(c.handle));
    CHECK_STOP_MENTIONS("NmrWaitForProviderDeregisterComplete");
    CHECK_STATUS(fake_wait(&c), STATUS_SUCCESS);
    fake_end();
}

NMR_TEST(r9_binding_handle_passed_to_deregister_client_stops)
{
    fake_begin();
    bind_pair();
    EXPECT_STOP(STOP("R9"), NmrDeregisterClient(client_side()->handle));
    CHECK_STOP_MENTIONS("NmrDeregisterClient");
    unbind_pair();
    fake_end();
}

NMR_TEST(r9_binding_handle_passed_to_wait_for_provider_stops)
{
    fake_begin();
    bind_pair();
    EXPECT_STOP(STOP("R9"), NmrWaitForProviderDeregisterComplete(provider_side()->handle));
    CHECK_STOP_MENTIONS("NmrWaitForProviderDeregisterComplete");
    unbind_pair();
    fake_end();
}

NMR_TEST(r9_registration_handle_passed_to_client_detach_complete_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    c.detach_mode = FAKE_DETACH_PENDING;
    fake_register_ok(&p);
    fake_register_ok(&c);
    CHECK_STATUS(fake_deregister(&c), STATUS_PENDING);
    /* the MsQuic bug: the registration handle instead of the binding handle */
    EXPECT_STOP(STOP("R9"), NmrClientDetachProviderComplete(c.handle));
    CHECK_STOP_MENTIONS("NmrClientDetachProviderComplete");
    fake_complete(client_side());
    CHECK_STATUS(fake_wait(&c), STATUS_SUCCESS);
    fake_unregister_ok(&p);
    fake_end();
}

NMR_TEST(r9_registration_handle_passed_to_provider_detach_complete_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    p.detach_mode = FAKE_DETACH_PENDING;
    fake_register_ok(&p);
    fake_register_ok(&c);
    CHECK_STATUS(fake_deregister(&p), STATUS_PENDING);
    EXPECT_STOP(STOP("R9"), NmrProviderDetachClientComplete(p.handle));
    CHECK_STOP_MENTIONS("NmrProviderDetachClientComplete");
    fake_complete(provider_side());
    CHECK_STATUS(fake_wait(&p), STATUS_SUCCESS);
    fake_unregister_ok(&c);
    fake_end();
}

NMR_TEST(r9_never_issued_handle_passed_to_client_detach_complete_stops)
{
    fake_begin();
    EXPECT_STOP(STOP("R9"), NmrClientDetachProviderComplete((HANDLE)(uintptr_t)0x7ffffffbu));
    CHECK_STOP_MENTIONS("NmrClientDetachProviderComplete");
    fake_end();
}

static void attach_with_registration_handle_hook(fake_module_t *module, fake_binding_t *binding,
                                                 fake_point_t point)
{
    if (point == FAKE_AT_ATTACH) {
        PVOID provider_bc = NULL;
        const VOID *provider_dispatch = NULL;
        NmrClientAttachProvider(module->handle, binding, module->dispatch, &provider_bc,
                                &provider_dispatch);
    }
}

static void register_provider_for_client_using_its_registration_handle(void)
{
    c.hook = attach_with_registration_handle_hook;
    fake_register(&p);
}

NMR_TEST(r9_registration_handle_passed_to_nmr_client_attach_provider_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    fake_register_ok(&c); /* c.handle is known when the provider arrives */
    EXPECT_STOP(STOP("R9"), register_provider_for_client_using_its_registration_handle());
    CHECK_STOP_MENTIONS("NmrClientAttachProvider");
    fake_unregister_ok(&c);
    fake_end();
}

/* ---- A1-A4, A8: attach misuse ------------------------------------------------------------ */

static void register_pair_in_child(void)
{
    fake_register(&p);
    fake_register(&c);
}

NMR_TEST(a1_client_attach_returning_success_without_attaching_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    c.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    c.attach_status = STATUS_SUCCESS;
    EXPECT_STOP(STOP("A1"), register_pair_in_child());
    CHECK_STOP_MENTIONS(FAKE_NPI_A_TEXT);
    fake_end();
}

NMR_TEST(a2_client_attach_returning_nointerface_after_a_successful_attach_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    c.override_return = true;
    c.override_status = STATUS_NOINTERFACE;
    EXPECT_STOP(STOP("A2"), register_pair_in_child());
    fake_end();
}

NMR_TEST(a2_client_attach_returning_a_status_other_than_the_providers_error_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    p.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    p.attach_status = STATUS_UNSUCCESSFUL;
    c.override_return = true;
    c.override_status = STATUS_NOINTERFACE;
    EXPECT_STOP(STOP("A2"), register_pair_in_child());
    fake_end();
}

NMR_TEST(a3_client_attach_returning_status_pending_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    c.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    c.attach_status = STATUS_PENDING;
    EXPECT_STOP(STOP("A3"), register_pair_in_child());
    fake_end();
}

NMR_TEST(a3_provider_attach_returning_status_pending_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    p.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    p.attach_status = STATUS_PENDING;
    EXPECT_STOP(STOP("A3"), register_pair_in_child());
    CHECK_STOP_MENTIONS_EITHER("NmrClientAttachProvider", "ProviderAttachClient");
    CHECK_STOP_MENTIONS(FAKE_NPI_A_TEXT);
    fake_end();
}

static void attach_again_later(void)
{
    PVOID provider_bc = NULL;
    const VOID *provider_dispatch = NULL;
    fake_binding_t *cb = client_side();
    NmrClientAttachProvider(cb->handle, cb, FAKE_CLIENT_DISPATCH_V1, &provider_bc, &provider_dispatch);
}

NMR_TEST(a4_nmr_client_attach_provider_after_the_callback_returned_stops)
{
    fake_begin();
    bind_pair();
    EXPECT_STOP(STOP("A4"), attach_again_later());
    CHECK_STOP_MENTIONS("NmrClientAttachProvider");
    unbind_pair();
    fake_end();
}

static void attach_from_thread(void *arg)
{
    fake_binding_t *binding = arg;
    PVOID provider_bc = NULL;
    const VOID *provider_dispatch = NULL;
    NmrClientAttachProvider(binding->handle, binding, FAKE_CLIENT_DISPATCH_V1, &provider_bc,
                            &provider_dispatch);
}

static void attach_on_another_thread_hook(fake_module_t *module, fake_binding_t *binding,
                                          fake_point_t point)
{
    if (point == FAKE_AT_ATTACH) {
        kshim_thread_join(kshim_thread_start("foreign-attacher", attach_from_thread, binding));
    }
}

static void register_client_attaching_from_another_thread(void)
{
    c.hook = attach_on_another_thread_hook;
    /* the callback itself never calls NmrClientAttachProvider: only the foreign thread does */
    c.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    c.attach_status = STATUS_NOINTERFACE;
    fake_register(&c);
}

NMR_TEST(a4_nmr_client_attach_provider_from_another_thread_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    fake_register_ok(&p);
    EXPECT_STOP(STOP("A4"), register_client_attaching_from_another_thread());
    CHECK_STOP_MENTIONS("NmrClientAttachProvider");
    fake_unregister_ok(&p);
    fake_end();
}

static void attach_twice_hook(fake_module_t *module, fake_binding_t *binding, fake_point_t point)
{
    if (point == FAKE_AT_ATTACH_RESULT && binding->attach_status == STATUS_SUCCESS) {
        PVOID provider_bc = NULL;
        const VOID *provider_dispatch = NULL;
        NmrClientAttachProvider(binding->handle, binding, module->dispatch, &provider_bc,
                                &provider_dispatch);
    }
}

static void register_client_attaching_twice(void)
{
    c.hook = attach_twice_hook;
    fake_register(&c);
}

NMR_TEST(a4_nmr_client_attach_provider_twice_after_success_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    fake_register_ok(&p);
    EXPECT_STOP(STOP("A4"), register_client_attaching_twice());
    CHECK_STOP_MENTIONS("NmrClientAttachProvider");
    fake_unregister_ok(&p);
    fake_end();
}

static void attach_with_first_binding_handle_hook(fake_module_t *module, fake_binding_t *binding,
                                                  fake_point_t point)
{
    if (point == FAKE_AT_ATTACH && binding->peer == &p2) {
        fake_binding_t *first = fake_binding_between(module, &p);
        PVOID provider_bc = NULL;
        const VOID *provider_dispatch = NULL;
        NmrClientAttachProvider(first->handle, binding, module->dispatch, &provider_bc,
                                &provider_dispatch);
    }
}

static void register_client_using_another_bindings_handle(void)
{
    c.hook = attach_with_first_binding_handle_hook;
    fake_register(&c);
}

NMR_TEST(a4_nmr_client_attach_provider_with_another_bindings_handle_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    fake_provider_init(&p2, "p2", &FAKE_NPI_A);
    fake_register_ok(&p);
    fake_register_ok(&p2);
    EXPECT_STOP(STOP("A4"), register_client_using_another_bindings_handle());
    CHECK_STOP_MENTIONS("NmrClientAttachProvider");
    fake_unregister_ok(&p);
    fake_unregister_ok(&p2);
    fake_end();
}

NMR_TEST(a8_provider_attach_success_without_writing_the_binding_context_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    p.attach_mode = FAKE_ATTACH_WRITE_DISPATCH_ONLY;
    EXPECT_STOP(STOP("A8"), register_pair_in_child());
    CHECK_STOP_MENTIONS_EITHER("NmrClientAttachProvider", "ProviderAttachClient");
    CHECK_STOP_MENTIONS(FAKE_NPI_A_TEXT);
    fake_end();
}

NMR_TEST(a8_provider_attach_success_without_writing_the_dispatch_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    p.attach_mode = FAKE_ATTACH_WRITE_CONTEXT_ONLY;
    EXPECT_STOP(STOP("A8"), register_pair_in_child());
    fake_end();
}

NMR_TEST(a8_provider_attach_success_without_writing_anything_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    p.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    p.attach_status = STATUS_SUCCESS;
    EXPECT_STOP(STOP("A8"), register_pair_in_child());
    fake_end();
}

/* ---- D4: a pending detach never completed ------------------------------------------------ */

static void set_short_hang_timeout(void)
{
    nmr_verifier_config_t config = fake_config();
    config.hang_timeout_ms = 300;
    fake_set_config(&config);
}

/* The D4 report has one line per side of each unfinished binding: the pending side's line
   says its detach returned STATUS_PENDING; the other side's line (if any) does not. */
static void check_d4_names_pending_side(const char *pending_side, const char *done_side)
{
    const char *line = fake_stop_line(pending_side);
    if (!line || !fake_text_contains(line, "STATUS_PENDING")) {
        nmr_test_fail(__FILE__, __LINE__, "no \"%s\" line saying STATUS_PENDING in:\n%s",
                      pending_side, nmr_test_last_child_output());
    }
    line = fake_stop_line(done_side);
    if (line && fake_text_contains(line, "STATUS_PENDING")) {
        nmr_test_fail(__FILE__, __LINE__, "the completed %s is reported as pending:\n%s",
                      done_side, nmr_test_last_child_output());
    }
}

static void wait_client_forever(void)
{
    fake_wait(&c);
}

static void wait_provider_forever(void)
{
    fake_wait(&p);
}

NMR_TEST(d4_pending_client_detach_never_completed_stops_the_client_wait_naming_the_client_side)
{
    fake_begin();
    set_short_hang_timeout();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    c.detach_mode = FAKE_DETACH_PENDING;
    fake_register_ok(&p);
    fake_register_ok(&c);
    CHECK_STATUS(fake_deregister(&c), STATUS_PENDING);
    EXPECT_STOP(STOP("D4"), wait_client_forever());
    char text[32];
    CHECK_STOP_MENTIONS("NmrWaitForClientDeregisterComplete");
    check_d4_names_pending_side("client side", "provider side");
    CHECK_STOP_MENTIONS("NmrClientDetachProviderComplete not called");
    CHECK_STOP_MENTIONS(fake_handle_text(client_side()->handle, text));
    fake_complete(client_side());
    CHECK_STATUS(fake_wait(&c), STATUS_SUCCESS);
    fake_unregister_ok(&p);
    fake_end();
}

NMR_TEST(d4_pending_provider_detach_never_completed_stops_the_provider_wait_naming_the_provider_side)
{
    fake_begin();
    set_short_hang_timeout();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    p.detach_mode = FAKE_DETACH_PENDING;
    fake_register_ok(&p);
    fake_register_ok(&c);
    CHECK_STATUS(fake_deregister(&p), STATUS_PENDING);
    EXPECT_STOP(STOP("D4"), wait_provider_forever());
    char text[32];
    CHECK_STOP_MENTIONS("NmrWaitForProviderDeregisterComplete");
    check_d4_names_pending_side("provider side", "client side");
    CHECK_STOP_MENTIONS("NmrProviderDetachClientComplete not called");
    CHECK_STOP_MENTIONS(fake_handle_text(provider_side()->handle, text));
    fake_complete(provider_side());
    CHECK_STATUS(fake_wait(&p), STATUS_SUCCESS);
    fake_unregister_ok(&c);
    fake_end();
}

NMR_TEST(d4_the_peers_wait_also_stops_naming_the_side_that_never_completed)
{
    fake_begin();
    set_short_hang_timeout();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    c.detach_mode = FAKE_DETACH_PENDING;
    fake_register_ok(&p);
    fake_register_ok(&c);
    CHECK_STATUS(fake_deregister(&p), STATUS_PENDING);
    EXPECT_STOP(STOP("D4"), wait_provider_forever());
    CHECK_STOP_MENTIONS("NmrWaitForProviderDeregisterComplete");
    check_d4_names_pending_side("client side", "provider side");
    CHECK_STOP_MENTIONS("NmrClientDetachProviderComplete not called");
    fake_complete(client_side());
    CHECK_STATUS(fake_wait(&p), STATUS_SUCCESS);
    fake_unregister_ok(&c);
    fake_end();
}

/* ---- D5: DetachComplete misuse ----------------------------------------------------------- */

NMR_TEST(d5_complete_after_detach_returned_success_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    p.detach_mode = FAKE_DETACH_PENDING; /* keeps the binding alive */
    fake_register_ok(&p);
    fake_register_ok(&c);
    CHECK_STATUS(fake_deregister(&c), STATUS_PENDING);
    EXPECT_STOP(STOP("D5"), NmrClientDetachProviderComplete(client_side()->handle));
    CHECK_STOP_MENTIONS("NmrClientDetachProviderComplete");
    fake_complete(provider_side());
    CHECK_STATUS(fake_wait(&c), STATUS_SUCCESS);
    fake_unregister_ok(&p);
    fake_end();
}

NMR_TEST(d5_complete_twice_while_the_peer_is_still_pending_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    c.detach_mode = FAKE_DETACH_PENDING;
    p.detach_mode = FAKE_DETACH_PENDING;
    fake_register_ok(&p);
    fake_register_ok(&c);
    CHECK_STATUS(fake_deregister(&c), STATUS_PENDING);
    fake_complete(client_side());
    EXPECT_STOP(STOP("D5"), NmrClientDetachProviderComplete(client_side()->handle));
    CHECK_STOP_MENTIONS("NmrClientDetachProviderComplete");
    fake_complete(provider_side());
    CHECK_STATUS(fake_wait(&c), STATUS_SUCCESS);
    fake_unregister_ok(&p);
    fake_end();
}

NMR_TEST(d5_complete_again_after_the_binding_was_cleaned_up_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    p.detach_mode = FAKE_DETACH_PENDING;
    fake_register_ok(&p);
    fake_register_ok(&c);
    CHECK_STATUS(fake_deregister(&p), STATUS_PENDING);
    fake_complete(provider_side());
    CHECK_EQ(p.cleanup_calls, 1);
    EXPECT_STOP(STOP("D5"), NmrProviderDetachClientComplete(provider_side()->handle));
    CHECK_STOP_MENTIONS("NmrProviderDetachClientComplete");
    CHECK_STATUS(fake_wait(&p), STATUS_SUCCESS);
    fake_unregister_ok(&c);
    fake_end();
}

NMR_TEST(d5_client_complete_with_the_provider_side_handle_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    c.detach_mode = FAKE_DETACH_PENDING;
    p.detach_mode = FAKE_DETACH_PENDING;
    fake_register_ok(&p);
    fake_register_ok(&c);
    CHECK_STATUS(fake_deregister(&c), STATUS_PENDING);
    EXPECT_STOP(STOP("D5"), NmrClientDetachProviderComplete(provider_side()->handle));
    CHECK_STOP_MENTIONS("NmrClientDetachProviderComplete");
    fake_complete(client_side());
    fake_complete(provider_side());
    CHECK_STATUS(fake_wait(&c), STATUS_SUCCESS);
    fake_unregister_ok(&p);
    fake_end();
}

NMR_TEST(d5_provider_complete_with_the_client_side_handle_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    c.detach_mode = FAKE_DETACH_PENDING;
    p.detach_mode = FAKE_DETACH_PENDING;
    fake_register_ok(&p);
    fake_register_ok(&c);
    CHECK_STATUS(fake_deregister(&p), STATUS_PENDING);
    EXPECT_STOP(STOP("D5"), NmrProviderDetachClientComplete(client_side()->handle));
    CHECK_STOP_MENTIONS("NmrProviderDetachClientComplete");
    fake_complete(provider_side());
    fake_complete(client_side());
    CHECK_STATUS(fake_wait(&p), STATUS_SUCCESS);
    fake_unregister_ok(&c);
    fake_end();
}

NMR_TEST(d5_client_complete_before_detach_was_requested_stops)
{
    fake_begin();
    bind_pair();
    EXPECT_STOP(STOP("D5"), NmrClientDetachProviderComplete(client_side()->handle));
    CHECK_STOP_MENTIONS("NmrClientDetachProviderComplete");
    unbind_pair();
    fake_end();
}

NMR_TEST(d5_provider_complete_before_detach_was_requested_stops)
{
    fake_begin();
    bind_pair();
    EXPECT_STOP(STOP("D5"), NmrProviderDetachClientComplete(provider_side()->handle));
    CHECK_STOP_MENTIONS("NmrProviderDetachClientComplete");
    unbind_pair();
    fake_end();
}

static void complete_inside_detach_hook(fake_module_t *module, fake_binding_t *binding,
                                        fake_point_t point)
{
    if (point == FAKE_AT_DETACH) {
        fake_complete(binding);
    }
}

static void deregister_client_that_completes_then_returns_success(void)
{
    c.hook = complete_inside_detach_hook;
    c.detach_mode = FAKE_DETACH_SUCCESS;
    fake_deregister(&c);
}

NMR_TEST(d5_complete_inside_detach_then_returning_success_stops)
{
    fake_begin();
    bind_pair();
    EXPECT_STOP(STOP("D5"), deregister_client_that_completes_then_returns_success());
    unbind_pair();
    fake_end();
}

/* ---- D6: detach returns something else than SUCCESS / PENDING ---------------------------- */

static void deregister_with_client_detach_unsuccessful(void)
{
    c.detach_mode = FAKE_DETACH_RETURN_STATUS;
    c.detach_status = STATUS_UNSUCCESSFUL;
    fake_deregister(&c);
}

NMR_TEST(d6_client_detach_returning_unsuccessful_stops)
{
    fake_begin();
    bind_pair();
    EXPECT_STOP(STOP("D6"), deregister_with_client_detach_unsuccessful());
    CHECK_STOP_MENTIONS(FAKE_NPI_A_TEXT);
    unbind_pair();
    fake_end();
}

static void deregister_with_provider_detach_nointerface(void)
{
    p.detach_mode = FAKE_DETACH_RETURN_STATUS;
    p.detach_status = STATUS_NOINTERFACE;
    fake_deregister(&p);
}

NMR_TEST(d6_provider_detach_returning_nointerface_stops)
{
    fake_begin();
    bind_pair();
    EXPECT_STOP(STOP("D6"), deregister_with_provider_detach_nointerface());
    unbind_pair();
    fake_end();
}

/* ---- D11: waiting from inside a callback ------------------------------------------------- */

static void wait_inside_detach_hook(fake_module_t *module, fake_binding_t *binding,
                                    fake_point_t point)
{
    if (point == FAKE_AT_DETACH) {
        fake_wait(module);
    }
}

static void deregister_client_that_waits_in_detach(void)
{
    c.hook = wait_inside_detach_hook;
    fake_deregister(&c);
}

NMR_TEST(d11_wait_for_client_inside_its_detach_callback_stops)
{
    fake_begin();
    bind_pair();
    EXPECT_STOP(STOP("D11"), deregister_client_that_waits_in_detach());
    CHECK_STOP_MENTIONS("NmrWaitForClientDeregisterComplete");
    unbind_pair();
    fake_end();
}

static void deregister_provider_that_waits_in_detach(void)
{
    p.hook = wait_inside_detach_hook;
    fake_deregister(&p);
}

NMR_TEST(d11_wait_for_provider_inside_its_detach_callback_stops)
{
    fake_begin();
    bind_pair();
    EXPECT_STOP(STOP("D11"), deregister_provider_that_waits_in_detach());
    CHECK_STOP_MENTIONS("NmrWaitForProviderDeregisterComplete");
    unbind_pair();
    fake_end();
}

static void wait_inside_cleanup_hook(fake_module_t *module, fake_binding_t *binding,
                                     fake_point_t point)
{
    if (point == FAKE_AT_CLEANUP) {
        fake_wait(module);
    }
}

static void deregister_client_that_waits_in_cleanup(void)
{
    c.hook = wait_inside_cleanup_hook;
    fake_deregister(&c);
}

NMR_TEST(d11_wait_for_client_inside_its_cleanup_callback_stops)
{
    fake_begin();
    bind_pair();
    EXPECT_STOP(STOP("D11"), deregister_client_that_waits_in_cleanup());
    CHECK_STOP_MENTIONS("NmrWaitForClientDeregisterComplete");
    unbind_pair();
    fake_end();
}

/* ---- more handle and completion misuse --------------------------------------------------- */

static void attach_with_provider_side_handle_hook(fake_module_t *module, fake_binding_t *binding,
                                                  fake_point_t point)
{
    if (point == FAKE_AT_ATTACH_RESULT) {
        /* the provider declined the first try; retry with the handle the provider was given */
        fake_binding_t *provider_record = fake_binding_between(&p, module);
        PVOID provider_bc = NULL;
        const VOID *provider_dispatch = NULL;
        NmrClientAttachProvider(provider_record->handle, binding, module->dispatch, &provider_bc,
                                &provider_dispatch);
    }
}

static void register_client_retrying_with_the_provider_side_handle(void)
{
    c.hook = attach_with_provider_side_handle_hook;
    fake_register(&c);
}

NMR_TEST(r9_provider_side_binding_handle_passed_to_nmr_client_attach_provider_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    p.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    p.attach_status = STATUS_NOINTERFACE;
    fake_register_ok(&p);
    EXPECT_STOP(STOP("R9"), register_client_retrying_with_the_provider_side_handle());
    CHECK_STOP_MENTIONS("NmrClientAttachProvider");
    fake_unregister_ok(&p);
    fake_end();
}

static void complete_on_thread_then_success_hook(fake_module_t *module, fake_binding_t *binding,
                                                 fake_point_t point)
{
    if (point == FAKE_AT_DETACH) {
        fake_complete_on_other_thread(binding);
    }
}

static void deregister_provider_completed_elsewhere_then_success(void)
{
    p.hook = complete_on_thread_then_success_hook;
    p.detach_mode = FAKE_DETACH_SUCCESS;
    fake_deregister(&c);
}

NMR_TEST(d5_completion_from_another_thread_during_detach_then_returning_success_stops)
{
    fake_begin();
    bind_pair();
    EXPECT_STOP(STOP("D5"), deregister_provider_completed_elsewhere_then_success());
    unbind_pair();
    fake_end();
}

/* A client-side binding handle whose binding is gone is stale: R9, not A4 (behaviour.md:
   "h unknown, stale or a registration / provider-side handle: STOP R9"). */
static HANDLE stale_binding_handle;

static void attach_with_stale_handle(void)
{
    PVOID provider_bc = NULL;
    const VOID *provider_dispatch = NULL;
    NmrClientAttachProvider(stale_binding_handle, NULL, FAKE_CLIENT_DISPATCH_V1, &provider_bc,
                            &provider_dispatch);
}

NMR_TEST(r9_stale_client_binding_handle_of_a_cleaned_up_binding_passed_to_nmr_client_attach_provider_stops)
{
    fake_begin();
    bind_pair();
    stale_binding_handle = client_side()->handle;
    fake_unregister_ok(&p); /* detached and cleaned up: the handle is stale */
    EXPECT_STOP(STOP("R9"), attach_with_stale_handle());
    CHECK_STOP_MENTIONS("NmrClientAttachProvider");
    fake_unregister_ok(&c);
    fake_end();
}

NMR_TEST(r9_stale_client_binding_handle_of_a_declined_attach_passed_to_nmr_client_attach_provider_stops)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    p.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    p.attach_status = STATUS_NOINTERFACE;
    fake_register_ok(&p);
    fake_register_ok(&c);
    stale_binding_handle = client_side()->handle; /* discarded after the decline */
    EXPECT_STOP(STOP("R9"), attach_with_stale_handle());
    CHECK_STOP_MENTIONS("NmrClientAttachProvider");
    fake_unregister_ok(&c);
    fake_unregister_ok(&p);
    fake_end();
}

/* ---- how the stop line names the module (docs/behaviour.md "Output of the verifier") --- */

NMR_TEST(stop_line_names_a_luid_module_as_luid_high_low)
{
    fake_begin();
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    c.module_id.Type = MIT_IF_LUID;
    c.module_id.IfLuid.HighPart = 3;
    c.module_id.IfLuid.LowPart = 7;
    fake_register_ok(&c);
    CHECK_STATUS(fake_deregister(&c), STATUS_PENDING);
    EXPECT_STOP(STOP("R9"), NmrDeregisterClient(c.handle));
    CHECK_STOP_MENTIONS("luid:3:7");
    CHECK_STATUS(fake_wait(&c), STATUS_SUCCESS);
    fake_end();
}

NMR_TEST(stop_line_names_a_module_id_of_unknown_type_as_type_n)
{
    fake_begin();
    fake_provider_init(&p, "p1", &FAKE_NPI_A);
    p.module_id.Type = (NPI_MODULEID_TYPE)6;
    fake_register_ok(&p);
    CHECK_STATUS(fake_deregister(&p), STATUS_PENDING);
    EXPECT_STOP(STOP("R9"), NmrDeregisterProvider(p.handle));
    CHECK_STOP_MENTIONS("type6");
    CHECK_STATUS(fake_wait(&p), STATUS_SUCCESS);
    fake_end();
}

NMR_TEST(r9_null_handle_passed_to_nmr_client_attach_provider_stops)
{
    fake_begin();
    stale_binding_handle = NULL;
    EXPECT_STOP(STOP("R9"), attach_with_stale_handle());
    CHECK_STOP_MENTIONS("NmrClientAttachProvider");
    fake_end();
}
