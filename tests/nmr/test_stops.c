/* SPDX-License-Identifier: MIT */
/*
 * test_stops.c - every verifier stop of docs/behaviour.md, one per test (spec section 3
 * rule ids), each for both roles where the rule applies to both (NMR_ROLE_TEST). The
 * misuse runs in a forked child (EXPECT_STOP), which must abort after printing
 * "*** NMR VERIFIER STOP <rule>: <Function>: <message>"; where a rule has several causes the
 * test checks the message of its cause. Where the setup is legal it runs in the parent,
 * which afterwards finishes the scenario correctly and audits, so each test also shows that
 * the state before the misuse was sound.
 */
#include "fake_modules.h"

#define STOP(rule) "*** NMR VERIFIER STOP " rule ":"

/* C1 (pair[FAKE_CLIENT]) is the client c1, P1 (pair[FAKE_PROVIDER]) the provider p1
   (fake_bind_pair). */
static fake_module_t pair[2], p2;
#define C1 (pair[FAKE_CLIENT])
#define P1 (pair[FAKE_PROVIDER])

static fake_module_t *self_of(fake_role_t role)
{
    return &pair[role];
}

static fake_module_t *peer_of(fake_role_t role)
{
    return &pair[fake_other_role(role)];
}

static fake_binding_t *side_of(fake_role_t role)
{
    return fake_pair_side(pair, role);
}

static const char *function_of(fake_role_t role, fake_function_t function)
{
    return fake_function_name(role, function);
}

static void raise_to(KIRQL irql)
{
    KIRQL old_irql;
    KeRaiseIrql(irql, &old_irql);
    (void)old_irql;
}

/* The last stop line says "<function>: <message>" (message: its start, or all of it when it
   ends with ";", the separator before "handle"). */
static void check_stop_message(const char *function, const char *message)
{
    char text[256];
    snprintf(text, sizeof text, "%s: %s", function, message);
    CHECK_STOP_MENTIONS(text);
}

/* Only the role registered, then deregistered: its wait is next. */
static void register_alone_and_deregister(fake_role_t role)
{
    fake_init(self_of(role), role, role == FAKE_CLIENT ? "c1" : "p1", &FAKE_NPI_A);
    fake_register_ok(self_of(role));
    CHECK_STATUS(fake_deregister(self_of(role)), STATUS_PENDING);
}

/* The pair bound with the role's detach pending, and the role deregistered: its side waits
   for its DetachComplete. */
static void bind_and_deregister_pending(fake_role_t role)
{
    fake_init_pair(pair);
    self_of(role)->detach_mode = FAKE_DETACH_PENDING;
    fake_register_pair(pair);
    CHECK_STATUS(fake_deregister(self_of(role)), STATUS_PENDING);
}

/* The role completes its pending side, waits, and the peer leaves. */
static void complete_wait_and_unregister_peer(fake_role_t role)
{
    fake_complete(side_of(role));
    CHECK_STATUS(fake_wait(self_of(role)), STATUS_SUCCESS);
    fake_unregister_ok(peer_of(role));
}

/* ---- R1: characteristics changed while registered --------------------------------------- */

static void change_client_number_then_register_provider(void)
{
    C1.cchars.ClientRegistrationInstance.Number = 99;
    fake_register(&P1);
}

NMR_TEST(r1_client_characteristics_changed_while_registered_stop_at_the_next_callout)
{
    fake_begin();
    fake_init_pair(pair);
    fake_register_ok(&C1);
    EXPECT_STOP(STOP("R1"), change_client_number_then_register_provider());
    check_stop_message("ClientAttachProvider", "the module's client characteristics changed");
    CHECK_STOP_MENTIONS(FAKE_NPI_A_TEXT);
    fake_unregister_ok(&C1);
    fake_end();
}

static void change_version_then_wait(fake_role_t role)
{
    *fake_version_field(self_of(role)) = 5;
    fake_wait(self_of(role));
}

NMR_ROLE_TEST(r1_ROLE_characteristics_changed_while_registered_stop_at_the_wait)
{
    fake_begin();
    register_alone_and_deregister(role);
    EXPECT_STOP(STOP("R1"), change_version_then_wait(role));
    CHECK_STOP_MENTIONS(function_of(role, FAKE_FN_WAIT));
    CHECK_STOP_MENTIONS(FAKE_NPI_A_TEXT);
    CHECK_STATUS(fake_wait(self_of(role)), STATUS_SUCCESS);
    fake_end();
}

static void change_provider_number_then_deregister_client(void)
{
    P1.pchars.ProviderRegistrationInstance.Number = 3;
    fake_deregister(&C1);
}

NMR_TEST(r1_provider_characteristics_changed_while_registered_stop_before_a_detach_callout)
{
    fake_begin();
    fake_bind_pair(pair);
    EXPECT_STOP(STOP("R1"), change_provider_number_then_deregister_client());
    check_stop_message("ClientDetachProvider", "the module's provider characteristics changed");
    fake_unbind_pair(pair);
    fake_end();
}

/* ---- R3: NpiId / ModuleId changed -------------------------------------------------------- */

static NPIID mutable_npi;

