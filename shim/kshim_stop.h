/* SPDX-License-Identifier: MIT */
/*
 * kshim_stop.h - layer 1 of the shim (stops and faults): the stop line and its stack, the
 * stop trap's entry, Windows-style formatting for DbgPrint and stops. Includes no other
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

