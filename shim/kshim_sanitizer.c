/* SPDX-License-Identifier: MIT */
/*
 * kshim_sanitizer.c - what the shim adds to a sanitizer's memory-error report.
 *
 * AddressSanitizer knows the C heap, not the pool: the pool reuses its blocks and poisons a
 * freed one itself (ex_pool.c), so a use after free of pool is reported as a
 * "use-after-poison" with no freeing stack. After ASan's report, the shim prints one line
 * naming the pool block (tag, size, allocating and freeing lines), or the shim's own recycled
 * object (kshim_recycle.c: thread objects, ...), then calls the harness's hook
 * (kshim_set_sanitizer_report_hook). Without ASan this file does nothing.
 */
#include "kshim_internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The harness's hook. Atomic accesses (set by the harness, read by the reporting thread). */
static _Atomic(kshim_sanitizer_report_hook_fn *) report_hook;

void kshim_set_sanitizer_report_hook(kshim_sanitizer_report_hook_fn *hook)
{
    atomic_store(&report_hook, hook);
}

#ifdef KSHIM_ASAN
static void on_asan_report(const char *report)
{
    char line[512];
    uintptr_t address = (uintptr_t)__asan_get_report_address();
    if (kshim_pool_describe_address(address, line, sizeof line - 1) ||
        kshim_recycler_describe_address(address, line, sizeof line - 1)) {
        size_t length = strlen(line);
        line[length++] = '\n';
        ssize_t ignored = write(STDERR_FILENO, line, length); /* one write, as a stop line */
        (void)ignored;
    }
    kshim_sanitizer_report_hook_fn *hook = atomic_load(&report_hook);
    if (hook != NULL) {
        hook(report);
    }
}

/* Before main, after the sanitizer's own start-up. */
__attribute__((constructor)) static void install_asan_report_callback(void)
{
    __asan_set_error_report_callback(on_asan_report);
}
#endif
