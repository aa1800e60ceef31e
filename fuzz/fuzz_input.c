/* SPDX-License-Identifier: MIT */
/*
 * fuzz_input.c - byte-stream reader and trace recorder of fuzz_input.h.
 *
 * Single-threaded by design: fuzz targets run one input at a time on one OS thread, so
 * the recorder's state is plain file-scope data.
 */
#include "fuzz_input.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Byte-stream reader                                                                         */
/* ------------------------------------------------------------------------------------------ */

void fuzz_input_init(fuzz_input_t *in, const uint8_t *data, size_t size)
{
    in->data = data;
    in->size = data ? size : 0;
    in->pos = 0;
}

size_t fuzz_input_remaining(const fuzz_input_t *in)
{
    return in->size - in->pos;
}

bool fuzz_input_exhausted(const fuzz_input_t *in)
{
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
} recent_event_t;

static struct {
    uint64_t hash;
    unsigned long seq;
    const char *thread;
    unsigned depth;
    FILE *out;
    recent_event_t recent[FUZZ_TRACE_RECENT];
} trace = {FNV64_OFFSET_BASIS, 0, "main", 0, NULL, {{0, NULL, 0, NULL, 0, {0}, {0}}}};

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
    trace.hash = FNV64_OFFSET_BASIS;
    trace.seq = 0;
    trace.thread = "main";
    trace.depth = 0;
    for (size_t i = 0; i < FUZZ_TRACE_RECENT; i++) {
        trace.recent[i].thread = NULL;
    }
}

void fuzz_trace_set_output(FILE *out)
{
    trace.out = out;
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
    char text[FUZZ_TRACE_LINE_MAX];
    unsigned depth = event->depth < MAX_DEPTH ? event->depth : MAX_DEPTH;
    format_event(event, text, sizeof text);
    fprintf(out, "%5lu %-8s %*s%s\n", event->seq, event->thread, (int)(2 * depth), "", text);
}

void fuzz_trace_event(const char *fmt, ...)
{
    recent_event_t *event = &trace.recent[trace.seq % FUZZ_TRACE_RECENT];
    size_t strings_used = 0;
    va_list ap;

    event->seq = trace.seq;
    event->thread = trace.thread;
    event->depth = trace.depth;
    event->fmt = fmt;
    event->arg_count = 0;

    /* The hash covers the thread, the depth, the format (by content, so that hashes agree
       between builds) and every argument in full. */
    for (const char *s = trace.thread; *s; s++) {
        hash_byte((uint8_t)*s);
    }
    hash_u32(trace.depth);
    uint64_t fmt_hash = format_hash(fmt);
    hash_u32((uint32_t)fmt_hash);
    hash_u32((uint32_t)(fmt_hash >> 32));
    va_start(ap, fmt);
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            continue;
        }
        uint32_t value;
        switch (p[1]) {
        case 'd':
            value = (uint32_t)va_arg(ap, int);
            hash_u32(value);
            break;
        case 'u':
        case 'x':
            value = va_arg(ap, unsigned);
            hash_u32(value);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) {
                s = "(null)";
            }
            value = (uint32_t)strings_used;
            for (; *s; s++) {
                hash_byte((uint8_t)*s);
                if (strings_used + 1 < STRING_BYTES) {
                    event->strings[strings_used++] = *s;
                }
            }
            hash_byte(0);
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
    unsigned long first = trace.seq > FUZZ_TRACE_RECENT ? trace.seq - FUZZ_TRACE_RECENT : 0;
    for (unsigned long seq = first; seq < trace.seq; seq++) {
        const recent_event_t *event = &trace.recent[seq % FUZZ_TRACE_RECENT];
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
