/* SPDX-License-Identifier: MIT */
/*
 * fuzz_input.h - harness helpers shared by nmrkit's fuzz targets: a byte-stream reader
 * and a trace recorder.
 *
 * The reader turns the fuzzer's input into small decisions. It never fails: once the
 * input runs out every take returns zero (false, choice 0), so a truncated input decodes
 * to a prefix of the same operation stream followed by zero-valued operands.
 *
 * The recorder receives one event per harness action (an NMR call, a callback a module
 * received, a status, an injected fault). Every event is folded into a 64-bit FNV-1a
 * hash, which the replay program compares between runs of the same input (a difference
 * is nondeterminism in the core, the shim or the harness). With an output stream set
 * (replay -print), every event is also printed as one timeline line:
 *     <seq> <thread> <indent><text>
 * The last FUZZ_TRACE_RECENT events are kept, so an oracle failure can show how the
 * input got there.
 *
 * This is not a fuzz engine and knows nothing of NMR (except NTSTATUS names for
 * printing). It depends on libc only.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Byte-stream reader                                                                         */
/* ------------------------------------------------------------------------------------------ */

typedef struct fuzz_input {
    const uint8_t *data; /* the input; not owned */
    size_t size;         /* bytes in data */
    size_t pos;          /* next byte to take */
} fuzz_input_t;

/** @brief Start reading data[0..size). */
void fuzz_input_init(fuzz_input_t *in, const uint8_t *data, size_t size);

/** @brief Bytes not yet taken. */
size_t fuzz_input_remaining(const fuzz_input_t *in);

/** @brief True once every byte has been taken. */
bool fuzz_input_exhausted(const fuzz_input_t *in);

/** @brief Next byte, or 0 once the input has run out. */
uint8_t fuzz_take_u8(fuzz_input_t *in);

/** @brief Next two bytes, little-endian; missing bytes read as 0. */
uint16_t fuzz_take_u16(fuzz_input_t *in);

/** @brief Low bit of the next byte (false once the input has run out). */
bool fuzz_take_bool(fuzz_input_t *in);

/**
 * @brief A value in [0, n): one byte modulo n for n <= 256, two bytes modulo n above.
 * Returns 0 for n == 0 or n == 1 without taking anything.
 */
unsigned fuzz_take_choice(fuzz_input_t *in, unsigned n);

/* ------------------------------------------------------------------------------------------ */
/* Trace recorder                                                                             */
/* ------------------------------------------------------------------------------------------ */

/** Events kept for fuzz_trace_print_recent. */
#define FUZZ_TRACE_RECENT 48
/** Longest printed event text; longer text is cut (the hash still covers all of it). */
#define FUZZ_TRACE_LINE_MAX 200

/**
 * @brief Start a new trace: hash reset to the FNV-1a offset basis, sequence number 0,
 * thread "main", depth 0, recent events forgotten. The output stream is kept.
 */
void fuzz_trace_reset(void);

/** @brief Print every following event to out (NULL: record and hash only). */
void fuzz_trace_set_output(FILE *out);

/** @brief The stream set by fuzz_trace_set_output, or NULL. */
FILE *fuzz_trace_output(void);

/**
 * @brief Name the logical thread that the following events happen on (a static string,
 * not copied; part of the hash).
 */
void fuzz_trace_set_thread(const char *thread);

/** @brief Current logical thread name. */
const char *fuzz_trace_thread(void);

/** @brief Indent following events one level deeper (entering a call or callback). */
void fuzz_trace_enter(void);

/** @brief Undo one fuzz_trace_enter. */
void fuzz_trace_leave(void);

/**
 * @brief Record one event. fmt is a restricted printf format, and every argument is part
 * of the hash:
 *   %d int   %u unsigned   %x unsigned (hex)   %s const char * (NULL prints "(null)")
 *   %% a percent sign
 * No flags, widths or length modifiers (an unknown conversion is printed literally).
 * NTSTATUS values go through fuzz_status_str. Pointers and other run-dependent values
 * must not be passed (they would make the hash differ between runs); map them to small
 * ordinals first.
 */
__attribute__((format(printf, 1, 2))) void fuzz_trace_event(const char *fmt, ...);

/** @brief FNV-1a hash of every event since fuzz_trace_reset. */
uint64_t fuzz_trace_hash(void);

/** @brief Events recorded since fuzz_trace_reset. */
unsigned long fuzz_trace_event_count(void);

/** @brief Print the last FUZZ_TRACE_RECENT events (oldest first) to out. */
void fuzz_trace_print_recent(FILE *out);

/**
 * @brief An oracle found a bug: print "*** FUZZ ORACLE: <message><context>" on stderr, then
 * (if show_recent) the last events of the input, and abort so the fuzzer keeps the input.
 * @param context Appended to the message, e.g. " (operation 3)"; may be "".
 */
__attribute__((noreturn)) void fuzz_oracle_failv(const char *context, bool show_recent,
                                                 const char *format, va_list arguments);

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
