/* SPDX-License-Identifier: MIT */
/*
 * netioddk.h - the Network Module Registrar API, as a driver sees it.
 *
 * Types, callback prototypes and the nine NMR functions with the structures and
 * prototypes of the WDK header (nmr-spec.md section 1). Driver code includes
 * <ntddk.h> (or <wdm.h>) and this header, exactly as on Windows. The behaviour
 * behind these functions is in src/nmr_registration.c and src/nmr_binding.c.
 *
 * Deviation from the WDK: none in the declarations. Behaviour that the documentation
 * leaves open is fixed here per function ("Inferred:" lines) and checked by the
 * verifier (see nmr_module.h and nmr-spec.md section 3 for rule ids).
 */
#pragma once

#include <wdm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- 1.1 basic types -------------------------------------------------------------------- */

typedef GUID NPIID;
typedef const NPIID *PNPIID;

typedef enum _NPI_MODULEID_TYPE {
    MIT_GUID = 1,
    MIT_IF_LUID,
} NPI_MODULEID_TYPE;

typedef struct _NPI_MODULEID {
    USHORT Length;                /* sizeof(NPI_MODULEID) */
    NPI_MODULEID_TYPE Type;       /* MIT_GUID or MIT_IF_LUID */
    union {
        GUID Guid;                /* valid when Type == MIT_GUID */
        LUID IfLuid;              /* valid when Type == MIT_IF_LUID */
    };
} NPI_MODULEID;
typedef const NPI_MODULEID *PNPI_MODULEID;

/**
 * @brief TRUE iff both module ids have the same Type and equal identifiers
 * (GUID for MIT_GUID, the 8 LUID bytes for MIT_IF_LUID); FALSE for any other Type.
 */
static __inline BOOLEAN NmrIsEqualNpiModuleId(PNPI_MODULEID ModuleId1, PNPI_MODULEID ModuleId2)
{
    if (ModuleId1->Type != ModuleId2->Type) {
        return FALSE;
    }
    if (ModuleId1->Type == MIT_GUID) {
        return IsEqualGUID(&ModuleId1->Guid, &ModuleId2->Guid);
    }
    if (ModuleId1->Type == MIT_IF_LUID) {
        return (BOOLEAN)(ModuleId1->IfLuid.LowPart == ModuleId2->IfLuid.LowPart &&
                         ModuleId1->IfLuid.HighPart == ModuleId2->IfLuid.HighPart);
    }
    return FALSE;
}

/* ---- 1.2 registration instance ---------------------------------------------------------- */

typedef struct _NPI_REGISTRATION_INSTANCE {
    USHORT Version;                         /* should be 0; a non-zero value is accepted */
    USHORT Size;                            /* sizeof(NPI_REGISTRATION_INSTANCE) */
    PNPIID NpiId;                           /* the only field the NMR matches on */
    PNPI_MODULEID ModuleId;                 /* identity of the module */
    ULONG Number;                           /* implementation number; not used for matching */
    const VOID *NpiSpecificCharacteristics; /* NPI-defined; NULL if the NPI defines none */
} NPI_REGISTRATION_INSTANCE;
/* Pointer-to-const, as Microsoft code declares the callback parameter (spec 1.2, inferred). */
typedef const NPI_REGISTRATION_INSTANCE *PNPI_REGISTRATION_INSTANCE;

/* ---- 1.5 callback types ----------------------------------------------------------------- */

typedef NTSTATUS NPI_CLIENT_ATTACH_PROVIDER_FN(
    _In_ HANDLE NmrBindingHandle,
    _In_ PVOID ClientContext,
    _In_ PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance);
typedef NPI_CLIENT_ATTACH_PROVIDER_FN *PNPI_CLIENT_ATTACH_PROVIDER_FN;

typedef NTSTATUS NPI_CLIENT_DETACH_PROVIDER_FN(_In_ PVOID ClientBindingContext);
typedef NPI_CLIENT_DETACH_PROVIDER_FN *PNPI_CLIENT_DETACH_PROVIDER_FN;

