/* SPDX-License-Identifier: MIT */
/*
 * fuzz_input.h - the byte-stream reader of the harness library (harness/): labelled takes
 * that print as timeline input lines and that the encoder (fuzz_encode.h) turns back from
 * text into bytes. The trace recorder is fuzz_trace.h.
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
 * where events have their sequence number; a thread's name may have spaces, never '>').
 * Takes of one reader between two events share
 * a line; a label that repeats within the line, another reader or a long line starts a new
 * one. Values: numbers (decimal; the encoder also reads 0x.. and 0b..), yes/no, or names;
 * "unread=<hex>" holds bytes the target did not read (fuzz_input_finish). Every other line
 * (events, "# comments", blank lines) is ignored by the encoder, so a printed timeline and
 * a file of hand-written '>' lines both encode. The encoder pops the tokens of each reader
 * in order as the target takes; decisions with a runtime range (a choice among the
 * runnable threads) are encoded against the range of that run, which is the same as the
 * range of the decoded run because the runs make the same decisions.
 *
 * This is not a fuzz engine and knows nothing of NMR. It depends on libc only.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The reader's companions: its input lines go to the trace's timeline, its takes run in the
   encoder's encode mode, and the targets that read it report through the oracle. Included here
   so that code written against the former one-file header keeps building. */
#include "fuzz_encode.h"
#include "fuzz_oracle.h"
#include "fuzz_status.h"
#include "fuzz_trace.h"

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
/* The same packed value, for decoders that read no field's value: width is the fields' total
   width (at most 8); no field array is walked when nothing prints, records or encodes. */
unsigned fuzz_take_packed_byte_as(fuzz_input_t *in, const fuzz_bits_t *fields, unsigned count,
                                  unsigned width);

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

#ifdef __cplusplus
}
#endif
