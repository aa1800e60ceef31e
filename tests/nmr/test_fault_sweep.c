/* SPDX-License-Identifier: MIT */
/*
 * test_fault_sweep.c - allocation-failure sweeps (label "fault"), in the style of SQLite's
 * and OpenSSL's mfail tests: run a scenario once with the fault plan OFF to count the
 * eligible (fallible) calls N, then for i = 1..N run it again with the i-th call failing
 * once (TRANSIENT) and from then on (PERSISTENT).
 *
 * Every run checks: no crash; NmrRegister* returns STATUS_INSUFFICIENT_RESOURCES if and
 * only if a failure was injected during that call (kshim_fault_injected_calls), and
 * STATUS_SUCCESS otherwise; a failed registration makes no callback at all (the event log
 * is unchanged) and leaves nothing registered; deregister, detach and wait never allocate;
 * after deregistering and waiting for whatever registered, no NMR object is live and the
 * pool is back to its baseline (fake_end).
 *
 * fault_sweep_reaches_every_allocation_site_of_the_core compares the sites seen by the
 * fault observer across all sweeps with the ExAllocatePool* calls found in the .c files of
 * src/.
 */
#include "fake_modules.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef NMRKIT_SRC_DIR
#error "NMRKIT_SRC_DIR must name the core's source directory"
#endif

typedef enum {
    SCENARIO_CLIENT_ALONE,
    SCENARIO_PROVIDER_WITH_CLIENTS,
    SCENARIO_CLIENT_WITH_PROVIDERS,
    SCENARIO_FULL_CYCLE,
} scenario_kind_t;

typedef struct {
    scenario_kind_t kind;
    int peers;
} scenario_t;

static char *copy_text(const char *text)
{
    size_t len = strlen(text) + 1;
    char *copy = malloc(len);
    CHECK(copy != NULL);
    memcpy(copy, text, len);
    return copy;
}

/* ---- sites seen by the observer --------------------------------------------------------- */

#define MAX_SITES 256

static struct {
    char *site[MAX_SITES];
    int count;
} seen;

static void observe_site(const char *site, ULONG tag, bool injected, void *context)
{
    (void)tag;
    (void)injected;
    (void)context;
    const char *base = strrchr(site, '/');
    base = base ? base + 1 : site;
    for (int i = 0; i < seen.count; i++) {
        if (strcmp(seen.site[i], base) == 0) {
            return;
        }
    }
    if (seen.count < MAX_SITES) {
        seen.site[seen.count++] = copy_text(base);
    }
}

/* ---- one run ---------------------------------------------------------------------------- */

/* Register target under the armed plan and check the outcome against what was injected. */
static NTSTATUS register_checked(fake_module_t *target, int expected_attaches,
                                 fake_module_t *peers, int peer_count)
{
    char log_before[FAKE_LOG_SIZE];
    snprintf(log_before, sizeof log_before, "%s", fake_log());
    LONG peer_attaches_before = 0;
    for (int i = 0; i < peer_count; i++) {
        peer_attaches_before += peers[i].attach_calls;
    }
    ULONG live_before = nmr_live_object_count();
    unsigned long injected_before = kshim_fault_injected_calls();
    NTSTATUS status = fake_register(target);
    unsigned long injected = kshim_fault_injected_calls() - injected_before;
    if (injected > 0) {
        if (status != STATUS_INSUFFICIENT_RESOURCES) {
            nmr_test_fail(__FILE__, __LINE__,
                          "%s: %lu failure(s) injected (last at %s) but NmrRegister* returned "
                          "0x%08x, expected STATUS_INSUFFICIENT_RESOURCES",
                          target->name, injected,
                          kshim_fault_last_injected_site() ? kshim_fault_last_injected_site() : "?",
                          (unsigned)status);
        }
        CHECK_STR(fake_log(), log_before); /* not a single callback */
        CHECK_EQ(target->attach_calls, 0);
        LONG peer_attaches = 0;
        for (int i = 0; i < peer_count; i++) {
            peer_attaches += peers[i].attach_calls;
        }
        CHECK_EQ(peer_attaches, peer_attaches_before);
        CHECK_EQ(nmr_live_object_count(), live_before);
    } else {
        if (status != STATUS_SUCCESS) {
            nmr_test_fail(__FILE__, __LINE__,
                          "%s: nothing injected but NmrRegister* returned 0x%08x", target->name,
                          (unsigned)status);
        }
        if (target->role == FAKE_CLIENT) {
            CHECK_EQ(target->attach_successes, expected_attaches);
        } else {
            CHECK_EQ(target->attach_successes, expected_attaches);
            for (int i = 0; i < peer_count; i++) {
                CHECK_EQ(peers[i].attach_successes, 1);
            }
        }
    }
    return status;
}

