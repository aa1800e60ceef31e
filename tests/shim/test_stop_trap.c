/* SPDX-License-Identifier: MIT */
/*
 * test_stop_trap.c - the harness's stop trap (kshim_stop_trap_arm) and the debug-print sink:
 * a stop of the arming thread is caught with its name, line, bug check arguments and printed
 * output, the thread is back at baseline, and every stop the trap must not catch still aborts
 * the process as before (checked in a forked child with EXPECT_STOP).
 */
#include <setjmp.h>
#include <string.h>

#include <kshim/kshim.h>
#include <ntddk.h>

#include "nmr_test.h"

static kshim_stop_trap_t trap;

static bool contains(const char *text, const char *needle)
{
    return strstr(text, needle) != NULL;
}

NMR_TEST(stop_trap_catches_a_stop_of_the_arming_thread_and_records_its_line)
{
    volatile int reached_after_stop = 0;
    if (setjmp(trap.jump) == 0) {
        kshim_stop_trap_arm(&trap);
        CHECK(kshim_stop_trap_is_armed());
        kshim_stop("SOMETHING_WRONG", "detail %d", 42);
        reached_after_stop = 1;
    }
    CHECK_EQ(reached_after_stop, 0);
    CHECK(!kshim_stop_trap_is_armed());
    CHECK(strcmp(trap.record.name, "SOMETHING_WRONG") == 0);
    CHECK(strcmp(trap.record.line, "*** KSHIM STOP SOMETHING_WRONG: detail 42") == 0);
    CHECK(!trap.record.bugcheck);
    CHECK_EQ(trap.record.bugcheck_code, 0);
    CHECK_EQ(trap.record.printed_length, 0);
}

NMR_TEST(stop_trap_records_bug_check_code_parameters_and_what_the_thread_printed)
{
    static const char rule[] = "A1";
    if (setjmp(trap.jump) == 0) {
        kshim_stop_trap_arm(&trap);
        DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_ERROR_LEVEL, "*** VERIFIER STOP %s: one\n", rule);
        DbgPrint("second line %lu\n", (ULONG)7);
        KeBugCheckEx(NMR_INVALID_STATE, (ULONG_PTR)rule, 0x1111, 0x2222, 3);
    }
    CHECK(strcmp(trap.record.name, "BUGCHECK") == 0);
    CHECK(trap.record.bugcheck);
    CHECK_EQ(trap.record.bugcheck_code, NMR_INVALID_STATE);
    CHECK(trap.record.bugcheck_parameters[0] == (ULONG_PTR)rule);
    CHECK_EQ(trap.record.bugcheck_parameters[1], 0x1111);
    CHECK_EQ(trap.record.bugcheck_parameters[2], 0x2222);
    CHECK_EQ(trap.record.bugcheck_parameters[3], 3);
    CHECK(contains(trap.record.line, "*** KSHIM STOP BUGCHECK: KeBugCheckEx(0x125, "));
    CHECK(strcmp(trap.record.printed, "*** VERIFIER STOP A1: one\nsecond line 7\n") == 0);
    CHECK_EQ(trap.record.printed_length, strlen(trap.record.printed));
    CHECK(!trap.record.printed_truncated);
}

NMR_TEST(stop_trap_records_only_output_printed_since_arming)
{
    DbgPrint("before arming\n");
    if (setjmp(trap.jump) == 0) {
        kshim_stop_trap_arm(&trap);
        DbgPrint("after arming\n");
        KeBugCheck(0x1);
    }
    CHECK(strcmp(trap.record.printed, "after arming\n") == 0);
    CHECK(trap.record.bugcheck);
    CHECK_EQ(trap.record.bugcheck_parameters[0], 0);
}

NMR_TEST(stop_trap_keeps_the_first_output_when_more_is_printed_than_fits)
{
    char chunk[301];
    memset(chunk, 'x', sizeof chunk - 1);
    chunk[sizeof chunk - 1] = '\0';
    if (setjmp(trap.jump) == 0) {
        kshim_stop_trap_arm(&trap);
        DbgPrint("first\n");
        for (int i = 0; i < 10; i++) {
            DbgPrint("%s\n", chunk);
        }
        KeBugCheck(0x2);
    }
    CHECK(trap.record.printed_truncated);
    CHECK_EQ(trap.record.printed_length, KSHIM_STOP_TEXT_CHARS - 1);
    CHECK(strncmp(trap.record.printed, "first\nxxx", 9) == 0);
}