static void change_npi_then_deregister(void)
{
    mutable_npi.Data2 ^= 0x0101;
    fake_deregister(&C1);
}

NMR_TEST(r3_npi_id_changed_while_registered_stops)
{
    fake_begin();
    mutable_npi = FAKE_NPI_A;
    fake_init_pair(pair);
    C1.cchars.ClientRegistrationInstance.NpiId = &mutable_npi;
    fake_register_pair(pair);
    CHECK_EQ(C1.attach_successes, 1);
    EXPECT_STOP(STOP("R3"), change_npi_then_deregister());
    check_stop_message("ClientDetachProvider", "the NpiId or ModuleId the registration instance "
                                               "points to changed while registered;");
    fake_unbind_pair(pair);
    fake_end();
}

static void change_module_id_then_deregister(void)
{
    C1.module_id.Guid.Data3 ^= 0x0101;
    fake_deregister(&C1);
}

NMR_TEST(r3_module_id_changed_while_registered_stops)
{
    fake_begin();
    fake_bind_pair(pair);
    EXPECT_STOP(STOP("R3"), change_module_id_then_deregister());
    fake_unbind_pair(pair);
    fake_end();
}

static void change_npi_then_wait(void)
{
    mutable_npi.Data1 ^= 1;
    fake_wait(&C1);
}

NMR_TEST(r3_npi_id_changed_while_registered_stops_at_the_wait)
{
    fake_begin();
    mutable_npi = FAKE_NPI_A;
    fake_client_init(&C1, "c1", &mutable_npi);
    fake_register_ok(&C1);
    CHECK_STATUS(fake_deregister(&C1), STATUS_PENDING);
    EXPECT_STOP(STOP("R3"), change_npi_then_wait());
    CHECK_STOP_MENTIONS("NmrWaitForClientDeregisterComplete");
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    fake_end();
}

/* ---- R4: wrong IRQL ---------------------------------------------------------------------- */

static void register_above_passive(fake_role_t role)
{
    /* DISPATCH for the client, APC for the provider: any level above PASSIVE stops */
    raise_to(role == FAKE_CLIENT ? DISPATCH_LEVEL : APC_LEVEL);
    fake_register(self_of(role));
}

NMR_ROLE_TEST(r4_register_ROLE_above_passive_level_stops)
{
    fake_begin();
    fake_init(self_of(role), role, "m1", &FAKE_NPI_A);
    EXPECT_STOP(STOP("R4"), register_above_passive(role));
    check_stop_message(function_of(role, FAKE_FN_REGISTER), "called at IRQL");
    CHECK_STOP_MENTIONS("requires PASSIVE_LEVEL;");
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
    C1.hook = raise_before_nmr_attach_hook;
    fake_register(&C1);
}

NMR_TEST(r4_nmr_client_attach_provider_above_passive_level_stops)
{
    fake_begin();
    fake_init_pair(pair);
    fake_register_ok(&P1);
    EXPECT_STOP(STOP("R4"), register_client_that_attaches_at_apc());
    check_stop_message("NmrClientAttachProvider", "called at IRQL 1; requires PASSIVE_LEVEL;");
    fake_unregister_ok(&P1);
    fake_end();
}

static void deregister_above_dispatch(fake_role_t role)
{
    raise_to(role == FAKE_CLIENT ? HIGH_LEVEL : DISPATCH_LEVEL + 1);
    fake_deregister(self_of(role));
}

NMR_ROLE_TEST(r4_deregister_ROLE_above_dispatch_level_stops)
{
    fake_begin();
    fake_bind_pair(pair);
    EXPECT_STOP(STOP("R4"), deregister_above_dispatch(role));
    check_stop_message(function_of(role, FAKE_FN_DEREGISTER), "called at IRQL");
    CHECK_STOP_MENTIONS("requires IRQL <= DISPATCH_LEVEL;");
    fake_unbind_pair(pair);
    fake_end();
}

static void wait_at_dispatch(fake_role_t role)
{
    raise_to(DISPATCH_LEVEL);
    fake_wait(self_of(role));
}

NMR_ROLE_TEST(r4_wait_for_ROLE_at_dispatch_level_stops)
{
    fake_begin();
    register_alone_and_deregister(role);
    EXPECT_STOP(STOP("R4"), wait_at_dispatch(role));
    check_stop_message(function_of(role, FAKE_FN_WAIT),
                       "called at IRQL 2; requires IRQL < DISPATCH_LEVEL;");
    CHECK_STATUS(fake_wait(self_of(role)), STATUS_SUCCESS);
    fake_end();
}

static void complete_above_dispatch(fake_role_t role)
{
    raise_to(role == FAKE_CLIENT ? HIGH_LEVEL : DISPATCH_LEVEL + 1);
    fake_complete_handle(role, side_of(role)->handle);
}

NMR_ROLE_TEST(r4_ROLE_detach_PEER_complete_above_dispatch_level_stops)
{
    fake_begin();
    bind_and_deregister_pending(role);
    EXPECT_STOP(STOP("R4"), complete_above_dispatch(role));
    check_stop_message(function_of(role, FAKE_FN_DETACH_COMPLETE), "called at IRQL");
    CHECK_STOP_MENTIONS("requires IRQL <= DISPATCH_LEVEL;");
    complete_wait_and_unregister_peer(role);
    fake_end();
}

