/* SPDX-License-Identifier: MIT */
/*
 * test_matching.c - which registrations bind (spec 1.2, 2.1, 5.10; docs/behaviour.md
 * "NmrRegisterClient / NmrRegisterProvider"): the NpiId value is the only field compared;
 * several peers and several NPIs; deregistering registrations are not matched.
 */
#include "fake_modules.h"

NMR_TEST(different_number_module_id_version_and_npi_specific_data_still_bind)
{
    fake_begin();
    static const int client_specific = 1, provider_specific = 2;
    fake_module_t c, p;
    fake_init_named(&FAKE_NPI_A, "c1 p1", &c, &p);
    c.cchars.ClientRegistrationInstance.Number = 1;
    c.cchars.ClientRegistrationInstance.Version = 1;
    c.cchars.ClientRegistrationInstance.NpiSpecificCharacteristics = &client_specific;
    p.pchars.ProviderRegistrationInstance.Number = 2;
    p.pchars.ProviderRegistrationInstance.Version = 0;
    p.pchars.ProviderRegistrationInstance.NpiSpecificCharacteristics = &provider_specific;
    p.module_id.Type = MIT_IF_LUID;
    p.module_id.IfLuid.LowPart = 9;
    p.module_id.IfLuid.HighPart = 0;
    fake_register_ok(&c);
    fake_register_ok(&p);
    CHECK_EQ(c.attach_successes, 1);
    CHECK_EQ(p.attach_successes, 1);
    fake_binding_t *cb = fake_binding_between(&c, &p);
    CHECK(cb != NULL);
    CHECK(cb->peer_instance->NpiSpecificCharacteristics == &provider_specific);
    CHECK_EQ(cb->peer_instance->Number, 2);
    fake_unregister_ok(&c);
    fake_unregister_ok(&p);
    fake_end();
}

NMR_TEST(different_npi_ids_never_bind_in_either_order)
{
    fake_begin();
    fake_module_t c1, p1, c2;
    fake_client_init(&c1, "c1", &FAKE_NPI_A);
    fake_provider_init(&p1, "p1", &FAKE_NPI_B);
    fake_client_init(&c2, "c2", &FAKE_NPI_C);
    fake_register_ok(&c1);
    fake_register_ok(&p1);
    fake_register_ok(&c2);
    CHECK_EQ(c1.attach_calls + p1.attach_calls + c2.attach_calls, 0);
    CHECK_EQ(nmr_live_object_count(), 3);
    fake_unregister_ok(&p1);
    fake_unregister_ok(&c1);
    fake_unregister_ok(&c2);
    CHECK_LOG("c1.registered p1.registered c2.registered p1.deregistered p1.waited c1.deregistered "
              "c1.waited c2.deregistered c2.waited");
    fake_end();
}

NMR_TEST(npi_ids_differing_only_in_the_last_byte_do_not_bind)
{
    fake_begin();
    static NPIID almost_a;
    almost_a = FAKE_NPI_A;
    almost_a.Data4[7] ^= 0x01;
    fake_module_t c, p;
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &almost_a);
    fake_register_ok(&p);
    fake_register_ok(&c);
    CHECK_EQ(c.attach_calls + p.attach_calls, 0);
    fake_unregister_ok(&c);
    fake_unregister_ok(&p);
    fake_end();
}

NMR_TEST(npi_ids_differing_only_in_the_first_field_do_not_bind)
{
    fake_begin();
    static NPIID almost_a;
    almost_a = FAKE_NPI_A;
    almost_a.Data1 ^= 0x80000000u;
    fake_module_t c, p;
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &almost_a);
    fake_register_ok(&c);
    fake_register_ok(&p);
    CHECK_EQ(c.attach_calls + p.attach_calls, 0);
    fake_unregister_ok(&c);
    fake_unregister_ok(&p);
    fake_end();
}

NMR_TEST(equal_npi_id_values_at_different_addresses_bind)
{
    fake_begin();
    static NPIID copy_of_a;
    copy_of_a = FAKE_NPI_A;
    fake_module_t c, p;
    fake_client_init(&c, "c1", &FAKE_NPI_A);
    fake_provider_init(&p, "p1", &copy_of_a);
    CHECK(c.cchars.ClientRegistrationInstance.NpiId != p.pchars.ProviderRegistrationInstance.NpiId);
    fake_register_ok(&p);
    fake_register_ok(&c);
    CHECK_EQ(c.attach_successes, 1);
    CHECK_EQ(p.attach_successes, 1);
    fake_unregister_ok(&c);
    fake_unregister_ok(&p);
    fake_end();
}

