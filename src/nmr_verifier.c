/* SPDX-License-Identifier: MIT */
/*
 * nmr_verifier.c - stops, warnings, characteristics snapshots, callout bookkeeping and the
 * D4 hang report.
 *
 * A stop is one line on the debugger output (stderr here) followed by a bug check
 * (NMR_INVALID_STATE, as the real NMR does), so a fuzzer keeps the input; the line names
 * the rule of nmr-spec.md section 3, the call, the handle, the module and the NPI.
 */
#include <ntstrsafe.h>

#include "nmr_internal.h"

#define MESSAGE_CHARS 512
#define NAME_CHARS 64

/* Writes the low digits hex digits of value, lowercase, at text. */
static VOID put_hex(char *text, ULONG value, ULONG digits)
{
    for (ULONG i = 0; i < digits; i++) {
        text[i] = "0123456789abcdef"[(value >> (4 * (digits - 1 - i))) & 0xf];
    }
}

/* "{%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}", formatted by hand: with the
   eleven conversions of printf, GUIDs took a twelfth of fuzz_nmr_contract's time. */
static VOID format_guid(char *buffer, size_t size, const GUID *guid)
{
    char text[] = "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}";
    put_hex(text + 1, guid->Data1, 8);
    put_hex(text + 10, guid->Data2, 4);
    put_hex(text + 15, guid->Data3, 4);
    put_hex(text + 20, guid->Data4[0], 2);
    put_hex(text + 22, guid->Data4[1], 2);
    for (ULONG i = 2; i < 8; i++) {
        put_hex(text + 25 + 2 * (i - 2), guid->Data4[i], 2);
    }
    RtlStringCbCopyA(buffer, size, text);
}

static VOID format_module_id(char *buffer, size_t size, const NPI_MODULEID *module_id)
{
    if (module_id->Type == MIT_GUID) {
        format_guid(buffer, size, &module_id->Guid);
    } else if (module_id->Type == MIT_IF_LUID) {
        RtlStringCbPrintfA(buffer, size, "luid:%lx:%lx", module_id->IfLuid.HighPart,
                           module_id->IfLuid.LowPart);
    } else {
        RtlStringCbPrintfA(buffer, size, "type%d", (int)module_id->Type);
    }
}

/* Print one verifier line: "*** NMR VERIFIER <kind> <rule>: <function>: <message>; ..." */
/* Calibratable rules (nmr_module.h) and their levels. Set by the harness between runs, read
   by any thread; a torn read is impossible for an enum written whole. */
static const char *const calibrated_rules[] = {"R8", "R10", "A9", "D5.early"};
static nmr_rule_level_t calibrated_levels[RTL_NUMBER_OF(calibrated_rules)];

static LONG calibrated_rule_index(const char *rule)
{
    for (ULONG i = 0; i < RTL_NUMBER_OF(calibrated_rules); i++) {
        const char *a = calibrated_rules[i];
        const char *b = rule;
        while (*a != '\0' && *a == *b) {
            a++;
            b++;
        }
        if (*a == '\0' && *b == '\0') {
            return (LONG)i;
        }
    }
    return -1;
}

NTSTATUS nmr_verifier_set_rule_level(const char *rule, nmr_rule_level_t level)
{
    LONG index = calibrated_rule_index(rule);
    if (index < 0 || level > NMR_RULE_LEVEL_STOP) {
        return STATUS_NOT_SUPPORTED;
    }
    calibrated_levels[index] = level;
    return STATUS_SUCCESS;
}

nmr_rule_level_t nmr_verifier_rule_level(const char *rule)
{
    LONG index = calibrated_rule_index(rule);
    return index < 0 ? NMR_RULE_LEVEL_DEFAULT : calibrated_levels[index];
}

static const char *level_name(nmr_rule_level_t level)
{
    return level == NMR_RULE_LEVEL_OFF ? "off" : level == NMR_RULE_LEVEL_WARN ? "warn" : "stop";
}

