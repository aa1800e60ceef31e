/* SPDX-License-Identifier: MIT */
/* fuzz_status.c - NTSTATUS names for timelines and messages (fuzz_status.h). */
#include "fuzz_status.h"

#include <stdio.h>

/* ------------------------------------------------------------------------------------------ */
/* NTSTATUS names                                                                             */
/* ------------------------------------------------------------------------------------------ */

/* A switch, not a table walk: every traced NMR call and callback names its status, in
   fuzzing runs too (the trace arguments are evaluated before the recorder decides). */
const char *fuzz_status_name(int32_t status)
{
    switch ((uint32_t)status) {
    case 0x00000000u:
        return "STATUS_SUCCESS";
    case 0x00000103u:
        return "STATUS_PENDING";
    case 0xC0000001u:
        return "STATUS_UNSUCCESSFUL";
    case 0xC0000002u:
        return "STATUS_NOT_IMPLEMENTED";
    case 0xC000000Du:
        return "STATUS_INVALID_PARAMETER";
    case 0xC0000008u:
        return "STATUS_INVALID_HANDLE";
    case 0xC0000017u:
        return "STATUS_NO_MEMORY";
    case 0xC0000022u:
        return "STATUS_ACCESS_DENIED";
    case 0xC000009Au:
        return "STATUS_INSUFFICIENT_RESOURCES";
    case 0xC00000BBu:
        return "STATUS_NOT_SUPPORTED";
    case 0xC00000A3u:
        return "STATUS_DEVICE_NOT_READY";
    case 0xC00002B9u:
        return "STATUS_NOINTERFACE";
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