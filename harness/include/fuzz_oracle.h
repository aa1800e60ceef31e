/* SPDX-License-Identifier: MIT */
/*
 * fuzz_oracle.h - oracle failure reports of the harness library: one line
 *     *** FUZZ ORACLE: <message><context>
 * on stderr, the last events of the input (fuzz_trace.h), then abort(), so that libFuzzer
 * keeps the input and a replay reproduces it. Depends on libc only.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief An oracle found a bug: print "*** FUZZ ORACLE: <message><context>" on stderr, then
 * (if show_recent) the last events of the input, or, where none were recorded
 * (fuzz_trace_set_recent off in a libFuzzer run), "--- replay the input to see its last
 * events", and abort so the fuzzer keeps the input.
 * @param context Appended to the message, e.g. " (operation 3)"; may be "".
 */
__attribute__((noreturn)) void fuzz_oracle_failv(const char *context, bool show_recent,
                                                 const char *format, va_list arguments);


/** @brief Writes what a failure appends to its message, e.g. " (operation 3)". */
typedef void fuzz_oracle_context_fn(char *buffer, size_t size);

/**
 * @brief How the target's failures are reported: context (NULL: nothing appended) and
 * whether the last events of the input follow the message (off where the ring is not one
 * consistent picture, e.g. with real threads). Kept until the next call; the default is
 * (NULL, true).
 */
void fuzz_oracle_configure(fuzz_oracle_context_fn *context, bool show_recent);

/**
 * @brief An oracle found a bug: fuzz_oracle_failv with the configured context and recent
 * events. A target's oracles all go through this one function.
 */
__attribute__((noreturn, format(printf, 1, 2))) void fuzz_oracle_fail(const char *format, ...);

#ifdef __cplusplus
}
#endif
