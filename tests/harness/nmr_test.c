/* SPDX-License-Identifier: MIT */
/*
 * nmr_test.c - registry, runner and stop expectations of nmr_test.h.
 * "<program> <test>" runs one test; "<program> --list" lists them; no argument runs all
 * in turn (each in a forked child, so one failure does not hide the next).
 */
#define _GNU_SOURCE
#include "nmr_test.h"

#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TESTS 512
#define MAX_CHILD_OUTPUT (64 * 1024)

static struct {
    const char *name;
    nmr_test_fn *fn;           /* a test of NMR_TEST, or NULL */
    nmr_role_test_fn *role_fn; /* a test of NMR_ROLE_TEST, run for role */
    nmr_test_role_t role;
} tests[MAX_TESTS];
static int test_count;
static int child_stderr_pipe[2];
static char child_output[MAX_CHILD_OUTPUT];

static void add_test(const char *name, nmr_test_fn *fn, nmr_role_test_fn *role_fn,
                     nmr_test_role_t role)
{
    if (test_count == MAX_TESTS) {
        fprintf(stderr, "nmr_test: more than %d tests in one program\n", MAX_TESTS);
        abort();
    }
    tests[test_count].name = name;
    tests[test_count].fn = fn;
    tests[test_count].role_fn = role_fn;
    tests[test_count].role = role;
    test_count++;
}

void nmr_test_register(const char *name, nmr_test_fn *fn)
{
    add_test(name, fn, NULL, NMR_TEST_CLIENT);
}

/* The pattern with ROLE and PEER replaced by the role's and the other role's names; the
   same replacement as nmrkit_add_test_program's (cmake/NmrkitTesting.cmake). */
static const char *role_test_name(const char *pattern, nmr_test_role_t role)
{
    static const char *const names[] = {"client", "provider"};
    size_t size = strlen(pattern) * 2 + 1;
    char *name = malloc(size), *out = name;
    if (name == NULL) {
        abort();
    }
    for (const char *in = pattern; *in;) {
        if (strncmp(in, "ROLE", 4) == 0 || strncmp(in, "PEER", 4) == 0) {
            out = stpcpy(out, names[(in[0] == 'P') != (role == NMR_TEST_PROVIDER)]);
            in += 4;
        } else {
            *out++ = *in++;
        }
    }
    *out = '\0';
    return name;
}

void nmr_test_register_roles(const char *name_pattern, nmr_role_test_fn *fn)
{
    add_test(role_test_name(name_pattern, NMR_TEST_CLIENT), NULL, fn, NMR_TEST_CLIENT);
    add_test(role_test_name(name_pattern, NMR_TEST_PROVIDER), NULL, fn, NMR_TEST_PROVIDER);
}

void nmr_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    exit(1);
}

void nmr_test_skip(const char *why)
{
    fprintf(stderr, "skipped: %s\n", why);
    fflush(stderr);
    exit(NMR_TEST_SKIPPED);
}

pid_t nmr_test_fork_for_stop(void)
{
    fflush(stdout);
    fflush(stderr);
    if (pipe(child_stderr_pipe) != 0) {
        perror("pipe");
        exit(1);
    }
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        exit(1);
    }
    if (child == 0) {
        close(child_stderr_pipe[0]);
        dup2(child_stderr_pipe[1], STDERR_FILENO);
        close(child_stderr_pipe[1]);
        /* The child is expected to abort: no core files for expected stops. */
        signal(SIGABRT, SIG_DFL);
        /* Nobody reads the stack of an expected stop: skip symbolizing it (a test of the
           stack itself unsets this). */
        setenv("KSHIM_STACK", "raw", 1);
    } else {
        close(child_stderr_pipe[1]);
    }
    return child;
}

void nmr_test_child_returned(void)
{
    fprintf(stderr, "nmr_test: the statements returned without a stop\n");
    fflush(stderr);
    _exit(0);
}

static void read_child_output(void)
{
    size_t used = 0;
    for (;;) {
        ssize_t n = read(child_stderr_pipe[0], child_output + used, sizeof child_output - 1 - used);
        if (n <= 0) {
            break;
        }
        used += (size_t)n;
        if (used == sizeof child_output - 1) {
            char discard[4096];
            while (read(child_stderr_pipe[0], discard, sizeof discard) > 0) {
            }
            break;
        }
    }
    child_output[used] = '\0';
    close(child_stderr_pipe[0]);
}

static bool output_has_line_starting_with(const char *prefix)
{
    size_t len = strlen(prefix);
    for (const char *line = child_output; *line;) {
        if (strncmp(line, prefix, len) == 0) {
            return true;
        }
        const char *next = strchr(line, '\n');
        if (!next) {
            break;
        }
        line = next + 1;
    }
    return false;
}

void nmr_test_wait_for_stop(pid_t child, const char *expected_line_prefix, const char *file,
                            int line)
{
    int status = 0;
    read_child_output();
    if (waitpid(child, &status, 0) != child) {
        perror("waitpid");
        exit(1);
    }
    bool aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
    bool printed = output_has_line_starting_with(expected_line_prefix);
    if (!aborted || !printed) {
        fprintf(stderr, "----- child stderr -----\n%s------------------------\n", child_output);
        nmr_test_fail(file, line, "expected a stop starting with \"%s\"; child %s, line %s",
                      expected_line_prefix,
                      aborted ? "aborted" : WIFSIGNALED(status) ? "died by another signal"
                                                                 : "exited",
                      printed ? "printed" : "missing");
    }
}

const char *nmr_test_last_child_output(void)
{
    return child_output;
}

static int run_one(int index)
{
    if (tests[index].fn != NULL) {
        tests[index].fn();
    } else {
        tests[index].role_fn(tests[index].role);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (int i = 0; i < test_count; i++) {
            printf("%s\n", tests[i].name);
        }
        return 0;
    }
    if (argc == 2) {
        for (int i = 0; i < test_count; i++) {
            if (strcmp(tests[i].name, argv[1]) == 0) {
                return run_one(i);
            }
        }
        fprintf(stderr, "%s: no test named '%s' (--list lists them)\n", argv[0], argv[1]);
        return 2;
    }
    if (argc > 2) {
        fprintf(stderr, "usage: %s [--list | <test>]\n", argv[0]);
        return 2;
    }
    int failed = 0;
    for (int i = 0; i < test_count; i++) {
        fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            _exit(run_one(i));
        }
        int status = 0;
        waitpid(child, &status, 0);
        bool skipped = WIFEXITED(status) && WEXITSTATUS(status) == NMR_TEST_SKIPPED;
        bool ok = skipped || (WIFEXITED(status) && WEXITSTATUS(status) == 0);
        printf("%s %s\n", skipped ? "skip" : ok ? "ok  " : "FAIL", tests[i].name);
        failed += !ok;
    }
    printf("%d passed, %d failed\n", test_count - failed, failed);
    return failed ? 1 : 0;
}
