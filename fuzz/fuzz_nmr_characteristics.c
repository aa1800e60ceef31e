/* SPDX-License-Identifier: MIT */
/*
 * fuzz_nmr_characteristics.c - fuzz target of the registration arguments of the registrar.
 *
 * The input describes up to 3 clients and 3 providers field by field: every field of
 * NPI_CLIENT_CHARACTERISTICS / NPI_PROVIDER_CHARACTERISTICS, of the embedded
 * NPI_REGISTRATION_INSTANCE and of its NPI_MODULEID (Version, Length, Size mostly right,
 * sometimes wrong; NULL or valid pointers; NULL callbacks; module-id types MIT_GUID,
 * MIT_IF_LUID or invalid values; NpiId from a pool of 3 GUIDs, sometimes an equal GUID
 * value at another address; Number; NPI-specific data). The modules are registered in an
 * input-chosen order, attach as well-behaved modules that always accept, and are then all
 * deregistered and waited for. It is not a concurrency or fault-injection target (see
 * fuzz_nmr_ops and fuzz_nmr_schedule): everything runs on the main thread, no fault is armed.
 *
 * Oracles (docs/behaviour.md, "NmrRegisterClient / NmrRegisterProvider"):
 *   - NmrRegister* returns STATUS_INVALID_PARAMETER exactly when the characteristics pointer,
 *     the handle out pointer, the attach or detach callback, NpiId or ModuleId is NULL, or
 *     the characteristics Length is less than sizeof, and STATUS_SUCCESS otherwise; on success the out handle is non-NULL and new;
 *   - every NmrRegister* call adds exactly the predicted number of verifier warnings, all
 *     R10: one for an invalid call; otherwise one per mismatch among characteristics Version,
 *     Length, instance Size, ModuleId Length and ModuleId Type (instance Version, Number and
 *     NpiSpecificCharacteristics are never warned about); no other call warns;
 *   - bindings are exactly the client/provider pairs of successful registrations whose NpiId
 *     GUID values are equal (whatever their addresses, Number, ModuleId, versions and NPI
 *     data); each is attached once, inside the later registration of the two, with the
 *     peer's own embedded registration instance and the module's own context, and peers
 *     reached in their registration order; NmrClientAttachProvider returns the provider's
 *     STATUS_SUCCESS with its out values;
 *   - every binding gets one detach per side, inside a deregistration of one of its modules,
 *     and one cleanup per side that has a cleanup callback, after both detaches;
 *     NmrDeregister* returns STATUS_PENDING, NmrWaitFor* STATUS_SUCCESS;
 *   - end of input: nmr_live_object_count() == 0, nmr_check_invariants(),
 *     kshim_audit(pool baseline), nmr_reset() == 0.
 * An oracle failure prints "*** FUZZ ORACLE: <reason>" and the last events, then aborts.
 *
 * Input format (a missing byte reads as 0). Every decision has a label: its name on the
 * input lines of the timeline (replay -print) and in text inputs (replay -text / -encode;
 * fuzz/README.md, "Inputs as text"); "no|yes" fields are one bit (1 = yes).
 *   byte 0  bits0-1 clients=0..3, bits2-3 providers=0..3, bit4 deregister=in_order|reversed
 *           (in reverse registration order), bit5 provider_detach_first=no|yes,
 *           bit6 detach_at_dispatch=no|yes, bit7 cleanup_at_dispatch=no|yes
 *   byte 1  order: bit k-1 regK=client|provider = the k-th registration is a provider
 *           (while both kinds remain; reg1..reg6)
 *   then 7 bytes per module, in registration order (its input lines show the module's
 *   name in the thread column):
 *     P  pointers: bit7 nulls=ignored|apply: ignored = all required pointers valid; apply =
 *        bit0 null_chars (NULL characteristics), bit1 null_handle (NULL handle out pointer),
 *        bit2 null_attach, bit3 null_detach, bit4 null_npi (NULL NpiId), bit5 null_module_id,
 *        each no|yes (bit6 unused)
 *     V  sizes: bit7 wrongs=ignored|apply: ignored = all right; apply = bit0 bad_version
 *        (characteristics Version wrong), bit1 bad_length, bit2 bad_size (instance Size),
 *        bit3 bad_id_length (ModuleId Length), bit4 bad_id_type (ModuleId Type invalid),
 *        each no|yes (bits5-6 unused)
 *     X  wrong_by=X: the wrong values: Version 1+X; Length, Size, ModuleId Length
 *        sizeof ^ (1+X); invalid Type 0, 3 or 0x100+X for X%3 = 0, 1, 2
 *     I  identity: bits0-1 npi=0|1|2|0 (NPI index %3), bit2 npi_copy=no|yes (NpiId is a
 *        copy of the pool GUID at the module's own address), bit3 id_type=guid|luid
 *        (MIT_GUID or MIT_IF_LUID), bit4 cleanup=yes|no (bit set: no cleanup callback),
 *        bit5 npi_data=no|yes (NpiSpecificCharacteristics non-NULL), bits6-7
 *        instance_version=0..3
 *     M  module_id=M: module id value (GUID Data1/Data4 or LUID parts)
 *     N  number=N: Number = N * 0x01000193
 *     S  npi_byte=S: NPI-specific data byte
 * Bytes after the last module are not read (unread= on the input lines).
 * fuzz/examples/fuzz_nmr_characteristics-*.txt are hand-written text inputs.
 *
 * Standalone (any build, no libFuzzer):
 *     build/<preset>/fuzz/fuzz_nmr_characteristics_replay [-runs=N] [-print] \
 *         corpus/fuzz_nmr_characteristics
 * Text inputs (input lines, as -print shows them; fuzz/README.md, "Inputs as text"):
 *     build/<preset>/fuzz/fuzz_nmr_characteristics_replay -text [-print] fuzz/examples/fuzz_nmr_characteristics-*.txt
 *     build/<preset>/fuzz/fuzz_nmr_characteristics_replay -encode=OUT.bin TEXTFILE
 * Fuzzing (fuzz preset):
 *     build/fuzz/fuzz/fuzz_nmr_characteristics -max_len=256 corpus-work/ \
 *         corpus/fuzz_nmr_characteristics
 * Target functions: NmrRegisterClient, NmrRegisterProvider (argument validation, verifier
 * R10, NPI matching), NmrClientAttachProvider, NmrDeregisterClient, NmrDeregisterProvider,
 * NmrWaitForClientDeregisterComplete, NmrWaitForProviderDeregisterComplete.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netioddk.h>
#include <nmr_module.h>
#include <kshim/kshim.h>

#include "fuzz_input.h"
#include "fuzz_module.h"
#include "fuzz_handles.h"
#include "fuzz_run.h"

#define MAX_ROLE 3       /* clients, and providers */
#define MAX_MODULES 6
#define NPI_COUNT 3
#define MODULE_MAGIC 0x43687273u /* "Chrs" */

