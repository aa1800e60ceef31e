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

void kshim_stop(const char *name, const char *fmt, ...)
{
    if (stopping) {
        abort();
    }
    stopping = true;
    char line[2048];
    int used = snprintf(line, sizeof line, "*** KSHIM STOP %s: ", name);
    if (used < 0 || (size_t)used >= sizeof line) {
        used = 0;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + used, sizeof line - (size_t)used - 1, fmt, ap);
    va_end(ap);
    if (n < 0) {
        n = 0;
    }
    size_t len = (size_t)used + (size_t)n;
    if (len > sizeof line - 2) {
        len = sizeof line - 2;
    }
    kshim_stop_trap_catch(name, line, len, &bugcheck_arguments);
    line[len++] = '\n';
    /* One write(): concurrent stops of several threads do not interleave within a line. */
    ssize_t ignored = write(STDERR_FILENO, line, len);
    (void)ignored;
    kshim_stack_print(1); /* from the caller of kshim_stop: the offending call */
    abort();
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

VOID KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR BugCheckParameter1, ULONG_PTR BugCheckParameter2,
                  ULONG_PTR BugCheckParameter3, ULONG_PTR BugCheckParameter4)
{
    /* For a stop trap's record (the parameters are pointers a harness may compare). */
    bugcheck_arguments.pending = true;
    bugcheck_arguments.code = BugCheckCode;
    bugcheck_arguments.parameters[0] = BugCheckParameter1;
    bugcheck_arguments.parameters[1] = BugCheckParameter2;
    bugcheck_arguments.parameters[2] = BugCheckParameter3;
    bugcheck_arguments.parameters[3] = BugCheckParameter4;
    kshim_stop("BUGCHECK", "KeBugCheckEx(0x%lx, 0x%llx, 0x%llx, 0x%llx, 0x%llx)",
               (unsigned long)BugCheckCode, (unsigned long long)BugCheckParameter1,
               (unsigned long long)BugCheckParameter2, (unsigned long long)BugCheckParameter3,
               (unsigned long long)BugCheckParameter4);
}

VOID KeBugCheck(ULONG BugCheckCode)
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
