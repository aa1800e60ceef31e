/* SPDX-License-Identifier: MIT */
/*
 * myharness.c - a minimal harness built on nmrkit's harness library from another project
 * (tests/lint/consumer/CMakeLists.txt, ctest lint.consumer_add_subdirectory). One "input"
 * decides whether a provider registers; the harness traces its calls, enters the handle in
 * the ledger, tears down and runs the end-of-input audit. The same input twice must give
 * the same trace hash. Exit status: 0 on success (an oracle failure aborts).
 */
#include <ntddk.h>
#include <netioddk.h>

#include <fuzz_calls.h>
#include <fuzz_handles.h>
#include <fuzz_input.h>
#include <fuzz_run.h>

#include <stdio.h>

/* {7a61c2d4-1b3e-4c5f-8d9a-0e1f2a3b4c5d} */
static const NPIID MyNpiId = {
    0x7a61c2d4, 0x1b3e, 0x4c5f, {0x8d, 0x9a, 0x0e, 0x1f, 0x2a, 0x3b, 0x4c, 0x5d}};
static const NPI_MODULEID MyModuleId = {
    .Length = sizeof(NPI_MODULEID),
    .Type = MIT_GUID,
    .Guid = {0x7a61c2d4, 0x1b3e, 0x4c5f, {0x8d, 0x9a, 0x0e, 0x1f, 0x2a, 0x3b, 0x4c, 0x5e}},
};

static NTSTATUS NTAPI AttachClient(HANDLE NmrBindingHandle, PVOID ProviderContext,
                                   PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
                                   PVOID ClientBindingContext, const VOID *ClientDispatch,
                                   PVOID *ProviderBindingContext, const VOID **ProviderDispatch)
{
    (void)NmrBindingHandle, (void)ProviderContext, (void)ClientRegistrationInstance;
    (void)ClientBindingContext, (void)ClientDispatch, (void)ProviderBindingContext;
    (void)ProviderDispatch;
    return STATUS_NOINTERFACE; /* no client registers here */
}

static NTSTATUS NTAPI DetachClient(PVOID ProviderBindingContext)
{
    (void)ProviderBindingContext;
    return STATUS_SUCCESS;
}

static const NPI_PROVIDER_CHARACTERISTICS Characteristics = {
    .Length = sizeof(NPI_PROVIDER_CHARACTERISTICS),
    .ProviderAttachClient = AttachClient,
    .ProviderDetachClient = DetachClient,
    .ProviderRegistrationInstance = {.Size = sizeof(NPI_REGISTRATION_INSTANCE),
                                     .NpiId = &MyNpiId,
                                     .ModuleId = &MyModuleId},
};

static uint64_t run_one_input(const uint8_t *data, size_t size)
{
    fuzz_run_begin();
    fuzz_trace_reset();
    fuzz_trace_set_hashing(true);
    fuzz_input_t in;
    fuzz_input_init(&in, data, size);
    if (fuzz_take_bool_as(&in, "register")) {
        HANDLE handle = NULL;
        fuzz_call_t *call = fuzz_call_begin("NmrRegisterProvider");
        NTSTATUS status = NmrRegisterProvider(&Characteristics, NULL, &handle);
        fuzz_call_end(call);
        unsigned ordinal = fuzz_handle_issue(handle, "NmrRegisterProvider");
        fuzz_trace_event("NmrRegisterProvider -> %s, h%u", fuzz_status_str(status), ordinal);
        status = NmrDeregisterProvider(handle);
        fuzz_trace_event("NmrDeregisterProvider(h%u) -> %s", ordinal, fuzz_status_str(status));
        status = NmrWaitForProviderDeregisterComplete(handle);
        fuzz_trace_event("NmrWaitForProviderDeregisterComplete(h%u) -> %s", ordinal,
                         fuzz_status_str(status));
    }
    fuzz_input_finish(&in);
    fuzz_run_audit(NULL, 0);
    fuzz_run_end();
    return fuzz_trace_hash();
}

int main(void)
{
    static const uint8_t input[] = {1};
    uint64_t first = run_one_input(input, sizeof input);
    uint64_t second = run_one_input(input, sizeof input);
    printf("myharness: %lu event(s), trace %016llx\n", fuzz_trace_event_count(),
           (unsigned long long)first);
    return first == second && fuzz_trace_event_count() == 3 ? 0 : 1;
}