/* Pre-set into out parameters to see whether they were written. */
static char unwritten_marker;
#define UNWRITTEN ((void *)&unwritten_marker)

typedef struct npi_data {
    uint32_t magic;
    uint8_t value;
} npi_data_t;

typedef struct module {
    uint32_t magic;
    bool is_client;
    unsigned index;
    const char *name;
    /* Decoded input. */
    uint8_t ptr_bits, size_bits, wrong, ident, id_value, number_byte, data_byte;
    bool null_chars, null_handle, null_attach, null_detach, null_npi, null_module_id;
    bool has_cleanup;
    unsigned npi;
    /* Predictions. */
    NTSTATUS expected_status;
    unsigned expected_warnings;
    /* State. */
    bool registering; /* inside its NmrRegister* */
    bool registered;  /* NmrRegister* returned STATUS_SUCCESS */
    bool deregistering;
    unsigned reg_order; /* 1-based order among successful registrations */
    HANDLE handle;
    unsigned handle_ordinal;
    NPIID npi_copy;
    NPI_MODULEID module_id;
    npi_data_t data;
    fuzz_characteristics_t chars;
    uint32_t dispatch; /* the module's dispatch table (contents irrelevant) */
} module_t;

typedef struct pair_side {
    unsigned pair; /* index into w.pairs */
    bool is_client;
} pair_side_t;

typedef struct pair {
    unsigned attach;          /* ClientAttachProvider calls */
    unsigned provider_attach; /* ProviderAttachClient calls */
    bool attached;            /* NmrClientAttachProvider returned SUCCESS */
    unsigned detach[2];       /* [0] client, [1] provider */
    unsigned cleanup[2];
    pair_side_t side[2]; /* binding contexts */
} pair_t;

static const NPIID npi_ids[NPI_COUNT] = {
    {0x6e6d7211, 0x0011, 0x4e50, {0x49, 0x01, 0x6e, 0x6d, 0x72, 0x6b, 0x69, 0x74}},
    {0x6e6d7212, 0x0012, 0x4e50, {0x49, 0x01, 0x6e, 0x6d, 0x72, 0x6b, 0x69, 0x74}},
    {0x6e6d7213, 0x0013, 0x4e50, {0x49, 0x01, 0x6e, 0x6d, 0x72, 0x6b, 0x69, 0x74}},
};
static const char *const module_names[2][MAX_ROLE] = {{"P0", "P1", "P2"}, {"C0", "C1", "C2"}};
/* "<NmrRegister* function> <module name>": what the handle ledger names a registration handle. */
static const char *const registration_names[2][MAX_ROLE] = {
    {"NmrRegisterProvider P0", "NmrRegisterProvider P1", "NmrRegisterProvider P2"},
    {"NmrRegisterClient C0", "NmrRegisterClient C1", "NmrRegisterClient C2"}};

/* The whole state of one input; reset at the start of every input. */
static struct world {
    fuzz_input_t in;
    nmr_verifier_config_t config;
    unsigned client_count, provider_count;
    module_t clients[MAX_ROLE];
    module_t providers[MAX_ROLE];
    module_t *order[MAX_MODULES]; /* registration order */
    unsigned module_count;
    pair_t pairs[MAX_ROLE * MAX_ROLE]; /* [client * MAX_ROLE + provider] */
    unsigned long expected_warnings;
    unsigned reg_counter;
    module_t *registering;          /* module inside NmrRegister* */
    unsigned last_peer_order;       /* peers of the current register reached so far */
    pair_t *attaching;              /* pair whose ClientAttachProvider is running */
    module_t *deregistering;        /* module inside NmrDeregister* */
    unsigned long callbacks;
} w;

/* ------------------------------------------------------------------------------------------ */
/* Oracle failures                                                                            */
/* ------------------------------------------------------------------------------------------ */

/* The w.pairs slot of client number client_index and provider number provider_index.
   Arithmetic only (no load, so no sanitizer check and no edge), always inlined: the
   (ignorelisted) oracle checks index pairs in loops with it without a call. */
static inline __attribute__((always_inline)) unsigned pair_slot(unsigned client_index,
                                                                unsigned provider_index)
{
    return client_index * MAX_ROLE + provider_index;
}

static __attribute__((noinline)) unsigned pair_index(const module_t *client,
                                                     const module_t *provider)
{
    return pair_slot(client->index, provider->index);
}

