/* SPDX-License-Identifier: MIT */
/*
 * ex_uuid.c - ExUuidCreate: version-4 UUIDs from a fixed sequence (a counter through a
 * 64-bit mixer), restarted by kshim_reset, so that every run replays exactly.
 */
#include "kshim_internal.h"

#include <string.h>

/* UUIDs made since the last reset. Interlocked. */
static uint64_t uuids_made;

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

NTSTATUS ExUuidCreate(UUID *Uuid)
{
    kshim_require_irql_at_most("ExUuidCreate", PASSIVE_LEVEL);
    uint64_t n = __atomic_add_fetch(&uuids_made, 1, __ATOMIC_SEQ_CST);
    uint64_t halves[2] = {mix(n * 0x9e3779b97f4a7c15ULL), mix(~n * 0x9e3779b97f4a7c15ULL)};
    uint8_t bytes[16];
    memcpy(bytes, halves, sizeof bytes);
    bytes[7] = (uint8_t)((bytes[7] & 0x0f) | 0x40); /* version 4 (Data3's high nibble) */
    bytes[8] = (uint8_t)((bytes[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    memcpy(Uuid, bytes, sizeof bytes);
    return STATUS_SUCCESS;
}

void kshim_uuid_reset(void)
{
    __atomic_store_n(&uuids_made, 0, __ATOMIC_SEQ_CST);
}