/* ---- R9: handle misuse ------------------------------------------------------------------- */

/* The R9 message of a handle of the wrong kind: "passed a <passed> where a <required> is
   required;". */
static void check_wrong_kind(const char *function, const char *passed, const char *required)
{
    char message[160];
    snprintf(message, sizeof message, "passed a %s where a %s is required;", passed, required);
    check_stop_message(function, message);
}

#define NEVER_ISSUED "handle was never issued by the NMR;"
#define STALE_REGISTRATION "stale handle: the registration already ended"
#define DOUBLE_DEREGISTRATION "double deregistration: the registration is already deregistering;"

NMR_TEST(r9_deregister_client_with_a_never_issued_handle_stops)
{
    fake_begin();
    fake_bind_pair(pair);
    EXPECT_STOP(STOP("R9"), NmrDeregisterClient((HANDLE)(uintptr_t)0x7ffffff9u));
    check_stop_message("NmrDeregisterClient", NEVER_ISSUED);
    fake_unbind_pair(pair);
    fake_end();
}

NMR_TEST(r9_deregister_provider_with_a_null_handle_stops)
{
    fake_begin();
    EXPECT_STOP(STOP("R9"), NmrDeregisterProvider(NULL));
    check_stop_message("NmrDeregisterProvider", NEVER_ISSUED);
    fake_end();
}

NMR_TEST(r9_double_deregister_of_a_client_stops)
{
    fake_begin();
    register_alone_and_deregister(FAKE_CLIENT);
    EXPECT_STOP(STOP("R9"), NmrDeregisterClient(C1.handle));
    check_stop_message("NmrDeregisterClient", DOUBLE_DEREGISTRATION);
    CHECK_STOP_MENTIONS(FAKE_NPI_A_TEXT);
    char text[40], line[64];
    snprintf(line, sizeof line, "handle 0x%s", fake_handle_text(C1.handle, text));
    CHECK_STOP_MENTIONS(line);
    CHECK_STOP_MENTIONS(fake_guid_text(&C1.module_id.Guid, text));
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    fake_end();
}

NMR_TEST(r9_double_deregister_of_a_provider_with_a_pending_binding_stops)
{
    fake_begin();
    bind_and_deregister_pending(FAKE_PROVIDER);
    EXPECT_STOP(STOP("R9"), NmrDeregisterProvider(P1.handle));
    check_stop_message("NmrDeregisterProvider", DOUBLE_DEREGISTRATION);
    complete_wait_and_unregister_peer(FAKE_PROVIDER);
    fake_end();
}

NMR_TEST(r9_deregister_with_a_stale_handle_after_the_wait_stops)
{
    fake_begin();
    register_alone_and_deregister(FAKE_CLIENT);
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    EXPECT_STOP(STOP("R9"), NmrDeregisterClient(C1.handle));
    check_stop_message("NmrDeregisterClient", STALE_REGISTRATION);
    fake_end();
}

NMR_TEST(r9_wait_with_a_stale_handle_after_the_wait_stops)
{
    fake_begin();
    register_alone_and_deregister(FAKE_PROVIDER);
    CHECK_STATUS(fake_wait(&P1), STATUS_SUCCESS);
    EXPECT_STOP(STOP("R9"), NmrWaitForProviderDeregisterComplete(P1.handle));
    check_stop_message("NmrWaitForProviderDeregisterComplete", STALE_REGISTRATION);
    fake_end();
}

NMR_ROLE_TEST(r9_ROLE_handle_passed_to_deregister_PEER_stops)
{
    fake_begin();
    fake_bind_pair(pair);
    fake_role_t peer = fake_other_role(role);
    EXPECT_STOP(STOP("R9"), fake_deregister_handle(peer, self_of(role)->handle));
    check_wrong_kind(function_of(peer, FAKE_FN_DEREGISTER),
                     role == FAKE_CLIENT ? "client registration handle"
                                         : "provider registration handle",
                     peer == FAKE_CLIENT ? "client registration handle"
                                         : "provider registration handle");
    fake_unbind_pair(pair);
    fake_end();
}

NMR_TEST(r9_client_handle_passed_to_wait_for_provider_stops)
{
    fake_begin();
    register_alone_and_deregister(FAKE_CLIENT);
    EXPECT_STOP(STOP("R9"), NmrWaitForProviderDeregisterComplete(C1.handle));
    check_wrong_kind("NmrWaitForProviderDeregisterComplete", "client registration handle",
                     "provider registration handle");
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    fake_end();
}

NMR_TEST(r9_binding_handle_passed_to_deregister_client_stops)
{
    fake_begin();
    fake_bind_pair(pair);
    EXPECT_STOP(STOP("R9"), NmrDeregisterClient(side_of(FAKE_CLIENT)->handle));
    check_wrong_kind("NmrDeregisterClient", "client-side binding handle",
                     "client registration handle");
    fake_unbind_pair(pair);
    fake_end();
}