static __attribute__((noinline))
module_t *module_from_context(PVOID context, bool is_client, const char *callback)
{
    module_t *m = context;
    module_t *array = is_client ? w.clients : w.providers;
    if (m < array || m >= array + MAX_ROLE || m->magic != MODULE_MAGIC) {
        fuzz_oracle_fail("%s received a context that is not one of the %s modules", callback,
                    is_client ? "client" : "provider");
    }
    if (!m->registering && !m->registered) {
        fuzz_oracle_fail("%s reached %s, which is not registered", callback, m->name);
    }
    return m;
}

/* The module whose embedded registration instance this is, or an oracle failure. */
static __attribute__((noinline))
module_t *module_from_instance(PNPI_REGISTRATION_INSTANCE instance, bool is_client,
                               const char *callback)
{
    module_t *array = is_client ? w.clients : w.providers;
    for (unsigned i = 0; i < MAX_ROLE; i++) {
        const NPI_REGISTRATION_INSTANCE *own = is_client
                                                   ? &array[i].chars.client.ClientRegistrationInstance
                                                   : &array[i].chars.provider.ProviderRegistrationInstance;
        if (instance == own) {
            return &array[i];
        }
    }
    fuzz_oracle_fail("%s received a registration instance that is not a %s's own embedded one",
                callback, is_client ? "client" : "provider");
}

static __attribute__((noinline))
pair_side_t *side_from_context(PVOID context, bool is_client, const char *callback)
{
    pair_side_t *s = context;
    const char *base = (const char *)w.pairs;
    const char *p = (const char *)s;
    if (p < base || p >= base + sizeof w.pairs) {
        fuzz_oracle_fail("%s received a binding context that is not one of ours", callback);
    }
    size_t offset = (size_t)(p - base) % sizeof(pair_t);
    size_t expected = offsetof(pair_t, side) + (is_client ? 0 : sizeof(pair_side_t));
    if (offset != expected || s->is_client != is_client) {
        fuzz_oracle_fail("%s received the binding context of the other side", callback);
    }
    return s;
}

static const char *pair_name(unsigned pair)
{
    static const char *const names[MAX_ROLE * MAX_ROLE] = {
        "C0-P0", "C0-P1", "C0-P2", "C1-P0", "C1-P1", "C1-P2", "C2-P0", "C2-P1", "C2-P2"};
    return names[pair];
}

/* ------------------------------------------------------------------------------------------ */
/* Module callbacks                                                                           */
/* ------------------------------------------------------------------------------------------ */

static NTSTATUS client_attach_provider(HANDLE binding_handle, PVOID client_context,
                                       PNPI_REGISTRATION_INSTANCE provider_instance)
{
    w.callbacks++;
    module_t *c = module_from_context(client_context, true, "ClientAttachProvider");
    module_t *p = module_from_instance(provider_instance, false, "ClientAttachProvider");
    unsigned index = pair_index(c, p);
    pair_t *pair = &w.pairs[index];
    fuzz_trace_enter();
    fuzz_trace_event("ClientAttachProvider %s <- %s (binding %s)", c->name, p->name,
                     pair_name(index));
    if (w.registering != c && w.registering != p) {
        fuzz_oracle_fail("ClientAttachProvider %s <- %s outside the registration of either",
                    c->name, p->name);
    }
    module_t *peer = w.registering == c ? p : c;
    if (!peer->registered || peer->deregistering) {
        fuzz_oracle_fail("ClientAttachProvider %s <- %s: peer %s is not registered and active",
                    c->name, p->name, peer->name);
    }
    if (c->npi != p->npi) {
        fuzz_oracle_fail("ClientAttachProvider %s <- %s across NPIs %u and %u", c->name, p->name,
                    c->npi, p->npi);
    }
    if (peer->reg_order <= w.last_peer_order) {
        fuzz_oracle_fail("ClientAttachProvider %s <- %s: peers not reached in registration order",
                    c->name, p->name);
    }
    w.last_peer_order = peer->reg_order;
    if (pair->attach++ != 0) {
        fuzz_oracle_fail("ClientAttachProvider %s <- %s called twice", c->name, p->name);
    }
    if (binding_handle == NULL) {
        fuzz_oracle_fail("ClientAttachProvider %s <- %s: NULL binding handle", c->name, p->name);
    }
    if (provider_instance->NpiId == NULL || !IsEqualGUID(provider_instance->NpiId, &npi_ids[c->npi])) {
        fuzz_oracle_fail("ClientAttachProvider %s <- %s: provider instance NpiId changed", c->name,
                    p->name);
    }

    PVOID provider_context = UNWRITTEN;
    const VOID *provider_dispatch = UNWRITTEN;
    w.attaching = pair;
    fuzz_trace_enter();
    fuzz_trace_event("NmrClientAttachProvider(%s)", pair_name(index));
    NTSTATUS status = NmrClientAttachProvider(binding_handle, &pair->side[0], &c->dispatch,
                                              &provider_context, &provider_dispatch);
    fuzz_trace_event("NmrClientAttachProvider -> %s", fuzz_status_str(status));
    fuzz_trace_leave();
    w.attaching = NULL;
    if (status != STATUS_SUCCESS) {
        fuzz_oracle_fail("NmrClientAttachProvider %s <- %s returned %s, the provider accepted",
                    c->name, p->name, fuzz_status_str(status));
    }
    if (pair->provider_attach != 1) {
        fuzz_oracle_fail("NmrClientAttachProvider %s <- %s called ProviderAttachClient %u time(s)",
                    c->name, p->name, pair->provider_attach);
    }
    if (provider_context != &pair->side[1] || provider_dispatch != &p->dispatch) {
        fuzz_oracle_fail("NmrClientAttachProvider %s <- %s: out values are not the provider's",
                    c->name, p->name);
    }
    pair->attached = true;
    fuzz_trace_event("ClientAttachProvider returns STATUS_SUCCESS");
    fuzz_trace_leave();
    return status;
}

