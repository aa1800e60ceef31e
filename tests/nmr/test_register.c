/* SPDX-License-Identifier: MIT */
/*
 * test_register.c - NmrRegisterClient / NmrRegisterProvider: every documented status
 * (spec 1.6, docs/behaviour.md "NmrRegisterClient / NmrRegisterProvider"), the R10
 * warnings that let the registration proceed, and handle uniqueness.
 *
 * Each invalid-parameter test keeps a valid peer registered, so a registration that was
 * wrongly accepted would show up as an attach callback.
 */
#include "fake_modules.h"

static void check_one_r10_warning(void)
{
    CHECK_EQ(nmr_verifier_warning_count(), 1);
    CHECK(nmr_verifier_last_warning_rule() != NULL);
    CHECK_STR(nmr_verifier_last_warning_rule(), "R10");
}

/* ---- success ---------------------------------------------------------------------------- */

NMR_ROLE_TEST(register_ROLE_returns_success_and_writes_a_handle)
{
    fake_begin();
    fake_module_t module;
    fake_init(&module, role, "m1", &FAKE_NPI_A);
    CHECK_STATUS(fake_register(&module), STATUS_SUCCESS);
    CHECK(module.handle != NULL);
    CHECK(module.handle != FAKE_HANDLE_SENTINEL);
    CHECK_EQ(nmr_live_object_count(), 1);
    CHECK_EQ(module.attach_calls, 0);
    CHECK_EQ(nmr_verifier_warning_count(), 0);
    fake_unregister_ok(&module);
    CHECK_LOG("m1.registered m1.deregistered m1.waited");
    fake_end();
}

NMR_TEST(client_and_provider_registrations_get_distinct_handles)
{
    fake_begin();
    fake_module_t c1, c2, p1;
    fake_client_init(&c1, "c1", &FAKE_NPI_A);
    fake_client_init(&c2, "c2", &FAKE_NPI_B);
    fake_provider_init(&p1, "p1", &FAKE_NPI_C);
    fake_register_ok(&c1);
    fake_register_ok(&c2);
    fake_register_ok(&p1);
    CHECK(c1.handle != c2.handle);
    CHECK(c1.handle != p1.handle);
    CHECK(c2.handle != p1.handle);
    CHECK_EQ(nmr_live_object_count(), 3);
    fake_unregister_ok(&c1);
    fake_unregister_ok(&c2);
    fake_unregister_ok(&p1);
    fake_end();
}

NMR_TEST(handles_are_not_reused_after_the_wait_returned)
{
    fake_begin();
    fake_module_t c;
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    HANDLE seen[4];
    for (int i = 0; i < 4; i++) {
        fake_register_ok(&c);
        seen[i] = c.handle;
        fake_unregister_ok(&c);
        for (int j = 0; j < i; j++) {
            CHECK(seen[j] != seen[i]);
        }
    }
    fake_end();
}

NMR_TEST(register_client_accepts_a_null_client_context)
{
    /* G-WSKI registers with a NULL context; here only the status and the handle matter. */
    fake_begin();
    fake_module_t c;
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    HANDLE handle = NULL;
    CHECK_STATUS(NmrRegisterClient(&c.cchars, NULL, &handle), STATUS_SUCCESS);
    CHECK(handle != NULL);
    CHECK_STATUS(NmrDeregisterClient(handle), STATUS_PENDING);
    CHECK_STATUS(NmrWaitForClientDeregisterComplete(handle), STATUS_SUCCESS);
    CHECK_EQ(nmr_verifier_warning_count(), 0);
    fake_end();
}

/* ---- STATUS_INVALID_PARAMETER ----------------------------------------------------------- */

/* What a registration breaks, for expect_refused. */
typedef enum broken {
    BROKEN_CHARACTERISTICS, /* NULL characteristics pointer */
    BROKEN_HANDLE_OUT,      /* NULL out handle */
    BROKEN_ATTACH,          /* NULL attach callback */
    BROKEN_DETACH,          /* NULL detach callback */
    BROKEN_NPI_ID,          /* NULL NpiId */
    BROKEN_MODULE_ID,       /* NULL ModuleId */
} broken_t;

