/* SPDX-License-Identifier: MIT */
/*
 * wdk_style_program.c - a driver-shaped program that uses the registrar exactly as a
 * Windows driver would: it includes only <ntddk.h> and <netioddk.h>, declares its
 * characteristics `const` as the WDK samples do, prints with DbgPrint and reports failure
 * through its exit code. It checks the ten facts of nmr-spec.md section 5, one line each:
 *     point N: ok|FAILED: <fact>
 * ctest: nmr.wdk_style_program_gets_the_ten_documented_behaviours
 *
 * It is not a test of the verifier (no stop is provoked) and uses no nmrkit control API.
 */
#include <ntddk.h>
#include <netioddk.h>

/* ---- identities ------------------------------------------------------------------------- */

static const NPIID NPI_WDK_TEST = {0x2a2a2a2a, 0x1111, 0x2222, {0x33, 0x33, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44}};
static const NPIID NPI_WDK_COPY = {0x2a2a2a2a, 0x1111, 0x2222, {0x33, 0x33, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44}};
static const NPIID NPI_WDK_OTHER = {0x2a2a2a2a, 0x1111, 0x2222, {0x33, 0x33, 0x44, 0x44, 0x44, 0x44, 0x44, 0x45}};

static const NPI_MODULEID ClientModuleId = {
    sizeof(NPI_MODULEID), MIT_GUID, {{0x0c0c0c0c, 0x0001, 0x0002, {1, 2, 3, 4, 5, 6, 7, 8}}}};
static const NPI_MODULEID ProviderModuleId = {
    sizeof(NPI_MODULEID), MIT_GUID, {{0x0d0d0d0d, 0x0001, 0x0002, {1, 2, 3, 4, 5, 6, 7, 8}}}};
static const NPI_MODULEID OtherProviderModuleId = {
    sizeof(NPI_MODULEID), MIT_GUID, {{0x0e0e0e0e, 0x0003, 0x0004, {8, 7, 6, 5, 4, 3, 2, 1}}}};

static const ULONG ProviderNpiSpecific = 0x5a5a;

static const ULONG ClientDispatchV1[2] = {1, 1};
static const ULONG ClientDispatchV2[2] = {2, 2};
static const ULONG ProviderDispatch[2] = {3, 3};

/* ---- event log and checks --------------------------------------------------------------- */

enum {
    EV_CLIENT_ATTACH = 1,
    EV_PROVIDER_ATTACH,
    EV_CLIENT_DETACH,
    EV_PROVIDER_DETACH,
    EV_CLIENT_CLEANUP,
    EV_PROVIDER_CLEANUP,
};

#define MAX_EVENTS 64
static int Events[MAX_EVENTS];
static int EventCount;
static int PointFailures;
static int TotalFailures;

static VOID Record(int event)
{
    if (EventCount < MAX_EVENTS) {
        Events[EventCount++] = event;
    }
}

static VOID ClearEvents(VOID)
{
    EventCount = 0;
}

static int CountEvents(int event)
{
    int count = 0;
    for (int i = 0; i < EventCount; i++) {
        count += Events[i] == event;
    }
    return count;
}

static BOOLEAN EventsAre(const int *expected, int count)
{
    if (EventCount != count) {
        return FALSE;
    }
    for (int i = 0; i < count; i++) {
        if (Events[i] != expected[i]) {
            return FALSE;
        }
    }
    return TRUE;
}

#define EXPECT(cond)                                                                       \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            DbgPrint("    check failed (line %d): %s\n", __LINE__, #cond);                \
            PointFailures++;                                                               \
        }                                                                                  \
    } while (0)

#define EVENTS_ARE(...)                                                                    \
    do {                                                                                   \
        static const int expected_[] = {__VA_ARGS__};                                      \
        EXPECT(EventsAre(expected_, (int)(sizeof expected_ / sizeof expected_[0])));       \
    } while (0)

static VOID Report(int point, const char *fact)
{
    DbgPrint("point %d: %s: %s\n", point, PointFailures ? "FAILED" : "ok", fact);
    TotalFailures += PointFailures;
    PointFailures = 0;
}

/* ---- module behaviour knobs (the characteristics are const) ------------------------------ */

