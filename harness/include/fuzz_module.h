/* SPDX-License-Identifier: MIT */
/*
 * fuzz_module.h - fake NPI modules of the harness library: the characteristics a harness
 * registers as a client or a provider, and the NMR calls of either role behind one name.
 * A harness keeps one fuzz_characteristics_t per fake module (it must stay unchanged while
 * the module is registered: R1), fills it with fuzz_characteristics_fill and gives its own
 * callbacks, which carry the harness's model and oracles; the role decides which half of
 * the union and which NMR function is used.
 *
 * What a module does in its callbacks (accept, decline or fail an attach; detach with
 * STATUS_SUCCESS or STATUS_PENDING; complete later) is the harness's: the kit's targets
 * predict and check each choice against their own model. Nothing here records a trace
 * event, so using these pieces does not change any input's trace hash.
 */
#pragma once

#include <stdbool.h>

#include <netioddk.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A fake module's characteristics, of either role. */
typedef union fuzz_characteristics {
    NPI_CLIENT_CHARACTERISTICS client;
    NPI_PROVIDER_CHARACTERISTICS provider;
} fuzz_characteristics_t;

/* *destination = *source for a fake module's GUIDs (NPI ids, module ids), as field loads and
   stores that ASan checks inline: a GUID assignment is an __asan_memcpy call under ASan, a
   runtime range check per copy. Always inlined and branch-free, so it adds no edge of its own
   to the caller's coverage. */
static inline __attribute__((always_inline)) void fuzz_copy_guid(GUID *destination,
                                                               const GUID *source)
{
    destination->Data1 = source->Data1;
    destination->Data2 = source->Data2;
    destination->Data3 = source->Data3;
    __builtin_memcpy(destination->Data4, source->Data4, sizeof destination->Data4); /* one move */
}

/* The callbacks a harness gives its fake modules: a client uses the client_* three, a
   provider the provider_* three (the cleanup callbacks only where a module has one). */
typedef struct fuzz_module_callbacks {
    PNPI_CLIENT_ATTACH_PROVIDER_FN client_attach_provider;
    PNPI_CLIENT_DETACH_PROVIDER_FN client_detach_provider;
    PNPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN client_cleanup_binding_context;
    PNPI_PROVIDER_ATTACH_CLIENT_FN provider_attach_client;
    PNPI_PROVIDER_DETACH_CLIENT_FN provider_detach_client;
    PNPI_PROVIDER_CLEANUP_BINDING_CONTEXT_FN provider_cleanup_binding_context;
} fuzz_module_callbacks_t;

/* The initializer of a harness's fuzz_module_callbacks_t when its six callbacks are named as
   the fields (client_attach_provider, ..., provider_cleanup_binding_context), as in the kit's
   targets: static const fuzz_module_callbacks_t callbacks = FUZZ_MODULE_CALLBACKS; */
#define FUZZ_MODULE_CALLBACKS                                                                 \
    {                                                                                         \
        .client_attach_provider = client_attach_provider,                                     \
        .client_detach_provider = client_detach_provider,                                     \
        .client_cleanup_binding_context = client_cleanup_binding_context,                     \
        .provider_attach_client = provider_attach_client,                                     \
        .provider_detach_client = provider_detach_client,                                     \
        .provider_cleanup_binding_context = provider_cleanup_binding_context,                 \
    }

/**
 * @brief Well-formed characteristics: everything zero but Length, the role's attach and
 * detach callbacks, its cleanup callback when has_cleanup, and the registration instance's
 * Size, NpiId and ModuleId (pointers kept: they must outlive the registration).
 * @return The registration instance, for the caller's Version, Number and
 *         NpiSpecificCharacteristics.
 */
NPI_REGISTRATION_INSTANCE *fuzz_characteristics_fill(fuzz_characteristics_t *characteristics,
                                                     bool is_client,
                                                     const fuzz_module_callbacks_t *callbacks,
                                                     bool has_cleanup, const NPIID *npi_id,
                                                     const NPI_MODULEID *module_id);

/** @brief NmrRegisterClient or NmrRegisterProvider with the role's half of the union. */
NTSTATUS fuzz_module_register(const fuzz_characteristics_t *characteristics, bool is_client,
                              PVOID context, HANDLE *handle);

/** @brief NmrDeregisterClient or NmrDeregisterProvider. */
NTSTATUS fuzz_module_deregister(bool is_client, HANDLE handle);

/** @brief NmrWaitForClientDeregisterComplete or NmrWaitForProviderDeregisterComplete. */
NTSTATUS fuzz_module_wait(bool is_client, HANDLE handle);

#ifdef __cplusplus
}
#endif
