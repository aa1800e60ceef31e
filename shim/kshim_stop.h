/* SPDX-License-Identifier: MIT */
/*
 * kshim_stop.h - layer 1 of the shim (stops and faults): the stop line and its stack, the
 * stop trap's entry, Windows-style formatting for DbgPrint and stops, and what every layer
 * above needs first: ASan's manual poisoning and the attributes that shape its checks
 * (KSHIM_NO_ASAN, KSHIM_NO_MERGED_MEMSET), and the shim's own OS mutexes. Includes no other
 * header of the shim (the layer order is in kshim_internal.h).
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <kshim/kshim.h>
#include <ntddk.h>

/* ---- sanitizer ------------------------------------------------------------------------ */

/* ASan manual poisoning of memory the shim recycles itself, the pool's blocks included
   (no-ops without ASan). */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KSHIM_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define KSHIM_ASAN 1
#endif
#ifdef KSHIM_ASAN
#include <sanitizer/asan_interface.h>
#define KSHIM_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define KSHIM_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define KSHIM_POISON(p, n) ((void)(p), (void)(n))
#define KSHIM_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Not instrumented by ASan: the functions on the way from a bugcheck to the stop trap's
   longjmp that only pass their arguments on. ASan puts __asan_handle_no_return (a
   sigaltstack call and a clear of the stack's shadow) before every call of a noreturn
   function in instrumented code, so once per frame on the way down, and its longjmp
   interceptor runs it again when a trap catches the stop: that last one is all the unwinding
   needs. Whatever such a function formats or records is done by instrumented callees.
   Also kshim_unchecked.c's routines, which exist to skip ASan's range checks. */
#if defined(__GNUC__)
#define KSHIM_NO_ASAN __attribute__((no_sanitize("address")))
#else
#define KSHIM_NO_ASAN
#endif

/* Keeps the compiler from merging a function's stores into a memset call: the two pointer
   stores that unlink a list element, merged, became a call of __asan_memset (a runtime
   check of the 16 bytes' shadow) instead of two stores with ASan's inline checks. */
#if defined(__clang__)
#define KSHIM_NO_MERGED_MEMSET __attribute__((no_builtin("memset")))
#else
#define KSHIM_NO_MERGED_MEMSET
#endif

/* ---- the shim's own mutexes ---------------------------------------------------------- */

/* The pool, fault, recycler, registry and device locks (each file says what its lock
   protects). With the fiber scheduler (KSHIM_ONE_OS_THREAD, set by shim/CMakeLists.txt)
   every simulated thread is a fiber of the process's one OS thread, and none of these locks
   is held across a fiber switch, so a lock is a flag: it still answers a trylock "busy" while
   held (a sanitizer report from inside the pool) and still stops on a recursive take (a
   pthread mutex would hang), without a pthread call on every pool allocation. */
#ifdef KSHIM_ONE_OS_THREAD
typedef struct kshim_os_mutex {
    bool held;
} kshim_os_mutex_t;
#define KSHIM_OS_MUTEX_INIT {false}
/* Stops SHIM_LOCK_RECURSIVE (kshim_stop.c). */
__attribute__((noreturn)) void kshim_os_mutex_recursive(kshim_os_mutex_t *mutex);
static inline void kshim_os_mutex_lock(kshim_os_mutex_t *mutex)
{
    if (__builtin_expect(mutex->held, 0)) {
        kshim_os_mutex_recursive(mutex);
    }
    mutex->held = true;
}
static inline bool kshim_os_mutex_trylock(kshim_os_mutex_t *mutex)
{
    if (mutex->held) {
        return false;
    }
    mutex->held = true;
    return true;
}
static inline void kshim_os_mutex_unlock(kshim_os_mutex_t *mutex)
{
    mutex->held = false;
}
#else
#include <pthread.h>
typedef struct kshim_os_mutex {
    pthread_mutex_t mutex;
} kshim_os_mutex_t;
#define KSHIM_OS_MUTEX_INIT {PTHREAD_MUTEX_INITIALIZER}
static inline void kshim_os_mutex_lock(kshim_os_mutex_t *mutex)
{
    pthread_mutex_lock(&mutex->mutex);
}
static inline bool kshim_os_mutex_trylock(kshim_os_mutex_t *mutex)
{
    return pthread_mutex_trylock(&mutex->mutex) == 0;
}
static inline void kshim_os_mutex_unlock(kshim_os_mutex_t *mutex)
{
    pthread_mutex_unlock(&mutex->mutex);
}
#endif

/* ---- stops ---------------------------------------------------------------------------- */

/* "<basename>:<line>" view of a KSHIM_SITE string (a pointer into the same literal). */
const char *kshim_site_basename(const char *site);

/* Print the calling thread's stack, symbolized, on stderr (kshim_stack.c), leaving out the
   innermost `skip` frames of the caller (the stop machinery). */
void kshim_stack_print(unsigned skip);

/* KeBugCheckEx's arguments, for a stop trap's record. */
typedef struct kshim_bugcheck_arguments {
    bool pending; /* the stop being raised is a bugcheck */
    ULONG code;
    ULONG_PTR parameters[4];
} kshim_bugcheck_arguments_t;

/* Stop trap (kshim_stop_trap.c, layer 4, because a trap belongs to a simulated thread):
   kshim_stop offers every stop to the calling thread's armed trap first; a caught stop does
   not return (it longjmps to the harness). */
void kshim_stop_trap_catch(const char *name, const char *line, size_t length,
                           const kshim_bugcheck_arguments_t *bugcheck);
/* kshim_stop_trap_catch, before it longjmps out of kshim_stop: the stop is over. */
void kshim_stop_caught(void);
/* DbgPrint* hands every formatted message here first, so that an armed trap records what
   its thread printed before the stop. */
void kshim_stop_trap_note_print(const char *text, size_t length);

/* ---- formatting (dbg_print.c) --------------------------------------------------------- */

/* Format with the WDK's rules (LLP64: %lx is 32-bit, %I64x/%llx 64-bit, %wZ, %ws, %Z)
   into destination (always NUL-terminated when size != 0). Returns the full length. */
size_t kshim_vformat_windows(char *destination, size_t size, const char *format, va_list ap);

/* The digits of value in base (2 to 16, lowercase or upper) at text (room for 64); returns
   how many. The one integer conversion of the shim's hand formatting (DbgPrint's plain
   conversions, the bugcheck stop line): no C library call on those hot paths. */
size_t kshim_put_digits(char *text, unsigned long long value, unsigned base, bool upper);

/* text, cut to size - 1 bytes and NUL-terminated, at buffer (size > 0); returns the length
   copied. snprintf("%s") would run vfprintf and its sanitizer interceptor for a copy: names
   of threads and stops are copied on hot paths. */
size_t kshim_copy_text(char *buffer, size_t size, const char *text);