NMR_TEST(stop_trap_puts_the_thread_back_at_passive_level_without_locks_or_regions)
{
    static KSPIN_LOCK spin;
    static EX_PUSH_LOCK push;
    KeInitializeSpinLock(&spin);
    ExInitializePushLock(&push);
    if (setjmp(trap.jump) == 0) {
        kshim_stop_trap_arm(&trap);
        KIRQL old;
        KeEnterCriticalRegion();
        ExAcquirePushLockExclusive(&push);
        KeAcquireSpinLock(&spin, &old);
        (void)old;
        ASSERT(1 + 1 == 3);
    }
    CHECK(strcmp(trap.record.name, "ASSERTION_FAILED") == 0);
    CHECK_EQ(trap.record.irql_at_stop, DISPATCH_LEVEL);
    CHECK_EQ(trap.record.locks_forgotten, 2);
    CHECK_EQ(trap.record.critical_regions_forgotten, 1);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(!KeAreApcsDisabled());
    kshim_audit((size_t)-1); /* IRQL, held locks, critical regions: baseline */

    /* The lock objects are as the stop left them; re-initialised, they work again. */
    CHECK(!KeTestSpinLock(&spin));
    KeInitializeSpinLock(&spin);
    ExInitializePushLock(&push);
    KIRQL old;
    KeAcquireSpinLock(&spin, &old);
    KeReleaseSpinLock(&spin, old);
    KeEnterCriticalRegion();
    ExAcquirePushLockShared(&push);
    ExReleasePushLockShared(&push);
    KeLeaveCriticalRegion();
    kshim_audit((size_t)-1);
}

NMR_TEST(stop_trap_catches_one_stop_per_arming_and_can_be_armed_again)
{
    volatile int caught = 0;
    for (int round = 0; round < 3; round++) {
        if (setjmp(trap.jump) == 0) {
            kshim_stop_trap_arm(&trap);
            KIRQL old;
            KeRaiseIrql(round == 2 ? HIGH_LEVEL : DISPATCH_LEVEL, &old);
            (void)old;
            KeBugCheckEx(0x100u + (ULONG)round, (ULONG_PTR)round, 0, 0, 0);
        }
        caught++;
        CHECK_EQ(trap.record.bugcheck_code, 0x100u + (ULONG)round);
        CHECK_EQ(trap.record.irql_at_stop, round == 2 ? HIGH_LEVEL : DISPATCH_LEVEL);
        CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    }
    CHECK_EQ(caught, 3);
}

NMR_TEST(stop_trap_disarmed_without_a_stop_leaves_the_code_running_normally)
{
    volatile int stops = 0;
    if (setjmp(trap.jump) == 0) {
        kshim_stop_trap_arm(&trap);
        DbgPrint("harmless\n");
        kshim_stop_trap_disarm(&trap);
    } else {
        stops++;
    }
    CHECK_EQ(stops, 0);
    CHECK(!kshim_stop_trap_is_armed());
}

/* ---- stops the trap does not catch: the process aborts as before ------------------------- */

NMR_TEST(stop_with_nothing_armed_aborts_as_before)
{
    EXPECT_STOP("*** KSHIM STOP BUGCHECK: KeBugCheckEx(0x125, 0x1, 0x2, 0x3, 0x4)",
                KeBugCheckEx(NMR_INVALID_STATE, 1, 2, 3, 4));
}

static void arm_disarm_then_stop(void)
{
    if (setjmp(trap.jump) == 0) {
        kshim_stop_trap_arm(&trap);
        kshim_stop_trap_disarm(&trap);
        kshim_stop("AFTER_DISARM", "not caught");
    }
    fprintf(stderr, "caught after disarm\n");
}

NMR_TEST(stop_after_disarm_aborts_as_before)
{
    EXPECT_STOP("*** KSHIM STOP AFTER_DISARM: not caught", arm_disarm_then_stop());
}

static void stop_in_thread(void *arg)
{
    (void)arg;
    KeBugCheckEx(0x77, 0, 0, 0, 0);
}

static void arm_then_stop_on_another_thread(void)
{
    if (setjmp(trap.jump) == 0) {
        kshim_stop_trap_arm(&trap);
        kshim_thread_join(kshim_thread_start("stopper", stop_in_thread, NULL));
        kshim_stop_trap_disarm(&trap);
        return;
    }
    fprintf(stderr, "caught a stop of another thread\n");
}