NMR_TEST(two_clients_and_three_providers_of_one_npi_make_six_bindings)
{
    fake_begin();
    fake_module_t c1, c2, p1, p2, p3;
    fake_init_named(&FAKE_NPI_A, "c1 c2 p1 p2 p3", &c1, &c2, &p1, &p2, &p3);
    fake_register_ok(&p1);
    fake_register_ok(&c1);
    fake_register_ok(&p2);
    fake_register_ok(&c2);
    fake_register_ok(&p3);
    CHECK_EQ(c1.attach_successes, 3);
    CHECK_EQ(c2.attach_successes, 3);
    CHECK_EQ(p1.attach_successes, 2);
    CHECK_EQ(p2.attach_successes, 2);
    CHECK_EQ(p3.attach_successes, 2);
    CHECK_EQ(nmr_live_object_count(), 5 + 6);
    fake_module_t *clients[] = {&c1, &c2};
    fake_module_t *providers[] = {&p1, &p2, &p3};
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 3; j++) {
            fake_binding_t *cb = fake_binding_between(clients[i], providers[j]);
            fake_binding_t *pb = fake_binding_between(providers[j], clients[i]);
            CHECK(cb != NULL && pb != NULL);
            CHECK(cb->peer_binding_context == pb);
            CHECK(pb->peer_binding_context == cb);
        }
    }
    /* one provider leaves: exactly its two bindings are detached */
    fake_unregister_ok(&p2);
    CHECK_EQ(p2.detach_calls, 2);
    CHECK_EQ(c1.detach_calls, 1);
    CHECK_EQ(c2.detach_calls, 1);
    CHECK_EQ(p1.detach_calls + p3.detach_calls, 0);
    CHECK_EQ(nmr_live_object_count(), 4 + 4);
    fake_unregister_ok(&c1);
    fake_unregister_ok(&c2);
    fake_unregister_ok(&p1);
    fake_unregister_ok(&p3);
    CHECK_EQ(c1.detach_calls, 3);
    CHECK_EQ(c2.detach_calls, 3);
    CHECK_EQ(c1.cleanup_calls + c2.cleanup_calls, 6);
    CHECK_EQ(p1.cleanup_calls + p2.cleanup_calls + p3.cleanup_calls, 6);
    fake_end();
}

NMR_TEST(a_module_registered_for_two_npis_binds_each_registration_only_with_its_npi)
{
    fake_begin();
    /* module X: client of NPI A and provider of NPI B, one module id for both */
    fake_module_t x_client, x_provider, pa, cb_client;
    fake_client_init(&x_client, "xa", &FAKE_NPI_A);
    fake_provider_init(&x_provider, "xb", &FAKE_NPI_B);
    x_provider.module_id = x_client.module_id;
    fake_provider_init(&pa, "pa", &FAKE_NPI_A);
    fake_client_init(&cb_client, "cb", &FAKE_NPI_B);
    fake_register_ok(&x_client);
    fake_register_ok(&x_provider);
    fake_register_ok(&pa);
    fake_register_ok(&cb_client);
    CHECK_LOG("xa.registered xb.registered xa.attach(pa) pa.attach(xa) pa.registered "
              "cb.attach(xb) xb.attach(cb) cb.registered");
    CHECK(x_client.handle != x_provider.handle);
    fake_log_clear();
    fake_unregister_ok(&x_client);
    CHECK_LOG("xa.detach(pa) pa.detach(xa) xa.cleanup(pa) pa.cleanup(xa) xa.deregistered xa.waited");
    CHECK_EQ(x_provider.detach_calls, 0);
    fake_unregister_ok(&x_provider);
    fake_unregister_ok(&pa);
    fake_unregister_ok(&cb_client);
    fake_end();
}

NMR_TEST(a_module_registered_as_client_of_two_npis_binds_each_with_its_own_provider)
{
    fake_begin();
    fake_module_t xa, xb, pa, pb;
    fake_client_init(&xa, "xa", &FAKE_NPI_A);
    fake_client_init(&xb, "xb", &FAKE_NPI_B);
    xb.module_id = xa.module_id;
    fake_provider_init(&pa, "pa", &FAKE_NPI_A);
    fake_provider_init(&pb, "pb", &FAKE_NPI_B);
    fake_register_ok(&pa);
    fake_register_ok(&pb);
    fake_register_ok(&xa);
    fake_register_ok(&xb);
    CHECK_LOG("pa.registered pb.registered xa.attach(pa) pa.attach(xa) xa.registered xb.attach(pb) "
              "pb.attach(xb) xb.registered");
    fake_unregister_ok(&pa);
    fake_unregister_ok(&pb);
    CHECK_EQ(xa.detach_calls, 1);
    CHECK_EQ(xb.detach_calls, 1);
    fake_unregister_ok(&xa);
    fake_unregister_ok(&xb);
    fake_end();
}

/* The peer stays deregistering (its binding with an earlier ROLE module is pending) while a
   new ROLE module registers: no attach is offered. */
NMR_ROLE_TEST(a_deregistering_PEER_is_not_offered_to_a_new_ROLE)
{
    fake_begin();
    fake_role_t other = fake_other_role(role);
    fake_module_t first, second, peer;
    fake_init(&first, role, "first", &FAKE_NPI_A);
    fake_init(&second, role, "second", &FAKE_NPI_A);
    fake_init(&peer, other, "peer", &FAKE_NPI_A);
    first.detach_mode = FAKE_DETACH_PENDING; /* keeps the peer deregistering */
    fake_register_ok(&first);
    fake_register_ok(&peer);
    CHECK_STATUS(fake_deregister(&peer), STATUS_PENDING);
    fake_register_ok(&second);
    CHECK_EQ(second.attach_calls, 0);
    CHECK_EQ(peer.attach_calls, 1);
    fake_complete(fake_binding_between(&first, &peer));
    CHECK_STATUS(fake_wait(&peer), STATUS_SUCCESS);
    fake_unregister_ok(&first);
    fake_unregister_ok(&second);
    fake_end();
}

