/* SPDX-License-Identifier: MIT */
/*
 * fuzz_trace.c - the trace recorder of fuzz_trace.h: every event folded into the trace
 * hash, printed as a timeline line when an output is set, the last ones kept for oracle
 * failures.
 */
#include "fuzz_input_private.h"

#include <stdarg.h>
#include <string.h>

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
static char recent_input[FUZZ_TRACE_RECENT][FUZZ_INPUT_LINE_MAX + 64];

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
    fuzz_takes_mode = out ? fuzz_takes_mode | FUZZ_TAKES_PRINT : fuzz_takes_mode & ~FUZZ_TAKES_PRINT;
}

unsigned fuzz_trace_depth(void)
{
    return trace.depth;
}

void fuzz_trace_record_input_line(const char *line)
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
    if (__builtin_expect(fuzz_input_line_active, 0)) {
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
