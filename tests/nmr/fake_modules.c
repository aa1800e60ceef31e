/* SPDX-License-Identifier: MIT */
/*
 * fake_modules.c - the fake client and provider modules of the NMR contract tests.
 *
 * What counts as a violation (module->violations, or the global count when the callback
 * cannot be attributed): a detach callback for a record that is not attached or was
 * already detached; a cleanup callback for a record whose own side has not completed, or
 * whose peer's side has not completed, or that was already cleaned up; any callback whose
 * context is not a record of the right role (e.g. the binding context of a failed attach,
 * NULL, a swapped client/provider context); an attach callback whose registration context
 * is not a fake module. A provider attach that does not run nested inside the client's
 * NmrClientAttachProvider is counted in not_nested_attaches. fake_end() requires all of
 * them to be zero.
 */
#include "fake_modules.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>

const NPIID FAKE_NPI_A = {0x11111111, 0x2222, 0x3333, {0x44, 0x44, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55}};
const NPIID FAKE_NPI_B = {0x11111111, 0x2222, 0x3333, {0x44, 0x44, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66}};
const NPIID FAKE_NPI_C = {0x11111111, 0x2222, 0x3333, {0x44, 0x44, 0x77, 0x77, 0x77, 0x77, 0x77, 0x77}};

const int FAKE_CLIENT_DISPATCH_V1[4] = {1, 1, 1, 1};
const int FAKE_CLIENT_DISPATCH_V2[4] = {2, 2, 2, 2};
const int FAKE_PROVIDER_DISPATCH[4] = {3, 3, 3, 3};

static fake_module_t *modules[FAKE_MAX_MODULES];
static int module_count;

static fake_binding_t records[FAKE_MAX_BINDINGS];
static volatile LONG record_count;

static volatile LONG global_violations;
static volatile LONG marker;
static size_t pool_baseline;

/* The log. Protected by: log_lock. */
static KSPIN_LOCK log_lock;
static char log_text[FAKE_LOG_SIZE];
static size_t log_used;
static bool log_overflow;
static volatile LONG log_disabled; /* Interlocked */

/* ---- log -------------------------------------------------------------------------------- */

static void log_append(const char *text)
{
    if (InterlockedCompareExchange(&log_disabled, 0, 0)) {
        return;
    }
    KIRQL old_irql;
    KeAcquireSpinLock(&log_lock, &old_irql);
    size_t len = strlen(text);
    if (!log_overflow && log_used + len + 2 < sizeof log_text) {
        if (log_used) {
            log_text[log_used++] = ' ';
        }
        memcpy(log_text + log_used, text, len);
        log_used += len;
        log_text[log_used] = '\0';
    } else {
        log_overflow = true;
    }
    KeReleaseSpinLock(&log_lock, old_irql);
}

static void log_event(const char *who, const char *what, const char *peer)
{
    char line[128];
    if (peer) {
        snprintf(line, sizeof line, "%s.%s(%s)", who, what, peer);
    } else {
        snprintf(line, sizeof line, "%s.%s", who, what);
    }
    log_append(line);
}

const char *fake_log(void)
{
    return log_overflow ? "(log overflow)" : log_text;
}

void fake_log_clear(void)
{
    KIRQL old_irql;
    KeAcquireSpinLock(&log_lock, &old_irql);
    log_used = 0;
    log_text[0] = '\0';
    log_overflow = false;
    KeReleaseSpinLock(&log_lock, old_irql);
}

void fake_log_note(const char *text)
{
    log_append(text);
}

void fake_log_set_enabled(bool enabled)
{
    InterlockedExchange(&log_disabled, enabled ? 0 : 1);
}

/* ---- registry and records --------------------------------------------------------------- */

static void violation(fake_module_t *module, const char *what)
{
    char line[128];
    snprintf(line, sizeof line, "VIOLATION:%s:%s", module ? module->name : "?", what);
    log_append(line);
    fprintf(stderr, "fake_modules: %s\n", line);
    InterlockedIncrement(module ? &module->violations : &global_violations);
}

static LONG read_long(volatile LONG *value)
{
    return InterlockedCompareExchange(value, 0, 0);
}

static void set_state(fake_binding_t *binding, fake_binding_state_t state)
{
    InterlockedExchange(&binding->state, (LONG)state);
}

static void advance_state(fake_binding_t *binding, fake_binding_state_t from, fake_binding_state_t to)
{
    InterlockedCompareExchange(&binding->state, (LONG)to, (LONG)from);
}

static fake_binding_state_t get_state(fake_binding_t *binding)
{
    return (fake_binding_state_t)read_long(&binding->state);
}

static bool is_record(const void *pointer)
{
    uintptr_t p = (uintptr_t)pointer;
    uintptr_t base = (uintptr_t)records;
    if (p < base || p >= base + sizeof records) {
        return false;
    }
    return (p - base) % sizeof(fake_binding_t) == 0 &&
           (LONG)((p - base) / sizeof(fake_binding_t)) < read_long(&record_count);
}

static fake_module_t *module_from_context(PVOID context, fake_role_t role)
{
    for (int i = 0; i < module_count; i++) {
        if (modules[i] == context && modules[i]->role == role) {
            return modules[i];
        }
    }
    return NULL;
}

static fake_module_t *module_from_instance(PNPI_REGISTRATION_INSTANCE instance)
{
    for (int i = 0; i < module_count; i++) {
        if (fake_instance(modules[i]) == instance) {
            return modules[i];
        }
    }
    return NULL;
}

