/* SPDX-License-Identifier: MIT */
/*
 * fuzz_empty.c - a libFuzzer target that does nothing.
 *
 * bench/run_fuzz_bench.sh runs it beside the real targets, with the same instrumentation
 * and on the same core, to measure what the engine and sanitizers cost per execution by
 * themselves; a target's exec/s is reported as a fraction of this one's.
 */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    return 0;
}
