/* SPDX-License-Identifier: MIT */
/*
 * fuzz_input.c - the byte-stream reader and its labelled takes (fuzz_input.h): decoding,
 * and the input lines of the timeline. Encode mode hands each take to fuzz_encode.c.
 */
#include "fuzz_input_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned fuzz_takes_mode;

/* ------------------------------------------------------------------------------------------ */
/* Byte-stream reader                                                                         */
/* ------------------------------------------------------------------------------------------ */

void fuzz_input_init(fuzz_input_t *in, const uint8_t *data, size_t size)
{
    in->data = data;
    in->size = data ? size : 0;
    in->pos = 0;
    in->name = NULL;
    in->order = fuzz_takes_mode & FUZZ_TAKES_ENCODE ? fuzz_encode_next_init_order() : 0;
    in->text = NULL;
}

size_t fuzz_input_remaining(const fuzz_input_t *in)
{
    if (__builtin_expect(fuzz_takes_mode & FUZZ_TAKES_ENCODE, 0)) {
        return fuzz_encode_remaining((fuzz_input_t *)in);
    }
    return in->size - in->pos;
}

bool fuzz_input_exhausted(const fuzz_input_t *in)
{
    if (__builtin_expect(fuzz_takes_mode & FUZZ_TAKES_ENCODE, 0)) {
        return fuzz_encode_exhausted((fuzz_input_t *)in);
    }
    return in->pos >= in->size;
}

/* The one byte read of every take, inlined into the takes' fast paths (a call per byte
   was 1% of fuzz_nmr_ops; plain inline was not enough for -O1 with the sanitizers). */
static inline __attribute__((always_inline)) uint8_t take_byte(fuzz_input_t *in)
{
    if (in->pos >= in->size) {
        return 0;
    }
    return in->data[in->pos++];
}

static inline __attribute__((always_inline)) unsigned take_choice(fuzz_input_t *in, unsigned n)
{
    if (n <= 1) {
        return 0;
    }
    if (n <= 256) {
        return take_byte(in) % n;
    }
    uint16_t lo = take_byte(in);
    uint16_t hi = take_byte(in);
    return (unsigned)(lo | (hi << 8)) % n;
}

uint8_t fuzz_take_u8(fuzz_input_t *in)
{
    return take_byte(in);
}

uint16_t fuzz_take_u16(fuzz_input_t *in)
{
    uint16_t lo = take_byte(in);
    uint16_t hi = take_byte(in);
    return (uint16_t)(lo | (hi << 8));
}

bool fuzz_take_bool(fuzz_input_t *in)
{
    return (take_byte(in) & 1u) != 0;
}

unsigned fuzz_take_choice(fuzz_input_t *in, unsigned n)
{
    return take_choice(in, n);
}

/* ------------------------------------------------------------------------------------------ */
/* Labelled takes                                                                             */
/* ------------------------------------------------------------------------------------------ */

#define MAX_FIELDS 8
#define INPUT_LINE_WRAP 110 /* token text after which an input line is continued on another */
#define LINE_LABELS 48      /* labels remembered per record (a repeat starts a new record) */
#define UNREAD_CHUNK 32     /* bytes per unread= token */

/* The input line being assembled (print/record modes). A record is the takes of one reader
   between two events; it is printed as one line, or continued on further lines when long
   (never inside one take), and ends early when a label repeats (the next operation), unless
   every take of the record has that label (a run of decisions: "run=W1 run=W0 ..."). */
static struct {
    const fuzz_input_t *reader;
    const char *thread;
    unsigned depth;
    size_t used;
    char text[FUZZ_INPUT_LINE_MAX];
    unsigned label_count; /* labels of the record so far (0: no record) */
    const char *labels[LINE_LABELS];
} pending;

/* A line has tokens (read by fuzz_trace_event on every event: a plain flag). */
bool fuzz_input_line_active;

static void print_pending_line(void)
{
    if (!fuzz_input_line_active) {
        return;
    }
    fuzz_input_line_active = false;
    char line[FUZZ_INPUT_LINE_MAX + 64];
    unsigned depth = pending.depth < 24 ? pending.depth : 24;
    snprintf(line, sizeof line, "%5s %-8s %*s> %s", "-", pending.thread, (int)(2 * depth), "",
             pending.text);
    if (fuzz_takes_mode & FUZZ_TAKES_PRINT) {
        fprintf(fuzz_trace_output(), "%s\n", line);
    }
    if (fuzz_takes_mode & FUZZ_TAKES_RECORD) {
        fuzz_trace_record_input_line(line);
    }
}

