/* SPDX-License-Identifier: MIT */
/*
 * test_contract.c - the registrar against modules that break the contract in every way one
 * rule allows: a characteristics block shorter than its structure, a change to any field of
 * the characteristics (R1) or any byte of the ids (R3), a second wait from another thread
 * (R9), and handles forged in every shape the handle encoding allows (docs/behaviour.md,
 * "Handles"). White-box only to forge handles: nmr_internal.h gives the encoding and the
 * next serial.
 */
#include "fake_modules.h"
#include "nmr_internal.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#endif
#ifdef HAVE_ASAN
#include <sanitizer/asan_interface.h>
#endif

#define STOP(rule) "*** NMR VERIFIER STOP " rule ":"

static fake_module_t pair[2];

static const char *wait_function(fake_role_t role)
{
    return role == FAKE_CLIENT ? "NmrWaitForClientDeregisterComplete"
                               : "NmrWaitForProviderDeregisterComplete";
}

/* CHECK that the last stop line names this handle. */
static void check_stop_names_handle(HANDLE handle)
{
    char text[32], line[48];
    snprintf(line, sizeof line, "; handle 0x%s;", fake_handle_text(handle, text));
    CHECK_STOP_MENTIONS(line);
}

/* ---- R10: a characteristics block shorter than its structure --------------------------- */

/*
 * The block is a heap copy of the module's characteristics whose Length says it ends early;
 * with ASan the bytes past Length are poisoned, so a registrar that reads them fails here.
 */
static NTSTATUS register_block_of_length(fake_module_t *module, USHORT length)
{
    size_t size = sizeof(NPI_CLIENT_CHARACTERISTICS);
    unsigned char *block = malloc(size);
    CHECK(block != NULL);
    memcpy(block, fake_characteristics_bytes(module), size);
    memcpy(block + offsetof(NPI_CLIENT_CHARACTERISTICS, Length), &length, sizeof length);
#ifdef HAVE_ASAN
    size_t readable = (length + 7u) & ~(size_t)7u;
    if (readable < size) {
        ASAN_POISON_MEMORY_REGION(block + readable, size - readable);
    }
#endif
    HANDLE handle = FAKE_HANDLE_SENTINEL;
    NTSTATUS status = module->role == FAKE_CLIENT
                          ? NmrRegisterClient((const void *)block, module, &handle)
                          : NmrRegisterProvider((const void *)block, module, &handle);
    CHECK(handle == FAKE_HANDLE_SENTINEL);
#ifdef HAVE_ASAN
    ASAN_UNPOISON_MEMORY_REGION(block, size);
#endif
    free(block);
    return status;
}

NMR_ROLE_TEST(register_ROLE_with_a_length_below_sizeof_is_refused_without_reading_past_it)
{
    static const USHORT lengths[] = {4, 8, 16, 32, 40, 64, 71};
    fake_begin();
    fake_module_t module, peer;
    fake_init(&module, role, "m1", &FAKE_NPI_A);
    fake_init(&peer, fake_other_role(role), "m2", &FAKE_NPI_A);
    fake_register_ok(&peer);
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        ULONG warnings = nmr_verifier_warning_count();
        CHECK_STATUS(register_block_of_length(&module, lengths[i]), STATUS_INVALID_PARAMETER);
        CHECK_EQ(nmr_verifier_warning_count(), warnings + 1);
        CHECK_STR(nmr_verifier_last_warning_rule(), "R10");
        CHECK_EQ(nmr_live_object_count(), 1);
        CHECK_EQ(module.attach_calls + peer.attach_calls, 0);
    }
    /* Longer than the structure: warned, registered, nothing past sizeof read. */
    *fake_length_field(&module) = sizeof(NPI_CLIENT_CHARACTERISTICS) + 8;
    fake_register_ok(&module);
    CHECK_STR(nmr_verifier_last_warning_rule(), "R10");
    CHECK_EQ(module.attach_successes, 1);
    fake_unregister_ok(&module);
    fake_unregister_ok(&peer);
    fake_end();
}