static struct {
    const VOID *ClientDispatch;         /* first NmrClientAttachProvider dispatch */
    const VOID *ClientRetryDispatch;    /* retried after STATUS_NOINTERFACE if non-NULL */
    BOOLEAN ClientDeclines;             /* return STATUS_NOINTERFACE without calling */
    const VOID *ProviderAcceptsOnly;    /* NULL: any client dispatch */
    NTSTATUS ProviderRefusal;           /* returned when refusing */
    BOOLEAN ClientDetachPending;
    BOOLEAN ProviderDetachPending;
    HANDLE DeregisterProviderAfterAttach; /* late-comer: client deregisters this provider */
} Knobs;

static struct {
    NTSTATUS FirstAttachStatus, LastAttachStatus;
    ULONG NmrAttachCalls;
    BOOLEAN InNmrClientAttachProvider;
    BOOLEAN ProviderAttachWasNested;
    BOOLEAN InsideDetachComplete;
    BOOLEAN CleanupInsideDetachComplete;
    KIRQL ClientDetachIrql, ProviderDetachIrql;
    PVOID ClientContextSeen, ProviderContextSeen;
    PNPI_REGISTRATION_INSTANCE ProviderInstanceSeen, ClientInstanceSeen;
} Seen;

typedef struct _CLIENT_BINDING {
    HANDLE NmrBindingHandle;
    PVOID ProviderBindingContext;
    const VOID *ProviderDispatch;
} CLIENT_BINDING;

typedef struct _PROVIDER_BINDING {
    HANDLE NmrBindingHandle;
    PVOID ClientBindingContext;
    const VOID *ClientDispatch;
} PROVIDER_BINDING;

static CLIENT_BINDING ClientBindings[8];
static ULONG ClientBindingCount;
static PROVIDER_BINDING ProviderBindings[8];
static ULONG ProviderBindingCount;

static int ClientContextObject;
static int ProviderContextObject;

/* ---- client ----------------------------------------------------------------------------- */

static NTSTATUS TryAttach(CLIENT_BINDING *Binding, const VOID *Dispatch)
{
    PVOID ProviderBindingContext = NULL;
    const VOID *ProviderDispatchSeen = NULL;
    NTSTATUS Status;
    Seen.NmrAttachCalls++;
    Seen.InNmrClientAttachProvider = TRUE;
    Status = NmrClientAttachProvider(Binding->NmrBindingHandle, Binding, Dispatch,
                                     &ProviderBindingContext, &ProviderDispatchSeen);
    Seen.InNmrClientAttachProvider = FALSE;
    if (Seen.NmrAttachCalls == 1) {
        Seen.FirstAttachStatus = Status;
    }
    Seen.LastAttachStatus = Status;
    if (Status == STATUS_SUCCESS) {
        Binding->ProviderBindingContext = ProviderBindingContext;
        Binding->ProviderDispatch = ProviderDispatchSeen;
    }
    return Status;
}

static NTSTATUS ClientAttachProvider(HANDLE NmrBindingHandle, PVOID ClientContext,
                                     PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    CLIENT_BINDING *Binding;
    NTSTATUS Status;
    Record(EV_CLIENT_ATTACH);
    Seen.ClientContextSeen = ClientContext;
    Seen.ProviderInstanceSeen = ProviderRegistrationInstance;
    if (Knobs.ClientDeclines || ClientBindingCount == 8) {
        return STATUS_NOINTERFACE;
    }
    Binding = &ClientBindings[ClientBindingCount];
    Binding->NmrBindingHandle = NmrBindingHandle;
    Status = TryAttach(Binding, Knobs.ClientDispatch);
    if (Status == STATUS_NOINTERFACE && Knobs.ClientRetryDispatch != NULL) {
        Status = TryAttach(Binding, Knobs.ClientRetryDispatch);
    }
    if (Status == STATUS_SUCCESS) {
        ClientBindingCount++;
        if (Knobs.DeregisterProviderAfterAttach != NULL) {
            HANDLE Provider = Knobs.DeregisterProviderAfterAttach;
            Knobs.DeregisterProviderAfterAttach = NULL;
            if (NmrDeregisterProvider(Provider) != STATUS_PENDING) {
                PointFailures++;
            }
        }
    }
    return Status;
}

static NTSTATUS ClientDetachProvider(PVOID ClientBindingContext)
{
    Record(EV_CLIENT_DETACH);
    Seen.ClientDetachIrql = KeGetCurrentIrql();
    return Knobs.ClientDetachPending ? STATUS_PENDING : STATUS_SUCCESS;
}