static NTSTATUS register_broken(fake_module_t *module, broken_t broken)
{
    switch (broken) {
    case BROKEN_CHARACTERISTICS: {
        HANDLE handle = FAKE_HANDLE_SENTINEL;
        NTSTATUS status = module->role == FAKE_CLIENT ? NmrRegisterClient(NULL, NULL, &handle)
                                                      : NmrRegisterProvider(NULL, NULL, &handle);
        CHECK(handle == FAKE_HANDLE_SENTINEL);
        return status;
    }
    case BROKEN_HANDLE_OUT:
        return module->role == FAKE_CLIENT ? NmrRegisterClient(&module->cchars, module, NULL)
                                           : NmrRegisterProvider(&module->pchars, module, NULL);
    case BROKEN_ATTACH:
        fake_set_callback(module, FAKE_CALLBACK_ATTACH, false);
        break;
    case BROKEN_DETACH:
        fake_set_callback(module, FAKE_CALLBACK_DETACH, false);
        break;
    case BROKEN_NPI_ID:
        fake_instance_field(module)->NpiId = NULL;
        break;
    case BROKEN_MODULE_ID:
        fake_instance_field(module)->ModuleId = NULL;
        break;
    }
    NTSTATUS status = fake_register(module);
    CHECK(!module->registered);
    return status;
}

/* A registration of the role with one field broken is refused, with a valid peer
   registered: one R10 warning, nothing registered, no attach. */
static void expect_refused(fake_role_t role, broken_t broken)
{
    fake_begin();
    fake_module_t module, peer;
    fake_init(&peer, fake_other_role(role), "peer", &FAKE_NPI_A);
    fake_init(&module, role, "m1", &FAKE_NPI_A);
    fake_register_ok(&peer);
    CHECK_STATUS(register_broken(&module, broken), STATUS_INVALID_PARAMETER);
    check_one_r10_warning();
    CHECK_EQ(nmr_live_object_count(), 1);
    CHECK_EQ(peer.attach_calls, 0);
    CHECK_EQ(module.attach_calls, 0);
    fake_unregister_ok(&peer);
    CHECK_LOG("peer.registered peer.deregistered peer.waited");
    fake_end();
}

NMR_ROLE_TEST(register_ROLE_with_null_characteristics_returns_invalid_parameter)
{
    expect_refused(role, BROKEN_CHARACTERISTICS);
}

NMR_ROLE_TEST(register_ROLE_with_null_out_handle_returns_invalid_parameter)
{
    expect_refused(role, BROKEN_HANDLE_OUT);
}

NMR_ROLE_TEST(register_ROLE_without_attach_callback_returns_invalid_parameter)
{
    expect_refused(role, BROKEN_ATTACH);
}

NMR_ROLE_TEST(register_ROLE_without_detach_callback_returns_invalid_parameter)
{
    expect_refused(role, BROKEN_DETACH);
}

NMR_ROLE_TEST(register_ROLE_with_null_npi_id_returns_invalid_parameter)
{
    expect_refused(role, BROKEN_NPI_ID);
}

NMR_ROLE_TEST(register_ROLE_with_null_module_id_returns_invalid_parameter)
{
    expect_refused(role, BROKEN_MODULE_ID);
}

/* ---- STATUS_INSUFFICIENT_RESOURCES ------------------------------------------------------ */

NMR_TEST(register_client_returns_insufficient_resources_when_every_allocation_fails)
{
    fake_begin();
    fake_module_t c, p;
    fake_init_named(&FAKE_NPI_A, "p1 c1", &p, &c);
    fake_register_ok(&p);
    kshim_fault_plan_t plan = {KSHIM_FAULT_PERSISTENT, 1, NULL, 0};
    kshim_fault_set_plan(&plan);
    CHECK_STATUS(fake_register(&c), STATUS_INSUFFICIENT_RESOURCES);
    CHECK(kshim_fault_injected_calls() >= 1);
    kshim_fault_set_plan(NULL);
    CHECK_EQ(nmr_live_object_count(), 1);
    CHECK_EQ(c.attach_calls, 0);
    CHECK_EQ(p.attach_calls, 0);
    CHECK_LOG("p1.registered");
    /* nothing was left behind: the same module registers and binds afterwards */
    fake_register_ok(&c);
    CHECK_EQ(c.attach_successes, 1);
    fake_unregister_ok(&c);
    fake_unregister_ok(&p);
    fake_end();
}

