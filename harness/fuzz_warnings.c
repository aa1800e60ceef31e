/* SPDX-License-Identifier: MIT */
/* fuzz_warnings.c - predicted verifier warnings (fuzz_warnings.h). */
#include "fuzz_warnings.h"

#include "fuzz_oracle.h"

#include <nmr_module.h>

static unsigned long expected;
static const char *expected_rule;

void fuzz_warnings_reset(void)
{
    expected = 0;
    expected_rule = NULL;
}

void fuzz_warning_expect(const char *rule)
{
    expected++;
    expected_rule = rule;
}

unsigned long fuzz_warnings_expected(void)
{
    return expected;
}

/* Equal rule ids ("A9"). A loop rather than strcmp: ASan still checks each byte it reads
   (inline), without the interceptor's range checks on every warning; libFuzzer's comparison
   hook, which strcmp would call, records only unequal strings, and unequal ids fail the
   input. */
static bool same_rule(const char *a, const char *b)
{
    for (; *a == *b; a++, b++) {
        if (*a == '\0') {
            return true;
        }
    }
    return false;
}

void fuzz_warnings_check(void)
{
    ULONG warnings = nmr_verifier_warning_count();
    if (warnings != expected) {
        const char *rule = nmr_verifier_last_warning_rule();
        fuzz_oracle_fail("%lu verifier warning(s), expected %lu (last: %s)",
                         (unsigned long)warnings, expected, rule ? rule : "none");
    }
    if (warnings != 0) {
        const char *rule = nmr_verifier_last_warning_rule();
        if (!rule || !same_rule(rule, expected_rule)) {
            fuzz_oracle_fail("last verifier warning is %s, expected %s", rule ? rule : "none",
                             expected_rule);
        }
    }
}
