/* SPDX-License-Identifier: MIT */
/*
 * fuzz_handles.h - the handle ledger of the harness library: every handle the registrar
 * gives a harness in one input (registration and binding handles alike), numbered in issue
 * order from 1. Timelines and messages name a handle by its ordinal ("h3"), never by its
 * value, which differs between runs and processes; the ledger also checks that a handle is
 * never NULL and never issued twice in one input (NMR handles are never reused).
 *
 * Reset at the start of every input by fuzz_run_begin (in O(1): an epoch, not a clear).
 * Single-threaded: the harness's simulated threads take turns on one OS thread.
 */
#pragma once

#include <stdbool.h>

#include <ntdef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Handles one input may be issued; more is a harness failure ("handle ledger full"). */
#define FUZZ_HANDLES_MAX 1023u

/** @brief Forget every handle: the next one issued is h1. */
void fuzz_handles_reset(void);

/**
 * @brief Enter a handle the registrar just gave out and return its ordinal. An oracle
 * failure (naming `what`, e.g. "NmrRegisterClient") when the handle is NULL or was issued
 * before in this input.
 */
unsigned fuzz_handle_issue(HANDLE handle, const char *what);

/** @brief The ordinal of a handle issued in this input, or 0 (never issued: forged, NULL). */
unsigned fuzz_handle_ordinal(HANDLE handle);

/** @brief Handles issued in this input. */
unsigned fuzz_handle_count(void);

#ifdef __cplusplus
}
#endif
