/* SPDX-License-Identifier: MIT */
/*
 * fuzz_input_private.h - what the reader's labelled takes (fuzz_input.c), the encoder
 * (fuzz_encode.c) and the trace recorder (fuzz_trace.c) share behind their public headers.
 * Not installed, not for targets: harness/ sources only.
 *
 * Single-threaded by design: fuzz targets run one input at a time on one OS thread (fiber
 * builds switch simulated threads on that one OS thread; real-thread builds take from the
 * input on the main thread only), so this state is plain data.
 */
#pragma once

#include "fuzz_input.h"

/* What the labelled takes do besides decoding bytes (fuzz_takes_mode; 0 = nothing: the
   fuzzing fast path). Set by fuzz_trace_set_output, fuzz_input_keep_lines and the encoder. */
#define FUZZ_TAKES_PRINT 1u  /* a trace output is set: input lines are printed */
#define FUZZ_TAKES_RECORD 2u /* input lines are kept among the recent events */
#define FUZZ_TAKES_ENCODE 4u /* takes read the encoder's text and produce bytes */
extern unsigned fuzz_takes_mode;

/*
 * Every labelled take is the unlabelled take plus, only when fuzz_takes_mode is not 0, one of:
 *   - print/record: the decoded value becomes a "label=value" token of the pending input
 *     line (input_token); the line is printed before the next event, when another reader
 *     takes, when a label repeats within the line, when the line grows long, and at
 *     fuzz_input_finish / fuzz_input_flush_line;
 *   - encode: the value comes from the next token of the reader's text, and its bytes are
 *     appended to the reader's region (fuzz_encode_take).
 * One field of a packed or digits take: a label (NULL: unused bits, neither printed nor
 * encoded, encoded as 0), its base (packed: 1 << width; 0: "the rest of the byte", last
 * field only) and its names (NULL: printed as a number).
 */
typedef struct fuzz_field {
    const char *label;
    unsigned base;
    const char *const *names;
} fuzz_field_t;

typedef enum fuzz_take_kind {
    FUZZ_TAKE_U8,
    FUZZ_TAKE_U16,
    FUZZ_TAKE_BOOL,
    FUZZ_TAKE_CHOICE, /* n values, printed as numbers */
    FUZZ_TAKE_ENUM,   /* n values, printed as names */
    FUZZ_TAKE_DIGITS, /* one byte split into fields */
} fuzz_take_kind_t;

#define FUZZ_INPUT_LINE_MAX 512 /* an input line (its tokens are never cut) */
#define FUZZ_UNREAD_LABEL "unread"

/* fuzz_input.c: an input line has tokens not yet printed (fuzz_trace_event flushes it). */
extern bool fuzz_input_line_active;

/* fuzz_encode.c, for the takes in encode mode. */
unsigned fuzz_encode_next_init_order(void);
struct fuzz_text_reader *fuzz_encode_bind(fuzz_input_t *in);
bool fuzz_encode_exhausted(fuzz_input_t *in);
size_t fuzz_encode_remaining(fuzz_input_t *in);
unsigned fuzz_encode_take(fuzz_input_t *in, const char *label, fuzz_take_kind_t kind, unsigned n,
                          const char *const *names, const fuzz_field_t *fields, unsigned count,
                          unsigned *values);
unsigned fuzz_encode_length(fuzz_input_t *in, const char *region);
void fuzz_encode_finish(fuzz_input_t *in);

/* fuzz_trace.c, for input lines. */
unsigned fuzz_trace_depth(void);
void fuzz_trace_record_input_line(const char *line);