static NTSTATUS provider_attach_client(HANDLE binding_handle, PVOID provider_context,
                                       PNPI_REGISTRATION_INSTANCE client_instance,
                                       PVOID client_binding_context, const VOID *client_dispatch,
                                       PVOID *provider_binding_context,
                                       const VOID **provider_dispatch)
{
    w.callbacks++;
    module_t *p = module_from_context(provider_context, false, "ProviderAttachClient");
    module_t *c = module_from_instance(client_instance, true, "ProviderAttachClient");
    unsigned index = pair_index(c, p);
    pair_t *pair = &w.pairs[index];
    fuzz_trace_enter();
    fuzz_trace_event("ProviderAttachClient %s <- %s", p->name, c->name);
    if (w.attaching != pair) {
        fuzz_oracle_fail("ProviderAttachClient %s <- %s outside that pair's NmrClientAttachProvider",
                    p->name, c->name);
    }
    if (pair->provider_attach++ != 0) {
        fuzz_oracle_fail("ProviderAttachClient %s <- %s called twice", p->name, c->name);
    }
    if (binding_handle == NULL) {
        fuzz_oracle_fail("ProviderAttachClient %s <- %s: NULL binding handle", p->name, c->name);
    }
    if (client_binding_context != &pair->side[0] || client_dispatch != &c->dispatch) {
        fuzz_oracle_fail("ProviderAttachClient %s <- %s: not the client's binding context/dispatch",
                    p->name, c->name);
    }
    *provider_binding_context = &pair->side[1];
    *provider_dispatch = &p->dispatch;
    fuzz_trace_leave();
    return STATUS_SUCCESS;
}

static NTSTATUS detach(PVOID binding_context, bool is_client)
{
    const char *callback = is_client ? "ClientDetachProvider" : "ProviderDetachClient";
    w.callbacks++;
    pair_side_t *s = side_from_context(binding_context, is_client, callback);
    pair_t *pair = &w.pairs[s->pair];
    fuzz_trace_enter();
    fuzz_trace_event("%s %s", callback, pair_name(s->pair));
    fuzz_trace_leave();
    if (!pair->attached) {
        fuzz_oracle_fail("%s %s: the binding never attached", callback, pair_name(s->pair));
    }
    const module_t *c = &w.clients[s->pair / MAX_ROLE];
    const module_t *p = &w.providers[s->pair % MAX_ROLE];
    if (w.deregistering != c && w.deregistering != p) {
        fuzz_oracle_fail("%s %s outside the deregistration of either module", callback,
                    pair_name(s->pair));
    }
    if (pair->detach[is_client ? 0 : 1]++ != 0) {
        fuzz_oracle_fail("%s %s called twice", callback, pair_name(s->pair));
    }
    return STATUS_SUCCESS;
}

static NTSTATUS client_detach_provider(PVOID client_binding_context)
{
    return detach(client_binding_context, true);
}

static NTSTATUS provider_detach_client(PVOID provider_binding_context)
{
    return detach(provider_binding_context, false);
}

static void cleanup(PVOID binding_context, bool is_client)
{
    const char *callback =
        is_client ? "ClientCleanupBindingContext" : "ProviderCleanupBindingContext";
    w.callbacks++;
    pair_side_t *s = side_from_context(binding_context, is_client, callback);
    pair_t *pair = &w.pairs[s->pair];
    fuzz_trace_enter();
    fuzz_trace_event("%s %s", callback, pair_name(s->pair));
    fuzz_trace_leave();
    const module_t *m =
        is_client ? &w.clients[s->pair / MAX_ROLE] : &w.providers[s->pair % MAX_ROLE];
    if (!m->has_cleanup) {
        fuzz_oracle_fail("%s %s: the module registered no cleanup callback", callback,
                    pair_name(s->pair));
    }
    if (pair->detach[0] != 1 || pair->detach[1] != 1) {
        fuzz_oracle_fail("%s %s before both sides detached", callback, pair_name(s->pair));
    }
    if (pair->cleanup[is_client ? 0 : 1]++ != 0) {
        fuzz_oracle_fail("%s %s called twice", callback, pair_name(s->pair));
    }
}

static void client_cleanup(PVOID client_binding_context)
{
    cleanup(client_binding_context, true);
}

static void provider_cleanup(PVOID provider_binding_context)
{
    cleanup(provider_binding_context, false);
}

/* ------------------------------------------------------------------------------------------ */
/* Decoding and the reference function                                                        */
/* ------------------------------------------------------------------------------------------ */

/* ---- the input's decisions (labels and names of the input lines; header comment) ---- */

