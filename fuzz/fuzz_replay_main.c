/* SPDX-License-Identifier: MIT */
/*
 * fuzz_replay_main.c - the standalone engine of every nmrkit fuzz target.
 *
 * Linked (instead of libFuzzer) with a target's sources into <target>_replay, a plain
 * program that gcc or clang builds without any fuzzing runtime. It is how every
 * committed input becomes a regression test (ctest fuzz.replay.<target>) and how a
 * crashing input is examined. It is not a fuzzer: it generates nothing but the fixed
 * pseudo-random inputs of -random.
 *
 *     <target>_replay [-runs=N] [-print] [-roundtrip] [-text] [-random=N] PATH...
 *     <target>_replay -encode=OUT TEXTFILE
 *
 * Each PATH is a file or a directory (every regular file in it, in name order; not
 * recursive). Each input is run N times (default 4) through LLVMFuzzerTestOneInput; the
 * trace hash (fuzz_input.h) of every run must equal the first run's, otherwise the input
 * is reported as nondeterministic. One line per input:
 *     <path>: <size> bytes, <events> events, trace <hash> x<N>: ok
 * -print (also --timeline) prints the decoded timeline of the first run of every input:
 * events, and the input lines ("- <thread> > label=value ...") of the decisions taken.
 * -text: every PATH is a text input (input lines, see fuzz_input.h and fuzz/README.md),
 * encoded in memory and then replayed like a binary input.
 * -roundtrip: also checks the printer against the encoder: T1 = timeline of the input,
 * bytes = encode(T1), T2 = timeline of those bytes; T1 must equal T2 and both runs must
 * have the same trace hash (the bytes may differ: a byte 200 read as a 3-way choice is
 * encoded back as 2). A mismatch prints the first differing line of both timelines.
 * -random=N: also replays N pseudo-random inputs of random lengths (a fixed seed: the same
 * ones every time), named random-<i> (with -roundtrip: the printer and encoder on inputs no
 * fuzzer chose).
 * -encode=OUT: encodes one text input into the binary file OUT. An error names the text's
 * line. If the target stops at an oracle failure while encoding, the bytes encoded up to
 * that point (which reproduce it) are written to OUT before the abort.
 * Options in libFuzzer's "-name=value" form that this program does not know are ignored
 * with a note, so libFuzzer command lines can be reused. Exit status: 0 when every input
 * replayed deterministically (and round-tripped); 1 on an unreadable path, an empty
 * directory, no input, a nondeterministic input, a text that does not encode or a failed
 * round trip; a crash or oracle failure in the target aborts as usual (in the first run of
 * an input its "last events" include the input lines of the decisions taken; the other runs
 * take the fuzzer's fast path, so equal hashes also show that both paths decode alike).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
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
    bool roundtrip;       /* -roundtrip */
    bool text;            /* -text: PATHs are text inputs */
    const char *encode;   /* -encode=OUT */
    unsigned random;      /* -random=N */
    unsigned inputs;
    unsigned failures;
} replay = {DEFAULT_RUNS, false, false, false, NULL, 0, 0, 0};

static void usage(const char *program)
{
    fprintf(stderr,
            "usage: %s [-runs=N] [-print|--timeline] [-roundtrip] [-text] [-random=N] PATH...\n"
            "       %s -encode=OUT TEXTFILE\n"
            "  Replays each file (directories: every regular file in them) N times\n"
            "  (default %d) and checks that the trace hash is the same in every run.\n"
            "  -print, --timeline  print the decoded timeline of the first run\n"
            "  -text               the files are text inputs ('>' lines): encode, then replay\n"
            "  -roundtrip          also check timeline -> encode -> timeline gives the same\n"
            "                      text and trace hash\n"
            "  -encode=OUT         encode one text input into the binary file OUT\n"
            "  -random=N           also replay N pseudo-random inputs (fixed seed)\n",
            program, program, DEFAULT_RUNS);
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

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* One run of the target on a private copy of the input (exactly `size` bytes, so ASan sees
   reads past the input), with the timeline going to out (NULL: none). */
static void run_input(const uint8_t *data, size_t size, FILE *out)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    if (size) {
        memcpy(copy, data, size);
    }
    fuzz_trace_set_output(out);
    fuzz_trace_reset();
    LLVMFuzzerTestOneInput(copy, size);
    fuzz_input_flush_line();
    fuzz_trace_set_output(NULL);
    free(copy);
}

/* The printed timeline of one run (malloc'ed) and its trace hash. */
static char *timeline_of(const uint8_t *data, size_t size, uint64_t *hash)
{
    char *text = NULL;
    size_t length = 0;
    FILE *out = open_memstream(&text, &length);
    if (!out) {
        fprintf(stderr, "open_memstream: %s\n", strerror(errno));
        exit(1);
    }
    run_input(data, size, out);
    fclose(out);
    *hash = fuzz_trace_hash();
    return text;
}