static fake_binding_t *new_record(fake_module_t *owner, fake_module_t *peer)
{
    LONG index = InterlockedIncrement(&record_count) - 1;
    if (index >= FAKE_MAX_BINDINGS) {
        nmr_test_fail(__FILE__, __LINE__, "more than %d binding records", FAKE_MAX_BINDINGS);
    }
    fake_binding_t *binding = &records[index];
    binding->index = index;
    binding->owner = owner;
    binding->peer = peer;
    set_state(binding, FB_ATTACHING);
    return binding;
}

static const char *peer_name(const fake_binding_t *binding)
{
    return binding->peer ? binding->peer->name : "?";
}

LONG fake_binding_record_count(void)
{
    return read_long(&record_count);
}

fake_binding_t *fake_binding_record(LONG index)
{
    CHECK(index >= 0 && index < fake_binding_record_count());
    return &records[index];
}

fake_binding_t *fake_binding_between(const fake_module_t *module, const fake_module_t *peer)
{
    for (LONG i = fake_binding_record_count() - 1; i >= 0; i--) {
        if (records[i].owner == module && records[i].peer == peer) {
            return &records[i];
        }
    }
    return NULL;
}

void fake_set_marker(LONG value)
{
    InterlockedExchange(&marker, value);
}

static void copy_thread_name(char name[32])
{
    const char *current = kshim_thread_current_name();
    snprintf(name, 32, "%s", current ? current : "?");
}

static void run_hook(fake_module_t *module, fake_binding_t *binding, fake_point_t point)
{
    if (module->hook) {
        module->hook(module, binding, point);
    }
}

/* ---- attach ----------------------------------------------------------------------------- */

static NTSTATUS call_nmr_attach(fake_module_t *module, fake_binding_t *binding, const VOID *dispatch)
{
    PVOID provider_context = NULL;
    const VOID *provider_dispatch = NULL;
    InterlockedIncrement(&module->nmr_attach_calls);
    InterlockedExchange(&binding->in_nmr_attach_call, 1);
    NTSTATUS status = NmrClientAttachProvider(binding->handle, binding, dispatch, &provider_context,
                                              &provider_dispatch);
    InterlockedExchange(&binding->in_nmr_attach_call, 0);
    binding->attach_status = status;
    if (status == STATUS_SUCCESS) {
        binding->peer_binding_context = provider_context;
        binding->peer_dispatch = provider_dispatch;
    }
    return status;
}

static NPI_CLIENT_ATTACH_PROVIDER_FN fake_client_attach_provider;
static NTSTATUS fake_client_attach_provider(HANDLE NmrBindingHandle, PVOID ClientContext,
                                            PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    KIRQL irql = KeGetCurrentIrql();
    fake_module_t *module = module_from_context(ClientContext, FAKE_CLIENT);
    if (!module) {
        violation(NULL, "client attach with an unknown ClientContext");
        return STATUS_NOINTERFACE;
    }
    fake_module_t *peer = module_from_instance(ProviderRegistrationInstance);
    InterlockedIncrement(&module->attach_calls);
    fake_binding_t *binding = new_record(module, peer);
    binding->handle = NmrBindingHandle;
    binding->registration_context = ClientContext;
    binding->peer_instance = ProviderRegistrationInstance;
    binding->attach_irql = irql;
    copy_thread_name(binding->attach_thread);
    log_event(module->name, "attach", peer_name(binding));
    run_hook(module, binding, FAKE_AT_ATTACH);

    NTSTATUS status;
    if (module->attach_mode == FAKE_ATTACH_RETURN_STATUS) {
        status = module->attach_status;
    } else {
        status = call_nmr_attach(module, binding, module->dispatch);
        if (status == STATUS_NOINTERFACE && module->retry_dispatch) {
            status = call_nmr_attach(module, binding, module->retry_dispatch);
        }
    }
    run_hook(module, binding, FAKE_AT_ATTACH_RESULT);
    if (module->override_return) {
        status = module->override_status;
    }
    if (status == STATUS_SUCCESS) {
        InterlockedIncrement(&module->attach_successes);
        set_state(binding, FB_ATTACHED);
    } else {
        set_state(binding, FB_FAILED);
    }
    return status;
}