/* Print one verifier line: "*** NMR VERIFIER <kind> <rule>: <function>: <message>; ..."; a
   rule whose level was set ends with "[level <key>=<level>]". */
static VOID print_verifier_line(const char *kind, const char *rule, const char *function,
                                HANDLE handle, const nmr_registration_t *registration,
                                const char *level_key, const char *format, va_list arguments)
{
    /* The text buffers are strings: only their first characters are set (initializers
       zero-filled all 64 bytes of each at every warning and stop). */
    char level_note[NAME_CHARS];
    level_note[0] = '\0';
    nmr_rule_level_t level =
        level_key != NULL ? nmr_verifier_rule_level(level_key) : NMR_RULE_LEVEL_DEFAULT;
    if (level != NMR_RULE_LEVEL_DEFAULT) {
        RtlStringCbPrintfA(level_note, sizeof(level_note), " [level %s=%s]", level_key,
                           level_name(level));
    }
    char message[MESSAGE_CHARS];
    char module[NAME_CHARS];
    char npi[NAME_CHARS];
    module[0] = npi[0] = '-';
    module[1] = npi[1] = '\0';
    RtlStringCbVPrintfA(message, sizeof(message), format, arguments);
    if (registration != NULL) {
        format_module_id(module, sizeof(module), &registration->module_id);
        format_guid(npi, sizeof(npi), &registration->npi_id);
    }
    const char *role = registration == NULL                   ? ""
                       : registration->role == NMR_ROLE_CLIENT ? "client "
                                                               : "provider ";
    DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_ERROR_LEVEL,
               "*** NMR VERIFIER %s %s: %s: %s; handle 0x%llx; %smodule %s; NPI %s%s\n", kind, rule,
               function, message, (unsigned long long)(ULONG_PTR)handle, role, module, npi,
               level_note);
}

/* nmr_verifier_stop and nmr_verifier_report_hang are not instrumented by ASan: clang puts
   __asan_handle_no_return (a sigaltstack call and a clear of the stack's shadow) before every
   call of a noreturn function in instrumented code, so once per frame on the way down to the
   bugcheck, and ASan's longjmp interceptor runs it again when a stop trap catches the
   bugcheck: that last one is all the unwinding needs (with the shim's frames, a caught stop
   made about six such calls, 4% of fuzz_nmr_contract). Both only keep a va_list or a short
   buffer; what they format and print is done by instrumented callees (print_verifier_line,
   print_hang and below). nmr_verifier_warn and nmr_verifier_calibrated stay instrumented:
   an uninstrumented function does not inline instrumented ones, so their level lookups would
   become calls with edges of their own (libFuzzer would see other edges), and one extra call
   on a fatal warning is cheap. */
#if defined(__GNUC__)
#define NMR_BUGCHECK_PATH __attribute__((no_sanitize("address")))
#else
#define NMR_BUGCHECK_PATH
#endif

NMR_BUGCHECK_PATH VOID nmr_verifier_stop(const char *rule, const char *function, HANDLE handle,
                                         const nmr_registration_t *registration,
                                         const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    print_verifier_line("STOP", rule, function, handle, registration, NULL, format, arguments);
    va_end(arguments);
    KeBugCheckEx(NMR_INVALID_STATE, (ULONG_PTR)rule, (ULONG_PTR)handle, (ULONG_PTR)registration, 0);
}