/* ---- R1: any field of the characteristics; R3: any byte of the ids --------------------- */

/* The caught stop (fake_catch_stop) is "<rule>: <function>: <message>..." and names handle. */
static void check_caught(const char *caught, const char *rule, const char *function,
                         const char *message, HANDLE handle)
{
    char text[160], handle_text[32];
    CHECK(caught != NULL);
    snprintf(text, sizeof text, "*** NMR VERIFIER STOP %s: %s: %s", rule, function, message);
    if (!fake_text_contains(caught, text)) {
        nmr_test_fail(__FILE__, __LINE__, "no \"%s\" in:\n%s", text, caught);
    }
    snprintf(text, sizeof text, "; handle 0x%s;", fake_handle_text(handle, handle_text));
    if (!fake_text_contains(caught, text)) {
        nmr_test_fail(__FILE__, __LINE__, "no \"%s\" in:\n%s", text, caught);
    }
}

/* One change of a test that changes many things one at a time, each in a fresh registrar. */
typedef struct change {
    fake_module_t *module;  /* the module whose characteristics or ids change */
    fake_module_t *trigger; /* deregistered after the change (NULL: module waits instead) */
    unsigned char *byte;    /* the byte that changes */
} change_t;

static void change_then_call(void *arg)
{
    change_t *change = arg;
    *change->byte ^= 0x10;
    if (change->trigger != NULL) {
        fake_deregister(change->trigger);
    } else {
        fake_wait(change->module);
    }
}

static fake_module_t module;

/* module of the role registered (NpiId npi) and deregistered: its wait comes next. */
static void register_and_deregister(fake_role_t role, PNPIID npi)
{
    fake_begin();
    fake_init(&module, role, "m1", npi);
    fake_register_ok(&module);
    CHECK_STATUS(fake_deregister(&module), STATUS_PENDING);
}

/* Every byte of every field counts (the registrar compares the characteristics as words with
   their padding masked out: a mask that missed a field's upper bytes would show here). */
NMR_ROLE_TEST(r1_a_change_to_any_byte_of_any_field_of_the_ROLE_characteristics_stops_the_wait_naming_its_handle)
{
    for (size_t i = 0; i < FAKE_CHARACTERISTICS_FIELD_COUNT; i++) {
        for (size_t b = 0; b < FAKE_CHARACTERISTICS_FIELDS[i].size; b++) {
            register_and_deregister(role, &FAKE_NPI_A);
            change_t change = {&module, NULL,
                               fake_characteristics_bytes(&module) +
                                   FAKE_CHARACTERISTICS_FIELDS[i].offset + b};
            check_caught(fake_catch_stop(change_then_call, &change), "R1",
                         fake_function_name(role, FAKE_FN_WAIT), "the module's", module.handle);
        }
    }
    register_and_deregister(role, &FAKE_NPI_A);
    CHECK_STATUS(fake_wait(&module), STATUS_SUCCESS);
    fake_end();
}

/* Whether a byte of the characteristics structure lies in one of its fields. */
static bool in_a_field(size_t offset)
{
    for (size_t i = 0; i < FAKE_CHARACTERISTICS_FIELD_COUNT; i++) {
        const fake_field_t *field = &FAKE_CHARACTERISTICS_FIELDS[i];
        if (offset >= field->offset && offset < field->offset + field->size) {
            return true;
        }
    }
    return false;
}

/* The padding between the fields is no part of the characteristics: a change there is none. */
NMR_ROLE_TEST(r1_a_change_to_the_padding_of_the_ROLE_characteristics_is_no_change)
{
    size_t padding = 0;
    for (size_t offset = 0; offset < sizeof(NPI_CLIENT_CHARACTERISTICS); offset++) {
        if (in_a_field(offset)) {
            continue;
        }
        padding++;
        register_and_deregister(role, &FAKE_NPI_A);
        fake_characteristics_bytes(&module)[offset] ^= 0x10;
        CHECK_STATUS(fake_wait(&module), STATUS_SUCCESS);
    }
    CHECK(padding > 0); /* x64: after Length, after instance Size and after Number */
    fake_end();
}

