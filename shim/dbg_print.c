/* SPDX-License-Identifier: MIT */
/*
 * dbg_print.c - DbgPrint and friends, with the Windows (LLP64) format rules.
 *
 * Windows driver format strings say "%lx" for a 32-bit ULONG and "%I64x" or "%llx" for 64
 * bits, and print counted strings with "%wZ". This formatter reads each argument with the
 * Windows size and re-formats it with the C library, so driver code prints correctly
 * unchanged. The whole message is written with one write() to stderr, or handed to the
 * harness's sink (kshim_dbg_print_set_sink); an armed stop trap of the printing thread
 * records it too.
 */
#include "kshim_stop.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct out_buffer {
    char *data;
    size_t used;
    size_t capacity;
    char inline_storage[512];
} out_buffer_t;

static void out_reserve(out_buffer_t *out, size_t more)
{
    if (out->used + more + 1 <= out->capacity) {
        return;
    }
    size_t capacity = out->capacity * 2;
    while (capacity < out->used + more + 1) {
        capacity *= 2;
    }
    char *grown;
    if (out->data == out->inline_storage) {
        grown = malloc(capacity);
        if (grown) {
            memcpy(grown, out->data, out->used);
        }
    } else {
        grown = realloc(out->data, capacity);
    }
    if (grown == NULL) {
        kshim_stop("DBG_PRINT", "out of memory formatting a DbgPrint message");
    }
    out->data = grown;
    out->capacity = capacity;
}

static void out_bytes(out_buffer_t *out, const char *s, size_t n)
{
    out_reserve(out, n);
    memcpy(out->data + out->used, s, n);
    out->used += n;
}

__attribute__((format(printf, 2, 3))) static void out_format(out_buffer_t *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0) {
        return;
    }
    out_reserve(out, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(out->data + out->used, (size_t)n + 1, fmt, ap);
    va_end(ap);
    out->used += (size_t)n;
}

/* A plain conversion (no flags, width or precision) of an integer, without the C library:
   verifier lines are formatted on every warning the fuzz targets provoke. */
static void out_integer(out_buffer_t *out, unsigned long long value, bool negative, unsigned base,
                        bool upper)
{
    char text[1 + 64];
    size_t n = 0;
    if (negative) {
        text[n++] = '-';
    }
    n += kshim_put_digits(text + n, value, base, upper);
    out_bytes(out, text, n);
}

/* value's digits in base, least significant first; returns how many. Always inlined, so that a
   call with a constant base divides by a constant. */
static inline __attribute__((always_inline)) size_t digits_reversed(char *reversed,
                                                                    unsigned long long value,
                                                                    unsigned base,
                                                                    const char *digits)
{
    size_t n = 0;
    do {
        reversed[n++] = digits[value % base];
        value /= base;
    } while (value != 0);
    return n;
}

size_t kshim_put_digits(char *text, unsigned long long value, unsigned base, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char reversed[64];
    size_t n;
    /* Bases 16 and 10 (every stop line's and verifier line's numbers) get a copy of the loop
       with a constant divisor: a 64-bit division by a variable base per digit was most of the
       time. */
    if (base == 16) {
        n = digits_reversed(reversed, value, 16, digits);
    } else if (base == 10) {
        n = digits_reversed(reversed, value, 10, digits);
    } else {
        n = digits_reversed(reversed, value, base, digits);
    }
    for (size_t i = 0; i < n; i++) {
        text[i] = reversed[n - 1 - i];
    }
    return n;
}

size_t kshim_copy_text(char *buffer, size_t size, const char *text)
{
    size_t length = strnlen(text, size - 1);
    memcpy(buffer, text, length);
    buffer[length] = '\0';
    return length;
}

static char wide_to_char(WCHAR c)
{
    return c < 0x80 ? (char)c : '?';
}

