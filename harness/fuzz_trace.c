/* SPDX-License-Identifier: MIT */
/*
 * fuzz_trace.c - the trace recorder of fuzz_trace.h: every event folded into the trace
 * hash, printed as a timeline line when an output is set, the last ones kept for oracle
 * failures.
 */
#define _GNU_SOURCE /* dl_iterate_phdr */
#include "fuzz_input_private.h"

#include <link.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Trace recorder                                                                             */
/* ------------------------------------------------------------------------------------------ */

#define FNV64_OFFSET_BASIS 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull
#define MAX_DEPTH 24

#define MAX_ARGS 12
#define STRING_BYTES 96
#define MAX_CONVERSIONS 32

/* One recorded event, kept raw: it is formatted only when printed. */
typedef struct recent_event {
    unsigned long seq;
    const char *thread;
    const char *fmt;               /* static format string */
    unsigned depth;
    unsigned arg_count;            /* conversions recorded (at most MAX_ARGS) */
    uintptr_t args[MAX_ARGS];      /* an integer (%d %u %x: 32 bits) or a %s text: the
                                      caller's string when it can never change (read-only
                                      image data), else a copy in strings */
    char strings[STRING_BYTES];    /* copied %s arguments (NUL-separated, cut if long) */
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
    bool keep_recent; /* fuzz_trace_set_recent: keep the last events when nothing else reads them */
    recent_event_t recent[FUZZ_TRACE_RECENT];
} trace = {FNV64_OFFSET_BASIS, 0, 0, "main", 0, NULL, false, true,
           {{0, NULL, NULL, 0, 0, {0}, {0}, false}}};

static void record_event(const char *fmt, ...);
static void count_event(const char *fmt, ...);

void (*fuzz_trace_event_fn)(const char *fmt, ...) = record_event; /* keep_recent is on by default */

/* After every change of hashing, out or keep_recent. */
static void update_event_fn(void)
{
    fuzz_trace_event_fn =
        trace.hashing || trace.out != NULL || trace.keep_recent ? record_event : count_event;
}

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
    /* The ring's entries are left as they are: fuzz_trace_print_recent reads only the
       entries written since this reset (slots below ring), each of them whole. */
}

void fuzz_trace_set_output(FILE *out)
{
    fuzz_input_flush_line();
    trace.out = out;
    update_event_fn();
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

/* What recording an event needs of its format, computed once per format string (formats
   are static strings, so the cache is keyed by address): the FNV-1a hash of its content and
   its conversions, one of 'd' 'u' 'x' 's' each (all are hashed; the first MAX_ARGS are
   kept in the ring). */
#define FORMAT_CACHE_SIZE 1024 /* a power of two */

typedef struct format_info {
    const char *fmt;
    uint64_t hash;
    unsigned conversion_count;
    uint32_t text_mask;   /* bit k: conversion k is %s */
    char conversions[MAX_CONVERSIONS];
} format_info_t;

static const format_info_t *format_info(const char *fmt)
{
    static format_info_t cache[FORMAT_CACHE_SIZE];
    /* Literals lie close together: spread their addresses over the slots (Fibonacci hashing). */
    uint64_t spread = (uint64_t)(uintptr_t)fmt * 0x9e3779b97f4a7c15ull;
    format_info_t *info = &cache[spread >> (64 - 10)];
    if (info->fmt == fmt) {
        return info;
    }
    uint64_t hash = FNV64_OFFSET_BASIS;
    for (const char *p = fmt; *p; p++) {
        hash = (hash ^ (uint8_t)*p) * FNV64_PRIME;
    }
    info->fmt = fmt;
    info->hash = hash;
    info->conversion_count = 0;
    info->text_mask = 0;
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            continue;
        }
        if (p[1] == 'd' || p[1] == 'u' || p[1] == 'x' || p[1] == 's') {
            if (info->conversion_count == MAX_CONVERSIONS) {
                fprintf(stderr, "fuzz_trace_event: more than %d conversions in \"%s\"\n",
                        MAX_CONVERSIONS, fmt);
                abort();
            }
            if (p[1] == 's') {
                info->text_mask |= 1u << info->conversion_count;
            }
            info->conversions[info->conversion_count++] = p[1];
        }
        if (p[1] != '\0') {
            p++; /* the conversion character, or the second '%' of "%%" */
        }
    }
    return info;
}

/* Whether text lies in a read-only segment of a loaded image (string literals, name
   tables): it can never change, so the ring may keep the pointer instead of a copy. */
#define MAX_READ_ONLY_RANGES 64

static struct {
    bool known;
    unsigned count;
    uintptr_t start[MAX_READ_ONLY_RANGES], end[MAX_READ_ONLY_RANGES];
} read_only;

static int note_read_only_segments(struct dl_phdr_info *info, size_t size, void *context)
{
    (void)size;
    (void)context;
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) == 0 &&
            read_only.count < MAX_READ_ONLY_RANGES) {
            read_only.start[read_only.count] = info->dlpi_addr + ph->p_vaddr;
            read_only.end[read_only.count] = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
            read_only.count++;
        }
    }
    return 0;
}

