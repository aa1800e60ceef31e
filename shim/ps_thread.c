/* SPDX-License-Identifier: MIT */
/*
 * ps_thread.c - system threads (PsCreateSystemThread / PsTerminateSystemThread), the
 * kernel handle table (thread handles only) and object references (Ob*).
 *
 * A system thread's object holds one reference for the running thread and one for the
 * handle; ObReferenceObjectByHandle adds more. The running thread's reference is dropped,
 * the object signalled and the pending-work count decremented in one step under the
 * dispatcher lock, so a waiter that wakes sees everything already settled.
 */
#include "kshim_internal.h"

#include <stdio.h>
#include <stdlib.h>

struct _OBJECT_TYPE {
    const char *name;
};

static struct _OBJECT_TYPE thread_type = {"Thread"};
static POBJECT_TYPE thread_type_pointer = &thread_type;
POBJECT_TYPE *PsThreadType = &thread_type_pointer;

/* ---- handle table ---------------------------------------------------------------------- */

typedef struct handle_entry {
    ULONG_PTR value;
    struct _KTHREAD *object; /* holds one reference */
} handle_entry_t;

/* Protected by: dispatcher lock. Handle values are never reused. */
static handle_entry_t *handles;
static size_t handle_count;
static size_t handle_capacity;
static ULONG_PTR next_handle_value = 0xffffffff80000004ULL;

/* Dispatcher lock held. */
static HANDLE handle_insert_locked(struct _KTHREAD *object)
{
    if (handle_count == handle_capacity) {
        size_t capacity = handle_capacity ? handle_capacity * 2 : 16;
        handle_entry_t *grown = realloc(handles, capacity * sizeof *grown);
        if (grown == NULL) {
            kshim_stop("THREAD_CREATE_FAILED", "out of memory for the handle table");
        }
        handles = grown;
        handle_capacity = capacity;
    }
    ULONG_PTR value = next_handle_value;
    next_handle_value += 4;
    handles[handle_count].value = value;
    handles[handle_count].object = object;
    handle_count++;
    return (HANDLE)value;
}

/* Dispatcher lock held. */
static handle_entry_t *handle_find_locked(HANDLE handle)
{
    for (size_t i = 0; i < handle_count; i++) {
        if (handles[i].value == (ULONG_PTR)handle) {
            return &handles[i];
        }
    }
    return NULL;
}

NTSTATUS ZwClose(HANDLE Handle)
{
    kshim_require_irql_at_most("ZwClose", PASSIVE_LEVEL);
    kshim_dispatcher_lock();
    handle_entry_t *entry = handle_find_locked(Handle);
    if (entry == NULL) {
        kshim_dispatcher_unlock();
        kshim_stop("INVALID_KERNEL_HANDLE", "ZwClose: %p is not an open kernel handle (bugcheck 0x93)",
                   Handle);
    }
    struct _KTHREAD *object = entry->object;
    *entry = handles[--handle_count];
    kshim_thread_dereference_locked(object, "ZwClose");
    kshim_dispatcher_unlock();
    return STATUS_SUCCESS;
}

NTSTATUS ObReferenceObjectByHandle(HANDLE Handle, ACCESS_MASK DesiredAccess, POBJECT_TYPE ObjectType,
                                   KPROCESSOR_MODE AccessMode, PVOID *Object,
                                   POBJECT_HANDLE_INFORMATION HandleInformation)
{
    (void)AccessMode;
    kshim_require_irql_at_most("ObReferenceObjectByHandle", APC_LEVEL);
    *Object = NULL;
    struct _KTHREAD *self = kshim_current_thread();
    if (ObjectType != NULL && ObjectType != *PsThreadType) {
        return STATUS_OBJECT_TYPE_MISMATCH;
    }
    kshim_dispatcher_lock();
    struct _KTHREAD *object;
    if (Handle == NtCurrentThread()) {
        object = self;
    } else {
        handle_entry_t *entry = handle_find_locked(Handle);
        if (entry == NULL) {
            kshim_dispatcher_unlock();
            return STATUS_INVALID_HANDLE;
        }
        object = entry->object;
    }
    object->references++;
    kshim_dispatcher_unlock();
    *Object = object;
    if (HandleInformation) {
        HandleInformation->HandleAttributes = OBJ_KERNEL_HANDLE;
        HandleInformation->GrantedAccess = DesiredAccess;
    }
    return STATUS_SUCCESS;
}

static struct _KTHREAD *live_object_locked(PVOID Object, const char *routine)
{
    if (Object == NULL || !kshim_thread_is_live_locked(Object)) {
        kshim_dispatcher_unlock();
        kshim_stop("OBJECT_UNKNOWN", "%s: %p is not a live object", routine, Object);
    }
    return Object;
}

