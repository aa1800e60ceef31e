/* SPDX-License-Identifier: MIT */
/*
 * fuzz_replay_main.c - the standalone engine of every nmrkit fuzz target.
 *
 * Linked (instead of libFuzzer) with a target's sources into <target>_replay, a plain
 * program that gcc or clang builds without any fuzzing runtime. It is how every
 * committed input becomes a regression test (ctest fuzz.replay.<target>) and how a
 * crashing input is examined. It is not a fuzzer: it generates nothing.
 *
 *     <target>_replay [-runs=N] [-print] PATH...
 *
 * Each PATH is a file or a directory (every regular file in it, in name order; not
 * recursive). Each input is run N times (default 4) through LLVMFuzzerTestOneInput; the
 * trace hash (fuzz_input.h) of every run must equal the first run's, otherwise the input
 * is reported as nondeterministic. One line per input:
 *     <path>: <size> bytes, <events> events, trace <hash> x<N>: ok
 * -print (also --timeline) prints the decoded timeline of the first run of every input.
 * Options in libFuzzer's "-name=value" form that this program does not know are ignored
 * with a note, so libFuzzer command lines can be reused. Exit status: 0 when every input
 * replayed deterministically; 1 on an unreadable path, an empty directory, no input, or a
 * nondeterministic input; a crash or oracle failure in the target aborts as usual.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

#define DEFAULT_RUNS 4

static struct {
    unsigned runs;
    bool print;
    unsigned inputs;
    unsigned failures;
} replay = {DEFAULT_RUNS, false, 0, 0};

static void usage(const char *program)
{
    fprintf(stderr,
            "usage: %s [-runs=N] [-print|--timeline] PATH...\n"
            "  Replays each file (directories: every regular file in them) N times\n"
            "  (default %d) and checks that the trace hash is the same in every run.\n"
            "  -print, --timeline  print the decoded timeline of the first run\n",
            program, DEFAULT_RUNS);
}

/* Reads a whole file; NULL (with errno) on failure. *size receives its length. */
static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    size_t used = 0, cap = 0;
    if (!f) {
        return NULL;
    }
    for (;;) {
        if (used == cap) {
            size_t new_cap = cap ? cap * 2 : 4096;
            uint8_t *grown = realloc(data, new_cap);
            if (!grown) {
                free(data);
                fclose(f);
                errno = ENOMEM;
                return NULL;
            }
            data = grown;
            cap = new_cap;
        }
        size_t n = fread(data + used, 1, cap - used, f);
        used += n;
        if (n == 0) {
            break;
        }
    }
    if (ferror(f)) {
        int saved = errno ? errno : EIO;
        free(data);
        fclose(f);
        errno = saved;
        return NULL;
    }
    fclose(f);
    *size = used;
    return data;
}