static bool is_read_only_text(const char *text)
{
    if (!read_only.known) {
        read_only.known = true;
        dl_iterate_phdr(note_read_only_segments, NULL);
    }
    uintptr_t address = (uintptr_t)text;
    /* The range of the last hit (names mostly come from one image), as two scalars: the
       check every %s argument of every event makes. Per thread, so that the two always
       come from the same range. */
    static _Thread_local uintptr_t last_start, last_end;
    if (address >= last_start && address < last_end) {
        return true;
    }
    for (unsigned i = 0; i < read_only.count; i++) {
        if (address >= read_only.start[i] && address < read_only.end[i]) {
            last_start = read_only.start[i];
            last_end = read_only.end[i];
            return true;
        }
    }
    return false;
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
        unsigned arg = k++;
        uint32_t value = (uint32_t)event->args[arg];
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
            line_puts(&line, event->args[arg] ? (const char *)event->args[arg] : "?");
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

/* Hashes one event (replays): the thread, the depth, the format (by content, so that hashes
   agree between builds) and every argument in full. */
static void hash_event(const format_info_t *info, va_list ap)
{
    for (const char *s = trace.thread; *s; s++) {
        hash_byte((uint8_t)*s);
    }
    hash_u32(trace.depth);
    hash_u32((uint32_t)info->hash);
    hash_u32((uint32_t)(info->hash >> 32));
    for (unsigned k = 0; k < info->conversion_count; k++) {
        if (info->text_mask & (1u << k)) {
            const char *text = va_arg(ap, const char *);
            for (const char *c = text ? text : "(null)"; *c; c++) {
                hash_byte((uint8_t)*c);
            }
            hash_byte(0);
        } else {
            hash_u32(info->conversions[k] == 'd' ? (uint32_t)va_arg(ap, int)
                                                 : va_arg(ap, unsigned));
        }
    }
}

/* Keeps a copy of a %s argument that may change or go away (cut if long) in event->strings
   from *used on; returns the copy. */
static const char *keep_text(recent_event_t *event, size_t *used, const char *text)
{
    size_t n = *used;
    if (n >= STRING_BYTES) {
        return event->strings + STRING_BYTES - 1; /* full: the final NUL, an empty text */
    }
    char *copy = event->strings + n;
    /* strnlen and memcpy, not a loop of byte copies: ASan checks each range once (the
       text's bytes read, the copy's written), not every byte. */
    size_t length = strnlen(text, STRING_BYTES - 1 - n);
    memcpy(copy, text, length);
    copy[length] = '\0';
    *used = n + length + 1;
    return copy;
}

/* fuzz_trace_event when nothing reads events (fuzz_trace_set_recent): reads no argument. */
static void count_event(const char *fmt, ...)
{
    (void)fmt;
    if (__builtin_expect(fuzz_input_line_active, 0)) {
        fuzz_input_flush_line(); /* the takes before this event */
    }
    trace.seq++; /* nothing reads the event (fuzz_trace_set_recent) */
}

static void record_event(const char *fmt, ...)
{
    if (__builtin_expect(fuzz_input_line_active, 0)) {
        fuzz_input_flush_line(); /* the takes before this event */
    }
    recent_event_t *event = &trace.recent[trace.ring++ % FUZZ_TRACE_RECENT];
    /* Marked unwritten until it is filled: a report raised while its arguments are read
       (hash_event) prints the ring without this slot's event of an earlier input
       (fuzz_trace_print_recent skips an entry without a thread). */
    event->thread = NULL;
    const format_info_t *info = format_info(fmt);
    va_list ap;

    if (trace.hashing) {
        va_start(ap, fmt);
        hash_event(info, ap);
        va_end(ap);
    }
    unsigned count = info->conversion_count < MAX_ARGS ? info->conversion_count : MAX_ARGS;
    event->input = false;
    event->seq = trace.seq;
    event->thread = trace.thread;
    event->depth = trace.depth;
    event->fmt = fmt;
    event->arg_count = count;
    /* Only what the ring keeps: the first MAX_ARGS arguments, a text by pointer when it lies
       in read-only image data. */
    size_t strings_used = 0;
    uint32_t text_mask = info->text_mask;
    va_start(ap, fmt);
    for (unsigned k = 0; k < count; k++) {
        if (text_mask & (1u << k)) {
            const char *text = va_arg(ap, const char *);
            if (!text) {
                text = "(null)";
            } else if (!is_read_only_text(text)) {
                text = keep_text(event, &strings_used, text);
            }
            event->args[k] = (uintptr_t)text;
        } else {
            event->args[k] = info->conversions[k] == 'd' ? (uint32_t)va_arg(ap, int)
                                                         : va_arg(ap, unsigned);
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
    update_event_fn();
}

void fuzz_trace_set_recent(bool on)
{
    trace.keep_recent = on;
    update_event_fn();
}

bool fuzz_trace_recording(void)
{
    return fuzz_trace_event_fn == record_event;
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
