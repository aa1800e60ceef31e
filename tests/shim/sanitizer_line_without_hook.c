/* SPDX-License-Identifier: MIT */
/*
 * sanitizer_line_without_hook.c - a program that uses the pool and never names the shim's
 * sanitizer code (like the kit's own fuzz targets, which set no report hook): a use after
 * free of pool must still be followed by the shim's line naming the block. The ctest
 * shim.sanitizer_line_in_a_program_without_the_hook (ASan builds) checks the output.
 */
#include <kshim/kshim.h>
#include <ntddk.h>

int main(void)
{
    volatile char *p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 24, KSHIM_POOL_TAG('L', 'n', 'k', 'T'));
    ExFreePoolWithTag((void *)p, KSHIM_POOL_TAG('L', 'n', 'k', 'T'));
    return p[4]; /* ASan reports it and exits */
}
