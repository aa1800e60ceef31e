/* SPDX-License-Identifier: MIT */
/*
 * test_churn.c - real-thread tests (label "threads"; run them under TSan with
 * -DNMRKIT_SANITIZERS=thread). Worker kshim threads register, deregister and wait for
 * clients and providers of two NPIs in loops while a completer thread delivers the pending
 * detach completions; at the end every count must balance and the registrar must be empty.
 *
 * All synchronization of the test itself goes through shim primitives (KEVENT, KSPIN_LOCK,
 * Interlocked*); the event log is off, so that the test adds no ordering of its own between
 * the threads that run callbacks.
 */
#include "fake_modules.h"

#include <stdio.h>

#define CHURN_WORKERS 6
#define CHURN_ITERATIONS 120

typedef struct {
    fake_module_t module;
    KEVENT *start;
    volatile LONG errors;
    volatile LONG done;
} worker_t;

static void churn_worker(void *arg)
{
    worker_t *worker = arg;
    KeWaitForSingleObject(worker->start, Executive, KernelMode, FALSE, NULL);
    for (int i = 0; i < CHURN_ITERATIONS; i++) {
        NTSTATUS status = fake_register(&worker->module);
        if (status != STATUS_SUCCESS) {
            fprintf(stderr, "%s: register returned 0x%08x\n", worker->module.name, (unsigned)status);
            InterlockedIncrement(&worker->errors);
            continue;
        }
        if (i % 4 == 1) {
            fake_sleep_ms(1); /* let peers come and go while registered */
        }
        status = fake_deregister(&worker->module);
        if (status != STATUS_PENDING) {
            fprintf(stderr, "%s: deregister returned 0x%08x\n", worker->module.name, (unsigned)status);
            InterlockedIncrement(&worker->errors);
        }
        status = fake_wait(&worker->module);
        if (status != STATUS_SUCCESS) {
            fprintf(stderr, "%s: wait returned 0x%08x\n", worker->module.name, (unsigned)status);
            InterlockedIncrement(&worker->errors);
        }
    }
    InterlockedExchange(&worker->done, 1);
}

static bool all_done(worker_t *workers, int count)
{
    for (int i = 0; i < count; i++) {
        if (!InterlockedCompareExchange(&workers[i].done, 0, 0)) {
            return false;
        }
    }
    return true;
}

NMR_TEST(churn_of_clients_and_providers_of_two_npis_balances_every_count)
{
    fake_begin();
    fake_log_set_enabled(false);
    fake_completer_start();
    static worker_t workers[CHURN_WORKERS];
    static const struct {
        const char *name;
        fake_role_t role;
        PNPIID npi;
        fake_attach_mode_t attach;
    } plan[CHURN_WORKERS] = {
        {"ca1", FAKE_CLIENT, &FAKE_NPI_A, FAKE_ATTACH_ACCEPT},
        {"ca2", FAKE_CLIENT, &FAKE_NPI_A, FAKE_ATTACH_ACCEPT},
        {"pa1", FAKE_PROVIDER, &FAKE_NPI_A, FAKE_ATTACH_ACCEPT},
        {"cb1", FAKE_CLIENT, &FAKE_NPI_B, FAKE_ATTACH_ACCEPT},
        {"pb1", FAKE_PROVIDER, &FAKE_NPI_B, FAKE_ATTACH_MIXED},
        {"pb2", FAKE_PROVIDER, &FAKE_NPI_B, FAKE_ATTACH_ACCEPT},
    };
    KEVENT start;
    KeInitializeEvent(&start, NotificationEvent, FALSE);
    kshim_thread_t *threads[CHURN_WORKERS];
    for (int i = 0; i < CHURN_WORKERS; i++) {
        worker_t *worker = &workers[i];
        if (plan[i].role == FAKE_CLIENT) {
            fake_client_init(&worker->module, plan[i].name, plan[i].npi);
        } else {
            fake_provider_init(&worker->module, plan[i].name, plan[i].npi);
        }
        worker->module.attach_mode = plan[i].attach;
        worker->module.detach_mode = FAKE_DETACH_MIXED;
        worker->start = &start;
        worker->errors = 0;
        worker->done = 0;
    }
    for (int i = 0; i < CHURN_WORKERS; i++) {
        threads[i] = kshim_thread_start(plan[i].name, churn_worker, &workers[i]);
    }
    KeSetEvent(&start, IO_NO_INCREMENT, FALSE);
    /* the invariants must hold at any moment, not only when quiet */
    int checks = 0;
    while (!all_done(workers, CHURN_WORKERS)) {
        nmr_check_invariants();
        checks++;
        fake_sleep_ms(2);
    }
    for (int i = 0; i < CHURN_WORKERS; i++) {
        kshim_thread_join(threads[i]);
    }
    fake_completer_stop();
    fake_log_set_enabled(true);

    LONG client_attaches = 0, provider_attaches = 0;
    for (int i = 0; i < CHURN_WORKERS; i++) {
        fake_module_t *module = &workers[i].module;
        CHECK_EQ(workers[i].errors, 0);
        CHECK(!module->registered);
        if (module->attach_successes != module->detach_calls ||
            module->detach_calls != module->cleanup_calls) {
            nmr_test_fail(__FILE__, __LINE__,
                          "%s: %ld attach successes, %ld detaches, %ld cleanups", module->name,
                          (long)module->attach_successes, (long)module->detach_calls,
                          (long)module->cleanup_calls);
        }
        if (module->role == FAKE_CLIENT) {
            client_attaches += module->attach_successes;
        } else {
            provider_attaches += module->attach_successes;
        }
    }
    CHECK_EQ(client_attaches, provider_attaches);
    CHECK(client_attaches > 0);

    /* per binding record: exactly one detach and one cleanup after a successful attach, none
       after a failed one, and one completion for every pending detach */
    LONG pending_detaches = 0, completions = 0;
    for (LONG i = 0; i < fake_binding_record_count(); i++) {
        fake_binding_t *record = fake_binding_record(i);
        if (record->state == FB_FAILED) {
            CHECK_EQ(record->detach_calls + record->cleanup_calls + record->complete_calls, 0);
            continue;
        }
        CHECK_EQ(record->state, FB_CLEANED);
        CHECK_EQ(record->detach_calls, 1);
        CHECK_EQ(record->cleanup_calls, 1);
        CHECK_EQ(record->complete_calls, record->index % 3 == 0 ? 0 : 1);
        pending_detaches += record->index % 3 != 0;
        completions += record->complete_calls;
    }
    CHECK_EQ(completions, pending_detaches);
    CHECK(fake_completer_completed() > 0);
    nmr_check_invariants();
    printf("churn: %ld bindings, %ld pending detaches, %d invariant checks\n", (long)client_attaches,
           (long)pending_detaches, checks);
    fake_end();
}