static NPI_PROVIDER_ATTACH_CLIENT_FN fake_provider_attach_client;
static NTSTATUS fake_provider_attach_client(HANDLE NmrBindingHandle, PVOID ProviderContext,
                                            PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
                                            PVOID ClientBindingContext, const VOID *ClientDispatch,
                                            PVOID *ProviderBindingContext,
                                            const VOID **ProviderDispatch)
{
    KIRQL irql = KeGetCurrentIrql();
    fake_module_t *module = module_from_context(ProviderContext, FAKE_PROVIDER);
    if (!module) {
        violation(NULL, "provider attach with an unknown ProviderContext");
        return STATUS_NOINTERFACE;
    }
    fake_module_t *peer = module_from_instance(ClientRegistrationInstance);
    InterlockedIncrement(&module->attach_calls);
    fake_binding_t *binding = new_record(module, peer);
    binding->handle = NmrBindingHandle;
    binding->registration_context = ProviderContext;
    binding->peer_instance = ClientRegistrationInstance;
    binding->peer_binding_context = ClientBindingContext;
    binding->peer_dispatch = ClientDispatch;
    binding->attach_irql = irql;
    copy_thread_name(binding->attach_thread);
    if (is_record(ClientBindingContext) &&
        read_long(&((fake_binding_t *)ClientBindingContext)->in_nmr_attach_call)) {
        InterlockedExchange(&binding->nested, 1);
    } else {
        InterlockedIncrement(&module->not_nested_attaches);
    }
    log_event(module->name, "attach", peer_name(binding));
    run_hook(module, binding, FAKE_AT_ATTACH);

    bool accept;
    switch (module->attach_mode) {
    case FAKE_ATTACH_RETURN_STATUS:
        set_state(binding, module->attach_status == STATUS_SUCCESS ? FB_ATTACHED : FB_FAILED);
        return module->attach_status;
    case FAKE_ATTACH_WRITE_CONTEXT_ONLY:
        *ProviderBindingContext = binding;
        set_state(binding, FB_ATTACHED);
        return STATUS_SUCCESS;
    case FAKE_ATTACH_WRITE_DISPATCH_ONLY:
        *ProviderDispatch = module->dispatch;
        set_state(binding, FB_ATTACHED);
        return STATUS_SUCCESS;
    case FAKE_ATTACH_MIXED:
        accept = binding->index % 5 != 0;
        break;
    case FAKE_ATTACH_ACCEPT:
    default:
        accept = !module->accept_only_dispatch || ClientDispatch == module->accept_only_dispatch;
        break;
    }
    if (!accept) {
        set_state(binding, FB_FAILED);
        return STATUS_NOINTERFACE;
    }
    *ProviderBindingContext = binding;
    *ProviderDispatch = module->dispatch;
    InterlockedIncrement(&module->attach_successes);
    set_state(binding, FB_ATTACHED);
    return STATUS_SUCCESS;
}

/* ---- detach ----------------------------------------------------------------------------- */

static void completer_enqueue(fake_binding_t *binding);

static NTSTATUS detach_common(PVOID context, fake_role_t role)
{
    KIRQL irql = KeGetCurrentIrql();
    if (!is_record(context) || ((fake_binding_t *)context)->owner->role != role) {
        violation(NULL, role == FAKE_CLIENT ? "ClientDetachProvider with a foreign context"
                                            : "ProviderDetachClient with a foreign context");
        return STATUS_SUCCESS;
    }
    fake_binding_t *binding = context;
    fake_module_t *module = binding->owner;
    InterlockedIncrement(&module->detach_calls);
    LONG calls = InterlockedIncrement(&binding->detach_calls);
    fake_binding_state_t state = get_state(binding);
    binding->detach_irql = irql;
    copy_thread_name(binding->detach_thread);
    log_event(module->name, "detach", peer_name(binding));
    if (calls != 1) {
        violation(module, "detach called twice for one binding");
    } else if (state != FB_ATTACHED) {
        violation(module, state == FB_FAILED ? "detach of a binding whose attach failed"
                                             : "detach of a binding not attached");
    }
    set_state(binding, FB_DETACHING);
    run_hook(module, binding, FAKE_AT_DETACH);

    fake_detach_mode_t mode = module->detach_mode;
    if (mode == FAKE_DETACH_MIXED) {
        static const fake_detach_mode_t mixed[3] = {FAKE_DETACH_SUCCESS, FAKE_DETACH_PENDING_COMPLETER,
                                                    FAKE_DETACH_PENDING_COMPLETE_INSIDE};
        mode = mixed[binding->index % 3];
    }
    /* a hook may already have completed this side (fake_complete sets FB_DETACH_DONE):
       only a binding still in FB_DETACHING moves on here */
    switch (mode) {
    case FAKE_DETACH_SUCCESS:
        advance_state(binding, FB_DETACHING, FB_DETACH_DONE);
        return STATUS_SUCCESS;
    case FAKE_DETACH_PENDING:
        advance_state(binding, FB_DETACHING, FB_DETACH_PENDING);
        return STATUS_PENDING;
    case FAKE_DETACH_PENDING_COMPLETE_INSIDE:
        advance_state(binding, FB_DETACHING, FB_DETACH_PENDING);
        fake_complete(binding);
        return STATUS_PENDING;
    case FAKE_DETACH_PENDING_COMPLETER:
        advance_state(binding, FB_DETACHING, FB_DETACH_PENDING);
        completer_enqueue(binding);
        return STATUS_PENDING;
    case FAKE_DETACH_RETURN_STATUS:
    default:
        return module->detach_status;
    }
}

static NPI_CLIENT_DETACH_PROVIDER_FN fake_client_detach_provider;
static NTSTATUS fake_client_detach_provider(PVOID ClientBindingContext)
{
    return detach_common(ClientBindingContext, FAKE_CLIENT);
}

static NPI_PROVIDER_DETACH_CLIENT_FN fake_provider_detach_client;
static NTSTATUS fake_provider_detach_client(PVOID ProviderBindingContext)
{
    return detach_common(ProviderBindingContext, FAKE_PROVIDER);
}

/* ---- cleanup ---------------------------------------------------------------------------- */