void fuzz_input_flush_line(void)
{
    print_pending_line();
    pending.label_count = 0; /* the record ends */
}

static void pending_append(const char *text)
{
    size_t n = strlen(text);
    if (pending.used + n >= FUZZ_INPUT_LINE_MAX) {
        n = FUZZ_INPUT_LINE_MAX - 1 - pending.used; /* only a token longer than a line gets here */
    }
    memcpy(pending.text + pending.used, text, n);
    pending.used += n;
    pending.text[pending.used] = '\0';
}

/* Adds a token. width: the text of the whole take (0: this token alone); more: the next
   token of the same take (never a line break before it). */
static void input_token_of(const fuzz_input_t *in, const char *label, const char *value,
                           size_t width, bool more)
{
    if (width == 0) {
        width = strlen(label) + 1 + strlen(value) + 1;
    }
    if (!more && pending.label_count > 0) {
        bool repeat = false, uniform = true;
        for (unsigned i = 0; i < pending.label_count; i++) {
            bool same = strcmp(pending.labels[i], label) == 0;
            repeat = repeat || same;
            uniform = uniform && same;
        }
        if (uniform) {
            repeat = false;
            pending.label_count = 1; /* the run goes on; one label stands for it */
        }
        if (pending.reader != in || repeat || pending.label_count == LINE_LABELS) {
            fuzz_input_flush_line();
        } else if (fuzz_input_line_active && pending.used + width > INPUT_LINE_WRAP) {
            print_pending_line(); /* continued on the next line, same record */
        }
    }
    if (!fuzz_input_line_active) {
        fuzz_input_line_active = true;
        pending.reader = in;
        pending.thread = fuzz_trace_thread();
        pending.depth = fuzz_trace_depth();
        pending.used = 0;
        pending.text[0] = '\0';
        if (in->name) {
            pending_append(in->name);
            pending_append(":");
        }
    }
    if (pending.used > 0) {
        pending_append(" ");
    }
    pending_append(label);
    pending_append("=");
    pending_append(value);
    if (pending.label_count < LINE_LABELS) {
        pending.labels[pending.label_count++] = label;
    }
}

static void input_token(const fuzz_input_t *in, const char *label, const char *value)
{
    input_token_of(in, label, value, 0, false);
}

static void input_token_u(const fuzz_input_t *in, const char *label, unsigned value)
{
    char text[16];
    snprintf(text, sizeof text, "%u", value);
    input_token(in, label, text);
}


/* Splits a byte into fields (lowest first). */
static void digits_decode(unsigned byte, const fuzz_field_t *fields, unsigned count, unsigned *values)
{
    unsigned rest = byte;
    for (unsigned i = 0; i < count; i++) {
        if (fields[i].base == 0) {
            values[i] = rest;
            rest = 0;
        } else {
            values[i] = rest % fields[i].base;
            rest /= fields[i].base;
        }
    }
}

/* The slow path of every labelled take: decode as the unlabelled take does, then print. */
static unsigned take_slow(fuzz_input_t *in, const char *label, fuzz_take_kind_t kind, unsigned n,
                          const char *const *names, const fuzz_field_t *fields, unsigned count,
                          unsigned *values)
{
    if (fuzz_takes_mode & FUZZ_TAKES_ENCODE) {
        return fuzz_encode_take(in, label, kind, n, names, fields, count, values);
    }
    bool present = in->pos < in->size;
    unsigned v;
    switch (kind) {
    case FUZZ_TAKE_U8:
        v = fuzz_take_u8(in);
        if (present) {
            input_token_u(in, label, v);
        }
        return v;
    case FUZZ_TAKE_U16:
        v = fuzz_take_u16(in);
        if (present) {
            input_token_u(in, label, v);
        }
        return v;
    case FUZZ_TAKE_BOOL:
        v = fuzz_take_bool(in);
        if (present) {
            input_token(in, label, v ? "yes" : "no");
        }
        return v;
    case FUZZ_TAKE_CHOICE:
    case FUZZ_TAKE_ENUM:
        v = fuzz_take_choice(in, n);
        if (present && n > 1) {
            if (kind == FUZZ_TAKE_ENUM && names) {
                input_token(in, label, names[v]);
            } else {
                input_token_u(in, label, v);
            }
        }
        return v;
    case FUZZ_TAKE_DIGITS: {
        digits_decode(fuzz_take_u8(in), fields, count, values);
        char numbers[MAX_FIELDS][16];
        const char *text[MAX_FIELDS];
        size_t width = 0;
        for (unsigned i = 0; i < count; i++) {
            snprintf(numbers[i], sizeof numbers[i], "%u", values[i]);
            text[i] = fields[i].names ? fields[i].names[values[i]] : numbers[i];
            if (fields[i].label) {
                width += strlen(fields[i].label) + 1 + strlen(text[i]) + 1;
            }
        }
        bool more = false;
        for (unsigned i = 0; i < count && present; i++) {
            if (fields[i].label) {
                input_token_of(in, fields[i].label, text[i], width, more);
                more = true;
            }
        }
        return 0;
    }
    }
    return 0;
}

