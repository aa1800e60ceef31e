/* SPDX-License-Identifier: MIT */
/* fuzz_calls.c - the stack of NMR calls in progress (fuzz_calls.h). */
#include "fuzz_calls.h"

#include "fuzz_oracle.h"

#include <kshim/kshim.h>

#include <string.h>

static struct {
    fuzz_call_t frames[FUZZ_CALLS_MAX];
    unsigned depth;
    unsigned next_id;
} calls;

void fuzz_calls_reset(void)
{
    calls.depth = 0;
    calls.next_id = 0;
}

fuzz_call_t *fuzz_call_begin(const char *name)
{
    if (calls.depth == FUZZ_CALLS_MAX) {
        fuzz_oracle_fail("harness: NMR calls nested too deeply");
    }
    fuzz_call_t *call = &calls.frames[calls.depth++];
    call->id = ++calls.next_id;
    call->name = name;
    call->irql = KeGetCurrentIrql();
    call->fallible_before = kshim_fault_eligible_calls();
    return call;
}

void fuzz_call_end(fuzz_call_t *call)
{
    if (calls.depth == 0 || call != &calls.frames[calls.depth - 1]) {
        fuzz_oracle_fail("harness: call frames out of order");
    }
    if (KeGetCurrentIrql() != call->irql) {
        fuzz_oracle_fail("%s returned at IRQL %s; it was called at %s", call->name,
                         kshim_irql_name(KeGetCurrentIrql()), kshim_irql_name(call->irql));
    }
    calls.depth--;
}

unsigned fuzz_call_depth(void)
{
    return calls.depth;
}

const fuzz_call_t *fuzz_call_innermost(void)
{
    return calls.depth ? &calls.frames[calls.depth - 1] : NULL;
}

bool fuzz_call_innermost_is(const char *name)
{
    if (calls.depth == 0) {
        return false;
    }
    /* The same pointer is the same name: a harness passes string literals, and equal
       literals of one file are one. Then no strcmp, whose interceptor checks both strings'
       ranges and would find them equal (libFuzzer's comparison hook records only unequal
       strings, so it sees the same either way). */
    const char *innermost = calls.frames[calls.depth - 1].name;
    return innermost == name || strcmp(innermost, name) == 0;
}

unsigned fuzz_call_current_id(void)
{
    return calls.depth ? calls.frames[calls.depth - 1].id : 0;
}

KIRQL fuzz_call_current_irql(void)
{
    return calls.depth ? calls.frames[calls.depth - 1].irql : PASSIVE_LEVEL;
}

unsigned fuzz_calls_begun(void)
{
    return calls.next_id;
}

bool fuzz_call_in_progress(unsigned id)
{
    for (unsigned i = 0; i < calls.depth; i++) {
        if (calls.frames[i].id == id) {
            return true;
        }
    }
    return false;
}