BOOLEAN nmr_verifier_calibrated(const char *level_key, const char *rule, const char *function,
                                HANDLE handle, const nmr_registration_t *registration,
                                const char *format, ...)
{
    nmr_rule_level_t level = nmr_verifier_rule_level(level_key);
    if (level == NMR_RULE_LEVEL_OFF) {
        return FALSE;
    }
    va_list arguments;
    va_start(arguments, format);
    if (level == NMR_RULE_LEVEL_WARN) {
        InterlockedIncrement(&nmr_registrar.warning_count);
        InterlockedExchangePointer((PVOID volatile *)&nmr_registrar.last_warning_rule,
                                   (PVOID)rule);
        print_verifier_line("WARNING", rule, function, handle, registration, level_key, format,
                            arguments);
        va_end(arguments);
        return FALSE;
    }
    print_verifier_line("STOP", rule, function, handle, registration, level_key, format,
                        arguments);
    va_end(arguments);
    KeBugCheckEx(NMR_INVALID_STATE, (ULONG_PTR)rule, (ULONG_PTR)handle, (ULONG_PTR)registration, 0);
}

VOID nmr_verifier_warn(const char *rule, const char *function, HANDLE handle,
                       const nmr_registration_t *registration, const char *format, ...)
{
    nmr_rule_level_t level = nmr_verifier_rule_level(rule);
    if (level == NMR_RULE_LEVEL_OFF) {
        return;
    }
    InterlockedIncrement(&nmr_registrar.warning_count);
    InterlockedExchangePointer((PVOID volatile *)&nmr_registrar.last_warning_rule, (PVOID)rule);
    /* The configuration is only changed between runs; a torn read is impossible for
       BOOLEANs and harmless for the printing decision. */
    nmr_verifier_config_t config = nmr_registrar.config;
    if (level == NMR_RULE_LEVEL_STOP) {
        config.warnings_are_fatal = TRUE;
    } else if (level == NMR_RULE_LEVEL_WARN) {
        config.warnings_are_fatal = FALSE;
        config.warnings_are_printed = TRUE;
    }
    va_list arguments;
    va_start(arguments, format);
    if (config.warnings_are_fatal) {
        print_verifier_line("STOP", rule, function, handle, registration, rule, format, arguments);
        va_end(arguments);
        KeBugCheckEx(NMR_INVALID_STATE, (ULONG_PTR)rule, (ULONG_PTR)handle,
                     (ULONG_PTR)registration, 1);
    }
    if (config.warnings_are_printed) {
        print_verifier_line("WARNING", rule, function, handle, registration, rule, format,
                            arguments);
    }
    va_end(arguments);
}

/* Two words of a structure as one 16-byte load: ASan checks it once, reading the shadow of
   both its 8-byte granules (every byte is still checked), and UBSan checks its alignment
   once; as two 8-byte loads each was checked twice. */
typedef ULONG64 nmr_word_pair_t __attribute__((vector_size(16), aligned(8)));

/* The characteristics' words (nmr_characteristics_words_t) as four pairs and a last word. */
typedef struct __attribute__((may_alias)) characteristics_pairs {
    nmr_word_pair_t version_attach;   /* version_length, attach */
    nmr_word_pair_t detach_cleanup;   /* detach, cleanup */
    nmr_word_pair_t instance_npi_id;  /* instance_version_size, npi_id */
    nmr_word_pair_t module_id_number; /* module_id, number */
    ULONG64 npi_specific;
} characteristics_pairs_t;
C_ASSERT(sizeof(characteristics_pairs_t) == sizeof(nmr_characteristics_words_t));
C_ASSERT(offsetof(characteristics_pairs_t, instance_npi_id) ==
         offsetof(nmr_characteristics_words_t, instance_version_size));
C_ASSERT(offsetof(characteristics_pairs_t, module_id_number) ==
         offsetof(nmr_characteristics_words_t, module_id));
C_ASSERT(offsetof(characteristics_pairs_t, npi_specific) ==
         offsetof(nmr_characteristics_words_t, npi_specific));

/* The bytes of the characteristics that are fields (all ones) and not padding (zero: the
   padding of an object with static storage is zero). Both roles' structures are laid out
   alike, so the client's mask serves the provider's characteristics too. */