/* Narrow a wide string (count = -1: NUL-terminated) into a malloc'd C string. */
static char *narrow(const WCHAR *s, long count)
{
    if (s == NULL) {
        return strdup("(null)");
    }
    size_t n = 0;
    if (count < 0) {
        while (s[n]) {
            n++;
        }
    } else {
        n = (size_t)count;
    }
    char *r = malloc(n + 1);
    if (r == NULL) {
        kshim_stop("DBG_PRINT", "out of memory formatting a DbgPrint message");
    }
    for (size_t i = 0; i < n; i++) {
        r[i] = wide_to_char(s[i]);
    }
    r[n] = '\0';
    return r;
}

typedef enum size_class { SIZE_INT, SIZE_SHORT, SIZE_CHAR, SIZE_64, SIZE_PTR, SIZE_WIDE } size_class_t;

/* The length of a C string, with strnlen rather than strlen: ASan's strlen interceptor
   counts byte by byte, its strnlen interceptor checks the same bytes (the NUL included) after
   glibc's search. Verifier lines (every warning and stop of the fuzz targets) are mostly %s. */
static size_t text_length(const char *s)
{
    return strnlen(s, PTRDIFF_MAX);
}

/* A printf flag character (by hand: strchr's interceptor ran at every conversion). */
static bool is_flag(char c)
{
    return c == '-' || c == '+' || c == ' ' || c == '#' || c == '0';
}