NMR_TEST(r9_binding_handle_passed_to_wait_for_provider_stops)
{
    fake_begin();
    fake_bind_pair(pair);
    EXPECT_STOP(STOP("R9"), NmrWaitForProviderDeregisterComplete(side_of(FAKE_PROVIDER)->handle));
    check_wrong_kind("NmrWaitForProviderDeregisterComplete", "provider-side binding handle",
                     "provider registration handle");
    fake_unbind_pair(pair);
    fake_end();
}

/* (for the client: the MsQuic bug, the registration handle instead of the binding handle) */
NMR_ROLE_TEST(r9_registration_handle_passed_to_ROLE_detach_complete_stops)
{
    fake_begin();
    bind_and_deregister_pending(role);
    EXPECT_STOP(STOP("R9"), fake_complete_handle(role, self_of(role)->handle));
    check_wrong_kind(function_of(role, FAKE_FN_DETACH_COMPLETE),
                     role == FAKE_CLIENT ? "client registration handle"
                                         : "provider registration handle",
                     role == FAKE_CLIENT ? "client-side binding handle"
                                         : "provider-side binding handle");
    complete_wait_and_unregister_peer(role);
    fake_end();
}

NMR_TEST(r9_never_issued_handle_passed_to_client_detach_complete_stops)
{
    fake_begin();
    EXPECT_STOP(STOP("R9"), NmrClientDetachProviderComplete((HANDLE)(uintptr_t)0x7ffffffbu));
    check_stop_message("NmrClientDetachProviderComplete", NEVER_ISSUED);
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
    C1.hook = attach_with_registration_handle_hook;
    fake_register(&P1);
}

NMR_TEST(r9_registration_handle_passed_to_nmr_client_attach_provider_stops)
{
    fake_begin();
    fake_init_pair(pair);
    fake_register_ok(&C1); /* C1.handle is known when the provider arrives */
    EXPECT_STOP(STOP("R9"), register_provider_for_client_using_its_registration_handle());
    check_wrong_kind("NmrClientAttachProvider", "client registration handle",
                     "client-side binding handle");
    fake_unregister_ok(&C1);
    fake_end();
}

/* ---- A1-A4, A8: attach misuse ------------------------------------------------------------ */

static void register_pair_in_child(void)
{
    fake_register(&P1);
    fake_register(&C1);
}

/* Both modules initialised; the client's attach returns status without attaching. */
static void init_pair_with_client_attach_returning(NTSTATUS status)
{
    fake_init_pair(pair);
    C1.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    C1.attach_status = status;
}

NMR_TEST(a1_client_attach_returning_success_without_attaching_stops)
{
    fake_begin();
    init_pair_with_client_attach_returning(STATUS_SUCCESS);
    EXPECT_STOP(STOP("A1"), register_pair_in_child());
    check_stop_message("ClientAttachProvider", "returned STATUS_SUCCESS without a successful "
                                               "NmrClientAttachProvider (it never called it);");
    CHECK_STOP_MENTIONS(FAKE_NPI_A_TEXT);
    fake_end();
}

NMR_TEST(a2_client_attach_returning_nointerface_after_a_successful_attach_stops)
{
    fake_begin();
    fake_init_pair(pair);
    C1.override_return = true;
    C1.override_status = STATUS_NOINTERFACE;
    EXPECT_STOP(STOP("A2"), register_pair_in_child());
    check_stop_message("ClientAttachProvider", "returned STATUS_NOINTERFACE (0xc00002b9) but its "
                                               "last NmrClientAttachProvider returned "
                                               "STATUS_SUCCESS");
    fake_end();
}

NMR_TEST(a2_client_attach_returning_a_status_other_than_the_providers_error_stops)
{
    fake_begin();
    fake_init_pair(pair);
    P1.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    P1.attach_status = STATUS_UNSUCCESSFUL;
    C1.override_return = true;
    C1.override_status = STATUS_NOINTERFACE;
    EXPECT_STOP(STOP("A2"), register_pair_in_child());
    check_stop_message("ClientAttachProvider", "returned STATUS_NOINTERFACE (0xc00002b9) but its "
                                               "last NmrClientAttachProvider returned "
                                               "STATUS_UNSUCCESSFUL");
    fake_end();
}

NMR_ROLE_TEST(a3_ROLE_attach_returning_status_pending_stops)
{
    fake_begin();
    fake_init_pair(pair);
    self_of(role)->attach_mode = FAKE_ATTACH_RETURN_STATUS;
    self_of(role)->attach_status = STATUS_PENDING;
    EXPECT_STOP(STOP("A3"), register_pair_in_child());
    check_stop_message(function_of(role, FAKE_FN_ATTACH_CALLBACK),
                       "returned success code STATUS_PENDING (0x00000103); only STATUS_SUCCESS "
                       "means attached;");
    CHECK_STOP_MENTIONS(FAKE_NPI_A_TEXT);
    fake_end();
}

#define NOT_INSIDE "not called from inside this binding's ClientAttachProvider"