#define NMR_ALL_ONES_POINTER(type) ((type)~(ULONG_PTR)0)
static const union {
    NPI_CLIENT_CHARACTERISTICS fields;
    nmr_characteristics_words_t words;
    characteristics_pairs_t pairs;
} characteristics_field_bytes = {
    .fields = {
        .Version = 0xFFFF,
        .Length = 0xFFFF,
        .ClientAttachProvider = NMR_ALL_ONES_POINTER(PNPI_CLIENT_ATTACH_PROVIDER_FN),
        .ClientDetachProvider = NMR_ALL_ONES_POINTER(PNPI_CLIENT_DETACH_PROVIDER_FN),
        .ClientCleanupBindingContext =
            NMR_ALL_ONES_POINTER(PNPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN),
        .ClientRegistrationInstance = {
            .Version = 0xFFFF,
            .Size = 0xFFFF,
            .NpiId = NMR_ALL_ONES_POINTER(PNPIID),
            .ModuleId = NMR_ALL_ONES_POINTER(PNPI_MODULEID),
            .Number = 0xFFFFFFFF,
            .NpiSpecificCharacteristics = NMR_ALL_ONES_POINTER(const VOID *),
        },
    },
};
C_ASSERT(sizeof(NPI_CLIENT_CHARACTERISTICS) == sizeof(nmr_characteristics_words_t));
C_ASSERT(offsetof(NPI_CLIENT_CHARACTERISTICS, ClientAttachProvider) ==
         offsetof(nmr_characteristics_words_t, attach));
C_ASSERT(offsetof(NPI_CLIENT_CHARACTERISTICS, ClientRegistrationInstance) ==
         offsetof(nmr_characteristics_words_t, instance_version_size));
C_ASSERT(offsetof(NPI_CLIENT_CHARACTERISTICS, ClientRegistrationInstance.NpiId) ==
         offsetof(nmr_characteristics_words_t, npi_id));
C_ASSERT(offsetof(NPI_CLIENT_CHARACTERISTICS, ClientRegistrationInstance.ModuleId) ==
         offsetof(nmr_characteristics_words_t, module_id));
C_ASSERT(offsetof(NPI_CLIENT_CHARACTERISTICS, ClientRegistrationInstance.Number) ==
         offsetof(nmr_characteristics_words_t, number));
C_ASSERT(sizeof(NPI_PROVIDER_CHARACTERISTICS) == sizeof(NPI_CLIENT_CHARACTERISTICS));
C_ASSERT(offsetof(NPI_PROVIDER_CHARACTERISTICS, Length) ==
         offsetof(NPI_CLIENT_CHARACTERISTICS, Length));
C_ASSERT(offsetof(NPI_PROVIDER_CHARACTERISTICS, ProviderAttachClient) ==
         offsetof(NPI_CLIENT_CHARACTERISTICS, ClientAttachProvider));
C_ASSERT(offsetof(NPI_PROVIDER_CHARACTERISTICS, ProviderDetachClient) ==
         offsetof(NPI_CLIENT_CHARACTERISTICS, ClientDetachProvider));
C_ASSERT(offsetof(NPI_PROVIDER_CHARACTERISTICS, ProviderCleanupBindingContext) ==
         offsetof(NPI_CLIENT_CHARACTERISTICS, ClientCleanupBindingContext));
C_ASSERT(offsetof(NPI_PROVIDER_CHARACTERISTICS, ProviderRegistrationInstance) ==
         offsetof(NPI_CLIENT_CHARACTERISTICS, ClientRegistrationInstance));

/* Applies WORD(name) to every word of the characteristics, joined by |. */
#define NMR_FOR_EACH_CHARACTERISTICS_WORD(WORD)                                                  \
    (WORD(version_length) | WORD(attach) | WORD(detach) | WORD(cleanup) |                       \
     WORD(instance_version_size) | WORD(npi_id) | WORD(module_id) | WORD(number) |              \
     WORD(npi_specific))

/* The module's characteristics as words (either role: the union's members share an address). */
static const nmr_characteristics_words_t *
characteristics_words(const nmr_registration_t *registration)
{
    return (const nmr_characteristics_words_t *)registration->characteristics.client;
}