NMR_ROLE_TEST(r1_a_change_to_any_field_of_the_ROLE_characteristics_stops_before_the_next_callout)
{
    for (size_t i = 0; i < FAKE_CHARACTERISTICS_FIELD_COUNT; i++) {
        fake_begin();
        fake_bind_pair(pair);
        change_t change = {&pair[role], &pair[fake_other_role(role)],
                           fake_characteristics_bytes(&pair[role]) +
                               FAKE_CHARACTERISTICS_FIELDS[i].offset};
        /* the first callout of the detach checks both modules, before calling either */
        const char *caught = fake_catch_stop(change_then_call, &change);
        check_caught(caught, "R1", "ClientDetachProvider", "the module's", NULL);
        CHECK(fake_text_contains(caught, fake_role_name(role)));
        CHECK_EQ(pair[FAKE_CLIENT].detach_calls + pair[FAKE_PROVIDER].detach_calls, 0);
    }
    fake_begin();
    fake_bind_pair(pair);
    fake_unbind_pair(pair);
    fake_end();
}

static NPIID npi_copy; /* the module's own NpiId, so that the test may change it */

NMR_ROLE_TEST(r3_a_change_to_any_byte_of_the_ROLE_npi_id_or_module_id_stops_the_wait)
{
    for (size_t id = 0; id < 2; id++) {
        for (size_t byte = 0; byte < sizeof(GUID); byte++) {
            npi_copy = FAKE_NPI_A;
            register_and_deregister(role, &npi_copy);
            unsigned char *bytes = id == 0 ? (unsigned char *)&npi_copy
                                           : (unsigned char *)&module.module_id.Guid;
            change_t change = {&module, NULL, bytes + byte};
            check_caught(fake_catch_stop(change_then_call, &change), "R3",
                         fake_function_name(role, FAKE_FN_WAIT), "the NpiId or ModuleId",
                         module.handle);
        }
    }
    register_and_deregister(role, &FAKE_NPI_A);
    CHECK_STATUS(fake_wait(&module), STATUS_SUCCESS);
    fake_end();
}

/* ---- R9: a second wait while the first is blocked --------------------------------------- */

static void wait_thread(void *module)
{
    fake_wait(module);
}

static void wait_on_two_threads(fake_module_t *module)
{
    fake_set_hang_timeout(2000); /* without the R9 check: a D4 stop, not a hang */
    kshim_thread_start("first-wait", wait_thread, module);
    fake_sleep_ms(50);
    fake_wait(module); /* whichever wait comes second stops */
}

NMR_ROLE_TEST(r9_a_second_wait_for_the_ROLE_from_another_thread_while_the_first_is_blocked_stops)
{
    fake_begin();
    fake_bind_pair(pair);
    pair[role].detach_mode = FAKE_DETACH_PENDING;
    CHECK_STATUS(fake_deregister(&pair[role]), STATUS_PENDING);
    EXPECT_STOP(STOP("R9"), wait_on_two_threads(&pair[role]));
    CHECK_STOP_MENTIONS(wait_function(role));
    CHECK_STOP_MENTIONS("a wait for this registration is already in progress");
    check_stop_names_handle(pair[role].handle);
    fake_complete(fake_pair_side(pair, role));
    CHECK_STATUS(fake_wait(&pair[role]), STATUS_SUCCESS);
    fake_unregister_ok(&pair[fake_other_role(role)]);
    fake_end();
}

/* ---- forged handles ----------------------------------------------------------------------- */

/* The calls that take a handle; the role says which of a client/provider pair is called. */
typedef enum handle_call {
    CALL_DEREGISTER,
    CALL_WAIT,
    CALL_DETACH_COMPLETE,
    CALL_CLIENT_ATTACH,
} handle_call_t;