static void attach_with_handle(HANDLE handle, fake_binding_t *binding)
{
    PVOID provider_bc = NULL;
    const VOID *provider_dispatch = NULL;
    NmrClientAttachProvider(handle, binding, FAKE_CLIENT_DISPATCH_V1, &provider_bc,
                            &provider_dispatch);
}

static void attach_again_later(void)
{
    attach_with_handle(side_of(FAKE_CLIENT)->handle, side_of(FAKE_CLIENT));
}

NMR_TEST(a4_nmr_client_attach_provider_after_the_callback_returned_stops)
{
    fake_begin();
    fake_bind_pair(pair);
    EXPECT_STOP(STOP("A4"), attach_again_later());
    check_stop_message("NmrClientAttachProvider", NOT_INSIDE " (binding is ATTACHED)");
    fake_unbind_pair(pair);
    fake_end();
}

static void attach_from_thread(void *arg)
{
    fake_binding_t *binding = arg;
    attach_with_handle(binding->handle, binding);
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
    C1.hook = attach_on_another_thread_hook;
    /* the callback itself never calls NmrClientAttachProvider: only the foreign thread does */
    C1.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    C1.attach_status = STATUS_NOINTERFACE;
    fake_register(&C1);
}

/* The provider registered first; the client's registration in the child stops. */
static void register_provider_then_stop_in_client(const char *rule, void (*misuse)(void))
{
    fake_init_pair(pair);
    fake_register_ok(&P1);
    EXPECT_STOP(rule, misuse());
}

NMR_TEST(a4_nmr_client_attach_provider_from_another_thread_stops)
{
    fake_begin();
    register_provider_then_stop_in_client(STOP("A4"),
                                          register_client_attaching_from_another_thread);
    check_stop_message("NmrClientAttachProvider",
                       NOT_INSIDE " (binding is ATTACHING (ClientAttachProvider running) on "
                                  "another thread)");
    fake_unregister_ok(&P1);
    fake_end();
}

static void attach_twice_hook(fake_module_t *module, fake_binding_t *binding, fake_point_t point)
{
    if (point == FAKE_AT_ATTACH_RESULT && binding->attach_status == STATUS_SUCCESS) {
        attach_with_handle(binding->handle, binding);
    }
}

static void register_client_attaching_twice(void)
{
    C1.hook = attach_twice_hook;
    fake_register(&C1);
}

NMR_TEST(a4_nmr_client_attach_provider_twice_after_success_stops)
{
    fake_begin();
    register_provider_then_stop_in_client(STOP("A4"), register_client_attaching_twice);
    check_stop_message("NmrClientAttachProvider",
                       "called again after it returned STATUS_SUCCESS for this binding;");
    fake_unregister_ok(&P1);
    fake_end();
}

static void attach_with_first_binding_handle_hook(fake_module_t *module, fake_binding_t *binding,
                                                  fake_point_t point)
{
    if (point == FAKE_AT_ATTACH && binding->peer == &p2) {
        attach_with_handle(fake_binding_between(module, &P1)->handle, binding);
    }
}

static void register_client_using_another_bindings_handle(void)
{
    C1.hook = attach_with_first_binding_handle_hook;
    fake_register(&C1);
}

NMR_TEST(a4_nmr_client_attach_provider_with_another_bindings_handle_stops)
{
    fake_begin();
    fake_init_pair(pair);
    fake_provider_init(&p2, "p2", &FAKE_NPI_A);
    fake_register_ok(&P1);
    fake_register_ok(&p2); /* the client attaches to p1 first, then to p2 */
    EXPECT_STOP(STOP("A4"), register_client_using_another_bindings_handle());
    check_stop_message("NmrClientAttachProvider", NOT_INSIDE " (binding is ATTACHED)");
    fake_unregister_ok(&P1);
    fake_unregister_ok(&p2);
    fake_end();
}

static void expect_a8_for_provider_attach(fake_attach_mode_t mode, const char *unwritten)
{
    fake_init_pair(pair);
    P1.attach_mode = mode;
    P1.attach_status = STATUS_SUCCESS;
    EXPECT_STOP(STOP("A8"), register_pair_in_child());
    char message[128];
    snprintf(message, sizeof message, "returned STATUS_SUCCESS without writing %s;", unwritten);
    check_stop_message("ProviderAttachClient", message);
    CHECK_STOP_MENTIONS(FAKE_NPI_A_TEXT);
}

NMR_TEST(a8_provider_attach_success_without_writing_the_binding_context_stops)
{
    fake_begin();
    expect_a8_for_provider_attach(FAKE_ATTACH_WRITE_DISPATCH_ONLY, "ProviderBindingContext");
    fake_end();
}

NMR_TEST(a8_provider_attach_success_without_writing_the_dispatch_stops)
{
    fake_begin();
    expect_a8_for_provider_attach(FAKE_ATTACH_WRITE_CONTEXT_ONLY, "ProviderDispatch");
    fake_end();
}

NMR_TEST(a8_provider_attach_success_without_writing_anything_stops)
{
    fake_begin();
    expect_a8_for_provider_attach(FAKE_ATTACH_RETURN_STATUS,
                                  "ProviderBindingContext and ProviderDispatch");
    fake_end();
}