VOID nmr_snapshot_characteristics(const nmr_registration_t *registration,
                                  nmr_characteristics_snapshot_t *snapshot)
{
    const nmr_characteristics_words_t *module = characteristics_words(registration);
#define SNAPSHOT_WORD(name) (snapshot->name = module->name & characteristics_field_bytes.words.name)
    (void)NMR_FOR_EACH_CHARACTERISTICS_WORD(SNAPSHOT_WORD);
#undef SNAPSHOT_WORD
}

/* A GUID of the module's as four ULONGs (a GUID is ULONG-aligned, so read a ULONG at a
   time), named rather than indexed: the sanitizers check an indexed element's pointer
   arithmetic too. */
typedef struct __attribute__((may_alias)) guid_words {
    ULONG word0, word1, word2, word3;
} guid_words_t;
C_ASSERT(sizeof(guid_words_t) == sizeof(GUID));

/* The registration's copies of the ids (npi_id, module_id: 8-byte aligned in it) read as
   whole 8- and 16-byte words, their ULONGs as lanes (x64 is little-endian: a ULONG64's low
   ULONG is the one at the lower address). */
typedef ULONG nmr_ulong_pair_t __attribute__((vector_size(8), aligned(8)));
typedef ULONG nmr_ulong_quad_t __attribute__((vector_size(16), aligned(8)));
typedef struct __attribute__((may_alias)) registered_module_id {
    nmr_ulong_pair_t length_type; /* Length and padding, Type */
    nmr_ulong_quad_t id;          /* Guid, or IfLuid and 8 unused bytes */
} registered_module_id_t;
C_ASSERT(sizeof(registered_module_id_t) == sizeof(NPI_MODULEID));
C_ASSERT(offsetof(NPI_MODULEID, Type) == sizeof(ULONG));
C_ASSERT(offsetof(NPI_MODULEID, Guid) == offsetof(registered_module_id_t, id));
C_ASSERT(offsetof(NPI_MODULEID, IfLuid.HighPart) ==
         offsetof(registered_module_id_t, id) + sizeof(ULONG));
C_ASSERT(offsetof(nmr_registration_t, npi_id) % 8 == 0);
C_ASSERT(offsetof(nmr_registration_t, module_id) % 8 == 0);
C_ASSERT(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__);

/* Whether *npi_id and *module_id (the module's NpiId and ModuleId pointers, as the
   characteristics hold them now) still hold what they held at registration: the identifier
   compared as its Type says, the LUID, else the GUID. Each byte of the module's ids is read
   once, and exactly the bytes the comparison needs. Without short-circuits, like
   characteristics_unchanged. */
static FORCEINLINE BOOLEAN identity_unchanged(const nmr_registration_t *registration,
                                              const GUID *npi_id, const NPI_MODULEID *module_id)
{
    const guid_words_t *npi = (const guid_words_t *)npi_id;
    nmr_ulong_quad_t registered_npi = *(const nmr_ulong_quad_t *)&registration->npi_id;
    const registered_module_id_t *registered =
        (const registered_module_id_t *)&registration->module_id;
    nmr_ulong_pair_t registered_length_type = registered->length_type;
    nmr_ulong_quad_t registered_id = registered->id;
    NPI_MODULEID_TYPE type = module_id->Type;
    ULONG difference = (npi->word0 ^ registered_npi[0]) | (npi->word1 ^ registered_npi[1]) |
                       (npi->word2 ^ registered_npi[2]) | (npi->word3 ^ registered_npi[3]) |
                       (module_id->Length ^ (USHORT)registered_length_type[0]) |
                       ((ULONG)type ^ registered_length_type[1]);
    if (type == MIT_IF_LUID) {
        return (difference | (module_id->IfLuid.LowPart ^ registered_id[0]) |
                ((ULONG)module_id->IfLuid.HighPart ^ registered_id[1])) == 0;
    }
    const guid_words_t *guid = (const guid_words_t *)&module_id->Guid;
    return (difference | (guid->word0 ^ registered_id[0]) | (guid->word1 ^ registered_id[1]) |
            (guid->word2 ^ registered_id[2]) | (guid->word3 ^ registered_id[3])) == 0;
}

