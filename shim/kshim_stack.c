/* SPDX-License-Identifier: MIT */
/*
 * kshim_stack.c - the symbolized stack printed under every stop line (kshim_stop).
 *
 * Under a sanitizer the sanitizer runtime prints it (its own unwinder and symbolizer, the
 * format users know from ASan reports). Otherwise glibc's backtrace() unwinds, and each
 * frame is symbolized by llvm-symbolizer when one is on PATH (function, file:line:column,
 * inlined frames included), or printed as module+offset with the nearest dynamic symbol.
 * KSHIM_STACK=raw in the environment skips symbolizing (module+offset only, in every build):
 * the test harness sets it for the many stops it expects, where the stack is not read.
 * It runs on the stopping thread just before abort(), so it may allocate and spawn.
 */
#include "kshim_stop.h"

#include <dlfcn.h>
#include <elf.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Present when a sanitizer runtime is linked in (ASan, UBSan, TSan), else NULL. */
extern void __sanitizer_print_stack_trace(void) __attribute__((weak));

#define MAX_FRAMES 64

extern char **environ;

/* Path of the first llvm-symbolizer on PATH (plain, then the Debian versioned name). */
static bool find_symbolizer(char *path, size_t size)
{
    static const char *const names[] = {"llvm-symbolizer", "llvm-symbolizer-14"};
    const char *env = getenv("PATH");
    for (size_t n = 0; env != NULL && n < sizeof names / sizeof names[0]; n++) {
        for (const char *dir = env; *dir != '\0';) {
            size_t len = strcspn(dir, ":");
            int written = snprintf(path, size, "%.*s/%s", (int)len, dir, names[n]);
            if (len != 0 && written > 0 && (size_t)written < size && access(path, X_OK) == 0) {
                return true;
            }
            dir += len + (dir[len] == ':');
        }
    }
    return false;
}

/* The address llvm-symbolizer wants for pc in its module: the offset from the load base
   for position-independent objects, the address itself for fixed-address executables. */
static uintptr_t module_address(const Dl_info *info, uintptr_t pc)
{
    const ElfW(Ehdr) *header = info->dli_fbase;
    return header->e_type == ET_DYN ? pc - (uintptr_t)info->dli_fbase : pc;
}

/* Symbolize frames with the symbolizer at path; false if it could not run. */
static bool print_symbolized(const char *path, void *const *frames, int count)
{
    int to_child[2], from_child[2];
    if (pipe2(to_child, O_CLOEXEC) != 0) {
        return false;
    }
    if (pipe2(from_child, O_CLOEXEC) != 0) {
        close(to_child[0]);
        close(to_child[1]);
        return false;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], STDOUT_FILENO);
    char *argv[] = {(char *)path, "--inlining=true", "--functions=linkage", "--demangle", NULL};
    pid_t child;
    int rc = posix_spawn(&child, path, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(to_child[0]);
    close(from_child[1]);
    if (rc != 0) {
        close(to_child[1]);
        close(from_child[0]);
        return false;
    }
    /* A 64-frame request fits in the pipe buffer: write all, then read all. */
    FILE *in = fdopen(to_child[1], "w");
    for (int i = 0; in != NULL && i < count; i++) {
        Dl_info info;
        uintptr_t pc = (uintptr_t)frames[i] - 1; /* a return address: the call is just before */
        if (dladdr((void *)pc, &info) != 0 && info.dli_fname != NULL) {
            fprintf(in, "\"%s\" 0x%lx\n", info.dli_fname, (unsigned long)module_address(&info, pc));
        } else {
            fprintf(in, "0x%lx\n", (unsigned long)pc);
        }
    }
    if (in != NULL) {
        fclose(in);
    } else {
        close(to_child[1]);
    }
    FILE *out = fdopen(from_child[0], "r");
    char function[512], location[512];
    int frame = 0, printed = 0;
    while (out != NULL && fgets(function, sizeof function, out) != NULL) {
        if (function[0] == '\n') {
            frame++; /* a blank line ends one address's (possibly inlined) frames */
            continue;
        }
        if (fgets(location, sizeof location, out) == NULL) {
            break;
        }
        function[strcspn(function, "\n")] = '\0';
        location[strcspn(location, "\n")] = '\0';
        fprintf(stderr, "    #%d %p in %s %s\n", printed++, frame < count ? frames[frame] : NULL,
                function, location);
    }
    if (out != NULL) {
        fclose(out);
    } else {
        close(from_child[0]);
    }
    int status;
    waitpid(child, &status, 0);
    return printed > 0;
}

static void print_unsymbolized(void *const *frames, int count)
{
    for (int i = 0; i < count; i++) {
        Dl_info info;
        if (dladdr(frames[i], &info) != 0 && info.dli_fname != NULL) {
            uintptr_t pc = (uintptr_t)frames[i];
            if (info.dli_sname != NULL) {
                fprintf(stderr, "    #%d %p in %s+0x%lx (%s+0x%lx)\n", i, frames[i], info.dli_sname,
                        (unsigned long)(pc - (uintptr_t)info.dli_saddr), info.dli_fname,
                        (unsigned long)module_address(&info, pc));
            } else {
                fprintf(stderr, "    #%d %p in %s+0x%lx\n", i, frames[i], info.dli_fname,
                        (unsigned long)module_address(&info, pc));
            }
        } else {
            fprintf(stderr, "    #%d %p\n", i, frames[i]);
        }
    }
}

void kshim_stack_print(unsigned skip)
{
    fflush(stderr);
    const char *mode = getenv("KSHIM_STACK");
    bool raw = mode != NULL && strcmp(mode, "raw") == 0;
    if (__sanitizer_print_stack_trace != NULL && !raw) {
        __sanitizer_print_stack_trace();
        return;
    }
    void *frames[MAX_FRAMES + 4];
    int count = backtrace(frames, MAX_FRAMES + 4);
    skip += 1; /* this function */
    if (count <= (int)skip) {
        return;
    }
    char path[4096];
    if (raw || !find_symbolizer(path, sizeof path) ||
        !print_symbolized(path, frames + skip, count - (int)skip)) {
        print_unsymbolized(frames + skip, count - (int)skip);
    }
    fflush(stderr);
}
