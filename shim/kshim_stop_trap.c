/* SPDX-License-Identifier: MIT */
/*
 * kshim_stop_trap.c - the harness's stop trap (kshim.h): catches the next stop of one
 * simulated thread instead of aborting, records it and puts the thread back at baseline.
 */
#include "kshim_internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- stop trap ---------------------------------------------------------------------------- */

/* The armed trap, or NULL. Written by its owner thread (arm, disarm, catch), read by every
   stopping or printing thread: atomic accesses. A trap's record is written only by its
   owner thread. */
static kshim_stop_trap_t *armed_trap;

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
    /* Filled before it is published: a stop on another thread only ever sees a complete trap.
       Cleared field by field: the text buffers only need their first byte (a harness arms a
       trap per operation; clearing 4 KiB each time was 2% of fuzz_nmr_contract). */
    kshim_stop_record_t *record = &trap->record;
    record->name[0] = '\0';
    record->line[0] = '\0';
    record->bugcheck = false;
    record->bugcheck_code = 0;
    for (size_t i = 0; i < RTL_NUMBER_OF(record->bugcheck_parameters); i++) {
        record->bugcheck_parameters[i] = 0; /* stores, not an __asan_memset call */
    }
    record->printed[0] = '\0';
    record->printed_length = 0;
    record->printed_truncated = false;
    record->irql_at_stop = PASSIVE_LEVEL;
    record->locks_forgotten = 0;
    record->critical_regions_forgotten = 0;
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
    /* Unchecked: text is print_message's own formatting buffer (just written), and the bytes
       written are the armed trap's record, bounded by its sizeof above. The record is the
       harness's (kshim_stop_trap_arm), but armed_trap_of_current_thread and the reads of
       printed_length above are checked loads of it, so a trap whose memory is gone is
       reported before this copy. */
    kshim_unchecked_memcpy(record->printed + record->printed_length, text, length);
    record->printed_length += length;
    record->printed[record->printed_length] = '\0';
}

/* Catch a stop of the calling thread if its trap is armed: record it, disarm, put the thread
   back at baseline and return the trap to jump to; NULL if the stop is not caught. */
static kshim_stop_trap_t *catch_stop(const char *name, const char *line, size_t length,
                                     const kshim_bugcheck_arguments_t *bugcheck)
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
        return NULL;
    }
    kshim_stop_record_t *record = &trap->record;
    kshim_copy_text(record->name, sizeof record->name, name);
    if (length >= sizeof record->line) {
        length = sizeof record->line - 1;
    }
    /* Unchecked copies: from the stop's own line buffer (kshim_stop's, just formatted, length
       bytes) and the calling thread's own bugcheck arguments, into the armed trap's record,
       bounded by its sizeof. The record is the harness's (kshim_stop_trap_arm); the checked
       write of its name just above reports a trap whose memory is gone first. */
    kshim_unchecked_memcpy(record->line, line, length);
    record->line[length] = '\0';
    record->bugcheck = bugcheck->pending;
    record->bugcheck_code = bugcheck->pending ? bugcheck->code : 0;
    if (bugcheck->pending) {
        kshim_unchecked_memcpy(record->bugcheck_parameters, bugcheck->parameters,
                               sizeof record->bugcheck_parameters);
    }
    record->irql_at_stop = self->irql;
    record->locks_forgotten = self->held_count;
    record->critical_regions_forgotten = self->critical_region_depth;

    /* Baseline: the interrupted code will never release what it held (kshim.h). */
    kshim_set_irql(self, PASSIVE_LEVEL);
    self->held_count = 0;
    self->critical_region_depth = 0;
    trap->owner = NULL;
    __atomic_store_n(&armed_trap, NULL, __ATOMIC_RELEASE);
    kshim_stop_caught();
    return trap;
}

/* Returns only if the stop is not caught. Not instrumented (KSHIM_NO_ASAN): catch_stop does
   the work, and the longjmp interceptor unpoisons the stack the jump leaves. */
KSHIM_NO_ASAN void kshim_stop_trap_catch(const char *name, const char *line, size_t length,
                                         const kshim_bugcheck_arguments_t *bugcheck)
{
    kshim_stop_trap_t *trap = catch_stop(name, line, length, bugcheck);
    if (trap != NULL) {
        longjmp(trap->jump, 1);
    }
}