static const char *const no_yes[2] = {"no", "yes"};
static const char *const apply_names[2] = {"ignored", "apply"};
static const char *const role_names[2] = {"client", "provider"};
static const char *const order_names[2] = {"in_order", "reversed"};
static const char *const npi_names[4] = {"0", "1", "2", "0"};
static const char *const id_type_names[2] = {"guid", "luid"};
static const char *const cleanup_names[2] = {"yes", "no"};
static const fuzz_bits_t header_bits[6] = {
    {"clients", 2, NULL},           {"providers", 2, NULL},
    {"deregister", 1, order_names}, {"provider_detach_first", 1, no_yes},
    {"detach_at_dispatch", 1, no_yes}, {"cleanup_at_dispatch", 1, no_yes},
};
/* The k-th registration's role while both kinds remain (bit k of the order byte). */
static const fuzz_bits_t order_bits[MAX_MODULES] = {
    {"reg1", 1, role_names}, {"reg2", 1, role_names}, {"reg3", 1, role_names},
    {"reg4", 1, role_names}, {"reg5", 1, role_names}, {"reg6", 1, role_names},
};
/* P: NULL pointers, applied only with bit 7 ("nulls=apply"). */
static const fuzz_bits_t pointer_bits[8] = {
    {"null_chars", 1, no_yes},  {"null_handle", 1, no_yes}, {"null_attach", 1, no_yes},
    {"null_detach", 1, no_yes}, {"null_npi", 1, no_yes},    {"null_module_id", 1, no_yes},
    {NULL, 1, NULL},            {"nulls", 1, apply_names},
};
/* V: wrong sizes and type, applied only with bit 7 ("wrongs=apply"). */
static const fuzz_bits_t size_bits[7] = {
    {"bad_version", 1, no_yes},   {"bad_length", 1, no_yes}, {"bad_size", 1, no_yes},
    {"bad_id_length", 1, no_yes}, {"bad_id_type", 1, no_yes}, {NULL, 2, NULL},
    {"wrongs", 1, apply_names},
};
/* I: identity. */
static const fuzz_bits_t ident_bits[6] = {
    {"npi", 2, npi_names},          {"npi_copy", 1, no_yes},  {"id_type", 1, id_type_names},
    {"cleanup", 1, cleanup_names},  {"npi_data", 1, no_yes},  {"instance_version", 2, NULL},
};

static void decode_module(module_t *m)
{
    /* The packed fields cover the whole byte (8 bits each); only the byte is kept. */
    m->ptr_bits = (uint8_t)fuzz_take_packed_byte_as(&w.in, pointer_bits, 8, 8);
    m->size_bits = (uint8_t)fuzz_take_packed_byte_as(&w.in, size_bits, 7, 8);
    m->wrong = fuzz_take_u8_as(&w.in, "wrong_by");
    m->ident = (uint8_t)fuzz_take_packed_byte_as(&w.in, ident_bits, 6, 8);
    m->id_value = fuzz_take_u8_as(&w.in, "module_id");
    m->number_byte = fuzz_take_u8_as(&w.in, "number");
    m->data_byte = fuzz_take_u8_as(&w.in, "npi_byte");

    uint8_t nulls = (m->ptr_bits & 0x80) ? m->ptr_bits : 0;
    uint8_t wrongs = (m->size_bits & 0x80) ? m->size_bits : 0;
    USHORT x1 = (USHORT)(1u + m->wrong);
    m->null_chars = nulls & 1;
    m->null_handle = (nulls >> 1) & 1;
    m->null_attach = (nulls >> 2) & 1;
    m->null_detach = (nulls >> 3) & 1;
    m->null_npi = (nulls >> 4) & 1;
    m->null_module_id = (nulls >> 5) & 1;
    m->npi = (m->ident & 3) % NPI_COUNT;
    m->has_cleanup = !((m->ident >> 4) & 1);

    /* Module id. */
    m->module_id.Length = (wrongs & 8) ? (USHORT)(sizeof(NPI_MODULEID) ^ x1) : sizeof(NPI_MODULEID);
    if (wrongs & 16) {
        unsigned r = m->wrong % 3;
        m->module_id.Type = (NPI_MODULEID_TYPE)(r == 0 ? 0 : r == 1 ? 3 : 0x100 + m->wrong);
    } else {
        m->module_id.Type = (m->ident & 8) ? MIT_IF_LUID : MIT_GUID;
    }
    if (m->module_id.Type == MIT_IF_LUID) {
        m->module_id.IfLuid.LowPart = 0x10000u * m->id_value + m->index;
        m->module_id.IfLuid.HighPart = m->id_value;
    } else {
        fuzz_copy_guid(&m->module_id.Guid, &npi_ids[0]);
        m->module_id.Guid.Data1 = 0x4d000000u | m->id_value;
        m->module_id.Guid.Data4[7] = m->id_value;
    }
    fuzz_copy_guid(&m->npi_copy, &npi_ids[m->npi]);
    m->data.magic = 0x4e706944u;
    m->data.value = m->data_byte;

    /* The embedded instance is written field by field in place (every field; world_reset
       zeroed the module, padding included, and each module is decoded once per input), not
       built in a local and copied (an __asan_memcpy per module). */
    NPI_REGISTRATION_INSTANCE *instance;
    USHORT version = (wrongs & 1) ? x1 : 0;
    if (m->is_client) {
        NPI_CLIENT_CHARACTERISTICS *c = &m->chars.client;
        c->Version = version;
        c->Length = (wrongs & 2) ? (USHORT)(sizeof(*c) ^ x1) : sizeof(*c);
        c->ClientAttachProvider = m->null_attach ? NULL : client_attach_provider;
        c->ClientDetachProvider = m->null_detach ? NULL : client_detach_provider;
        c->ClientCleanupBindingContext = m->has_cleanup ? client_cleanup : NULL;
        instance = &c->ClientRegistrationInstance;
    } else {
        NPI_PROVIDER_CHARACTERISTICS *p = &m->chars.provider;
        p->Version = version;
        p->Length = (wrongs & 2) ? (USHORT)(sizeof(*p) ^ x1) : sizeof(*p);
        p->ProviderAttachClient = m->null_attach ? NULL : provider_attach_client;
        p->ProviderDetachClient = m->null_detach ? NULL : provider_detach_client;
        p->ProviderCleanupBindingContext = m->has_cleanup ? provider_cleanup : NULL;
        instance = &p->ProviderRegistrationInstance;
    }
    instance->Version = (USHORT)(m->ident >> 6);
    instance->Size = (wrongs & 4) ? (USHORT)(sizeof(NPI_REGISTRATION_INSTANCE) ^ x1)
                                  : sizeof(NPI_REGISTRATION_INSTANCE);
    instance->NpiId = m->null_npi ? NULL : (m->ident & 4) ? &m->npi_copy : &npi_ids[m->npi];
    instance->ModuleId = m->null_module_id ? NULL : &m->module_id;
    instance->Number = m->number_byte * 0x01000193u;
    instance->NpiSpecificCharacteristics = (m->ident & 0x20) ? &m->data : NULL;
}