/* Deregister and wait, checking that neither allocates. */
static void unregister_without_allocating(fake_module_t *module)
{
    unsigned long eligible_before = kshim_fault_eligible_calls();
    fake_unregister_ok(module);
    CHECK_EQ(kshim_fault_eligible_calls(), eligible_before);
}

static unsigned long run_once(const scenario_t *scenario, const kshim_fault_plan_t *plan)
{
    static const char *const client_names[] = {"c1", "c2", "c3"};
    static const char *const provider_names[] = {"p1", "p2", "p3"};
    fake_begin();
    fake_module_t peers[3];
    fake_module_t target, other;
    unsigned long eligible = 0;

    switch (scenario->kind) {
    case SCENARIO_CLIENT_ALONE:
    case SCENARIO_CLIENT_WITH_PROVIDERS:
    case SCENARIO_PROVIDER_WITH_CLIENTS: {
        bool target_is_client = scenario->kind != SCENARIO_PROVIDER_WITH_CLIENTS;
        int peer_count = scenario->kind == SCENARIO_CLIENT_ALONE ? 0 : scenario->peers;
        for (int i = 0; i < peer_count; i++) {
            if (target_is_client) {
                fake_provider_init(&peers[i], provider_names[i], &FAKE_NPI_A);
            } else {
                fake_client_init(&peers[i], client_names[i], &FAKE_NPI_A);
            }
            fake_register_ok(&peers[i]);
        }
        if (target_is_client) {
            fake_client_init(&target, "target", &FAKE_NPI_A);
        } else {
            fake_provider_init(&target, "target", &FAKE_NPI_A);
        }
        kshim_fault_set_plan(plan);
        NTSTATUS status = register_checked(&target, peer_count, peers, peer_count);
        eligible = kshim_fault_eligible_calls();
        if (status == STATUS_SUCCESS) {
            unregister_without_allocating(&target);
        }
        for (int i = 0; i < peer_count; i++) {
            unregister_without_allocating(&peers[i]);
        }
        kshim_fault_set_plan(NULL);
        break;
    }
    case SCENARIO_FULL_CYCLE: {
        /* register provider, register client (attach), deregister both, wait for both; the
           client's detach is pending and completed before the waits */
        fake_init_named(&FAKE_NPI_A, "p1 c1", &other, &target);
        target.detach_mode = FAKE_DETACH_PENDING;
        kshim_fault_set_plan(plan);
        NTSTATUS provider_status = register_checked(&other, 0, NULL, 0);
        NTSTATUS client_status = register_checked(
            &target, provider_status == STATUS_SUCCESS ? 1 : 0,
            provider_status == STATUS_SUCCESS ? &other : NULL, provider_status == STATUS_SUCCESS);
        unsigned long eligible_before = kshim_fault_eligible_calls();
        if (client_status == STATUS_SUCCESS) {
            CHECK_STATUS(fake_deregister(&target), STATUS_PENDING);
        }
        if (provider_status == STATUS_SUCCESS) {
            CHECK_STATUS(fake_deregister(&other), STATUS_PENDING);
        }
        if (client_status == STATUS_SUCCESS && provider_status == STATUS_SUCCESS) {
            CHECK_EQ(target.detach_calls, 1);
            fake_complete(fake_binding_between(&target, &other));
            CHECK_EQ(target.cleanup_calls, 1);
            CHECK_EQ(other.cleanup_calls, 1);
        }
        if (client_status == STATUS_SUCCESS) {
            CHECK_STATUS(fake_wait(&target), STATUS_SUCCESS);
        }
        if (provider_status == STATUS_SUCCESS) {
            CHECK_STATUS(fake_wait(&other), STATUS_SUCCESS);
        }
        CHECK_EQ(kshim_fault_eligible_calls(), eligible_before);
        eligible = kshim_fault_eligible_calls();
        kshim_fault_set_plan(NULL);
        break;
    }
    }
    fake_end();
    return eligible;
}

