/* SPDX-License-Identifier: MIT */
/*
 * fuzz_status.h - NTSTATUS names for timelines and oracle messages (the trace records
 * statuses through fuzz_status_str, never as raw numbers). Depends on libc only.
 */
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Name of a common NTSTATUS value ("STATUS_PENDING"), or NULL if unknown. */
const char *fuzz_status_name(int32_t status);

/**
 * @brief fuzz_status_name, or "0x%08x" for an unknown value (formatted into one of a few
 * rotating static buffers: valid until the fourth following call).
 */
const char *fuzz_status_str(int32_t status);

#ifdef __cplusplus
}
#endif
