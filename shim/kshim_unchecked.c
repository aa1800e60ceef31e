/* SPDX-License-Identifier: MIT */
/*
 * kshim_unchecked.c - memset, memcpy, memmove and memmem without AddressSanitizer's range
 * check, for memory the kit owns whose bounds the caller has just established, and for a
 * driver fuzzer's copy of a driver's writable sections, redzones included (kshim/kshim.h says
 * where they may be used). Not a way around ASan for anything a module, a driver or the
 * registrar hands the kit. memmem also bypasses a fuzzer's memmem hook.
 *
 * Under ASan every memset and memcpy of instrumented code (and every struct copy or run of
 * stores the compiler turns into one) is a call of __asan_memset/__asan_memcpy, which reads
 * the range's shadow before the C library's routine runs; a call of memset from code ASan
 * does not instrument still reaches ASan's interceptor, which does the same. So these call
 * the C library's routines themselves, looked up in the C library by its handle: with
 * dlsym(RTLD_NEXT) a sanitizer runtime that is a shared library (gcc's default, clang's
 * -shared-libasan) would come first and give its interceptors. Before they are found (code
 * running before this file's constructor), and where they are not (a C library other than
 * glibc), byte loops that ASan does not instrument serve: unchecked too, only slower, since
 * a caller may rely on it (a driver's image holds poisoned redzones). Without ASan these are
 * memset, memcpy, memmove and memmem.
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

/* Before main, after the sanitizer's own start-up. RTLD_NOLOAD: only the C library the
   program already has (kept open: its routines stay in use). */
__attribute__((constructor)) static void find_libc_routines(void)
{
    void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    if (libc == NULL) {
        return; /* the loops below */
    }
    libc_memset = (memset_fn *)dlsym(libc, "memset");
    libc_memcpy = (memcpy_fn *)dlsym(libc, "memcpy");
    libc_memmove = (memcpy_fn *)dlsym(libc, "memmove");
    libc_memmem = (memmem_fn *)dlsym(libc, "memmem");
}

/* The loops when a routine was not found. Not instrumented (KSHIM_NO_ASAN), and through
   volatile pointers, so that the compiler does not turn them back into calls of the
   (intercepted) routines. */
KSHIM_NO_ASAN static void set_bytes(void *destination, int value, size_t size)
{
    volatile unsigned char *to = destination;
    for (size_t i = 0; i < size; i++) {
        to[i] = (unsigned char)value;
    }
}

KSHIM_NO_ASAN static void move_bytes(void *destination, const void *source, size_t size)
{
    volatile unsigned char *to = destination;
    const volatile unsigned char *from = source;
    if (to <= from) {
        for (size_t i = 0; i < size; i++) {
            to[i] = from[i];
        }
    } else {
        for (size_t i = size; i > 0; i--) {
            to[i - 1] = from[i - 1];
        }
    }
}

KSHIM_NO_ASAN static void *find_bytes(const void *haystack, size_t haystack_size,
                                      const void *needle, size_t needle_size)
{
    const volatile unsigned char *hay = haystack;
    const volatile unsigned char *wanted = needle;
    for (size_t at = 0; needle_size <= haystack_size && at <= haystack_size - needle_size; at++) {
        size_t k = 0;
        while (k < needle_size && hay[at + k] == wanted[k]) {
            k++;
        }
        if (k == needle_size) {
            return (void *)((const unsigned char *)haystack + at);
        }
    }
    return NULL;
}

/* Not instrumented (KSHIM_NO_ASAN): the load of the routine's pointer is of this file's own
   static. */
KSHIM_NO_ASAN void kshim_unchecked_memset(void *destination, int value, size_t size)
{
    if (libc_memset != NULL) {
        libc_memset(destination, value, size);
    } else {
        set_bytes(destination, value, size);
    }
}

KSHIM_NO_ASAN void kshim_unchecked_memcpy(void *destination, const void *source, size_t size)
{
    if (libc_memcpy != NULL) {
        libc_memcpy(destination, source, size);
    } else {
        move_bytes(destination, source, size);
    }
}

KSHIM_NO_ASAN void kshim_unchecked_memmove(void *destination, const void *source, size_t size)
{
    if (libc_memmove != NULL) {
        libc_memmove(destination, source, size);
    } else {
        move_bytes(destination, source, size);
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
    return find_bytes(haystack, haystack_size, needle, needle_size);
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