/* ---- D4: a pending detach never completed ------------------------------------------------ */

static void set_short_hang_timeout(void)
{
    fake_set_hang_timeout(300);
}

/* The D4 report has one line per side of each unfinished binding: the pending side's line
   says its detach returned STATUS_PENDING; the other side's line (if any) does not. */
static void check_d4_names_pending_side(fake_role_t pending)
{
    char pending_side[16], done_side[16];
    snprintf(pending_side, sizeof pending_side, "%s side", fake_role_name(pending));
    snprintf(done_side, sizeof done_side, "%s side", fake_role_name(fake_other_role(pending)));
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
    char not_called[64];
    snprintf(not_called, sizeof not_called, "%s not called",
             function_of(pending, FAKE_FN_DETACH_COMPLETE));
    CHECK_STOP_MENTIONS(not_called);
}

/* The pending role's detach is never completed; waiter's wait stops with D4. */
static void expect_d4(fake_role_t pending, fake_role_t waiter)
{
    set_short_hang_timeout();
    fake_init_pair(pair);
    self_of(pending)->detach_mode = FAKE_DETACH_PENDING;
    fake_register_pair(pair);
    CHECK_STATUS(fake_deregister(self_of(waiter)), STATUS_PENDING);
    EXPECT_STOP(STOP("D4"), fake_wait(self_of(waiter)));
    CHECK_STOP_MENTIONS(function_of(waiter, FAKE_FN_WAIT));
    check_d4_names_pending_side(pending);
    fake_complete(side_of(pending));
    CHECK_STATUS(fake_wait(self_of(waiter)), STATUS_SUCCESS);
    fake_unregister_ok(peer_of(waiter));
}

NMR_ROLE_TEST(d4_pending_ROLE_detach_never_completed_stops_the_ROLE_wait_naming_the_ROLE_side)
{
    fake_begin();
    expect_d4(role, role);
    char text[32];
    CHECK_STOP_MENTIONS(fake_handle_text(side_of(role)->handle, text));
    fake_end();
}

NMR_TEST(d4_the_peers_wait_also_stops_naming_the_side_that_never_completed)
{
    fake_begin();
    expect_d4(FAKE_CLIENT, FAKE_PROVIDER);
    fake_end();
}

/* ---- D5: DetachComplete misuse ----------------------------------------------------------- */

NMR_TEST(d5_complete_after_detach_returned_success_stops)
{
    fake_begin();
    fake_init_pair(pair);
    P1.detach_mode = FAKE_DETACH_PENDING; /* keeps the binding alive */
    fake_register_pair(pair);
    CHECK_STATUS(fake_deregister(&C1), STATUS_PENDING);
    EXPECT_STOP(STOP("D5"), NmrClientDetachProviderComplete(side_of(FAKE_CLIENT)->handle));
    check_stop_message("NmrClientDetachProviderComplete",
                       "the detach callback returned STATUS_SUCCESS; DetachComplete must only "
                       "follow STATUS_PENDING;");
    fake_complete(side_of(FAKE_PROVIDER));
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    fake_unregister_ok(&P1);
    fake_end();
}

/* Both sides pending, the client deregistered. */
static void bind_both_pending_and_deregister(fake_role_t role)
{
    fake_init_pair(pair);
    C1.detach_mode = FAKE_DETACH_PENDING;
    P1.detach_mode = FAKE_DETACH_PENDING;
    fake_register_pair(pair);
    CHECK_STATUS(fake_deregister(self_of(role)), STATUS_PENDING);
}

NMR_TEST(d5_complete_twice_while_the_peer_is_still_pending_stops)
{
    fake_begin();
    bind_both_pending_and_deregister(FAKE_CLIENT);
    fake_complete(side_of(FAKE_CLIENT));
    EXPECT_STOP(STOP("D5"), NmrClientDetachProviderComplete(side_of(FAKE_CLIENT)->handle));
    check_stop_message("NmrClientDetachProviderComplete", "called twice;");
    fake_complete(side_of(FAKE_PROVIDER));
    CHECK_STATUS(fake_wait(&C1), STATUS_SUCCESS);
    fake_unregister_ok(&P1);
    fake_end();
}

NMR_TEST(d5_complete_again_after_the_binding_was_cleaned_up_stops)
{
    fake_begin();
    bind_and_deregister_pending(FAKE_PROVIDER);
    fake_complete(side_of(FAKE_PROVIDER));
    CHECK_EQ(P1.cleanup_calls, 1);
    EXPECT_STOP(STOP("D5"), NmrProviderDetachClientComplete(side_of(FAKE_PROVIDER)->handle));
    check_stop_message("NmrProviderDetachClientComplete",
                       "the binding is already detached on both sides and cleaned up: called "
                       "twice, or after the detach callback returned STATUS_SUCCESS;");
    CHECK_STATUS(fake_wait(&P1), STATUS_SUCCESS);
    fake_unregister_ok(&C1);
    fake_end();
}

