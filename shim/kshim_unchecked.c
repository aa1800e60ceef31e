/* SPDX-License-Identifier: MIT */
/*
 * kshim_unchecked.c - memset, memcpy, memmove and memmem without AddressSanitizer's range
 * check, for memory the kit owns whose bounds the caller has just established (kshim/kshim.h
 * says where they may be used). Not a way around ASan for anything a module, a driver or the
 * registrar hands the kit. memmem also bypasses a fuzzer's memmem hook.
 *
 * Under ASan every memset and memcpy of instrumented code (and every struct copy or run of
 * stores the compiler turns into one) is a call of __asan_memset/__asan_memcpy, which reads
 * the range's shadow before the C library's routine runs; a call of memset from code ASan
 * does not instrument still reaches ASan's interceptor, which does the same. So these call
 * the C library's routines themselves: the next definitions after the program's own (which
 * are the interceptors), found with dlsym(RTLD_NEXT), as the interceptors find them. Before
 * they are found (code running before this file's constructor), and if they are not (a
 * sanitizer runtime in a shared library comes first), the interceptors serve: checked, so
 * never wrong. Without ASan these are memset, memcpy and memmove.
 */
#include "kshim_stop.h"

#include <string.h>

#ifdef KSHIM_ASAN
#include <dlfcn.h>

typedef void *memset_fn(void *, int, size_t);
typedef void *memcpy_fn(void *, const void *, size_t);
typedef void *memmem_fn(const void *, size_t, const void *, size_t);

/* Set once, before main (the constructor below), never written again. */
static memset_fn *libc_memset;
static memcpy_fn *libc_memcpy;
static memcpy_fn *libc_memmove;
static memmem_fn *libc_memmem;

/* Before main, after the sanitizer's own start-up. */
__attribute__((constructor)) static void find_libc_routines(void)
{
    libc_memset = (memset_fn *)dlsym(RTLD_NEXT, "memset");
    libc_memcpy = (memcpy_fn *)dlsym(RTLD_NEXT, "memcpy");
    libc_memmove = (memcpy_fn *)dlsym(RTLD_NEXT, "memmove");
    libc_memmem = (memmem_fn *)dlsym(RTLD_NEXT, "memmem");
}

/* Not instrumented (KSHIM_NO_ASAN): the fallback call below would otherwise be
   __asan_memset, and the load of the routine's pointer is of this file's own static. */
KSHIM_NO_ASAN void kshim_unchecked_memset(void *destination, int value, size_t size)
{
    if (libc_memset != NULL) {
        libc_memset(destination, value, size);
    } else {
        memset(destination, value, size);
    }
}

KSHIM_NO_ASAN void kshim_unchecked_memcpy(void *destination, const void *source, size_t size)
{
    if (libc_memcpy != NULL) {
        libc_memcpy(destination, source, size);
    } else {
        memcpy(destination, source, size);
    }
}

KSHIM_NO_ASAN void kshim_unchecked_memmove(void *destination, const void *source, size_t size)
{
    if (libc_memmove != NULL) {
        libc_memmove(destination, source, size);
    } else {
        memmove(destination, source, size);
    }
}

/* Also past the sanitizer's memmem interceptor, and with it past a fuzzer's weak hook of
   memmem (libFuzzer keeps the needles it sees for its mutations): for a search the caller
   has already made once through memmem with the same needle. */
KSHIM_NO_ASAN void *kshim_unchecked_memmem(const void *haystack, size_t haystack_size,
                                           const void *needle, size_t needle_size)
{
    if (libc_memmem != NULL) {
        return libc_memmem(haystack, haystack_size, needle, needle_size);
    }
    return memmem(haystack, haystack_size, needle, needle_size);
}
#else
void kshim_unchecked_memset(void *destination, int value, size_t size)
{
    memset(destination, value, size);
}

void kshim_unchecked_memcpy(void *destination, const void *source, size_t size)
{
    memcpy(destination, source, size);
}

void kshim_unchecked_memmove(void *destination, const void *source, size_t size)
{
    memmove(destination, source, size);
}

void *kshim_unchecked_memmem(const void *haystack, size_t haystack_size, const void *needle,
                             size_t needle_size)
{
    return memmem(haystack, haystack_size, needle, needle_size);
}
#endif
