/* SPDX-License-Identifier: MIT */
/*
 * nmr_test.h - the minimal test framework of nmrkit's tests.
 *
 * A test program holds many tests; each is declared with NMR_TEST(name) and is run alone,
 * in its own process, by "<program> <name>" (ctest runs one entry per test: the CMake
 * function nmrkit_add_test_program reads the NMR_TEST lines of the sources). A failed
 * CHECK prints file:line and the expression and exits with status 1.
 *
 * Expecting a stop: EXPECT_STOP("*** NMR VERIFIER STOP D5:", statements...) runs the
 * statements in a forked child and passes only if the child aborts (SIGABRT) after
 * printing a line on stderr that begins with the given text.
 */
#pragma once

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

typedef void nmr_test_fn(void);

void nmr_test_register(const char *name, nmr_test_fn *fn);

#define NMR_TEST(name)                                                                     \
    static void test_##name(void);                                                         \
    __attribute__((constructor)) static void register_test_##name(void)                   \
    {                                                                                      \
        nmr_test_register(#name, test_##name);                                             \
    }                                                                                      \
    static void test_##name(void)

/*
 * One test written once for both roles: NMR_ROLE_TEST(register_ROLE_without_PEER) is the two
 * tests register_client_without_provider (role NMR_TEST_CLIENT) and
 * register_provider_without_client (role NMR_TEST_PROVIDER), each its own ctest. In the
 * name, ROLE stands for the role under test and PEER for the other one.
 */
typedef enum nmr_test_role {
    NMR_TEST_CLIENT,
    NMR_TEST_PROVIDER,
} nmr_test_role_t;

typedef void nmr_role_test_fn(nmr_test_role_t role);

void nmr_test_register_roles(const char *name_pattern, nmr_role_test_fn *fn);

#define NMR_ROLE_TEST(name_pattern)                                                        \
    static void test_##name_pattern(nmr_test_role_t role);                                 \
    __attribute__((constructor)) static void register_test_##name_pattern(void)           \
    {                                                                                      \
        nmr_test_register_roles(#name_pattern, test_##name_pattern);                       \
    }                                                                                      \
    static void test_##name_pattern(nmr_test_role_t role)

__attribute__((noreturn)) void nmr_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The test does not apply to this build (e.g. it needs AddressSanitizer): prints why and
   exits with NMR_TEST_SKIPPED, which ctest reports as "Skipped", never as passed. */
#define NMR_TEST_SKIPPED 77
__attribute__((noreturn)) void nmr_test_skip(const char *why);

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            nmr_test_fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond);                  \
        }                                                                                  \
    } while (0)

#define CHECK_EQ(a, b)                                                                     \
    do {                                                                                   \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                    \
        if (check_a_ != check_b_) {                                                        \
            nmr_test_fail(__FILE__, __LINE__, "CHECK_EQ(%s, %s) failed: %lld != %lld", #a, #b, \
                          check_a_, check_b_);                                             \
        }                                                                                  \
    } while (0)

/* NTSTATUS values printed in hex. */
#define CHECK_STATUS(actual, expected)                                                     \
    do {                                                                                   \
        long check_s_ = (long)(actual), check_e_ = (long)(expected);                       \
        if (check_s_ != check_e_) {                                                        \
            nmr_test_fail(__FILE__, __LINE__, "%s returned 0x%08lx, expected %s (0x%08lx)", \
                          #actual, (unsigned long)(uint32_t)check_s_, #expected,           \
                          (unsigned long)(uint32_t)check_e_);                              \
        }                                                                                  \
    } while (0)

/* Fork; in the child, stderr goes to a pipe the parent reads. Returns 0 in the child. */
pid_t nmr_test_fork_for_stop(void);
/* Child side: the statements returned without a stop. */
__attribute__((noreturn)) void nmr_test_child_returned(void);
/* Parent side: require SIGABRT and a stderr line starting with expected_line_prefix. */
void nmr_test_wait_for_stop(pid_t child, const char *expected_line_prefix, const char *file,
                            int line);
/* The captured stderr of the last child, for extra checks (e.g. the handle is named). */
const char *nmr_test_last_child_output(void);

#define EXPECT_STOP(expected_line_prefix, ...)                                             \
    do {                                                                                   \
        pid_t expect_stop_child_ = nmr_test_fork_for_stop();                               \
        if (expect_stop_child_ == 0) {                                                     \
            __VA_ARGS__;                                                                   \
            nmr_test_child_returned();                                                     \
        }                                                                                  \
        nmr_test_wait_for_stop(expect_stop_child_, (expected_line_prefix), __FILE__, __LINE__); \
    } while (0)
