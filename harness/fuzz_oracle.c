/* SPDX-License-Identifier: MIT */
/* fuzz_oracle.c - oracle failure reports (fuzz_oracle.h). */
#include "fuzz_oracle.h"

#include "fuzz_trace.h"

#include <stdio.h>
#include <stdlib.h>

void fuzz_oracle_failv(const char *context, bool show_recent, const char *format,
                       va_list arguments)
{
    fflush(stdout);
    fprintf(stderr, "*** FUZZ ORACLE: ");
    vfprintf(stderr, format, arguments);
    fprintf(stderr, "%s\n", context);
    if (show_recent && fuzz_trace_recording()) {
        fprintf(stderr, "--- last events of the input:\n");
        fuzz_trace_print_recent(stderr);
    } else if (show_recent) {
        fprintf(stderr, "--- replay the input to see its last events\n");
    }
    fflush(stderr);
    abort();
}

static fuzz_oracle_context_fn *oracle_context;
static bool oracle_show_recent = true;

void fuzz_oracle_configure(fuzz_oracle_context_fn *context, bool show_recent)
{
    oracle_context = context;
    oracle_show_recent = show_recent;
}

void fuzz_oracle_fail(const char *format, ...)
{
    char context[128] = "";
    if (oracle_context != NULL) {
        oracle_context(context, sizeof context);
    }
    va_list arguments;
    va_start(arguments, format);
    fuzz_oracle_failv(context, oracle_show_recent, format, arguments);
}
