/* SPDX-License-Identifier: MIT */
/*
 * fuzz_input.c - byte-stream reader, labelled takes (timeline input lines and the text
 * encoder) and trace recorder of fuzz_input.h.
 *
 * Single-threaded by design: fuzz targets run one input at a time on one OS thread (fiber
 * builds switch simulated threads on that one OS thread; real-thread builds take from the
 * input on the main thread only), so the state here is plain file-scope data.
 */
#include "fuzz_input.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* What the labelled takes do besides decoding bytes (takes_mode; 0 = nothing: the fuzzing
   fast path). Set by fuzz_trace_set_output, fuzz_input_keep_lines and the encoder. */
#define TAKES_PRINT 1u  /* a trace output is set: input lines are printed */
#define TAKES_RECORD 2u /* input lines are kept among the recent events */
#define TAKES_ENCODE 4u /* takes read the encoder's text and produce bytes */
static unsigned takes_mode;

static struct fuzz_text_reader *encode_bind(fuzz_input_t *in);
static bool encode_exhausted(fuzz_input_t *in);
static size_t encode_remaining(fuzz_input_t *in);
static unsigned next_init_order(void);

/* ------------------------------------------------------------------------------------------ */
/* Byte-stream reader                                                                         */
/* ------------------------------------------------------------------------------------------ */

void fuzz_input_init(fuzz_input_t *in, const uint8_t *data, size_t size)
{
    in->data = data;
    in->size = data ? size : 0;
    in->pos = 0;
    in->name = NULL;
    in->order = takes_mode & TAKES_ENCODE ? next_init_order() : 0;
    in->text = NULL;
}

size_t fuzz_input_remaining(const fuzz_input_t *in)
{
    if (__builtin_expect(takes_mode & TAKES_ENCODE, 0)) {
        return encode_remaining((fuzz_input_t *)in);
    }
    return in->size - in->pos;
}

bool fuzz_input_exhausted(const fuzz_input_t *in)
{
    if (__builtin_expect(takes_mode & TAKES_ENCODE, 0)) {
        return encode_exhausted((fuzz_input_t *)in);
    }
    return in->pos >= in->size;
}

uint8_t fuzz_take_u8(fuzz_input_t *in)
{
    if (in->pos >= in->size) {
        return 0;
    }
    return in->data[in->pos++];
}

uint16_t fuzz_take_u16(fuzz_input_t *in)
{
    uint16_t lo = fuzz_take_u8(in);
    uint16_t hi = fuzz_take_u8(in);
    return (uint16_t)(lo | (hi << 8));
}

bool fuzz_take_bool(fuzz_input_t *in)
{
    return (fuzz_take_u8(in) & 1u) != 0;
}

unsigned fuzz_take_choice(fuzz_input_t *in, unsigned n)
{
    if (n <= 1) {
        return 0;
    }
    if (n <= 256) {
        return fuzz_take_u8(in) % n;
    }
    return fuzz_take_u16(in) % n;
}

/* ------------------------------------------------------------------------------------------ */
/* Labelled takes                                                                             */
/* ------------------------------------------------------------------------------------------ */

/*
 * Every labelled take is the unlabelled take plus, only when takes_mode is not 0, one of:
 *   - print/record: the decoded value becomes a "label=value" token of the pending input
 *     line (input_token); the line is printed before the next event, when another reader
 *     takes, when a label repeats within the line, when the line grows long, and at
 *     fuzz_input_finish / fuzz_input_flush_line;
 *   - encode: the value comes from the next token of the reader's text, and its bytes are
 *     appended to the reader's region (encode_take).
 * One field of a packed or digits take: a label (NULL: unused bits, neither printed nor
 * encoded, encoded as 0), its base (packed: 1 << width; 0: "the rest of the byte", last
 * field only) and its names (NULL: printed as a number).
 */
typedef struct field {
    const char *label;
    unsigned base;
    const char *const *names;
} field_t;

typedef enum take_kind {
    TAKE_U8,
    TAKE_U16,
    TAKE_BOOL,
    TAKE_CHOICE, /* n values, printed as numbers */
    TAKE_ENUM,   /* n values, printed as names */
    TAKE_DIGITS, /* one byte split into fields */
} take_kind_t;

#define MAX_FIELDS 8
#define INPUT_LINE_MAX 512 /* an input line (its tokens are never cut) */
#define INPUT_LINE_WRAP 110 /* token text after which an input line is continued on another */
#define LINE_LABELS 48      /* labels remembered per record (a repeat starts a new record) */
#define UNREAD_LABEL "unread"
#define UNREAD_CHUNK 32     /* bytes per unread= token */

/* The input line being assembled (print/record modes). A record is the takes of one reader
   between two events; it is printed as one line, or continued on further lines when long
   (never inside one take), and ends early when a label repeats (the next operation), unless
   every take of the record has that label (a run of decisions: "run=W1 run=W0 ..."). */
static struct {
    bool active;      /* a line has tokens */
    const fuzz_input_t *reader;
    const char *thread;
    unsigned depth;
    size_t used;
    char text[INPUT_LINE_MAX];
    unsigned label_count; /* labels of the record so far (0: no record) */
    const char *labels[LINE_LABELS];
} pending;

static void record_input_line(const char *line);
static unsigned trace_depth(void);