static void cleanup_common(PVOID context, fake_role_t role)
{
    KIRQL irql = KeGetCurrentIrql();
    if (!is_record(context) || ((fake_binding_t *)context)->owner->role != role) {
        violation(NULL, role == FAKE_CLIENT ? "ClientCleanupBindingContext with a foreign context"
                                            : "ProviderCleanupBindingContext with a foreign context");
        return;
    }
    fake_binding_t *binding = context;
    fake_module_t *module = binding->owner;
    InterlockedIncrement(&module->cleanup_calls);
    LONG calls = InterlockedIncrement(&binding->cleanup_calls);
    fake_binding_state_t state = get_state(binding);
    binding->cleanup_irql = irql;
    copy_thread_name(binding->cleanup_thread);
    log_event(module->name, "cleanup", peer_name(binding));
    if (calls != 1) {
        violation(module, "cleanup called twice for one binding");
    } else if (state != FB_DETACH_DONE) {
        violation(module, state == FB_FAILED ? "cleanup of a binding whose attach failed"
                                             : "cleanup before this side completed its detach");
    }
    void *peer_context = binding->peer_binding_context;
    if (is_record(peer_context)) {
        fake_binding_state_t peer_state = get_state(peer_context);
        binding->peer_done_at_cleanup = peer_state == FB_DETACH_DONE || peer_state == FB_CLEANED;
        if (!binding->peer_done_at_cleanup) {
            violation(module, "cleanup before the peer completed its detach");
        }
    }
    run_hook(module, binding, FAKE_AT_CLEANUP);
    /* read after the hook, so a hook that sleeps shows what the test did meanwhile */
    binding->cleanup_saw_marker = read_long(&marker);
    set_state(binding, FB_CLEANED);
}

static NPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN fake_client_cleanup;
static VOID fake_client_cleanup(PVOID ClientBindingContext)
{
    cleanup_common(ClientBindingContext, FAKE_CLIENT);
}

static NPI_PROVIDER_CLEANUP_BINDING_CONTEXT_FN fake_provider_cleanup;
static VOID fake_provider_cleanup(PVOID ProviderBindingContext)
{
    cleanup_common(ProviderBindingContext, FAKE_PROVIDER);
}

/* ---- completion ------------------------------------------------------------------------- */

void fake_complete(fake_binding_t *binding)
{
    fake_module_t *module = binding->owner;
    const char *name = module->name;
    const char *peer = peer_name(binding);
    HANDLE handle = binding->handle;
    fake_role_t role = module->role;
    InterlockedIncrement(&module->complete_calls);
    InterlockedIncrement(&binding->complete_calls);
    set_state(binding, FB_DETACH_DONE);
    log_event(name, "complete", peer);
    /* Nothing of the binding is touched after this call: cleanup may run inside it. */
    if (role == FAKE_CLIENT) {
        NmrClientDetachProviderComplete(handle);
    } else {
        NmrProviderDetachClientComplete(handle);
    }
    log_event(name, "complete_done", peer);
}

static void complete_thread(void *arg)
{
    fake_complete(arg);
}

void fake_complete_on_other_thread(fake_binding_t *binding)
{
    kshim_thread_join(kshim_thread_start("fake-complete", complete_thread, binding));
}

/* The completer: a queue of records, protected by its spin lock, drained by one thread. */
static struct {
    KSPIN_LOCK lock;               /* protects queue, head, tail */
    fake_binding_t *queue[FAKE_MAX_BINDINGS];
    unsigned head, tail;
    KEVENT wake;                   /* synchronization event: queue non-empty or stop */
    volatile LONG stop;            /* Interlocked */
    volatile LONG completed;       /* Interlocked */
    kshim_thread_t *thread;
} completer;

static void completer_enqueue(fake_binding_t *binding)
{
    KIRQL old_irql;
    KeAcquireSpinLock(&completer.lock, &old_irql);
    if (completer.tail - completer.head >= FAKE_MAX_BINDINGS || completer.thread == NULL) {
        KeReleaseSpinLock(&completer.lock, old_irql);
        violation(binding->owner, "completer queue full or completer not started");
        return;
    }
    completer.queue[completer.tail++ % FAKE_MAX_BINDINGS] = binding;
    KeReleaseSpinLock(&completer.lock, old_irql);
    KeSetEvent(&completer.wake, IO_NO_INCREMENT, FALSE);
}

static fake_binding_t *completer_dequeue(void)
{
    fake_binding_t *binding = NULL;
    KIRQL old_irql;
    KeAcquireSpinLock(&completer.lock, &old_irql);
    if (completer.head != completer.tail) {
        binding = completer.queue[completer.head++ % FAKE_MAX_BINDINGS];
    }
    KeReleaseSpinLock(&completer.lock, old_irql);
    return binding;
}

static void completer_main(void *arg)
{
    (void)arg;
    for (;;) {
        fake_binding_t *binding;
        while ((binding = completer_dequeue()) != NULL) {
            fake_complete(binding);
            InterlockedIncrement(&completer.completed);
        }
        if (read_long(&completer.stop)) {
            /* stop is set only after the producers are done: one last drain */
            while ((binding = completer_dequeue()) != NULL) {
                fake_complete(binding);
                InterlockedIncrement(&completer.completed);
            }
            return;
        }
        KeWaitForSingleObject(&completer.wake, Executive, KernelMode, FALSE, NULL);
    }
}

void fake_completer_start(void)
{
    KeInitializeSpinLock(&completer.lock);
    KeInitializeEvent(&completer.wake, SynchronizationEvent, FALSE);
    completer.head = completer.tail = 0;
    InterlockedExchange(&completer.stop, 0);
    InterlockedExchange(&completer.completed, 0);
    kshim_thread_t *thread = kshim_thread_start("fake-completer", completer_main, NULL);
    KIRQL old_irql;
    KeAcquireSpinLock(&completer.lock, &old_irql);
    completer.thread = thread;
    KeReleaseSpinLock(&completer.lock, old_irql);
}

