/* SPDX-License-Identifier: MIT */
/*
 * test_transitions.c - nmr_set_transition_observer: every state change of a registration,
 * a binding and each binding side is reported once, creation and destruction included
 * (what fuzz targets count as extra coverage).
 */
#include <string.h>

#include "fake_modules.h"
#include "nmr_test.h"

static ULONG transitions;
static ULONG seen[NMR_TRANSITION_ID_LIMIT];

static VOID record(ULONG id)
{
    CHECK(id < NMR_TRANSITION_ID_LIMIT);
    transitions++;
    seen[id]++;
}

static ULONG distinct(void)
{
    ULONG n = 0;
    for (ULONG i = 0; i < NMR_TRANSITION_ID_LIMIT; i++) {
        n += seen[i] != 0;
    }
    return n;
}

static fake_module_t c, p;

static void observe(void)
{
    transitions = 0;
    memset(seen, 0, sizeof(seen));
    nmr_set_transition_observer(record);
}

NMR_TEST(an_attach_detach_cycle_reports_every_transition_once)
{
    fake_begin();
    observe();
    fake_init_named(&FAKE_NPI_A, "c1 p1", &c, &p);
    fake_register_ok(&p);
    fake_register_ok(&c);
    fake_unregister_ok(&c);
    fake_unregister_ok(&p);
    nmr_set_transition_observer(NULL);
    /* registrations: none->active, active->deregistering, deregistering->gone (x2);
       binding: none->proposed->attaching->attached->detaching->cleaning up->gone;
       each side: not detaching->queued->in detach->complete */
    CHECK_EQ(transitions, 6 + 6 + 6);
    CHECK_EQ(distinct(), 3 + 6 + 6);
    fake_end();
}

NMR_TEST(a_pending_side_reports_its_extra_transitions)
{
    fake_begin();
    observe();
    fake_init_named(&FAKE_NPI_A, "c1 p1", &c, &p);
    c.detach_mode = FAKE_DETACH_PENDING;
    fake_register_ok(&p);
    fake_register_ok(&c);
    CHECK_STATUS(fake_deregister(&c), STATUS_PENDING);
    fake_complete(fake_binding_between(&c, &p));
    CHECK_STATUS(fake_wait(&c), STATUS_SUCCESS);
    fake_unregister_ok(&p);
    nmr_set_transition_observer(NULL);
    /* the client side goes in detach->pending->complete instead of in detach->complete */
    CHECK_EQ(transitions, 6 + 6 + 7);
    CHECK_EQ(distinct(), 3 + 6 + 7);
    fake_end();
}

NMR_TEST(a_declined_attach_reports_the_discarded_binding)
{
    fake_begin();
    observe();
    fake_init_named(&FAKE_NPI_A, "c1 p1", &c, &p);
    p.attach_mode = FAKE_ATTACH_RETURN_STATUS;
    p.attach_status = STATUS_NOINTERFACE;
    fake_register_ok(&p);
    fake_register_ok(&c);
    fake_unregister_ok(&c);
    fake_unregister_ok(&p);
    nmr_set_transition_observer(NULL);
    /* binding: none->proposed->attaching->gone; no side transitions */
    CHECK_EQ(transitions, 6 + 3);
    CHECK_EQ(distinct(), 3 + 3);
    fake_end();
}