NMR_TEST(stop_on_another_thread_than_the_arming_one_aborts_as_before)
{
    EXPECT_STOP("*** KSHIM STOP BUGCHECK: KeBugCheckEx(0x77,", arm_then_stop_on_another_thread());
    CHECK(contains(nmr_test_last_child_output(), "a stop trap is armed, but by another thread"));
    CHECK(!contains(nmr_test_last_child_output(), "caught a stop of another thread"));
}

static void arm_twice(void)
{
    static kshim_stop_trap_t second;
    if (setjmp(trap.jump) == 0) {
        kshim_stop_trap_arm(&trap);
        kshim_stop_trap_arm(&second);
    }
    /* The misuse stop was caught by the first trap: report it as the stop it is. */
    kshim_stop("CAUGHT", "%s", trap.record.line);
}

NMR_TEST(arming_while_a_trap_is_armed_is_a_misuse_stop)
{
    EXPECT_STOP("*** KSHIM STOP CAUGHT: *** KSHIM STOP STOP_TRAP_MISUSE: kshim_stop_trap_arm on "
                "thread 'main': a trap is already armed",
                arm_twice());
}

NMR_TEST(disarming_a_trap_that_is_not_armed_is_a_misuse_stop)
{
    EXPECT_STOP("*** KSHIM STOP STOP_TRAP_MISUSE: kshim_stop_trap_disarm on thread 'main': this "
                "trap is not armed",
                kshim_stop_trap_disarm(&trap));
}

static void disarm_in_thread(void *arg)
{
    kshim_stop_trap_disarm(arg);
}

static void arm_then_disarm_on_another_thread(void)
{
    if (setjmp(trap.jump) == 0) {
        kshim_stop_trap_arm(&trap);
        kshim_thread_join(kshim_thread_start("disarmer", disarm_in_thread, &trap));
    }
}

NMR_TEST(disarming_a_trap_armed_by_another_thread_is_a_misuse_stop)
{
    EXPECT_STOP("*** KSHIM STOP STOP_TRAP_MISUSE: kshim_stop_trap_disarm on thread 'disarmer': "
                "another thread armed it",
                arm_then_disarm_on_another_thread());
}

/* ---- debug-print sink ------------------------------------------------------------------- */

static char sunk[256];
static size_t sunk_length;
static int sink_calls;

static void collect(const char *text, size_t length, void *context)
{
    CHECK(context == &sink_calls);
    sink_calls++;
    if (sunk_length + length < sizeof sunk) {
        memcpy(sunk + sunk_length, text, length);
        sunk_length += length;
        sunk[sunk_length] = '\0';
    }
}

static void print_with_and_without_sink(void)
{
    kshim_dbg_print_set_sink(collect, &sink_calls);
    DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_ERROR_LEVEL, "to the sink %lx\n", (ULONG)0xab);
    KdPrint(("also to the sink\n"));
    kshim_dbg_print_set_sink(NULL, NULL);
    DbgPrint("to stderr\n");
    for (char *c = sunk; *c; c++) {
        *c = *c == '\n' ? '|' : *c; /* one stop line */
    }
    kshim_stop("PRINTED", "sink got %d message(s): [%s]", sink_calls, sunk);
}

NMR_TEST(dbg_print_sink_receives_each_message_instead_of_stderr)
{
    EXPECT_STOP("*** KSHIM STOP PRINTED: sink got 2 message(s): [to the sink ab|also to the sink|]",
                print_with_and_without_sink());
    /* Only the message printed without the sink reached stderr, before the stop line. */
    CHECK(strncmp(nmr_test_last_child_output(), "to stderr\n*** KSHIM STOP PRINTED:", 33) == 0);
}

NMR_TEST(stop_trap_records_output_that_goes_to_the_sink)
{
    kshim_dbg_print_set_sink(collect, &sink_calls);
    if (setjmp(trap.jump) == 0) {
        kshim_stop_trap_arm(&trap);
        DbgPrint("both %d\n", 1);
        KeBugCheck(0x3);
    }
    kshim_dbg_print_set_sink(NULL, NULL);
    CHECK(strcmp(trap.record.printed, "both 1\n") == 0);
    CHECK(strcmp(sunk, "both 1\n") == 0);
    CHECK_EQ(sink_calls, 1);
}
