/* SPDX-License-Identifier: MIT */
/*
 * fuzz_encode.c - the text encoder of fuzz_encode.h: turns the input lines of a timeline
 * (or hand-written ones) back into the bytes that decode to them.
 */
#include "fuzz_input_private.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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

unsigned fuzz_encode_next_init_order(void)
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

struct fuzz_text_reader *fuzz_encode_bind(fuzz_input_t *in)
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

bool fuzz_encode_exhausted(fuzz_input_t *in)
{
    struct fuzz_text_reader *r = fuzz_encode_bind(in);
    return enc.failed || r == NULL || r->next >= r->count;
}

size_t fuzz_encode_remaining(fuzz_input_t *in)
{
    struct fuzz_text_reader *r = fuzz_encode_bind(in);
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
        if (strcmp(t->label, FUZZ_UNREAD_LABEL) == 0) {
            encode_fail(t->line,
                        "reader %s: '%s=...' (bytes the target does not read) where the target "
                        "takes '%s'",
                        reader_desc(r), FUZZ_UNREAD_LABEL, label);
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

unsigned fuzz_encode_take(fuzz_input_t *in, const char *label, fuzz_take_kind_t kind, unsigned n,
                            const char *const *names, const fuzz_field_t *fields, unsigned count,
                            unsigned *values)
{
    struct fuzz_text_reader *r = fuzz_encode_bind(in);
    if (kind == FUZZ_TAKE_DIGITS) {
        for (unsigned i = 0; i < count; i++) {
            values[i] = 0;
        }
    }
    if (r == NULL || enc.failed) {
        return 0;
    }
    const char *desc = reader_desc(r);
    if ((kind == FUZZ_TAKE_CHOICE || kind == FUZZ_TAKE_ENUM) && n <= 1) {
        return 0; /* no decision, no byte */
    }
    if (kind == FUZZ_TAKE_DIGITS) {
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
    unsigned width = kind == FUZZ_TAKE_U16 || ((kind == FUZZ_TAKE_CHOICE || kind == FUZZ_TAKE_ENUM) && n > 256)
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
    case FUZZ_TAKE_U8:
    case FUZZ_TAKE_U16:
        if (!parse_number(t->value, kind == FUZZ_TAKE_U8 ? 255u : 65535u, &number)) {
            encode_fail(t->line, "reader %s: %s=%s: want a number from 0 to %u", desc, label,
                        t->value, kind == FUZZ_TAKE_U8 ? 255u : 65535u);
            return 0;
        }
        v = (unsigned)number;
        break;
    case FUZZ_TAKE_BOOL:
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
        if (!parse_value(t, desc, n, kind == FUZZ_TAKE_ENUM ? names : NULL, &v)) {
            return 0;
        }
        break;
    }
    uint8_t bytes[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    region_append(r, bytes, width);
    return v;
}

unsigned fuzz_encode_length(fuzz_input_t *in, const char *region)
{
    struct fuzz_text_reader *r = fuzz_encode_bind(in);
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
        if (strcmp(t->label, FUZZ_UNREAD_LABEL) != 0) {
            encode_fail(t->line,
                        "reader %s: '%s=%s' is left over: the target takes nothing more from "
                        "this reader",
                        reader_desc(r), t->label, t->value);
            return;
        }
        size_t n = strlen(t->value);
        if (n % 2 != 0) {
            encode_fail(t->line, "reader %s: %s=%s: want an even number of hex digits",
                        reader_desc(r), FUZZ_UNREAD_LABEL, t->value);
            return;
        }
        for (size_t i = 0; i < n; i += 2) {
            int hi = hex_digit(t->value[i]), lo = hex_digit(t->value[i + 1]);
            if (hi < 0 || lo < 0) {
                encode_fail(t->line, "reader %s: %s=%s: want hex digits", reader_desc(r),
                            FUZZ_UNREAD_LABEL, t->value);
                return;
            }
            uint8_t byte = (uint8_t)(hi << 4 | lo);
            region_append(r, &byte, 1);
        }
    }
}

void fuzz_encode_finish(fuzz_input_t *in)
{
    struct fuzz_text_reader *r = fuzz_encode_bind(in);
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
        /* A printed input line: "- <thread> <indent>> tokens". A thread's name may have
           spaces ("work item", "system thread from <file>:<line>"), never '>': the tokens
           start after the first '>'. */
        p = strchr(p, '>');
        if (p == NULL) {
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
    fuzz_takes_mode &= ~FUZZ_TAKES_ENCODE;
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
    fuzz_takes_mode |= FUZZ_TAKES_ENCODE;
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
    if (!(fuzz_takes_mode & FUZZ_TAKES_ENCODE)) {
        return false;
    }
    return encode_layout(false, bytes, size);
}