static VOID ClientCleanupBindingContext(PVOID ClientBindingContext)
{
    Record(EV_CLIENT_CLEANUP);
    Seen.CleanupInsideDetachComplete = Seen.InsideDetachComplete;
}

/* ---- provider --------------------------------------------------------------------------- */

static NTSTATUS ProviderAttachClient(HANDLE NmrBindingHandle, PVOID ProviderContext,
                                     PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
                                     PVOID ClientBindingContext, const VOID *ClientDispatch,
                                     PVOID *ProviderBindingContext,
                                     const VOID **ProviderDispatchOut)
{
    PROVIDER_BINDING *Binding;
    Record(EV_PROVIDER_ATTACH);
    Seen.ProviderAttachWasNested = Seen.InNmrClientAttachProvider;
    Seen.ProviderContextSeen = ProviderContext;
    Seen.ClientInstanceSeen = ClientRegistrationInstance;
    if ((Knobs.ProviderAcceptsOnly != NULL && ClientDispatch != Knobs.ProviderAcceptsOnly) ||
        ProviderBindingCount == 8) {
        return Knobs.ProviderRefusal;
    }
    Binding = &ProviderBindings[ProviderBindingCount++];
    Binding->NmrBindingHandle = NmrBindingHandle;
    Binding->ClientBindingContext = ClientBindingContext;
    Binding->ClientDispatch = ClientDispatch;
    *ProviderBindingContext = Binding;
    *ProviderDispatchOut = ProviderDispatch;
    return STATUS_SUCCESS;
}

static NTSTATUS ProviderDetachClient(PVOID ProviderBindingContext)
{
    Record(EV_PROVIDER_DETACH);
    Seen.ProviderDetachIrql = KeGetCurrentIrql();
    return Knobs.ProviderDetachPending ? STATUS_PENDING : STATUS_SUCCESS;
}

static VOID ProviderCleanupBindingContext(PVOID ProviderBindingContext)
{
    Record(EV_PROVIDER_CLEANUP);
    Seen.CleanupInsideDetachComplete = Seen.InsideDetachComplete;
}

/* ---- characteristics, declared as in the WDK samples ------------------------------------ */

static const NPI_CLIENT_CHARACTERISTICS ClientChars = {
    0,
    sizeof(NPI_CLIENT_CHARACTERISTICS),
    ClientAttachProvider,
    ClientDetachProvider,
    ClientCleanupBindingContext,
    {0, sizeof(NPI_REGISTRATION_INSTANCE), &NPI_WDK_TEST, &ClientModuleId, 0, NULL}};

static const NPI_PROVIDER_CHARACTERISTICS ProviderChars = {
    0,
    sizeof(NPI_PROVIDER_CHARACTERISTICS),
    ProviderAttachClient,
    ProviderDetachClient,
    ProviderCleanupBindingContext,
    {0, sizeof(NPI_REGISTRATION_INSTANCE), &NPI_WDK_TEST, &ProviderModuleId, 0, NULL}};

/* same NPI value at another address, other Version/Number/ModuleId/NPI-specific data */
static const NPI_PROVIDER_CHARACTERISTICS ProviderCharsLookalike = {
    0,
    sizeof(NPI_PROVIDER_CHARACTERISTICS),
    ProviderAttachClient,
    ProviderDetachClient,
    ProviderCleanupBindingContext,
    {1, sizeof(NPI_REGISTRATION_INSTANCE), &NPI_WDK_COPY, &OtherProviderModuleId, 7,
     &ProviderNpiSpecific}};

static const NPI_PROVIDER_CHARACTERISTICS ProviderCharsOtherNpi = {
    0,
    sizeof(NPI_PROVIDER_CHARACTERISTICS),
    ProviderAttachClient,
    ProviderDetachClient,
    ProviderCleanupBindingContext,
    {0, sizeof(NPI_REGISTRATION_INSTANCE), &NPI_WDK_OTHER, &ProviderModuleId, 0, NULL}};

/* ---- helpers ---------------------------------------------------------------------------- */