void fuzz_input_set_name(fuzz_input_t *in, const char *name)
{
    in->name = (name && name[0]) ? name : NULL;
    in->text = NULL; /* the encoder binds the reader to its text by name */
}

bool fuzz_input_text_mode(void)
{
    return fuzz_takes_mode != 0;
}

void fuzz_input_keep_lines(bool keep)
{
    fuzz_takes_mode = keep ? fuzz_takes_mode | FUZZ_TAKES_RECORD : fuzz_takes_mode & ~FUZZ_TAKES_RECORD;
}

uint8_t fuzz_take_u8_as(fuzz_input_t *in, const char *label)
{
    if (__builtin_expect(fuzz_takes_mode == 0, 1)) {
        return take_byte(in);
    }
    return (uint8_t)take_slow(in, label, FUZZ_TAKE_U8, 0, NULL, NULL, 0, NULL);
}

uint16_t fuzz_take_u16_as(fuzz_input_t *in, const char *label)
{
    if (__builtin_expect(fuzz_takes_mode == 0, 1)) {
        return fuzz_take_u16(in);
    }
    return (uint16_t)take_slow(in, label, FUZZ_TAKE_U16, 0, NULL, NULL, 0, NULL);
}

bool fuzz_take_bool_as(fuzz_input_t *in, const char *label)
{
    if (__builtin_expect(fuzz_takes_mode == 0, 1)) {
        return (take_byte(in) & 1u) != 0;
    }
    return take_slow(in, label, FUZZ_TAKE_BOOL, 0, NULL, NULL, 0, NULL) != 0;
}

unsigned fuzz_take_choice_as(fuzz_input_t *in, const char *label, unsigned n)
{
    if (__builtin_expect(fuzz_takes_mode == 0, 1)) {
        return take_choice(in, n);
    }
    return take_slow(in, label, FUZZ_TAKE_CHOICE, n, NULL, NULL, 0, NULL);
}

unsigned fuzz_take_enum_as(fuzz_input_t *in, const char *label, const char *const *names,
                           unsigned n)
{
    if (__builtin_expect(fuzz_takes_mode == 0, 1)) {
        return take_choice(in, n);
    }
    return take_slow(in, label, FUZZ_TAKE_ENUM, n, names, NULL, 0, NULL);
}

/* The fields' values packed back from bit 0 up (the byte's bits the fields cover). */
static unsigned pack_fields(const fuzz_bits_t *fields, unsigned count, const unsigned *values)
{
    unsigned packed = 0, shift = 0;
    for (unsigned i = 0; i < count; i++) {
        packed |= values[i] << shift;
        shift += fields[i].width;
    }
    return packed;
}

/* The printing, recording and encoding paths of the packed and digits takes, out of line so
   that the fuzzing fast path has no field array on its (instrumented) stack. */
static __attribute__((noinline)) void take_packed_slow(fuzz_input_t *in, const fuzz_bits_t *fields,
                                                       unsigned count, unsigned *values)
{
    fuzz_field_t digits[MAX_FIELDS];
    unsigned n = count < MAX_FIELDS ? count : MAX_FIELDS;
    for (unsigned i = 0; i < n; i++) {
        digits[i] = (fuzz_field_t){fields[i].label, 1u << fields[i].width, fields[i].names};
    }
    for (unsigned i = n; i < count; i++) {
        values[i] = 0; /* more than MAX_FIELDS fields of one byte: the rest are 0-bit wide */
    }
    take_slow(in, NULL, FUZZ_TAKE_DIGITS, 0, NULL, digits, n, values);
}