typedef struct forged_result {
    const char *stop;    /* the stop line prefix, or NULL: returns status */
    const char *message; /* what the stop line says */
    NTSTATUS status;
} forged_result_t;

static bool is_live(HANDLE handle)
{
    nmr_binding_side_t *side;
    return nmr_registration_find(handle) != NULL || nmr_binding_find(handle, &side) != NULL;
}

/*
 * docs/behaviour.md, "Handles": the result of a forged value, from its shape alone (serial
 * issued or not, kind, and whether an object of that kind and serial is live).
 */
static forged_result_t documented_result(handle_call_t call, fake_role_t role, ULONG64 serial,
                                         unsigned kind)
{
    nmr_handle_kind_t registration =
        role == FAKE_CLIENT ? NMR_HANDLE_CLIENT_REGISTRATION : NMR_HANDLE_PROVIDER_REGISTRATION;
    nmr_handle_kind_t own_side =
        role == FAKE_CLIENT ? NMR_HANDLE_CLIENT_BINDING : NMR_HANDLE_PROVIDER_BINDING;
    bool never_issued = kind < NMR_HANDLE_CLIENT_REGISTRATION ||
                        kind > NMR_HANDLE_PROVIDER_BINDING || serial == 0 ||
                        serial >= nmr_registrar.next_serial;
    bool registration_kind =
        kind == NMR_HANDLE_CLIENT_REGISTRATION || kind == NMR_HANDLE_PROVIDER_REGISTRATION;
    switch (call) {
    case CALL_WAIT:
    case CALL_DEREGISTER:
        if (never_issued && call == CALL_WAIT) {
            return (forged_result_t){NULL, NULL, STATUS_INVALID_PARAMETER};
        }
        if (never_issued) {
            return (forged_result_t){STOP("R9"), "handle was never issued by the NMR", 0};
        }
        if (kind != registration) {
            return (forged_result_t){STOP("R9"), "where a", 0};
        }
        return (forged_result_t){STOP("R9"), "stale handle: the registration already ended", 0};
    case CALL_DETACH_COMPLETE:
        if (never_issued) {
            return (forged_result_t){STOP("R9"), "handle was never issued by the NMR", 0};
        }
        if (registration_kind) {
            return (forged_result_t){STOP("R9"), "where a", 0};
        }
        if (kind != own_side) {
            return (forged_result_t){STOP("D5"), "called for the other side", 0};
        }
        return (forged_result_t){STOP("D5"), "already detached on both sides and cleaned up", 0};
    case CALL_CLIENT_ATTACH:
        if (never_issued) {
            return (forged_result_t){STOP("R9"), "handle was never issued by the NMR", 0};
        }
        if (registration_kind) {
            return (forged_result_t){STOP("R9"), "where a", 0};
        }
        if (kind != NMR_HANDLE_CLIENT_BINDING) {
            return (forged_result_t){STOP("R9"), "only the client-side binding handle", 0};
        }
        return (forged_result_t){STOP("R9"), "stale handle: the binding no longer exists", 0};
    }
    return (forged_result_t){NULL, NULL, 0};
}

static NTSTATUS make_call(handle_call_t call, fake_role_t role, HANDLE handle)
{
    PVOID context = NULL;
    const VOID *dispatch = NULL;
    bool client = role == FAKE_CLIENT;
    switch (call) {
    case CALL_DEREGISTER:
        return client ? NmrDeregisterClient(handle) : NmrDeregisterProvider(handle);
    case CALL_WAIT:
        return client ? NmrWaitForClientDeregisterComplete(handle)
                      : NmrWaitForProviderDeregisterComplete(handle);
    case CALL_DETACH_COMPLETE:
        if (client) {
            NmrClientDetachProviderComplete(handle);
        } else {
            NmrProviderDetachClientComplete(handle);
        }
        return STATUS_SUCCESS;
    case CALL_CLIENT_ATTACH:
        return NmrClientAttachProvider(handle, NULL, FAKE_CLIENT_DISPATCH_V1, &context, &dispatch);
    }
    return STATUS_UNSUCCESSFUL;
}

