/* SPDX-License-Identifier: MIT */
/*
 * fuzz_trace.h - the trace recorder of the harness library. One event per harness action
 * (an NMR call, a callback a module received, a status, an injected fault), folded into a
 * 64-bit FNV-1a hash that replays compare between runs and processes; printed as a timeline
 * line with an output set (replay -print):
 *     <seq> <thread> <indent><text>
 * The last FUZZ_TRACE_RECENT events are kept for oracle failures (fuzz_oracle.h).
 * Depends on libc only.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Events kept for fuzz_trace_print_recent. */
#define FUZZ_TRACE_RECENT 48
/** Longest printed event text; longer text is cut (the hash still covers all of it). */
#define FUZZ_TRACE_LINE_MAX 200

/**
 * @brief Start a new trace: hash reset to the FNV-1a offset basis, sequence number 0,
 * thread "main", depth 0, recent events forgotten. The output stream is kept.
 */
void fuzz_trace_reset(void);

/** @brief Print every following event to out (NULL: record and hash only). */
void fuzz_trace_set_output(FILE *out);

/** @brief The stream set by fuzz_trace_set_output, or NULL. */
FILE *fuzz_trace_output(void);

/**
 * @brief Name the logical thread that the following events happen on (a static string,
 * not copied; part of the hash).
 */
void fuzz_trace_set_thread(const char *thread);

/** @brief Current logical thread name. */
const char *fuzz_trace_thread(void);

/** @brief Indent following events one level deeper (entering a call or callback). */
void fuzz_trace_enter(void);

/** @brief Undo one fuzz_trace_enter. */
void fuzz_trace_leave(void);

/**
 * @brief Record one event. fmt is a restricted printf format, and every argument is part
 * of the hash:
 *   %d int   %u unsigned   %x unsigned (hex)   %s const char * (NULL prints "(null)")
 *   %% a percent sign
 * No flags, widths or length modifiers (an unknown conversion is printed literally).
 * NTSTATUS values go through fuzz_status_str. Pointers and other run-dependent values
 * must not be passed (they would make the hash differ between runs); map them to small
 * ordinals first.
 *
 * A call through a function pointer that points to a recorder or, when nothing records
 * events (fuzz_trace_recording() false: a libFuzzer run), to a counter that reads no
 * argument: a variadic function that reads its arguments costs itself a sanitized stack
 * frame even when it returns at once (1-2% of a libFuzzer run). A pointer rather than a
 * test at every call site, so that the call sites' edge coverage is what it was. The name is
 * a macro, so code calls it as before, but takes no address of it and sets a debugger's
 * breakpoint on record_event in harness/fuzz_trace.c (the recorder) instead.
 */
extern void (*fuzz_trace_event_fn)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define fuzz_trace_event fuzz_trace_event_fn

/**
 * @brief Fold every following event into the trace hash (default: off). The replay engine
 * turns it on to compare runs of one input; libFuzzer runs never read the hash, so they
 * skip its cost (events are still recorded for fuzz_trace_print_recent, unless
 * fuzz_trace_set_recent turned that off).
 */
void fuzz_trace_set_hashing(bool on);

/**
 * @brief Whether a run with neither hashing nor an output keeps the last events for
 * fuzz_trace_print_recent (default: on). Off, such a run (a libFuzzer run) records no event
 * at all, only counts them: a target whose inputs all replay turns it off, and its oracle
 * failures there point to the replay of the saved input, which records and prints them
 * (fuzz_oracle.h).
 */
void fuzz_trace_set_recent(bool on);

/** @brief Whether events are recorded: hashing on, an output set, or the recent events kept. */
bool fuzz_trace_recording(void);

/** @brief FNV-1a hash of every event since fuzz_trace_reset (with hashing on). */
uint64_t fuzz_trace_hash(void);

/** @brief Events recorded since fuzz_trace_reset. */
unsigned long fuzz_trace_event_count(void);

/** @brief Print the last FUZZ_TRACE_RECENT events (oldest first) to out. */
void fuzz_trace_print_recent(FILE *out);

#ifdef __cplusplus
}
#endif