void fake_completer_stop(void)
{
    KIRQL old_irql;
    KeAcquireSpinLock(&completer.lock, &old_irql);
    kshim_thread_t *thread = completer.thread;
    KeReleaseSpinLock(&completer.lock, old_irql);
    CHECK(thread != NULL);
    InterlockedExchange(&completer.stop, 1);
    KeSetEvent(&completer.wake, IO_NO_INCREMENT, FALSE);
    kshim_thread_join(thread);
    KeAcquireSpinLock(&completer.lock, &old_irql);
    completer.thread = NULL;
    KeReleaseSpinLock(&completer.lock, old_irql);
}

LONG fake_completer_completed(void)
{
    return read_long(&completer.completed);
}

/* ---- modules ---------------------------------------------------------------------------- */

static void add_module(fake_module_t *module)
{
    for (int i = 0; i < module_count; i++) {
        if (modules[i] == module) {
            return;
        }
    }
    if (module_count == FAKE_MAX_MODULES) {
        nmr_test_fail(__FILE__, __LINE__, "more than %d fake modules", FAKE_MAX_MODULES);
    }
    modules[module_count++] = module;
}

static void init_common(fake_module_t *module, const char *name, fake_role_t role)
{
    memset(module, 0, sizeof *module);
    module->name = name;
    module->role = role;
    module->module_id.Length = sizeof(NPI_MODULEID);
    module->module_id.Type = MIT_GUID;
    ULONG hash = 2166136261u;
    for (const char *p = name; *p; p++) {
        hash = (hash ^ (unsigned char)*p) * 16777619u;
    }
    module->module_id.Guid.Data1 = hash;
    module->module_id.Guid.Data2 = 0x4d4d;
    module->module_id.Guid.Data3 = (USHORT)role;
    module->handle = FAKE_HANDLE_SENTINEL;
    module->attach_mode = FAKE_ATTACH_ACCEPT;
    module->detach_mode = FAKE_DETACH_SUCCESS;
    add_module(module);
}

void fake_client_init(fake_module_t *module, const char *name, PNPIID npi_id)
{
    init_common(module, name, FAKE_CLIENT);
    module->dispatch = FAKE_CLIENT_DISPATCH_V1;
    NPI_CLIENT_CHARACTERISTICS chars = {
        0,
        sizeof(NPI_CLIENT_CHARACTERISTICS),
        fake_client_attach_provider,
        fake_client_detach_provider,
        fake_client_cleanup,
        {0, sizeof(NPI_REGISTRATION_INSTANCE), npi_id, &module->module_id, 0, NULL},
    };
    module->cchars = chars;
}

void fake_provider_init(fake_module_t *module, const char *name, PNPIID npi_id)
{
    init_common(module, name, FAKE_PROVIDER);
    module->dispatch = FAKE_PROVIDER_DISPATCH;
    NPI_PROVIDER_CHARACTERISTICS chars = {
        0,
        sizeof(NPI_PROVIDER_CHARACTERISTICS),
        fake_provider_attach_client,
        fake_provider_detach_client,
        fake_provider_cleanup,
        {0, sizeof(NPI_REGISTRATION_INSTANCE), npi_id, &module->module_id, 0, NULL},
    };
    module->pchars = chars;
}

void fake_init_named(PNPIID npi_id, const char *names, ...)
{
    /* The names outlive the call (modules keep a pointer): copies in a static pool. */
    static char pool[4096];
    static size_t used;
    va_list modules;
    va_start(modules, names);
    for (const char *name = names; *name;) {
        size_t length = strcspn(name, " ");
        CHECK(used + length + 1 <= sizeof pool);
        char *copy = memcpy(pool + used, name, length);
        copy[length] = '\0';
        used += length + 1;
        fake_init(va_arg(modules, fake_module_t *), copy[0] == 'c' ? FAKE_CLIENT : FAKE_PROVIDER,
                  copy, npi_id);
        name += length + (name[length] == ' ');
    }
    va_end(modules);
}

void fake_init(fake_module_t *module, fake_role_t role, const char *name, PNPIID npi_id)
{
    if (role == FAKE_CLIENT) {
        fake_client_init(module, name, npi_id);
    } else {
        fake_provider_init(module, name, npi_id);
    }
}

fake_role_t fake_other_role(fake_role_t role)
{
    return role == FAKE_CLIENT ? FAKE_PROVIDER : FAKE_CLIENT;
}

const char *fake_role_name(fake_role_t role)
{
    return role == FAKE_CLIENT ? "client" : "provider";
}