/* Whether the module's characteristics still hold every field of the registration's snapshot
   (nmr_snapshot_characteristics), compared in place: no snapshot of the present is built at
   each callout, and every word is read from the module's memory once (ASan reports a module
   that freed its characteristics while registered), two words to a load. Without
   short-circuits, like identity_unchanged. Returns the NpiId and ModuleId pointers it read
   (for identity_unchanged: what they point to is compared next). */
static FORCEINLINE BOOLEAN characteristics_unchanged(const nmr_registration_t *registration,
                                                     const GUID **npi_id,
                                                     const NPI_MODULEID **module_id)
{
    /* UBSan checks the module's pointer's 8-byte alignment here, once: with the alignment
       assumed, the compiler knows each member's and checks none again (the member loads
       keep their null check; NmrRegister* refused NULL characteristics anyway). */
    const characteristics_pairs_t *module =
        __builtin_assume_aligned(registration->characteristics.client, 8);
    const characteristics_pairs_t *snapshot =
        (const characteristics_pairs_t *)&registration->characteristics_snapshot;
    const characteristics_pairs_t *fields = &characteristics_field_bytes.pairs;
    nmr_word_pair_t instance_npi_id = module->instance_npi_id;
    nmr_word_pair_t module_id_number = module->module_id_number;
    nmr_word_pair_t pairs =
        ((module->version_attach & fields->version_attach) ^ snapshot->version_attach) |
        ((module->detach_cleanup & fields->detach_cleanup) ^ snapshot->detach_cleanup) |
        ((instance_npi_id & fields->instance_npi_id) ^ snapshot->instance_npi_id) |
        ((module_id_number & fields->module_id_number) ^ snapshot->module_id_number);
    ULONG64 last = (module->npi_specific & fields->npi_specific) ^ snapshot->npi_specific;
    *npi_id = (const GUID *)(ULONG_PTR)instance_npi_id[1];
    *module_id = (const NPI_MODULEID *)(ULONG_PTR)module_id_number[0];
    return (pairs[0] | pairs[1] | last) == 0;
}

/* The stops of nmr_verifier_check_characteristics, out of its line (their arguments, kept
   until the end, took registers and stack slots of the checks). */
static DECLSPEC_NOINLINE DECLSPEC_NORETURN VOID
stop_characteristics_changed(const nmr_registration_t *registration, const char *function,
                             HANDLE handle)
{
    nmr_verifier_stop("R1", function, handle, registration,
                      "the module's %s characteristics changed while registered (they are "
                      "referenced, not copied, until NmrWaitFor* returns)",
                      registration->role == NMR_ROLE_CLIENT ? "client" : "provider");
}

static DECLSPEC_NOINLINE DECLSPEC_NORETURN VOID
stop_identity_changed(const nmr_registration_t *registration, const char *function,
                      HANDLE handle)
{
    nmr_verifier_stop("R3", function, handle, registration,
                      "the NpiId or ModuleId the registration instance points to changed "
                      "while registered");
}

VOID nmr_verifier_check_characteristics(const nmr_registration_t *registration,
                                        const char *function, HANDLE handle)
{
    const GUID *npi_id;
    const NPI_MODULEID *module_id;
    if (!characteristics_unchanged(registration, &npi_id, &module_id)) {
        stop_characteristics_changed(registration, function, handle);
    }
    if (!identity_unchanged(registration, npi_id, module_id)) {
        stop_identity_changed(registration, function, handle);
    }
}