NMR_TEST(register_provider_returns_insufficient_resources_when_the_first_allocation_fails)
{
    fake_begin();
    fake_module_t c1, c2, p;
    fake_init_named(&FAKE_NPI_A, "c1 c2 p1", &c1, &c2, &p);
    fake_register_ok(&c1);
    fake_register_ok(&c2);
    kshim_fault_plan_t plan = {KSHIM_FAULT_TRANSIENT, 1, NULL, 0};
    kshim_fault_set_plan(&plan);
    CHECK_STATUS(fake_register(&p), STATUS_INSUFFICIENT_RESOURCES);
    CHECK_EQ(kshim_fault_injected_calls(), 1);
    kshim_fault_set_plan(NULL);
    CHECK_EQ(nmr_live_object_count(), 2);
    CHECK_EQ(c1.attach_calls, 0);
    CHECK_EQ(c2.attach_calls, 0);
    CHECK_EQ(p.attach_calls, 0);
    fake_unregister_ok(&c1);
    fake_unregister_ok(&c2);
    CHECK_LOG("c1.registered c2.registered c1.deregistered c1.waited c2.deregistered c2.waited");
    fake_end();
}

NMR_TEST(register_provider_returns_insufficient_resources_when_the_last_allocation_fails)
{
    /* The last allocation of a registration with two clients present is a late one (e.g. a
       second binding): still no callback may have been made before it failed. */
    fake_begin();
    fake_module_t c1, c2, p;
    fake_init_named(&FAKE_NPI_A, "c1 c2 p1", &c1, &c2, &p);
    fake_register_ok(&c1);
    fake_register_ok(&c2);
    kshim_fault_plan_t count = {KSHIM_FAULT_OFF, 0, NULL, 0};
    kshim_fault_set_plan(&count);
    fake_register_ok(&p);
    unsigned long allocations = kshim_fault_eligible_calls();
    kshim_fault_set_plan(NULL);
    CHECK(allocations >= 1);
    fake_unregister_ok(&p);
    LONG attaches_before = c1.attach_calls + c2.attach_calls;

    kshim_fault_plan_t plan = {KSHIM_FAULT_TRANSIENT, allocations, NULL, 0};
    kshim_fault_set_plan(&plan);
    CHECK_STATUS(fake_register(&p), STATUS_INSUFFICIENT_RESOURCES);
    CHECK_EQ(kshim_fault_injected_calls(), 1);
    kshim_fault_set_plan(NULL);
    CHECK_EQ(c1.attach_calls + c2.attach_calls, attaches_before);
    CHECK_EQ(nmr_live_object_count(), 2);
    fake_unregister_ok(&c1);
    fake_unregister_ok(&c2);
    fake_end();
}

/* ---- R10 warnings: the registration proceeds -------------------------------------------- */

/* What a registration gets wrong that the real NMR tolerates, for expect_warned_and_bound. */
typedef enum wrong {
    WRONG_VERSION,       /* characteristics Version 1 */
    WRONG_LENGTH,        /* characteristics Length above sizeof (shorter: test_contract.c) */
    WRONG_INSTANCE_SIZE, /* instance Size 1 */
    WRONG_ID_LENGTH,     /* ModuleId Length 3 */
    WRONG_ID_TYPE,       /* ModuleId Type 7 */
} wrong_t;

/* The role registers (with one "should" field wrong) after a valid peer: one R10 warning,
   and the registration binds normally. */
static void expect_warned_and_bound(fake_role_t role, wrong_t wrong)
{
    fake_begin();
    fake_module_t module, peer;
    fake_init(&peer, fake_other_role(role), "peer", &FAKE_NPI_A);
    fake_init(&module, role, "m1", &FAKE_NPI_A);
    switch (wrong) {
    case WRONG_VERSION:
        *fake_version_field(&module) = 1;
        break;
    case WRONG_LENGTH:
        *fake_length_field(&module) = sizeof(NPI_CLIENT_CHARACTERISTICS) + 8;
        break;
    case WRONG_INSTANCE_SIZE:
        fake_instance_field(&module)->Size = 1;
        break;
    case WRONG_ID_LENGTH:
        module.module_id.Length = 3;
        break;
    case WRONG_ID_TYPE:
        module.module_id.Type = (NPI_MODULEID_TYPE)7;
        break;
    }
    fake_register_ok(&peer);
    CHECK_STATUS(fake_register(&module), STATUS_SUCCESS);
    check_one_r10_warning();
    CHECK_EQ(module.attach_successes, 1);
    CHECK_EQ(peer.attach_successes, 1);
    fake_unregister_ok(&module);
    fake_unregister_ok(&peer);
    CHECK_EQ(nmr_verifier_warning_count(), 1);
    fake_end();
}