NMR_ROLE_TEST(d5_ROLE_complete_with_the_PEER_side_handle_stops)
{
    fake_begin();
    bind_both_pending_and_deregister(role);
    fake_role_t peer = fake_other_role(role);
    EXPECT_STOP(STOP("D5"), fake_complete_handle(role, side_of(peer)->handle));
    char message[128];
    snprintf(message, sizeof message, "called for the other side: passed a %s-side binding handle;",
             fake_role_name(peer));
    check_stop_message(function_of(role, FAKE_FN_DETACH_COMPLETE), message);
    fake_complete(side_of(role));
    fake_complete(side_of(peer));
    CHECK_STATUS(fake_wait(self_of(role)), STATUS_SUCCESS);
    fake_unregister_ok(peer_of(role));
    fake_end();
}

NMR_ROLE_TEST(d5_ROLE_complete_before_detach_was_requested_stops)
{
    fake_begin();
    fake_bind_pair(pair);
    EXPECT_STOP(STOP("D5"), fake_complete_handle(role, side_of(role)->handle));
    check_stop_message(function_of(role, FAKE_FN_DETACH_COMPLETE),
                       "called before the NMR requested detach (binding ATTACHED);");
    fake_unbind_pair(pair);
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
    C1.hook = complete_inside_detach_hook;
    C1.detach_mode = FAKE_DETACH_SUCCESS;
    fake_deregister(&C1);
}

#define SUCCESS_AFTER_COMPLETE "returned STATUS_SUCCESS after calling %s during the callback;"

static void check_success_after_complete(fake_role_t role)
{
    char message[128];
    snprintf(message, sizeof message, SUCCESS_AFTER_COMPLETE,
             function_of(role, FAKE_FN_DETACH_COMPLETE));
    check_stop_message(function_of(role, FAKE_FN_DETACH_CALLBACK), message);
}

NMR_TEST(d5_complete_inside_detach_then_returning_success_stops)
{
    fake_begin();
    fake_bind_pair(pair);
    EXPECT_STOP(STOP("D5"), deregister_client_that_completes_then_returns_success());
    check_success_after_complete(FAKE_CLIENT);
    fake_unbind_pair(pair);
    fake_end();
}

/* ---- D6: detach returns something else than SUCCESS / PENDING ---------------------------- */

static fake_role_t d6_role;
static NTSTATUS d6_status;

static void deregister_with_detach_returning(void)
{
    self_of(d6_role)->detach_mode = FAKE_DETACH_RETURN_STATUS;
    self_of(d6_role)->detach_status = d6_status;
    fake_deregister(self_of(d6_role));
}

static void expect_d6(fake_role_t role, NTSTATUS status, const char *status_text)
{
    fake_bind_pair(pair);
    d6_role = role;
    d6_status = status;
    EXPECT_STOP(STOP("D6"), deregister_with_detach_returning());
    char message[128];
    snprintf(message, sizeof message, "returned %s; only STATUS_SUCCESS or STATUS_PENDING are "
             "allowed;", status_text);
    check_stop_message(function_of(role, FAKE_FN_DETACH_CALLBACK), message);
    CHECK_STOP_MENTIONS(FAKE_NPI_A_TEXT);
    fake_unbind_pair(pair);
}

NMR_TEST(d6_client_detach_returning_unsuccessful_stops)
{
    fake_begin();
    expect_d6(FAKE_CLIENT, STATUS_UNSUCCESSFUL, "STATUS_UNSUCCESSFUL (0xc0000001)");
    fake_end();
}

NMR_TEST(d6_provider_detach_returning_nointerface_stops)
{
    fake_begin();
    expect_d6(FAKE_PROVIDER, STATUS_NOINTERFACE, "STATUS_NOINTERFACE (0xc00002b9)");
    fake_end();
}

NMR_TEST(d6_client_detach_returning_a_success_code_other_than_success_and_pending_stops)
{
    fake_begin();
    expect_d6(FAKE_CLIENT, STATUS_TIMEOUT, "STATUS_TIMEOUT (0x00000102)");
    fake_end();
}

/* ---- D11: waiting from inside a callback ------------------------------------------------- */

static void wait_inside_hook(fake_module_t *module, fake_binding_t *binding, fake_point_t point)
{
    if (point == *(fake_point_t *)module->hook_arg) {
        fake_wait(module);
    }
}

static void deregister_waiting_inside(fake_module_t *module, fake_point_t *point)
{
    module->hook = wait_inside_hook;
    module->hook_arg = point;
    fake_deregister(module);
}

static void expect_d11(fake_role_t role, fake_point_t point)
{
    fake_bind_pair(pair);
    EXPECT_STOP(STOP("D11"), deregister_waiting_inside(self_of(role), &point));
    check_stop_message(function_of(role, FAKE_FN_WAIT),
                       "called from inside an NMR callback of one of this registration's "
                       "bindings: the wait can never finish;");
    fake_unbind_pair(pair);
}

NMR_ROLE_TEST(d11_wait_for_ROLE_inside_its_detach_callback_stops)
{
    fake_begin();
    expect_d11(role, FAKE_AT_DETACH);
    fake_end();
}

NMR_TEST(d11_wait_for_client_inside_its_cleanup_callback_stops)
{
    fake_begin();
    expect_d11(FAKE_CLIENT, FAKE_AT_CLEANUP);
    fake_end();
}