static void format_windows(out_buffer_t *out, const char *fmt, va_list ap)
{
    const char *p = fmt;
    while (*p) {
        if (*p != '%') {
            const char *next = strchrnul(p, '%');
            out_bytes(out, p, (size_t)(next - p));
            p = next;
            continue;
        }
        const char *spec_start = p++;
        if (*p == '%') {
            out_bytes(out, "%", 1);
            p++;
            continue;
        }
        /* flags, width, precision: copied into the C spec; '*' read from the arguments */
        char spec[64];
        size_t sl = 0;
        spec[sl++] = '%';
        while (is_flag(*p) && sl < 20) {
            spec[sl++] = *p++;
        }
        int width = -1, precision = -1;
        if (*p == '*') {
            width = va_arg(ap, int);
            p++;
        } else {
            while (*p >= '0' && *p <= '9' && sl < 40) {
                spec[sl++] = *p++;
            }
        }
        if (*p == '.') {
            p++;
            if (*p == '*') {
                precision = va_arg(ap, int);
                p++;
            } else {
                spec[sl++] = '.';
                while (*p >= '0' && *p <= '9' && sl < 50) {
                    spec[sl++] = *p++;
                }
            }
        }
        if (width >= 0 || precision >= 0) {
            /* rebuild with explicit numbers: "%<flags>" + width + "." + precision */
            char rebuilt[64];
            size_t flags_end = 1;
            while (flags_end < sl && is_flag(spec[flags_end])) {
                flags_end++;
            }
            int n = snprintf(rebuilt, sizeof rebuilt, "%.*s", (int)flags_end, spec);
            if (width >= 0) {
                n += snprintf(rebuilt + n, sizeof rebuilt - (size_t)n, "%d", width);
            } else {
                size_t i = flags_end;
                while (i < sl && spec[i] != '.') {
                    rebuilt[n++] = spec[i++];
                }
                rebuilt[n] = '\0';
            }
            if (precision >= 0) {
                n += snprintf(rebuilt + n, sizeof rebuilt - (size_t)n, ".%d", precision);
            } else {
                const char *dot = memchr(spec, '.', sl);
                if (dot) {
                    size_t len = sl - (size_t)(dot - spec);
                    memcpy(rebuilt + n, dot, len);
                    n += (int)len;
                    rebuilt[n] = '\0';
                }
            }
            memcpy(spec, rebuilt, (size_t)n);
            sl = (size_t)n;
        }
        /* size prefix, Windows meanings */
        size_class_t size = SIZE_INT;
        if (p[0] == 'I' && p[1] == '6' && p[2] == '4') {
            size = SIZE_64, p += 3;
        } else if (p[0] == 'I' && p[1] == '3' && p[2] == '2') {
            size = SIZE_INT, p += 3;
        } else if (p[0] == 'I') {
            size = SIZE_PTR, p += 1;
        } else if (p[0] == 'l' && p[1] == 'l') {
            size = SIZE_64, p += 2;
        } else if (p[0] == 'l') {
            size = SIZE_WIDE, p += 1; /* 32-bit for integers, wide for c/s */
        } else if (p[0] == 'h' && p[1] == 'h') {
            size = SIZE_CHAR, p += 2;
        } else if (p[0] == 'h') {
            size = SIZE_SHORT, p += 1;
        } else if (p[0] == 'w') {
            size = SIZE_WIDE, p += 1;
        } else if (p[0] == 'z' || p[0] == 't' || p[0] == 'j') {
            size = p[0] == 'j' ? SIZE_64 : SIZE_PTR, p += 1;
        } else if (p[0] == 'L') {
            size = SIZE_64, p += 1;
        }
        char conv = *p;
        if (conv == '\0') {
            out_bytes(out, spec_start, (size_t)(p - spec_start));
            break;
        }
        p++;
        switch (conv) {
        case 'd':
        case 'i':
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            bool is_signed = conv == 'd' || conv == 'i';
            unsigned base = conv == 'o' ? 8 : conv == 'x' || conv == 'X' ? 16 : 10;
            if (size == SIZE_64 || size == SIZE_PTR) {
                unsigned long long v = size == SIZE_64 ? va_arg(ap, unsigned long long)
                                                       : (unsigned long long)va_arg(ap, uintptr_t);
                if (sl == 1) {
                    bool negative = is_signed && (long long)v < 0;
                    out_integer(out, negative ? 0ull - v : v, negative, base, conv == 'X');
                    break;
                }
                memcpy(spec + sl, "ll", 2);
                spec[sl + 2] = conv;
                spec[sl + 3] = '\0';
                if (is_signed) {
                    out_format(out, spec, (long long)v);
                } else {
                    out_format(out, spec, v);
                }
            } else {
                unsigned int v = va_arg(ap, unsigned int);
                if (size == SIZE_SHORT) {
                    v = is_signed ? (unsigned int)(int)(short)v : (unsigned short)v;
                } else if (size == SIZE_CHAR) {
                    v = is_signed ? (unsigned int)(int)(signed char)v : (unsigned char)v;
                }
                if (sl == 1) {
                    bool negative = is_signed && (int)v < 0;
                    out_integer(out, negative ? 0u - v : v, negative, base, conv == 'X');
                    break;
                }
                spec[sl] = conv;
                spec[sl + 1] = '\0';
                if (is_signed) {
                    out_format(out, spec, (int)v);
                } else {
                    out_format(out, spec, v);
                }
            }
            break;
        }
        case 'p': {
            void *v = va_arg(ap, void *);
            spec[sl] = 'p';
            spec[sl + 1] = '\0';
            out_format(out, spec, v);
            break;
        }
        case 'c':
        case 'C': {
            int v = va_arg(ap, int);
            char c = (conv == 'C' || size == SIZE_WIDE) ? wide_to_char((WCHAR)v) : (char)v;
            spec[sl] = 'c';
            spec[sl + 1] = '\0';
            out_format(out, spec, c);
            break;
        }
        case 's':
        case 'S': {
            spec[sl] = 's';
            spec[sl + 1] = '\0';
            if (conv == 'S' || size == SIZE_WIDE) {
                char *s = narrow(va_arg(ap, const WCHAR *), -1);
                out_format(out, spec, s);
                free(s);
            } else {
                const char *s = va_arg(ap, const char *);
                if (s == NULL) {
                    s = "(null)";
                }
                if (sl == 1) {
                    out_bytes(out, s, text_length(s));
                } else {
                    out_format(out, spec, s);
                }
            }
            break;
        }
        case 'Z': {
            spec[sl] = 's';
            spec[sl + 1] = '\0';
            if (size == SIZE_WIDE) {
                PCUNICODE_STRING us = va_arg(ap, PCUNICODE_STRING);
                char *s = us ? narrow(us->Buffer, us->Length / (long)sizeof(WCHAR)) : strdup("(null)");
                out_format(out, spec, s ? s : "(null)");
                free(s);
            } else {
                PCANSI_STRING as = va_arg(ap, PCANSI_STRING);
                if (as && as->Buffer) {
                    out_format(out, "%.*s", (int)as->Length, as->Buffer);
                } else {
                    out_format(out, spec, "(null)");
                }
            }
            break;
        }
        case 'e':
        case 'E':
        case 'f':
        case 'g':
        case 'G': {
            double v = va_arg(ap, double);
            spec[sl] = conv;
            spec[sl + 1] = '\0';
            out_format(out, spec, v);
            break;
        }
        case 'n':
            (void)va_arg(ap, void *);
            break;
        default:
            out_bytes(out, spec_start, (size_t)(p - spec_start));
            break;
        }
    }
}