static void print_pending_line(void)
{
    if (!pending.active) {
        return;
    }
    pending.active = false;
    char line[INPUT_LINE_MAX + 64];
    unsigned depth = pending.depth < 24 ? pending.depth : 24;
    snprintf(line, sizeof line, "%5s %-8s %*s> %s", "-", pending.thread, (int)(2 * depth), "",
             pending.text);
    if (takes_mode & TAKES_PRINT) {
        fprintf(fuzz_trace_output(), "%s\n", line);
    }
    if (takes_mode & TAKES_RECORD) {
        record_input_line(line);
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
    if (pending.used + n >= INPUT_LINE_MAX) {
        n = INPUT_LINE_MAX - 1 - pending.used; /* only a token longer than a line gets here */
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
        } else if (pending.active && pending.used + width > INPUT_LINE_WRAP) {
            print_pending_line(); /* continued on the next line, same record */
        }
    }
    if (!pending.active) {
        pending.active = true;
        pending.reader = in;
        pending.thread = fuzz_trace_thread();
        pending.depth = trace_depth();
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

static unsigned encode_take(fuzz_input_t *in, const char *label, take_kind_t kind, unsigned n,
                            const char *const *names, const field_t *fields, unsigned count,
                            unsigned *values);

/* Splits a byte into fields (lowest first). */
static void digits_decode(unsigned byte, const field_t *fields, unsigned count, unsigned *values)
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
static unsigned take_slow(fuzz_input_t *in, const char *label, take_kind_t kind, unsigned n,
                          const char *const *names, const field_t *fields, unsigned count,
                          unsigned *values)
{
    if (takes_mode & TAKES_ENCODE) {
        return encode_take(in, label, kind, n, names, fields, count, values);
    }
    bool present = in->pos < in->size;
    unsigned v;
    switch (kind) {
    case TAKE_U8:
        v = fuzz_take_u8(in);
        if (present) {
            input_token_u(in, label, v);
        }
        return v;
    case TAKE_U16:
        v = fuzz_take_u16(in);
        if (present) {
            input_token_u(in, label, v);
        }
        return v;
    case TAKE_BOOL:
        v = fuzz_take_bool(in);
        if (present) {
            input_token(in, label, v ? "yes" : "no");
        }
        return v;
    case TAKE_CHOICE:
    case TAKE_ENUM:
        v = fuzz_take_choice(in, n);
        if (present && n > 1) {
            if (kind == TAKE_ENUM && names) {
                input_token(in, label, names[v]);
            } else {
                input_token_u(in, label, v);
            }
        }
        return v;
    case TAKE_DIGITS: {
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
    return takes_mode != 0;
}

void fuzz_input_keep_lines(bool keep)
{
    takes_mode = keep ? takes_mode | TAKES_RECORD : takes_mode & ~TAKES_RECORD;
}

uint8_t fuzz_take_u8_as(fuzz_input_t *in, const char *label)
{
    if (__builtin_expect(takes_mode == 0, 1)) {
        return fuzz_take_u8(in);
    }
    return (uint8_t)take_slow(in, label, TAKE_U8, 0, NULL, NULL, 0, NULL);
}

uint16_t fuzz_take_u16_as(fuzz_input_t *in, const char *label)
{
    if (__builtin_expect(takes_mode == 0, 1)) {
        return fuzz_take_u16(in);
    }
    return (uint16_t)take_slow(in, label, TAKE_U16, 0, NULL, NULL, 0, NULL);
}

bool fuzz_take_bool_as(fuzz_input_t *in, const char *label)
{
    if (__builtin_expect(takes_mode == 0, 1)) {
        return fuzz_take_bool(in);
    }
    return take_slow(in, label, TAKE_BOOL, 0, NULL, NULL, 0, NULL) != 0;
}

unsigned fuzz_take_choice_as(fuzz_input_t *in, const char *label, unsigned n)
{
    if (__builtin_expect(takes_mode == 0, 1)) {
        return fuzz_take_choice(in, n);
    }
    return take_slow(in, label, TAKE_CHOICE, n, NULL, NULL, 0, NULL);
}

unsigned fuzz_take_enum_as(fuzz_input_t *in, const char *label, const char *const *names,
                           unsigned n)
{
    if (__builtin_expect(takes_mode == 0, 1)) {
        return fuzz_take_choice(in, n);
    }
    return take_slow(in, label, TAKE_ENUM, n, names, NULL, 0, NULL);
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

unsigned fuzz_take_packed_as(fuzz_input_t *in, const fuzz_bits_t *fields, unsigned count,
                             unsigned *values)
{
    if (__builtin_expect(takes_mode == 0, 1)) {
        unsigned byte = fuzz_take_u8(in);
        for (unsigned i = 0; i < count; i++) {
            values[i] = byte & ((1u << fields[i].width) - 1u);
            byte >>= fields[i].width;
        }
        return pack_fields(fields, count, values);
    }
    field_t digits[MAX_FIELDS];
    unsigned n = count < MAX_FIELDS ? count : MAX_FIELDS;
    for (unsigned i = 0; i < n; i++) {
        digits[i] = (field_t){fields[i].label, 1u << fields[i].width, fields[i].names};
    }
    for (unsigned i = n; i < count; i++) {
        values[i] = 0; /* more than MAX_FIELDS fields of one byte: the rest are 0-bit wide */
    }
    take_slow(in, NULL, TAKE_DIGITS, 0, NULL, digits, n, values);
    return pack_fields(fields, count, values);
}

void fuzz_take_digits_as(fuzz_input_t *in, const fuzz_digit_t *fields, unsigned count,
                         unsigned *values)
{
    if (__builtin_expect(takes_mode == 0, 1)) {
        unsigned rest = fuzz_take_u8(in);
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
    field_t digits[MAX_FIELDS];
    unsigned n = count < MAX_FIELDS ? count : MAX_FIELDS;
    for (unsigned i = 0; i < n; i++) {
        digits[i] = (field_t){fields[i].label, fields[i].base, fields[i].names};
    }
    take_slow(in, NULL, TAKE_DIGITS, 0, NULL, digits, n, values);
}

static unsigned encode_length(fuzz_input_t *in, const char *region);

uint8_t fuzz_take_length_u8(fuzz_input_t *in, const char *region)
{
    if (__builtin_expect(!(takes_mode & TAKES_ENCODE), 1)) {
        return fuzz_take_u8(in); /* never printed: the region's own lines imply it */
    }
    return (uint8_t)encode_length(in, region);
}

static void encode_finish(fuzz_input_t *in);

void fuzz_input_finish(fuzz_input_t *in)
{
    if (__builtin_expect(takes_mode == 0, 1)) {
        return;
    }
    if (takes_mode & TAKES_ENCODE) {
        encode_finish(in);
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
        input_token(in, UNREAD_LABEL, text);
    }
    if (pending.active && pending.reader == in) {
        fuzz_input_flush_line();
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Encoder: text to bytes                                                                     */
/* ------------------------------------------------------------------------------------------ */

/*
 * The text is split into input lines (see fuzz_input.h for the format), each line's tokens
 * appended to the token list of its reader (by name; "" for the main reader). Then the
 * target runs: every labelled take of a reader pops that reader's next token, checks its
 * label, and appends the bytes that decode to its value to the reader's region. At the end
 * the regions are concatenated in the order their readers were initialized.
 *
 * A take on a reader whose tokens are used up returns 0, as a take past the end of the
 * bytes does, and notes a "pending zero" byte: it becomes a real 0 byte only if a later
 * region has bytes and no length field gives this region's length (a fixed-size header
 * that the text leaves short must still be followed by the next region at its place).
 */
typedef struct text_token {
    const char *label;
    const char *value;
    unsigned line;
} text_token_t;

struct fuzz_text_reader {
    const char *name;     /* "" for the main reader */
    text_token_t *tokens; /* this reader's tokens, in text order */
    size_t count, cap;
    size_t next;          /* next token a take pops */
    bool bound;           /* a reader of the run has used this text */
    bool finished;        /* fuzz_input_finish ran */
    bool length_given;    /* a fuzz_take_length_u8 gives this region's length */
    unsigned order;       /* init order of the first reader bound to it: region order */
    uint8_t *bytes;       /* the region's bytes so far */
    size_t used, bytes_cap;
    size_t pending_zeros; /* takes past the end of the tokens (see above) */
};

#define MAX_TEXT_READERS 16
#define MAX_LENGTH_FIELDS 16

static struct {
    char *text;         /* a copy of the source text, split in place into tokens */
    const char *source; /* its name for messages */
    unsigned init_count;
    unsigned reader_count;
    struct fuzz_text_reader readers[MAX_TEXT_READERS];
    unsigned length_count;
    struct {
        unsigned reader; /* the region holding the length byte */
        size_t offset;   /* its offset in that region */
        unsigned region; /* the region whose length it is */
    } lengths[MAX_LENGTH_FIELDS];
    bool failed;
    char error[512];
} enc;

__attribute__((format(printf, 2, 3))) static void encode_fail(unsigned line, const char *fmt, ...)
{
    if (enc.failed) {
        return; /* the first error is the one to fix */
    }
    enc.failed = true;
    int n = line ? snprintf(enc.error, sizeof enc.error, "%s:%u: ", enc.source, line)
                 : snprintf(enc.error, sizeof enc.error, "%s: ", enc.source);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(enc.error + n, sizeof enc.error - (size_t)n, fmt, ap);
    va_end(ap);
}

static unsigned next_init_order(void)
{
    return enc.init_count++;
}

static struct fuzz_text_reader *text_reader(const char *name)
{
    for (unsigned i = 0; i < enc.reader_count; i++) {
        if (strcmp(enc.readers[i].name, name) == 0) {
            return &enc.readers[i];
        }
    }
    if (enc.reader_count == MAX_TEXT_READERS) {
        encode_fail(0, "more than %d readers", MAX_TEXT_READERS);
        return NULL;
    }
    struct fuzz_text_reader *r = &enc.readers[enc.reader_count++];
    memset(r, 0, sizeof *r);
    r->name = name;
    return r;
}

static const char *reader_desc(const struct fuzz_text_reader *r)
{
    return r->name[0] ? r->name : "main";
}

static struct fuzz_text_reader *encode_bind(fuzz_input_t *in)
{
    if (in->text == NULL) {
        in->text = text_reader(in->name ? in->name : "");
        if (in->text == NULL) {
            return NULL;
        }
    }
    if (!in->text->bound) {
        in->text->bound = true;
        in->text->order = in->order;
    }
    return in->text;
}

static bool encode_exhausted(fuzz_input_t *in)
{
    struct fuzz_text_reader *r = encode_bind(in);
    return enc.failed || r == NULL || r->next >= r->count;
}

static size_t encode_remaining(fuzz_input_t *in)
{
    struct fuzz_text_reader *r = encode_bind(in);
    return enc.failed || r == NULL ? 0 : r->count - r->next;
}

static void region_append(struct fuzz_text_reader *r, const uint8_t *bytes, size_t n)
{
    size_t need = r->used + r->pending_zeros + n;
    if (need > r->bytes_cap) {
        size_t cap = r->bytes_cap ? r->bytes_cap : 64;
        while (cap < need) {
            cap *= 2;
        }
        uint8_t *grown = realloc(r->bytes, cap);
        if (grown == NULL) {
            encode_fail(0, "out of memory");
            return;
        }
        r->bytes = grown;
        r->bytes_cap = cap;
    }
    memset(r->bytes + r->used, 0, r->pending_zeros); /* a byte after them makes them real */
    r->used += r->pending_zeros;
    r->pending_zeros = 0;
    if (n > 0) {
        memcpy(r->bytes + r->used, bytes, n);
        r->used += n;
    }
}

/* Pops the reader's next token if its label is `label`; false when the tokens are used up
   (exhausted) or on an error. */
static const text_token_t *pop_token(struct fuzz_text_reader *r, const char *label)
{
    if (enc.failed || r->next >= r->count) {
        return NULL;
    }
    const text_token_t *t = &r->tokens[r->next];
    if (strcmp(t->label, label) != 0) {
        if (strcmp(t->label, UNREAD_LABEL) == 0) {
            encode_fail(t->line,
                        "reader %s: '%s=...' (bytes the target does not read) where the target "
                        "takes '%s'",
                        reader_desc(r), UNREAD_LABEL, label);
        } else {
            encode_fail(t->line, "reader %s: expected '%s=...', found '%s=%s'", reader_desc(r),
                        label, t->label, t->value);
        }
        return NULL;
    }
    r->next++;
    return t;
}

/* A whole-token number: decimal, 0x hexadecimal or 0b binary, at most max. */
static bool parse_number(const char *text, unsigned long max, unsigned long *value)
{
    int base = 10;
    const char *p = text;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    } else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
        base = 2;
        p += 2;
    }
    if (*p == '\0' || *p == '-' || *p == '+' || *p == ' ') {
        return false;
    }
    char *end = NULL;
    unsigned long v = strtoul(p, &end, base);
    if (*end != '\0' || v > max) {
        return false;
    }
    *value = v;
    return true;
}

/* Lists names[0..n) into buf for an error message (cut when long). */
static const char *names_list(const char *const *names, unsigned n, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < n && used + 1 < cap; i++) {
        bool seen = false;
        for (unsigned j = 0; j < i && !seen; j++) {
            seen = strcmp(names[i], names[j]) == 0;
        }
        if (!seen) {
            int k = snprintf(buf + used, cap - used, "%s%s", used ? " " : "", names[i]);
            used += k > 0 ? (size_t)k : 0;
        }
    }
    if (used + 1 >= cap && cap > 4) {
        strcpy(buf + cap - 4, "...");
    }
    return buf;
}

/* The value of a token for a choice of n named (names) or numbered values. */
static bool parse_value(const text_token_t *t, const char *reader, unsigned n,
                        const char *const *names, unsigned *value)
{
    if (names) {
        for (unsigned i = 0; i < n; i++) {
            if (strcmp(names[i], t->value) == 0) {
                *value = i;
                return true;
            }
        }
    }
    unsigned long v;
    if (parse_number(t->value, n - 1u, &v)) {
        *value = (unsigned)v;
        return true;
    }
    char list[160];
    if (names) {
        encode_fail(t->line, "reader %s: %s=%s: want one of: %s (or a number below %u)", reader,
                    t->label, t->value, names_list(names, n, list, sizeof list), n);
    } else {
        encode_fail(t->line, "reader %s: %s=%s: want a number from 0 to %u", reader, t->label,
                    t->value, n - 1u);
    }
    return false;
}

static unsigned encode_take(fuzz_input_t *in, const char *label, take_kind_t kind, unsigned n,
                            const char *const *names, const field_t *fields, unsigned count,
                            unsigned *values)
{
    struct fuzz_text_reader *r = encode_bind(in);
    if (kind == TAKE_DIGITS) {
        for (unsigned i = 0; i < count; i++) {
            values[i] = 0;
        }
    }
    if (r == NULL || enc.failed) {
        return 0;
    }
    const char *desc = reader_desc(r);
    if ((kind == TAKE_CHOICE || kind == TAKE_ENUM) && n <= 1) {
        return 0; /* no decision, no byte */
    }
    if (kind == TAKE_DIGITS) {
        /* The first labelled field decides whether the reader is exhausted. */
        unsigned first = 0;
        while (first < count && fields[first].label == NULL) {
            first++;
        }
        if (first == count || r->next >= r->count) {
            r->pending_zeros++;
            return 0;
        }
        unsigned byte = 0, mult = 1;
        for (unsigned i = 0; i < count; i++) {
            unsigned base = fields[i].base;
            unsigned v = 0;
            if (fields[i].label) {
                const text_token_t *t = pop_token(r, fields[i].label);
                if (t == NULL) {
                    if (!enc.failed) {
                        encode_fail(r->count ? r->tokens[r->count - 1].line : 0,
                                    "reader %s: the text ends before '%s=...'", desc,
                                    fields[i].label);
                    }
                    return 0;
                }
                unsigned limit = base ? base : (255u - byte) / mult + 1u;
                if (mult > 255u) {
                    limit = 1; /* the field lies beyond the byte: only 0 */
                }
                if (!parse_value(t, desc, limit, fields[i].names, &v)) {
                    return 0;
                }
            }
            values[i] = v;
            byte += v * mult;
            if (base == 0 || mult > 255u) {
                mult = 256;
            } else {
                mult *= base;
            }
        }
        if (byte > 255u) {
            encode_fail(0, "reader %s: fields %s.. do not fit in one byte", desc,
                        fields[0].label ? fields[0].label : "?");
            return 0;
        }
        uint8_t b = (uint8_t)byte;
        region_append(r, &b, 1);
        return 0;
    }
    unsigned width = kind == TAKE_U16 || ((kind == TAKE_CHOICE || kind == TAKE_ENUM) && n > 256)
                         ? 2u
                         : 1u;
    if (r->next >= r->count) {
        r->pending_zeros += width;
        return 0;
    }
    const text_token_t *t = pop_token(r, label);
    if (t == NULL) {
        return 0;
    }
    unsigned v = 0;
    unsigned long number;
    switch (kind) {
    case TAKE_U8:
    case TAKE_U16:
        if (!parse_number(t->value, kind == TAKE_U8 ? 255u : 65535u, &number)) {
            encode_fail(t->line, "reader %s: %s=%s: want a number from 0 to %u", desc, label,
                        t->value, kind == TAKE_U8 ? 255u : 65535u);
            return 0;
        }
        v = (unsigned)number;
        break;
    case TAKE_BOOL:
        if (strcmp(t->value, "yes") == 0 || strcmp(t->value, "1") == 0) {
            v = 1;
        } else if (strcmp(t->value, "no") == 0 || strcmp(t->value, "0") == 0) {
            v = 0;
        } else {
            encode_fail(t->line, "reader %s: %s=%s: want yes or no", desc, label, t->value);
            return 0;
        }
        break;
    default:
        if (!parse_value(t, desc, n, kind == TAKE_ENUM ? names : NULL, &v)) {
            return 0;
        }
        break;
    }
    uint8_t bytes[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    region_append(r, bytes, width);
    return v;
}

static unsigned encode_length(fuzz_input_t *in, const char *region)
{
    struct fuzz_text_reader *r = encode_bind(in);
    if (r == NULL || enc.failed) {
        return 0;
    }
    struct fuzz_text_reader *target = text_reader(region ? region : "");
    if (target == NULL) {
        return 0;
    }
    if (enc.length_count == MAX_LENGTH_FIELDS) {
        encode_fail(0, "more than %d length fields", MAX_LENGTH_FIELDS);
        return 0;
    }
    target->length_given = true;
    enc.lengths[enc.length_count].reader = (unsigned)(r - enc.readers);
    enc.lengths[enc.length_count].region = (unsigned)(target - enc.readers);
    if (r->next >= r->count) {
        /* Past the reader's text, as a take past the end of the bytes: a pending zero,
           written (and then patched) only if a later region has bytes. */
        enc.lengths[enc.length_count].offset = r->used + r->pending_zeros;
        r->pending_zeros++;
    } else {
        uint8_t placeholder = 0;
        region_append(r, &placeholder, 1);
        enc.lengths[enc.length_count].offset = r->used - 1;
    }
    enc.length_count++;
    return 255; /* while encoding, the region's reader reads its text, not these bytes */
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Appends the reader's remaining unread= tokens; any other token left is an error. */
static void append_unread(struct fuzz_text_reader *r)
{
    while (!enc.failed && r->next < r->count) {
        const text_token_t *t = &r->tokens[r->next++];
        if (strcmp(t->label, UNREAD_LABEL) != 0) {
            encode_fail(t->line,
                        "reader %s: '%s=%s' is left over: the target takes nothing more from "
                        "this reader",
                        reader_desc(r), t->label, t->value);
            return;
        }
        size_t n = strlen(t->value);
        if (n % 2 != 0) {
            encode_fail(t->line, "reader %s: %s=%s: want an even number of hex digits",
                        reader_desc(r), UNREAD_LABEL, t->value);
            return;
        }
        for (size_t i = 0; i < n; i += 2) {
            int hi = hex_digit(t->value[i]), lo = hex_digit(t->value[i + 1]);
            if (hi < 0 || lo < 0) {
                encode_fail(t->line, "reader %s: %s=%s: want hex digits", reader_desc(r),
                            UNREAD_LABEL, t->value);
                return;
            }
            uint8_t byte = (uint8_t)(hi << 4 | lo);
            region_append(r, &byte, 1);
        }
    }
}

static void encode_finish(fuzz_input_t *in)
{
    struct fuzz_text_reader *r = encode_bind(in);
    if (r == NULL || enc.failed) {
        return;
    }
    append_unread(r);
    r->finished = true;
}

static bool is_label(const char *s, size_t n)
{
    if (n == 0 || s[0] < 'a' || s[0] > 'z') {
        return false;
    }
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            return false;
        }
    }
    return true;
}

static void add_token(struct fuzz_text_reader *r, const char *label, const char *value,
                      unsigned line)
{
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        text_token_t *grown = realloc(r->tokens, cap * sizeof *grown);
        if (grown == NULL) {
            encode_fail(line, "out of memory");
            return;
        }
        r->tokens = grown;
        r->cap = cap;
    }
    r->tokens[r->count++] = (text_token_t){label, value, line};
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Splits one line (NUL-terminated, modifiable) into tokens if it is an input line. */
static void parse_line(char *p, unsigned line)
{
    while (is_space(*p)) {
        p++;
    }
    if (p[0] == '-' && is_space(p[1])) {
        /* A printed input line: "- <thread> <indent>> tokens". */
        p++;
        while (is_space(*p)) {
            p++;
        }
        while (*p && !is_space(*p)) {
            p++; /* the thread */
        }
        while (is_space(*p)) {
            p++;
        }
        if (*p != '>') {
            return;
        }
    }
    if (*p != '>') {
        return; /* an event, a comment or any other line */
    }
    p++;
    struct fuzz_text_reader *r = NULL;
    bool first = true;
    for (;;) {
        while (is_space(*p)) {
            p++;
        }
        if (*p == '\0' || *p == '#') {
            break;
        }
        char *token = p;
        while (*p && !is_space(*p)) {
            p++;
        }
        size_t n = (size_t)(p - token);
        if (*p) {
            *p++ = '\0';
        }
        if (first && token[n - 1] == ':' && strchr(token, '=') == NULL) {
            token[n - 1] = '\0';
            if (!is_label(token, n - 1)) {
                encode_fail(line, "bad reader name '%s' (want [a-z][a-z0-9_]*)", token);
                return;
            }
            r = text_reader(token);
            first = false;
            continue;
        }
        first = false;
        if (r == NULL) {
            r = text_reader("");
        }
        char *eq = strchr(token, '=');
        if (eq == NULL || !is_label(token, (size_t)(eq - token)) || eq[1] == '\0') {
            encode_fail(line, "bad token '%s' (want label=value)", token);
            return;
        }
        *eq = '\0';
        if (r != NULL) {
            add_token(r, token, eq + 1, line);
        }
    }
}

static void encode_reset(void)
{
    for (unsigned i = 0; i < enc.reader_count; i++) {
        free(enc.readers[i].tokens);
        free(enc.readers[i].bytes);
    }
    free(enc.text);
    memset(&enc, 0, sizeof enc);
    takes_mode &= ~TAKES_ENCODE;
}

bool fuzz_encode_begin(const char *text, size_t size, const char *source, char *error,
                       size_t error_size)
{
    encode_reset();
    enc.source = source ? source : "text";
    enc.text = malloc(size + 1);
    if (enc.text == NULL) {
        snprintf(error, error_size, "%s: out of memory", enc.source);
        return false;
    }
    memcpy(enc.text, text, size);
    enc.text[size] = '\0';
    if (memchr(text, '\0', size) != NULL) {
        encode_fail(0, "the text contains a NUL byte (is it a binary input?)");
    }
    char *p = enc.text;
    for (unsigned line = 1; p != NULL && !enc.failed; line++) {
        char *end = strchr(p, '\n');
        if (end) {
            *end = '\0';
        }
        parse_line(p, line);
        p = end ? end + 1 : NULL;
    }
    if (enc.failed) {
        snprintf(error, error_size, "%s", enc.error);
        encode_reset();
        return false;
    }
    takes_mode |= TAKES_ENCODE;
    fuzz_input_flush_line();
    return true;
}

/* Concatenates the regions (see the encoder's comment); complete: check leftovers. */
static bool encode_layout(bool complete, uint8_t **bytes, size_t *size)
{
    struct fuzz_text_reader *order[MAX_TEXT_READERS];
    unsigned n = 0;
    if (complete) {
        for (unsigned i = 0; i < enc.reader_count && !enc.failed; i++) {
            struct fuzz_text_reader *r = &enc.readers[i];
            if (!r->bound && r->count > 0) {
                char list[160];
                size_t used = 0;
                list[0] = '\0';
                for (unsigned j = 0; j < enc.reader_count; j++) {
                    if (enc.readers[j].bound) {
                        int k = snprintf(list + used, sizeof list - used, "%s%s", used ? " " : "",
                                         reader_desc(&enc.readers[j]));
                        used += k > 0 && (size_t)k < sizeof list - used ? (size_t)k : 0;
                    }
                }
                encode_fail(r->tokens[0].line,
                            "reader %s: the target has no such reader in this run (it read: %s)",
                            reader_desc(r), used ? list : "nothing");
            } else if (r->bound && !r->finished) {
                append_unread(r);
            }
        }
        if (enc.failed) {
            return false;
        }
    }
    for (unsigned i = 0; i < enc.reader_count; i++) {
        if (enc.readers[i].bound) {
            unsigned k = n++;
            while (k > 0 && order[k - 1]->order > enc.readers[i].order) {
                order[k] = order[k - 1];
                k--;
            }
            order[k] = &enc.readers[i];
        }
    }
    bool later_bytes = false;
    for (unsigned k = n; k-- > 0;) {
        struct fuzz_text_reader *r = order[k];
        if (r->pending_zeros && later_bytes && !r->length_given) {
            uint8_t none = 0;
            region_append(r, &none, 0); /* the pending zeros become real */
        }
        later_bytes = later_bytes || r->used > 0;
    }
    for (unsigned i = 0; i < enc.length_count; i++) {
        if (enc.lengths[i].offset >= enc.readers[enc.lengths[i].reader].used) {
            continue; /* a pending zero that stayed pending */
        }
        size_t length = enc.readers[enc.lengths[i].region].used;
        if (length > 255) {
            if (complete) {
                encode_fail(0, "region %s is %zu bytes, more than its one-byte length field holds",
                            reader_desc(&enc.readers[enc.lengths[i].region]), length);
                return false;
            }
            length = 255;
        }
        enc.readers[enc.lengths[i].reader].bytes[enc.lengths[i].offset] = (uint8_t)length;
    }
    size_t total = 0;
    for (unsigned k = 0; k < n; k++) {
        total += order[k]->used;
    }
    uint8_t *out = malloc(total ? total : 1);
    if (out == NULL) {
        encode_fail(0, "out of memory");
        return false;
    }
    size_t at = 0;
    for (unsigned k = 0; k < n; k++) {
        if (order[k]->used) {
            memcpy(out + at, order[k]->bytes, order[k]->used);
        }
        at += order[k]->used;
    }
    *bytes = out;
    *size = total;
    return !enc.failed || !complete;
}

bool fuzz_encode_end(uint8_t **bytes, size_t *size, char *error, size_t error_size)
{
    *bytes = NULL;
    *size = 0;
    bool ok = !enc.failed && encode_layout(true, bytes, size);
    if (!ok) {
        free(*bytes);
        *bytes = NULL;
        *size = 0;
        snprintf(error, error_size, "%s", enc.error);
    }
    encode_reset();
    return ok;
}

bool fuzz_encode_partial(uint8_t **bytes, size_t *size)
{
    *bytes = NULL;
    *size = 0;
    if (!(takes_mode & TAKES_ENCODE)) {
        return false;
    }
    return encode_layout(false, bytes, size);
}

/* ------------------------------------------------------------------------------------------ */
/* Trace recorder                                                                             */
/* ------------------------------------------------------------------------------------------ */

#define FNV64_OFFSET_BASIS 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull
#define MAX_DEPTH 24

#define MAX_ARGS 12
#define STRING_BYTES 96

/* One recorded event, kept raw: it is formatted only when printed. */
typedef struct recent_event {
    unsigned long seq;
    const char *thread;
    unsigned depth;
    const char *fmt;               /* static format string */
    unsigned arg_count;            /* conversions recorded (at most MAX_ARGS) */
    uint32_t args[MAX_ARGS];       /* integers, or offsets into strings for %s */
    char strings[STRING_BYTES];    /* %s arguments, copied (NUL-separated, cut if long) */
    bool input;                    /* an input line (text in recent_input), not an event */
} recent_event_t;

static struct {
    uint64_t hash;
    unsigned long seq;  /* events since the reset */
    unsigned long ring; /* entries (events and kept input lines) since the reset */
    const char *thread;
    unsigned depth;
    FILE *out;
    bool hashing; /* fuzz_trace_set_hashing: off in libFuzzer runs, where nothing reads it */
    recent_event_t recent[FUZZ_TRACE_RECENT];
} trace = {FNV64_OFFSET_BASIS, 0, 0, "main", 0, NULL, false,
           {{0, NULL, 0, NULL, 0, {0}, {0}, false}}};

/* Printed input lines kept in the ring (fuzz_input_keep_lines), by ring slot. */
static char recent_input[FUZZ_TRACE_RECENT][INPUT_LINE_MAX + 64];

static inline void hash_byte(uint8_t byte)
{
    trace.hash = (trace.hash ^ byte) * FNV64_PRIME;
}

static void hash_u32(uint32_t value)
{
    hash_byte((uint8_t)value);
    hash_byte((uint8_t)(value >> 8));
    hash_byte((uint8_t)(value >> 16));
    hash_byte((uint8_t)(value >> 24));
}

void fuzz_trace_reset(void)
{
    fuzz_input_flush_line(); /* taken before the reset: printed where it was taken */
    trace.hash = FNV64_OFFSET_BASIS;
    trace.seq = 0;
    trace.ring = 0;
    trace.thread = "main";
    trace.depth = 0;
    for (size_t i = 0; i < FUZZ_TRACE_RECENT; i++) {
        trace.recent[i].thread = NULL;
    }
}

void fuzz_trace_set_output(FILE *out)
{
    fuzz_input_flush_line();
    trace.out = out;
    takes_mode = out ? takes_mode | TAKES_PRINT : takes_mode & ~TAKES_PRINT;
}

static unsigned trace_depth(void)
{
    return trace.depth;
}

static void record_input_line(const char *line)
{
    unsigned long slot = trace.ring++ % FUZZ_TRACE_RECENT;
    trace.recent[slot].thread = "";
    trace.recent[slot].input = true;
    snprintf(recent_input[slot], sizeof recent_input[slot], "%s", line);
}

FILE *fuzz_trace_output(void)
{
    return trace.out;
}

void fuzz_trace_set_thread(const char *thread)
{
    trace.thread = thread ? thread : "?";
}

const char *fuzz_trace_thread(void)
{
    return trace.thread;
}

void fuzz_trace_enter(void)
{
    trace.depth++;
}

void fuzz_trace_leave(void)
{
    if (trace.depth > 0) {
        trace.depth--;
    }
}

/* Appends to a bounded line buffer; text beyond the end is dropped. */
typedef struct line {
    char *buf;
    size_t used;
    size_t cap;
} line_t;

static void line_putc(line_t *line, char c)
{
    if (line->used + 1 < line->cap) {
        line->buf[line->used++] = c;
        line->buf[line->used] = '\0';
    }
}

static void line_puts(line_t *line, const char *s)
{
    for (; *s; s++) {
        line_putc(line, *s);
    }
}

static void line_putu(line_t *line, unsigned long long value, unsigned base)
{
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = "0123456789abcdef"[value % base];
        value /= base;
    } while (value != 0);
    while (n > 0) {
        line_putc(line, digits[--n]);
    }
}

/* FNV-1a of a format string's content, cached by address (formats are static strings). */
#define FORMAT_CACHE_SIZE 256

static uint64_t format_hash(const char *fmt)
{
    static struct {
        const char *fmt;
        uint64_t hash;
    } cache[FORMAT_CACHE_SIZE];
    size_t slot = ((uintptr_t)fmt >> 3) % FORMAT_CACHE_SIZE;
    if (cache[slot].fmt == fmt) {
        return cache[slot].hash;
    }
    uint64_t hash = FNV64_OFFSET_BASIS;
    for (const char *p = fmt; *p; p++) {
        hash = (hash ^ (uint8_t)*p) * FNV64_PRIME;
    }
    cache[slot].fmt = fmt;
    cache[slot].hash = hash;
    return hash;
}

/* Formats a recorded event's text (without sequence number, thread and indent). */
static void format_event(const recent_event_t *event, char *buf, size_t cap)
{
    line_t line = {buf, 0, cap};
    unsigned k = 0;
    buf[0] = '\0';
    for (const char *p = event->fmt; *p; p++) {
        if (*p != '%') {
            line_putc(&line, *p);
            continue;
        }
        p++;
        if (*p == '%') {
            line_putc(&line, '%');
            continue;
        }
        if (*p == '\0') {
            line_putc(&line, '%');
            break;
        }
        if (*p != 'd' && *p != 'u' && *p != 'x' && *p != 's') {
            line_putc(&line, '%');
            line_putc(&line, *p);
            continue;
        }
        if (k >= event->arg_count) {
            line_puts(&line, "...");
            continue;
        }
        uint32_t value = event->args[k++];
        switch (*p) {
        case 'd':
            if ((int32_t)value < 0) {
                line_putc(&line, '-');
                line_putu(&line, 0ull - (unsigned long long)(int64_t)(int32_t)value, 10);
            } else {
                line_putu(&line, value, 10);
            }
            break;
        case 'u':
            line_putu(&line, value, 10);
            break;
        case 'x':
            line_putu(&line, value, 16);
            break;
        default:
            line_puts(&line, value < STRING_BYTES ? event->strings + value : "?");
            break;
        }
    }
}

static void print_event(FILE *out, const recent_event_t *event)
{
    if (event->input) {
        fprintf(out, "%s\n", recent_input[event - trace.recent]);
        return;
    }
    char text[FUZZ_TRACE_LINE_MAX];
    unsigned depth = event->depth < MAX_DEPTH ? event->depth : MAX_DEPTH;
    format_event(event, text, sizeof text);
    fprintf(out, "%5lu %-8s %*s%s\n", event->seq, event->thread, (int)(2 * depth), "", text);
}

void fuzz_trace_event(const char *fmt, ...)
{
    if (__builtin_expect(pending.active, 0)) {
        fuzz_input_flush_line(); /* the takes before this event */
    }
    recent_event_t *event = &trace.recent[trace.ring++ % FUZZ_TRACE_RECENT];
    size_t strings_used = 0;
    va_list ap;

    event->input = false;
    event->seq = trace.seq;
    event->thread = trace.thread;
    event->depth = trace.depth;
    event->fmt = fmt;
    event->arg_count = 0;

    /* The hash covers the thread, the depth, the format (by content, so that hashes agree
       between builds) and every argument in full. */
    const bool hashing = trace.hashing;
    if (hashing) {
        for (const char *s = trace.thread; *s; s++) {
            hash_byte((uint8_t)*s);
        }
        hash_u32(trace.depth);
        uint64_t fmt_hash = format_hash(fmt);
        hash_u32((uint32_t)fmt_hash);
        hash_u32((uint32_t)(fmt_hash >> 32));
    }
    va_start(ap, fmt);
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            continue;
        }
        uint32_t value;
        switch (p[1]) {
        case 'd':
            value = (uint32_t)va_arg(ap, int);
            if (hashing) {
                hash_u32(value);
            }
            break;
        case 'u':
        case 'x':
            value = va_arg(ap, unsigned);
            if (hashing) {
                hash_u32(value);
            }
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) {
                s = "(null)";
            }
            value = (uint32_t)strings_used;
            if (hashing) {
                for (const char *c = s; *c; c++) {
                    hash_byte((uint8_t)*c);
                }
                hash_byte(0);
            }
            for (; *s && strings_used + 1 < STRING_BYTES; s++) {
                event->strings[strings_used++] = *s;
            }
            if (strings_used < STRING_BYTES) {
                event->strings[strings_used++] = '\0';
            } else {
                event->strings[STRING_BYTES - 1] = '\0';
            }
            break;
        }
        case '\0':
            continue;
        default:
            p++; /* "%%" or an unknown conversion: no argument */
            continue;
        }
        p++;
        if (event->arg_count < MAX_ARGS) {
            event->args[event->arg_count++] = value;
        }
    }
    va_end(ap);

    if (trace.out) {
        print_event(trace.out, event);
    }
    trace.seq++;
}

void fuzz_trace_set_hashing(bool on)
{
    trace.hashing = on;
}

uint64_t fuzz_trace_hash(void)
{
    return trace.hash;
}

unsigned long fuzz_trace_event_count(void)
{
    return trace.seq;
}

void fuzz_trace_print_recent(FILE *out)
{
    fuzz_input_flush_line(); /* the takes since the last event led here too */
    unsigned long first = trace.ring > FUZZ_TRACE_RECENT ? trace.ring - FUZZ_TRACE_RECENT : 0;
    for (unsigned long slot = first; slot < trace.ring; slot++) {
        const recent_event_t *event = &trace.recent[slot % FUZZ_TRACE_RECENT];
        if (event->thread) {
            print_event(out, event);
        }
    }
}

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

void fuzz_oracle_failv(const char *context, bool show_recent, const char *format,
                       va_list arguments)
{
    fflush(stdout);
    fprintf(stderr, "*** FUZZ ORACLE: ");
    vfprintf(stderr, format, arguments);
    fprintf(stderr, "%s\n", context);
    if (show_recent) {
        fprintf(stderr, "--- last events of the input:\n");
        fuzz_trace_print_recent(stderr);
    }
    fflush(stderr);
    abort();
}