static void replay_file(const char *path)
{
    size_t size = 0;
    uint8_t *data = read_file(path, &size);
    uint64_t first_hash = 0;
    unsigned long first_events = 0;
    bool ok = true;

    if (!data) {
        fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
        replay.failures++;
        return;
    }
    replay.inputs++;
    for (unsigned run = 0; run < replay.runs; run++) {
        /* The copy is exactly `size` bytes, so ASan sees reads past the input. */
        uint8_t *copy = malloc(size ? size : 1);
        if (!copy) {
            fprintf(stderr, "%s: out of memory\n", path);
            exit(1);
        }
        memcpy(copy, data, size);
        if (run == 0 && replay.print) {
            printf("=== %s (%zu bytes)\n", path, size);
            fflush(stdout);
            fuzz_trace_set_output(stdout);
        }
        fuzz_trace_reset();
        LLVMFuzzerTestOneInput(copy, size);
        fuzz_trace_set_output(NULL);
        fflush(stdout);
        free(copy);
        uint64_t hash = fuzz_trace_hash();
        unsigned long events = fuzz_trace_event_count();
        if (run == 0) {
            first_hash = hash;
            first_events = events;
        } else if (hash != first_hash || events != first_events) {
            fprintf(stderr,
                    "%s: NONDETERMINISTIC: run 1 trace %016" PRIx64 " (%lu events), run %u trace "
                    "%016" PRIx64 " (%lu events)\n",
                    path, first_hash, first_events, run + 1, hash, events);
            ok = false;
            break;
        }
    }
    free(data);
    if (ok) {
        printf("%s: %zu bytes, %lu events, trace %016" PRIx64 " x%u: ok\n", path, size,
               first_events, first_hash, replay.runs);
    } else {
        replay.failures++;
    }
    fflush(stdout);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_directory(const char *dir_path)
{
    DIR *dir = opendir(dir_path);
    char **names = NULL;
    size_t count = 0, cap = 0;
    unsigned replayed = 0;
    struct dirent *entry;

    if (!dir) {
        fprintf(stderr, "%s: cannot open directory: %s\n", dir_path, strerror(errno));
        replay.failures++;
        return;
    }
    while ((entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) {
            continue;
        }
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown) {
                fprintf(stderr, "%s: out of memory\n", dir_path);
                exit(1);
            }
            names = grown;
        }
        names[count] = strdup(entry->d_name);
        if (!names[count]) {
            fprintf(stderr, "%s: out of memory\n", dir_path);
            exit(1);
        }
        count++;
    }
    closedir(dir);
    if (count > 1) {
        qsort(names, count, sizeof *names, compare_names);
    }
    for (size_t i = 0; i < count; i++) {
        char *path = NULL;
        struct stat st;
        if (asprintf(&path, "%s/%s", dir_path, names[i]) < 0) {
            fprintf(stderr, "%s: out of memory\n", dir_path);
            exit(1);
        }
        if (stat(path, &st) != 0) {
            fprintf(stderr, "%s: cannot stat: %s\n", path, strerror(errno));
            replay.failures++;
        } else if (S_ISREG(st.st_mode)) {
            replay_file(path);
            replayed++;
        } else {
            fprintf(stderr, "%s: skipped (not a regular file)\n", path);
        }
        free(path);
        free(names[i]);
    }
    free(names);
    if (replayed == 0) {
        fprintf(stderr, "%s: no input files in directory\n", dir_path);
        replay.failures++;
    }
}

static void replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: cannot access: %s\n", path, strerror(errno));
        replay.failures++;
    } else if (S_ISDIR(st.st_mode)) {
        replay_directory(path);
    } else {
        replay_file(path);
    }
}

static bool is_option(const char *arg)
{
    return arg[0] == '-' && arg[1] != '\0';
}

/* Applies arg if it is an option; paths are left alone. */
static void parse_option(const char *program, const char *arg)
{
    if (!is_option(arg)) {
        return;
    }
    if (strncmp(arg, "-runs=", 6) == 0 || strncmp(arg, "--runs=", 7) == 0) {
        const char *value = strchr(arg, '=') + 1;
        char *end = NULL;
        unsigned long runs = strtoul(value, &end, 10);
        if (*value == '\0' || *end != '\0' || runs < 1 || runs > 1000000) {
            fprintf(stderr, "%s: bad run count in '%s' (want 1..1000000)\n", program, arg);
            exit(2);
        }
        replay.runs = (unsigned)runs;
    } else if (strcmp(arg, "-print") == 0 || strcmp(arg, "--print") == 0 ||
               strcmp(arg, "--timeline") == 0 || strcmp(arg, "-timeline") == 0) {
        replay.print = true;
    } else if (strcmp(arg, "-help") == 0 || strcmp(arg, "--help") == 0 ||
               strcmp(arg, "-h") == 0) {
        usage(program);
        exit(0);
    } else if (arg[1] != '-' && strchr(arg, '=') != NULL) {
        fprintf(stderr, "%s: ignoring libFuzzer option '%s'\n", program, arg);
    } else {
        fprintf(stderr, "%s: unknown option '%s'\n", program, arg);
        usage(program);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    const char *program = argc > 0 ? argv[0] : "replay";
    unsigned paths = 0;

    if (LLVMFuzzerInitialize) {
        LLVMFuzzerInitialize(&argc, &argv);
    }
    /* Options first (wherever they stand), then the paths in command-line order. */
    int first_after_dashes = argc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            first_after_dashes = i + 1;
            break;
        }
        parse_option(program, argv[i]);
    }
    for (int i = 1; i < argc; i++) {
        if (i < first_after_dashes && (strcmp(argv[i], "--") == 0 || is_option(argv[i]))) {
            continue;
        }
        replay_path(argv[i]);
        paths++;
    }
    if (paths == 0) {
        usage(program);
        return 2;
    }
    printf("%s: %u input%s replayed x%u, %u failure%s\n", program, replay.inputs,
           replay.inputs == 1 ? "" : "s", replay.runs, replay.failures,
           replay.failures == 1 ? "" : "s");
    return replay.failures ? 1 : 0;
}