typedef VOID NPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN(_In_ PVOID ClientBindingContext);
typedef NPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN *PNPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN;

typedef NTSTATUS NPI_PROVIDER_ATTACH_CLIENT_FN(
    _In_ HANDLE NmrBindingHandle,
    _In_ PVOID ProviderContext,
    _In_ PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
    _In_ PVOID ClientBindingContext,
    _In_ const VOID *ClientDispatch,
    _Out_ PVOID *ProviderBindingContext,
    _Out_ const VOID **ProviderDispatch);
typedef NPI_PROVIDER_ATTACH_CLIENT_FN *PNPI_PROVIDER_ATTACH_CLIENT_FN;

typedef NTSTATUS NPI_PROVIDER_DETACH_CLIENT_FN(_In_ PVOID ProviderBindingContext);
typedef NPI_PROVIDER_DETACH_CLIENT_FN *PNPI_PROVIDER_DETACH_CLIENT_FN;

typedef VOID NPI_PROVIDER_CLEANUP_BINDING_CONTEXT_FN(_In_ PVOID ProviderBindingContext);
typedef NPI_PROVIDER_CLEANUP_BINDING_CONTEXT_FN *PNPI_PROVIDER_CLEANUP_BINDING_CONTEXT_FN;

/* ---- 1.3 characteristics ---------------------------------------------------------------- */

typedef struct _NPI_CLIENT_CHARACTERISTICS {
    USHORT Version;                                                     /* should be 0 */
    USHORT Length;                                                      /* sizeof(...) */
    PNPI_CLIENT_ATTACH_PROVIDER_FN ClientAttachProvider;                /* required */
    PNPI_CLIENT_DETACH_PROVIDER_FN ClientDetachProvider;                /* required */
    PNPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN ClientCleanupBindingContext; /* optional */
    NPI_REGISTRATION_INSTANCE ClientRegistrationInstance;
} NPI_CLIENT_CHARACTERISTICS, *PNPI_CLIENT_CHARACTERISTICS;

typedef struct _NPI_PROVIDER_CHARACTERISTICS {
    USHORT Version;                                                         /* should be 0 */
    USHORT Length;                                                          /* sizeof(...) */
    PNPI_PROVIDER_ATTACH_CLIENT_FN ProviderAttachClient;                    /* required */
    PNPI_PROVIDER_DETACH_CLIENT_FN ProviderDetachClient;                    /* required */
    PNPI_PROVIDER_CLEANUP_BINDING_CONTEXT_FN ProviderCleanupBindingContext; /* optional */
    NPI_REGISTRATION_INSTANCE ProviderRegistrationInstance;
} NPI_PROVIDER_CHARACTERISTICS, *PNPI_PROVIDER_CHARACTERISTICS;

/* ---- 1.4 functions ---------------------------------------------------------------------- */
/* The characteristics parameters are pointer-to-const, as in the shipping header and in
   usersim's exported definitions (spec 1.4, inferred). */

/**
 * @brief Register a client module for one NPI. IRQL == PASSIVE_LEVEL.
 *
 * The characteristics, the context and everything the registration instance points to
 * are referenced, not copied, until NmrWaitForClientDeregisterComplete returns. Before
 * returning, the NMR calls ClientAttachProvider once for every registered provider of
 * the same NpiId, on this thread; the out handle is written only after those attaches.
 * @param[in]  ClientCharacteristics Must stay valid and unchanged while registered (R1).
 * @param[in]  ClientContext Passed back to ClientAttachProvider; may be NULL.
 * @param[out] NmrClientHandle Receives the client registration handle.
 * @retval STATUS_SUCCESS Registered.
 * @retval STATUS_INSUFFICIENT_RESOURCES An allocation failed; nothing was registered.
 * @retval STATUS_INVALID_PARAMETER A pointer argument, NpiId, ModuleId or a required
 *         callback is NULL; nothing was registered (the verifier also warns, R10).
 */
NTSTATUS NmrRegisterClient(
    _In_ const NPI_CLIENT_CHARACTERISTICS *ClientCharacteristics,
    _In_ PVOID ClientContext,
    _Out_ PHANDLE NmrClientHandle);

