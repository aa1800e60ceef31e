/* SPDX-License-Identifier: MIT */
/*
 * banned.h - force-included (-include kshim/banned.h) into every src/ translation unit.
 *
 * Kernel code has no C library and no pthreads. Each banned name expands to an
 * undeclared identifier that names the problem, so the build fails at the use:
 *     error: use of undeclared identifier 'sorry_malloc_is_not_available_in_kernel_code'
 * Use the WDK routine instead (ExAllocatePool2, RtlCopyMemory, DbgPrint, KeWaitFor...).
 * The WDK-named headers of the shim use only compiler builtins, so they are unaffected.
 */
#pragma once

#define NMRKIT_BANNED(fn) sorry_##fn##_is_not_available_in_kernel_code

#undef malloc
#define malloc(...) NMRKIT_BANNED(malloc)
#undef calloc
#define calloc(...) NMRKIT_BANNED(calloc)
#undef realloc
#define realloc(...) NMRKIT_BANNED(realloc)
#undef free
#define free(...) NMRKIT_BANNED(free)
#undef memcpy
#define memcpy(...) NMRKIT_BANNED(memcpy)
#undef memmove
#define memmove(...) NMRKIT_BANNED(memmove)
#undef memset
#define memset(...) NMRKIT_BANNED(memset)
#undef memcmp
#define memcmp(...) NMRKIT_BANNED(memcmp)
#undef strcpy
#define strcpy(...) NMRKIT_BANNED(strcpy)
#undef strlen
#define strlen(...) NMRKIT_BANNED(strlen)
#undef printf
#define printf(...) NMRKIT_BANNED(printf)
#undef fprintf
#define fprintf(...) NMRKIT_BANNED(fprintf)
#undef sprintf
#define sprintf(...) NMRKIT_BANNED(sprintf)
#undef snprintf
#define snprintf(...) NMRKIT_BANNED(snprintf)
#undef abort
#define abort(...) NMRKIT_BANNED(abort)
#undef exit
#define exit(...) NMRKIT_BANNED(exit)
#undef assert
#define assert(...) NMRKIT_BANNED(assert)
#undef getenv
#define getenv(...) NMRKIT_BANNED(getenv)
#undef pthread_create
#define pthread_create(...) NMRKIT_BANNED(pthread_create)
#undef pthread_mutex_lock
#define pthread_mutex_lock(...) NMRKIT_BANNED(pthread_mutex_lock)
#undef pthread_mutex_unlock
#define pthread_mutex_unlock(...) NMRKIT_BANNED(pthread_mutex_unlock)
#undef pthread_cond_wait
#define pthread_cond_wait(...) NMRKIT_BANNED(pthread_cond_wait)
#undef sleep
#define sleep(...) NMRKIT_BANNED(sleep)
#undef usleep
#define usleep(...) NMRKIT_BANNED(usleep)
