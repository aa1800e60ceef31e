/* SPDX-License-Identifier: MIT */
/* fuzz_status.c - NTSTATUS names for timelines and messages (fuzz_status.h). */
#include "fuzz_status.h"

#include <stdio.h>

/* ------------------------------------------------------------------------------------------ */
/* NTSTATUS names                                                                             */
/* ------------------------------------------------------------------------------------------ */

static const struct {
    uint32_t value;
    const char *name;
} status_names[] = {
    {0x00000000u, "STATUS_SUCCESS"},
    {0x00000103u, "STATUS_PENDING"},
    {0xC0000001u, "STATUS_UNSUCCESSFUL"},
    {0xC0000002u, "STATUS_NOT_IMPLEMENTED"},
    {0xC000000Du, "STATUS_INVALID_PARAMETER"},
    {0xC0000008u, "STATUS_INVALID_HANDLE"},
    {0xC0000017u, "STATUS_NO_MEMORY"},
    {0xC0000022u, "STATUS_ACCESS_DENIED"},
    {0xC000009Au, "STATUS_INSUFFICIENT_RESOURCES"},
    {0xC00000BBu, "STATUS_NOT_SUPPORTED"},
    {0xC00000A3u, "STATUS_DEVICE_NOT_READY"},
    {0xC00002B9u, "STATUS_NOINTERFACE"},
};

const char *fuzz_status_name(int32_t status)
{
    for (size_t i = 0; i < sizeof status_names / sizeof status_names[0]; i++) {
        if (status_names[i].value == (uint32_t)status) {
            return status_names[i].name;
        }
    }
    return NULL;
}

const char *fuzz_status_str(int32_t status)
{
    static char buffers[4][16];
    static unsigned next;
    const char *name = fuzz_status_name(status);
    if (name) {
        return name;
    }
    char *buf = buffers[next++ % 4];
    snprintf(buf, sizeof buffers[0], "0x%08x", (unsigned)(uint32_t)status);
    return buf;
}