/**
 * @brief Register a provider module for one NPI. IRQL == PASSIVE_LEVEL.
 *
 * Every registered client of the same NpiId gets a ClientAttachProvider call for this
 * provider before this function returns (attach is always client-initiated).
 * @retval STATUS_SUCCESS Registered.
 * @retval STATUS_INSUFFICIENT_RESOURCES An allocation failed; nothing was registered.
 * @retval STATUS_INVALID_PARAMETER As for NmrRegisterClient.
 */
NTSTATUS NmrRegisterProvider(
    _In_ const NPI_PROVIDER_CHARACTERISTICS *ProviderCharacteristics,
    _In_ PVOID ProviderContext,
    _Out_ PHANDLE NmrProviderHandle);

/**
 * @brief From inside ClientAttachProvider, attach to the provider. IRQL == PASSIVE_LEVEL.
 *
 * Calls the provider's ProviderAttachClient and returns its status unchanged. May be
 * called again after STATUS_NOINTERFACE (e.g. with another dispatch table), never after
 * STATUS_SUCCESS (A4).
 * @param[in]  NmrBindingHandle The handle ClientAttachProvider received.
 * @param[in]  ClientBindingContext Initialised client binding context.
 * @param[in]  ClientDispatch Client dispatch table, or NULL.
 * @param[out] ProviderBindingContext Receives the provider's binding context.
 * @param[out] ProviderDispatch Receives the provider's dispatch table.
 * @retval STATUS_SUCCESS The provider accepted; the binding is attached once
 *         ClientAttachProvider returns STATUS_SUCCESS.
 * @retval STATUS_NOINTERFACE The provider declined.
 * @retval other Whatever error the provider returned.
 */
NTSTATUS NmrClientAttachProvider(
    _In_ HANDLE NmrBindingHandle,
    _In_ PVOID ClientBindingContext,
    _In_ const VOID *ClientDispatch,
    _Out_ PVOID *ProviderBindingContext,
    _Out_ const VOID **ProviderDispatch);

/**
 * @brief Start deregistering a client. IRQL <= DISPATCH_LEVEL.
 *
 * Every binding of the registration is detached (both sides, once); detach callbacks may
 * run on this thread before it returns. NmrWaitForClientDeregisterComplete must follow.
 * @retval STATUS_PENDING Always, even with no binding (as Windows does).
 */
NTSTATUS NmrDeregisterClient(_In_ HANDLE NmrClientHandle);

/** @brief Provider counterpart of NmrDeregisterClient. @retval STATUS_PENDING Always. */
NTSTATUS NmrDeregisterProvider(_In_ HANDLE NmrProviderHandle);

/**
 * @brief Wait until every binding of a deregistering client is detached on both sides and
 * cleaned up, then end the registration (the handle becomes invalid). IRQL < DISPATCH_LEVEL.
 * @retval STATUS_SUCCESS The registration is gone; its memory may be freed.
 * @retval STATUS_INVALID_PARAMETER Called before NmrDeregisterClient (verifier warns, R8),
 *         or the handle was never issued (NULL included).
 */
NTSTATUS NmrWaitForClientDeregisterComplete(_In_ HANDLE NmrClientHandle);

/** @brief Provider counterpart of NmrWaitForClientDeregisterComplete. */
NTSTATUS NmrWaitForProviderDeregisterComplete(_In_ HANDLE NmrProviderHandle);

/**
 * @brief Complete a client-side detach that ClientDetachProvider reported as
 * STATUS_PENDING. IRQL <= DISPATCH_LEVEL. If the provider side is complete too, the
 * cleanup callbacks run inside this call: touch nothing of the binding afterwards.
 */
VOID NmrClientDetachProviderComplete(_In_ HANDLE NmrBindingHandle);

/** @brief Provider counterpart of NmrClientDetachProviderComplete. */
VOID NmrProviderDetachClientComplete(_In_ HANDLE NmrBindingHandle);

#ifdef __cplusplus
}
#endif
