/* SPDX-License-Identifier: MIT */
/*
 * fuzz_input.h - harness helpers shared by nmrkit's fuzz targets: a byte-stream reader
 * with labelled takes (timeline input lines, and an encoder from text back to bytes) and
 * a trace recorder.
 *
 * The reader turns the fuzzer's input into small decisions. It never fails: once the
 * input runs out every take returns zero (false, choice 0), so a truncated input decodes
 * to a prefix of the same operation stream followed by zero-valued operands.
 *
 * Every decision also has a label (fuzz_take_*_as), so an input can be shown and written
 * as text: with a trace output set, each take prints "label=value" on an input line of the
 * timeline, and the encoder (fuzz_encode_begin / fuzz_encode_end, replay -encode) turns
 * such lines back into bytes by running the target with the text as its input. Text format:
 *     [- <thread> <indent>]> [<reader>:] label=value label=value ...   [# comment]
 * An input line starts with '>' (the printer writes "-" and the current thread before it,
 * where events have their sequence number). Takes of one reader between two events share
 * a line; a label that repeats within the line, another reader or a long line starts a new
 * one. Values: numbers (decimal; the encoder also reads 0x.. and 0b..), yes/no, or names;
 * "unread=<hex>" holds bytes the target did not read (fuzz_input_finish). Every other line
 * (events, "# comments", blank lines) is ignored by the encoder, so a printed timeline and
 * a file of hand-written '>' lines both encode. The encoder pops the tokens of each reader
 * in order as the target takes; decisions with a runtime range (a choice among the
 * runnable threads) are encoded against the range of that run, which is the same as the
 * range of the decoded run because the runs make the same decisions.
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
    const uint8_t *data;           /* the input; not owned */
    size_t size;                   /* bytes in data */
    size_t pos;                    /* next byte to take */
    const char *name;              /* reader name on input lines (NULL: the main reader) */
    unsigned order;                /* fuzz_input_init calls before this one in the run */
    struct fuzz_text_reader *text; /* encode mode: this reader's text and bytes (else NULL) */
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
/* Labelled takes                                                                             */
/* ------------------------------------------------------------------------------------------ */

/*
 * Every decision a target reads from its input gets a label, so that the timeline printer
 * shows it and the encoder can turn the text back into bytes. Byte semantics are exactly
 * those of the unlabelled takes above (a take whose reader has run out returns 0 and
 * prints nothing). Labels match [a-z][a-z0-9_]*; names contain no whitespace and no '='.
 * With neither printing nor encoding active, a labelled take costs one predictable
 * branch more than the unlabelled one.
 */

/** @brief Name of a reader, shown on its input lines (NULL or "" for the main reader).
 *  Targets that read several regions of the input use one fuzz_input_t per region, each
 *  named, initialized in the order the regions lie in the input (the encoder lays the
 *  regions out in that order). Call it right after fuzz_input_init. */
void fuzz_input_set_name(fuzz_input_t *in, const char *name);

uint8_t fuzz_take_u8_as(fuzz_input_t *in, const char *label);                  /* label=<0..255>   */
uint16_t fuzz_take_u16_as(fuzz_input_t *in, const char *label);                /* label=<0..65535> */
bool fuzz_take_bool_as(fuzz_input_t *in, const char *label);                   /* label=yes|no     */
unsigned fuzz_take_choice_as(fuzz_input_t *in, const char *label, unsigned n); /* label=<0..n-1>   */
/** @brief A choice among n names; printed as label=<names[v]>. */
unsigned fuzz_take_enum_as(fuzz_input_t *in, const char *label, const char *const *names,
                           unsigned n);

/* One byte split into bit fields, from bit 0 up; printed as one token per field. names, when
   not NULL, has 1 << width entries and the field prints as a name, else as a number. */
typedef struct fuzz_bits {
    const char *label;
    unsigned width;
    const char *const *names;
} fuzz_bits_t;
/* Returns the fields packed back into one value (the bits of the byte the fields cover), for
   decoders that keep the byte. */
unsigned fuzz_take_packed_as(fuzz_input_t *in, const fuzz_bits_t *fields, unsigned count,
                             unsigned *values);

/** @brief End of decoding for this reader: prints the unread remainder (so the text keeps
 *  every byte). Call once per reader at the end of every run. */
void fuzz_input_finish(fuzz_input_t *in);

/* ---- additions to the agreed interface ---- */

/* One byte read as mixed-radix digits, lowest first: field i is (byte / (base_0 * ... *
   base_{i-1})) % base_i; base 0 means "the rest of the byte" (last field only). Packed bit
   fields are the case base = 1 << width; digits also express "X % 5, then X / 5". names,
   when not NULL, has `base` entries. In both packed and digits takes a field whose label is
   NULL is unused bits: not printed, encoded as 0. */
typedef struct fuzz_digit {
    const char *label;
    unsigned base;
    const char *const *names;
} fuzz_digit_t;
void fuzz_take_digits_as(fuzz_input_t *in, const fuzz_digit_t *fields, unsigned count,
                         unsigned *values);

/**
 * @brief A one-byte length of a later region of the input, the one the reader named
 * `region` reads. Decodes as fuzz_take_u8, but is not printed: while encoding, the encoder
 * writes the length of the bytes it encoded for that region (and this returns 255, since
 * the region's reader then reads text, not bytes).
 */
uint8_t fuzz_take_length_u8(fuzz_input_t *in, const char *region);

/** @brief True while labelled takes print, keep or encode (a target builds names for
 *  runtime choices only then). */
bool fuzz_input_text_mode(void);

/** @brief Keep input lines among the recent events printed by an oracle failure (replay
 *  programs turn this on; fuzzers leave it off, so takes stay on their fast path). */
void fuzz_input_keep_lines(bool keep);

/** @brief Print the input line being assembled, if any (at the end of every run). */
void fuzz_input_flush_line(void);

/*
 * The encoder. fuzz_encode_begin parses the text and puts the takes in encode mode; the
 * caller then runs the target once (LLVMFuzzerTestOneInput with an empty input: while
 * encoding, readers ignore their bytes) and calls fuzz_encode_end for the bytes. Errors
 * (syntax, a label the target does not take there, a value out of range, an unknown
 * reader, tokens left over) come back as "<source>:<line>: <message>" in error.
 * Targets must therefore read every decision through a reader, and decide nothing from
 * the input's size or bytes directly (fuzz_input_exhausted is the way to test for the end;
 * fuzz_input_remaining then counts the text tokens left, not bytes).
 */
bool fuzz_encode_begin(const char *text, size_t size, const char *source, char *error,
                       size_t error_size);
/** @brief The encoded input (malloc'ed, the caller frees it); false with an error. Ends
 *  encode mode. */
bool fuzz_encode_end(uint8_t **bytes, size_t *size, char *error, size_t error_size);
/** @brief While encoding: the bytes encoded so far (for a run that stops at an oracle
 *  failure: they reproduce it). Leaves encode mode on. */
bool fuzz_encode_partial(uint8_t **bytes, size_t *size);

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

/**
 * @brief Fold every following event into the trace hash (default: off). The replay engine
 * turns it on to compare runs of one input; libFuzzer runs never read the hash, so they
 * skip its cost (events are still recorded for fuzz_trace_print_recent).
 */
void fuzz_trace_set_hashing(bool on);

/** @brief FNV-1a hash of every event since fuzz_trace_reset (with hashing on). */
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