NMR_ROLE_TEST(ROLE_characteristics_version_nonzero_warns_r10_and_registers)
{
    expect_warned_and_bound(role, WRONG_VERSION);
}

NMR_TEST(client_characteristics_wrong_length_warns_r10_and_registers)
{
    expect_warned_and_bound(FAKE_CLIENT, WRONG_LENGTH);
}

NMR_TEST(registration_instance_wrong_size_warns_r10_and_registers)
{
    expect_warned_and_bound(FAKE_CLIENT, WRONG_INSTANCE_SIZE);
}

NMR_TEST(module_id_wrong_length_warns_r10_and_registers)
{
    expect_warned_and_bound(FAKE_CLIENT, WRONG_ID_LENGTH);
}

NMR_TEST(module_id_of_unknown_type_warns_r10_and_registers)
{
    expect_warned_and_bound(FAKE_CLIENT, WRONG_ID_TYPE);
}

NMR_TEST(instance_version_number_and_npi_specific_data_are_accepted_without_warning)
{
    fake_begin();
    static const int npi_specific = 42;
    fake_module_t c, p;
    fake_init_named(&FAKE_NPI_A, "c1 p1", &c, &p);
    c.cchars.ClientRegistrationInstance.Version = 1; /* as XDP registers */
    c.cchars.ClientRegistrationInstance.Number = 77;
    c.cchars.ClientRegistrationInstance.NpiSpecificCharacteristics = &npi_specific;
    p.pchars.ProviderRegistrationInstance.Version = 1;
    p.pchars.ProviderRegistrationInstance.Number = 5;
    fake_register_ok(&c);
    fake_register_ok(&p);
    CHECK_EQ(nmr_verifier_warning_count(), 0);
    CHECK_EQ(c.attach_successes, 1);
    fake_unregister_ok(&c);
    fake_unregister_ok(&p);
    CHECK_EQ(nmr_verifier_warning_count(), 0);
    fake_end();
}

NMR_TEST(module_id_by_interface_luid_is_accepted_without_warning)
{
    fake_begin();
    fake_module_t c, p;
    fake_init_named(&FAKE_NPI_A, "c1 p1", &c, &p);
    c.module_id.Type = MIT_IF_LUID;
    c.module_id.IfLuid.LowPart = 12;
    c.module_id.IfLuid.HighPart = 3;
    fake_register_ok(&c);
    fake_register_ok(&p);
    CHECK_EQ(nmr_verifier_warning_count(), 0);
    CHECK_EQ(c.attach_successes, 1);
    fake_unregister_ok(&p);
    fake_unregister_ok(&c);
    fake_end();
}

/* ---- pool tags (docs/behaviour.md "Pool tags") ------------------------------------------ */

NMR_TEST(registrations_and_bindings_use_their_documented_pool_tags)
{
    /* every pool allocation of the core carries 'gRmN' (registrations) or 'dBmN' (bindings),
       and each registration / binding costs the same */
    fake_begin();
    const ULONG registration_tag = 'gRmN';
    const ULONG binding_tag = 'dBmN';
    fake_module_t c1, c2, p;
    fake_init_named(&FAKE_NPI_A, "c1 c2 p1", &c1, &c2, &p);
    fake_register_ok(&c1);
    size_t per_registration = kshim_pool_live_count_by_tag(registration_tag);
    CHECK(per_registration > 0);
    fake_register_ok(&c2);
    CHECK_EQ(kshim_pool_live_count_by_tag(registration_tag), 2 * per_registration);
    CHECK_EQ(kshim_pool_live_count_by_tag(binding_tag), 0);
    fake_register_ok(&p);
    size_t bindings = kshim_pool_live_count_by_tag(binding_tag);
    CHECK(bindings > 0 && bindings % 2 == 0);
    CHECK_EQ(kshim_pool_live_count_by_tag(registration_tag), 3 * per_registration);
    CHECK_EQ(kshim_pool_live_count(), fake_pool_baseline() + 3 * per_registration + bindings);
    fake_unregister_ok(&p);
    CHECK_EQ(kshim_pool_live_count_by_tag(registration_tag), 2 * per_registration);
    CHECK_EQ(kshim_pool_live_count_by_tag(binding_tag), 0);
    fake_unregister_ok(&c1);
    fake_unregister_ok(&c2);
    CHECK_EQ(kshim_pool_live_count_by_tag(registration_tag), 0);
    fake_end();
}