unsigned fuzz_take_packed_as(fuzz_input_t *in, const fuzz_bits_t *fields, unsigned count,
                             unsigned *values)
{
    if (__builtin_expect(fuzz_takes_mode == 0, 1)) {
        /* The fields' values packed back are the byte's bits they cover. */
        unsigned byte = take_byte(in), rest = byte, covered = 0;
        for (unsigned i = 0; i < count; i++) {
            unsigned width = fields[i].width;
            values[i] = rest & ((1u << width) - 1u);
            rest >>= width;
            covered += width;
        }
        return covered >= 8 ? byte : byte & ((1u << covered) - 1u);
    }
    take_packed_slow(in, fields, count, values);
    return pack_fields(fields, count, values);
}

/* fuzz_take_packed_byte_as's printing, recording and encoding paths: fuzz_take_packed_as
   itself, after checking that width is the fields' total width. Out of line, so that the
   fast path has no array on its (instrumented) stack. */
static __attribute__((noinline)) unsigned take_packed_byte_slow(fuzz_input_t *in,
                                                                 const fuzz_bits_t *fields,
                                                                 unsigned count, unsigned width)
{
    unsigned values[MAX_FIELDS];
    unsigned total = 0;
    for (unsigned i = 0; i < count; i++) {
        total += fields[i].width;
    }
    if (count > MAX_FIELDS || total != width) {
        fprintf(stderr, "fuzz_take_packed_byte_as: %u field(s) of total width %u, called with %u\n",
                count, total, width);
        abort();
    }
    return fuzz_take_packed_as(in, fields, count, values);
}

/* fuzz_take_packed_as for a decoder that keeps only the packed byte: the fast path takes the
   byte and masks it to the fields' total width (the same value fuzz_take_packed_as returns),
   without walking the field array. */
unsigned fuzz_take_packed_byte_as(fuzz_input_t *in, const fuzz_bits_t *fields, unsigned count,
                                  unsigned width)
{
    if (__builtin_expect(fuzz_takes_mode == 0, 1)) {
        unsigned byte = take_byte(in);
        return width >= 8 ? byte : byte & ((1u << width) - 1u);
    }
    return take_packed_byte_slow(in, fields, count, width);
}

static __attribute__((noinline)) void take_digits_slow(fuzz_input_t *in, const fuzz_digit_t *fields,
                                                       unsigned count, unsigned *values)
{
    fuzz_field_t digits[MAX_FIELDS];
    unsigned n = count < MAX_FIELDS ? count : MAX_FIELDS;
    for (unsigned i = 0; i < n; i++) {
        digits[i] = (fuzz_field_t){fields[i].label, fields[i].base, fields[i].names};
    }
    take_slow(in, NULL, FUZZ_TAKE_DIGITS, 0, NULL, digits, n, values);
}

void fuzz_take_digits_as(fuzz_input_t *in, const fuzz_digit_t *fields, unsigned count,
                         unsigned *values)
{
    if (__builtin_expect(fuzz_takes_mode == 0, 1)) {
        unsigned rest = take_byte(in);
        for (unsigned i = 0; i < count; i++) {
            if (fields[i].base == 0) {
                values[i] = rest;
                rest = 0;
            } else {
                values[i] = rest % fields[i].base;
                rest /= fields[i].base;
            }
        }
        return;
    }
    take_digits_slow(in, fields, count, values);
}


uint8_t fuzz_take_length_u8(fuzz_input_t *in, const char *region)
{
    if (__builtin_expect(!(fuzz_takes_mode & FUZZ_TAKES_ENCODE), 1)) {
        return take_byte(in); /* never printed: the region's own lines imply it */
    }
    return (uint8_t)fuzz_encode_length(in, region);
}


void fuzz_input_finish(fuzz_input_t *in)
{
    if (__builtin_expect(fuzz_takes_mode == 0, 1)) {
        return;
    }
    if (fuzz_takes_mode & FUZZ_TAKES_ENCODE) {
        fuzz_encode_finish(in);
        return;
    }
    static const char hex[] = "0123456789abcdef";
    while (in->pos < in->size) {
        char text[2 * UNREAD_CHUNK + 1];
        size_t n = 0;
        while (in->pos < in->size && n < 2 * UNREAD_CHUNK) {
            uint8_t byte = in->data[in->pos++];
            text[n++] = hex[byte >> 4];
            text[n++] = hex[byte & 15];
        }
        text[n] = '\0';
        input_token(in, FUZZ_UNREAD_LABEL, text);
    }
    if (fuzz_input_line_active && pending.reader == in) {
        fuzz_input_flush_line();
    }
}