/* While -encode runs the target: where to write the bytes encoded so far if it aborts. */
static const char *abort_output;

static bool write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        return false;
    }
    bool ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok;
}

static void on_abort_while_encoding(int signal_number)
{
    uint8_t *bytes = NULL;
    size_t size = 0;
    if (abort_output && fuzz_encode_partial(&bytes, &size) && write_file(abort_output, bytes, size)) {
        fprintf(stderr,
                "*** the target stopped while encoding: the %zu byte(s) encoded up to the stop "
                "(they reproduce it) are in %s\n",
                size, abort_output);
    }
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

/* Encodes a text input by running the target on it; NULL (message printed) on error. */
static uint8_t *encode_text(const char *text, size_t length, const char *source, size_t *size)
{
    char error[640];
    uint8_t *bytes = NULL;
    if (!fuzz_encode_begin(text, length, source, error, sizeof error)) {
        fprintf(stderr, "%s\n", error);
        return NULL;
    }
    run_input(NULL, 0, NULL);
    if (!fuzz_encode_end(&bytes, size, error, sizeof error)) {
        fprintf(stderr, "%s\n", error);
        return NULL;
    }
    return bytes;
}

/* The first line where a and b differ, both printed; false if they are equal. */
static bool report_difference(const char *path, const char *a, const char *b)
{
    unsigned line = 1;
    while (*a && *a == *b) {
        line += *a == '\n';
        a++;
        b++;
    }
    if (*a == *b) {
        return false;
    }
    while (line > 1 && a[-1] != '\n') {
        a--;
        b--;
    }
    fprintf(stderr, "%s: ROUNDTRIP: the timelines differ at line %u:\n  decoded: %.*s\n"
                    "  encoded: %.*s\n",
            path, line, (int)strcspn(a, "\n"), *a ? a : "(end of timeline)", (int)strcspn(b, "\n"),
            *b ? b : "(end of timeline)");
    return true;
}

/* T1 = timeline(data), bytes = encode(T1), T2 = timeline(bytes): T1 == T2, same hash. */
static bool roundtrip(const char *path, const uint8_t *data, size_t size)
{
    uint64_t hash1 = 0, hash2 = 0;
    char *t1 = timeline_of(data, size, &hash1);
    size_t encoded_size = 0;
    uint8_t *encoded = encode_text(t1, strlen(t1), path, &encoded_size);
    bool ok = encoded != NULL;
    if (!ok) {
        fprintf(stderr, "%s: ROUNDTRIP: the printed timeline does not encode (above)\n", path);
    } else {
        char *t2 = timeline_of(encoded, encoded_size, &hash2);
        if (report_difference(path, t1, t2)) {
            ok = false;
        } else if (hash1 != hash2) {
            fprintf(stderr,
                    "%s: ROUNDTRIP: same timeline but trace %016" PRIx64 " became %016" PRIx64
                    "\n",
                    path, hash1, hash2);
            ok = false;
        } else {
            unsigned lines = 0;
            for (const char *p = t1; *p; p++) {
                lines += *p == '\n';
            }
            printf("%s: roundtrip ok: %zu bytes -> %u timeline lines -> %zu bytes, trace %016" PRIx64
                   "\n",
                   path, size, lines, encoded_size, hash1);
        }
        free(t2);
    }
    free(encoded);
    free(t1);
    return ok;
}

/* Replays one input (and round-trips it with -roundtrip); takes ownership of data. */
static void replay_data(const char *path, uint8_t *data, size_t size)
{
    uint64_t first_hash = 0;
    unsigned long first_events = 0;
    bool ok = true;

    replay.inputs++;
    for (unsigned run = 0; run < replay.runs; run++) {
        if (run == 0 && replay.print) {
            printf("=== %s (%zu bytes)\n", path, size);
            fflush(stdout);
        }
        /* The first run keeps input lines (slow path of the labelled takes: an oracle
           failure shows them), the others do not (the fuzzer's fast path): equal hashes
           also say the two paths decode alike. */
        fuzz_input_keep_lines(run == 0);
        run_input(data, size, run == 0 && replay.print ? stdout : NULL);
        fflush(stdout);
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
    fuzz_input_keep_lines(true);
    if (ok) {
        printf("%s: %zu bytes, %lu events, trace %016" PRIx64 " x%u: ok\n", path, size,
               first_events, first_hash, replay.runs);
        fflush(stdout);
        if (replay.roundtrip && !roundtrip(path, data, size)) {
            ok = false;
        }
    }
    free(data);
    if (!ok) {
        replay.failures++;
    }
    fflush(stdout);
}

static void replay_file(const char *path)
{
    size_t size = 0;
    uint8_t *data = read_file(path, &size);
    if (!data) {
        fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
        replay.failures++;
        return;
    }
    if (replay.text) {
        size_t text_size = size;
        uint8_t *bytes = encode_text((const char *)data, text_size, path, &size);
        free(data);
        if (!bytes) {
            replay.failures++;
            return;
        }
        data = bytes;
        printf("%s: text encoded into %zu bytes\n", path, size);
    }
    replay_data(path, data, size);
}

/* -random=N: N pseudo-random inputs (splitmix64 with a fixed seed, so every run and build
   replays the same ones), of lengths from 0 to 2048 with short ones favoured. */
static void replay_random(unsigned count)
{
    uint64_t state = 0x72616e646f6du;
    for (unsigned i = 0; i < count; i++) {
        uint64_t lengths = splitmix64(&state);
        static const size_t limits[4] = {4, 32, 512, 2048};
        size_t size = (size_t)((lengths >> 8) % (limits[lengths & 3] + 1));
        uint8_t *data = malloc(size ? size : 1);
        if (!data) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        for (size_t k = 0; k < size; k++) {
            data[k] = (uint8_t)splitmix64(&state);
        }
        char name[32];
        snprintf(name, sizeof name, "random-%u", i);
        replay_data(name, data, size);
    }
}

/* -encode=OUT TEXTFILE */
static int encode_file(const char *program, const char *out_path, const char *text_path)
{
    size_t length = 0;
    uint8_t *text = read_file(text_path, &length);
    if (!text) {
        fprintf(stderr, "%s: cannot read: %s\n", text_path, strerror(errno));
        return 1;
    }
    abort_output = out_path;
    signal(SIGABRT, on_abort_while_encoding);
    size_t size = 0;
    uint8_t *bytes = encode_text((const char *)text, length, text_path, &size);
    signal(SIGABRT, SIG_DFL);
    abort_output = NULL;
    free(text);
    if (!bytes) {
        fprintf(stderr, "%s: %s not written\n", program, out_path);
        return 1;
    }
    if (!write_file(out_path, bytes, size)) {
        fprintf(stderr, "%s: cannot write: %s\n", out_path, strerror(errno));
        free(bytes);
        return 1;
    }
    printf("%s: encoded %zu bytes into %s\n", text_path, size, out_path);
    free(bytes);
    return 0;
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
    } else if (strcmp(arg, "-roundtrip") == 0 || strcmp(arg, "--roundtrip") == 0) {
        replay.roundtrip = true;
    } else if (strncmp(arg, "-random=", 8) == 0 || strncmp(arg, "--random=", 9) == 0) {
        const char *value = strchr(arg, '=') + 1;
        char *end = NULL;
        unsigned long count = strtoul(value, &end, 10);
        if (*value == '\0' || *end != '\0' || count > 1000000) {
            fprintf(stderr, "%s: bad count in '%s' (want 0..1000000)\n", program, arg);
            exit(2);
        }
        replay.random = (unsigned)count;
    } else if (strcmp(arg, "-text") == 0 || strcmp(arg, "--text") == 0) {
        replay.text = true;
    } else if (strncmp(arg, "-encode=", 8) == 0 || strncmp(arg, "--encode=", 9) == 0) {
        replay.encode = strchr(arg, '=') + 1;
        if (*replay.encode == '\0') {
            fprintf(stderr, "%s: -encode=OUT needs an output file\n", program);
            exit(2);
        }
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
    /* Oracle failures of a replay show the input lines among the last events. */
    fuzz_input_keep_lines(true);
    /* Every run's trace hash is compared with the first run's (and printed). */
    fuzz_trace_set_hashing(true);
    if (replay.encode) {
        const char *text_path = NULL;
        for (int i = 1; i < argc; i++) {
            if (i < first_after_dashes && (strcmp(argv[i], "--") == 0 || is_option(argv[i]))) {
                continue;
            }
            if (text_path) {
                fprintf(stderr, "%s: -encode=OUT takes exactly one text file\n", program);
                return 2;
            }
            text_path = argv[i];
        }
        if (!text_path) {
            usage(program);
            return 2;
        }
        return encode_file(program, replay.encode, text_path);
    }
    for (int i = 1; i < argc; i++) {
        if (i < first_after_dashes && (strcmp(argv[i], "--") == 0 || is_option(argv[i]))) {
            continue;
        }
        replay_path(argv[i]);
        paths++;
    }
    if (replay.random) {
        replay_random(replay.random);
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
