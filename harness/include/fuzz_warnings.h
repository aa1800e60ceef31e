/* SPDX-License-Identifier: MIT */
/*
 * fuzz_warnings.h - the verifier warnings a harness predicts, checked against the
 * registrar's count (nmr_verifier_warning_count) and last rule. A harness whose model
 * predicts each warning calls fuzz_warning_expect where the model says one comes, and
 * fuzz_warnings_check after every operation: one warning too many or too few, or another
 * rule last, is an oracle failure.
 *
 * Reset at the start of every input by fuzz_run_begin (nmr_reset clears the registrar's
 * count at the same time). Single-threaded.
 */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/** @brief No warning predicted. */
void fuzz_warnings_reset(void);

/** @brief The model predicts one more warning, of this rule ("A9"; a static string). */
void fuzz_warning_expect(const char *rule);

/** @brief Warnings predicted since the reset. */
unsigned long fuzz_warnings_expected(void);

/**
 * @brief Oracle: the registrar has reported exactly the predicted number of warnings, and
 * the last one is of the last predicted rule.
 */
void fuzz_warnings_check(void);

#ifdef __cplusplus
}
#endif