/* The pair bound, and a registration of the role that came and went (a stale registration
   and a stale binding among the issued serials); returns the next serial. */
static ULONG64 set_up_world_to_forge_in(fake_role_t role)
{
    static fake_module_t gone;
    fake_begin();
    fake_bind_pair(pair);
    fake_init(&gone, role, "gone", &FAKE_NPI_A);
    fake_register_ok(&gone);
    fake_unregister_ok(&gone);
    return nmr_registrar.next_serial;
}

typedef struct forged_call {
    handle_call_t call;
    fake_role_t role;
    HANDLE handle;
} forged_call_t;

static void make_forged_call(void *arg)
{
    forged_call_t *forged = arg;
    make_call(forged->call, forged->role, forged->handle);
}

/*
 * Every kind value (0-7: the four kinds and the unused ones) with serial 0, every serial
 * issued so far, the next serial and the one after it, and a serial far above: each forged
 * value that names no live object gets its documented result, and the stop names it. Each
 * stop is caught in this process (fake_catch_stop), in a world set up afresh.
 */
static void check_forged_handles(handle_call_t call, fake_role_t role)
{
    ULONG64 next = set_up_world_to_forge_in(role);
    CHECK(next > 5 && next < 14);
    ULONG64 serials[16];
    size_t count = 0;
    for (ULONG64 serial = 0; serial <= next + 1; serial++) {
        serials[count++] = serial;
    }
    serials[count++] = (ULONG64)1 << 40;
    for (size_t i = 0; i < count; i++) {
        for (unsigned kind = 0; kind <= NMR_HANDLE_KIND_MASK; kind++) {
            CHECK_EQ(set_up_world_to_forge_in(role), next);
            forged_call_t forged = {call, role, nmr_handle_make(serials[i], (nmr_handle_kind_t)kind)};
            if (is_live(forged.handle)) {
                continue; /* a genuine handle, not a forged one */
            }
            forged_result_t expected = documented_result(call, role, serials[i], kind);
            if (expected.stop == NULL) {
                CHECK_STATUS(make_call(call, role, forged.handle), expected.status);
                continue;
            }
            const char *caught = fake_catch_stop(make_forged_call, &forged);
            if (caught == NULL || !fake_text_contains(caught, expected.stop) ||
                !fake_text_contains(caught, expected.message)) {
                nmr_test_fail(__FILE__, __LINE__, "serial %llu kind %u: no \"%s ... %s\" in:\n%s",
                              (unsigned long long)serials[i], kind, expected.stop,
                              expected.message, caught ? caught : "(returned)");
            }
            char text[32], line[48];
            snprintf(line, sizeof line, "; handle 0x%s;", fake_handle_text(forged.handle, text));
            CHECK(fake_text_contains(caught, line));
        }
    }
    CHECK_EQ(set_up_world_to_forge_in(role), next);
    fake_unbind_pair(pair);
    fake_end();
}

NMR_ROLE_TEST(forged_handles_of_every_shape_passed_to_deregister_ROLE_get_the_documented_result)
{
    check_forged_handles(CALL_DEREGISTER, role);
}

NMR_ROLE_TEST(forged_handles_of_every_shape_passed_to_wait_for_ROLE_get_the_documented_result)
{
    check_forged_handles(CALL_WAIT, role);
}

NMR_ROLE_TEST(forged_handles_of_every_shape_passed_to_ROLE_detach_complete_get_the_documented_result)
{
    check_forged_handles(CALL_DETACH_COMPLETE, role);
}

NMR_TEST(forged_handles_of_every_shape_passed_to_nmr_client_attach_provider_get_the_documented_result)
{
    check_forged_handles(CALL_CLIENT_ATTACH, FAKE_CLIENT);
}

/* ---- exported routines: NmrIsEqualNpiModuleId, nmr_report_blocked_waits ------------------ */