#define SAME_OFFSET(client_field, provider_field)                                          \
    _Static_assert(offsetof(NPI_CLIENT_CHARACTERISTICS, client_field) ==                   \
                       offsetof(NPI_PROVIDER_CHARACTERISTICS, provider_field),             \
                   #client_field " and " #provider_field " differ")
SAME_OFFSET(Version, Version);
SAME_OFFSET(Length, Length);
SAME_OFFSET(ClientAttachProvider, ProviderAttachClient);
SAME_OFFSET(ClientDetachProvider, ProviderDetachClient);
SAME_OFFSET(ClientCleanupBindingContext, ProviderCleanupBindingContext);
SAME_OFFSET(ClientRegistrationInstance, ProviderRegistrationInstance);
_Static_assert(sizeof(NPI_CLIENT_CHARACTERISTICS) == sizeof(NPI_PROVIDER_CHARACTERISTICS),
               "the two characteristics structures differ in size");

#define CHARS_FIELD(field)                                                                 \
    {#field, offsetof(NPI_CLIENT_CHARACTERISTICS, field),                                  \
     sizeof(((NPI_CLIENT_CHARACTERISTICS *)0)->field)}
#define INSTANCE_FIELD(field)                                                              \
    {"instance " #field,                                                                   \
     offsetof(NPI_CLIENT_CHARACTERISTICS, ClientRegistrationInstance) +                    \
         offsetof(NPI_REGISTRATION_INSTANCE, field),                                       \
     sizeof(((NPI_REGISTRATION_INSTANCE *)0)->field)}
const fake_field_t FAKE_CHARACTERISTICS_FIELDS[] = {
    CHARS_FIELD(Version),
    CHARS_FIELD(Length),
    CHARS_FIELD(ClientAttachProvider),
    CHARS_FIELD(ClientDetachProvider),
    CHARS_FIELD(ClientCleanupBindingContext),
    INSTANCE_FIELD(Version),
    INSTANCE_FIELD(Size),
    INSTANCE_FIELD(NpiId),
    INSTANCE_FIELD(ModuleId),
    INSTANCE_FIELD(Number),
    INSTANCE_FIELD(NpiSpecificCharacteristics),
};
const size_t FAKE_CHARACTERISTICS_FIELD_COUNT =
    sizeof(FAKE_CHARACTERISTICS_FIELDS) / sizeof(FAKE_CHARACTERISTICS_FIELDS[0]);

unsigned char *fake_characteristics_bytes(fake_module_t *module)
{
    return module->role == FAKE_CLIENT ? (unsigned char *)&module->cchars
                                       : (unsigned char *)&module->pchars;
}

USHORT *fake_version_field(fake_module_t *module)
{
    return module->role == FAKE_CLIENT ? &module->cchars.Version : &module->pchars.Version;
}

USHORT *fake_length_field(fake_module_t *module)
{
    return module->role == FAKE_CLIENT ? &module->cchars.Length : &module->pchars.Length;
}

NPI_REGISTRATION_INSTANCE *fake_instance_field(fake_module_t *module)
{
    return module->role == FAKE_CLIENT ? &module->cchars.ClientRegistrationInstance
                                       : &module->pchars.ProviderRegistrationInstance;
}

void fake_set_callback(fake_module_t *module, fake_callback_t callback, bool present)
{
    NPI_CLIENT_CHARACTERISTICS *c = &module->cchars;
    NPI_PROVIDER_CHARACTERISTICS *p = &module->pchars;
    bool client = module->role == FAKE_CLIENT;
    switch (callback) {
    case FAKE_CALLBACK_ATTACH:
        if (client) {
            c->ClientAttachProvider = present ? fake_client_attach_provider : NULL;
        } else {
            p->ProviderAttachClient = present ? fake_provider_attach_client : NULL;
        }
        break;
    case FAKE_CALLBACK_DETACH:
        if (client) {
            c->ClientDetachProvider = present ? fake_client_detach_provider : NULL;
        } else {
            p->ProviderDetachClient = present ? fake_provider_detach_client : NULL;
        }
        break;
    case FAKE_CALLBACK_CLEANUP:
        if (client) {
            c->ClientCleanupBindingContext = present ? fake_client_cleanup : NULL;
        } else {
            p->ProviderCleanupBindingContext = present ? fake_provider_cleanup : NULL;
        }
        break;
    }
}

const char *fake_function_name(fake_role_t role, fake_function_t function)
{
    static const char *const names[][2] = {
        [FAKE_FN_REGISTER] = {"NmrRegisterClient", "NmrRegisterProvider"},
        [FAKE_FN_DEREGISTER] = {"NmrDeregisterClient", "NmrDeregisterProvider"},
        [FAKE_FN_WAIT] = {"NmrWaitForClientDeregisterComplete",
                          "NmrWaitForProviderDeregisterComplete"},
        [FAKE_FN_DETACH_COMPLETE] = {"NmrClientDetachProviderComplete",
                                     "NmrProviderDetachClientComplete"},
        [FAKE_FN_ATTACH_CALLBACK] = {"ClientAttachProvider", "ProviderAttachClient"},
        [FAKE_FN_DETACH_CALLBACK] = {"ClientDetachProvider", "ProviderDetachClient"},
        [FAKE_FN_CLEANUP_CALLBACK] = {"ClientCleanupBindingContext",
                                      "ProviderCleanupBindingContext"},
    };
    return names[function][role == FAKE_PROVIDER];
}

NTSTATUS fake_deregister_handle(fake_role_t role, HANDLE handle)
{
    return role == FAKE_CLIENT ? NmrDeregisterClient(handle) : NmrDeregisterProvider(handle);
}

NTSTATUS fake_wait_handle(fake_role_t role, HANDLE handle)
{
    return role == FAKE_CLIENT ? NmrWaitForClientDeregisterComplete(handle)
                               : NmrWaitForProviderDeregisterComplete(handle);
}

void fake_complete_handle(fake_role_t role, HANDLE handle)
{
    if (role == FAKE_CLIENT) {
        NmrClientDetachProviderComplete(handle);
    } else {
        NmrProviderDetachClientComplete(handle);
    }
}

void fake_init_pair(fake_module_t pair[2])
{
    fake_client_init(&pair[FAKE_CLIENT], "c1", &FAKE_NPI_A);
    fake_provider_init(&pair[FAKE_PROVIDER], "p1", &FAKE_NPI_A);
}

void fake_register_pair_first(fake_module_t pair[2], fake_role_t first)
{
    fake_register_ok(&pair[first]);
    fake_register_ok(&pair[fake_other_role(first)]);
}

void fake_register_pair(fake_module_t pair[2])
{
    fake_register_pair_first(pair, FAKE_PROVIDER);
}

void fake_unregister_pair_first(fake_module_t pair[2], fake_role_t first)
{
    fake_unregister_ok(&pair[first]);
    fake_unregister_ok(&pair[fake_other_role(first)]);
}

void fake_attach_pair(fake_module_t pair[2])
{
    fake_register_pair(pair);
    CHECK_EQ(pair[FAKE_CLIENT].attach_successes, 1);
    CHECK_EQ(pair[FAKE_PROVIDER].attach_successes, 1);
    fake_log_clear();
}

void fake_bind_pair(fake_module_t pair[2])
{
    fake_init_pair(pair);
    fake_attach_pair(pair);
}

void fake_unbind_pair(fake_module_t pair[2])
{
    fake_unregister_pair_first(pair, FAKE_CLIENT);
}

void fake_check_pair_irqls(fake_module_t pair[2], KIRQL detach_irql, KIRQL cleanup_irql)
{
    for (int role = FAKE_CLIENT; role <= FAKE_PROVIDER; role++) {
        fake_binding_t *side = fake_pair_side(pair, (fake_role_t)role);
        CHECK(side != NULL);
        CHECK_EQ(side->detach_irql, detach_irql);
        CHECK_EQ(side->cleanup_irql, cleanup_irql);
    }
}

void fake_check_deregistration_irqls(fake_module_t pair[2], fake_role_t role, KIRQL detach_irql,
                                     KIRQL cleanup_irql)
{
    fake_bind_pair(pair);
    CHECK_STATUS(fake_deregister(&pair[role]), STATUS_PENDING);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    fake_check_pair_irqls(pair, detach_irql, cleanup_irql);
    CHECK_STATUS(fake_wait(&pair[role]), STATUS_SUCCESS);
    fake_unregister_ok(&pair[fake_other_role(role)]);
}

fake_binding_t *fake_pair_side(fake_module_t pair[2], fake_role_t role)
{
    return fake_binding_between(&pair[role], &pair[fake_other_role(role)]);
}

const NPI_REGISTRATION_INSTANCE *fake_instance(const fake_module_t *module)
{
    return module->role == FAKE_CLIENT ? &module->cchars.ClientRegistrationInstance
                                       : &module->pchars.ProviderRegistrationInstance;
}

NTSTATUS fake_register(fake_module_t *module)
{
    add_module(module);
    module->handle = FAKE_HANDLE_SENTINEL;
    NTSTATUS status = module->role == FAKE_CLIENT
                          ? NmrRegisterClient(&module->cchars, module, &module->handle)
                          : NmrRegisterProvider(&module->pchars, module, &module->handle);
    module->register_status = status;
    if (status == STATUS_SUCCESS) {
        module->registered = true;
        module->deregistered = false;
        log_event(module->name, "registered", NULL);
    }
    return status;
}

NTSTATUS fake_deregister(fake_module_t *module)
{
    NTSTATUS status = module->role == FAKE_CLIENT ? NmrDeregisterClient(module->handle)
                                                  : NmrDeregisterProvider(module->handle);
    module->deregistered = true;
    log_event(module->name, "deregistered", NULL);
    return status;
}

NTSTATUS fake_wait(fake_module_t *module)
{
    NTSTATUS status = module->role == FAKE_CLIENT
                          ? NmrWaitForClientDeregisterComplete(module->handle)
                          : NmrWaitForProviderDeregisterComplete(module->handle);
    if (status == STATUS_SUCCESS) {
        module->registered = false;
        log_event(module->name, "waited", NULL);
    }
    return status;
}

void fake_register_ok(fake_module_t *module)
{
    NTSTATUS status = fake_register(module);
    if (status != STATUS_SUCCESS) {
        nmr_test_fail(__FILE__, __LINE__, "registering %s returned 0x%08x", module->name,
                      (unsigned)status);
    }
}

void fake_unregister_ok(fake_module_t *module)
{
    NTSTATUS status = fake_deregister(module);
    if (status != STATUS_PENDING) {
        nmr_test_fail(__FILE__, __LINE__, "deregistering %s returned 0x%08x, expected STATUS_PENDING",
                      module->name, (unsigned)status);
    }
    status = fake_wait(module);
    if (status != STATUS_SUCCESS) {
        nmr_test_fail(__FILE__, __LINE__, "waiting for %s returned 0x%08x, expected STATUS_SUCCESS",
                      module->name, (unsigned)status);
    }
}

/* ---- frame ------------------------------------------------------------------------------ */

void fake_begin(void)
{
    ULONG leftover = nmr_reset();
    (void)leftover;
    kshim_fault_set_plan(NULL);
    KeInitializeSpinLock(&log_lock);
    fake_log_clear();
    memset(records, 0, sizeof(fake_binding_t) * (size_t)(record_count < FAKE_MAX_BINDINGS
                                                              ? record_count
                                                              : FAKE_MAX_BINDINGS));
    InterlockedExchange(&record_count, 0);
    module_count = 0;
    InterlockedExchange(&global_violations, 0);
    InterlockedExchange(&marker, 0);
    fake_log_set_enabled(true);
    pool_baseline = kshim_pool_live_count();
}

size_t fake_pool_baseline(void)
{
    return pool_baseline;
}

void fake_end(void)
{
    for (int i = 0; i < module_count; i++) {
        fake_module_t *module = modules[i];
        if (module->registered) {
            nmr_test_fail(__FILE__, __LINE__, "audit: %s is still registered (not waited)",
                          module->name);
        }
        if (read_long(&module->violations)) {
            nmr_test_fail(__FILE__, __LINE__, "audit: %ld contract violation(s) seen by %s; log: %s",
                          (long)read_long(&module->violations), module->name, fake_log());
        }
        if (read_long(&module->not_nested_attaches)) {
            nmr_test_fail(__FILE__, __LINE__,
                          "audit: %s got %ld ProviderAttachClient call(s) outside the client's "
                          "NmrClientAttachProvider",
                          module->name, (long)read_long(&module->not_nested_attaches));
        }
    }
    if (read_long(&global_violations)) {
        nmr_test_fail(__FILE__, __LINE__, "audit: %ld callback(s) with an unknown context; log: %s",
                      (long)read_long(&global_violations), fake_log());
    }
    CHECK_EQ(nmr_live_object_count(), 0);
    nmr_check_invariants();
    if (kshim_pool_live_count() != pool_baseline) {
        kshim_pool_audit_print();
        nmr_test_fail(__FILE__, __LINE__, "audit: %zu live pool allocations, baseline %zu",
                      kshim_pool_live_count(), pool_baseline);
    }
    kshim_audit(pool_baseline);
}

/* ---- misc ------------------------------------------------------------------------------- */

const char *fake_catch_stop(void (*fn)(void *arg), void *arg)
{
    static kshim_stop_trap_t trap;
    static char text[2 * KSHIM_STOP_TEXT_CHARS + 2];
    if (setjmp(trap.jump) == 0) {
        kshim_stop_trap_arm(&trap);
        fn(arg);
        kshim_stop_trap_disarm(&trap);
        return NULL;
    }
    snprintf(text, sizeof text, "%s\n%s", trap.record.line, trap.record.printed);
    return text;
}

bool fake_text_contains(const char *text, const char *needle)
{
    size_t len = strlen(needle);
    for (const char *p = text; *p; p++) {
        size_t i = 0;
        while (i < len && p[i] &&
               tolower((unsigned char)p[i]) == tolower((unsigned char)needle[i])) {
            i++;
        }
        if (i == len) {
            return true;
        }
    }
    return false;
}

bool fake_stop_output_contains(const char *text)
{
    return fake_text_contains(nmr_test_last_child_output(), text);
}

const char *fake_stop_line(const char *needle)
{
    static char line[1024];
    const char *output = nmr_test_last_child_output();
    while (*output) {
        const char *end = strchr(output, '\n');
        size_t len = end ? (size_t)(end - output) : strlen(output);
        snprintf(line, sizeof line, "%.*s", (int)len, output);
        if (fake_text_contains(line, needle)) {
            return line;
        }
        if (!end) {
            break;
        }
        output = end + 1;
    }
    return NULL;
}

void fake_sleep_ms(ULONG milliseconds)
{
    KEVENT never;
    LARGE_INTEGER timeout;
    KeInitializeEvent(&never, NotificationEvent, FALSE);
    timeout.QuadPart = -(LONGLONG)milliseconds * 10000;
    KeWaitForSingleObject(&never, Executive, KernelMode, FALSE, &timeout);
}

nmr_verifier_config_t fake_config(void)
{
    nmr_verifier_config_t config;
    nmr_verifier_get_config(&config);
    return config;
}

void fake_set_config(const nmr_verifier_config_t *config)
{
    nmr_verifier_set_config(config);
}

void fake_turn_on(unsigned switches)
{
    nmr_verifier_config_t config = fake_config();
    config.detach_at_dispatch |= (switches & FAKE_DETACH_AT_DISPATCH) != 0;
    config.cleanup_at_dispatch |= (switches & FAKE_CLEANUP_AT_DISPATCH) != 0;
    config.provider_detach_first |= (switches & FAKE_PROVIDER_DETACH_FIRST) != 0;
    config.warnings_are_fatal |= (switches & FAKE_WARNINGS_ARE_FATAL) != 0;
    fake_set_config(&config);
}

void fake_set_hang_timeout(ULONG milliseconds)
{
    nmr_verifier_config_t config = fake_config();
    config.hang_timeout_ms = milliseconds;
    fake_set_config(&config);
}

const char *fake_handle_text(HANDLE handle, char buffer[32])
{
    snprintf(buffer, 32, "%llx", (unsigned long long)(uintptr_t)handle);
    return buffer;
}

const char *fake_guid_text(const GUID *guid, char buffer[40])
{
    snprintf(buffer, 40, "{%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}", (unsigned)guid->Data1,
             guid->Data2, guid->Data3, guid->Data4[0], guid->Data4[1], guid->Data4[2],
             guid->Data4[3], guid->Data4[4], guid->Data4[5], guid->Data4[6], guid->Data4[7]);
    return buffer;
}
