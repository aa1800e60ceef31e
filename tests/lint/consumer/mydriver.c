/* SPDX-License-Identifier: MIT */
/*
 * mydriver.c - a minimal NPI driver as a driver developer would write it, built against
 * nmrkit by tests/lint/consumer/CMakeLists.txt (ctest lint.consumer_add_subdirectory).
 *
 * It includes only what a Windows driver includes (<ntddk.h>, <netioddk.h>), registers a
 * provider and a client of a private NPI, lets them bind, then deregisters both and waits.
 * It is not a test of the registrar (tests/nmr is): it shows that the WDK-named headers and
 * the libraries nmr and kshim are usable from another project. DriverLoad and DriverUnload
 * stand for DriverEntry and the unload routine; main() plays the I/O manager.
 * Exit status: 0 if every step returned what the NMR documents, else the failing step.
 */
#include <ntddk.h>
#include <netioddk.h>

/* {5d3f0b7e-2a4c-4f61-9a1e-7c0d52e8b113} */
static const NPIID MyNpiId = {
    0x5d3f0b7e, 0x2a4c, 0x4f61, {0x9a, 0x1e, 0x7c, 0x0d, 0x52, 0xe8, 0xb1, 0x13}};
static const NPI_MODULEID MyProviderModuleId = {
    .Length = sizeof(NPI_MODULEID),
    .Type = MIT_GUID,
    .Guid = {0x5d3f0b7e, 0x2a4c, 0x4f61, {0x9a, 0x1e, 0x7c, 0x0d, 0x52, 0xe8, 0xb1, 0x14}},
};
static const NPI_MODULEID MyClientModuleId = {
    .Length = sizeof(NPI_MODULEID),
    .Type = MIT_GUID,
    .Guid = {0x5d3f0b7e, 0x2a4c, 0x4f61, {0x9a, 0x1e, 0x7c, 0x0d, 0x52, 0xe8, 0xb1, 0x15}},
};

typedef struct MY_BINDING {
    HANDLE NmrBindingHandle;
    PVOID PeerBindingContext;
    const VOID *PeerDispatch;
    ULONG Attached;
    ULONG CleanedUp;
} MY_BINDING;

static MY_BINDING ProviderBinding;
static MY_BINDING ClientBinding;
static const ULONG ProviderDispatch[1] = {1};
static HANDLE ProviderHandle;
static HANDLE ClientHandle;

static NTSTATUS MyProviderAttachClient(HANDLE NmrBindingHandle, PVOID ProviderContext,
                                       PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
                                       PVOID ClientBindingContext, const VOID *ClientDispatch,
                                       PVOID *ProviderBindingContext,
                                       const VOID **ProviderDispatchOut)
{
    (void)ProviderContext;
    (void)ClientRegistrationInstance;
    ProviderBinding.NmrBindingHandle = NmrBindingHandle;
    ProviderBinding.PeerBindingContext = ClientBindingContext;
    ProviderBinding.PeerDispatch = ClientDispatch;
    ProviderBinding.Attached++;
    *ProviderBindingContext = &ProviderBinding;
    *ProviderDispatchOut = ProviderDispatch;
    return STATUS_SUCCESS;
}

static NTSTATUS MyProviderDetachClient(PVOID ProviderBindingContext)
{
    (void)ProviderBindingContext;
    return STATUS_SUCCESS;
}

static VOID MyProviderCleanupBindingContext(PVOID ProviderBindingContext)
{
    ((MY_BINDING *)ProviderBindingContext)->CleanedUp++;
}

static NTSTATUS MyClientAttachProvider(HANDLE NmrBindingHandle, PVOID ClientContext,
                                       PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    NTSTATUS status;

    (void)ClientContext;
    (void)ProviderRegistrationInstance;
    ClientBinding.NmrBindingHandle = NmrBindingHandle;
    status = NmrClientAttachProvider(NmrBindingHandle, &ClientBinding, NULL,
                                     &ClientBinding.PeerBindingContext,
                                     &ClientBinding.PeerDispatch);
    if (status == STATUS_SUCCESS) {
        ClientBinding.Attached++;
    }
    return status;
}

static NTSTATUS MyClientDetachProvider(PVOID ClientBindingContext)
{
    (void)ClientBindingContext;
    return STATUS_SUCCESS;
}

static VOID MyClientCleanupBindingContext(PVOID ClientBindingContext)
{
    ((MY_BINDING *)ClientBindingContext)->CleanedUp++;
}

static const NPI_PROVIDER_CHARACTERISTICS MyProviderCharacteristics = {
    .Version = 0,
    .Length = sizeof(NPI_PROVIDER_CHARACTERISTICS),
    .ProviderAttachClient = MyProviderAttachClient,
    .ProviderDetachClient = MyProviderDetachClient,
    .ProviderCleanupBindingContext = MyProviderCleanupBindingContext,
    .ProviderRegistrationInstance = {
        .Version = 0,
        .Size = sizeof(NPI_REGISTRATION_INSTANCE),
        .NpiId = &MyNpiId,
        .ModuleId = &MyProviderModuleId,
    },
};

static const NPI_CLIENT_CHARACTERISTICS MyClientCharacteristics = {
    .Version = 0,
    .Length = sizeof(NPI_CLIENT_CHARACTERISTICS),
    .ClientAttachProvider = MyClientAttachProvider,
    .ClientDetachProvider = MyClientDetachProvider,
    .ClientCleanupBindingContext = MyClientCleanupBindingContext,
    .ClientRegistrationInstance = {
        .Version = 0,
        .Size = sizeof(NPI_REGISTRATION_INSTANCE),
        .NpiId = &MyNpiId,
        .ModuleId = &MyClientModuleId,
    },
};

/* Returns 0 or the number of the step that went wrong. */
static int DriverLoad(void)
{
    if (NmrRegisterProvider(&MyProviderCharacteristics, NULL, &ProviderHandle) != STATUS_SUCCESS) {
        return 10;
    }
    if (NmrRegisterClient(&MyClientCharacteristics, NULL, &ClientHandle) != STATUS_SUCCESS) {
        return 11;
    }
    if (ClientBinding.Attached != 1 || ProviderBinding.Attached != 1 ||
        ClientBinding.PeerBindingContext != &ProviderBinding ||
        ClientBinding.PeerDispatch != ProviderDispatch ||
        ProviderBinding.PeerBindingContext != &ClientBinding) {
        return 12;
    }
    return 0;
}

static int DriverUnload(void)
{
    if (NmrDeregisterClient(ClientHandle) != STATUS_PENDING) {
        return 20;
    }
    if (NmrWaitForClientDeregisterComplete(ClientHandle) != STATUS_SUCCESS) {
        return 21;
    }
    if (ClientBinding.CleanedUp != 1 || ProviderBinding.CleanedUp != 1) {
        return 22;
    }
    if (NmrDeregisterProvider(ProviderHandle) != STATUS_PENDING) {
        return 23;
    }
    if (NmrWaitForProviderDeregisterComplete(ProviderHandle) != STATUS_SUCCESS) {
        return 24;
    }
    return 0;
}

int main(void)
{
    int failed_step = DriverLoad();

    if (failed_step == 0) {
        failed_step = DriverUnload();
    }
    return failed_step;
}