/*
 * Reference function of docs/behaviour.md: the status NmrRegister* returns and the R10
 * warnings it adds, from the decoded fields alone (not from the structures the NMR reads).
 */
static __attribute__((noinline)) void predict(module_t *m)
{
    if (m->null_chars || m->null_handle || m->null_attach || m->null_detach || m->null_npi ||
        m->null_module_id) {
        m->expected_status = STATUS_INVALID_PARAMETER;
        m->expected_warnings = 1;
        return;
    }
    uint8_t wrongs = (m->size_bits & 0x80) ? m->size_bits : 0;
    size_t structure = m->is_client ? sizeof(NPI_CLIENT_CHARACTERISTICS)
                                    : sizeof(NPI_PROVIDER_CHARACTERISTICS);
    if ((wrongs & 2) && (structure ^ (1u + m->wrong)) < structure) {
        /* Shorter than the structure: refused before anything past Length is read. */
        m->expected_status = STATUS_INVALID_PARAMETER;
        m->expected_warnings = 1;
        return;
    }
    m->expected_status = STATUS_SUCCESS;
    m->expected_warnings = 0;
    for (unsigned bit = 0; bit < 5; bit++) {
        m->expected_warnings += (wrongs >> bit) & 1;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Operations                                                                                 */
/* ------------------------------------------------------------------------------------------ */

/* Always inlined into the trace events that call it (ignorelisted), so that it adds no
   edges of its own, whether or not the compiler would inline it. */
static inline __attribute__((always_inline)) const char *type_name(const module_t *m)
{
    switch (m->module_id.Type) {
    case MIT_GUID:
        return "guid";
    case MIT_IF_LUID:
        return "luid";
    default:
        return "invalid";
    }
}

/* The oracle checks below are out of line (noinline) so that the coverage ignorelist
   (cmake/fuzz-coverage-ignorelist.txt) keeps their branches out of libFuzzer's edges: each
   passes or fails, and its loops run the same count for every input. */

static __attribute__((noinline)) void check_warnings(const char *what, const module_t *m,
                                                     ULONG before)
{
    ULONG after = nmr_verifier_warning_count();
    unsigned expected = m ? m->expected_warnings : 0;
    if (after - before != expected) {
        fuzz_oracle_fail("%s %s: %lu verifier warning(s), predicted %u", what, m ? m->name : "",
                    (unsigned long)(after - before), expected);
    }
    if (expected != 0) {
        const char *rule = nmr_verifier_last_warning_rule();
        if (rule == NULL || strcmp(rule, "R10") != 0) {
            fuzz_oracle_fail("%s %s: last warning is %s, predicted R10", what, m->name,
                        rule ? rule : "(none)");
        }
    }
    w.expected_warnings += expected;
}

/* Every binding with an earlier active peer of the same NPI is now attached, no other. */
static __attribute__((noinline)) void check_attached_after_register(const module_t *m,
                                                                    const char *function)
{
    const module_t *peers = m->is_client ? w.providers : w.clients;
    for (unsigned i = 0; i < MAX_ROLE; i++) {
        const module_t *peer = &peers[i];
        const module_t *c = m->is_client ? m : peer;
        const module_t *p = m->is_client ? peer : m;
        bool expected = peer->registered && c->npi == p->npi;
        unsigned index = m->is_client ? pair_slot(m->index, i) : pair_slot(i, m->index);
        if (w.pairs[index].attached != expected) {
            fuzz_oracle_fail("%s %s: binding %s-%s %s", function, m->name, c->name, p->name,
                        expected ? "was not attached" : "was attached");
        }
    }
}

/* The register call's trace events (out of line for the coverage ignorelist: their branches
   only choose the arguments; the fields they show are decode_module's). */
static __attribute__((noinline)) void trace_register_call(const module_t *m, const char *function)
{
    const NPI_REGISTRATION_INSTANCE *inst = m->is_client
                                                ? &m->chars.client.ClientRegistrationInstance
                                                : &m->chars.provider.ProviderRegistrationInstance;
    USHORT version = m->is_client ? m->chars.client.Version : m->chars.provider.Version;
    USHORT length = m->is_client ? m->chars.client.Length : m->chars.provider.Length;
    fuzz_trace_set_thread(m->name);
    if (!fuzz_trace_recording()) {
        /* Nothing reads the events' text (libFuzzer runs): count the two events without
           computing their arguments. */
        fuzz_trace_event("%s", function);
        fuzz_trace_event("%s", function);
        return;
    }
    /* Two events: the recorder keeps at most 12 arguments per event. */
    fuzz_trace_event("%s(%s chars=%s handle=%s attach=%s detach=%s cleanup=%s ver=%u len=%u)",
                     function, m->name, m->null_chars ? "NULL" : "ok",
                     m->null_handle ? "NULL" : "ok", m->null_attach ? "NULL" : "ok",
                     m->null_detach ? "NULL" : "ok", m->has_cleanup ? "ok" : "NULL",
                     (unsigned)version, (unsigned)length);
    fuzz_trace_event("  instance: ver=%u size=%u npi%u%s moduleid=%s type=%s len=%u value=%u "
                     "number=%x npi-specific=%s",
                     (unsigned)inst->Version, (unsigned)inst->Size, m->npi,
                     m->null_npi ? "=NULL" : (m->ident & 4) ? " (copy)" : "",
                     m->null_module_id ? "NULL" : "ok", type_name(m),
                     (unsigned)m->module_id.Length, (unsigned)m->id_value,
                     (unsigned)inst->Number, inst->NpiSpecificCharacteristics ? "yes" : "NULL");
}

static void do_register(module_t *m)
{
    const char *function = m->is_client ? "NmrRegisterClient" : "NmrRegisterProvider";
    trace_register_call(m, function);
    predict(m);
    m->handle = UNWRITTEN;
    m->registering = true;
    w.registering = m;
    w.last_peer_order = 0;
    ULONG before = nmr_verifier_warning_count();
    NTSTATUS status;
    if (m->is_client) {
        status = NmrRegisterClient(m->null_chars ? NULL : &m->chars.client, m,
                                   m->null_handle ? NULL : &m->handle);
    } else {
        status = NmrRegisterProvider(m->null_chars ? NULL : &m->chars.provider, m,
                                     m->null_handle ? NULL : &m->handle);
    }
    w.registering = NULL;
    m->registering = false;
    if (status != m->expected_status) {
        fuzz_oracle_fail("%s %s returned %s, predicted %s", function, m->name,
                    fuzz_status_str(status), fuzz_status_str(m->expected_status));
    }
    check_warnings(function, m, before);
    if (status != STATUS_SUCCESS) {
        if (m->handle != UNWRITTEN) {
            fuzz_oracle_fail("%s %s failed but wrote the handle", function, m->name);
        }
        fuzz_trace_event("%s -> %s, %u warning(s)", function, fuzz_status_str(status),
                         m->expected_warnings);
        return;
    }
    if (m->handle == UNWRITTEN || m->handle == NULL) {
        fuzz_oracle_fail("%s %s succeeded without writing a handle", function, m->name);
    }
    m->handle_ordinal = fuzz_handle_issue(m->handle, registration_names[m->is_client][m->index]);
    m->registered = true;
    m->reg_order = ++w.reg_counter;
    fuzz_trace_event("%s -> %s, handle h%u, %u warning(s)", function, fuzz_status_str(status),
                     m->handle_ordinal, m->expected_warnings);

    check_attached_after_register(m, function);
}

static void check_detached_after_deregister(const module_t *m, const char *function);

static __attribute__((noinline)) void do_deregister(module_t *m)
{
    const char *function = m->is_client ? "NmrDeregisterClient" : "NmrDeregisterProvider";
    fuzz_trace_set_thread(m->name);
    fuzz_trace_event("%s(%s h%u)", function, m->name, m->handle_ordinal);
    ULONG before = nmr_verifier_warning_count();
    w.deregistering = m;
    m->deregistering = true;
    NTSTATUS status = fuzz_module_deregister(m->is_client, m->handle);
    w.deregistering = NULL;
    fuzz_trace_event("%s -> %s", function, fuzz_status_str(status));
    if (status != STATUS_PENDING) {
        fuzz_oracle_fail("%s %s returned %s, not STATUS_PENDING", function, m->name,
                    fuzz_status_str(status));
    }
    check_warnings(function, NULL, before);
    check_detached_after_deregister(m, function);
}

/* Every binding of the module is detached on both sides and cleaned up. */
static __attribute__((noinline)) void check_detached_after_deregister(const module_t *m,
                                                                      const char *function)
{
    const module_t *peers = m->is_client ? w.providers : w.clients;
    for (unsigned i = 0; i < MAX_ROLE; i++) {
        const module_t *c = m->is_client ? m : &peers[i];
        const module_t *p = m->is_client ? &peers[i] : m;
        const pair_t *pair =
            &w.pairs[m->is_client ? pair_slot(m->index, i) : pair_slot(i, m->index)];
        if (!pair->attached) {
            continue;
        }
        if (pair->detach[0] != 1 || pair->detach[1] != 1) {
            fuzz_oracle_fail("%s %s returned with binding %s-%s detached %u/%u times", function,
                        m->name, c->name, p->name, pair->detach[0], pair->detach[1]);
        }
        if (pair->cleanup[0] != (unsigned)c->has_cleanup ||
            pair->cleanup[1] != (unsigned)p->has_cleanup) {
            fuzz_oracle_fail("%s %s returned with binding %s-%s cleaned up %u/%u times", function,
                        m->name, c->name, p->name, pair->cleanup[0], pair->cleanup[1]);
        }
    }
}

static __attribute__((noinline)) void do_wait(module_t *m)
{
    const char *function = m->is_client ? "NmrWaitForClientDeregisterComplete"
                                        : "NmrWaitForProviderDeregisterComplete";
    fuzz_trace_set_thread(m->name);
    fuzz_trace_event("%s(%s h%u)", function, m->name, m->handle_ordinal);
    ULONG before = nmr_verifier_warning_count();
    unsigned long callbacks = w.callbacks;
    NTSTATUS status = fuzz_module_wait(m->is_client, m->handle);
    fuzz_trace_event("%s -> %s", function, fuzz_status_str(status));
    if (status != STATUS_SUCCESS) {
        fuzz_oracle_fail("%s %s returned %s", function, m->name, fuzz_status_str(status));
    }
    if (w.callbacks != callbacks) {
        fuzz_oracle_fail("%s %s made a callback, every binding was already cleaned up", function,
                    m->name);
    }
    check_warnings(function, NULL, before);
    m->registered = false;
}

static __attribute__((noinline)) void final_check(void)
{
    for (unsigned ci = 0; ci < MAX_ROLE; ci++) {
        for (unsigned pi = 0; pi < MAX_ROLE; pi++) {
            const module_t *c = &w.clients[ci];
            const module_t *p = &w.providers[pi];
            const pair_t *pair = &w.pairs[pair_slot(ci, pi)];
            bool bound = c->reg_order != 0 && p->reg_order != 0 && c->npi == p->npi;
            unsigned n = bound ? 1u : 0u;
            if (pair->attach != n || pair->provider_attach != n || pair->detach[0] != n ||
                pair->detach[1] != n || pair->cleanup[0] != (bound && c->has_cleanup) ||
                pair->cleanup[1] != (bound && p->has_cleanup)) {
                fuzz_oracle_fail("binding %s-%s: attach %u/%u detach %u/%u cleanup %u/%u, "
                            "predicted %s",
                            c->name, p->name, pair->attach, pair->provider_attach,
                            pair->detach[0], pair->detach[1], pair->cleanup[0],
                            pair->cleanup[1], bound ? "one binding" : "none");
            }
        }
    }
    if (nmr_verifier_warning_count() != w.expected_warnings) {
        fuzz_oracle_fail("%lu verifier warning(s) in the input, predicted %lu",
                    (unsigned long)nmr_verifier_warning_count(), w.expected_warnings);
    }
}

static __attribute__((noinline)) void world_reset(void)
{
    kshim_unchecked_memset(&w, 0, sizeof w); /* the static world, its own sizeof */
    for (unsigned role = 0; role < 2; role++) {
        module_t *array = role == 0 ? w.providers : w.clients;
        for (unsigned i = 0; i < MAX_ROLE; i++) {
            module_t *m = &array[i];
            m->magic = MODULE_MAGIC;
            m->is_client = role == 1;
            m->index = i;
            m->name = module_names[role][i];
        }
    }
    for (unsigned i = 0; i < MAX_ROLE * MAX_ROLE; i++) {
        w.pairs[i].side[0].pair = i;
        w.pairs[i].side[0].is_client = true;
        w.pairs[i].side[1].pair = i;
        w.pairs[i].side[1].is_client = false;
    }
}

/* The end of the input: deregister every registered module, in registration order or
   reversed, then wait for each (the same in every input but for the order, which the
   NMR's own edges show; out of line for the coverage ignorelist). */
static __attribute__((noinline)) void unload(bool reverse)
{
    for (unsigned k = 0; k < w.module_count; k++) {
        module_t *m = w.order[reverse ? w.module_count - 1 - k : k];
        if (m->registered) {
            do_deregister(m);
        }
    }
    for (unsigned k = 0; k < w.module_count; k++) {
        module_t *m = w.order[reverse ? w.module_count - 1 - k : k];
        if (m->registered) {
            do_wait(m);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_oracle_configure(NULL, true);
    fuzz_trace_set_recent(false); /* libFuzzer runs: failures point to the replay */
    fuzz_run_begin();
    world_reset();
    fuzz_input_init(&w.in, data, size);
    fuzz_trace_reset();

    fuzz_trace_set_thread("main");
    /* Only the bytes are kept: header's fields cover 8 bits, order's one bit per module. */
    uint8_t header = (uint8_t)fuzz_take_packed_byte_as(&w.in, header_bits, 6, 8);
    uint8_t order = (uint8_t)fuzz_take_packed_byte_as(&w.in, order_bits, MAX_MODULES, MAX_MODULES);
    w.client_count = header & 3;
    w.provider_count = (header >> 2) & 3;
    bool reverse = (header >> 4) & 1;
    nmr_verifier_get_config(&w.config);
    w.config.warnings_are_fatal = FALSE;
    w.config.warnings_are_printed = FALSE;
    w.config.provider_detach_first = (header >> 5) & 1;
    w.config.detach_at_dispatch = (header >> 6) & 1;
    w.config.cleanup_at_dispatch = (header >> 7) & 1;
    nmr_verifier_set_config(&w.config);

    unsigned clients = 0, providers = 0;
    for (unsigned k = 0; k < w.client_count + w.provider_count; k++) {
        bool provider = clients == w.client_count ||
                        (providers < w.provider_count && ((order >> k) & 1));
        module_t *m = provider ? &w.providers[providers++] : &w.clients[clients++];
        w.order[w.module_count++] = m;
    }
    fuzz_trace_set_thread("main");
    fuzz_trace_event("config: %u client(s), %u provider(s), deregister %s, "
                     "provider_detach_first=%u detach_at_dispatch=%u cleanup_at_dispatch=%u",
                     w.client_count, w.provider_count, reverse ? "reversed" : "in order",
                     (unsigned)w.config.provider_detach_first,
                     (unsigned)w.config.detach_at_dispatch,
                     (unsigned)w.config.cleanup_at_dispatch);

    for (unsigned k = 0; k < w.module_count; k++) {
        fuzz_trace_set_thread(w.order[k]->name); /* its input line's; do_register sets it too */
        decode_module(w.order[k]);
        do_register(w.order[k]);
    }
    fuzz_input_finish(&w.in); /* bytes after the last module */
    unload(reverse);

    fuzz_trace_set_thread("main");
    final_check();
    fuzz_run_audit(NULL, 0);
    fuzz_run_end();
    fuzz_trace_event("audit ok: %u registration(s), %u callback(s), %u warning(s)",
                     w.reg_counter, (unsigned)w.callbacks, (unsigned)w.expected_warnings);
    return 0;
}
