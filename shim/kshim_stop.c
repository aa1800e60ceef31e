/* SPDX-License-Identifier: MIT */
/*
 * kshim_stop.c - contract-violation stops: one line on stderr, the stack, then abort().
 * Also the stops raised by WDK-header macros and inline code (ASSERT, list integrity),
 * KeBugCheckEx and DbgBreakPoint. A stop is first offered to the harness's stop trap
 * (kshim_stop_trap.c), which may catch it instead of aborting.
 */
#include "kshim_stop.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A stop raised while printing a stop (e.g. from a broken formatter) just aborts.
   Cleared when a trap catches the stop (kshim_stop_trap_catch longjmps out of kshim_stop). */
static __thread bool stopping;

/* KeBugCheckEx's arguments on their way into kshim_stop (owner-only: the calling thread). */
static __thread kshim_bugcheck_arguments_t bugcheck_arguments;

void kshim_stop_caught(void)
{
    stopping = false;
    bugcheck_arguments.pending = false;
}

#define STOP_LINE_CHARS 2048

/* Writes "*** KSHIM STOP <name>: " at the start of line; returns its length. (A stop's name
   is a short constant; one of more than a few hundred characters is cut.) */
static size_t put_stop_prefix(char *line, const char *name)
{
    static const char head[] = "*** KSHIM STOP ";
    memcpy(line, head, sizeof head - 1);
    size_t used = sizeof head - 1;
    used += kshim_copy_text(line + used, STOP_LINE_CHARS / 4 + 1, name);
    memcpy(line + used, ": ", 2);
    return used + 2;
}

/* The end of every stop, whose line (with room for a '\n' after length) is formatted: the
   calling thread's armed trap catches it (a longjmp to the harness), else the line and the
   stack go to stderr and the process aborts. Always inlined, so no call of a noreturn
   function is left in its callers for ASan to precede with __asan_handle_no_return (see
   KSHIM_NO_ASAN): the trap's longjmp runs the one the unwinding needs. */
static inline __attribute__((always_inline)) void end_stop(const char *name, char *line,
                                                           size_t length)
{
    kshim_stop_trap_catch(name, line, length, &bugcheck_arguments);
    line[length++] = '\n';
    /* One write(): concurrent stops of several threads do not interleave within a line. */
    ssize_t ignored = write(STDERR_FILENO, line, length);
    (void)ignored;
    kshim_stack_print(1); /* from the caller of the stop function: the offending call */
    abort();
}

void kshim_stop(const char *name, const char *fmt, ...)
{
    if (stopping) {
        abort();
    }
    stopping = true;
    char line[STOP_LINE_CHARS];
    size_t used = put_stop_prefix(line, name);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + used, sizeof line - used - 1, fmt, ap);
    va_end(ap);
    if (n < 0) {
        n = 0;
    }
    size_t len = used + (size_t)n;
    if (len > sizeof line - 2) {
        len = sizeof line - 2;
    }
    end_stop(name, line, len);
    __builtin_unreachable();
}

#ifdef KSHIM_ONE_OS_THREAD
void kshim_os_mutex_recursive(kshim_os_mutex_t *mutex)
{
    kshim_stop("SHIM_LOCK_RECURSIVE", "shim lock %p taken again by the thread that holds it",
               (void *)mutex);
}
#endif

const char *kshim_site_basename(const char *site)
{
    if (site == NULL) {
        return "unknown:0";
    }
    const char *slash = strrchr(site, '/');
    return slash ? slash + 1 : site;
}

void kshim_assertion_failed(const char *expression, const char *message, const char *file, int line)
{
    if (message) {
        kshim_stop("ASSERTION_FAILED", "%s (\"%s\") at %s:%d", expression, message,
                   kshim_site_basename(file), line);
    }
    kshim_stop("ASSERTION_FAILED", "%s at %s:%d", expression, kshim_site_basename(file), line);
}

BOOLEAN kshim_verify_failed(const char *expression, const char *message, const char *file, int line)
{
    kshim_assertion_failed(expression, message, file, line);
}

void kshim_list_entry_corrupted(const char *routine, const void *entry, const void *neighbour)
{
    kshim_stop("LIST_ENTRY_CORRUPTED",
               "%s: list entry %p has a neighbour %p whose link does not point back "
               "(FastFail LEGACY_GS_VIOLATION / bugcheck 0x139)",
               routine, entry, neighbour);
}

/* Appends "0x" and value in lowercase hex (printf's "0x%llx") at line[length]. */
static size_t put_hex(char *line, size_t length, unsigned long long value)
{
    line[length++] = '0';
    line[length++] = 'x';
    return length + kshim_put_digits(line + length, value, 16, false);
}

/* KeBugCheckEx's stop, its arguments in bugcheck_arguments: "*** KSHIM STOP BUGCHECK:
   KeBugCheckEx(0x<code>, 0x<p1>, 0x<p2>, 0x<p3>, 0x<p4>)", formatted by hand (every verifier
   stop of the fuzz targets is one; vsnprintf took 2% of fuzz_nmr_contract). */
static __attribute__((noinline, noreturn)) void stop_bugcheck(void)
{
    if (stopping) {
        abort();
    }
    stopping = true;
    /* At most 25 + 13 + 10 + 4 * 20 + 1 characters and the '\n': a short frame for ASan
       to poison and unpoison. */
    char line[160];
    size_t len = put_stop_prefix(line, "BUGCHECK");
    static const char call[] = "KeBugCheckEx(";
    memcpy(line + len, call, sizeof call - 1);
    len += sizeof call - 1;
    len = put_hex(line, len, bugcheck_arguments.code);
    for (size_t i = 0; i < 4; i++) {
        line[len++] = ',';
        line[len++] = ' ';
        len = put_hex(line, len, bugcheck_arguments.parameters[i]);
    }
    line[len++] = ')';
    end_stop("BUGCHECK", line, len);
    __builtin_unreachable();
}

KSHIM_NO_ASAN VOID KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR BugCheckParameter1,
                                ULONG_PTR BugCheckParameter2, ULONG_PTR BugCheckParameter3,
                                ULONG_PTR BugCheckParameter4)
{
    /* For the stop line and a stop trap's record (the parameters are pointers a harness may
       compare). */
    bugcheck_arguments.pending = true;
    bugcheck_arguments.code = BugCheckCode;
    bugcheck_arguments.parameters[0] = BugCheckParameter1;
    bugcheck_arguments.parameters[1] = BugCheckParameter2;
    bugcheck_arguments.parameters[2] = BugCheckParameter3;
    bugcheck_arguments.parameters[3] = BugCheckParameter4;
    stop_bugcheck();
}

KSHIM_NO_ASAN VOID KeBugCheck(ULONG BugCheckCode)
{
    KeBugCheckEx(BugCheckCode, 0, 0, 0, 0);
}

void kshim_fail_fast(ULONG code, const char *file, int line)
{
    kshim_stop("FAST_FAIL", "RtlFailFast(%lu) at %s:%d (Windows: bugcheck KERNEL_SECURITY_CHECK_FAILURE 0x139)",
               (unsigned long)code, kshim_site_basename(file), line);
}

VOID DbgBreakPoint(VOID)
{
    kshim_stop("BREAKPOINT", "DbgBreakPoint on thread '%s' (no debugger attached)",
               kshim_thread_current_name());
}

VOID DbgBreakPointWithStatus(ULONG Status)
{
    kshim_stop("BREAKPOINT", "DbgBreakPointWithStatus(0x%lx) on thread '%s' (no debugger attached)",
               (unsigned long)Status, kshim_thread_current_name());
}
