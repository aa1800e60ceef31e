/* SPDX-License-Identifier: MIT */
/*
 * fuzz_encode.h - the text encoder of the harness library: input lines (a printed timeline or
 * hand-written '>' lines, format in fuzz_input.h) back into the bytes that decode to them.
 * Used by <target>_replay -encode and -roundtrip; depends on libc only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The encoder. fuzz_encode_begin parses the text and puts the takes in encode mode; the
 * caller then runs the target once (LLVMFuzzerTestOneInput with an empty input: while
 * encoding, readers ignore their bytes) and calls fuzz_encode_end for the bytes. Errors
 * (syntax, a label the target does not take there, a value out of range, an unknown
 * reader, tokens left over) come back as "<source>:<line>: <message>" in error.
 * Targets must therefore read every decision through a reader, and decide nothing from
 * the input's size or bytes directly (fuzz_input_exhausted is the way to test for the end;
 * fuzz_input_remaining then counts the text tokens left, not bytes).
 */
bool fuzz_encode_begin(const char *text, size_t size, const char *source, char *error,
                       size_t error_size);
/** @brief The encoded input (malloc'ed, the caller frees it); false with an error. Ends
 *  encode mode. */
bool fuzz_encode_end(uint8_t **bytes, size_t *size, char *error, size_t error_size);
/** @brief While encoding: the bytes encoded so far (for a run that stops at an oracle
 *  failure: they reproduce it). Leaves encode mode on. */
bool fuzz_encode_partial(uint8_t **bytes, size_t *size);

#ifdef __cplusplus
}
#endif