size_t kshim_vformat_windows(char *destination, size_t size, const char *format, va_list ap)
{
    out_buffer_t out;
    out.data = out.inline_storage;
    out.used = 0;
    out.capacity = sizeof out.inline_storage;
    format_windows(&out, format, ap);
    if (size != 0) {
        size_t n = out.used < size - 1 ? out.used : size - 1;
        memcpy(destination, out.data, n);
        destination[n] = '\0';
    }
    size_t full = out.used;
    if (out.data != out.inline_storage) {
        free(out.data);
    }
    return full;
}

/* The harness's sink and its context, or NULL (stderr). Set between runs by the harness, read
   by every printing thread: both pointers are published together under one atomic pointer. */
typedef struct print_sink {
    kshim_dbg_print_sink_fn *fn;
    void *context;
} print_sink_t;
static print_sink_t sink_storage[2];
static print_sink_t *current_sink;

void kshim_dbg_print_set_sink(kshim_dbg_print_sink_fn *sink, void *context)
{
    if (sink == NULL) {
        __atomic_store_n(&current_sink, NULL, __ATOMIC_RELEASE);
        return;
    }
    /* Alternate between two slots so a concurrent reader of the previous sink never sees a
       half-written pair (sinks are set between runs, not while threads print). */
    print_sink_t *previous = __atomic_load_n(&current_sink, __ATOMIC_ACQUIRE);
    print_sink_t *slot = &sink_storage[previous == &sink_storage[0]];
    slot->fn = sink;
    slot->context = context;
    __atomic_store_n(&current_sink, slot, __ATOMIC_RELEASE);
}

static ULONG print_message(const char *prefix, const char *format, va_list ap)
{
    out_buffer_t out;
    out.data = out.inline_storage;
    out.used = 0;
    out.capacity = sizeof out.inline_storage;
    if (prefix) {
        out_bytes(&out, prefix, text_length(prefix));
    }
    format_windows(&out, format ? format : "(null format)", ap);
    kshim_stop_trap_note_print(out.data, out.used);
    print_sink_t *sink = __atomic_load_n(&current_sink, __ATOMIC_ACQUIRE);
    if (sink != NULL) {
        sink->fn(out.data, out.used, sink->context);
    } else {
        ssize_t ignored = write(STDERR_FILENO, out.data, out.used);
        (void)ignored;
    }
    if (out.data != out.inline_storage) {
        free(out.data);
    }
    return (ULONG)STATUS_SUCCESS;
}

ULONG DbgPrint(PCSTR Format, ...)
{
    va_list ap;
    va_start(ap, Format);
    ULONG r = print_message(NULL, Format, ap);
    va_end(ap);
    return r;
}

ULONG DbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, ...)
{
    (void)ComponentId;
    (void)Level;
    va_list ap;
    va_start(ap, Format);
    ULONG r = print_message(NULL, Format, ap);
    va_end(ap);
    return r;
}

ULONG vDbgPrintEx(ULONG ComponentId, ULONG Level, PCCH Format, va_list arglist)
{
    (void)ComponentId;
    (void)Level;
    va_list ap;
    va_copy(ap, arglist);
    ULONG r = print_message(NULL, Format, ap);
    va_end(ap);
    return r;
}

ULONG vDbgPrintExWithPrefix(PCCH Prefix, ULONG ComponentId, ULONG Level, PCCH Format, va_list arglist)
{
    (void)ComponentId;
    (void)Level;
    va_list ap;
    va_copy(ap, arglist);
    ULONG r = print_message(Prefix, Format, ap);
    va_end(ap);
    return r;
}