static const char *callout_name(nmr_callout_kind_t kind)
{
    switch (kind) {
    case NMR_CALLOUT_CLIENT_ATTACH:
        return "ClientAttachProvider";
    case NMR_CALLOUT_PROVIDER_ATTACH:
        return "ProviderAttachClient";
    case NMR_CALLOUT_CLIENT_DETACH:
        return "ClientDetachProvider";
    case NMR_CALLOUT_PROVIDER_DETACH:
        return "ProviderDetachClient";
    case NMR_CALLOUT_CLIENT_CLEANUP:
        return "ClientCleanupBindingContext";
    case NMR_CALLOUT_PROVIDER_CLEANUP:
        return "ProviderCleanupBindingContext";
    }
    return "?";
}

VOID nmr_callout_begin(nmr_callout_t *callout, nmr_binding_t *binding, nmr_callout_kind_t kind,
                       BOOLEAN raise_to_dispatch)
{
    const char *name = callout_name(kind);
    PKTHREAD owner =
        ReadPointerAcquire((PVOID volatile *)&nmr_registrar.lock_owner);
    if (owner == KeGetCurrentThread()) {
        nmr_verifier_stop("INTERNAL", name, NULL, NULL,
                          "callout into a module with the registrar lock held");
    }
    nmr_verifier_check_characteristics(binding->client, name, NULL);
    nmr_verifier_check_characteristics(binding->provider, name, NULL);
    callout->thread = KeGetCurrentThread();
    callout->binding = binding;
    callout->kind = kind;
    callout->raised = FALSE;
    KIRQL old_irql = nmr_lock();
    InsertTailList(&nmr_registrar.callouts, &callout->link);
    nmr_unlock(old_irql);
    if (raise_to_dispatch && KeGetCurrentIrql() < DISPATCH_LEVEL) {
        KeRaiseIrql(DISPATCH_LEVEL, &callout->old_irql);
        callout->raised = TRUE;
    }
}

VOID nmr_callout_end(nmr_callout_t *callout)
{
    if (callout->raised) {
        KeLowerIrql(callout->old_irql);
    }
    KIRQL old_irql = nmr_lock();
    RemoveEntryList(&callout->link);
    nmr_unlock(old_irql);
}

BOOLEAN nmr_callout_active_for(const nmr_registration_t *registration)
{
    PKTHREAD self = KeGetCurrentThread();
    PLIST_ENTRY head = &nmr_registrar.callouts;
    for (PLIST_ENTRY entry = head->Flink; entry != head; entry = entry->Flink) {
        nmr_callout_t *callout = CONTAINING_RECORD(entry, nmr_callout_t, link);
        if (callout->thread == self && (callout->binding->client == registration ||
                                        callout->binding->provider == registration)) {
            return TRUE;
        }
    }
    return FALSE;
}

/* One entry per unfinished binding of registration. Lock held. */
static VOID print_unfinished_bindings(const nmr_registration_t *registration)
{
    PLIST_ENTRY head = &nmr_registrar.bindings;
    for (PLIST_ENTRY entry = head->Flink; entry != head; entry = entry->Flink) {
        nmr_binding_t *binding = CONTAINING_RECORD(entry, nmr_binding_t, link);
        if (binding->client != registration && binding->provider != registration) {
            continue;
        }
        char client_module[NAME_CHARS], provider_module[NAME_CHARS];
        format_module_id(client_module, sizeof(client_module), &binding->client->module_id);
        format_module_id(provider_module, sizeof(provider_module), &binding->provider->module_id);
        DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_ERROR_LEVEL,
                   "    binding (client-side handle 0x%llx, provider-side handle 0x%llx) "
                   "between client %s and provider %s is %s\n"
                   "        client side: %s\n"
                   "        provider side: %s\n",
                   (unsigned long long)(ULONG_PTR)nmr_handle_make(binding->client_side.serial,
                                                                  NMR_HANDLE_CLIENT_BINDING),
                   (unsigned long long)(ULONG_PTR)nmr_handle_make(binding->provider_side.serial,
                                                                  NMR_HANDLE_PROVIDER_BINDING),
                   client_module, provider_module, nmr_binding_state_name(binding->state),
                   nmr_side_state_name(binding->client_side.state, TRUE),
                   nmr_side_state_name(binding->provider_side.state, FALSE));
    }
}