NMR_TEST(nmr_is_equal_npi_module_id_compares_the_type_and_the_identifier_of_that_type)
{
    NPI_MODULEID a = {sizeof(NPI_MODULEID), MIT_GUID, {{0}}}, b;
    a.Guid = FAKE_NPI_A;
    b = a;
    CHECK(NmrIsEqualNpiModuleId(&a, &b));
    for (size_t byte = 0; byte < sizeof(GUID); byte++) {
        b = a;
        ((unsigned char *)&b.Guid)[byte] ^= 1;
        CHECK(!NmrIsEqualNpiModuleId(&a, &b));
    }
    /* only the identifier counts, not Length */
    b = a;
    b.Length = 3;
    CHECK(NmrIsEqualNpiModuleId(&a, &b));
    /* LUIDs: both halves count; the bytes after the LUID do not */
    a.Type = b.Type = MIT_IF_LUID;
    b = a;
    b.Guid.Data4[7] ^= 1;
    CHECK(NmrIsEqualNpiModuleId(&a, &b));
    b = a;
    b.IfLuid.LowPart ^= 1;
    CHECK(!NmrIsEqualNpiModuleId(&a, &b));
    b = a;
    b.IfLuid.HighPart ^= 1;
    CHECK(!NmrIsEqualNpiModuleId(&a, &b));
    /* different types, or a type that is neither: never equal, not even to itself */
    b = a;
    b.Type = MIT_GUID;
    CHECK(!NmrIsEqualNpiModuleId(&a, &b));
    a.Type = (NPI_MODULEID_TYPE)7;
    CHECK(!NmrIsEqualNpiModuleId(&a, &a));
}

typedef struct printed {
    char text[4096];
    size_t length;
} printed_t;

static void collect_print(const char *text, size_t length, void *context)
{
    printed_t *printed = context;
    size_t room = sizeof printed->text - 1 - printed->length;
    length = length < room ? length : room;
    memcpy(printed->text + printed->length, text, length);
    printed->length += length;
    printed->text[printed->length] = '\0';
}

static void blocked_wait_thread(void *module)
{
    CHECK_STATUS(fake_wait(module), STATUS_SUCCESS);
}

NMR_ROLE_TEST(nmr_report_blocked_waits_describes_a_blocked_ROLE_wait_and_the_side_it_waits_for)
{
    fake_begin();
    CHECK_EQ(nmr_report_blocked_waits(), 0);
    fake_bind_pair(pair);
    fake_module_t *module = &pair[role];
    module->detach_mode = FAKE_DETACH_PENDING;
    CHECK_STATUS(fake_deregister(module), STATUS_PENDING);
    CHECK_EQ(nmr_report_blocked_waits(), 0); /* deregistered, but nobody waits yet */
    kshim_thread_t *waiter = kshim_thread_start("waiter", blocked_wait_thread, module);
    static printed_t printed;
    printed.length = 0;
    ULONG waits = 0;
    for (int tries = 0; tries < 200 && waits == 0; tries++) {
        fake_sleep_ms(5);
        printed.length = 0;
        kshim_dbg_print_set_sink(collect_print, &printed);
        waits = nmr_report_blocked_waits();
        kshim_dbg_print_set_sink(NULL, NULL);
    }
    CHECK_EQ(waits, 1);
    char text[32], line[128];
    snprintf(line, sizeof line, "*** NMR VERIFIER STOP D4: %s: blocked, and no thread can make "
             "progress", fake_function_name(role, FAKE_FN_WAIT));
    CHECK(fake_text_contains(printed.text, line));
    CHECK(fake_text_contains(printed.text, fake_handle_text(module->handle, text)));
    snprintf(line, sizeof line, "%s not called", fake_function_name(role, FAKE_FN_DETACH_COMPLETE));
    CHECK(fake_text_contains(printed.text, line));
    fake_complete(fake_pair_side(pair, role));
    kshim_thread_join(waiter);
    CHECK_EQ(nmr_report_blocked_waits(), 0);
    fake_unregister_ok(&pair[fake_other_role(role)]);
    fake_end();
}