/* ---- more handle and completion misuse --------------------------------------------------- */

static void attach_with_provider_side_handle_hook(fake_module_t *module, fake_binding_t *binding,
                                                  fake_point_t point)
{
    if (point == FAKE_AT_ATTACH_RESULT) {
        /* the provider declined the first try; retry with the handle the provider was given */
        attach_with_handle(fake_binding_between(&P1, module)->handle, binding);
    }
}

static void register_client_retrying_with_the_provider_side_handle(void)
{
    C1.hook = attach_with_provider_side_handle_hook;
    fake_register(&C1);
}

NMR_TEST(r9_provider_side_binding_handle_passed_to_nmr_client_attach_provider_stops)
{
    fake_begin();
    fake_init_pair(pair);
    P1.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    P1.attach_status = STATUS_NOINTERFACE;
    fake_register_ok(&P1);
    EXPECT_STOP(STOP("R9"), register_client_retrying_with_the_provider_side_handle());
    check_stop_message("NmrClientAttachProvider",
                       "passed a provider-side binding handle; only the client-side binding "
                       "handle given to ClientAttachProvider is accepted;");
    fake_unregister_ok(&P1);
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
    P1.hook = complete_on_thread_then_success_hook;
    P1.detach_mode = FAKE_DETACH_SUCCESS;
    fake_deregister(&C1);
}

NMR_TEST(d5_completion_from_another_thread_during_detach_then_returning_success_stops)
{
    fake_begin();
    fake_bind_pair(pair);
    EXPECT_STOP(STOP("D5"), deregister_provider_completed_elsewhere_then_success());
    check_success_after_complete(FAKE_PROVIDER);
    fake_unbind_pair(pair);
    fake_end();
}

/* A client-side binding handle whose binding is gone is stale: R9, not A4 (behaviour.md:
   "h unknown, stale or a registration / provider-side handle: STOP R9"). */
static HANDLE stale_binding_handle;

static void attach_with_stale_handle(void)
{
    attach_with_handle(stale_binding_handle, NULL);
}

#define STALE_BINDING "stale handle: the binding no longer exists (its attach failed or it was " \
                      "detached and cleaned up);"

NMR_TEST(r9_stale_client_binding_handle_of_a_cleaned_up_binding_passed_to_nmr_client_attach_provider_stops)
{
    fake_begin();
    fake_bind_pair(pair);
    stale_binding_handle = side_of(FAKE_CLIENT)->handle;
    fake_unregister_ok(&P1); /* detached and cleaned up: the handle is stale */
    EXPECT_STOP(STOP("R9"), attach_with_stale_handle());
    check_stop_message("NmrClientAttachProvider", STALE_BINDING);
    fake_unregister_ok(&C1);
    fake_end();
}

NMR_TEST(r9_stale_client_binding_handle_of_a_declined_attach_passed_to_nmr_client_attach_provider_stops)
{
    fake_begin();
    fake_init_pair(pair);
    P1.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    P1.attach_status = STATUS_NOINTERFACE;
    fake_register_pair(pair);
    stale_binding_handle = side_of(FAKE_CLIENT)->handle; /* discarded after the decline */
    EXPECT_STOP(STOP("R9"), attach_with_stale_handle());
    check_stop_message("NmrClientAttachProvider", STALE_BINDING);
    fake_unbind_pair(pair);
    fake_end();
}

/* ---- how the stop line names the module (docs/behaviour.md "Output of the verifier") --- */

/* The role registers with module id type and value, deregisters twice: an R9 stop naming it. */
static void expect_stop_naming_module(fake_role_t role, NPI_MODULEID_TYPE type,
                                      const char *text)
{
    fake_init(self_of(role), role, "m1", &FAKE_NPI_A);
    self_of(role)->module_id.Type = type;
    self_of(role)->module_id.IfLuid.HighPart = 3;
    self_of(role)->module_id.IfLuid.LowPart = 7;
    fake_register_ok(self_of(role));
    CHECK_STATUS(fake_deregister(self_of(role)), STATUS_PENDING);
    EXPECT_STOP(STOP("R9"), fake_deregister_handle(role, self_of(role)->handle));
    CHECK_STOP_MENTIONS(text);
    CHECK_STATUS(fake_wait(self_of(role)), STATUS_SUCCESS);
}

NMR_TEST(stop_line_names_a_luid_module_as_luid_high_low)
{
    fake_begin();
    expect_stop_naming_module(FAKE_CLIENT, MIT_IF_LUID, "luid:3:7");
    fake_end();
}

NMR_TEST(stop_line_names_a_module_id_of_unknown_type_as_type_n)
{
    fake_begin();
    expect_stop_naming_module(FAKE_PROVIDER, (NPI_MODULEID_TYPE)6, "type6");
    fake_end();
}

NMR_TEST(r9_null_handle_passed_to_nmr_client_attach_provider_stops)
{
    fake_begin();
    stale_binding_handle = NULL;
    EXPECT_STOP(STOP("R9"), attach_with_stale_handle());
    check_stop_message("NmrClientAttachProvider", NEVER_ISSUED);
    fake_end();
}