static void sweep(const scenario_t *scenario)
{
    kshim_fault_plan_t off = {KSHIM_FAULT_OFF, 0, NULL, 0};
    unsigned long n = run_once(scenario, &off);
    CHECK(n >= 1); /* a registration allocates, or the sweep would test nothing */
    for (unsigned long i = 1; i <= n; i++) {
        kshim_fault_plan_t transient = {KSHIM_FAULT_TRANSIENT, i, NULL, 0};
        kshim_fault_plan_t persistent = {KSHIM_FAULT_PERSISTENT, i, NULL, 0};
        run_once(scenario, &transient);
        run_once(scenario, &persistent);
    }
    /* one past the end: nothing fails, everything registers */
    kshim_fault_plan_t beyond = {KSHIM_FAULT_TRANSIENT, n + 1, NULL, 0};
    CHECK_EQ(run_once(scenario, &beyond), n);
}

static const scenario_t client_alone = {SCENARIO_CLIENT_ALONE, 0};
static const scenario_t provider_with_1 = {SCENARIO_PROVIDER_WITH_CLIENTS, 1};
static const scenario_t provider_with_2 = {SCENARIO_PROVIDER_WITH_CLIENTS, 2};
static const scenario_t provider_with_3 = {SCENARIO_PROVIDER_WITH_CLIENTS, 3};
static const scenario_t client_with_2 = {SCENARIO_CLIENT_WITH_PROVIDERS, 2};
static const scenario_t full_cycle = {SCENARIO_FULL_CYCLE, 1};

NMR_TEST(fault_sweep_register_client_alone)
{
    sweep(&client_alone);
}

NMR_TEST(fault_sweep_register_provider_with_one_client_present)
{
    sweep(&provider_with_1);
}

NMR_TEST(fault_sweep_register_provider_with_two_clients_present)
{
    sweep(&provider_with_2);
}

NMR_TEST(fault_sweep_register_provider_with_three_clients_present)
{
    sweep(&provider_with_3);
}

NMR_TEST(fault_sweep_register_client_with_two_providers_present)
{
    sweep(&client_with_2);
}

NMR_TEST(fault_sweep_full_register_attach_deregister_wait_cycle)
{
    sweep(&full_cycle);
}

NMR_TEST(fault_plan_off_counts_more_eligible_calls_with_more_peers)
{
    /* every binding is allocated in NmrRegister*, so peers add allocations */
    kshim_fault_plan_t off = {KSHIM_FAULT_OFF, 0, NULL, 0};
    unsigned long alone = run_once(&client_alone, &off);
    unsigned long with_1 = run_once(&provider_with_1, &off);
    unsigned long with_3 = run_once(&provider_with_3, &off);
    CHECK(alone >= 1);
    CHECK(with_1 > alone);
    CHECK(with_3 > with_1);
}

/* ---- the allocation sites of the core --------------------------------------------------- */

typedef struct {
    char file[128];
    int first_line, last_line; /* the call may span lines */
} source_site_t;