static VOID ResetModules(VOID)
{
    Knobs.ClientDispatch = ClientDispatchV1;
    Knobs.ClientRetryDispatch = NULL;
    Knobs.ClientDeclines = FALSE;
    Knobs.ProviderAcceptsOnly = NULL;
    Knobs.ProviderRefusal = STATUS_NOINTERFACE;
    Knobs.ClientDetachPending = FALSE;
    Knobs.ProviderDetachPending = FALSE;
    Knobs.DeregisterProviderAfterAttach = NULL;
    Seen.FirstAttachStatus = Seen.LastAttachStatus = STATUS_UNSUCCESSFUL;
    Seen.NmrAttachCalls = 0;
    Seen.InNmrClientAttachProvider = FALSE;
    Seen.ProviderAttachWasNested = FALSE;
    Seen.InsideDetachComplete = FALSE;
    Seen.CleanupInsideDetachComplete = FALSE;
    Seen.ClientDetachIrql = Seen.ProviderDetachIrql = HIGH_LEVEL;
    Seen.ClientContextSeen = Seen.ProviderContextSeen = NULL;
    Seen.ProviderInstanceSeen = Seen.ClientInstanceSeen = NULL;
    ClientBindingCount = 0;
    ProviderBindingCount = 0;
    ClearEvents();
}

static HANDLE RegisterClient(VOID)
{
    HANDLE Handle = NULL;
    EXPECT(NmrRegisterClient(&ClientChars, &ClientContextObject, &Handle) == STATUS_SUCCESS);
    return Handle;
}

static HANDLE RegisterProvider(const NPI_PROVIDER_CHARACTERISTICS *Chars)
{
    HANDLE Handle = NULL;
    EXPECT(NmrRegisterProvider(Chars, &ProviderContextObject, &Handle) == STATUS_SUCCESS);
    return Handle;
}

static VOID UnloadClient(HANDLE Handle)
{
    EXPECT(NmrDeregisterClient(Handle) == STATUS_PENDING);
    EXPECT(NmrWaitForClientDeregisterComplete(Handle) == STATUS_SUCCESS);
}

static VOID UnloadProvider(HANDLE Handle)
{
    EXPECT(NmrDeregisterProvider(Handle) == STATUS_PENDING);
    EXPECT(NmrWaitForProviderDeregisterComplete(Handle) == STATUS_SUCCESS);
}

/* ---- the ten points --------------------------------------------------------------------- */

static VOID Point1(VOID)
{
    HANDLE Client, Provider;
    ResetModules();
    Client = RegisterClient();
    EXPECT(NmrDeregisterClient(Client) == STATUS_PENDING);
    EXPECT(NmrWaitForClientDeregisterComplete(Client) == STATUS_SUCCESS);
    Provider = RegisterProvider(&ProviderChars);
    EXPECT(NmrDeregisterProvider(Provider) == STATUS_PENDING);
    EXPECT(NmrWaitForProviderDeregisterComplete(Provider) == STATUS_SUCCESS);
    EXPECT(EventCount == 0);
    Report(1, "NmrDeregister* returns STATUS_PENDING even with no binding; NmrWaitFor* ends it");
}

static VOID Point2(VOID)
{
    HANDLE Client, Provider;
    ResetModules();
    Provider = RegisterProvider(&ProviderChars);
    Client = RegisterClient();
    EVENTS_ARE(EV_CLIENT_ATTACH, EV_PROVIDER_ATTACH);
    EXPECT(Seen.ProviderAttachWasNested);
    UnloadClient(Client);
    UnloadProvider(Provider);

    ResetModules();
    Client = RegisterClient();
    Provider = RegisterProvider(&ProviderChars);
    EVENTS_ARE(EV_CLIENT_ATTACH, EV_PROVIDER_ATTACH);
    EXPECT(Seen.ProviderAttachWasNested);
    UnloadProvider(Provider);
    UnloadClient(Client);
    Report(2, "attach is client-initiated in both registration orders");
}