LONG_PTR ObfReferenceObject(PVOID Object)
{
    kshim_require_irql_at_most("ObReferenceObject", DISPATCH_LEVEL);
    kshim_dispatcher_lock();
    struct _KTHREAD *object = live_object_locked(Object, "ObReferenceObject");
    LONG_PTR n = ++object->references;
    kshim_dispatcher_unlock();
    return n;
}

LONG_PTR ObfDereferenceObject(PVOID Object)
{
    kshim_require_irql_at_most("ObDereferenceObject", DISPATCH_LEVEL);
    kshim_dispatcher_lock();
    struct _KTHREAD *object = live_object_locked(Object, "ObDereferenceObject");
    LONG_PTR n = object->references - 1;
    kshim_thread_dereference_locked(object, "ObDereferenceObject");
    kshim_dispatcher_unlock();
    return n;
}

/* ---- system threads ---------------------------------------------------------------------- */

typedef struct system_thread_start {
    struct _KTHREAD *object;
    PKSTART_ROUTINE routine;
    PVOID context;
    kshim_owned_work_t owned; /* listed from creation until the routine ends */
} system_thread_start_t;

static void system_thread_main(void *p)
{
    system_thread_start_t *start = p;
    struct _KTHREAD *self = start->object;
    kshim_thread_set_current(self);
    kshim_dispatcher_lock();
    start->owned.running = true;
    kshim_dispatcher_unlock();
    kshim_owned_work_run_begin(&start->owned);
    jmp_buf terminate;
    volatile NTSTATUS exit_status = STATUS_SUCCESS;
    int jumped = setjmp(terminate);
    if (jumped == 0) {
        self->terminate_target = &terminate;
        start->routine(start->context);
    } else {
        exit_status = self->exit_status_request;
    }
    self->terminate_target = NULL;
    kshim_thread_exit_checks(self, "system thread", "PsCreateSystemThread start routine");
    kshim_owner_swap(NULL);
    kshim_dispatcher_lock();
    kshim_owned_work_unlist_locked(&start->owned);
    kshim_pending_work_done_locked();
    kshim_thread_terminate_locked(self, exit_status);
    kshim_dispatcher_unlock();
    kshim_thread_set_current(NULL);
    free(start);
}

NTSTATUS kshim_PsCreateSystemThread(PHANDLE ThreadHandle, ULONG DesiredAccess,
                                    POBJECT_ATTRIBUTES ObjectAttributes, HANDLE ProcessHandle,
                                    PCLIENT_ID ClientId, PKSTART_ROUTINE StartRoutine,
                                    PVOID StartContext, const char *site)
{
    (void)DesiredAccess;
    (void)ObjectAttributes;
    (void)ProcessHandle;
    kshim_require_irql_at_most("PsCreateSystemThread", PASSIVE_LEVEL);
    if (kshim_fault_should_fail(site, KSHIM_TAG_THREAD)) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    system_thread_start_t *start = calloc(1, sizeof *start);
    if (start == NULL) {
        kshim_stop("THREAD_CREATE_FAILED", "PsCreateSystemThread: out of memory");
    }
    char name[64];
    snprintf(name, sizeof name, "system thread from %s", kshim_site_basename(site));
    struct _KTHREAD *object = kshim_thread_object_create(KSHIM_THREAD_SYSTEM, name, site);
    start->object = object;
    start->routine = StartRoutine;
    start->context = StartContext;
    kshim_dispatcher_lock();
    object->references++; /* the handle's */
    *ThreadHandle = handle_insert_locked(object);
    kshim_owned_work_list_locked(&start->owned, KSHIM_WORK_SYSTEM_THREAD, (const void *)StartRoutine);
    kshim_pending_work_add_locked();
    kshim_dispatcher_unlock();
    if (ClientId) {
        ClientId->UniqueProcess = (HANDLE)(ULONG_PTR)4;
        ClientId->UniqueThread = (HANDLE)object->id;
    }
    kshim_dispatcher_thread_create(system_thread_main, start, false);
    return STATUS_SUCCESS;
}

#undef PsCreateSystemThread
NTSTATUS PsCreateSystemThread(PHANDLE ThreadHandle, ULONG DesiredAccess,
                              POBJECT_ATTRIBUTES ObjectAttributes, HANDLE ProcessHandle,
                              PCLIENT_ID ClientId, PKSTART_ROUTINE StartRoutine, PVOID StartContext)
{
    return kshim_PsCreateSystemThread(ThreadHandle, DesiredAccess, ObjectAttributes, ProcessHandle,
                                      ClientId, StartRoutine, StartContext, "unknown:0");
}

NTSTATUS PsTerminateSystemThread(NTSTATUS ExitStatus)
{
    struct _KTHREAD *self = kshim_current_thread();
    if (self->kind != KSHIM_THREAD_SYSTEM || self->terminate_target == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    self->exit_status_request = ExitStatus;
    longjmp(*self->terminate_target, 1);
}
