/* SPDX-License-Identifier: MIT */
/*
 * kshim_stop.c - contract-violation stops: one line on stderr, then abort().
 * Also the stops raised by WDK-header macros and inline code (ASSERT, list integrity,
 * PAGED_CODE), KeBugCheckEx and DbgBreakPoint, and the harness's stop trap (kshim.h), which
 * catches the next stop of one simulated thread instead of aborting.
 */
#include "kshim_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A stop raised while printing a stop (e.g. from a broken formatter) just aborts. */
static __thread bool stopping;

/* ---- stop trap ---------------------------------------------------------------------------- */

/* The armed trap, or NULL. Written by its owner thread (arm, disarm, catch), read by every
   stopping or printing thread: atomic accesses. A trap's record is written only by its
   owner thread. */
static kshim_stop_trap_t *armed_trap;

/* KeBugCheckEx's arguments on their way into kshim_stop (owner-only: the calling thread). */
static __thread struct {
    bool pending;
    ULONG code;
    ULONG_PTR parameters[4];
} bugcheck_arguments;

static kshim_stop_trap_t *armed_trap_of_current_thread(void)
{
    kshim_stop_trap_t *trap = __atomic_load_n(&armed_trap, __ATOMIC_ACQUIRE);
    if (trap == NULL || trap->owner != kshim_thread_current_raw()) {
        return NULL;
    }
    return trap;
}

static __attribute__((noreturn)) void arm_misuse(const struct _KTHREAD *self,
                                                  const kshim_stop_trap_t *armed,
                                                  const kshim_stop_trap_t *trap)
{
    kshim_stop("STOP_TRAP_MISUSE", "kshim_stop_trap_arm on thread '%s': a trap is already armed%s",
               self->name, armed == trap ? " (this one)" : "");
}

void kshim_stop_trap_arm(kshim_stop_trap_t *trap)
{
    struct _KTHREAD *self = kshim_current_thread();
    kshim_stop_trap_t *armed = __atomic_load_n(&armed_trap, __ATOMIC_ACQUIRE);
    if (armed != NULL) {
        arm_misuse(self, armed, trap); /* the armed trap is left untouched */
    }
    /* Filled before it is published: a stop on another thread only ever sees a complete trap. */
    memset(&trap->record, 0, sizeof trap->record);
    trap->owner = self;
    if (!__atomic_compare_exchange_n(&armed_trap, &armed, trap, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        trap->owner = NULL; /* another thread armed a trap in between */
        arm_misuse(self, armed, trap);
    }
}

void kshim_stop_trap_disarm(kshim_stop_trap_t *trap)
{
    struct _KTHREAD *self = kshim_current_thread();
    kshim_stop_trap_t *armed = __atomic_load_n(&armed_trap, __ATOMIC_ACQUIRE);
    if (armed != trap || trap->owner != self) {
        kshim_stop("STOP_TRAP_MISUSE", "kshim_stop_trap_disarm on thread '%s': %s", self->name,
                   armed != trap ? "this trap is not armed" : "another thread armed it");
    }
    trap->owner = NULL;
    __atomic_store_n(&armed_trap, NULL, __ATOMIC_RELEASE);
}

bool kshim_stop_trap_is_armed(void)
{
    return __atomic_load_n(&armed_trap, __ATOMIC_ACQUIRE) != NULL;
}

void kshim_stop_trap_note_print(const char *text, size_t length)
{
    kshim_stop_trap_t *trap = armed_trap_of_current_thread();
    if (trap == NULL) {
        return;
    }
    kshim_stop_record_t *record = &trap->record;
    size_t room = sizeof record->printed - 1 - record->printed_length;
    if (length > room) {
        record->printed_truncated = true;
        length = room;
    }
    memcpy(record->printed + record->printed_length, text, length);
    record->printed_length += length;
    record->printed[record->printed_length] = '\0';
}

/* Catch a stop of the calling thread if its trap is armed: record it, disarm, put the thread
   back at baseline and longjmp to the harness. Returns only if the stop is not caught. */
static void catch_stop(const char *name, const char *line, size_t length)
{
    struct _KTHREAD *self = kshim_thread_current_raw();
    kshim_stop_trap_t *trap = armed_trap_of_current_thread();
    if (trap == NULL || strcmp(name, "DEADLOCK") == 0) {
        if (kshim_stop_trap_is_armed()) {
            char note[192];
            int n = snprintf(note, sizeof note, "kshim: a stop trap is armed, but %s: not caught\n",
                             trap != NULL ? "the scheduler cannot continue after DEADLOCK"
                                          : "by another thread");
            ssize_t ignored = write(STDERR_FILENO, note, (size_t)n);
            (void)ignored;
        }
        return;
    }
    kshim_stop_record_t *record = &trap->record;
    snprintf(record->name, sizeof record->name, "%s", name);
    if (length >= sizeof record->line) {
        length = sizeof record->line - 1;
    }
    memcpy(record->line, line, length);
    record->line[length] = '\0';
    record->bugcheck = bugcheck_arguments.pending;
    record->bugcheck_code = bugcheck_arguments.code;
    memcpy(record->bugcheck_parameters, bugcheck_arguments.parameters,
           sizeof record->bugcheck_parameters);
    record->irql_at_stop = self->irql;
    record->locks_forgotten = self->held_count;
    record->critical_regions_forgotten = self->critical_region_depth;
    bugcheck_arguments.pending = false;

    /* Baseline: the interrupted code will never release what it held (kshim.h). */
    kshim_set_irql(self, PASSIVE_LEVEL);
    self->held_count = 0;
    self->critical_region_depth = 0;
    trap->owner = NULL;
    __atomic_store_n(&armed_trap, NULL, __ATOMIC_RELEASE);
    stopping = false;
    longjmp(trap->jump, 1);
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
    catch_stop(name, line, len);
    line[len++] = '\n';
    /* One write(): concurrent stops of several threads do not interleave within a line. */
    ssize_t ignored = write(STDERR_FILENO, line, len);
    (void)ignored;
    kshim_stack_print(1); /* from the caller of kshim_stop: the offending call */
    abort();
}

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

void kshim_paged_code_check(const char *function, const char *file, int line)
{
    KIRQL irql = KeGetCurrentIrql();
    if (irql > APC_LEVEL) {
        kshim_stop("IRQL_TOO_HIGH", "PAGED_CODE: %s (%s:%d) runs at IRQL %u (> APC_LEVEL)",
                   function, kshim_site_basename(file), line, (unsigned)irql);
    }
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