static bool is_ident(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

/* Find ExAllocatePool2/WithTag/Zero( calls outside comments, strings and directives. */
static int scan_file(const char *path, const char *base, source_site_t *sites, int max, int count)
{
    FILE *file = fopen(path, "r");
    if (!file) {
        nmr_test_fail(__FILE__, __LINE__, "cannot open %s: %s", path, strerror(errno));
    }
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    CHECK(text != NULL);
    size_t got = fread(text, 1, (size_t)size, file);
    text[got] = '\0';
    fclose(file);

    static const char *const names[] = {"ExAllocatePool2", "ExAllocatePoolWithTag",
                                        "ExAllocatePoolZero"};
    int line = 1;
    bool line_start = true, directive = false;
    for (size_t i = 0; i < got;) {
        char ch = text[i];
        if (ch == '\n') {
            if (!(i > 0 && text[i - 1] == '\\')) {
                directive = false;
            }
            line++;
            line_start = true;
            i++;
            continue;
        }
        if (ch == ' ' || ch == '\t' || ch == '\r') {
            i++;
            continue;
        }
        if (line_start && ch == '#') {
            directive = true;
        }
        line_start = false;
        if (ch == '/' && text[i + 1] == '/') {
            while (i < got && text[i] != '\n') {
                i++;
            }
            continue;
        }
        if (ch == '/' && text[i + 1] == '*') {
            i += 2;
            while (i < got && !(text[i] == '*' && text[i + 1] == '/')) {
                line += text[i] == '\n';
                i++;
            }
            i += 2;
            continue;
        }
        if (ch == '"' || ch == '\'') {
            char quote = ch;
            i++;
            while (i < got && text[i] != quote && text[i] != '\n') {
                i += text[i] == '\\' ? 2 : 1;
            }
            i++;
            continue;
        }
        if (is_ident((unsigned char)ch) && (i == 0 || !is_ident((unsigned char)text[i - 1]))) {
            size_t start = i;
            while (i < got && is_ident((unsigned char)text[i])) {
                i++;
            }
            size_t len = i - start;
            bool wanted = false;
            for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
                wanted |= strlen(names[n]) == len && strncmp(text + start, names[n], len) == 0;
            }
            if (!wanted || directive) {
                continue;
            }
            size_t j = i;
            int end_line = line;
            while (j < got && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r')) {
                end_line += text[j] == '\n';
                j++;
            }
            if (j >= got || text[j] != '(') {
                continue; /* "(ExAllocatePool2)(...)" or a mention: not a site-reporting call */
            }
            int depth = 0;
            for (; j < got; j++) {
                if (text[j] == '\n') {
                    end_line++;
                } else if (text[j] == '(') {
                    depth++;
                } else if (text[j] == ')' && --depth == 0) {
                    break;
                }
            }
            if (count < max) {
                snprintf(sites[count].file, sizeof sites[count].file, "%s", base);
                sites[count].first_line = line;
                sites[count].last_line = end_line;
                count++;
            }
            continue;
        }
        i++;
    }
    free(text);
    return count;
}

static int scan_core_sites(source_site_t *sites, int max)
{
    DIR *dir = opendir(NMRKIT_SRC_DIR);
    if (!dir) {
        nmr_test_fail(__FILE__, __LINE__, "cannot open %s: %s", NMRKIT_SRC_DIR, strerror(errno));
    }
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        size_t len = strlen(entry->d_name);
        if (len < 3 || strcmp(entry->d_name + len - 2, ".c") != 0) {
            continue;
        }
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", NMRKIT_SRC_DIR, entry->d_name);
        count = scan_file(path, entry->d_name, sites, max, count);
    }
    closedir(dir);
    return count;
}

static bool site_was_seen(const source_site_t *site)
{
    size_t base_len = strlen(site->file);
    for (int i = 0; i < seen.count; i++) {
        const char *observed = seen.site[i];
        if (strncmp(observed, site->file, base_len) != 0 || observed[base_len] != ':') {
            continue;
        }
        int line = atoi(observed + base_len + 1);
        if (line >= site->first_line && line <= site->last_line) {
            return true;
        }
    }
    return false;
}

NMR_TEST(fault_sweep_reaches_every_allocation_site_of_the_core)
{
    source_site_t sites[MAX_SITES];
    int count = scan_core_sites(sites, MAX_SITES);
    if (count == 0) {
        nmr_test_fail(__FILE__, __LINE__,
                      "no ExAllocatePool2/ExAllocatePoolWithTag/ExAllocatePoolZero call found in "
                      "%s/*.c",
                      NMRKIT_SRC_DIR);
    }
    kshim_fault_set_observer(observe_site, NULL);
    sweep(&client_alone);
    sweep(&provider_with_1);
    sweep(&provider_with_2);
    sweep(&provider_with_3);
    sweep(&client_with_2);
    sweep(&full_cycle);
    kshim_fault_set_observer(NULL, NULL);
    CHECK(seen.count > 0);
    int unreached = 0;
    for (int i = 0; i < count; i++) {
        if (!site_was_seen(&sites[i])) {
            fprintf(stderr, "unreached allocation site: %s:%d", sites[i].file, sites[i].first_line);
            if (sites[i].last_line != sites[i].first_line) {
                fprintf(stderr, "-%d", sites[i].last_line);
            }
            fputc('\n', stderr);
            unreached++;
        }
    }
    if (unreached) {
        fprintf(stderr, "sites seen by the observer:");
        for (int i = 0; i < seen.count; i++) {
            fprintf(stderr, " %s", seen.site[i]);
        }
        fputc('\n', stderr);
        nmr_test_fail(__FILE__, __LINE__, "%d of %d allocation site(s) of the core never reached",
                      unreached, count);
    }
    printf("%d allocation site(s) of the core reached\n", count);
}