/* ---- concurrent registrations: every overlapping pair binds exactly once --------------- */

#define RACE_CLIENTS 4
#define RACE_PROVIDERS 2
#define RACE_ROUNDS 15

typedef struct {
    fake_module_t *module;
    KEVENT *start;
    NTSTATUS status;
} racer_t;

static void racer_main(void *arg)
{
    racer_t *racer = arg;
    KeWaitForSingleObject(racer->start, Executive, KernelMode, FALSE, NULL);
    racer->status = fake_register(racer->module);
}

NMR_TEST(concurrent_registrations_bind_every_client_provider_pair_exactly_once)
{
    static const char *const client_names[RACE_CLIENTS] = {"c1", "c2", "c3", "c4"};
    static const char *const provider_names[RACE_PROVIDERS] = {"p1", "p2"};
    for (int round = 0; round < RACE_ROUNDS; round++) {
        fake_begin();
        fake_log_set_enabled(false);
        fake_module_t clients[RACE_CLIENTS], providers[RACE_PROVIDERS];
        racer_t racers[RACE_CLIENTS + RACE_PROVIDERS];
        kshim_thread_t *threads[RACE_CLIENTS + RACE_PROVIDERS];
        KEVENT start;
        KeInitializeEvent(&start, NotificationEvent, FALSE);
        for (int i = 0; i < RACE_CLIENTS; i++) {
            fake_client_init(&clients[i], client_names[i], &FAKE_NPI_A);
            racers[i].module = &clients[i];
        }
        for (int i = 0; i < RACE_PROVIDERS; i++) {
            fake_provider_init(&providers[i], provider_names[i], &FAKE_NPI_A);
            racers[RACE_CLIENTS + i].module = &providers[i];
        }
        for (int i = 0; i < RACE_CLIENTS + RACE_PROVIDERS; i++) {
            racers[i].start = &start;
            racers[i].status = -1;
            threads[i] = kshim_thread_start(racers[i].module->name, racer_main, &racers[i]);
        }
        KeSetEvent(&start, IO_NO_INCREMENT, FALSE);
        for (int i = 0; i < RACE_CLIENTS + RACE_PROVIDERS; i++) {
            kshim_thread_join(threads[i]);
            CHECK_STATUS(racers[i].status, STATUS_SUCCESS);
        }
        for (int i = 0; i < RACE_CLIENTS; i++) {
            CHECK_EQ(clients[i].attach_successes, RACE_PROVIDERS);
            for (int j = 0; j < RACE_PROVIDERS; j++) {
                fake_binding_t *record = fake_binding_between(&clients[i], &providers[j]);
                CHECK(record != NULL);
            }
        }
        for (int j = 0; j < RACE_PROVIDERS; j++) {
            CHECK_EQ(providers[j].attach_successes, RACE_CLIENTS);
        }
        CHECK_EQ(nmr_live_object_count(), RACE_CLIENTS + RACE_PROVIDERS + RACE_CLIENTS * RACE_PROVIDERS);
        nmr_check_invariants();
        for (int i = 0; i < RACE_CLIENTS; i++) {
            fake_unregister_ok(&clients[i]);
        }
        for (int j = 0; j < RACE_PROVIDERS; j++) {
            fake_unregister_ok(&providers[j]);
            CHECK_EQ(providers[j].detach_calls, RACE_CLIENTS);
        }
        fake_end();
    }
}