static VOID Point3(VOID)
{
    HANDLE Client, Provider;
    ResetModules();
    Knobs.ProviderAcceptsOnly = ClientDispatchV2;
    Knobs.ClientRetryDispatch = ClientDispatchV2;
    Provider = RegisterProvider(&ProviderChars);
    Client = RegisterClient();
    EXPECT(Seen.NmrAttachCalls == 2);
    EXPECT(Seen.FirstAttachStatus == STATUS_NOINTERFACE);
    EXPECT(Seen.LastAttachStatus == STATUS_SUCCESS);
    EXPECT(ClientBindingCount == 1);
    EXPECT(ProviderBindingCount == 1 && ProviderBindings[0].ClientDispatch == ClientDispatchV2);
    UnloadClient(Client);
    UnloadProvider(Provider);

    ResetModules();
    Knobs.ProviderAcceptsOnly = ClientDispatchV2;
    Knobs.ProviderRefusal = STATUS_UNSUCCESSFUL;
    Provider = RegisterProvider(&ProviderChars);
    Client = RegisterClient();
    EXPECT(Seen.NmrAttachCalls == 1);
    EXPECT(Seen.LastAttachStatus == STATUS_UNSUCCESSFUL);
    UnloadClient(Client);
    UnloadProvider(Provider);
    Report(3, "NmrClientAttachProvider passes the provider's status through; retry after NOINTERFACE works");
}

static VOID Point4(VOID)
{
    HANDLE Client, Provider;
    ResetModules();
    Knobs.ProviderAcceptsOnly = ClientDispatchV2; /* declines V1 */
    Provider = RegisterProvider(&ProviderChars);
    Client = RegisterClient();
    UnloadProvider(Provider);
    UnloadClient(Client);
    EVENTS_ARE(EV_CLIENT_ATTACH, EV_PROVIDER_ATTACH);

    ResetModules();
    Knobs.ClientDeclines = TRUE;
    Provider = RegisterProvider(&ProviderChars);
    Client = RegisterClient();
    UnloadClient(Client);
    UnloadProvider(Provider);
    EVENTS_ARE(EV_CLIENT_ATTACH);
    Report(4, "a failed attach gets no detach and no cleanup");
}

static VOID Point5(VOID)
{
    HANDLE Client, Provider;
    ResetModules();
    Client = RegisterClient();
    Provider = RegisterProvider(&ProviderChars);
    ClearEvents();
    UnloadProvider(Provider);
    EVENTS_ARE(EV_CLIENT_DETACH, EV_PROVIDER_DETACH, EV_CLIENT_CLEANUP, EV_PROVIDER_CLEANUP);
    /* the client stays registered and attaches to the next provider */
    ClearEvents();
    Provider = RegisterProvider(&ProviderChars);
    EVENTS_ARE(EV_CLIENT_ATTACH, EV_PROVIDER_ATTACH);
    /* both sides deregister: detach once */
    ClearEvents();
    Knobs.ClientDetachPending = TRUE;
    EXPECT(NmrDeregisterClient(Client) == STATUS_PENDING);
    EXPECT(NmrDeregisterProvider(Provider) == STATUS_PENDING);
    EVENTS_ARE(EV_CLIENT_DETACH, EV_PROVIDER_DETACH);
    NmrClientDetachProviderComplete(ClientBindings[1].NmrBindingHandle);
    EXPECT(NmrWaitForClientDeregisterComplete(Client) == STATUS_SUCCESS);
    EXPECT(NmrWaitForProviderDeregisterComplete(Provider) == STATUS_SUCCESS);
    EXPECT(CountEvents(EV_CLIENT_DETACH) == 1 && CountEvents(EV_PROVIDER_DETACH) == 1);
    Report(5, "either side's deregistration detaches both sides once; the peer stays and re-attaches");
}

static VOID Point6And7(VOID)
{
    HANDLE Client, Provider;
    ResetModules();
    Knobs.ClientDetachPending = TRUE;
    Knobs.ProviderDetachPending = TRUE;
    Provider = RegisterProvider(&ProviderChars);
    Client = RegisterClient();
    EXPECT(ClientBindingCount == 1 && ProviderBindingCount == 1);
    /* each side has its own binding handle */
    EXPECT(ClientBindings[0].NmrBindingHandle != ProviderBindings[0].NmrBindingHandle);
    ClearEvents();
    EXPECT(NmrDeregisterClient(Client) == STATUS_PENDING);
    EVENTS_ARE(EV_CLIENT_DETACH, EV_PROVIDER_DETACH);
    NmrClientDetachProviderComplete(ClientBindings[0].NmrBindingHandle);
    EVENTS_ARE(EV_CLIENT_DETACH, EV_PROVIDER_DETACH);
    Seen.InsideDetachComplete = TRUE;
    NmrProviderDetachClientComplete(ProviderBindings[0].NmrBindingHandle);
    Seen.InsideDetachComplete = FALSE;
    EVENTS_ARE(EV_CLIENT_DETACH, EV_PROVIDER_DETACH, EV_CLIENT_CLEANUP, EV_PROVIDER_CLEANUP);
    EXPECT(Seen.CleanupInsideDetachComplete);
    EXPECT(NmrWaitForClientDeregisterComplete(Client) == STATUS_SUCCESS);
    UnloadProvider(Provider);
    Report(6, "cleanup runs only after both sides completed, inside the last DetachComplete");
    Report(7, "each side completes a pending detach once, with its own binding handle");
}