static VOID print_hang(const nmr_registration_t *registration, const char *function,
                       HANDLE handle, const char *why)
{
    char module[NAME_CHARS], npi[NAME_CHARS];
    format_module_id(module, sizeof(module), &registration->module_id);
    format_guid(npi, sizeof(npi), &registration->npi_id);
    DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_ERROR_LEVEL,
               "*** NMR VERIFIER STOP D4: %s: %s; %lu binding(s) unfinished (a detach returned "
               "STATUS_PENDING and its DetachComplete never came, or a callback blocks); handle "
               "0x%llx; %s module %s; NPI %s\n",
               function, why, registration->binding_count,
               (unsigned long long)(ULONG_PTR)handle,
               registration->role == NMR_ROLE_CLIENT ? "client" : "provider", module, npi);
    print_unfinished_bindings(registration);
}

NMR_BUGCHECK_PATH VOID nmr_verifier_report_hang(const nmr_registration_t *registration,
                                                const char *function, HANDLE handle,
                                                ULONG timeout_ms)
{
    char why[NAME_CHARS];
    RtlStringCbPrintfA(why, sizeof(why), "no binding finished for %lu ms",
                       timeout_ms);
    print_hang(registration, function, handle, why);
    KeBugCheckEx(NMR_INVALID_STATE, (ULONG_PTR)"D4", (ULONG_PTR)handle, (ULONG_PTR)registration, 2);
}

ULONG nmr_report_blocked_waits(VOID)
{
    ULONG waits = 0;
    KIRQL old_irql = nmr_lock();
    PLIST_ENTRY heads[] = {&nmr_registrar.clients, &nmr_registrar.providers};
    for (ULONG i = 0; i < RTL_NUMBER_OF(heads); i++) {
        for (PLIST_ENTRY entry = heads[i]->Flink; entry != heads[i]; entry = entry->Flink) {
            nmr_registration_t *registration = CONTAINING_RECORD(entry, nmr_registration_t, link);
            if (!registration->wait_in_progress) {
                continue;
            }
            waits++;
            print_hang(registration,
                       registration->role == NMR_ROLE_CLIENT
                           ? "NmrWaitForClientDeregisterComplete"
                           : "NmrWaitForProviderDeregisterComplete",
                       nmr_handle_make(registration->serial,
                                       registration->role == NMR_ROLE_CLIENT
                                           ? NMR_HANDLE_CLIENT_REGISTRATION
                                           : NMR_HANDLE_PROVIDER_REGISTRATION),
                       "blocked, and no thread can make progress");
        }
    }
    nmr_unlock(old_irql);
    return waits;
}

const char *nmr_status_name(NTSTATUS status)
{
    switch (status) {
    case STATUS_SUCCESS:
        return "STATUS_SUCCESS";
    case STATUS_PENDING:
        return "STATUS_PENDING";
    case STATUS_NOINTERFACE:
        return "STATUS_NOINTERFACE";
    case STATUS_UNSUCCESSFUL:
        return "STATUS_UNSUCCESSFUL";
    case STATUS_INVALID_PARAMETER:
        return "STATUS_INVALID_PARAMETER";
    case STATUS_INSUFFICIENT_RESOURCES:
        return "STATUS_INSUFFICIENT_RESOURCES";
    case STATUS_NO_MEMORY:
        return "STATUS_NO_MEMORY";
    case STATUS_NOT_SUPPORTED:
        return "STATUS_NOT_SUPPORTED";
    case STATUS_TIMEOUT:
        return "STATUS_TIMEOUT";
    }
    return NT_SUCCESS(status) ? "a success status" : "an error status";
}
