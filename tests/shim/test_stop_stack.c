/* SPDX-License-Identifier: MIT */
/*
 * test_stop_stack.c - every stop prints a symbolized stack of the offending call: through
 * the sanitizer runtime in sanitizer builds, through backtrace() and llvm-symbolizer (when
 * on PATH) otherwise; and with KSHIM_STACK=raw (which EXPECT_STOP children get), addresses
 * only.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kshim/kshim.h>
#include <ntddk.h>

#include "nmr_test.h"

/* Named frames the stack must show (noinline: each keeps its own frame). */
__attribute__((noinline)) static void offending_driver_routine(void)
{
    KeBugCheckEx(0x4E4D5200, 1, 2, 3, 4);
}

__attribute__((noinline)) static void driver_entry_calls_offender(void)
{
    offending_driver_routine();
    __asm__ volatile(""); /* not a tail call */
}

__attribute__((noinline)) static void contract_violation_in_driver(void)
{
    KSPIN_LOCK lock;
    KIRQL irql;
    KeInitializeSpinLock(&lock);
    KeAcquireSpinLock(&lock, &irql);
    KeAcquireSpinLock(&lock, &irql);
}

static bool symbolizer_on_path(void)
{
    const char *path = getenv("PATH");
    char candidate[4096];
    for (const char *dir = path; dir != NULL && *dir != '\0';) {
        size_t len = strcspn(dir, ":");
        snprintf(candidate, sizeof candidate, "%.*s/llvm-symbolizer", (int)len, dir);
        if (access(candidate, X_OK) == 0) {
            return true;
        }
        dir += len + (dir[len] == ':');
    }
    return false;
}

/* The stack follows the stop line and names fn (when it can be symbolized) as frame text. */
static void expect_stack_naming(const char *fn)
{
    const char *output = nmr_test_last_child_output();
    const char *stop = strstr(output, "*** KSHIM STOP ");
    CHECK(stop != NULL);
    CHECK(strstr(stop, "\n    #0 ") != NULL);
    CHECK(strstr(stop, "\n    #1 ") != NULL);
    if (symbolizer_on_path()) {
        if (strstr(stop, fn) == NULL || strstr(stop, "test_stop_stack.c:") == NULL) {
            fprintf(stderr, "no frame of %s (test_stop_stack.c) in:\n%s", fn, output);
            CHECK(false);
        }
    }
}

NMR_TEST(bugcheck_prints_a_symbolized_stack_of_the_offending_call)
{
    EXPECT_STOP("*** KSHIM STOP BUGCHECK: KeBugCheckEx(0x4e4d5200", unsetenv("KSHIM_STACK"), driver_entry_calls_offender());
    expect_stack_naming("offending_driver_routine");
    expect_stack_naming("driver_entry_calls_offender");
}

NMR_TEST(contract_stop_prints_a_symbolized_stack_of_the_offending_call)
{
    EXPECT_STOP("*** KSHIM STOP SPIN_LOCK_DOUBLE_ACQUIRE:", unsetenv("KSHIM_STACK"), contract_violation_in_driver());
    expect_stack_naming("contract_violation_in_driver");
}

NMR_TEST(raw_stack_mode_prints_frames_without_symbolizing)
{
    EXPECT_STOP("*** KSHIM STOP BUGCHECK:", driver_entry_calls_offender()); /* KSHIM_STACK=raw */
    const char *stop = strstr(nmr_test_last_child_output(), "*** KSHIM STOP ");
    CHECK(strstr(stop, "\n    #0 ") != NULL);
    CHECK(strstr(stop, "test_stop_stack.c:") == NULL); /* no file:line without a symbolizer */
}

static kshim_stop_trap_t trap;

NMR_TEST(stop_caught_by_a_trap_prints_nothing)
{
    EXPECT_STOP("*** KSHIM STOP CAPTURED:", {
        if (setjmp(trap.jump) == 0) {
            kshim_stop_trap_arm(&trap);
            driver_entry_calls_offender();
        }
        kshim_stop("CAPTURED", "after the trap");
    });
    const char *output = nmr_test_last_child_output();
    CHECK(strstr(output, "BUGCHECK") == NULL);
    CHECK(strstr(output, "offending_driver_routine") == NULL);
}
