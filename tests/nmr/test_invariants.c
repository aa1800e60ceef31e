/* SPDX-License-Identifier: MIT */
/*
 * test_invariants.c - nmr_check_invariants: it returns what nmr_live_object_count() counts,
 * and each of its stops fires on a registrar state broken by hand after an earlier walk
 * passed (its "listed in its role" check marks registrations per walk: a mark left by an
 * earlier walk must not pass for listed).
 *
 * White-box: includes nmr_internal.h to break the registrar's lists and counts directly. A
 * caught stop leaves the registrar lock acquired; the test puts the state back and starts
 * afresh with fake_begin (nmr_reset), which drops every listed object.
 */
#include "fake_modules.h"
#include "nmr_internal.h"

static fake_module_t c, p, c2;

static void check_invariants(void *arg)
{
    (void)arg;
    nmr_check_invariants();
}

/* The stop nmr_check_invariants makes now is an INTERNAL one with message. */
static void check_invariants_stop(const char *message)
{
    const char *caught = fake_catch_stop(check_invariants, NULL);
    if (caught == NULL) {
        nmr_test_fail(__FILE__, __LINE__, "nmr_check_invariants() did not stop; expected \"%s\"",
                      message);
    }
    char text[160];
    snprintf(text, sizeof text, "*** NMR VERIFIER STOP INTERNAL: nmr_check_invariants: %s",
             message);
    if (!fake_text_contains(caught, text)) {
        nmr_test_fail(__FILE__, __LINE__, "no \"%s\" in:\n%s", text, caught);
    }
}

static nmr_registration_t *first_of(PLIST_ENTRY head)
{
    CHECK(!IsListEmpty(head));
    return CONTAINING_RECORD(head->Flink, nmr_registration_t, link);
}

/* c and p bound on NPI A; one walk passed. */
static void begin_bound_pair(void)
{
    fake_begin();
    fake_init_named(&FAKE_NPI_A, "c1 p1", &c, &p);
    fake_register_ok(&p);
    fake_register_ok(&c);
    CHECK_EQ(nmr_check_invariants(), 3);
}

NMR_TEST(check_invariants_returns_the_live_object_count_in_every_state)
{
    fake_begin();
    fake_init_named(&FAKE_NPI_A, "c1 c2 p1", &c, &c2, &p);
    p.detach_mode = FAKE_DETACH_PENDING;
    CHECK_EQ(nmr_check_invariants(), 0);
    fake_register_ok(&c);
    CHECK_EQ(nmr_check_invariants(), 1);
    fake_register_ok(&p);
    fake_register_ok(&c2);
    CHECK_EQ(nmr_live_object_count(), 5);
    CHECK_EQ(nmr_check_invariants(), 5);
    CHECK_STATUS(fake_deregister(&c), STATUS_PENDING); /* c-p detaching, p's side pending */
    CHECK_EQ(nmr_check_invariants(), nmr_live_object_count());
    fake_complete(fake_binding_between(&p, &c));
    CHECK_EQ(nmr_check_invariants(), 4);
    CHECK_STATUS(fake_wait(&c), STATUS_SUCCESS);
    CHECK_EQ(nmr_check_invariants(), 3);
    p.detach_mode = FAKE_DETACH_SUCCESS;
    fake_unregister_ok(&p);
    CHECK_EQ(nmr_check_invariants(), 1);
    fake_unregister_ok(&c2);
    CHECK_EQ(nmr_check_invariants(), 0);
    fake_end();
}

NMR_TEST(check_invariants_stops_on_a_binding_whose_provider_left_its_list_since_the_last_walk)
{
    begin_bound_pair();
    nmr_registration_t *provider = first_of(&nmr_registrar.providers);
    RemoveEntryList(&provider->link); /* still named by the binding, marked by the last walk */
    check_invariants_stop("binding names a registration that is not listed in its role");
    InsertTailList(&nmr_registrar.providers, &provider->link);
    CHECK_EQ(nmr_reset(), 3);
    fake_begin();
    fake_end();
}

NMR_TEST(check_invariants_stops_on_a_client_listed_among_the_providers)
{
    begin_bound_pair();
    nmr_registration_t *client = first_of(&nmr_registrar.clients);
    RemoveEntryList(&client->link);
    InsertTailList(&nmr_registrar.providers, &client->link);
    check_invariants_stop("a client registration is listed among the providers");
    CHECK_EQ(nmr_reset(), 3);
    fake_begin();
    fake_end();
}

/* Without a binding, nothing else names it: only the list's own role tells. */
NMR_TEST(check_invariants_stops_on_an_unbound_provider_listed_among_the_clients)
{
    fake_begin();
    fake_init_named(&FAKE_NPI_A, "p1", &p);
    fake_register_ok(&p);
    CHECK_EQ(nmr_check_invariants(), 1);
    nmr_registration_t *provider = first_of(&nmr_registrar.providers);
    RemoveEntryList(&provider->link);
    InsertTailList(&nmr_registrar.clients, &provider->link);
    check_invariants_stop("a provider registration is listed among the clients");
    CHECK_EQ(nmr_reset(), 1);
    fake_begin();
    fake_end();
}

NMR_TEST(check_invariants_stops_on_a_binding_count_that_disagrees_with_the_bindings)
{
    begin_bound_pair();
    nmr_registration_t *client = first_of(&nmr_registrar.clients);
    client->binding_count++;
    check_invariants_stop("binding_count is 2 but 1 bindings name the registration");
    CHECK_EQ(nmr_reset(), 3);
    begin_bound_pair();
    nmr_registration_t *provider = first_of(&nmr_registrar.providers);
    provider->binding_count--;
    check_invariants_stop("binding_count is 0 but 1 bindings name the registration");
    CHECK_EQ(nmr_reset(), 3);
    fake_begin();
    fake_end();
}

NMR_TEST(check_invariants_stops_on_a_binding_with_a_side_in_detach_while_attached)
{
    begin_bound_pair();
    nmr_binding_t *binding = CONTAINING_RECORD(nmr_registrar.bindings.Flink, nmr_binding_t, link);
    binding->provider_side.state = NMR_SIDE_PENDING;
    check_invariants_stop("binding not detaching has a side in detach (state ATTACHED)");
    CHECK_EQ(nmr_reset(), 3);
    fake_begin();
    fake_end();
}
