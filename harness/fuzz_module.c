/* SPDX-License-Identifier: MIT */
/* fuzz_module.c - fake NPI modules' characteristics and role-generic NMR calls (fuzz_module.h). */
#include "fuzz_module.h"

#include <string.h>

NPI_REGISTRATION_INSTANCE *fuzz_characteristics_fill(fuzz_characteristics_t *characteristics,
                                                     bool is_client,
                                                     const fuzz_module_callbacks_t *callbacks,
                                                     bool has_cleanup, const NPIID *npi_id,
                                                     const NPI_MODULEID *module_id)
{
    NPI_REGISTRATION_INSTANCE *instance;
    /* Checked (an ordinary memset): a project's harness may pass any object of its own. */
    memset(characteristics, 0, sizeof *characteristics);
    if (is_client) {
        NPI_CLIENT_CHARACTERISTICS *c = &characteristics->client;
        c->Length = sizeof *c;
        c->ClientAttachProvider = callbacks->client_attach_provider;
        c->ClientDetachProvider = callbacks->client_detach_provider;
        c->ClientCleanupBindingContext =
            has_cleanup ? callbacks->client_cleanup_binding_context : NULL;
        instance = &c->ClientRegistrationInstance;
    } else {
        NPI_PROVIDER_CHARACTERISTICS *p = &characteristics->provider;
        p->Length = sizeof *p;
        p->ProviderAttachClient = callbacks->provider_attach_client;
        p->ProviderDetachClient = callbacks->provider_detach_client;
        p->ProviderCleanupBindingContext =
            has_cleanup ? callbacks->provider_cleanup_binding_context : NULL;
        instance = &p->ProviderRegistrationInstance;
    }
    instance->Size = sizeof *instance;
    instance->NpiId = npi_id;
    instance->ModuleId = module_id;
    return instance;
}

NTSTATUS fuzz_module_register(const fuzz_characteristics_t *characteristics, bool is_client,
                              PVOID context, HANDLE *handle)
{
    return is_client ? NmrRegisterClient(&characteristics->client, context, handle)
                     : NmrRegisterProvider(&characteristics->provider, context, handle);
}

NTSTATUS fuzz_module_deregister(bool is_client, HANDLE handle)
{
    return is_client ? NmrDeregisterClient(handle) : NmrDeregisterProvider(handle);
}

NTSTATUS fuzz_module_wait(bool is_client, HANDLE handle)
{
    return is_client ? NmrWaitForClientDeregisterComplete(handle)
                     : NmrWaitForProviderDeregisterComplete(handle);
}
