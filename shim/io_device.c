/* SPDX-License-Identifier: MIT */
/*
 * io_device.c - device objects (IoCreateDevice / IoDeleteDevice).
 *
 * One pool allocation (tag KSHIM_TAG_DEVICE, the caller's site) holds the DEVICE_OBJECT,
 * the zeroed device extension and a copy of the name. Live devices are kept in a list for
 * name collisions and for checking IoDeleteDevice's argument.
 */
#include "kshim_internal.h"

typedef struct device_block {
    DEVICE_OBJECT device;           /* first: the block and the device share an address */
    struct device_block *next_live; /* Protected by: device lock */
    UNICODE_STRING name;            /* Buffer points into this block, or NULL */
} device_block_t;

/* The device lock. Protects: live_devices and the DeviceObject chains of driver objects. */
static kshim_os_mutex_t device_mutex = KSHIM_OS_MUTEX_INIT;
static device_block_t *live_devices;

static bool names_equal(PCUNICODE_STRING a, PCUNICODE_STRING b)
{
    return a->Length == b->Length &&
           (a->Length == 0 || __builtin_memcmp(a->Buffer, b->Buffer, a->Length) == 0);
}

NTSTATUS kshim_IoCreateDevice(PDRIVER_OBJECT DriverObject, ULONG DeviceExtensionSize,
                              PUNICODE_STRING DeviceName, ULONG DeviceType,
                              ULONG DeviceCharacteristics, BOOLEAN Exclusive,
                              PDEVICE_OBJECT *DeviceObject, const char *site)
{
    *DeviceObject = NULL;
    kshim_require_irql_at_most("IoCreateDevice", PASSIVE_LEVEL);
    if (kshim_fault_should_fail(site, KSHIM_TAG_DEVICE)) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    size_t ext_offset = (sizeof(device_block_t) + 15) & ~(size_t)15;
    size_t name_offset = (ext_offset + DeviceExtensionSize + 15) & ~(size_t)15;
    size_t name_bytes = DeviceName ? DeviceName->Length : 0;

    kshim_os_mutex_lock(&device_mutex);
    if (DeviceName) {
        for (device_block_t *d = live_devices; d; d = d->next_live) {
            if (d->name.Buffer && names_equal(&d->name, DeviceName)) {
                kshim_os_mutex_unlock(&device_mutex);
                return STATUS_OBJECT_NAME_COLLISION;
            }
        }
    }
    device_block_t *block = kshim_pool_alloc_internal(name_offset + name_bytes, KSHIM_TAG_DEVICE, site, true);
    PDEVICE_OBJECT device = &block->device;
    device->Type = 3; /* IO_TYPE_DEVICE */
    device->Size = (USHORT)sizeof(DEVICE_OBJECT);
    device->ReferenceCount = 0;
    device->DriverObject = DriverObject;
    device->Flags = DO_DEVICE_INITIALIZING | (Exclusive ? DO_EXCLUSIVE : 0);
    device->Characteristics = DeviceCharacteristics;
    device->DeviceType = DeviceType;
    device->StackSize = 1;
    device->DeviceExtension = DeviceExtensionSize ? (PUCHAR)block + ext_offset : NULL;
    if (DeviceName) {
        block->name.Buffer = (PWCH)((PUCHAR)block + name_offset);
        block->name.Length = DeviceName->Length;
        block->name.MaximumLength = DeviceName->Length;
        if (name_bytes) {
            __builtin_memcpy(block->name.Buffer, DeviceName->Buffer, name_bytes);
        }
    }
    if (DriverObject) {
        device->NextDevice = DriverObject->DeviceObject;
        DriverObject->DeviceObject = device;
    }
    block->next_live = live_devices;
    live_devices = block;
    kshim_os_mutex_unlock(&device_mutex);
    *DeviceObject = device;
    return STATUS_SUCCESS;
}

#undef IoCreateDevice
NTSTATUS IoCreateDevice(PDRIVER_OBJECT DriverObject, ULONG DeviceExtensionSize,
                        PUNICODE_STRING DeviceName, ULONG DeviceType, ULONG DeviceCharacteristics,
                        BOOLEAN Exclusive, PDEVICE_OBJECT *DeviceObject)
{
    return kshim_IoCreateDevice(DriverObject, DeviceExtensionSize, DeviceName, DeviceType,
                                DeviceCharacteristics, Exclusive, DeviceObject, "unknown:0");
}

VOID IoDeleteDevice(PDEVICE_OBJECT DeviceObject)
{
    kshim_require_irql_at_most("IoDeleteDevice", PASSIVE_LEVEL);
    kshim_os_mutex_lock(&device_mutex);
    device_block_t **p = &live_devices;
    while (*p && &(*p)->device != DeviceObject) {
        p = &(*p)->next_live;
    }
    if (*p == NULL) {
        kshim_os_mutex_unlock(&device_mutex);
        kshim_stop("DEVICE_OBJECT_UNKNOWN", "IoDeleteDevice: %p is not a live device object",
                   (void *)DeviceObject);
    }
    device_block_t *block = *p;
    *p = block->next_live;
    PDRIVER_OBJECT driver = DeviceObject->DriverObject;
    if (driver) {
        PDEVICE_OBJECT *link = &driver->DeviceObject;
        while (*link && *link != DeviceObject) {
            link = &(*link)->NextDevice;
        }
        if (*link) {
            *link = DeviceObject->NextDevice;
        }
    }
    kshim_pool_free_internal(block, "IoDeleteDevice", NULL);
    kshim_os_mutex_unlock(&device_mutex);
}