static VOID Point8(VOID)
{
    HANDLE Client, Provider;
    KIRQL OldIrql;
    ResetModules();
    Provider = RegisterProvider(&ProviderChars);
    Client = RegisterClient();
    ClearEvents();
    KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
    EXPECT(NmrDeregisterClient(Client) == STATUS_PENDING);
    KeLowerIrql(OldIrql);
    EVENTS_ARE(EV_CLIENT_DETACH, EV_PROVIDER_DETACH, EV_CLIENT_CLEANUP, EV_PROVIDER_CLEANUP);
    EXPECT(Seen.ClientDetachIrql == DISPATCH_LEVEL && Seen.ProviderDetachIrql == DISPATCH_LEVEL);
    EXPECT(NmrWaitForClientDeregisterComplete(Client) == STATUS_SUCCESS);
    /* late-comer: the provider leaves while the client attaches; the detach and cleanup run
       inside NmrRegisterClient */
    ClearEvents();
    Knobs.DeregisterProviderAfterAttach = Provider;
    Client = RegisterClient();
    EVENTS_ARE(EV_CLIENT_ATTACH, EV_PROVIDER_ATTACH, EV_CLIENT_DETACH, EV_PROVIDER_DETACH,
               EV_CLIENT_CLEANUP, EV_PROVIDER_CLEANUP);
    EXPECT(NmrWaitForProviderDeregisterComplete(Provider) == STATUS_SUCCESS);
    UnloadClient(Client);
    Report(8, "detach and cleanup may run inside NmrRegister*/NmrDeregister*, at DISPATCH_LEVEL");
}

static VOID Point9(VOID)
{
    HANDLE Client, Provider;
    ResetModules();
    Provider = RegisterProvider(&ProviderCharsLookalike);
    Client = RegisterClient();
    EXPECT(Seen.ProviderInstanceSeen == &ProviderCharsLookalike.ProviderRegistrationInstance);
    EXPECT(Seen.ClientInstanceSeen == &ClientChars.ClientRegistrationInstance);
    EXPECT(Seen.ProviderInstanceSeen != NULL &&
           Seen.ProviderInstanceSeen->ModuleId == &OtherProviderModuleId);
    EXPECT(Seen.ProviderInstanceSeen != NULL &&
           Seen.ProviderInstanceSeen->NpiSpecificCharacteristics == &ProviderNpiSpecific);
    EXPECT(Seen.ClientContextSeen == &ClientContextObject);
    EXPECT(Seen.ProviderContextSeen == &ProviderContextObject);
    EXPECT(ClientBindingCount == 1 && ClientBindings[0].ProviderBindingContext == &ProviderBindings[0]);
    EXPECT(ProviderBindingCount == 1 && ProviderBindings[0].ClientBindingContext == &ClientBindings[0]);
    UnloadClient(Client);
    UnloadProvider(Provider);
    Report(9, "peers receive pointers into the modules' own structures; contexts pass unchanged");
}

static VOID Point10(VOID)
{
    HANDLE Client, Lookalike, Other;
    ResetModules();
    Other = RegisterProvider(&ProviderCharsOtherNpi);
    Client = RegisterClient();
    EXPECT(EventCount == 0);
    Lookalike = RegisterProvider(&ProviderCharsLookalike);
    EVENTS_ARE(EV_CLIENT_ATTACH, EV_PROVIDER_ATTACH);
    EXPECT(ClientBindingCount == 1);
    UnloadProvider(Other);
    UnloadProvider(Lookalike);
    UnloadClient(Client);
    Report(10, "the NMR matches on the NpiId value only");
}

int main(void)
{
    Point1();
    Point2();
    Point3();
    Point4();
    Point5();
    Point6And7();
    Point8();
    Point9();
    Point10();
    DbgPrint("%s: %d failed check(s)\n", TotalFailures ? "FAILED" : "PASSED", TotalFailures);
    return TotalFailures ? 1 : 0;
}
